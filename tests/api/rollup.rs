//! Quotas and the rollup on a small known world, counted by hand; the CSV and XLSX agree
//! cell by cell (the XLSX read back with calamine).

use crate::helpers::{TestApp, body, uscc};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use ladder::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

fn item(
    code: &str,
    district: &str,
    tier: &str,
    number: &str,
    issued: &str,
    from: &str,
    to: &str,
) -> Value {
    json!({"uscc": code, "name": format!("企业{number}"), "district_code": district, "tier": tier, "number": number,
           "issued_on": issued, "valid_from": from, "valid_to": to, "batch": "test"})
}

fn quota<'a>(r: &'a Value, tiers: &[&str]) -> &'a Value {
    r["quotas"]
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["tiers"] == json!(tiers)))
        .unwrap_or(&Value::Null)
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// A spreadsheet cell as text (numbers in Rust's shortest form; compare them with [`same`]).
fn cell_text(d: &Data) -> String {
    match d {
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

/// Equal text, or equal numbers (`30` in a spreadsheet is `30.0` in the CSV).
fn same(xlsx: &str, csv: &str) -> bool {
    xlsx == csv || matches!((xlsx.parse::<f64>(), csv.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
}

/// Reads the XLSX back and compares it with the CSV cell by cell: every quota's summary row,
/// and every district and cluster count.
fn csv_and_xlsx_agree(rows: &[Vec<String>], xlsx: &[u8]) {
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec()))
        .unwrap_or_else(|e| panic!("not an xlsx: {e}"));
    let summary = wb
        .worksheet_range("总览 Summary")
        .unwrap_or_else(|e| panic!("{e}"));
    let totals: Vec<&Vec<String>> = rows.iter().filter(|r| r[6] == "合计 total").collect();
    assert!(!totals.is_empty());
    assert_eq!(
        summary.height(),
        totals.len() + 1,
        "one summary row per quota"
    );
    for (i, t) in totals.iter().enumerate() {
        let x: Vec<String> = (0..14)
            .map(|c| summary.get((i + 1, c)).map(cell_text).unwrap())
            .collect();
        // CSV columns: 3 label, 4 measure, 5 scope, 9..20 the figures (pace at 14,
        // publicized 18, overrides 19).
        let expected: Vec<String> = [3, 4, 5, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
            .iter()
            .map(|&c| t[c].clone())
            .collect();
        for (a, b) in x.iter().zip(&expected) {
            assert!(same(a, b), "summary row {i}: xlsx {x:?} csv {expected:?}");
        }
    }
    for (sheet, dimension) in [
        ("区县 Districts", "区县 district"),
        ("产业集群 Clusters", "产业集群 cluster"),
    ] {
        let range = wb.worksheet_range(sheet).unwrap_or_else(|e| panic!("{e}"));
        let headers: Vec<String> = (0..range.width())
            .map(|c| range.get((0, c)).map(cell_text).unwrap())
            .collect();
        let mut compared = 0;
        for r in rows.iter().filter(|r| r[6] == dimension) {
            let col = headers
                .iter()
                .position(|h| *h == r[3])
                .unwrap_or_else(|| panic!("{sheet}: no column for quota {}", r[3]));
            let row = (1..range.height())
                .find(|&i| range.get((i, 0)).map(cell_text).as_deref() == Some(r[7].as_str()))
                .unwrap_or_else(|| panic!("{sheet}: no row for {}", r[7]));
            assert_eq!(
                range.get((row, 1)).map(cell_text).as_deref(),
                Some(r[8].as_str()),
                "{sheet} name of {}",
                r[7]
            );
            let x = range.get((row, col)).map(cell_text).unwrap();
            assert!(
                same(&x, &r[10]),
                "{sheet} {} × {}: {x} vs {}",
                r[7],
                r[3],
                r[10]
            );
            compared += 1;
        }
        assert!(compared > 0, "{sheet}: nothing compared");
    }
}

#[test]
fn rollup_matches_a_hand_count() {
    let app = TestApp::spawn();
    let admin = app.admin();
    // Little Giants (quota: new, 10, city-wide):
    //  a: issued 2025-03-10 in 铁西            → counts
    //  b: issued 2025-12-31 in 浑南 (boundary)   → counts on 12-31, not on 12-30
    //  c: issued 2024-12-31 (previous year)     → not new in 2025
    //  d: issued 2026-01-01 (next year)         → not in 2025
    //  e: issued 2025-06-01, revoked 2025-09-01 → counts in June..August, not at year end
    // Tech SMEs (quota: active): f in force all 2025; g expired 2025-05-31; h in 新民 in force.
    let (a, b, c, d, e, f, g, h) = (
        uscc(901),
        uscc(902),
        uscc(903),
        uscc(904),
        uscc(905),
        uscc(906),
        uscc(907),
        uscc(908),
    );
    let items = vec![
        item(
            &a,
            "210106",
            "little_giant",
            "LG-A",
            "2025-03-10",
            "2025-03-10",
            "2028-03-09",
        ),
        item(
            &b,
            "210112",
            "little_giant",
            "LG-B",
            "2025-12-31",
            "2025-12-31",
            "2028-12-30",
        ),
        item(
            &c,
            "210106",
            "little_giant",
            "LG-C",
            "2024-12-31",
            "2024-12-31",
            "2027-12-30",
        ),
        item(
            &d,
            "210106",
            "little_giant",
            "LG-D",
            "2025-11-01",
            "2026-01-01",
            "2028-12-31",
        ),
        item(
            &e,
            "210106",
            "little_giant",
            "LG-E",
            "2025-06-01",
            "2025-06-01",
            "2028-05-31",
        ),
        item(
            &f,
            "210106",
            "tech_sme",
            "TS-F",
            "2025-01-01",
            "2025-01-01",
            "2025-12-31",
        ),
        item(
            &g,
            "210106",
            "tech_sme",
            "TS-G",
            "2024-06-01",
            "2024-06-01",
            "2025-05-31",
        ),
        item(
            &h,
            "210181",
            "tech_sme",
            "TS-H",
            "2024-12-01",
            "2024-12-01",
            "2025-11-30",
        ),
    ];
    // LG-D is issued in 2025 (decision) but valid from 2026: `new` counts issue dates.
    let r = app.post(
        "/api/v1/certifications/import",
        Some(&admin),
        &json!({"items": items}),
    );
    assert_eq!(r.status(), 201, "{:?}", r.text());
    let mut conn = app.conn();
    let e_id = ladder::models::enterprise::by_uscc(&mut conn, &e)
        .ok()
        .flatten()
        .map(|x| x.id)
        .unwrap_or(0);
    let cert_e = ladder::models::certification::current(&mut conn, e_id, "little_giant")
        .ok()
        .flatten()
        .map(|c| c.id)
        .unwrap_or(0);
    let r = app.post(
        &format!("/api/v1/certifications/{cert_e}/revoke"),
        Some(&admin),
        &json!({"reason": "data fraud"}),
    );
    assert!(r.status().is_success(), "revoke: {:?}", r.text());
    // The revocation is dated today (after 2025), so re-date it for the known world.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE certifications SET revoked_on = '2025-09-01' WHERE id = {cert_e}"
        )),
        &mut *conn,
    )
    .unwrap_or_else(|e| panic!("{e}"));

    app.user("off", Role::Official, None);
    let official = app.login("off");
    let year_end = body(app.get(
        "/api/v1/reports/rollup?year=2025&as_of=2025-12-31",
        &official,
    ));
    let lg = quota(&year_end, &["little_giant"]);
    // a, b, d (issued in 2025), not c (2024), not e (revoked before the report date).
    assert_eq!(lg["achieved"], 3, "{lg}");
    assert_eq!(lg["target"], 10);
    assert_eq!(lg["gap"], 7);
    assert_eq!(lg["percent"], json!(30.0));
    assert_eq!(lg["expected_by_now"], json!(10.0));
    assert_eq!(lg["on_pace"], false);
    let by_d = |q: &Value, code: &str| {
        q["by_district"]
            .as_array()
            .and_then(|v| v.iter().find(|d| d["code"] == code))
            .map(|d| d["achieved"].clone())
    };
    assert_eq!(by_d(lg, "210106"), Some(json!(2)));
    assert_eq!(by_d(lg, "210112"), Some(json!(1)));
    // Monthly: e counts from June to August, then drops out; b arrives in December.
    let month = |r: &Value, m: &str, id: &Value| {
        r["monthly"]
            .as_array()
            .and_then(|v| v.iter().find(|x| x["month"] == m))
            .map(|x| x["cumulative"][id.to_string()].clone())
    };
    assert_eq!(month(&year_end, "2025-02", &lg["id"]), Some(json!(0)));
    assert_eq!(month(&year_end, "2025-03", &lg["id"]), Some(json!(1)));
    assert_eq!(month(&year_end, "2025-07", &lg["id"]), Some(json!(2)));
    assert_eq!(month(&year_end, "2025-09", &lg["id"]), Some(json!(1)));
    assert_eq!(month(&year_end, "2025-11", &lg["id"]), Some(json!(2)));
    assert_eq!(month(&year_end, "2025-12", &lg["id"]), Some(json!(3)));
    // The day before: b not yet.
    let dec30 = body(app.get(
        "/api/v1/reports/rollup?year=2025&as_of=2025-12-30",
        &official,
    ));
    assert_eq!(quota(&dec30, &["little_giant"])["achieved"], 2);
    // In July e still counts.
    let july = body(app.get(
        "/api/v1/reports/rollup?year=2025&as_of=2025-07-15",
        &official,
    ));
    assert_eq!(quota(&july, &["little_giant"])["achieved"], 2);

    let ts = quota(&year_end, &["tech_sme"]);
    // Active on 2025-12-31: f only (g expired in May, h in November).
    assert_eq!(ts["achieved"], 1, "{ts}");
    let june = body(app.get(
        "/api/v1/reports/rollup?year=2025&as_of=2025-06-30",
        &official,
    ));
    let ts_june = quota(&june, &["tech_sme"]);
    assert_eq!(ts_june["achieved"], 2);
    assert_eq!(by_d(ts_june, "210181"), Some(json!(1)));

    // CSV and XLSX carry the same numbers.
    let csv = app
        .client
        .get(app.url("/api/v1/reports/rollup?year=2025&as_of=2025-12-31"))
        .bearer_auth(&official)
        .header("Accept", "text/csv")
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        csv.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = csv.text().unwrap();
    let rows = parse_csv(&text);
    let lg_id = lg["id"].to_string();
    let lg_total = rows
        .iter()
        .find(|r| r[2] == lg_id && r[6] == "合计 total")
        .cloned()
        .unwrap();
    assert_eq!(
        lg_total.get(9..13).map(|c| c.to_vec()),
        Some(vec!["10".into(), "3".into(), "7".into(), "30.0".into()]),
        "{lg_total:?}"
    );
    let xlsx = app.get(
        "/api/v1/reports/rollup?year=2025&as_of=2025-12-31&format=xlsx",
        &official,
    );
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().unwrap();
    csv_and_xlsx_agree(&rows, &bytes);

    // Officials read; only admins change quotas; a stale etag is refused.
    let q = body(app.get(&format!("/api/v1/quotas/{}", lg["id"]), &admin));
    let etag = q["etag"].as_str().unwrap().to_string();
    let patch = |token: &str, tag: &str, target: i64| {
        app.client
            .request(
                Method::PATCH,
                app.url(&format!("/api/v1/quotas/{}", lg["id"])),
            )
            .bearer_auth(token)
            .header("If-Match", tag)
            .json(&json!({"target": target}))
            .send()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(patch(&official, &etag, 12).status(), 403);
    assert_eq!(patch(&admin, &etag, 12).status(), 200);
    assert_eq!(patch(&admin, &etag, 13).status(), 412);
    let again = body(app.get(
        "/api/v1/reports/rollup?year=2025&as_of=2025-12-31",
        &official,
    ));
    assert_eq!(quota(&again, &["little_giant"])["target"], 12);
    assert_eq!(
        app.get("/api/v1/reports/rollup?year=2025", &app.login("root"))
            .status(),
        200
    );
}

#[test]
fn the_plan_is_seeded_for_2025_and_2026() {
    let app = TestApp::spawn();
    let admin = app.admin();
    for year in [2025, 2026] {
        let qs = body(app.get(&format!("/api/v1/quotas?year={year}"), &admin));
        let qs = qs.as_array().cloned().unwrap();
        assert_eq!(qs.len(), 8, "{year}");
        let find = |tiers: Value| {
            qs.iter()
                .find(|q| q["tiers"] == tiers)
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(find(json!(["little_giant"]))["target"], 10);
        assert_eq!(find(json!(["srdi_sme"]))["target"], 100);
        assert_eq!(find(json!(["single_champion"]))["target"], 5);
        assert_eq!(find(json!(["smart_factory_advanced"]))["target"], 15);
        assert_eq!(
            find(json!(["smart_factory_excellent", "smart_factory_leading"]))["target"],
            2
        );
        assert_eq!(find(json!(["tech_sme"]))["measure"], "active");
        assert_eq!(find(json!(["tech_sme"]))["target"], 30000);
        assert_eq!(find(json!(["digital_transformation"]))["target"], 700);
        assert_eq!(find(json!(["industrial_design_center"]))["target"], 50);
    }
}

#[test]
fn certification_imports_are_all_or_nothing() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let good = item(
        &uscc(950),
        "210106",
        "srdi_sme",
        "SR-1",
        "2024-01-15",
        "2024-01-01",
        "2026-12-31",
    );
    let bad = json!({"uscc": "91210100MA0QC1WY6Q", "tier": "nope", "number": "", "issued_on": "2024-01-01", "valid_from": "2024-01-01", "valid_to": "2023-01-01"});
    let r = app.post(
        "/api/v1/certifications/import",
        Some(&admin),
        &json!({"items": [good.clone(), bad]}),
    );
    assert_eq!(r.status(), 422);
    let b = body(r);
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
        .unwrap();
    assert!(fields.contains(&"items[1].uscc"), "{fields:?}");
    let mut conn = app.conn();
    assert!(
        ladder::models::enterprise::by_uscc(&mut conn, &uscc(950))
            .ok()
            .flatten()
            .is_none(),
        "nothing written"
    );
    let r = app.post(
        "/api/v1/certifications/import",
        Some(&admin),
        &json!({"items": [good.clone()]}),
    );
    assert_eq!(r.status(), 201);
    // The same number again is refused, naming the item.
    let r = app.post(
        "/api/v1/certifications/import",
        Some(&admin),
        &json!({"items": [good]}),
    );
    assert_eq!(r.status(), 422);
    // The import is in the audit trail, marked as imported.
    let audit = app
        .get("/api/v1/audit?entity=certification", &admin)
        .text()
        .unwrap();
    assert!(
        audit.contains("certification.import") && audit.contains("imported"),
        "{audit}"
    );
}
