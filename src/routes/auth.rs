//! `/auth/*` and `/me`: sign-in, token refresh and rotation, logout, self-registration,
//! the client-credentials grant.

use crate::auth::AuthUser;
use crate::auth::jwt::Keys;
use crate::auth::password::Hashing;
use crate::config::Config;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};
use crate::routes::{Json, db};
use crate::services::auth as svc;
use crate::services::enterprises::NewEnterpriseInput;
use crate::services::users::Registered;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    /// 统一社会信用代码, 18 characters with a valid check character.
    pub uscc: String,
    pub name: String,
    pub district_code: String,
    pub cluster_code: Option<String>,
    pub founded_on: Option<chrono::NaiveDate>,
    pub niche_entered_on: Option<chrono::NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCredentialsRequest {
    /// Must be `client_credentials`.
    pub grant_type: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: i32,
    /// `user` or `client`.
    pub kind: String,
    pub username: String,
    pub role: crate::domain::Role,
    pub enterprise: Option<crate::routes::enterprises::EnterpriseResponse>,
}

/// The address failed logins are counted against: the TCP peer (a proxy's forwarding headers
/// are not trusted, so a client cannot pick another address to dodge its lockout).
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string())
}

fn bad_credentials() -> AppError {
    AppError::Unauthorized("invalid username or password".into())
}

async fn issue_tokens(
    pool: &web::Data<DbPool>,
    keys: &Keys,
    config: &Config,
    user_id: i32,
) -> AppResult<TokenResponse> {
    let ttl = config.refresh_ttl;
    let refresh = db(pool, move |c| svc::issue_refresh(c, user_id, None, ttl)).await?;
    Ok(TokenResponse {
        access_token: keys.issue(format!("u:{user_id}"))?,
        token_type: "Bearer",
        expires_in: keys.ttl_secs(),
        refresh_token: Some(refresh),
    })
}

/// Sign in with a password.
///
/// Exchanges a username and password for a short-lived access token (JWT, Bearer) and a refresh
/// token. Wrong credentials answer 401 without saying which part was wrong; repeated failures are
/// slowed with 429 and `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "unknown user or wrong password (indistinguishable)"),
              (status = 429, description = "too many failed attempts; see Retry-After")))]
pub async fn login(
    pool: web::Data<DbPool>,
    keys: web::Data<Keys>,
    config: web::Data<Config>,
    hashing: web::Data<Hashing>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let address = client_address(&req);
    let username = svc::normalize_username(&body.username);
    if username.is_empty() || username.len() > 128 || body.password.len() > 1024 {
        return Err(bad_credentials());
    }
    let (name, addr) = (username.clone(), address.clone());
    let user = db(&pool, move |c| {
        svc::check_lockout(c, &name, &addr, crate::models::now())?;
        svc::user_by_name(c, &name)
    })
    .await?;
    let ok = hashing
        .verify(
            body.password,
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    match user {
        Some(u) if ok && !u.disabled => {
            let name = username.clone();
            db(&pool, move |c| svc::clear_failures(c, &name, &address)).await?;
            Ok(HttpResponse::Ok().json(issue_tokens(&pool, &keys, &config, u.id).await?))
        }
        _ => {
            let (max, lockout) = (config.max_failed_logins, config.lockout);
            db(&pool, move |c| {
                svc::record_failure(c, &username, &address, max, lockout, crate::models::now())
            })
            .await?;
            Err(bad_credentials())
        }
    }
}

/// Rotate a refresh token.
///
/// Exchanges a refresh token for a new access token and a new refresh token. Reusing a refresh
/// token that was already rotated revokes its whole family (a stolen token stops working for
/// everyone).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "invalid, expired or reused token (reuse revokes the family)")))]
pub async fn refresh(
    pool: web::Data<DbPool>,
    keys: web::Data<Keys>,
    config: web::Data<Config>,
    Json(body): Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let ttl = config.refresh_ttl;
    let (user_id, token) = db(&pool, move |c| {
        svc::rotate_refresh(c, &body.refresh_token, ttl)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: keys.issue(format!("u:{user_id}"))?,
        token_type: "Bearer",
        expires_in: keys.ttl_secs(),
        refresh_token: Some(token),
    }))
}

/// Sign out.
///
/// Revokes the given refresh token of the signed-in caller; the access token expires on its own.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "the refresh token's family is revoked")), security(("bearer" = [])))]
pub async fn logout(
    pool: web::Data<DbPool>,
    user: AuthUser,
    Json(body): Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let id = user.id;
    db(&pool, move |c| svc::logout(c, &body.refresh_token, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new account's tokens and the id of its new enterprise.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredResponse {
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// The enterprise created with the account (unverified until an admin verifies it).
    pub enterprise_id: i32,
}

/// A sign-up for a company already in the registry with no account: waiting for an admin.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimPending {
    /// `GET /api/v1/claims` lists it for admins.
    pub claim_id: i32,
}

/// Sign up an enterprise.
///
/// Creates the account and its enterprise (unverified) and answers 201 with the tokens and
/// `enterprise_id`. When the credit code is already in the registry and no account owns it
/// (an imported company, say), the account is created without an enterprise and a pending
/// claim is opened instead: 202 `{claim_id}`; an admin approves or rejects it
/// (`POST /api/v1/claims/{id}/approve`). A taken username and a credit code that already has
/// an account get the same 409 body.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = RegisteredResponse), (status = 202, body = ClaimPending, description = "a pending claim on an enterprise already registered"),
              (status = 409, description = "username or credit code taken (one body for both)"), (status = 422, description = "invalid field"),
              (status = 429, description = "too many requests from this address; see Retry-After")))]
