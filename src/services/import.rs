//! CSV imports (enterprises, facts): every bad row reported with its line number and field,
//! and nothing written unless the whole file is good.

use crate::db::{DbConnection, write_tx};
use crate::domain::Uscc;
use crate::error::{AppError, FieldError};
use crate::models::enterprise::{self as ent_rows, NewEnterprise};
use crate::models::now;
use crate::models::reference;
use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Read;

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
                    .map(|r| {
                        FieldError::new(format!("line {}: {}", r.line, r.field), "row", r.message)
                    })
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

fn reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input)
}

/// An opened CSV input: the reader, its header row, and the column index.
type Opened<R> = (csv::Reader<R>, csv::StringRecord, HashMap<String, usize>);

/// A CSV reader on `input`, its header row, and the column index, with the required columns checked.
fn open<R: Read>(input: R, required: &[&str]) -> Result<Opened<R>, ImportError> {
    let mut rdr = reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| {
            ImportError::Rows(vec![RowError {
                line: 1,
                field: "header".into(),
                message: e.to_string(),
            }])
        })?
        .clone();
    let idx = header_index(&headers, required)?;
    Ok((rdr, headers, idx))
}

/// Data rows with their 1-based line numbers (the header is line 1); an unreadable row is
/// already a `RowError`. Streams: one record in memory at a time.
fn records<R: Read>(
    rdr: &mut csv::Reader<R>,
) -> impl Iterator<Item = (u64, Result<csv::StringRecord, RowError>)> + '_ {
    rdr.records().enumerate().map(|(n, rec)| {
        let line = n as u64 + 2;
        (
            line,
            rec.map_err(|e| RowError {
                line,
                field: "row".into(),
                message: e.to_string(),
            }),
        )
    })
}

/// The codes of a reference table, for membership checks.
fn codes<T>(rows: Vec<T>, code: impl Fn(T) -> String) -> HashSet<String> {
    rows.into_iter().map(code).collect()
}

fn header_index(
    headers: &csv::StringRecord,
    required: &[&str],
) -> Result<HashMap<String, usize>, ImportError> {
    let map: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim_start_matches('\u{feff}').to_string(), i))
        .collect();
    let missing: Vec<RowError> = required
        .iter()
        .filter(|r| !map.contains_key(**r))
        .map(|r| RowError {
            line: 1,
            field: (*r).into(),
            message: "required column is missing from the header".into(),
        })
        .collect();
    if missing.is_empty() {
        Ok(map)
    } else {
        Err(ImportError::Rows(missing))
    }
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
            errors.push(RowError {
                line,
                field: field.into(),
                message: format!("{value:?} is not a date (YYYY-MM-DD)"),
            });
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
pub fn enterprises(
    conn: &mut DbConnection,
    actor: &str,
    text: &str,
    progress: bool,
) -> Result<usize, ImportError> {
    let districts: HashSet<String> = codes(reference::all_districts(conn)?, |x| x.code);
    let clusters: HashSet<String> = codes(reference::all_clusters(conn)?, |x| x.code);
    let existing: HashSet<String> = ent_rows::ids_by_uscc(conn)?
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    let (mut rdr, _, idx) = open(text.as_bytes(), &["uscc", "name", "district_code"])?;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    let today = crate::clock::today();
    for (line, rec) in records(&mut rdr) {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let before = errors.len();
        let uscc = match Uscc::parse(cell(&rec, &idx, "uscc")) {
            Ok(u) => Some(u.as_str().to_string()),
            Err(e) => {
                errors.push(RowError {
                    line,
                    field: "uscc".into(),
                    message: e.message().into(),
                });
                None
            }
        };
        if let Some(u) = &uscc {
            if existing.contains(u) {
                errors.push(RowError {
                    line,
                    field: "uscc".into(),
                    message: format!("{u} is already registered"),
                });
            } else if !seen.insert(u.clone()) {
                errors.push(RowError {
                    line,
                    field: "uscc".into(),
                    message: format!("{u} appears twice in this file"),
                });
            }
        }
        let name = cell(&rec, &idx, "name").trim().to_string();
        if let Err(e) = crate::domain::EnterpriseName::parse(&name) {
            errors.push(RowError {
                line,
                field: "name".into(),
                message: e.message().into(),
            });
        }
        let district = cell(&rec, &idx, "district_code").to_string();
        if !districts.contains(&district) {
            errors.push(RowError {
                line,
                field: "district_code".into(),
                message: format!("{district:?} is not a district of Shenyang"),
            });
        }
        let cluster = cell(&rec, &idx, "cluster_code").to_string();
        let cluster = if cluster.is_empty() {
            None
        } else {
            Some(cluster)
        };
        if let Some(c) = &cluster
            && !clusters.contains(c)
        {
            errors.push(RowError {
                line,
                field: "cluster_code".into(),
                message: format!("{c:?} is not a known cluster"),
            });
        }
        let founded = date_cell(
            cell(&rec, &idx, "founded_on"),
            "founded_on",
            line,
            &mut errors,
        );
        let niche = date_cell(
            cell(&rec, &idx, "niche_entered_on"),
            "niche_entered_on",
            line,
            &mut errors,
        );
        if founded.is_some_and(|d| d > today) {
            errors.push(RowError {
                line,
                field: "founded_on".into(),
                message: "in the future".into(),
            });
        }
        if let (Some(f), Some(n)) = (founded, niche)
            && n < f
        {
            errors.push(RowError {
                line,
                field: "niche_entered_on".into(),
                message: "before the founding date".into(),
            });
        }
        if errors.len() == before
            && let Some(uscc) = uscc
        {
            rows.push(EnterpriseRow {
                uscc,
                name,
                district_code: district,
                cluster_code: cluster,
                founded_on: founded,
                niche_entered_on: niche,
            });
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
            Some(
                &serde_json::json!({"rows": written, "uscc": rows.iter().map(|r| r.uscc.as_str()).collect::<Vec<_>>()}),
            ),
        )?;
        Ok(written)
    })?;
    pb.finish_and_clear();
    Ok(n)
}

