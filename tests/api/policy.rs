//! The one authorization policy (issue 11 item 11): services refuse what the caller may not
//! do whoever calls them (route, CLI, batch), names are parsed one way, and an owner who
//! changes a verified enterprise's identity loses the verification.

use crate::helpers::{TestApp, body, uscc};
use ladder::domain::Role;
use ladder::error::AppError;
use ladder::services::policy::{Caller, CallerKind};
use reqwest::Method;
use serde_json::{Value, json};

fn caller(id: i32, role: Role, enterprise_id: Option<i32>) -> Caller {
    Caller {
        kind: CallerKind::User,
        id,
        name: format!("u{id}"),
        role,
        enterprise_id,
    }
}

fn status(r: Result<impl Sized, AppError>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(AppError::NotFound) => 404,
        Err(AppError::Forbidden(_)) => 403,
        Err(AppError::Validation(_)) => 422,
        Err(AppError::Conflict(_)) => 409,
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[test]
fn services_refuse_by_role_whoever_calls_them() {
    let app = TestApp::spawn();
    let eid = app.enterprise(&uscc(1), "沈阳政策一号有限公司", "210106");
    let mut c = app.conn();
    let official = caller(90, Role::Official, None);
    let owner = caller(91, Role::Enterprise, Some(eid));
    // Revocation took a caller and never looked at it: an official could revoke.
    assert_eq!(
        status(ladder::services::certifications::revoke(
            &mut c, &official, 1, "fraud"
        )),
        403
    );
    assert_eq!(
        status(ladder::services::certifications::revoke(
            &mut c,
            &Caller::system("cli"),
            999_999,
            "fraud"
        )),
        404
    );
    // Writes that the routes used to guard are refused in the services themselves.
    let doc = crate::helpers::ruleset_draft(7);
    assert_eq!(
        status(ladder::services::rulesets::create_draft(
            &mut c, &owner, &doc
        )),
        403
    );
    assert_eq!(
        status(ladder::services::rulesets::create_draft(
            &mut c,
            &Caller::system("cli"),
            &doc
        )),
        200
    );
    assert_eq!(
        status(ladder::services::quotas::list(&mut c, &owner, None)),
        403
    );
    assert_eq!(
        status(ladder::services::rollup::report(
            &mut c,
            &owner,
            2025,
            chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        )),
        403
    );
    assert_eq!(
        status(ladder::services::users::list_users(
            &mut c, &official, 0, 10, None
        )),
        403
    );
    assert_eq!(
        status(ladder::services::audit::verify_for(&mut c, &owner)),
        403
    );
    // An enterprise account may not see another enterprise's facts: 404, not 403.
    let other = app.enterprise(&uscc(2), "沈阳政策二号有限公司", "210106");
    let facts = json!({"operating_revenue": "10"});
    let facts = facts.as_object().cloned().unwrap();
    let sheet = ladder::engine::FactSheet::parse_year(2025, &facts, ladder::clock::today())
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        status(ladder::services::facts::put_year(
            &mut c, &owner, other, 2025, &sheet
        )),
        404
    );
    assert_eq!(
        status(ladder::services::facts::put_year(
            &mut c, &official, other, 2025, &sheet
        )),
        403
    );
    assert_eq!(
        status(ladder::services::facts::put_year(
            &mut c, &owner, eid, 2025, &sheet
        )),
        200
    );
}

