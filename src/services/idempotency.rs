//! Idempotent POSTs: a request carrying an `Idempotency-Key` runs once per caller and key.
//! Its first successful response (status and body) is kept; a retry with the same request
//! gets that response back and changes nothing, and the same key on a different request is
//! refused. Where a service can, the key is reserved and the response stored in the very
//! transaction that makes the change ([`run`]), so a crash can never leave one without the
//! other and two concurrent retries cannot both act.
//!
//! Keys are scoped to the caller *as it is now*: its token subject, role and enterprise
//! ([`scope`]), so a caller who was demoted or moved since finds no key and runs the request
//! afresh, through the same authorization as any request (403); a disabled caller is refused
//! (401) before any key is looked at. Keys expire after [`TTL_HOURS`]. No kept response holds
//! a secret: secret-bearing members (`client_secret`, tokens, passwords) are removed before a
//! response is stored ([`redact`]), so a replay of `POST /clients` answers the client without
//! its `client_secret`.

use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult};
use crate::models::idempotency::{self as rows, NewKey};
use crate::models::now;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long a key is kept: a retry after that runs as a new request.
pub const TTL_HOURS: i64 = 24;

/// Members never kept in a stored response.
pub const SECRET_MEMBERS: [&str; 5] = [
    "client_secret",
    "access_token",
    "refresh_token",
    "password",
    "secret",
];

/// The scope of a caller's keys: subject, role and enterprise as loaded now.
pub fn scope(caller: &crate::services::policy::Caller) -> String {
    format!(
        "{}|{}|{}",
        caller.subject(),
        caller.role,
        caller
            .enterprise_id
            .map_or_else(|| "-".to_string(), |e| e.to_string())
    )
}

/// A response body with every secret-bearing member removed (at any depth).
pub fn redact(body: &str) -> String {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| !SECRET_MEMBERS.contains(&k.as_str()));
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut v) => {
            strip(&mut v);
            v.to_string()
        }
        // Not JSON: nothing we can vouch for, so nothing is kept.
        Err(_) => String::new(),
    }
}

fn expired(created_at: chrono::NaiveDateTime) -> bool {
    now() - created_at > chrono::Duration::hours(TTL_HOURS)
}

/// A request that carries an `Idempotency-Key`, scoped to its caller ([`scope`]).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The caller's [`scope`] (`u:7|admin|-`): keys of different callers never meet.
    pub actor: String,
    pub key: String,
    pub method: String,
    pub path: String,
    /// SHA-256 over method, path, query and body bytes.
    pub hash: String,
}

impl Ctx {
    pub fn new(
        actor: String,
        key: String,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
    ) -> Ctx {
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(b" ");
        h.update(path.as_bytes());
        h.update(b"?");
        h.update(query.as_bytes());
        h.update(b"\n");
        h.update(body);
        Ctx {
            actor,
            key,
            method: method.to_string(),
            path: path.to_string(),
            hash: hex::encode(h.finalize()),
        }
    }
}

/// A response kept for a key.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// What a key has seen before.
#[derive(Debug)]
pub enum Seen {
    New,
    Replay(Stored),
}

/// Checks a key: new, a replay of the same request, or (an error) reuse on another request.
/// An expired key is forgotten and counts as new.
pub fn check(conn: &mut DbConnection, ctx: &Ctx) -> AppResult<Seen> {
    match rows::find(conn, &ctx.actor, &ctx.key)? {
        None => Ok(Seen::New),
        Some(row) if expired(row.created_at) => {
            write_tx(conn, |c| rows::delete(c, &ctx.actor, &ctx.key))?;
            Ok(Seen::New)
        }
        Some(row) if row.request_hash != ctx.hash => Err(reused(&row.method, &row.path)),
        Some(row) => Ok(Seen::Replay(Stored {
            status: u16::try_from(row.status).unwrap_or(200),
            body: row.body,
        })),
    }
}

fn reused(method: &str, path: &str) -> AppError {
    AppError::field(
        "Idempotency-Key",
        "key_reused",
        format!(
            "this Idempotency-Key was already used for a different request ({method} {path}); use a new key"
        ),
    )
}

/// Validates the header value: 1–255 visible ASCII characters.
pub fn validate_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::field(
            "Idempotency-Key",
            "invalid",
            "1–255 visible ASCII characters",
        ));
    }
    Ok(())
}

/// Keeps a response for a key after the fact (for handlers that do not use [`run`]). A key
/// already stored by a concurrent twin is left as it is.
pub fn store(conn: &mut DbConnection, ctx: &Ctx, status: u16, body: &str) -> AppResult<()> {
    let body = &redact(body);
    let new = NewKey {
        actor: &ctx.actor,
        key: &ctx.key,
        method: &ctx.method,
        path: &ctx.path,
        request_hash: &ctx.hash,
        status: i32::from(status),
        body,
        created_at: now(),
    };
    let cutoff = now() - chrono::Duration::hours(TTL_HOURS);
    match write_tx(conn, |c| {
        rows::delete_before(c, cutoff)?;
        rows::insert(c, &new)
    }) {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The result of [`run`]: the fresh value, or the response a previous twin stored.
#[derive(Debug)]
pub enum Outcome<T> {
    Fresh(T),
    Replay(Stored),
}

enum TxError {
    Taken,
    App(AppError),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::App(e.into())
    }
}

/// Runs `f` (which makes the change and returns the response body) in one write
/// transaction together with the key: reserved first, so a concurrent twin waits on it and
/// then replays; completed with `status` and the body at the end. Without a key it simply
/// runs `f`. Errors are not kept: nothing happened, so a retry may run again.
pub fn run<T: Serialize>(
    conn: &mut DbConnection,
    ctx: Option<&Ctx>,
    status: u16,
    f: impl FnOnce(&mut DbConnection) -> AppResult<T>,
) -> AppResult<Outcome<T>> {
    let Some(ctx) = ctx else {
        return f(conn).map(Outcome::Fresh);
    };
    let result = write_tx(conn, |c| -> Result<T, TxError> {
        let reserve = NewKey {
            actor: &ctx.actor,
            key: &ctx.key,
            method: &ctx.method,
            path: &ctx.path,
            request_hash: &ctx.hash,
            status: 0,
            body: "",
            created_at: now(),
        };
        match rows::insert(c, &reserve) {
            Ok(_) => {}
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                return Err(TxError::Taken);
            }
            Err(e) => return Err(e.into()),
        }
        let value = f(c).map_err(TxError::App)?;
        let body = serde_json::to_string(&value)
            .map_err(|e| TxError::App(AppError::Internal(e.into())))?;
        let body = redact(&body);
        rows::complete(c, &ctx.actor, &ctx.key, i32::from(status), &body)?;
        Ok(value)
    });
    match result {
        Ok(v) => Ok(Outcome::Fresh(v)),
        Err(TxError::App(e)) => Err(e),
        Err(TxError::Taken) => match check(conn, ctx)? {
            Seen::Replay(stored) => Ok(Outcome::Replay(stored)),
            Seen::New => Err(AppError::Conflict(
                "a request with this Idempotency-Key was in progress; retry".into(),
            )),
        },
    }
}
