//! Publicity (公示, API.md "Decisions and publicity"): the period in working days on the
//! calendar, the public list, objections and their resolution, issuing at the end of the
//! period exactly once (`ladder tick`, the background job of `ladder serve`), notifications.

use crate::helpers::{PASSWORD, TestApp, body, uscc};
use crate::races::{DropDb, fresh_database, ladder_cmd, start_with};
use crate::workflow::{act, approval, set_publicity_days, today, under_review, world};
use chrono::{Datelike, NaiveDate};
use reqwest::blocking::Client;
use serde_json::{Value, json};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn certs_of(app: &TestApp, token: &str, enterprise: i32) -> Vec<Value> {
    body(app.get(
        &format!("/api/v1/certifications?enterprise_id={enterprise}"),
        token,
    ))["items"]
        .as_array()
        .cloned()
        .unwrap()
}

#[test]
fn the_calendar_holds_the_state_council_notices() {
    let app = TestApp::spawn();
    let owner_world = world(&app, 9001);
    let admin = owner_world.admin.clone();
    let c = body(app.get("/api/v1/calendar/2026", &admin));
    assert!(
        c["source"]
            .as_str()
            .unwrap()
            .contains("国办发明电〔2025〕7号"),
        "{c}"
    );
    let kind = |day: &str| {
        c["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["date"] == day)
            .map(|x| x["kind"].as_str().unwrap().to_string())
    };
    assert_eq!(kind("2026-10-01").as_deref(), Some("holiday"));
    assert_eq!(kind("2026-10-07").as_deref(), Some("holiday"));
    assert_eq!(kind("2026-10-10").as_deref(), Some("workday"));
    assert_eq!(kind("2026-09-20").as_deref(), Some("workday"));
    assert_eq!(kind("2026-02-14").as_deref(), Some("workday"));
    assert_eq!(kind("2026-10-08"), None);
    let c25 = body(app.get("/api/v1/calendar/2025", &admin));
    assert!(
        c25["source"]
            .as_str()
            .unwrap()
            .contains("国办发明电〔2024〕12号")
    );
    assert_eq!(app.get("/api/v1/calendar/2031", &admin).status(), 404);

    // Admins add a year; others may not.
    let year = json!({"source": "国办发明电〔2030〕1号 (test)", "days": [
        {"date": "2031-01-01", "kind": "holiday", "name": "元旦"},
        {"date": "2031-01-04", "kind": "workday", "name": "调休上班"}]});
    let r = app.put("/api/v1/calendar/2031", &owner_world.owner, &year);
    assert_eq!(r.status(), 403);
    let r = app.put("/api/v1/calendar/2031", &admin, &year);
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
    assert_eq!(
        body(app.get("/api/v1/calendar/2031", &admin))["days"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let bad =
        json!({"source": "x", "days": [{"date": "2032-01-01", "kind": "party", "name": "?"}]});
    let r = app.put("/api/v1/calendar/2031", &admin, &bad);
    assert_eq!(r.status(), 422);
    let f: Vec<String> = body(r)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(f, ["days[0].date", "days[0].kind"]);
}

#[test]
fn publicity_days_are_set_per_tier_by_admins_within_0_to_30() {
    let app = TestApp::spawn();
    let w = world(&app, 9101);
    let tiers = body(app.get("/api/v1/tiers", &w.owner));
    let lg = tiers
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "little_giant")
        .cloned()
        .unwrap();
    assert_eq!(lg["publicity_days"], 5, "the default");
    let patch = |token: &str, days: Value| {
        app.request(
            reqwest::Method::PATCH,
            "/api/v1/tiers/little_giant",
            Some(token),
            Some(&json!({"publicity_days": days})),
        )
    };
    assert_eq!(patch(&w.owner, json!(3)).status(), 403);
    assert_eq!(patch(&w.admin, json!(31)).status(), 422);
    assert_eq!(patch(&w.admin, json!(-1)).status(), 422);
    let r = patch(&w.admin, json!(30));
    assert_eq!(r.status(), 200);
    assert_eq!(body(r)["publicity_days"], 30);
    let r = app.request(
        reqwest::Method::PATCH,
        "/api/v1/tiers/no_such_tier",
        Some(&w.admin),
        Some(&json!({"publicity_days": 3})),
    );
    assert_eq!(r.status(), 404);
}

/// Approves an application of `w` under publicity (5 working days); returns its id and body.
fn publicized(app: &TestApp, w: &crate::workflow::World) -> (i64, Value) {
    set_publicity_days(app, &w.admin, "srdi_sme", 5);
    let (id, full) = under_review(app, w, "srdi_sme");
    let b = body(act(
        app,
        &w.reviewer,
        id,
        "decision",
        &approval(&full, "同意"),
    ));
    assert_eq!(b["state"], "publicized", "{b}");
    (id, b)
}

#[test]
fn an_upheld_objection_rejects_the_application_and_no_certificate_issues() {
    let app = TestApp::spawn();
    let w = world(&app, 9201);
    let (id, b) = publicized(&app, &w);
    assert_eq!(b["certification"], Value::Null);
    let to = d(b["publicity"]["to"].as_str().unwrap());

    // On the public list, without sign-in.
    let list: Value = app
        .client
        .get(app.url("/api/v1/public/publicity"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["application_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(item["uscc"], uscc(9201));
    assert_eq!(item["tier"], "srdi_sme");
    assert_eq!(item["to"], to.to_string());

    // An objection, kept verbatim.
    let text = "<script>alert(1)</script> 该企业2025年营业收入数据不实 \u{202e}";
    let r = app.post(
        &format!("/api/v1/public/publicity/{id}/objections"),
        None,
        &json!({"name": "张三", "contact": "13800000000", "text": text}),
    );
    assert_eq!(r.status(), 201);
    let objection = body(r)["id"].as_i64().unwrap();
    // Bad input: lengths, and an application not under publicity.
    let r = app.post(
        &format!("/api/v1/public/publicity/{id}/objections"),
        None,
        &json!({"name": "", "contact": "x", "text": "y".repeat(5001)}),
    );
    assert_eq!(r.status(), 422);
    let other = crate::workflow::create(
        &app,
        &w.owner,
        w.enterprise,
        "little_giant",
        today().year(),
        false,
    );
    let r = app.post(
        &format!("/api/v1/public/publicity/{other}/objections"),
        None,
        &json!({"name": "李四", "contact": "x", "text": "y"}),
    );
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.post(
            "/api/v1/public/publicity/999999/objections",
            None,
            &json!({"name": "李四", "contact": "x", "text": "y"}),
        )
        .status(),
        404
    );

    // Admins see it; others may not.
    assert_eq!(app.get("/api/v1/objections", &w.reviewer).status(), 403);
    let queue = body(app.get("/api/v1/objections?status=open", &w.admin));
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(queue["items"][0]["text"], text);
    // The admins were told, in the same transaction.
    let inbox = body(app.get("/api/v1/me/notifications?unread=true", &w.admin));
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "objection" && n["application_id"] == id),
        "{inbox}"
    );

    // While an objection is open, the end of the period issues nothing.
    let mut conn = app.conn();
    let after = to.succ_opt().unwrap();
    let ended = ladder::services::publicity::issue_due(&mut conn, after).unwrap();
    assert!(ended.is_empty(), "{ended:?}");
    drop(conn);

    // Upheld: rejected, no certificate, even once the period is long over.
    let r = app.post(
        &format!("/api/v1/objections/{objection}/resolve"),
        Some(&w.admin),
        &json!({"upheld": true, "comment": "经核查营业收入数据不实"}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(body(r)["status"], "upheld");
    let a = body(app.get(&format!("/api/v1/applications/{id}"), &w.owner));
    assert_eq!(a["state"], "rejected", "{a}");
    let mut conn = app.conn();
    let ended =
        ladder::services::publicity::issue_due(&mut conn, after + chrono::Days::new(30)).unwrap();
    assert!(ended.is_empty());
    drop(conn);
    assert!(certs_of(&app, &w.admin, w.enterprise).is_empty());
    let again = app.post(
        &format!("/api/v1/objections/{objection}/resolve"),
        Some(&w.admin),
        &json!({"upheld": false, "comment": "again"}),
    );
    assert_eq!(again.status(), 409);
    // The list no longer shows it.
    let list: Value = app
        .client
        .get(app.url("/api/v1/public/publicity"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        !list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["application_id"] == id)
    );
    let inbox = body(app.get("/api/v1/me/notifications", &w.owner));
    let kinds: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["submitted", "assigned", "publicity", "decided", "objection"],
        "{inbox}"
    );
}

#[test]
fn a_dismissed_objection_lets_the_certificate_issue_dated_the_day_after_the_period() {
    let app = TestApp::spawn();
    let w = world(&app, 9301);
    let (id, b) = publicized(&app, &w);
    let to = d(b["publicity"]["to"].as_str().unwrap());
    let r = app.post(
        &format!("/api/v1/public/publicity/{id}/objections"),
        None,
        &json!({"name": "王五", "contact": "wang@example.com", "text": "名称有误"}),
    );
    let objection = body(r)["id"].as_i64().unwrap();
    let r = app.post(
        &format!("/api/v1/objections/{objection}/resolve"),
        Some(&w.admin),
        &json!({"upheld": false, "comment": "经核查不影响认定"}),
    );
    assert_eq!(body(r)["status"], "dismissed");
    // On the last day of the period nothing issues; the day after, it does — once.
    let mut conn = app.conn();
    assert!(
        ladder::services::publicity::issue_due(&mut conn, to)
            .unwrap()
            .is_empty()
    );
    let later = to + chrono::Days::new(9);
    assert_eq!(
        ladder::services::publicity::issue_due(&mut conn, later).unwrap(),
        [id as i32]
    );
    assert!(
        ladder::services::publicity::issue_due(&mut conn, later)
            .unwrap()
            .is_empty()
    );
    drop(conn);
    let certs = certs_of(&app, &w.admin, w.enterprise);
    assert_eq!(certs.len(), 1);
    // Dated the first day after the period, however late the tick ran.
    assert_eq!(certs[0]["issued_on"], to.succ_opt().unwrap().to_string());
    assert_eq!(certs[0]["valid_from"], to.succ_opt().unwrap().to_string());
    let a = body(app.get(&format!("/api/v1/applications/{id}"), &w.owner));
    assert_eq!(a["state"], "approved");
    assert_eq!(a["certification"]["id"], certs[0]["id"]);
    let history: Vec<&str> = a["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "draft",
            "submitted",
            "under_review",
            "publicized",
            "approved"
        ]
    );
    let inbox = body(app.get("/api/v1/me/notifications?unread=true", &w.owner));
    let certified = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "certified")
        .cloned()
        .unwrap_or_else(|| panic!("{inbox}"));
    let nid = certified["id"].as_i64().unwrap();
    let r = app.post(
        &format!("/api/v1/me/notifications/{nid}/read"),
        Some(&w.owner),
        &json!({}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(body(r)["read"], true);
    // Someone else's notification is not found.
    assert_eq!(
        app.post(
            &format!("/api/v1/me/notifications/{nid}/read"),
            Some(&w.reviewer),
            &json!({})
        )
        .status(),
        404
    );
    let unread = body(app.get("/api/v1/me/notifications?unread=true", &w.owner));
    assert!(
        !unread["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == nid)
    );
}

#[test]
fn publicity_counts_in_the_rollup_pipeline() {
    let app = TestApp::spawn();
    let w = world(&app, 9401);
    let quota = body(app.post(
        "/api/v1/quotas",
        Some(&w.admin),
        &json!({"year": today().year(), "scope": "210106", "tiers": ["srdi_sme"], "measure": "new", "target": 2, "label_zh": "专精特新新增", "label_en": "SRDI new"}),
    ));
    publicized(&app, &w);
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
        .find(|q| q["id"] == quota["id"])
        .cloned()
        .unwrap();
    assert_eq!(q["pipeline"]["publicized"], 1, "{q}");
    assert_eq!(q["achieved"], 0, "not issued yet");
}

#[test]
fn objections_are_rate_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.objection_rate_per_min = 2);
    let w = world(&app, 9501);
    let (id, _) = publicized(&app, &w);
    let send = || {
        app.post(
            &format!("/api/v1/public/publicity/{id}/objections"),
            None,
            &json!({"name": "赵六", "contact": "x", "text": "重复异议"}),
        )
    };
    assert_eq!(send().status(), 201);
    assert_eq!(send().status(), 201);
    let r = send();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
}

/// A database for processes of our own: a SQLite file, or a new PostgreSQL database.
enum ProcDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] DropDb),
}