pub async fn register(
    pool: web::Data<DbPool>,
    keys: web::Data<Keys>,
    config: web::Data<Config>,
    hashing: web::Data<Hashing>,
    Json(body): Json<RegisterRequest>,
) -> AppResult<HttpResponse> {
    let input = NewEnterpriseInput {
        uscc: body.uscc,
        name: body.name,
        district_code: body.district_code,
        cluster_code: body.cluster_code,
        founded_on: body.founded_on,
        niche_entered_on: body.niche_entered_on,
        verified: false,
    };
    // Check every field before spending a hash.
    let (username, password) = (body.username, body.password);
    let checked = {
        let (u, p, i) = (username.clone(), password.clone(), input.clone());
        db(&pool, move |c| {
            let mut errors = Vec::new();
            let name = crate::services::users::check_username(&u)
                .map_err(|e| errors.push(e))
                .ok();
            if let Err(e) = crate::services::users::check_password(&p) {
                errors.push(e);
            }
            match crate::services::enterprises::check_new(c, &i, "") {
                Ok(_) => {}
                Err(AppError::Validation(mut e)) => errors.append(&mut e),
                Err(other) => return Err(other),
            }
            match name {
                Some(n) if errors.is_empty() => Ok(n),
                _ => Err(AppError::Validation(errors)),
            }
        })
        .await?
    };
    let hash = hashing.hash(password).await?;
    let registered = db(&pool, move |c| {
        crate::services::users::register(c, &checked, &hash, &input)
    })
    .await?;
    Ok(match registered {
        Registered::Account(user, enterprise) => HttpResponse::Created().json(RegisteredResponse {
            tokens: issue_tokens(&pool, &keys, &config, user.id).await?,
            enterprise_id: enterprise.id,
        }),
        Registered::Claim(_, claim) => {
            HttpResponse::Accepted().json(ClaimPending { claim_id: claim.id })
        }
    })
}

/// Client-credentials token.
///
/// API clients obtain an access token with `grant_type=client_credentials` (RFC 6749 §4.4), as a
/// form body, with HTTP Basic client authentication (§2.3.1), or as JSON. Errors carry the RFC
/// 6749 `error` code in the problem document.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = ClientCredentialsRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "invalid client")))]
pub async fn token(
    pool: web::Data<DbPool>,
    keys: web::Data<Keys>,
    hashing: web::Data<Hashing>,
    Json(body): Json<ClientCredentialsRequest>,
) -> AppResult<HttpResponse> {
    if body.grant_type != "client_credentials" {
        return Err(AppError::field(
            "grant_type",
            "unsupported",
            "only client_credentials is supported",
        ));
    }
    let cid = body.client_id.clone();
    let client = db(&pool, move |c| svc::client_by_id(c, &cid)).await?;
    let ok = hashing
        .verify(
            body.client_secret,
            client.as_ref().map(|c| c.secret_hash.clone()),
        )
        .await?;
    match client {
        Some(c) if ok && !c.disabled => Ok(HttpResponse::Ok().json(TokenResponse {
            access_token: keys.issue(format!("c:{}", c.id))?,
            token_type: "Bearer",
            expires_in: keys.ttl_secs(),
            refresh_token: None,
        })),
        _ => Err(AppError::Unauthorized("invalid client credentials".into())),
    }
}

/// The signed-in caller.
///
/// The caller's id, username, role and enterprise (for enterprise accounts).
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = MeResponse)), security(("bearer" = [])))]
pub async fn me(pool: web::Data<DbPool>, user: AuthUser) -> AppResult<HttpResponse> {
    let caller = user.0.clone();
    let enterprise = match caller.enterprise_id {
        Some(id) => db(&pool, move |c| Ok(crate::models::enterprise::find(c, id)?)).await?,
        None => None,
    };
    Ok(HttpResponse::Ok().json(MeResponse {
        id: caller.id,
        kind: match caller.kind {
            svc::CallerKind::User => "user".into(),
            svc::CallerKind::Client => "client".into(),
            svc::CallerKind::System => "system".into(),
        },
        username: caller.name,
        role: caller.role,
        enterprise: enterprise.map(Into::into),
    }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(login)));
    cfg.service(web::resource("/auth/refresh").route(web::post().to(refresh)));
    cfg.service(web::resource("/auth/logout").route(web::post().to(logout)));
    cfg.service(web::resource("/auth/register").route(web::post().to(register)));
    cfg.service(web::resource("/auth/token").route(web::post().to(token)));
    cfg.service(web::resource("/me").route(web::get().to(me)));
}
