//! The officials' tools (API.md "Officials' tools"): the cultivation pool (培育库), the quota
//! forecast and the impact of a rule change.
//!
//! All three run on the batch path: one read of the registry (enterprises, the facts of the
//! years rules reach, holdings), the facts parsed once into a [`FactBatch`] and graded on the
//! engine's columnar path ([`engine::grade_batch`]), nothing read per enterprise, nothing
//! written: results are computed for the question and never stored.

use crate::db::DbConnection;
use crate::engine::{
    self, BatchInput, ColumnKind, FactBatch, FactSheet, Gap, Graded, Outcome, RuleSet, Status,
};
use crate::error::{AppError, AppResult};
use crate::models::ruleset::{self as rs_rows, RuleSetRow};
use crate::services::policy::{Action, Caller, Resource};
use crate::services::reference::CITY_SCOPE;
use crate::services::rulesets::RuleCache;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Years of facts read before the assessment year: rules look back at most this far in
/// practice (近三年 and growth from the year before it); the batch reads the same window.
const YEARS_BACK: i32 = 6;

/// `max_failed` accepts 0..=20.
pub const MAX_FAILED: i64 = 20;

/// The registry as the tools grade it: every enterprise (index `i`), its facts in one batch.
pub struct World {
    pub ids: Vec<i32>,
    pub uscc: Vec<String>,
    pub name: Vec<String>,
    pub district: Vec<String>,
    pub cluster: Vec<Option<String>>,
    pub batch: FactBatch,
    pub holds: Vec<Vec<String>>,
    pub as_of: NaiveDate,
}

impl World {
    /// Reads the registry once for `as_of`.
    pub fn read(conn: &mut DbConnection, as_of: NaiveDate) -> AppResult<World> {
        let rows = crate::models::enterprise::for_grading(conn)?;
        let year = as_of.year();
        let facts = crate::models::facts::for_years(conn, year - YEARS_BACK, year + 1)?;
        let mut holds_by: HashMap<i32, Vec<String>> = HashMap::new();
        for (eid, tier) in rs_rows::all_holds(conn, as_of)? {
            holds_by.entry(eid).or_default().push(tier);
        }
        let n = rows.len();
        let mut w = World {
            ids: Vec::with_capacity(n),
            uscc: Vec::with_capacity(n),
            name: Vec::with_capacity(n),
            district: Vec::with_capacity(n),
            cluster: Vec::with_capacity(n),
            batch: FactBatch::new(),
            holds: Vec::with_capacity(n),
            as_of,
        };
        let mut entered = Vec::with_capacity(n);
        for (id, uscc, name, district, cluster, niche) in rows {
            w.holds.push(holds_by.remove(&id).unwrap_or_default());
            w.ids.push(id);
            w.uscc.push(uscc);
            w.name.push(name);
            w.district.push(district);
            w.cluster.push(cluster);
            entered.push(niche);
        }
        w.batch = parse_facts(&w.ids, &entered, &facts);
        Ok(w)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn hold_refs(&self) -> Vec<&[String]> {
        self.holds.iter().map(Vec::as_slice).collect()
    }

    /// Grades every enterprise under `rs` (columnar path, both cores).
    pub fn grade<'r>(&self, rs: &'r RuleSet) -> Graded<'r> {
        let holds = self.hold_refs();
        engine::grade_batch(rs, &self.input(&holds))
    }

    fn input<'a>(&'a self, holds: &'a [&'a [String]]) -> BatchInput<'a> {
        BatchInput {
            as_of: self.as_of,
            facts: &self.batch,
            holds,
            pool: None,
        }
    }
}

