//! `ladder evaluate --year Y`: every enterprise × every tier in force, from the database,
//! in chunks (bounded memory), results stored for reports and optionally written as CSV.

use crate::csv_export::{Cell, Sheet};
use crate::db::schema::{enterprises, evaluations};
use crate::db::{DbConnection, write_tx};
use crate::engine::{self, FactSheet, Input, RuleSet};
use crate::error::{AppError, AppResult};
use crate::models::now;
use crate::models::ruleset::{self as rs_rows, NewEvaluation, RuleSetRow};
use chrono::NaiveDate;
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// Enterprises per chunk: bounds memory whatever the registry's size.
const CHUNK: i64 = 5_000;

/// Where the time went.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct BatchStats {
    pub enterprises: usize,
    pub evaluations: usize,
    pub tiers: Vec<String>,
    pub read: Duration,
    pub grade: Duration,
    pub write: Duration,
    pub total: Duration,
    pub outcomes: HashMap<String, usize>,
}

/// One graded pair: enterprise, rule-set index, outcome, route, score, missing count, compact trace.
type GradedRow = (
    i32,
    usize,
    engine::Outcome,
    Option<engine::Route>,
    Option<String>,
    usize,
    String,
);

/// One row of the optional CSV sheet.
struct SheetRow {
    enterprise_id: i32,
    tier: String,
    version: i32,
    outcome: &'static str,
    route: Option<&'static str>,
    score: Option<String>,
    missing: usize,
}

fn outcome_str(o: engine::Outcome) -> &'static str {
    match o {
        engine::Outcome::Eligible => "eligible",
        engine::Outcome::Ineligible => "ineligible",
        engine::Outcome::Incomplete => "incomplete",
    }
}

fn route_str(r: Option<engine::Route>) -> Option<&'static str> {
    r.map(|r| match r {
        engine::Route::Standard => "standard",
        engine::Route::Direct => "direct",
    })
}

