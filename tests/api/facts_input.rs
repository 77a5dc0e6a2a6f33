//! Issue 11 items 1 and 2: one checked fact sheet from every entry point (the exact
//! inputs as regressions), `PATCH` of a year, derived `niche_years`, and a panicking write
//! that must not hand its connection (and SQLite's write lock) back to the pool.

use crate::helpers::{TestApp, body, uscc};
use reqwest::Method;
use serde_json::{Value, json};

const MAX: &str = "79228162514264337593543950335";
const MIN: &str = "-79228162514264337593543950335";

fn fields(b: &Value) -> Vec<(String, String)> {
    b["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Issue 11: `main_business_revenue` of −(2⁹⁶ − 1) made growth overflow and panic (500).
#[test]
fn a_dry_run_with_the_overflowing_revenue_is_refused_by_name() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let r = app.post(
        "/api/v1/evaluations",
        Some(&admin),
        &json!({"tier": "innovative_sme", "as_of": "2026-03-01", "facts": {
            "2024": {"main_business_revenue": MAX, "operating_revenue": MAX},
            "2025": {"main_business_revenue": MIN, "operating_revenue": MAX}}}),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(
        fields(&body(r)),
        vec![(
            "facts.2025.main_business_revenue".to_string(),
            "negative".to_string()
        )]
    );
}

/// The same extremes that the catalog allows (a revenue of 2⁹⁶ − 1 then 1e-28, a net profit of
/// −(2⁹⁶ − 1)) grade without a panic under every tier in force.
#[test]
fn allowed_extremes_grade_under_every_tier() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let tiers = body(app.get("/api/v1/tiers", &admin));
    let codes: Vec<String> = tiers
        .as_array()
        .or_else(|| tiers["items"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t["code"].as_str().map(str::to_string))
        .collect();
    assert!(codes.len() >= 5, "{tiers}");
    let tiny = "0.0000000000000000000000000001";
    let facts = json!({
        "2023": {"main_business_revenue": tiny, "operating_revenue": MAX, "net_profit": MIN, "rd_expense": MAX},
        "2024": {"main_business_revenue": MAX, "operating_revenue": MAX, "net_profit": MAX, "rd_expense": tiny},
        "2025": {"main_business_revenue": tiny, "operating_revenue": MAX, "net_profit": MIN,
                 "rd_expense": MAX, "total_assets": tiny, "total_liabilities": MAX, "employees": MAX}
    });
    for as_of in ["2026-03-01", "2026-06-01"] {
        for tier in &codes {
            let r = app.post(
                "/api/v1/evaluations",
                Some(&admin),
                &json!({"tier": tier, "as_of": as_of, "facts": facts}),
            );
            let status = r.status().as_u16();
            assert!(
                status == 200 || status == 422,
                "{tier} {as_of}: {status} {}",
                body(r)
            );
        }
    }
}

/// Issue 11: case runs skipped every check; years 2147483647 and −2147483648 panicked with
/// "capacity overflow", and 2025 with 2147483647 asked for ~17 GB.
#[test]
fn a_case_run_checks_its_facts_like_put() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let id = app.published_ruleset(&admin, "srdi_sme");
    let path = format!("/api/v1/rulesets/{id}/test");
    for (facts, field, code) in [
        (
            json!({"2147483647": {"employees": 1}, "-2147483648": {"employees": 1}}),
            "cases[0].facts.2147483647",
            "year",
        ),
        (
            json!({"2025": {"employees": 1}, "2147483647": {"employees": 1}}),
            "cases[0].facts.2147483647",
            "year",
        ),
        (
            json!({"2025": {"main_business_revenue": MIN}}),
            "cases[0].facts.2025.main_business_revenue",
            "negative",
        ),
        (
            json!({"2025": {"no_such_code": 1}}),
            "cases[0].facts.2025.no_such_code",
            "unknown_indicator",
        ),
    ] {
        let r = app.post(
            &path,
            Some(&admin),
            &json!({"cases": [{"as_of": "2026-06-01", "facts": facts, "expected": {"outcome": "eligible"}}]}),
        );
        assert_eq!(r.status(), 422, "{facts}");
        let got = fields(&body(r));
        assert!(
            got.contains(&(field.to_string(), code.to_string())),
            "{field} {code} not in {got:?}"
        );
    }
    // A good case still runs.
    let r = app.post(
        &path,
        Some(&admin),
        &json!({"cases": [{"as_of": "2026-06-01", "facts": {"2025": {"employees": 10}}, "expected": {}}]}),
    );
    assert_eq!(r.status(), 200);
    let b = body(r);
    assert_eq!(
        (b["total"].clone(), b["failed"].clone()),
        (json!(1), json!(0)),
        "{b}"
    );
}

#[test]
fn patch_merges_a_year_and_null_removes() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let id = app.enterprise(&uscc(42), "合并", "210106");
    let path = format!("/api/v1/enterprises/{id}/facts/2025");
    let patch = |b: Value| app.request(Method::PATCH, &path, Some(&admin), Some(&b));
    let r = patch(json!({"facts": {"employees": 10, "operating_revenue": "100.50"}}));
    assert_eq!(r.status(), 201);
    let r = patch(json!({"facts": {"rd_staff": 3, "operating_revenue": null}}));
    assert_eq!(r.status(), 200);
    let b = body(r);
    assert_eq!(b["facts"], json!({"employees": 10, "rd_staff": 3}));
    assert_eq!(b["revision"], 2);
    // The merged year is checked as a whole: 11 R&D staff of 10 employees.
    let r = patch(json!({"facts": {"rd_staff": 11}}));
    assert_eq!(r.status(), 422);
    assert_eq!(
        fields(&body(r)),
        vec![("facts.rd_staff".to_string(), "consistency".to_string())]
    );
    let r = patch(json!({"facts": {"bogus": 1, "employees": -1}}));
    assert_eq!(r.status(), 422);
    let mut got = fields(&body(r));
    got.sort();
    assert_eq!(
        got,
        vec![
            ("facts.bogus".to_string(), "unknown_indicator".to_string()),
            ("facts.employees".to_string(), "negative".to_string())
        ]
    );
    let r = app.request(
        Method::PATCH,
        &format!("/api/v1/enterprises/{id}/facts/2147483647"),
        Some(&admin),
        Some(&json!({"facts": {"employees": 1}})),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(
        fields(&body(r)),
        vec![("year".to_string(), "range".to_string())]
    );
    let stored = body(app.get(&format!("/api/v1/enterprises/{id}/facts"), &admin));
    assert_eq!(
        stored["facts"]["2025"],
        json!({"employees": 10, "rd_staff": 3})
    );
    let hist = body(app.get(&format!("/api/v1/enterprises/{id}/facts/history"), &admin));
    assert_eq!(hist.as_array().map(Vec::len), Some(2), "{hist}");
}

/// `niche_years` of a year not filed comes from `niche_entered_on` (the helper's enterprises
/// entered their niche on 2012-01-01: 13.99 years at the end of 2025).
#[test]
fn niche_years_are_derived_when_not_filed() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let id = app.enterprise(&uscc(43), "细分", "210106");
    let r = app.put(
        &format!("/api/v1/enterprises/{id}/facts/2025"),
        &admin,
        &json!({"facts": {"employees": 10}}),
    );
    assert_eq!(r.status(), 201);
    let niche = |body: &Value| {
        body["criteria"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["id"] == "niche_years")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let r = app.post(
        "/api/v1/evaluations",
        Some(&admin),
        &json!({"tier": "srdi_sme", "as_of": "2026-06-01", "enterprise_id": id}),
    );
    assert_eq!(r.status(), 200);
    let c = niche(&body(r));
    assert_eq!(c["passed"], true, "{c}");
    assert_eq!(c["actual"], json!(13.99), "{c}");
    // A filed value wins.
    let r = app.request(
        Method::PATCH,
        &format!("/api/v1/enterprises/{id}/facts/2025"),
        Some(&admin),
        Some(&json!({"facts": {"niche_years": 2}})),
    );
    assert_eq!(r.status(), 200);
    let r = app.post(
        "/api/v1/evaluations",
        Some(&admin),
        &json!({"tier": "srdi_sme", "as_of": "2026-06-01", "enterprise_id": id}),
    );
    let c = niche(&body(r));
    assert_eq!(
        (c["passed"].clone(), c["actual"].clone()),
        (json!(false), json!(2))
    );
}

/// Issue 11 item 2: a request that panics inside a write transaction must not return its
/// connection to the pool. Before, `has_broken` was always false: on SQLite the connection
/// went back mid-`BEGIN IMMEDIATE` holding the write lock (other connections' writes then
/// waited out `busy_timeout` and failed), and whoever drew it next wrote into a transaction
/// that never commits.
#[test]
fn a_panic_inside_a_write_transaction_does_not_poison_the_pool() {
    let app = TestApp::spawn();
    let pool = app.state.pool.clone();
    let new_input = |n: u32| ladder::services::enterprises::NewEnterpriseInput {
        uscc: uscc(900 + n),
        name: format!("写入{n}"),
        district_code: "210106".into(),
        cluster_code: None,
        founded_on: None,
        niche_entered_on: None,
        verified: false,
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut conn = pool.get().unwrap_or_else(|e| panic!("{e}"));
        let _ = ladder::db::write_tx(&mut conn, |c| -> Result<(), ladder::error::AppError> {
            ladder::services::enterprises::create(
                c,
                &ladder::services::policy::Caller::system("test"),
                &new_input(0),
            )?;
            panic!("a bug in the middle of a write");
        });
    }));
    assert!(outcome.is_err());
    // Every connection the pool can hand out now writes, and each write commits.
    let size = pool.max_size();
    let mut conns: Vec<_> = (0..size)
        .map(|_| pool.get().unwrap_or_else(|e| panic!("{e}")))
        .collect();
    for (n, conn) in conns.iter_mut().enumerate() {
        ladder::services::enterprises::create(
            conn,
            &ladder::services::policy::Caller::system("test"),
            &new_input(1 + n as u32),
        )
        .unwrap_or_else(|e| panic!("write on connection {n}: {e:?}"));
    }
    drop(conns);
    // Seen from a connection of its own, outside the pool.
    let fresh =
        ladder::db::connect(&app.state.config.database_url, 1).unwrap_or_else(|e| panic!("{e}"));
    let mut c = fresh.get().unwrap_or_else(|e| panic!("{e}"));
    for n in 0..=size {
        let found = ladder::models::enterprise::by_uscc(&mut c, &uscc(900 + n))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.is_some(), n > 0, "enterprise {n}");
    }
}
