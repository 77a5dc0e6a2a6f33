//! The rollup: per quota the target, achieved, gap, percent, pace, pipeline and breakdowns,
//! plus the month-by-month cumulative series. Counts come from aggregate queries
//! (models::report); this module only shapes them.

use crate::db::DbConnection;
use crate::error::AppResult;
use crate::models::report::{self, Measure};
use crate::services::reference::CITY_SCOPE;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub achieved: i64,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Pipeline {
    pub submitted: i64,
    pub under_review: i64,
    /// Approved and under publicity (公示): the certificate issues when the period ends.
    pub publicized: i64,
    /// Of those, how many the pre-screen found eligible.
    pub predicted_eligible: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaRollup {
    pub id: i32,
    pub scope: String,
    pub tiers: Vec<String>,
    pub measure: String,
    pub label_zh: String,
    pub label_en: String,
    pub target: i64,
    pub achieved: i64,
    pub gap: i64,
    /// achieved ÷ target × 100, one decimal.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64)]
    pub percent: Decimal,
    /// target × the elapsed share of the year on the report date, one decimal.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    #[schema(value_type = f64)]
    pub expected_by_now: Decimal,
    pub on_pace: bool,
    /// Of `achieved`, the certifications whose approval overrode an ineligible pre-screen or a
    /// review criterion judged false.
    pub overrides: i64,
    pub pipeline: Pipeline,
    pub by_district: Vec<Breakdown>,
    pub by_cluster: Vec<Breakdown>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Month {
    /// `YYYY-MM`
    pub month: String,
    /// The last day counted for this month (the month end, or the report date).
    pub through: NaiveDate,
    /// quota id → cumulative count at `through`.
    pub cumulative: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rollup {
    pub year: i32,
    pub as_of: NaiveDate,
    pub quotas: Vec<QuotaRollup>,
    pub monthly: Vec<Month>,
}

fn month_end(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MIN)
}

/// One decimal place, always shown (30.0, not 30).
fn round1(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(1);
    r
}

/// The share of `year` elapsed on `as_of` (inclusive), 0–1.
pub fn elapsed_share(year: i32, as_of: NaiveDate) -> Decimal {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let end = month_end(year, 12);
    let days_in_year = (end - start).num_days() + 1;
    let elapsed = ((as_of - start).num_days() + 1).clamp(0, days_in_year);
    Decimal::from(elapsed) / Decimal::from(days_in_year)
}

/// Builds the rollup for a year and report date, optionally for one quota scope only.
/// The rollup for a caller who may read reports (officials, admins; the CLI's operator).
pub fn report(
    conn: &mut DbConnection,
    caller: &crate::services::policy::Caller,
    year: i32,
    as_of: NaiveDate,
) -> AppResult<Rollup> {
    caller.may(
        crate::services::policy::Action::ReadReports,
        &crate::services::policy::Resource::Any,
    )?;
    rollup(conn, year, as_of)
}

pub fn rollup(conn: &mut DbConnection, year: i32, as_of: NaiveDate) -> AppResult<Rollup> {
    let quotas = crate::models::quota::for_year(conn, Some(year))?;
    let districts = crate::models::reference::all_districts(conn)?;
    let clusters = crate::models::reference::all_clusters(conn)?;
    let year_start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let year_end = month_end(year, 12);
    // Day 0 is the report date; then one day per month of the year up to it.
    let report_day = as_of.min(year_end);
    let last_month = if as_of < year_start {
        0
    } else {
        report_day.month()
    };
    let mut days = vec![as_of];
    let mut month_days = Vec::new();
    for m in 1..=last_month {
        let d = month_end(year, m).min(report_day);
        month_days.push((format!("{year}-{m:02}"), d));
        days.push(d);
    }
    let share = elapsed_share(year, as_of);
    let mut out = Vec::with_capacity(quotas.len());
    let mut monthly: Vec<Month> = month_days
        .iter()
        .map(|(m, d)| Month {
            month: m.clone(),
            through: *d,
            cumulative: BTreeMap::new(),
        })
        .collect();
    for q in &quotas {
        let tiers = q.tier_list();
        let scope = (q.scope != CITY_SCOPE).then_some(q.scope.as_str());
        let measure = if q.measure == "new" {
            Measure::New
        } else {
            Measure::Active
        };
        let groups = report::certification_counts(conn, &tiers, scope, measure, year_start, &days)?;
        let at = |i: usize| {
            groups
                .iter()
                .map(|g| g.at.get(i).copied().unwrap_or(0))
                .sum::<i64>()
        };
        let achieved = at(0);
        for (i, m) in monthly.iter_mut().enumerate() {
            m.cumulative.insert(q.id.to_string(), at(i + 1));
        }
        let mut by_d: BTreeMap<&str, i64> = BTreeMap::new();
        let mut by_c: BTreeMap<String, i64> = BTreeMap::new();
        for g in &groups {
            let n = g.at.first().copied().unwrap_or(0);
            *by_d.entry(g.district.as_str()).or_default() += n;
            *by_c
                .entry(g.cluster.clone().unwrap_or_default())
                .or_default() += n;
        }
        let by_district = districts
            .iter()
            .map(|d| Breakdown {
                code: d.code.clone(),
                name: d.name_zh.clone(),
                name_en: d.name_en.clone(),
                achieved: by_d.get(d.code.as_str()).copied().unwrap_or(0),
            })
            .collect();
        let mut by_cluster: Vec<Breakdown> = clusters
            .iter()
            .map(|c| Breakdown {
                code: c.code.clone(),
                name: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                achieved: by_c.get(&c.code).copied().unwrap_or(0),
            })
            .collect();
        if let Some(n) = by_c.get("").copied().filter(|n| *n > 0) {
            by_cluster.push(Breakdown {
                code: String::new(),
                name: "未归类".into(),
                name_en: "Unassigned".into(),
                achieved: n,
            });
        }
        let overrides = report::count(
            conn,
            &tiers,
            scope,
            measure,
            year_start,
            as_of,
            report::Counted::Overrides,
        )?;
        let mut pipeline = Pipeline::default();
        for (state, prescreen, n) in report::pipeline(conn, &tiers, scope, year)? {
            match state.as_str() {
                "submitted" => pipeline.submitted += n,
                "publicized" => pipeline.publicized += n,
                _ => pipeline.under_review += n,
            }
            if prescreen.as_deref() == Some("eligible") {
                pipeline.predicted_eligible += n;
            }
        }
        let target = i64::from(q.target);
        let expected = round1(Decimal::from(target) * share);
        out.push(QuotaRollup {
            id: q.id,
            scope: q.scope.clone(),
            tiers,
            measure: q.measure.clone(),
            label_zh: q.label_zh.clone(),
            label_en: q.label_en.clone(),
            target,
            achieved,
            gap: (target - achieved).max(0),
            percent: if target > 0 {
                round1(Decimal::from(achieved) * Decimal::from(100) / Decimal::from(target))
            } else {
                Decimal::ZERO
            },
            expected_by_now: expected,
            on_pace: Decimal::from(achieved) >= expected,
            overrides,
            pipeline,
            by_district,
            by_cluster,
        });
    }
    Ok(Rollup {
        year,
        as_of,
        quotas: out,
        monthly,
    })
}

/// Median seconds of the full rollup and of the bare aggregate (one `COUNT(*)` per quota on
/// the report date, no breakdowns, no monthly series, no pipeline), over `iterations` runs each.
pub fn bench(
    conn: &mut DbConnection,
    year: i32,
    as_of: NaiveDate,
    iterations: usize,
) -> AppResult<(f64, f64)> {
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let quotas = crate::models::quota::for_year(conn, Some(year))?;
    let year_start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let mut full = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..iterations.max(1) {
        let t = std::time::Instant::now();
        let r = rollup(conn, year, as_of)?;
        full.push(t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        let mut total = 0;
        for q in &quotas {
            let scope = (q.scope != CITY_SCOPE).then_some(q.scope.as_str());
            let measure = if q.measure == "new" {
                Measure::New
            } else {
                Measure::Active
            };
            total += report::count(
                conn,
                &q.tier_list(),
                scope,
                measure,
                year_start,
                as_of,
                report::Counted::All,
            )?;
        }
        bare.push(t.elapsed().as_secs_f64());
        let achieved: i64 = r.quotas.iter().map(|q| q.achieved).sum();
        if achieved != total {
            return Err(crate::error::AppError::Internal(anyhow::anyhow!(
                "rollup counted {achieved}, bare SQL {total}"
            )));
        }
    }
    Ok((median(full), median(bare)))
}
