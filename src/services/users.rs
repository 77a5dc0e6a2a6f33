//! User and API-client management, and enterprise self-registration.

use crate::db::{DbConnection, write_tx};
use crate::domain::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::models::enterprise::Enterprise;
use crate::models::now;
use crate::models::user::{self as rows, ApiClient, NewApiClient, NewUser, User, UserChanges};
use crate::services::enterprises::{self, NewEnterpriseInput};
use crate::services::policy::{Action, Caller, Resource};

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

/// Checks a new account's fields before the (slow) hash is computed (admins).
pub fn check_new_user(
    conn: &mut DbConnection,
    caller: &Caller,
    username: &str,
    password: &str,
    role: Role,
    enterprise_id: Option<i32>,
) -> AppResult<String> {
    caller.may(Action::ManageUsers, &Resource::Any)?;
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

/// Creates an account (admins; the CLI's operator).
pub fn create_user(
    conn: &mut DbConnection,
    caller: &Caller,
    username: &str,
    hash: &str,
    role: Role,
    enterprise_id: Option<i32>,
) -> AppResult<User> {
    caller.may(Action::ManageUsers, &Resource::Any)?;
    let actor = caller.actor();
    write_tx(conn, |conn| {
        insert_user_in_tx(conn, &actor, username, hash, role, enterprise_id)
    })
}

/// A page of accounts, optionally of one role (admins).
pub fn list_users(
    conn: &mut DbConnection,
    caller: &Caller,
    after: i32,
    limit: i64,
    role: Option<Role>,
) -> AppResult<Vec<User>> {
    caller.may(Action::ManageUsers, &Resource::Any)?;
    Ok(rows::list(conn, after, limit, role.map(|r| r.as_str()))?)
}

/// One account (admins).
pub fn get_user(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<User> {
    caller.may(Action::ManageUsers, &Resource::Any)?;
    rows::find(conn, id)?.ok_or(AppError::NotFound)
}

/// Checks a change to an account before a new password is hashed (admins).
pub fn check_user_update(caller: &Caller, password: Option<&str>) -> AppResult<()> {
    caller.may(Action::ManageUsers, &Resource::Any)?;
    if let Some(p) = password {
        check_password(p).map_err(|e| AppError::Validation(vec![e]))?;
    }
    Ok(())
}

/// The one answer to a sign-up whose username or credit code is taken: the same body for
/// both, so registration does not tell who has an account.
pub const TAKEN: &str = "this username or credit code cannot be registered: choose another username, or, if your company already has an account, ask its holder or an administrator";

/// What a sign-up made.
#[derive(Debug)]
pub enum Registered {
    /// A new account with its new (unverified) enterprise.
    Account(User, Enterprise),
    /// The credit code is in the registry with no owning account: a new account without an
    /// enterprise and a pending claim on it, for an admin to decide.
    Claim(User, crate::models::claim::Claim),
}

/// Self-registration, together or not at all: the user and its (unverified) enterprise, or,
/// for a credit code already registered with no owning account, the user and a pending
/// claim. A taken username, or a credit code that has an owner, is one generic 409 ([`TAKEN`]).
pub fn register(
    conn: &mut DbConnection,
    username: &str,
    hash: &str,
    input: &NewEnterpriseInput,
) -> AppResult<Registered> {
    let taken = || AppError::Conflict(TAKEN.into());
    let uscc = enterprises::check_new(conn, input, "")?;
    write_tx(conn, |conn| {
        let actor = format!("register:{username}");
        if rows::by_username(conn, username)?.is_some() {
            return Err(taken());
        }
        if let Some(existing) = crate::models::enterprise::by_uscc(conn, uscc.as_str())? {
            if !rows::owners_of(conn, existing.id)?.is_empty() {
                return Err(taken());
            }
            let u = insert_user_in_tx(conn, &actor, username, hash, Role::Enterprise, None)?;
            let claim = crate::services::claims::open_in_tx(
                conn,
                &actor,
                existing.id,
                u.id,
                input.name.trim(),
                &input.district_code,
            )?;
            return Ok(Registered::Claim(u, claim));
        }
        let e = enterprises::create_in_tx(conn, &actor, input)?;
        let u = insert_user_in_tx(conn, &actor, username, hash, Role::Enterprise, Some(e.id))?;
        Ok(Registered::Account(u, e))
    })
    // A concurrent twin may take the username or the code between the checks and the insert:
    // the same generic answer.
    .map_err(|e| match e {
        AppError::Conflict(_) => taken(),
        other => other,
    })
}

/// Makes an account the owner of an enterprise (an approved claim), inside the caller's
/// transaction, audited as a change of the user.
pub fn link_enterprise_in_tx(
    conn: &mut DbConnection,
    actor: &str,
    user_id: i32,
    enterprise_id: i32,
) -> AppResult<User> {
    let before = rows::find(conn, user_id)?.ok_or(AppError::NotFound)?;
    rows::update(
        conn,
        user_id,
        &UserChanges {
            enterprise_id: Some(Some(enterprise_id)),
            updated_at: Some(now()),
            ..UserChanges::default()
        },
    )?;
    let after = rows::find(conn, user_id)?.ok_or(AppError::NotFound)?;
    crate::services::audit::record(
        conn,
        actor,
        "user.update",
        "user",
        user_id,
        Some(&UserView::from(&before)),
        Some(&UserView::from(&after)),
    )?;
    Ok(after)
}

/// Admin changes to a user. Disabling also revokes every refresh token.
pub fn update_user(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    role: Option<Role>,
    disabled: Option<bool>,
    password_hash: Option<String>,
    enterprise_id: Option<Option<i32>>,
) -> AppResult<User> {
    caller.may(Action::ManageUsers, &Resource::Any)?;
    let actor = caller.actor();
    let actor = actor.as_str();
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

/// Checks a new API client before its secret is hashed (admins): an enterprise client needs
/// an existing enterprise, and only enterprise clients have one.
pub fn check_new_client(
    conn: &mut DbConnection,
    caller: &Caller,
    role: Role,
    enterprise_id: Option<i32>,
) -> AppResult<()> {
    caller.may(Action::ManageClients, &Resource::Any)?;
    match (role, enterprise_id) {
        (Role::Enterprise, None) => Err(AppError::field(
            "enterprise_id",
            "required",
            "an enterprise client needs enterprise_id",
        )),
        (r, Some(_)) if r != Role::Enterprise => Err(AppError::field(
            "enterprise_id",
            "not_allowed",
            "only enterprise clients belong to an enterprise",
        )),
        (_, Some(eid)) if crate::models::enterprise::find(conn, eid)?.is_none() => Err(
            AppError::field("enterprise_id", "not_found", "no such enterprise"),
        ),
        _ => Ok(()),
    }
}

/// Creates an API client (admins) with the hash of its secret.
pub fn create_client(
    conn: &mut DbConnection,
    caller: &Caller,
    name: &str,
    role: Role,
    enterprise_id: Option<i32>,
    secret_hash: &str,
) -> AppResult<ApiClient> {
    check_new_client(conn, caller, role, enterprise_id)?;
    let actor = caller.actor();
    let actor = actor.as_str();
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

/// A page of API clients (admins).
pub fn list_clients(
    conn: &mut DbConnection,
    caller: &Caller,
    after: i32,
    limit: i64,
) -> AppResult<Vec<ApiClient>> {
    caller.may(Action::ManageClients, &Resource::Any)?;
    Ok(rows::list_clients(conn, after, limit)?)
}

/// Disables or enables an API client (admins).
pub fn set_client_disabled(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    disabled: bool,
) -> AppResult<ApiClient> {
    caller.may(Action::ManageClients, &Resource::Any)?;
    let actor = caller.actor();
    let actor = actor.as_str();
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
