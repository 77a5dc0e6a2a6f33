//! The columnar path: grades one compiled rule set over a whole [`FactBatch`], criterion at a
//! time, recording per enterprise the outcome, route, score and every criterion's
//! pass/fail/undecided status, without building trace lines.
//!
//! Entry point (all a batch needs):
//!
//! ```ignore
//! let graded = engine::grade_batch(&rs, &BatchInput { as_of, facts: &batch, holds: &holds, pool: None });
//! graded.outcome(i); graded.score(i); graded.status(i, col); graded.columns();
//! graded.shortfall(&rs, &input, i, col); // only for the enterprises that need it
//! ```
//!
//! `columns()` are the criterion lines of a traced [`evaluate`](super::evaluate) of a first
//! application, in its order (criteria, then dimension minimums, then the pass mark, per model;
//! top level first, then each scheme), so `status(i, k)` is the `passed` of line `k` of the trace.
//! The grading steps are those of the traced evaluator (`Ctx::step`, `ModelAcc`, `combine` in
//! `eval.rs`): the two cannot disagree, and a test grades both over every shipped case file
//! and a generated batch to prove it. Enterprises are split over the available cores.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::eval::{Check, Ctx, ModelAcc, ModelResult, Outcome, Route, Tri, combine, outcome_of};
use super::explain::{self, Shortfall};
use super::facts::FactBatch;
use super::pool::Pool;
use super::rules::{Applies, Body, Model, RouteKind, RuleSet};

/// What the columnar path grades: every enterprise of `facts` on `as_of`, as a first
/// application (renewal-only criteria do not apply).
#[derive(Debug, Clone, Copy)]
pub struct BatchInput<'a> {
    pub as_of: NaiveDate,
    pub facts: &'a FactBatch,
    /// Tier codes held on `as_of`, one entry per enterprise of `facts`; an empty slice means
    /// nobody holds anything.
    pub holds: &'a [&'a [String]],
    /// For percentile scoring (创新积分制); ignored unless built for this rule set and year.
    pub pool: Option<&'a Pool>,
}

impl<'a> BatchInput<'a> {
    fn holds(&self, i: usize) -> &'a [String] {
        self.holds.get(i).copied().unwrap_or(&[])
    }
}

/// A criterion's result for one enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Missing facts leave it open, or a reviewer decides it.
    Undecided,
}

impl Status {
    fn of(passed: Option<bool>) -> Status {
        match passed {
            Some(true) => Status::Pass,
            Some(false) => Status::Fail,
            None => Status::Undecided,
        }
    }

    /// The `passed` of the equivalent trace line.
    pub fn passed(self) -> Option<bool> {
        match self {
            Status::Pass => Some(true),
            Status::Fail => Some(false),
            Status::Undecided => None,
        }
    }
}

/// What a column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A yes/no test: the only kind with a fact shortfall.
    Test,
    /// A scored criterion (`Fail` = no points).
    Points,
    /// A reviewer decides (always `Undecided`).
    Review,
    /// A dimension's minimum subtotal.
    Dimension,
    /// The pass mark.
    Score,
}

/// One criterion line.
#[derive(Debug, Clone, Copy)]
pub struct Column<'r> {
    pub id: &'r str,
    pub kind: ColumnKind,
    pub route: RouteKind,
    /// 0 for the top level, `s + 1` for scheme `s`.
    pub model: usize,
    /// The criterion, dimension or pass mark within its model.
    at: usize,
}

/// The columnar result: one row per enterprise of the batch, in batch order.
#[derive(Debug, Clone)]
pub struct Graded<'r> {
    columns: Vec<Column<'r>>,
    outcome: Vec<Outcome>,
    route: Vec<Option<Route>>,
    score: Vec<Option<Decimal>>,
    /// Enterprise-major: enterprise `i`'s statuses are `status[i * columns.len()..][..columns.len()]`.
    status: Vec<Status>,
}

/// The scored gap of a failed dimension minimum or pass mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsGap {
    /// Points earned (the lower bound when facts are missing).
    pub actual: Decimal,
    pub needed: Decimal,
}

