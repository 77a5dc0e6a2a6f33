//! `Idempotency-Key` over HTTP: a middleware for every `POST /api/v1/…` except `/auth/*`,
//! and the pieces handlers use to keep the response in their own transaction.
//!
//! The middleware reads the key, loads the caller afresh (a disabled account is a 401 before
//! any key is looked at), scopes the key to the caller's subject, role and enterprise as they
//! are now (`services::idempotency::scope`: a demoted caller finds nothing to replay and runs
//! the request through the usual checks) and hashes the request.
//! A key seen before replays the kept response (`Idempotent-Replayed: true`) or, on a
//! different request, answers 422. A new key travels to the handler as [`Idem`]; handlers
//! built on `services::idempotency::run` reserve and fill it inside their own transaction.
//! For the others the middleware keeps a 2xx response once the handler is done.

use crate::auth::jwt::Keys;
use crate::db::DbPool;
use crate::error::AppError;
use crate::services::idempotency::{self as svc, Ctx, Outcome, Seen, Stored};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use std::future::{Ready, ready};

pub const HEADER: &str = "Idempotency-Key";

/// Marks a response whose key was already stored in the handler's transaction.
#[derive(Debug, Clone, Copy)]
struct StoredInTx;

fn applies(req: &ServiceRequest) -> bool {
    req.method() == Method::POST
        && req.path().starts_with("/api/v1/")
        && !req.path().starts_with("/api/v1/auth/")
        // Uploads stream (a kept response could not hold their body), and the same content is
        // stored once anyway.
        && !req.path().ends_with("/attachments")
}

/// The caller's token subject, when the request carries a valid token (else the handler's
/// guard answers 401 and there is nothing to keep).
fn subject(req: &ServiceRequest) -> Option<String> {
    let keys = req.app_data::<web::Data<Keys>>()?;
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    keys.verify(token.trim()).ok().map(|c| c.sub)
}

/// A replayed response: the kept status and body.
pub fn replay(stored: Stored) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut b = HttpResponse::build(status);
    b.insert_header(("Idempotent-Replayed", "true"));
    if stored.body.is_empty() {
        b.finish()
    } else {
        b.content_type("application/json").body(stored.body)
    }
}

/// The response for a handler that ran through `services::idempotency::run`.
pub fn respond<T: Serialize>(status: StatusCode, outcome: Outcome<T>, idem: &Idem) -> HttpResponse {
    match outcome {
        Outcome::Fresh(v) => {
            let mut resp = HttpResponse::build(status).json(v);
            if idem.0.is_some() {
                resp.extensions_mut().insert(StoredInTx);
            }
            resp
        }
        Outcome::Replay(stored) => {
            let mut resp = replay(stored);
            resp.extensions_mut().insert(StoredInTx);
            resp
        }
    }
}

/// The request's key context, if it carried an `Idempotency-Key` seen for the first time.
#[derive(Debug, Clone, Default)]
pub struct Idem(pub Option<Ctx>);

impl FromRequest for Idem {
    type Error = AppError;
    type Future = Ready<Result<Idem, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Idem(req.extensions().get::<Ctx>().cloned())))
    }
}

fn fail(req: ServiceRequest, e: AppError) -> ServiceResponse<BoxBody> {
    let resp = e.error_response();
    req.into_response(resp)
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().map(str::to_string));
    let (Some(key), true) = (key, applies(&req)) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Without a valid token the handler's guard answers 401 (before any key check).
    let Some(sub) = subject(&req) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(pool) = req.app_data::<web::Data<DbPool>>().cloned() else {
        return Ok(fail(
            req,
            AppError::Internal(anyhow::anyhow!("no database pool")),
        ));
    };
    // The caller as it is now: disabled → 401 like any request; its role is in the scope.
    let actor = match crate::routes::db(&pool, move |c| crate::services::auth::load_caller(c, &sub))
        .await
    {
        Ok(caller) => svc::scope(&caller),
        Err(e) => return Ok(fail(req, e)),
    };
    let Ok(key) = key else {
        return Ok(fail(
            req,
            AppError::field(HEADER, "invalid", "1–255 visible ASCII characters"),
        ));
    };
    if let Err(e) = svc::validate_key(&key) {
        return Ok(fail(req, e));
    }
    let body = match req.extract::<web::Bytes>().await {
        Ok(b) => b,
        Err(_) => return Ok(fail(req, AppError::PayloadTooLarge)),
    };
    let ctx = Ctx::new(
        actor,
        key,
        req.method().as_str(),
        req.path(),
        req.query_string(),
        &body,
    );
    req.set_payload(Payload::from(body));
    let check = ctx.clone();
    match crate::routes::db(&pool, move |c| svc::check(c, &check)).await {
        Err(e) => return Ok(fail(req, e)),
        Ok(Seen::Replay(stored)) => return Ok(req.into_response(replay(stored))),
        Ok(Seen::New) => {}
    }
    req.extensions_mut().insert(ctx.clone());
    let res = next.call(req).await?;
    if !res.status().is_success() || res.response().extensions().get::<StoredInTx>().is_some() {
        return Ok(res.map_into_boxed_body());
    }
    // A handler that does not keep the key itself: keep its response now.
    let (req, resp) = res.into_parts();
    let (head, body) = resp.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        return Ok(fail(
            ServiceRequest::from_request(req),
            AppError::Internal(anyhow::anyhow!("could not read the response body")),
        ));
    };
    let status = head.status().as_u16();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Err(e) = crate::routes::db(&pool, move |c| svc::store(c, &ctx, status, &text)).await {
        tracing::warn!(error = %e, "could not keep an idempotent response");
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(BoxBody::new(bytes)),
    ))
}
