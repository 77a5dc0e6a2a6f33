//! Explanations (API.md "Evaluation result, explained"): one plain sentence per criterion in
//! Chinese and English with the enterprise's values and the requirement in units, the exact
//! shortfall of a failed or undecided quantitative test, and the summary with next steps.
//!
//! Built only by [`evaluate_explained`](super::evaluate_explained): grading with or without a
//! plain trace does none of this work. The rules for `needed` (strict bounds, whole-number
//! facts, which fact of a ratio or growth moves) are in `format.md`, "Explanations".

use std::fmt::{self, Write};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use smallvec::SmallVec;

use super::eval::{Ctx, Tri};
use super::num::{DISPLAY_DP, Val};
use super::rules::{Agg, Cond, Expr, Op};
use crate::catalog::{INDICATORS, Kind};

/// What the enterprise would need: the value of one fact, in that fact's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    /// The catalog code.
    pub fact: &'static str,
    pub year: i32,
    /// `null` when the fact is not on file.
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub actual: Option<Decimal>,
    /// The least value (greatest, for an upper bound) that passes with every other fact
    /// unchanged.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub needed: Decimal,
    /// `needed − actual`; `null` when the fact is not on file.
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub gap: Option<Decimal>,
}

/// The evaluation's summary: what failed, what is open, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Summary<'a> {
    pub failed: Vec<&'a str>,
    pub undecided: Vec<&'a str>,
    pub next_steps: Vec<NextStep<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    FileFact,
    Raise,
    ObtainTitle,
    Review,
}

/// One next step. Its sentences (`text_zh`, `text_en`) are written when it is serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep<'a> {
    pub kind: StepKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criterion: Option<&'a str>,
    #[serde(flatten)]
    pub(crate) text: StepText<'a>,
}

/// What a next step's sentences say, kept as values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepText<'a> {
    Title(&'a str),
    Raise {
        fact: &'static str,
        year: i32,
        actual: Decimal,
        needed: Decimal,
        gap: Decimal,
        label: (&'a str, &'a str),
    },
    File {
        fact: &'static str,
        year: i32,
        needed: Option<Decimal>,
    },
    Review((&'a str, &'a str)),
}

impl StepText<'_> {
    fn write(&self, w: &mut impl Write, zh: bool) -> fmt::Result {
        match *self {
            StepText::Title(tier) => {
                if zh {
                    write!(w, "先取得{}称号。", tier_label(tier, true))
                } else {
                    write!(w, "First obtain the {} title.", tier_label(tier, false))
                }
            }
            StepText::Raise {
                fact,
                year,
                actual,
                needed,
                gap,
                label,
            } => {
                let up = gap > Decimal::ZERO;
                let amount = |d, zh| Amount(fact, d, zh);
                if zh {
                    write!(
                        w,
                        "将{year}年{}从{}{}到{}（{}{}），以满足“{}”。",
                        fact_label(fact, true),
                        amount(actual, true),
                        if up { "提高" } else { "降低" },
                        amount(needed, true),
                        if up { "增加" } else { "减少" },
                        amount(gap.abs(), true),
                        label.0
                    )
                } else {
                    write!(
                        w,
                        "{} {} for {year} from {} to {} ({} {}) to meet: {}.",
                        if up { "Raise" } else { "Lower" },
                        fact_label(fact, false),
                        amount(actual, false),
                        amount(needed, false),
                        if up { "up" } else { "down" },
                        amount(gap.abs(), false),
                        label.1
                    )
                }
            }
            StepText::File { fact, year, needed } => {
                if zh {
                    write!(w, "填报{year}年{}", fact_label(fact, true))?;
                    if let Some(d) = needed {
                        write!(w, "（达标值：{}）", Amount(fact, d, true))?;
                    }
                    w.write_str("。")
                } else {
                    write!(w, "File {} for {year}", fact_label(fact, false))?;
                    if let Some(d) = needed {
                        write!(w, " (passing value: {})", Amount(fact, d, false))?;
                    }
                    w.write_str(".")
                }
            }
            StepText::Review((z, e)) => {
                if zh {
                    write!(w, "等待评审人员判断：{z}。")
                } else {
                    write!(w, "Wait for a reviewer's judgment: {e}.")
                }
            }
        }
    }
}

impl Serialize for StepText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(
            "text_zh",
            &Lang(|w: &mut fmt::Formatter<'_>| self.write(w, true)),
        )?;
        m.serialize_entry(
            "text_en",
            &Lang(|w: &mut fmt::Formatter<'_>| self.write(w, false)),
        )?;
        m.end()
    }
}

