//! `/claims`: sign-ups asking to own an enterprise already in the registry (admins decide).

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::AppResult;
use crate::models::claim::Claim;
use crate::routes::{Page, Paged, db};
use crate::services::claims as svc;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimResponse {
    pub id: i32,
    /// The enterprise the account asks to own.
    pub enterprise_id: i32,
    /// The account that asked (it has no enterprise until the claim is approved).
    pub user_id: i32,
    /// The name and district the claimant gave, to compare with the registry's.
    pub name: String,
    pub district_code: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub comment: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Claim> for ClaimResponse {
    fn from(c: Claim) -> Self {
        ClaimResponse {
            id: c.id,
            enterprise_id: c.enterprise_id,
            user_id: c.user_id,
            name: c.name,
            district_code: c.district_code,
            status: c.status,
            decided_by: c.decided_by,
            decided_at: c.decided_at.map(|t| t.and_utc()),
            comment: c.comment,
            created_at: c.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimList {
    pub items: Vec<ClaimResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClaimQuery {
    /// `pending`, `approved` or `rejected`; all when absent.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimDecision {
    /// Why (kept with the claim and in the audit trail); at most 2000 characters.
    pub comment: Option<String>,
}

/// List ownership claims.
///
/// Sign-ups whose credit code was already in the registry with no owning account, oldest
/// first; `status=pending` for the ones waiting. Admins only.
#[utoipa::path(get, path = "/api/v1/claims", tag = "users", params(ClaimQuery),
    responses((status = 200, body = ClaimList), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list_claims(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<ClaimQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let caller = user.0;
    let rows = db(&pool, move |c| {
        svc::list(c, &caller, q.status.as_deref(), page.after, page.fetch())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(rows, page, |c| c.id, ClaimResponse::from)))
}

async fn decide(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: i32,
    approve: bool,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let caller = user.0;
    let comment = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        crate::routes::parse_json::<ClaimDecision>(&body)?.comment
    };
    let claim = db(&pool, move |c| {
        svc::decide(c, &caller, id, approve, comment.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(ClaimResponse::from(claim)))
}

/// Approve an ownership claim.
///
/// The claimant's account becomes the enterprise's owner (it can then see and edit the
/// enterprise, file facts and apply). A claim that is no longer pending, or an enterprise
/// that found an owner meanwhile, is a 409. Admins only; audited.
#[utoipa::path(post, path = "/api/v1/claims/{id}/approve", tag = "users", params(("id" = i32, Path)),
    request_body(content = Option<ClaimDecision>, description = "optional `{comment}`"),
    responses((status = 200, body = ClaimResponse), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn approve_claim(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    decide(pool, user, id.into_inner(), true, body).await
}

/// Reject an ownership claim.
///
/// The claim is closed; the account stays without an enterprise. A claim that is no longer
/// pending is a 409. Admins only; audited.
#[utoipa::path(post, path = "/api/v1/claims/{id}/reject", tag = "users", params(("id" = i32, Path)),
    request_body(content = Option<ClaimDecision>, description = "optional `{comment}`"),
    responses((status = 200, body = ClaimResponse), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn reject_claim(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    decide(pool, user, id.into_inner(), false, body).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/claims").route(web::get().to(list_claims)));
    cfg.service(web::resource("/claims/{id}/approve").route(web::post().to(approve_claim)));
    cfg.service(web::resource("/claims/{id}/reject").route(web::post().to(reject_claim)));
}
