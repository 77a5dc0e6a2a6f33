//! Unit tests of the engine as a whole: compile problems with their paths, and the
//! incomplete-versus-ineligible rules of API.md.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::*;

fn problems(doc: &Value) -> Vec<(String, String)> {
    match compile(doc) {
        Ok(_) => Vec::new(),
        Err(ps) => ps.into_iter().map(|p| (p.path, p.code)).collect(),
    }
}

fn has(ps: &[(String, String)], path: &str, code: &str) -> bool {
    ps.iter().any(|(p, c)| p == path && c == code)
}

fn doc(criteria: Value) -> Value {
    json!({
        "tier": "t", "version": 1, "name": "test", "effective_from": "2024-01-01", "effective_to": null,
        "pass_mark": 60, "pass_source": "test",
        "criteria": criteria
    })
}

fn crit(id: &str, extra: Value) -> Value {
    let mut c = json!({"id": id, "label_zh": "测试", "label_en": "test", "source": "test", "confirmed": true});
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    c
}

#[test]
fn unknown_fact_code_is_reported_at_its_path() {
    let ps = problems(&doc(json!([
        crit(
            "a",
            json!({"test": {"cmp": [{"fact": "rd_expense", "year": -1}, ">=", 1]}})
        ),
        crit(
            "b",
            json!({"test": {"all": [{"cmp": [{"fact": "rd_expenses", "year": -1}, ">=", 1]}]}})
        )
    ])));
    assert!(
        has(&ps, "$.criteria[1].test.all[0].cmp[0].fact", "unknown_fact"),
        "{ps:?}"
    );
}

#[test]
fn band_gap_and_overlap_are_reported_at_the_band() {
    let pts = |bands: Value| {
        crit(
            "p",
            json!({"points": {"value": {"fact": "rd_expense", "year": -1}, "bands": bands}}),
        )
    };
    let gap = problems(&doc(json!([pts(json!([
        {"range": "[5,)", "points": 20}, {"range": "[3,4)", "points": 10}, {"range": "(,3)", "points": 0}
    ]))])));
    assert!(
        has(&gap, "$.criteria[0].points.bands[0].range", "band_gap"),
        "{gap:?}"
    );
    let overlap = problems(&doc(json!([pts(json!([
        {"range": "[5,)", "points": 20}, {"range": "[3,5]", "points": 10}, {"range": "(,3)", "points": 0}
    ]))])));
    assert!(
        has(
            &overlap,
            "$.criteria[0].points.bands[0].range",
            "band_overlap"
        ),
        "{overlap:?}"
    );
    let open_end = problems(&doc(json!([pts(
        json!([{"range": "[0,5)", "points": 20}])
    )])));
    assert!(
        open_end.iter().filter(|(_, c)| c == "band_gap").count() == 2,
        "{open_end:?}"
    );
    let bad = problems(&doc(json!([pts(json!([{"range": "[,5)", "points": 20}]))])));
    assert!(
        has(&bad, "$.criteria[0].points.bands[0].range", "bad_bounds"),
        "{bad:?}"
    );
}

#[test]
fn type_errors_duplicates_and_dates_are_all_reported() {
    let mut d = doc(json!([
        crit(
            "a",
            json!({"test": {"cmp": [{"fact": "rd_expense", "year": -1}, ">=", "lots"]}})
        ),
        crit(
            "a",
            json!({"test": {"cmp": [{"fact": "high_tech_enterprise", "year": -1}, ">=", 1]}})
        ),
        crit("c", json!({"test": {"flag": "rd_expense", "year": -1}})),
        crit(
            "d",
            json!({"test": {"cmp": [{"fact": "rd_expense"}, ">=", 1]}, "confirmed": "yes"})
        )
    ]));
    d["effective_to"] = json!("2023-12-31");
    d["version"] = json!("one");
    let ps = problems(&d);
    assert!(has(&ps, "$.criteria[0].test.cmp[2]", "type"), "{ps:?}");
    assert!(has(&ps, "$.criteria[1].id", "duplicate_id"), "{ps:?}");
    assert!(has(&ps, "$.criteria[1].test.cmp[0].fact", "type"), "{ps:?}");
    assert!(has(&ps, "$.criteria[2].test.flag", "type"), "{ps:?}");
    assert!(
        has(&ps, "$.criteria[3].test.cmp[0].year", "required"),
        "{ps:?}"
    );
    assert!(has(&ps, "$.criteria[3].confirmed", "type"), "{ps:?}");
    assert!(has(&ps, "$.effective_to", "bad_dates"), "{ps:?}");
    assert!(has(&ps, "$.version", "type"), "{ps:?}");
}