/// A sentence written straight into the serializer's output (no string in between).
struct Lang<F>(F);

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> fmt::Display for Lang<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> Serialize for Lang<F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The sentence of one line of an explained result, in Chinese and English. Grading keeps the
/// values it names; the words are written only when the result is serialized (or asked for
/// with [`Text::zh`] and [`Text::en`]), so explaining costs no formatting until then.
#[derive(Debug, Clone, Default)]
pub struct Text<'a>(Repr<'a>);

#[derive(Debug, Clone, Default)]
enum Repr<'a> {
    #[default]
    None,
    Test {
        leaves: SmallVec<[Leaf<'a>; 1]>,
        any_suffix: bool,
    },
    Review(&'a str, &'a str),
    Points {
        label: (&'a str, &'a str),
        value: Option<Decimal>,
        lo: Decimal,
        decided: bool,
    },
    Mark {
        /// The dimension's labels for a subtotal; `None` for the total score.
        of: Option<(&'a str, &'a str)>,
        have: (Decimal, Decimal),
        mark: Decimal,
    },
}

impl<'a> Text<'a> {
    pub(crate) fn review(zh: &'a str, en: &'a str) -> Self {
        Text(Repr::Review(zh, en))
    }

    pub(crate) fn points(
        label: (&'a str, &'a str),
        value: Option<Decimal>,
        lo: Decimal,
        decided: bool,
    ) -> Self {
        Text(Repr::Points {
            label,
            value,
            lo,
            decided,
        })
    }

    /// A subtotal (`of`: the dimension's labels) or the total score against its mark.
    pub(crate) fn mark(
        of: Option<(&'a str, &'a str)>,
        have: (Decimal, Decimal),
        mark: Decimal,
    ) -> Self {
        Text(Repr::Mark { of, have, mark })
    }

    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Repr::None => true,
            Repr::Test { leaves, .. } => leaves.is_empty(),
            _ => false,
        }
    }

    pub fn zh(&self) -> String {
        let mut s = String::new();
        let _ = self.write(&mut s, true);
        s
    }

    pub fn en(&self) -> String {
        let mut s = String::new();
        let _ = self.write(&mut s, false);
        s
    }

    fn write(&self, w: &mut impl Write, zh: bool) -> fmt::Result {
        match &self.0 {
            Repr::None => Ok(()),
            Repr::Test { leaves, any_suffix } => {
                if leaves.is_empty() {
                    return Ok(());
                }
                for (i, l) in leaves.iter().enumerate() {
                    if i > 0 {
                        w.write_str(if zh { "；" } else { "; " })?;
                    }
                    write_leaf(w, l, zh)?;
                }
                if *any_suffix {
                    w.write_str(if zh {
                        "（满足其一即可）"
                    } else {
                        " (any one suffices)"
                    })?;
                }
                w.write_str(if zh { "。" } else { "." })
            }
            Repr::Review(z, e) => {
                if zh {
                    write!(w, "由评审人员判断：{z}。")
                } else {
                    write!(w, "A reviewer judges: {e}.")
                }
            }
            Repr::Points {
                label,
                value,
                lo,
                decided,
            } => write_points(w, *label, *value, *lo, *decided, zh),
            Repr::Mark { of, have, mark } => write_mark(w, *of, *have, *mark, zh),
        }
    }
}

/// Two sentences are equal when they read the same.
impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.zh() == other.zh() && self.en() == other.en()
    }
}

impl Eq for Text<'_> {}

/// Written as the two fields `explain_zh` and `explain_en` (none when there is no sentence).
impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_empty() {
            return s.serialize_map(Some(0))?.end();
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(
            "explain_zh",
            &Lang(|w: &mut fmt::Formatter<'_>| self.write(w, true)),
        )?;
        m.serialize_entry(
            "explain_en",
            &Lang(|w: &mut fmt::Formatter<'_>| self.write(w, false)),
        )?;
        m.end()
    }
}

/// The "any one of" group of a direct-route criterion: `<scheme>.direct`, or `direct`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group<'a>(pub Option<&'a str>);

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(scheme) => s.collect_str(&format_args!("{scheme}.direct")),
            None => s.serialize_str("direct"),
        }
    }
}

/// One comparison, flag or holding inside a criterion's test, with its own truth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaf<'c> {
    cond: &'c Cond,
    base: i32,
    /// The truth of the leaf as the criterion reads it (a `not` above it is applied).
    tri: Tri,
    val: Option<Val>,
    negated: bool,
}

/// The leaves of one test (most have one to four).
pub(crate) type Leaves<'c> = SmallVec<[Leaf<'c>; 4]>;

