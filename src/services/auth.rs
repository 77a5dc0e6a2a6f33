//! Accounts and sessions: login with lockout, rotating refresh tokens with reuse detection,
//! logout, self-registration, API clients, and the JWT secret kept in the database.

use crate::db::{DbConnection, write_tx};
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::models::now;
use crate::models::token::{self as tokens, LoginFailure, NewRefreshToken};
use crate::models::user::{self as users, ApiClient, User};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

pub use crate::services::policy::{Caller, CallerKind};

fn parse_role(s: &str) -> AppResult<Role> {
    Role::parse(s)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown role {s:?} in the database")))
}

/// Resolves a token subject to a live caller; a disabled or deleted account is a 401.
pub fn load_caller(conn: &mut DbConnection, sub: &str) -> AppResult<Caller> {
    let unauthorized = || AppError::Unauthorized("account not found or disabled".into());
    let (kind, id) = sub.split_once(':').ok_or_else(unauthorized)?;
    let id: i32 = id.parse().map_err(|_| unauthorized())?;
    match kind {
        "u" => {
            let u = users::find(conn, id)?
                .filter(|u| !u.disabled)
                .ok_or_else(unauthorized)?;
            Ok(Caller {
                kind: CallerKind::User,
                id,
                role: parse_role(&u.role)?,
                enterprise_id: u.enterprise_id,
                name: u.username,
            })
        }
        "c" => {
            let c = users::find_client(conn, id)?
                .filter(|c| !c.disabled)
                .ok_or_else(unauthorized)?;
            Ok(Caller {
                kind: CallerKind::Client,
                id,
                role: parse_role(&c.role)?,
                enterprise_id: c.enterprise_id,
                name: c.client_id,
            })
        }
        _ => Err(unauthorized()),
    }
}

/// A random URL-safe token of 256 bits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The JWT secret: from the environment, or generated on first start and kept in the
/// database so every process on one database shares it. Never logged.
pub fn jwt_secret(conn: &mut DbConnection) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = tokens::setting(conn, "jwt_secret")? {
        return hex::decode(s).map_err(|e| anyhow::anyhow!("stored jwt secret: {e}"));
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let generated = hex::encode(bytes);
    // Another process may have won the race: whatever is stored now is the secret.
    let _ = write_tx(conn, |c| {
        tokens::insert_setting(c, "jwt_secret", &generated)
    });
    let stored = tokens::setting(conn, "jwt_secret")?.unwrap_or(generated);
    hex::decode(stored).map_err(|e| anyhow::anyhow!("stored jwt secret: {e}"))
}

pub fn normalize_username(u: &str) -> String {
    u.trim().to_lowercase()
}

/// The longest a failing (account, address) pair is slowed for.
pub const MAX_LOCKOUT_SECS: i64 = 86_400;

/// Failures of a pair are forgotten after this long without a new one.
pub const FAILURE_MEMORY_HOURS: i64 = 24;

/// Fails with 429 (and the seconds to wait) while this account is locked out *for this
/// address*. Failures from other addresses never refuse a login from this one.
pub fn check_lockout(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    now: chrono::NaiveDateTime,
) -> AppResult<()> {
    if let Some(f) = tokens::failure(conn, username, address)?
        && let Some(until) = f.locked_until
        && until > now
    {
        let secs = (until - now).num_seconds().max(1) as u64;
        return Err(AppError::TooManyRequests {
            retry_after_secs: secs,
        });
    }
    Ok(())
}

/// How long the `failures`-th failure of a pair locks it: nothing below `max`, then `base`,
/// doubling with every further failure, at most [`MAX_LOCKOUT_SECS`].
pub fn lockout_secs(failures: i32, max: i32, base: Duration) -> Option<i64> {
    if failures < max.max(1) {
        return None;
    }
    let base = i64::try_from(base.as_secs())
        .unwrap_or(MAX_LOCKOUT_SECS)
        .max(1);
    let doublings = u32::try_from(failures - max.max(1))
        .unwrap_or(u32::MAX)
        .min(20);
    Some(base.saturating_mul(1 << doublings).min(MAX_LOCKOUT_SECS))
}

