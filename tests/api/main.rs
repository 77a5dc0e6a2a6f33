//! HTTP-level tests through the real `App`, on SQLite, or on PostgreSQL when
//! `TEST_DATABASE_URL` is set. One binary; each test has its own database.

mod helpers;

mod audit;
mod auth;
mod authz;
mod races;
mod registry;
mod regressions;
mod rollup;
mod schema;
mod workflow;
