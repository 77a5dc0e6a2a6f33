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
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// Enterprises per chunk: bounds memory whatever the registry's size.
const CHUNK: i64 = 10_000;

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

/// One graded pair: enterprise, rule-set index, outcome, route, score, missing count, and
/// what is stored as its result (the criteria that did not pass, the missing facts, the grade).
struct Graded {
    enterprise_id: i32,
    ruleset: usize,
    outcome: engine::Outcome,
    route: Option<engine::Route>,
    score: Option<String>,
    missing: usize,
    result: String,
}

/// The stored result of one evaluation: the criteria that failed (`false`) or stayed
/// undecided (`null`), the missing facts and the grade. Criteria that passed are left out
/// (storing every criterion made the yearly batch write ~1 KB a row); the full trace of any
/// enterprise is one request away (`GET /api/v1/enterprises/{id}/eligibility`).
#[derive(serde::Serialize)]
struct StoredResult<'a> {
    failed: Vec<&'a str>,
    unknown: Vec<&'a str>,
    missing: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    grade: Option<&'a str>,
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

/// Inserts evaluation rows: multi-row inserts on SQLite, `COPY` on PostgreSQL. These are
/// not available through the MultiConnection enum, so this one function matches on the backend.
fn insert_batch(conn: &mut DbConnection, rows: &[NewEvaluation]) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            // 12 columns × 1,000 rows stays below SQLite's limit on bound parameters (32,766).
            for chunk in rows.chunks(1000) {
                diesel::insert_into(evaluations::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Postgres(c) => {
            diesel::copy_from(evaluations::table)
                .from_insertable(rows)
                .execute(c)?;
        }
    }
    Ok(())
}

/// Grades one run of enterprises (ordered by id) from their stored facts (ordered by
/// enterprise): the graded pairs and each enterprise's fact years used (`{"years":[…]}`).
fn grade_slice(
    compiled: &[(RuleSetRow, RuleSet)],
    holds: &HashMap<i32, Vec<String>>,
    as_of: NaiveDate,
    today: NaiveDate,
    enterprises: &[(i32, Option<NaiveDate>)],
    facts: &[(i32, i32, String)],
) -> (Vec<Graded>, HashMap<i32, String>) {
    let no_holds: Vec<String> = Vec::new();
    let mut graded = Vec::with_capacity(enterprises.len() * compiled.len());
    let mut used = HashMap::with_capacity(enterprises.len());
    let mut at = 0;
    for (id, entered) in enterprises {
        while at < facts.len() && facts[at].0 < *id {
            at += 1;
        }
        let start = at;
        while at < facts.len() && facts[at].0 == *id {
            at += 1;
        }
        let rows = &facts[start..at];
        // Stored rows go through the one fact sheet parser, like every other input.
        let (mut sheet, problems) =
            FactSheet::from_stored(rows.iter().map(|(_, y, t)| (*y, t.as_str())), today);
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
        if !rows.is_empty() {
            let years: Vec<i32> = rows.iter().map(|(_, y, _)| *y).collect();
            used.insert(*id, serde_json::json!({ "years": years }).to_string());
        }
        let input = Input {
            as_of,
            facts: sheet.view(),
            holds: holds.get(id).unwrap_or(&no_holds),
            renewal: false,
            pool: None,
        };
        for (i, (_, rs)) in compiled.iter().enumerate() {
            let ev = engine::evaluate(rs, &input, true);
            let mut stored = StoredResult {
                failed: Vec::new(),
                unknown: Vec::new(),
                missing: &ev.missing,
                grade: ev.grade,
            };
            for c in &ev.criteria {
                match c.passed {
                    Some(true) => {}
                    Some(false) => stored.failed.push(c.id),
                    None => stored.unknown.push(c.id),
                }
            }
            let result = serde_json::to_string(&stored).unwrap_or_default();
            graded.push(Graded {
                enterprise_id: *id,
                ruleset: i,
                outcome: ev.outcome,
                route: ev.route,
                score: ev.score.map(|s| s.normalize().to_string()),
                missing: ev.missing.len(),
                result,
            });
        }
    }
    (graded, used)
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
    // SQLite: a page cache large enough for a chunk's writes (and the year's delete) not to
    // spill mid-transaction; the default is 2 MiB. Restored at the end.
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    if sqlite {
        conn.batch_execute("PRAGMA cache_size = -131072")?;
    }
    let result = grade_all(
        conn,
        year,
        as_of,
        &compiled,
        &holds,
        &names,
        sheet.as_mut(),
        &pb,
        &mut stats,
    );
    if sqlite {
        conn.batch_execute("PRAGMA cache_size = -2000")?;
    }
    result?;
    pb.finish_and_clear();
    if let Some(w) = sheet {
        w.finish().map_err(sheet_error)?;
    }
    stats.total = started.elapsed();
    Ok(stats)
}

