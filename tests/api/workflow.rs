//! The review workflow over HTTP: the full lifecycle from registration to revocation,
//! illegal transitions, conflicts of interest, the immutable pre-screen, renewals, and
//! the fixtures the authorization matrix needs for these routes.

use crate::helpers::{PASSWORD, TestApp, body, uscc};
use chrono::{Datelike, Months};
use ladder::domain::Role;
use reqwest::blocking::Response;
use serde_json::{Value, json};

/// Objects the authorization matrix substitutes for `{application}`, `{certification}` and
/// `{reviewer}`, own and foreign.
pub struct MatrixFixtures {
    applications: (i64, i64),
    certifications: (i32, i32),
    reviewers: (i32, i32),
}

impl MatrixFixtures {
    fn pick<T: Copy>(scope: &str, pair: (T, T)) -> T {
        if scope == "own" { pair.0 } else { pair.1 }
    }
    pub fn application(&self, scope: &str) -> i64 {
        Self::pick(scope, self.applications)
    }
    pub fn certification(&self, scope: &str) -> i32 {
        Self::pick(scope, self.certifications)
    }
    pub fn reviewer(&self, scope: &str) -> i32 {
        Self::pick(scope, self.reviewers)
    }

    /// Bodies that depend on the row's enterprise or on fixture ids.
    pub fn body_for(&self, method: &str, path: &str, enterprise: i32) -> Option<Value> {
        Some(match (method, path) {
            ("POST", "/api/v1/applications") => {
                json!({"enterprise_id": enterprise, "tier": "srdi_sme", "year": 2025})
            }
            ("POST", "/api/v1/applications/{application}/assign") => {
                json!({"reviewer_id": self.reviewers.0})
            }
            ("POST", "/api/v1/applications/{application}/decision") => {
                json!({"decision": "reject", "comment": "matrix"})
            }
            ("POST", "/api/v1/reviewers/{reviewer}/ties") => {
                json!({"enterprise_id": enterprise, "note": "matrix"})
            }
            ("POST", "/api/v1/certifications/{certification}/revoke") => {
                json!({"reason": "matrix"})
            }
            _ => return None,
        })
    }
}

pub fn matrix_fixtures(app: &TestApp, admin: &str, own: i32, foreign: i32) -> MatrixFixtures {
    let own_app = create(app, admin, own, "srdi_sme", 2026, false);
    let foreign_app = create(app, admin, foreign, "srdi_sme", 2026, false);
    let today = chrono::Utc::now().date_naive();
    let own_cert = insert_certification(app, own, "tech_sme", "SY-TS-TEST-1", today, today);
    let foreign_cert = insert_certification(app, foreign, "tech_sme", "SY-TS-TEST-2", today, today);
    let mut conn = app.conn();
    let own_reviewer = ladder::models::user::by_username(&mut conn, "m_reviewer")
        .ok()
        .flatten()
        .map(|u| u.id)
        .unwrap_or(0);
    drop(conn);
    let foreign_reviewer = app.user("m_reviewer_2", Role::Reviewer, None);
    MatrixFixtures {
        applications: (own_app, foreign_app),
        certifications: (own_cert, foreign_cert),
        reviewers: (own_reviewer, foreign_reviewer),
    }
}

/// A certification written straight into the database (as an import would), current.
pub fn insert_certification(
    app: &TestApp,
    enterprise: i32,
    tier: &str,
    number: &str,
    issued: chrono::NaiveDate,
    valid_from: chrono::NaiveDate,
) -> i32 {
    insert_certification_until(
        app,
        enterprise,
        tier,
        number,
        issued,
        valid_from,
        valid_from + chrono::Duration::days(364),
    )
}

