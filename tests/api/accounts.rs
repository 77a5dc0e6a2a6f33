//! Accounts (issue 11 items 4, 5, 6): lockout per account and address, per-address rate
//! limits, idempotency keys that re-check the caller and keep no secret, and registration
//! that does not tell who exists, with claims for companies already in the registry.

use crate::helpers::{PASSWORD, TestApp, body, uscc};
use ladder::domain::Role;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};

/// A client whose connections come from another loopback address (127.0.0.0/8 is all ours).
fn client_from(last: u8) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn login_from(app: &TestApp, client: &Client, username: &str, password: &str) -> Response {
    client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn retry_after(r: &Response) -> u64 {
    r.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn failures_from_one_address_never_lock_out_another() {
    let app = TestApp::spawn_with(|c| c.max_failed_logins = 3);
    app.user("root", Role::Admin, None);
    let attacker = client_from(2);
    let owner = client_from(3);
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, &attacker, "root", "wrong-password!").status(),
            401
        );
    }
    // The attacker's address is slowed, even with the right password.
    let r = login_from(&app, &attacker, "root", PASSWORD);
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) > 0);
    assert_eq!(body(r)["status"], 429);
    // The admin, from another address, gets in.
    assert_eq!(login_from(&app, &owner, "root", PASSWORD).status(), 200);
    // …and a success from one address does not lift the other's lockout.
    assert_eq!(login_from(&app, &attacker, "root", PASSWORD).status(), 429);
    // Failed logins and the lockout are in the audit trail, with the address.
    let token = app.login("root");
    let trail = body(app.get("/api/v1/audit?entity=account&id=root", &token));
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap();
    assert_eq!(
        actions.iter().filter(|a| **a == "login.failed").count(),
        3,
        "{trail}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "login.locked").count(),
        1,
        "{trail}"
    );
    assert!(trail.to_string().contains("127.0.0.2"));
}

#[test]
fn the_lockout_grows_with_every_further_failure() {
    use ladder::services::auth::{check_lockout, record_failure};
    let app = TestApp::spawn();
    let mut c = app.conn();
    let base = std::time::Duration::from_secs(60);
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 3, 31)
        .and_then(|d| d.and_hms_opt(16, 30, 0))
        .unwrap();
    let at = |s: i64| t0 + chrono::Duration::seconds(s);
    let fail = |c: &mut ladder::db::PooledConn, s: i64| {
        record_failure(c, "ann", "10.0.0.1", 3, base, at(s)).unwrap_or_else(|e| panic!("{e:?}"))
    };
    assert_eq!(fail(&mut c, 0), None);
    assert_eq!(fail(&mut c, 1), None);
    assert_eq!(fail(&mut c, 2), Some(60));
    let locked = |c: &mut ladder::db::PooledConn, addr: &str, s: i64| match check_lockout(
        c,
        "ann",
        addr,
        at(s),
    ) {
        Ok(()) => 0,
        Err(ladder::error::AppError::TooManyRequests { retry_after_secs }) => retry_after_secs,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(locked(&mut c, "10.0.0.1", 12), 50);
    assert_eq!(locked(&mut c, "10.0.0.9", 12), 0, "another address is free");
    // After the lockout, the next failure locks for twice as long, then four times.
    assert_eq!(locked(&mut c, "10.0.0.1", 63), 0);
    assert_eq!(fail(&mut c, 63), Some(120));
    assert_eq!(locked(&mut c, "10.0.0.1", 64), 119);
    assert_eq!(fail(&mut c, 200), Some(240));
    // A quiet day forgets the failures.
    assert_eq!(fail(&mut c, 200 + 86_401), None);
}

