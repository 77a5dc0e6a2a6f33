//! Evaluation: walks a compiled rule set over one enterprise's facts with three-valued logic
//! (true, false, unknown-because-missing) and builds the explained result.
//!
//! Facts are read by catalog position from dense rows; labels, sources and thresholds are
//! borrowed from the rule set, so a full trace costs one vector and no text allocation unless
//! facts are missing.

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::compile::MAX_DIMENSIONS;
use super::explain::{self, Group, NextStep, Shortfall, StepKind, StepText, Summary, Text};
use super::facts::{FactValue, Facts};
use super::num::{Frac, Parts, Val};
use super::pool::Pool;
use super::rules::{Agg, Applies, Body, Cond, Criterion, Expr, Model, Points, RouteKind, RuleSet};
use crate::catalog::{INDICATORS, Kind};

/// What the engine is asked to grade.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The assessment date: its year Y anchors every relative year (上年度 = Y−1).
    pub as_of: NaiveDate,
    /// `sheet.view()` for one [`FactSheet`](super::FactSheet), `batch.get(i)` in a batch: only
    /// checked facts reach the engine.
    pub facts: Facts<'a>,
    /// Tier codes of the certifications active on `as_of`.
    pub holds: &'a [String],
    /// A re-review (复核) of a held title rather than a first application.
    pub renewal: bool,
    /// The enterprises to rank against, for percentile scoring.
    pub pool: Option<&'a Pool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Eligible,
    Ineligible,
    Incomplete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Standard,
    Direct,
}

/// The observed value behind a criterion. It keeps the exact value (a ratio stays a fraction)
/// and rounds only when shown, so building a trace costs no division.
#[derive(Debug, Clone, Copy)]
pub struct Actual(Val);

impl Actual {
    /// The value as shown: numbers rounded to 4 decimal places (ratios and growth in percent).
    pub fn decimal(&self) -> Option<Decimal> {
        self.0.display()
    }

    pub fn boolean(&self) -> Option<bool> {
        match self.0 {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl PartialEq for Actual {
    fn eq(&self, other: &Self) -> bool {
        (self.boolean(), self.decimal()) == (other.boolean(), other.decimal())
    }
}

impl Eq for Actual {}

impl Serialize for Actual {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.boolean(), self.decimal()) {
            (Some(b), _) => s.serialize_bool(b),
            (None, Some(d)) => rust_decimal::serde::arbitrary_precision::serialize(&d, s),
            (None, None) => s.serialize_none(),
        }
    }
}

/// One line of the explanation. Text fields borrow from the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionResult<'a> {
    pub id: &'a str,
    pub label_zh: &'a str,
    pub label_en: &'a str,
    /// `null` when a reviewer decides (`review`) or when missing facts leave it open (`missing`).
    pub passed: Option<bool>,
    pub review: bool,
    pub confirmed: bool,
    pub route: RouteKind,
    pub actual: Option<Actual>,
    pub threshold: &'a str,
    #[serde(
        with = "rust_decimal::serde::arbitrary_precision_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub points: Option<Decimal>,
    pub source: &'a str,
    /// Facts whose absence leaves this criterion undecided, as `"2025.rd_expense"`.
    pub missing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<&'a str>,
    /// One plain sentence with the values and the requirement (explained results only),
    /// written as `explain_zh` and `explain_en`.
    #[serde(flatten)]
    pub explain: Text<'a>,
    /// Present (possibly `null`) on a failed or undecided quantitative test of an explained
    /// result: `null` when no single fact decides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<Option<Shortfall>>,
    /// The "any one of" group of an alternative (direct-route criteria).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Group<'a>>,
    /// A failed alternative that does not matter because another alternative passed: shown
    /// with `passed: null` rather than `false`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_needed: bool,
    /// A prerequisite title the test found missing (for next steps).
    #[serde(skip)]
    pub title: Option<&'a str>,
}

impl<'a> CriterionResult<'a> {
    fn new(id: &'a str, label_zh: &'a str, label_en: &'a str, source: &'a str) -> Self {
        CriterionResult {
            id,
            label_zh,
            label_en,
            passed: None,
            review: false,
            confirmed: true,
            route: RouteKind::Base,
            actual: None,
            threshold: "",
            points: None,
            source,
            missing: Vec::new(),
            scheme: None,
            dimension: None,
            explain: Text::default(),
            shortfall: None,
            group: None,
            not_needed: false,
            title: None,
        }
    }
}

/// The result of grading one enterprise against one rule set (API.md "Evaluation result";
/// the caller adds `tier`, `as_of` and `ruleset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation<'a> {
    pub outcome: Outcome,
    /// `null` unless eligible.
    pub route: Option<Route>,
    /// Points earned; when facts are missing, the points earned so far (a lower bound).
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub score: Option<Decimal>,
    /// The most the score could reach if the missing facts arrived; absent when exact.
    #[serde(
        with = "rust_decimal::serde::arbitrary_precision_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub score_max: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub pass_mark: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<&'a str>,
    /// The company stage that chose the weights of a points model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<&'a str>,
    /// Which alternative scheme granted the tier, for rule sets with schemes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<&'a str>,
    /// Empty when evaluated without trace.
    pub criteria: Vec<CriterionResult<'a>>,
    /// Facts whose absence leaves some criterion undecided, as `"2025.rd_expense"`.
    pub missing: Vec<String>,
    /// What failed, what is open and what to do (explained results only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary<'a>>,
}

/// Kleene three-valued truth: unknown means a missing fact could still decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    T,
    F,
    U,
}

