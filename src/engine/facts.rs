//! Facts per fiscal year, stored densely by catalog position so evaluation never hashes a code.

use rust_decimal::Decimal;
use serde_json::Value;

use super::Problem;
use super::num::parse_decimal;
use crate::catalog::{INDICATORS, Kind};

/// A fact value: an exact decimal or a yes/no. Range checks against the catalog happen where
/// facts are uploaded; the engine only needs the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactValue {
    Num(Decimal),
    Bool(bool),
}

/// A fact code that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fact code `{0}`")]
pub struct UnknownCode(pub String);

/// The position of `code` in [`INDICATORS`]; rule sets and fact tables both index by it.
pub fn indicator_index(code: &str) -> Option<usize> {
    INDICATORS.iter().position(|i| i.code == code)
}

/// An enterprise's facts: one row of `INDICATORS.len()` cells per fiscal year, for the
/// contiguous years from the first to the last year on file, in one allocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactTable {
    first_year: i32,
    /// Whether each year row holds at least one value (rows between filed years stay empty).
    filed: Vec<bool>,
    cells: Vec<Option<FactValue>>,
}

impl FactTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&mut self, year: i32, code: &str, v: FactValue) -> Result<(), UnknownCode> {
        let idx = indicator_index(code).ok_or_else(|| UnknownCode(code.to_owned()))?;
        self.set_idx(year, idx, v);
        Ok(())
    }

    /// Sets a value by catalog position (for loaders that resolved codes once with
    /// [`indicator_index`]); a position outside the catalog is ignored.
    pub fn set_idx(&mut self, year: i32, idx: usize, v: FactValue) {
        if idx >= INDICATORS.len() {
            return;
        }
        let row = self.row_for(year);
        self.filed[row] = true;
        self.cells[row * INDICATORS.len() + idx] = Some(v);
    }

    /// Removes a value (used by tests and by callers editing a table in place).
    pub fn clear(&mut self, year: i32, code: &str) {
        if let (Some(idx), Some(row)) = (indicator_index(code), self.row(year)) {
            self.cells[row * INDICATORS.len() + idx] = None;
        }
    }

    #[inline]
    pub fn get(&self, year: i32, idx: usize) -> Option<FactValue> {
        let row = self.row(year)?;
        self.cells
            .get(row * INDICATORS.len() + idx)
            .copied()
            .flatten()
    }

    /// The fiscal years that hold at least one value, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.filed
            .iter()
            .enumerate()
            .filter(|(_, f)| **f)
            .map(|(i, _)| self.first_year + i as i32)
    }

    #[inline]
    fn row(&self, year: i32) -> Option<usize> {
        let off = year.checked_sub(self.first_year)?;
        let off = usize::try_from(off).ok()?;
        (off < self.filed.len()).then_some(off)
    }

    fn row_for(&mut self, year: i32) -> usize {
        let n = INDICATORS.len();
        if self.filed.is_empty() {
            self.first_year = year;
            self.filed.push(false);
            self.cells.resize(n, None);
            return 0;
        }
        if year < self.first_year {
            let extra = (self.first_year - year) as usize;
            self.filed.splice(0..0, std::iter::repeat_n(false, extra));
            self.cells
                .splice(0..0, std::iter::repeat_n(None, extra * n));
            self.first_year = year;
        }
        let row = (year - self.first_year) as usize;
        if row >= self.filed.len() {
            self.filed.resize(row + 1, false);
            self.cells.resize((row + 1) * n, None);
        }
        row
    }

    /// Reads `{"2025": {"rd_expense": 120.5, "high_tech_enterprise": true}}`. Numbers may be JSON
    /// numbers or strings (exact either way); bools must be JSON bools. Every problem is
    /// reported with its path; `null` values are skipped (an explicit "not known").
    pub fn from_json(doc: &Value) -> Result<Self, Vec<Problem>> {
        let mut table = FactTable::new();
        let mut problems = Vec::new();
        let Some(years) = doc.as_object() else {
            return Err(vec![Problem::new(
                "$",
                "type",
                "facts must be an object keyed by fiscal year",
            )]);
        };
        for (year_key, row) in years {
            let ypath = format!("$.{year_key}");
            let Ok(year) = year_key.parse::<i32>() else {
                problems.push(Problem::new(
                    &ypath,
                    "bad_year",
                    format!("`{year_key}` is not a fiscal year"),
                ));
                continue;
            };
            let Some(row) = row.as_object() else {
                problems.push(Problem::new(
                    &ypath,
                    "type",
                    "a year's facts must be an object of code: value",
                ));
                continue;
            };
            for (code, v) in row {
                let path = format!("{ypath}.{code}");
                let Some(idx) = indicator_index(code) else {
                    problems.push(Problem::new(
                        &path,
                        "unknown_fact",
                        format!("`{code}` is not in the indicator catalog"),
                    ));
                    continue;
                };
                let kind = INDICATORS[idx].kind;
                let value = match (kind, v) {
                    (_, Value::Null) => continue,
                    (Kind::Bool, Value::Bool(b)) => FactValue::Bool(*b),
                    (Kind::Bool, _) => {
                        problems.push(Problem::new(
                            &path,
                            "type",
                            format!("`{code}` takes true or false"),
                        ));
                        continue;
                    }
                    (_, Value::Number(n)) => match parse_decimal(&n.to_string()) {
                        Some(d) => FactValue::Num(d),
                        None => {
                            problems.push(Problem::new(
                                &path,
                                "type",
                                format!("{n} is not an exact decimal"),
                            ));
                            continue;
                        }
                    },
                    (_, Value::String(s)) => match parse_decimal(s) {
                        Some(d) => FactValue::Num(d),
                        None => {
                            problems.push(Problem::new(
                                &path,
                                "type",
                                format!("\"{s}\" is not a decimal number"),
                            ));
                            continue;
                        }
                    },
                    _ => {
                        problems.push(Problem::new(
                            &path,
                            "type",
                            format!("`{code}` takes a number"),
                        ));
                        continue;
                    }
                };
                table.set_idx(year, idx, value);
            }
        }
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn reads_numbers_strings_and_bools() {
        let t = FactTable::from_json(&json!({
            "2025": {"rd_expense": "120.189", "operating_revenue": 4006.3, "high_tech_enterprise": true},
            "2023": {"employees": 10}
        }))
        .unwrap();
        let rd = indicator_index("rd_expense").unwrap();
        assert_eq!(t.get(2025, rd), Some(FactValue::Num(dec!(120.189))));
        assert_eq!(t.get(2024, rd), None);
        assert_eq!(t.years().collect::<Vec<_>>(), vec![2023, 2025]);
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let err = FactTable::from_json(&json!({
            "2025": {"nope": 1, "high_tech_enterprise": 1, "rd_expense": "x"},
            "soon": {}
        }))
        .unwrap_err();
        let paths: Vec<&str> = err.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "$.2025.nope",
                "$.2025.high_tech_enterprise",
                "$.2025.rd_expense",
                "$.soon"
            ]
        );
    }
}
