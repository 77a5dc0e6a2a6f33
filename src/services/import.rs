//! CSV imports (enterprises, facts): every bad row reported with its line number and field,
//! and nothing written unless the whole file is good.

use crate::db::{DbConnection, write_tx};
use crate::domain::Uscc;
use crate::error::{AppError, FieldError};
use crate::models::enterprise::{self as ent_rows, NewEnterprise};
use crate::models::now;
use crate::models::reference;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// One problem in one row.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub enum ImportError {
    Rows(Vec<RowError>),
    Other(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Other(e)
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Other(e.into())
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Rows(rows) => AppError::Validation(
                rows.into_iter()
                    .map(|r| FieldError::new(format!("line {}: {}", r.line, r.field), "row", r.message))
                    .collect(),
            ),
            ImportError::Other(e) => e,
        }
    }
}

/// Stops collecting after this many problems: the file needs fixing anyway.
const MAX_REPORTED: usize = 1000;

fn bar(len: u64, show: bool, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes())
}

fn header_index(headers: &csv::StringRecord, required: &[&str]) -> Result<HashMap<String, usize>, ImportError> {
    let map: HashMap<String, usize> = headers.iter().enumerate().map(|(i, h)| (h.trim_start_matches('\u{feff}').to_string(), i)).collect();
    let missing: Vec<RowError> = required
        .iter()
        .filter(|r| !map.contains_key(**r))
        .map(|r| RowError { line: 1, field: (*r).into(), message: "required column is missing from the header".into() })
        .collect();
    if missing.is_empty() { Ok(map) } else { Err(ImportError::Rows(missing)) }
}

fn cell<'a>(rec: &'a csv::StringRecord, idx: &HashMap<String, usize>, name: &str) -> &'a str {
    idx.get(name).and_then(|i| rec.get(*i)).unwrap_or("")
}

fn file_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn date_cell(value: &str, field: &str, line: u64, errors: &mut Vec<RowError>) -> Option<NaiveDate> {
    if value.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(RowError { line, field: field.into(), message: format!("{value:?} is not a date (YYYY-MM-DD)") });
            None
        }
    }
}

/// A parsed, checked enterprise row.
pub struct EnterpriseRow {
    pub uscc: String,
    pub name: String,
    pub district_code: String,
    pub cluster_code: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub niche_entered_on: Option<NaiveDate>,
}

/// `uscc,name,district_code,cluster_code,founded_on,niche_entered_on`
pub fn enterprises(conn: &mut DbConnection, actor: &str, text: &str, progress: bool) -> Result<usize, ImportError> {
    let districts: HashSet<String> = reference::all_districts(conn)?.into_iter().map(|d| d.code).collect();
    let clusters: HashSet<String> = reference::all_clusters(conn)?.into_iter().map(|c| c.code).collect();
    let existing: HashSet<String> = ent_rows::ids_by_uscc(conn)?.into_iter().map(|(u, _)| u).collect();
    let mut rdr = reader(text);
    let headers = rdr.headers().map_err(|e| ImportError::Rows(vec![RowError { line: 1, field: "header".into(), message: e.to_string() }]))?.clone();
    let idx = header_index(&headers, &["uscc", "name", "district_code"])?;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    let today = chrono::Utc::now().date_naive();
    for (n, rec) in rdr.records().enumerate() {
        let line = n as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { line, field: "row".into(), message: e.to_string() });
                continue;
            }
        };
        let before = errors.len();
        let uscc = match Uscc::parse(cell(&rec, &idx, "uscc")) {
            Ok(u) => Some(u.as_str().to_string()),
            Err(e) => {
                errors.push(RowError { line, field: "uscc".into(), message: e.message().into() });
                None
            }
        };
        if let Some(u) = &uscc {
            if existing.contains(u) {
                errors.push(RowError { line, field: "uscc".into(), message: format!("{u} is already registered") });
            } else if !seen.insert(u.clone()) {
                errors.push(RowError { line, field: "uscc".into(), message: format!("{u} appears twice in this file") });
            }
        }
        let name = cell(&rec, &idx, "name").to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(RowError { line, field: "name".into(), message: "name must be 1–200 characters".into() });
        }
        let district = cell(&rec, &idx, "district_code").to_string();
        if !districts.contains(&district) {
            errors.push(RowError { line, field: "district_code".into(), message: format!("{district:?} is not a district of Shenyang") });
        }
        let cluster = cell(&rec, &idx, "cluster_code").to_string();
        let cluster = if cluster.is_empty() { None } else { Some(cluster) };
        if let Some(c) = &cluster
            && !clusters.contains(c) {
                errors.push(RowError { line, field: "cluster_code".into(), message: format!("{c:?} is not a known cluster") });
            }
        let founded = date_cell(cell(&rec, &idx, "founded_on"), "founded_on", line, &mut errors);
        let niche = date_cell(cell(&rec, &idx, "niche_entered_on"), "niche_entered_on", line, &mut errors);
        if founded.is_some_and(|d| d > today) {
            errors.push(RowError { line, field: "founded_on".into(), message: "in the future".into() });
        }
        if let (Some(f), Some(n)) = (founded, niche)
            && n < f {
                errors.push(RowError { line, field: "niche_entered_on".into(), message: "before the founding date".into() });
            }
        if errors.len() == before
            && let Some(uscc) = uscc {
                rows.push(EnterpriseRow { uscc, name, district_code: district, cluster_code: cluster, founded_on: founded, niche_entered_on: niche });
            }
        if errors.len() >= MAX_REPORTED {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let pb = bar(rows.len() as u64, progress, "enterprises");
    let at = now();
    let n = write_tx(conn, |conn| -> Result<usize, AppError> {
        let mut written = 0;
        for chunk in rows.chunks(500) {
            let new: Vec<NewEnterprise> = chunk
                .iter()
                .map(|r| NewEnterprise {
                    uscc: &r.uscc,
                    name: &r.name,
                    district_code: &r.district_code,
                    cluster_code: r.cluster_code.as_deref(),
                    founded_on: r.founded_on,
                    niche_entered_on: r.niche_entered_on,
                    verified: true,
                    lock_version: 1,
                    created_at: at,
                    updated_at: at,
                })
                .collect();
            written += ent_rows::insert_many(conn, &new)?;
            pb.inc(chunk.len() as u64);
        }
        crate::services::audit::record::<(), _>(
            conn,
            actor,
            "import.enterprises",
            "import",
            file_hash(text),
            None,
            Some(&serde_json::json!({"rows": written, "uscc": rows.iter().map(|r| r.uscc.as_str()).collect::<Vec<_>>()})),
        )?;
        Ok(written)
    })?;
    pb.finish_and_clear();
    Ok(n)
}

