//! Publicity (公示): an approval of a tier with `publicity_days > 0` is published for that
//! many working days before its certificate issues. The working-day calendar is data
//! (China's statutory holidays and make-up working days, per year, extendable by admins).
//! The public may object while the period runs; an admin resolves each objection (upheld →
//! the application is rejected). When the period has ended with no open or upheld
//! objection, the certificate issues, dated the first day after the period — by the
//! background job of `ladder serve` or by `ladder tick`, exactly once however many
//! processes try: the one conditional update `publicized → approved` decides who issues.

use crate::db::{DbConnection, write_tx};
use crate::domain::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::models::application::{self as app_rows, Application, NewEvent};
use crate::models::now;
use crate::models::publicity::{
    self as rows, CalendarDay, CalendarYear, DISMISSED, NewObjection, OPEN, Objection, PublicRow,
    UPHELD,
};
use crate::models::reference::{self, Tier};
use crate::services::audit;
use crate::services::policy::Caller;
use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::BTreeMap;

/// Working days of publicity when a tier does not say otherwise.
pub const DEFAULT_DAYS: i32 = 5;
/// The longest period an admin may set.
pub const MAX_DAYS: i32 = 30;
/// Who ends publicity in the audit trail.
pub const SYSTEM_ACTOR: &str = "system:publicity";

fn admin_only(caller: &Caller) -> AppResult<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden("admins only".into()))
    }
}

/// `PATCH /tiers/{code}`: the tier's publicity period, 0..=30 working days (admins).
pub fn set_tier_days(
    conn: &mut DbConnection,
    caller: &Caller,
    code: &str,
    days: i32,
) -> AppResult<Tier> {
    admin_only(caller)?;
    if !(0..=MAX_DAYS).contains(&days) {
        return Err(AppError::field(
            "publicity_days",
            "range",
            format!("between 0 and {MAX_DAYS} working days"),
        ));
    }
    write_tx(conn, |conn| {
        let before = reference::tier(conn, code)?.ok_or(AppError::NotFound)?;
        reference::set_publicity_days(conn, code, days)?;
        audit::record(
            conn,
            &caller.actor(),
            "tier.publicity_days",
            "tier",
            code,
            Some(&serde_json::json!({"publicity_days": before.publicity_days})),
            Some(&serde_json::json!({"publicity_days": days})),
        )?;
        reference::tier(conn, code)?.ok_or(AppError::NotFound)
    })
}

/// The working days between two dates as the calendar knows them: listed holidays are off,
/// listed make-up days are worked, other days follow the week.
pub struct Calendar {
    listed: BTreeMap<NaiveDate, bool>,
}

impl Calendar {
    /// The calendar from `from` on, for `span` days.
    pub fn load(conn: &mut DbConnection, from: NaiveDate, span: u64) -> AppResult<Calendar> {
        let to = from
            .checked_add_days(chrono::Days::new(span))
            .unwrap_or(NaiveDate::MAX);
        let listed = rows::days_between(conn, from, to)?
            .into_iter()
            .map(|d| (d.day, d.kind == "workday"))
            .collect();
        Ok(Calendar { listed })
    }

    pub fn is_working(&self, day: NaiveDate) -> bool {
        self.listed
            .get(&day)
            .copied()
            .unwrap_or(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
    }

    /// The period of `days` working days starting on `start` (or the first working day after
    /// it): its first and last working day.
    pub fn period(&self, start: NaiveDate, days: u32) -> Option<(NaiveDate, NaiveDate)> {
        let mut day = start;
        let mut first = None;
        let mut counted = 0;
        // A year of days off would be an absurd calendar; stop rather than loop.
        for _ in 0..400 {
            if self.is_working(day) {
                first.get_or_insert(day);
                counted += 1;
                if counted == days {
                    return first.map(|f| (f, day));
                }
            }
            day = day.succ_opt()?;
        }
        None
    }
}

/// The publicity period an approval on `day` starts, or `None` when the tier has none
/// (`publicity_days = 0`: the certificate issues at approval).
pub fn period_for(
    conn: &mut DbConnection,
    tier: &str,
    day: NaiveDate,
) -> AppResult<Option<(NaiveDate, NaiveDate)>> {
    let tier = reference::tier(conn, tier)?.ok_or(AppError::NotFound)?;
    let Ok(days @ 1..) = u32::try_from(tier.publicity_days) else {
        return Ok(None);
    };
    let cal = Calendar::load(conn, day, 400)?;
    cal.period(day, days).map(Some).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "no {days} working days within 400 days of {day}"
        ))
    })
}

/// A year of the calendar, as `GET /calendar/{year}` shows it.
pub struct YearView {
    pub year: CalendarYear,
    pub days: Vec<CalendarDay>,
}

pub fn calendar(conn: &mut DbConnection, year: i32) -> AppResult<YearView> {
    let row = rows::year(conn, year)?.ok_or(AppError::NotFound)?;
    Ok(YearView {
        days: rows::days_of(conn, year)?,
        year: row,
    })
}

