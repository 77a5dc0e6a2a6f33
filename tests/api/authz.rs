//! Runs the authorization matrix (tests/authz_matrix.csv) in full, and checks that every
//! route of the OpenAPI document has at least one row.

use crate::helpers::{TestApp, body, ruleset_draft, uscc};
use ladder::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

struct Row {
    line: usize,
    method: String,
    path: String,
    role: String,
    scope: String,
    expected: Vec<u16>,
}

fn rows() -> Vec<Row> {
    let text = include_str!("../authz_matrix.csv");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("method,") || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 5, "authz_matrix.csv line {}: {line}", i + 1);
        out.push(Row {
            line: i + 1,
            method: f[0].into(),
            path: f[1].into(),
            role: f[2].into(),
            scope: f[3].into(),
            expected: f[4].split('|').map(|s| s.parse().unwrap_or(0)).collect(),
        });
    }
    out
}

/// A body that is valid for the route, so the status reflects authorization only.
fn body_for(method: &str, path: &str, n: usize) -> Option<Value> {
    Some(match (method, path) {
        ("POST", "/api/v1/auth/login") => {
            json!({"username": "nobody", "password": "wrong-password"})
        }
        ("POST", "/api/v1/auth/refresh") => json!({"refresh_token": "not-a-token"}),
        ("POST", "/api/v1/auth/logout") => json!({"refresh_token": "not-a-token"}),
        ("POST", "/api/v1/auth/register") => json!({
            "username": format!("reg{n}"), "password": crate::helpers::PASSWORD,
            "uscc": uscc(500_000 + n as u32), "name": format!("注册企业{n}"), "district_code": "210112"}),
        ("POST", "/api/v1/auth/token") => {
            json!({"grant_type": "client_credentials", "client_id": "none", "client_secret": "none"})
        }
        ("POST", "/api/v1/users") => {
            json!({"username": format!("made{n}"), "password": crate::helpers::PASSWORD, "role": "official"})
        }
        ("PATCH", "/api/v1/users/{user}") => json!({"disabled": false}),
        ("POST", "/api/v1/clients") => json!({"name": format!("client {n}"), "role": "official"}),
        ("PATCH", "/api/v1/clients/{client}") => json!({"disabled": false}),
        ("POST", "/api/v1/enterprises") => {
            json!({"uscc": uscc(600_000 + n as u32), "name": format!("新企业{n}"), "district_code": "210106"})
        }
        ("PATCH", "/api/v1/enterprises/{enterprise}") => json!({"name": format!("改名{n}")}),
        ("PUT", "/api/v1/enterprises/{enterprise}/facts/{year}")
        | ("PATCH", "/api/v1/enterprises/{enterprise}/facts/{year}") => {
            json!({"facts": {"operating_revenue": "1234.5", "employees": 10}})
        }
        ("POST", "/api/v1/quotas") => {
            json!({"year": 2030 + (n % 60) as i32, "scope": "210106", "tiers": ["little_giant"], "measure": "new", "target": 3})
        }
        ("PATCH", "/api/v1/quotas/{quota}") => json!({"target": 11}),
        ("POST", "/api/v1/certifications/import") => {
            json!({"items": [{"uscc": uscc(700_000 + n as u32), "name": format!("导入{n}"), "district_code": "210106",
            "tier": "srdi_sme", "number": format!("M-{n}"), "issued_on": "2024-01-15", "valid_from": "2024-01-01", "valid_to": "2026-12-31"}]})
        }
        ("POST", "/api/v1/evaluations") => {
            json!({"tier": "little_giant", "as_of": "2026-06-01", "facts": {"2025": {"operating_revenue": 6000}}, "holds": ["srdi_sme"]})
        }
        ("POST", "/api/v1/rulesets") => ruleset_draft(100 + n as i64),
        ("PUT", "/api/v1/rulesets/{draft}") | ("PUT", "/api/v1/rulesets/{ruleset}") => {
            ruleset_draft(99)
        }
        ("POST", "/api/v1/rulesets/{ruleset}/test") => json!({}),
        ("POST", "/api/v1/rulesets/{ruleset}/impact") => json!({"as_of": "2026-06-01"}),
        ("PATCH", "/api/v1/tiers/{tier}") => json!({"publicity_days": 5}),
        ("PUT", "/api/v1/calendar/{year}") => json!({"source": "matrix", "days": [
            {"date": "2025-01-01", "kind": "holiday", "name": "元旦"}]}),
        ("POST", "/api/v1/objections/{objection}/resolve") => {
            json!({"upheld": false, "comment": "matrix"})
        }
        ("POST", "/api/v1/public/publicity/{application}/objections") => {
            json!({"name": "matrix", "contact": "matrix", "text": "matrix"})
        }
        _ => return None,
    })
}