fn process_database(prefix: &str) -> (String, ProcDb) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let (url, guard) = fresh_database(&admin, prefix);
            (url, ProcDb::Postgres(guard))
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let url = dir.path().join("ladder.db").to_string_lossy().to_string();
            (url, ProcDb::Sqlite(dir))
        }
    }
}

fn create_admin(url: &str) {
    let mut create = ladder_cmd(url)
        .args([
            "users",
            "create",
            "--username",
            "root",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = create.stdin.take() {
        use std::io::Write;
        stdin.write_all(PASSWORD.as_bytes()).unwrap();
    }
    assert!(create.wait().unwrap().success());
}

/// `ladder tick` with the clock at `instant`; its stdout.
fn tick_at(url: &str, instant: &str) -> String {
    let out = ladder_cmd(url)
        .arg("tick")
        .env("LADDER_CLOCK_START", instant)
        .env("LADDER_POOL_SIZE", "2")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Through HTTP on a server of its own: `(status, body)`.
struct Http<'a> {
    client: &'a Client,
    base: String,
}

impl Http<'_> {
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        b: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = b {
            rb = rb.json(&b);
        }
        let r = rb.send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }
    fn post(&self, path: &str, token: Option<&str>, b: Value) -> Value {
        let (s, v) = self.call(reqwest::Method::POST, path, token, Some(b));
        assert!(s < 300, "{path}: {s} {v}");
        v
    }
    fn get(&self, path: &str, token: &str) -> Value {
        let (s, v) = self.call(reqwest::Method::GET, path, Some(token), None);
        assert_eq!(s, 200, "{path}: {v}");
        v
    }
    fn login(&self, user: &str) -> String {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"username": user, "password": PASSWORD}),
        )["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Registers an enterprise, files, submits, assigns and approves an srdi_sme application
/// through `h` (the server's clock decides the day); returns `(application id, body)`.
fn approve_one(h: &Http, admin: &str, reviewer: &str, reviewer_id: i64, n: u32) -> (i64, Value) {
    let reg = h.post(
        "/api/v1/auth/register",
        None,
        json!({"username": format!("pub_owner{n}"), "password": PASSWORD, "uscc": uscc(n), "name": format!("沈阳公示{n}有限公司"), "district_code": "210106"}),
    );
    let owner = reg["access_token"].as_str().unwrap().to_string();
    let enterprise = h.get("/api/v1/me", &owner)["enterprise"]["id"]
        .as_i64()
        .unwrap();
    let a = h.post(
        "/api/v1/applications",
        Some(&owner),
        json!({"enterprise_id": enterprise, "tier": "srdi_sme", "year": 2026}),
    );
    let id = a["id"].as_i64().unwrap();
    h.post(
        &format!("/api/v1/applications/{id}/submit"),
        Some(&owner),
        json!({}),
    );
    let full = h.post(
        &format!("/api/v1/applications/{id}/assign"),
        Some(admin),
        json!({"reviewer_id": reviewer_id}),
    );
    let b = h.post(
        &format!("/api/v1/applications/{id}/decision"),
        Some(reviewer),
        approval(&full, "同意"),
    );
    (id, b)
}

#[test]
fn a_period_spanning_the_national_day_holiday_ends_on_the_right_working_day() {
    let (url, _db) = process_database("ladder_pub");
    create_admin(&url);
    let client = Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap();
    // The service's clock: Monday 28 September 2026, 09:00 in Shenyang.
    let server = start_with(
        &url,
        &client,
        &[
            ("LADDER_CLOCK_START", "2026-09-28T01:00:00Z"),
            ("LADDER_TICK_SECS", "0"),
        ],
    );
    let h = Http {
        client: &client,
        base: server.base.clone(),
    };
    let admin = h.login("root");
    let (s, _) = h.call(
        reqwest::Method::PATCH,
        "/api/v1/tiers/srdi_sme",
        Some(&admin),
        Some(json!({"publicity_days": 6})),
    );
    assert_eq!(s, 200);
    let reviewer_id = h.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "pub_reviewer", "password": PASSWORD, "role": "reviewer"}),
    )["id"]
        .as_i64()
        .unwrap();
    let reviewer = h.login("pub_reviewer");
    let (id, b) = approve_one(&h, &admin, &reviewer, reviewer_id, 9601);
    assert_eq!(b["state"], "publicized", "{b}");
    // Six working days counted by hand on the 2026 calendar (国办发明电〔2025〕7号):
    //   Mon 28 Sep (1), Tue 29 Sep (2), Wed 30 Sep (3),
    //   Thu 1 Oct – Wed 7 Oct: National Day holiday, not counted,
    //   Thu 8 Oct (4), Fri 9 Oct (5), Sat 10 Oct: a make-up working day (6).
    assert_eq!(
        b["publicity"],
        json!({"from": "2026-09-28", "to": "2026-10-10"})
    );

    // On the last day of the period (Sat 10 Oct, 10:00) nothing issues.
    let out = tick_at(&url, "2026-10-10T02:00:00Z");
    assert!(out.starts_with("0 certificates issued"), "{out}");
    let a = h.get(&format!("/api/v1/applications/{id}"), &admin);
    assert_eq!(a["state"], "publicized");
    // The day after (Sun 11 Oct), the certificate issues, dated that day; once.
    let out = tick_at(&url, "2026-10-11T02:00:00Z");
    assert!(out.starts_with("1 certificates issued"), "{out}");
    let out = tick_at(&url, "2026-10-12T02:00:00Z");
    assert!(out.starts_with("0 certificates issued"), "{out}");
    let a = h.get(&format!("/api/v1/applications/{id}"), &admin);
    assert_eq!(a["state"], "approved", "{a}");
    let cert_id = a["certification"]["id"].as_i64().unwrap();
    let cert = h.get(&format!("/api/v1/certifications/{cert_id}"), &admin);
    assert_eq!(cert["issued_on"], "2026-10-11");
    assert_eq!(cert["valid_from"], "2026-10-11");
    assert_eq!(cert["valid_to"], "2029-10-10");
}