/// Every leaf of a test, each evaluated on its own (no short-cut), in document order. Leaves
/// under a `switch` are those of the case that applies. Leaves the missing list untouched.
pub(crate) fn leaves<'c>(
    cx: &mut Ctx<'_>,
    c: &'c Cond,
    base: i32,
    neg: bool,
    out: &mut Leaves<'c>,
) {
    match c {
        Cond::Cmp { .. } | Cond::Flag { .. } | Cond::Holds(_) => {
            let mark = cx.missing.len();
            let (tri, val) = cx.cond::<(Tri, Option<Val>)>(c, base);
            cx.missing.truncate(mark);
            out.push(Leaf {
                cond: c,
                base,
                tri: if neg { tri.not() } else { tri },
                val,
                negated: neg,
            });
        }
        Cond::Renewal(_) => {}
        Cond::All(cs) | Cond::Any(cs) => {
            for c in cs.iter() {
                leaves(cx, c, base, neg, out);
            }
        }
        Cond::Not(c) => leaves(cx, c, base, !neg, out),
        Cond::EachYear { years, test } | Cond::AnyYear { years, test } => {
            for y in years.iter() {
                leaves(cx, test, base + y, neg, out);
            }
        }
        Cond::Switch { on, cases } => {
            let mark = cx.missing.len();
            let v = cx.expr(on, base);
            cx.missing.truncate(mark);
            if let Some((_, c)) = cases.iter().find(|(iv, _)| iv.contains(v) == Some(true)) {
                leaves(cx, c, base, neg, out);
            }
        }
    }
}

/// Whether a test compares a number somewhere (only those can have a shortfall).
pub(crate) fn quantitative(c: &Cond) -> bool {
    match c {
        Cond::Cmp { .. } => true,
        Cond::Flag { .. } | Cond::Holds(_) | Cond::Renewal(_) => false,
        Cond::All(cs) | Cond::Any(cs) => cs.iter().any(quantitative),
        Cond::Not(c) => quantitative(c),
        Cond::EachYear { test, .. } | Cond::AnyYear { test, .. } => quantitative(test),
        Cond::Switch { cases, .. } => cases.iter().any(|(_, c)| quantitative(c)),
    }
}

/// What explaining one test criterion yields.
pub(crate) struct TestExplained<'c> {
    pub(crate) text: Text<'c>,
    /// `None`: not a quantitative test or it passed; `Some(None)`: no single fact decides it.
    pub(crate) shortfall: Option<Option<Shortfall>>,
    /// A prerequisite title the enterprise does not hold.
    pub(crate) title: Option<&'c str>,
}

/// Explains a test criterion whose truth is `tri` and whose value is `val` (what grading with
/// the trace found), evaluated at `year`.
pub(crate) fn test<'c>(
    cx: &mut Ctx<'_>,
    t: &'c Cond,
    year: i32,
    tri: Tri,
    val: Option<Val>,
) -> TestExplained<'c> {
    if matches!(t, Cond::Cmp { .. } | Cond::Flag { .. } | Cond::Holds(_)) {
        // A test that is one leaf (most are): grading already evaluated it, with its value,
        // and the sentence names that leaf whatever its truth.
        let leaf = Leaf {
            cond: t,
            base: year,
            tri,
            val,
            negated: false,
        };
        let title = match t {
            Cond::Holds(tier) if tri == Tri::F => Some(&**tier),
            _ => None,
        };
        let quantitative = matches!(t, Cond::Cmp { .. });
        let shortfall = (tri != Tri::T && quantitative)
            .then(|| shortfall(cx, t, year, std::slice::from_ref(&leaf)));
        return TestExplained {
            text: Text(Repr::Test {
                leaves: smallvec::smallvec![leaf],
                any_suffix: false,
            }),
            shortfall,
            title,
        };
    }
    let mut ls = Leaves::new();
    leaves(cx, t, year, false, &mut ls);
    let any_of = matches!(t, Cond::Any(_) | Cond::AnyYear { .. });
    let mut chosen: SmallVec<[Leaf<'c>; 1]> = match tri {
        Tri::T if any_of => ls
            .iter()
            .filter(|l| l.tri == Tri::T)
            .take(1)
            .copied()
            .collect(),
        Tri::T => ls.iter().filter(|l| l.tri == Tri::T).copied().collect(),
        Tri::F if any_of => ls.iter().copied().collect(),
        Tri::F => ls.iter().filter(|l| l.tri == Tri::F).copied().collect(),
        Tri::U => ls.iter().filter(|l| l.tri != Tri::T).copied().collect(),
    };
    if chosen.is_empty() {
        chosen = ls.iter().copied().collect();
    }
    let any_suffix = any_of && tri != Tri::T && chosen.len() > 1;
    let title = ls.iter().find_map(|l| match l.cond {
        Cond::Holds(tier) if !l.negated && l.tri == Tri::F => Some(&**tier),
        _ => None,
    });
    let shortfall = (tri != Tri::T && quantitative(t)).then(|| shortfall(cx, t, year, &ls));
    TestExplained {
        text: Text(Repr::Test {
            leaves: chosen,
            any_suffix,
        }),
        shortfall,
        title,
    }
}

