//! `refresh_tokens`, `login_failures` and `settings`.

use crate::db::DbConnection;
use crate::db::schema::{login_failures, refresh_tokens, settings};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct RefreshToken {
    pub id: i32,
    pub user_id: i32,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub user_id: i32,
    pub family_id: &'a str,
    pub token_hash: &'a str,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken) -> QueryResult<usize> {
    diesel::insert_into(refresh_tokens::table)
        .values(new)
        .execute(conn)
}

pub fn by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()
}

/// Marks a token used, only if it still is unused: the guard makes a concurrent reuse lose.
pub fn mark_rotated(conn: &mut DbConnection, id: i32, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::rotated_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(at))
    .execute(conn)
}

pub fn revoke_family(
    conn: &mut DbConnection,
    family: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)
}

pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: i32,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_failures, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct LoginFailure {
    pub username: String,
    /// The client address the failures came from.
    pub address: String,
    pub failures: i32,
    /// When the latest failure happened; the count starts over after a quiet day.
    pub window_start: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

pub fn failure(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
) -> QueryResult<Option<LoginFailure>> {
    login_failures::table
        .find((username, address))
        .select(LoginFailure::as_select())
        .first(conn)
        .optional()
}

pub fn save_failure(
    conn: &mut DbConnection,
    row: &LoginFailure,
    exists: bool,
) -> QueryResult<usize> {
    if exists {
        diesel::update(login_failures::table.find((&row.username, &row.address)))
            .set(row)
            .execute(conn)
    } else {
        diesel::insert_into(login_failures::table)
            .values(row)
            .execute(conn)
    }
}

pub fn clear_failures(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
) -> QueryResult<usize> {
    diesel::delete(login_failures::table.find((username, address))).execute(conn)
}

pub fn setting(conn: &mut DbConnection, key: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()
}

pub fn insert_setting(conn: &mut DbConnection, key: &str, value: &str) -> QueryResult<usize> {
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .execute(conn)
}
