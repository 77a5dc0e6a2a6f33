//! The in-app inbox: what concerns a user (submitted, assigned, decided, publicity,
//! objection, certified, expiring within 90 days). Each notice is written by the service that
//! makes the change, inside its transaction: a change and its notices commit together.

use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::models::application::Application;
use crate::models::certification::Certification;
use crate::models::notification::{self as rows, NewNotification, Notification};
use crate::models::now;
use crate::models::publicity::Objection;
use crate::services::policy::{Caller, CallerKind};
use chrono::NaiveDate;

/// Days before a title ends that its holder is told.
pub const EXPIRING_WITHIN_DAYS: u64 = 90;

struct Notice<'a> {
    kind: &'a str,
    application_id: Option<i32>,
    certification_id: Option<i32>,
    text_zh: String,
    text_en: String,
}

fn send(conn: &mut DbConnection, to: &[i32], n: &Notice) -> AppResult<()> {
    let at = now();
    let mut seen = std::collections::BTreeSet::new();
    for user in to.iter().filter(|u| seen.insert(**u)) {
        rows::insert(
            conn,
            &NewNotification {
                user_id: *user,
                kind: n.kind,
                application_id: n.application_id,
                certification_id: n.certification_id,
                text_zh: &n.text_zh,
                text_en: &n.text_en,
                created_at: at,
            },
        )?;
    }
    Ok(())
}

fn owners(conn: &mut DbConnection, app: &Application) -> AppResult<Vec<i32>> {
    Ok(rows::enterprise_users(conn, app.enterprise_id)?)
}

fn admins(conn: &mut DbConnection) -> AppResult<Vec<i32>> {
    Ok(rows::users_of_role(conn, "admin")?)
}

/// Submitted: the owner's accounts and the admins (who assign a reviewer).
pub fn submitted(conn: &mut DbConnection, app: &Application) -> AppResult<()> {
    let mut to = owners(conn, app)?;
    to.extend(admins(conn)?);
    send(
        conn,
        &to,
        &Notice {
            kind: "submitted",
            application_id: Some(app.id),
            certification_id: None,
            text_zh: format!(
                "申报 {}（{}）已提交，预审结果：{}",
                app.id,
                app.tier,
                app.prescreen_outcome.as_deref().unwrap_or("-")
            ),
            text_en: format!(
                "Application {} ({}) was submitted; pre-screen: {}",
                app.id,
                app.tier,
                app.prescreen_outcome.as_deref().unwrap_or("-")
            ),
        },
    )
}

/// Assigned: the reviewer and the owner.
pub fn assigned(conn: &mut DbConnection, app: &Application) -> AppResult<()> {
    let mut to = owners(conn, app)?;
    to.extend(app.reviewer_id);
    send(
        conn,
        &to,
        &Notice {
            kind: "assigned",
            application_id: Some(app.id),
            certification_id: None,
            text_zh: format!("申报 {}（{}）已分配评审", app.id, app.tier),
            text_en: format!(
                "Application {} ({}) was assigned for review",
                app.id, app.tier
            ),
        },
    )
}

/// Decided (approved, rejected, returned — and rejected on an upheld objection): the owner.
pub fn decided(conn: &mut DbConnection, app: &Application) -> AppResult<()> {
    let to = owners(conn, app)?;
    send(
        conn,
        &to,
        &Notice {
            kind: "decided",
            application_id: Some(app.id),
            certification_id: None,
            text_zh: format!("申报 {}（{}）审核结果：{}", app.id, app.tier, app.state),
            text_en: format!(
                "Application {} ({}) was decided: {}",
                app.id, app.tier, app.state
            ),
        },
    )
}

