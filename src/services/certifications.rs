//! Certifications: issuing one when an application is approved (numbering, validity, the
//! one-current rule), renewal eligibility, visibility, listing and revocation.

use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult};
use crate::models::application::Application;
use crate::models::certification::{self as rows, Certification, Filter, NewCertification};
use crate::models::now;
use crate::models::reference;
use crate::services::policy::{Action, Caller, Resource};
use chrono::{Datelike, Months, NaiveDate};

/// The last day of a title valid for `years` from `from`: `from + years − 1 day`.
pub fn valid_to(from: NaiveDate, years: i32) -> Option<NaiveDate> {
    let months = u32::try_from(years.max(1)).ok()?.checked_mul(12)?;
    from.checked_add_months(Months::new(months))?.pred_opt()
}

/// The next free number `SY-<prefix>-<year>-<seq>` (seq of four digits, or more once past 9999).
fn next_number(conn: &mut DbConnection, number_prefix: &str, year: i32) -> AppResult<String> {
    rows::lock_numbering(conn)?;
    let prefix = format!("SY-{number_prefix}-{year}-");
    let max = rows::numbers_with_prefix(conn, &prefix)?
        .iter()
        .filter_map(|n| n.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    Ok(format!("{prefix}{:04}", max + 1))
}

/// The title a renewal (复核) application rests on: the enterprise's current certification of
/// the tier, in force on `day` and expiring within a year of it.
pub fn renewal_basis(
    conn: &mut DbConnection,
    enterprise_id: i32,
    tier: &str,
    day: NaiveDate,
) -> AppResult<Option<Certification>> {
    let horizon = day.checked_add_months(Months::new(12)).unwrap_or(day);
    Ok(rows::current(conn, enterprise_id, tier)?
        .filter(|c| c.active_on(day) && c.valid_to <= horizon))
}

/// Issues the certification for an approved application, inside the caller's transaction.
/// A previous current title of the same enterprise and tier is retired from `is_current`
/// when it has expired or is being renewed; one still in force blocks a first application
/// (409). A renewal starts the day after the title it renews ends (or on the decision day if
/// that is later), so two titles of one tier are never in force on the same day.
pub fn issue(
    conn: &mut DbConnection,
    actor: &str,
    app: &Application,
    day: NaiveDate,
) -> AppResult<Certification> {
    let tier = reference::tier(conn, &app.tier)?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "application {} names unknown tier {}",
            app.id,
            app.tier
        ))
    })?;
    let mut valid_from = day;
    if let Some(prev) = rows::current(conn, app.enterprise_id, &app.tier)? {
        let expired = prev.valid_to < day;
        if !expired && !app.renewal {
            return Err(AppError::Conflict(format!(
                "the enterprise already holds certification {} of tier {} valid to {}; file a renewal application",
                prev.number, prev.tier, prev.valid_to
            )));
        }
        if app.renewal && !expired {
            valid_from = valid_from.max(prev.valid_to.succ_opt().unwrap_or(prev.valid_to));
        }
        rows::clear_current(conn, prev.id)?;
        let mut after = prev.clone();
        after.is_current = false;
        let action = if expired {
            "certification.expire"
        } else {
            "certification.supersede"
        };
        crate::services::audit::record(
            conn,
            actor,
            action,
            "certification",
            prev.id,
            Some(&prev),
            Some(&after),
        )?;
    }
    let valid_to = valid_to(valid_from, tier.validity_years).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "validity of tier {} overflows the calendar",
            tier.code
        ))
    })?;
    let number = next_number(conn, &tier.number_prefix, day.year())?;
    let id = rows::insert(
        conn,
        &NewCertification {
            enterprise_id: app.enterprise_id,
            tier: &app.tier,
            number: &number,
            issued_on: day,
            valid_from,
            valid_to,
            application_id: Some(app.id),
            ruleset_id: app.ruleset_id,
            batch: None,
            imported: false,
            is_current: true,
            created_at: now(),
            override_reason: app.override_reason.as_deref(),
        },
    )?;
    let cert = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    crate::services::audit::record::<(), _>(
        conn,
        actor,
        "certification.issue",
        "certification",
        id,
        None,
        Some(&cert),
    )?;
    Ok(cert)
}

/// A certification with its holder's name and credit code, if the caller may see it.
pub fn get_visible(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
) -> AppResult<(Certification, String, String)> {
    let found = rows::find_with_holder(conn, id)?.ok_or(AppError::NotFound)?;
    caller.may(
        Action::ReadEnterprise,
        &Resource::Enterprise(found.0.enterprise_id),
    )?;
    Ok(found)
}

pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    mut filter: Filter,
    after: i32,
    limit: i64,
) -> AppResult<Vec<(Certification, String, String)>> {
    if let Some(only) = caller.enterprise_scope() {
        filter.only_enterprise = Some(only);
    }
    Ok(rows::list(conn, &filter, after, limit)?)
}

/// Revokes a certification today with a reason (admins). Revoking twice is a 409.
pub fn revoke(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    reason: &str,
) -> AppResult<Certification> {
    caller.may(Action::RevokeCertification, &Resource::Any)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::field(
            "reason",
            "length",
            "a reason of 1–2000 characters is required",
        ));
    }
    write_tx(conn, |conn| {
        let before = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        if let Some(on) = before.revoked_on {
            return Err(AppError::Conflict(format!(
                "certification {} was already revoked on {on}",
                before.number
            )));
        }
        let day = crate::clock::today();
        if rows::revoke(conn, id, day, reason)? == 0 {
            return Err(AppError::Conflict(format!(
                "certification {} was revoked concurrently",
                before.number
            )));
        }
        let after = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        crate::services::audit::record(
            conn,
            &caller.actor(),
            "certification.revoke",
            "certification",
            id,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}
