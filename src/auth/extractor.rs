//! The guard: a handler that takes [`AuthUser`] is protected. A missing, malformed, forged
//! or expired token is a 401, never "anonymous"; the account is re-read on every request so
//! a disabled user or a changed role takes effect at once.

use crate::auth::jwt::Keys;
use crate::db::DbPool;
use crate::error::AppError;
use crate::services::auth::{Caller, load_caller};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

#[derive(Debug, Clone)]
pub struct AuthUser(pub Caller);

impl std::ops::Deref for AuthUser {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::Unauthorized("an Authorization: Bearer token is required".into())
        })?;
    let value = header
        .to_str()
        .map_err(|_| AppError::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AppError::Unauthorized("malformed Authorization header".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::Unauthorized("expected a Bearer token".into()));
    }
    Ok(token.trim().to_string())
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<AuthUser, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let keys = req.app_data::<web::Data<Keys>>().cloned();
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        Box::pin(async move {
            let token = token?;
            let (Some(keys), Some(pool)) = (keys, pool) else {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "auth state not configured"
                )));
            };
            let claims = keys.verify(&token)?;
            // A short read: on SQLite's worker thread when a connection is free.
            let caller = crate::routes::read(&pool, move |c| load_caller(c, &claims.sub)).await?;
            Ok(AuthUser(caller))
        })
    }
}
