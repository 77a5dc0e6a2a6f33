//! Reference tables: districts, clusters, tiers, indicators.

use crate::db::DbConnection;
use crate::db::schema::{clusters, districts, indicators, tiers};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = districts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct District {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clusters, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Cluster {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub confirmed: bool,
    pub sort_order: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tiers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Tier {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: i32,
    pub prerequisite: Option<String>,
    pub validity_years: i32,
    pub certifier: String,
    pub number_prefix: String,
    pub has_rules: bool,
    /// Working days an approval is publicised (公示) before the certificate issues; 0: at once.
    pub publicity_days: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = indicators, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct IndicatorRow {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub unit: String,
    pub kind: String,
    pub min_value: Option<String>,
    pub max_value: Option<String>,
}

pub fn all_districts(conn: &mut DbConnection) -> QueryResult<Vec<District>> {
    districts::table
        .order(districts::code)
        .select(District::as_select())
        .load(conn)
}

pub fn district(conn: &mut DbConnection, code: &str) -> QueryResult<Option<District>> {
    districts::table
        .find(code)
        .select(District::as_select())
        .first(conn)
        .optional()
}

pub fn all_clusters(conn: &mut DbConnection) -> QueryResult<Vec<Cluster>> {
    clusters::table
        .order(clusters::sort_order)
        .select(Cluster::as_select())
        .load(conn)
}

pub fn cluster(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Cluster>> {
    clusters::table
        .find(code)
        .select(Cluster::as_select())
        .first(conn)
        .optional()
}

pub fn all_tiers(conn: &mut DbConnection) -> QueryResult<Vec<Tier>> {
    tiers::table
        .order(tiers::code)
        .select(Tier::as_select())
        .load(conn)
}

pub fn tier(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Tier>> {
    tiers::table
        .find(code)
        .select(Tier::as_select())
        .first(conn)
        .optional()
}

pub fn all_indicators(conn: &mut DbConnection) -> QueryResult<Vec<IndicatorRow>> {
    indicators::table
        .order(indicators::code)
        .select(IndicatorRow::as_select())
        .load(conn)
}

/// Idempotent seeding: insert each row whose key is not there yet.
pub fn ensure_district(conn: &mut DbConnection, row: &District) -> QueryResult<()> {
    if district(conn, &row.code)?.is_none() {
        diesel::insert_into(districts::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn ensure_cluster(conn: &mut DbConnection, row: &Cluster) -> QueryResult<()> {
    if cluster(conn, &row.code)?.is_none() {
        diesel::insert_into(clusters::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Sets a tier's publicity period; the number of rows changed (0: no such tier).
pub fn set_publicity_days(conn: &mut DbConnection, code: &str, days: i32) -> QueryResult<usize> {
    diesel::update(tiers::table.find(code))
        .set(tiers::publicity_days.eq(days))
        .execute(conn)
}

pub fn ensure_tier(conn: &mut DbConnection, row: &Tier) -> QueryResult<()> {
    if tier(conn, &row.code)?.is_none() {
        diesel::insert_into(tiers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Replaces every indicator row with `rows`.
pub fn replace_indicators(conn: &mut DbConnection, rows: &[IndicatorRow]) -> QueryResult<()> {
    diesel::delete(indicators::table).execute(conn)?;
    for row in rows {
        diesel::insert_into(indicators::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Locks a tier's row until the transaction ends (PostgreSQL; SQLite writers are already
/// serial): the writes that must see each other per tier, such as publishing, queue here.
pub fn lock_tier(conn: &mut DbConnection, code: &str) -> QueryResult<()> {
    diesel::update(tiers::table.filter(tiers::code.eq(code)))
        .set(tiers::code.eq(tiers::code))
        .execute(conn)?;
    Ok(())
}
