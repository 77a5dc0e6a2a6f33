//! Quotas: the plan's yearly targets per scope and tier(s), seeded from Shenyang's 2025
//! plan (carried to 2026 as an editable starting point), managed by admins, audited.

use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::now;
use crate::models::quota::{self as rows, NewQuota, Quota};
use crate::services::policy::{Action, Caller, Resource};
use crate::services::reference::CITY_SCOPE;

/// (tiers, measure, target, 中文, English) — the city's 2025 plan.
pub const PLAN: [(&[&str], &str, i32, &str, &str); 8] = [
    (
        &["little_giant"],
        "new",
        10,
        "新增国家级专精特新“小巨人”企业",
        "New national Little Giants",
    ),
    (
        &["srdi_sme"],
        "new",
        100,
        "新增省级专精特新中小企业",
        "New provincial SRDI SMEs",
    ),
    (
        &["single_champion"],
        "new",
        5,
        "新增制造业单项冠军企业",
        "New manufacturing single champions",
    ),
    (
        &["smart_factory_advanced"],
        "new",
        15,
        "新增先进级智能工厂",
        "New advanced smart factories",
    ),
    (
        &["smart_factory_excellent", "smart_factory_leading"],
        "new",
        2,
        "新增卓越级、领航级智能工厂",
        "New excellent or leading smart factories",
    ),
    (
        &["tech_sme"],
        "active",
        30_000,
        "科技型中小企业（在册）",
        "Technology-based SMEs on the register",
    ),
    (
        &["digital_transformation"],
        "active",
        700,
        "智改数转企业（在册）",
        "Enterprises in intelligent and digital transformation",
    ),
    (
        &["industrial_design_center"],
        "active",
        50,
        "工业设计中心（在册）",
        "Industrial design centres",
    ),
];

/// Sorted, de-duplicated, comma-joined: one spelling per set of tiers.
pub fn tiers_key(tiers: &[String]) -> String {
    let mut t: Vec<&str> = tiers.iter().map(String::as_str).collect();
    t.sort_unstable();
    t.dedup();
    t.join(",")
}

pub fn seed_plan(conn: &mut DbConnection) -> AppResult<()> {
    write_tx(conn, |conn| {
        for year in [2025, 2026] {
            for (tiers, measure, target, zh, en) in PLAN {
                let key = tiers_key(&tiers.iter().map(|t| t.to_string()).collect::<Vec<_>>());
                if rows::find_key(conn, year, CITY_SCOPE, &key, measure)?.is_some() {
                    continue;
                }
                let at = now();
                let id = rows::insert(
                    conn,
                    &NewQuota {
                        year,
                        scope: CITY_SCOPE,
                        tiers: &key,
                        measure,
                        target,
                        label_zh: zh,
                        label_en: en,
                        lock_version: 1,
                        created_at: at,
                        updated_at: at,
                    },
                )?;
                let q = rows::find(conn, id)?;
                crate::services::audit::record::<(), _>(
                    conn,
                    "seed",
                    "quota.create",
                    "quota",
                    id,
                    None,
                    q.as_ref(),
                )?;
            }
        }
        Ok(())
    })
}

/// A new quota's fields, checked.
pub struct QuotaInput {
    pub year: i32,
    pub scope: String,
    pub tiers: Vec<String>,
    pub measure: String,
    pub target: i64,
    pub label_zh: Option<String>,
    pub label_en: Option<String>,
}

