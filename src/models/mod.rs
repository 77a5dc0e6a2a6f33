//! Row types and queries, one module per table group. Only this folder talks SQL.

pub mod application;
pub mod attachment;
pub mod audit;
pub mod certification;
pub mod claim;
pub mod data_migration;
pub mod enterprise;
pub mod facts;
pub mod idempotency;
pub mod notification;
pub mod publicity;
pub mod quota;
pub mod reference;
pub mod report;
pub mod ruleset;
pub mod token;
pub mod user;

/// The current instant as stored (UTC, microseconds), on the one clock ([`crate::clock`]).
pub fn now() -> chrono::NaiveDateTime {
    crate::clock::now()
}
