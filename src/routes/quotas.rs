//! `/quotas`, `/reports/rollup` and `/certifications/import`: the officials' side.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};
use crate::models::quota::Quota;
use crate::routes::{Json, db, if_match, parse_date};
use crate::services::import::{self, CertificationItem};
use crate::services::quotas::{self as svc, QuotaInput};
use crate::services::{report_files, rollup};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaResponse {
    pub id: i32,
    pub year: i32,
    /// 210100 (the city) or a district code.
    pub scope: String,
    pub tiers: Vec<String>,
    /// `new` (issued in the year) or `active` (in force on the report date).
    pub measure: String,
    pub target: i32,
    pub label_zh: String,
    pub label_en: String,
    pub etag: String,
}

impl From<Quota> for QuotaResponse {
    fn from(q: Quota) -> Self {
        QuotaResponse {
            etag: svc::etag(&q),
            tiers: q.tier_list(),
            id: q.id,
            year: q.year,
            scope: q.scope,
            measure: q.measure,
            target: q.target,
            label_zh: q.label_zh,
            label_en: q.label_en,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateQuota {
    pub year: i32,
    pub scope: String,
    #[validate(length(min = 1, max = 20, message = "1–20 tier codes"))]
    pub tiers: Vec<String>,
    pub measure: String,
    pub target: i64,
    #[validate(length(min = 1, max = 200, message = "1–200 characters"))]
    pub label_zh: Option<String>,
    #[validate(length(min = 1, max = 200, message = "1–200 characters"))]
    pub label_en: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct PatchQuota {
    pub target: Option<i64>,
    #[validate(length(min = 1, max = 200, message = "1–200 characters"))]
    pub label_zh: Option<String>,
    #[validate(length(min = 1, max = 200, message = "1–200 characters"))]
    pub label_en: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuotaQuery {
    pub year: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    /// Default: the current year.
    pub year: Option<i32>,
    /// The report date, YYYY-MM-DD; default today (or 31 December of a past year).
    pub as_of: Option<String>,
    /// `json` (default), `csv` or `xlsx`; `Accept: text/csv` also gives CSV.
    pub format: Option<String>,
    /// Accepted for API.md compatibility: every answer carries both breakdowns.
    pub by: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportCertifications {
    pub items: Vec<CertificationItem>,
}

/// List quotas.
///
/// The yearly targets (scope, tiers, measure `new` or `active`, target); officials and admins.
#[utoipa::path(get, path = "/api/v1/quotas", tag = "quotas", params(QuotaQuery),
    responses((status = 200, body = Vec<QuotaResponse>)), security(("bearer" = [])))]
pub async fn list_quotas(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<QuotaQuery>,
) -> AppResult<HttpResponse> {
    let (year, caller) = (q.year, user.0);
    let rows = db(&pool, move |c| svc::list(c, &caller, year)).await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(QuotaResponse::from)
            .collect::<Vec<_>>(),
    ))
}

/// Get a quota.
///
/// One quota with its `ETag`; officials and admins.
#[utoipa::path(get, path = "/api/v1/quotas/{id}", tag = "quotas", params(("id" = i32, Path)),
    responses((status = 200, body = QuotaResponse), (status = 404)), security(("bearer" = [])))]
pub async fn get_quota(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let q = db(&pool, move |c| svc::get(c, &caller, id)).await?;
    let body = QuotaResponse::from(q);
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, body.etag.clone()))
        .json(body))
}

/// Create a quota.
///
/// An admin adds a yearly target for a scope (the city or a district), a set of tiers and a
/// measure. Audited.
#[utoipa::path(post, path = "/api/v1/quotas", tag = "quotas", request_body = CreateQuota,
    responses((status = 201, body = QuotaResponse), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_quota(
    pool: web::Data<DbPool>,
    user: AuthUser,
    Json(b): Json<CreateQuota>,
) -> AppResult<HttpResponse> {
    validator::Validate::validate(&b)?;
    let caller = user.0;
    let input = QuotaInput {
        year: b.year,
        scope: b.scope,
        tiers: b.tiers,
        measure: b.measure,
        target: b.target,
        label_zh: b.label_zh,
        label_en: b.label_en,
    };
    let q = db(&pool, move |c| svc::create(c, &caller, input)).await?;
    Ok(HttpResponse::Created().json(QuotaResponse::from(q)))
}

/// Update a quota.
///
/// An admin changes a quota's target or labels; `If-Match` with the current etag is required, a
/// stale etag answers 412. Audited.
#[utoipa::path(patch, path = "/api/v1/quotas/{id}", tag = "quotas", params(("id" = i32, Path), ("If-Match" = String, Header)), request_body = PatchQuota,
    responses((status = 200, body = QuotaResponse), (status = 404), (status = 412), (status = 428)), security(("bearer" = [])))]
pub async fn update_quota(
    pool: web::Data<DbPool>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<i32>,
    Json(b): Json<PatchQuota>,
) -> AppResult<HttpResponse> {
    validator::Validate::validate(&b)?;
    let etag = if_match(&req)?;
    let (id, caller) = (id.into_inner(), user.0);
    let q = db(&pool, move |c| {
        svc::update(c, &caller, id, &etag, b.target, b.label_zh, b.label_en)
    })
    .await?;
    Ok(HttpResponse::Ok().json(QuotaResponse::from(q)))
}