/// What a failed or undecided criterion lacks, when one value can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// One fact to raise (or lower): the explanations' shortfall.
    Fact(Shortfall),
    /// Points to earn.
    Points(PointsGap),
}

fn models(rs: &RuleSet) -> impl Iterator<Item = &Model> {
    std::iter::once(&rs.main).chain(rs.schemes.iter())
}

fn columns(rs: &RuleSet) -> Vec<Column<'_>> {
    let mut out = Vec::with_capacity(rs.criteria_count + 4);
    for (mi, m) in models(rs).enumerate() {
        for (ci, c) in m.criteria.iter().enumerate() {
            if c.applies == Applies::Renewal {
                continue;
            }
            let kind = match c.body {
                Body::Test(_) => ColumnKind::Test,
                Body::Points { .. } => ColumnKind::Points,
                Body::Review => ColumnKind::Review,
            };
            out.push(Column {
                id: &c.id,
                kind,
                route: c.route,
                model: mi,
                at: ci,
            });
        }
        for (di, d) in m.dimensions.iter().enumerate() {
            if d.min.is_some() {
                out.push(Column {
                    id: &d.result_id,
                    kind: ColumnKind::Dimension,
                    route: RouteKind::Standard,
                    model: mi,
                    at: di,
                });
            }
        }
        if let Some(p) = &m.pass {
            out.push(Column {
                id: &p.result_id,
                kind: ColumnKind::Score,
                route: RouteKind::Standard,
                model: mi,
                at: 0,
            });
        }
    }
    out
}