/// Parses the stored fact rows (ordered by enterprise, then year) through the one fact sheet
/// parser into a batch in `ids` order, on every core.
fn parse_facts(
    ids: &[i32],
    entered: &[Option<NaiveDate>],
    facts: &[(i32, i32, String)],
) -> FactBatch {
    let today = crate::clock::today();
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, 8);
    let per = ids.len().div_ceil(threads).max(1);
    let parse = |range: std::ops::Range<usize>| {
        let mut batch = FactBatch::new();
        let Some(first) = ids.get(range.start) else {
            return batch;
        };
        // Facts are sorted by enterprise id like `ids`: start at the first row of this range.
        let mut at = facts.partition_point(|(e, _, _)| e < first);
        for i in range {
            let id = ids[i];
            while at < facts.len() && facts[at].0 < id {
                at += 1;
            }
            let start = at;
            while at < facts.len() && facts[at].0 == id {
                at += 1;
            }
            let (mut sheet, problems) = FactSheet::from_stored(
                facts[start..at].iter().map(|(_, y, t)| (*y, t.as_str())),
                today,
            );
            if !problems.is_empty() {
                tracing::warn!(
                    enterprise_id = id,
                    ?problems,
                    "stored facts left out of grading"
                );
            }
            if let Some(e) = entered[i] {
                sheet.derive_niche_years(e);
            }
            batch.push(&sheet);
        }
        batch
    };
    if threads == 1 || ids.len() < 2_000 {
        return parse(0..ids.len());
    }
    let parts: Vec<FactBatch> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..ids.len())
            .step_by(per)
            .map(|start| {
                let end = (start + per).min(ids.len());
                s.spawn(move || parse(start..end))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut out = FactBatch::new();
    for p in parts {
        out.append(p);
    }
    out
}

fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Eligible => "eligible",
        Outcome::Ineligible => "ineligible",
        Outcome::Incomplete => "incomplete",
    }
}

/// A tier code that exists, else a 422 naming the field.
fn known_tier(conn: &mut DbConnection, field: &str, tier: &str) -> AppResult<()> {
    if crate::models::reference::tier(conn, tier)?.is_none() {
        return Err(AppError::field(
            field,
            "unknown_tier",
            format!("{tier:?} is not a tier (GET /api/v1/tiers)"),
        ));
    }
    Ok(())
}

// ---- the cultivation pool -------------------------------------------------------------------

/// What a failed criterion lacks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShortfallOut {
    /// The fact to raise (catalog code); `null` for a score or subtotal.
    pub fact: Option<&'static str>,
    pub year: Option<i32>,
    /// The value on file (`null` when not filed); points earned for a score.
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    #[schema(value_type = Option<f64>)]
    pub actual: Option<Decimal>,
    /// The least value that passes with every other fact unchanged; the mark for a score.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64)]
    pub needed: Decimal,
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    #[schema(value_type = Option<f64>)]
    pub gap: Option<Decimal>,
    /// |gap| ÷ |needed|, capped at 1 (1 when the fact is not on file).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64)]
    pub relative: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FailedCriterion {
    pub criterion: String,
    /// `null` when no single value says what is lacking (a yes/no test, a title).
    pub shortfall: Option<ShortfallOut>,
}

