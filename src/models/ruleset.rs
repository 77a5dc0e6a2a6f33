//! `rulesets` and `evaluations`.

use crate::db::DbConnection;
use crate::db::schema::{certifications, evaluations, rulesets};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rulesets, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct RuleSetRow {
    pub id: i32,
    pub tier: String,
    pub version: i32,
    pub name: String,
    pub status: String,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub document: String,
    pub lock_version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = rulesets)]
pub struct NewRuleSet<'a> {
    pub tier: &'a str,
    pub version: i32,
    pub name: &'a str,
    pub status: &'a str,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub document: &'a str,
    pub lock_version: i32,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, new: &NewRuleSet) -> QueryResult<i32> {
    diesel::insert_into(rulesets::table)
        .values(new)
        .returning(rulesets::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<RuleSetRow>> {
    rulesets::table
        .find(id)
        .select(RuleSetRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_tier_version(
    conn: &mut DbConnection,
    tier: &str,
    version: i32,
) -> QueryResult<Option<RuleSetRow>> {
    rulesets::table
        .filter(rulesets::tier.eq(tier))
        .filter(rulesets::version.eq(version))
        .select(RuleSetRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConnection,
    tier: Option<&str>,
    status: Option<&str>,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<RuleSetRow>> {
    let mut q = rulesets::table.filter(rulesets::id.gt(after)).into_boxed();
    if let Some(t) = tier {
        q = q.filter(rulesets::tier.eq(t.to_string()));
    }
    if let Some(s) = status {
        q = q.filter(rulesets::status.eq(s.to_string()));
    }
    q.order(rulesets::id)
        .limit(limit)
        .select(RuleSetRow::as_select())
        .load(conn)
}

/// Published rule sets of a tier (for overlap checks and in-force lookup).
pub fn published_for_tier(conn: &mut DbConnection, tier: &str) -> QueryResult<Vec<RuleSetRow>> {
    rulesets::table
        .filter(rulesets::tier.eq(tier))
        .filter(rulesets::status.eq("published"))
        .order(rulesets::effective_from)
        .select(RuleSetRow::as_select())
        .load(conn)
}

/// The published rule set in force on `day` for a tier (publishing keeps ranges disjoint).
pub fn in_force(
    conn: &mut DbConnection,
    tier: &str,
    day: NaiveDate,
) -> QueryResult<Option<RuleSetRow>> {
    rulesets::table
        .filter(rulesets::tier.eq(tier))
        .filter(rulesets::status.eq("published"))
        .filter(rulesets::effective_from.le(day))
        .filter(
            rulesets::effective_to
                .is_null()
                .or(rulesets::effective_to.ge(day)),
        )
        .order((rulesets::effective_from.desc(), rulesets::version.desc()))
        .select(RuleSetRow::as_select())
        .first(conn)
        .optional()
}

/// Every published rule set in force on `day`, any tier.
pub fn all_in_force(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Vec<RuleSetRow>> {
    rulesets::table
        .filter(rulesets::status.eq("published"))
        .filter(rulesets::effective_from.le(day))
        .filter(
            rulesets::effective_to
                .is_null()
                .or(rulesets::effective_to.ge(day)),
        )
        .order(rulesets::tier)
        .select(RuleSetRow::as_select())
        .load(conn)
}

/// Guarded status change: only from `from`.
pub fn set_status(
    conn: &mut DbConnection,
    id: i32,
    from: &str,
    to: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let target = rulesets::table.find(id).filter(rulesets::status.eq(from));
    if to == "published" {
        diesel::update(target)
            .set((
                rulesets::status.eq(to),
                rulesets::published_at.eq(at),
                rulesets::lock_version.eq(rulesets::lock_version + 1),
            ))
            .execute(conn)
    } else {
        diesel::update(target)
            .set((
                rulesets::status.eq(to),
                rulesets::retired_at.eq(at),
                rulesets::lock_version.eq(rulesets::lock_version + 1),
            ))
            .execute(conn)
    }
}

/// Replaces a draft's document, guarded by status and lock version.
#[allow(clippy::too_many_arguments)]
pub fn update_draft(
    conn: &mut DbConnection,
    id: i32,
    expected_version: i32,
    name: &str,
    version: i32,
    effective_from: NaiveDate,
    effective_to: Option<NaiveDate>,
    document: &str,
) -> QueryResult<usize> {
    diesel::update(
        rulesets::table
            .find(id)
            .filter(rulesets::status.eq("draft"))
            .filter(rulesets::lock_version.eq(expected_version)),
    )
    .set((
        rulesets::name.eq(name),
        rulesets::version.eq(version),
        rulesets::effective_from.eq(effective_from),
        rulesets::effective_to.eq(effective_to),
        rulesets::document.eq(document),
        rulesets::lock_version.eq(expected_version + 1),
    ))
    .execute(conn)
}

/// Tier codes of the certifications an enterprise holds on `day` (not revoked by then).
pub fn holds(
    conn: &mut DbConnection,
    enterprise_id: i32,
    day: NaiveDate,
) -> QueryResult<Vec<String>> {
    certifications::table
        .filter(certifications::enterprise_id.eq(enterprise_id))
        .filter(certifications::valid_from.le(day))
        .filter(certifications::valid_to.ge(day))
        .filter(
            certifications::revoked_on
                .is_null()
                .or(certifications::revoked_on.gt(day)),
        )
        .select(certifications::tier)
        .distinct()
        .load(conn)
}

/// Every enterprise's holdings on `day` (batch grading).
pub fn all_holds(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Vec<(i32, String)>> {
    certifications::table
        .filter(certifications::valid_from.le(day))
        .filter(certifications::valid_to.ge(day))
        .filter(
            certifications::revoked_on
                .is_null()
                .or(certifications::revoked_on.gt(day)),
        )
        .select((certifications::enterprise_id, certifications::tier))
        .load(conn)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = evaluations, treat_none_as_default_value = false)]
pub struct NewEvaluation<'a> {
    pub enterprise_id: i32,
    pub tier: &'a str,
    pub ruleset_id: i32,
    pub ruleset_version: i32,
    pub as_of: NaiveDate,
    pub year: i32,
    pub outcome: &'a str,
    pub route: Option<&'a str>,
    pub score: Option<String>,
    pub facts: &'a str,
    pub result: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_evaluation(conn: &mut DbConnection, new: &NewEvaluation) -> QueryResult<usize> {
    diesel::insert_into(evaluations::table)
        .values(new)
        .execute(conn)
}

pub fn delete_evaluations_for_year(conn: &mut DbConnection, year: i32) -> QueryResult<usize> {
    diesel::delete(evaluations::table.filter(evaluations::year.eq(year))).execute(conn)
}