/// The shortfall of a failed or undecided quantitative test alone, without the sentences:
/// `None` when the test passed or is not quantitative, `Some(None)` when no single fact decides
/// it (what [`test`] puts in an explained line; the columnar path asks for it per enterprise).
pub(crate) fn test_shortfall(
    cx: &mut Ctx<'_>,
    t: &Cond,
    year: i32,
    tri: Tri,
) -> Option<Option<Shortfall>> {
    if tri == Tri::T || !quantitative(t) {
        return None;
    }
    let mut ls = Leaves::new();
    leaves(cx, t, year, false, &mut ls);
    Some(shortfall(cx, t, year, &ls))
}

/// A lower (`at_least`) or upper bound on one fact.
#[derive(Debug, Clone, Copy)]
struct Need {
    idx: u16,
    year: i32,
    at_least: bool,
    strict: bool,
    target: Decimal,
    /// Whether `target` is the exact bound (a quotient that does not terminate is not).
    exact: bool,
}

fn invert(op: Op) -> Op {
    match op {
        Op::Ge => Op::Lt,
        Op::Gt => Op::Le,
        Op::Le => Op::Gt,
        Op::Lt => Op::Ge,
        Op::Eq => Op::Ne,
        Op::Ne => Op::Eq,
    }
}

/// A filed number, without touching the missing list.
fn number(cx: &mut Ctx<'_>, idx: u16, year: i32) -> Option<Decimal> {
    let mark = cx.missing.len();
    let v = cx.expr(&Expr::Fact { idx, year: 0 }, year);
    cx.missing.truncate(mark);
    match v {
        Val::Num(f) => Some(f.approx()),
        _ => None,
    }
}

fn need_leaf(cx: &mut Ctx<'_>, l: &Leaf) -> Option<Need> {
    let Cond::Cmp {
        left, op, right, ..
    } = l.cond
    else {
        return None;
    };
    let op = if l.negated { invert(*op) } else { *op };
    let (at_least, strict) = match op {
        Op::Ge => (true, false),
        Op::Gt => (true, true),
        Op::Le => (false, false),
        Op::Lt => (false, true),
        Op::Eq | Op::Ne => return None,
    };
    need_expr(cx, left, l.base, *right, at_least, strict)
}

/// The bound on one fact that makes `e` reach `target`: the numerator of a ratio, the final
/// value of a growth, the latest year of an aggregate.
fn need_expr(
    cx: &mut Ctx<'_>,
    e: &Expr,
    base: i32,
    target: Decimal,
    at_least: bool,
    strict: bool,
) -> Option<Need> {
    let hundred = Decimal::ONE_HUNDRED;
    let need = |idx, year, target, exact| Need {
        idx,
        year,
        at_least,
        strict,
        target,
        exact,
    };
    match e {
        Expr::Fact { idx, year } => Some(need(*idx, base + year, target, true)),
        Expr::Agg { agg, idx, years } => {
            let last = *years.iter().max()?;
            let mut others = Decimal::ZERO;
            for y in years.iter().filter(|y| **y != last) {
                if matches!(agg, Agg::Sum | Agg::Avg) {
                    others = others.checked_add(number(cx, *idx, base + y)?)?;
                }
            }
            let t = match agg {
                Agg::Sum => target.checked_sub(others)?,
                Agg::Avg => target
                    .checked_mul(Decimal::from(years.len() as u64))?
                    .checked_sub(others)?,
                // The latest year alone reaching the bound; checked by re-grading.
                Agg::Min | Agg::Max => target,
            };
            Some(need(*idx, base + last, t, true))
        }
        Expr::Growth { idx, from, to } => {
            let a = number(cx, *idx, base + from).filter(|a| *a > Decimal::ZERO)?;
            let t = a
                .checked_mul(hundred.checked_add(target)?)?
                .checked_div(hundred)?;
            Some(need(*idx, base + to, t, true))
        }
        Expr::Cagr { idx, from, to } => {
            let a = number(cx, *idx, base + from).filter(|a| *a > Decimal::ZERO)?;
            let n = (to - from).unsigned_abs();
            let mut t = a;
            for _ in 0..n {
                t = t
                    .checked_mul(hundred.checked_add(target)?)?
                    .checked_div(hundred)?;
            }
            Some(need(*idx, base + to, t, true))
        }
        Expr::AvgGrowth { idx, years } => {
            let last = *years.iter().max()?;
            let mut others = Decimal::ZERO;
            for y in years.iter().filter(|y| **y != last) {
                let (a, b) = (number(cx, *idx, base + y - 1)?, number(cx, *idx, base + y)?);
                if a <= Decimal::ZERO {
                    return None;
                }
                others = others.checked_add((b - a).checked_mul(hundred)?.checked_div(a)?)?;
            }
            let g = target
                .checked_mul(Decimal::from(years.len() as u64))?
                .checked_sub(others)?;
            let prev = number(cx, *idx, base + last - 1).filter(|a| *a > Decimal::ZERO)?;
            let t = prev
                .checked_mul(hundred.checked_add(g)?)?
                .checked_div(hundred)?;
            Some(need(*idx, base + last, t, years.len() == 1))
        }
        Expr::Ratio(a, b) => {
            let mark = cx.missing.len();
            let d = cx.expr(b, base);
            cx.missing.truncate(mark);
            let Val::Num(d) = d else { return None };
            let d = d.approx();
            if d <= Decimal::ZERO {
                return None;
            }
            let t = target.checked_mul(d)?.checked_div(hundred)?;
            need_expr(cx, a, base, t, at_least, strict)
        }
    }
}