fn check(conn: &mut DbConnection, q: &QuotaInput) -> AppResult<()> {
    let mut errors = Vec::new();
    if !(2000..=2100).contains(&q.year) {
        errors.push(FieldError::new(
            "year",
            "range",
            "year must be between 2000 and 2100",
        ));
    }
    if q.scope != CITY_SCOPE && crate::models::reference::district(conn, &q.scope)?.is_none() {
        errors.push(FieldError::new(
            "scope",
            "unknown_scope",
            format!("{CITY_SCOPE} (the city) or a district code"),
        ));
    }
    if q.tiers.is_empty() {
        errors.push(FieldError::new("tiers", "required", "at least one tier"));
    }
    for (i, t) in q.tiers.iter().enumerate() {
        if crate::models::reference::tier(conn, t)?.is_none() {
            errors.push(FieldError::new(
                format!("tiers[{i}]"),
                "unknown_tier",
                format!("{t:?} is not a tier"),
            ));
        }
    }
    if q.measure != "new" && q.measure != "active" {
        errors.push(FieldError::new("measure", "enum", "new or active"));
    }
    if !(1..=10_000_000).contains(&q.target) {
        errors.push(FieldError::new(
            "target",
            "range",
            "a whole number from 1 to 10,000,000",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// A new quota (admins).
pub fn create(conn: &mut DbConnection, caller: &Caller, q: QuotaInput) -> AppResult<Quota> {
    caller.may(Action::WriteQuotas, &Resource::Any)?;
    let actor = caller.actor();
    let actor = actor.as_str();
    write_tx(conn, |conn| {
        check(conn, &q)?;
        let key = tiers_key(&q.tiers);
        if rows::find_key(conn, q.year, &q.scope, &key, &q.measure)?.is_some() {
            return Err(AppError::Conflict(
                "a quota for this year, scope, tiers and measure already exists".into(),
            ));
        }
        let at = now();
        let id = rows::insert(
            conn,
            &NewQuota {
                year: q.year,
                scope: &q.scope,
                tiers: &key,
                measure: &q.measure,
                target: q.target as i32,
                label_zh: q.label_zh.as_deref().unwrap_or(&key),
                label_en: q.label_en.as_deref().unwrap_or(&key),
                lock_version: 1,
                created_at: at,
                updated_at: at,
            },
        )?;
        let created = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        crate::services::audit::record::<(), _>(
            conn,
            actor,
            "quota.create",
            "quota",
            id,
            None,
            Some(&created),
        )?;
        Ok(created)
    })
}

pub fn etag(q: &Quota) -> String {
    format!("\"q{}-v{}\"", q.id, q.lock_version)
}

/// Changes a quota's target or labels (admins; 412 on a stale etag).
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    if_match: &str,
    target: Option<i64>,
    label_zh: Option<String>,
    label_en: Option<String>,
) -> AppResult<Quota> {
    caller.may(Action::WriteQuotas, &Resource::Any)?;
    let actor = caller.actor();
    let actor = actor.as_str();
    write_tx(conn, |conn| {
        let current = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        if if_match.trim() != etag(&current) && if_match.trim() != "*" {
            return Err(AppError::PreconditionFailed);
        }
        let target = target.unwrap_or(current.target as i64);
        if !(1..=10_000_000).contains(&target) {
            return Err(AppError::field(
                "target",
                "range",
                "a whole number from 1 to 10,000,000",
            ));
        }
        let zh = label_zh.unwrap_or_else(|| current.label_zh.clone());
        let en = label_en.unwrap_or_else(|| current.label_en.clone());
        if rows::update_guarded(
            conn,
            id,
            current.lock_version,
            target as i32,
            &zh,
            &en,
            now(),
        )? == 0
        {
            return Err(AppError::PreconditionFailed);
        }
        let after = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        crate::services::audit::record(
            conn,
            actor,
            "quota.update",
            "quota",
            id,
            Some(&current),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// Deletes a quota (admins).
pub fn delete(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<()> {
    caller.may(Action::WriteQuotas, &Resource::Any)?;
    let actor = caller.actor();
    let actor = actor.as_str();
    write_tx(conn, |conn| {
        let current = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        rows::delete(conn, id)?;
        crate::services::audit::record::<_, ()>(
            conn,
            actor,
            "quota.delete",
            "quota",
            id,
            Some(&current),
            None,
        )?;
        Ok(())
    })
}

/// The quotas of a year, or of every year (officials, admins).
pub fn list(conn: &mut DbConnection, caller: &Caller, year: Option<i32>) -> AppResult<Vec<Quota>> {
    caller.may(Action::ReadQuotas, &Resource::Any)?;
    Ok(rows::for_year(conn, year)?)
}

/// One quota (officials, admins).
pub fn get(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<Quota> {
    caller.may(Action::ReadQuotas, &Resource::Any)?;
    rows::find(conn, id)?.ok_or(AppError::NotFound)
}
