//! The audit trail: the database refuses to edit it, a direct edit (with the trigger
//! dropped) is caught by `GET /audit/verify`, and the listing filters and pages.

use crate::helpers::{TestApp, body};
use crate::workflow::{act, create, today, world};
use chrono::Datelike;
use diesel::connection::SimpleConnection;
use ladder::db::{Backend, DbConnection};
use serde_json::json;

fn exec(app: &TestApp, sql: &str) -> Result<(), String> {
    let mut conn = app.conn();
    let c: &mut DbConnection = &mut conn;
    c.batch_execute(sql).map_err(|e| e.to_string())
}

fn backend(app: &TestApp) -> Backend {
    app.conn().backend()
}

#[test]
fn the_database_refuses_to_change_the_trail() {
    let app = TestApp::spawn();
    let w = world(&app, 5001);
    create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    let v = body(app.get("/api/v1/audit/verify", &w.admin));
    assert!(v["entries"].as_u64().unwrap_or(0) >= 3, "{v}");
    let update = exec(&app, "UPDATE audit_log SET actor = 'mallory' WHERE id = 1");
    assert!(
        update.as_ref().is_err_and(|e| e.contains("append-only")),
        "{update:?}"
    );
    let delete = exec(&app, "DELETE FROM audit_log WHERE id = 1");
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("append-only")),
        "{delete:?}"
    );
    if backend(&app) == Backend::Postgres {
        let truncate = exec(&app, "TRUNCATE audit_log");
        assert!(
            truncate.as_ref().is_err_and(|e| e.contains("append-only")),
            "{truncate:?}"
        );
    }
    assert_eq!(body(app.get("/api/v1/audit/verify", &w.admin))["ok"], true);
}

