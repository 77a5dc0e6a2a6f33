//! Accounts, tokens and their attacks.

use crate::helpers::{PASSWORD, TestApp, body, uscc};
use base64::Engine;
use ladder::domain::Role;
use reqwest::Method;
use serde_json::json;

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn hs256(secret: &[u8], header: &serde_json::Value, claims: &serde_json::Value) -> String {
    use hmac_sha256::HMAC;
    let signing = format!("{}.{}", b64(header), b64(claims));
    let sig = HMAC::mac(signing.as_bytes(), secret);
    format!(
        "{signing}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
    )
}

fn stored_secret(app: &TestApp) -> Vec<u8> {
    let mut c = app.conn();
    ladder::services::auth::jwt_secret(&mut c).unwrap()
}

fn claims(sub: &str, exp_offset: i64, aud: &str) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": sub, "iat": now, "nbf": now, "exp": now + exp_offset, "iss": "ladder", "aud": aud, "jti": "t"})
}

#[test]
fn login_me_refresh_rotation_and_reuse() {
    let app = TestApp::spawn();
    app.user("ann", Role::Official, None);
    let tokens = app.login_full("ann");
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_u64().unwrap_or(0) > 0);
    let access = tokens["access_token"].as_str().unwrap();
    let me = body(app.get("/api/v1/me", access));
    assert_eq!(me["username"], "ann");
    assert_eq!(me["role"], "official");
    assert!(me.get("password_hash").is_none());

    let r1 = tokens["refresh_token"].as_str().unwrap().to_string();
    let rotated = app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}));
    assert_eq!(rotated.status(), 200);
    let r2 = body(rotated)["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    // Reusing r1 is theft: 401, and the whole family (r2 too) is revoked.
    assert_eq!(
        app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
            .status(),
        401
    );
    assert_eq!(
        app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": r2}))
            .status(),
        401
    );
}

#[test]
fn logout_revokes_the_refresh_token() {
    let app = TestApp::spawn();
    app.user("bob", Role::Reviewer, None);
    let t = app.login_full("bob");
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            Some(access),
            &json!({"refresh_token": refresh})
        )
        .status(),
        204
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh})
        )
        .status(),
        401
    );
}

#[test]
fn unknown_user_and_wrong_password_look_the_same() {
    let app = TestApp::spawn();
    app.user("carol", Role::Official, None);
    let a = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "carol", "password": "wrong-password-123"}),
    );
    let b = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "nobody", "password": "wrong-password-123"}),
    );
    assert_eq!(a.status(), 401);
    assert_eq!(b.status(), 401);
    assert_eq!(
        a.headers().get("content-type"),
        b.headers().get("content-type")
    );
    assert_eq!(body(a), body(b));
}

#[test]
fn repeated_failures_lock_the_account_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.max_failed_logins = 3);
    app.user("dave", Role::Official, None);
    for _ in 0..3 {
        let r = app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "dave", "password": "nope-nope-nope"}),
        );
        assert_eq!(r.status(), 401);
    }
    let r = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "dave", "password": PASSWORD}),
    );
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(retry > 0);
    assert_eq!(body(r)["status"], 429);
}

#[test]
fn forged_tokens_are_all_401() {
    let app = TestApp::spawn();
    let id = app.user("erin", Role::Admin, None);
    let secret = stored_secret(&app);
    let sub = format!("u:{id}");
    let good_header = json!({"alg": "HS256", "typ": "JWT"});
    // Sanity: a token we sign with the real secret and right claims works, so the
    // rejections below are about what was changed.
    let valid = hs256(&secret, &good_header, &claims(&sub, 600, "ladder-api"));
    assert_eq!(app.get("/api/v1/me", &valid).status(), 200);

    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(&sub, 600, "ladder-api"))
    );
    let other_alg = hs256(
        &secret,
        &json!({"alg": "HS512", "typ": "JWT"}),
        &claims(&sub, 600, "ladder-api"),
    );
    let wrong_key = hs256(
        b"not-the-secret-not-the-secret-xx",
        &good_header,
        &claims(&sub, 600, "ladder-api"),
    );
    let expired = hs256(&secret, &good_header, &claims(&sub, -3600, "ladder-api"));
    let wrong_aud = hs256(&secret, &good_header, &claims(&sub, 600, "someone-else"));
    let mut c = claims(&sub, 600, "ladder-api");
    c["exp"] = json!(c["exp"].to_string());
    let exp_string = hs256(&secret, &good_header, &c);
    let mut no_nbf = claims(&sub, 600, "ladder-api");
    no_nbf.as_object_mut().map(|o| o.remove("nbf"));
    let missing_nbf = hs256(&secret, &good_header, &no_nbf);
    for (what, token) in [
        ("alg none", none),
        ("other algorithm", other_alg),
        ("wrong key", wrong_key),
        ("expired", expired),
        ("wrong audience", wrong_aud),
        ("exp as a string", exp_string),
        ("nbf missing", missing_nbf),
        ("garbage", "a.b.c".to_string()),
    ] {
        let r = app.get("/api/v1/me", &token);
        assert_eq!(r.status(), 401, "{what}");
        assert!(r.headers().get("www-authenticate").is_some(), "{what}");
    }
    assert_eq!(
        app.request(Method::GET, "/api/v1/me", None, None).status(),
        401
    );
}

