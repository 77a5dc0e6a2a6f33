//! Human-readable threshold texts (">= 3%", "each of Y-2, Y-1: …"), rendered once at compile time.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::num::Interval;
use super::rules::{Agg, Cond, Expr, Points};
use crate::catalog::INDICATORS;

fn code(idx: u16) -> &'static str {
    INDICATORS.get(usize::from(idx)).map_or("?", |i| i.code)
}

fn year(off: i32, in_loop: bool) -> String {
    let base = if in_loop { "y" } else { "Y" };
    match off {
        0 => base.to_owned(),
        o if o > 0 => format!("{base}+{o}"),
        o => format!("{base}{o}"),
    }
}

fn years(list: &[i32], in_loop: bool) -> String {
    let contiguous = list.windows(2).all(|w| w[1] == w[0] + 1);
    match (list.first(), list.last()) {
        (Some(a), Some(b)) if contiguous && list.len() > 1 => {
            format!("{}..{}", year(*a, in_loop), year(*b, in_loop))
        }
        _ => list
            .iter()
            .map(|y| year(*y, in_loop))
            .collect::<Vec<_>>()
            .join(","),
    }
}

pub(crate) fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

/// The unit suffix of an expression's values.
fn unit(e: &Expr) -> &'static str {
    match e {
        Expr::Ratio(..) | Expr::Growth { .. } | Expr::AvgGrowth { .. } | Expr::Cagr { .. } => "%",
        Expr::Fact { idx, .. } | Expr::Agg { idx, .. } => {
            match INDICATORS.get(usize::from(*idx)).map(|i| i.unit) {
                Some("%") => "%",
                Some("万元") => " 万元",
                Some("years") => " years",
                Some("persons") => " persons",
                Some("points") => " points",
                _ => "",
            }
        }
    }
}

pub(crate) fn expr(e: &Expr, in_loop: bool) -> String {
    match e {
        Expr::Fact { idx, year: y } => format!("{}[{}]", code(*idx), year(*y, in_loop)),
        Expr::Agg {
            agg,
            idx,
            years: ys,
        } => {
            let f = match agg {
                Agg::Sum => "sum",
                Agg::Avg => "avg",
                Agg::Min => "min",
                Agg::Max => "max",
            };
            format!("{f}({}[{}])", code(*idx), years(ys, in_loop))
        }
        Expr::Growth { idx, from, to } => {
            format!(
                "growth({}, {}→{})",
                code(*idx),
                year(*from, in_loop),
                year(*to, in_loop)
            )
        }
        Expr::AvgGrowth { idx, years: ys } => {
            format!("avg yearly growth({}, {})", code(*idx), years(ys, in_loop))
        }
        Expr::Cagr { idx, from, to } => {
            format!(
                "CAGR({}, {}→{})",
                code(*idx),
                year(*from, in_loop),
                year(*to, in_loop)
            )
        }
        Expr::Ratio(a, b) => format!("{} / {}", expr(a, in_loop), expr(b, in_loop)),
    }
}

/// The short form for a criterion that is one comparison: ">= 3%".
pub(crate) fn criterion_test(c: &Cond) -> String {
    match c {
        Cond::Cmp {
            left, op, right, ..
        } => format!("{} {}{}", op.as_str(), num(*right), unit(left)),
        other => cond(other, false),
    }
}

pub(crate) fn cond(c: &Cond, in_loop: bool) -> String {
    match c {
        Cond::Cmp {
            left, op, right, ..
        } => {
            format!(
                "{} {} {}{}",
                expr(left, in_loop),
                op.as_str(),
                num(*right),
                unit(left)
            )
        }
        Cond::Flag { idx, year: y, is } => format!("{}[{}] = {is}", code(*idx), year(*y, in_loop)),
        Cond::Holds(t) => format!("holds {t}"),
        Cond::Renewal(true) => "re-review (复核)".to_owned(),
        Cond::Renewal(false) => "first application".to_owned(),
        Cond::All(cs) => join(cs, " and ", in_loop),
        Cond::Any(cs) => join(cs, " or ", in_loop),
        Cond::Not(c) => format!("not ({})", cond(c, in_loop)),
        Cond::EachYear { years: ys, test } => {
            format!("each of {}: {}", years_list(ys, in_loop), cond(test, true))
        }
        Cond::AnyYear { years: ys, test } => {
            format!("any of {}: {}", years_list(ys, in_loop), cond(test, true))
        }
        Cond::Switch { on, cases } => {
            let mut s = format!("by {}: ", expr(on, in_loop));
            for (i, (iv, c)) in cases.iter().enumerate() {
                if i > 0 {
                    s.push_str("; ");
                }
                let _ = write!(s, "{iv} → {}", cond(c, in_loop));
            }
            s
        }
    }
}

fn years_list(ys: &[i32], in_loop: bool) -> String {
    ys.iter()
        .map(|y| year(*y, in_loop))
        .collect::<Vec<_>>()
        .join(", ")
}

fn join(cs: &[Cond], sep: &str, in_loop: bool) -> String {
    cs.iter()
        .map(|c| match c {
            Cond::All(_) | Cond::Any(_) | Cond::Switch { .. } => format!("({})", cond(c, in_loop)),
            _ => cond(c, in_loop),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

fn bands(value: &Expr, bands: &[(Interval, Decimal)]) -> String {
    let mut s = format!("{}: ", expr(value, false));
    for (i, (iv, p)) in bands.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        let _ = write!(s, "{iv} → {}", num(*p));
    }
    s
}

pub(crate) fn points(p: &Points) -> String {
    match p {
        Points::Bands { value, bands: b } => bands(value, b),
        Points::Percentile {
            value, bands: b, ..
        } => {
            format!(
                "percentile of {} in the pool × weight (without a pool: {})",
                expr(value, false),
                bands(value, b)
            )
        }
        Points::Cases { cases, otherwise } => {
            let mut s = String::new();
            for (c, p) in cases.iter() {
                let _ = write!(s, "{} → {}; ", cond(c, false), num(*p));
            }
            let _ = write!(s, "otherwise {}", num(*otherwise));
            s
        }
        Points::Step { value, per, each } => {
            format!(
                "{} per full {} of {}",
                num(*each),
                num(*per),
                expr(value, false)
            )
        }
        Points::BestOf(ps) => {
            format!(
                "better of: {}",
                ps.iter()
                    .map(|p| format!("({})", points(p)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        }
    }
}
