//! Evidence (API.md "Evidence"): multipart uploads typed by content, limits enforced while
//! streaming, content-addressed storage in the database, streamed downloads, who may read and
//! change, and the audit trail.

use crate::helpers::{TestApp, body, uscc};
use crate::workflow::{act, create, today, world};
use chrono::Datelike;
use diesel::RunQueryDsl;
use ladder::domain::Role;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const BOUNDARY: &str = "ladder-test-boundary-7d1f";

/// A multipart/form-data body: `(name, filename, bytes)` per part.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(f) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

pub fn upload_raw(app: &TestApp, token: &str, id: i64, body: Vec<u8>) -> Response {
    app.client
        .post(app.url(&format!("/api/v1/applications/{id}/attachments")))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .unwrap()
}

pub fn upload(
    app: &TestApp,
    token: &str,
    id: i64,
    kind: &str,
    filename: &str,
    bytes: &[u8],
) -> Response {
    upload_raw(
        app,
        token,
        id,
        multipart(&[
            ("kind", None, kind.as_bytes()),
            ("file", Some(filename), bytes),
        ]),
    )
}

/// A small PDF (its signature is what counts).
pub fn pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {tag}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
        .into_bytes()
}

pub fn png(tag: &str) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    v.extend_from_slice(tag.as_bytes());
    v
}

/// A minimal OFD package head: a zip whose first entry is `OFD.xml`.
fn ofd() -> Vec<u8> {
    let mut v = b"PK\x03\x04".to_vec();
    v.extend_from_slice(&[
        20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    v.extend_from_slice(&7u16.to_le_bytes());
    v.extend_from_slice(&0u16.to_le_bytes());
    v.extend_from_slice(b"OFD.xml<ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\"/>");
    v
}

fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    diesel::sql_query(sql)
        .get_result::<N>(&mut *conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

fn fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_string())
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hmac_sha256::Hash::hash(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn evidence_is_typed_by_content_stored_once_and_streamed_back() {
    let app = TestApp::spawn();
    let w = world(&app, 8501);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );

    // A PDF.
    let report = pdf("审计报告 2025");
    let r = upload(&app, &w.owner, id, "audit_report", "审计报告.pdf", &report);
    assert_eq!(r.status(), 201);
    let a = body(r);
    assert_eq!(a["kind"], "audit_report");
    assert_eq!(a["filename"], "审计报告.pdf");
    assert_eq!(a["content_type"], "application/pdf");
    assert_eq!(a["size"], report.len());
    assert_eq!(a["sha256"], sha256_hex(&report));
    // A PNG named .pdf is judged by its content.
    let r = upload(&app, &w.owner, id, "award", "奖状.pdf", &png("award"));
    assert_eq!(r.status(), 201);
    assert_eq!(body(r)["content_type"], "image/png");
    // An OFD document.
    let r = upload(&app, &w.owner, id, "license", "营业执照.ofd", &ofd());
    assert_eq!(r.status(), 201);
    assert_eq!(body(r)["content_type"], "application/ofd");
    // A JPEG.
    let r = upload(
        &app,
        &w.owner,
        id,
        "other",
        "photo.jpg",
        b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01",
    );
    assert_eq!(r.status(), 201);
    assert_eq!(body(r)["content_type"], "image/jpeg");

    // The same content again is a second attachment over one stored copy.
    let r = upload(&app, &w.owner, id, "other", "copy.pdf", &report);
    assert_eq!(r.status(), 201);
    let copy = body(r);
    assert_eq!(copy["sha256"], a["sha256"]);
    let sha = a["sha256"].as_str().unwrap();
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM blobs WHERE sha256 = '{sha}'")
        ),
        1
    );

    let list = body(app.get(&format!("/api/v1/applications/{id}/attachments"), &w.owner));
    assert_eq!(list["items"].as_array().map(Vec::len), Some(5), "{list}");

    // Download: the bytes, as an attachment, not sniffed.
    let att = a["id"].as_i64().unwrap();
    let r = app.get(&format!("/api/v1/attachments/{att}"), &w.reviewer);
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().unwrap().as_ref(), report.as_slice());

    // Deleting one of two attachments keeps the content; deleting the last removes it.
    let copy_id = copy["id"].as_i64().unwrap();
    let r = app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{copy_id}"),
        Some(&w.owner),
        None,
    );
    assert_eq!(r.status(), 204);
    let blobs_of = |sha: &str| {
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM blobs WHERE sha256 = '{sha}'"),
        )
    };
    assert_eq!(blobs_of(sha), 1);
    let r = app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{att}"),
        Some(&w.owner),
        None,
    );
    assert_eq!(r.status(), 204);
    assert_eq!(blobs_of(sha), 0);
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{att}"), &w.owner)
            .status(),
        404
    );

    // Every upload and deletion is audited with the hash.
    let trail = body(app.get(
        &format!("/api/v1/audit?entity=attachment&id={att}"),
        &w.admin,
    ));
    let entries = trail["items"].as_array().cloned().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["attachment.upload", "attachment.delete"],
        "{trail}"
    );
    assert_eq!(entries[0]["after"]["sha256"], sha);
    assert_eq!(entries[1]["before"]["sha256"], sha);
}