#[test]
fn a_direct_edit_is_named_by_verify() {
    let app = TestApp::spawn();
    let w = world(&app, 5101);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    assert_eq!(act(&app, &w.owner, id, "submit", &json!({})).status(), 200);
    assert_eq!(
        act(
            &app,
            &w.admin,
            id,
            "assign",
            &json!({"reviewer_id": w.reviewer_id})
        )
        .status(),
        200
    );
    let before = body(app.get("/api/v1/audit/verify", &w.admin));
    assert_eq!(before["ok"], true, "{before}");
    // The submission's entry gets a new actor behind the service's back.
    let trail = body(app.get(
        &format!("/api/v1/audit?entity=application&id={id}"),
        &w.admin,
    ));
    let target = trail["items"]
        .as_array()
        .cloned()
        .unwrap()
        .into_iter()
        .find(|e| e["action"] == "application.submit")
        .map(|e| e["id"].as_i64().unwrap_or(0))
        .unwrap_or(0);
    assert!(target > 0, "{trail}");
    let drop = match backend(&app) {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
    };
    exec(&app, drop).unwrap_or_else(|e| panic!("{e}"));
    exec(
        &app,
        &format!("UPDATE audit_log SET actor = 'user:999:mallory' WHERE id = {target}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let after = body(app.get("/api/v1/audit/verify", &w.admin));
    assert_eq!(after["ok"], false, "{after}");
    assert_eq!(after["first_broken_id"], target);
    assert!(
        after["reason"].as_str().is_some_and(|r| r.contains("hash")),
        "{after}"
    );
}

#[test]
fn the_trail_is_listed_by_entity_and_paged() {
    let app = TestApp::spawn();
    let w = world(&app, 5201);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    assert_eq!(act(&app, &w.owner, id, "submit", &json!({})).status(), 200);
    assert_eq!(
        act(&app, &w.owner, id, "withdraw", &json!({})).status(),
        200
    );
    let first = body(app.get(
        &format!("/api/v1/audit?entity=application&id={id}&limit=2"),
        &w.admin,
    ));
    let items = first["items"].as_array().cloned().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "application.create");
    assert_eq!(items[0]["before"], serde_json::Value::Null);
    assert_eq!(items[0]["after"]["state"], "draft");
    assert_eq!(items[1]["before"]["state"], "draft");
    assert_eq!(items[1]["after"]["state"], "submitted");
    assert!(
        items[1]["actor"]
            .as_str()
            .is_some_and(|a| a.contains(&format!("owner{}", 5201)))
    );
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    assert!(!cursor.is_empty());
    let rest = body(app.get(
        &format!("/api/v1/audit?entity=application&id={id}&limit=2&cursor={cursor}"),
        &w.admin,
    ));
    assert_eq!(rest["items"][0]["action"], "application.withdraw");
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    // Ties land in it too.
    crate::workflow::post_ok(
        &app,
        &format!("/api/v1/reviewers/{}/ties", w.reviewer_id),
        &w.reviewer,
        &json!({"enterprise_id": w.enterprise}),
        201,
    );
    let ties = body(app.get(
        &format!("/api/v1/audit?entity=reviewer&id={}", w.reviewer_id),
        &w.admin,
    ));
    assert_eq!(ties["items"][0]["action"], "reviewer.tie");
    assert_eq!(app.get("/api/v1/audit", &w.reviewer).status(), 403);
}

/// The figure for the closing note: how long `GET /audit/verify` takes over 100,000 entries.
/// `cargo test --release --test api verify_a_long_chain -- --ignored --nocapture`
#[test]
#[ignore = "slow: appends 100,000 entries"]
fn verify_a_long_chain() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let mut conn = app.conn();
    let started = std::time::Instant::now();
    for batch in 0..100 {
        ladder::db::write_tx(&mut conn, |c| -> diesel::QueryResult<()> {
            for i in 0..1000 {
                let n = batch * 1000 + i;
                ladder::services::audit::record::<(), _>(
                    c,
                    "bench",
                    "bench.append",
                    "bench",
                    n,
                    None,
                    Some(&json!({"n": n})),
                )?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }
    drop(conn);
    let appended = started.elapsed();
    let started = std::time::Instant::now();
    let v = body(app.get("/api/v1/audit/verify", &admin));
    let took = started.elapsed();
    eprintln!(
        "audit chain: {} entries appended in {appended:?}; GET /audit/verify took {took:?}",
        v["entries"]
    );
    assert_eq!(v["ok"], true);
    assert!(v["entries"].as_u64().unwrap_or(0) >= 100_000);
}

/// Rewrites `audit_log` from `from_id` on as an attacker with database access but without the
/// key would: change the actor of `from_id`, then recompute every later link with `rehash`.
fn rewrite_from(app: &TestApp, from_id: i32, rehash: impl Fn(&str) -> String) {
    use diesel::prelude::*;
    use ladder::db::schema::audit_log as t;
    let drop = match backend(app) {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
    };
    exec(app, drop).unwrap_or_else(|e| panic!("{e}"));
    let mut conn = app.conn();
    let entries = ladder::models::audit::page(&mut conn, 0, 100_000).unwrap();
    let mut prev = ladder::services::audit::GENESIS.to_string();
    for e in entries {
        if e.id < from_id {
            prev = e.hash.clone();
            continue;
        }
        let actor = if e.id == from_id {
            "user:999:mallory".to_string()
        } else {
            e.actor.clone()
        };
        let canonical = json!([
            "ladder-audit-v1",
            prev,
            e.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            actor,
            e.action,
            e.entity,
            e.entity_id,
            e.before_json,
            e.after_json
        ])
        .to_string();
        let hash = rehash(&canonical);
        diesel::update(t::table.find(e.id))
            .set((
                t::actor.eq(&actor),
                t::prev_hash.eq(&prev),
                t::hash.eq(&hash),
            ))
            .execute(&mut *conn)
            .unwrap_or_else(|e| panic!("{e}"));
        prev = hash;
    }
}

fn some_entries(app: &TestApp, n: u32) -> String {
    let w = world(app, n);
    let id = create(
        app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    assert_eq!(act(app, &w.owner, id, "submit", &json!({})).status(), 200);
    assert_eq!(act(app, &w.owner, id, "withdraw", &json!({})).status(), 200);
    w.admin
}

fn middle_entry(app: &TestApp) -> i32 {
    let mut conn = app.conn();
    let entries = ladder::models::audit::page(&mut conn, 0, 100_000).unwrap();
    assert!(entries.len() >= 4, "{}", entries.len());
    entries[entries.len() / 2].id
}

#[test]
fn rehashing_an_edit_with_plain_sha256_fails_verify() {
    use sha2::Digest;
    let app = TestApp::spawn();
    let admin = some_entries(&app, 5301);
    assert_eq!(body(app.get("/api/v1/audit/verify", &admin))["ok"], true);
    let target = middle_entry(&app);
    rewrite_from(&app, target, |c| {
        hex::encode(sha2::Sha256::digest(c.as_bytes()))
    });
    let v = body(app.get("/api/v1/audit/verify", &admin));
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_broken_id"], target, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("plain SHA-256")),
        "{v}"
    );
}

#[test]
fn rehashing_an_edit_with_hmac_under_another_key_fails_verify() {
    use hmac::Mac;
    let app = TestApp::spawn();
    let admin = some_entries(&app, 5401);
    let target = middle_entry(&app);
    rewrite_from(&app, target, |c| {
        let mut m =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(b"a guessed key, not the real one!!")
                .unwrap_or_else(|e| panic!("{e}"));
        m.update(c.replace("ladder-audit-v1", "ladder-audit-v2").as_bytes());
        hex::encode(m.finalize().into_bytes())
    });
    let v = body(app.get("/api/v1/audit/verify", &admin));
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_broken_id"], target, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("keyed hash")),
        "{v}"
    );
}

#[test]
fn a_truncated_chain_fails_verify_head() {
    let app = TestApp::spawn();
    let admin = some_entries(&app, 5501);
    let cp = ladder::services::audit::checkpoint(&mut app.conn())
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("an empty chain"));
    // The checkpoint verifies against the served public key, outside the service.
    let key = body(app.get("/api/v1/audit/key", &admin));
    assert_eq!(key["algorithm"], "Ed25519");
    let public: [u8; 32] = hex::decode(key["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap_or_else(|_| panic!("a 32-byte key: {key}"));
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap_or_else(|e| panic!("{e}"));
    let sig = ed25519_dalek::Signature::from_slice(&hex::decode(&cp.signature).unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let msg = json!(["ladder-audit-checkpoint-v1", cp.id, cp.hash, cp.at]).to_string();
    assert!(
        ed25519_dalek::Verifier::verify(&vk, msg.as_bytes(), &sig).is_ok(),
        "the checkpoint's signature holds under GET /audit/key"
    );
    let ok = ladder::services::audit::verify_against(&mut app.conn(), Some(&cp))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ok.ok, "{ok:?}");

    // Remove the last two entries.
    let drop = match backend(&app) {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_delete",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_delete",
    };
    exec(&app, drop).unwrap_or_else(|e| panic!("{e}"));
    exec(
        &app,
        &format!("DELETE FROM audit_log WHERE id > {}", cp.id - 2),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Without the checkpoint a removed tail is invisible; with it, it is named.
    assert_eq!(body(app.get("/api/v1/audit/verify", &admin))["ok"], true);
    let v = ladder::services::audit::verify_against(&mut app.conn(), Some(&cp))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!v.ok, "{v:?}");
    assert_eq!(v.first_broken_id, Some(cp.id));
    assert!(
        v.reason.as_deref().is_some_and(|r| r.contains("shorter")),
        "{v:?}"
    );

    // The CLI: `ladder audit verify --head FILE` exits non-zero naming the entry.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("head.json");
    std::fs::write(&file, serde_json::to_string(&cp).unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let key = app
        .state
        .config
        .audit_key
        .as_ref()
        .map(|k| secrecy::ExposeSecret::expose_secret(k).to_string())
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ladder"))
        .args(["audit", "verify", "--head"])
        .arg(&file)
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("LADDER_AUDIT_KEY", key)
        .env("LADDER_LOG", "error")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("BROKEN at entry {}", cp.id)),
        "{stdout}"
    );

    // A checkpoint with a forged signature is refused too.
    let mut forged = cp.clone();
    forged.id -= 2;
    let v = ladder::services::audit::verify_against(&mut app.conn(), Some(&forged))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        v.reason.as_deref().is_some_and(|r| r.contains("signature")),
        "{v:?}"
    );
}

/// A chain from before the key: its plain SHA-256 entries are sealed on the first keyed
/// start and verify as legacy; rewriting the legacy part afterwards breaks the seal.
#[test]
fn a_legacy_chain_is_sealed_and_then_holds() {
    use diesel::prelude::*;
    use ladder::db::schema::audit_log as t;
    use sha2::Digest;
    let config = ladder::config::Config::for_tests("");
    let secret = config
        .audit_key
        .as_ref()
        .map(|k| secrecy::ExposeSecret::expose_secret(k).as_bytes().to_vec())
        .unwrap();
    ladder::services::audit::install(
        ladder::services::audit::AuditKey::from_secret(&secret).unwrap_or_else(|e| panic!("{e}")),
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pool = ladder::db::connect(&dir.path().join("old.db").to_string_lossy(), 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = pool.get().unwrap_or_else(|e| panic!("{e}"));
    ladder::db::run_migrations(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let legacy_row = |conn: &mut DbConnection, prev: &str, n: i32| -> String {
        let at = chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, n as u32))
            .unwrap();
        let after = json!({"n": n}).to_string();
        let canonical = json!([
            "ladder-audit-v1",
            prev,
            at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            "old",
            "old.write",
            "old",
            n.to_string(),
            None::<String>,
            Some(after.clone())
        ])
        .to_string();
        let hash = hex::encode(sha2::Sha256::digest(canonical.as_bytes()));
        diesel::insert_into(t::table)
            .values((
                t::at.eq(at),
                t::actor.eq("old"),
                t::action.eq("old.write"),
                t::entity.eq("old"),
                t::entity_id.eq(n.to_string()),
                t::after_json.eq(after),
                t::prev_hash.eq(prev),
                t::hash.eq(&hash),
            ))
            .execute(conn)
            .unwrap_or_else(|e| panic!("{e}"));
        hash
    };
    let mut prev = ladder::services::audit::GENESIS.to_string();
    for n in 1..=3 {
        prev = legacy_row(&mut conn, &prev, n);
    }
    // Unsealed legacy entries do not pass.
    let v = ladder::services::audit::verify(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert!(!v.ok, "{v:?}");
    // The first keyed start seals them; later entries are keyed.
    ladder::services::audit::seal_legacy(
        &mut conn,
        &ladder::services::audit::KeySource::Environment,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    ladder::services::audit::record::<(), _>(
        &mut conn,
        "new",
        "new.write",
        "new",
        1,
        None,
        Some(&json!({})),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let v = ladder::services::audit::verify(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert!(v.ok, "{v:?}");
    assert_eq!((v.entries, v.legacy_entries), (5, 3));
    // Sealing twice adds nothing.
    ladder::services::audit::seal_legacy(
        &mut conn,
        &ladder::services::audit::KeySource::Environment,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ladder::services::audit::verify(&mut conn)
            .map(|v| v.entries)
            .ok(),
        Some(5)
    );
    // Rewriting legacy entry 2 and re-hashing the legacy part with plain SHA-256: the seal
    // (keyed over the old legacy head) no longer links.
    diesel::sql_query("DROP TRIGGER audit_log_no_update")
        .execute(&mut *conn)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut prev = ladder::services::audit::GENESIS.to_string();
    let rows = ladder::models::audit::page(&mut conn, 0, 10).unwrap();
    for e in rows.iter().take(3) {
        let actor = if e.id == rows[1].id { "mallory" } else { "old" };
        let canonical = json!([
            "ladder-audit-v1",
            prev,
            e.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            actor,
            e.action,
            e.entity,
            e.entity_id,
            e.before_json,
            e.after_json
        ])
        .to_string();
        let hash = hex::encode(sha2::Sha256::digest(canonical.as_bytes()));
        diesel::update(t::table.find(e.id))
            .set((
                t::actor.eq(actor),
                t::prev_hash.eq(&prev),
                t::hash.eq(&hash),
            ))
            .execute(&mut *conn)
            .unwrap_or_else(|e| panic!("{e}"));
        prev = hash;
    }
    let v = ladder::services::audit::verify(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert!(!v.ok, "{v:?}");
    assert_eq!(v.first_broken_id, Some(rows[3].id), "{v:?}");
}

#[test]
fn the_key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("ladder.db");
    let path = ladder::services::audit::key_file_for(&db.to_string_lossy())
        .unwrap_or_else(|| panic!("a key file path"));
    assert_eq!(path, dir.path().join("ladder.db.audit-key"));
    let (k1, s1) =
        ladder::services::audit::load_or_create_key_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        s1,
        ladder::services::audit::KeySource::CreatedFile(_)
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        assert_eq!(mode & 0o777, 0o600);
    }
    let (k2, s2) =
        ladder::services::audit::load_or_create_key_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        s2,
        ladder::services::audit::KeySource::ExistingFile(_)
    ));
    assert_eq!(k1.public_key_hex(), k2.public_key_hex());
    // PostgreSQL without LADDER_AUDIT_KEY is refused, naming the variable.
    let e = ladder::services::audit::resolve_key("postgres://x@127.0.0.1/y", None)
        .err()
        .map(|e| e.to_string())
        .unwrap();
    assert!(e.contains("LADDER_AUDIT_KEY"), "{e}");
}
