//! The working-day calendar (`calendar_years`, `calendar_days`), objections, and the
//! application columns of publicity (公示).

use crate::db::DbConnection;
use crate::db::schema::{applications, calendar_days, calendar_years, enterprises, objections};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

pub const PUBLICIZED: &str = "publicized";
pub const OPEN: &str = "open";
pub const UPHELD: &str = "upheld";
pub const DISMISSED: &str = "dismissed";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = calendar_years, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CalendarYear {
    pub year: i32,
    pub source: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = calendar_days, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub year: i32,
    /// `holiday` (a day off) or `workday` (a make-up working day on a weekend).
    pub kind: String,
    pub name: String,
}

pub fn years(conn: &mut DbConnection) -> QueryResult<Vec<CalendarYear>> {
    calendar_years::table
        .order(calendar_years::year)
        .select(CalendarYear::as_select())
        .load(conn)
}

pub fn year(conn: &mut DbConnection, year: i32) -> QueryResult<Option<CalendarYear>> {
    calendar_years::table
        .find(year)
        .select(CalendarYear::as_select())
        .first(conn)
        .optional()
}

pub fn days_of(conn: &mut DbConnection, year: i32) -> QueryResult<Vec<CalendarDay>> {
    calendar_days::table
        .filter(calendar_days::year.eq(year))
        .order(calendar_days::day)
        .select(CalendarDay::as_select())
        .load(conn)
}

/// The listed days between two dates (inclusive).
pub fn days_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<CalendarDay>> {
    calendar_days::table
        .filter(calendar_days::day.ge(from))
        .filter(calendar_days::day.le(to))
        .select(CalendarDay::as_select())
        .load(conn)
}

/// Replaces a year of the calendar.
pub fn replace_year(
    conn: &mut DbConnection,
    row: &CalendarYear,
    days: &[CalendarDay],
) -> QueryResult<()> {
    diesel::delete(calendar_days::table.filter(calendar_days::year.eq(row.year))).execute(conn)?;
    diesel::delete(calendar_years::table.find(row.year)).execute(conn)?;
    diesel::insert_into(calendar_years::table)
        .values(row)
        .execute(conn)?;
    for d in days {
        diesel::insert_into(calendar_days::table)
            .values(d)
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = objections, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Objection {
    pub id: i32,
    pub application_id: i32,
    pub name: String,
    pub contact: String,
    pub text: String,
    pub address: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = objections)]
pub struct NewObjection<'a> {
    pub application_id: i32,
    pub name: &'a str,
    pub contact: &'a str,
    pub text: &'a str,
    pub address: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_objection(conn: &mut DbConnection, new: &NewObjection) -> QueryResult<i32> {
    diesel::insert_into(objections::table)
        .values(new)
        .returning(objections::id)
        .get_result(conn)
}

pub fn find_objection(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Objection>> {
    objections::table
        .find(id)
        .select(Objection::as_select())
        .first(conn)
        .optional()
}

pub fn list_objections(
    conn: &mut DbConnection,
    status: Option<&str>,
    application_id: Option<i32>,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<Objection>> {
    let mut q = objections::table
        .filter(objections::id.gt(after))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(objections::status.eq(s.to_string()));
    }
    if let Some(a) = application_id {
        q = q.filter(objections::application_id.eq(a));
    }
    q.order(objections::id)
        .limit(limit)
        .select(Objection::as_select())
        .load(conn)
}

/// Resolves an open objection; 0 when it was not open any more.
pub fn resolve_objection(
    conn: &mut DbConnection,
    id: i32,
    status: &str,
    resolution: &str,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        objections::table
            .find(id)
            .filter(objections::status.eq(OPEN)),
    )
    .set((
        objections::status.eq(status),
        objections::resolution.eq(resolution),
        objections::resolved_by.eq(by),
        objections::resolved_at.eq(at),
    ))
    .execute(conn)
}

/// Takes the application's row lock while it is under publicity on `day` (the period not yet
/// over): an objection and the issuing of the certificate cannot pass each other. 0 when the
/// application is not under publicity.
pub fn hold_under_publicity(
    conn: &mut DbConnection,
    id: i32,
    day: NaiveDate,
) -> QueryResult<usize> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::state.eq(PUBLICIZED))
            .filter(applications::publicity_to.ge(day)),
    )
    .set(applications::updated_at.eq(applications::updated_at))
    .execute(conn)
}

/// Starts publicity: the decision has just set `publicized`.
pub fn set_period(
    conn: &mut DbConnection,
    id: i32,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<usize> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::state.eq(PUBLICIZED)),
    )
    .set((
        applications::publicity_from.eq(from),
        applications::publicity_to.eq(to),
    ))
    .execute(conn)
}

/// Applications whose period ended before `day`, oldest first.
pub fn due(conn: &mut DbConnection, day: NaiveDate, limit: i64) -> QueryResult<Vec<i32>> {
    applications::table
        .filter(applications::state.eq(PUBLICIZED))
        .filter(applications::publicity_to.lt(day))
        .order(applications::id)
        .limit(limit)
        .select(applications::id)
        .load(conn)
}

/// The one conditional update that ends publicity: `publicized → approved`, only while the
/// period has ended before `day` and no objection is open or upheld. Whoever changes the row
/// issues the certificate; every other process (or thread) finds 0 rows.
pub fn end_publicity(
    conn: &mut DbConnection,
    id: i32,
    day: NaiveDate,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let blocking = objections::table
        .filter(objections::application_id.eq(id))
        .filter(objections::status.eq_any([OPEN, UPHELD]));
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::state.eq(PUBLICIZED))
            .filter(applications::publicity_to.lt(day))
            .filter(diesel::dsl::not(diesel::dsl::exists(blocking))),
    )
    .set((
        applications::state.eq(crate::models::application::APPROVED),
        applications::updated_at.eq(at),
    ))
    .execute(conn)
}

/// One row of the public list.
#[derive(Debug, Clone, Queryable)]
pub struct PublicRow {
    pub application_id: i32,
    pub name: String,
    pub uscc: String,
    pub district_code: String,
    pub tier: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

pub fn public_list(conn: &mut DbConnection) -> QueryResult<Vec<PublicRow>> {
    applications::table
        .inner_join(enterprises::table)
        .filter(applications::state.eq(PUBLICIZED))
        .order(applications::id)
        .select((
            applications::id,
            enterprises::name,
            enterprises::uscc,
            enterprises::district_code,
            applications::tier,
            applications::publicity_from,
            applications::publicity_to,
        ))
        .load(conn)
}
