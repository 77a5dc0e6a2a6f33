//! Business rules. Sync functions taking `&mut DbConnection`; they own their transactions
//! and work the same from a handler, a test or the CLI.

pub mod audit;
pub mod auth;
pub mod batch;
pub mod enterprises;
pub mod demo;
pub mod facts;
pub mod import;
pub mod reference;
pub mod evaluations;
pub mod rulesets;
pub mod users;
