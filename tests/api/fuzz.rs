//! Issue 11 item 1, proved by properties: arbitrary JSON fact sheets (catalog codes and junk,
//! 28-digit and out-of-range decimals, years from i32::MIN to i32::MAX, nulls, strings, nested
//! junk) thrown at the parse + evaluate path over every shipped rule set, and at the HTTP
//! routes that take inline facts (`POST /evaluations`, `POST /rulesets/{id}/test`): no panic,
//! no 500.
//!
//! Each property runs `PROPTEST_CASES` inputs (default a few hundred to a few thousand, so
//! `cargo test` stays quick); `.ci/run` sets it for the long run.

use crate::helpers::TestApp;
use chrono::NaiveDate;
use ladder::catalog::{INDICATORS, Kind};
use ladder::engine::{self, FactSheet, Input, Pool, RuleSet};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(default: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Decimal texts around every edge a decimal has, and past them.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "79228162514264337593543950336",
            "7922816251426433759354395033.5",
            "0.0000000000000000000000000001",
            "-0.0000000000000000000000000001",
            "0.00000000000000000000000000001",
            "1.0000000000000000000000000001",
            "0", "-0", "0.0", "1", "-1", "3", "100", "100.0000000001", "1e28", "1e-28", "1e29",
            "1e400", "-1e400", "1E+3", "99999999999999999999999999999999", "NaN", "inf", "1_000",
            "", " ", "+5", "--1", ".5", "5.", "0x10",
        ])
        .prop_map(str::to_string),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        2 => (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s).to_string()),
        2 => (any::<u128>(), 0u32..=28, any::<bool>()).prop_map(|(m, s, neg)| {
            let m = (m % (1u128 << 96)) as i128;
            Decimal::from_i128_with_scale(if neg { -m } else { m }, s).to_string()
        }),
        1 => "-?[0-9]{1,40}(\\.[0-9]{0,32})?(e-?[0-9]{1,3})?",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => Just(Value::Null),
        2 => any::<bool>().prop_map(Value::Bool),
        // A JSON number keeps every digit (serde_json's arbitrary_precision).
        4 => number_text().prop_map(|t| serde_json::from_str::<Value>(&t).unwrap_or(Value::String(t))),
        3 => number_text().prop_map(Value::String),
        1 => ".{0,12}".prop_map(Value::String),
    ]
}

fn junk() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A value shaped for its indicator (so many sheets pass and reach the engine), at the edges
/// of its range and of a decimal.
fn typed_value(
    kind: Kind,
    min: Option<&'static str>,
    max: Option<&'static str>,
) -> BoxedStrategy<Value> {
    let num = |s: String| serde_json::from_str::<Value>(&s).unwrap_or(Value::String(s));
    match kind {
        Kind::Bool => prop_oneof![9 => any::<bool>().prop_map(Value::Bool), 1 => leaf()].boxed(),
        _ => {
            let mut edges = vec![
                "0".to_string(),
                "1".to_string(),
                "79228162514264337593543950335".to_string(),
                "3".to_string(),
                "2.5".to_string(),
            ];
            if !kind.integral() {
                edges.push("0.0000000000000000000000000001".into());
                edges.push("7922816251426433759354395033.5".into());
                edges.push("120.189".into());
            }
            if min.is_none() {
                edges.push("-79228162514264337593543950335".into());
                edges.push("-0.0000000000000000000000000001".into());
            }
            edges.extend(min.map(str::to_string));
            edges.extend(max.map(str::to_string));
            let bound = max.and_then(|m| m.parse::<i64>().ok()).unwrap_or(i64::MAX);
            prop_oneof![
                4 => prop::sample::select(edges).prop_map(num),
                4 => (0..=bound).prop_map(move |n| num(n.to_string())),
                1 => (0..=bound, 1u32..=28).prop_map(move |(n, s)| Value::String(Decimal::new(n, s).to_string())),
                1 => leaf(),
            ]
            .boxed()
        }
    }
}

fn code_value() -> impl Strategy<Value = (String, Value)> {
    let typed =
        prop::sample::select((0..INDICATORS.len()).collect::<Vec<_>>()).prop_flat_map(|i| {
            let ind = &INDICATORS[i];
            typed_value(ind.kind, ind.min, ind.max).prop_map(move |v| (ind.code.to_string(), v))
        });
    prop_oneof![
        17 => typed,
        2 => (prop::sample::select(INDICATORS.iter().map(|i| i.code.to_string()).collect::<Vec<_>>()), junk()),
        1 => ("[a-z_]{0,20}|.{0,8}", junk()),
    ]
}

fn year_key() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (2015i32..=2027).prop_map(|y| y.to_string()),
        2 => prop::sample::select(vec![
            "2147483647", "-2147483648", "0", "1989", "1990", "9999", "02025", "+2025", " 2025",
            "2025.0", "4294967295", "2028", "-1", "",
        ])
        .prop_map(str::to_string),
        1 => any::<i32>().prop_map(|y| y.to_string()),
        1 => ".{0,6}",
    ]
}

fn row() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => prop::collection::vec(code_value(), 0..10)
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        1 => junk(),
    ]
}