impl Tri {
    fn of(b: bool) -> Tri {
        if b { Tri::T } else { Tri::F }
    }
    fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::F, _) | (_, Tri::F) => Tri::F,
            (Tri::T, Tri::T) => Tri::T,
            _ => Tri::U,
        }
    }
    fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::T, _) | (_, Tri::T) => Tri::T,
            (Tri::F, Tri::F) => Tri::F,
            _ => Tri::U,
        }
    }
    pub(crate) fn not(self) -> Tri {
        match self {
            Tri::T => Tri::F,
            Tri::F => Tri::T,
            Tri::U => Tri::U,
        }
    }
    pub(crate) fn passed(self) -> Option<bool> {
        match self {
            Tri::T => Some(true),
            Tri::F => Some(false),
            Tri::U => None,
        }
    }
}

/// What evaluating a test returns: the truth alone, or with the value that decided it.
pub(crate) trait TestOut: Copy {
    /// `value` is called only by the kind that keeps values.
    fn new(t: Tri, value: impl FnOnce() -> Option<Val>) -> Self;
    fn tri(self) -> Tri;
    fn with_tri(self, t: Tri) -> Self;
}

impl TestOut for Tri {
    #[inline]
    fn new(t: Tri, _: impl FnOnce() -> Option<Val>) -> Self {
        t
    }
    #[inline]
    fn tri(self) -> Tri {
        self
    }
    #[inline]
    fn with_tri(self, t: Tri) -> Self {
        t
    }
}

impl TestOut for (Tri, Option<Val>) {
    #[inline]
    fn new(t: Tri, value: impl FnOnce() -> Option<Val>) -> Self {
        (t, value())
    }
    #[inline]
    fn tri(self) -> Tri {
        self.0
    }
    #[inline]
    fn with_tri(self, t: Tri) -> Self {
        (t, self.1)
    }
}

/// A fact the evaluation needed and did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FactKey {
    year: i32,
    idx: u16,
}

impl FactKey {
    fn text(self) -> String {
        format!(
            "{}.{}",
            self.year,
            INDICATORS
                .get(usize::from(self.idx))
                .map_or("?", |i| i.code)
        )
    }
}

