//! Yearly facts: validation against the indicator catalog, storage with a revision history
//! (who changed what, when), and loading for the grading engine.

use crate::catalog::{self, Kind};
use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::facts as rows;
use crate::models::now;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::str::FromStr;

/// Oldest fiscal year accepted.
pub const MIN_YEAR: i32 = 1990;

/// Parses a decimal from a JSON number or string, exactly (no binary floating point).
pub fn parse_decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    if text.is_empty() || text.len() > 40 {
        return None;
    }
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// An exact JSON number for a decimal (serde_json's `arbitrary_precision` keeps its digits).
pub fn decimal_json(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::String(d.to_string()))
}

/// Validates one year's facts. Returns the canonical object (decimals as strings, bools
/// as bools, nulls dropped) or every problem, each naming its field.
pub fn validate(year: i32, facts: &Map<String, Value>) -> AppResult<Map<String, Value>> {
    let mut errors = Vec::new();
    let this_year = chrono::Utc::now().year_ce().1 as i32;
    if year < MIN_YEAR || year > this_year + 1 {
        errors.push(FieldError::new(
            "year",
            "range",
            format!("year must be between {MIN_YEAR} and {}", this_year + 1),
        ));
    }
    let mut out = Map::new();
    let mut numbers: BTreeMap<&str, Decimal> = BTreeMap::new();
    for (code, value) in facts {
        let field = format!("facts.{code}");
        let Some(ind) = catalog::indicator(code) else {
            errors.push(FieldError::new(
                field,
                "unknown_indicator",
                format!("{code:?} is not in the indicator catalog (GET /api/v1/indicators)"),
            ));
            continue;
        };
        if value.is_null() {
            continue;
        }
        if ind.kind == Kind::Bool {
            match value {
                Value::Bool(b) => {
                    out.insert(code.clone(), Value::Bool(*b));
                }
                _ => errors.push(FieldError::new(field, "type", "expected true or false")),
            }
            continue;
        }
        let Some(d) = parse_decimal(value) else {
            let msg = match value {
                Value::Number(_) | Value::String(_) => {
                    "not a decimal number within range (at most 28 significant digits)"
                }
                _ => "expected a number (or a decimal string)",
            };
            errors.push(FieldError::new(field, "type", msg));
            continue;
        };
        if ind.kind.integral() && !d.fract().is_zero() {
            errors.push(FieldError::new(
                field,
                "integer",
                format!("{} must be a whole number", ind.kind.as_str()),
            ));
            continue;
        }
        if let Some(min) = ind.min_decimal()
            && d < min
        {
            let code_name = if min.is_zero() { "negative" } else { "range" };
            errors.push(FieldError::new(
                field,
                code_name,
                format!("must be at least {min} ({})", ind.unit),
            ));
            continue;
        }
        if let Some(max) = ind.max_decimal()
            && d > max
        {
            errors.push(FieldError::new(
                field,
                "range",
                format!("must be at most {max} ({})", ind.unit),
            ));
            continue;
        }
        let d = d.normalize();
        numbers.insert(ind.code, d);
        out.insert(code.clone(), Value::String(d.to_string()));
    }
    // Cross-field consistency: a part never exceeds its whole.
    for (part, whole) in [
        ("rd_staff", "employees"),
        ("st_staff", "employees"),
        ("main_business_revenue", "operating_revenue"),
        ("ip_class1_self", "ip_class1"),
        ("ip_class1_high_value", "ip_class1"),
    ] {
        if let (Some(p), Some(w)) = (numbers.get(part), numbers.get(whole))
            && p > w
        {
            errors.push(FieldError::new(
                format!("facts.{part}"),
                "consistency",
                format!("{part} ({p}) cannot exceed {whole} ({w})"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}

use chrono::Datelike;

/// Stored JSON → wire JSON: decimals become exact JSON numbers.
pub fn to_wire(stored: &str) -> Value {
    let parsed: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    let mut out = Map::new();
    for (k, v) in parsed {
        let wire = match &v {
            Value::String(s) => Decimal::from_str(s).map(decimal_json).unwrap_or(v.clone()),
            _ => v.clone(),
        };
        out.insert(k, wire);
    }
    Value::Object(out)
}

/// The change between two versions of a year's facts: `{code: {from, to}}`.
fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Value {
    let mut changes = Map::new();
    for (k, v) in after {
        if before.get(k) != Some(v) {
            changes.insert(
                k.clone(),
                serde_json::json!({"from": before.get(k), "to": v}),
            );
        }
    }
    for (k, v) in before {
        if !after.contains_key(k) {
            changes.insert(k.clone(), serde_json::json!({"from": v, "to": null}));
        }
    }
    Value::Object(changes)
}

/// Replaces one year's facts (PUT semantics); keeps the revision; records the audit entry.
/// Returns the revision number and whether the year was new.
pub fn put_year(
    conn: &mut DbConnection,
    actor: &str,
    enterprise_id: i32,
    year: i32,
    facts: Map<String, Value>,
) -> AppResult<(i32, bool)> {
    write_tx(conn, |conn| {
        let existing = rows::get(conn, enterprise_id, year)?;
        let before: Map<String, Value> = existing
            .as_ref()
            .and_then(|e| serde_json::from_str(&e.facts).ok())
            .unwrap_or_default();
        let changes = diff(&before, &facts);
        let facts_text = Value::Object(facts.clone()).to_string();
        let revision = rows::put(
            conn,
            enterprise_id,
            year,
            &facts_text,
            &changes.to_string(),
            existing.as_ref().map(|e| e.revision),
            actor,
            now(),
        )
        .map_err(|e| match e {
            diesel::result::Error::NotFound => {
                AppError::Conflict("facts changed concurrently; retry".into())
            }
            other => other.into(),
        })?;
        crate::services::audit::record(
            conn,
            actor,
            "facts.put",
            "facts",
            format!("{enterprise_id}/{year}"),
            existing.as_ref().map(|_| &before),
            Some(&facts),
        )?;
        Ok((revision, existing.is_none()))
    })
}

/// Every year on file, as `{"2024": {...}, "2025": {...}}` in the stored (string) form.
pub fn stored_years(conn: &mut DbConnection, enterprise_id: i32) -> AppResult<Map<String, Value>> {
    let mut out = Map::new();
    for fy in rows::for_enterprise(conn, enterprise_id)? {
        let v: Value = serde_json::from_str(&fy.facts).unwrap_or(Value::Object(Map::new()));
        out.insert(fy.year.to_string(), v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn fields(r: AppResult<Map<String, Value>>) -> Vec<(String, String)> {
        match r {
            Err(AppError::Validation(e)) => e.into_iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_exact_decimals_from_numbers_and_strings() {
        let ok = validate(
            2025,
            &obj(
                json!({"operating_revenue": 4006.30, "rd_expense": "120.189", "high_tech_enterprise": true}),
            ),
        );
        let ok = ok.unwrap_or_default();
        assert_eq!(ok["operating_revenue"], json!("4006.3"));
        assert_eq!(ok["rd_expense"], json!("120.189"));
        assert_eq!(ok["high_tech_enterprise"], json!(true));
    }

    #[test]
    fn each_problem_names_its_field() {
        let errs = fields(validate(
            2025,
            &obj(json!({
                "bogus": 1, "employees": 10, "rd_staff": 11, "rd_expense": -1,
                "digital_level": 9, "high_tech_enterprise": "yes", "ip_class1": 1.5,
            })),
        ));
        for expected in [
            ("facts.bogus", "unknown_indicator"),
            ("facts.rd_staff", "consistency"),
            ("facts.rd_expense", "negative"),
            ("facts.digital_level", "range"),
            ("facts.high_tech_enterprise", "type"),
            ("facts.ip_class1", "integer"),
        ] {
            assert!(
                errs.contains(&(expected.0.into(), expected.1.into())),
                "{expected:?} not in {errs:?}"
            );
        }
        assert_eq!(
            fields(validate(1800, &Map::new())),
            vec![("year".into(), "range".into())]
        );
    }

    #[test]
    fn huge_numbers_are_refused_not_rounded() {
        let errs = fields(validate(2025, &obj(json!({"operating_revenue": "1e400"}))));
        assert_eq!(
            errs,
            vec![("facts.operating_revenue".into(), "type".into())]
        );
    }
}
