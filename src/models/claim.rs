//! `claims`: sign-ups that ask to own an enterprise already in the registry.

use crate::db::DbConnection;
use crate::db::schema::claims;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = claims, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Claim {
    pub id: i32,
    pub enterprise_id: i32,
    pub user_id: i32,
    pub name: String,
    pub district_code: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub comment: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = claims)]
pub struct NewClaim<'a> {
    pub enterprise_id: i32,
    pub user_id: i32,
    pub name: &'a str,
    pub district_code: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewClaim) -> QueryResult<i32> {
    diesel::insert_into(claims::table)
        .values(new)
        .returning(claims::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Claim>> {
    claims::table
        .find(id)
        .select(Claim::as_select())
        .first(conn)
        .optional()
}

/// A page of claims (oldest first), optionally of one status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<Claim>> {
    let mut q = claims::table
        .filter(claims::id.gt(after))
        .select(Claim::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(claims::status.eq(s.to_string()));
    }
    q.order(claims::id.asc()).limit(limit).load(conn)
}

/// Moves a pending claim to `status`; 0 rows when it was no longer pending.
pub fn decide(
    conn: &mut DbConnection,
    id: i32,
    status: &str,
    by: &str,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        claims::table
            .filter(claims::id.eq(id))
            .filter(claims::status.eq(PENDING)),
    )
    .set((
        claims::status.eq(status),
        claims::decided_by.eq(Some(by)),
        claims::decided_at.eq(Some(at)),
        claims::comment.eq(comment),
    ))
    .execute(conn)
}