/// Delete a quota.
///
/// An admin removes a quota. Audited.
#[utoipa::path(delete, path = "/api/v1/quotas/{id}", tag = "quotas", params(("id" = i32, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_quota(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    db(&pool, move |c| svc::delete(c, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The report date: given, else today within the year, else the year's last day.
pub fn default_as_of(year: i32, given: Option<&str>) -> AppResult<chrono::NaiveDate> {
    if !(2000..=2100).contains(&year) {
        return Err(AppError::field(
            "year",
            "range",
            "year must be between 2000 and 2100",
        ));
    }
    match given {
        Some(s) => parse_date("as_of", s),
        None => Ok(crate::clock::default_as_of(year)),
    }
}

/// The quota rollup.
///
/// Per quota: target, achieved, gap, percent, the pace expected by the report date, the pending
/// pipeline and the breakdown by district and cluster, plus monthly cumulative counts. JSON by
/// default; CSV or XLSX with `format=` or `Accept: text/csv` (text cells that a spreadsheet would
/// run as formulas are neutralised).
#[utoipa::path(get, path = "/api/v1/reports/rollup", tag = "quotas", params(RollupQuery),
    responses((status = 200, body = rollup::Rollup, description = "JSON; CSV or XLSX with format= or Accept: text/csv")),
    security(("bearer" = [])))]
pub async fn rollup_report(
    pool: web::Data<DbPool>,
    user: AuthUser,
    req: HttpRequest,
    q: web::Query<RollupQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&crate::clock::today()));
    let as_of = default_as_of(year, q.as_of.as_deref())?;
    if let Some(by) = &q.by
        && by != "district"
        && by != "cluster"
    {
        return Err(AppError::field("by", "enum", "district or cluster"));
    }
    let accept_csv = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    let format = q.format.clone().unwrap_or_else(|| {
        if accept_csv {
            "csv".into()
        } else {
            "json".into()
        }
    });
    if !["json", "csv", "xlsx"].contains(&format.as_str()) {
        return Err(AppError::field("format", "enum", "json, csv or xlsx"));
    }
    let caller = user.0;
    let r = db(&pool, move |c| rollup::report(c, &caller, year, as_of)).await?;
    let file = format!("ladder-rollup-{year}-{as_of}");
    Ok(match format.as_str() {
        "csv" => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{file}.csv\""),
            ))
            .body(
                report_files::to_csv(&r)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("writing csv: {e}")))?,
            ),
        "xlsx" => {
            let bytes = report_files::to_xlsx(&r)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("writing xlsx: {e}")))?;
            HttpResponse::Ok()
                .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .insert_header((
                    "Content-Disposition",
                    format!("attachment; filename=\"{file}.xlsx\""),
                ))
                .body(bytes)
        }
        _ => HttpResponse::Ok().json(r),
    })
}

/// Import existing certifications.
///
/// An admin imports titles issued before the service (published lists): all items or none; every
/// bad item is named by its index and field.
#[utoipa::path(post, path = "/api/v1/certifications/import", tag = "certifications", request_body = ImportCertifications,
    responses((status = 201, description = "{imported: n}"), (status = 422, description = "every bad item, by index and field; nothing written")),
    security(("bearer" = [])))]
pub async fn import_certifications(
    pool: web::Data<DbPool>,
    user: AuthUser,
    Json(b): Json<ImportCertifications>,
) -> AppResult<HttpResponse> {
    if b.items.is_empty() {
        return Err(AppError::field("items", "required", "at least one item"));
    }
    if b.items.len() > 5000 {
        return Err(AppError::field(
            "items",
            "too_many",
            "at most 5000 items per request; use `ladder import certifications` for more",
        ));
    }
    let caller = user.0;
    // Items are numbered from 0 in errors (`items[3].number`).
    let items: Vec<(u64, CertificationItem)> = b
        .items
        .into_iter()
        .enumerate()
        .map(|(i, it)| (i as u64, it))
        .collect();
    let n = db(&pool, move |c| {
        import::certifications(c, &caller, &items, false).map_err(|e| match e {
            import::ImportError::Rows(rows) => AppError::Validation(
                rows.into_iter()
                    .map(|r| {
                        crate::error::FieldError::new(
                            format!("items[{}].{}", r.line, r.field),
                            "invalid",
                            r.message,
                        )
                    })
                    .collect(),
            ),
            import::ImportError::Other(e) => e,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"imported": n})))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/quotas")
            .route(web::get().to(list_quotas))
            .route(web::post().to(create_quota)),
    );
    cfg.service(
        web::resource("/quotas/{id}")
            .route(web::get().to(get_quota))
            .route(web::patch().to(update_quota))
            .route(web::delete().to(delete_quota)),
    );
    cfg.service(web::resource("/reports/rollup").route(web::get().to(rollup_report)));
    cfg.service(
        web::resource("/certifications/import").route(web::post().to(import_certifications)),
    );
}
