//! Seeding runs as versioned data migrations: once per database, never undoing an admin's
//! change on restart, shipped rule sets published through the same checks as an admin's.

use crate::helpers::{TestApp, body};
use ladder::Application;
use reqwest::Method;
use serde_json::{Value, json};

fn restart(app: &TestApp) -> Application {
    Application::prepare(app.state.config.clone()).unwrap()
}

#[test]
fn a_deleted_quota_stays_deleted_after_a_restart() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let qs = body(app.get("/api/v1/quotas?year=2026", &admin));
    let qs = qs.as_array().unwrap();
    assert_eq!(qs.len(), 8);
    let gone = qs[0]["id"].as_i64().unwrap();
    let r = app
        .client
        .request(Method::DELETE, app.url(&format!("/api/v1/quotas/{gone}")))
        .bearer_auth(&admin)
        .header("If-Match", qs[0]["etag"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);

    let again = restart(&app);
    drop(again);
    let qs = body(app.get("/api/v1/quotas?year=2026", &admin));
    let qs = qs.as_array().unwrap();
    assert_eq!(qs.len(), 7, "the deleted quota came back: {qs:?}");
    assert!(qs.iter().all(|q| q["id"].as_i64() != Some(gone)));
}

#[test]
fn every_step_runs_once_and_is_recorded() {
    let app = TestApp::spawn();
    let mut conn = app.conn();
    let steps = ladder::services::seed::steps().unwrap();
    let ids: Vec<String> = steps.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids.len(), 2 + 13 + 1, "{ids:?}");
    let mut recorded = ladder::models::data_migration::all(&mut conn).unwrap();
    recorded.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(recorded, expected);
    assert!(ids.contains(&"rulesets/srdi_sme@2".to_string()), "{ids:?}");
    // Run again: nothing runs, nothing is added.
    let ran = ladder::services::seed::run_steps(&mut conn, &steps).unwrap();
    assert!(ran.is_empty(), "{ran:?}");
    let published = body(app.get("/api/v1/rulesets?status=published&limit=100", &app.admin()));
    assert_eq!(published["items"].as_array().unwrap().len(), 13);
}

/// srdi_sme version 2 (2026-04-01, open-ended) is shipped and published; a release that
/// shipped a version 3 from 2026-06-01 without closing version 2 would put two rule sets in
/// force from June. The seed keeps it a draft instead, and says why.
#[test]
fn a_shipped_rule_set_that_overlaps_a_published_one_stays_a_draft() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let mut doc: Value =
        serde_json::from_str(include_str!("../../fixtures/rulesets/srdi_sme-2026.json")).unwrap();
    doc["version"] = json!(3);
    doc["effective_from"] = json!("2026-06-01");
    let text = doc.to_string();
    let (id, published) = {
        let mut conn = app.conn();
        ladder::services::rulesets::seed_file(&mut conn, "srdi_sme-2026b", &text).unwrap()
    };
    assert!(!published);
    let rs = body(app.get(&format!("/api/v1/rulesets/{id}"), &admin));
    assert_eq!(rs["status"], "draft");
    let live = body(app.get("/api/v1/rulesets?tier=srdi_sme&status=published", &admin));
    let versions: Vec<i64> = live["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(!versions.contains(&3), "{versions:?}");
    let audit = body(app.get(&format!("/api/v1/audit?entity=ruleset&id={id}"), &admin));
    let held: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "ruleset.seed_held")
        .collect();
    assert_eq!(held.len(), 1, "{audit}");
    assert!(
        held[0]["after"]["problems"][0]
            .as_str()
            .unwrap()
            .contains("overlaps published rule set")
    );
}

/// Two overlapping drafts of one tier published at the same moment: one wins, the other is
/// told it overlaps, so one rule set at most is in force on a day.
#[test]
fn concurrent_publications_of_overlapping_drafts_leave_one_in_force() {
    let app = TestApp::spawn();
    let admin = app.admin();
    for round in 0..6 {
        let year = 2200 + round;
        let ids: Vec<i64> = (0..2)
            .map(|k| {
                let mut d = crate::helpers::ruleset_draft(500 + round * 2 + k);
                d["effective_from"] = json!(format!("{year}-01-01"));
                d["effective_to"] = json!(format!("{year}-12-31"));
                let r = app.post("/api/v1/rulesets", Some(&admin), &d);
                assert_eq!(r.status(), 201);
                body(r)["id"].as_i64().unwrap()
            })
            .collect();
        let barrier = std::sync::Barrier::new(2);
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| {
                    let (app, admin, barrier) = (&app, &admin, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        app.post(
                            &format!("/api/v1/rulesets/{id}/publish"),
                            Some(admin),
                            &json!({}),
                        )
                        .status()
                        .as_u16()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort();
        assert_eq!(sorted, vec![200, 422], "round {round}: {statuses:?}");
    }
}

#[test]
fn the_indicator_list_is_the_catalog() {
    let app = TestApp::spawn();
    let admin = app.admin();
    // The table is a copy of the catalog …
    let mut conn = app.conn();
    let rows = ladder::models::reference::all_indicators(&mut conn).unwrap();
    assert_eq!(rows.len(), ladder::catalog::INDICATORS.len());
    // … and the list is the catalog itself, whatever happens to the copy.
    use diesel::RunQueryDsl;
    diesel::sql_query("UPDATE indicators SET max_value = '1', label_en = 'tampered'")
        .execute(&mut *conn)
        .unwrap();
    let list = body(app.get("/api/v1/indicators", &admin));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), ladder::catalog::INDICATORS.len());
    for i in ladder::catalog::INDICATORS.iter() {
        let item = list.iter().find(|x| x["code"] == i.code).unwrap();
        assert_eq!(item["label_en"], i.label_en);
        assert_ne!(item["label_en"], "tampered");
        if i.max.is_none() {
            assert_eq!(item["max"], Value::Null, "{}", i.code);
        }
    }
}