/// Per-evaluation state. `missing` is a stack: a sub-test that reaches a definite answer
/// truncates what its children pushed, so only facts that could still matter remain.
pub(crate) struct Ctx<'a> {
    facts: Facts<'a>,
    year: i32,
    holds: &'a [String],
    renewal: bool,
    pool: Option<&'a Pool>,
    /// Whether a trace is wanted: the values behind results are only shown in one.
    trace: bool,
    pub(crate) missing: Vec<FactKey>,
    /// One fact replaced by a value (year, catalog position, value): explanations re-grade a
    /// test with it to check a shortfall. `None` whenever grading for real.
    pub(crate) over: Option<(i32, u16, Decimal)>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        facts: Facts<'a>,
        as_of: NaiveDate,
        holds: &'a [String],
        renewal: bool,
        pool: Option<&'a Pool>,
    ) -> Self {
        Ctx {
            facts,
            year: as_of.year(),
            holds,
            renewal,
            pool,
            trace: true,
            missing: Vec::new(),
            over: None,
        }
    }

    /// A context that grades without a trace, for one enterprise after another: see
    /// [`rebind`](Self::rebind).
    pub(crate) fn untraced(
        facts: Facts<'a>,
        as_of: NaiveDate,
        holds: &'a [String],
        pool: Option<&'a Pool>,
    ) -> Self {
        let mut cx = Ctx::new(facts, as_of, holds, false, pool);
        cx.trace = false;
        cx
    }

    /// The assessment year.
    pub(crate) fn year(&self) -> i32 {
        self.year
    }

    /// Points the context at another enterprise (keeping the missing list's allocation).
    pub(crate) fn rebind(&mut self, facts: Facts<'a>, holds: &'a [String]) {
        self.facts = facts;
        self.holds = holds;
        self.missing.clear();
        self.over = None;
    }

    /// A plain filed number, or the ratio (× 100) of two with a positive denominator, read
    /// straight from the packed facts; `None` sends the caller down the general path.
    #[inline]
    fn quick(&self, e: &Expr, base: i32) -> Option<Parts> {
        if self.over.is_some() {
            return None;
        }
        match e {
            Expr::Fact { idx, year } => Some(Parts {
                n: self.facts.num_parts(base + year, usize::from(*idx))?,
                d: None,
            }),
            Expr::Ratio(a, b) => {
                let (Expr::Fact { idx: ia, year: ya }, Expr::Fact { idx: ib, year: yb }) =
                    (&**a, &**b)
                else {
                    return None;
                };
                let (nm, ns) = self.facts.num_parts(base + ya, usize::from(*ia))?;
                let (dm, ds) = self.facts.num_parts(base + yb, usize::from(*ib))?;
                // Packed mantissas are below 2^56: × 100 and the i64 both fit.
                let dm = i64::try_from(dm).ok().filter(|d| *d > 0)?;
                Some(Parts {
                    n: (nm * 100, ns),
                    d: Some((dm, ds)),
                })
            }
            _ => None,
        }
    }

    /// The value to show for a quick number, when values are wanted.
    fn shown(&self, p: Parts) -> Option<Val> {
        self.trace.then(|| Val::Num(p.frac()))
    }

    #[inline]
    fn fact(&mut self, idx: u16, year: i32) -> Val {
        if let Some((y, i, d)) = self.over
            && (y, i) == (year, idx)
        {
            return Val::Num(Frac::int(d));
        }
        match self.facts.get(year, usize::from(idx)) {
            Some(FactValue::Num(d)) => Val::Num(Frac::int(d)),
            Some(FactValue::Bool(b)) => Val::Bool(b),
            None => {
                // An absent rank means the enterprise holds no such rank, not that data is missing.
                if INDICATORS
                    .get(usize::from(idx))
                    .is_some_and(|i| i.kind == Kind::Rank)
                {
                    Val::Nothing
                } else {
                    self.missing.push(FactKey { year, idx });
                    Val::Missing
                }
            }
        }
    }

    fn num(&mut self, idx: u16, year: i32) -> Result<Decimal, Val> {
        match self.fact(idx, year) {
            Val::Num(f) => Ok(f.approx()),
            other => Err(other),
        }
    }

    pub(crate) fn expr(&mut self, e: &Expr, base: i32) -> Val {
        match e {
            Expr::Fact { idx, year } => self.fact(*idx, base + year),
            Expr::Agg { agg, idx, years } => {
                let mut acc: Option<Frac> = None;
                let mut count = 0u32;
                let mut missing = false;
                // An overflowing sum is undefined, like a quotient by zero.
                let mut overflow = false;
                for y in years.iter() {
                    match self.fact(*idx, base + y) {
                        Val::Num(f) => {
                            count += 1;
                            acc = Some(match (acc, agg) {
                                (None, _) => f,
                                (Some(a), Agg::Sum | Agg::Avg) => match a.add(f) {
                                    Some(sum) => sum,
                                    None => {
                                        overflow = true;
                                        a
                                    }
                                },
                                (Some(a), Agg::Min) => {
                                    if f.cmp_frac(a).is_lt() {
                                        f
                                    } else {
                                        a
                                    }
                                }
                                (Some(a), Agg::Max) => {
                                    if f.cmp_frac(a).is_gt() {
                                        f
                                    } else {
                                        a
                                    }
                                }
                            });
                        }
                        Val::Missing => missing = true,
                        _ => {}
                    }
                }
                match (missing, acc) {
                    (true, _) => Val::Missing,
                    (false, None) => Val::Nothing,
                    (false, Some(_)) if overflow => Val::Nothing,
                    (false, Some(a)) if *agg == Agg::Avg => a
                        .div(Frac::int(Decimal::from(count)))
                        .map_or(Val::Nothing, Val::Num),
                    (false, Some(a)) => Val::Num(a),
                }
            }
            Expr::Growth { idx, from, to } => self.growth(*idx, base + from, base + to),
            Expr::AvgGrowth { idx, years } => {
                let mut acc: Option<Frac> = None;
                let mut missing = false;
                let mut undefined = false;
                for y in years.iter() {
                    match self.growth(*idx, base + y - 1, base + y) {
                        Val::Num(g) => match acc.map_or(Some(g), |a| a.add(g)) {
                            Some(sum) => acc = Some(sum),
                            None => undefined = true,
                        },
                        Val::Missing => missing = true,
                        _ => undefined = true,
                    }
                }
                if missing {
                    Val::Missing
                } else if undefined {
                    Val::Nothing
                } else {
                    acc.and_then(|a| a.div(Frac::int(Decimal::from(years.len() as u64))))
                        .map_or(Val::Nothing, Val::Num)
                }
            }
            Expr::Cagr { idx, from, to } => {
                let (a, b) = (self.num(*idx, base + from), self.num(*idx, base + to));
                match (a, b) {
                    (Ok(a), Ok(b)) if a > Decimal::ZERO && !b.is_sign_negative() => {
                        match Frac::new(b, a) {
                            Some(ratio) => Val::Cagr {
                                ratio,
                                years: (to - from).unsigned_abs(),
                            },
                            None => Val::Nothing,
                        }
                    }
                    (Err(Val::Missing), _) | (_, Err(Val::Missing)) => Val::Missing,
                    _ => Val::Nothing,
                }
            }
            Expr::Ratio(a, b) => {
                let (a, b) = (self.expr(a, base), self.expr(b, base));
                match (a, b) {
                    (Val::Num(a), Val::Num(b)) => a
                        .div(b)
                        .and_then(|q| q.scale(Decimal::ONE_HUNDRED))
                        .map_or(Val::Nothing, Val::Num),
                    (Val::Missing, _) | (_, Val::Missing) => Val::Missing,
                    _ => Val::Nothing,
                }
            }
        }
    }

    fn growth(&mut self, idx: u16, from: i32, to: i32) -> Val {
        let (a, b) = (self.num(idx, from), self.num(idx, to));
        match (a, b) {
            // Growth from a zero or negative base is undefined, which fails the test rather than
            // passing it by accident.
            (Ok(a), Ok(b)) if a > Decimal::ZERO => {
                // Checked: an overflow (a difference past 28 digits) is undefined, not a panic.
                match b
                    .checked_sub(a)
                    .and_then(|d| d.checked_mul(Decimal::ONE_HUNDRED))
                {
                    Some(n) => Frac::new(n, a).map_or(Val::Nothing, Val::Num),
                    None => Val::Nothing,
                }
            }
            (Err(Val::Missing), _) | (_, Err(Val::Missing)) => Val::Missing,
            _ => Val::Nothing,
        }
    }

    /// Evaluates a test, with the value of the leaf that decided it when values are wanted.
    fn test(&mut self, c: &Cond, base: i32) -> (Tri, Option<Val>) {
        if self.trace {
            self.cond::<(Tri, Option<Val>)>(c, base)
        } else {
            (self.cond::<Tri>(c, base), None)
        }
    }

    /// Evaluates a test. `O` is what it returns: the bare truth when grading without a trace,
    /// or the truth with the value that decided it (one code path for both).
    pub(crate) fn cond<O: TestOut>(&mut self, c: &Cond, base: i32) -> O {
        let mark = self.missing.len();
        let out = match c {
            Cond::Cmp {
                left,
                op,
                right,
                right_parts,
            } => {
                // The common cases, a filed number or a ratio of two against a threshold,
                // compare the stored mantissas and scales directly.
                if let Some(p) = self.quick(left, base) {
                    O::new(Tri::of(op.holds(p.cmp_thr(*right, *right_parts))), || {
                        Some(Val::Num(p.frac()))
                    })
                } else {
                    let v = self.expr(left, base);
                    let t = match v {
                        Val::Missing => Tri::U,
                        _ => match v.cmp_dec(*right) {
                            None => Tri::F,
                            Some(o) => Tri::of(op.holds(o)),
                        },
                    };
                    O::new(t, || Some(v))
                }
            }
            Cond::Flag { idx, year, is } => match self.fact(*idx, base + year) {
                Val::Bool(b) => O::new(Tri::of(b == *is), || Some(Val::Bool(b))),
                v => O::new(Tri::U, || Some(v)),
            },
            Cond::Holds(t) => {
                let held = self.holds.iter().any(|h| **h == **t);
                O::new(Tri::of(held), || Some(Val::Bool(held)))
            }
            Cond::Renewal(want) => O::new(Tri::of(self.renewal == *want), || None),
            Cond::All(cs) => self.fold(cs.iter().map(|c| (c, base)), true),
            Cond::Any(cs) => self.fold(cs.iter().map(|c| (c, base)), false),
            Cond::Not(c) => {
                let o: O = self.cond(c, base);
                o.with_tri(o.tri().not())
            }
            Cond::EachYear { years, test } => {
                self.fold(years.iter().map(|y| (&**test, base + y)), true)
            }
            Cond::AnyYear { years, test } => {
                self.fold(years.iter().map(|y| (&**test, base + y)), false)
            }
            Cond::Switch { on, cases } => {
                let v = self.expr(on, base);
                match cases.iter().find(|(iv, _)| iv.contains(v) == Some(true)) {
                    Some((_, c)) => self.cond(c, base),
                    None => O::new(Tri::U, || Some(v)),
                }
            }
        };
        if out.tri() != Tri::U {
            self.missing.truncate(mark);
        }
        out
    }

    /// `all` (conjunction) or `any` over tests; the deciding child's value is kept for the trace.
    /// Children are evaluated until one decides (a false in `all`, a true in `any`): what the
    /// rest would add to the missing list is dropped by `cond` on a decided result anyway, and
    /// the trace keeps the first deciding child, so stopping there changes nothing.
    fn fold<'c, O: TestOut>(
        &mut self,
        items: impl Iterator<Item = (&'c Cond, i32)>,
        conj: bool,
    ) -> O {
        let mut acc = if conj { Tri::T } else { Tri::F };
        let (mut first, mut decisive, mut unknown) = (None, None, None);
        for (c, base) in items {
            let o: O = self.cond(c, base);
            let t = o.tri();
            if first.is_none() {
                first = Some(o);
            }
            match t {
                Tri::F if conj && decisive.is_none() => decisive = Some(o),
                Tri::T if !conj && decisive.is_none() => decisive = Some(o),
                Tri::U if unknown.is_none() => unknown = Some(o),
                _ => {}
            }
            acc = if conj { acc.and(t) } else { acc.or(t) };
            if acc == if conj { Tri::F } else { Tri::T } {
                break;
            }
        }
        match decisive.or(unknown).or(first) {
            Some(o) => o.with_tri(acc),
            None => O::new(acc, || None),
        }
    }

    /// Raw points before caps and weights, as a range `[lo, hi]` (equal when decided).
    fn points(&mut self, p: &Points) -> (Decimal, Decimal, Option<Val>) {
        match p {
            Points::Bands { value, bands } => {
                if let Some(p) = self.quick(value, self.year) {
                    let pts = bands
                        .iter()
                        .find(|(iv, _)| iv.contains_by(|b| p.cmp_thr(b.at, b.parts)))
                        .map_or(Decimal::ZERO, |b| b.1);
                    return (pts, pts, self.shown(p));
                }
                let v = self.expr(value, self.year);
                band_points(bands, v)
            }
            Points::Percentile { value, slot, bands } => {
                let v = self.expr(value, self.year);
                match (self.pool.and_then(|pool| pool.percentile(*slot, v)), v) {
                    (_, Val::Missing) => (Decimal::ZERO, Decimal::ONE_HUNDRED, Some(v)),
                    (Some(pct), _) => (pct, pct, Some(v)),
                    (None, _) => band_points(bands, v),
                }
            }
            Points::Cases { cases, otherwise } => {
                let (mut lo, mut hi) = (Decimal::MAX, Decimal::MIN);
                let mut decided = false;
                let mut actual = None;
                for (c, pts) in cases.iter() {
                    let (t, v) = self.test(c, self.year);
                    if t != Tri::F {
                        lo = lo.min(*pts);
                        hi = hi.max(*pts);
                        if actual.is_none() {
                            actual = v;
                        }
                    }
                    if t == Tri::T {
                        decided = true;
                        break;
                    }
                }
                if !decided {
                    lo = lo.min(*otherwise);
                    hi = hi.max(*otherwise);
                }
                (lo, hi, actual)
            }
            Points::Step { value, per, each } => {
                let v = self.expr(value, self.year);
                match v {
                    Val::Missing => (Decimal::ZERO, Decimal::MAX, Some(v)),
                    Val::Num(f) => {
                        let steps = f
                            .div(Frac::int(*per))
                            .and_then(|q| q.checked_approx())
                            .map_or(Decimal::ZERO, |q| q.floor());
                        // Points past a decimal's range are undefined: none.
                        let pts = steps
                            .max(Decimal::ZERO)
                            .checked_mul(*each)
                            .unwrap_or(Decimal::ZERO);
                        (pts, pts, Some(v))
                    }
                    _ => (Decimal::ZERO, Decimal::ZERO, Some(v)),
                }
            }
            Points::BestOf(parts) => {
                let (mut lo, mut hi, mut actual) = (Decimal::MIN, Decimal::MIN, None);
                for part in parts.iter() {
                    let (l, h, v) = self.points(part);
                    if l > lo || actual.is_none() {
                        actual = v;
                    }
                    lo = lo.max(l);
                    hi = hi.max(h);
                }
                (lo, hi, actual)
            }
        }
    }
}

