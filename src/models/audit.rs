//! `audit_log`: append and read. The chain itself (hashing, verifying) is in services::audit.

use crate::db::DbConnection;
use crate::db::schema::audit_log;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuditEntry {
    pub id: i32,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

pub fn head(conn: &mut DbConnection) -> QueryResult<Option<(i32, String)>> {
    audit_log::table
        .order(audit_log::id.desc())
        .select((audit_log::id, audit_log::hash))
        .first(conn)
        .optional()
}

pub fn last(conn: &mut DbConnection) -> QueryResult<Option<AuditEntry>> {
    audit_log::table
        .order(audit_log::id.desc())
        .select(AuditEntry::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, new: &NewAuditEntry) -> QueryResult<i32> {
    diesel::insert_into(audit_log::table)
        .values(new)
        .returning(audit_log::id)
        .get_result(conn)
}

pub fn page(conn: &mut DbConnection, after: i32, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    audit_log::table
        .filter(audit_log::id.gt(after))
        .order(audit_log::id)
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
}

pub fn for_entity(
    conn: &mut DbConnection,
    entity: Option<&str>,
    entity_id: Option<&str>,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .filter(audit_log::id.gt(after))
        .into_boxed();
    if let Some(e) = entity {
        q = q.filter(audit_log::entity.eq(e.to_string()));
    }
    if let Some(i) = entity_id {
        q = q.filter(audit_log::entity_id.eq(i.to_string()));
    }
    q.order(audit_log::id)
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
}
