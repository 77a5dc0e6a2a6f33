//! The two migration trees cannot drift: same directory names, and each backend's migrated
//! schema has exactly the tables and columns (with types and nullability) of src/db/schema.rs.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use std::collections::BTreeMap;

type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// Tables → columns → (diesel type, nullable), read from src/db/schema.rs.
fn declared() -> Columns {
    let text = include_str!("../../src/db/schema.rs");
    let mut out = Columns::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_suffix('{').map(str::trim)
            && let Some((name, _)) = rest.split_once(" (")
            && !name.contains("table!")
        {
            current = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_default();
            continue;
        }
        if l == "}" {
            current = None;
            continue;
        }
        if let (Some(t), Some((col, ty))) = (&current, l.trim_end_matches(',').split_once(" -> ")) {
            let nullable = ty.starts_with("Nullable<");
            let ty = ty
                .trim_start_matches("Nullable<")
                .trim_end_matches('>')
                .to_string();
            out.entry(t.clone())
                .or_default()
                .insert(col.trim().to_string(), (ty, nullable));
        }
    }
    out
}

#[derive(QueryableByName)]
struct SqliteCol {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    #[diesel(column_name = type_)]
    type_: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn sqlite_type(t: &str) -> &'static str {
    match t {
        "TEXT" => "Text",
        "INTEGER" => "Integer",
        "BOOLEAN" => "Bool",
        "DATE" => "Date",
        "TIMESTAMP" => "Timestamp",
        "BIGINT" => "BigInt",
        "BLOB" => "Binary",
        _ => "?",
    }
}

fn pg_type(t: &str) -> &'static str {
    match t {
        "text" => "Text",
        "integer" => "Integer",
        "boolean" => "Bool",
        "date" => "Date",
        "timestamp without time zone" => "Timestamp",
        "bigint" => "BigInt",
        "bytea" => "Binary",
        _ => "?",
    }
}

fn sqlite_schema() -> Columns {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("schema.db");
    let pool = ladder::db::connect(&path.to_string_lossy(), 1).unwrap_or_else(|e| panic!("{e}"));
    let mut conn = pool.get().unwrap_or_else(|e| panic!("{e}"));
    ladder::db::run_migrations(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '__diesel_schema_migrations'",
    )
    .load(&mut *conn)
    .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Columns::new();
    for t in tables {
        let cols: Vec<SqliteCol> = diesel::sql_query(format!(
            "SELECT name, type AS type_, \"notnull\", pk FROM pragma_table_info('{}')",
            t.name
        ))
        .load(&mut *conn)
        .unwrap_or_else(|e| panic!("{e}"));
        let entry = out.entry(t.name.clone()).or_default();
        for c in cols {
            entry.insert(
                c.name,
                (
                    sqlite_type(&c.type_).to_string(),
                    c.notnull == 0 && c.pk == 0,
                ),
            );
        }
    }
    out
}

#[derive(QueryableByName)]
struct PgCol {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

fn pg_schema(admin: &str) -> Columns {
    let name = format!("ladder_schema_{}", uuid::Uuid::new_v4().simple());
    let mut admin_conn =
        diesel::pg::PgConnection::establish(admin).unwrap_or_else(|e| panic!("{e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin)
    );
    let out = {
        let pool = ladder::db::connect(&url, 1).unwrap_or_else(|e| panic!("{e}"));
        let mut conn = pool.get().unwrap_or_else(|e| panic!("{e}"));
        ladder::db::run_migrations(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        let cols: Vec<PgCol> = diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, is_nullable::text AS is_nullable \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name != '__diesel_schema_migrations'",
        )
        .load(&mut *conn)
        .unwrap_or_else(|e| panic!("{e}"));
        let mut out = Columns::new();
        for c in cols {
            out.entry(c.table_name).or_default().insert(
                c.column_name,
                (pg_type(&c.data_type).to_string(), c.is_nullable == "YES"),
            );
        }
        out
    };
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .unwrap_or_else(|e| panic!("{e}"));
    out
}

#[test]
fn migration_trees_have_the_same_directories() {
    let list = |tree: &str| -> Vec<String> {
        let dir = format!("{}/migrations/{tree}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
}

#[test]
fn sqlite_schema_matches_schema_rs() {
    assert_eq!(sqlite_schema(), declared());
}

#[test]
fn postgres_schema_matches_schema_rs() {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => assert_eq!(pg_schema(&url), declared()),
        _ => println!("skipped: TEST_DATABASE_URL is unset (PostgreSQL schema not compared)"),
    }
}