fn band_points(
    bands: &[(super::num::Interval, Decimal)],
    v: Val,
) -> (Decimal, Decimal, Option<Val>) {
    if matches!(v, Val::Missing) {
        let lo = bands.iter().map(|b| b.1).fold(Decimal::MAX, Decimal::min);
        let hi = bands.iter().map(|b| b.1).fold(Decimal::MIN, Decimal::max);
        return (lo, hi, Some(v));
    }
    let pts = bands
        .iter()
        .find(|(iv, _)| iv.contains(v) == Some(true))
        .map_or(Decimal::ZERO, |b| b.1);
    (pts, pts, Some(v))
}

fn actual(v: Option<Val>) -> Option<Actual> {
    match v? {
        Val::Missing | Val::Nothing => None,
        other => Some(Actual(other)),
    }
}

/// Points of weighted (stage) models are kept to two decimals, as a points sheet would show.
const POINTS_DP: u32 = 2;

#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelResult {
    pub(crate) tri: Tri,
    pub(crate) route: Option<Route>,
    pub(crate) score: Option<(Decimal, Decimal)>,
    /// The standard and direct routes' truth (for the explanations' moot alternatives).
    standard: Tri,
    direct: Tri,
}

/// What one criterion gave one enterprise, before its model combines it: the one grading
/// step shared by the traced evaluator and the columnar path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// The criterion does not apply (a renewal-only criterion on a first application).
    Skip,
    /// A reviewer decides: no effect on the outcome.
    Review,
    Test(Tri),
    /// Points earned, as a range `[lo, hi]` (equal when decided), after caps and weights.
    Points(Decimal, Decimal),
}

