//! The registry: enterprises, facts, imports, and the problem documents bad input gets.

use crate::helpers::{TestApp, body, uscc};
use ladder::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

fn fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .cloned()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn credit_codes_are_checked_at_the_api() {
    let app = TestApp::spawn();
    let admin = app.admin();
    for (code, status) in [
        ("91110000600037341L", 201),
        ("912101061234567888", 201),
        ("91210100MA0QC1WY6Q", 422),
    ] {
        let r = app.post(
            "/api/v1/enterprises",
            Some(&admin),
            &json!({"uscc": code, "name": format!("企业{code}"), "district_code": "210106"}),
        );
        assert_eq!(r.status(), status, "{code}");
        if status == 422 {
            assert_eq!(fields(&body(r)), vec!["uscc"]);
        }
    }
    // Unique: the same code again is a 409 naming the field.
    let r = app.post(
        "/api/v1/enterprises",
        Some(&admin),
        &json!({"uscc": "912101061234567888", "name": "重复", "district_code": "210106"}),
    );
    assert_eq!(r.status(), 409);
    assert!(body(r)["detail"].as_str().unwrap_or("").contains("uscc"));
}

#[test]
fn patch_needs_a_fresh_etag() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let id = app.enterprise(&uscc(7), "沈阳七号有限公司", "210106");
    let r = app.get(&format!("/api/v1/enterprises/{id}"), &admin);
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_string();
    assert_eq!(body(r)["etag"], etag.as_str());
    let patch = |tag: Option<&str>, b: Value| {
        let mut rb = app
            .client
            .request(Method::PATCH, app.url(&format!("/api/v1/enterprises/{id}")))
            .bearer_auth(&admin)
            .json(&b);
        if let Some(t) = tag {
            rb = rb.header("If-Match", t);
        }
        rb.send().unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(patch(None, json!({"name": "新名"})).status(), 428);
    let ok = patch(
        Some(&etag),
        json!({"name": "沈阳新名有限公司", "cluster_code": "robotics"}),
    );
    assert_eq!(ok.status(), 200);
    let after = body(ok);
    assert_eq!(after["name"], "沈阳新名有限公司");
    assert_eq!(after["cluster_code"], "robotics");
    // The old etag is stale now: 412 and nothing changes.
    assert_eq!(patch(Some(&etag), json!({"name": "覆盖"})).status(), 412);
    assert_eq!(
        body(app.get(&format!("/api/v1/enterprises/{id}"), &admin))["name"],
        "沈阳新名有限公司"
    );
}

#[test]
fn mass_assignment_is_refused_and_changes_nothing() {
    let app = TestApp::spawn();
    let id = app.enterprise(&uscc(8), "沈阳八号有限公司", "210106");
    app.user("owner8", Role::Enterprise, Some(id));
    let token = app.login("owner8");
    let before = body(app.get(&format!("/api/v1/enterprises/{id}"), &token));
    for (b, field) in [
        (json!({"id": 999}), "id"),
        (json!({"uscc": uscc(9)}), "uscc"),
        (json!({"lock_version": 99}), "lock_version"),
        (json!({"name": "x", "role": "admin"}), "role"),
    ] {
        let r = app
            .client
            .request(Method::PATCH, app.url(&format!("/api/v1/enterprises/{id}")))
            .bearer_auth(&token)
            .header("If-Match", "*")
            .json(&b)
            .send()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 422, "{b}");
        let problem = body(r);
        assert_eq!(problem["errors"][0]["code"], "unknown_field");
        // Named once: `role`, not `role.role`.
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // `verified` is an admin's call.
    let r = app
        .client
        .request(Method::PATCH, app.url(&format!("/api/v1/enterprises/{id}")))
        .bearer_auth(&token)
        .header("If-Match", "*")
        .json(&json!({"verified": true}))
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 422);
    assert_eq!(fields(&body(r)), vec!["verified"]);
    // Registration cannot pick a role.
    let r = app.post("/api/v1/auth/register", None, &json!({"username": "sneaky", "password": crate::helpers::PASSWORD, "uscc": uscc(10), "name": "x", "district_code": "210106", "role": "admin"}));
    assert_eq!(r.status(), 422);
    assert_eq!(
        body(app.get(&format!("/api/v1/enterprises/{id}"), &token)),
        before
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "sneaky", "password": crate::helpers::PASSWORD})
        )
        .status(),
        401
    );
}

