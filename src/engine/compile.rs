//! Rule-set documents (JSON) to [`RuleSet`]: every problem is collected with its JSON path, so
//! an admin publishing a draft sees all of them at once.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::Problem;
use super::facts::indicator_index;
use super::num::{Interval, check_cover, parse_decimal};
use super::render;
use super::rules::{
    Agg, Applies, Body, Cond, Criterion, Dimension, Expr, Model, Op, PassMark, Points, RouteKind,
    RuleSet, Stage, Stages,
};
use crate::catalog::{INDICATORS, Kind};

/// Subtotals live on the stack during evaluation; more dimensions than this is a mistake.
pub(crate) const MAX_DIMENSIONS: usize = 8;

/// Year offsets a rule may name, relative to the assessment year (or the loop year).
const YEAR_RANGE: std::ops::RangeInclusive<i64> = -20..=5;

/// Parses, validates and compiles a rule-set document. Returns every problem found.
pub fn compile(doc: &Value) -> Result<RuleSet, Vec<Problem>> {
    let mut cx = Cx::default();
    let rs = cx.rule_set(doc);
    match rs {
        Some(rs) if cx.problems.is_empty() => Ok(rs),
        _ => {
            if cx.problems.is_empty() {
                cx.problem("$", "invalid", "the rule set could not be compiled");
            }
            Err(cx.problems)
        }
    }
}

#[derive(Default)]
struct Cx {
    problems: Vec<Problem>,
    codes: Vec<&'static str>,
    tiers: Vec<Box<str>>,
    percentile: Vec<Expr>,
    ids: HashSet<String>,
    stage_ids: Vec<Box<str>>,
}

