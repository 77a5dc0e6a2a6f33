//! HTTP-level tests through the real `App`, on SQLite, or on PostgreSQL when
//! `TEST_DATABASE_URL` is set. One binary; each test has its own database.

// A panic is how a test fails: test code (helpers included) may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod audit;
mod auth;
mod authz;
mod cli_users;
mod decisions;
mod evidence;
mod explain;
mod exports;
mod facts_input;
mod fuzz;
mod officials;
mod policy;
mod publicity;
mod races;
mod registry;
mod regressions;
mod rollup;
mod schema;
mod seeding;
mod surface;
mod workflow;
