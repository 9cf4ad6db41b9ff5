//! One integration-test binary (faster linking): every storage test runs on SQLite and, when
//! `NASHIR_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod helpers;

mod api;
mod cli;
mod import;
mod newsletter;
mod site;
