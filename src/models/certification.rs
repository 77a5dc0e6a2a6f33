//! `certifications`: titles held by enterprises. "Active on a day" is a date test
//! (`valid_from ≤ day ≤ valid_to`, not revoked on or before that day), the same one
//! `models::ruleset::holds` uses; `is_current` marks the one live title per enterprise and
//! tier, and a partial unique index makes the database enforce it.

use crate::db::DbConnection;
use crate::db::schema::{certifications, enterprises};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = certifications, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Certification {
    pub id: i32,
    pub enterprise_id: i32,
    pub tier: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub application_id: Option<i32>,
    pub ruleset_id: Option<i32>,
    pub batch: Option<String>,
    pub imported: bool,
    pub is_current: bool,
    pub revoked_on: Option<NaiveDate>,
    pub revoke_reason: Option<String>,
    pub created_at: NaiveDateTime,
    /// Set when the approval overrode an ineligible pre-screen or a criterion judged false.
    pub override_reason: Option<String>,
}

impl Certification {
    /// In force on `day`: within its validity and not revoked on or before that day.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && day <= self.valid_to && self.revoked_on.is_none_or(|r| r > day)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = certifications)]
pub struct NewCertification<'a> {
    pub enterprise_id: i32,
    pub tier: &'a str,
    pub number: &'a str,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub application_id: Option<i32>,
    pub ruleset_id: Option<i32>,
    pub batch: Option<&'a str>,
    pub imported: bool,
    pub is_current: bool,
    pub created_at: NaiveDateTime,
    pub override_reason: Option<&'a str>,
}

pub fn insert(conn: &mut DbConnection, new: &NewCertification) -> QueryResult<i32> {
    diesel::insert_into(certifications::table)
        .values(new)
        .returning(certifications::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Certification>> {
    certifications::table
        .find(id)
        .select(Certification::as_select())
        .first(conn)
        .optional()
}

/// A certification with the name and credit code of its holder.
pub fn find_with_holder(
    conn: &mut DbConnection,
    id: i32,
) -> QueryResult<Option<(Certification, String, String)>> {
    certifications::table
        .inner_join(enterprises::table)
        .filter(certifications::id.eq(id))
        .select((
            Certification::as_select(),
            enterprises::name,
            enterprises::uscc,
        ))
        .first(conn)
        .optional()
}

/// The certification an application produced, if any.
pub fn for_application(
    conn: &mut DbConnection,
    application_id: i32,
) -> QueryResult<Option<Certification>> {
    certifications::table
        .filter(certifications::application_id.eq(application_id))
        .select(Certification::as_select())
        .first(conn)
        .optional()
}

/// The current (`is_current`) certification of an enterprise for a tier.
pub fn current(
    conn: &mut DbConnection,
    enterprise_id: i32,
    tier: &str,
) -> QueryResult<Option<Certification>> {
    certifications::table
        .filter(certifications::enterprise_id.eq(enterprise_id))
        .filter(certifications::tier.eq(tier))
        .filter(certifications::is_current.eq(true))
        .select(Certification::as_select())
        .first(conn)
        .optional()
}

pub fn clear_current(conn: &mut DbConnection, id: i32) -> QueryResult<usize> {
    diesel::update(certifications::table.find(id))
        .set(certifications::is_current.eq(false))
        .execute(conn)
}

/// Revokes, guarded: only a certification not revoked yet.
pub fn revoke(
    conn: &mut DbConnection,
    id: i32,
    day: NaiveDate,
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(
        certifications::table
            .find(id)
            .filter(certifications::revoked_on.is_null()),
    )
    .set((
        certifications::revoked_on.eq(day),
        certifications::revoke_reason.eq(reason),
        certifications::is_current.eq(false),
    ))
    .execute(conn)
}

/// Every certificate number that starts with `prefix` (for the next sequence number).
pub fn numbers_with_prefix(conn: &mut DbConnection, prefix: &str) -> QueryResult<Vec<String>> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    certifications::table
        .filter(certifications::number.like(pattern).escape('\\'))
        .select(certifications::number)
        .load(conn)
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub tier: Option<String>,
    pub district: Option<String>,
    pub cluster: Option<String>,
    pub active_on: Option<NaiveDate>,
    /// Issued in this calendar year.
    pub year: Option<i32>,
    pub enterprise_id: Option<i32>,
    pub only_enterprise: Option<i32>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<(Certification, String, String)>> {
    let mut q = certifications::table
        .inner_join(enterprises::table)
        .filter(certifications::id.gt(after))
        .into_boxed();
    if let Some(t) = &f.tier {
        q = q.filter(certifications::tier.eq(t.clone()));
    }
    if let Some(d) = &f.district {
        q = q.filter(enterprises::district_code.eq(d.clone()));
    }
    if let Some(c) = &f.cluster {
        q = q.filter(enterprises::cluster_code.eq(c.clone()));
    }
    if let Some(day) = f.active_on {
        q = q
            .filter(certifications::valid_from.le(day))
            .filter(certifications::valid_to.ge(day))
            .filter(
                certifications::revoked_on
                    .is_null()
                    .or(certifications::revoked_on.gt(day)),
            );
    }
    if let Some(y) = f.year
        && let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(y, 1, 1),
            NaiveDate::from_ymd_opt(y, 12, 31),
        )
    {
        q = q
            .filter(certifications::issued_on.ge(from))
            .filter(certifications::issued_on.le(to));
    }
    if let Some(e) = f.enterprise_id {
        q = q.filter(certifications::enterprise_id.eq(e));
    }
    if let Some(e) = f.only_enterprise {
        q = q.filter(certifications::enterprise_id.eq(e));
    }
    q.order(certifications::id)
        .limit(limit)
        .select((
            Certification::as_select(),
            enterprises::name,
            enterprises::uscc,
        ))
        .load(conn)
}

pub fn count_for_application(conn: &mut DbConnection, application_id: i32) -> QueryResult<i64> {
    certifications::table
        .filter(certifications::application_id.eq(application_id))
        .count()
        .get_result(conn)
}

/// Orders certificate numbering across processes: SQLite writers already hold the write
/// lock (`BEGIN IMMEDIATE`); on PostgreSQL a transaction-scoped advisory lock.
pub fn lock_numbering(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgres(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7212)").execute(conn)?;
    }
    Ok(())
}