impl Step {
    /// The `passed` of the criterion's trace line (`None` for a skipped one too).
    pub(crate) fn passed(self) -> Option<bool> {
        match self {
            Step::Skip | Step::Review => None,
            Step::Test(t) => t.passed(),
            Step::Points(lo, hi) => (lo == hi).then_some(lo > Decimal::ZERO),
        }
    }
}

impl Ctx<'_> {
    /// Grades one criterion's body for this enterprise (`stage` of a weighted points model).
    pub(crate) fn step(&mut self, c: &Criterion, stage: Option<usize>) -> (Step, Option<Val>) {
        let applies = match c.applies {
            Applies::Always => true,
            Applies::New => !self.renewal,
            Applies::Renewal => self.renewal,
        };
        if !applies {
            return (Step::Skip, None);
        }
        match &c.body {
            Body::Review => (Step::Review, None),
            Body::Test(t) => {
                let (tri, v) = self.test(t, self.year);
                (Step::Test(tri), v)
            }
            Body::Points {
                points,
                max_points,
                weights,
                ..
            } => {
                let mark = self.missing.len();
                let (mut lo, mut hi, v) = self.points(points);
                if let Some(cap) = max_points {
                    lo = lo.min(*cap);
                    hi = hi.min(*cap);
                }
                if let Some(w) = weights {
                    (lo, hi) = weigh(w, stage, lo, hi);
                }
                if lo == hi {
                    self.missing.truncate(mark);
                }
                (Step::Points(lo, hi), v)
            }
        }
    }

    /// The company stage of a weighted points model, if the rule set has stages.
    pub(crate) fn stage(&mut self, rs: &RuleSet) -> Option<usize> {
        rs.stages.as_ref().and_then(|st| {
            let v = self.expr(&st.value, self.year);
            st.list
                .iter()
                .position(|s| s.range.contains(v) == Some(true))
        })
    }
}

/// The running totals of one model for one enterprise, fed criterion by criterion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelAcc {
    base: Tri,
    standard: Tri,
    direct: Tri,
    subtotals: [(Decimal, Decimal); MAX_DIMENSIONS],
    loose: (Decimal, Decimal),
}

/// A check a model makes after its criteria: a dimension's minimum or the pass mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    Dimension(usize),
    Pass,
}

impl ModelAcc {
    pub(crate) fn new() -> Self {
        ModelAcc {
            base: Tri::T,
            standard: Tri::T,
            direct: Tri::F,
            subtotals: [(Decimal::ZERO, Decimal::ZERO); MAX_DIMENSIONS],
            loose: (Decimal::ZERO, Decimal::ZERO),
        }
    }