fn post_with_key(app: &TestApp, token: &str, path: &str, key: &str, b: &Value) -> Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(b)
        .send()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn stored_bodies(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    use ladder::db::schema::idempotency_keys::dsl::*;
    let mut c = app.conn();
    idempotency_keys
        .select(body)
        .load::<String>(&mut *c)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn idempotent_client_creation_keeps_no_secret_and_rechecks_the_caller() {
    let app = TestApp::spawn();
    let admin_id = app.user("keeper", Role::Admin, None);
    let token = app.login("keeper");
    let req = json!({"name": "nightly batch", "role": "official"});
    let first = post_with_key(&app, &token, "/api/v1/clients", "k-1", &req);
    assert_eq!(first.status(), 201);
    let first = body(first);
    let secret = first["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() > 20);
    // Nothing kept holds the secret.
    let kept = stored_bodies(&app);
    assert!(!kept.is_empty());
    assert!(kept.iter().all(|b| !b.contains(&secret)), "{kept:?}");
    assert!(
        kept.iter().all(|b| !b.contains("client_secret")),
        "{kept:?}"
    );
    // A replay answers the same client, without the secret.
    let again = post_with_key(&app, &token, "/api/v1/clients", "k-1", &req);
    assert_eq!(again.status(), 201);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again = body(again);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["client_id"], first["client_id"]);
    assert!(again.get("client_secret").is_none(), "{again}");
    // Demoted: the replay is not served; the request is judged afresh (403).
    let mut c = app.conn();
    let system = ladder::services::policy::Caller::system("test");
    ladder::services::users::update_user(
        &mut c,
        &system,
        admin_id,
        Some(Role::Official),
        None,
        None,
        None,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let r = post_with_key(&app, &token, "/api/v1/clients", "k-1", &req);
    assert_eq!(r.status(), 403, "{:?}", r.text());
    // Disabled: 401 like any request.
    ladder::services::users::update_user(&mut c, &system, admin_id, None, Some(true), None, None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let r = post_with_key(&app, &token, "/api/v1/clients", "k-1", &req);
    assert_eq!(r.status(), 401);
}

#[test]
fn idempotency_keys_expire_after_a_day() {
    let app = TestApp::spawn();
    let token = app.admin();
    let req = json!({"name": "expiring", "role": "official"});
    let first = body(post_with_key(
        &app,
        &token,
        "/api/v1/clients",
        "k-exp",
        &req,
    ));
    let replay = body(post_with_key(
        &app,
        &token,
        "/api/v1/clients",
        "k-exp",
        &req,
    ));
    assert_eq!(replay["id"], first["id"]);
    {
        use diesel::prelude::*;
        use ladder::db::schema::idempotency_keys::dsl::*;
        let mut c = app.conn();
        let old = chrono::Utc::now().naive_utc() - chrono::Duration::hours(25);
        diesel::update(idempotency_keys)
            .set(created_at.eq(old))
            .execute(&mut *c)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let fresh = post_with_key(&app, &token, "/api/v1/clients", "k-exp", &req);
    assert_eq!(fresh.status(), 201);
    assert!(fresh.headers().get("idempotent-replayed").is_none());
    let fresh = body(fresh);
    assert_ne!(fresh["id"], first["id"]);
    assert!(
        fresh["client_secret"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
}

fn register(app: &TestApp, username: &str, code: &str, name: &str) -> Response {
    app.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": username, "password": PASSWORD, "uscc": code, "name": name,
                "district_code": "210106"}),
    )
}

#[test]
fn registration_answers_taken_names_and_codes_alike() {
    let app = TestApp::spawn();
    let ok = register(&app, "first", &uscc(11), "沈阳首家有限公司");
    assert_eq!(ok.status(), 201);
    let ok = body(ok);
    // The new enterprise's id is in the answer, beside the tokens.
    let eid = ok["enterprise_id"].as_i64().unwrap_or(0);
    assert!(eid > 0, "{ok}");
    let access = ok["access_token"].as_str().unwrap();
    assert_eq!(body(app.get("/api/v1/me", access))["enterprise"]["id"], eid);
    // A taken username and an owned credit code: one body.
    let by_name = register(&app, "first", &uscc(12), "沈阳二家有限公司");
    let by_code = register(&app, "second", &uscc(11), "沈阳首家有限公司");
    assert_eq!(by_name.status(), 409);
    assert_eq!(by_code.status(), 409);
    assert_eq!(body(by_name), body(by_code));
}

#[test]
fn a_registered_company_without_an_account_is_claimed_and_approved() {
    let app = TestApp::spawn();
    let admin = app.admin();
    // Imported, no account owns it.
    let eid = app.enterprise(&uscc(21), "沈阳导入有限公司", "210106");
    let r = register(&app, "claimer", &uscc(21), "沈阳导入有限公司");
    assert_eq!(r.status(), 202);
    let claim_id = body(r)["claim_id"].as_i64().unwrap_or(0);
    assert!(claim_id > 0);
    // Until an admin decides, the account sees no enterprise.
    let token = app.login("claimer");
    assert_eq!(
        body(app.get("/api/v1/me", &token))["enterprise"],
        Value::Null
    );
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{eid}"), &token)
            .status(),
        404
    );
    // A second claimant waits too; the list shows both.
    assert_eq!(
        register(&app, "rival", &uscc(21), "沈阳导入有限公司").status(),
        202
    );
    let pending = body(app.get("/api/v1/claims?status=pending", &admin));
    assert_eq!(
        pending["items"].as_array().map(Vec::len),
        Some(2),
        "{pending}"
    );
    assert_eq!(pending["items"][0]["enterprise_id"], eid);
    // Only admins decide.
    assert_eq!(
        app.post(
            &format!("/api/v1/claims/{claim_id}/approve"),
            Some(&token),
            &json!({})
        )
        .status(),
        403
    );
    let r = app.post(
        &format!("/api/v1/claims/{claim_id}/approve"),
        Some(&admin),
        &json!({"comment": "business licence checked"}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(body(r)["status"], "approved");
    assert_eq!(body(app.get("/api/v1/me", &token))["enterprise"]["id"], eid);
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{eid}"), &token)
            .status(),
        200
    );
    // Decided once; the rival's claim cannot be approved now that there is an owner.
    assert_eq!(
        app.post(
            &format!("/api/v1/claims/{claim_id}/reject"),
            Some(&admin),
            &json!({})
        )
        .status(),
        409
    );
    let rival = pending["items"][1]["id"].as_i64().unwrap_or(0);
    assert_eq!(
        app.post(
            &format!("/api/v1/claims/{rival}/approve"),
            Some(&admin),
            &json!({})
        )
        .status(),
        409
    );
    let r = app.post(
        &format!("/api/v1/claims/{rival}/reject"),
        Some(&admin),
        &json!({}),
    );
    assert_eq!(body(r)["status"], "rejected");
    // Now the code has an owner: a new sign-up gets the generic 409.
    let r = register(&app, "third", &uscc(21), "沈阳导入有限公司");
    assert_eq!(r.status(), 409);
    assert_eq!(
        body(r),
        body(register(&app, "claimer", &uscc(22), "沈阳别家有限公司"))
    );
    // Every step is audited.
    let trail = body(app.get(&format!("/api/v1/audit?entity=claim&id={claim_id}"), &admin));
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap();
    assert_eq!(actions, vec!["claim.create", "claim.approve"]);
}

/// Issue 11 item 4: `/auth/login`, `/auth/register` and `/auth/token` share a per-address
/// budget. With 4 a minute, the fifth request from 127.0.0.3 is refused with 429 and a
/// `Retry-After` of at most a minute, whichever endpoint it goes to, while 127.0.0.4 still
/// gets in with the right password.
#[test]
fn sign_in_endpoints_are_rate_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.auth_rate_per_min = 4);
    app.user("root", Role::Admin, None);
    let noisy = client_from(3);
    for _ in 0..2 {
        assert_eq!(
            login_from(&app, &noisy, "root", "wrong-password").status(),
            401
        );
    }
    let token = |client: &Client| {
        client
            .post(app.url("/api/v1/auth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "x"),
                ("client_secret", "y"),
            ])
            .send()
            .unwrap()
    };
    assert_eq!(token(&noisy).status(), 401);
    let r = noisy
        .post(app.url("/api/v1/auth/register"))
        .json(
            &json!({"username": "latecomer", "password": PASSWORD, "uscc": uscc(4401),
                      "name": "沈阳限流测试有限公司", "district_code": "210106"}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "the fourth request is within the budget");
    // The budget is spent: even the right password from this address waits.
    let r = login_from(&app, &noisy, "root", PASSWORD);
    assert_eq!(r.status(), 429);
    let wait = retry_after(&r);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(body(r)["status"], 429);
    assert_eq!(token(&noisy).status(), 429);
    // Another address has its own budget.
    assert_eq!(
        login_from(&app, &client_from(4), "root", PASSWORD).status(),
        200
    );
}

/// Issue 11 item 12 / API.md "Accounts and clients": the token endpoint follows RFC 6749
/// §4.4 — form bodies, HTTP Basic (with form-urlencoded id and secret), JSON as before — and
/// its errors carry the RFC's `error` code.
#[test]
fn the_token_endpoint_speaks_rfc_6749() {
    use base64::Engine;
    let app = TestApp::spawn();
    let admin = app.admin();
    let created = body(app.post(
        "/api/v1/clients",
        Some(&admin),
        &json!({"name": "statistics bureau", "role": "official"}),
    ));
    let (id, secret) = (
        created["client_id"].as_str().unwrap().to_string(),
        created["client_secret"].as_str().unwrap().to_string(),
    );
    let post = || app.client.post(app.url("/api/v1/auth/token"));
    let token_of = |r: Response| -> String {
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        body(r)["access_token"].as_str().unwrap().to_string()
    };
    let me = |token: &str| body(app.get("/api/v1/me", token));

    // A form body.
    let form = post()
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .unwrap();
    assert_eq!(me(&token_of(form))["kind"], "client");
    // HTTP Basic: base64 of urlencoded id ":" urlencoded secret; the body holds the grant only.
    let encode =
        |s: &str| -> String { serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_string() };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        encode(&id),
        encode(&secret)
    ));
    let r = post()
        .header("Authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(me(&token_of(r))["role"], "official");
    // JSON keeps working.
    let r = app.post(
        "/api/v1/auth/token",
        None,
        &json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}),
    );
    token_of(r);

    // Errors, each with its RFC 6749 code.
    let error = |r: Response, status: u16, code: &str| {
        assert_eq!(r.status(), status);
        let challenge = r
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        let b = body(r);
        assert_eq!(b["error"], code, "{b}");
        challenge
    };
    let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{}:nope", encode(&id)));
    let challenge = error(
        post()
            .header("Authorization", format!("Basic {wrong}"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap(),
        401,
        "invalid_client",
    );
    assert!(
        challenge.unwrap().starts_with("Basic"),
        "a Basic attempt is challenged with Basic"
    );
    error(
        post()
            .form(&[
                ("grant_type", "password"),
                ("client_id", &id),
                ("client_secret", &secret),
            ])
            .send()
            .unwrap(),
        400,
        "unsupported_grant_type",
    );
    error(
        post()
            .form(&[("client_id", id.as_str()), ("client_secret", &secret)])
            .send()
            .unwrap(),
        400,
        "invalid_request",
    );
    // Credentials twice (Basic and body) is refused, as §2.3 says.
    error(
        post()
            .header("Authorization", format!("Basic {basic}"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ])
            .send()
            .unwrap(),
        400,
        "invalid_request",
    );
    error(
        post()
            .form(&[("grant_type", "client_credentials"), ("client_id", &id)])
            .send()
            .unwrap(),
        401,
        "invalid_client",
    );
    // An unknown form field is named.
    let r = post()
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("colour", "red"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(body(r)["errors"][0]["field"], "colour");
}
