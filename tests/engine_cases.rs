//! Runs every case file under `fixtures/cases/<tier>/` against the shipped rule sets in
//! `fixtures/rulesets/`, choosing the rule set in force on the case's `as_of`, and reports all
//! failures together.

// A panic is how a test fails: test code (helpers included) may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ladder::engine::{self, RuleSet};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    out.sort();
    out
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("parse: {e}"))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap()
}

/// Every shipped rule set, compiled; panics listing every problem of every file.
fn load_rulesets() -> Vec<(String, RuleSet)> {
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for path in json_files(&fixtures().join("rulesets")) {
        let name = stem(&path);
        match read_json(&path).map_err(|e| vec![e]).and_then(|doc| {
            engine::compile(&doc).map_err(|ps| ps.iter().map(ToString::to_string).collect())
        }) {
            Ok(rs) => {
                if !name.starts_with(&format!("{}-", rs.tier())) {
                    failures.push(format!(
                        "{name}: file name does not start with its tier `{}`",
                        rs.tier()
                    ));
                }
                out.push((name, rs));
            }
            Err(problems) => failures.push(format!("{name}:\n    {}", problems.join("\n    "))),
        }
    }
    assert!(
        failures.is_empty(),
        "rule sets that do not compile:\n{}",
        failures.join("\n")
    );
    out
}

#[test]
fn every_shipped_rule_set_compiles_and_tiers_do_not_overlap() {
    let sets = load_rulesets();
    assert!(
        sets.len() >= 13,
        "expected every shipped rule set, found {}",
        sets.len()
    );
    for (i, (a_name, a)) in sets.iter().enumerate() {
        for (b_name, b) in &sets[i + 1..] {
            assert!(
                a.tier() != b.tier() || !a.overlaps(b),
                "{a_name} and {b_name} are in force on overlapping dates"
            );
        }
    }
}

/// Runs one case file: picks the rule set of its tier in force on `as_of`, checks that it is the
/// file the case names, then lets `engine::cases::check` compare the result with `expected`.
fn run_case(path: &Path, tier: &str, sets: &[(String, RuleSet)]) -> Vec<String> {
    let case = match read_json(path) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let Some(as_of) = case["as_of"]
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    else {
        return vec!["`as_of` is missing or not a date".into()];
    };
    let mut errs = Vec::new();
    if case["description"].as_str().is_none_or(str::is_empty) {
        errs.push("`description` is missing".into());
    }
    let in_force: Vec<&(String, RuleSet)> = sets
        .iter()
        .filter(|(_, rs)| rs.tier() == tier && rs.in_force_on(as_of))
        .collect();
    let [(name, rs)] = in_force.as_slice() else {
        return vec![format!(
            "{} rule sets of tier `{tier}` in force on {as_of}",
            in_force.len()
        )];
    };
    if case["ruleset"].as_str() != Some(name.as_str()) {
        errs.push(format!(
            "selected rule set {name}, case expects {}",
            case["ruleset"]
        ));
    }
    // Facts are checked as of the case's own date: none may lie past the year after it.
    errs.extend(engine::cases::check(rs, &case, as_of));
    errs
}

#[test]
fn every_case_file_passes() {
    let sets = load_rulesets();
    let mut failures = Vec::new();
    let mut count = 0;
    let cases_dir = fixtures().join("cases");
    let mut tiers: Vec<PathBuf> = match fs::read_dir(&cases_dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(e) => panic!("cannot read {}: {e}", cases_dir.display()),
    };
    tiers.sort();
    for dir in tiers {
        let tier = dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap();
        for path in json_files(&dir) {
            count += 1;
            let errs = run_case(&path, &tier, &sets);
            if !errs.is_empty() {
                failures.push(format!(
                    "{tier}/{}:\n    {}",
                    stem(&path),
                    errs.join("\n    ")
                ));
            }
        }
    }
    assert!(count > 0, "no case files found");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_set_has_at_least_eight_cases() {
    let sets = load_rulesets();
    let mut short = Vec::new();
    for (name, rs) in &sets {
        let dir = fixtures().join("cases").join(rs.tier());
        let n = if dir.is_dir() {
            json_files(&dir)
                .iter()
                .filter(|p| {
                    read_json(p).is_ok_and(|c| c["ruleset"].as_str() == Some(name.as_str()))
                })
                .count()
        } else {
            0
        };
        if n < 8 {
            short.push(format!("{name}: {n} cases"));
        }
    }
    assert!(
        short.is_empty(),
        "rule sets with fewer than 8 cases:\n{}",
        short.join("\n")
    );
}

#[test]
fn embedded_cases_match_the_files() {
    let mut on_disk: Vec<String> = Vec::new();
    if let Ok(rd) = fs::read_dir(fixtures().join("cases")) {
        for dir in rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
        {
            let tier = dir
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap();
            on_disk.extend(
                json_files(&dir)
                    .iter()
                    .map(|p| format!("{tier}/{}", stem(p))),
            );
        }
    }
    on_disk.sort();
    let mut embedded: Vec<String> = engine::cases::shipped_names();
    embedded.sort();
    assert_eq!(
        embedded, on_disk,
        "the embedded cases differ from fixtures/cases"
    );
}
