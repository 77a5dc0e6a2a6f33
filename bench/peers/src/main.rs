//! Peer benchmarks for ladder's grading engine (issue 7): the workload generator, the golden
//! file (ladder's outcomes), and the ladder and GoRules ZEN runners. The Python (OpenFisca) and
//! Node (json-rules-engine) runners live next to this crate; `run` drives everything.
//!
//! Subcommands (all paths relative to bench/peers):
//!   gen     --n N --seed S                write data/batch.jsonl (N synthetic enterprises) and
//!                                         data/correctness.jsonl (first 10,000 + boundary cases)
//!   golden                                ladder → data/golden.jsonl
//!   check   ladder|zen                    grade data/correctness.jsonl → out/<engine>.jsonl
//!   latency ladder|zen --trace on|off     single-evaluation latency (median, p99)
//!   batch   ladder|zen --n N [--stream]   throughput over N enterprises; peak RSS

mod data;
mod ladder_run;
mod zen_run;

use anyhow::{Context, Result, bail};
use std::collections::HashMap;

pub(crate) struct Args {
    pos: Vec<String>,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse() -> Args {
        let mut pos = Vec::new();
        let mut opts = HashMap::new();
        let mut it = std::env::args().skip(1).peekable();
        while let Some(a) = it.next() {
            if let Some(k) = a.strip_prefix("--") {
                let v = match it.peek() {
                    Some(n) if !n.starts_with("--") => it.next().unwrap_or_default(),
                    _ => "true".to_owned(),
                };
                opts.insert(k.to_owned(), v);
            } else {
                pos.push(a);
            }
        }
        Args { pos, opts }
    }
    pub(crate) fn get(&self, k: &str, default: &str) -> String {
        self.opts.get(k).cloned().unwrap_or_else(|| default.to_owned())
    }
    pub(crate) fn num(&self, k: &str, default: usize) -> Result<usize> {
        self.get(k, &default.to_string())
            .replace('_', "")
            .parse()
            .with_context(|| format!("--{k}"))
    }
}

/// Peak resident set size of this process (kB), from /proc.
pub(crate) fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Median and p99 of per-call latencies, in nanoseconds.
pub(crate) fn percentiles(mut ns: Vec<u64>) -> (u64, u64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let cmd = args.pos.first().map(String::as_str).unwrap_or("");
    let engine = args.pos.get(1).map(String::as_str).unwrap_or("");
    match (cmd, engine) {
        ("gen", _) => data::generate(args.num("n", 1_000_000)?, args.num("seed", 20260601)? as u64),
        ("golden", _) => ladder_run::check("data/golden.jsonl"),
        ("check", "ladder") => ladder_run::check("out/ladder.jsonl"),
        ("check", "zen") => zen_run::check("out/zen.jsonl"),
        ("latency", "ladder") => ladder_run::latency(&args),
        ("latency", "zen") => zen_run::latency(&args),
        ("batch", "ladder") => ladder_run::batch(&args),
        ("batch", "zen") => zen_run::batch(&args),
        ("profile", "ladder") => ladder_run::profile(&args),
        _ => bail!("usage: peers gen|golden|check|latency|batch [ladder|zen] [--options]"),
    }
}
