//! User and API-client management, and enterprise self-registration.

use crate::db::{DbConnection, write_tx};
use crate::domain::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::models::enterprise::Enterprise;
use crate::models::now;
use crate::models::user::{self as rows, ApiClient, NewApiClient, NewUser, User, UserChanges};
use crate::services::enterprises::{self, NewEnterpriseInput};

pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 256;

/// Username: 3–64 characters of a-z, 0-9, `.`, `_`, `-` (stored lower-case).
pub fn check_username(u: &str) -> Result<String, FieldError> {
    let n = crate::services::auth::normalize_username(u);
    let ok = (3..=64).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(n)
    } else {
        Err(FieldError::new(
            "username",
            "format",
            "3–64 characters: a-z, 0-9, '.', '_', '-'",
        ))
    }
}

pub fn check_password(p: &str) -> Result<(), FieldError> {
    let n = p.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(FieldError::new(
            "password",
            "length",
            format!("{MIN_PASSWORD}–{MAX_PASSWORD} characters"),
        ));
    }
    Ok(())
}

/// Checks a new account's fields before the (slow) hash is computed.
pub fn check_new_user(
    conn: &mut DbConnection,
    username: &str,
    password: &str,
    role: Role,
    enterprise_id: Option<i32>,
) -> AppResult<String> {
    let mut errors = Vec::new();
    let name = check_username(username).map_err(|e| errors.push(e)).ok();
    if let Err(e) = check_password(password) {
        errors.push(e);
    }
    match (role, enterprise_id) {
        (Role::Enterprise, None) => errors.push(FieldError::new(
            "enterprise_id",
            "required",
            "an enterprise account needs enterprise_id",
        )),
        (Role::Enterprise, Some(id)) if crate::models::enterprise::find(conn, id)?.is_none() => {
            errors.push(FieldError::new(
                "enterprise_id",
                "not_found",
                "no such enterprise",
            ));
        }
        (Role::Enterprise, Some(_)) => {}
        (_, Some(_)) => errors.push(FieldError::new(
            "enterprise_id",
            "not_allowed",
            "only enterprise accounts belong to an enterprise",
        )),
        _ => {}
    }
    if let Some(n) = &name
        && rows::by_username(conn, n)?.is_some()
    {
        return Err(AppError::Conflict("username already exists".into()));
    }
    match name {
        Some(n) if errors.is_empty() => Ok(n),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Public view of a user (never the hash).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i32,
    pub username: String,
    pub role: Role,
    pub enterprise_id: Option<i32>,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            role: Role::parse(&u.role).unwrap_or(Role::Enterprise),
            enterprise_id: u.enterprise_id,
            disabled: u.disabled,
            created_at: u.created_at.and_utc(),
        }
    }
}

pub fn insert_user_in_tx(
    conn: &mut DbConnection,
    actor: &str,
    username: &str,
    hash: &str,
    role: Role,
    enterprise_id: Option<i32>,
) -> AppResult<User> {
    let at = now();
    let id = rows::insert(
        conn,
        &NewUser {
            username,
            password_hash: hash,
            role: role.as_str(),
            enterprise_id,
            disabled: false,
            created_at: at,
            updated_at: at,
        },
    )?;
    let u = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    crate::services::audit::record::<(), _>(
        conn,
        actor,
        "user.create",
        "user",
        id,
        None,
        Some(&UserView::from(&u)),
    )?;
    Ok(u)
}

pub fn create_user(
    conn: &mut DbConnection,
    actor: &str,
    username: &str,
    hash: &str,
    role: Role,
    enterprise_id: Option<i32>,
) -> AppResult<User> {
    write_tx(conn, |conn| {
        insert_user_in_tx(conn, actor, username, hash, role, enterprise_id)
    })
}

/// Self-registration: the user and its (unverified) enterprise, together or not at all.
pub fn register(
    conn: &mut DbConnection,
    username: &str,
    hash: &str,
    input: &NewEnterpriseInput,
) -> AppResult<(User, Enterprise)> {
    write_tx(conn, |conn| {
        let actor = format!("register:{username}");
        if rows::by_username(conn, username)?.is_some() {
            return Err(AppError::Conflict("username already exists".into()));
        }
        let e = enterprises::create_in_tx(conn, &actor, input)?;
        let u = insert_user_in_tx(conn, &actor, username, hash, Role::Enterprise, Some(e.id))?;
        Ok((u, e))
    })
}

