//! ladder: its shipped rule sets, compiled once; `evaluate` per enterprise and rule set.

use crate::data::each_record;
use crate::{Args, peak_rss_kb, percentiles};
use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use ladder::engine::{Evaluation, FactBatch, FactSheet, Facts, Input, Outcome, RuleSet, compile, evaluate};
use serde_json::{Value, json};
use std::fs::{self, File};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::time::Instant;

pub struct Rules {
    pub lg: RuleSet,
    pub ts: RuleSet,
}

pub fn rules() -> Result<Rules> {
    let load = |name: &str| -> Result<RuleSet> {
        let path = format!("../../fixtures/rulesets/{name}.json");
        let doc: Value = serde_json::from_str(&fs::read_to_string(&path).context(path.clone())?)?;
        compile(&doc).map_err(|ps| anyhow::anyhow!("{name}: {ps:?}"))
    };
    Ok(Rules {
        lg: load("little_giant-2026")?,
        ts: load("tech_sme-2017")?,
    })
}

/// One enterprise in ladder's input form.
pub struct Ent {
    pub id: String,
    pub as_of: NaiveDate,
    pub facts: FactSheet,
    pub holds: Vec<String>,
    pub renewal: bool,
}

pub fn ent(rec: &Value) -> Result<Ent> {
    let as_of = NaiveDate::parse_from_str(rec["as_of"].as_str().unwrap_or(""), "%Y-%m-%d")?;
    let facts = FactSheet::parse(&rec["facts"], as_of).map_err(|ps| anyhow::anyhow!("{ps:?}"))?;
    let holds = rec["holds"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    Ok(Ent {
        id: rec["id"].as_str().unwrap_or("").to_owned(),
        as_of,
        facts,
        holds,
        renewal: rec["renewal"].as_bool().unwrap_or(false),
    })
}

/// Grades one enterprise against both rule sets; `None` where a rule set is not in force on
/// the assessment date (only some boundary cases: the synthetic ones are all in 2026).
#[inline]
pub fn grade<'r>(r: &'r Rules, e: &Ent, trace: bool) -> (Option<Evaluation<'r>>, Option<Evaluation<'r>>) {
    grade_facts(r, e.facts.view(), e.as_of, &e.holds, e.renewal, trace)
}

#[inline]
fn grade_facts<'r>(
    r: &'r Rules,
    facts: Facts<'_>,
    as_of: NaiveDate,
    holds: &[String],
    renewal: bool,
    trace: bool,
) -> (Option<Evaluation<'r>>, Option<Evaluation<'r>>) {
    let input = Input { as_of, facts, holds, renewal, pool: None };
    let one = |rs: &'r RuleSet| rs.in_force_on(as_of).then(|| evaluate(rs, &input, trace));
    (one(&r.lg), one(&r.ts))
}

/// ladder's batch form: every enterprise's facts in one `FactBatch` (a few allocations in all,
/// ~8 bytes per value) and the rest of the input in flat columns.
#[derive(Default)]
struct Batch {
    facts: FactBatch,
    as_of: Vec<NaiveDate>,
    renewal: Vec<bool>,
    /// Held tiers; an empty box allocates nothing.
    holds: Vec<Box<[String]>>,
}

impl Batch {
    fn push(&mut self, e: Ent) {
        self.facts.push(&e.facts);
        self.as_of.push(e.as_of);
        self.renewal.push(e.renewal);
        self.holds.push(e.holds.into_boxed_slice());
    }
    fn len(&self) -> usize {
        self.as_of.len()
    }
    fn clear(&mut self) {
        self.facts.clear();
        self.as_of.clear();
        self.renewal.clear();
        self.holds.clear();
    }
}

fn summary(ev: &Option<Evaluation>) -> Value {
    let Some(ev) = ev else {
        return json!({"outcome": "not_in_force", "route": null, "score": null, "score_max": null});
    };
    let d = |x: Option<rust_decimal::Decimal>| x.map_or(Value::Null, |d| json!(d.normalize().to_string()));
    json!({
        "outcome": ev.outcome,
        "route": ev.route,
        "score": d(ev.score),
        "score_max": d(ev.score_max),
    })
}

/// Grades the correctness set with trace on and off (they must agree) and writes the outcomes.
pub fn check(out_path: &str) -> Result<()> {
    let r = rules()?;
    if let Some(dir) = std::path::Path::new(out_path).parent() {
        fs::create_dir_all(dir)?;
    }
    let mut out = BufWriter::new(File::create(out_path)?);
    let n = each_record("data/correctness.jsonl", usize::MAX, |rec| {
        let e = ent(&rec)?;
        let (lg, ts) = grade(&r, &e, true);
        let (lg2, ts2) = grade(&r, &e, false);
        if summary(&lg) != summary(&lg2) || summary(&ts) != summary(&ts2) {
            bail!("{}: trace on and off disagree", e.id);
        }
        writeln!(
            out,
            "{}",
            json!({"id": e.id, "little_giant": summary(&lg), "tech_sme": summary(&ts)})
        )?;
        Ok(())
    })?;
    out.flush()?;
    eprintln!("ladder: graded {n} enterprises → {out_path}");
    Ok(())
}

