//! `/auth/*` and `/me`: sign-in, token refresh and rotation, logout, self-registration,
//! the client-credentials grant.

use crate::auth::AuthUser;
use crate::auth::jwt::Keys;
use crate::auth::limit::AuthLimiter;
use crate::auth::password::Hashing;
use crate::config::Config;
use crate::db::DbPool;
use crate::error::{AppError, AppResult, FieldError};
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
    crate::auth::limit::client_ip(req).map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
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
    limiter: web::Data<AuthLimiter>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    limiter.check(&req)?;
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
    limiter: web::Data<AuthLimiter>,
    req: HttpRequest,
    Json(body): Json<RegisterRequest>,
) -> AppResult<HttpResponse> {
    limiter.check(&req)?;
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
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body(content = ClientCredentialsRequest, content_type = "application/x-www-form-urlencoded",
        description = "also accepted as application/json; the credentials may come as HTTP Basic instead"),
    responses((status = 200, body = TokenResponse),
              (status = 400, description = "RFC 6749 `invalid_request` or `unsupported_grant_type` (the `error` member)"),
              (status = 401, description = "RFC 6749 `invalid_client`"),
              (status = 429, description = "too many requests from this address; see Retry-After")))]
pub async fn token(
    pool: web::Data<DbPool>,
    keys: web::Data<Keys>,
    hashing: web::Data<Hashing>,
    limiter: web::Data<AuthLimiter>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    limiter.check(&req)?;
    let request = client_credentials(&req, &body)?;
    let basic = request.basic;
    let cid = request.client_id.clone();
    let client = db(&pool, move |c| svc::client_by_id(c, &cid)).await?;
    let ok = hashing
        .verify(
            request.client_secret,
            client.as_ref().map(|c| c.secret_hash.clone()),
        )
        .await?;
    match client {
        Some(c) if ok && !c.disabled => Ok(HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(TokenResponse {
                access_token: keys.issue(format!("c:{}", c.id))?,
                token_type: "Bearer",
                expires_in: keys.ttl_secs(),
                refresh_token: None,
            })),
        _ => Err(oauth(
            "invalid_client",
            "invalid client credentials",
            None,
            basic,
        )),
    }
}

/// A client-credentials request, whichever way it came.
struct ClientCredentials {
    client_id: String,
    client_secret: String,
    /// The credentials came as HTTP Basic.
    basic: bool,
}

/// The token request's fields; form and JSON bodies share it. Every field is optional here so
/// that a missing one is answered in RFC 6749's terms (`invalid_request`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFields {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Accepted and ignored: a client's role decides what its tokens may do.
    #[allow(dead_code)]
    scope: Option<String>,
}

fn oauth(code: &'static str, detail: &str, field: Option<&str>, basic: bool) -> AppError {
    AppError::OAuth(Box::new(crate::error::OAuthError {
        code,
        detail: detail.to_string(),
        fields: field
            .map(|f| vec![FieldError::new(f, code, detail)])
            .unwrap_or_default(),
        basic,
    }))
}

/// Reads a token request the ways RFC 6749 §4.4 and §2.3.1 allow: the credentials in the
/// `application/x-www-form-urlencoded` body, or in an `Authorization: Basic` header (each of
/// id and secret form-urlencoded, then joined by `:` and base64-encoded), and, as before,
/// a JSON body. Using both Basic and body credentials is refused (§2.3).
fn client_credentials(req: &HttpRequest, body: &[u8]) -> AppResult<ClientCredentials> {
    use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
    let mime = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let fields: TokenFields = match mime.as_str() {
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(body).map_err(|e| {
            let message = e.to_string();
            let field = message
                .split("unknown field `")
                .nth(1)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_string);
            oauth(
                "invalid_request",
                &format!("the form body cannot be read: {message}"),
                field.as_deref(),
                false,
            )
        })?,
        m if m == "application/json" || m.ends_with("+json") => crate::routes::parse_json(body)
            .map_err(|e| match e {
                AppError::Validation(fields) => {
                    AppError::OAuth(Box::new(crate::error::OAuthError {
                        code: "invalid_request",
                        detail: "the JSON body does not match the token request".into(),
                        fields,
                        basic: false,
                    }))
                }
                other => oauth("invalid_request", &other.problem().detail, None, false),
            })?,
        _ => {
            return Err(oauth(
                "invalid_request",
                "send the token request as application/x-www-form-urlencoded (or application/json)",
                Some("Content-Type"),
                false,
            ));
        }
    };
    let basic = match req.headers().get(AUTHORIZATION) {
        None => None,
        Some(v) => Some(basic_credentials(v.as_bytes()).ok_or_else(|| {
            oauth(
                "invalid_client",
                "the Authorization header is not HTTP Basic with base64 of id:secret",
                None,
                true,
            )
        })?),
    };
    match fields.grant_type.as_deref() {
        Some("client_credentials") => {}
        None => {
            return Err(oauth(
                "invalid_request",
                "grant_type is required",
                Some("grant_type"),
                false,
            ));
        }
        Some(_) => {
            return Err(oauth(
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
                Some("grant_type"),
                false,
            ));
        }
    }
    match (basic, fields.client_id, fields.client_secret) {
        (Some((client_id, client_secret)), None, None) => Ok(ClientCredentials {
            client_id,
            client_secret,
            basic: true,
        }),
        (Some(_), _, _) => Err(oauth(
            "invalid_request",
            "send the client credentials either as HTTP Basic or in the body, not both",
            None,
            true,
        )),
        (None, Some(client_id), Some(client_secret)) => Ok(ClientCredentials {
            client_id,
            client_secret,
            basic: false,
        }),
        (None, id, _) => Err(oauth(
            "invalid_client",
            "no client authentication: send HTTP Basic or client_id and client_secret",
            Some(if id.is_none() {
                "client_id"
            } else {
                "client_secret"
            }),
            false,
        )),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` → (id, secret); `None` when malformed.
fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    use base64::Engine;
    let text = std::str::from_utf8(header).ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |part: &str| -> Option<String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={part}")).ok()?;
        pairs.into_iter().next().map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
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
