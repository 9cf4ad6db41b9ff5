//! Nashir (ناشر): an Arabic-first newsroom platform. The binary is a thin shell over this
//! library so tests drive exactly what production runs.

pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod editor;
pub mod entities;
pub mod ingest;
pub mod mail;
pub mod metrics;
pub mod newsletter;
pub mod related;
pub mod render;
pub mod search;
pub mod store;
pub mod web;

pub use config::Config;
pub use store::Store;
pub use web::Application;
