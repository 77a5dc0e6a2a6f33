//! CSV formula injection (issue 11 item 7): a text cell a spreadsheet would run as a formula
//! reaches every CSV with a leading `'`; numbers stay numbers; XLSX keeps such text as a string.

use crate::helpers::{TestApp, body, uscc};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use diesel::prelude::*;
use serde_json::json;

const HOSTILE: [&str; 5] = [
    "=HYPERLINK(\"http://x\",\"y\")",
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-1+1",
    // Names with control characters are refused today; a row from before that rule can
    // still hold one, so it is written straight into the table below.
    "\r=1+1",
];

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    rdr.records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn the_evaluate_sheet_neutralises_formula_names() {
    let app = TestApp::spawn();
    let mut ids = Vec::new();
    for (i, name) in HOSTILE.iter().enumerate() {
        let id = app.enterprise(&uscc(700 + i as u32), &format!("placeholder {i}"), "210106");
        let mut c = app.conn();
        diesel::update(ladder::db::schema::enterprises::table.find(id))
            .set(ladder::db::schema::enterprises::name.eq(*name))
            .execute(&mut *c)
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(id);
    }
    let mut out: Vec<u8> = Vec::new();
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    ladder::services::batch::run(&mut app.conn(), 2025, as_of, false, Some(&mut out))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let text = String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"));
    let rows = parse_csv(&text);
    assert_eq!(rows[0][1], "企业名称 name");
    for (i, name) in HOSTILE.iter().enumerate() {
        let code = uscc(700 + i as u32);
        let mine: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == code).collect();
        assert!(!mine.is_empty(), "no rows for {code}");
        for r in mine {
            assert_eq!(r[1], format!("'{name}"), "{r:?}");
            // Numbers stay numbers: the version and the missing count are not quoted.
            assert!(r[5].parse::<i32>().is_ok(), "{r:?}");
            assert!(r[9].parse::<usize>().is_ok(), "{r:?}");
        }
    }
}

#[test]
fn rollup_csv_and_xlsx_keep_formula_labels_as_text() {
    let app = TestApp::spawn();
    let admin = app.admin();
    let r = app.post(
        "/api/v1/quotas",
        Some(&admin),
        &json!({"year": 2025, "scope": "210106", "tiers": ["srdi_sme"], "measure": "new", "target": 3,
                "label_zh": HOSTILE[0], "label_en": "@SUM(1)"}),
    );
    assert_eq!(r.status(), 201, "{:?}", r.text());
    let id = body(r)["id"].as_i64().unwrap();
    let label = format!("{} @SUM(1)", HOSTILE[0]);

    let csv = app
        .get(
            "/api/v1/reports/rollup?year=2025&as_of=2025-12-31&format=csv",
            &admin,
        )
        .text()
        .unwrap();
    let rows = parse_csv(&csv);
    let total = rows
        .iter()
        .find(|r| r[2] == id.to_string() && r[6] == "合计 total")
        .unwrap_or_else(|| panic!("no total row for {id} in {csv}"));
    assert_eq!(total[3], format!("'{label}"));
    assert_eq!(total[9], "3", "the target is a number");

    let bytes = app
        .get(
            "/api/v1/reports/rollup?year=2025&as_of=2025-12-31&format=xlsx",
            &admin,
        )
        .bytes()
        .unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .unwrap_or_else(|e| panic!("{e}"));
    let sheet = wb
        .worksheet_range("总览 Summary")
        .unwrap_or_else(|e| panic!("{e}"));
    let found = sheet
        .rows()
        .any(|r| r.first() == Some(&Data::String(label.clone())));
    assert!(found, "the label is a plain string cell: {sheet:?}");
    let formulas = wb
        .worksheet_formula("总览 Summary")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula cells: {formulas:?}"
    );
}
