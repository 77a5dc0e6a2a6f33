//! Guarded decisions (API.md "Decisions and publicity"): an approval against an
//! `ineligible` pre-screen or a review criterion judged false is refused with 422 naming
//! each, unless it carries `override: {reason}`; the override shows on the application, the
//! certification, the audit trail and the rollup; the decision-time re-grade is shown beside
//! the pre-screen when it differs.

use crate::helpers::{TestApp, body, uscc};
use crate::workflow::{
    act, create, insert_certification, put_facts, review_all, srdi_facts, today, under_review,
    world,
};
use chrono::Datelike;
use serde_json::{Value, json};

fn fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_string())
        .collect()
}

const REASON: &str = "专家会议认定其技术水平达到要求 the panel found the technology sufficient";

#[test]
fn an_ineligible_approval_is_refused_then_accepted_with_an_override() {
    let app = TestApp::spawn();
    let w = world(&app, 8101);
    // Eligible apart from the prerequisite (no 科技和创新型中小企业 title held): ineligible.
    put_facts(&app, &w.owner, w.enterprise, &srdi_facts("1500", "1200"));
    let quota = body(app.post(
        "/api/v1/quotas",
        Some(&w.admin),
        &json!({"year": today().year(), "scope": "210106", "tiers": ["srdi_sme"], "measure": "new", "target": 4, "label_zh": "专精特新新增", "label_en": "SRDI new"}),
    ));
    let quota_id = quota["id"].as_i64().unwrap_or_else(|| panic!("{quota}"));

    // Submitting is allowed, with warnings naming the failed criteria.
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    let submitted = body(act(&app, &w.owner, id, "submit", &json!({})));
    assert_eq!(submitted["state"], "submitted", "{submitted}");
    assert_eq!(submitted["prescreen_outcome"], "ineligible");
    let warned: Vec<&str> = submitted["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(warned, ["prerequisite"], "{submitted}");
    assert_eq!(
        submitted["warnings"][0]["label_zh"],
        "具有有效的科技和创新型中小企业称号"
    );

    let full = body(act(
        &app,
        &w.admin,
        id,
        "assign",
        &json!({"reviewer_id": w.reviewer_id}),
    ));
    let review = review_all(&full);
    // Refused: 422 naming the failed criterion.
    let r = act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review}),
    );
    assert_eq!(r.status(), 422);
    let b = body(r);
    assert_eq!(fields(&b), ["prescreen.prerequisite"], "{b}");
    assert_eq!(b["errors"][0]["code"], "criterion_failed");

    // An override reason under 10 characters (here 9) is refused, naming override.reason.
    let r = act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review, "override": {"reason": "太短了 short"}}),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(fields(&body(r)), ["override.reason"]);
    // Nothing changed.
    let still = body(app.get(&format!("/api/v1/applications/{id}"), &w.admin));
    assert_eq!(still["state"], "under_review");

    // Accepted with the override: kept on the application and the certification.
    let approved = body(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review, "override": {"reason": REASON}}),
    ));
    assert_eq!(approved["state"], "approved", "{approved}");
    assert_eq!(approved["override"], true);
    assert_eq!(approved["override_reason"], REASON);
    // Same facts, same rule set: the re-grade agrees with the pre-screen, so none is shown.
    assert_eq!(approved["regrade"], Value::Null, "{approved}");
    let cert_id = approved["certification"]["id"].as_i64().unwrap();
    let cert = body(app.get(&format!("/api/v1/certifications/{cert_id}"), &w.admin));
    assert_eq!(cert["override"], true, "{cert}");
    assert_eq!(cert["override_reason"], REASON);

    // Audited.
    let trail = body(app.get(
        &format!("/api/v1/audit?entity=application&id={id}"),
        &w.admin,
    ));
    let override_entry = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "application.override")
        .cloned()
        .unwrap_or_else(|| panic!("no override in {trail}"));
    assert_eq!(override_entry["after"]["reason"], REASON);
    assert_eq!(
        override_entry["after"]["failed"][0]["criterion"],
        "prerequisite"
    );

    // Counted apart in the rollup: a title issued without an override beside it counts in
    // `achieved` and not in `overrides`.
    let plain = app.enterprise(&uscc(8199), "沈阳常规认定有限公司", "210106");
    insert_certification(&app, plain, "srdi_sme", "SY-SR-T-8199", today(), today());
    let rollup = body(app.get(
        &format!(
            "/api/v1/reports/rollup?year={}&as_of={}",
            today().year(),
            today()
        ),
        &w.admin,
    ));
    let q = rollup["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == quota_id)
        .cloned()
        .unwrap();
    assert_eq!(q["achieved"], 2, "{q}");
    assert_eq!(q["overrides"], 1, "{q}");
    // And in the CSV: the quota's total row ends with publicized 0, overrides 1.
    let csv = app
        .get(
            &format!(
                "/api/v1/reports/rollup?year={}&as_of={}&format=csv",
                today().year(),
                today()
            ),
            &w.admin,
        )
        .text()
        .unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("公示中 publicized,破格通过 overrides")
    );
    let total: Vec<&str> = csv
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|c| {
            c.get(2) == Some(&quota_id.to_string().as_str()) && c.get(6) == Some(&"合计 total")
        })
        .unwrap_or_else(|| panic!("{csv}"));
    assert_eq!(&total[total.len() - 2..], ["0", "1"], "{csv}");
}

