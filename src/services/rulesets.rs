//! Rule sets: the shipped ones seeded at start, admin drafts, publishing (validated whole,
//! effective ranges disjoint per tier), retiring, and a cache of compiled rule sets.

use crate::db::{DbConnection, write_tx};
use crate::engine::{self, RuleSet};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::now;
use crate::models::ruleset::{self as rows, NewRuleSet, RuleSetRow};
use crate::services::policy::{Action, Caller, Resource};
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The rule sets shipped in fixtures/rulesets, embedded so a fresh binary seeds them.
pub const SHIPPED: [(&str, &str); 13] = [
    (
        "innovative_sme-2022",
        include_str!("../../fixtures/rulesets/innovative_sme-2022.json"),
    ),
    (
        "tech_sme-2017",
        include_str!("../../fixtures/rulesets/tech_sme-2017.json"),
    ),
    (
        "tech_innovative_sme-2026",
        include_str!("../../fixtures/rulesets/tech_innovative_sme-2026.json"),
    ),
    (
        "srdi_sme-2022",
        include_str!("../../fixtures/rulesets/srdi_sme-2022.json"),
    ),
    (
        "srdi_sme-2026",
        include_str!("../../fixtures/rulesets/srdi_sme-2026.json"),
    ),
    (
        "little_giant-2022",
        include_str!("../../fixtures/rulesets/little_giant-2022.json"),
    ),
    (
        "little_giant-2026",
        include_str!("../../fixtures/rulesets/little_giant-2026.json"),
    ),
    (
        "single_champion-2023",
        include_str!("../../fixtures/rulesets/single_champion-2023.json"),
    ),
    (
        "smart_factory_basic-2024",
        include_str!("../../fixtures/rulesets/smart_factory_basic-2024.json"),
    ),
    (
        "smart_factory_advanced-2024",
        include_str!("../../fixtures/rulesets/smart_factory_advanced-2024.json"),
    ),
    (
        "smart_factory_excellent-2024",
        include_str!("../../fixtures/rulesets/smart_factory_excellent-2024.json"),
    ),
    (
        "smart_factory_leading-2024",
        include_str!("../../fixtures/rulesets/smart_factory_leading-2024.json"),
    ),
    (
        "innovation_points-2024",
        include_str!("../../fixtures/rulesets/innovation_points-2024.json"),
    ),
];

/// Compiled rule sets by id. Only published and retired ones are cached: they never change.
#[derive(Default)]
pub struct RuleCache {
    inner: RwLock<HashMap<i32, Arc<RuleSet>>>,
}

impl RuleCache {
    pub fn get(&self, row: &RuleSetRow) -> AppResult<Arc<RuleSet>> {
        if row.status != "draft"
            && let Some(rs) = self.inner.read().ok().and_then(|m| m.get(&row.id).cloned())
        {
            return Ok(rs);
        }
        let rs = Arc::new(compile_text(&row.document)?);
        if row.status != "draft"
            && let Ok(mut m) = self.inner.write()
        {
            m.insert(row.id, rs.clone());
        }
        Ok(rs)
    }
}

fn problems_to_error(problems: Vec<engine::Problem>) -> AppError {
    AppError::Validation(
        problems
            .into_iter()
            .map(|p| FieldError::new(p.path, p.code, p.message))
            .collect(),
    )
}

pub fn compile_text(doc: &str) -> AppResult<RuleSet> {
    let value: Value = serde_json::from_str(doc)
        .map_err(|e| AppError::field("document", "json", e.to_string()))?;
    engine::compile(&value).map_err(problems_to_error)
}

/// Seeds one shipped rule set (data migration `rulesets/{tier}@{version}`, run once): it is
/// stored as a draft by `seed` and published through the same checks as an admin's publish.
/// A shipped version whose range overlaps a published one stays a draft, logged and audited
/// as `ruleset.seed_held`, for an admin to retire the old one or narrow the range; it never
/// goes into force beside it. Returns the new row's id and whether it was published.
pub fn seed_file(conn: &mut DbConnection, name: &str, text: &str) -> AppResult<(i32, bool)> {
    let rs = compile_text(text).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "shipped rule set {name} does not compile: {e:?}"
        ))
    })?;
    let version = rs.version() as i32;
    write_tx(conn, |conn| {
        let at = now();
        let id = rows::insert(
            conn,
            &NewRuleSet {
                tier: rs.tier(),
                version,
                name: rs.name(),
                status: "draft",
                effective_from: rs.effective_from(),
                effective_to: rs.effective_to(),
                document: text,
                lock_version: 1,
                created_by: "seed",
                created_at: at,
                published_at: None,
            },
        )?;
        crate::services::audit::record::<(), _>(
            conn,
            "seed",
            "ruleset.seed",
            "ruleset",
            id,
            None,
            Some(&serde_json::json!({"tier": rs.tier(), "version": version, "file": name})),
        )?;
        match publish_checked(conn, "seed", id) {
            Ok(_) => Ok((id, true)),
            Err(AppError::Validation(errors)) => {
                let problems: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
                tracing::warn!(
                    file = name,
                    id,
                    "shipped rule set kept as a draft: {}",
                    problems.join("; ")
                );
                crate::services::audit::record::<(), _>(
                    conn,
                    "seed",
                    "ruleset.seed_held",
                    "ruleset",
                    id,
                    None,
                    Some(&serde_json::json!({"file": name, "problems": problems})),
                )?;
                Ok((id, false))
            }
            Err(e) => Err(e),
        }
    })
}