    pub(crate) fn add(&mut self, c: &Criterion, s: Step) {
        match s {
            Step::Skip | Step::Review => {}
            Step::Test(tri) => match c.route {
                RouteKind::Base => self.base = self.base.and(tri),
                RouteKind::Standard => self.standard = self.standard.and(tri),
                RouteKind::Direct => self.direct = self.direct.or(tri),
            },
            Step::Points(lo, hi) => {
                let slot = match &c.body {
                    Body::Points {
                        dimension: Some(d), ..
                    } => &mut self.subtotals[*d],
                    _ => &mut self.loose,
                };
                // Saturating: an upper bound of `Decimal::MAX` (missing data) stays one.
                slot.0 = slot.0.saturating_add(lo);
                slot.1 = slot.1.saturating_add(hi);
            }
        }
    }

    /// Applies the dimension minimums and the pass mark; `check` sees each such check with
    /// its truth and the points it compared (a subtotal, or the total).
    pub(crate) fn finish(
        mut self,
        m: &Model,
        mut check: impl FnMut(Check, Tri, (Decimal, Decimal)),
    ) -> ModelResult {
        let mut total = self.loose;
        for (i, (d, sub)) in m.dimensions.iter().zip(self.subtotals).enumerate() {
            let sub = match d.cap {
                Some(cap) => (sub.0.min(cap), sub.1.min(cap)),
                None => sub,
            };
            total.0 = total.0.saturating_add(sub.0);
            total.1 = total.1.saturating_add(sub.1);
            if let Some(min) = d.min {
                let tri = at_least(sub, min);
                self.standard = self.standard.and(tri);
                check(Check::Dimension(i), tri, sub);
            }
        }
        if let Some(p) = &m.pass {
            let tri = at_least(total, p.mark);
            self.standard = self.standard.and(tri);
            check(Check::Pass, tri, total);
        }
        // With only direct routes declared, the standard route does not exist (it must not pass
        // vacuously).
        if !m.has_standard && m.has_direct {
            self.standard = Tri::F;
        }
        let std_route = self.base.and(self.standard);
        let tri = std_route.or(self.base.and(self.direct));
        let route = (tri == Tri::T).then(|| {
            if std_route == Tri::T {
                Route::Standard
            } else {
                Route::Direct
            }
        });
        ModelResult {
            tri,
            route,
            score: (m.has_points || m.pass.is_some()).then_some(total),
            standard: self.standard,
            direct: self.direct,
        }
    }
}

/// The rule set's answer from its models' results (top level first, then each scheme).
pub(crate) struct Combined<'r> {
    pub(crate) tri: Tri,
    pub(crate) route: Option<Route>,
    pub(crate) score: Option<(Decimal, Decimal)>,
    pub(crate) pass_mark: Option<Decimal>,
    /// The first scheme that granted the tier (index into `rs.schemes`), even when a missing
    /// grade leaves the outcome open: callers show it (and `route`) only when eligible.
    pub(crate) scheme: Option<usize>,
    pub(crate) grade: Option<&'r str>,
}

pub(crate) fn combine<'r>(
    rs: &'r RuleSet,
    main: &ModelResult,
    schemes: &[ModelResult],
) -> Combined<'r> {
    let (mut tri, mut route, mut score, mut pass_mark, mut scheme) = (
        main.tri,
        main.route,
        main.score,
        rs.main.pass.as_ref().map(|p| p.mark),
        None,
    );
    if !rs.schemes.is_empty() {
        let mut any = Tri::F;
        let mut chosen = None;
        for (i, r) in schemes.iter().enumerate() {
            if r.tri == Tri::T && chosen.is_none() {
                chosen = Some((i, r.route, r.score));
            }
            any = any.or(r.tri);
        }
        tri = tri.and(any);
        route = chosen.and_then(|c| c.1);
        if let Some((i, _, sc)) = chosen {
            scheme = Some(i);
            if score.is_none() {
                score = sc;
                pass_mark = rs.schemes[i].pass.as_ref().map(|p| p.mark);
            }
        }
    }
    // A graded model is complete when the missing points could not change the grade.
    let mut grade = None;
    if !rs.grades.is_empty() {
        let find = |d: Decimal| {
            rs.grades
                .iter()
                .find(|(iv, _)| iv.contains_dec(d))
                .map(|(_, g)| &**g)
        };
        let (lo, hi) = score.unwrap_or((Decimal::ZERO, Decimal::ONE_HUNDRED));
        let (glo, ghi) = (find(lo), find(hi));
        if glo.is_some() && glo == ghi {
            grade = glo;
        } else {
            tri = tri.and(Tri::U);
        }
    }
    Combined {
        tri,
        route,
        score,
        pass_mark,
        scheme,
        grade,
    }
}

pub(crate) fn outcome_of(t: Tri) -> Outcome {
    match t {
        Tri::T => Outcome::Eligible,
        Tri::F => Outcome::Ineligible,
        Tri::U => Outcome::Incomplete,
    }
}

struct Run<'r, 'a> {
    cx: Ctx<'a>,
    results: Vec<CriterionResult<'r>>,
    stage: Option<usize>,
    /// Build explanations (sentences, shortfalls, groups): `evaluate_explained` only.
    explain: bool,
}

