//! The evaluated pool: the values other enterprises reached, for percentile scoring (创新积分制).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::eval::Ctx;
use super::facts::Facts;
use super::num::{Frac, Val};
use super::rules::RuleSet;

/// Sorted values of every percentile-scored indicator of one rule set across many enterprises,
/// for one assessment year. Built once per batch; evaluation ranks by binary search.
#[derive(Debug, Clone)]
pub struct Pool {
    tier: Box<str>,
    version: i64,
    year: i32,
    size: usize,
    /// One sorted list per percentile slot of the rule set.
    values: Vec<Vec<Frac>>,
}

impl Pool {
    /// Ranks `tables` under `rs` as of `as_of`. Enterprises missing an indicator are left out of
    /// that indicator's ranking (they are not counted as zero).
    pub fn build<'t>(
        rs: &RuleSet,
        as_of: NaiveDate,
        tables: impl IntoIterator<Item = Facts<'t>>,
    ) -> Pool {
        let mut values: Vec<Vec<Frac>> = vec![Vec::new(); rs.percentile_exprs.len()];
        let mut size = 0;
        for t in tables {
            size += 1;
            let mut cx = Ctx::new(t, as_of, &[], false, None);
            for (slot, e) in rs.percentile_exprs.iter().enumerate() {
                match cx.expr(e, as_of.year()) {
                    Val::Num(f) => values[slot].push(f),
                    v @ Val::Cagr { .. } => {
                        if let Some(d) = v.display() {
                            values[slot].push(Frac::int(d));
                        }
                    }
                    _ => {}
                }
                cx.missing.clear();
            }
        }
        for v in &mut values {
            v.sort_by(|a, b| a.cmp_frac(*b));
        }
        Pool {
            tier: rs.tier.clone(),
            version: rs.version,
            year: as_of.year(),
            size,
            values,
        }
    }

    /// How many enterprises were pooled.
    pub fn len(&self) -> usize {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Whether this pool was built for `rs` and the year of `as_of`; any other pool is ignored.
    pub(crate) fn fits(&self, rs: &RuleSet, as_of: NaiveDate) -> bool {
        *self.tier == *rs.tier && self.version == rs.version && self.year == as_of.year()
    }

    /// The mid-rank percentile (0–100) of `v`: the share of pooled values below it, counting
    /// ties as half. `None` when nobody in the pool has the indicator.
    pub(crate) fn percentile(&self, slot: usize, v: Val) -> Option<Decimal> {
        let list = self.values.get(slot).filter(|l| !l.is_empty())?;
        let f = match v {
            Val::Num(f) => f,
            Val::Cagr { .. } => Frac::int(v.display()?),
            _ => return Some(Decimal::ZERO),
        };
        let below = list.partition_point(|x| x.cmp_frac(f).is_lt());
        let upto = list.partition_point(|x| x.cmp_frac(f).is_le());
        let ties = Decimal::from(upto - below);
        let rank = Decimal::from(below) + ties / Decimal::TWO;
        Some(rank * Decimal::ONE_HUNDRED / Decimal::from(list.len()))
    }
}