#[test]
fn sixteen_ticks_across_processes_issue_each_certificate_once() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs PostgreSQL (set TEST_DATABASE_URL)");
        return;
    };
    if !admin_url.starts_with("postgres") {
        eprintln!("skipped: TEST_DATABASE_URL is not a PostgreSQL URL");
        return;
    }
    let (url, _db) = fresh_database(&admin_url, "ladder_tick");
    create_admin(&url);
    let client = Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap();
    let server = start_with(
        &url,
        &client,
        &[
            ("LADDER_CLOCK_START", "2026-09-28T01:00:00Z"),
            ("LADDER_TICK_SECS", "0"),
        ],
    );
    let h = Http {
        client: &client,
        base: server.base.clone(),
    };
    let admin = h.login("root");
    let reviewer_id = h.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "tick_reviewer", "password": PASSWORD, "role": "reviewer"}),
    )["id"]
        .as_i64()
        .unwrap();
    let reviewer = h.login("tick_reviewer");
    let mut ids = Vec::new();
    for n in 0..6 {
        let (id, b) = approve_one(&h, &admin, &reviewer, reviewer_id, 9700 + n);
        assert_eq!(b["state"], "publicized", "{b}");
        ids.push(id);
    }
    drop(server);
    // Two serve processes whose background job runs every second, and 16 `ladder tick`
    // processes started together, all a month later on the same database.
    let later = "2026-10-28T02:00:00Z";
    let serve_a = start_with(
        &url,
        &client,
        &[("LADDER_CLOCK_START", later), ("LADDER_TICK_SECS", "1")],
    );
    let serve_b = start_with(
        &url,
        &client,
        &[("LADDER_CLOCK_START", later), ("LADDER_TICK_SECS", "1")],
    );
    let ticks: Vec<_> = (0..16)
        .map(|_| {
            ladder_cmd(&url)
                .arg("tick")
                .env("LADDER_CLOCK_START", later)
                // One connection is all a tick needs: 16 of them share the server's limit.
                .env("LADDER_POOL_SIZE", "2")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut issued_by_ticks = 0;
    for t in ticks {
        let out = t.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        issued_by_ticks += text
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap();
    }
    assert!(issued_by_ticks <= ids.len(), "{issued_by_ticks}");
    // Whatever the ticks left, the serve processes' job ends within a few seconds.
    let h = Http {
        client: &client,
        base: serve_a.base.clone(),
    };
    let mut approved = 0;
    for _ in 0..100 {
        approved = ids
            .iter()
            .filter(|id| {
                h.get(&format!("/api/v1/applications/{id}"), &admin)["state"] == "approved"
            })
            .count();
        if approved == ids.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(approved, ids.len());
    // Exactly one certificate per application, dated the day after its period.
    let certs = h.get("/api/v1/certifications?limit=500", &admin)["items"]
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(certs.len(), ids.len(), "{certs:?}");
    for id in &ids {
        let of: Vec<&Value> = certs
            .iter()
            .filter(|c| c["application_id"] == *id)
            .collect();
        assert_eq!(of.len(), 1, "application {id}");
        // 5 working days from Mon 28 Sep: 28, 29, 30 Sep, 8, 9 Oct → issued Sat 10 Oct.
        assert_eq!(of[0]["issued_on"], "2026-10-10");
    }
    let numbers: std::collections::BTreeSet<&str> = certs
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.len(), ids.len());
    let trail = h.get("/api/v1/audit?entity=certification&limit=500", &admin);
    let issues = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "certification.issue")
        .count();
    assert_eq!(issues, ids.len());
    let v = h.get("/api/v1/audit/verify", &admin);
    assert_eq!(v["ok"], true, "{v}");
    drop(serve_b);
    let _ = today();
}

#[test]
fn titles_ending_within_90_days_are_noticed_once() {
    let app = TestApp::spawn();
    let w = world(&app, 9901);
    let day = today();
    crate::workflow::insert_certification_until(
        &app,
        w.enterprise,
        "tech_sme",
        "SY-TS-EXP-1",
        day,
        day,
        day + chrono::Days::new(90),
    );
    crate::workflow::insert_certification_until(
        &app,
        w.enterprise,
        "innovative_sme",
        "SY-IN-EXP-2",
        day,
        day,
        day + chrono::Days::new(91),
    );
    let mut conn = app.conn();
    assert_eq!(
        ladder::services::notifications::expiring(&mut conn, day).unwrap(),
        1
    );
    assert_eq!(
        ladder::services::notifications::expiring(&mut conn, day).unwrap(),
        0
    );
    drop(conn);
    let inbox = body(app.get("/api/v1/me/notifications?unread=true", &w.owner));
    let expiring: Vec<&Value> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "expiring")
        .collect();
    assert_eq!(expiring.len(), 1, "{inbox}");
    assert!(
        expiring[0]["text_zh"]
            .as_str()
            .unwrap()
            .contains("SY-TS-EXP-1")
    );
}