/// The data-migration id of a shipped rule set (`rulesets/{tier}@{version}`).
/// Read from the document's header alone: start-up computes every shipped id and compiles
/// a document only when its step runs ([`seed_file`]).
pub fn seed_id(text: &str) -> AppResult<String> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| AppError::field("document", "json", e.to_string()))?;
    match (doc["tier"].as_str(), doc["version"].as_i64()) {
        (Some(tier), Some(version)) => Ok(format!("rulesets/{tier}@{version}")),
        _ => Err(AppError::field(
            "document",
            "header",
            "a shipped rule set names its tier and version",
        )),
    }
}

/// The header fields every document must carry, checked without compiling the criteria.
struct Header {
    tier: String,
    version: i32,
    name: String,
    effective_from: NaiveDate,
    effective_to: Option<NaiveDate>,
}

fn header(conn: &mut DbConnection, doc: &Value) -> AppResult<Header> {
    let mut errors = Vec::new();
    let tier = doc["tier"].as_str().unwrap_or_default().to_string();
    if tier.is_empty() {
        errors.push(FieldError::new(
            "$.tier",
            "required",
            "a tier code is required",
        ));
    } else if crate::models::reference::tier(conn, &tier)?.is_none() {
        errors.push(FieldError::new(
            "$.tier",
            "unknown_tier",
            format!("{tier:?} is not a tier (GET /api/v1/tiers)"),
        ));
    }
    let version = doc["version"].as_i64().filter(|v| *v > 0 && *v < 100_000);
    if version.is_none() {
        errors.push(FieldError::new(
            "$.version",
            "type",
            "a positive integer is required",
        ));
    }
    let date = |field: &str, errors: &mut Vec<FieldError>| -> Option<NaiveDate> {
        match &doc[field] {
            Value::Null => None,
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| {
                    errors.push(FieldError::new(
                        format!("$.{field}"),
                        "date",
                        "expected YYYY-MM-DD",
                    ))
                })
                .ok(),
            _ => {
                errors.push(FieldError::new(
                    format!("$.{field}"),
                    "date",
                    "expected YYYY-MM-DD",
                ));
                None
            }
        }
    };
    let from = date("effective_from", &mut errors);
    let to = date("effective_to", &mut errors);
    if from.is_none() && !errors.iter().any(|e| e.field == "$.effective_from") {
        errors.push(FieldError::new(
            "$.effective_from",
            "required",
            "effective_from is required",
        ));
    }
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        errors.push(FieldError::new(
            "$.effective_to",
            "range",
            "effective_to is before effective_from",
        ));
    }
    let name = doc["name"].as_str().unwrap_or_default().to_string();
    match (version, from, errors.is_empty()) {
        (Some(v), Some(f), true) => Ok(Header {
            tier,
            version: v as i32,
            name,
            effective_from: f,
            effective_to: to,
        }),
        _ => Err(AppError::Validation(errors)),
    }
}

/// A new draft (admins).
pub fn create_draft(
    conn: &mut DbConnection,
    caller: &Caller,
    doc: &Value,
) -> AppResult<RuleSetRow> {
    caller.may(Action::WriteRulesets, &Resource::Any)?;
    let actor = caller.actor();
    let actor = actor.as_str();
    write_tx(conn, |conn| {
        let h = header(conn, doc)?;
        if rows::by_tier_version(conn, &h.tier, h.version)?.is_some() {
            return Err(AppError::Conflict(format!(
                "version {} of tier {} already exists",
                h.version, h.tier
            )));
        }
        let id = rows::insert(
            conn,
            &NewRuleSet {
                tier: &h.tier,
                version: h.version,
                name: &h.name,
                status: "draft",
                effective_from: h.effective_from,
                effective_to: h.effective_to,
                document: &doc.to_string(),
                lock_version: 1,
                created_by: actor,
                created_at: now(),
                published_at: None,
            },
        )?;
        crate::services::audit::record::<(), _>(
            conn,
            actor,
            "ruleset.create",
            "ruleset",
            id,
            None,
            Some(doc),
        )?;
        rows::find(conn, id)?.ok_or(AppError::NotFound)
    })
}

pub fn etag(r: &RuleSetRow) -> String {
    format!("\"r{}-v{}\"", r.id, r.lock_version)
}

