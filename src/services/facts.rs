//! Yearly facts: validation against the indicator catalog, storage with a revision history
//! (who changed what, when), and loading for the grading engine.

use crate::db::{DbConnection, write_tx};
use crate::engine::FactSheet;
use crate::error::{AppError, AppResult};
use crate::models::facts as rows;
use crate::models::now;
use crate::services::policy::{Action, Caller, Resource};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

pub use crate::engine::MIN_YEAR;

/// An exact JSON number for a decimal (serde_json's `arbitrary_precision` keeps its digits).
pub fn decimal_json(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::String(d.to_string()))
}

/// Validates one year's facts through the one fact sheet parser ([`FactSheet::parse_year`]).
/// Returns the canonical object (decimals as strings, bools as bools, nulls dropped) or every
/// problem, each naming its field (`year`, `facts.<code>`).
pub fn validate(
    year: i32,
    facts: &Map<String, Value>,
    today: NaiveDate,
) -> AppResult<Map<String, Value>> {
    FactSheet::parse_year(year, facts, today)
        .map(|sheet| sheet.year_json(year))
        .map_err(AppError::Validation)
}

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

/// Replaces one year's facts (PUT semantics) with a checked sheet's values for `year`; keeps
/// the revision; records the audit entry. Returns the revision, whether the year was new, and
/// the stored (canonical) facts.
pub fn put_year(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise_id: i32,
    year: i32,
    sheet: &FactSheet,
) -> AppResult<(i32, bool, Map<String, Value>)> {
    authorize_edit(conn, caller, enterprise_id)?;
    let actor = caller.actor();
    let actor = actor.as_str();
    let facts = sheet.year_json(year);
    write_tx(conn, |conn| {
        let existing = rows::get(conn, enterprise_id, year)?;
        write_year(
            conn,
            actor,
            "facts.put",
            enterprise_id,
            year,
            existing,
            facts,
        )
    })
}

/// The policy for writing an enterprise's facts: 404 for an enterprise the caller may not see
/// (or that does not exist), 403 for read-only access.
pub fn authorize_edit(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise_id: i32,
) -> AppResult<()> {
    let target = Resource::Enterprise(enterprise_id);
    caller.may(Action::ReadEnterprise, &target)?;
    crate::models::enterprise::find(conn, enterprise_id)?.ok_or(AppError::NotFound)?;
    caller.may(Action::EditEnterprise, &target)
}

/// Merges `{code: value | null}` into one year's facts (PATCH semantics: `null` removes a
/// code, others replace), checks the merged year as `PUT` would, and stores it.
pub fn patch_year(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise_id: i32,
    year: i32,
    patch: &Map<String, Value>,
    today: NaiveDate,
) -> AppResult<(i32, bool, Map<String, Value>)> {
    authorize_edit(conn, caller, enterprise_id)?;
    let actor = caller.actor();
    let actor = actor.as_str();
    write_tx(conn, |conn| {
        let existing = rows::get(conn, enterprise_id, year)?;
        let mut merged: Map<String, Value> = existing
            .as_ref()
            .and_then(|e| serde_json::from_str(&e.facts).ok())
            .unwrap_or_default();
        for (code, v) in patch {
            if v.is_null() {
                merged.remove(code);
            } else {
                merged.insert(code.clone(), v.clone());
            }
        }
        let sheet = FactSheet::parse_year(year, &merged, today).map_err(AppError::Validation)?;
        let facts = sheet.year_json(year);
        write_year(
            conn,
            actor,
            "facts.patch",
            enterprise_id,
            year,
            existing,
            facts,
        )
    })
}

/// Stores a year's canonical facts with its revision and audit entry (inside a transaction).
fn write_year(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    enterprise_id: i32,
    year: i32,
    existing: Option<rows::FactYear>,
    facts: Map<String, Value>,
) -> AppResult<(i32, bool, Map<String, Value>)> {
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
        action,
        "facts",
        format!("{enterprise_id}/{year}"),
        existing.as_ref().map(|_| &before),
        Some(&facts),
    )?;
    Ok((revision, existing.is_none(), facts))
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

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default()
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
            day(),
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
            day(),
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
            fields(validate(1800, &Map::new(), day())),
            vec![("year".into(), "range".into())]
        );
    }

    #[test]
    fn huge_numbers_are_refused_not_rounded() {
        let errs = fields(validate(
            2025,
            &obj(json!({"operating_revenue": "1e400"})),
            day(),
        ));
        assert_eq!(
            errs,
            vec![("facts.operating_revenue".into(), "type".into())]
        );
    }
}