/// The fact's precision: whole numbers for counts, ranks and levels, 0.0001 otherwise (the
/// places the service shows; 0.0001 万元 is one yuan).
fn step_dp(idx: u16) -> u32 {
    match INDICATORS.get(usize::from(idx)) {
        Some(i) if i.kind.integral() => 0,
        _ => DISPLAY_DP,
    }
}

/// The value `needed` for a bound: the exact bound when it is inclusive and representable,
/// otherwise the nearest passing value at the fact's precision.
fn settle(n: &Need) -> Decimal {
    let dp = step_dp(n.idx);
    let step = Decimal::new(1, dp);
    let (up, down) = (
        RoundingStrategy::ToPositiveInfinity,
        RoundingStrategy::ToNegativeInfinity,
    );
    let v = match (n.at_least, n.strict) {
        (_, false) if n.exact && dp > 0 => n.target,
        (true, false) => n.target.round_dp_with_strategy(dp, up),
        (false, false) => n.target.round_dp_with_strategy(dp, down),
        (true, true) => n.target.round_dp_with_strategy(dp, down) + step,
        (false, true) => n.target.round_dp_with_strategy(dp, up) - step,
    };
    v.normalize()
}

/// Re-grades the test with one fact replaced.
fn passes_with(cx: &mut Ctx<'_>, t: &Cond, year: i32, n: &Need, v: Decimal) -> (Tri, Vec<Need>) {
    cx.over = Some((n.year, n.idx, v));
    let mark = cx.missing.len();
    let tri = cx.cond::<Tri>(t, year);
    let mut more = Vec::new();
    if tri != Tri::T {
        let mut ls = Leaves::new();
        leaves(cx, t, year, false, &mut ls);
        for l in ls.iter().filter(|l| l.tri != Tri::T) {
            if let Some(m) = need_leaf(cx, l) {
                more.push(m);
            }
        }
    }
    cx.missing.truncate(mark);
    cx.over = None;
    (tri, more)
}

/// The single-fact shortfall of a failed or undecided test, checked by re-grading the whole
/// test with the value; `None` when no single fact decides it.
fn shortfall(cx: &mut Ctx<'_>, t: &Cond, year: i32, ls: &[Leaf]) -> Option<Shortfall> {
    for l in ls.iter().filter(|l| l.tri != Tri::T) {
        let Some(mut n) = need_leaf(cx, l) else {
            continue;
        };
        // A conjunction may need the same fact twice (100万 and 3 % of revenue): take the
        // stricter bound until the test passes or another fact is the obstacle.
        for _ in 0..4 {
            let v = settle(&n);
            let (tri, more) = passes_with(cx, t, year, &n, v);
            if tri == Tri::T {
                let actual = number(cx, n.idx, n.year);
                return Some(Shortfall {
                    fact: INDICATORS.get(usize::from(n.idx)).map_or("?", |i| i.code),
                    year: n.year,
                    actual,
                    needed: v,
                    gap: actual.map(|a| (v - a).normalize()),
                });
            }
            let stricter = more.into_iter().find(|m| {
                m.idx == n.idx && m.year == n.year && m.at_least == n.at_least && {
                    let w = settle(m);
                    if n.at_least { w > v } else { w < v }
                }
            });
            match stricter {
                Some(m) => n = m,
                None => break,
            }
        }
    }
    None
}