/// How far an enterprise is from the tier: failed criteria first, then the summed relative
/// shortfalls (a criterion without one counts 1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Distance {
    pub failed: usize,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64)]
    pub shortfall: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PoolItem {
    pub enterprise_id: i32,
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub cluster: Option<String>,
    pub outcome: &'static str,
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    #[schema(value_type = Option<f64>)]
    pub score: Option<Decimal>,
    pub failed: Vec<FailedCriterion>,
    /// Criteria left open by missing facts.
    pub undecided: usize,
    pub distance: Distance,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DistrictCount {
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// Enterprises of the pool in the district.
    pub total: usize,
    pub eligible: usize,
    /// One failed criterion away.
    pub one_away: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PoolReport {
    pub tier: String,
    pub as_of: NaiveDate,
    pub ruleset: RulesetRef,
    /// Enterprises in the pool (after the filters).
    pub total: usize,
    pub by_district: Vec<DistrictCount>,
    pub items: Vec<PoolItem>,
    /// Set by the route from `next_offset` (cursors are HTTP's business).
    pub next_cursor: Option<String>,
    /// Where the next page starts, when there is one.
    #[serde(skip)]
    pub next_offset: Option<usize>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RulesetRef {
    pub id: Option<i32>,
    pub tier: String,
    pub version: i64,
    pub name: String,
    pub status: String,
}

impl RulesetRef {
    fn of(row: Option<&RuleSetRow>, rs: &RuleSet) -> Self {
        RulesetRef {
            id: row.map(|r| r.id),
            tier: rs.tier().to_owned(),
            version: rs.version(),
            name: rs.name().to_owned(),
            status: row.map_or_else(|| "file".to_owned(), |r| r.status.clone()),
        }
    }
}

/// The pool's question.
#[derive(Debug, Clone)]
pub struct PoolQuery {
    pub tier: String,
    pub as_of: NaiveDate,
    pub district: Option<String>,
    pub cluster: Option<String>,
    pub max_failed: Option<i64>,
    /// Items to skip and to return; `None` returns every item (files).
    pub page: Option<(usize, usize)>,
}

fn relative(gap: Option<Decimal>, needed: Decimal) -> Decimal {
    let Some(gap) = gap else {
        return Decimal::ONE;
    };
    if needed.is_zero() {
        return if gap.is_zero() {
            Decimal::ZERO
        } else {
            Decimal::ONE
        };
    }
    (gap.abs() / needed.abs())
        .min(Decimal::ONE)
        .round_dp(4)
        .normalize()
}

fn shortfall_out(g: Gap) -> ShortfallOut {
    match g {
        Gap::Fact(s) => ShortfallOut {
            fact: Some(s.fact),
            year: Some(s.year),
            actual: s.actual,
            needed: s.needed,
            gap: s.gap,
            relative: relative(s.gap, s.needed),
        },
        Gap::Points(p) => {
            let gap = (p.needed - p.actual).normalize();
            ShortfallOut {
                fact: None,
                year: None,
                actual: Some(p.actual),
                needed: p.needed,
                gap: Some(gap),
                relative: relative(Some(gap), p.needed),
            }
        }
    }
}

/// The failed criteria of enterprise `i` with their shortfalls, and the summed relative size.
fn failures<'r>(
    rs: &'r RuleSet,
    w: &World,
    holds: &[&[String]],
    g: &Graded<'r>,
    i: usize,
) -> (Vec<FailedCriterion>, Decimal) {
    let input = w.input(holds);
    let mut sum = Decimal::ZERO;
    let list = g
        .failing(i)
        .into_iter()
        .map(|k| {
            let shortfall = g.shortfall(rs, &input, i, k).map(shortfall_out);
            sum += shortfall.as_ref().map_or(Decimal::ONE, |s| s.relative);
            FailedCriterion {
                criterion: g.columns()[k].id.to_owned(),
                shortfall,
            }
        })
        .collect();
    (list, sum)
}

fn undecided(g: &Graded<'_>, i: usize) -> usize {
    g.columns()
        .iter()
        .zip(g.statuses(i))
        .filter(|(c, s)| **s == Status::Undecided && c.kind != ColumnKind::Review)
        .count()
}

/// The cultivation pool (see the module comment and API.md).
pub fn cultivation(
    conn: &mut DbConnection,
    caller: &Caller,
    cache: &RuleCache,
    q: &PoolQuery,
) -> AppResult<PoolReport> {
    caller.may(Action::ReadReports, &Resource::Any)?;
    if q.tier.is_empty() {
        return Err(AppError::field("tier", "required", "tier is required"));
    }
    if let Some(m) = q.max_failed
        && !(0..=MAX_FAILED).contains(&m)
    {
        return Err(AppError::field(
            "max_failed",
            "range",
            format!("max_failed must be between 0 and {MAX_FAILED}"),
        ));
    }
    known_tier(conn, "tier", &q.tier)?;
    if let Some(d) = &q.district
        && crate::models::reference::district(conn, d)?.is_none()
    {
        return Err(AppError::field(
            "district",
            "unknown_district",
            format!("{d:?} is not a district (GET /api/v1/districts)"),
        ));
    }
    if let Some(c) = &q.cluster
        && crate::models::reference::cluster(conn, c)?.is_none()
    {
        return Err(AppError::field(
            "cluster",
            "unknown_cluster",
            format!("{c:?} is not a cluster (GET /api/v1/clusters)"),
        ));
    }
    let row = crate::services::evaluations::in_force(conn, &q.tier, q.as_of)?;
    let rs = cache.get(&row)?;
    let districts = crate::models::reference::all_districts(conn)?;
    let w = World::read(conn, q.as_of)?;
    let g = w.grade(&rs);
    let holds = w.hold_refs();

    // Members: in scope, not holding the tier, within max_failed.
    let mut members: Vec<(usize, usize)> = Vec::new();
    for i in 0..w.len() {
        if w.holds[i].contains(&q.tier)
            || q.district.as_ref().is_some_and(|d| *d != w.district[i])
            || q.cluster
                .as_ref()
                .is_some_and(|c| w.cluster[i].as_ref() != Some(c))
        {
            continue;
        }
        let failed = g.failing(i).len();
        if q.max_failed.is_some_and(|m| failed as i64 > m) {
            continue;
        }
        members.push((i, failed));
    }
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (i, failed) in &members {
        let c = counts.entry(w.district[*i].as_str()).or_default();
        c.0 += 1;
        c.1 += usize::from(g.outcome(*i) == Outcome::Eligible);
        c.2 += usize::from(*failed == 1);
    }
    let by_district = districts
        .iter()
        .map(|d| {
            let (total, eligible, one_away) =
                counts.get(d.code.as_str()).copied().unwrap_or_default();
            DistrictCount {
                code: d.code.clone(),
                name: d.name_zh.clone(),
                name_en: d.name_en.clone(),
                total,
                eligible,
                one_away,
            }
        })
        .collect();

    // Nearest first: by failed count, then (within the groups the page reaches) by the summed
    // relative shortfall, then eligible before incomplete before ineligible, then id. Shortfalls
    // are computed only for the groups the page needs.
    let rank = |o: Outcome| match o {
        Outcome::Eligible => 0,
        Outcome::Incomplete => 1,
        Outcome::Ineligible => 2,
    };
    members.sort_by_key(|(i, f)| (*f, rank(g.outcome(*i)), w.ids[*i]));
    let total = members.len();
    let (skip, take) = q.page.unwrap_or((0, total));
    let end = skip.saturating_add(take).min(total);
    let mut items = Vec::new();
    let mut at = 0;
    while at < end {
        let f = members[at].1;
        let group_end = members[at..]
            .iter()
            .position(|m| m.1 != f)
            .map_or(total, |p| at + p);
        if group_end > skip {
            let mut group: Vec<(Decimal, usize, Vec<FailedCriterion>)> = members[at..group_end]
                .iter()
                .map(|(i, _)| {
                    let (list, sum) = failures(&rs, &w, &holds, &g, *i);
                    (sum, *i, list)
                })
                .collect();
            group.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then(rank(g.outcome(a.1)).cmp(&rank(g.outcome(b.1))))
                    .then(w.ids[a.1].cmp(&w.ids[b.1]))
            });
            for (k, (sum, i, failed)) in group.into_iter().enumerate() {
                let pos = at + k;
                if pos < skip || pos >= end {
                    continue;
                }
                items.push(PoolItem {
                    enterprise_id: w.ids[i],
                    uscc: w.uscc[i].clone(),
                    name: w.name[i].clone(),
                    district: w.district[i].clone(),
                    cluster: w.cluster[i].clone(),
                    outcome: outcome_str(g.outcome(i)),
                    score: g.score(i).map(|s| s.normalize()),
                    undecided: undecided(&g, i),
                    distance: Distance {
                        failed: failed.len(),
                        shortfall: sum.normalize(),
                    },
                    failed,
                });
            }
        }
        at = group_end;
    }
    Ok(PoolReport {
        tier: q.tier.clone(),
        as_of: q.as_of,
        ruleset: RulesetRef::of(Some(&row), &rs),
        total,
        by_district,
        next_offset: (q.page.is_some() && end < total).then_some(end),
        next_cursor: None,
        items,
    })
}