/// Replaces a draft's document (admins; 412 on a stale etag).
pub fn update_draft(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    if_match: AppResult<String>,
    doc: &Value,
) -> AppResult<RuleSetRow> {
    caller.may(Action::WriteRulesets, &Resource::Any)?;
    // A missing If-Match (428) is only worth telling someone who may write.
    let if_match = if_match?;
    let actor = caller.actor();
    let actor = actor.as_str();
    write_tx(conn, |conn| {
        let current = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        if current.status != "draft" {
            return Err(AppError::Conflict(format!(
                "rule set {id} is {}: only drafts can change",
                current.status
            )));
        }
        if if_match.trim() != etag(&current) && if_match.trim() != "*" {
            return Err(AppError::PreconditionFailed);
        }
        let h = header(conn, doc)?;
        if h.tier != current.tier {
            return Err(AppError::field(
                "$.tier",
                "immutable",
                "a draft keeps its tier; create a new draft for another tier",
            ));
        }
        if h.version != current.version
            && rows::by_tier_version(conn, &h.tier, h.version)?.is_some()
        {
            return Err(AppError::Conflict(format!(
                "version {} of tier {} already exists",
                h.version, h.tier
            )));
        }
        let text = doc.to_string();
        let n = rows::update_draft(
            conn,
            id,
            current.lock_version,
            &h.name,
            h.version,
            h.effective_from,
            h.effective_to,
            &text,
        )?;
        if n == 0 {
            return Err(AppError::PreconditionFailed);
        }
        let before: Value = serde_json::from_str(&current.document).unwrap_or(Value::Null);
        crate::services::audit::record(
            conn,
            actor,
            "ruleset.update",
            "ruleset",
            id,
            Some(&before),
            Some(doc),
        )?;
        rows::find(conn, id)?.ok_or(AppError::NotFound)
    })
}

/// Validates the whole document and the tier's effective ranges, then publishes.
pub fn publish(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<RuleSetRow> {
    caller.may(Action::WriteRulesets, &Resource::Any)?;
    let actor = caller.actor();
    write_tx(conn, |conn| publish_checked(conn, actor.as_str(), id))
}

/// Publishes a draft after the checks every publication passes (admin or shipped): the
/// document compiles and its range overlaps no published rule set of the tier. Publications
/// of one tier are serialised (the tier's row is locked first on PostgreSQL; SQLite writers
/// are serial), so two overlapping drafts cannot both pass the check: at most one rule set of
/// a tier is in force on any day.
fn publish_checked(conn: &mut DbConnection, actor: &str, id: i32) -> AppResult<RuleSetRow> {
    let current = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    if current.status != "draft" {
        return Err(AppError::Conflict(format!(
            "rule set {id} is {}: only a draft can be published",
            current.status
        )));
    }
    crate::models::reference::lock_tier(conn, &current.tier)?;
    let rs = compile_text(&current.document)?;
    let mut errors = Vec::new();
    for other in rows::published_for_tier(conn, &current.tier)? {
        let starts_before_other_ends = other.effective_to.is_none_or(|t| rs.effective_from() <= t);
        let ends_after_other_starts = rs.effective_to().is_none_or(|t| t >= other.effective_from);
        if starts_before_other_ends && ends_after_other_starts {
            errors.push(FieldError::new(
                "$.effective_from",
                "overlap",
                format!(
                    "overlaps published rule set {} (version {}, {} → {}); retire it or narrow the range",
                    other.id,
                    other.version,
                    other.effective_from,
                    other.effective_to.map_or("open".to_string(), |d| d.to_string())
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if rows::set_status(conn, id, "draft", "published", now())? == 0 {
        return Err(AppError::Conflict(
            "the rule set changed concurrently".into(),
        ));
    }
    crate::services::audit::record(
        conn,
        actor,
        "ruleset.publish",
        "ruleset",
        id,
        Some(&serde_json::json!({"status": "draft"})),
        Some(&serde_json::json!({"status": "published"})),
    )?;
    rows::find(conn, id)?.ok_or(AppError::NotFound)
}

/// Retires a published rule set (admins).
pub fn retire(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<RuleSetRow> {
    caller.may(Action::WriteRulesets, &Resource::Any)?;
    let actor = caller.actor();
    let actor = actor.as_str();
    write_tx(conn, |conn| {
        let current = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        if current.status != "published" {
            return Err(AppError::Conflict(format!(
                "rule set {id} is {}: only a published one can be retired",
                current.status
            )));
        }
        if rows::set_status(conn, id, "published", "retired", now())? == 0 {
            return Err(AppError::Conflict(
                "the rule set changed concurrently".into(),
            ));
        }
        crate::services::audit::record(
            conn,
            actor,
            "ruleset.retire",
            "ruleset",
            id,
            Some(&serde_json::json!({"status": "published"})),
            Some(&serde_json::json!({"status": "retired"})),
        )?;
        rows::find(conn, id)?.ok_or(AppError::NotFound)
    })
}

/// The rule set a case run (`POST /rulesets/{id}/test`, admins) works on.
pub fn for_case_run(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<RuleSetRow> {
    caller.may(Action::TestRuleset, &Resource::Any)?;
    rows::find(conn, id)?.ok_or(AppError::NotFound)
}