/// The delete of the year's results and the pipeline (see [`run`]).
#[allow(clippy::too_many_arguments)]
fn grade_all<W: Write + ?Sized>(
    conn: &mut DbConnection,
    year: i32,
    as_of: NaiveDate,
    compiled: &[(RuleSetRow, RuleSet)],
    holds: &HashMap<i32, Vec<String>>,
    names: &HashMap<i32, (String, String, String, Option<String>)>,
    mut sheet: Option<&mut Sheet<&mut W>>,
    pb: &ProgressBar,
    stats: &mut BatchStats,
) -> AppResult<()> {
    write_tx(conn, |c| {
        crate::models::ruleset::delete_evaluations_for_year(c, year).map(|_| ())
    })?;
    let created_at = now();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let today = crate::clock::today();
    let grade = |chunk: &Chunk| {
        let t = Instant::now();
        let graded = grade_chunk(compiled, holds, as_of, today, workers, chunk);
        (graded, t.elapsed())
    };
    // A pipeline: while one chunk is graded (on every core), the previous chunk's results
    // are written and the next chunk is read, on the one connection. The three timings
    // overlap; `total` is the wall-clock time.
    let t = Instant::now();
    let mut next = read_chunk(conn, 0, year)?;
    stats.read += t.elapsed();
    let mut pending: Option<(Vec<Graded>, HashMap<i32, String>)> = None;
    while let Some(chunk) = next.take() {
        let last = chunk.0.last().map_or(0, |e| e.0);
        let (graded, written, read) = std::thread::scope(|scope| {
            let grader = scope.spawn(|| grade(&chunk));
            let t = Instant::now();
            let written = match pending.take() {
                Some((graded, used)) => write_chunk(
                    conn,
                    compiled,
                    graded,
                    &used,
                    year,
                    as_of,
                    created_at,
                    stats,
                    sheet.as_deref_mut(),
                    names,
                ),
                None => Ok(()),
            };
            stats.write += t.elapsed();
            let t = Instant::now();
            let read = match written {
                Ok(()) => read_chunk(conn, last, year).map_err(AppError::from),
                Err(_) => Ok(None),
            };
            stats.read += t.elapsed();
            let graded = grader
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (graded, written, read)
        });
        written?;
        next = read?;
        let ((g, used), took) = graded;
        stats.grade += took;
        stats.enterprises += chunk.0.len();
        stats.evaluations += g.len();
        pb.inc(chunk.0.len() as u64);
        pending = Some((g, used));
    }
    if let Some((graded, used)) = pending.take() {
        let t = Instant::now();
        write_chunk(
            conn, compiled, graded, &used, year, as_of, created_at, stats, sheet, names,
        )?;
        stats.write += t.elapsed();
    }
    Ok(())
}

/// One chunk: enterprises (id, niche entry date) in id order, and their fact rows
/// (enterprise, year, stored facts) in (enterprise, year) order.
type Chunk = (Vec<(i32, Option<NaiveDate>)>, Vec<(i32, i32, String)>);

/// The next [`CHUNK`] enterprises after `after`, with the fact years rule sets can reach back
/// to; `None` past the last enterprise.
fn read_chunk(conn: &mut DbConnection, after: i32, year: i32) -> QueryResult<Option<Chunk>> {
    use crate::db::schema::fact_years;
    let chunk: Vec<(i32, Option<NaiveDate>)> = enterprises::table
        .filter(enterprises::id.gt(after))
        .order(enterprises::id)
        .limit(CHUNK)
        .select((enterprises::id, enterprises::niche_entered_on))
        .load(conn)?;
    let Some(&(last, _)) = chunk.last() else {
        return Ok(None);
    };
    let facts = fact_years::table
        .filter(fact_years::enterprise_id.gt(after))
        .filter(fact_years::enterprise_id.le(last))
        .filter(fact_years::year.ge(year - 5))
        .filter(fact_years::year.le(year))
        .order((fact_years::enterprise_id, fact_years::year))
        .select((
            fact_years::enterprise_id,
            fact_years::year,
            fact_years::facts,
        ))
        .load::<(i32, i32, String)>(conn)?;
    Ok(Some((chunk, facts)))
}

