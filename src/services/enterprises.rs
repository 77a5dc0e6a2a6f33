//! The registry of enterprises: creation (by admins, imports and self-registration),
//! visibility, listing, and guarded updates with etags.

use crate::db::{DbConnection, write_tx};
use crate::domain::{EnterpriseName, Uscc};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::enterprise::{self as rows, Enterprise, EnterpriseChanges, NewEnterprise};
use crate::models::now;
use crate::models::reference;
use crate::services::policy::{Action, Caller, Resource};
use chrono::NaiveDate;

/// Input for a new enterprise, before checks.
#[derive(Debug, Clone)]
pub struct NewEnterpriseInput {
    pub uscc: String,
    pub name: String,
    pub district_code: String,
    pub cluster_code: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub niche_entered_on: Option<NaiveDate>,
    pub verified: bool,
}

/// Checks everything that can be checked without writing; names each field.
pub fn check_new(
    conn: &mut DbConnection,
    input: &NewEnterpriseInput,
    prefix: &str,
) -> AppResult<Uscc> {
    let mut errors = Vec::new();
    let uscc = match Uscc::parse(&input.uscc) {
        Ok(u) => Some(u),
        Err(e) => {
            errors.push(FieldError::new(
                format!("{prefix}uscc"),
                "uscc",
                e.message(),
            ));
            None
        }
    };
    if let Err(e) = EnterpriseName::parse(&input.name) {
        errors.push(FieldError::new(
            format!("{prefix}name"),
            e.code(),
            e.message(),
        ));
    }
    if reference::district(conn, &input.district_code)?.is_none() {
        errors.push(FieldError::new(
            format!("{prefix}district_code"),
            "unknown_district",
            "not one of the districts of GET /api/v1/districts",
        ));
    }
    if let Some(c) = &input.cluster_code
        && reference::cluster(conn, c)?.is_none()
    {
        errors.push(FieldError::new(
            format!("{prefix}cluster_code"),
            "unknown_cluster",
            "not one of the clusters of GET /api/v1/clusters",
        ));
    }
    check_dates(
        input.founded_on,
        input.niche_entered_on,
        prefix,
        &mut errors,
    );
    match (uscc, errors.is_empty()) {
        (Some(u), true) => Ok(u),
        _ => Err(AppError::Validation(errors)),
    }
}

fn check_dates(
    founded: Option<NaiveDate>,
    niche: Option<NaiveDate>,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) {
    let today = crate::clock::today();
    if founded.is_some_and(|d| d > today) {
        errors.push(FieldError::new(
            format!("{prefix}founded_on"),
            "range",
            "founding date is in the future",
        ));
    }
    if niche.is_some_and(|d| d > today) {
        errors.push(FieldError::new(
            format!("{prefix}niche_entered_on"),
            "range",
            "niche-market entry date is in the future",
        ));
    }
    if let (Some(f), Some(n)) = (founded, niche)
        && n < f
    {
        errors.push(FieldError::new(
            format!("{prefix}niche_entered_on"),
            "range",
            "niche-market entry cannot precede founding",
        ));
    }
}

/// Creates an enterprise (inside the caller's transaction) and records it.
pub fn create_in_tx(
    conn: &mut DbConnection,
    actor: &str,
    input: &NewEnterpriseInput,
) -> AppResult<Enterprise> {
    let uscc = check_new(conn, input, "")?;
    if rows::by_uscc(conn, uscc.as_str())?.is_some() {
        return Err(AppError::Conflict("uscc already exists".into()));
    }
    let at = now();
    let id = rows::insert(
        conn,
        &NewEnterprise {
            uscc: uscc.as_str(),
            name: input.name.trim(),
            district_code: &input.district_code,
            cluster_code: input.cluster_code.as_deref(),
            founded_on: input.founded_on,
            niche_entered_on: input.niche_entered_on,
            verified: input.verified,
            lock_version: 1,
            created_at: at,
            updated_at: at,
        },
    )?;
    let e = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    crate::services::audit::record::<(), _>(
        conn,
        actor,
        "enterprise.create",
        "enterprise",
        id,
        None,
        Some(&e),
    )?;
    Ok(e)
}

/// `POST /enterprises` (admins): a verified enterprise.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    input: &NewEnterpriseInput,
) -> AppResult<Enterprise> {
    caller.may(Action::CreateEnterprise, &Resource::Any)?;
    write_tx(conn, |conn| create_in_tx(conn, &caller.actor(), input))
}

