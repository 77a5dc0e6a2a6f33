//! Case files as data (OpenFisca style): checking a rule set against expected outcomes, for
//! `cargo test` and for admins testing a draft through the API before publishing.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::shipped_cases;
use super::{FactSheet, FactValue, Input, Pool, RuleSet, evaluate, evaluate_explained};
use crate::error::FieldError;

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

/// A case document with its facts (and its pool's) parsed through [`FactSheet`].
#[derive(Debug, Clone)]
pub struct Case {
    doc: Value,
    facts: FactSheet,
    pool: Option<Vec<FactSheet>>,
}

impl Case {
    /// Parses a case's `facts` and `pool` as a dry run's facts are parsed; problems are named
    /// `<prefix>facts.<year>.<code>` and `<prefix>pool[j].facts.…`.
    pub fn parse(doc: &Value, today: NaiveDate, prefix: &str) -> Result<Case, Vec<FieldError>> {
        let mut problems = Vec::new();
        let facts = FactSheet::parse_at(&doc["facts"], today, prefix).unwrap_or_else(|e| {
            problems.extend(e);
            FactSheet::new()
        });
        let pool = doc.get("pool").and_then(Value::as_array).map(|tables| {
            let mut parsed = Vec::with_capacity(tables.len());
            for (j, t) in tables.iter().enumerate() {
                match FactSheet::parse_at(t, today, &format!("{prefix}pool[{j}].")) {
                    Ok(s) => parsed.push(s),
                    Err(e) => problems.extend(e),
                }
            }
            parsed
        });
        if problems.is_empty() {
            Ok(Case {
                doc: doc.clone(),
                facts,
                pool,
            })
        } else {
            Err(problems)
        }
    }
}

