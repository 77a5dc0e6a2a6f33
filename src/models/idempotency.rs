//! `idempotency_keys`: the first response to a request that carried an `Idempotency-Key`,
//! per caller and key.

use crate::db::DbConnection;
use crate::db::schema::idempotency_keys;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct StoredKey {
    pub actor: String,
    pub key: String,
    pub method: String,
    pub path: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct NewKey<'a> {
    pub actor: &'a str,
    pub key: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub request_hash: &'a str,
    pub status: i32,
    pub body: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, actor: &str, key: &str) -> QueryResult<Option<StoredKey>> {
    idempotency_keys::table
        .find((actor, key))
        .select(StoredKey::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, new: &NewKey) -> QueryResult<usize> {
    diesel::insert_into(idempotency_keys::table)
        .values(new)
        .execute(conn)
}

pub fn complete(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    status: i32,
    body: &str,
) -> QueryResult<usize> {
    diesel::update(idempotency_keys::table.find((actor, key)))
        .set((
            idempotency_keys::status.eq(status),
            idempotency_keys::body.eq(body),
        ))
        .execute(conn)
}

/// Forgets one key (it expired).
pub fn delete(conn: &mut DbConnection, actor: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.find((actor, key))).execute(conn)
}

/// Forgets every key kept before `cutoff`.
pub fn delete_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
        .execute(conn)
}