/// Single-evaluation latency: one enterprise against both rule sets, timed call by call over
/// the correctness set, after one warm-up pass.
pub fn latency(args: &Args) -> Result<()> {
    let trace = args.get("trace", "off") == "on";
    let reps = args.num("reps", 5)?;
    let r = rules()?;
    let mut ents = Vec::new();
    each_record("data/correctness.jsonl", usize::MAX, |rec| {
        ents.push(ent(&rec)?);
        Ok(())
    })?;
    let mut ns = Vec::with_capacity(ents.len() * reps);
    for pass in 0..=reps {
        for e in &ents {
            let t = Instant::now();
            let res = grade(&r, e, trace);
            black_box(&res);
            let dt = t.elapsed().as_nanos() as u64;
            drop(res);
            if pass > 0 {
                ns.push(dt);
            }
        }
    }
    let samples = ns.len();
    let (p50, p99) = percentiles(ns);
    println!(
        "{}",
        json!({"engine": "ladder", "kind": "latency", "trace": trace, "samples": samples,
               "median_us": p50 as f64 / 1e3, "p99_us": p99 as f64 / 1e3})
    );
    Ok(())
}

#[derive(Default)]
struct Tally {
    counts: [u64; 6],
    score_sum: rust_decimal::Decimal,
}

impl Tally {
    fn add(&mut self, lg: &Option<Evaluation>, ts: &Option<Evaluation>) {
        let i = |o: &Option<Evaluation>| match o.as_ref().map(|e| e.outcome) {
            Some(Outcome::Eligible) => 0,
            Some(Outcome::Ineligible) => 1,
            _ => 2,
        };
        self.counts[i(lg)] += 1;
        self.counts[3 + i(ts)] += 1;
        self.score_sum += ts.as_ref().and_then(|e| e.score).unwrap_or_default();
    }
    fn json(&self) -> Value {
        json!({"lg": &self.counts[..3], "ts": &self.counts[3..], "ts_score_sum": self.score_sum.normalize().to_string()})
    }
}

/// Batch throughput: N enterprises from data/batch.jsonl loaded into ladder's batch form (a
/// `FactBatch`, untimed), then graded in a loop without trace (timed). `--chunk K` loads and grades K at a time, so memory
/// stays bounded by the chunk instead of N.
pub fn batch(args: &Args) -> Result<()> {
    let n = args.num("n", 10_000)?;
    let chunk = args.num("chunk", n)?.max(1);
    let r = rules()?;
    let mut tally = Tally::default();
    let mut eval_s = 0.0;
    let mut batch = Batch::default();
    let run = |b: &mut Batch, tally: &mut Tally| {
        let t = Instant::now();
        for i in 0..b.len() {
            let (lg, ts) = grade_facts(&r, b.facts.get(i), b.as_of[i], &b.holds[i], b.renewal[i], false);
            tally.add(&lg, &ts);
        }
        let dt = t.elapsed().as_secs_f64();
        b.clear();
        dt
    };
    let mut rss_loaded = 0;
    let t_load = Instant::now();
    let got = each_record("data/batch.jsonl", n, |rec| {
        batch.push(ent(&rec)?);
        if batch.len() == chunk {
            rss_loaded = rss_loaded.max(peak_rss_kb());
            eval_s += run(&mut batch, &mut tally);
        }
        Ok(())
    })?;
    if batch.len() > 0 {
        rss_loaded = rss_loaded.max(peak_rss_kb());
        eval_s += run(&mut batch, &mut tally);
    }
    let load_s = t_load.elapsed().as_secs_f64() - eval_s;
    if got < n {
        bail!("data/batch.jsonl holds {got} enterprises, fewer than {n}");
    }
    println!(
        "{}",
        json!({"engine": "ladder", "kind": "batch", "mode": if chunk >= n { "materialised" } else { "chunked" },
               "chunk": chunk, "n": n, "eval_s": eval_s, "per_sec": n as f64 / eval_s, "load_s": load_s,
               "peak_rss_kb": peak_rss_kb(), "rss_after_load_kb": rss_loaded, "tally": tally.json()})
    );
    Ok(())
}

/// For profiling (`perf record … peers profile ladder`): grades the first 10,000 enterprises of
/// data/batch.jsonl `--repeat` times, so evaluation dominates the samples.
pub fn profile(args: &Args) -> Result<()> {
    let repeat = args.num("repeat", 100)?;
    let trace = args.get("trace", "off") == "on";
    let r = rules()?;
    let mut ents = Vec::new();
    each_record("data/batch.jsonl", 10_000, |rec| {
        ents.push(ent(&rec)?);
        Ok(())
    })?;
    let mut tally = Tally::default();
    let t = Instant::now();
    for _ in 0..repeat {
        for e in &ents {
            let (lg, ts) = grade(&r, e, trace);
            tally.add(&lg, &ts);
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!("{}", json!({"engine": "ladder", "kind": "profile", "evals": ents.len() * repeat,
        "ns_per_enterprise": s * 1e9 / (ents.len() * repeat) as f64, "tally": tally.json()}));
    Ok(())
}
