//! The one clock, end to end: the whole service runs at 2026-03-31T16:30:00Z, which is 00:30
//! on 1 April 2026 in Shenyang, the day the 2026 national rules took effect. Under a UTC
//! clock every answer below would say 31 March and the 2022 rules.
//!
//! A separate test binary because the clock is per process (installed like the audit key by
//! `Application::prepare`); the tests here take turns so each sees its own start.

// A panic is how a test fails: test code (helpers included) may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use chrono::{DateTime, Utc};
use helpers::{TestApp, body, uscc};
use ladder::clock::{Clock, DEFAULT_TZ};
use ladder::domain::Role;
use serde_json::json;
use std::sync::Mutex;

static ONE_CLOCK_AT_A_TIME: Mutex<()> = Mutex::new(());

fn spawn_at(instant: &str) -> (TestApp, std::sync::MutexGuard<'static, ()>) {
    let guard = ONE_CLOCK_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let start: DateTime<Utc> = ladder::clock::parse_instant(instant).unwrap();
    let app = TestApp::spawn_with(|c| c.clock = Clock::starting_at(start, DEFAULT_TZ));
    (app, guard)
}

/// 00:30 on 1 April in Shenyang.
const APRIL_FIRST_0030: &str = "2026-03-31T16:30:00Z";

#[test]
fn half_past_midnight_on_1_april_grades_under_the_2026_rules() {
    let (app, _g) = spawn_at(APRIL_FIRST_0030);
    let admin = app.admin();
    let ent = app.enterprise(&uscc(4101), "时钟测试有限公司", "210106");

    // The default as_of is the Shenyang date, and the rule set in force on it is 2026's.
    let r = app.get(&format!("/api/v1/enterprises/{ent}/eligibility"), &admin);
    assert_eq!(r.status(), 200);
    let b = body(r);
    assert_eq!(b["as_of"], "2026-04-01", "{b}");
    let srdi = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tier"] == "srdi_sme")
        .unwrap_or_else(|| panic!("no srdi_sme item: {b}"));
    assert_eq!(srdi["ruleset"]["version"], 2, "{srdi}");
    assert_eq!(srdi["as_of"], "2026-04-01", "{srdi}");
}

#[test]
fn a_submission_at_half_past_midnight_keeps_the_2026_pre_screen() {
    let (app, _g) = spawn_at(APRIL_FIRST_0030);
    let admin = app.admin();
    let ent = app.enterprise(&uscc(4102), "时钟申报有限公司", "210106");
    app.user("clock_owner", Role::Enterprise, Some(ent));
    let owner = app.login("clock_owner");
    let r = app.post(
        "/api/v1/applications",
        Some(&owner),
        &json!({"enterprise_id": ent, "tier": "srdi_sme", "year": 2026}),
    );
    assert_eq!(r.status(), 201);
    let id = body(r)["id"].as_i64().unwrap();
    let r = app.post(
        &format!("/api/v1/applications/{id}/submit"),
        Some(&owner),
        &json!({}),
    );
    assert_eq!(r.status(), 200);
    let a = body(app.get(&format!("/api/v1/applications/{id}"), &admin));
    let pre = &a["prescreen"];
    assert_eq!(pre["as_of"], "2026-04-01", "{a}");
    assert_eq!(pre["result"]["ruleset"]["version"], 2, "{a}");
}

#[test]
fn revocations_and_founding_dates_use_the_shenyang_date() {
    let (app, _g) = spawn_at(APRIL_FIRST_0030);
    let admin = app.admin();

    // Founded "today" in Shenyang is not in the future.
    let r = app.post(
        "/api/v1/enterprises",
        Some(&admin),
        &json!({"uscc": uscc(4103), "name": "今日成立有限公司", "district_code": "210106",
                "founded_on": "2026-04-01"}),
    );
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    // The next Shenyang day is.
    let r = app.post(
        "/api/v1/enterprises",
        Some(&admin),
        &json!({"uscc": uscc(4104), "name": "明日成立有限公司", "district_code": "210106",
                "founded_on": "2026-04-02"}),
    );
    assert_eq!(r.status(), 422);

    let ent = app.enterprise(&uscc(4105), "时钟撤销有限公司", "210106");
    let cert = {
        use ladder::models::certification::{NewCertification, insert};
        let d = |m, d| chrono::NaiveDate::from_ymd_opt(2025, m, d).unwrap();
        insert(
            &mut app.conn(),
            &NewCertification {
                enterprise_id: ent,
                tier: "tech_sme",
                number: "SY-TS-CLOCK-1",
                issued_on: d(1, 10),
                valid_from: d(1, 10),
                valid_to: d(12, 31) + chrono::Duration::days(365),
                application_id: None,
                ruleset_id: None,
                batch: Some("test"),
                imported: true,
                is_current: true,
                created_at: ladder::models::now(),
                override_reason: None,
            },
        )
        .unwrap()
    };
    let r = app.post(
        &format!("/api/v1/certifications/{cert}/revoke"),
        Some(&admin),
        &json!({"reason": "clock test"}),
    );
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let c = body(app.get(&format!("/api/v1/certifications/{cert}"), &admin));
    assert_eq!(c["revoked_on"], "2026-04-01", "{c}");
}

/// Issue 11 item 12: a report for a year not yet begun is taken as of that year's
/// 31 December (as the CLI help says), a past year as of its end, the current year today.
#[test]
fn a_report_of_another_year_defaults_to_its_31_december() {
    let (app, _g) = spawn_at(APRIL_FIRST_0030);
    let admin = app.admin();
    for (year, as_of) in [
        (2027, "2027-12-31"),
        (2025, "2025-12-31"),
        (2026, "2026-04-01"),
    ] {
        let r = app.get(&format!("/api/v1/reports/rollup?year={year}"), &admin);
        assert_eq!(r.status(), 200);
        assert_eq!(body(r)["as_of"], as_of, "year {year}");
    }
    assert_eq!(ladder::clock::default_as_of(2027).to_string(), "2027-12-31");
}
