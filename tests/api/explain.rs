//! The README's example company, graded for 专精特新中小企业 under the 2026 rules: what a
//! company is told must be exact — which criteria fail, by how much in the fact's own unit,
//! and which title it must obtain first.

use crate::helpers::{TestApp, body, uscc};
use ladder::domain::Role;
use serde_json::{Value, json};

/// The README walk-through's facts (2025 as filed there, 2024 with R&D under 3 %).
fn readme_company(app: &TestApp) -> (i32, String) {
    let ent = app.enterprise(&uscc(5101), "沈阳铁西机器人有限公司", "210106");
    app.user("readme_owner", Role::Enterprise, Some(ent));
    let token = app.login("readme_owner");
    for (year, facts) in [
        (
            2025,
            json!({"operating_revenue": 4006.3, "main_business_revenue": 3900, "rd_expense": "120.189",
                   "employees": 120, "rd_staff": 30, "niche_years": 6, "ip_class1": 2}),
        ),
        (
            2024,
            json!({"operating_revenue": "3512.7", "rd_expense": "101.2"}),
        ),
    ] {
        let r = app.put(
            &format!("/api/v1/enterprises/{ent}/facts/{year}"),
            &token,
            &json!({ "facts": facts }),
        );
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    }
    (ent, token)
}

fn srdi(app: &TestApp, ent: i32, token: &str) -> Value {
    let b = body(app.get(
        &format!("/api/v1/enterprises/{ent}/eligibility?as_of=2026-06-01"),
        token,
    ));
    b["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["tier"] == "srdi_sme").cloned())
        .unwrap_or_else(|| panic!("no srdi_sme item: {b}"))
}

/// An exact decimal as the API writes it (a JSON number, or a string), as text.
fn dec(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a decimal: {other}"),
    }
}

fn criterion<'a>(result: &'a Value, id: &str) -> &'a Value {
    result["criteria"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no criterion {id}: {result}"))
}

#[test]
fn the_readme_company_is_told_what_fails_by_how_much_and_what_to_obtain_first() {
    let app = TestApp::spawn();
    let (ent, token) = readme_company(&app);
    let r = srdi(&app, ent, &token);
    assert_eq!(r["ruleset"]["version"], 2, "{r}");
    assert_eq!(r["outcome"], "ineligible", "{r}");

    // Exactly two criteria fail; the rest pass or wait for facts or a reviewer.
    assert_eq!(
        r["summary"]["failed"],
        json!(["prerequisite", "rd_each_year"]),
        "{}",
        r["summary"]
    );

    // 2024: 101.2 of 3512.7 is 2.88 %; 3 % of 3512.7 is 105.381 万元, exactly.
    let rd = criterion(&r, "rd_each_year");
    assert_eq!(rd["passed"], false);
    let s = &rd["shortfall"];
    assert_eq!(s["fact"], "rd_expense", "{rd}");
    assert_eq!(s["year"], 2024, "{rd}");
    assert_eq!(dec(&s["actual"]), "101.2", "{rd}");
    assert_eq!(dec(&s["needed"]), "105.381", "{rd}");
    assert_eq!(dec(&s["gap"]), "4.181", "{rd}");
    let zh = rd["explain_zh"].as_str().unwrap();
    // The sentence states the value and the requirement in units (API.md's example).
    assert!(zh.contains("2.881%") && zh.contains("3%"), "{zh}");

    // 2025 passes at exactly 3 %: 120.189 of 4006.3.
    let steps = r["summary"]["next_steps"].as_array().cloned().unwrap();
    let raise: Vec<&Value> = steps.iter().filter(|s| s["kind"] == "raise").collect();
    assert_eq!(raise.len(), 1, "{steps:?}");
    assert_eq!(raise[0]["fact"], "rd_expense");
    assert_eq!(raise[0]["year"], 2024);
    assert!(
        raise[0]["text_zh"].as_str().unwrap().contains("4.181"),
        "{:?}",
        raise[0]
    );

    // The title it must hold first: 创新型中小企业 (tech_innovative_sme).
    let obtain: Vec<&Value> = steps
        .iter()
        .filter(|s| s["kind"] == "obtain_title")
        .collect();
    assert_eq!(obtain.len(), 1, "{steps:?}");
    assert_eq!(obtain[0]["tier"], "tech_innovative_sme");

    // Facts not filed are named once each, as a step to file them.
    let file: Vec<(String, i64)> = steps
        .iter()
        .filter(|s| s["kind"] == "file_fact")
        .map(|s| {
            (
                s["fact"].as_str().unwrap().to_string(),
                s["year"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        file.contains(&("total_liabilities".to_string(), 2025)),
        "{file:?}"
    );
    let mut dedup = file.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(
        dedup.len(),
        file.len(),
        "a fact to file is named twice: {file:?}"
    );

    // Reviewer judgments are steps of their own.
    assert!(
        steps
            .iter()
            .any(|s| s["kind"] == "review" && s["criterion"] == "market_position"),
        "{steps:?}"
    );
}

#[test]
fn raising_the_rd_expense_to_the_shortfall_passes_and_one_hundredth_less_does_not() {
    let app = TestApp::spawn();
    let (ent, token) = readme_company(&app);
    let patch = |v: &str| {
        let r = app.request(
            reqwest::Method::PATCH,
            &format!("/api/v1/enterprises/{ent}/facts/2024"),
            Some(&token),
            Some(&json!({"facts": {"rd_expense": v}})),
        );
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    };
    patch("105.380");
    let r = srdi(&app, ent, &token);
    assert_eq!(criterion(&r, "rd_each_year")["passed"], false, "{r}");
    assert_eq!(
        dec(&criterion(&r, "rd_each_year")["shortfall"]["gap"]),
        "0.001"
    );
    patch("105.381");
    let r = srdi(&app, ent, &token);
    assert_eq!(criterion(&r, "rd_each_year")["passed"], true, "{r}");
    assert_eq!(r["summary"]["failed"], json!(["prerequisite"]));
}
