//! `/certifications`: titles held, who may see them, and revocation by admins.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::AppResult;
use crate::models::certification::{Certification, Filter};
use crate::routes::idempotency::{Idem, respond};
use crate::routes::{Json, Page, Paged, db, parse_date};
use crate::services::certifications as svc;
use crate::services::idempotency::run;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationResponse {
    pub id: i32,
    pub enterprise_id: i32,
    pub enterprise_name: String,
    pub uscc: String,
    pub tier: String,
    /// e.g. `SY-LG-2026-0007`
    pub number: String,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub application_id: Option<i32>,
    pub ruleset_id: Option<i32>,
    pub batch: Option<String>,
    pub imported: bool,
    /// The enterprise's live title of this tier (at most one, enforced by the database).
    pub is_current: bool,
    pub revoked_on: Option<NaiveDate>,
    pub revoke_reason: Option<String>,
    /// Today: `active`, `pending` (not yet valid), `expired` or `revoked`.
    pub status: String,
    /// In force today.
    pub active: bool,
    /// The approval overrode an ineligible pre-screen or a review criterion judged false.
    #[serde(rename = "override")]
    pub overridden: bool,
    /// The reviewer's reason for the override.
    pub override_reason: Option<String>,
}

impl From<(Certification, String, String)> for CertificationResponse {
    fn from((c, name, uscc): (Certification, String, String)) -> Self {
        let day = crate::clock::today();
        let status = if c.revoked_on.is_some_and(|r| r <= day) {
            "revoked"
        } else if day > c.valid_to {
            "expired"
        } else if day < c.valid_from {
            "pending"
        } else {
            "active"
        };
        CertificationResponse {
            active: c.active_on(day),
            status: status.into(),
            id: c.id,
            enterprise_id: c.enterprise_id,
            enterprise_name: name,
            uscc,
            tier: c.tier,
            number: c.number,
            issued_on: c.issued_on,
            valid_from: c.valid_from,
            valid_to: c.valid_to,
            application_id: c.application_id,
            ruleset_id: c.ruleset_id,
            batch: c.batch,
            imported: c.imported,
            is_current: c.is_current,
            revoked_on: c.revoked_on,
            revoke_reason: c.revoke_reason,
            overridden: c.override_reason.is_some(),
            override_reason: c.override_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationList {
    pub items: Vec<CertificationResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub tier: Option<String>,
    /// District code of the holder.
    pub district: Option<String>,
    /// Industry cluster of the holder.
    pub cluster: Option<String>,
    /// YYYY-MM-DD: only titles in force that day (valid and not revoked on or before it).
    pub active_on: Option<String>,
    /// Issued in this year.
    pub year: Option<i32>,
    pub enterprise_id: Option<i32>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub reason: String,
}

/// List certifications.
///
/// Certifications the caller may see, filtered by tier, district, cluster, year issued or the date
/// they are in force on (`active_on`); paginated.
#[utoipa::path(get, path = "/api/v1/certifications", tag = "certifications", params(ListQuery),
    responses((status = 200, body = CertificationList), (status = 422)), security(("bearer" = [])))]
pub async fn list_certifications(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let active_on = q
        .active_on
        .as_deref()
        .map(|d| parse_date("active_on", d))
        .transpose()?;
    let filter = Filter {
        tier: q.tier,
        district: q.district,
        cluster: q.cluster,
        active_on,
        year: q.year,
        enterprise_id: q.enterprise_id,
        only_enterprise: None,
    };
    let caller = user.0;
    let rows = db(&pool, move |c| {
        svc::list(c, &caller, filter, page.after, page.fetch())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |r| r.0.id,
        CertificationResponse::from,
    )))
}

/// Get a certification.
///
/// One certification: tier, certificate number, validity and, if revoked, when and why. Objects
/// the caller may not see answer 404.
#[utoipa::path(get, path = "/api/v1/certifications/{id}", tag = "certifications", params(("id" = i32, Path)),
    responses((status = 200, body = CertificationResponse), (status = 404)), security(("bearer" = [])))]
pub async fn get_certification(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let found = db(&pool, move |c| svc::get_visible(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(CertificationResponse::from(found)))
}

/// Revoke a certification.
///
/// An admin revokes an active certification with a reason; it stops counting in the rollup from
/// the revocation date. Audited.
#[utoipa::path(post, path = "/api/v1/certifications/{id}/revoke", tag = "certifications", request_body = RevokeRequest,
    params(("id" = i32, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = CertificationResponse), (status = 403), (status = 404), (status = 409, description = "already revoked"), (status = 422)),
    security(("bearer" = [])))]
pub async fn revoke_certification(
    pool: web::Data<DbPool>,
    user: AuthUser,
    idem: Idem,
    id: web::Path<i32>,
    Json(body): Json<RevokeRequest>,
) -> AppResult<HttpResponse> {
    let (id, caller, ctx) = (id.into_inner(), user.0, idem.0.clone());
    let out = db(&pool, move |c| {
        run(c, ctx.as_ref(), 200, |c| {
            svc::revoke(c, &caller, id, &body.reason)?;
            svc::get_visible(c, &caller, id).map(CertificationResponse::from)
        })
    })
    .await?;
    Ok(respond(StatusCode::OK, out, &idem))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/certifications").route(web::get().to(list_certifications)));
    cfg.service(web::resource("/certifications/{id}").route(web::get().to(get_certification)));
    cfg.service(
        web::resource("/certifications/{id}/revoke").route(web::post().to(revoke_certification)),
    );
}