/// Inserts evaluation rows. Multi-row inserts are not available through the
/// MultiConnection enum, so this one function matches on the backend to batch them.
fn insert_batch(conn: &mut DbConnection, rows: &[NewEvaluation]) -> QueryResult<()> {
    for chunk in rows.chunks(1000) {
        match conn {
            DbConnection::Sqlite(c) => {
                diesel::insert_into(evaluations::table)
                    .values(chunk)
                    .execute(c)?;
            }
            DbConnection::Postgres(c) => {
                diesel::insert_into(evaluations::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Grades every enterprise for every tier in force on `as_of`; replaces that year's results.
pub fn run<W: Write + ?Sized>(
    conn: &mut DbConnection,
    year: i32,
    as_of: NaiveDate,
    progress: bool,
    sheet: Option<&mut W>,
) -> AppResult<BatchStats> {
    let started = Instant::now();
    let mut stats = BatchStats::default();
    let rows: Vec<RuleSetRow> = rs_rows::all_in_force(conn, as_of)?;
    if rows.is_empty() {
        return Err(AppError::field(
            "as_of",
            "no_ruleset_in_force",
            format!("no rule set is in force on {as_of}"),
        ));
    }
    let compiled: Vec<(RuleSetRow, RuleSet)> = rows
        .into_iter()
        .map(|r| crate::services::rulesets::compile_text(&r.document).map(|rs| (r, rs)))
        .collect::<AppResult<_>>()?;
    stats.tiers = compiled.iter().map(|(r, _)| r.tier.clone()).collect();
    let total: i64 = enterprises::table.count().get_result(conn)?;
    let mut holds: HashMap<i32, Vec<String>> = HashMap::new();
    for (eid, tier) in rs_rows::all_holds(conn, as_of)? {
        holds.entry(eid).or_default().push(tier);
    }
    let names: HashMap<i32, (String, String, String, Option<String>)> = if sheet.is_some() {
        enterprises::table
            .select((
                enterprises::id,
                enterprises::uscc,
                enterprises::name,
                enterprises::district_code,
                enterprises::cluster_code,
            ))
            .load::<(i32, String, String, String, Option<String>)>(conn)?
            .into_iter()
            .map(|(id, u, n, d, c)| (id, (u, n, d, c)))
            .collect()
    } else {
        HashMap::new()
    };
    let mut sheet = sheet
        .map(|w| {
            Sheet::new(
                w,
                &[
                    "统一社会信用代码 uscc",
                    "企业名称 name",
                    "区县 district",
                    "产业集群 cluster",
                    "梯度 tier",
                    "规则版本 ruleset_version",
                    "结果 outcome",
                    "路径 route",
                    "得分 score",
                    "缺失数据 missing",
                ],
            )
        })
        .transpose()
        .map_err(sheet_error)?;
    let pb = if progress {
        ProgressBar::new(total.max(0) as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        "grading [{bar:40}] {pos}/{len} enterprises ({per_sec}, {eta})",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    write_tx(conn, |c| {
        crate::models::ruleset::delete_evaluations_for_year(c, year).map(|_| ())
    })?;
    let created_at = now();
    let mut after = 0;
    loop {
        // Read: one chunk of enterprises' facts (the years rule sets can reach back to).
        let t = Instant::now();
        let chunk: Vec<(i32, Option<chrono::NaiveDate>)> = enterprises::table
            .filter(enterprises::id.gt(after))
            .order(enterprises::id)
            .limit(CHUNK)
            .select((enterprises::id, enterprises::niche_entered_on))
            .load(conn)?;
        let ids: Vec<i32> = chunk.iter().map(|(id, _)| *id).collect();
        let Some(&last) = ids.last() else { break };
        let facts = crate::db::schema::fact_years::table
            .filter(crate::db::schema::fact_years::enterprise_id.gt(after))
            .filter(crate::db::schema::fact_years::enterprise_id.le(last))
            .filter(crate::db::schema::fact_years::year.ge(year - 5))
            .filter(crate::db::schema::fact_years::year.le(year))
            .select((
                crate::db::schema::fact_years::enterprise_id,
                crate::db::schema::fact_years::year,
                crate::db::schema::fact_years::facts,
            ))
            .load::<(i32, i32, String)>(conn)?;
        // Stored rows go through the one fact sheet parser, like every other input.
        let mut rows: HashMap<i32, Vec<(i32, &str)>> = HashMap::with_capacity(ids.len());
        for (eid, y, text) in &facts {
            rows.entry(*eid).or_default().push((*y, text.as_str()));
        }
        let today = crate::clock::today();
        let mut tables: HashMap<i32, FactSheet> = HashMap::with_capacity(ids.len());
        for (id, entered) in &chunk {
            let (mut sheet, problems) =
                FactSheet::from_stored(rows.remove(id).unwrap_or_default(), today);
            if !problems.is_empty() {
                tracing::warn!(
                    enterprise_id = id,
                    ?problems,
                    "stored facts left out of grading"
                );
            }
            if let Some(entered) = entered {
                sheet.derive_niche_years(*entered);
            }
            tables.insert(*id, sheet);
        }
        stats.read += t.elapsed();

        // Grade.
        let t = Instant::now();
        let empty = FactSheet::new();
        let no_holds: Vec<String> = Vec::new();
        let mut graded: Vec<GradedRow> = Vec::with_capacity(ids.len() * compiled.len());
        for id in &ids {
            let facts = tables.get(id).unwrap_or(&empty);
            let held = holds.get(id).unwrap_or(&no_holds);
            let input = Input {
                as_of,
                facts: facts.view(),
                holds: held,
                renewal: false,
                pool: None,
            };
            for (i, (_, rs)) in compiled.iter().enumerate() {
                let ev = engine::evaluate(rs, &input, true);
                // Compact trace: criterion → passed (true/false/null).
                let trace: serde_json::Map<String, serde_json::Value> = ev
                    .criteria
                    .iter()
                    .map(|c| {
                        (
                            c.id.to_string(),
                            c.passed
                                .map_or(serde_json::Value::Null, serde_json::Value::Bool),
                        )
                    })
                    .collect();
                let result = serde_json::json!({"criteria": trace, "missing": ev.missing, "grade": ev.grade}).to_string();
                graded.push((
                    *id,
                    i,
                    ev.outcome,
                    ev.route,
                    ev.score.map(|s| s.normalize().to_string()),
                    ev.missing.len(),
                    result,
                ));
            }
        }
        stats.grade += t.elapsed();

        // Write.
        let t = Instant::now();
        let facts_used: HashMap<i32, String> = {
            let mut m: HashMap<i32, Vec<i32>> = HashMap::new();
            for (eid, y, _) in &facts {
                m.entry(*eid).or_default().push(*y);
            }
            m.into_iter()
                .map(|(k, v)| (k, serde_json::json!({"years": v}).to_string()))
                .collect()
        };
        let none = String::from("{\"years\":[]}");
        let new_rows: Vec<NewEvaluation> = graded
            .iter()
            .map(|(eid, i, outcome, route, score, _, result)| {
                let (row, _) = &compiled[*i];
                NewEvaluation {
                    enterprise_id: *eid,
                    tier: &row.tier,
                    ruleset_id: row.id,
                    ruleset_version: row.version,
                    as_of,
                    year,
                    outcome: outcome_str(*outcome),
                    route: route_str(*route),
                    score: score.clone(),
                    facts: facts_used.get(eid).unwrap_or(&none),
                    result: result.clone(),
                    created_at,
                }
            })
            .collect();
        write_tx(conn, |c| insert_batch(c, &new_rows))?;
        for (eid, i, outcome, route, score, missing, _) in &graded {
            *stats
                .outcomes
                .entry(format!("{}:{}", compiled[*i].0.tier, outcome_str(*outcome)))
                .or_default() += 1;
            if let Some(w) = sheet.as_mut() {
                let r = SheetRow {
                    enterprise_id: *eid,
                    tier: compiled[*i].0.tier.clone(),
                    version: compiled[*i].0.version,
                    outcome: outcome_str(*outcome),
                    route: route_str(*route),
                    score: score.clone(),
                    missing: *missing,
                };
                let (u, n, d, c) = names.get(&r.enterprise_id).cloned().unwrap_or_default();
                // The score is a decimal the engine wrote: a number cell, not text.
                let score = r.score.as_deref().and_then(|v| v.parse::<Decimal>().ok());
                w.row([
                    Cell::from(u),
                    Cell::from(n),
                    Cell::from(d),
                    Cell::from(c),
                    Cell::from(r.tier),
                    Cell::from(r.version),
                    Cell::from(r.outcome),
                    Cell::from(r.route),
                    Cell::from(score),
                    Cell::from(r.missing),
                ])
                .map_err(sheet_error)?;
            }
        }
        stats.write += t.elapsed();
        stats.enterprises += ids.len();
        stats.evaluations += graded.len();
        pb.inc(ids.len() as u64);
        after = last;
    }
    pb.finish_and_clear();
    if let Some(w) = sheet {
        w.finish().map_err(sheet_error)?;
    }
    stats.total = started.elapsed();
    Ok(stats)
}

fn sheet_error(e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("writing the CSV sheet"))
}