#[test]
fn disabling_or_changing_role_takes_effect_on_the_next_request() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let id = app.user("frank", Role::Official, None);
    let token = app.login("frank");
    assert_eq!(app.get("/api/v1/enterprises", &token).status(), 200);
    let r = app.request(
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        Some(&admin),
        Some(&json!({"role": "reviewer"})),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(body(app.get("/api/v1/me", &token))["role"], "reviewer");
    let r = app.request(
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        Some(&admin),
        Some(&json!({"disabled": true})),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(app.get("/api/v1/me", &token).status(), 401);
}

#[test]
fn self_registration_creates_an_unverified_enterprise_and_its_owner() {
    let app = TestApp::spawn();
    let code = uscc(42);
    let r = app.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": "acme", "password": PASSWORD, "uscc": code, "name": "沈阳测试机械有限公司", "district_code": "210106"}),
    );
    assert_eq!(r.status(), 201);
    let token = body(r)["access_token"].as_str().unwrap().to_string();
    let me = body(app.get("/api/v1/me", &token));
    assert_eq!(me["role"], "enterprise");
    assert_eq!(me["enterprise"]["uscc"], code.as_str());
    assert_eq!(me["enterprise"]["verified"], false);
    // Same credit code again: 409, and no second user either.
    let r = app.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": "acme2", "password": PASSWORD, "uscc": code, "name": "x", "district_code": "210106"}),
    );
    assert_eq!(r.status(), 409);
    let r = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "acme2", "password": PASSWORD}),
    );
    assert_eq!(r.status(), 401);
    // Bad fields are each named.
    let r = app.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": "x", "password": "short", "uscc": "91210100MA0QC1WY6Q", "name": "", "district_code": "999999"}),
    );
    assert_eq!(r.status(), 422);
    let fields: Vec<String> = body(r)["errors"]
        .as_array()
        .cloned()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_string())
        .collect();
    for f in ["username", "password", "uscc", "name", "district_code"] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
}

#[test]
fn api_clients_use_the_client_credentials_grant() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let r = app.post(
        "/api/v1/clients",
        Some(&admin),
        &json!({"name": "stats bureau", "role": "official"}),
    );
    assert_eq!(r.status(), 201);
    let created = body(r);
    let (cid, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let r = app.post(
        "/api/v1/auth/token",
        None,
        &json!({"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}),
    );
    assert_eq!(r.status(), 200);
    let token = body(r)["access_token"].as_str().unwrap().to_string();
    let me = body(app.get("/api/v1/me", &token));
    assert_eq!(me["kind"], "client");
    assert_eq!(me["role"], "official");
    let r = app.post(
        "/api/v1/auth/token",
        None,
        &json!({"grant_type": "client_credentials", "client_id": cid, "client_secret": "wrong"}),
    );
    assert_eq!(r.status(), 401);
    // Listing clients never shows a secret or its hash.
    let list = app.get("/api/v1/clients", &admin).text().unwrap();
    assert!(!list.contains(secret) && !list.contains("secret_hash") && !list.contains("$argon2"));
}

#[test]
fn admins_create_enterprise_accounts_for_existing_enterprises() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let id = app.enterprise(&uscc(77), "沈阳账户测试有限公司", "210106");
    let r = app.post("/api/v1/users", Some(&admin), &json!({"username": "owner77", "password": PASSWORD, "role": "enterprise", "enterprise_id": id}));
    assert_eq!(r.status(), 201, "{:?}", r.text());
    assert_eq!(
        body(app.get("/api/v1/me", &app.login("owner77")))["enterprise"]["id"],
        id
    );
    // Still refused: an enterprise account without an enterprise, one that does not exist, and
    // an enterprise id on another role.
    for (b, field) in [
        (
            json!({"username": "eone", "password": PASSWORD, "role": "enterprise"}),
            "enterprise_id",
        ),
        (
            json!({"username": "etwo", "password": PASSWORD, "role": "enterprise", "enterprise_id": 99999}),
            "enterprise_id",
        ),
        (
            json!({"username": "ethree", "password": PASSWORD, "role": "official", "enterprise_id": id}),
            "enterprise_id",
        ),
    ] {
        let r = app.post("/api/v1/users", Some(&admin), &b);
        assert_eq!(r.status(), 422);
        assert_eq!(body(r)["errors"][0]["field"], field);
    }
}

/// Another process changing the account in the database (here a separate connection writing
/// the row directly, as a second server or the CLI would) takes effect on this server's next
/// request: nothing about the account is kept between requests.
#[test]
fn an_account_changed_by_another_process_takes_effect_on_the_next_request() {
    use diesel::prelude::*;
    use ladder::db::schema::users;
    let app = TestApp::spawn();
    let id = app.user("grace", Role::Official, None);
    let token = app.login("grace");
    assert_eq!(body(app.get("/api/v1/me", &token))["role"], "official");
    let mut conn = app.conn();
    diesel::update(users::table.find(id))
        .set(users::role.eq("reviewer"))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(body(app.get("/api/v1/me", &token))["role"], "reviewer");
    diesel::update(users::table.find(id))
        .set(users::disabled.eq(true))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(app.get("/api/v1/me", &token).status(), 401);
    assert_eq!(app.get("/api/v1/enterprises", &token).status(), 401);
}