#[test]
fn facts_are_validated_kept_exact_and_historied() {
    let app = TestApp::spawn();
    let id = app.enterprise(&uscc(11), "沈阳十一有限公司", "210106");
    app.user("owner11", Role::Enterprise, Some(id));
    let token = app.login("owner11");
    let path = format!("/api/v1/enterprises/{id}/facts/2025");
    let r = app.put(&path, &token, &json!({"facts": {"operating_revenue": 4006.3, "rd_expense": "120.189", "employees": 120, "rd_staff": 30, "high_tech_enterprise": true}}));
    assert_eq!(r.status(), 201);
    let r = app.put(&path, &token, &json!({"facts": {"operating_revenue": "4006.30", "rd_expense": "130", "employees": 120, "rd_staff": 30}}));
    assert_eq!(r.status(), 200);
    assert_eq!(body(r)["revision"], 2);
    // Exact decimals in, exact decimals out (text comparison: no float rounding).
    let text = app
        .get(&format!("/api/v1/enterprises/{id}/facts"), &token)
        .text()
        .unwrap();
    assert!(text.contains("\"operating_revenue\":4006.3"), "{text}");
    let hist = body(app.get(&format!("/api/v1/enterprises/{id}/facts/history"), &token));
    assert_eq!(hist.as_array().map(Vec::len), Some(2));
    assert_eq!(hist[1]["changes"]["rd_expense"]["from"], "120.189");
    assert_eq!(hist[1]["changes"]["rd_expense"]["to"], "130");
    assert_eq!(
        hist[1]["changes"]["high_tech_enterprise"]["to"],
        Value::Null
    );
    assert!(
        hist[1]["changed_by"]
            .as_str()
            .unwrap_or("")
            .contains("owner11")
    );

    let bad = app.put(&path, &token, &json!({"facts": {"nonsense": 1, "rd_expense": -5, "digital_level": 7, "employees": 10, "rd_staff": 11, "abnormal_listed": "no"}}));
    assert_eq!(bad.status(), 422);
    let f = fields(&body(bad));
    for expected in [
        "facts.nonsense",
        "facts.rd_expense",
        "facts.digital_level",
        "facts.rd_staff",
        "facts.abnormal_listed",
    ] {
        assert!(f.contains(&expected.to_string()), "{expected} in {f:?}");
    }
    // The rejected write changed nothing.
    assert_eq!(
        body(app.get(&format!("/api/v1/enterprises/{id}/facts/history"), &token))
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let r = app.put(
        &format!("/api/v1/enterprises/{id}/facts/1700"),
        &token,
        &json!({"facts": {}}),
    );
    assert_eq!(r.status(), 422);
    assert_eq!(fields(&body(r)), vec!["year"]);
}

#[test]
fn bad_input_gets_problem_documents() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let send = |method: Method, path: &str, ct: &str, raw: Vec<u8>| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(&admin)
            .header("content-type", ct)
            .body(raw)
            .send()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let check = |r: reqwest::blocking::Response, status: u16| {
        assert_eq!(r.status(), status);
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let b = body(r);
        assert_eq!(b["status"], status);
        assert!(
            b["type"].as_str().is_some()
                && b["title"].as_str().is_some()
                && b["detail"].as_str().is_some()
        );
        b
    };
    check(
        send(
            Method::POST,
            "/api/v1/enterprises",
            "application/json",
            b"{not json".to_vec(),
        ),
        400,
    );
    check(
        send(
            Method::POST,
            "/api/v1/enterprises",
            "application/json",
            vec![0xff, 0xfe, 0x00],
        ),
        400,
    );
    let b = check(
        send(
            Method::POST,
            "/api/v1/enterprises",
            "application/json",
            br#"{"uscc": 5, "name": "x", "district_code": "210106"}"#.to_vec(),
        ),
        422,
    );
    assert_eq!(fields(&b), vec!["uscc"]);
    check(
        send(
            Method::POST,
            "/api/v1/enterprises",
            "text/plain",
            b"{}".to_vec(),
        ),
        400,
    );
    let big = format!(
        "{{\"facts\": {{\"operating_revenue\": \"{}\"}}}}",
        "1".repeat(1_100_000)
    );
    check(
        send(
            Method::PUT,
            "/api/v1/enterprises/1/facts/2025",
            "application/json",
            big.into_bytes(),
        ),
        413,
    );
    check(app.get("/api/v1/enterprises/abc", &admin), 400);
    let b = check(app.get("/api/v1/enterprises?limit=100000", &admin), 422);
    assert_eq!(fields(&b), vec!["limit"]);
    check(app.get("/api/v1/enterprises?cursor=forged", &admin), 422);
    check(app.get("/api/v1/enterprises?bogus=1", &admin), 422);
    check(app.get("/api/v1/enterprises/999999", &admin), 404);
}

