//! Case files as data (OpenFisca style): checking a rule set against expected outcomes, for
//! `cargo test` and for admins testing a draft through the API before publishing.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::shipped_cases;
use super::{FactTable, Input, Pool, RuleSet, evaluate};

/// The verdict on one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub name: String,
    /// `passed`, `failed`, or `skipped` (the rule set is not in force on the case's `as_of`).
    pub status: &'static str,
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub cases: Vec<CaseReport>,
}

/// The shipped case files of a tier, as `("<tier>/<file stem>", document)`.
pub fn shipped_for_tier(tier: &str) -> Vec<(String, Value)> {
    shipped_cases::all()
        .into_iter()
        .filter(|(name, _)| name.split_once('/').is_some_and(|(t, _)| t == tier))
        .map(|(name, text)| (name, serde_json::from_str(text).unwrap_or(Value::Null)))
        .collect()
}

/// Every embedded case name (`<tier>/<file stem>`), so a test can compare it with the files.
pub fn shipped_names() -> Vec<String> {
    shipped_cases::all()
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Runs the cases whose `as_of` falls in the rule set's effective range; the others are skipped.
pub fn run_all(rs: &RuleSet, cases: &[(String, Value)]) -> Report {
    let mut out = Vec::with_capacity(cases.len());
    for (name, case) in cases {
        let as_of = as_of(case);
        let (status, failures) = match as_of {
            Some(d) if !rs.in_force_on(d) => ("skipped", Vec::new()),
            _ => {
                let f = check(rs, case);
                (if f.is_empty() { "passed" } else { "failed" }, f)
            }
        };
        out.push(CaseReport {
            name: name.clone(),
            status,
            failures,
        });
    }
    let count = |s: &str| out.iter().filter(|c| c.status == s).count();
    Report {
        total: out.len(),
        passed: count("passed"),
        failed: count("failed"),
        skipped: count("skipped"),
        cases: out,
    }
}

fn as_of(case: &Value) -> Option<NaiveDate> {
    case["as_of"]
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Evaluates one case document against `rs` and returns what differs from `expected` (empty
/// when it passes). Trace on and off must agree. The case's `ruleset` name is the caller's
/// business (it names a file, which a stored draft does not have).
pub fn check(rs: &RuleSet, case: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let Some(as_of) = as_of(case) else {
        return vec!["`as_of` is missing or not a date".into()];
    };
    let facts = match FactTable::from_json(&case["facts"]) {
        Ok(f) => f,
        Err(ps) => return ps.iter().map(|p| format!("facts {p}")).collect(),
    };
    let holds: Vec<String> = case["holds"].as_array().map_or_else(Vec::new, |a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    });
    let pool = match case.get("pool").and_then(Value::as_array) {
        None => None,
        Some(tables) => {
            let mut parsed = Vec::new();
            for t in tables {
                match FactTable::from_json(t) {
                    Ok(f) => parsed.push(f),
                    Err(ps) => return ps.iter().map(|p| format!("pool {p}")).collect(),
                }
            }
            Some(Pool::build(
                rs,
                as_of,
                parsed.iter().chain(std::iter::once(&facts)),
            ))
        }
    };
    let renewal = case["renewal"].as_bool().unwrap_or(false);
    let input = Input {
        as_of,
        facts: facts.view(),
        holds: &holds,
        renewal,
        pool: pool.as_ref(),
    };
    let full = evaluate(rs, &input, true);
    let quick = evaluate(rs, &input, false);
    if (
        full.outcome,
        full.route,
        full.score,
        &full.missing,
        full.grade,
    ) != (
        quick.outcome,
        quick.route,
        quick.score,
        &quick.missing,
        quick.grade,
    ) {
        errs.push("trace on and off disagree".into());
    }
    let got = match serde_json::to_value(&full) {
        Ok(v) => v,
        Err(e) => return vec![format!("serialize: {e}")],
    };
    let exp = &case["expected"];
    for key in ["outcome", "route", "grade", "scheme", "stage", "missing"] {
        if let Some(want) = exp.get(key) {
            let have = got.get(key).unwrap_or(&Value::Null);
            if have != want {
                errs.push(format!("{key}: expected {want}, got {have}"));
            }
        }
    }
    for key in ["score", "score_max"] {
        if let Some(want) = exp.get(key) {
            let have = got.get(key).unwrap_or(&Value::Null);
            if dec(want) != dec(have) {
                errs.push(format!("{key}: expected {want}, got {have}"));
            }
        }
    }
    let by_id = |id: &str| full.criteria.iter().find(|c| c.id == id);
    for (id, want) in exp
        .get("criteria")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match by_id(id) {
            None => errs.push(format!("criterion {id}: not in the result")),
            Some(c) => {
                let have = c.passed.map_or(Value::Null, Value::Bool);
                if have != *want {
                    errs.push(format!(
                        "criterion {id}: expected passed {want}, got {have} (actual {:?}, missing {:?})",
                        c.actual.and_then(|a| a.decimal()),
                        c.missing
                    ));
                }
            }
        }
    }
    for (id, want) in exp
        .get("points")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match by_id(id) {
            None => errs.push(format!("points {id}: not in the result")),
            Some(c) if c.points != dec(want) => {
                errs.push(format!("points {id}: expected {want}, got {:?}", c.points))
            }
            Some(_) => {}
        }
    }
    for id in exp
        .get("absent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if by_id(id).is_some() {
            errs.push(format!("criterion {id} should not apply"));
        }
    }
    errs
}
