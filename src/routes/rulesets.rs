//! `/rulesets`: read by anyone signed in; drafts, publishing and retiring by admins.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};
use crate::models::ruleset::{self as rows, RuleSetRow};
use crate::routes::{Json, Page, Paged, db, if_match};
use crate::services::rulesets::{self as svc, RuleCache};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetResponse {
    pub id: i32,
    pub tier: String,
    pub version: i32,
    pub name: String,
    /// draft → published → retired
    pub status: String,
    pub effective_from: chrono::NaiveDate,
    pub effective_to: Option<chrono::NaiveDate>,
    pub etag: String,
    pub created_by: String,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    pub retired_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The whole rule-set document (omitted in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub document: Option<serde_json::Value>,
}

impl RuleSetResponse {
    fn from_row(r: RuleSetRow, with_document: bool) -> Self {
        RuleSetResponse {
            etag: svc::etag(&r),
            document: if with_document {
                serde_json::from_str(&r.document).ok()
            } else {
                None
            },
            id: r.id,
            tier: r.tier,
            version: r.version,
            name: r.name,
            status: r.status,
            effective_from: r.effective_from,
            effective_to: r.effective_to,
            created_by: r.created_by,
            published_at: r.published_at.map(|t| t.and_utc()),
            retired_at: r.retired_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub tier: Option<String>,
    /// draft, published or retired
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetList {
    pub items: Vec<RuleSetResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRun {
    /// Case documents in the fixtures/cases format; omitted = the shipped cases of the tier.
    #[schema(value_type = Option<Vec<Object>>)]
    pub cases: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

fn respond(status: actix_web::http::StatusCode, r: RuleSetRow) -> HttpResponse {
    let body = RuleSetResponse::from_row(r, true);
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::ETAG, body.etag.clone()))
        .json(body)
}

/// List rule sets.
///
/// Rule sets, filtered by tier and status (`draft`, `published`, `retired`); any signed-in caller
/// may read them.
#[utoipa::path(get, path = "/api/v1/rulesets", tag = "rulesets", params(ListQuery),
    responses((status = 200, body = RuleSetList)), security(("bearer" = [])))]
pub async fn list_rulesets(
    pool: web::Data<DbPool>,
    _user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    if let Some(s) = &q.status
        && !["draft", "published", "retired"].contains(&s.as_str())
    {
        return Err(AppError::field(
            "status",
            "enum",
            "one of draft, published, retired",
        ));
    }
    let rows = db(&pool, move |c| {
        Ok(rows::list(
            c,
            q.tier.as_deref(),
            q.status.as_deref(),
            page.after,
            page.fetch(),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |r| r.id,
        |r| RuleSetResponse::from_row(r, false),
    )))
}

/// Get a rule set.
///
/// One rule set with its full document (criteria, thresholds, the clause each encodes) and its
/// `ETag`.
#[utoipa::path(get, path = "/api/v1/rulesets/{id}", tag = "rulesets", params(("id" = i32, Path)),
    responses((status = 200, body = RuleSetResponse), (status = 404)), security(("bearer" = [])))]
pub async fn get_ruleset(
    pool: web::Data<DbPool>,
    _user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let r = db(&pool, move |c| rows::find(c, id)?.ok_or(AppError::NotFound)).await?;
    Ok(respond(actix_web::http::StatusCode::OK, r))
}

/// Create a draft rule set.
///
/// An admin adds a draft rule-set document for a tier; it is compiled and checked, and can be
/// tried with dry runs and case runs before it is published.
#[utoipa::path(post, path = "/api/v1/rulesets", tag = "rulesets", request_body(content = Object, description = "a rule-set document (see README: rule-set format)"),
    responses((status = 201, body = RuleSetResponse), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_ruleset(
    pool: web::Data<DbPool>,
    user: AuthUser,
    Json(doc): Json<serde_json::Value>,
) -> AppResult<HttpResponse> {
    if !doc.is_object() {
        return Err(AppError::field(
            "$",
            "type",
            "a rule-set document is a JSON object",
        ));
    }
    let caller = user.0;
    let r = db(&pool, move |c| svc::create_draft(c, &caller, &doc)).await?;
    Ok(respond(actix_web::http::StatusCode::CREATED, r))
}

/// Replace a draft rule set.
///
/// An admin replaces a draft's document; published rule sets are immutable. `If-Match` is
/// required.
#[utoipa::path(put, path = "/api/v1/rulesets/{id}", tag = "rulesets", params(("id" = i32, Path), ("If-Match" = String, Header)),
    request_body(content = Object, description = "the whole new document"),
    responses((status = 200, body = RuleSetResponse), (status = 409, description = "not a draft"), (status = 412), (status = 428)), security(("bearer" = [])))]