/// Wide format: `uscc,year,<indicator code>…`; an empty cell is "not reported".
pub fn facts(conn: &mut DbConnection, actor: &str, text: &str, progress: bool) -> Result<usize, ImportError> {
    let ids: HashMap<String, i32> = ent_rows::ids_by_uscc(conn)?.into_iter().collect();
    let mut rdr = reader(text);
    let headers = rdr.headers().map_err(|e| ImportError::Rows(vec![RowError { line: 1, field: "header".into(), message: e.to_string() }]))?.clone();
    let idx = header_index(&headers, &["uscc", "year"])?;
    let mut errors = Vec::new();
    for h in headers.iter() {
        if h != "uscc" && h != "year" && crate::catalog::indicator(h).is_none() {
            errors.push(RowError { line: 1, field: h.into(), message: "not an indicator code (GET /api/v1/indicators)".into() });
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut parsed: Vec<(i32, i32, Map<String, Value>)> = Vec::new();
    let mut seen = HashSet::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { line, field: "row".into(), message: e.to_string() });
                continue;
            }
        };
        let uscc = cell(&rec, &idx, "uscc").to_ascii_uppercase();
        let Some(&eid) = ids.get(&uscc) else {
            errors.push(RowError { line, field: "uscc".into(), message: format!("{uscc:?} is not a registered enterprise") });
            continue;
        };
        let Ok(year) = cell(&rec, &idx, "year").parse::<i32>() else {
            errors.push(RowError { line, field: "year".into(), message: "not a year".into() });
            continue;
        };
        if !seen.insert((eid, year)) {
            errors.push(RowError { line, field: "year".into(), message: format!("{uscc} {year} appears twice in this file") });
            continue;
        }
        let mut raw = Map::new();
        for (i, h) in headers.iter().enumerate() {
            if h == "uscc" || h == "year" {
                continue;
            }
            let v = rec.get(i).unwrap_or("");
            if v.is_empty() {
                continue;
            }
            let value = match v {
                "true" | "TRUE" | "是" => Value::Bool(true),
                "false" | "FALSE" | "否" => Value::Bool(false),
                other => Value::String(other.to_string()),
            };
            raw.insert(h.to_string(), value);
        }
        match crate::services::facts::validate(year, &raw) {
            Ok(canonical) => parsed.push((eid, year, canonical)),
            Err(AppError::Validation(fs)) => {
                for f in fs {
                    errors.push(RowError { line, field: f.field.trim_start_matches("facts.").to_string(), message: f.message });
                }
            }
            Err(other) => return Err(ImportError::Other(other)),
        }
        if errors.len() >= MAX_REPORTED {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let pb = bar(parsed.len() as u64, progress, "facts");
    let at = now();
    let n = write_tx(conn, |conn| -> Result<usize, AppError> {
        for (eid, year, facts) in &parsed {
            let existing = crate::models::facts::get(conn, *eid, *year)?;
            let text = Value::Object(facts.clone()).to_string();
            crate::models::facts::put(conn, *eid, *year, &text, &text, existing.map(|e| e.revision), actor, at)?;
            pb.inc(1);
        }
        crate::services::audit::record::<(), _>(
            conn,
            actor,
            "import.facts",
            "import",
            file_hash(text),
            None,
            Some(&serde_json::json!({"rows": parsed.len()})),
        )?;
        Ok(parsed.len())
    })?;
    pb.finish_and_clear();
    Ok(n)
}
