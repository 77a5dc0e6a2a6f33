//! The officials' tools over HTTP on a small world counted by hand: the cultivation pool's
//! order and shortfalls, the forecast's verdicts and the impact of a rule change.
//!
//! The world: a test tier `cultivation_test` with one rule set in force from 2026-01-01:
//!   base      `clean`    2026 dishonest_listed is false (the current-year flag)
//!   standard  `revenue`  2025 operating_revenue >= 1000
//!   standard  `rd`       2025 rd_expense >= 100
//!   points    `staff`    2025 employees: [100,) 60 · [50,100) 30 · else 0
//!   points    `patents`  2025 ip_class2: [10,) 40 · [5,10) 10 · else 0
//!   pass mark 60 (standard route); direct `ip`: 2025 ip_class1 >= 5.
//! Graded on 2026-06-30. Ten enterprises, created in this order (ids ascending):
//!   e1 铁西 rev 2000 rd 200 staff 120 ip2 12 ip1 5 → 100 points, standard and direct: eligible
//!   e2 铁西 rev 1500 rd 150 staff 120 ip2 0        → 60 points, standard only: eligible
//!   e3 浑南 rev 500  rd 10  staff 10  ip1 6        → direct only: eligible
//!   e4 浑南 rev 900  rd 150 staff 120              → fails revenue (needs 1000: gap 100, 0.1)
//!   e5 铁西 rev 1000 rd 50  staff 120              → fails rd (needs 100: gap 50, 0.5)
//!   e6 铁西 rev 800  rd 80  staff 60               → fails revenue (0.2), rd (0.2), score
//!                                                    (30 of 60: 0.5) → 3 failed, 0.9
//!   e7 铁西 like e1 but no ip1, holds the title (issued 2026-03-15) → not in the pool
//!   e8 铁西 like e2 but dishonest_listed          → fails clean (a flag: no shortfall, 1)
//!   e9 浑南 no facts                               → incomplete, nothing failed
//!   e10 浑南 rev 1200 rd 120 staff 120 ip2 6       → 70 points, standard only: eligible

use crate::helpers::{TestApp, body, uscc};
use serde_json::{Value, json};

const TIER: &str = "cultivation_test";
const AS_OF: &str = "2026-06-30";

fn crit(id: &str, route: &str, test: Value) -> Value {
    json!({"id": id, "label_zh": id, "label_en": id, "source": "test", "confirmed": true, "route": route, "test": test})
}

fn points(id: &str, fact: &str, bands: Value) -> Value {
    json!({"id": id, "label_zh": id, "label_en": id, "source": "test", "confirmed": true,
           "points": {"value": {"fact": fact, "year": -1}, "bands": bands}})
}

fn cmp(fact: &str, op: &str, v: i64) -> Value {
    json!({"cmp": [{"fact": fact, "year": -1}, op, v]})
}

fn document(version: i64, pass_mark: i64, from: &str) -> Value {
    json!({"tier": TIER, "version": version, "name": "培育测试", "effective_from": from, "effective_to": null,
    "pass_mark": pass_mark, "pass_source": "test",
    "criteria": [
        crit("clean", "base", json!({"flag": "dishonest_listed", "year": 0, "is": false})),
        crit("revenue", "standard", cmp("operating_revenue", ">=", 1000)),
        crit("rd", "standard", cmp("rd_expense", ">=", 100)),
        points("staff", "employees", json!([{"range": "[100,)", "points": 60}, {"range": "[50,100)", "points": 30}, {"range": "(,50)", "points": 0}])),
        points("patents", "ip_class2", json!([{"range": "[10,)", "points": 40}, {"range": "[5,10)", "points": 10}, {"range": "(,5)", "points": 0}])),
        crit("ip", "direct", cmp("ip_class1", ">=", 5)),
    ]})
}

struct World {
    app: TestApp,
    admin: String,
    official: String,
    ids: Vec<i64>,
    ruleset: i64,
}

fn facts(rev: i64, rd: i64, staff: i64, ip2: i64, ip1: i64, dishonest: bool) -> (Value, Value) {
    (
        json!({"operating_revenue": rev, "rd_expense": rd, "employees": staff, "ip_class2": ip2, "ip_class1": ip1}),
        json!({"dishonest_listed": dishonest}),
    )
}

