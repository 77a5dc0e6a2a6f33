//! Concurrency and retries over real HTTP: 32 decisions at once on one application give one
//! winner and one certification; a decision retried with its `Idempotency-Key` is answered
//! from the first response; and, on PostgreSQL, the same race across two `ladder serve`
//! processes sharing one database.

use crate::helpers::{PASSWORD, TestApp, body, uscc};
use crate::workflow::{approval, under_review, world};
use chrono::Datelike;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use std::sync::{Arc, Barrier};

const ATTEMPTS: usize = 32;

/// Fires `ATTEMPTS` identical POSTs at once (one thread each, released together), spread
/// round-robin over `bases`; returns every status and body.
fn fire(
    bases: &[String],
    path: &str,
    token: &str,
    b: &Value,
    key: Option<&str>,
) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(ATTEMPTS));
    let handles: Vec<_> = (0..ATTEMPTS)
        .map(|i| {
            let (barrier, url, token, b, key) = (
                barrier.clone(),
                format!("{}{path}", bases[i % bases.len()]),
                token.to_string(),
                b.clone(),
                key.map(str::to_string),
            );
            std::thread::spawn(move || {
                let client = Client::builder()
                    .timeout(std::time::Duration::from_secs(120))
                    .build()
                    .unwrap_or_else(|e| panic!("{e}"));
                let mut rb = client.post(url).bearer_auth(token).json(&b);
                if let Some(k) = key {
                    rb = rb.header("Idempotency-Key", k);
                }
                barrier.wait();
                let r = rb.send().unwrap_or_else(|e| panic!("{e}"));
                (
                    r.status().as_u16(),
                    r.json::<Value>().unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| panic!("a request thread panicked"))
        })
        .collect()
}

fn certifications(base: &str, client: &Client, token: &str, enterprise: i64) -> usize {
    let r = client
        .get(format!(
            "{base}/api/v1/certifications?enterprise_id={enterprise}"
        ))
        .bearer_auth(token)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    r.json::<Value>().unwrap_or(Value::Null)["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

fn tally(results: &[(u16, Value)]) -> (usize, usize) {
    let ok = results
        .iter()
        .filter(|(s, _)| (200..300).contains(s))
        .count();
    let conflict = results.iter().filter(|(s, _)| *s == 409).count();
    (ok, conflict)
}

#[test]
fn thirty_two_concurrent_decisions_make_one_certification() {
    let app = TestApp::spawn();
    let w = world(&app, 6001);
    let (id, full) = under_review(&app, &w, "srdi_sme");
    let decision = approval(&full, "同意");
    let results = fire(
        std::slice::from_ref(&app.base),
        &format!("/api/v1/applications/{id}/decision"),
        &w.reviewer,
        &decision,
        None,
    );
    let (ok, conflict) = tally(&results);
    let certs = certifications(&app.base, &app.client, &w.admin, i64::from(w.enterprise));
    eprintln!(
        "race (in-process, one server): attempts {ATTEMPTS}, successes {ok}, conflicts {conflict}, certifications {certs}"
    );
    assert_eq!(ok, 1, "{results:?}");
    assert_eq!(conflict, ATTEMPTS - 1, "{results:?}");
    assert!(results.iter().filter(|(s, _)| *s == 409).all(|(_, b)| {
        b["detail"]
            .as_str()
            .is_some_and(|d| d.contains("is approved"))
    }));
    assert_eq!(certs, 1);
    let history = body(app.get(&format!("/api/v1/applications/{id}"), &w.admin))["history"]
        .as_array()
        .map(Vec::len);
    assert_eq!(history, Some(4), "one decision on record");
}

#[test]
fn a_decision_retried_with_its_key_is_answered_once() {
    let app = TestApp::spawn();
    let w = world(&app, 6101);
    let (id, full) = under_review(&app, &w, "srdi_sme");
    let path = format!("/api/v1/applications/{id}/decision");
    let decision = approval(&full, "同意");
    let send = |b: &Value, key: &str| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&w.reviewer)
            .header("Idempotency-Key", key)
            .json(b)
            .send()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let first = send(&decision, "decide-6101");
    assert_eq!(first.status(), 200);
    let first: Value = first.json().unwrap_or(Value::Null);
    let second = send(&decision, "decide-6101");
    assert_eq!(second.status(), 200);
    assert_eq!(
        second
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let second: Value = second.json().unwrap_or(Value::Null);
    assert_eq!(first, second, "the retry gets the first response");
    assert_eq!(
        certifications(&app.base, &app.client, &w.admin, i64::from(w.enterprise)),
        1
    );
    // The same key on a different request is refused; a new key meets the real state.
    let other = send(
        &json!({"decision": "reject", "comment": "改主意"}),
        "decide-6101",
    );
    assert_eq!(other.status(), 422);
    assert_eq!(body(other)["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(send(&decision, "decide-6101-b").status(), 409);
    // Keys are per caller: another caller's same key is a fresh request.
    let r = app
        .client
        .post(app.url(&path))
        .bearer_auth(&w.admin)
        .header("Idempotency-Key", "decide-6101")
        .json(&decision)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 403);
}

#[test]
fn concurrent_retries_with_one_key_act_once() {
    let app = TestApp::spawn();
    let w = world(&app, 6201);
    let (id, full) = under_review(&app, &w, "srdi_sme");
    let decision = approval(&full, "同意");
    let results = fire(
        std::slice::from_ref(&app.base),
        &format!("/api/v1/applications/{id}/decision"),
        &w.reviewer,
        &decision,
        Some("one-key"),
    );
    let (ok, conflict) = tally(&results);
    let certs = certifications(&app.base, &app.client, &w.admin, i64::from(w.enterprise));
    eprintln!(
        "idempotent race: attempts {ATTEMPTS} with one key, 2xx {ok}, 409 {conflict}, certifications {certs}"
    );
    assert_eq!(
        ok, ATTEMPTS,
        "every retry gets the first response: {results:?}"
    );
    assert!(results.iter().all(|(_, b)| b == &results[0].1));
    assert_eq!(certs, 1);
}

#[test]
fn creating_an_application_with_a_key_twice_creates_one() {
    let app = TestApp::spawn();
    let w = world(&app, 6301);
    let b = json!({"enterprise_id": w.enterprise, "tier": "srdi_sme", "year": crate::workflow::today().year()});
    let send = || {
        app.client
            .post(app.url("/api/v1/applications"))
            .bearer_auth(&w.owner)
            .header("Idempotency-Key", "apply-1")
            .json(&b)
            .send()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let first = send();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().unwrap_or(Value::Null);
    let again = send();
    assert_eq!(again.status(), 201);
    assert_eq!(
        again.json::<Value>().unwrap_or(Value::Null)["id"],
        first["id"]
    );
    assert_eq!(
        body(app.get("/api/v1/applications", &w.owner))["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // A bad key is refused before anything happens.
    let r = app
        .client
        .post(app.url("/api/v1/applications"))
        .bearer_auth(&w.owner)
        .header("Idempotency-Key", "")
        .json(&b)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 422);
}

/// A `ladder serve` process started by the test; killed (by its own pid) when dropped.
pub struct Server {
    child: std::process::Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Drops its PostgreSQL database when the test ends, however it ends.
pub struct DropDb {
    admin_url: String,
    name: String,
}

impl Drop for DropDb {
    fn drop(&mut self) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        if let Ok(mut c) = diesel::pg::PgConnection::establish(&self.admin_url) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A new, empty PostgreSQL database beside `admin_url`: its URL, and the guard that drops it.
pub fn fresh_database(admin_url: &str, prefix: &str) -> (String, DropDb) {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    diesel::pg::PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("{e}"))
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let (base_url, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
    let url = format!("{base_url}/{name}");
    (
        url,
        DropDb {
            admin_url: admin_url.to_string(),
            name,
        },
    )
}

const SECRET: &str = "cross-process-race-test-secret-0123456789abcdef";

pub fn ladder_cmd(url: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ladder"));
    cmd.env("DATABASE_URL", url)
        .env("LADDER_JWT_SECRET", SECRET)
        // PostgreSQL needs the audit chain's key from outside the database.
        .env("LADDER_AUDIT_KEY", SECRET)
        .env("LADDER_LOG", "error");
    cmd
}

fn start(url: &str, client: &Client) -> Server {
    start_with(url, client, &[])
}

/// `ladder serve` on a free port with extra environment (a clock, a tick), once ready.
pub fn start_with(url: &str, client: &Client, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let child = ladder_cmd(url)
        .arg("serve")
        .envs(env.iter().copied())
        .env("LADDER_BIND", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning ladder serve: {e}"));
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..300 {
        if client
            .get(format!("{}/readyz", server.base))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("ladder serve on port {port} did not become ready");
}

#[test]
fn two_serve_processes_on_one_postgres_database_give_one_winner() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: the cross-process race needs PostgreSQL (set TEST_DATABASE_URL)");
        return;
    };
    if !admin_url.starts_with("postgres") {
        eprintln!("skipped: TEST_DATABASE_URL is not a PostgreSQL URL");
        return;
    }
    let (url, _cleanup) = fresh_database(&admin_url, "ladder_race");

    // The first admin through the CLI, as an operator would.
    let mut create = ladder_cmd(&url)
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
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = create.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(PASSWORD.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(
        create.wait().is_ok_and(|s| s.success()),
        "ladder users create failed"
    );

    let client = Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let a = start(&url, &client);
    let b = start(&url, &client);
    let call = |base: &str,
                method: reqwest::Method,
                path: &str,
                token: Option<&str>,
                body: Option<Value>|
     -> (u16, Value) {
        let mut rb = client.request(method, format!("{base}{path}"));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    };
    let post = |base: &str, path: &str, token: Option<&str>, body: Value| {
        call(base, reqwest::Method::POST, path, token, Some(body))
    };
    let login = |base: &str, user: &str| {
        post(
            base,
            "/api/v1/auth/login",
            None,
            json!({"username": user, "password": PASSWORD}),
        )
        .1["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Data through HTTP, alternating between the two processes.
    let admin = login(&a.base, "root");
    // The certificate at approval: no publicity period for this tier here.
    let (s, t) = call(
        &a.base,
        reqwest::Method::PATCH,
        "/api/v1/tiers/srdi_sme",
        Some(&admin),
        Some(json!({"publicity_days": 0})),
    );
    assert_eq!(s, 200, "{t}");
    let (s, reg) = post(
        &b.base,
        "/api/v1/auth/register",
        None,
        json!({"username": "race_owner", "password": PASSWORD, "uscc": uscc(7001), "name": "沈阳双进程有限公司", "district_code": "210106"}),
    );
    assert_eq!(s, 201, "{reg}");
    let owner = reg["access_token"].as_str().unwrap().to_string();
    let (_, me) = call(
        &a.base,
        reqwest::Method::GET,
        "/api/v1/me",
        Some(&owner),
        None,
    );
    let enterprise = me["enterprise"]["id"].as_i64().unwrap();
    let (s, r) = post(
        &b.base,
        "/api/v1/users",
        Some(&admin),
        json!({"username": "race_reviewer", "password": PASSWORD, "role": "reviewer"}),
    );
    assert_eq!(s, 201, "{r}");
    let reviewer_id = r["id"].as_i64().unwrap();
    let reviewer = login(&a.base, "race_reviewer");
    let year = chrono::Utc::now()
        .date_naive()
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap_or(2026);
    let (s, app) = post(
        &a.base,
        "/api/v1/applications",
        Some(&owner),
        json!({"enterprise_id": enterprise, "tier": "srdi_sme", "year": year}),
    );
    assert_eq!(s, 201, "{app}");
    let id = app["id"].as_i64().unwrap();
    let (s, _) = post(
        &b.base,
        &format!("/api/v1/applications/{id}/submit"),
        Some(&owner),
        json!({}),
    );
    assert_eq!(s, 200);
    let (s, full) = post(
        &a.base,
        &format!("/api/v1/applications/{id}/assign"),
        Some(&admin),
        json!({"reviewer_id": reviewer_id}),
    );
    assert_eq!(s, 200, "{full}");

    let decision = approval(&full, "同意");
    let bases = [a.base.clone(), b.base.clone()];
    let results = fire(
        &bases,
        &format!("/api/v1/applications/{id}/decision"),
        &reviewer,
        &decision,
        None,
    );
    let (ok, conflict) = tally(&results);
    let certs = certifications(&a.base, &client, &admin, enterprise);
    eprintln!(
        "race (two ladder serve processes, PostgreSQL): attempts {ATTEMPTS}, successes {ok}, conflicts {conflict}, certifications {certs}"
    );
    assert_eq!(ok, 1, "{results:?}");
    assert_eq!(conflict, ATTEMPTS - 1, "{results:?}");
    assert_eq!(certs, 1);
    let (_, v) = call(
        &b.base,
        reqwest::Method::GET,
        "/api/v1/audit/verify",
        Some(&admin),
        None,
    );
    assert_eq!(v["ok"], true, "{v}");
}

/// Issue 11 item 14: four processes started at the same moment on an empty PostgreSQL
/// database all migrate, seed and serve (without the set-up lock one of them died in
/// `CREATE TABLE` with a duplicate `pg_type` key, every time).
#[test]
fn four_processes_starting_at_once_on_a_new_postgres_database_all_serve() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs PostgreSQL (set TEST_DATABASE_URL)");
        return;
    };
    if !admin_url.starts_with("postgres") {
        eprintln!("skipped: TEST_DATABASE_URL is not a PostgreSQL URL");
        return;
    }
    let (url, _cleanup) = fresh_database(&admin_url, "ladder_start");

    let mut servers: Vec<Server> = (0..4)
        .map(|_| {
            let port = free_port();
            let child = ladder_cmd(&url)
                .arg("serve")
                .env("LADDER_BIND", format!("127.0.0.1:{port}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            Server {
                child,
                base: format!("http://127.0.0.1:{port}"),
            }
        })
        .collect();
    let client = Client::new();
    for server in &mut servers {
        let mut ready = false;
        for _ in 0..600 {
            if let Some(status) = server.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = server.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("a process died at start ({status}): {err}");
            }
            if client
                .get(format!("{}/readyz", server.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                ready = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(ready, "{} never became ready", server.base);
    }
    // One set of seeded data, not four: the shipped rule sets were published once.
    use diesel::Connection;
    let mut c = diesel::pg::PgConnection::establish(&url).unwrap();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel::RunQueryDsl;
    let n: N = diesel::sql_query("SELECT COUNT(*) AS n FROM rulesets")
        .get_result(&mut c)
        .unwrap();
    assert_eq!(n.n, 13, "the 13 shipped rule sets, once");
}