#[test]
fn listing_filters_and_cursor_pagination() {
    let app = TestApp::spawn();
    let admin = app.admin();
    for i in 0..7 {
        let district = if i % 2 == 0 { "210106" } else { "210112" };
        app.enterprise(&uscc(100 + i), &format!("沈阳分页{i}有限公司"), district);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/enterprises?limit=3&cursor={c}"),
            None => "/api/v1/enterprises?limit=3".to_string(),
        };
        let page = body(app.get(&q, &admin));
        for e in page["items"].as_array().cloned().unwrap() {
            seen.push(e["id"].as_i64().unwrap_or(0));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "no duplicates across pages");
    let tiexi = body(app.get("/api/v1/enterprises?district=210106", &admin));
    assert_eq!(tiexi["items"].as_array().map(Vec::len), Some(4));
    let q = body(app.get("/api/v1/enterprises?q=%E5%88%86%E9%A1%B53", &admin));
    assert_eq!(q["items"].as_array().map(Vec::len), Some(1));
    // An enterprise account lists only itself.
    let own = seen[0] as i32;
    app.user("lister", Role::Enterprise, Some(own));
    let mine = body(app.get("/api/v1/enterprises", &app.login("lister")));
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn imports_are_all_or_nothing_with_line_numbers() {
    let app = TestApp::spawn();
    let mut conn = app.conn();
    let good = format!(
        "uscc,name,district_code,cluster_code,founded_on,niche_entered_on\n{},沈阳甲有限公司,210106,auto,2010-01-01,2011-01-01\n{},沈阳乙有限公司,210112,,2015-05-05,\n",
        uscc(201),
        uscc(202)
    );
    let bad = format!(
        "uscc,name,district_code,cluster_code,founded_on,niche_entered_on\n{},沈阳丙有限公司,210106,auto,2010-01-01,\n91210100MA0QC1WY6Q,沈阳丁有限公司,999999,nope,2010-13-01,\n",
        uscc(203)
    );
    match ladder::services::import::enterprises(&mut conn, "test", &bad, false) {
        Err(ladder::services::import::ImportError::Rows(rows)) => {
            let got: Vec<(u64, String)> = rows.iter().map(|r| (r.line, r.field.clone())).collect();
            for f in ["uscc", "district_code", "cluster_code", "founded_on"] {
                assert!(
                    got.contains(&(3, f.to_string())),
                    "{f} on line 3 in {got:?}"
                );
            }
        }
        other => panic!("expected row errors, got {other:?}"),
    }
    // Nothing from the bad file was written, not even its good first row.
    assert!(
        ladder::models::enterprise::by_uscc(&mut conn, &uscc(203))
            .unwrap_or(None)
            .is_none()
    );
    assert_eq!(
        ladder::services::import::enterprises(&mut conn, "test", &good, false).ok(),
        Some(2)
    );
    let facts_bad = format!(
        "uscc,year,operating_revenue,employees,rd_staff\n{},2024,100,10,5\n{},2024,-1,10,20\n",
        uscc(201),
        uscc(202)
    );
    match ladder::services::import::facts(&mut conn, "test", &facts_bad, false) {
        Err(ladder::services::import::ImportError::Rows(rows)) => {
            let got: Vec<(u64, String)> = rows.iter().map(|r| (r.line, r.field.clone())).collect();
            assert!(
                got.contains(&(3, "operating_revenue".into()))
                    && got.contains(&(3, "rd_staff".into())),
                "{got:?}"
            );
        }
        other => panic!("expected row errors, got {other:?}"),
    }
    let id = ladder::models::enterprise::by_uscc(&mut conn, &uscc(201))
        .ok()
        .flatten()
        .map(|e| e.id)
        .unwrap_or(0);
    assert!(
        ladder::models::facts::for_enterprise(&mut conn, id)
            .unwrap()
            .is_empty()
    );
}

/// The facts import streams: rows are written in batches while the file is still being read.
/// A bad row after more than one batch (500 rows) has been written still leaves nothing
/// behind, and a second import of the same rows writes second revisions.
#[test]
fn a_streamed_facts_import_is_still_all_or_nothing() {
    let app = TestApp::spawn();
    let mut conn = app.conn();
    let n = 1_200u32;
    let mut ents = String::from("uscc,name,district_code\n");
    for i in 0..n {
        ents.push_str(&format!(
            "{},沈阳流式{i:04}有限公司,210106\n",
            uscc(5_000 + i)
        ));
    }
    assert_eq!(
        ladder::services::import::enterprises(&mut conn, "test", &ents, false).ok(),
        Some(n as usize)
    );
    let mut good = String::from("uscc,year,operating_revenue,employees\n");
    for i in 0..n {
        good.push_str(&format!(
            "{},2024,{}.5,{}\n",
            uscc(5_000 + i),
            100 + i,
            10 + i
        ));
    }
    let bad = format!("{good}{},2024,-1,10\n", uscc(5_000));
    match ladder::services::import::facts_from_reader(&mut conn, "test", bad.as_bytes(), false) {
        Err(ladder::services::import::ImportError::Rows(rows)) => {
            let got: Vec<(u64, String)> = rows.iter().map(|r| (r.line, r.field.clone())).collect();
            // The repeated (enterprise, year) on the last line, the header being line 1.
            assert_eq!(got, vec![(u64::from(n) + 2, "year".to_string())]);
        }
        other => panic!("expected row errors, got {other:?}"),
    }
    let first = ladder::models::enterprise::by_uscc(&mut conn, &uscc(5_000))
        .ok()
        .flatten()
        .map(|e| e.id)
        .unwrap_or(0);
    assert!(
        ladder::models::facts::all_revisions(&mut conn)
            .unwrap()
            .is_empty(),
        "a failed import wrote rows"
    );
    assert_eq!(
        ladder::services::import::facts_from_reader(&mut conn, "test", good.as_bytes(), false).ok(),
        Some(n as usize)
    );
    assert_eq!(
        ladder::services::import::facts(&mut conn, "test", &good, false).ok(),
        Some(n as usize)
    );
    let years = ladder::models::facts::for_enterprise(&mut conn, first).unwrap();
    assert_eq!(years.len(), 1);
    assert_eq!(years[0].revision, 2);
    assert_eq!(
        ladder::models::facts::revisions(&mut conn, first)
            .unwrap()
            .len(),
        2
    );
    let all = ladder::models::facts::all_revisions(&mut conn).unwrap();
    assert_eq!(all.len(), n as usize);
    assert!(all.iter().all(|(_, y, r)| *y == 2024 && *r == 2));
}