fn world() -> World {
    let app = TestApp::spawn();
    let admin = app.admin();
    app.user("official", ladder::domain::Role::Official, None);
    let official = app.login("official");
    {
        let mut c = app.conn();
        ladder::models::reference::ensure_tier(
            &mut c,
            &ladder::models::reference::Tier {
                code: TIER.into(),
                name_zh: "培育测试".into(),
                name_en: "Cultivation test".into(),
                level: 9,
                prerequisite: None,
                validity_years: 3,
                certifier: "city".into(),
                number_prefix: "PY".into(),
                has_rules: true,
                publicity_days: 5,
            },
        )
        .unwrap();
    }
    let r = app.post(
        "/api/v1/rulesets",
        Some(&admin),
        &document(1, 60, "2026-01-01"),
    );
    assert_eq!(r.status(), 201, "{:?}", body(r));
    let ruleset = body(app.get(&format!("/api/v1/rulesets?tier={TIER}"), &admin))["items"][0]["id"]
        .as_i64()
        .unwrap();
    let r = app.post(
        &format!("/api/v1/rulesets/{ruleset}/publish"),
        Some(&admin),
        &json!({}),
    );
    assert_eq!(r.status(), 200, "{:?}", body(r));
    let tiexi = "210106";
    let hunnan = "210112";
    let people: Vec<(&str, Option<(Value, Value)>)> = vec![
        (tiexi, Some(facts(2000, 200, 120, 12, 5, false))),
        (tiexi, Some(facts(1500, 150, 120, 0, 0, false))),
        (hunnan, Some(facts(500, 10, 10, 0, 6, false))),
        (hunnan, Some(facts(900, 150, 120, 0, 0, false))),
        (tiexi, Some(facts(1000, 50, 120, 0, 0, false))),
        (tiexi, Some(facts(800, 80, 60, 0, 0, false))),
        (tiexi, Some(facts(2000, 200, 120, 12, 0, false))),
        (tiexi, Some(facts(1500, 150, 120, 0, 0, true))),
        (hunnan, None),
        (hunnan, Some(facts(1200, 120, 120, 6, 0, false))),
    ];
    let mut ids = Vec::new();
    for (n, (district, f)) in people.into_iter().enumerate() {
        let id =
            i64::from(app.enterprise(&uscc(700 + n as u32), &format!("企业{}", n + 1), district));
        if let Some((last, this)) = f {
            for (year, v) in [(2025, last), (2026, this)] {
                let r = app.put(
                    &format!("/api/v1/enterprises/{id}/facts/{year}"),
                    &admin,
                    &json!({"facts": v}),
                );
                assert!(
                    r.status().is_success(),
                    "facts of e{}: {:?}",
                    n + 1,
                    body(r)
                );
            }
        }
        ids.push(id);
    }
    // e7 holds the title since 2026-03-15.
    let r = app.post(
        "/api/v1/certifications/import",
        Some(&admin),
        &json!({"items": [{"uscc": uscc(706), "tier": TIER, "number": "PY-2026-001", "issued_on": "2026-03-15",
                           "valid_from": "2026-03-15", "valid_to": "2029-03-14", "batch": "test"}]}),
    );
    assert_eq!(r.status(), 201, "{:?}", body(r));
    World {
        app,
        admin,
        official,
        ids,
        ruleset,
    }
}

fn pos(w: &World, e: usize) -> i64 {
    w.ids[e - 1]
}