fn patch(app: &TestApp, token: &str, id: i32, b: &Value) -> reqwest::blocking::Response {
    app.client
        .request(Method::PATCH, app.url(&format!("/api/v1/enterprises/{id}")))
        .bearer_auth(token)
        .header("If-Match", "*")
        .json(b)
        .send()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_owner_changing_identity_loses_verification_and_it_is_audited() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let id = app.enterprise(&uscc(3), "沈阳已核有限公司", "210106");
    app.user("owner3", Role::Enterprise, Some(id));
    let owner = app.login("owner3");
    // A change that is not identity keeps the verification.
    let r = patch(&app, &owner, id, &json!({"cluster_code": "robotics"}));
    assert_eq!(r.status(), 200);
    assert_eq!(body(r)["verified"], true);
    // The same name is no change either.
    let r = patch(&app, &owner, id, &json!({"name": "沈阳已核有限公司"}));
    assert_eq!(body(r)["verified"], true);
    // A new district moves the enterprise's credit in the rollup: unverified.
    let r = patch(&app, &owner, id, &json!({"district_code": "210112"}));
    assert_eq!(r.status(), 200);
    assert_eq!(body(r)["verified"], false);
    let trail = body(app.get(&format!("/api/v1/audit?entity=enterprise&id={id}"), &admin));
    let cleared: Vec<&Value> = trail["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["action"] == "enterprise.verification_cleared")
                .collect()
        })
        .unwrap();
    assert_eq!(cleared.len(), 1, "{trail}");
    assert_eq!(cleared[0]["after"]["verified"], false);
    assert_eq!(cleared[0]["after"]["district_code"], "210112");
    // An admin verifies again; an admin's own renaming keeps it verified.
    let r = patch(&app, &admin, id, &json!({"verified": true}));
    assert_eq!(body(r)["verified"], true);
    let r = patch(&app, &admin, id, &json!({"name": "沈阳管理员改名有限公司"}));
    assert_eq!(body(r)["verified"], true);
    // The owner renaming it clears it again.
    let r = patch(&app, &owner, id, &json!({"name": "沈阳业主改名有限公司"}));
    assert_eq!(body(r)["verified"], false);
}

#[test]
fn names_refuse_control_and_bidi_characters_on_every_path() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let bad_names = [
        "沈阳\u{202E}司公限有",
        "Evil\u{2066}Corp\u{2069}",
        "a\u{200F}b",
        "line\nbreak",
        "tab\there",
    ];
    for (i, name) in bad_names.iter().enumerate() {
        // Registration.
        let r = app.post(
            "/api/v1/auth/register",
            None,
            &json!({"username": format!("bidi{i}"), "password": crate::helpers::PASSWORD,
                    "uscc": uscc(100 + i as u32), "name": name, "district_code": "210106"}),
        );
        assert_eq!(r.status(), 422, "{name:?}");
        let b = body(r);
        assert_eq!(b["errors"][0]["field"], "name", "{b}");
        // Admin create.
        let r = app.post(
            "/api/v1/enterprises",
            Some(&admin),
            &json!({"uscc": uscc(200 + i as u32), "name": name, "district_code": "210106"}),
        );
        assert_eq!(r.status(), 422, "{name:?}");
        assert_eq!(body(r)["errors"][0]["field"], "name");
        // Certification import (creates missing enterprises).
        let r = app.post(
            "/api/v1/certifications/import",
            Some(&admin),
            &json!({"items": [{"uscc": uscc(300 + i as u32), "name": name, "district_code": "210106",
                "tier": "srdi_sme", "number": format!("B-{i}"), "issued_on": "2024-01-15",
                "valid_from": "2024-01-01", "valid_to": "2026-12-31"}]}),
        );
        assert_eq!(r.status(), 422, "{name:?}");
        assert_eq!(body(r)["errors"][0]["field"], "items[0].name");
    }
    // PATCH.
    let id = app.enterprise(&uscc(400), "沈阳正名有限公司", "210106");
    for name in bad_names {
        let r = patch(&app, &admin, id, &json!({ "name": name }));
        assert_eq!(r.status(), 422, "{name:?}");
        assert_eq!(body(r)["errors"][0]["field"], "name");
    }
    // The enterprise CSV import.
    let mut c = app.conn();
    let csv = format!(
        "uscc,name,district_code\n{},\"Bad\u{202E}Name\",210106\n",
        uscc(401)
    );
    match ladder::services::import::enterprises(&mut c, "test", &csv, false) {
        Err(ladder::services::import::ImportError::Rows(rows)) => {
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].field, "name");
        }
        other => panic!("expected a row error, got {:?}", other.map_err(|_| ())),
    }
}