pub fn insert_certification_until(
    app: &TestApp,
    enterprise: i32,
    tier: &str,
    number: &str,
    issued: chrono::NaiveDate,
    valid_from: chrono::NaiveDate,
    valid_to: chrono::NaiveDate,
) -> i32 {
    use ladder::models::certification::{NewCertification, insert};
    let mut conn = app.conn();
    insert(
        &mut conn,
        &NewCertification {
            enterprise_id: enterprise,
            tier,
            number,
            issued_on: issued,
            valid_from,
            valid_to,
            application_id: None,
            ruleset_id: None,
            batch: Some("test"),
            imported: true,
            is_current: true,
            created_at: ladder::models::now(),
            override_reason: None,
        },
    )
    .unwrap_or_else(|e| panic!("inserting certification: {e}"))
}

pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// POSTs and asserts the status, returning the body.
pub fn post_ok(app: &TestApp, path: &str, token: &str, b: &Value, status: u16) -> Value {
    let r = app.post(path, Some(token), b);
    let got = r.status().as_u16();
    let text = r.text().unwrap();
    assert_eq!(got, status, "POST {path} {b}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

pub fn create(
    app: &TestApp,
    token: &str,
    enterprise: i32,
    tier: &str,
    year: i32,
    renewal: bool,
) -> i64 {
    let b = post_ok(
        app,
        "/api/v1/applications",
        token,
        &json!({"enterprise_id": enterprise, "tier": tier, "year": year, "renewal": renewal}),
        201,
    );
    assert_eq!(b["state"], "draft");
    b["id"].as_i64().unwrap()
}

pub fn act(app: &TestApp, token: &str, id: i64, action: &str, b: &Value) -> Response {
    app.post(
        &format!("/api/v1/applications/{id}/{action}"),
        Some(token),
        b,
    )
}

/// The review map an approval needs: every `review: true` criterion of the pre-screen, judged true.
pub fn review_all(application: &Value) -> Value {
    let mut map = serde_json::Map::new();
    for c in application["prescreen"]["result"]["criteria"]
        .as_array()
        .cloned()
        .unwrap()
    {
        if c["review"] == true {
            map.insert(c["id"].as_str().unwrap().to_string(), Value::Bool(true));
        }
    }
    Value::Object(map)
}

/// An approval of an application under review: every review criterion judged true and, when
/// the kept pre-screen is `ineligible` (as it is for a world without the prerequisite title),
/// the override such an approval needs.
pub fn approval(application: &Value, comment: &str) -> Value {
    let mut b =
        json!({"decision": "approve", "comment": comment, "review": review_all(application)});
    if application["prescreen_outcome"] == "ineligible" {
        b["override"] =
            json!({"reason": "专家会议认定符合条件 the expert panel found it qualifies"});
    }
    b
}

/// Facts that grade srdi_sme (2026 rules) eligible apart from the prerequisite.
pub fn srdi_facts(revenue: &str, main_business: &str) -> Vec<(i32, Value)> {
    let y = today().year();
    vec![
        (y - 3, json!({"major_incident": false})),
        (
            y - 2,
            json!({"operating_revenue": "2000", "rd_expense": "100", "equity_financing": "0", "major_incident": false}),
        ),
        (
            y - 1,
            json!({"operating_revenue": revenue, "main_business_revenue": main_business, "rd_expense": "100", "niche_years": 3, "equity_financing": "0",
                   "total_liabilities": "80", "total_assets": "100", "ip_class1": 1, "major_incident": false}),
        ),
        (
            y,
            json!({"dev_eval_score": 50, "abnormal_listed": false, "dishonest_listed": false}),
        ),
    ]
}

pub fn put_facts(app: &TestApp, token: &str, enterprise: i32, facts: &[(i32, Value)]) {
    for (year, f) in facts {
        let r = app.put(
            &format!("/api/v1/enterprises/{enterprise}/facts/{year}"),
            token,
            &json!({"facts": f}),
        );
        assert!(
            r.status().is_success(),
            "facts {year}: {}",
            r.text().unwrap()
        );
    }
}

/// Sets a tier's publicity period (`PATCH /tiers/{code}`).
pub fn set_publicity_days(app: &TestApp, admin: &str, tier: &str, days: i32) {
    let r = app.request(
        reqwest::Method::PATCH,
        &format!("/api/v1/tiers/{tier}"),
        Some(admin),
        Some(&json!({"publicity_days": days})),
    );
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
}

/// A world: an admin, an enterprise with its own account, and a reviewer.
pub struct World {
    pub admin: String,
    pub owner: String,
    pub enterprise: i32,
    pub reviewer: String,
    pub reviewer_id: i32,
}

pub fn world(app: &TestApp, n: u32) -> World {
    let admin = app.admin();
    // The workflow tests expect the certificate at approval; publicity has its own tests.
    set_publicity_days(app, &admin, "srdi_sme", 0);
    let enterprise = app.enterprise(&uscc(n), &format!("沈阳流程{n}有限公司"), "210106");
    app.user(&format!("owner{n}"), Role::Enterprise, Some(enterprise));
    let reviewer_id = app.user(&format!("reviewer{n}"), Role::Reviewer, None);
    World {
        owner: app.login(&format!("owner{n}")),
        reviewer: app.login(&format!("reviewer{n}")),
        admin,
        enterprise,
        reviewer_id,
    }
}

/// Creates, submits and assigns an application; returns its id and the full body.
pub fn under_review(app: &TestApp, w: &World, tier: &str) -> (i64, Value) {
    let id = create(app, &w.owner, w.enterprise, tier, today().year(), false);
    assert_eq!(act(app, &w.owner, id, "submit", &json!({})).status(), 200);
    let b = body(act(
        app,
        &w.admin,
        id,
        "assign",
        &json!({"reviewer_id": w.reviewer_id}),
    ));
    assert_eq!(b["state"], "under_review", "{b}");
    (id, b)
}

fn certifications_of(app: &TestApp, token: &str, enterprise: i32) -> Vec<Value> {
    body(app.get(
        &format!("/api/v1/certifications?enterprise_id={enterprise}"),
        token,
    ))["items"]
        .as_array()
        .cloned()
        .unwrap()
}

fn criterion(result: &Value, id: &str) -> Value {
    result["criteria"]
        .as_array()
        .cloned()
        .unwrap()
        .into_iter()
        .find(|c| c["id"] == id)
        .unwrap_or(Value::Null)
}

#[test]
fn full_lifecycle_from_registration_to_revocation() {
    let app = TestApp::spawn();
    let admin = app.admin();
    set_publicity_days(&app, &admin, "srdi_sme", 0);
    // Register: the enterprise signs itself up.
    let reg = app.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": "lifecycle", "password": PASSWORD, "uscc": uscc(4001), "name": "沈阳全程有限公司", "district_code": "210106"}),
    );
    assert_eq!(reg.status(), 201);
    let owner = body(reg)["access_token"].as_str().unwrap().to_string();
    let me = body(app.get("/api/v1/me", &owner));
    let enterprise = me["enterprise"]["id"].as_i64().unwrap() as i32;
    assert!(enterprise > 0, "{me}");
    put_facts(&app, &owner, enterprise, &srdi_facts("1500", "1200"));

    // Apply and submit: the pre-screen is kept with the application.
    let id = create(&app, &owner, enterprise, "srdi_sme", today().year(), false);
    let submitted = body(act(&app, &owner, id, "submit", &json!({})));
    assert_eq!(submitted["state"], "submitted");
    let outcome = submitted["prescreen_outcome"].as_str().unwrap().to_string();
    // No 科技和创新型中小企业 title held: the 2026 prerequisite fails.
    assert_eq!(outcome, "ineligible", "{submitted}");
    assert!(
        ["eligible", "ineligible", "incomplete"].contains(&outcome.as_str()),
        "{submitted}"
    );
    assert_eq!(submitted["prescreen"]["outcome"], outcome.as_str());
    assert!(submitted["prescreen"]["ruleset"]["version"].is_i64());
    assert_eq!(
        submitted["prescreen"]["facts"][(today().year() - 1).to_string()]["operating_revenue"],
        "1500"
    );

    // Assign and review.
    let reviewer_id = app.user("rev", Role::Reviewer, None);
    let reviewer = app.login("rev");
    let assigned = body(act(
        &app,
        &admin,
        id,
        "assign",
        &json!({"reviewer_id": reviewer_id}),
    ));
    assert_eq!(assigned["state"], "under_review");
    assert_eq!(assigned["reviewer_id"], reviewer_id);
    let queue = body(app.get("/api/v1/review-queue", &reviewer));
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(queue["items"][0]["id"], id);
    assert_eq!(queue["items"][0]["prescreen_outcome"], outcome.as_str());
    assert!(queue["items"][0]["prescreen"]["result"]["criteria"].is_array());

    // Approve: a certification in the same step.
    let approved = body(act(
        &app,
        &reviewer,
        id,
        "decision",
        &approval(&assigned, "符合条件"),
    ));
    assert_eq!(approved["state"], "approved", "{approved}");
    let number = approved["certification"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(number, format!("SY-SR-{}-0001", today().year()));
    let history: Vec<String> = approved["history"]
        .as_array()
        .cloned()
        .unwrap()
        .iter()
        .map(|e| e["to_state"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(history, ["draft", "submitted", "under_review", "approved"]);
    assert!(
        body(app.get("/api/v1/review-queue", &reviewer))["items"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );

    let certs = certifications_of(&app, &owner, enterprise);
    assert_eq!(certs.len(), 1);
    let cert = &certs[0];
    assert_eq!(cert["number"], number.as_str());
    assert_eq!(cert["status"], "active");
    assert_eq!(cert["issued_on"], today().to_string());
    assert_eq!(cert["valid_from"], today().to_string());
    let valid_to = today()
        .checked_add_months(Months::new(36))
        .and_then(|d| d.pred_opt())
        .unwrap();
    assert_eq!(cert["valid_to"], valid_to.to_string());
    assert_eq!(cert["application_id"], id);
    assert_eq!(cert["ruleset_id"], approved["ruleset_id"]);
    let cert_id = cert["id"].as_i64().unwrap();
    let active = body(app.get(
        &format!(
            "/api/v1/certifications?tier=srdi_sme&active_on={}&district=210106",
            today()
        ),
        &admin,
    ));
    assert_eq!(active["items"].as_array().map(Vec::len), Some(1));

    // Held: the next tier's prerequisite passes.
    let next = json!({"tier": "little_giant", "as_of": today(), "enterprise_id": enterprise});
    let graded = body(app.post("/api/v1/evaluations", Some(&owner), &next));
    assert_eq!(
        criterion(&graded, "prerequisite")["passed"],
        true,
        "{graded}"
    );

    // Revoke: no longer held, and revoking twice is a conflict.
    let revoked = body(app.post(
        &format!("/api/v1/certifications/{cert_id}/revoke"),
        Some(&admin),
        &json!({"reason": "材料造假"}),
    ));
    assert_eq!(revoked["status"], "revoked", "{revoked}");
    assert_eq!(revoked["revoked_on"], today().to_string());
    assert_eq!(revoked["is_current"], false);
    let again = app.post(
        &format!("/api/v1/certifications/{cert_id}/revoke"),
        Some(&admin),
        &json!({"reason": "again"}),
    );
    assert_eq!(again.status(), 409);
    let graded = body(app.post("/api/v1/evaluations", Some(&owner), &next));
    assert_eq!(
        criterion(&graded, "prerequisite")["passed"],
        false,
        "{graded}"
    );
    let active = body(app.get(
        &format!("/api/v1/certifications?active_on={}", today()),
        &admin,
    ));
    assert_eq!(active["items"].as_array().map(Vec::len), Some(0));

    // Every step is on record, and the chain holds.
    let trail = body(app.get(&format!("/api/v1/audit?entity=application&id={id}"), &admin));
    let actions: Vec<String> = trail["items"]
        .as_array()
        .cloned()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "application.create",
            "application.submit",
            "application.assign",
            "application.decide",
            // The pre-screen was ineligible (no 科技和创新型中小企业 title): approved with an override.
            "application.override"
        ]
    );
    let trail = body(app.get(
        &format!("/api/v1/audit?entity=certification&id={cert_id}"),
        &admin,
    ));
    let actions: Vec<String> = trail["items"]
        .as_array()
        .cloned()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(actions, ["certification.issue", "certification.revoke"]);
    let verify = body(app.get("/api/v1/audit/verify", &admin));
    assert_eq!(verify["ok"], true, "{verify}");
}

fn assert_409_naming(r: Response, state: &str, what: &str) {
    assert_eq!(r.status(), 409, "{what}");
    let b = body(r);
    let detail = b["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("is {state}")), "{what}: {detail}");
}

#[test]
fn every_illegal_transition_is_a_409_naming_the_state() {
    let app = TestApp::spawn();
    let w = world(&app, 4101);
    let year = today().year();
    let reject = json!({"decision": "reject", "comment": "不符合"});
    let assign = json!({"reviewer_id": w.reviewer_id});
    let none = json!({});

    let id = create(&app, &w.owner, w.enterprise, "srdi_sme", year, false);
    // One open application per enterprise, tier and year.
    let dup = app.post(
        "/api/v1/applications",
        Some(&w.owner),
        &json!({"enterprise_id": w.enterprise, "tier": "srdi_sme", "year": year}),
    );
    assert_eq!(dup.status(), 409);
    // draft
    assert_409_naming(
        act(&app, &w.admin, id, "assign", &assign),
        "draft",
        "assign a draft",
    );
    assert_409_naming(
        act(&app, &w.reviewer, id, "decision", &reject),
        "draft",
        "decide a draft",
    );
    assert_eq!(act(&app, &w.owner, id, "submit", &none).status(), 200);
    // submitted
    assert_409_naming(
        act(&app, &w.owner, id, "submit", &none),
        "submitted",
        "submit twice",
    );
    assert_409_naming(
        act(&app, &w.reviewer, id, "decision", &reject),
        "submitted",
        "decide before assignment",
    );
    assert_eq!(act(&app, &w.admin, id, "assign", &assign).status(), 200);
    // under_review
    assert_409_naming(
        act(&app, &w.owner, id, "submit", &none),
        "under_review",
        "submit under review",
    );
    assert_409_naming(
        act(&app, &w.owner, id, "withdraw", &none),
        "under_review",
        "withdraw under review",
    );
    assert_eq!(
        act(
            &app,
            &w.reviewer,
            id,
            "decision",
            &json!({"decision": "return", "comment": "补充材料"})
        )
        .status(),
        200
    );
    // returned
    assert_409_naming(
        act(&app, &w.owner, id, "withdraw", &none),
        "returned",
        "withdraw returned",
    );
    assert_409_naming(
        act(&app, &w.admin, id, "assign", &assign),
        "returned",
        "assign returned",
    );
    assert_409_naming(
        act(&app, &w.reviewer, id, "decision", &reject),
        "returned",
        "decide returned",
    );
    let resubmitted = body(act(&app, &w.owner, id, "submit", &none));
    assert_eq!(resubmitted["state"], "submitted");
    assert_eq!(resubmitted["decision"], Value::Null);
    assert_eq!(act(&app, &w.admin, id, "assign", &assign).status(), 200);
    assert_eq!(
        act(&app, &w.reviewer, id, "decision", &reject).status(),
        200
    );
    // rejected
    for (action, b, token) in [
        ("submit", &none, &w.owner),
        ("withdraw", &none, &w.owner),
        ("assign", &assign, &w.admin),
        ("decision", &reject, &w.reviewer),
    ] {
        assert_409_naming(act(&app, token, id, action, b), "rejected", action);
    }
    // withdrawn: from draft, and from submitted
    let second = create(&app, &w.owner, w.enterprise, "srdi_sme", year, false);
    assert_eq!(
        body(act(&app, &w.owner, second, "withdraw", &none))["state"],
        "withdrawn"
    );
    for (action, b, token) in [
        ("submit", &none, &w.owner),
        ("withdraw", &none, &w.owner),
        ("assign", &assign, &w.admin),
        ("decision", &reject, &w.reviewer),
    ] {
        assert_409_naming(act(&app, token, second, action, b), "withdrawn", action);
    }
    let third = create(&app, &w.owner, w.enterprise, "srdi_sme", year, false);
    assert_eq!(act(&app, &w.owner, third, "submit", &none).status(), 200);
    assert_eq!(
        body(act(&app, &w.owner, third, "withdraw", &none))["state"],
        "withdrawn"
    );
    // approved
    let (fourth, full) = under_review(&app, &w, "srdi_sme");
    let approve = approval(&full, "同意");
    assert_eq!(
        act(&app, &w.reviewer, fourth, "decision", &approve).status(),
        200
    );
    for (action, b, token) in [
        ("submit", &none, &w.owner),
        ("withdraw", &none, &w.owner),
        ("assign", &assign, &w.admin),
        ("decision", &approve, &w.reviewer),
    ] {
        assert_409_naming(act(&app, token, fourth, action, b), "approved", action);
    }
    // Holding a title in force: a first application is refused, a renewal is not due yet.
    let again = app.post(
        "/api/v1/applications",
        Some(&w.owner),
        &json!({"enterprise_id": w.enterprise, "tier": "srdi_sme", "year": year}),
    );
    assert_eq!(again.status(), 409);
    let renewal = app.post(
        "/api/v1/applications",
        Some(&w.owner),
        &json!({"enterprise_id": w.enterprise, "tier": "srdi_sme", "year": year, "renewal": true}),
    );
    assert_eq!(renewal.status(), 422);
    assert_eq!(body(renewal)["errors"][0]["field"], "renewal");
}

#[test]
fn decisions_are_validated() {
    let app = TestApp::spawn();
    let w = world(&app, 4201);
    let (id, full) = under_review(&app, &w, "srdi_sme");
    let review = review_all(&full);
    assert!(
        review.as_object().is_some_and(|m| !m.is_empty()),
        "srdi_sme leaves criteria to reviewers: {full}"
    );
    let fields = |r: Response| -> Vec<String> {
        assert_eq!(r.status(), 422);
        body(r)["errors"]
            .as_array()
            .cloned()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let f = fields(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "  ", "review": review}),
    ));
    assert_eq!(f, ["comment"]);
    let f = fields(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "approve", "comment": "ok"}),
    ));
    assert!(
        f.iter().all(|f| f.starts_with("review.")) && !f.is_empty(),
        "{f:?}"
    );
    let mut extra = review.clone();
    extra["made_up"] = Value::Bool(true);
    let f = fields(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "reject", "comment": "ok", "review": extra}),
    ));
    assert_eq!(f, ["review.made_up"]);
    let f = fields(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "maybe", "comment": "ok"}),
    ));
    assert_eq!(f, ["decision"]);
    // Nothing changed.
    let now = body(app.get(&format!("/api/v1/applications/{id}"), &w.admin));
    assert_eq!(now["state"], "under_review");
    // Only the assigned reviewer decides.
    app.user("other_reviewer", Role::Reviewer, None);
    let other = app.login("other_reviewer");
    assert_eq!(
        act(
            &app,
            &other,
            id,
            "decision",
            &json!({"decision": "reject", "comment": "x"})
        )
        .status(),
        403
    );
    assert_eq!(
        act(
            &app,
            &w.admin,
            id,
            "decision",
            &json!({"decision": "reject", "comment": "x"})
        )
        .status(),
        403
    );
    // Assigning someone who is not a reviewer is refused.
    let official = app.user("an_official", Role::Official, None);
    let r = act(
        &app,
        &w.admin,
        id,
        "assign",
        &json!({"reviewer_id": official}),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(body(r)["errors"][0]["field"], "reviewer_id");
}