/// An arbitrary fact sheet document: mostly `{year: {code: value}}`, sometimes junk.
fn sheet() -> impl Strategy<Value = Value> {
    prop_oneof![
        15 => prop::collection::vec((year_key(), row()), 0..5)
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        1 => junk(),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (2016i32..=2028, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn shipped_rulesets() -> Vec<RuleSet> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rulesets");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        out.push(engine::compile(&doc).unwrap_or_else(|e| panic!("{path:?}: {e:?}")));
    }
    assert!(out.len() >= 10, "{} rule sets", out.len());
    out
}

/// (a) Parse + evaluate, every shipped rule set, with and without trace, ranked against a pool
/// of other arbitrary sheets: parsing either names a problem or yields a sheet that grades.
#[test]
fn fuzz_arbitrary_sheets_parse_and_grade_without_panic() {
    let sets = shipped_rulesets();
    let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let graded = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    let holds = prop::collection::vec(
        prop::sample::select(vec!["srdi_sme", "little_giant", "innovative_sme", "x"])
            .prop_map(str::to_string),
        0..3,
    );
    let strategy = (
        sheet(),
        prop::collection::vec(sheet(), 0..3),
        date(),
        holds,
        any::<bool>(),
    );
    let mut run = runner(3000);
    let result = run.run(&strategy, |(doc, pool_docs, as_of, holds, renewal)| {
        total.fetch_add(1, Ordering::Relaxed);
        let sheet = match FactSheet::parse(&doc, today) {
            Ok(s) => s,
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                prop_assert!(problems.iter().all(|p| p.field.starts_with("facts")));
                return Ok(());
            }
        };
        graded.fetch_add(1, Ordering::Relaxed);
        let others: Vec<FactSheet> = pool_docs
            .iter()
            .filter_map(|d| FactSheet::parse(d, today).ok())
            .collect();
        for rs in &sets {
            let pool = Pool::build(
                rs,
                as_of,
                others
                    .iter()
                    .chain(std::iter::once(&sheet))
                    .map(FactSheet::view),
            );
            for (trace, pool) in [(true, Some(&pool)), (false, Some(&pool)), (true, None)] {
                let input = Input {
                    as_of,
                    facts: sheet.view(),
                    holds: &holds,
                    renewal,
                    pool,
                };
                let ev = engine::evaluate(rs, &input, trace);
                prop_assert!(serde_json::to_value(&ev).is_ok());
            }
        }
        Ok(())
    });
    eprintln!(
        "fuzz (engine): {} inputs, {} parsed and graded under {} rule sets",
        total.load(Ordering::Relaxed),
        graded.load(Ordering::Relaxed),
        sets.len()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// (b) The HTTP routes, through the real `App` as an actix test service: no input gives a 500
/// (a panic would fail the property outright).
#[test]
fn fuzz_arbitrary_sheets_never_500_over_http() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let tiers = [
        "srdi_sme",
        "little_giant",
        "innovative_sme",
        "innovation_points",
        "tech_sme",
        "single_champion",
        "smart_factory_basic",
        "tech_innovative_sme",
    ];
    let ids: Vec<i64> = tiers
        .iter()
        .map(|t| app.published_ruleset(&admin, t))
        .filter(|id| *id > 0)
        .collect();
    assert!(ids.len() >= 5, "{ids:?}");
    let sys = actix_web::rt::System::new();
    let svc = sys.block_on(actix_web::test::init_service(ladder::app(
        app.state.clone(),
    )));
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let as_of = prop_oneof![
        9 => date().prop_map(|d| json!(d.to_string())),
        1 => junk(),
    ];
    let evaluation = (
        prop::sample::select(tiers.to_vec()),
        as_of.clone(),
        sheet(),
        prop::option::of(prop::collection::vec("[a-z_]{0,12}", 0..3)),
    )
        .prop_map(|(tier, as_of, facts, holds)| {
            let mut b = json!({"tier": tier, "as_of": as_of, "facts": facts});
            if let Some(h) = holds {
                b["holds"] = json!(h);
            }
            ("/api/v1/evaluations".to_string(), b)
        });
    let case = (
        as_of,
        sheet(),
        prop::option::of(prop::collection::vec(sheet(), 0..3)),
    )
        .prop_map(|(as_of, facts, pool)| {
            let mut c =
                json!({"as_of": as_of, "facts": facts, "expected": {"outcome": "eligible"}});
            if let Some(p) = pool {
                c["pool"] = json!(p);
            }
            c
        });
    let case_run =
        (prop::sample::select(ids), prop::collection::vec(case, 1..3)).prop_map(|(id, cases)| {
            (
                format!("/api/v1/rulesets/{id}/test"),
                json!({"cases": cases}),
            )
        });
    let strategy = prop_oneof![evaluation, case_run];
    let mut run = runner(600);
    let result = run.run(&strategy, |(path, b)| {
        let req = actix_web::test::TestRequest::post()
            .uri(&path)
            .peer_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 40000)))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .set_json(&b)
            .to_request();
        let resp = sys.block_on(actix_web::test::call_service(&svc, req));
        let status = resp.status().as_u16();
        *statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(status)
            .or_default() += 1;
        prop_assert!(status < 500, "{path}: {status} for {b}");
        Ok(())
    });
    eprintln!(
        "fuzz (HTTP): statuses {:?}",
        statuses.lock().unwrap_or_else(|e| e.into_inner())
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
