//! `enterprises`.

use crate::db::DbConnection;
use crate::db::schema::{certifications, enterprises};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = enterprises, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Enterprise {
    pub id: i32,
    pub uscc: String,
    pub name: String,
    pub district_code: String,
    pub cluster_code: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub niche_entered_on: Option<NaiveDate>,
    pub verified: bool,
    pub lock_version: i32,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = enterprises)]
pub struct NewEnterprise<'a> {
    pub uscc: &'a str,
    pub name: &'a str,
    pub district_code: &'a str,
    pub cluster_code: Option<&'a str>,
    pub founded_on: Option<NaiveDate>,
    pub niche_entered_on: Option<NaiveDate>,
    pub verified: bool,
    pub lock_version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseChanges {
    pub name: Option<String>,
    pub district_code: Option<String>,
    pub cluster_code: Option<Option<String>>,
    pub founded_on: Option<Option<NaiveDate>>,
    pub niche_entered_on: Option<Option<NaiveDate>>,
    pub verified: Option<bool>,
}

pub fn insert(conn: &mut DbConnection, new: &NewEnterprise) -> QueryResult<i32> {
    diesel::insert_into(enterprises::table)
        .values(new)
        .returning(enterprises::id)
        .get_result(conn)
}

pub fn insert_many(conn: &mut DbConnection, rows: &[NewEnterprise]) -> QueryResult<usize> {
    // Batch inserts are not available through the MultiConnection enum: one statement per
    // row, inside the caller's transaction.
    let mut n = 0;
    for row in rows {
        n += diesel::insert_into(enterprises::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(n)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Enterprise>> {
    enterprises::table
        .find(id)
        .select(Enterprise::as_select())
        .first(conn)
        .optional()
}

pub fn by_uscc(conn: &mut DbConnection, uscc: &str) -> QueryResult<Option<Enterprise>> {
    enterprises::table
        .filter(enterprises::uscc.eq(uscc))
        .select(Enterprise::as_select())
        .first(conn)
        .optional()
}

/// Ids of all enterprises by credit code (for imports).
pub fn ids_by_uscc(conn: &mut DbConnection) -> QueryResult<Vec<(String, i32)>> {
    enterprises::table
        .select((enterprises::uscc, enterprises::id))
        .load(conn)
}

/// List filters; `tier` = holds a current certification of that tier.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub district: Option<String>,
    pub cluster: Option<String>,
    pub tier: Option<String>,
    pub q: Option<String>,
    pub only_id: Option<i32>,
    pub active_on: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<Enterprise>> {
    let mut q = enterprises::table
        .filter(enterprises::id.gt(after))
        .into_boxed();
    if let Some(d) = &f.district {
        q = q.filter(enterprises::district_code.eq(d.clone()));
    }
    if let Some(c) = &f.cluster {
        q = q.filter(enterprises::cluster_code.eq(c.clone()));
    }
    if let Some(id) = f.only_id {
        q = q.filter(enterprises::id.eq(id));
    }
    if let Some(text) = &f.q {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        q = q.filter(
            enterprises::name
                .like(pattern.clone())
                .escape('\\')
                .or(enterprises::uscc.like(pattern).escape('\\')),
        );
    }
    if let Some(t) = &f.tier {
        let day = f.active_on.unwrap_or_else(crate::clock::today);
        let holders = certifications::table
            .filter(certifications::tier.eq(t.clone()))
            .filter(certifications::valid_from.le(day))
            .filter(certifications::valid_to.ge(day))
            .filter(
                certifications::revoked_on
                    .is_null()
                    .or(certifications::revoked_on.gt(day)),
            )
            .select(certifications::enterprise_id);
        q = q.filter(enterprises::id.eq_any(holders));
    }
    q.order(enterprises::id)
        .limit(limit)
        .select(Enterprise::as_select())
        .load(conn)
}

/// Guarded update: only applies when `lock_version` still matches (the etag).
pub fn update_guarded(
    conn: &mut DbConnection,
    id: i32,
    expected_version: i32,
    changes: &EnterpriseChanges,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        enterprises::table
            .find(id)
            .filter(enterprises::lock_version.eq(expected_version)),
    )
    .set((
        changes,
        enterprises::lock_version.eq(expected_version + 1),
        enterprises::updated_at.eq(at),
    ))
    .execute(conn)
}

/// What the officials' tools need of every enterprise, by id: id, credit code, name, district,
/// cluster and the date it entered its niche (one read for a whole batch).
pub type GradingRow = (
    i32,
    String,
    String,
    String,
    Option<String>,
    Option<NaiveDate>,
);

pub fn for_grading(conn: &mut DbConnection) -> QueryResult<Vec<GradingRow>> {
    enterprises::table
        .order(enterprises::id)
        .select((
            enterprises::id,
            enterprises::uscc,
            enterprises::name,
            enterprises::district_code,
            enterprises::cluster_code,
            enterprises::niche_entered_on,
        ))
        .load(conn)
}