pub async fn update_ruleset(
    pool: web::Data<DbPool>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i32>,
    Json(doc): Json<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let etag = if_match(&req);
    let (id, caller) = (id.into_inner(), user.0);
    let r = db(&pool, move |c| {
        svc::update_draft(c, &caller, id, etag, &doc)
    })
    .await?;
    Ok(respond(actix_web::http::StatusCode::OK, r))
}

/// Publish a rule set.
///
/// An admin publishes a draft: its effective range must not overlap another published rule set of
/// the tier. Audited.
#[utoipa::path(post, path = "/api/v1/rulesets/{id}/publish", tag = "rulesets", params(("id" = i32, Path)),
    responses((status = 200, body = RuleSetResponse), (status = 409), (status = 422, description = "each problem with its JSON path")), security(("bearer" = [])))]
pub async fn publish_ruleset(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let r = db(&pool, move |c| svc::publish(c, &caller, id)).await?;
    Ok(respond(actix_web::http::StatusCode::OK, r))
}

/// Retire a rule set.
///
/// An admin retires a published rule set; applications graded under it keep their result. Audited.
#[utoipa::path(post, path = "/api/v1/rulesets/{id}/retire", tag = "rulesets", params(("id" = i32, Path)),
    responses((status = 200, body = RuleSetResponse), (status = 409)), security(("bearer" = [])))]
pub async fn retire_ruleset(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let r = db(&pool, move |c| svc::retire(c, &caller, id)).await?;
    Ok(respond(actix_web::http::StatusCode::OK, r))
}

/// Run test cases against a rule set.
///
/// Runs the shipped case files of the tier, or the cases in the body, against the rule set and
/// reports each case's expected and actual outcome.
#[utoipa::path(post, path = "/api/v1/rulesets/{id}/test", tag = "rulesets", params(("id" = i32, Path)), request_body = CaseRun,
    responses((status = 200, description = "each case's verdict"), (status = 422, description = "the rule set does not compile")), security(("bearer" = [])))]
pub async fn test_ruleset(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    id: web::Path<i32>,
    Json(body): Json<CaseRun>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let row = db(&pool, move |c| svc::for_case_run(c, &caller, id)).await?;
    let rs = cache.get(&row)?;
    let today = crate::clock::today();
    // Grading many cases is CPU work: off the async workers.
    let report = web::block(move || -> AppResult<_> {
        Ok(match body.cases {
            // Sent cases are checked like any other facts: a 422 naming each bad field.
            Some(c) => {
                let cases: Vec<(String, serde_json::Value)> = c
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| (format!("cases[{i}]"), serde_json::Value::Object(c)))
                    .collect();
                let parsed =
                    crate::engine::cases::parse_all(&cases, today).map_err(AppError::Validation)?;
                crate::engine::cases::run_parsed(&rs, parsed)
            }
            None => crate::engine::cases::run_all(
                &rs,
                &crate::engine::cases::shipped_for_tier(&row.tier),
                today,
            ),
        })
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("grading cases: {e}")))??;
    Ok(HttpResponse::Ok().json(report))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/rulesets")
            .route(web::get().to(list_rulesets))
            .route(web::post().to(create_ruleset)),
    );
    cfg.service(
        web::resource("/rulesets/{id}")
            .route(web::get().to(get_ruleset))
            .route(web::put().to(update_ruleset)),
    );
    cfg.service(web::resource("/rulesets/{id}/publish").route(web::post().to(publish_ruleset)));
    cfg.service(web::resource("/rulesets/{id}/retire").route(web::post().to(retire_ruleset)));
    cfg.service(web::resource("/rulesets/{id}/test").route(web::post().to(test_ruleset)));
}
