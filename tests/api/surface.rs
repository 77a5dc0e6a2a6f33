//! The API surface (issue 11 item 12): the served OpenAPI document documents every operation,
//! every response says `nosniff`, `/docs` has a CSP and asks no outside validator.

use crate::helpers::{TestApp, body};
use serde_json::{Value, json};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Every operation of a document: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for m in METHODS {
                if let Some(op) = item.get(m) {
                    out.push((m.to_string(), path.clone(), op.clone()));
                }
            }
        }
    }
    out
}

/// The operations without a non-empty summary and description; an error when the document
/// holds (almost) nothing, so an empty document cannot pass.
fn undocumented(doc: &Value) -> Result<Vec<String>, String> {
    let ops = operations(doc);
    if ops.len() < 50 {
        return Err(format!(
            "the document has {} operations; expected the whole API",
            ops.len()
        ));
    }
    let filled = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    Ok(ops
        .into_iter()
        .filter(|(_, _, op)| !filled(&op["summary"]) || !filled(&op["description"]))
        .map(|(m, p, _)| format!("{} {p}", m.to_uppercase()))
        .collect())
}

#[test]
fn every_served_operation_has_a_summary_and_a_description() {
    let app = TestApp::spawn();
    let r = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().unwrap_or(Value::Null);
    let missing = undocumented(&doc).unwrap_or_else(|e| panic!("{e}"));
    assert!(missing.is_empty(), "undocumented operations: {missing:?}");
}

#[test]
fn the_documentation_check_fails_on_an_empty_or_bare_document() {
    assert!(undocumented(&Value::Null).is_err());
    assert!(undocumented(&serde_json::json!({"openapi": "3.1.0", "paths": {}})).is_err());
    // The code's document with one summary removed is caught.
    let mut doc = serde_json::to_value(ladder::openapi::document()).unwrap_or(Value::Null);
    doc["paths"]["/api/v1/me"]["get"]
        .as_object_mut()
        .map(|o| o.remove("summary"));
    assert_eq!(
        undocumented(&doc).unwrap_or_else(|e| panic!("{e}")),
        vec!["GET /api/v1/me".to_string()]
    );
}

#[test]
fn every_response_says_nosniff_and_docs_has_a_csp() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let cases: Vec<(String, Option<&str>)> = vec![
        ("/healthz".into(), None),
        ("/api/v1/openapi.json".into(), None),
        ("/api/v1/no-such-route".into(), None),
        ("/api/v1/me".into(), None),
        ("/api/v1/me".into(), Some(admin.as_str())),
        ("/api/v1/enterprises?q=%00".into(), Some(admin.as_str())),
        ("/docs/".into(), None),
        ("/dashboard".into(), None),
    ];
    for (path, token) in cases {
        let mut rb = app.client.get(app.url(&path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let r = rb.send().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{path} ({})",
            r.status()
        );
    }
    let docs = app
        .client
        .get(app.url("/docs/"))
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(docs.status(), 200);
    let csp = docs
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .and_then(|r| r.text())
        .unwrap();
    assert!(
        init.contains("\"validatorUrl\": \"none\"") || init.contains("\"validatorUrl\":\"none\""),
        "{init}"
    );
}

/// Every field of a real evaluation result — top level, rule set, criteria, shortfalls, the
/// summary and its next steps — is described by the typed schema of the OpenAPI document,
/// and the two evaluation operations answer with it.
#[test]
fn the_evaluation_schema_describes_every_field() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let doc = body(app.get("/api/v1/openapi.json", &admin));
    let schemas = &doc["components"]["schemas"];
    let props = |name: &str| -> Vec<String> {
        schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {name}"))
            .keys()
            .cloned()
            .collect()
    };
    let ok = doc["paths"]["/api/v1/evaluations"]["post"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["$ref"]
        .as_str();
    assert_eq!(ok, Some("#/components/schemas/EvaluationResult"));
    let ok =
        doc["paths"]["/api/v1/enterprises/{id}/eligibility"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"]["$ref"]
            .as_str();
    assert_eq!(ok, Some("#/components/schemas/EligibilityView"));

    // A company short on R&D and missing a title: failed criteria with shortfalls, a summary
    // with next steps, missing facts.
    let r = app.post(
        "/api/v1/evaluations",
        Some(&admin),
        &json!({"tier": "srdi_sme", "as_of": "2026-06-01",
                "facts": {"2025": {"operating_revenue": 4006.3, "rd_expense": "20", "employees": 120}}}),
    );
    assert_eq!(r.status(), 200);
    let result = body(r);
    let covered = |value: &Value, schema: &str| {
        let known = props(schema);
        for key in value.as_object().unwrap().keys() {
            assert!(known.contains(key), "{schema} does not describe {key:?}");
        }
    };
    covered(&result, "EvaluationResult");
    covered(&result["ruleset"], "RuleSetRef");
    let criteria = result["criteria"].as_array().unwrap();
    assert!(criteria.len() > 3);
    let mut shortfalls = 0;
    for c in criteria {
        covered(c, "CriterionView");
        if c["shortfall"].is_object() {
            covered(&c["shortfall"], "ShortfallView");
            shortfalls += 1;
        }
    }
    assert!(shortfalls > 0, "{result}");
    covered(&result["summary"], "SummaryView");
    let steps = result["summary"]["next_steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    for s in steps {
        covered(s, "NextStepView");
    }
}