/// Publicity started: the owner.
pub fn publicity(
    conn: &mut DbConnection,
    app: &Application,
    from: NaiveDate,
    to_day: NaiveDate,
) -> AppResult<()> {
    let to = owners(conn, app)?;
    send(
        conn,
        &to,
        &Notice {
            kind: "publicity",
            application_id: Some(app.id),
            certification_id: None,
            text_zh: format!(
                "申报 {}（{}）进入公示期：{from} 至 {to_day}",
                app.id, app.tier
            ),
            text_en: format!(
                "Application {} ({}) is under publicity from {from} to {to_day}",
                app.id, app.tier
            ),
        },
    )
}

/// An objection was filed: the admins.
pub fn objection_filed(conn: &mut DbConnection, o: &Objection) -> AppResult<()> {
    let to = admins(conn)?;
    send(
        conn,
        &to,
        &Notice {
            kind: "objection",
            application_id: Some(o.application_id),
            certification_id: None,
            text_zh: format!("申报 {} 收到公示异议 {}", o.application_id, o.id),
            text_en: format!(
                "Objection {} was filed against application {}",
                o.id, o.application_id
            ),
        },
    )
}

/// An objection was resolved: the owner.
pub fn objection_resolved(
    conn: &mut DbConnection,
    app: &Application,
    o: &Objection,
) -> AppResult<()> {
    let to = owners(conn, app)?;
    send(
        conn,
        &to,
        &Notice {
            kind: "objection",
            application_id: Some(app.id),
            certification_id: None,
            text_zh: format!("公示异议 {} 已处理：{}", o.id, o.status),
            text_en: format!(
                "Objection {} to application {} was resolved: {}",
                o.id, app.id, o.status
            ),
        },
    )
}

/// A certificate issued: the owner.
pub fn certified(conn: &mut DbConnection, app: &Application, c: &Certification) -> AppResult<()> {
    let to = owners(conn, app)?;
    send(
        conn,
        &to,
        &Notice {
            kind: "certified",
            application_id: Some(app.id),
            certification_id: Some(c.id),
            text_zh: format!(
                "证书 {} 已颁发，有效期 {} 至 {}",
                c.number, c.valid_from, c.valid_to
            ),
            text_en: format!(
                "Certificate {} issued, valid {} to {}",
                c.number, c.valid_from, c.valid_to
            ),
        },
    )
}

/// Titles ending within 90 days of `day`, each noticed once (run by the tick).
pub fn expiring(conn: &mut DbConnection, day: NaiveDate) -> AppResult<usize> {
    let until = day
        .checked_add_days(chrono::Days::new(EXPIRING_WITHIN_DAYS))
        .unwrap_or(day);
    let due = rows::expiring_unnoticed(conn, day, until)?;
    for (id, enterprise_id, tier, number, valid_to) in &due {
        let to = rows::enterprise_users(conn, *enterprise_id)?;
        // Written even without an account, so the title is noticed once.
        let to = if to.is_empty() { admins(conn)? } else { to };
        send(
            conn,
            &to,
            &Notice {
                kind: "expiring",
                application_id: None,
                certification_id: Some(*id),
                text_zh: format!("证书 {number}（{tier}）将于 {valid_to} 到期，可申请复核"),
                text_en: format!(
                    "Certificate {number} ({tier}) ends on {valid_to}; a renewal may be filed"
                ),
            },
        )?;
    }
    Ok(due.len())
}

pub fn inbox(
    conn: &mut DbConnection,
    caller: &Caller,
    unread_only: bool,
    after: i32,
    limit: i64,
) -> AppResult<Vec<Notification>> {
    if caller.kind != CallerKind::User {
        return Ok(Vec::new());
    }
    Ok(rows::of_user(conn, caller.id, unread_only, after, limit)?)
}

/// Marks one of the caller's notices read (404 for anyone else's).
pub fn mark_read(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<Notification> {
    let n = rows::find(conn, id)?
        .filter(|n| caller.kind == CallerKind::User && n.user_id == caller.id)
        .ok_or(AppError::NotFound)?;
    rows::mark_read(conn, id, now())?;
    rows::find(conn, n.id)?.ok_or(AppError::NotFound)
}