#[test]
fn a_tied_reviewer_can_neither_be_assigned_nor_decide() {
    let app = TestApp::spawn();
    let w = world(&app, 4301);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    assert_eq!(act(&app, &w.owner, id, "submit", &json!({})).status(), 200);
    // The reviewer declares a tie.
    let tie = post_ok(
        &app,
        &format!("/api/v1/reviewers/{}/ties", w.reviewer_id),
        &w.reviewer,
        &json!({"enterprise_id": w.enterprise, "note": "前雇主"}),
        201,
    );
    assert_eq!(tie["enterprise_id"], w.enterprise);
    let ties = body(app.get(
        &format!("/api/v1/reviewers/{}/ties", w.reviewer_id),
        &w.admin,
    ));
    assert_eq!(ties.as_array().map(Vec::len), Some(1));
    let dup = app.post(
        &format!("/api/v1/reviewers/{}/ties", w.reviewer_id),
        Some(&w.reviewer),
        &json!({"enterprise_id": w.enterprise}),
    );
    assert_eq!(dup.status(), 409);

    let before = body(app.get(&format!("/api/v1/applications/{id}"), &w.admin));
    let audit_before = body(app.get("/api/v1/audit/verify", &w.admin))["entries"].clone();
    let r = act(
        &app,
        &w.admin,
        id,
        "assign",
        &json!({"reviewer_id": w.reviewer_id}),
    );
    assert_eq!(r.status(), 403);
    let after = body(app.get(&format!("/api/v1/applications/{id}"), &w.admin));
    assert_eq!(before, after, "a refused assignment changes nothing");
    assert_eq!(
        body(app.get("/api/v1/audit/verify", &w.admin))["entries"],
        audit_before
    );

    // Assigned first, tied afterwards: the decision is refused and nothing changes.
    let second_id = app.user("second_reviewer", Role::Reviewer, None);
    let second = app.login("second_reviewer");
    assert_eq!(
        act(
            &app,
            &w.admin,
            id,
            "assign",
            &json!({"reviewer_id": second_id})
        )
        .status(),
        200
    );
    post_ok(
        &app,
        &format!("/api/v1/reviewers/{second_id}/ties"),
        &w.admin,
        &json!({"enterprise_id": w.enterprise}),
        201,
    );
    let before = body(app.get(&format!("/api/v1/applications/{id}"), &w.admin));
    let full = before.clone();
    let r = act(&app, &second, id, "decision", &approval(&full, "同意"));
    assert_eq!(r.status(), 403);
    let after = body(app.get(&format!("/api/v1/applications/{id}"), &w.admin));
    assert_eq!(before, after);
    assert_eq!(after["state"], "under_review");
    assert!(certifications_of(&app, &w.admin, w.enterprise).is_empty());
}

