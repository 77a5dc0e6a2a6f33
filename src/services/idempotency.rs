//! Idempotent POSTs: a request carrying an `Idempotency-Key` runs once per caller and key.
//! Its first successful response (status and body) is kept; a retry with the same request
//! gets that response back and changes nothing, and the same key on a different request is
//! refused. Where a service can, the key is reserved and the response stored in the very
//! transaction that makes the change ([`run`]), so a crash can never leave one without the
//! other and two concurrent retries cannot both act.

use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult};
use crate::models::idempotency::{self as rows, NewKey};
use crate::models::now;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A request that carries an `Idempotency-Key`, scoped to its caller.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The token subject (`u:7`, `c:2`): keys of different callers never meet.
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
pub fn check(conn: &mut DbConnection, ctx: &Ctx) -> AppResult<Seen> {
    match rows::find(conn, &ctx.actor, &ctx.key)? {
        None => Ok(Seen::New),
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
    match write_tx(conn, |c| rows::insert(c, &new)) {
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