// ---- sentences -------------------------------------------------------------------------
//
// Written into any `fmt::Write` (the serializer's output, or a `String` for `Text::zh`/`en`).

/// A number as the service shows it: trailing zeros dropped.
struct N(Decimal);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

fn label(idx: u16, zh: bool) -> &'static str {
    INDICATORS
        .get(usize::from(idx))
        .map_or("?", |i| if zh { i.label_zh } else { i.label_en })
}

fn kind(e: &Expr) -> Option<Kind> {
    match e {
        Expr::Fact { idx, .. } | Expr::Agg { idx, .. } => {
            INDICATORS.get(usize::from(*idx)).map(|i| i.kind)
        }
        _ => None,
    }
}

/// The unit written after a number of this expression.
fn unit(e: &Expr, zh: bool) -> &'static str {
    match (kind(e), zh) {
        (None, _) | (Some(Kind::Percent), _) => "%",
        (Some(Kind::Amount), true) => "万元",
        (Some(Kind::Amount), false) => " 万元",
        (Some(Kind::Count), true) => match e {
            Expr::Fact { idx, .. } | Expr::Agg { idx, .. }
                if INDICATORS
                    .get(usize::from(*idx))
                    .is_some_and(|i| i.unit == "persons") =>
            {
                "人"
            }
            _ => "项",
        },
        (Some(Kind::Count), false) => "",
        (Some(Kind::Years), true) => "年",
        (Some(Kind::Years), false) => " years",
        (Some(Kind::Points), true) => "分",
        (Some(Kind::Points), false) => " points",
        (Some(Kind::Level), true) => "级",
        (Some(Kind::Rank), true) => "名",
        _ => "",
    }
}

/// Years relative to `base`: a contiguous run as `2023–2025`, otherwise listed.
struct Years<'e>(&'e [i32], i32, bool);

impl fmt::Display for Years<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Years(ys, base, zh) = *self;
        let contiguous = ys.windows(2).all(|w| w[1] == w[0] + 1);
        match (ys.first(), ys.last()) {
            (Some(a), Some(b)) if contiguous && ys.len() > 1 => {
                write!(f, "{}–{}", base + a, base + b)
            }
            _ => {
                for (i, y) in ys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(if zh { "、" } else { ", " })?;
                    }
                    write!(f, "{}", base + y)?;
                }
                Ok(())
            }
        }
    }
}

/// What is measured, with concrete years: "2025年研发费用占营业收入比重".
struct Subject<'e>(&'e Expr, i32, bool);

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Subject(e, base, zh) = *self;
        match e {
            Expr::Fact { idx, year } => {
                if zh {
                    write!(f, "{}年{}", base + year, label(*idx, true))
                } else {
                    write!(f, "{} ({})", label(*idx, false), base + year)
                }
            }
            Expr::Agg { agg, idx, years } => {
                let ys = Years(years, base, zh);
                let l = label(*idx, zh);
                match (agg, zh) {
                    (Agg::Sum, true) => write!(f, "{ys}年{l}合计"),
                    (Agg::Avg, true) => write!(f, "{ys}年{l}平均"),
                    (Agg::Min, true) => write!(f, "{ys}年{l}最小值"),
                    (Agg::Max, true) => write!(f, "{ys}年{l}最大值"),
                    (Agg::Sum, false) => write!(f, "{l}, total of {ys}"),
                    (Agg::Avg, false) => write!(f, "{l}, average of {ys}"),
                    (Agg::Min, false) => write!(f, "{l}, lowest of {ys}"),
                    (Agg::Max, false) => write!(f, "{l}, highest of {ys}"),
                }
            }
            Expr::Growth { idx, from, to } => {
                let (a, b) = (base + from, base + to);
                if zh {
                    write!(f, "{}{a}年至{b}年增长率", label(*idx, true))
                } else {
                    write!(f, "{} growth {a}→{b}", label(*idx, false))
                }
            }
            Expr::AvgGrowth { idx, years } => {
                let ys = Years(years, base, zh);
                if zh {
                    write!(f, "{}{ys}年平均增长率", label(*idx, true))
                } else {
                    write!(f, "{} average yearly growth over {ys}", label(*idx, false))
                }
            }
            Expr::Cagr { idx, from, to } => {
                let (a, b) = (base + from, base + to);
                if zh {
                    write!(f, "{}{a}年至{b}年复合增长率", label(*idx, true))
                } else {
                    write!(f, "{} compound annual growth {a}→{b}", label(*idx, false))
                }
            }
            Expr::Ratio(a, b) => match (&**a, &**b) {
                (Expr::Fact { idx: ia, year: ya }, Expr::Fact { idx: ib, year: yb })
                    if ya == yb =>
                {
                    if zh {
                        write!(
                            f,
                            "{}年{}占{}比重",
                            base + ya,
                            label(*ia, true),
                            label(*ib, true)
                        )
                    } else {
                        f.write_str(label(*ia, false))?;
                        f.write_str(" as a share of ")?;
                        for c in label(*ib, false).chars().flat_map(char::to_lowercase) {
                            f.write_char(c)?;
                        }
                        write!(f, " ({})", base + ya)
                    }
                }
                _ => {
                    if zh {
                        write!(
                            f,
                            "{}占{}比重",
                            Subject(a, base, true),
                            Subject(b, base, true)
                        )
                    } else {
                        write!(
                            f,
                            "{} as a share of {}",
                            Subject(a, base, false),
                            Subject(b, base, false)
                        )
                    }
                }
            },
        }
    }
}