#[test]
fn unknown_fields_are_rejected() {
    let ps = problems(&doc(json!([crit(
        "a",
        json!({"tset": {}, "test": {"holds": "srdi_sme"}})
    )])));
    assert!(has(&ps, "$.criteria[0].tset", "unknown_field"), "{ps:?}");
}

/// Two scored criteria (max 50 each, pass 60) plus one required test and one direct route.
fn scored() -> RuleSet {
    let bands = |code: &str| {
        json!({"value": {"fact": code, "year": -1}, "bands": [
            {"range": "[10,)", "points": 50}, {"range": "[5,10)", "points": 30}, {"range": "(,5)", "points": 0}
        ]})
    };
    let d = doc(json!([
        crit(
            "required",
            json!({"test": {"flag": "abnormal_listed", "year": 0, "is": false}})
        ),
        crit("a", json!({"points": bands("ip_class1")})),
        crit("b", json!({"points": bands("ip_class2")})),
        crit(
            "direct",
            json!({"route": "direct", "test": {"flag": "high_tech_enterprise", "year": -1}})
        )
    ]));
    match compile(&d) {
        Ok(rs) => rs,
        Err(ps) => panic!("{ps:?}"),
    }
}

fn grade(rs: &RuleSet, facts: Value) -> (Outcome, Option<Route>, Vec<String>) {
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
    let table = match FactSheet::parse(&facts, as_of) {
        Ok(t) => t,
        Err(ps) => panic!("{ps:?}"),
    };
    let input = Input {
        as_of,
        facts: table.view(),
        holds: &[],
        renewal: false,
        pool: None,
    };
    let full = evaluate(rs, &input, true);
    let quick = evaluate(rs, &input, false);
    assert_eq!(
        (full.outcome, full.route, full.score, &full.missing),
        (quick.outcome, quick.route, quick.score, &quick.missing)
    );
    (full.outcome, full.route, full.missing)
}

#[test]
fn a_failed_requirement_wins_over_missing_facts() {
    let rs = scored();
    let (o, r, missing) = grade(&rs, json!({"2026": {"abnormal_listed": true}}));
    assert_eq!((o, r), (Outcome::Ineligible, None));
    // The missing facts are still listed: they leave criteria open, not the outcome.
    assert!(
        missing.contains(&"2025.ip_class1".to_owned()),
        "{missing:?}"
    );
}

#[test]
fn a_score_that_cannot_reach_the_pass_mark_is_ineligible() {
    let rs = scored();
    // a = 0; b missing could bring at most 50 < 60; the direct route is decided (false).
    let (o, _, _) = grade(
        &rs,
        json!({"2025": {"ip_class1": 1, "high_tech_enterprise": false}, "2026": {"abnormal_listed": false}}),
    );
    assert_eq!(o, Outcome::Ineligible);
}

#[test]
fn a_score_that_could_still_pass_is_incomplete() {
    let rs = scored();
    let (o, _, missing) = grade(
        &rs,
        json!({"2025": {"ip_class1": 10, "high_tech_enterprise": false}, "2026": {"abnormal_listed": false}}),
    );
    assert_eq!(o, Outcome::Incomplete);
    assert_eq!(missing, ["2025.ip_class2"]);
}

#[test]
fn a_score_already_at_the_pass_mark_is_eligible_despite_missing_points() {
    let rs = scored();
    let d = doc(json!([
        crit(
            "a",
            json!({"points": {"value": {"fact": "ip_class1", "year": -1}, "bands": [
        {"range": "[10,)", "points": 60}, {"range": "(,10)", "points": 0}]}})
        ),
        crit(
            "b",
            json!({"points": {"value": {"fact": "ip_class2", "year": -1}, "bands": [
        {"range": "[10,)", "points": 40}, {"range": "(,10)", "points": 0}]}})
        )
    ]));
    let rs2 = compile(&d).unwrap_or_else(|ps| panic!("{ps:?}"));
    let (o, r, missing) = grade(&rs2, json!({"2025": {"ip_class1": 10}}));
    assert_eq!((o, r), (Outcome::Eligible, Some(Route::Standard)));
    assert_eq!(missing, ["2025.ip_class2"]);
    // And the same for a direct route: eligible although the score is open.
    let (o, r, _) = grade(
        &rs,
        json!({"2025": {"high_tech_enterprise": true}, "2026": {"abnormal_listed": false}}),
    );
    assert_eq!((o, r), (Outcome::Eligible, Some(Route::Direct)));
}

