//! HTTP: handlers, wire types and the helpers they share. Handlers extract, validate, call
//! a service on a blocking thread and shape the response.

pub mod applications;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod certifications;
pub mod claims;
pub mod enterprises;
pub mod evaluations;
pub mod idempotency;
pub mod officials;
pub mod pages;
pub mod publicity;
pub mod quotas;
pub mod reference;
pub mod rulesets;
pub mod system;
pub mod users;

use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult, FieldError};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// Request bodies above this size get 413.
pub const MAX_BODY: usize = 1 << 20;

/// Runs `f` with a pooled connection on the blocking pool: diesel is synchronous.
pub async fn db<T, F>(pool: &web::Data<DbPool>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Runs a short read: on SQLite with a connection free, here on the actix worker (a
/// primary-key read takes microseconds, less than handing it to the blocking pool and back,
/// two thread wake-ups); otherwise (PostgreSQL, whose check-out and read are network round
/// trips, or no SQLite connection free) on the blocking pool as [`db`] does. For point reads
/// only: never a write (SQLite's write queue would block the worker), nothing that scans.
pub async fn read<T, F>(pool: &web::Data<DbPool>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
{
    if crate::db::reads_inline(pool)
        && let Some(mut conn) = pool.try_get()
    {
        return f(&mut conn);
    }
    db(pool, f).await
}

/// A JSON body: 1 MiB at most, unknown fields refused, and every problem named by its path
/// (`facts.rd_expense`), as a problem document.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Json<T>, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::BadRequest(
                    "expected Content-Type: application/json".into(),
                ));
            }
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest(format!("could not read the body: {e}"))
                }
            })?;
            parse_json(&bytes).map(Json)
        })
    }
}

/// Parses JSON with the path of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    match parsed {
        Ok(v) => {
            de.end()
                .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
            reject_nul_in_json(bytes)?;
            Ok(v)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Data => {
                    let msg = inner.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    let (field, code) = if let Some(name) = between(&msg, "unknown field `", "`") {
                        (field_path(&path, &name), "unknown_field")
                    } else if let Some(name) = between(&msg, "missing field `", "`") {
                        (field_path(&path, &name), "required")
                    } else {
                        (
                            if path == "." {
                                "body".to_string()
                            } else {
                                path
                            },
                            "type",
                        )
                    };
                    Err(AppError::Validation(vec![FieldError::new(
                        field, code, msg,
                    )]))
                }
                _ => Err(AppError::BadRequest(format!("malformed JSON: {inner}"))),
            }
        }
    }
}

/// Text may not carry NUL (U+0000): PostgreSQL cannot store it (it answered 500) and no
/// field has a use for it. JSON can only spell it `\u0000`, so the full walk runs only when
/// that appears in the body.
fn reject_nul_in_json(bytes: &[u8]) -> AppResult<()> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    fn find(v: &serde_json::Value, path: &str) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => Some(path.to_string()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| find(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
                let p = join_path(path, k);
                if k.contains('\0') {
                    Some(p)
                } else {
                    find(x, &p)
                }
            }),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    match find(&value, "") {
        Some(field) => Err(AppError::field(
            if field.is_empty() {
                "body".to_string()
            } else {
                field
            },
            "nul_character",
            "text may not contain NUL (U+0000)",
        )),
        None => Ok(()),
    }
}

/// Middleware: a query string that decodes to NUL (U+0000) is refused with 422 (field
/// `query`) before any handler sees it (PostgreSQL cannot compare text with NUL in it: it
/// answered 500).
pub async fn reject_nul_query(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.query_string().to_ascii_lowercase().contains("%00") {
        return Err(AppError::field(
            "query",
            "nul_character",
            "the query string may not contain NUL (%00)",
        )
        .into());
    }
    next.call(req).await
}

/// The Content-Security-Policy of `/docs`: Swagger UI's own scripts and styles from this
/// service, its inline style attributes and `data:` icons; nothing from anywhere else (the
/// online spec validator is switched off in its config, and `connect-src 'self'` would stop it).
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// An error raised by an inner middleware, answered with the security headers added (the
/// request is gone by then, so the headers travel with the error).
#[derive(Debug)]
struct Secured {
    inner: actix_web::Error,
    docs: bool,
}

