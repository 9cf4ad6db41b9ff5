//! Nashir (ناشر): an Arabic-first newsroom platform. The binary is a thin shell over this
//! library so tests drive exactly what production runs.
//!
//! The modules are layered: each uses only modules below it (domain, entities;
//! config, metrics; store, render; accounts, media, search; related, mail; ingest, newsletter; demo, tasks;
//! web; cli). The order and the test that enforces it are in `src/layers.rs`.

pub mod accounts;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod entities;
pub mod ingest;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod newsletter;
pub mod related;
pub mod render;
pub mod search;
pub mod store;
pub mod tasks;
pub mod web;

#[cfg(test)]
mod layers;

pub use config::Config;
pub use store::Store;
pub use web::Application;
