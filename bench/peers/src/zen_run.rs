//! GoRules ZEN: zen/grading.jdm.json (both rule sets in one JDM graph), compiled once
//! (`Decision::compile` caches the expression bytecode and decision-table indexes); evaluated per
//! enterprise with `trace` as the explanation switch.

use crate::data::{each_record, relative_facts};
use crate::{Args, peak_rss_kb, percentiles};
use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value, json};
use std::fs::{self, File};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;
use zen_engine::model::DecisionContent;
use zen_engine::{Decision, DecisionEngine, EvaluationOptions, Variable};

pub fn decision() -> Result<Decision> {
    let text = fs::read_to_string("zen/grading.jdm.json")?;
    let content: DecisionContent = serde_json::from_str(&text)?;
    let mut d = DecisionEngine::default()
        .create_decision(Arc::new(content))
        .map_err(|e| anyhow!("{e:?}"))?;
    d.compile();
    d.validate().map_err(|e| anyhow!("graph: {e:?}"))?;
    Ok(d)
}

/// The graph's input: `{renewal, holds, y0 … y5}` (facts by offset from the assessment year).
pub fn input_json(rec: &Value) -> Value {
    let mut m: Map<String, Value> = relative_facts(rec);
    m.insert("renewal".into(), rec["renewal"].clone());
    m.insert("holds".into(), rec["holds"].clone());
    m.insert("as_of".into(), rec["as_of"].clone());
    Value::Object(m)
}

fn opts(trace: bool) -> EvaluationOptions {
    EvaluationOptions { trace, max_depth: 5 }
}

fn run(d: &Decision, input: Variable, trace: bool) -> Result<Variable> {
    let res = futures::executor::block_on(d.evaluate_with_opts(input, opts(trace)))
        .map_err(|e| anyhow!("{e:?}"))?;
    Ok(res.result)
}

fn summary(v: &Value, path: &str) -> Value {
    let part = &v[path];
    let s = |k: &str| match &part[k] {
        Value::Null => Value::Null,
        Value::Number(n) => json!(n.to_string()),
        other => other.clone(),
    };
    json!({"outcome": part["outcome"], "route": part["route"], "score": s("score"), "score_max": s("score_max")})
}

fn result_json(v: &Variable) -> Value {
    let v = v.to_value();
    let mut ts = summary(&v, "ts_result");
    // The score is exact when its range is a point (ladder leaves score_max out then).
    if ts["score"] == ts["score_max"] {
        ts["score_max"] = Value::Null;
    }
    let mut lg = summary(&v, "lg");
    lg["score"] = Value::Null;
    lg["score_max"] = Value::Null;
    json!({"little_giant": lg, "tech_sme": ts})
}

pub fn check(out_path: &str) -> Result<()> {
    let d = decision()?;
    fs::create_dir_all("out")?;
    let mut out = BufWriter::new(File::create(out_path)?);
    let n = each_record("data/correctness.jsonl", usize::MAX, |rec| {
        let input = input_json(&rec);
        let on = result_json(&run(&d, Variable::from(&input), true)?);
        let off = result_json(&run(&d, Variable::from(&input), false)?);
        if on != off {
            bail!("{}: trace on and off disagree", rec["id"]);
        }
        let mut line = json!({"id": rec["id"]});
        line["little_giant"] = on["little_giant"].clone();
        line["tech_sme"] = on["tech_sme"].clone();
        writeln!(out, "{line}")?;
        Ok(())
    })?;
    out.flush()?;
    eprintln!("zen: graded {n} enterprises → {out_path}");
    Ok(())
}

pub fn latency(args: &Args) -> Result<()> {
    let trace = args.get("trace", "off") == "on";
    let reps = args.num("reps", 5)?;
    let d = decision()?;
    let mut inputs = Vec::new();
    each_record("data/correctness.jsonl", usize::MAX, |rec| {
        inputs.push(input_json(&rec));
        Ok(())
    })?;
    let mut ns = Vec::with_capacity(inputs.len() * reps);
    for pass in 0..=reps {
        for input in &inputs {
            // The graph's pass-through nodes write into the context: a fresh one per call,
            // converted outside the timed region.
            let var = Variable::from(input);
            let t = Instant::now();
            let res = run(&d, var, trace)?;
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
        json!({"engine": "zen", "kind": "latency", "trace": trace, "samples": samples,
               "median_us": p50 as f64 / 1e3, "p99_us": p99 as f64 / 1e3})
    );
    Ok(())
}

/// Batch: N inputs converted to ZEN variables (untimed), then evaluated in a loop without trace.
pub fn batch(args: &Args) -> Result<()> {
    let n = args.num("n", 10_000)?;
    let d = decision()?;
    let t_load = Instant::now();
    let mut inputs: Vec<Variable> = Vec::with_capacity(n);
    let got = each_record("data/batch.jsonl", n, |rec| {
        inputs.push(Variable::from(input_json(&rec)));
        Ok(())
    })?;
    if got < n {
        bail!("data/batch.jsonl holds {got} enterprises, fewer than {n}");
    }
    let load_s = t_load.elapsed().as_secs_f64();
    let rss_loaded = peak_rss_kb();
    let mut counts = [0u64; 6];
    let mut score_sum = rust_decimal::Decimal::ZERO;
    let idx = |o: Option<&str>| match o {
        Some("eligible") => 0,
        Some("ineligible") => 1,
        _ => 2,
    };
    let t = Instant::now();
    for input in inputs.drain(..) {
        let res = run(&d, input, false)?;
        let lg = res.dot("lg.outcome");
        let ts = res.dot("ts_result.outcome");
        counts[idx(lg.as_ref().and_then(|v| v.as_str()))] += 1;
        counts[3 + idx(ts.as_ref().and_then(|v| v.as_str()))] += 1;
        score_sum += res.dot("ts_result.score").and_then(|v| v.as_number()).unwrap_or_default();
    }
    let eval_s = t.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"engine": "zen", "kind": "batch", "mode": "materialised", "n": n, "eval_s": eval_s,
               "per_sec": n as f64 / eval_s, "load_s": load_s, "peak_rss_kb": peak_rss_kb(),
               "rss_after_load_kb": rss_loaded,
               "tally": {"lg": &counts[..3], "ts": &counts[3..], "ts_score_sum": score_sum.normalize().to_string()}})
    );
    Ok(())
}