/// A world holding the prerequisite title, whose srdi_sme pre-screen is eligible.
fn eligible_under_review(app: &TestApp, w: &crate::workflow::World) -> (i64, Value) {
    insert_certification(
        app,
        w.enterprise,
        "tech_innovative_sme",
        &format!("SY-TI-TEST-{}", w.enterprise),
        today(),
        today(),
    );
    put_facts(app, &w.owner, w.enterprise, &srdi_facts("1500", "1200"));
    let (id, full) = under_review(app, w, "srdi_sme");
    assert_eq!(full["prescreen_outcome"], "eligible", "{full}");
    (id, full)
}

#[test]
fn a_review_criterion_judged_false_needs_an_override() {
    let app = TestApp::spawn();
    let w = world(&app, 8201);
    let (id, full) = eligible_under_review(&app, &w);
    let mut review = review_all(&full);
    assert!(review.get("market_position").is_some(), "{review}");
    review["market_position"] = json!(false);
    let r = act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review}),
    );
    assert_eq!(r.status(), 422);
    let b = body(r);
    assert_eq!(fields(&b), ["review.market_position"], "{b}");
    assert_eq!(b["errors"][0]["code"], "judged_false");

    // Rejecting with a criterion judged false needs nothing more.
    // Approving with the override goes through and is marked.
    let approved = body(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review, "override": {"reason": REASON}}),
    ));
    assert_eq!(approved["state"], "approved", "{approved}");
    assert_eq!(approved["override"], true);
}

#[test]
fn an_eligible_approval_needs_no_override_and_refuses_one() {
    let app = TestApp::spawn();
    let w = world(&app, 8301);
    let (id, full) = eligible_under_review(&app, &w);
    let review = review_all(&full);
    // An override where nothing needs overriding is refused: it would mark a clean approval.
    let r = act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review, "override": {"reason": REASON}}),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(fields(&body(r)), ["override"]);
    // A decision without the review judgments still names them.
    let r = act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "override": {"reason": REASON}}),
    );
    assert_eq!(r.status(), 422);
    let f = fields(&body(r));
    assert!(
        !f.is_empty() && f.iter().all(|f| f.starts_with("review.")),
        "{f:?}"
    );
    let approved = body(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review}),
    ));
    assert_eq!(approved["state"], "approved", "{approved}");
    assert_eq!(approved["override"], false);
    assert_eq!(approved["override_reason"], Value::Null);
    let cert_id = approved["certification"]["id"].as_i64().unwrap();
    let cert = body(app.get(&format!("/api/v1/certifications/{cert_id}"), &w.admin));
    assert_eq!(cert["override"], false, "{cert}");
}

#[test]
fn the_regrade_at_decision_time_is_shown_beside_the_prescreen_when_it_differs() {
    let app = TestApp::spawn();
    let w = world(&app, 8401);
    let (id, full) = eligible_under_review(&app, &w);
    // After submission the revenue is corrected below the 1500万 line.
    let y = today().year() - 1;
    let r = app.request(
        reqwest::Method::PATCH,
        &format!("/api/v1/enterprises/{}/facts/{y}", w.enterprise),
        Some(&w.owner),
        Some(&json!({"facts": {"operating_revenue": "1000", "main_business_revenue": "900"}})),
    );
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());
    // The kept pre-screen decides the guard: the approval needs no override.
    let approved = body(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "同意", "review": review_all(&full)}),
    ));
    assert_eq!(approved["state"], "approved", "{approved}");
    assert_eq!(approved["prescreen_outcome"], "eligible");
    assert_eq!(approved["prescreen"]["outcome"], "eligible");
    assert_eq!(approved["regrade"]["outcome"], "ineligible", "{approved}");
    assert_eq!(approved["regrade"]["as_of"], today().to_string());
    let failed: Vec<&str> = approved["regrade"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["revenue"], "{approved}");
    // And the application shows both afterwards.
    let again = body(app.get(&format!("/api/v1/applications/{id}"), &w.owner));
    assert_eq!(again["regrade"], approved["regrade"]);
    assert_eq!(again["prescreen_outcome"], "eligible");
}
