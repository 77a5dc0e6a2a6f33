//! `quotas`.

use crate::db::DbConnection;
use crate::db::schema::quotas;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = quotas, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Quota {
    pub id: i32,
    pub year: i32,
    pub scope: String,
    /// Tier codes joined with ',' in sorted order (a quota may span several tiers).
    pub tiers: String,
    pub measure: String,
    pub target: i32,
    pub label_zh: String,
    pub label_en: String,
    pub lock_version: i32,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

impl Quota {
    pub fn tier_list(&self) -> Vec<String> {
        self.tiers
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = quotas)]
pub struct NewQuota<'a> {
    pub year: i32,
    pub scope: &'a str,
    pub tiers: &'a str,
    pub measure: &'a str,
    pub target: i32,
    pub label_zh: &'a str,
    pub label_en: &'a str,
    pub lock_version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewQuota) -> QueryResult<i32> {
    diesel::insert_into(quotas::table)
        .values(new)
        .returning(quotas::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Quota>> {
    quotas::table
        .find(id)
        .select(Quota::as_select())
        .first(conn)
        .optional()
}

pub fn find_key(
    conn: &mut DbConnection,
    year: i32,
    scope: &str,
    tiers: &str,
    measure: &str,
) -> QueryResult<Option<Quota>> {
    quotas::table
        .filter(quotas::year.eq(year))
        .filter(quotas::scope.eq(scope))
        .filter(quotas::tiers.eq(tiers))
        .filter(quotas::measure.eq(measure))
        .select(Quota::as_select())
        .first(conn)
        .optional()
}

pub fn for_year(conn: &mut DbConnection, year: Option<i32>) -> QueryResult<Vec<Quota>> {
    let mut q = quotas::table.into_boxed();
    if let Some(y) = year {
        q = q.filter(quotas::year.eq(y));
    }
    q.order((quotas::year, quotas::id))
        .select(Quota::as_select())
        .load(conn)
}

pub fn update_guarded(
    conn: &mut DbConnection,
    id: i32,
    expected_version: i32,
    target: i32,
    label_zh: &str,
    label_en: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        quotas::table
            .find(id)
            .filter(quotas::lock_version.eq(expected_version)),
    )
    .set((
        quotas::target.eq(target),
        quotas::label_zh.eq(label_zh),
        quotas::label_en.eq(label_en),
        quotas::lock_version.eq(expected_version + 1),
        quotas::updated_at.eq(at),
    ))
    .execute(conn)
}

pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<usize> {
    diesel::delete(quotas::table.find(id)).execute(conn)
}
