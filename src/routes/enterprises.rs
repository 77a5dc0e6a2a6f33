//! `/enterprises`: the registry, and each enterprise's yearly facts.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::engine::FactSheet;
use crate::error::{AppError, AppResult};
use crate::models::enterprise::{Enterprise, Filter};
use crate::routes::{Json, Page, Paged, db, if_match, read};
use crate::services::enterprises::{self as svc, NewEnterpriseInput, Patch};
use crate::services::facts;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseResponse {
    pub id: i32,
    /// 统一社会信用代码
    pub uscc: String,
    pub name: String,
    pub district_code: String,
    pub cluster_code: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub niche_entered_on: Option<NaiveDate>,
    /// Self-registered enterprises stay unverified until an admin verifies them.
    pub verified: bool,
    /// The value to send as `If-Match` when updating.
    pub etag: String,
}

impl From<Enterprise> for EnterpriseResponse {
    fn from(e: Enterprise) -> Self {
        EnterpriseResponse {
            etag: svc::etag(&e),
            id: e.id,
            uscc: e.uscc,
            name: e.name,
            district_code: e.district_code,
            cluster_code: e.cluster_code,
            founded_on: e.founded_on,
            niche_entered_on: e.niche_entered_on,
            verified: e.verified,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnterprise {
    pub uscc: String,
    pub name: String,
    pub district_code: String,
    pub cluster_code: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub niche_entered_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEnterprise {
    pub name: Option<String>,
    pub district_code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::double_option")]
    #[schema(value_type = Option<String>)]
    pub cluster_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::routes::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub founded_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::routes::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub niche_entered_on: Option<Option<NaiveDate>>,
    /// Admins only.
    pub verified: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub district: Option<String>,
    pub cluster: Option<String>,
    /// Holds a certification of this tier in force today.
    pub tier: Option<String>,
    /// Name or credit code contains this text.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseList {
    pub items: Vec<EnterpriseResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutFacts {
    /// `{code: value}`; amounts as exact decimals (number or string), flags as booleans.
    #[schema(value_type = Object)]
    pub facts: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FactsYearResponse {
    pub enterprise_id: i32,
    pub year: i32,
    pub revision: i32,
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FactsResponse {
    pub enterprise_id: i32,
    /// `{"2024": {code: value}, "2025": {...}}`
    #[schema(value_type = Object)]
    pub facts: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FactRevisionView {
    pub year: i32,
    pub revision: i32,
    pub changed_by: String,
    pub changed_at: chrono::DateTime<chrono::Utc>,
    /// `{code: {from, to}}`
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

fn with_etag(status: actix_web::http::StatusCode, e: Enterprise) -> HttpResponse {
    let body = EnterpriseResponse::from(e);
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::ETAG, body.etag.clone()))
        .json(body)
}

/// Create an enterprise.
///
/// Reviewers' and admins' way to add an enterprise to the registry (credit code, name, district,
/// cluster, founding and niche-entry dates). Enterprises sign up through `/auth/register`.
#[utoipa::path(post, path = "/api/v1/enterprises", tag = "enterprises", request_body = CreateEnterprise,
    responses((status = 201, body = EnterpriseResponse), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_enterprise(
    pool: web::Data<DbPool>,
    user: AuthUser,
    Json(body): Json<CreateEnterprise>,
) -> AppResult<HttpResponse> {
    let caller = user.0;
    let input = NewEnterpriseInput {
        uscc: body.uscc,
        name: body.name,
        district_code: body.district_code,
        cluster_code: body.cluster_code,
        founded_on: body.founded_on,
        niche_entered_on: body.niche_entered_on,
        verified: true,
    };
    let e = db(&pool, move |c| svc::create(c, &caller, &input)).await?;
    Ok(with_etag(actix_web::http::StatusCode::CREATED, e))
}

/// List enterprises.
///
/// The registry, filtered by district, cluster, a tier held, or a name/credit-code search `q`;
/// enterprise accounts see only their own; paginated.
#[utoipa::path(get, path = "/api/v1/enterprises", tag = "enterprises", params(ListQuery),
    responses((status = 200, body = EnterpriseList)), security(("bearer" = [])))]
pub async fn list_enterprises(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let filter = Filter {
        district: q.district,
        cluster: q.cluster,
        tier: q.tier,
        q: q.q,
        only_id: None,
        active_on: None,
    };
    let caller = user.0;
    let rows = db(&pool, move |c| {
        svc::list(c, &caller, filter, page.after, page.fetch())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |e| e.id,
        EnterpriseResponse::from,
    )))
}

/// Get an enterprise.
///
/// One enterprise with its `ETag` (send it back in `If-Match` to update). Objects the caller may
/// not see answer 404.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "enterprises", params(("id" = i32, Path)),
    responses((status = 200, body = EnterpriseResponse), (status = 404)), security(("bearer" = [])))]
pub async fn get_enterprise(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let e = read(&pool, move |c| svc::get_visible(c, &caller, id)).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, e))
}

/// Update an enterprise.
///
/// The owner or an admin changes the enterprise's details; `If-Match` with the current etag is
/// required and a stale etag answers 412. Audited.
#[utoipa::path(patch, path = "/api/v1/enterprises/{id}", tag = "enterprises", params(("id" = i32, Path), ("If-Match" = String, Header)),
    request_body = PatchEnterprise,
    responses((status = 200, body = EnterpriseResponse), (status = 404), (status = 412, description = "stale etag"), (status = 428, description = "If-Match missing")),
    security(("bearer" = [])))]
