//! `ladder users list|disable|enable|role|reset-password`: the operator's commands act on the
//! same accounts, through the same service rules, as `PATCH /users/{id}`, and take effect on
//! the service's next request.

use crate::helpers::{TestApp, body};
use ladder::domain::Role;
use serde_json::json;
use std::io::Write;

fn ladder(app: &TestApp, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let key = app
        .state
        .config
        .audit_key
        .as_ref()
        .map(|k| secrecy::ExposeSecret::expose_secret(k).to_string())
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ladder"))
        .args(args)
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("LADDER_AUDIT_KEY", key)
        .env("LADDER_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn the_users_commands_change_accounts_the_service_sees_at_once() {
    let app = TestApp::spawn();
    let id = app.user("mei.reviewer", Role::Reviewer, None);
    app.user("zhao.official", Role::Official, None);
    let token = app.login("mei.reviewer");
    assert_eq!(app.get("/api/v1/me", &token).status(), 200);

    let (code, out, err) = ladder(&app, &["users", "list", "--role", "reviewer"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("mei.reviewer"), "{out}");
    assert!(!out.contains("zhao.official"), "{out}");

    // Disabled: the token she holds stops working on the next request.
    let (code, out, err) = ladder(&app, &["users", "disable", "mei.reviewer"], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("disabled mei.reviewer (id {id})")),
        "{out}"
    );
    assert_eq!(app.get("/api/v1/me", &token).status(), 401);
    let (_, out, _) = ladder(&app, &["users", "list"], None);
    let line = out.lines().find(|l| l.contains("mei.reviewer")).unwrap();
    assert!(line.trim_end().ends_with("yes"), "{line}");

    // Enabled and promoted: the next sign-in is an official's.
    assert_eq!(
        ladder(&app, &["users", "enable", "mei.reviewer"], None).0,
        0
    );
    let (code, out, err) = ladder(&app, &["users", "role", "mei.reviewer", "official"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("is now official"), "{out}");
    let me = body(app.get("/api/v1/me", &app.login("mei.reviewer")));
    assert_eq!(me["role"], "official");

    // A new password: the old one no longer signs in, the new one does.
    let (code, _, err) = ladder(
        &app,
        &[
            "users",
            "reset-password",
            "mei.reviewer",
            "--password-stdin",
        ],
        Some("a-new-long-passphrase-2026\n"),
    );
    assert_eq!(code, 0, "{err}");
    let r = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "mei.reviewer", "password": crate::helpers::PASSWORD}),
    );
    assert_eq!(r.status(), 401);
    let r = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "mei.reviewer", "password": "a-new-long-passphrase-2026"}),
    );
    assert_eq!(r.status(), 200);

    // The service's rules hold on the command line too.
    let (code, _, err) = ladder(
        &app,
        &[
            "users",
            "reset-password",
            "mei.reviewer",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("password"), "{err}");
    let (code, _, err) = ladder(&app, &["users", "disable", "nobody.here"], None);
    assert_ne!(code, 0);
    assert!(err.contains("no account named nobody.here"), "{err}");
    let (code, _, err) = ladder(&app, &["users", "role", "mei.reviewer", "superuser"], None);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("reviewer"),
        "clap should list the roles: {err}"
    );
}