#[test]
fn the_prescreen_does_not_change_when_facts_change() {
    let app = TestApp::spawn();
    let w = world(&app, 4401);
    put_facts(&app, &w.owner, w.enterprise, &srdi_facts("1500", "1200"));
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    let submitted = body(act(&app, &w.owner, id, "submit", &json!({})));
    let kept = submitted["prescreen"].clone();
    assert!(kept.is_object());
    // Revenue collapses after submission: a fresh evaluation sees it, the application does not.
    put_facts(&app, &w.owner, w.enterprise, &srdi_facts("10", "8"));
    let fresh = body(app.post(
        "/api/v1/evaluations",
        Some(&w.owner),
        &json!({"tier": "srdi_sme", "as_of": today(), "enterprise_id": w.enterprise}),
    ));
    assert_eq!(criterion(&fresh, "revenue")["passed"], false, "{fresh}");
    let now = body(app.get(&format!("/api/v1/applications/{id}"), &w.owner));
    assert_eq!(now["prescreen"], kept);
    assert_eq!(now["prescreen_outcome"], submitted["prescreen_outcome"]);
    assert_eq!(
        criterion(&now["prescreen"]["result"], "revenue")["passed"],
        true,
        "{now}"
    );
    assert_eq!(
        now["prescreen"]["facts"][(today().year() - 1).to_string()]["operating_revenue"],
        "1500"
    );
}

