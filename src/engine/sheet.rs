//! The one way into the engine: a fact sheet parsed and checked once (catalog codes, each
//! indicator's kind and range, fiscal years 1990..=this year + 1, exact decimals, parts not
//! above their wholes), whatever the facts came from: `PUT`/`PATCH` of a year, an import, a
//! dry run, a rule-set case run, the batch, or the registry's stored rows.
//!
//! [`FactSheet`] is the only type outside the engine that can build a [`FactTable`] or fill a
//! [`FactBatch`](super::FactBatch), and the engine grades only those (through a
//! [`Facts`] view), so an unchecked path into [`evaluate`](super::evaluate) does not compile.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

use super::facts::{FactTable, FactValue, Facts, indicator_index};
use crate::catalog::{INDICATORS, Kind};
use crate::error::FieldError;

/// Oldest fiscal year accepted.
pub const MIN_YEAR: i32 = 1990;

/// At most this many problems are reported for one sheet (the rest are counted in the last).
const MAX_PROBLEMS: usize = 100;

/// Longest text accepted as a number (28 digits, a sign, a point and an exponent fit).
const MAX_NUMBER_TEXT: usize = 40;

/// Cross-field consistency: a part never exceeds its whole.
const PARTS: [(&str, &str); 5] = [
    ("rd_staff", "employees"),
    ("st_staff", "employees"),
    ("main_business_revenue", "operating_revenue"),
    ("ip_class1_self", "ip_class1"),
    ("ip_class1_high_value", "ip_class1"),
];

/// The newest fiscal year a sheet may hold when today is `today`.
pub fn max_year(today: NaiveDate) -> i32 {
    today.year() + 1
}

/// An enterprise's facts by fiscal year, checked against the catalog. See the module comment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactSheet {
    pub(super) table: FactTable,
}

/// Collects problems up to [`MAX_PROBLEMS`].
struct Problems {
    list: Vec<FieldError>,
    dropped: usize,
}

impl Problems {
    fn new() -> Self {
        Problems {
            list: Vec::new(),
            dropped: 0,
        }
    }

    fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(FieldError::new(field, code, message));
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<FieldError> {
        if self.dropped > 0 {
            self.list.push(FieldError::new(
                "facts",
                "too_many_problems",
                format!("{} more problems not listed", self.dropped),
            ));
        }
        self.list
    }
}

/// Parses a decimal from a JSON number or string, exactly: a value that does not fit a
/// decimal's 28 digits (or would be rounded to fit) is refused, never rounded.
pub fn exact_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => parse_exact(&n.to_string()),
        Value::String(s) => parse_exact(s.trim()),
        _ => None,
    }
}

/// The digits of `text` that are ASCII digits, into `buf` (at most its length); the count.
fn digits_into(text: &str, buf: &mut [u8; MAX_NUMBER_TEXT]) -> usize {
    let mut n = 0;
    for b in text.bytes().filter(u8::is_ascii_digit) {
        if n < buf.len() {
            buf[n] = b;
            n += 1;
        }
    }
    n
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let start = d.iter().position(|b| *b != b'0').unwrap_or(d.len());
    let end = d.iter().rposition(|b| *b != b'0').map_or(start, |e| e + 1);
    &d[start..end.max(start)]
}