#[test]
fn matrix() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let own = app.enterprise(&uscc(1), "沈阳本方有限公司", "210106");
    let foreign = app.enterprise(&uscc(2), "沈阳他方有限公司", "210112");
    let target_user = app.user("target", Role::Official, None);
    let client = body(app.post(
        "/api/v1/clients",
        Some(&admin),
        &json!({"name": "matrix", "role": "official"}),
    ))["id"]
        .as_i64()
        .unwrap_or(0);
    app.user("m_enterprise", Role::Enterprise, Some(own));
    app.user("m_reviewer", Role::Reviewer, None);
    app.user("m_official", Role::Official, None);
    let workflow = crate::workflow::matrix_fixtures(&app, &admin, own, foreign);
    let quota = body(app.get("/api/v1/quotas?year=2025", &admin))[0]["id"]
        .as_i64()
        .unwrap_or(0);
    let draft = body(app.post("/api/v1/rulesets", Some(&admin), &ruleset_draft(99)))["id"]
        .as_i64()
        .unwrap_or(0);
    let publishable = body(app.post("/api/v1/rulesets", Some(&admin), &ruleset_draft(98)))["id"]
        .as_i64()
        .unwrap_or(0);
    let shipped = app.published_ruleset(&admin, "little_giant");
    let tokens: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        ("enterprise", Some(app.login("m_enterprise"))),
        ("reviewer", Some(app.login("m_reviewer"))),
        ("official", Some(app.login("m_official"))),
        ("admin", Some(admin.clone())),
    ];
    let mut failures = Vec::new();
    for (n, row) in rows().into_iter().enumerate() {
        let token = tokens
            .iter()
            .find(|(r, _)| *r == row.role)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("line {}: unknown role {}", row.line, row.role));
        let enterprise = if row.scope == "own" { own } else { foreign };
        let path = row
            .path
            .replace("{enterprise}", &enterprise.to_string())
            .replace("{user}", &target_user.to_string())
            .replace("{client}", &client.to_string())
            .replace(
                "{application}",
                &workflow.application(&row.scope).to_string(),
            )
            .replace(
                "{certification}",
                &workflow.certification(&row.scope).to_string(),
            )
            .replace("{reviewer}", &workflow.reviewer(&row.scope).to_string())
            .replace("{quota}", &quota.to_string())
            .replace("{draft}", &draft.to_string())
            .replace("{publishable}", &publishable.to_string())
            .replace("{ruleset}", &shipped.to_string())
            .replace("{year}", "2025")
            .replace("{claim}", "999999")
            .replace("{attachment}", "999999")
            .replace("{objection}", "999999")
            .replace("{notification}", "999999")
            .replace("{tier}", "little_giant");
        let method = Method::from_bytes(row.method.as_bytes()).unwrap_or(Method::GET);
        let mut rb = app.client.request(method, app.url(&path));
        if let Some(t) = &token {
            rb = rb.bearer_auth(t);
        }
        if (row.method == "PATCH" && row.path.contains("{enterprise}"))
            || row.path.contains("{quota}")
            || row.path.contains("{draft}")
        {
            rb = rb.header("If-Match", "*");
        }
        if let Some(b) = workflow.body_for(&row.method, &row.path, enterprise) {
            rb = rb.json(&b);
        }
        if let Some(b) = body_for(&row.method, &row.path, n) {
            rb = rb.json(&b);
        }
        let resp = rb.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        if !row.expected.contains(&status) {
            failures.push(format!(
                "line {}: {} {} as {} ({}) → {status}, expected {:?}: {}",
                row.line,
                row.method,
                row.path,
                row.role,
                row.scope,
                row.expected,
                resp.text().unwrap()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} matrix rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_documented_route_has_a_row() {
    let doc = serde_json::to_value(ladder::openapi::document()).unwrap();
    let listed: BTreeSet<(String, String)> =
        rows().into_iter().map(|r| (r.method, r.path)).collect();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().cloned().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                let key = (method.to_uppercase(), normalise(&path));
                if !listed.contains(&key) {
                    missing.push(format!("{} {}", key.0, key.1));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes with no row in tests/authz_matrix.csv:\n{}",
        missing.join("\n")
    );
}

/// The matrix names path parameters by what they point at.
fn normalise(path: &str) -> String {
    path.replace("/enterprises/{id}", "/enterprises/{enterprise}")
        .replace("/users/{id}", "/users/{user}")
        .replace("/clients/{id}", "/clients/{client}")
        .replace("/applications/{id}", "/applications/{application}")
        .replace("/certifications/{id}", "/certifications/{certification}")
        .replace("/reviewers/{id}", "/reviewers/{reviewer}")
        .replace("/quotas/{id}", "/quotas/{quota}")
        .replace("/claims/{id}", "/claims/{claim}")
        .replace("/attachments/{id}", "/attachments/{attachment}")
        .replace("/objections/{id}", "/objections/{objection}")
        .replace("/me/notifications/{id}", "/me/notifications/{notification}")
        .replace("/tiers/{code}", "/tiers/{tier}")
        .replace(
            "/public/publicity/{application_id}",
            "/public/publicity/{application}",
        )
        .replace("/rulesets/{id}/publish", "/rulesets/{publishable}/publish")
        .replace("/rulesets/{id}", "/rulesets/{ruleset}")
}

#[test]
fn unlisted_methods_are_405_problem_documents() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let r = app.request(Method::DELETE, "/api/v1/enterprises", Some(&admin), None);
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let r = app.request(Method::GET, "/api/v1/nowhere", Some(&admin), None);
    assert_eq!(r.status(), 404);
    assert_eq!(body(r)["status"], 404);
}
