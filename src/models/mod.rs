//! Row types and queries, one module per table group. Only this folder talks SQL.

pub mod application;
pub mod audit;
pub mod certification;
pub mod enterprise;
pub mod facts;
pub mod idempotency;
pub mod quota;
pub mod reference;
pub mod report;
pub mod ruleset;
pub mod token;
pub mod user;

/// The current UTC time, truncated to microseconds so SQLite and PostgreSQL store the same value.
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    let micros = t.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc())
        .unwrap_or(t)
}