// ---- the quota forecast ---------------------------------------------------------------------

/// The rule of the verdict, as stated in every forecast (and the README).
pub const VERDICT_RULE: &str = "on_track: projected >= target; at_risk: projected < target <= projected + pipeline.predicted_eligible + eligible_not_applied; off_track: otherwise. projected = achieved + the average monthly change of the monthly series (from 0 at the start of the year for `new`) x the months left in the year, rounded down";

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PipelineByState {
    pub draft: i64,
    pub submitted: i64,
    pub under_review: i64,
    pub returned: i64,
    /// Of the submitted and under review, how many the pre-screen found eligible.
    pub predicted_eligible: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaForecast {
    pub id: i32,
    pub scope: String,
    pub tiers: Vec<String>,
    pub measure: String,
    pub label_zh: String,
    pub label_en: String,
    pub target: i64,
    pub achieved: i64,
    pub pipeline: PipelineByState,
    /// In scope, eligible today for one of the quota's tiers, not holding it and with no open
    /// application for it this year; `null` when no tier of the quota has a rule set in force.
    pub eligible_not_applied: Option<i64>,
    /// Likewise, but one failed criterion away.
    pub near_miss: Option<i64>,
    pub projected: i64,
    pub verdict: &'static str,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Forecast {
    pub year: i32,
    pub as_of: NaiveDate,
    pub verdict_rule: &'static str,
    pub quotas: Vec<QuotaForecast>,
}

/// The projection to year end from the monthly cumulative series (see [`VERDICT_RULE`]).
fn project(
    year: i32,
    as_of: NaiveDate,
    measure_new: bool,
    achieved: i64,
    series: &[(NaiveDate, i64)],
) -> i64 {
    let Some(end) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return achieved;
    };
    if as_of >= end {
        return achieved;
    }
    // Months as fractions of the year: a point at day d is at month 12·d/days.
    let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(end);
    let days = Decimal::from((end - start).num_days() + 1);
    let at = |d: NaiveDate| Decimal::from((d - start).num_days() + 1) * Decimal::from(12) / days;
    let mut points: Vec<(Decimal, i64)> = Vec::new();
    if measure_new {
        points.push((Decimal::ZERO, 0));
    }
    points.extend(series.iter().map(|(d, c)| (at(*d), *c)));
    let (Some(first), Some(last)) = (points.first().copied(), points.last().copied()) else {
        return achieved;
    };
    if last.0 <= first.0 {
        return achieved;
    }
    let slope = Decimal::from(last.1 - first.1) / (last.0 - first.0);
    let left = Decimal::from(12) - at(as_of.min(end));
    let p = (Decimal::from(achieved) + slope * left).floor();
    rust_decimal::prelude::ToPrimitive::to_i64(&p).map_or(achieved, |v| v.max(0))
}