/// Loads an enterprise the caller may see; anything else is a 404.
pub fn get_visible(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<Enterprise> {
    caller.may(Action::ReadEnterprise, &Resource::Enterprise(id))?;
    rows::find(conn, id)?.ok_or(AppError::NotFound)
}

pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    mut filter: rows::Filter,
    after: i32,
    limit: i64,
) -> AppResult<Vec<Enterprise>> {
    if let Some(only) = caller.enterprise_scope() {
        // An enterprise account lists only its own enterprise.
        filter.only_id = Some(only);
    }
    Ok(rows::list(conn, &filter, after, limit)?)
}

/// The fields a PATCH may change. `verified` is for admins only.
#[derive(Debug, Default, Clone)]
pub struct Patch {
    pub name: Option<String>,
    pub district_code: Option<String>,
    pub cluster_code: Option<Option<String>>,
    pub founded_on: Option<Option<NaiveDate>>,
    pub niche_entered_on: Option<Option<NaiveDate>>,
    pub verified: Option<bool>,
}

pub fn etag(e: &Enterprise) -> String {
    format!("\"e{}-v{}\"", e.id, e.lock_version)
}

/// Applies a PATCH if `if_match` is the current etag (412 otherwise).
pub fn patch(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    if_match: &str,
    p: Patch,
) -> AppResult<Enterprise> {
    write_tx(conn, |conn| {
        let current = get_visible(conn, caller, id)?;
        caller.may(Action::EditEnterprise, &Resource::Enterprise(id))?;
        if p.verified.is_some()
            && caller
                .may(Action::VerifyEnterprise, &Resource::Enterprise(id))
                .is_err()
        {
            return Err(AppError::field(
                "verified",
                "forbidden_field",
                "only an admin may verify an enterprise",
            ));
        }
        if if_match.trim() != etag(&current) && if_match.trim() != "*" {
            return Err(AppError::PreconditionFailed);
        }
        let mut errors = Vec::new();
        if let Some(Err(e)) = p.name.as_deref().map(EnterpriseName::parse) {
            errors.push(FieldError::new("name", e.code(), e.message()));
        }
        if let Some(d) = &p.district_code
            && reference::district(conn, d)?.is_none()
        {
            errors.push(FieldError::new(
                "district_code",
                "unknown_district",
                "not one of the districts of GET /api/v1/districts",
            ));
        }
        if let Some(Some(c)) = &p.cluster_code
            && reference::cluster(conn, c)?.is_none()
        {
            errors.push(FieldError::new(
                "cluster_code",
                "unknown_cluster",
                "not one of the clusters of GET /api/v1/clusters",
            ));
        }
        let founded = p.founded_on.unwrap_or(current.founded_on);
        let niche = p.niche_entered_on.unwrap_or(current.niche_entered_on);
        check_dates(founded, niche, "", &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let name = p.name.map(|n| n.trim().to_string());
        // An owner who changes a verified enterprise's identity (name or district, which
        // moves its credit in the rollup) loses the verification until an admin checks again.
        let identity_changed = name.as_ref().is_some_and(|n| *n != current.name)
            || p.district_code
                .as_ref()
                .is_some_and(|d| *d != current.district_code);
        let clears_verified = current.verified
            && identity_changed
            && caller
                .may(Action::VerifyEnterprise, &Resource::Enterprise(id))
                .is_err();
        let changes = EnterpriseChanges {
            name,
            district_code: p.district_code,
            cluster_code: p.cluster_code,
            founded_on: p.founded_on,
            niche_entered_on: p.niche_entered_on,
            verified: if clears_verified {
                Some(false)
            } else {
                p.verified
            },
        };
        if rows::update_guarded(conn, id, current.lock_version, &changes, now())? == 0 {
            return Err(AppError::PreconditionFailed);
        }
        let updated = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        crate::services::audit::record(
            conn,
            &caller.actor(),
            "enterprise.update",
            "enterprise",
            id,
            Some(&current),
            Some(&updated),
        )?;
        if clears_verified {
            crate::services::audit::record(
                conn,
                &caller.actor(),
                "enterprise.verification_cleared",
                "enterprise",
                id,
                Some(&serde_json::json!({"verified": true, "name": current.name,
                    "district_code": current.district_code})),
                Some(&serde_json::json!({"verified": false, "name": updated.name,
                    "district_code": updated.district_code,
                    "reason": "the owner changed the enterprise's name or district"})),
            )?;
        }
        Ok(updated)
    })
}