/// Grades every enterprise of the batch (see the module comment).
pub fn grade_batch<'r>(rs: &'r RuleSet, input: &BatchInput<'_>) -> Graded<'r> {
    let columns = columns(rs);
    let n = input.facts.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, 8);
    // Below a few thousand enterprises a thread costs more than it saves.
    let parts = if n < 4_000 { 1 } else { threads };
    let per = n.div_ceil(parts.max(1)).max(1);
    let ranges: Vec<std::ops::Range<usize>> =
        (0..n).step_by(per).map(|s| s..(s + per).min(n)).collect();
    let mut chunks: Vec<Chunk> = if ranges.len() <= 1 {
        vec![grade_range(rs, input, columns.len(), 0..n)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = ranges
                .iter()
                .map(|r| {
                    let r = r.clone();
                    let ncols = columns.len();
                    s.spawn(move || grade_range(rs, input, ncols, r))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut out = Graded {
        columns,
        outcome: Vec::with_capacity(n),
        route: Vec::with_capacity(n),
        score: Vec::with_capacity(n),
        status: Vec::new(),
    };
    if chunks.len() == 1
        && let Some(c) = chunks.pop()
    {
        out.outcome = c.outcome;
        out.route = c.route;
        out.score = c.score;
        out.status = c.status;
        return out;
    }
    out.status.reserve(n * out.columns.len());
    for c in chunks {
        out.outcome.extend(c.outcome);
        out.route.extend(c.route);
        out.score.extend(c.score);
        out.status.extend(c.status);
    }
    out
}

struct Chunk {
    outcome: Vec<Outcome>,
    route: Vec<Option<Route>>,
    score: Vec<Option<Decimal>>,
    status: Vec<Status>,
}

/// Grades enterprises `range` criterion at a time: each criterion is applied to every
/// enterprise of the range before the next criterion.
fn grade_range(
    rs: &RuleSet,
    input: &BatchInput<'_>,
    ncols: usize,
    range: std::ops::Range<usize>,
) -> Chunk {
    let n = range.len();
    let pool = input.pool.filter(|p| p.fits(rs, input.as_of));
    let batch = input.facts;
    let first = range.start;
    let mut status = vec![Status::Undecided; n * ncols];
    if n == 0 {
        return Chunk {
            outcome: Vec::new(),
            route: Vec::new(),
            score: Vec::new(),
            status,
        };
    }
    let mut cx = Ctx::untraced(batch.get(first), input.as_of, input.holds(first), pool);
    let stage: Vec<Option<usize>> = if rs.stages.is_some() {
        range
            .clone()
            .map(|i| {
                cx.rebind(batch.get(i), input.holds(i));
                cx.stage(rs)
            })
            .collect()
    } else {
        vec![None; n]
    };
    let mut results: Vec<Vec<ModelResult>> = Vec::with_capacity(1 + rs.schemes.len());
    let mut col = 0;
    let mut accs = vec![ModelAcc::new(); n];
    for m in models(rs) {
        accs.fill(ModelAcc::new());
        for c in &m.criteria {
            let has_col = c.applies != Applies::Renewal;
            for (k, i) in range.clone().enumerate() {
                cx.rebind(batch.get(i), input.holds(i));
                let (step, _) = cx.step(c, stage[k]);
                accs[k].add(c, step);
                if has_col {
                    status[k * ncols + col] = Status::of(step.passed());
                }
            }
            if has_col {
                col += 1;
            }
        }
        let checks =
            m.dimensions.iter().filter(|d| d.min.is_some()).count() + usize::from(m.pass.is_some());
        let mut out = Vec::with_capacity(n);
        for (k, acc) in accs.iter().enumerate() {
            let mut j = col;
            let row = &mut status[k * ncols..(k + 1) * ncols];
            out.push(acc.finish(m, |_, tri, _| {
                row[j] = tri_status(tri);
                j += 1;
            }));
        }
        col += checks;
        results.push(out);
    }
    let mut outcome = Vec::with_capacity(n);
    let mut route = Vec::with_capacity(n);
    let mut score = Vec::with_capacity(n);
    let mut per: Vec<ModelResult> = Vec::with_capacity(rs.schemes.len());
    for k in 0..n {
        per.clear();
        per.extend(results[1..].iter().map(|r| r[k]));
        let c = combine(rs, &results[0][k], &per);
        let o = outcome_of(c.tri);
        outcome.push(o);
        route.push(if o == Outcome::Eligible {
            c.route
        } else {
            None
        });
        score.push(c.score.map(|s| s.0));
    }
    Chunk {
        outcome,
        route,
        score,
        status,
    }
}

fn tri_status(t: Tri) -> Status {
    Status::of(t.passed())
}

impl<'r> Graded<'r> {
    pub fn len(&self) -> usize {
        self.outcome.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcome.is_empty()
    }

    pub fn columns(&self) -> &[Column<'r>] {
        &self.columns
    }

    pub fn outcome(&self, i: usize) -> Outcome {
        self.outcome[i]
    }

    /// `None` unless eligible.
    pub fn route(&self, i: usize) -> Option<Route> {
        self.route[i]
    }

    /// As `Evaluation::score`: points earned (a lower bound when facts are missing).
    pub fn score(&self, i: usize) -> Option<Decimal> {
        self.score[i]
    }

    /// Enterprise `i`'s status of every column, in column order.
    pub fn statuses(&self, i: usize) -> &[Status] {
        let w = self.columns.len();
        &self.status[i * w..(i + 1) * w]
    }

    pub fn status(&self, i: usize, col: usize) -> Status {
        self.statuses(i)[col]
    }

    /// The columns that stand between enterprise `i` and the tier: per model, its failed base
    /// criteria and the standard route's failures (tests, dimension minimums, the pass mark; a
    /// scored criterion is not itself a requirement). Direct-route criteria are alternatives
    /// to the standard route, as in an explained result's summary: they count only in a model
    /// without a standard route (its first failed one). With schemes, the top level's and the
    /// nearest scheme's. Empty when eligible.
    pub fn failing(&self, i: usize) -> Vec<usize> {
        if self.outcome[i] == Outcome::Eligible {
            return Vec::new();
        }
        let st = self.statuses(i);
        let nmodels = self.columns.iter().map(|c| c.model + 1).max().unwrap_or(1);
        let mut ways: Vec<Vec<usize>> = Vec::with_capacity(nmodels);
        for m in 0..nmodels {
            let mut way = Vec::new();
            let mut direct = None;
            let mut direct_open = false;
            let mut has_standard = false;
            for (k, c) in self.columns.iter().enumerate() {
                if c.model != m || matches!(c.kind, ColumnKind::Points | ColumnKind::Review) {
                    continue;
                }
                has_standard |= c.route == RouteKind::Standard;
                match (c.route, st[k]) {
                    (RouteKind::Direct, Status::Fail) => {
                        direct.get_or_insert(k);
                    }
                    (RouteKind::Direct, _) => direct_open = true,
                    (_, Status::Fail) => way.push(k),
                    _ => {}
                }
            }
            if !has_standard && !direct_open {
                way.extend(direct);
                way.sort_unstable();
            }
            ways.push(way);
        }
        let mut out = ways.first().cloned().unwrap_or_default();
        if let Some(nearest) = ways.iter().skip(1).min_by_key(|w| w.len()) {
            out.extend(nearest);
        }
        out
    }

    /// What column `col` lacks for enterprise `i` (failed or undecided): a fact shortfall for a
    /// quantitative test, points for a dimension minimum or pass mark; `None` otherwise, or
    /// when no single fact decides it. Re-grades that one enterprise: ask only for those
    /// that need it.
    pub fn shortfall(
        &self,
        rs: &'r RuleSet,
        input: &BatchInput<'_>,
        i: usize,
        col: usize,
    ) -> Option<Gap> {
        let c = self.columns.get(col)?;
        let status = self.status(i, col);
        if status == Status::Pass {
            return None;
        }
        let m = models(rs).nth(c.model)?;
        let pool = input.pool.filter(|p| p.fits(rs, input.as_of));
        let mut cx = Ctx::untraced(input.facts.get(i), input.as_of, input.holds(i), pool);
        match c.kind {
            ColumnKind::Test => {
                let Body::Test(t) = &m.criteria.get(c.at)?.body else {
                    return None;
                };
                let tri = match status {
                    Status::Fail => Tri::F,
                    _ => Tri::U,
                };
                let year = cx.year();
                explain::test_shortfall(&mut cx, t, year, tri)
                    .flatten()
                    .map(Gap::Fact)
            }
            ColumnKind::Dimension | ColumnKind::Score => {
                let stage = cx.stage(rs);
                let mut acc = ModelAcc::new();
                for cr in &m.criteria {
                    let (step, _) = cx.step(cr, stage);
                    acc.add(cr, step);
                }
                let mut found = None;
                acc.finish(m, |check, _, sub| {
                    let needed = match (check, c.kind) {
                        (Check::Dimension(d), ColumnKind::Dimension) if d == c.at => {
                            m.dimensions[d].min
                        }
                        (Check::Pass, ColumnKind::Score) => m.pass.as_ref().map(|p| p.mark),
                        _ => None,
                    };
                    if let Some(needed) = needed {
                        found = Some(Gap::Points(PointsGap {
                            actual: sub.0,
                            needed,
                        }));
                    }
                });
                found
            }
            ColumnKind::Points | ColumnKind::Review => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FactSheet, Input, compile, evaluate};
    use serde_json::Value;

    /// Grades `sheets` both ways and compares outcome, route, score and every line.
    fn agree(
        rs: &RuleSet,
        as_of: NaiveDate,
        sheets: &[FactSheet],
        holds: &[Vec<String>],
        what: &str,
    ) -> usize {
        let mut batch = FactBatch::new();
        for s in sheets {
            batch.push(s);
        }
        let hold_refs: Vec<&[String]> = holds.iter().map(Vec::as_slice).collect();
        let input = BatchInput {
            as_of,
            facts: &batch,
            holds: &hold_refs,
            pool: None,
        };
        let g = grade_batch(rs, &input);
        assert_eq!(g.len(), sheets.len());
        let ids: Vec<&str> = g.columns().iter().map(|c| c.id).collect();
        for (i, s) in sheets.iter().enumerate() {
            let ev = evaluate(
                rs,
                &Input {
                    as_of,
                    facts: s.view(),
                    holds: &holds[i],
                    renewal: false,
                    pool: None,
                },
                true,
            );
            assert_eq!(g.outcome(i), ev.outcome, "{what} #{i}: outcome");
            assert_eq!(g.route(i), ev.route, "{what} #{i}: route");
            assert_eq!(g.score(i), ev.score, "{what} #{i}: score");
            let lines: Vec<(&str, Option<bool>)> =
                ev.criteria.iter().map(|c| (c.id, c.passed)).collect();
            let cols: Vec<(&str, Option<bool>)> = ids
                .iter()
                .zip(g.statuses(i))
                .map(|(id, s)| (*id, s.passed()))
                .collect();
            assert_eq!(cols, lines, "{what} #{i}: criteria");
            // Failing columns are failed lines; an eligible enterprise has none.
            for k in g.failing(i) {
                assert_eq!(g.status(i, k), Status::Fail, "{what} #{i}");
            }
            if ev.outcome == Outcome::Ineligible {
                assert!(
                    !g.failing(i).is_empty(),
                    "{what} #{i}: ineligible without a failure"
                );
            }
        }
        sheets.len()
    }

    fn rule_sets() -> Vec<RuleSet> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rulesets");
        let mut out = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        for p in names {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            out.push(compile(&doc).unwrap());
        }
        out
    }

    #[test]
    fn columnar_agrees_with_the_traced_evaluator_on_every_shipped_case() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let sets = rule_sets();
        let mut graded = 0;
        for (name, text) in super::super::shipped_cases::all() {
            let case: Value = serde_json::from_str(text).unwrap();
            if case.get("pool").is_some() || case["renewal"].as_bool() == Some(true) {
                continue;
            }
            let Some(as_of) = case["as_of"].as_str().and_then(|d| d.parse().ok()) else {
                continue;
            };
            let tier = name.split('/').next().unwrap();
            let facts = FactSheet::parse(&case["facts"], today).unwrap();
            let holds: Vec<String> = case["holds"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            for rs in sets
                .iter()
                .filter(|r| r.tier() == tier && r.in_force_on(as_of))
            {
                // The same case three times in one batch: rows must not bleed into each other.
                let sheets = vec![FactSheet::new(), facts.clone(), facts.clone()];
                let hs = vec![Vec::new(), holds.clone(), Vec::new()];
                graded += agree(rs, as_of, &sheets, &hs, &name);
            }
        }
        assert!(graded > 300, "only {graded} gradings compared");
    }

    /// A deterministic generator of plausible, often incomplete fact sheets.
    fn generated(n: usize, seed: u64) -> Vec<FactSheet> {
        let mut x = seed;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        (0..n)
            .map(|_| {
                let mut years = serde_json::Map::new();
                for y in 2022..=2025 {
                    if next(10) == 0 {
                        continue;
                    }
                    let emp = 5 + next(900);
                    let rev = 500 + next(60_000);
                    let mut f = serde_json::Map::new();
                    let mut put = |k: &str, v: Value, keep: bool| {
                        if keep {
                            f.insert(k.into(), v);
                        }
                    };
                    put("operating_revenue", rev.into(), next(20) != 0);
                    put(
                        "main_business_revenue",
                        (rev * (70 + next(31)) / 100).into(),
                        true,
                    );
                    put("rd_expense", (rev * next(12) / 100).into(), next(15) != 0);
                    put("cost_and_expense", (rev * 9 / 10).into(), true);
                    put("net_profit", (rev / 10).into(), true);
                    put("total_assets", (rev * 2).into(), true);
                    put("total_liabilities", (rev * next(90) / 100).into(), true);
                    put("employees", emp.into(), true);
                    put("rd_staff", (emp * next(40) / 100).into(), true);
                    put("st_staff", (emp * next(50) / 100).into(), true);
                    put("equity_financing", next(3000).into(), next(3) == 0);
                    put("niche_years", next(15).into(), true);
                    put("main_product_share", next(40).into(), next(2) == 0);
                    put("domestic_rank", (1 + next(20)).into(), next(3) == 0);
                    put("ip_class1", next(12).into(), true);
                    put("ip_class1_self", 0.into(), true);
                    put("ip_class2", next(20).into(), true);
                    put("rd_institution_level", next(5).into(), true);
                    put("digital_level", (1 + next(4)).into(), next(4) != 0);
                    put("quality_items", next(4).into(), true);
                    put("dev_eval_score", next(100).into(), true);
                    put("cmmm_level", (1 + next(5)).into(), next(2) == 0);
                    for b in [
                        "strategic_emerging",
                        "six_base",
                        "key_chain",
                        "high_tech_enterprise",
                        "standard_led",
                        "above_designated_size",
                    ] {
                        put(b, (next(2) == 0).into(), next(8) != 0);
                    }
                    for b in ["abnormal_listed", "dishonest_listed", "major_incident"] {
                        put(b, (next(30) == 0).into(), next(12) != 0);
                    }
                    years.insert(y.to_string(), Value::Object(f));
                }
                FactSheet::parse(&Value::Object(years), today).unwrap()
            })
            .collect()
    }

    #[test]
    fn columnar_agrees_with_the_traced_evaluator_on_a_generated_batch() {
        let sheets = generated(5_000, 0x9e37_79b9_7f4a_7c15);
        let tiers = [
            "innovative_sme",
            "tech_sme",
            "srdi_sme",
            "tech_innovative_sme",
        ];
        let holds: Vec<Vec<String>> = (0..sheets.len())
            .map(|i| tiers[..i % 4].iter().map(|t| (*t).to_owned()).collect())
            .collect();
        let mut outcomes = std::collections::HashSet::new();
        for rs in rule_sets() {
            for as_of in ["2026-03-01", "2026-06-01"] {
                let as_of: NaiveDate = as_of.parse().unwrap();
                if !rs.in_force_on(as_of) {
                    continue;
                }
                agree(&rs, as_of, &sheets, &holds, rs.tier());
                let g = grade_batch(
                    &rs,
                    &BatchInput {
                        as_of,
                        facts: &{
                            let mut b = FactBatch::new();
                            for s in &sheets[..50] {
                                b.push(s);
                            }
                            b
                        },
                        holds: &[],
                        pool: None,
                    },
                );
                outcomes.extend((0..g.len()).map(|i| format!("{:?}", g.outcome(i))));
            }
        }
        // The generated world reaches every outcome (so agreement is not vacuous).
        assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    }

    #[test]
    fn shortfalls_are_those_of_the_explanation() {
        let sheets = generated(400, 7);
        let as_of: NaiveDate = "2026-06-01".parse().unwrap();
        let mut batch = FactBatch::new();
        for s in &sheets {
            batch.push(s);
        }
        let mut checked = 0;
        for rs in rule_sets().iter().filter(|r| r.in_force_on(as_of)) {
            let input = BatchInput {
                as_of,
                facts: &batch,
                holds: &[],
                pool: None,
            };
            let g = grade_batch(rs, &input);
            for (i, s) in sheets.iter().enumerate() {
                let ev = crate::engine::evaluate_explained(
                    rs,
                    &Input {
                        as_of,
                        facts: s.view(),
                        holds: &[],
                        renewal: false,
                        pool: None,
                    },
                );
                for (k, c) in g.columns().iter().enumerate() {
                    if c.kind != ColumnKind::Test || g.status(i, k) == Status::Pass {
                        continue;
                    }
                    let line = ev.criteria.iter().find(|l| l.id == c.id).unwrap();
                    // Explained lines drop the shortfall of a moot alternative; compare the rest.
                    if line.not_needed {
                        continue;
                    }
                    let want = line.shortfall.clone().flatten();
                    let got = match g.shortfall(rs, &input, i, k) {
                        Some(Gap::Fact(s)) => Some(s),
                        _ => None,
                    };
                    assert_eq!(got, want, "{} #{i} {}", rs.tier(), c.id);
                    checked += usize::from(want.is_some());
                }
            }
        }
        assert!(checked > 100, "only {checked} shortfalls compared");
    }
}
