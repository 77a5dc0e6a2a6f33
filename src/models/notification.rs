//! `notifications`: the in-app inbox.

use crate::db::DbConnection;
use crate::db::schema::{certifications, notifications, users};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = notifications, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Notification {
    pub id: i32,
    pub user_id: i32,
    pub kind: String,
    pub application_id: Option<i32>,
    pub certification_id: Option<i32>,
    pub text_zh: String,
    pub text_en: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification<'a> {
    pub user_id: i32,
    pub kind: &'a str,
    pub application_id: Option<i32>,
    pub certification_id: Option<i32>,
    pub text_zh: &'a str,
    pub text_en: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewNotification) -> QueryResult<usize> {
    diesel::insert_into(notifications::table)
        .values(new)
        .execute(conn)
}

pub fn of_user(
    conn: &mut DbConnection,
    user_id: i32,
    unread_only: bool,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    let mut q = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::id.gt(after))
        .into_boxed();
    if unread_only {
        q = q.filter(notifications::read_at.is_null());
    }
    q.order(notifications::id)
        .limit(limit)
        .select(Notification::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Notification>> {
    notifications::table
        .find(id)
        .select(Notification::as_select())
        .first(conn)
        .optional()
}

pub fn mark_read(conn: &mut DbConnection, id: i32, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(at))
    .execute(conn)
}

/// Enabled accounts of the enterprise.
pub fn enterprise_users(conn: &mut DbConnection, enterprise_id: i32) -> QueryResult<Vec<i32>> {
    users::table
        .filter(users::enterprise_id.eq(enterprise_id))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(conn)
}

/// Enabled accounts of a role.
pub fn users_of_role(conn: &mut DbConnection, role: &str) -> QueryResult<Vec<i32>> {
    users::table
        .filter(users::role.eq(role))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(conn)
}

/// A title about to end: `(id, enterprise_id, tier, number, valid_to)`.
pub type Ending = (i32, i32, String, String, NaiveDate);

/// Current, unrevoked certifications ending between two days that have no `expiring`
/// notification yet.
pub fn expiring_unnoticed(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Ending>> {
    let noticed = notifications::table
        .filter(notifications::kind.eq("expiring"))
        .filter(notifications::certification_id.eq(certifications::id.nullable()));
    certifications::table
        .filter(certifications::is_current.eq(true))
        .filter(certifications::revoked_on.is_null())
        .filter(certifications::valid_to.ge(from))
        .filter(certifications::valid_to.le(to))
        .filter(diesel::dsl::not(diesel::dsl::exists(noticed)))
        .order(certifications::id)
        .select((
            certifications::id,
            certifications::enterprise_id,
            certifications::tier,
            certifications::number,
            certifications::valid_to,
        ))
        .load(conn)
}
