//! Explanations (API.md "Evaluation result, explained"): one plain sentence per criterion in
//! Chinese and English with the enterprise's values and the requirement in units, the exact
//! shortfall of a failed or undecided quantitative test, and the summary with next steps.
//!
//! Built only by [`evaluate_explained`](super::evaluate_explained): grading with or without a
//! plain trace does none of this work. The rules for `needed` (strict bounds, whole-number
//! facts, which fact of a ratio or growth moves) are in `format.md`, "Explanations".

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::eval::{Ctx, Tri};
use super::num::{DISPLAY_DP, Val};
use super::render::num;
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
pub struct Summary {
    pub failed: Vec<String>,
    pub undecided: Vec<String>,
    pub next_steps: Vec<NextStep>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    FileFact,
    Raise,
    ObtainTitle,
    Review,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep {
    pub kind: StepKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
    pub text_zh: String,
    pub text_en: String,
}

/// One comparison, flag or holding inside a criterion's test, with its own truth.
pub(crate) struct Leaf<'c> {
    cond: &'c Cond,
    base: i32,
    /// The truth of the leaf as the criterion reads it (a `not` above it is applied).
    tri: Tri,
    val: Option<Val>,
    negated: bool,
}

/// Every leaf of a test, each evaluated on its own (no short-cut), in document order. Leaves
/// under a `switch` are those of the case that applies. Leaves the missing list untouched.
pub(crate) fn leaves<'c>(
    cx: &mut Ctx<'_>,
    c: &'c Cond,
    base: i32,
    neg: bool,
    out: &mut Vec<Leaf<'c>>,
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
    pub(crate) zh: String,
    pub(crate) en: String,
    /// `None`: not a quantitative test or it passed; `Some(None)`: no single fact decides it.
    pub(crate) shortfall: Option<Option<Shortfall>>,
    /// A prerequisite title the enterprise does not hold.
    pub(crate) title: Option<&'c str>,
}

