//! HTTP-level tests through the real `App`, on SQLite, or on PostgreSQL when
//! `TEST_DATABASE_URL` is set. One binary; each test has its own database.

mod helpers;

mod auth;
mod authz;
mod registry;
mod schema;
mod workflow;
mod audit;
mod races;
mod rollup;
