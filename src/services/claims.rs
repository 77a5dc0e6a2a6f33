//! Claims: a sign-up whose credit code is already in the registry (imported, say) with no
//! owning account. The account is created without an enterprise; an admin lists the pending
//! claims and approves (the account then owns the enterprise) or rejects them.

use crate::db::{DbConnection, write_tx};
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::models::claim::{self as rows, Claim, NewClaim};
use crate::models::now;
use crate::models::user as users;
use crate::services::policy::{Action, Caller, Resource};

/// Records a pending claim of `user_id` on `enterprise_id` (inside the registration's
/// transaction) and audits it.
pub fn open_in_tx(
    conn: &mut DbConnection,
    actor: &str,
    enterprise_id: i32,
    user_id: i32,
    name: &str,
    district_code: &str,
) -> AppResult<Claim> {
    let id = rows::insert(
        conn,
        &NewClaim {
            enterprise_id,
            user_id,
            name,
            district_code,
            status: rows::PENDING,
            created_at: now(),
        },
    )?;
    let claim = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    crate::services::audit::record::<(), _>(
        conn,
        actor,
        "claim.create",
        "claim",
        id,
        None,
        Some(&claim),
    )?;
    Ok(claim)
}

/// A page of claims, optionally of one status (admins).
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    status: Option<&str>,
    after: i32,
    limit: i64,
) -> AppResult<Vec<Claim>> {
    caller.may(Action::DecideClaims, &Resource::Any)?;
    if let Some(s) = status
        && ![rows::PENDING, rows::APPROVED, rows::REJECTED].contains(&s)
    {
        return Err(AppError::field(
            "status",
            "enum",
            "pending, approved or rejected",
        ));
    }
    Ok(rows::list(conn, status, after, limit)?)
}

/// Approves (the account then owns the enterprise) or rejects a pending claim (admins).
/// A claim that is no longer pending is a 409; so is approving one for an enterprise that
/// found an owner in the meantime.
pub fn decide(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    approve: bool,
    comment: Option<&str>,
) -> AppResult<Claim> {
    caller.may(Action::DecideClaims, &Resource::Any)?;
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 2000) {
        return Err(AppError::field(
            "comment",
            "length",
            "at most 2000 characters",
        ));
    }
    let actor = caller.actor();
    write_tx(conn, |conn| {
        let before = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        if before.status != rows::PENDING {
            return Err(AppError::Conflict(format!(
                "claim {id} is already {}",
                before.status
            )));
        }
        let status = if approve {
            rows::APPROVED
        } else {
            rows::REJECTED
        };
        if approve {
            let owners = users::owners_of(conn, before.enterprise_id)?;
            if !owners.is_empty() {
                return Err(AppError::Conflict(format!(
                    "enterprise {} already has an owning account",
                    before.enterprise_id
                )));
            }
            let user = users::find(conn, before.user_id)?.ok_or(AppError::NotFound)?;
            if user.role != Role::Enterprise.as_str() || user.enterprise_id.is_some() {
                return Err(AppError::Conflict(format!(
                    "account {} is no longer an enterprise account without an enterprise",
                    before.user_id
                )));
            }
            crate::services::users::link_enterprise_in_tx(
                conn,
                &actor,
                before.user_id,
                before.enterprise_id,
            )?;
        }
        if rows::decide(conn, id, status, &actor, comment, now())? == 0 {
            return Err(AppError::Conflict(format!(
                "claim {id} was decided concurrently"
            )));
        }
        let after = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        crate::services::audit::record(
            conn,
            &actor,
            if approve {
                "claim.approve"
            } else {
                "claim.reject"
            },
            "claim",
            id,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}