pub async fn patch_enterprise(
    pool: web::Data<DbPool>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i32>,
    Json(body): Json<PatchEnterprise>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let etag = if_match(&req);
    let patch = Patch {
        name: body.name,
        district_code: body.district_code,
        cluster_code: body.cluster_code,
        founded_on: body.founded_on,
        niche_entered_on: body.niche_entered_on,
        verified: body.verified,
    };
    let e = db(&pool, move |c| {
        // Visibility first: a foreign enterprise is a 404 whatever the headers say.
        svc::get_visible(c, &caller, id)?;
        svc::patch(c, &caller, id, &etag?, patch)
    })
    .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, e))
}

/// File a year's facts.
///
/// Replaces the fiscal year's indicator values `{facts: {code: value}}`, validated against the
/// indicator catalog (codes, units, ranges, exact decimals); every revision is kept.
#[utoipa::path(put, path = "/api/v1/enterprises/{id}/facts/{year}", tag = "enterprises",
    params(("id" = i32, Path), ("year" = i32, Path)), request_body = PutFacts,
    responses((status = 200, body = FactsYearResponse), (status = 201, body = FactsYearResponse), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_facts(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<(i32, i32)>,
    Json(body): Json<PutFacts>,
) -> AppResult<HttpResponse> {
    let (id, year) = path.into_inner();
    let caller = user.0;
    let (revision, created, stored) = db(&pool, move |c| {
        facts::authorize_edit(c, &caller, id)?;
        let sheet = FactSheet::parse_year(year, &body.facts, crate::clock::today())
            .map_err(AppError::Validation)?;
        facts::put_year(c, &caller, id, year, &sheet)
    })
    .await?;
    Ok(facts_year_response(id, year, revision, created, stored))
}

fn facts_year_response(
    id: i32,
    year: i32,
    revision: i32,
    created: bool,
    stored: serde_json::Map<String, serde_json::Value>,
) -> HttpResponse {
    let body = FactsYearResponse {
        enterprise_id: id,
        year,
        revision,
        facts: facts::to_wire(&serde_json::Value::Object(stored).to_string()),
    };
    if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

/// Merges codes into one fiscal year's facts.
///
/// `{facts: {code: value | null}}`: each code given replaces that code's value, `null` removes
/// it, codes not named stay. The merged year is checked exactly as `PUT` checks it (catalog,
/// ranges, year, exact decimals, parts within their wholes); 422 names each bad field.
#[utoipa::path(patch, path = "/api/v1/enterprises/{id}/facts/{year}", tag = "enterprises",
    params(("id" = i32, Path), ("year" = i32, Path)), request_body = PutFacts,
    responses((status = 200, body = FactsYearResponse), (status = 201, body = FactsYearResponse, description = "the year was new"), (status = 404), (status = 422, description = "a bad code, value or year, named")),
    security(("bearer" = [])))]
pub async fn patch_facts(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<(i32, i32)>,
    Json(body): Json<PutFacts>,
) -> AppResult<HttpResponse> {
    let (id, year) = path.into_inner();
    let caller = user.0;
    let (revision, created, stored) = db(&pool, move |c| {
        facts::patch_year(c, &caller, id, year, &body.facts, crate::clock::today())
    })
    .await?;
    Ok(facts_year_response(id, year, revision, created, stored))
}

/// Get an enterprise's facts.
///
/// Every fiscal year on file, `facts[year][code]`, as exact decimals.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/facts", tag = "enterprises", params(("id" = i32, Path)),
    responses((status = 200, body = FactsResponse), (status = 404)), security(("bearer" = [])))]
pub async fn get_facts(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let years = read(&pool, move |c| {
        svc::get_visible(c, &caller, id)?;
        Ok(crate::models::facts::for_enterprise(c, id)?)
    })
    .await?;
    let facts = years
        .into_iter()
        .map(|y| (y.year.to_string(), facts::to_wire(&y.facts)))
        .collect();
    Ok(HttpResponse::Ok().json(FactsResponse {
        enterprise_id: id,
        facts,
    }))
}

/// Get the revisions of the facts.
///
/// Every filed revision of every year, newest first, with who filed it and when.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/facts/history", tag = "enterprises", params(("id" = i32, Path)),
    responses((status = 200, body = Vec<FactRevisionView>), (status = 404)), security(("bearer" = [])))]
pub async fn facts_history(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let revs = db(&pool, move |c| {
        svc::get_visible(c, &caller, id)?;
        Ok(crate::models::facts::revisions(c, id)?)
    })
    .await?;
    let items: Vec<FactRevisionView> = revs
        .into_iter()
        .map(|r| FactRevisionView {
            year: r.year,
            revision: r.revision,
            changed_by: r.changed_by,
            changed_at: r.changed_at.and_utc(),
            changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/enterprises")
            .route(web::post().to(create_enterprise))
            .route(web::get().to(list_enterprises)),
    );
    cfg.service(
        web::resource("/enterprises/{id}")
            .route(web::get().to(get_enterprise))
            .route(web::patch().to(patch_enterprise)),
    );
    cfg.service(web::resource("/enterprises/{id}/facts").route(web::get().to(get_facts)));
    cfg.service(
        web::resource("/enterprises/{id}/facts/history").route(web::get().to(facts_history)),
    );
    cfg.service(
        web::resource("/enterprises/{id}/facts/{year}")
            .route(web::put().to(put_facts))
            .route(web::patch().to(patch_facts)),
    );
}