fn op_text(op: Op, zh: bool) -> &'static str {
    match (op, zh) {
        (Op::Ge, true) => "不低于",
        (Op::Gt, true) => "高于",
        (Op::Le, true) => "不高于",
        (Op::Lt, true) => "低于",
        (Op::Eq, true) => "等于",
        (Op::Ne, true) => "不等于",
        (Op::Ge, false) => "at least",
        (Op::Gt, false) => "more than",
        (Op::Le, false) => "at most",
        (Op::Lt, false) => "less than",
        (Op::Eq, false) => "exactly",
        (Op::Ne, false) => "other than",
    }
}

/// The enterprise's value of an expression, with its unit, or why there is none.
struct Value<'e>(&'e Expr, Option<Val>, bool);

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Value(e, v, zh) = *self;
        match v {
            Some(Val::Num(_)) | Some(Val::Cagr { .. }) => match v.and_then(Val::display) {
                Some(d) => write!(f, "{}{}", N(d), unit(e, zh)),
                None => Ok(()),
            },
            Some(Val::Nothing) if kind(e) == Some(Kind::Rank) => {
                f.write_str(if zh { "无排名" } else { "no rank" })
            }
            Some(Val::Nothing) => f.write_str(if zh {
                "无法计算（分母为零或为负）"
            } else {
                "undefined (zero or negative base)"
            }),
            _ => f.write_str(if zh { "未填报" } else { "not filed" }),
        }
    }
}

fn yes_no(b: bool, zh: bool) -> &'static str {
    match (b, zh) {
        (true, true) => "是",
        (false, true) => "否",
        (true, false) => "yes",
        (false, false) => "no",
    }
}

/// The Chinese and English names of the shipped tiers (a prerequisite names one).
pub(crate) fn tier_label(code: &str, zh: bool) -> &str {
    let (z, e) = match code {
        "innovative_sme" => ("创新型中小企业", "innovative SME"),
        "tech_sme" => ("科技型中小企业", "technology-based SME"),
        "tech_innovative_sme" => ("科技和创新型中小企业", "technology and innovative SME"),
        "srdi_sme" => ("专精特新中小企业", "SRDI SME"),
        "little_giant" => ("专精特新“小巨人”企业", "SRDI “little giant”"),
        "single_champion" => ("制造业单项冠军企业", "manufacturing single champion"),
        "smart_factory_basic" => ("基础级智能工厂", "basic smart factory"),
        "smart_factory_advanced" => ("先进级智能工厂", "advanced smart factory"),
        "smart_factory_excellent" => ("卓越级智能工厂", "excellent smart factory"),
        "smart_factory_leading" => ("领航级智能工厂", "leading smart factory"),
        other => (other, other),
    };
    if zh { z } else { e }
}

