//! `fact_years` (the current values per enterprise and year, one JSON object) and
//! `fact_revisions` (every change: who, when, what).

use crate::db::DbConnection;
use crate::db::schema::{fact_revisions, fact_years};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fact_years, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FactYear {
    pub enterprise_id: i32,
    pub year: i32,
    pub facts: String,
    pub revision: i32,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = fact_revisions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FactRevision {
    #[serde(skip)]
    pub id: i32,
    #[serde(skip)]
    pub enterprise_id: i32,
    pub year: i32,
    pub revision: i32,
    #[serde(skip)]
    pub facts: String,
    #[serde(skip)]
    pub changes: String,
    pub changed_by: String,
    pub changed_at: NaiveDateTime,
}

pub fn for_enterprise(conn: &mut DbConnection, enterprise_id: i32) -> QueryResult<Vec<FactYear>> {
    fact_years::table
        .filter(fact_years::enterprise_id.eq(enterprise_id))
        .order(fact_years::year)
        .select(FactYear::as_select())
        .load(conn)
}

pub fn get(
    conn: &mut DbConnection,
    enterprise_id: i32,
    year: i32,
) -> QueryResult<Option<FactYear>> {
    fact_years::table
        .find((enterprise_id, year))
        .select(FactYear::as_select())
        .first(conn)
        .optional()
}

/// Every enterprise's facts for the given years, ordered by enterprise (batch grading).
pub fn for_years(
    conn: &mut DbConnection,
    from: i32,
    to: i32,
) -> QueryResult<Vec<(i32, i32, String)>> {
    fact_years::table
        .filter(fact_years::year.ge(from))
        .filter(fact_years::year.le(to))
        .order((fact_years::enterprise_id, fact_years::year))
        .select((
            fact_years::enterprise_id,
            fact_years::year,
            fact_years::facts,
        ))
        .load(conn)
}

/// Writes the new current values and appends the revision, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub fn put(
    conn: &mut DbConnection,
    enterprise_id: i32,
    year: i32,
    facts: &str,
    changes: &str,
    previous_revision: Option<i32>,
    actor: &str,
    at: NaiveDateTime,
) -> QueryResult<i32> {
    let revision = previous_revision.map_or(1, |r| r + 1);
    match previous_revision {
        None => {
            diesel::insert_into(fact_years::table)
                .values((
                    fact_years::enterprise_id.eq(enterprise_id),
                    fact_years::year.eq(year),
                    fact_years::facts.eq(facts),
                    fact_years::revision.eq(revision),
                    fact_years::updated_by.eq(actor),
                    fact_years::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
        Some(prev) => {
            let n = diesel::update(
                fact_years::table
                    .find((enterprise_id, year))
                    .filter(fact_years::revision.eq(prev)),
            )
            .set((
                fact_years::facts.eq(facts),
                fact_years::revision.eq(revision),
                fact_years::updated_by.eq(actor),
                fact_years::updated_at.eq(at),
            ))
            .execute(conn)?;
            if n == 0 {
                return Err(diesel::result::Error::NotFound);
            }
        }
    }
    diesel::insert_into(fact_revisions::table)
        .values((
            fact_revisions::enterprise_id.eq(enterprise_id),
            fact_revisions::year.eq(year),
            fact_revisions::revision.eq(revision),
            fact_revisions::facts.eq(facts),
            fact_revisions::changes.eq(changes),
            fact_revisions::changed_by.eq(actor),
            fact_revisions::changed_at.eq(at),
        ))
        .execute(conn)?;
    Ok(revision)
}

pub fn revisions(conn: &mut DbConnection, enterprise_id: i32) -> QueryResult<Vec<FactRevision>> {
    fact_revisions::table
        .filter(fact_revisions::enterprise_id.eq(enterprise_id))
        .order((fact_revisions::year, fact_revisions::revision))
        .select(FactRevision::as_select())
        .load(conn)
}

/// A first revision of one enterprise's year (no current row yet): the current values and
/// the revision entry, written by [`insert_first_many`].
#[derive(Debug, Clone)]
pub struct FirstRevision<'a> {
    pub enterprise_id: i32,
    pub year: i32,
    pub facts: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = fact_years)]
struct NewFactYear<'a> {
    enterprise_id: i32,
    year: i32,
    facts: &'a str,
    revision: i32,
    updated_by: &'a str,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = fact_revisions)]
struct NewFactRevision<'a> {
    enterprise_id: i32,
    year: i32,
    revision: i32,
    facts: &'a str,
    changes: &'a str,
    changed_by: &'a str,
    changed_at: NaiveDateTime,
}

/// What [`put`] writes for years with no current row, many at once (multi-row inserts: the
/// bulk import), in the caller's transaction. The changes of a first revision are its facts.
pub fn insert_first_many(
    conn: &mut DbConnection,
    rows: &[FirstRevision<'_>],
    actor: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    // 7 columns × 500 rows stays far below SQLite's limit on bound parameters (32,766).
    for chunk in rows.chunks(500) {
        let years: Vec<NewFactYear> = chunk
            .iter()
            .map(|r| NewFactYear {
                enterprise_id: r.enterprise_id,
                year: r.year,
                facts: r.facts,
                revision: 1,
                updated_by: actor,
                updated_at: at,
            })
            .collect();
        let revisions: Vec<NewFactRevision> = chunk
            .iter()
            .map(|r| NewFactRevision {
                enterprise_id: r.enterprise_id,
                year: r.year,
                revision: 1,
                facts: r.facts,
                changes: r.facts,
                changed_by: actor,
                changed_at: at,
            })
            .collect();
        // Multi-row inserts are not available through the MultiConnection enum.
        match conn {
            DbConnection::Sqlite(c) => {
                diesel::insert_into(fact_years::table)
                    .values(&years)
                    .execute(c)?;
                diesel::insert_into(fact_revisions::table)
                    .values(&revisions)
                    .execute(c)?;
            }
            DbConnection::Postgres(c) => {
                diesel::insert_into(fact_years::table)
                    .values(&years)
                    .execute(c)?;
                diesel::insert_into(fact_revisions::table)
                    .values(&revisions)
                    .execute(c)?;
            }
        }
    }
    Ok(rows.len())
}

/// The current revision of every (enterprise, year) on file (the bulk import's "is this a
/// first revision" check, without one query per row).
pub fn all_revisions(conn: &mut DbConnection) -> QueryResult<Vec<(i32, i32, i32)>> {
    fact_years::table
        .select((
            fact_years::enterprise_id,
            fact_years::year,
            fact_years::revision,
        ))
        .load(conn)
}
