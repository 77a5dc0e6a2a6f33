//! `/audit`: the hash-chained trail (admins), and a walk of the chain naming the first broken link.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::AppResult;
use crate::models::audit::AuditEntry;
use crate::routes::{Page, Paged, db};
use crate::services::audit::{self as svc, Verification};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i32,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        let parse = |s: Option<String>| {
            s.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
        };
        AuditEntryView {
            id: e.id,
            at: e.at.and_utc(),
            actor: e.actor,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            before: parse(e.before_json),
            after: parse(e.after_json),
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntryView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// e.g. `application`, `certification`, `enterprise`
    pub entity: Option<String>,
    /// The entity's id.
    pub id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List the audit trail.
///
/// Admins read the append-only audit trail, filtered by entity and entity id, in id order,
/// paginated. Each entry carries who, when, the before and after state and its link in the keyed
/// hash chain.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditList), (status = 403)), security(("bearer" = [])))]
pub async fn list_audit(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let caller = user.0;
    let entries = db(&pool, move |c| {
        svc::list(
            c,
            &caller,
            q.entity.as_deref(),
            q.id.as_deref(),
            page.after,
            page.fetch(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        entries,
        page,
        |e| e.id,
        AuditEntryView::from,
    )))
}

/// Verify the audit chain.
///
/// Admins walk the whole keyed hash chain; `ok: false` names the first entry whose link or HMAC
/// does not hold (altered, removed or re-hashed). A removed tail needs a signed checkpoint:
/// `ladder audit verify --head FILE`.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification, description = "`ok: false` names the first broken entry"), (status = 403)),
    security(("bearer" = [])))]
pub async fn verify_audit(pool: web::Data<DbPool>, user: AuthUser) -> AppResult<HttpResponse> {
    let caller = user.0;
    let v = db(&pool, move |c| svc::verify_for(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The Ed25519 key that signs audit checkpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPublicKey {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// The 32-byte public key, hex.
    pub public_key: String,
}

/// The public key that verifies audit checkpoints.
///
/// `ladder audit head` prints a checkpoint `{id, hash, at, signature}`; its `signature` is
/// Ed25519 over the compact JSON `["ladder-audit-checkpoint-v1", id, hash, at]`, verifiable
/// with this key by anyone holding the checkpoint. Any signed-in caller may read it.
#[utoipa::path(get, path = "/api/v1/audit/key", tag = "audit",
    responses((status = 200, body = AuditPublicKey), (status = 401)), security(("bearer" = [])))]
pub async fn audit_key(_user: AuthUser) -> AppResult<HttpResponse> {
    let key = svc::current().ok_or_else(|| anyhow::anyhow!("the audit key is not loaded"))?;
    Ok(HttpResponse::Ok().json(AuditPublicKey {
        algorithm: "Ed25519",
        public_key: key.public_key_hex(),
    }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit/key").route(web::get().to(audit_key)));
    cfg.service(web::resource("/audit").route(web::get().to(list_audit)));
    cfg.service(web::resource("/audit/verify").route(web::get().to(verify_audit)));
}