impl std::fmt::Display for Secured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl actix_web::ResponseError for Secured {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut res = self.inner.error_response();
        add_security_headers(res.headers_mut(), self.docs);
        res
    }
}

fn add_security_headers(headers: &mut actix_web::http::header::HeaderMap, docs: bool) {
    use actix_web::http::header::{self, HeaderValue};
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if docs && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
    }
}

/// Middleware, outermost: `X-Content-Type-Options: nosniff` on every response (errors raised by
/// inner middleware included), and the CSP on `/docs`.
pub async fn security_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    match next.call(req).await {
        Ok(mut res) => {
            add_security_headers(res.headers_mut(), docs);
            Ok(res)
        }
        Err(inner) => Err(Secured { inner, docs }.into()),
    }
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_string())
}

/// The field a serde error names: serde_path_to_error's path already ends with an unknown
/// key (it was read before being refused) but not with a missing one (it never came), so
/// the name is added only where the path does not end with it.
fn field_path(path: &str, name: &str) -> String {
    if path.rsplit('.').next() == Some(name) {
        path.to_string()
    } else {
        join_path(path, name)
    }
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Query and path extractor errors in the same problem shape.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let msg = err.to_string();
    let field =
        between(&msg, "unknown field `", "`").or_else(|| between(&msg, "missing field `", "`"));
    match field {
        Some(f) => AppError::Validation(vec![FieldError::new(f, "query", msg)]).into(),
        None => AppError::BadRequest(format!("bad query string: {msg}")).into(),
    }
}

pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::BadRequest(format!("bad path parameter: {err}")).into()
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

/// `?limit=&cursor=`: default 50, max 500; the cursor is an opaque token for the last id seen.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub after: i32,
    pub limit: i64,
}

impl Page {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> AppResult<Page> {
        let limit = limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(AppError::field(
                "limit",
                "range",
                "limit must be between 1 and 500",
            ));
        }
        let after = match cursor {
            None | Some("") => 0,
            Some(c) => decode_cursor(c).ok_or_else(|| {
                AppError::field("cursor", "invalid", "not a cursor this service issued")
            })?,
        };
        Ok(Page { after, limit })
    }

    /// Asks for one more row than the page to know whether a next page exists.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

pub fn encode_cursor(id: i32) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("after:{id}"))
}

fn decode_cursor(c: &str) -> Option<i32> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("after:")?.parse().ok()
}

/// `{items, next_cursor}`.
#[derive(Debug, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// Builds a page from `limit + 1` rows; `id` gives each row's cursor key.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        page: Page,
        id: impl Fn(&R) -> i32,
        map: impl Fn(R) -> T,
    ) -> Paged<T> {
        let more = rows.len() as i64 > page.limit;
        rows.truncate(page.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Paged {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

/// The value of `If-Match`, required for updates.
pub fn if_match(req: &HttpRequest) -> AppResult<String> {
    req.headers()
        .get(actix_web::http::header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or(AppError::PreconditionRequired)
}

/// Parses a `YYYY-MM-DD` query value, naming the parameter when it is wrong.
pub fn parse_date(field: &str, value: &str) -> AppResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| AppError::field(field, "date", "expected a date as YYYY-MM-DD"))
}

/// Mounts every resource under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Before certifications::routes: `/certifications/import` must win over `/certifications/{id}`.
    cfg.configure(quotas::routes);
    cfg.configure(officials::routes);
    cfg.configure(auth::routes)
        .configure(users::routes)
        .configure(reference::routes)
        .configure(enterprises::routes)
        .configure(evaluations::routes)
        .configure(rulesets::routes);
    cfg.configure(applications::routes);
    cfg.configure(attachments::routes);
    cfg.configure(publicity::routes);
    cfg.configure(certifications::routes);
    cfg.configure(audit::routes);
    cfg.configure(claims::routes);
}
