//! Grading through the API: the rule set in force on a date (or a chosen draft), facts from
//! the registry or from the request, holdings from certifications; results in API.md's shape.

use crate::db::DbConnection;
use crate::engine::{self, FactSheet, Input, RuleSet};
use crate::error::{AppError, AppResult};
use crate::models::ruleset::{self as rs_rows, RuleSetRow};
use crate::services::rulesets::RuleCache;
use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// A graded result with what it was graded on, ready to show or to keep.
#[derive(Debug, Clone)]
pub struct Graded {
    pub ruleset: RuleSetRow,
    pub outcome: String,
    pub route: Option<String>,
    pub score: Option<String>,
    /// The API body: `{tier, as_of, ruleset, outcome, route, score, pass_mark, criteria, missing, …}`.
    pub result: Value,
}

/// The published rule set in force for `tier` on `as_of`, or a 422 naming both.
pub fn in_force(conn: &mut DbConnection, tier: &str, as_of: NaiveDate) -> AppResult<RuleSetRow> {
    if crate::models::reference::tier(conn, tier)?.is_none() {
        return Err(AppError::field(
            "tier",
            "unknown_tier",
            format!("{tier:?} is not a tier (GET /api/v1/tiers)"),
        ));
    }
    rs_rows::in_force(conn, tier, as_of)?.ok_or_else(|| {
        AppError::field(
            "tier",
            "no_ruleset_in_force",
            format!("no rule set of tier {tier} is in force on {as_of}"),
        )
    })
}

/// The enterprise's facts on file, as a fact sheet and as the stored JSON (kept with results).
/// Stored rows go through the same checks as every other input; a stored value that no longer
/// passes is left out (and logged) rather than failing the grading. `niche_years` not filed
/// for a year is derived from the enterprise's `niche_entered_on`.
pub fn facts_of(conn: &mut DbConnection, enterprise_id: i32) -> AppResult<(FactSheet, Value)> {
    let rows = crate::models::facts::for_enterprise(conn, enterprise_id)?;
    let mut stored = Map::new();
    for fy in &rows {
        let v: Value = serde_json::from_str(&fy.facts).unwrap_or(Value::Object(Map::new()));
        stored.insert(fy.year.to_string(), v);
    }
    let (mut sheet, problems) = FactSheet::from_stored(
        rows.iter().map(|r| (r.year, r.facts.as_str())),
        crate::clock::today(),
    );
    if !problems.is_empty() {
        tracing::warn!(enterprise_id, ?problems, "stored facts left out of grading");
    }
    if let Some(entered) =
        crate::models::enterprise::find(conn, enterprise_id)?.and_then(|e| e.niche_entered_on)
    {
        sheet.derive_niche_years(entered);
    }
    Ok((sheet, Value::Object(stored)))
}

/// Grades with a compiled rule set and wraps the result in the API shape.
pub fn grade_with(
    row: &RuleSetRow,
    rs: &RuleSet,
    as_of: NaiveDate,
    facts: &FactSheet,
    holds: &[String],
    renewal: bool,
) -> Graded {
    let input = Input {
        as_of,
        facts: facts.view(),
        holds,
        renewal,
        pool: None,
    };
    let ev = engine::evaluate_explained(rs, &input);
    let mut body = match serde_json::to_value(&ev) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let outcome = body
        .get("outcome")
        .and_then(Value::as_str)
        .unwrap_or("incomplete")
        .to_string();
    let route = body
        .get("route")
        .and_then(Value::as_str)
        .map(str::to_string);
    let score = ev.score.map(|s| s.normalize().to_string());
    let mut result = Map::new();
    result.insert("tier".into(), json!(row.tier));
    result.insert("as_of".into(), json!(as_of));
    result.insert(
        "ruleset".into(),
        json!({"id": row.id, "version": row.version, "name": row.name, "status": row.status,
               "effective_from": row.effective_from, "effective_to": row.effective_to}),
    );
    result.append(&mut body);
    Graded {
        ruleset: row.clone(),
        outcome,
        route,
        score,
        result: Value::Object(result),
    }
}

/// Where the facts come from.
pub enum Subject {
    Enterprise(i32),
    Facts {
        facts: FactSheet,
        holds: Vec<String>,
    },
}

/// One evaluation: the rule set in force (or `ruleset_id`, which may be a draft of that tier).
pub fn evaluate(
    conn: &mut DbConnection,
    cache: &RuleCache,
    tier: &str,
    as_of: NaiveDate,
    subject: Subject,
    ruleset_id: Option<i32>,
    renewal: bool,
) -> AppResult<(Graded, Value)> {
    let row = match ruleset_id {
        Some(id) => {
            let row = rs_rows::find(conn, id)?
                .ok_or_else(|| AppError::field("ruleset_id", "not_found", "no such rule set"))?;
            if row.tier != tier {
                return Err(AppError::field(
                    "ruleset_id",
                    "tier_mismatch",
                    format!("rule set {id} is for tier {}", row.tier),
                ));
            }
            row
        }
        None => in_force(conn, tier, as_of)?,
    };
    let rs: Arc<RuleSet> = cache.get(&row)?;
    let (facts, holds, stored) = match subject {
        Subject::Enterprise(id) => {
            let (facts, stored) = facts_of(conn, id)?;
            let holds = rs_rows::holds(conn, id, as_of)?;
            (facts, holds, stored)
        }
        Subject::Facts { facts, holds } => (facts, holds, Value::Null),
    };
    Ok((
        grade_with(&row, &rs, as_of, &facts, &holds, renewal),
        stored,
    ))
}

/// Every tier with a rule set in force on `as_of`, for one enterprise.
pub fn eligibility(
    conn: &mut DbConnection,
    cache: &RuleCache,
    enterprise_id: i32,
    as_of: NaiveDate,
) -> AppResult<Vec<Value>> {
    let (facts, _) = facts_of(conn, enterprise_id)?;
    let holds = rs_rows::holds(conn, enterprise_id, as_of)?;
    let mut out = Vec::new();
    for row in rs_rows::all_in_force(conn, as_of)? {
        let rs = cache.get(&row)?;
        out.push(grade_with(&row, &rs, as_of, &facts, &holds, false).result);
    }
    Ok(out)
}