#[test]
fn absent_ranks_are_no_rank_but_absent_flags_are_missing() {
    let d = doc(json!([
        crit(
            "rank",
            json!({"route": "direct", "test": {"cmp": [{"fact": "domestic_rank", "year": -1}, "<=", 3]}})
        ),
        crit(
            "flag",
            json!({"test": {"flag": "dishonest_listed", "year": 0, "is": false}})
        )
    ]));
    let mut d = d;
    d["pass_mark"] = Value::Null;
    let rs = compile(&d).unwrap_or_else(|ps| panic!("{ps:?}"));
    // No rank: the only route fails, whatever the missing flag would say.
    let (o, _, missing) = grade(&rs, json!({}));
    assert_eq!(o, Outcome::Ineligible);
    assert_eq!(missing, ["2026.dishonest_listed"]);
    // With a rank, the missing flag decides: incomplete.
    let (o, _, missing) = grade(&rs, json!({"2025": {"domestic_rank": 2}}));
    assert_eq!(o, Outcome::Incomplete);
    assert_eq!(missing, ["2026.dishonest_listed"]);
}

#[test]
fn the_three_percent_boundary_is_exact() {
    let d = doc(json!([crit(
        "rd",
        json!({"test": {"cmp": [
        {"ratio": [{"fact": "rd_expense", "year": -1}, {"fact": "operating_revenue", "year": -1}]}, ">=", 3]}})
    )]));
    let mut d = d;
    d["pass_mark"] = Value::Null;
    let rs = compile(&d).unwrap_or_else(|ps| panic!("{ps:?}"));
    let (o, _, _) = grade(
        &rs,
        json!({"2025": {"rd_expense": "120.189", "operating_revenue": "4006.3"}}),
    );
    assert_eq!(o, Outcome::Eligible);
    let (o, _, _) = grade(
        &rs,
        json!({"2025": {"rd_expense": "120.1889", "operating_revenue": "4006.3"}}),
    );
    assert_eq!(o, Outcome::Ineligible);
}

/// Issue 11: a growth of −(2⁹⁶ − 1) against 2⁹⁶ − 1 overflowed `b − a` and panicked; a sum and
/// a ratio × 100 past a decimal's range saturated or panicked. Built past the sheet's checks
/// (net profit may be negative; the catalog sets no upper bound on amounts), each is now an
/// undefined value: the test fails, nothing panics.
#[test]
fn overflow_is_an_undefined_value_not_a_panic() {
    let d = doc(json!([
        crit(
            "growth",
            json!({"test": {"cmp": [{"growth": "net_profit", "from": -2, "to": -1}, ">=", -100]}})
        ),
        crit(
            "sum",
            json!({"test": {"cmp": [{"sum": "operating_revenue", "years": [-2, -1]}, ">=", 0]}})
        ),
        crit(
            "ratio",
            json!({"test": {"cmp": [{"ratio": [{"fact": "operating_revenue", "year": -1}, {"fact": "rd_expense", "year": -1}]}, ">=", 0]}})
        ),
        crit(
            "cagr",
            json!({"test": {"cmp": [{"cagr": "operating_revenue", "from": -3, "to": -1}, ">=", 0]}})
        ),
    ]));
    let rs = match compile(&d) {
        Ok(rs) => rs,
        Err(ps) => panic!("{ps:?}"),
    };
    let max = "79228162514264337593543950335";
    let facts = json!({
        "2023": {"operating_revenue": "0.0000000000000000000000000001", "net_profit": max},
        "2024": {"operating_revenue": max, "net_profit": max},
        "2025": {"operating_revenue": max, "net_profit": format!("-{max}"), "rd_expense": "0.0000000000000000000000000001"}
    });
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
    let sheet = match FactSheet::parse(&facts, as_of) {
        Ok(s) => s,
        Err(ps) => panic!("{ps:?}"),
    };
    let input = Input {
        as_of,
        facts: sheet.view(),
        holds: &[],
        renewal: false,
        pool: None,
    };
    let ev = evaluate(&rs, &input, true);
    let passed: Vec<(&str, Option<bool>)> = ev
        .criteria
        .iter()
        .filter(|c| c.id != "score")
        .map(|c| (c.id, c.passed))
        .collect();
    assert_eq!(
        passed,
        [
            ("growth", Some(false)),
            ("sum", Some(false)),
            ("ratio", Some(false)),
            ("cagr", Some(false)),
        ]
    );
    assert_eq!(ev.outcome, Outcome::Ineligible);
    assert!(
        ev.criteria
            .iter()
            .filter(|c| c.id != "score")
            .all(|c| c.actual.and_then(|a| a.decimal()).is_none())
    );
}