#[test]
fn evidence_is_read_by_owner_reviewers_officials_and_admins_only() {
    let app = TestApp::spawn();
    let w = world(&app, 8601);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    let a = body(upload(
        &app,
        &w.owner,
        id,
        "ip_certificate",
        "专利.pdf",
        &pdf("ip"),
    ));
    let att = a["id"].as_i64().unwrap();
    let other = app.enterprise(&uscc(8602), "沈阳别家有限公司", "210106");
    app.user("stranger", Role::Enterprise, Some(other));
    let stranger = app.login("stranger");
    app.user("official8601", Role::Official, None);
    let official = app.login("official8601");
    for (who, token, status) in [
        ("owner", &w.owner, 200),
        ("reviewer", &w.reviewer, 200),
        ("official", &official, 200),
        ("admin", &w.admin, 200),
        ("another enterprise", &stranger, 404),
    ] {
        assert_eq!(
            app.get(&format!("/api/v1/attachments/{att}"), token)
                .status(),
            status,
            "{who} download"
        );
        assert_eq!(
            app.get(&format!("/api/v1/applications/{id}/attachments"), token)
                .status(),
            status,
            "{who} list"
        );
    }
    // Nobody else uploads or deletes: another enterprise does not even see it.
    assert_eq!(
        upload(&app, &stranger, id, "other", "x.pdf", &pdf("x")).status(),
        404
    );
    assert_eq!(
        upload(&app, &official, id, "other", "x.pdf", &pdf("x")).status(),
        403
    );
    let r = app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{att}"),
        Some(&w.reviewer),
        None,
    );
    assert_eq!(r.status(), 403);
}

#[test]
fn evidence_changes_only_while_draft_or_returned_and_is_frozen_at_submission() {
    let app = TestApp::spawn();
    let w = world(&app, 8701);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    let a = body(upload(
        &app,
        &w.owner,
        id,
        "audit_report",
        "a.pdf",
        &pdf("a"),
    ));
    let submitted = body(act(&app, &w.owner, id, "submit", &json!({})));
    let frozen = submitted["prescreen"]["evidence"]
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(frozen.len(), 1, "{submitted}");
    assert_eq!(frozen[0]["sha256"], a["sha256"]);
    let r = upload(&app, &w.owner, id, "other", "b.pdf", &pdf("b"));
    assert_eq!(r.status(), 409);
    assert!(body(r)["detail"].as_str().unwrap().contains("is submitted"));
    let r = app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", a["id"]),
        Some(&w.owner),
        None,
    );
    assert_eq!(r.status(), 409);
    // Returned: the company may complete its evidence again.
    act(
        &app,
        &w.admin,
        id,
        "assign",
        &json!({"reviewer_id": w.reviewer_id}),
    );
    let r = act(
        &app,
        &w.reviewer,
        id,
        "decision",
        &json!({"decision": "return", "comment": "请补充审计报告"}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        upload(&app, &w.owner, id, "audit_report", "b.pdf", &pdf("b")).status(),
        201
    );
}

#[test]
fn bad_uploads_are_refused_naming_the_field_and_leave_nothing_behind() {
    let app = TestApp::spawn();
    let w = world(&app, 8801);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );

    // No file.
    let r = upload_raw(&app, &w.owner, id, multipart(&[("kind", None, b"other")]));
    assert_eq!(r.status(), 422);
    assert_eq!(fields(&body(r)), ["file"]);
    // An unknown kind.
    let r = upload(&app, &w.owner, id, "selfie", "a.pdf", &pdf("a"));
    assert_eq!(r.status(), 422);
    assert_eq!(fields(&body(r)), ["kind"]);
    // Content that is no accepted type, whatever its name says.
    let r = upload(
        &app,
        &w.owner,
        id,
        "other",
        "report.pdf",
        b"just some text, not a PDF",
    );
    assert_eq!(r.status(), 422);
    let b = body(r);
    assert_eq!(fields(&b), ["file"]);
    assert_eq!(b["errors"][0]["code"], "unsupported_type");
    let r = upload(
        &app,
        &w.owner,
        id,
        "other",
        "x.gif",
        b"GIF89a\x01\0\x01\0\0\0\0;",
    );
    assert_eq!(r.status(), 422);

    // Over 20 MiB: 413, and nothing stored.
    let mut big = pdf("big");
    big.resize((20 << 20) + 1, b' ');
    let r = upload(&app, &w.owner, id, "audit_report", "big.pdf", &big);
    assert_eq!(r.status(), 413);
    // Exactly 20 MiB is allowed.
    big.truncate(20 << 20);
    let r = upload(&app, &w.owner, id, "audit_report", "max.pdf", &big);
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM attachments"), 1);
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT sha256) AS n FROM blobs"),
        1
    );
    // 20 stored chunks of 1 MiB.
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM blobs"), 20);
}

#[test]
fn an_application_takes_at_most_100_mib_of_evidence() {
    let app = TestApp::spawn();
    let w = world(&app, 8901);
    let id = create(
        &app,
        &w.owner,
        w.enterprise,
        "srdi_sme",
        today().year(),
        false,
    );
    for i in 0..5 {
        let mut f = pdf(&format!("part {i}"));
        f.resize(20 << 20, b' ');
        let r = upload(&app, &w.owner, id, "other", &format!("p{i}.pdf"), &f);
        assert_eq!(r.status(), 201, "file {i}");
    }
    let r = upload(
        &app,
        &w.owner,
        id,
        "other",
        "one-more.pdf",
        &pdf("one more"),
    );
    assert_eq!(r.status(), 413);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM attachments"), 5);
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT sha256) AS n FROM blobs"),
        5
    );
}