/// Parses every case, or lists every problem (for cases sent to the API: a 422).
pub fn parse_all(
    cases: &[(String, Value)],
    today: NaiveDate,
) -> Result<Vec<(String, Case)>, Vec<FieldError>> {
    let mut out = Vec::with_capacity(cases.len());
    let mut problems = Vec::new();
    for (name, doc) in cases {
        match Case::parse(doc, today, &format!("{name}.")) {
            Ok(c) => out.push((name.clone(), c)),
            Err(e) => problems.extend(e),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Runs the cases whose `as_of` falls in the rule set's effective range; the others are
/// skipped. A case whose facts do not parse fails, naming the problems.
pub fn run_all(rs: &RuleSet, cases: &[(String, Value)], today: NaiveDate) -> Report {
    let parsed: Vec<(String, Result<Case, Vec<FieldError>>)> = cases
        .iter()
        .map(|(name, doc)| (name.clone(), Case::parse(doc, today, "")))
        .collect();
    report(rs, &parsed)
}

/// Runs parsed cases (see [`run_all`]).
pub fn run_parsed(rs: &RuleSet, cases: Vec<(String, Case)>) -> Report {
    let parsed: Vec<(String, Result<Case, Vec<FieldError>>)> =
        cases.into_iter().map(|(n, c)| (n, Ok(c))).collect();
    report(rs, &parsed)
}

fn report(rs: &RuleSet, cases: &[(String, Result<Case, Vec<FieldError>>)]) -> Report {
    let mut out = Vec::with_capacity(cases.len());
    for (name, case) in cases {
        let (status, failures) = match case {
            Err(problems) => ("failed", problem_lines(problems)),
            Ok(case) => match as_of(&case.doc) {
                Some(d) if !rs.in_force_on(d) => ("skipped", Vec::new()),
                _ => {
                    let f = check_case(rs, case);
                    (if f.is_empty() { "passed" } else { "failed" }, f)
                }
            },
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

/// Re-grades with the shortfall's fact at `needed` (the criterion must pass) and one step
/// below it (above, for an upper bound; the step is the last place of `needed` or of the
/// fact's precision, whichever is finer): that must not pass. So `needed` is the boundary.
fn boundary(
    rs: &RuleSet,
    input: &Input<'_>,
    facts: &FactSheet,
    id: &str,
    sf: &Value,
) -> Vec<String> {
    let (Some(code), Some(year), Some(needed), Some(gap)) = (
        sf["fact"].as_str(),
        sf["year"].as_i64().and_then(|y| i32::try_from(y).ok()),
        dec(&sf["needed"]),
        Some(dec(&sf["gap"]).unwrap_or(Decimal::ONE)),
    ) else {
        return vec![format!("shortfall {id}: incomplete {sf}")];
    };
    let integral = crate::catalog::INDICATORS
        .iter()
        .find(|i| i.code == code)
        .is_some_and(|i| i.kind.integral());
    let dp = if integral { 0 } else { needed.scale().max(4) };
    let step = Decimal::new(1, dp);
    let below = if gap.is_sign_negative() {
        needed + step
    } else {
        needed - step
    };
    let mut out = Vec::new();
    for (v, want) in [(needed, Some(true)), (below, None)] {
        let Some(t) = facts.with(year, code, FactValue::Num(v)) else {
            return vec![format!("shortfall {id}: unknown fact {code}")];
        };
        let inp = Input {
            facts: t.view(),
            ..*input
        };
        let ev = evaluate(rs, &inp, true);
        let passed = ev
            .criteria
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.passed);
        let ok = match want {
            Some(true) => passed == Some(true),
            _ => passed != Some(true),
        };
        if !ok {
            out.push(format!(
                "shortfall {id}: with {code}[{year}] = {v} the criterion {} (passed {passed:?})",
                if want.is_some() {
                    "does not pass"
                } else {
                    "still passes"
                }
            ));
        }
    }
    out
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

fn problem_lines(problems: &[FieldError]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("{}: {} ({})", p.field, p.message, p.code))
        .collect()
}

/// Evaluates one case document against `rs` and returns what differs from `expected` (empty
/// when it passes). Trace on and off must agree. The case's `ruleset` name is the caller's
/// business (it names a file, which a stored draft does not have).
pub fn check(rs: &RuleSet, case: &Value, today: NaiveDate) -> Vec<String> {
    match Case::parse(case, today, "") {
        Ok(c) => check_case(rs, &c),
        Err(problems) => problem_lines(&problems),
    }
}

fn check_case(rs: &RuleSet, parsed: &Case) -> Vec<String> {
    let mut errs = Vec::new();
    let case = &parsed.doc;
    let facts = &parsed.facts;
    let Some(as_of) = as_of(case) else {
        return vec!["`as_of` is missing or not a date".into()];
    };
    let holds: Vec<String> = case["holds"].as_array().map_or_else(Vec::new, |a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    });
    let pool = parsed.pool.as_ref().map(|tables| {
        Pool::build(
            rs,
            as_of,
            tables
                .iter()
                .chain(std::iter::once(facts))
                .map(FactSheet::view),
        )
    });
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
    let explained = evaluate_explained(rs, &input);
    if (
        explained.outcome,
        explained.route,
        explained.score,
        &explained.missing,
    ) != (full.outcome, full.route, full.score, &full.missing)
    {
        errs.push("explained and plain results disagree".into());
    }
    for (id, want) in exp
        .get("shortfall")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(c) = explained.criteria.iter().find(|c| c.id == id) else {
            errs.push(format!("shortfall {id}: not in the result"));
            continue;
        };
        let have = serde_json::to_value(&c.shortfall).unwrap_or(Value::Null);
        if want.is_null() {
            if !have.is_null() {
                errs.push(format!("shortfall {id}: expected null, got {have}"));
            }
            continue;
        }
        for key in ["needed", "actual", "gap"] {
            if let Some(w) = want.get(key)
                && dec(w) != dec(&have[key])
            {
                errs.push(format!(
                    "shortfall {id}.{key}: expected {w}, got {}",
                    have[key]
                ));
            }
        }
        for key in ["fact", "year"] {
            if let Some(w) = want.get(key)
                && *w != have[key]
            {
                errs.push(format!(
                    "shortfall {id}.{key}: expected {w}, got {}",
                    have[key]
                ));
            }
        }
        errs.extend(boundary(rs, &input, facts, id, &have));
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