/// Explains a test criterion whose truth is `tri`, evaluated at `year`.
pub(crate) fn test<'c>(cx: &mut Ctx<'_>, t: &'c Cond, year: i32, tri: Tri) -> TestExplained<'c> {
    let mut ls = Vec::new();
    leaves(cx, t, year, false, &mut ls);
    let any_of = matches!(t, Cond::Any(_) | Cond::AnyYear { .. });
    let chosen: Vec<&Leaf> = match tri {
        Tri::T if any_of => ls.iter().filter(|l| l.tri == Tri::T).take(1).collect(),
        Tri::T => ls.iter().filter(|l| l.tri == Tri::T).collect(),
        Tri::F if any_of => ls.iter().collect(),
        Tri::F => ls.iter().filter(|l| l.tri == Tri::F).collect(),
        Tri::U => ls.iter().filter(|l| l.tri != Tri::T).collect(),
    };
    let chosen = if chosen.is_empty() {
        ls.iter().collect()
    } else {
        chosen
    };
    let mut zh = String::new();
    let mut en = String::new();
    for (i, l) in chosen.iter().enumerate() {
        if i > 0 {
            zh.push('；');
            en.push_str("; ");
        }
        zh.push_str(&leaf_text(l, true));
        en.push_str(&leaf_text(l, false));
    }
    if any_of && tri != Tri::T && chosen.len() > 1 {
        zh.push_str("（满足其一即可）");
        en.push_str(" (any one suffices)");
    }
    if !zh.is_empty() {
        zh.push('。');
        en.push('.');
    }
    let title = ls.iter().find_map(|l| match l.cond {
        Cond::Holds(tier) if !l.negated && l.tri == Tri::F => Some(&**tier),
        _ => None,
    });
    let shortfall = (tri != Tri::T && quantitative(t)).then(|| shortfall(cx, t, year, &ls));
    TestExplained {
        zh,
        en,
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
    let mut ls = Vec::new();
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
        let mut ls = Vec::new();
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

fn years_text(ys: &[i32], base: i32, zh: bool) -> String {
    let abs: Vec<i32> = ys.iter().map(|y| base + y).collect();
    let contiguous = abs.windows(2).all(|w| w[1] == w[0] + 1);
    match (abs.first(), abs.last()) {
        (Some(a), Some(b)) if contiguous && abs.len() > 1 => format!("{a}–{b}"),
        _ => abs
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(if zh { "、" } else { ", " }),
    }
}

/// What is measured, with concrete years: "2025年研发费用占营业收入比重".
fn subject(e: &Expr, base: i32, zh: bool) -> String {
    match e {
        Expr::Fact { idx, year } => {
            if zh {
                format!("{}年{}", base + year, label(*idx, true))
            } else {
                format!("{} ({})", label(*idx, false), base + year)
            }
        }
        Expr::Agg { agg, idx, years } => {
            let ys = years_text(years, base, zh);
            let l = label(*idx, zh);
            match (agg, zh) {
                (Agg::Sum, true) => format!("{ys}年{l}合计"),
                (Agg::Avg, true) => format!("{ys}年{l}平均"),
                (Agg::Min, true) => format!("{ys}年{l}最小值"),
                (Agg::Max, true) => format!("{ys}年{l}最大值"),
                (Agg::Sum, false) => format!("{l}, total of {ys}"),
                (Agg::Avg, false) => format!("{l}, average of {ys}"),
                (Agg::Min, false) => format!("{l}, lowest of {ys}"),
                (Agg::Max, false) => format!("{l}, highest of {ys}"),
            }
        }
        Expr::Growth { idx, from, to } => {
            let (a, b) = (base + from, base + to);
            if zh {
                format!("{}{a}年至{b}年增长率", label(*idx, true))
            } else {
                format!("{} growth {a}→{b}", label(*idx, false))
            }
        }
        Expr::AvgGrowth { idx, years } => {
            let ys = years_text(years, base, zh);
            if zh {
                format!("{}{ys}年平均增长率", label(*idx, true))
            } else {
                format!("{} average yearly growth over {ys}", label(*idx, false))
            }
        }
        Expr::Cagr { idx, from, to } => {
            let (a, b) = (base + from, base + to);
            if zh {
                format!("{}{a}年至{b}年复合增长率", label(*idx, true))
            } else {
                format!("{} compound annual growth {a}→{b}", label(*idx, false))
            }
        }
        Expr::Ratio(a, b) => match (&**a, &**b) {
            (Expr::Fact { idx: ia, year: ya }, Expr::Fact { idx: ib, year: yb }) if ya == yb => {
                if zh {
                    format!(
                        "{}年{}占{}比重",
                        base + ya,
                        label(*ia, true),
                        label(*ib, true)
                    )
                } else {
                    format!(
                        "{} as a share of {} ({})",
                        label(*ia, false),
                        label(*ib, false).to_lowercase(),
                        base + ya
                    )
                }
            }
            _ => {
                if zh {
                    format!("{}占{}比重", subject(a, base, true), subject(b, base, true))
                } else {
                    format!(
                        "{} as a share of {}",
                        subject(a, base, false),
                        subject(b, base, false)
                    )
                }
            }
        },
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

fn value_text(e: &Expr, v: Option<Val>, zh: bool) -> String {
    match v {
        Some(Val::Num(_)) | Some(Val::Cagr { .. }) => match v.and_then(Val::display) {
            Some(d) => format!("{}{}", num(d), unit(e, zh)),
            None => String::new(),
        },
        Some(Val::Nothing) if kind(e) == Some(Kind::Rank) => {
            (if zh { "无排名" } else { "no rank" }).into()
        }
        Some(Val::Nothing) => (if zh {
            "无法计算（分母为零或为负）"
        } else {
            "undefined (zero or negative base)"
        })
        .into(),
        _ => (if zh { "未填报" } else { "not filed" }).into(),
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
pub(crate) fn tier_label(code: &str, zh: bool) -> String {
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
    (if zh { z } else { e }).to_owned()
}

fn leaf_text(l: &Leaf, zh: bool) -> String {
    match l.cond {
        Cond::Cmp {
            left, op, right, ..
        } => {
            let op = if l.negated { invert(*op) } else { *op };
            let s = subject(left, l.base, zh);
            let v = value_text(left, l.val, zh);
            let t = format!("{}{}", num(*right), unit(left, zh));
            if kind(left) == Some(Kind::Rank) && matches!(op, Op::Le | Op::Lt) {
                let top = if op == Op::Le {
                    *right
                } else {
                    *right - Decimal::ONE
                };
                return if zh {
                    format!("{s} {v}，要求前{}名以内", num(top))
                } else {
                    format!("{s}: {v}; required within the top {}", num(top))
                };
            }
            if zh {
                format!("{s} {v}，要求{}{t}", op_text(op, true))
            } else {
                format!("{s}: {v}; required {} {t}", op_text(op, false))
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
                format!(
                    "{y}年{}：{have}，要求为{}",
                    label(*idx, true),
                    yes_no(want, true)
                )
            } else {
                format!(
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
                (true, true, false) => format!("持有有效的{name}称号"),
                (true, false, false) => format!("未持有有效的{name}称号，须先取得"),
                (true, true, true) => format!("持有{name}称号，不得持有"),
                (true, false, true) => format!("未持有{name}称号（不得持有）"),
                (false, true, false) => format!("holds a valid {name} title"),
                (false, false, false) => {
                    format!("does not hold a valid {name} title, which must come first")
                }
                (false, true, true) => format!("holds the {name} title, which excludes it"),
                (false, false, true) => format!("does not hold the {name} title (must not)"),
            }
        }
        Cond::Renewal(_) | Cond::All(_) | Cond::Any(_) | Cond::Not(_) => String::new(),
        Cond::EachYear { .. } | Cond::AnyYear { .. } | Cond::Switch { .. } => String::new(),
    }
}

/// A number with the unit of a fact, for next steps.
pub(crate) fn fact_amount(code: &str, d: Decimal, zh: bool) -> String {
    let idx = super::facts::indicator_index(code).and_then(|i| u16::try_from(i).ok());
    let e = Expr::Fact {
        idx: idx.unwrap_or(u16::MAX),
        year: 0,
    };
    format!("{}{}", num(d), unit(&e, zh))
}

pub(crate) fn fact_label(code: &str, zh: bool) -> &'static str {
    super::facts::indicator_index(code)
        .and_then(|i| INDICATORS.get(i))
        .map_or("?", |i| if zh { i.label_zh } else { i.label_en })
}

/// Sentences for points, subtotals and the pass mark.
pub(crate) fn points_text(
    label_zh: &str,
    label_en: &str,
    value: Option<Decimal>,
    lo: Decimal,
    decided: bool,
) -> (String, String) {
    let v_zh = value
        .map(|v| format!("（数值 {}）", num(v)))
        .unwrap_or_default();
    let v_en = value
        .map(|v| format!(" (value {})", num(v)))
        .unwrap_or_default();
    if decided {
        (
            format!("{label_zh}{v_zh}：得{}分。", num(lo)),
            format!("{label_en}{v_en}: {} points.", num(lo)),
        )
    } else {
        (
            format!("{label_zh}：至少得{}分，缺少数据，尚未确定。", num(lo)),
            format!(
                "{label_en}: at least {} points; data missing, not yet decided.",
                num(lo)
            ),
        )
    }
}

pub(crate) fn mark_text(
    what_zh: &str,
    what_en: &str,
    have: (Decimal, Decimal),
    mark: Decimal,
) -> (String, String) {
    if have.0 == have.1 {
        (
            format!("{what_zh} {}分，要求不低于{}分。", num(have.0), num(mark)),
            format!(
                "{what_en}: {} points; required at least {}.",
                num(have.0),
                num(mark)
            ),
        )
    } else {
        (
            format!(
                "{what_zh}目前 {}分（补齐数据后最多 {}分），要求不低于{}分。",
                num(have.0),
                num(have.1),
                num(mark)
            ),
            format!(
                "{what_en}: {} points so far (at most {} once data is filed); required at least {}.",
                num(have.0),
                num(have.1),
                num(mark)
            ),
        )
    }
}
