//! Grading speed: one enterprise against each shipped rule set (trace on and off), and one
//! enterprise against every tier. Rule sets are compiled once outside the timed loop; the
//! sample enterprise of each rule set is the first case file written for it.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ladder::engine::{self, FactSheet, Input, RuleSet};
use serde_json::Value;

struct Sample {
    name: String,
    rs: RuleSet,
    facts: FactSheet,
    holds: Vec<String>,
    as_of: NaiveDate,
}

fn read(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

fn samples() -> Vec<Sample> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for path in files(&root.join("rulesets")) {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rs = engine::compile(&read(&path)).unwrap_or_else(|ps| panic!("{name}: {ps:?}"));
        let case = files(&root.join("cases").join(rs.tier()))
            .into_iter()
            .map(|p| read(&p))
            .find(|c| c["ruleset"].as_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no case for {name}"));
        let holds = case["holds"].as_array().map_or_else(Vec::new, |a| {
            a.iter()
                .filter_map(|h| h.as_str().map(str::to_owned))
                .collect()
        });
        let as_of = case["as_of"]
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .unwrap_or_else(|| panic!("{name}: bad as_of"));
        let facts =
            FactSheet::parse(&case["facts"], as_of).unwrap_or_else(|ps| panic!("{name}: {ps:?}"));
        out.push(Sample {
            name,
            rs,
            facts,
            holds,
            as_of,
        });
    }
    out
}

fn per_rule_set(c: &mut Criterion) {
    let samples = samples();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    for s in &samples {
        let input = Input {
            as_of: s.as_of,
            facts: s.facts.view(),
            holds: &s.holds,
            renewal: false,
            pool: None,
        };
        for trace in [true, false] {
            let id = format!("{}/trace_{}", s.name, if trace { "on" } else { "off" });
            group.bench_function(id, |b| {
                b.iter(|| black_box(engine::evaluate(&s.rs, black_box(&input), trace)))
            });
        }
        // What the API answers since issue 13: the trace plus sentences, shortfalls and steps.
        group.bench_function(format!("{}/explained", s.name), |b| {
            b.iter(|| black_box(engine::evaluate_explained(&s.rs, black_box(&input))))
        });
        // What a client waits for: the result graded and written as JSON, with the trace
        // alone and explained (the sentences are written during serialization).
        let mut buf = Vec::with_capacity(1 << 16);
        group.bench_function(format!("{}/trace_on_json", s.name), |b| {
            b.iter(|| {
                buf.clear();
                let e = engine::evaluate(&s.rs, black_box(&input), true);
                if let Err(err) = serde_json::to_writer(&mut buf, &e) {
                    panic!("serialize: {err}");
                }
                black_box(buf.len())
            })
        });
        group.bench_function(format!("{}/explained_json", s.name), |b| {
            b.iter(|| {
                buf.clear();
                let e = engine::evaluate_explained(&s.rs, black_box(&input));
                if let Err(err) = serde_json::to_writer(&mut buf, &e) {
                    panic!("serialize: {err}");
                }
                black_box(buf.len())
            })
        });
    }
    group.finish();
}

fn every_tier(c: &mut Criterion) {
    let samples = samples();
    let Some(lg) = samples.iter().find(|s| s.name == "little_giant-2026") else {
        panic!("little_giant-2026 is not shipped");
    };
    let holds = vec![
        "srdi_sme".to_owned(),
        "tech_innovative_sme".to_owned(),
        "smart_factory_basic".to_owned(),
    ];
    let input = Input {
        as_of: lg.as_of,
        facts: lg.facts.view(),
        holds: &holds,
        renewal: false,
        pool: None,
    };
    let in_force: Vec<&RuleSet> = samples
        .iter()
        .map(|s| &s.rs)
        .filter(|rs| rs.in_force_on(lg.as_of))
        .collect();
    let mut group = c.benchmark_group("one_enterprise_every_tier");
    group.throughput(Throughput::Elements(in_force.len() as u64));
    for trace in [true, false] {
        group.bench_function(
            format!(
                "{}_rule_sets/trace_{}",
                in_force.len(),
                if trace { "on" } else { "off" }
            ),
            |b| {
                b.iter(|| {
                    for rs in &in_force {
                        black_box(engine::evaluate(rs, black_box(&input), trace));
                    }
                })
            },
        );
    }
    group.bench_function(format!("{}_rule_sets/explained", in_force.len()), |b| {
        b.iter(|| {
            for rs in &in_force {
                black_box(engine::evaluate_explained(rs, black_box(&input)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, per_rule_set, every_tier);
criterion_main!(benches);