#[test]
fn enterprises_see_only_their_own_applications_and_certifications() {
    let app = TestApp::spawn();
    let w = world(&app, 4501);
    let other = app.enterprise(&uscc(4502), "沈阳别家有限公司", "210112");
    let mine = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    let theirs = create(&app, &w.admin, other, "srdi_sme", today().year(), false);
    let foreign = app.post(
        "/api/v1/applications",
        Some(&w.owner),
        &json!({"enterprise_id": other, "tier": "srdi_sme", "year": today().year()}),
    );
    assert_eq!(foreign.status(), 404);
    let listed = body(app.get("/api/v1/applications", &w.owner));
    let ids: Vec<i64> = listed["items"]
        .as_array()
        .cloned()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(ids, [mine]);
    assert_eq!(
        app.get(&format!("/api/v1/applications/{theirs}"), &w.owner)
            .status(),
        404
    );
    let all = body(app.get(
        &format!(
            "/api/v1/applications?tier=srdi_sme&state=draft&year={}",
            today().year()
        ),
        &w.reviewer,
    ));
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
    let bad = app.get("/api/v1/applications?state=pending", &w.admin);
    assert_eq!(bad.status(), 422);
    let cert = insert_certification(&app, other, "tech_sme", "SY-TS-X-1", today(), today());
    assert_eq!(
        app.get(&format!("/api/v1/certifications/{cert}"), &w.owner)
            .status(),
        404
    );
    assert!(certifications_of(&app, &w.owner, other).is_empty());
    assert_eq!(
        body(app.get("/api/v1/certifications", &w.reviewer))["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn a_renewal_follows_on_from_the_title_it_renews() {
    let app = TestApp::spawn();
    let w = world(&app, 4601);
    // Holds a title expiring in 100 days (an imported one).
    let old_to = today() + chrono::Duration::days(100);
    let old_from = old_to
        .checked_sub_months(Months::new(36))
        .and_then(|d| d.succ_opt())
        .unwrap();
    let old = insert_certification_until(
        &app,
        w.enterprise,
        "srdi_sme",
        "SY-SR-2023-0042",
        old_from,
        old_from,
        old_to,
    );
    let plain = app.post(
        "/api/v1/applications",
        Some(&w.owner),
        &json!({"enterprise_id": w.enterprise, "tier": "srdi_sme", "year": today().year()}),
    );
    assert_eq!(
        plain.status(),
        409,
        "a first application while holding the title"
    );
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        true,
    );
    let submitted = body(act(&app, &w.owner, id, "submit", &json!({})));
    assert_eq!(submitted["renewal"], true);
    assert_eq!(submitted["prescreen"]["renewal"], true);
    let full = body(act(
        &app,
        &w.admin,
        id,
        "assign",
        &json!({"reviewer_id": w.reviewer_id}),
    ));
    let approved = body(act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &approval(&full, "复核通过"),
    ));
    assert_eq!(approved["state"], "approved", "{approved}");
    let new_from = old_to.succ_opt().unwrap();
    assert_eq!(
        approved["certification"]["valid_from"],
        new_from.to_string()
    );
    let old_now = body(app.get(&format!("/api/v1/certifications/{old}"), &w.admin));
    assert_eq!(old_now["is_current"], false);
    assert_eq!(
        old_now["status"], "active",
        "the renewed title runs to its end"
    );
    // Exactly one title in force on any day.
    for day in [today(), old_to, new_from] {
        let items = body(app.get(
            &format!(
                "/api/v1/certifications?enterprise_id={}&active_on={day}",
                w.enterprise
            ),
            &w.admin,
        ));
        assert_eq!(items["items"].as_array().map(Vec::len), Some(1), "{day}");
    }
}