fn write_leaf(w: &mut impl Write, l: &Leaf, zh: bool) -> fmt::Result {
    match l.cond {
        Cond::Cmp {
            left, op, right, ..
        } => {
            let op = if l.negated { invert(*op) } else { *op };
            let s = Subject(left, l.base, zh);
            let v = Value(left, l.val, zh);
            if kind(left) == Some(Kind::Rank) && matches!(op, Op::Le | Op::Lt) {
                let top = if op == Op::Le {
                    *right
                } else {
                    *right - Decimal::ONE
                };
                return if zh {
                    write!(w, "{s} {v}，要求前{}名以内", N(top))
                } else {
                    write!(w, "{s}: {v}; required within the top {}", N(top))
                };
            }
            let (t, u) = (N(*right), unit(left, zh));
            if zh {
                write!(w, "{s} {v}，要求{}{t}{u}", op_text(op, true))
            } else {
                write!(w, "{s}: {v}; required {} {t}{u}", op_text(op, false))
            }
        }
        Cond::Flag { idx, year, is } => {
            let want = if l.negated { !is } else { *is };
            let y = l.base + year;
            let have = match l.val {
                Some(Val::Bool(b)) => yes_no(b, zh),
                _ => {
                    if zh {
                        "未填报"
                    } else {
                        "not filed"
                    }
                }
            };
            if zh {
                write!(
                    w,
                    "{y}年{}：{have}，要求为{}",
                    label(*idx, true),
                    yes_no(want, true)
                )
            } else {
                write!(
                    w,
                    "{} ({y}): {have}; required: {}",
                    label(*idx, false),
                    yes_no(want, false)
                )
            }
        }
        Cond::Holds(t) => {
            let held = matches!(l.val, Some(Val::Bool(true)));
            let name = tier_label(t, zh);
            match (zh, held, l.negated) {
                (true, true, false) => write!(w, "持有有效的{name}称号"),
                (true, false, false) => write!(w, "未持有有效的{name}称号，须先取得"),
                (true, true, true) => write!(w, "持有{name}称号，不得持有"),
                (true, false, true) => write!(w, "未持有{name}称号（不得持有）"),
                (false, true, false) => write!(w, "holds a valid {name} title"),
                (false, false, false) => {
                    write!(
                        w,
                        "does not hold a valid {name} title, which must come first"
                    )
                }
                (false, true, true) => write!(w, "holds the {name} title, which excludes it"),
                (false, false, true) => write!(w, "does not hold the {name} title (must not)"),
            }
        }
        Cond::Renewal(_) | Cond::All(_) | Cond::Any(_) | Cond::Not(_) => Ok(()),
        Cond::EachYear { .. } | Cond::AnyYear { .. } | Cond::Switch { .. } => Ok(()),
    }
}

/// A number with the unit of a fact, for next steps.
struct Amount<'c>(&'c str, Decimal, bool);

impl fmt::Display for Amount<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Amount(code, d, zh) = *self;
        let idx = super::facts::indicator_index(code).and_then(|i| u16::try_from(i).ok());
        let e = Expr::Fact {
            idx: idx.unwrap_or(u16::MAX),
            year: 0,
        };
        write!(f, "{}{}", N(d), unit(&e, zh))
    }
}

pub(crate) fn fact_label(code: &str, zh: bool) -> &'static str {
    super::facts::indicator_index(code)
        .and_then(|i| INDICATORS.get(i))
        .map_or("?", |i| if zh { i.label_zh } else { i.label_en })
}

/// Sentences for points.
fn write_points(
    w: &mut impl Write,
    (label_zh, label_en): (&str, &str),
    value: Option<Decimal>,
    lo: Decimal,
    decided: bool,
    zh: bool,
) -> fmt::Result {
    match (zh, decided) {
        (true, true) => {
            w.write_str(label_zh)?;
            if let Some(v) = value {
                write!(w, "（数值 {}）", N(v))?;
            }
            write!(w, "：得{}分。", N(lo))
        }
        (false, true) => {
            w.write_str(label_en)?;
            if let Some(v) = value {
                write!(w, " (value {})", N(v))?;
            }
            write!(w, ": {} points.", N(lo))
        }
        (true, false) => write!(w, "{label_zh}：至少得{}分，缺少数据，尚未确定。", N(lo)),
        (false, false) => write!(
            w,
            "{label_en}: at least {} points; data missing, not yet decided.",
            N(lo)
        ),
    }
}

/// Sentences for a subtotal (`of`: the dimension's labels) or the total score and its mark.
fn write_mark(
    w: &mut impl Write,
    of: Option<(&str, &str)>,
    have: (Decimal, Decimal),
    mark: Decimal,
    zh: bool,
) -> fmt::Result {
    match (of, zh) {
        (Some((z, _)), true) => write!(w, "{z}小计")?,
        (Some((_, e)), false) => write!(w, "{e} subtotal")?,
        (None, true) => w.write_str("总分")?,
        (None, false) => w.write_str("Total score")?,
    }
    let (lo, hi, mark) = (N(have.0), N(have.1), N(mark));
    match (have.0 == have.1, zh) {
        (true, true) => write!(w, " {lo}分，要求不低于{mark}分。"),
        (true, false) => write!(w, ": {lo} points; required at least {mark}."),
        (false, true) => write!(
            w,
            "目前 {lo}分（补齐数据后最多 {hi}分），要求不低于{mark}分。"
        ),
        (false, false) => write!(
            w,
            ": {lo} points so far (at most {hi} once data is filed); required at least {mark}."
        ),
    }
}