#[test]
fn the_pool_is_nearest_first_with_shortfalls() {
    let w = world();
    let r = w.app.get(
        &format!("/api/v1/cultivation?tier={TIER}&as_of={AS_OF}"),
        &w.official,
    );
    assert_eq!(r.status(), 200);
    let b = body(r);
    let order: Vec<i64> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["enterprise_id"].as_i64().unwrap())
        .collect();
    // Nothing failed: e1, e2, e3, e10 eligible (by id), then e9 incomplete; one away: e4 (0.1),
    // e5 (0.5), e8 (1, a flag); then e6 (three). e7 holds the title.
    let want: Vec<i64> = [1, 2, 3, 10, 9, 4, 5, 8, 6]
        .iter()
        .map(|e| pos(&w, *e))
        .collect();
    assert_eq!(order, want, "{b:#}");
    assert_eq!(b["total"], 9);
    let item = |e: usize| {
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["enterprise_id"] == pos(&w, e))
            .cloned()
            .unwrap()
    };
    assert_eq!(item(1)["outcome"], "eligible");
    assert_eq!(item(9)["outcome"], "incomplete");
    assert_eq!(item(9)["distance"]["failed"], 0);
    let e4 = item(4);
    assert_eq!(
        e4["failed"],
        json!([{"criterion": "revenue", "shortfall":
        {"fact": "operating_revenue", "year": 2025, "actual": 900, "needed": 1000, "gap": 100, "relative": 0.1}}])
    );
    assert_eq!(e4["distance"], json!({"failed": 1, "shortfall": 0.1}));
    assert_eq!(item(5)["distance"], json!({"failed": 1, "shortfall": 0.5}));
    assert_eq!(
        item(8)["failed"],
        json!([{"criterion": "clean", "shortfall": null}])
    );
    let e6 = item(6);
    assert_eq!(e6["distance"], json!({"failed": 3, "shortfall": 0.9}));
    let failed: Vec<&str> = e6["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["revenue", "rd", "score"]);
    assert_eq!(
        e6["failed"][2]["shortfall"],
        json!({"fact": null, "year": null, "actual": 30, "needed": 60, "gap": 30, "relative": 0.5})
    );
    // Per district: 铁西 e1 e2 e5 e6 e8 (one away: e5, e8); 浑南 e3 e4 e9 e10 (one away: e4).
    let district = |code: &str| {
        b["by_district"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            district("210106")["total"].clone(),
            district("210106")["one_away"].clone(),
            district("210106")["eligible"].clone()
        ),
        (json!(5), json!(2), json!(2))
    );
    assert_eq!(
        (
            district("210112")["total"].clone(),
            district("210112")["one_away"].clone()
        ),
        (json!(4), json!(1))
    );

    // Filters: 铁西 with at most one failure: e1, e2, e5, e8.
    let b = body(w.app.get(
        &format!("/api/v1/cultivation?tier={TIER}&as_of={AS_OF}&district=210106&max_failed=1"),
        &w.official,
    ));
    let order: Vec<i64> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["enterprise_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        order,
        [1, 2, 5, 8].iter().map(|e| pos(&w, *e)).collect::<Vec<_>>()
    );
    // Pages follow the same order.
    let p1 = body(w.app.get(
        &format!("/api/v1/cultivation?tier={TIER}&as_of={AS_OF}&limit=4"),
        &w.official,
    ));
    assert_eq!(p1["items"].as_array().unwrap().len(), 4);
    let cursor = p1["next_cursor"].as_str().unwrap().to_owned();
    let p2 = body(w.app.get(
        &format!("/api/v1/cultivation?tier={TIER}&as_of={AS_OF}&limit=4&cursor={cursor}"),
        &w.official,
    ));
    let order: Vec<i64> = p2["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["enterprise_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        order,
        [9, 4, 5, 8].iter().map(|e| pos(&w, *e)).collect::<Vec<_>>()
    );
    // CSV: every member, in order.
    let r = w.app.get(
        &format!("/api/v1/cultivation?tier={TIER}&as_of={AS_OF}&format=csv"),
        &w.official,
    );
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 9);
    assert!(
        rows[5].starts_with(&format!("6,{},", pos(&w, 4))),
        "{}",
        rows[5]
    );
    let r = w.app.get(
        &format!("/api/v1/cultivation?tier={TIER}&as_of={AS_OF}&format=xlsx"),
        &w.official,
    );
    assert_eq!(r.status(), 200);
    assert!(r.bytes().unwrap().starts_with(b"PK"));
}