/// Counts a failed login of `username` from `address` and writes it to the audit trail; past
/// `max` failures the pair is locked for a growing time ([`lockout_secs`]), which is audited
/// too. Returns the lockout in seconds when this failure started one.
pub fn record_failure(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    max: i32,
    base: Duration,
    now: chrono::NaiveDateTime,
) -> AppResult<Option<i64>> {
    write_tx(conn, |conn| {
        let existing = tokens::failure(conn, username, address)?;
        let exists = existing.is_some();
        let mut row = existing.unwrap_or(LoginFailure {
            username: username.into(),
            address: address.into(),
            failures: 0,
            window_start: now,
            locked_until: None,
        });
        if now - row.window_start > chrono::Duration::hours(FAILURE_MEMORY_HOURS) {
            row.failures = 0;
        }
        row.failures = row.failures.saturating_add(1);
        row.window_start = now;
        let lock = lockout_secs(row.failures, max, base);
        row.locked_until = lock.map(|s| now + chrono::Duration::seconds(s));
        tokens::save_failure(conn, &row, exists)?;
        let actor = format!("login:{address}");
        crate::services::audit::record::<(), _>(
            conn,
            &actor,
            "login.failed",
            "account",
            username,
            None,
            Some(&serde_json::json!({"address": address, "failures": row.failures})),
        )?;
        if let Some(secs) = lock {
            crate::services::audit::record::<(), _>(
                conn,
                &actor,
                "login.locked",
                "account",
                username,
                None,
                Some(
                    &serde_json::json!({"address": address, "failures": row.failures,
                    "retry_after_secs": secs}),
                ),
            )?;
        }
        Ok(lock)
    })
}

/// A correct password from `address` forgets that pair's failures (and only that pair's).
pub fn clear_failures(conn: &mut DbConnection, username: &str, address: &str) -> AppResult<()> {
    write_tx(conn, |c| {
        tokens::clear_failures(c, username, address)
            .map(|_| ())
            .map_err(AppError::from)
    })
}

/// Issues a new refresh token in a family (a new family at login).
pub fn issue_refresh(
    conn: &mut DbConnection,
    user_id: i32,
    family: Option<&str>,
    ttl: Duration,
) -> AppResult<String> {
    let token = random_token();
    let hash = sha256_hex(&token);
    let family = family
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let now = now();
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(14));
    tokens::insert(
        conn,
        &NewRefreshToken {
            user_id,
            family_id: &family,
            token_hash: &hash,
            expires_at,
            created_at: now,
        },
    )?;
    Ok(token)
}

/// Rotates a refresh token. Reusing one that was already rotated revokes its whole family.
/// Returns the user id and the new token.
pub fn rotate_refresh(
    conn: &mut DbConnection,
    presented: &str,
    ttl: Duration,
) -> AppResult<(i32, String)> {
    let invalid = || AppError::Unauthorized("invalid refresh token".into());
    let hash = sha256_hex(presented);
    let outcome = write_tx(conn, |conn| -> AppResult<Result<(i32, String), ()>> {
        let Some(t) = tokens::by_hash(conn, &hash)? else {
            return Ok(Err(()));
        };
        let now = now();
        if t.revoked_at.is_some() || t.expires_at <= now {
            return Ok(Err(()));
        }
        if t.rotated_at.is_some() || tokens::mark_rotated(conn, t.id, now)? == 0 {
            // Reuse of an old token: someone else may hold the family. Revoke it all.
            tokens::revoke_family(conn, &t.family_id, now)?;
            crate::services::audit::record::<(), _>(
                conn,
                &format!("user:{}", t.user_id),
                "refresh_token.reuse_detected",
                "user",
                t.user_id,
                None,
                Some(&serde_json::json!({"family": t.family_id})),
            )?;
            return Ok(Err(()));
        }
        let user = users::find(conn, t.user_id)?;
        if user.as_ref().is_none_or(|u| u.disabled) {
            return Ok(Err(()));
        }
        let new = issue_refresh(conn, t.user_id, Some(&t.family_id), ttl)?;
        Ok(Ok((t.user_id, new)))
    })?;
    outcome.map_err(|_| invalid())
}

pub fn logout(conn: &mut DbConnection, presented: &str, user_id: i32) -> AppResult<()> {
    let hash = sha256_hex(presented);
    write_tx(conn, |conn| {
        if let Some(t) = tokens::by_hash(conn, &hash)?
            && t.user_id == user_id
        {
            tokens::revoke_family(conn, &t.family_id, now())?;
        }
        Ok(())
    })
}

pub fn user_by_name(conn: &mut DbConnection, username: &str) -> AppResult<Option<User>> {
    Ok(users::by_username(conn, username)?)
}

pub fn client_by_id(conn: &mut DbConnection, client_id: &str) -> AppResult<Option<ApiClient>> {
    Ok(users::client_by_client_id(conn, client_id)?)
}