impl<'r> Run<'r, '_> {
    fn missing_since(&self, mark: usize) -> Vec<String> {
        if !self.cx.trace || self.cx.missing.len() == mark {
            return Vec::new();
        }
        let mut keys = self.cx.missing[mark..].to_vec();
        dedup(&mut keys);
        keys.into_iter().map(FactKey::text).collect()
    }

    fn model(&mut self, m: &'r Model, scheme: Option<&'r str>) -> ModelResult {
        let mut acc = ModelAcc::new();
        let start = self.results.len();
        for c in &m.criteria {
            let mark = self.cx.missing.len();
            let (step, v) = self.cx.step(c, self.stage);
            acc.add(c, step);
            // Without a trace the line itself is not built.
            if !self.cx.trace {
                continue;
            }
            let mut explained = None;
            let (review, act, pts, dimension) = match (step, &c.body) {
                (Step::Skip, _) => continue,
                (Step::Review, _) => {
                    if self.explain {
                        explained = Some(explain::TestExplained {
                            text: Text::review(&c.label_zh, &c.label_en),
                            shortfall: None,
                            title: None,
                        });
                    }
                    (true, None, None, None)
                }
                (Step::Test(tri), Body::Test(t)) => {
                    if self.explain {
                        let year = self.cx.year;
                        explained = Some(explain::test(&mut self.cx, t, year, tri, v));
                    }
                    (false, v, None, None)
                }
                (Step::Points(lo, hi), Body::Points { dimension, .. }) => {
                    if self.explain {
                        explained = Some(explain::TestExplained {
                            text: Text::points(
                                (&c.label_zh, &c.label_en),
                                v.and_then(Val::display),
                                lo,
                                lo == hi,
                            ),
                            shortfall: None,
                            title: None,
                        });
                    }
                    (false, v, Some(lo), dimension.map(|d| &*m.dimensions[d].id))
                }
                _ => continue,
            };
            let missing = self.missing_since(mark);
            let mut r = CriterionResult::new(&c.id, &c.label_zh, &c.label_en, &c.source);
            r.passed = step.passed();
            r.review = review;
            r.confirmed = c.confirmed;
            r.route = c.route;
            r.actual = actual(act);
            r.threshold = &c.threshold;
            r.points = pts;
            r.missing = missing;
            r.scheme = scheme;
            r.dimension = dimension;
            if let Some(e) = explained {
                r.explain = e.text;
                r.shortfall = e.shortfall;
                r.title = e.title;
                if c.route == RouteKind::Direct {
                    r.group = Some(Group(scheme));
                }
            }
            self.results.push(r);
        }
        let (trace, explain) = (self.cx.trace, self.explain);
        let results = &mut self.results;
        let res = acc.finish(m, |check, tri, sub| {
            if !trace {
                return;
            }
            let mut r = match check {
                Check::Dimension(i) => {
                    let d = &m.dimensions[i];
                    let mut r =
                        CriterionResult::new(&d.result_id, &d.label_zh, &d.label_en, &d.source);
                    r.confirmed = d.confirmed;
                    r.threshold = &d.threshold;
                    r.dimension = Some(&d.id);
                    if explain && let Some(min) = d.min {
                        r.explain = Text::mark(Some((&d.label_zh, &d.label_en)), sub, min);
                    }
                    r
                }
                Check::Pass => {
                    let Some(p) = &m.pass else { return };
                    let mut r =
                        CriterionResult::new(&p.result_id, &p.label_zh, &p.label_en, &p.source);
                    r.confirmed = p.confirmed;
                    r.threshold = &p.threshold;
                    if explain {
                        r.explain = Text::mark(None, sub, p.mark);
                    }
                    r
                }
            };
            r.passed = tri.passed();
            r.route = RouteKind::Standard;
            r.actual = Some(Actual(Val::Num(Frac::int(sub.0))));
            r.points = Some(sub.0);
            r.scheme = scheme;
            results.push(r);
        });
        if self.explain {
            // An alternative that failed while another passed is not a failure of the tier.
            for r in &mut self.results[start..] {
                let moot = match r.route {
                    RouteKind::Direct => res.standard == Tri::T,
                    RouteKind::Standard => res.direct == Tri::T,
                    RouteKind::Base => false,
                };
                if moot && r.passed == Some(false) {
                    r.passed = None;
                    r.not_needed = true;
                    r.shortfall = None;
                }
            }
        }
        res
    }
}

