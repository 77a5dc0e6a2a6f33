//! `/users` and `/clients`: admin-only account management.

use crate::auth::AuthUser;
use crate::auth::password::Hashing;
use crate::db::DbPool;
use crate::domain::Role;
use crate::error::AppResult;
use crate::routes::{Json, Page, Paged, db};
use crate::services::users::{self as svc, ClientView, UserView};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub enterprise_id: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// A new password (reset); revokes the user's refresh tokens.
    pub password: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::double_option")]
    #[schema(value_type = Option<i32>)]
    pub enterprise_id: Option<Option<i32>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub role: Option<Role>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    #[validate(length(min = 1, max = 100, message = "1–100 characters"))]
    pub name: String,
    pub role: Role,
    pub enterprise_id: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: ClientView,
    /// Shown once; only its hash is kept.
    pub client_secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub disabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    pub items: Vec<ClientView>,
    pub next_cursor: Option<String>,
}

/// Create a user.
///
/// An admin creates an account with a role (and an enterprise for enterprise accounts); the
/// password must meet the length rules. Audited.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_user(
    pool: web::Data<DbPool>,
    hashing: web::Data<Hashing>,
    user: AuthUser,
    Json(body): Json<CreateUser>,
) -> AppResult<HttpResponse> {
    let (u, p, r, e) = (
        body.username.clone(),
        body.password.clone(),
        body.role,
        body.enterprise_id,
    );
    let caller = user.0;
    let check = caller.clone();
    let name = db(&pool, move |c| svc::check_new_user(c, &check, &u, &p, r, e)).await?;
    let hash = hashing.hash(body.password).await?;
    let created = db(&pool, move |c| {
        svc::create_user(c, &caller, &name, &hash, body.role, body.enterprise_id)
    })
    .await?;
    Ok(HttpResponse::Created().json(UserView::from(&created)))
}

/// List users.
///
/// Admins list accounts with their role, enterprise and whether they are disabled; paginated.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = UserList)), security(("bearer" = [])))]
pub async fn list_users(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let (role, caller) = (q.role, user.0);
    let rows = db(&pool, move |c| {
        svc::list_users(c, &caller, page.after, page.fetch(), role)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |u| u.id,
        |u| UserView::from(&u),
    )))
}

/// Get a user.
///
/// An admin reads one account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i32, Path)),
    responses((status = 200, body = UserView), (status = 404)), security(("bearer" = [])))]
pub async fn get_user(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let u = db(&pool, move |c| svc::get_user(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(&u)))
}

/// Update a user.
///
/// An admin disables or enables an account, changes its role or resets its password; a disabled
/// account's tokens stop working. Audited.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i32, Path)), request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_user(
    pool: web::Data<DbPool>,
    hashing: web::Data<Hashing>,
    user: AuthUser,
    id: web::Path<i32>,
    Json(body): Json<UpdateUser>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    svc::check_user_update(&caller, body.password.as_deref())?;
    let hash = match body.password {
        Some(p) => Some(hashing.hash(p).await?),
        None => None,
    };
    let u = db(&pool, move |c| {
        svc::update_user(
            c,
            &caller,
            id,
            body.role,
            body.disabled,
            hash,
            body.enterprise_id,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserView::from(&u)))
}

/// Create an API client.
///
/// An admin creates a machine account with a role; the `client_secret` is shown once in this
/// response and never stored in clear.
#[utoipa::path(post, path = "/api/v1/clients", tag = "users", request_body = CreateClient,
    responses((status = 201, body = CreatedClient), (status = 422)), security(("bearer" = [])))]
pub async fn create_client(
    pool: web::Data<DbPool>,
    hashing: web::Data<Hashing>,
    user: AuthUser,
    Json(body): Json<CreateClient>,
) -> AppResult<HttpResponse> {
    let caller = user.0;
    let check = caller.clone();
    let (role, enterprise_id) = (body.role, body.enterprise_id);
    db(&pool, move |c| {
        svc::check_new_client(c, &check, role, enterprise_id)
    })
    .await?;
    validator::Validate::validate(&body)?;
    let name = body.name.trim().to_string();
    let secret = crate::services::auth::random_token();
    let hash = hashing.hash(secret.clone()).await?;
    let c = db(&pool, move |c| {
        svc::create_client(c, &caller, &name, role, enterprise_id, &hash)
    })
    .await?;
    Ok(HttpResponse::Created().json(CreatedClient {
        client: ClientView::from(&c),
        client_secret: secret,
    }))
}

/// List API clients.
///
/// Admins list machine accounts (never their secrets).
#[utoipa::path(get, path = "/api/v1/clients", tag = "users", params(ListQuery),
    responses((status = 200, body = ClientList)), security(("bearer" = [])))]
pub async fn list_clients(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let caller = user.0;
    let rows = db(&pool, move |c| {
        svc::list_clients(c, &caller, page.after, page.fetch())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |c| c.id,
        |c| ClientView::from(&c),
    )))
}

/// Update an API client.
///
/// An admin disables or enables a machine account or changes its role. Audited.
#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "users", params(("id" = i32, Path)), request_body = UpdateClient,
    responses((status = 200, body = ClientView), (status = 404)), security(("bearer" = [])))]
pub async fn update_client(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
    Json(body): Json<UpdateClient>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let c = db(&pool, move |c| {
        svc::set_client_disabled(c, &caller, id, body.disabled)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ClientView::from(&c)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/users")
            .route(web::post().to(create_user))
            .route(web::get().to(list_users)),
    );
    cfg.service(
        web::resource("/users/{id}")
            .route(web::get().to(get_user))
            .route(web::patch().to(update_user)),
    );
    cfg.service(
        web::resource("/clients")
            .route(web::post().to(create_client))
            .route(web::get().to(list_clients)),
    );
    cfg.service(web::resource("/clients/{id}").route(web::patch().to(update_client)));
}