pub fn calendar_years(conn: &mut DbConnection) -> AppResult<Vec<CalendarYear>> {
    Ok(rows::years(conn)?)
}

/// One day of a year an admin puts.
pub struct DayInput {
    pub date: NaiveDate,
    pub kind: String,
    pub name: String,
}

/// `PUT /calendar/{year}` (admins): the year's days off and make-up working days, with the
/// notice they come from; replaces the year if it was there.
pub fn put_calendar(
    conn: &mut DbConnection,
    caller: &Caller,
    year: i32,
    source: &str,
    days: Vec<DayInput>,
) -> AppResult<YearView> {
    admin_only(caller)?;
    let mut errors = Vec::new();
    if !(2000..=2100).contains(&year) {
        errors.push(FieldError::new("year", "range", "between 2000 and 2100"));
    }
    let source = source.trim();
    if source.is_empty() || source.chars().count() > 500 {
        errors.push(FieldError::new(
            "source",
            "length",
            "the notice the days come from, 1–500 characters",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, d) in days.iter().enumerate() {
        if d.date.year() != year {
            errors.push(FieldError::new(
                format!("days[{i}].date"),
                "wrong_year",
                format!("{} is not in {year}", d.date),
            ));
        }
        if d.kind != "holiday" && d.kind != "workday" {
            errors.push(FieldError::new(
                format!("days[{i}].kind"),
                "enum",
                "holiday or workday",
            ));
        }
        let name = d.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new(
                format!("days[{i}].name"),
                "length",
                "1–200 characters",
            ));
        }
        if !seen.insert(d.date) {
            errors.push(FieldError::new(
                format!("days[{i}].date"),
                "duplicate",
                format!("{} is listed twice", d.date),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let row = CalendarYear {
        year,
        source: source.to_string(),
        created_by: caller.actor(),
        created_at: now(),
    };
    let days: Vec<CalendarDay> = days
        .into_iter()
        .map(|d| CalendarDay {
            day: d.date,
            year,
            kind: d.kind,
            name: d.name.trim().to_string(),
        })
        .collect();
    write_tx(conn, |conn| {
        let before = rows::year(conn, year)?;
        rows::replace_year(conn, &row, &days)?;
        audit::record(
            conn,
            &caller.actor(),
            "calendar.put",
            "calendar",
            year,
            before.as_ref(),
            Some(&serde_json::json!({"year": year, "source": row.source, "days": days})),
        )?;
        calendar(conn, year)
    })
}

/// The applications under publicity now (`GET /public/publicity`, no sign-in).
pub fn public_list(conn: &mut DbConnection) -> AppResult<Vec<PublicRow>> {
    Ok(rows::public_list(conn)?)
}

/// An objection from the public.
pub struct ObjectionInput {
    pub name: String,
    pub contact: String,
    pub text: String,
}

fn check_len(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        errors.push(FieldError::new(
            field,
            "length",
            format!("1–{max} characters"),
        ));
    }
}

/// Files an objection to an application under publicity (404 otherwise: not published, or
/// its period is over). Kept verbatim; the admins are told.
pub fn object(
    conn: &mut DbConnection,
    application_id: i32,
    input: &ObjectionInput,
    address: &str,
) -> AppResult<Objection> {
    let mut errors = Vec::new();
    check_len(&mut errors, "name", &input.name, 100);
    check_len(&mut errors, "contact", &input.contact, 200);
    check_len(&mut errors, "text", &input.text, 5000);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let day = crate::clock::today();
    write_tx(conn, |conn| {
        if rows::hold_under_publicity(conn, application_id, day)? == 0 {
            return Err(AppError::NotFound);
        }
        let id = rows::insert_objection(
            conn,
            &NewObjection {
                application_id,
                name: &input.name,
                contact: &input.contact,
                text: &input.text,
                address,
                status: OPEN,
                created_at: now(),
            },
        )?;
        let row = rows::find_objection(conn, id)?.ok_or(AppError::NotFound)?;
        audit::record::<(), _>(
            conn,
            "public",
            "objection.create",
            "objection",
            id,
            None,
            Some(&row),
        )?;
        crate::services::notifications::objection_filed(conn, &row)?;
        Ok(row)
    })
}

pub fn objections(
    conn: &mut DbConnection,
    caller: &Caller,
    status: Option<&str>,
    application_id: Option<i32>,
    after: i32,
    limit: i64,
) -> AppResult<Vec<Objection>> {
    admin_only(caller)?;
    if let Some(s) = status
        && ![OPEN, UPHELD, DISMISSED].contains(&s)
    {
        return Err(AppError::field(
            "status",
            "enum",
            "one of open, upheld, dismissed",
        ));
    }
    Ok(rows::list_objections(
        conn,
        status,
        application_id,
        after,
        limit,
    )?)
}

fn event(
    conn: &mut DbConnection,
    id: i32,
    from: &str,
    to: &str,
    actor: &str,
    comment: &str,
) -> AppResult<()> {
    app_rows::insert_event(
        conn,
        &NewEvent {
            application_id: id,
            from_state: Some(from),
            to_state: to,
            actor,
            comment: Some(comment),
            at: now(),
        },
    )?;
    Ok(())
}

/// Resolves an open objection (admins). Upheld: the application under publicity is
/// `rejected` and no certificate issues. Dismissed: the period runs on (and if it has ended,
/// the next tick issues).
pub fn resolve(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    upheld: bool,
    comment: &str,
) -> AppResult<Objection> {
    admin_only(caller)?;
    let comment = comment.trim();
    if comment.is_empty() || comment.chars().count() > 4000 {
        return Err(AppError::field(
            "comment",
            "length",
            "a comment of 1–4000 characters is required",
        ));
    }
    write_tx(conn, |conn| {
        let before = rows::find_objection(conn, id)?.ok_or(AppError::NotFound)?;
        if before.status != OPEN {
            return Err(AppError::Conflict(format!(
                "objection {id} is already {}",
                before.status
            )));
        }
        let actor = caller.actor();
        let status = if upheld { UPHELD } else { DISMISSED };
        if rows::resolve_objection(conn, id, status, comment, &actor, now())? == 0 {
            return Err(AppError::Conflict(format!(
                "objection {id} was resolved concurrently"
            )));
        }
        let after = rows::find_objection(conn, id)?.ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            &actor,
            "objection.resolve",
            "objection",
            id,
            Some(&before),
            Some(&after),
        )?;
        let app = app_rows::find(conn, before.application_id)?.ok_or(AppError::NotFound)?;
        if upheld
            && app_rows::move_state(
                conn,
                app.id,
                app_rows::PUBLICIZED,
                app_rows::REJECTED,
                now(),
            )? == 1
        {
            let note = format!("objection {id} upheld: {comment}");
            event(
                conn,
                app.id,
                app_rows::PUBLICIZED,
                app_rows::REJECTED,
                &actor,
                &note,
            )?;
            let rejected = app_rows::find(conn, app.id)?.ok_or(AppError::NotFound)?;
            audit::record(
                conn,
                &actor,
                "application.reject_on_objection",
                "application",
                app.id,
                Some(&app),
                Some(&rejected),
            )?;
            crate::services::notifications::decided(conn, &rejected)?;
        }
        crate::services::notifications::objection_resolved(conn, &app, &after)?;
        Ok(after)
    })
}

/// Ends the publicity of every application whose period ended before `day` with no open or
/// upheld objection, issuing its certificate dated the first day after the period. Each one
/// in its own transaction, decided by one conditional update: run it from as many processes
/// as you like, each certificate issues once. Returns the applications it ended.
pub fn issue_due(conn: &mut DbConnection, day: NaiveDate) -> AppResult<Vec<i32>> {
    let mut done = Vec::new();
    for id in rows::due(conn, day, 1000)? {
        let issued = write_tx(conn, |conn| -> AppResult<bool> {
            if rows::end_publicity(conn, id, day, now())? == 0 {
                return Ok(false);
            }
            let app = app_rows::find(conn, id)?.ok_or(AppError::NotFound)?;
            let Some(to) = app.publicity_to else {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "application {id} was under publicity without a period"
                )));
            };
            let issue_on = to.succ_opt().unwrap_or(to);
            event(
                conn,
                id,
                app_rows::PUBLICIZED,
                app_rows::APPROVED,
                SYSTEM_ACTOR,
                &format!(
                    "publicity {} → {to} ended without objection",
                    app.publicity_from.unwrap_or(to)
                ),
            )?;
            let mut before = app.clone();
            before.state = app_rows::PUBLICIZED.into();
            audit::record(
                conn,
                SYSTEM_ACTOR,
                "application.publicity_end",
                "application",
                id,
                Some(&before),
                Some(&app),
            )?;
            let cert = crate::services::certifications::issue(conn, SYSTEM_ACTOR, &app, issue_on)?;
            crate::services::notifications::certified(conn, &app, &cert)?;
            Ok(true)
        });
        match issued {
            Ok(true) => done.push(id),
            Ok(false) => {}
            Err(e) => tracing::warn!(application = id, error = %e, "publicity could not end"),
        }
    }
    Ok(done)
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct TickReport {
    /// Certificates issued at the end of their publicity.
    pub issued: usize,
    /// Titles newly noticed as ending within 90 days.
    pub expiring: usize,
}

/// One run of the periodic work, on today's date: end the publicity periods that are over
/// (issuing certificates) and notice the titles about to end.
pub fn tick(conn: &mut DbConnection) -> AppResult<TickReport> {
    let day = crate::clock::today();
    let issued = issue_due(conn, day)?.len();
    let expiring = write_tx(conn, |conn| {
        crate::services::notifications::expiring(conn, day)
    })?;
    Ok(TickReport { issued, expiring })
}

/// The application under publicity, as its owner and reviewers see it.
pub fn period_of(app: &Application) -> Option<(NaiveDate, NaiveDate)> {
    app.publicity_from.zip(app.publicity_to)
}