fn verdict(target: i64, projected: i64, reach: i64) -> &'static str {
    if projected >= target {
        "on_track"
    } else if projected + reach >= target {
        "at_risk"
    } else {
        "off_track"
    }
}

pub fn forecast(
    conn: &mut DbConnection,
    caller: &Caller,
    cache: &RuleCache,
    year: i32,
    as_of: NaiveDate,
) -> AppResult<Forecast> {
    caller.may(Action::ReadReports, &Resource::Any)?;
    let rollup = crate::services::rollup::rollup(conn, year, as_of)?;
    let open = crate::models::application::open_for_year(conn, year)?;
    // Every tier a quota names that has a rule set in force: graded once, shared by quotas.
    let mut tiers: Vec<String> = rollup.quotas.iter().flat_map(|q| q.tiers.clone()).collect();
    tiers.sort();
    tiers.dedup();
    let mut compiled: Vec<(String, Arc<RuleSet>)> = Vec::new();
    for t in &tiers {
        if let Some(row) = rs_rows::in_force(conn, t, as_of)? {
            compiled.push((t.clone(), cache.get(&row)?));
        }
    }
    let world = if compiled.is_empty() {
        None
    } else {
        Some(World::read(conn, as_of)?)
    };
    let graded: HashMap<&str, Graded<'_>> = match &world {
        Some(w) => compiled
            .iter()
            .map(|(t, rs)| (t.as_str(), w.grade(rs)))
            .collect(),
        None => HashMap::new(),
    };
    let index: HashMap<i32, usize> = world
        .as_ref()
        .map(|w| w.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect())
        .unwrap_or_default();
    let applied: HashSet<(usize, &str)> = open
        .iter()
        .filter_map(|(eid, tier, _, _)| index.get(eid).map(|i| (*i, tier.as_str())))
        .collect();
    let mut quotas = Vec::with_capacity(rollup.quotas.len());
    for q in &rollup.quotas {
        let scope = (q.scope != CITY_SCOPE).then_some(q.scope.as_str());
        let mut pipeline = PipelineByState::default();
        for (eid, tier, state, prescreen) in &open {
            if !q.tiers.contains(tier) {
                continue;
            }
            let in_scope = match (scope, &world) {
                (None, _) => true,
                (Some(s), Some(w)) => index.get(eid).is_some_and(|i| w.district[*i] == s),
                (Some(_), None) => true,
            };
            if !in_scope {
                continue;
            }
            match state.as_str() {
                "draft" => pipeline.draft += 1,
                "submitted" => pipeline.submitted += 1,
                "under_review" => pipeline.under_review += 1,
                _ => pipeline.returned += 1,
            }
            if (state == "submitted" || state == "under_review")
                && prescreen.as_deref() == Some("eligible")
            {
                pipeline.predicted_eligible += 1;
            }
        }
        let mut eligible = None;
        let mut near = None;
        if let Some(w) = &world {
            let quota_graded: Vec<(&str, &Graded<'_>)> = q
                .tiers
                .iter()
                .filter_map(|t| graded.get(t.as_str()).map(|g| (t.as_str(), g)))
                .collect();
            if !quota_graded.is_empty() {
                let (mut e, mut n) = (0, 0);
                for i in 0..w.len() {
                    if scope.is_some_and(|s| w.district[i] != s) {
                        continue;
                    }
                    let open_for =
                        |t: &str| w.holds[i].iter().any(|h| h == t) || applied.contains(&(i, t));
                    let candidates: Vec<&(&str, &Graded<'_>)> =
                        quota_graded.iter().filter(|(t, _)| !open_for(t)).collect();
                    if candidates.len() < quota_graded.len() {
                        // Holds or has applied for one of the quota's tiers: already counted.
                        continue;
                    }
                    if candidates
                        .iter()
                        .any(|(_, g)| g.outcome(i) == Outcome::Eligible)
                    {
                        e += 1;
                    } else if candidates.iter().any(|(_, g)| g.failing(i).len() == 1) {
                        n += 1;
                    }
                }
                eligible = Some(e);
                near = Some(n);
            }
        }
        let series: Vec<(NaiveDate, i64)> = rollup
            .monthly
            .iter()
            .filter_map(|m| m.cumulative.get(&q.id.to_string()).map(|c| (m.through, *c)))
            .collect();
        let projected = project(year, as_of, q.measure == "new", q.achieved, &series);
        let reach = q.pipeline.predicted_eligible + eligible.unwrap_or(0);
        quotas.push(QuotaForecast {
            id: q.id,
            scope: q.scope.clone(),
            tiers: q.tiers.clone(),
            measure: q.measure.clone(),
            label_zh: q.label_zh.clone(),
            label_en: q.label_en.clone(),
            target: q.target,
            achieved: q.achieved,
            pipeline,
            eligible_not_applied: eligible,
            near_miss: near,
            projected,
            verdict: verdict(q.target, projected, reach),
        });
    }
    Ok(Forecast {
        year,
        as_of,
        verdict_rule: VERDICT_RULE,
        quotas,
    })
}

// ---- the impact of a rule change ------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImpactCount {
    pub code: String,
    pub name: String,
    pub gained: usize,
    pub lost: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Changed {
    pub enterprise_id: i32,
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub cluster: Option<String>,
    /// The outcome under `against`, then under the rule set.
    pub from: &'static str,
    pub to: &'static str,
    /// The criteria that fail (or are left open) under the rule set that does not grant.
    pub deciding: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Impact {
    pub as_of: NaiveDate,
    pub ruleset: RulesetRef,
    pub against: RulesetRef,
    pub total: usize,
    pub gained: usize,
    pub lost: usize,
    pub unchanged: usize,
    pub by_district: Vec<ImpactCount>,
    pub by_cluster: Vec<ImpactCount>,
    /// At most [`CHANGED_CAP`] (by enterprise id) unless every row was asked for.
    pub changed: Vec<Changed>,
    /// Whether `changed` was cut at the cap.
    pub truncated: bool,
}

pub const CHANGED_CAP: usize = 500;

/// The rule set to compare against: `against` (same tier) or the one in force on `as_of`.
pub fn impact(
    conn: &mut DbConnection,
    caller: &Caller,
    cache: &RuleCache,
    id: i32,
    as_of: NaiveDate,
    against: Option<i32>,
    all_changed: bool,
) -> AppResult<Impact> {
    caller.may(Action::ReadReports, &Resource::Any)?;
    let row = rs_rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    let rs = cache.get(&row)?;
    let base = match against {
        Some(a) => {
            let b = rs_rows::find(conn, a)?.ok_or_else(|| {
                AppError::field(
                    "against",
                    "unknown_ruleset",
                    format!("rule set {a} does not exist"),
                )
            })?;
            if b.tier != row.tier {
                return Err(AppError::field(
                    "against",
                    "other_tier",
                    format!("rule set {a} is of tier {}, not {}", b.tier, row.tier),
                ));
            }
            b
        }
        None => crate::services::evaluations::in_force(conn, &row.tier, as_of)?,
    };
    let old = cache.get(&base)?;
    impact_of(
        conn,
        (Some(&row), &rs),
        (Some(&base), &old),
        as_of,
        all_changed,
    )
}

/// Grades the registry under `new` and `old` and compares (shared by the API and `ladder impact`).
pub fn impact_of(
    conn: &mut DbConnection,
    new: (Option<&RuleSetRow>, &RuleSet),
    old: (Option<&RuleSetRow>, &RuleSet),
    as_of: NaiveDate,
    all_changed: bool,
) -> AppResult<Impact> {
    let districts = crate::models::reference::all_districts(conn)?;
    let clusters = crate::models::reference::all_clusters(conn)?;
    let w = World::read(conn, as_of)?;
    let (gn, go) = (w.grade(new.1), w.grade(old.1));
    let (mut gained, mut lost) = (0, 0);
    let mut by_d: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut by_c: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut changed = Vec::new();
    let mut truncated = false;
    for i in 0..w.len() {
        let (before, after) = (
            go.outcome(i) == Outcome::Eligible,
            gn.outcome(i) == Outcome::Eligible,
        );
        if before == after {
            continue;
        }
        let d = by_d.entry(w.district[i].as_str()).or_default();
        let c = by_c
            .entry(w.cluster[i].as_deref().unwrap_or(""))
            .or_default();
        if after {
            gained += 1;
            d.0 += 1;
            c.0 += 1;
        } else {
            lost += 1;
            d.1 += 1;
            c.1 += 1;
        }
        if !all_changed && changed.len() >= CHANGED_CAP {
            truncated = true;
            continue;
        }
        // The rule set that does not grant says why.
        let g = if after { &go } else { &gn };
        let mut deciding: Vec<String> = g
            .failing(i)
            .into_iter()
            .map(|k| g.columns()[k].id.to_owned())
            .collect();
        if deciding.is_empty() {
            deciding = g
                .columns()
                .iter()
                .zip(g.statuses(i))
                .filter(|(c, s)| {
                    **s != Status::Pass
                        && c.kind != ColumnKind::Review
                        && c.kind != ColumnKind::Points
                })
                .map(|(c, _)| c.id.to_owned())
                .collect();
        }
        changed.push(Changed {
            enterprise_id: w.ids[i],
            uscc: w.uscc[i].clone(),
            name: w.name[i].clone(),
            district: w.district[i].clone(),
            cluster: w.cluster[i].clone(),
            from: outcome_str(go.outcome(i)),
            to: outcome_str(gn.outcome(i)),
            deciding,
        });
    }
    let by_district = districts
        .iter()
        .map(|d| {
            let (g, l) = by_d.get(d.code.as_str()).copied().unwrap_or_default();
            ImpactCount {
                code: d.code.clone(),
                name: d.name_zh.clone(),
                gained: g,
                lost: l,
            }
        })
        .collect();
    let mut by_cluster: Vec<ImpactCount> = clusters
        .iter()
        .map(|c| {
            let (g, l) = by_c.get(c.code.as_str()).copied().unwrap_or_default();
            ImpactCount {
                code: c.code.clone(),
                name: c.name_zh.clone(),
                gained: g,
                lost: l,
            }
        })
        .collect();
    if let Some((g, l)) = by_c.get("").copied() {
        by_cluster.push(ImpactCount {
            code: String::new(),
            name: "未归类 Unassigned".into(),
            gained: g,
            lost: l,
        });
    }
    Ok(Impact {
        as_of,
        ruleset: RulesetRef::of(new.0, new.1),
        against: RulesetRef::of(old.0, old.1),
        total: w.len(),
        gained,
        lost,
        unchanged: w.len() - gained - lost,
        by_district,
        by_cluster,
        changed,
        truncated,
    })
}

// ---- files ----------------------------------------------------------------------------------

const POOL_HEADERS: [&str; 11] = [
    "序号 rank",
    "企业编号 enterprise_id",
    "统一社会信用代码 uscc",
    "企业名称 name",
    "区县 district",
    "产业集群 cluster",
    "结果 outcome",
    "得分 score",
    "未达标项数 failed",
    "差距 shortfall",
    "未达标项 criteria",
];

/// The pool's rows, one per enterprise, for CSV and XLSX alike.
fn pool_rows(r: &PoolReport) -> Vec<Vec<crate::csv_export::Cell<'_>>> {
    use crate::csv_export::Cell;
    r.items
        .iter()
        .enumerate()
        .map(|(k, it)| {
            let criteria = it
                .failed
                .iter()
                .map(|f| match &f.shortfall {
                    Some(s) => format!(
                        "{} ({} {} → {})",
                        f.criterion,
                        s.fact.unwrap_or("score"),
                        s.actual
                            .map_or_else(|| "—".to_owned(), |a| a.normalize().to_string()),
                        s.needed.normalize()
                    ),
                    None => f.criterion.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                Cell::from(k + 1),
                Cell::from(it.enterprise_id),
                Cell::from(it.uscc.as_str()),
                Cell::from(it.name.as_str()),
                Cell::from(it.district.as_str()),
                Cell::from(it.cluster.as_deref()),
                Cell::from(it.outcome),
                Cell::from(it.score),
                Cell::from(it.distance.failed),
                Cell::from(it.distance.shortfall),
                Cell::text(criteria),
            ]
        })
        .collect()
}

/// The pool as CSV (through the one CSV writer).
pub fn pool_csv(r: &PoolReport) -> std::io::Result<String> {
    let mut sheet = crate::csv_export::Sheet::in_memory(&POOL_HEADERS)?;
    for row in pool_rows(r) {
        sheet.row(row)?;
    }
    sheet.into_string()
}

/// The pool as an XLSX workbook of one sheet.
pub fn pool_xlsx(r: &PoolReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    crate::services::report_files::table_xlsx("培育库 Pool", &POOL_HEADERS, pool_rows(r))
}

/// Every changed enterprise as CSV.
pub fn impact_csv(r: &Impact) -> std::io::Result<String> {
    use crate::csv_export::{Cell, Sheet};
    let mut sheet = Sheet::in_memory(&[
        "企业编号 enterprise_id",
        "统一社会信用代码 uscc",
        "企业名称 name",
        "区县 district",
        "产业集群 cluster",
        "原结果 from",
        "新结果 to",
        "决定性条件 deciding",
    ])?;
    for c in &r.changed {
        sheet.row([
            Cell::from(c.enterprise_id),
            Cell::from(c.uscc.as_str()),
            Cell::from(c.name.as_str()),
            Cell::from(c.district.as_str()),
            Cell::from(c.cluster.as_deref()),
            Cell::from(c.from),
            Cell::from(c.to),
            Cell::text(c.deciding.join("; ")),
        ])?;
    }
    sheet.into_string()
}
