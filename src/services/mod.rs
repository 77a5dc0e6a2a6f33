//! Business rules. Sync functions taking `&mut DbConnection`; they own their transactions
//! and work the same from a handler, a test or the CLI.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod certifications;
pub mod claims;
pub mod demo;
pub mod enterprises;
pub mod evaluations;
pub mod evidence;
pub mod facts;
pub mod idempotency;
pub mod import;
pub mod notifications;
pub mod officials;
pub mod policy;
pub mod publicity;
pub mod quotas;
pub mod reference;
pub mod report_files;
pub mod rollup;
pub mod rulesets;
pub mod seed;
pub mod users;