/// Admin changes to a user. Disabling also revokes every refresh token.
pub fn update_user(
    conn: &mut DbConnection,
    actor: &str,
    id: i32,
    role: Option<Role>,
    disabled: Option<bool>,
    password_hash: Option<String>,
    enterprise_id: Option<Option<i32>>,
) -> AppResult<User> {
    write_tx(conn, |conn| {
        let before = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        let new_role = role.unwrap_or(Role::parse(&before.role).unwrap_or(Role::Enterprise));
        let new_ent = enterprise_id.unwrap_or(before.enterprise_id);
        if new_role == Role::Enterprise && new_ent.is_none() {
            return Err(AppError::field(
                "enterprise_id",
                "required",
                "an enterprise account needs enterprise_id",
            ));
        }
        if new_role != Role::Enterprise && new_ent.is_some() {
            return Err(AppError::field(
                "enterprise_id",
                "not_allowed",
                "only enterprise accounts belong to an enterprise",
            ));
        }
        if let Some(Some(eid)) = enterprise_id
            && crate::models::enterprise::find(conn, eid)?.is_none()
        {
            return Err(AppError::field(
                "enterprise_id",
                "not_found",
                "no such enterprise",
            ));
        }
        let reset = password_hash.is_some();
        rows::update(
            conn,
            id,
            &UserChanges {
                role: role.map(|r| r.as_str().to_string()),
                disabled,
                password_hash,
                enterprise_id,
                updated_at: Some(now()),
            },
        )?;
        if disabled == Some(true) || reset {
            crate::models::token::revoke_all_for_user(conn, id, now())?;
        }
        let after = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        let action = if reset {
            "user.password_reset"
        } else {
            "user.update"
        };
        crate::services::audit::record(
            conn,
            actor,
            action,
            "user",
            id,
            Some(&UserView::from(&before)),
            Some(&UserView::from(&after)),
        )?;
        Ok(after)
    })
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ClientView {
    pub id: i32,
    pub client_id: String,
    pub name: String,
    pub role: Role,
    pub enterprise_id: Option<i32>,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&ApiClient> for ClientView {
    fn from(c: &ApiClient) -> Self {
        ClientView {
            id: c.id,
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            role: Role::parse(&c.role).unwrap_or(Role::Enterprise),
            enterprise_id: c.enterprise_id,
            disabled: c.disabled,
            created_at: c.created_at.and_utc(),
        }
    }
}

pub fn create_client(
    conn: &mut DbConnection,
    actor: &str,
    name: &str,
    role: Role,
    enterprise_id: Option<i32>,
    secret_hash: &str,
) -> AppResult<ApiClient> {
    write_tx(conn, |conn| {
        let client_id = format!("cl_{}", uuid::Uuid::new_v4().simple());
        let id = rows::insert_client(
            conn,
            &NewApiClient {
                client_id: &client_id,
                secret_hash,
                name,
                role: role.as_str(),
                enterprise_id,
                disabled: false,
                created_at: now(),
            },
        )?;
        let c = rows::find_client(conn, id)?.ok_or(AppError::NotFound)?;
        crate::services::audit::record::<(), _>(
            conn,
            actor,
            "client.create",
            "client",
            id,
            None,
            Some(&ClientView::from(&c)),
        )?;
        Ok(c)
    })
}

pub fn set_client_disabled(
    conn: &mut DbConnection,
    actor: &str,
    id: i32,
    disabled: bool,
) -> AppResult<ApiClient> {
    write_tx(conn, |conn| {
        let before = rows::find_client(conn, id)?.ok_or(AppError::NotFound)?;
        rows::set_client_disabled(conn, id, disabled)?;
        let after = rows::find_client(conn, id)?.ok_or(AppError::NotFound)?;
        crate::services::audit::record(
            conn,
            actor,
            "client.update",
            "client",
            id,
            Some(&ClientView::from(&before)),
            Some(&ClientView::from(&after)),
        )?;
        Ok(after)
    })
}