/// Wide format: `uscc,year,<indicator code>…`; an empty cell is "not reported".
pub fn facts(
    conn: &mut DbConnection,
    actor: &str,
    text: &str,
    progress: bool,
) -> Result<usize, ImportError> {
    facts_from_reader(conn, actor, text.as_bytes(), progress)
}

/// Hashes what passes through (the audit entry names the file by its SHA-256).
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Rows written per multi-row insert.
const FACT_BATCH: usize = 500;

/// [`facts`] from a stream (the CLI's file): one pass, one record in memory at a time.
/// Every row is checked and, while no row has failed, written in batches inside one write
/// transaction; any problem rolls the whole transaction back, so the file is still all or
/// nothing, with every problem reported by line.
pub fn facts_from_reader<R: Read>(
    conn: &mut DbConnection,
    actor: &str,
    input: R,
    progress: bool,
) -> Result<usize, ImportError> {
    let ids: HashMap<String, i32> = ent_rows::ids_by_uscc(conn)?.into_iter().collect();
    let on_file: HashMap<(i32, i32), i32> = crate::models::facts::all_revisions(conn)?
        .into_iter()
        .map(|(eid, year, revision)| ((eid, year), revision))
        .collect();
    let today = crate::clock::today();
    let input = Hashing {
        inner: input,
        hash: Sha256::new(),
    };
    let (mut rdr, headers, idx) = open(input, &["uscc", "year"])?;
    let mut errors = Vec::new();
    for h in headers.iter() {
        if h != "uscc" && h != "year" && crate::catalog::indicator(h).is_none() {
            errors.push(RowError {
                line: 1,
                field: h.into(),
                message: "not an indicator code (GET /api/v1/indicators)".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let pb = if progress {
        let pb = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{msg:>12} {pos} rows ({per_sec})") {
            pb.set_style(style);
        }
        pb.set_message("facts");
        pb
    } else {
        ProgressBar::hidden()
    };
    let at = now();
    // SQLite: a page cache large enough that the one big transaction's pages are not spilled
    // to the WAL (and checkpointed) while it is still open; the default is 2 MiB. Restored after.
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    if sqlite {
        conn.batch_execute("PRAGMA cache_size = -131072")?;
    }
    let n = write_tx(conn, |conn| -> Result<usize, ImportError> {
        let mut seen = HashSet::new();
        let mut pending: Vec<(i32, i32, String)> = Vec::with_capacity(FACT_BATCH);
        let mut written = 0;
        for (line, rec) in records(&mut rdr) {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let uscc = cell(&rec, &idx, "uscc").to_ascii_uppercase();
            let Some(&eid) = ids.get(&uscc) else {
                errors.push(RowError {
                    line,
                    field: "uscc".into(),
                    message: format!("{uscc:?} is not a registered enterprise"),
                });
                continue;
            };
            let Ok(year) = cell(&rec, &idx, "year").parse::<i32>() else {
                errors.push(RowError {
                    line,
                    field: "year".into(),
                    message: "not a year".into(),
                });
                continue;
            };
            if !seen.insert((eid, year)) {
                errors.push(RowError {
                    line,
                    field: "year".into(),
                    message: format!("{uscc} {year} appears twice in this file"),
                });
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
            match crate::services::facts::validate(year, &raw, today) {
                // Once a row has failed nothing more is written: the transaction rolls back.
                Ok(canonical) if errors.is_empty() => {
                    pending.push((eid, year, Value::Object(canonical).to_string()));
                    if pending.len() >= FACT_BATCH {
                        written += write_facts(conn, &mut pending, &on_file, actor, at)?;
                        pb.set_position(written as u64);
                    }
                }
                Ok(_) => {}
                Err(AppError::Validation(fs)) => {
                    for f in fs {
                        errors.push(RowError {
                            line,
                            field: f.field.trim_start_matches("facts.").to_string(),
                            message: f.message,
                        });
                    }
                }
                Err(other) => return Err(ImportError::Other(other)),
            }
            if errors.len() >= MAX_REPORTED {
                break;
            }
        }
        if !errors.is_empty() {
            return Err(ImportError::Rows(std::mem::take(&mut errors)));
        }
        written += write_facts(conn, &mut pending, &on_file, actor, at)?;
        // Every byte has passed the hasher: the reader stopped at the end of the input.
        let hash = hex::encode(rdr.into_inner().hash.finalize());
        crate::services::audit::record::<(), _>(
            conn,
            actor,
            "import.facts",
            "import",
            hash,
            None,
            Some(&serde_json::json!({"rows": written})),
        )?;
        Ok(written)
    });
    if sqlite {
        conn.batch_execute("PRAGMA cache_size = -2000")?;
    }
    let n = n?;
    pb.finish_and_clear();
    Ok(n)
}

/// Writes the pending rows (and empties the list): first revisions in multi-row inserts,
/// the others one by one through [`crate::models::facts::put`] (its revision check).
fn write_facts(
    conn: &mut DbConnection,
    pending: &mut Vec<(i32, i32, String)>,
    on_file: &HashMap<(i32, i32), i32>,
    actor: &str,
    at: chrono::NaiveDateTime,
) -> Result<usize, ImportError> {
    use crate::models::facts::{FirstRevision, insert_first_many, put};
    let mut first = Vec::with_capacity(pending.len());
    for (eid, year, text) in pending.iter() {
        match on_file.get(&(*eid, *year)) {
            None => first.push(FirstRevision {
                enterprise_id: *eid,
                year: *year,
                facts: text,
            }),
            Some(revision) => {
                put(conn, *eid, *year, text, text, Some(*revision), actor, at)?;
            }
        }
    }
    insert_first_many(conn, &first, actor, at)?;
    let n = pending.len();
    pending.clear();
    Ok(n)
}

/// One existing title to import (a published list: 第一批 … 第七批 小巨人, provincial lists, …).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationItem {
    pub uscc: String,
    /// Needed only when the enterprise is not registered yet.
    pub name: Option<String>,
    pub district_code: Option<String>,
    pub cluster: Option<String>,
    pub tier: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub batch: Option<String>,
}

/// CSV with the same columns: `uscc,name,district_code,cluster,tier,number,issued_on,valid_from,valid_to,batch`.
pub fn parse_certifications_csv(text: &str) -> Result<Vec<(u64, CertificationItem)>, ImportError> {
    let (mut rdr, _, idx) = open(
        text.as_bytes(),
        &[
            "uscc",
            "tier",
            "number",
            "issued_on",
            "valid_from",
            "valid_to",
        ],
    )?;
    let mut errors = Vec::new();
    let mut items = Vec::new();
    for (line, rec) in records(&mut rdr) {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let opt = |name: &str| Some(cell(&rec, &idx, name).to_string()).filter(|s| !s.is_empty());
        let before = errors.len();
        let issued = date_cell(
            cell(&rec, &idx, "issued_on"),
            "issued_on",
            line,
            &mut errors,
        );
        let from = date_cell(
            cell(&rec, &idx, "valid_from"),
            "valid_from",
            line,
            &mut errors,
        );
        let to = date_cell(cell(&rec, &idx, "valid_to"), "valid_to", line, &mut errors);
        for (f, v) in [
            ("issued_on", issued),
            ("valid_from", from),
            ("valid_to", to),
        ] {
            if v.is_none() && !errors[before..].iter().any(|e| e.field == f) {
                errors.push(RowError {
                    line,
                    field: f.into(),
                    message: "required".into(),
                });
            }
        }
        if let (Some(issued_on), Some(valid_from), Some(valid_to)) = (issued, from, to) {
            items.push((
                line,
                CertificationItem {
                    uscc: cell(&rec, &idx, "uscc").to_string(),
                    name: opt("name"),
                    district_code: opt("district_code"),
                    cluster: opt("cluster"),
                    tier: cell(&rec, &idx, "tier").to_string(),
                    number: cell(&rec, &idx, "number").to_string(),
                    issued_on,
                    valid_from,
                    valid_to,
                    batch: opt("batch"),
                },
            ));
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(ImportError::Rows(errors))
    }
}

/// Imports existing titles, all or nothing: enterprises matched by credit code (created when
/// missing), each title recorded in the audit trail as imported.
pub fn certifications(
    conn: &mut DbConnection,
    caller: &crate::services::policy::Caller,
    items: &[(u64, CertificationItem)],
    progress: bool,
) -> Result<usize, ImportError> {
    caller.may(
        crate::services::policy::Action::ImportCertifications,
        &crate::services::policy::Resource::Any,
    )?;
    let actor = caller.actor();
    let actor = actor.as_str();
    use crate::models::certification::{self as certs, NewCertification};
    let districts: HashSet<String> = codes(reference::all_districts(conn)?, |x| x.code);
    let clusters: HashSet<String> = codes(reference::all_clusters(conn)?, |x| x.code);
    let tiers: HashSet<String> = codes(reference::all_tiers(conn)?, |x| x.code);
    let today = crate::clock::today();
    let mut errors = Vec::new();
    let mut numbers = HashSet::new();
    let mut current_in_file: HashSet<(String, String)> = HashSet::new();
    let mut new_enterprises: HashMap<String, (String, String, Option<String>)> = HashMap::new();
    let known: HashMap<String, i32> = ent_rows::ids_by_uscc(conn)?.into_iter().collect();
    for (line, it) in items {
        let line = *line;
        let mut err = |field: &str, message: String| {
            errors.push(RowError {
                line,
                field: field.into(),
                message,
            })
        };
        let uscc = match Uscc::parse(&it.uscc) {
            Ok(u) => u.as_str().to_string(),
            Err(e) => {
                err("uscc", e.message().into());
                continue;
            }
        };
        if !tiers.contains(&it.tier) {
            err("tier", format!("{:?} is not a tier", it.tier));
        }
        let number = it.number.trim();
        if number.is_empty() || number.chars().count() > 64 {
            err(
                "number",
                "a certificate number of 1–64 characters is required".into(),
            );
        } else if !numbers.insert(number.to_string()) {
            err("number", format!("{number} appears twice in this import"));
        }
        if it.valid_to < it.valid_from {
            err("valid_to", "before valid_from".into());
        }
        if it.issued_on > today {
            err("issued_on", "in the future".into());
        }
        if !known.contains_key(&uscc) && !new_enterprises.contains_key(&uscc) {
            let name = it.name.clone().unwrap_or_default();
            let district = it.district_code.clone().unwrap_or_default();
            if name.trim().is_empty() {
                err(
                    "name",
                    format!("{uscc} is not registered: name is needed to create it"),
                );
            } else if let Err(e) = crate::domain::EnterpriseName::parse(&name) {
                err("name", e.message().into());
            }
            if !districts.contains(&district) {
                err(
                    "district_code",
                    format!(
                        "{uscc} is not registered: a Shenyang district code is needed to create it"
                    ),
                );
            }
            if let Some(c) = &it.cluster
                && !clusters.contains(c)
            {
                err("cluster", format!("{c:?} is not a known cluster"));
            }
            new_enterprises.insert(
                uscc.clone(),
                (name.trim().to_string(), district, it.cluster.clone()),
            );
        }
        if it.valid_to >= today && !current_in_file.insert((uscc.clone(), it.tier.clone())) {
            err(
                "tier",
                format!("{uscc} has two unexpired {} titles in this import", it.tier),
            );
        }
        if errors.len() >= MAX_REPORTED {
            break;
        }
    }
    // Numbers already on file (checked before writing: on PostgreSQL a failed insert would
    // abort the whole transaction).
    let wanted: Vec<String> = items
        .iter()
        .map(|(_, it)| it.number.trim().to_string())
        .collect();
    let mut taken = HashSet::new();
    for chunk in wanted.chunks(500) {
        use diesel::prelude::*;
        let found: Vec<String> = crate::db::schema::certifications::table
            .filter(crate::db::schema::certifications::number.eq_any(chunk))
            .select(crate::db::schema::certifications::number)
            .load(conn)?;
        taken.extend(found);
    }
    for (line, it) in items {
        if taken.contains(it.number.trim()) {
            errors.push(RowError {
                line: *line,
                field: "number".into(),
                message: format!("certificate {} already exists", it.number.trim()),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let pb = bar(items.len() as u64, progress, "titles");
    let n = write_tx(conn, |conn| -> Result<usize, ImportError> {
        let at = now();
        let mut ids = known.clone();
        for (uscc, (name, district, cluster)) in &new_enterprises {
            let id = ent_rows::insert(
                conn,
                &NewEnterprise {
                    uscc,
                    name,
                    district_code: district,
                    cluster_code: cluster.as_deref(),
                    founded_on: None,
                    niche_entered_on: None,
                    verified: true,
                    lock_version: 1,
                    created_at: at,
                    updated_at: at,
                },
            )?;
            ids.insert(uscc.clone(), id);
        }
        let mut row_errors = Vec::new();
        for (line, it) in items {
            let uscc = Uscc::parse(&it.uscc)
                .map(|u| u.as_str().to_string())
                .unwrap_or_default();
            let Some(&eid) = ids.get(&uscc) else { continue };
            let is_current = it.valid_to >= today;
            if is_current && let Some(existing) = certs::current(conn, eid, &it.tier)? {
                if existing.valid_to >= today {
                    row_errors.push(RowError {
                        line: *line,
                        field: "tier".into(),
                        message: format!(
                            "{uscc} already holds current {} title {}",
                            it.tier, existing.number
                        ),
                    });
                    continue;
                }
                certs::clear_current(conn, existing.id)?;
            }
            let id = certs::insert(
                conn,
                &NewCertification {
                    enterprise_id: eid,
                    tier: &it.tier,
                    number: it.number.trim(),
                    issued_on: it.issued_on,
                    valid_from: it.valid_from,
                    valid_to: it.valid_to,
                    application_id: None,
                    ruleset_id: None,
                    batch: it.batch.as_deref(),
                    imported: true,
                    is_current,
                    created_at: at,
                    override_reason: None,
                },
            )?;
            crate::services::audit::record::<(), _>(
                conn,
                actor,
                "certification.import",
                "certification",
                id,
                None,
                Some(
                    &serde_json::json!({"imported": true, "uscc": uscc, "tier": it.tier, "number": it.number.trim(),
                    "issued_on": it.issued_on, "valid_from": it.valid_from, "valid_to": it.valid_to, "batch": it.batch}),
                ),
            )?;
            pb.inc(1);
        }
        if !row_errors.is_empty() {
            // Rolls the whole transaction back: all or nothing.
            return Err(ImportError::Rows(row_errors));
        }
        Ok(items.len())
    })?;
    pb.finish_and_clear();
    Ok(n)
}