fn at(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

fn idx(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

impl Cx {
    fn problem(&mut self, path: &str, code: &str, message: impl Into<String>) {
        self.problems.push(Problem::new(path, code, message));
    }

    fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.problem(path, "type", format!("{what} must be an object"));
        }
        o
    }

    fn array<'v>(&mut self, v: &'v Value, path: &str, what: &str) -> Option<&'v [Value]> {
        let a = v.as_array().map(Vec::as_slice);
        if a.is_none() {
            self.problem(path, "type", format!("{what} must be an array"));
        }
        a
    }

    /// Reports keys outside `allowed`: unknown fields are typos more often than intent.
    fn keys(&mut self, o: &Map<String, Value>, path: &str, allowed: &[&str]) {
        for k in o.keys() {
            if !allowed.contains(&k.as_str()) {
                self.problem(
                    &at(path, k),
                    "unknown_field",
                    format!(
                        "`{k}` is not a field here (allowed: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn required<'v>(
        &mut self,
        o: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let v = o.get(key);
        if v.is_none() {
            self.problem(&at(path, key), "required", format!("`{key}` is required"));
        }
        v
    }

    fn string(&mut self, v: &Value, path: &str) -> Option<Box<str>> {
        match v.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s.into()),
            Some(_) => {
                self.problem(path, "empty", "must not be empty");
                None
            }
            None => {
                self.problem(path, "type", "must be a string");
                None
            }
        }
    }

    fn req_string(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<Box<str>> {
        let v = self.required(o, path, key)?;
        self.string(v, &at(path, key))
    }

    fn opt_string(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<Box<str>> {
        let v = o.get(key)?;
        self.string(v, &at(path, key))
    }

    fn boolean(&mut self, v: &Value, path: &str) -> Option<bool> {
        let b = v.as_bool();
        if b.is_none() {
            self.problem(path, "type", "must be true or false");
        }
        b
    }

    fn opt_bool(&mut self, o: &Map<String, Value>, path: &str, key: &str, default: bool) -> bool {
        match o.get(key) {
            None => default,
            Some(v) => self.boolean(v, &at(path, key)).unwrap_or(default),
        }
    }

    /// A decimal from a JSON number or a numeric string, exactly.
    fn decimal(&mut self, v: &Value, path: &str) -> Option<Decimal> {
        let d = match v {
            Value::Number(n) => parse_decimal(&n.to_string()),
            Value::String(s) => parse_decimal(s),
            _ => None,
        };
        if d.is_none() {
            self.problem(path, "type", "must be a number");
        }
        d
    }

    fn opt_decimal(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<Decimal> {
        match o.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => self.decimal(v, &at(path, key)),
        }
    }

    fn integer(&mut self, v: &Value, path: &str) -> Option<i64> {
        let i = v.as_i64();
        if i.is_none() {
            self.problem(path, "type", "must be an integer");
        }
        i
    }

    fn date(&mut self, v: &Value, path: &str) -> Option<NaiveDate> {
        let d = v
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        if d.is_none() {
            self.problem(path, "type", "must be a date written YYYY-MM-DD");
        }
        d
    }

    fn year_offset(&mut self, v: &Value, path: &str) -> Option<i32> {
        let y = self.integer(v, path)?;
        if !YEAR_RANGE.contains(&y) {
            self.problem(
                path,
                "bad_year",
                format!("year offset {y} is outside -20..=5"),
            );
            return None;
        }
        i32::try_from(y).ok()
    }

    fn year_list(&mut self, v: &Value, path: &str) -> Option<Box<[i32]>> {
        let items = self.array(v, path, "a year list")?;
        if items.is_empty() {
            self.problem(path, "empty", "a year list needs at least one year");
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, y) in items.iter().enumerate() {
            match self.year_offset(y, &idx(path, i)) {
                Some(y) => out.push(y),
                None => ok = false,
            }
        }
        ok.then(|| out.into_boxed_slice())
    }

    /// The year of a fact reference: required at the top level, defaulting to the loop year inside
    /// `each_year`/`any_year` (so a forgotten year never silently means the current year).
    fn ref_year(&mut self, o: &Map<String, Value>, path: &str, in_loop: bool) -> Option<i32> {
        match o.get("year") {
            Some(v) => self.year_offset(v, &at(path, "year")),
            None if in_loop => Some(0),
            None => {
                self.problem(
                    &at(path, "year"),
                    "required",
                    "`year` is required outside each_year/any_year (-1 = 上年度)",
                );
                None
            }
        }
    }

    fn fact_code(&mut self, v: &Value, path: &str, want_bool: bool) -> Option<u16> {
        let code = self.string(v, path)?;
        let Some(i) = indicator_index(&code) else {
            self.problem(
                path,
                "unknown_fact",
                format!("`{code}` is not in the indicator catalog"),
            );
            return None;
        };
        let ind = &INDICATORS[i];
        let is_bool = ind.kind == Kind::Bool;
        if is_bool != want_bool {
            let msg = if is_bool {
                format!("`{code}` is a yes/no fact; test it with `flag`")
            } else {
                format!("`{code}` is a {} fact, not yes/no", ind.kind.as_str())
            };
            self.problem(path, "type", msg);
            return None;
        }
        if !self.codes.contains(&ind.code) {
            self.codes.push(ind.code);
        }
        u16::try_from(i).ok()
    }

    fn expr(&mut self, v: &Value, path: &str, in_loop: bool) -> Option<Expr> {
        let o = self.object(v, path, "an expression")?;
        const OPS: &[&str] = &[
            "fact",
            "sum",
            "avg",
            "min",
            "max",
            "growth",
            "avg_growth",
            "cagr",
            "ratio",
        ];
        let Some(op) = OPS.iter().copied().find(|k| o.contains_key(*k)) else {
            self.problem(
                path,
                "bad_expression",
                format!("an expression needs one of: {}", OPS.join(", ")),
            );
            return None;
        };
        let opath = at(path, op);
        match op {
            "fact" => {
                self.keys(o, path, &["fact", "year"]);
                let idx = self.fact_code(&o[op], &opath, false);
                let year = self.ref_year(o, path, in_loop);
                Some(Expr::Fact {
                    idx: idx?,
                    year: year?,
                })
            }
            "sum" | "avg" | "min" | "max" => {
                self.keys(o, path, &[op, "years"]);
                let agg = match op {
                    "sum" => Agg::Sum,
                    "avg" => Agg::Avg,
                    "min" => Agg::Min,
                    _ => Agg::Max,
                };
                let idx = self.fact_code(&o[op], &opath, false);
                let years = self
                    .required(o, path, "years")
                    .and_then(|y| self.year_list(y, &at(path, "years")));
                Some(Expr::Agg {
                    agg,
                    idx: idx?,
                    years: years?,
                })
            }
            "avg_growth" => {
                self.keys(o, path, &[op, "years"]);
                let idx = self.fact_code(&o[op], &opath, false);
                let years = self
                    .required(o, path, "years")
                    .and_then(|y| self.year_list(y, &at(path, "years")));
                Some(Expr::AvgGrowth {
                    idx: idx?,
                    years: years?,
                })
            }
            "growth" | "cagr" => {
                self.keys(o, path, &[op, "from", "to"]);
                let idx = self.fact_code(&o[op], &opath, false);
                let from = self
                    .required(o, path, "from")
                    .and_then(|y| self.year_offset(y, &at(path, "from")));
                let to = self
                    .required(o, path, "to")
                    .and_then(|y| self.year_offset(y, &at(path, "to")));
                let (idx, from, to) = (idx?, from?, to?);
                if from >= to {
                    self.problem(
                        &at(path, "to"),
                        "bad_years",
                        "`to` must be a later year than `from`",
                    );
                    return None;
                }
                Some(if op == "growth" {
                    Expr::Growth { idx, from, to }
                } else {
                    Expr::Cagr { idx, from, to }
                })
            }
            _ => {
                self.keys(o, path, &["ratio"]);
                let parts = self.array(&o[op], &opath, "`ratio`")?;
                if parts.len() != 2 {
                    self.problem(
                        &opath,
                        "bad_expression",
                        "`ratio` takes [numerator, denominator]",
                    );
                    return None;
                }
                let a = self.expr(&parts[0], &idx(&opath, 0), in_loop);
                let b = self.expr(&parts[1], &idx(&opath, 1), in_loop);
                Some(Expr::Ratio(Box::new(a?), Box::new(b?)))
            }
        }
    }

    fn intervals<T>(
        &mut self,
        items: &[Value],
        path: &str,
        mut each: impl FnMut(&mut Self, &Map<String, Value>, &str) -> Option<T>,
    ) -> Option<Box<[(Interval, T)]>> {
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let ipath = idx(path, i);
            let Some(o) = self.object(item, &ipath, "a band") else {
                ok = false;
                continue;
            };
            let range = self.required(o, &ipath, "range").and_then(|r| {
                let rpath = at(&ipath, "range");
                match r.as_str().map(Interval::parse) {
                    Some(Ok(iv)) => Some(iv),
                    Some(Err(msg)) => {
                        self.problem(&rpath, "bad_bounds", msg);
                        None
                    }
                    None => {
                        self.problem(&rpath, "type", "a range is a string like \"[3,5)\"");
                        None
                    }
                }
            });
            let payload = each(self, o, &ipath);
            match (range, payload) {
                (Some(r), Some(p)) => out.push((r, p)),
                _ => ok = false,
            }
        }
        if items.is_empty() {
            self.problem(path, "empty", "at least one band is needed");
            return None;
        }
        if !ok {
            return None;
        }
        let ivs: Vec<Interval> = out.iter().map(|(iv, _)| *iv).collect();
        let faults = check_cover(&ivs);
        for (i, code, msg) in &faults {
            self.problem(&at(&idx(path, *i), "range"), code, msg.clone());
        }
        faults.is_empty().then(|| out.into_boxed_slice())
    }

    fn cond(&mut self, v: &Value, path: &str, in_loop: bool) -> Option<Cond> {
        let o = self.object(v, path, "a test")?;
        const OPS: &[&str] = &[
            "cmp",
            "flag",
            "holds",
            "renewal",
            "all",
            "any",
            "not",
            "each_year",
            "any_year",
            "switch",
        ];
        let Some(op) = OPS.iter().copied().find(|k| o.contains_key(*k)) else {
            self.problem(
                path,
                "bad_test",
                format!("a test needs one of: {}", OPS.join(", ")),
            );
            return None;
        };
        let opath = at(path, op);
        let arg = &o[op];
        match op {
            "cmp" => {
                self.keys(o, path, &["cmp"]);
                let parts = self.array(arg, &opath, "`cmp`")?;
                if parts.len() != 3 {
                    self.problem(
                        &opath,
                        "bad_test",
                        "`cmp` takes [expression, operator, number]",
                    );
                    return None;
                }
                let left = self.expr(&parts[0], &idx(&opath, 0), in_loop);
                let op = match parts[1].as_str().and_then(Op::parse) {
                    Some(op) => Some(op),
                    None => {
                        self.problem(
                            &idx(&opath, 1),
                            "bad_operator",
                            "the operator is one of >=, >, <=, <, ==, !=",
                        );
                        None
                    }
                };
                let right = self.decimal(&parts[2], &idx(&opath, 2))?;
                Some(Cond::Cmp {
                    left: left?,
                    op: op?,
                    right,
                    right_parts: super::num::thr_parts(right),
                })
            }
            "flag" => {
                self.keys(o, path, &["flag", "year", "is"]);
                let idx = self.fact_code(arg, &opath, true);
                let year = self.ref_year(o, path, in_loop);
                let is = self.opt_bool(o, path, "is", true);
                Some(Cond::Flag {
                    idx: idx?,
                    year: year?,
                    is,
                })
            }
            "holds" => {
                self.keys(o, path, &["holds"]);
                let t = self.string(arg, &opath)?;
                if !self.tiers.contains(&t) {
                    self.tiers.push(t.clone());
                }
                Some(Cond::Holds(t))
            }
            "renewal" => {
                self.keys(o, path, &["renewal"]);
                Some(Cond::Renewal(self.boolean(arg, &opath)?))
            }
            "all" | "any" => {
                self.keys(o, path, &[op]);
                let items = self.array(arg, &opath, "a list of tests")?;
                if items.is_empty() {
                    self.problem(&opath, "empty", "a list of tests must not be empty");
                    return None;
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, c) in items.iter().enumerate() {
                    if let Some(c) = self.cond(c, &idx(&opath, i), in_loop) {
                        out.push(c);
                    }
                }
                (out.len() == items.len()).then(|| {
                    if op == "all" {
                        Cond::All(out.into_boxed_slice())
                    } else {
                        Cond::Any(out.into_boxed_slice())
                    }
                })
            }
            "not" => {
                self.keys(o, path, &["not"]);
                Some(Cond::Not(Box::new(self.cond(arg, &opath, in_loop)?)))
            }
            "each_year" | "any_year" => {
                self.keys(o, path, &[op, "test"]);
                let years = self.year_list(arg, &opath);
                let test = self
                    .required(o, path, "test")
                    .and_then(|t| self.cond(t, &at(path, "test"), true));
                let (years, test) = (years?, Box::new(test?));
                Some(if op == "each_year" {
                    Cond::EachYear { years, test }
                } else {
                    Cond::AnyYear { years, test }
                })
            }
            _ => {
                self.keys(o, path, &["switch", "cases"]);
                let on = self.expr(arg, &opath, in_loop);
                let cases = self.required(o, path, "cases").and_then(|c| {
                    let cpath = at(path, "cases");
                    let items = self.array(c, &cpath, "`cases`")?;
                    self.intervals(items, &cpath, |cx, o, p| {
                        cx.keys(o, p, &["range", "test"]);
                        let t = cx.required(o, p, "test")?;
                        cx.cond(t, &at(p, "test"), in_loop)
                    })
                });
                Some(Cond::Switch {
                    on: on?,
                    cases: cases?,
                })
            }
        }
    }

    fn point_bands(&mut self, v: &Value, path: &str) -> Option<Box<[(Interval, Decimal)]>> {
        let items = self.array(v, path, "`bands`")?;
        self.intervals(items, path, |cx, o, p| {
            cx.keys(o, p, &["range", "points"]);
            let pts = cx.required(o, p, "points")?;
            cx.decimal(pts, &at(p, "points"))
        })
    }

    /// Parses a points spec and returns it with the points range it can award (before caps).
    fn points(&mut self, v: &Value, path: &str) -> Option<(Points, Decimal, Decimal)> {
        let o = self.object(v, path, "`points`")?;
        if let Some(list) = o.get("best_of") {
            self.keys(o, path, &["best_of"]);
            let bpath = at(path, "best_of");
            let items = self.array(list, &bpath, "`best_of`")?;
            if items.len() < 2 {
                self.problem(&bpath, "bad_points", "`best_of` needs at least two bases");
                return None;
            }
            let mut parts = Vec::new();
            let (mut lo, mut hi) = (Decimal::MIN, Decimal::MIN);
            for (i, p) in items.iter().enumerate() {
                if let Some((p, l, h)) = self.points(p, &idx(&bpath, i)) {
                    lo = lo.max(l);
                    hi = hi.max(h);
                    parts.push(p);
                }
            }
            return (parts.len() == items.len())
                .then(|| (Points::BestOf(parts.into_boxed_slice()), lo, hi));
        }
        if let Some(cases) = o.get("cases") {
            self.keys(o, path, &["cases", "otherwise"]);
            let cpath = at(path, "cases");
            let items = self.array(cases, &cpath, "`cases`")?;
            let otherwise = self
                .required(o, path, "otherwise")
                .and_then(|v| self.decimal(v, &at(path, "otherwise")));
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let ipath = idx(&cpath, i);
                let Some(io) = self.object(item, &ipath, "a case") else {
                    continue;
                };
                self.keys(io, &ipath, &["when", "points"]);
                let when = self
                    .required(io, &ipath, "when")
                    .and_then(|w| self.cond(w, &at(&ipath, "when"), false));
                let pts = self
                    .required(io, &ipath, "points")
                    .and_then(|p| self.decimal(p, &at(&ipath, "points")));
                if let (Some(w), Some(p)) = (when, pts) {
                    out.push((w, p));
                }
            }
            let otherwise = otherwise?;
            if out.len() != items.len() || items.is_empty() {
                if items.is_empty() {
                    self.problem(&cpath, "empty", "at least one case is needed");
                }
                return None;
            }
            let lo = out.iter().map(|(_, p)| *p).fold(otherwise, Decimal::min);
            let hi = out.iter().map(|(_, p)| *p).fold(otherwise, Decimal::max);
            return Some((
                Points::Cases {
                    cases: out.into_boxed_slice(),
                    otherwise,
                },
                lo,
                hi,
            ));
        }
        let value = self
            .required(o, path, "value")
            .and_then(|v| self.expr(v, &at(path, "value"), false));
        if o.contains_key("per") || o.contains_key("each") {
            self.keys(o, path, &["value", "per", "each"]);
            let per = self
                .required(o, path, "per")
                .and_then(|v| self.decimal(v, &at(path, "per")));
            let each = self
                .required(o, path, "each")
                .and_then(|v| self.decimal(v, &at(path, "each")));
            if per.is_some_and(|p| p <= Decimal::ZERO) {
                self.problem(&at(path, "per"), "bad_points", "`per` must be positive");
                return None;
            }
            let (value, per, each) = (value?, per?, each?);
            // A step score has no natural top: the criterion's max_points gives it one.
            return Some((
                Points::Step { value, per, each },
                Decimal::ZERO,
                Decimal::MAX,
            ));
        }
        let percentile = self.opt_bool(o, path, "percentile", false);
        self.keys(o, path, &["value", "bands", "percentile"]);
        let bands = self
            .required(o, path, "bands")
            .and_then(|b| self.point_bands(b, &at(path, "bands")));
        let (value, bands) = (value?, bands?);
        let lo = bands
            .iter()
            .map(|(_, p)| *p)
            .fold(Decimal::MAX, Decimal::min);
        let hi = bands
            .iter()
            .map(|(_, p)| *p)
            .fold(Decimal::MIN, Decimal::max);
        if percentile {
            let slot = self.percentile.len();
            self.percentile.push(value.clone());
            Some((
                Points::Percentile { value, slot, bands },
                lo.min(Decimal::ZERO),
                hi.max(Decimal::ONE_HUNDRED),
            ))
        } else {
            Some((Points::Bands { value, bands }, lo, hi))
        }
    }

    fn criterion(&mut self, v: &Value, path: &str, dims: &[Dimension]) -> Option<Criterion> {
        let o = self.object(v, path, "a criterion")?;
        self.keys(
            o,
            path,
            &[
                "id",
                "label_zh",
                "label_en",
                "source",
                "confirmed",
                "route",
                "applies",
                "test",
                "points",
                "review",
                "threshold",
                "dimension",
                "max_points",
                "weights",
                "note",
            ],
        );
        let id = self.req_string(o, path, "id");
        if let Some(id) = &id
            && !self.ids.insert(id.to_string())
        {
            self.problem(
                &at(path, "id"),
                "duplicate_id",
                format!("criterion id `{id}` is used more than once"),
            );
        }
        let label_zh = self.req_string(o, path, "label_zh");
        let label_en = self.req_string(o, path, "label_en");
        let source = self.req_string(o, path, "source");
        let confirmed = match self.required(o, path, "confirmed") {
            Some(v) => self.boolean(v, &at(path, "confirmed")),
            None => None,
        };
        let threshold = self.opt_string(o, path, "threshold");
        let review = self.opt_bool(o, path, "review", false);
        let applies = match o.get("applies").map(|a| (a.as_str(), a)) {
            None => Some(Applies::Always),
            Some((Some("always"), _)) => Some(Applies::Always),
            Some((Some("new"), _)) => Some(Applies::New),
            Some((Some("renewal"), _)) => Some(Applies::Renewal),
            Some(_) => {
                self.problem(
                    &at(path, "applies"),
                    "bad_value",
                    "`applies` is one of always, new, renewal",
                );
                None
            }
        };
        let kinds = [o.contains_key("test"), o.contains_key("points"), review];
        if kinds.iter().filter(|k| **k).count() != 1 {
            self.problem(
                path,
                "bad_criterion",
                "a criterion has exactly one of `test`, `points` or `review: true`",
            );
            return None;
        }
        let route_default = if o.contains_key("points") {
            RouteKind::Standard
        } else {
            RouteKind::Base
        };
        let route = match o.get("route").map(Value::as_str) {
            None => Some(route_default),
            Some(Some("base")) => Some(RouteKind::Base),
            Some(Some("standard")) => Some(RouteKind::Standard),
            Some(Some("direct")) => Some(RouteKind::Direct),
            Some(_) => {
                self.problem(
                    &at(path, "route"),
                    "bad_value",
                    "`route` is one of base, standard, direct",
                );
                None
            }
        };
        if o.contains_key("points") && route.is_some_and(|r| r != RouteKind::Standard) {
            self.problem(
                &at(path, "route"),
                "bad_value",
                "scored criteria belong to the standard route",
            );
        }
        for key in ["dimension", "max_points", "weights"] {
            if o.contains_key(key) && !o.contains_key("points") {
                self.problem(
                    &at(path, key),
                    "bad_criterion",
                    format!("`{key}` applies to scored criteria only"),
                );
            }
        }
        let (body, rendered) = if review {
            if threshold.is_none() {
                self.problem(
                    &at(path, "threshold"),
                    "required",
                    "a review criterion states what the reviewer checks in `threshold`",
                );
            }
            (Some(Body::Review), String::new())
        } else if let Some(t) = o.get("test") {
            let c = self.cond(t, &at(path, "test"), false);
            let r = c.as_ref().map(render::criterion_test).unwrap_or_default();
            (c.map(Body::Test), r)
        } else {
            let p = self.points(&o["points"], &at(path, "points"));
            let cap = self.opt_decimal(o, path, "max_points");
            let dimension = match o.get("dimension") {
                None => None,
                Some(d) => {
                    let dpath = at(path, "dimension");
                    let name = self.string(d, &dpath);
                    let found = name
                        .as_ref()
                        .and_then(|n| dims.iter().position(|x| x.id == *n));
                    if name.is_some() && found.is_none() {
                        self.problem(
                            &dpath,
                            "unknown_dimension",
                            "no dimension with this id is declared",
                        );
                    }
                    found
                }
            };
            let weights = o
                .get("weights")
                .and_then(|w| self.weights(w, &at(path, "weights")));
            match p {
                Some((points, _, hi)) => {
                    if hi == Decimal::MAX && cap.is_none() {
                        self.problem(
                            &at(path, "max_points"),
                            "required",
                            "step scoring needs `max_points`",
                        );
                    }
                    let mut r = render::points(&points);
                    if let Some(c) = cap {
                        r.push_str(&format!("; at most {}", render::num(c)));
                    }
                    (
                        Some(Body::Points {
                            points,
                            max_points: cap,
                            weights,
                            dimension,
                        }),
                        r,
                    )
                }
                None => (None, String::new()),
            }
        };
        Some(Criterion {
            id: id?,
            label_zh: label_zh?,
            label_en: label_en?,
            source: source?,
            threshold: threshold.unwrap_or_else(|| rendered.into()),
            confirmed: confirmed?,
            route: route?,
            applies: applies?,
            body: body?,
        })
    }

    /// Weights per stage id, in stage order: each scored criterion's share of the 100 points.
    fn weights(&mut self, v: &Value, path: &str) -> Option<Box<[Decimal]>> {
        let o = self.object(v, path, "`weights`")?;
        if self.stage_ids.is_empty() {
            self.problem(
                path,
                "bad_criterion",
                "`weights` needs `stages` at the top level",
            );
            return None;
        }
        let stages = self.stage_ids.clone();
        self.keys(o, path, &stages.iter().map(|s| &**s).collect::<Vec<_>>());
        let mut out = Vec::with_capacity(stages.len());
        for s in &stages {
            let w = self
                .required(o, path, s)
                .and_then(|w| self.decimal(w, &at(path, s)));
            out.push(w?);
        }
        Some(out.into_boxed_slice())
    }

    fn dimension(&mut self, v: &Value, path: &str, prefix: &str) -> Option<Dimension> {
        let o = self.object(v, path, "a dimension")?;
        self.keys(
            o,
            path,
            &[
                "id",
                "label_zh",
                "label_en",
                "source",
                "confirmed",
                "max",
                "min",
                "threshold",
            ],
        );
        let id = self.req_string(o, path, "id");
        let label_zh = self.req_string(o, path, "label_zh");
        let label_en = self.req_string(o, path, "label_en");
        let source = self.req_string(o, path, "source");
        let confirmed = self.opt_bool(o, path, "confirmed", true);
        let cap = self.opt_decimal(o, path, "max");
        let min = self.opt_decimal(o, path, "min");
        let threshold = self.opt_string(o, path, "threshold");
        let id = id?;
        let result_id: Box<str> = format!("{prefix}subtotal.{id}").into();
        if !self.ids.insert(result_id.to_string()) {
            self.problem(
                &at(path, "id"),
                "duplicate_id",
                format!("`{result_id}` is used more than once"),
            );
        }
        let threshold = threshold.unwrap_or_else(|| {
            let mut t = String::new();
            if let Some(m) = min {
                t.push_str(&format!(">= {}", render::num(m)));
            }
            if let Some(c) = cap {
                if !t.is_empty() {
                    t.push_str("; ");
                }
                t.push_str(&format!("counts at most {}", render::num(c)));
            }
            t.into()
        });
        Some(Dimension {
            id,
            result_id,
            label_zh: label_zh?,
            label_en: label_en?,
            source: source?,
            threshold,
            confirmed,
            cap,
            min,
        })
    }

    /// The criteria, dimensions and pass mark of the top level or of one scheme.
    fn model(
        &mut self,
        o: &Map<String, Value>,
        path: &str,
        id: Box<str>,
        prefix: &str,
    ) -> Option<Model> {
        let mut dims = Vec::new();
        let mut ok = true;
        if let Some(d) = o.get("dimensions") {
            let dpath = at(path, "dimensions");
            for (i, dv) in self
                .array(d, &dpath, "`dimensions`")
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                match self.dimension(dv, &idx(&dpath, i), prefix) {
                    Some(d) => {
                        if dims.iter().any(|x: &Dimension| x.id == d.id) {
                            self.problem(
                                &at(&idx(&dpath, i), "id"),
                                "duplicate_id",
                                format!("dimension `{}` is declared twice", d.id),
                            );
                        }
                        dims.push(d);
                    }
                    None => ok = false,
                }
            }
        }
        let pass = match o.get("pass_mark") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let mark = self.decimal(v, &at(path, "pass_mark"));
                let source = self
                    .required(o, path, "pass_source")
                    .and_then(|s| self.string(s, &at(path, "pass_source")));
                let confirmed = self.opt_bool(o, path, "pass_confirmed", true);
                let result_id: Box<str> = format!("{prefix}score").into();
                if !self.ids.insert(result_id.to_string()) {
                    self.problem(
                        &at(path, "pass_mark"),
                        "duplicate_id",
                        format!("`{result_id}` is used more than once"),
                    );
                }
                match (mark, source) {
                    (Some(mark), Some(source)) => Some(PassMark {
                        result_id,
                        label_zh: "总分".into(),
                        label_en: "Total score".into(),
                        source,
                        threshold: format!(">= {}", render::num(mark)).into(),
                        confirmed,
                        mark,
                    }),
                    _ => {
                        ok = false;
                        None
                    }
                }
            }
        };
        let mut criteria = Vec::new();
        match o.get("criteria") {
            None => {}
            Some(c) => {
                let cpath = at(path, "criteria");
                for (i, cv) in self
                    .array(c, &cpath, "`criteria`")
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    match self.criterion(cv, &idx(&cpath, i), &dims) {
                        Some(c) => criteria.push(c),
                        None => ok = false,
                    }
                }
            }
        }
        let has_points = criteria
            .iter()
            .any(|c| matches!(c.body, Body::Points { .. }));
        if dims.len() > MAX_DIMENSIONS {
            self.problem(
                &at(path, "dimensions"),
                "bad_value",
                format!("at most {MAX_DIMENSIONS} dimensions"),
            );
            ok = false;
        }
        let has_standard = pass.is_some()
            || dims.iter().any(|d| d.min.is_some())
            || criteria
                .iter()
                .any(|c| c.route == RouteKind::Standard && !matches!(c.body, Body::Review));
        let has_direct = criteria
            .iter()
            .any(|c| c.route == RouteKind::Direct && !matches!(c.body, Body::Review));
        ok.then_some(Model {
            id,
            criteria,
            dimensions: dims,
            pass,
            has_standard,
            has_direct,
            has_points,
        })
    }

    fn rule_set(&mut self, doc: &Value) -> Option<RuleSet> {
        let o = self.object(doc, "$", "a rule set")?;
        let p = "$";
        self.keys(
            o,
            p,
            &[
                "tier",
                "version",
                "name",
                "effective_from",
                "effective_to",
                "status",
                "notes",
                "default_model",
                "pass_mark",
                "pass_source",
                "pass_confirmed",
                "dimensions",
                "criteria",
                "schemes",
                "stages",
                "grades",
            ],
        );
        let tier = self.req_string(o, p, "tier");
        let version = self
            .required(o, p, "version")
            .and_then(|v| self.integer(v, "$.version"));
        if version.is_some_and(|v| v < 1) {
            self.problem("$.version", "bad_value", "versions count from 1");
        }
        let name = self.req_string(o, p, "name");
        let from = self
            .required(o, p, "effective_from")
            .and_then(|v| self.date(v, "$.effective_from"));
        let to = match o.get("effective_to") {
            None | Some(Value::Null) => Some(None),
            Some(v) => self.date(v, "$.effective_to").map(Some),
        };
        if let (Some(f), Some(Some(t))) = (from, to)
            && t < f
        {
            self.problem(
                "$.effective_to",
                "bad_dates",
                format!("effective_to {t} is before effective_from {f}"),
            );
        }
        let status = match o.get("status") {
            None => Some("draft".into()),
            Some(v) => {
                let s = self.string(v, "$.status");
                if let Some(s) = &s
                    && !["draft", "published", "retired"].contains(&&**s)
                {
                    self.problem(
                        "$.status",
                        "bad_value",
                        "`status` is one of draft, published, retired",
                    );
                }
                s
            }
        };
        if let Some(n) = o.get("notes") {
            self.string(n, "$.notes");
        }
        let default_model = self.opt_bool(o, p, "default_model", false);

        let stages = o.get("stages").and_then(|s| self.stages(s, "$.stages"));
        let main = self.model(o, p, "".into(), "");

        let mut schemes = Vec::new();
        if let Some(s) = o.get("schemes") {
            let spath = "$.schemes";
            let items = self.array(s, spath, "`schemes`").unwrap_or_default();
            if items.len() < 2 {
                self.problem(
                    spath,
                    "bad_value",
                    "`schemes` lists at least two alternatives",
                );
            }
            for (i, sv) in items.iter().enumerate() {
                let ipath = idx(spath, i);
                let Some(so) = self.object(sv, &ipath, "a scheme") else {
                    continue;
                };
                self.keys(
                    so,
                    &ipath,
                    &[
                        "id",
                        "label_zh",
                        "label_en",
                        "pass_mark",
                        "pass_source",
                        "pass_confirmed",
                        "dimensions",
                        "criteria",
                    ],
                );
                let Some(sid) = self.req_string(so, &ipath, "id") else {
                    continue;
                };
                self.req_string(so, &ipath, "label_zh");
                self.req_string(so, &ipath, "label_en");
                let prefix = format!("{sid}.");
                if let Some(m) = self.model(so, &ipath, sid, &prefix) {
                    schemes.push(m);
                }
            }
        }

        let grades = match o.get("grades") {
            None => Vec::new(),
            Some(g) => {
                let items = self.array(g, "$.grades", "`grades`").unwrap_or_default();
                self.intervals(items, "$.grades", |cx, o, p| {
                    cx.keys(o, p, &["range", "grade"]);
                    cx.req_string(o, p, "grade")
                })
                .map(Vec::from)
                .unwrap_or_default()
            }
        };

        let main = main?;
        if let Some(st) = &stages {
            for (si, s) in st.list.iter().enumerate() {
                let total: Decimal = main
                    .criteria
                    .iter()
                    .filter_map(|c| match &c.body {
                        Body::Points {
                            weights: Some(w), ..
                        } => w.get(si).copied(),
                        _ => None,
                    })
                    .sum();
                if total != Decimal::ONE_HUNDRED {
                    self.problem(
                        "$.stages",
                        "bad_weights",
                        format!(
                            "the weights of stage `{}` add up to {}, not 100",
                            s.id,
                            render::num(total)
                        ),
                    );
                }
            }
            if main
                .criteria
                .iter()
                .any(|c| matches!(c.body, Body::Points { weights: None, .. }))
            {
                self.problem(
                    "$.criteria",
                    "bad_weights",
                    "with `stages`, every scored criterion needs `weights`",
                );
            }
        }
        let criteria_count =
            main.criteria.len() + schemes.iter().map(|s| s.criteria.len()).sum::<usize>();
        Some(RuleSet {
            tier: tier?,
            version: version?,
            name: name?,
            effective_from: from?,
            effective_to: to?,
            status: status?,
            default_model,
            main,
            schemes,
            stages,
            grades,
            percentile_exprs: std::mem::take(&mut self.percentile),
            fact_codes: std::mem::take(&mut self.codes),
            tiers_referenced: std::mem::take(&mut self.tiers),
            criteria_count,
        })
    }

    fn stages(&mut self, v: &Value, path: &str) -> Option<Stages> {
        let o = self.object(v, path, "`stages`")?;
        self.keys(o, path, &["value", "bands"]);
        let value = self
            .required(o, path, "value")
            .and_then(|e| self.expr(e, &at(path, "value"), false));
        let bpath = at(path, "bands");
        let items = self
            .required(o, path, "bands")
            .and_then(|b| self.array(b, &bpath, "`bands`"))?;
        let bands = self.intervals(items, &bpath, |cx, o, p| {
            cx.keys(o, p, &["range", "stage", "label_zh", "label_en"]);
            let id = cx.req_string(o, p, "stage");
            let zh = cx.req_string(o, p, "label_zh");
            let en = cx.req_string(o, p, "label_en");
            Some((id?, zh?, en?))
        })?;
        let list: Vec<Stage> = bands
            .into_vec()
            .into_iter()
            .map(|(range, (id, label_zh, label_en))| Stage {
                id,
                label_zh,
                label_en,
                range,
            })
            .collect();
        self.stage_ids = list.iter().map(|s| s.id.clone()).collect();
        Some(Stages {
            value: value?,
            list,
        })
    }
}