/// `-?[0-9]+(\.[0-9]+)?` with at most 18 digits: exactly representable, read without the
/// general parser (the common stored value).
fn parse_plain(text: &str) -> Option<Decimal> {
    let b = text.as_bytes();
    let neg = b.first() == Some(&b'-');
    let body = &b[usize::from(neg)..];
    let (int, frac) = match body.iter().position(|c| *c == b'.') {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    let frac = frac.unwrap_or(&[]);
    if int.is_empty()
        || (text.contains('.') && frac.is_empty())
        || int.len() + frac.len() > 18
        || !int.iter().chain(frac).all(u8::is_ascii_digit)
    {
        return None;
    }
    let m = int
        .iter()
        .chain(frac)
        .fold(0i64, |m, d| m * 10 + i64::from(d - b'0'));
    Some(Decimal::new(
        if neg { -m } else { m },
        u32::try_from(frac.len()).ok()?,
    ))
}

fn parse_exact(text: &str) -> Option<Decimal> {
    if let Some(d) = parse_plain(text) {
        return Some(d);
    }
    if text.is_empty()
        || text.len() > MAX_NUMBER_TEXT
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    let (significand, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    // The significant digits written, without sign, point, leading or trailing zeros: a
    // decimal that holds the value exactly has the same ones (compared on the stack: this
    // runs for every stored value a batch reads).
    let mut buf = [0u8; MAX_NUMBER_TEXT];
    let n = digits_into(significand, &mut buf);
    if n == 0 {
        return None;
    }
    let written = trim_zeros(&buf[..n]);
    let d = match exponent {
        None => Decimal::from_str(text).ok()?,
        Some(e) => {
            e.parse::<i32>().ok()?;
            Decimal::from_scientific(text).ok()?
        }
    };
    let mut kept_buf = [0u8; MAX_NUMBER_TEXT];
    let mut m = d.mantissa().unsigned_abs();
    let mut k = kept_buf.len();
    loop {
        k -= 1;
        kept_buf[k] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 || k == 0 {
            break;
        }
    }
    (trim_zeros(&kept_buf[k..]) == written).then_some(d)
}

/// One stored or sent value, before its indicator's checks.
#[derive(Debug, Clone)]
enum Scalar<'a> {
    Null,
    Bool(bool),
    /// A JSON number, as written.
    Num(std::borrow::Cow<'a, str>),
    Str(&'a str),
    /// An array or object.
    Other,
}

impl<'a> Scalar<'a> {
    fn of(v: &'a Value) -> Scalar<'a> {
        match v {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => Scalar::Num(std::borrow::Cow::Owned(n.to_string())),
            Value::String(s) => Scalar::Str(s),
            _ => Scalar::Other,
        }
    }
}

/// Each indicator's valid range as decimals, parsed once (checked for every value read).
fn bounds(idx: usize) -> (Option<Decimal>, Option<Decimal>) {
    static BOUNDS: std::sync::OnceLock<Vec<(Option<Decimal>, Option<Decimal>)>> =
        std::sync::OnceLock::new();
    BOUNDS
        .get_or_init(|| {
            INDICATORS
                .iter()
                .map(|i| (i.min_decimal(), i.max_decimal()))
                .collect()
        })
        .get(idx)
        .copied()
        .unwrap_or((None, None))
}

/// One value checked against its indicator: `Ok(None)` for `null` (not known).
fn check_value(
    code: &str,
    idx: usize,
    v: &Scalar<'_>,
) -> Result<Option<FactValue>, (&'static str, String)> {
    let ind = &INDICATORS[idx];
    if matches!(v, Scalar::Null) {
        return Ok(None);
    }
    if ind.kind == Kind::Bool {
        return match v {
            Scalar::Bool(b) => Ok(Some(FactValue::Bool(*b))),
            _ => Err(("type", format!("`{code}` takes true or false"))),
        };
    }
    let d = match v {
        Scalar::Num(t) => parse_exact(t),
        Scalar::Str(t) => parse_exact(t.trim()),
        _ => None,
    };
    let Some(d) = d else {
        let msg = match v {
            Scalar::Num(_) | Scalar::Str(_) => {
                "not a decimal number within range (at most 28 significant digits)"
            }
            _ => "expected a number (or a decimal string)",
        };
        return Err(("type", msg.to_string()));
    };
    if ind.kind.integral() && !d.fract().is_zero() {
        return Err((
            "integer",
            format!("{} must be a whole number", ind.kind.as_str()),
        ));
    }
    let (min, max) = bounds(idx);
    if let Some(min) = min
        && d < min
    {
        let c = if min.is_zero() { "negative" } else { "range" };
        return Err((c, format!("must be at least {min} ({})", ind.unit)));
    }
    if let Some(max) = max
        && d > max
    {
        return Err(("range", format!("must be at most {max} ({})", ind.unit)));
    }
    Ok(Some(FactValue::Num(d.normalize())))
}

/// A stored row as the service writes it: a flat JSON object of catalog codes, each once, to
/// numbers, plain strings, booleans or null. Read without building a `Value`; `None` for any
/// other shape (an unknown or repeated code, an escape, nesting), which then goes through
/// serde_json like every other input, so both paths accept and report the same.
fn scan_flat(text: &str) -> Option<Vec<(&str, usize, Scalar<'_>)>> {
    let b = text.as_bytes();
    let mut i = 0;
    let ws = |i: &mut usize| {
        while *i < b.len() && matches!(b[*i], b' ' | b'\n' | b'\r' | b'\t') {
            *i += 1;
        }
    };
    let string = |i: &mut usize| -> Option<&str> {
        if b.get(*i) != Some(&b'"') {
            return None;
        }
        let start = *i + 1;
        let len = b[start..]
            .iter()
            .position(|c| *c == b'"' || *c == b'\\' || *c < 0x20)?;
        if b[start + len] != b'"' {
            return None;
        }
        *i = start + len + 1;
        text.get(start..start + len)
    };
    let mut out = Vec::with_capacity(32);
    let mut seen = 0u64;
    ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    ws(&mut i);
    if b.get(i) == Some(&b'}') {
        i += 1;
        ws(&mut i);
        return (i == b.len()).then_some(out);
    }
    loop {
        ws(&mut i);
        let code = string(&mut i)?;
        let idx = super::facts::indicator_index(code)?;
        let bit = 1u64.checked_shl(u32::try_from(idx).ok()?)?;
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        ws(&mut i);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        ws(&mut i);
        let v = match b.get(i)? {
            b'"' => Scalar::Str(string(&mut i)?),
            b't' if b[i..].starts_with(b"true") => {
                i += 4;
                Scalar::Bool(true)
            }
            b'f' if b[i..].starts_with(b"false") => {
                i += 5;
                Scalar::Bool(false)
            }
            b'n' if b[i..].starts_with(b"null") => {
                i += 4;
                Scalar::Null
            }
            _ => {
                let start = i;
                while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                let t = text.get(start..i)?;
                if !json_number(t) {
                    return None;
                }
                Scalar::Num(std::borrow::Cow::Borrowed(t))
            }
        };
        out.push((code, idx, v));
        ws(&mut i);
        match b.get(i)? {
            b',' => i += 1,
            b'}' => {
                i += 1;
                ws(&mut i);
                return (i == b.len()).then_some(out);
            }
            _ => return None,
        }
    }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn json_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

impl FactSheet {
    /// An empty sheet (an enterprise with nothing on file).
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `{"2025": {"rd_expense": 120.5, "high_tech_enterprise": true}, …}` (a dry run's or
    /// a case's facts). Problems are named `facts.<year>.<code>` / `facts.<year>`; with
    /// `prefix` (e.g. `cases[0].`) in front.
    pub fn parse(doc: &Value, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        Self::parse_at(doc, today, "")
    }

    /// [`parse`](Self::parse) with the problems' fields prefixed (`cases[2].` → `cases[2].facts.2025.x`).
    pub fn parse_at(doc: &Value, today: NaiveDate, prefix: &str) -> Result<Self, Vec<FieldError>> {
        let mut sheet = FactSheet::new();
        let mut problems = Problems::new();
        let Some(years) = doc.as_object() else {
            return Err(vec![FieldError::new(
                format!("{prefix}facts"),
                "type",
                "facts must be an object keyed by fiscal year",
            )]);
        };
        for (key, row) in years {
            let field = format!("{prefix}facts.{key}");
            let Some(year) = year_of(key, today) else {
                problems.push(
                    &field,
                    "year",
                    format!("a fiscal year from {MIN_YEAR} to {}", max_year(today)),
                );
                continue;
            };
            let Some(row) = row.as_object() else {
                problems.push(
                    &field,
                    "type",
                    "a year's facts must be an object of code: value",
                );
                continue;
            };
            sheet.add_year(year, row, &format!("{field}."), &mut problems);
        }
        let problems = problems.finish();
        if problems.is_empty() {
            Ok(sheet)
        } else {
            Err(problems)
        }
    }

    /// One year's facts as `PUT /enterprises/{id}/facts/{year}` takes them; problems are named
    /// `year` and `facts.<code>`.
    pub fn parse_year(
        year: i32,
        facts: &Map<String, Value>,
        today: NaiveDate,
    ) -> Result<Self, Vec<FieldError>> {
        let mut problems = Problems::new();
        let mut sheet = FactSheet::new();
        if !(MIN_YEAR..=max_year(today)).contains(&year) {
            problems.push(
                "year",
                "range",
                format!("year must be between {MIN_YEAR} and {}", max_year(today)),
            );
        } else {
            sheet.add_year(year, facts, "facts.", &mut problems);
        }
        let problems = problems.finish();
        if problems.is_empty() {
            Ok(sheet)
        } else {
            Err(problems)
        }
    }

    /// The registry's stored years (`(year, JSON text)` rows, each written through
    /// [`parse_year`](Self::parse_year)). Checked the same way; a value that no longer passes
    /// (a row written before a check existed) is left out and reported, so one bad stored
    /// value cannot stop grading.
    pub fn from_stored<'a>(
        rows: impl IntoIterator<Item = (i32, &'a str)>,
        today: NaiveDate,
    ) -> (Self, Vec<FieldError>) {
        let mut sheet = FactSheet::new();
        let mut problems = Problems::new();
        for (year, text) in rows {
            let field = format!("facts.{year}");
            if !(MIN_YEAR..=max_year(today)).contains(&year) {
                problems.push(&field, "year", "stored year out of range");
                continue;
            }
            if let Some(row) = scan_flat(text) {
                sheet.add_values(year, row.into_iter(), &field, &mut problems);
                continue;
            }
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(row)) => {
                    sheet.add_year(year, &row, &format!("{field}."), &mut problems);
                }
                _ => problems.push(&field, "type", "stored facts are not an object"),
            }
        }
        (sheet, problems.finish())
    }

    /// Adds one year's values; each bad value is reported and left out.
    fn add_year(
        &mut self,
        year: i32,
        row: &Map<String, Value>,
        field: &str,
        problems: &mut Problems,
    ) {
        for (code, v) in row {
            let Some(idx) = indicator_index(code) else {
                problems.push(
                    format!("{field}{code}"),
                    "unknown_indicator",
                    format!("{code:?} is not in the indicator catalog (GET /api/v1/indicators)"),
                );
                continue;
            };
            self.add_value(year, code, idx, &Scalar::of(v), field, problems);
        }
        self.check_parts(year, field, problems);
    }

    /// Adds one year's values read by [`scan_flat`] (known codes, each once): the same checks
    /// and problems as [`add_year`](Self::add_year), `field` without its trailing dot.
    fn add_values<'a>(
        &mut self,
        year: i32,
        row: impl Iterator<Item = (&'a str, usize, Scalar<'a>)>,
        field: &str,
        problems: &mut Problems,
    ) {
        let field = format!("{field}.");
        for (code, idx, v) in row {
            self.add_value(year, code, idx, &v, &field, problems);
        }
        self.check_parts(year, &field, problems);
    }

    fn add_value(
        &mut self,
        year: i32,
        code: &str,
        idx: usize,
        v: &Scalar<'_>,
        field: &str,
        problems: &mut Problems,
    ) {
        match check_value(code, idx, v) {
            Ok(Some(value)) => {
                self.table.set_idx(year, idx, value);
            }
            Ok(None) => {}
            Err((c, msg)) => problems.push(format!("{field}{code}"), c, msg),
        }
    }

    /// A part never exceeds its whole.
    fn check_parts(&mut self, year: i32, field: &str, problems: &mut Problems) {
        // Catalog positions of the pairs, found once (this runs for every stored year read).
        static AT: std::sync::OnceLock<Vec<(usize, usize)>> = std::sync::OnceLock::new();
        let at = AT.get_or_init(|| {
            PARTS
                .iter()
                .map(|(p, w)| {
                    (
                        indicator_index(p).unwrap_or(usize::MAX),
                        indicator_index(w).unwrap_or(usize::MAX),
                    )
                })
                .collect()
        });
        for (&(part, whole), &(pi, wi)) in PARTS.iter().zip(at) {
            if let (Some(FactValue::Num(p)), Some(FactValue::Num(w))) =
                (self.table.get(year, pi), self.table.get(year, wi))
                && p > w
            {
                problems.push(
                    format!("{field}{part}"),
                    "consistency",
                    format!("{part} ({p}) cannot exceed {whole} ({w})"),
                );
            }
        }
    }

    /// Fills `niche_years` for every year on file that does not file it, from the date the
    /// enterprise entered its niche: the years from then to the year's end (年末), to two
    /// places, rounded down; 0 for a year that ended before it entered.
    pub fn derive_niche_years(&mut self, entered: NaiveDate) {
        let Some(idx) = indicator_index("niche_years") else {
            return;
        };
        let years: Vec<i32> = self.years().collect();
        for y in years {
            if self.table.get(y, idx).is_none() {
                self.table
                    .set_idx(y, idx, FactValue::Num(niche_years_at(entered, y)));
            }
        }
    }

    /// A copy with one value replaced (case files check a shortfall's boundary with it);
    /// `None` for a code not in the catalog.
    pub(crate) fn with(&self, year: i32, code: &str, v: FactValue) -> Option<FactSheet> {
        let idx = indicator_index(code)?;
        let mut copy = self.clone();
        copy.table.set_idx(year, idx, v);
        Some(copy)
    }

    /// The view the engine grades.
    pub fn view(&self) -> Facts<'_> {
        self.table.view()
    }

    /// The fiscal years that hold at least one value, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.table.years()
    }

    pub fn get(&self, year: i32, code: &str) -> Option<FactValue> {
        self.table.get(year, indicator_index(code)?)
    }

    /// One year's values in the stored form: decimals as exact strings, yes/no as bools, in
    /// catalog order.
    pub fn year_json(&self, year: i32) -> Map<String, Value> {
        let mut out = Map::new();
        for (idx, ind) in INDICATORS.iter().enumerate() {
            match self.table.get(year, idx) {
                Some(FactValue::Num(d)) => {
                    out.insert(ind.code.into(), Value::String(d.normalize().to_string()));
                }
                Some(FactValue::Bool(b)) => {
                    out.insert(ind.code.into(), Value::Bool(b));
                }
                None => {}
            }
        }
        out
    }
}

/// A year key written as the year itself (`"2025"`, not `"02025"` or `"+2025"`), in range.
fn year_of(key: &str, today: NaiveDate) -> Option<i32> {
    let y: i32 = key.parse().ok()?;
    (y.to_string() == key && (MIN_YEAR..=max_year(today)).contains(&y)).then_some(y)
}

/// Years in the niche at the end of `year` (see [`FactSheet::derive_niche_years`]).
fn niche_years_at(entered: NaiveDate, year: i32) -> Decimal {
    let Some(end) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return Decimal::ZERO;
    };
    if entered > end {
        return Decimal::ZERO;
    }
    let whole = year - entered.year();
    // This year's anniversary (28 February for a 29 February entry in other years).
    let anniversary = NaiveDate::from_ymd_opt(year, entered.month(), entered.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .unwrap_or(end);
    let days_in_year = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    };
    let rest = (end - anniversary).num_days();
    let years = Decimal::from(whole) + Decimal::from(rest) / Decimal::from(days_in_year);
    years
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
        .min(Decimal::from(200))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
    }

    fn fields(r: Result<FactSheet, Vec<FieldError>>) -> Vec<(String, String)> {
        match r {
            Err(e) => e.into_iter().map(|e| (e.field, e.code)).collect(),
            Ok(s) => panic!("expected problems, got {s:?}"),
        }
    }

    #[test]
    fn reads_numbers_strings_and_bools_exactly() {
        let s = FactSheet::parse(
            &json!({
                "2025": {"rd_expense": "120.189", "operating_revenue": 4006.30, "high_tech_enterprise": true},
                "2023": {"employees": 10, "rd_staff": null}
            }),
            today(),
        )
        .unwrap();
        assert_eq!(
            s.get(2025, "rd_expense"),
            Some(FactValue::Num(dec!(120.189)))
        );
        assert_eq!(
            s.get(2025, "operating_revenue"),
            Some(FactValue::Num(dec!(4006.3)))
        );
        assert_eq!(
            s.get(2025, "high_tech_enterprise"),
            Some(FactValue::Bool(true))
        );
        assert_eq!(s.get(2023, "rd_staff"), None);
        assert_eq!(s.years().collect::<Vec<_>>(), vec![2023, 2025]);
        assert_eq!(
            Value::Object(s.year_json(2025)),
            json!({"operating_revenue": "4006.3", "rd_expense": "120.189", "high_tech_enterprise": true})
        );
    }

    #[test]
    fn every_problem_is_named() {
        let errs = fields(FactSheet::parse(
            &json!({
                "2025": {"nope": 1, "high_tech_enterprise": 1, "rd_expense": "x",
                         "employees": 10, "rd_staff": 11, "ip_class1": 1.5, "digital_level": 9},
                "soon": {},
                "02025": {},
                "2028": {},
                "1989": {},
                "2147483647": {},
                "-2147483648": {},
                "2024": [1],
            }),
            today(),
        ));
        for want in [
            ("facts.2025.nope", "unknown_indicator"),
            ("facts.2025.high_tech_enterprise", "type"),
            ("facts.2025.rd_expense", "type"),
            ("facts.2025.rd_staff", "consistency"),
            ("facts.2025.ip_class1", "integer"),
            ("facts.2025.digital_level", "range"),
            ("facts.soon", "year"),
            ("facts.02025", "year"),
            ("facts.2028", "year"),
            ("facts.1989", "year"),
            ("facts.2147483647", "year"),
            ("facts.-2147483648", "year"),
            ("facts.2024", "type"),
        ] {
            assert!(
                errs.contains(&(want.0.into(), want.1.into())),
                "{want:?} not in {errs:?}"
            );
        }
        assert_eq!(errs.len(), 13, "{errs:?}");
        assert_eq!(
            fields(FactSheet::parse(&json!([]), today())),
            vec![("facts".into(), "type".into())]
        );
    }

    #[test]
    fn the_issues_inputs_are_refused() {
        // Issue 11: a revenue of -(2^96 - 1) made growth overflow and panic; years
        // 2147483647 and -2147483648 (or 2025 with 2147483647) made the table allocate
        // every year between.
        let errs = fields(FactSheet::parse(
            &json!({"2025": {"main_business_revenue": "-79228162514264337593543950335"}}),
            today(),
        ));
        assert_eq!(
            errs,
            vec![("facts.2025.main_business_revenue".into(), "negative".into())]
        );
        let errs = fields(FactSheet::parse(
            &json!({"2025": {"employees": 1}, "2147483647": {"employees": 1}}),
            today(),
        ));
        assert_eq!(errs, vec![("facts.2147483647".into(), "year".into())]);
        assert_eq!(
            fields(FactSheet::parse_year(i32::MIN, &Map::new(), today())),
            vec![("year".into(), "range".into())]
        );
    }

    #[test]
    fn numbers_are_exact_or_refused() {
        for (text, want) in [
            ("120.189", Some(dec!(120.189))),
            ("1e3", Some(dec!(1000))),
            ("79228162514264337593543950335", Some(Decimal::MAX)),
            (
                "-0.0000000000000000000000000001",
                Some(dec!(-0.0000000000000000000000000001)),
            ),
            ("1.50", Some(dec!(1.5))),
            ("79228162514264337593543950336", None),
            ("0.00000000000000000000000000001", None),
            ("1.00000000000000000000000000001", None),
            ("1e400", None),
            ("1e-29", None),
            ("NaN", None),
            ("1_000", None),
            ("", None),
            ("--1", None),
        ] {
            assert_eq!(parse_exact(text).map(|d| d.normalize()), want, "{text}");
        }
    }

    #[test]
    fn a_year_is_checked_as_put_takes_it() {
        let row = json!({"bogus": 1, "rd_expense": -1})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(
            fields(FactSheet::parse_year(2025, &row, today())),
            vec![
                ("facts.bogus".into(), "unknown_indicator".into()),
                ("facts.rd_expense".into(), "negative".into())
            ]
        );
        assert_eq!(
            fields(FactSheet::parse_year(2028, &Map::new(), today())),
            vec![("year".into(), "range".into())]
        );
        assert!(FactSheet::parse_year(2027, &Map::new(), today()).is_ok());
    }

    #[test]
    fn stored_rows_keep_what_passes() {
        let (s, problems) = FactSheet::from_stored(
            [
                (2024, r#"{"employees": "10", "bogus": 1}"#),
                (1900, r#"{"employees": "10"}"#),
                (2025, "not json"),
            ],
            today(),
        );
        assert_eq!(s.get(2024, "employees"), Some(FactValue::Num(dec!(10))));
        assert_eq!(s.years().collect::<Vec<_>>(), vec![2024]);
        assert_eq!(problems.len(), 3);
    }

    #[test]
    fn niche_years_come_from_the_entry_date_when_not_filed() {
        let mut s = FactSheet::parse(
            &json!({"2025": {"employees": 5}, "2024": {"niche_years": 9}, "2021": {"employees": 1}}),
            today(),
        )
        .unwrap();
        s.derive_niche_years(NaiveDate::from_ymd_opt(2022, 7, 1).unwrap());
        // 1 July 2022 to 31 December 2025: 3 years and 183 of 365 days.
        assert_eq!(s.get(2025, "niche_years"), Some(FactValue::Num(dec!(3.50))));
        assert_eq!(s.get(2024, "niche_years"), Some(FactValue::Num(dec!(9))));
        assert_eq!(s.get(2021, "niche_years"), Some(FactValue::Num(dec!(0))));
        assert_eq!(
            niche_years_at(NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(), 2025),
            dec!(2.99)
        );
        assert_eq!(
            niche_years_at(NaiveDate::from_ymd_opt(2022, 12, 31).unwrap(), 2025),
            dec!(3)
        );
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    /// The stored-row scanner and serde_json accept, keep and report exactly the same.
    #[test]
    fn the_scanner_reads_stored_rows_as_serde_json_does() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let texts = [
            r#"{}"#,
            r#"{"rd_expense":"120.189","operating_revenue":4006.3,"employees":10,"high_tech_enterprise":true}"#,
            r#" { "rd_expense" : 1.50 , "abnormal_listed" : false , "ip_class1": null } "#,
            r#"{"employees":1.5,"rd_staff":20,"net_profit":-3,"rd_expense":-1}"#,
            r#"{"operating_revenue":1e3,"rd_expense":"1E2","employees":"x"}"#,
            r#"{"high_tech_enterprise":1,"operating_revenue":true,"employees":[1]}"#,
            r#"{"operating_revenue":12345678901234567890123456789}"#,
            r#"{"operating_revenue":0.10000000000000000000000000001}"#,
            r#"{"rd_expense":1,"rd_expense":2}"#,
            r#"{"no_such_code":1,"employees":3}"#,
            r#"{"operating_revenue":+5}"#,
            r#"{"operating_revenue":01}"#,
            r#"{"operating_revenue":"\u0031"}"#,
            r#"{"operating_revenue":1,}"#,
            r#"[1,2]"#,
            r#"{"operating_revenue":1} x"#,
        ];
        for text in texts {
            let fast = FactSheet::from_stored([(2025, text)], today);
            let mut sheet = FactSheet::new();
            let mut problems = Problems::new();
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(row)) => sheet.add_year(2025, &row, "facts.2025.", &mut problems),
                _ => problems.push("facts.2025", "type", "stored facts are not an object"),
            }
            let slow = (sheet, problems.finish());
            assert_eq!(fast, slow, "{text}");
        }
        assert!(scan_flat(r#"{"rd_expense":"1","employees":2,"abnormal_listed":true}"#).is_some());
        // The plain-number shortcut gives what the general parser gives, digit for digit.
        for t in [
            "0",
            "-0",
            "1.50",
            "-120.189",
            "999999999999999999",
            "12345678.9012345678",
            "007",
            "1.",
            ".5",
            "+5",
            "1.2.3",
            "-",
            "",
            "1e3",
            "1234567890123456789",
        ] {
            if let Some(d) = parse_plain(t) {
                let g = Decimal::from_str(t).unwrap();
                assert_eq!(
                    (d, d.scale(), d.is_sign_negative()),
                    (g, g.scale(), g.is_sign_negative()),
                    "{t}"
                );
            }
        }
        assert!(
            parse_plain("1.").is_none()
                && parse_plain("+5").is_none()
                && parse_plain("1234567890123456789").is_none()
        );
    }
}