/// Grades a chunk on `workers` threads, each a contiguous run of enterprises and the fact
/// rows that belong to it; the results in enterprise order.
fn grade_chunk(
    compiled: &[(RuleSetRow, RuleSet)],
    holds: &HashMap<i32, Vec<String>>,
    as_of: NaiveDate,
    today: NaiveDate,
    workers: usize,
    (chunk, facts): &Chunk,
) -> (Vec<Graded>, HashMap<i32, String>) {
    let per = chunk.len().div_ceil(workers.max(1)).max(1);
    let results: Vec<(Vec<Graded>, HashMap<i32, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunk
            .chunks(per)
            .map(|ents| {
                let first = ents.first().map_or(0, |e| e.0);
                let last = ents.last().map_or(0, |e| e.0);
                let lo = facts.partition_point(|f| f.0 < first);
                let hi = facts.partition_point(|f| f.0 <= last);
                let facts = &facts[lo..hi];
                scope.spawn(move || grade_slice(compiled, holds, as_of, today, ents, facts))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut graded = Vec::with_capacity(chunk.len() * compiled.len());
    let mut used = HashMap::with_capacity(chunk.len());
    for (g, u) in results {
        graded.extend(g);
        used.extend(u);
    }
    (graded, used)
}

/// Stores one chunk's results (one write transaction), counts the outcomes and writes the
/// optional CSV sheet's rows.
#[allow(clippy::too_many_arguments)]
fn write_chunk<W: Write + ?Sized>(
    conn: &mut DbConnection,
    compiled: &[(RuleSetRow, RuleSet)],
    mut graded: Vec<Graded>,
    facts_used: &HashMap<i32, String>,
    year: i32,
    as_of: NaiveDate,
    created_at: chrono::NaiveDateTime,
    stats: &mut BatchStats,
    sheet: Option<&mut Sheet<&mut W>>,
    names: &HashMap<i32, (String, String, String, Option<String>)>,
) -> AppResult<()> {
    let none = String::from("{\"years\":[]}");
    for g in &graded {
        *stats
            .outcomes
            .entry(format!(
                "{}:{}",
                compiled[g.ruleset].0.tier,
                outcome_str(g.outcome)
            ))
            .or_default() += 1;
    }
    let new_rows: Vec<NewEvaluation> = graded
        .iter_mut()
        .map(|g| {
            let (row, _) = &compiled[g.ruleset];
            NewEvaluation {
                enterprise_id: g.enterprise_id,
                tier: &row.tier,
                ruleset_id: row.id,
                ruleset_version: row.version,
                as_of,
                year,
                outcome: outcome_str(g.outcome),
                route: route_str(g.route),
                score: g.score.clone(),
                facts: facts_used.get(&g.enterprise_id).unwrap_or(&none),
                result: std::mem::take(&mut g.result),
                created_at,
            }
        })
        .collect();
    write_tx(conn, |c| insert_batch(c, &new_rows))?;
    drop(new_rows);
    if let Some(w) = sheet {
        for g in &graded {
            let (row, _) = &compiled[g.ruleset];
            let (u, n, d, c) = names.get(&g.enterprise_id).cloned().unwrap_or_default();
            // The score is a decimal the engine wrote: a number cell, not text.
            let score = g.score.as_deref().and_then(|v| v.parse::<Decimal>().ok());
            w.row([
                Cell::from(u),
                Cell::from(n),
                Cell::from(d),
                Cell::from(c),
                Cell::from(row.tier.clone()),
                Cell::from(row.version),
                Cell::from(outcome_str(g.outcome)),
                Cell::from(route_str(g.route)),
                Cell::from(score),
                Cell::from(g.missing),
            ])
            .map_err(sheet_error)?;
        }
    }
    Ok(())
}

fn sheet_error(e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("writing the CSV sheet"))
}
