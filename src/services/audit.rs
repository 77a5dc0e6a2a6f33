//! The audit trail: an append-only, SHA-256 hash-chained log of every write. Each entry's
//! hash covers the previous entry's hash and a canonical encoding of its own fields, so
//! editing or removing any row breaks the chain from there on.

use crate::db::{DbConnection, schema};
use crate::models::audit::{self as rows, AuditEntry, NewAuditEntry};
use diesel::RunQueryDsl;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hashed fields of an entry.
struct Fields<'a> {
    prev_hash: &'a str,
    at: &'a chrono::NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

impl Fields<'_> {
    /// SHA-256 over the canonical bytes: a JSON array of strings in fixed order, version-tagged.
    fn hash(&self) -> String {
        let at = self.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        let canonical = serde_json::json!([
            "ladder-audit-v1",
            self.prev_hash,
            at,
            self.actor,
            self.action,
            self.entity,
            self.entity_id,
            self.before,
            self.after
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

fn hash_entry(e: &AuditEntry) -> String {
    Fields {
        prev_hash: &e.prev_hash,
        at: &e.at,
        actor: &e.actor,
        action: &e.action,
        entity: &e.entity,
        entity_id: &e.entity_id,
        before: e.before_json.as_deref(),
        after: e.after_json.as_deref(),
    }
    .hash()
}

/// Serialises appends across processes: SQLite writers already hold the write lock
/// (`BEGIN IMMEDIATE`); on PostgreSQL a transaction-scoped advisory lock orders them.
fn lock_chain(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    if let DbConnection::Postgres(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7211)").execute(conn)?;
    }
    Ok(())
}

/// Appends one entry. Call inside the write transaction that makes the change.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<&B>,
    after: Option<&A>,
) -> diesel::QueryResult<()> {
    let before = before.map(|b| serde_json::to_string(b).unwrap_or_default());
    let after = after.map(|a| serde_json::to_string(a).unwrap_or_default());
    // API.md and the OpenAPI schema give `before`/`after` as objects (or null).
    debug_assert!(
        [&before, &after]
            .iter()
            .all(|v| v.as_deref().is_none_or(|t| t.starts_with('{'))),
        "audit {action}: before/after must be JSON objects"
    );
    let entity_id = entity_id.to_string();
    lock_chain(conn)?;
    let prev = rows::head(conn)?
        .map(|(_, h)| h)
        .unwrap_or_else(|| GENESIS.to_string());
    let at = crate::models::now();
    let hash = Fields {
        prev_hash: &prev,
        at: &at,
        actor,
        action,
        entity,
        entity_id: &entity_id,
        before: before.as_deref(),
        after: after.as_deref(),
    }
    .hash();
    rows::insert(
        conn,
        &NewAuditEntry {
            at,
            actor,
            action,
            entity,
            entity_id: &entity_id,
            before_json: before.as_deref(),
            after_json: after.as_deref(),
            prev_hash: &prev,
            hash: &hash,
        },
    )?;
    Ok(())
}

/// The outcome of walking the chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub entries: u64,
    pub head: String,
    /// The id of the first entry whose link or hash does not hold.
    pub first_broken_id: Option<i32>,
    pub reason: Option<String>,
}

/// Walks the whole chain in id order, in pages, and names the first broken link.
pub fn verify(conn: &mut DbConnection) -> diesel::QueryResult<Verification> {
    let mut prev = GENESIS.to_string();
    let mut after = 0;
    let mut entries = 0u64;
    loop {
        let page = rows::page(conn, after, 5000)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            entries += 1;
            if e.prev_hash != prev {
                return Ok(broken(
                    entries,
                    e.id,
                    &prev,
                    "prev_hash does not match the previous entry's hash",
                ));
            }
            let computed = hash_entry(e);
            if computed != e.hash {
                return Ok(broken(
                    entries,
                    e.id,
                    &prev,
                    "entry content does not match its hash",
                ));
            }
            prev = e.hash.clone();
            after = e.id;
        }
    }
    // A removed tail cannot be seen from inside the chain: compare with a head kept elsewhere
    // (`ladder audit head`).
    Ok(Verification {
        ok: true,
        entries,
        head: prev,
        first_broken_id: None,
        reason: None,
    })
}

fn broken(entries: u64, id: i32, head: &str, reason: &str) -> Verification {
    Verification {
        ok: false,
        entries,
        head: head.to_string(),
        first_broken_id: Some(id),
        reason: Some(reason.into()),
    }
}

pub fn head(conn: &mut DbConnection) -> diesel::QueryResult<(i64, String)> {
    use diesel::prelude::*;
    let count: i64 = schema::audit_log::table.count().get_result(conn)?;
    let head = rows::head(conn)?
        .map(|(_, h)| h)
        .unwrap_or_else(|| GENESIS.to_string());
    Ok((count, head))
}
