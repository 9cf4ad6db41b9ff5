//! One integration-test binary (faster linking): every storage test runs on SQLite and, when
//! `NASHIR_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod helpers;

mod accounts;
mod api;
mod archives;
mod bounded;
mod cli;
mod editor;
mod entities;
mod feeds;
mod front;
mod fuzz;
mod import;
mod marks;
mod multinode;
mod newsletter;
mod ops;
mod privacy;
mod related;
mod search;
mod security;
mod site;
mod speed;