#[test]
fn the_forecast_states_its_verdicts() {
    let w = world();
    // e2 has a draft application: in the pipeline, not "eligible, not applied".
    let r = w.app.post(
        "/api/v1/applications",
        Some(&w.admin),
        &json!({"enterprise_id": pos(&w, 2), "tier": TIER, "year": 2026, "renewal": false}),
    );
    assert_eq!(r.status(), 201, "{:?}", body(r));
    for (scope, target) in [("210100", 2), ("210106", 4), ("210112", 2)] {
        let r = w.app.post(
            "/api/v1/quotas",
            Some(&w.admin),
            &json!({"year": 2026, "scope": scope, "tiers": [TIER], "measure": "new", "target": target}),
        );
        assert_eq!(r.status(), 201, "{:?}", body(r));
    }
    let r = w.app.get(
        &format!("/api/v1/reports/forecast?year=2026&as_of={AS_OF}"),
        &w.official,
    );
    assert_eq!(r.status(), 200);
    let b = body(r);
    assert!(
        b["verdict_rule"]
            .as_str()
            .unwrap()
            .contains("on_track: projected >= target")
    );
    let q = |scope: &str| {
        b["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["scope"] == scope && q["tiers"] == json!([TIER]))
            .cloned()
            .unwrap()
    };
    // City: achieved 1 (e7, 2026-03-15). Projection: from 0 at the year's start to 1 on
    // 06-30 (day 181 of 365 = month 5.951): 1 + (1 / 5.951) × 6.049 = 2.02 → 2 >= 2: on_track.
    // Eligible, not holding, not applied: e1, e3, e10 = 3 (e2 applied, e7 holds). One away:
    // e4, e5, e8 = 3. Pipeline: one draft (e2).
    let city = q("210100");
    assert_eq!(
        (
            city["achieved"].clone(),
            city["projected"].clone(),
            city["eligible_not_applied"].clone(),
            city["near_miss"].clone(),
            city["verdict"].clone()
        ),
        (json!(1), json!(2), json!(3), json!(3), json!("on_track"))
    );
    assert_eq!(city["pipeline"]["draft"], 1);
    // 铁西: achieved 1 (e7), projected 2; eligible not applied: e1 → 2 + 1 = 3 < 4: off_track.
    // One away: e5, e8.
    let tiexi = q("210106");
    assert_eq!(
        (
            tiexi["projected"].clone(),
            tiexi["eligible_not_applied"].clone(),
            tiexi["near_miss"].clone(),
            tiexi["verdict"].clone()
        ),
        (json!(2), json!(1), json!(2), json!("off_track"))
    );
    // 浑南: nothing issued, projected 0; eligible not applied e3, e10 → 0 + 2 >= 2: at_risk.
    let hunnan = q("210112");
    assert_eq!(
        (
            hunnan["achieved"].clone(),
            hunnan["projected"].clone(),
            hunnan["eligible_not_applied"].clone(),
            hunnan["near_miss"].clone(),
            hunnan["verdict"].clone()
        ),
        (json!(0), json!(0), json!(2), json!(1), json!("at_risk"))
    );
}

#[test]
fn a_copy_changes_nothing_and_a_raised_pass_mark_loses_the_standard_route_only() {
    let w = world();
    // An exact copy of the rule set in force (as a draft, version 2).
    let copy = body(w.app.post(
        "/api/v1/rulesets",
        Some(&w.admin),
        &document(2, 60, "2026-01-01"),
    ))["id"]
        .as_i64()
        .unwrap();
    let r = w.app.post(
        &format!("/api/v1/rulesets/{copy}/impact"),
        Some(&w.official),
        &json!({"as_of": AS_OF}),
    );
    assert_eq!(r.status(), 200);
    let b = body(r);
    assert_eq!(
        (
            b["total"].clone(),
            b["gained"].clone(),
            b["lost"].clone(),
            b["unchanged"].clone()
        ),
        (json!(10), json!(0), json!(0), json!(10))
    );
    assert_eq!(b["changed"], json!([]));
    assert_eq!(b["against"]["id"], w.ruleset);

    // Pass mark 95: e2 (60 points) and e10 (70) qualified through the standard route only and
    // lose; e1 (100 points, and the direct route) and e3 (direct) keep it; e7 (100) keeps it.
    let raised = body(w.app.post(
        "/api/v1/rulesets",
        Some(&w.admin),
        &document(3, 95, "2026-01-01"),
    ))["id"]
        .as_i64()
        .unwrap();
    let r = w.app.post(
        &format!("/api/v1/rulesets/{raised}/impact"),
        Some(&w.admin),
        &json!({"as_of": AS_OF, "against": w.ruleset}),
    );
    assert_eq!(r.status(), 200);
    let b = body(r);
    assert_eq!(
        (
            b["gained"].clone(),
            b["lost"].clone(),
            b["unchanged"].clone()
        ),
        (json!(0), json!(2), json!(8))
    );
    assert_eq!(
        b["changed"],
        json!([
            {"enterprise_id": pos(&w, 2), "uscc": uscc(701), "name": "企业2", "district": "210106", "cluster": "equipment", "from": "eligible", "to": "ineligible", "deciding": ["score"]},
            {"enterprise_id": pos(&w, 10), "uscc": uscc(709), "name": "企业10", "district": "210112", "cluster": "equipment", "from": "eligible", "to": "ineligible", "deciding": ["score"]},
        ])
    );
    let by = |list: &str, code: &str| {
        b[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .map(|d| (d["gained"].clone(), d["lost"].clone()))
            .unwrap()
    };
    assert_eq!(by("by_district", "210106"), (json!(0), json!(1)));
    assert_eq!(by("by_district", "210112"), (json!(0), json!(1)));
    assert_eq!(by("by_cluster", "equipment"), (json!(0), json!(2)));
    // The other way round, the two are gained; CSV lists them.
    let r = w.app.post(
        &format!("/api/v1/rulesets/{}/impact?format=csv", w.ruleset),
        Some(&w.admin),
        &json!({"as_of": AS_OF, "against": raised}),
    );
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains(&format!(
            "{},{},企业2,210106,equipment,ineligible,eligible,score",
            pos(&w, 2),
            uscc(701)
        )),
        "{text}"
    );
}

#[test]
fn bad_input_is_named() {
    let w = world();
    let get = |q: &str| {
        let r = w.app.get(&format!("/api/v1/cultivation?{q}"), &w.official);
        (r.status().as_u16(), body(r))
    };
    let field = |b: &Value| b["errors"][0]["field"].as_str().unwrap_or("").to_owned();
    let (s, b) = get("tier=no_such_tier&as_of=2026-06-30");
    assert_eq!((s, field(&b)), (422, "tier".into()), "{b}");
    // No rule set of the tier in force on that date: the evaluation's 422.
    let (s, b) = get(&format!("tier={TIER}&as_of=2025-06-30"));
    assert_eq!(
        (s, field(&b), b["errors"][0]["code"].clone()),
        (422, "tier".into(), json!("no_ruleset_in_force")),
        "{b}"
    );
    for m in ["-1", "21"] {
        let (s, b) = get(&format!("tier={TIER}&as_of={AS_OF}&max_failed={m}"));
        assert_eq!((s, field(&b)), (422, "max_failed".into()), "{b}");
    }
    let (s, _) = get(&format!("tier={TIER}&as_of={AS_OF}&max_failed=20"));
    assert_eq!(s, 200);
    // Impact: an unknown rule set is 404; `against` unknown or of another tier is 422.
    let r = w.app.post(
        "/api/v1/rulesets/999999/impact",
        Some(&w.official),
        &json!({"as_of": AS_OF}),
    );
    assert_eq!(r.status(), 404);
    let other = w.app.published_ruleset(&w.admin, "little_giant");
    let r = w.app.post(
        &format!("/api/v1/rulesets/{}/impact", w.ruleset),
        Some(&w.official),
        &json!({"as_of": AS_OF, "against": other}),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(field(&body(r)), "against");
    let r = w.app.post(
        &format!("/api/v1/rulesets/{}/impact", w.ruleset),
        Some(&w.official),
        &json!({"as_of": AS_OF, "against": 999999}),
    );
    assert_eq!(r.status(), 422);
    // No rule set in force to compare with on that date.
    let r = w.app.post(
        &format!("/api/v1/rulesets/{}/impact", w.ruleset),
        Some(&w.official),
        &json!({"as_of": "2025-06-30"}),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(body(r)["errors"][0]["code"], "no_ruleset_in_force");
    // Enterprises and reviewers may not use the tools.
    w.app.user("rev", ladder::domain::Role::Reviewer, None);
    let rev = w.app.login("rev");
    assert_eq!(
        w.app
            .get(
                &format!("/api/v1/cultivation?tier={TIER}&as_of={AS_OF}"),
                &rev
            )
            .status(),
        403
    );
    assert_eq!(
        w.app
            .get("/api/v1/reports/forecast?year=2026", &rev)
            .status(),
        403
    );
    assert_eq!(
        w.app
            .post(
                &format!("/api/v1/rulesets/{}/impact", w.ruleset),
                Some(&rev),
                &json!({"as_of": AS_OF})
            )
            .status(),
        403
    );
}