/// Scales raw 0–100 points by the stage's weight; an unknown stage widens the range.
fn weigh(w: &[Decimal], stage: Option<usize>, lo: Decimal, hi: Decimal) -> (Decimal, Decimal) {
    let scale = |p: Decimal, wt: Decimal| {
        (p.saturating_mul(wt) / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(POINTS_DP, RoundingStrategy::MidpointAwayFromZero)
    };
    match stage.and_then(|s| w.get(s)) {
        Some(wt) => (scale(lo, *wt), scale(hi, *wt)),
        None => {
            let lo = w
                .iter()
                .map(|wt| scale(lo, *wt))
                .fold(Decimal::MAX, Decimal::min);
            let hi = w
                .iter()
                .map(|wt| scale(hi, *wt))
                .fold(Decimal::MIN, Decimal::max);
            (lo, hi)
        }
    }
}

fn at_least((lo, hi): (Decimal, Decimal), mark: Decimal) -> Tri {
    if lo >= mark {
        Tri::T
    } else if hi < mark {
        Tri::F
    } else {
        Tri::U
    }
}

/// Grades an enterprise. With `trace == false` the per-criterion lines are skipped; outcome,
/// route, score and missing are identical either way.
pub fn evaluate<'r>(rs: &'r RuleSet, input: &Input<'_>, trace: bool) -> Evaluation<'r> {
    grade(rs, input, trace, false)
}

/// Grades with the full trace and explains it (API.md "Evaluation result, explained"): a
/// sentence per criterion, shortfalls, groups of alternatives and the summary with next steps.
/// Outcome, route, score and missing are those of [`evaluate`].
pub fn evaluate_explained<'r>(rs: &'r RuleSet, input: &Input<'_>) -> Evaluation<'r> {
    grade(rs, input, true, true)
}

fn grade<'r>(rs: &'r RuleSet, input: &Input<'_>, trace: bool, explain: bool) -> Evaluation<'r> {
    let pool = input.pool.filter(|p| p.fits(rs, input.as_of));
    let mut cx = Ctx::new(input.facts, input.as_of, input.holds, input.renewal, pool);
    cx.trace = trace;
    let results = if trace {
        Vec::with_capacity(rs.criteria_count + 8)
    } else {
        Vec::new()
    };
    let mut run = Run {
        cx,
        results,
        stage: None,
        explain,
    };

    let stage = run.cx.stage(rs);
    run.stage = stage;

    let main = run.model(&rs.main, None);
    let schemes: Vec<ModelResult> = rs
        .schemes
        .iter()
        .map(|s| run.model(s, Some(&s.id)))
        .collect();
    let Combined {
        tri,
        route,
        score,
        pass_mark,
        scheme,
        grade,
    } = combine(rs, &main, &schemes);
    let scheme = scheme.map(|i| &*rs.schemes[i].id);
    if explain && let Some(s) = scheme {
        for r in &mut run.results {
            if r.scheme.is_some_and(|id| id != s) && r.passed == Some(false) {
                r.passed = None;
                r.not_needed = true;
                r.shortfall = None;
            }
        }
    }
    let outcome = outcome_of(tri);
    let mut keys = std::mem::take(&mut run.cx.missing);
    dedup(&mut keys);
    let summary = explain.then(|| summarize(&run.results, &keys));
    Evaluation {
        outcome,
        route: if outcome == Outcome::Eligible {
            route
        } else {
            None
        },
        score: score.map(|s| s.0),
        score_max: score.and_then(|s| (s.1 != s.0).then_some(s.1)),
        pass_mark,
        grade,
        stage: stage.and_then(|i| rs.stages.as_ref().map(|st| &*st.list[i].id)),
        scheme: if outcome == Outcome::Eligible {
            scheme
        } else {
            None
        },
        criteria: run.results,
        // Most gradings miss nothing; skipping the collect then saves 0.8 % of the instructions
        // of a batch (callgrind, `peers profile ladder`).
        missing: if keys.is_empty() {
            Vec::new()
        } else {
            keys.into_iter().map(FactKey::text).collect()
        },
        summary,
    }
}

/// The summary of an explained result: failed and undecided criteria, and the next steps in
/// the order a company would take them (titles, values to raise, facts to file, reviews).
fn summarize<'a>(results: &[CriterionResult<'a>], missing: &[FactKey]) -> Summary<'a> {
    // Direct-route criteria are alternatives to a standard route: their failure is not a
    // failure to fix when the same model has a standard route.
    let has_standard = |scheme: Option<&str>| {
        results
            .iter()
            .any(|r| r.scheme == scheme && r.route == RouteKind::Standard)
    };
    let counts = |r: &CriterionResult<'_>| r.route != RouteKind::Direct || !has_standard(r.scheme);
    let mut s = Summary::default();
    let mut steps_title: Vec<NextStep<'a>> = Vec::new();
    let mut steps_raise = Vec::new();
    let mut steps_review = Vec::new();
    for r in results {
        match r.passed {
            Some(false) if counts(r) => {
                s.failed.push(r.id);
                if let Some(tier) = r.title
                    && !steps_title.iter().any(|n| n.tier == Some(tier))
                {
                    steps_title.push(NextStep {
                        kind: StepKind::ObtainTitle,
                        fact: None,
                        year: None,
                        tier: Some(tier),
                        criterion: Some(r.id),
                        text: StepText::Title(tier),
                    });
                }
                if let Some(Some(sf)) = &r.shortfall
                    && let (Some(actual), Some(gap)) = (sf.actual, sf.gap)
                {
                    steps_raise.push(NextStep {
                        kind: StepKind::Raise,
                        fact: Some(sf.fact),
                        year: Some(sf.year),
                        tier: None,
                        criterion: Some(r.id),
                        text: StepText::Raise {
                            fact: sf.fact,
                            year: sf.year,
                            actual,
                            needed: sf.needed,
                            gap,
                            label: (r.label_zh, r.label_en),
                        },
                    });
                }
            }
            None if r.review => {
                s.undecided.push(r.id);
                steps_review.push(NextStep {
                    kind: StepKind::Review,
                    fact: None,
                    year: None,
                    tier: None,
                    criterion: Some(r.id),
                    text: StepText::Review((r.label_zh, r.label_en)),
                });
            }
            None if !r.not_needed => s.undecided.push(r.id),
            _ => {}
        }
    }
    s.next_steps = steps_title;
    s.next_steps.append(&mut steps_raise);
    for k in missing {
        let code = INDICATORS.get(usize::from(k.idx)).map_or("?", |i| i.code);
        // An undecided test that this one fact would settle says what value passes.
        let needed = results.iter().find_map(|r| match &r.shortfall {
            Some(Some(sf)) if sf.fact == code && sf.year == k.year && sf.actual.is_none() => {
                Some(sf.needed)
            }
            _ => None,
        });
        s.next_steps.push(NextStep {
            kind: StepKind::FileFact,
            fact: Some(code),
            year: Some(k.year),
            tier: None,
            criterion: None,
            text: StepText::File {
                fact: code,
                year: k.year,
                needed,
            },
        });
    }
    s.next_steps.append(&mut steps_review);
    s
}

/// Keeps the first occurrence of each key, in order (the lists are short).
fn dedup(keys: &mut Vec<FactKey>) {
    let mut i = 0;
    while i < keys.len() {
        if keys[..i].contains(&keys[i]) {
            keys.remove(i);
        } else {
            i += 1;
        }
    }
}
