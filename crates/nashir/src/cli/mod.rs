//! Command-line interface: parse, build the config, call into the library.

mod backup;
mod check;
mod config;
mod copy;
mod demo;
mod import;
mod newsletter;
mod reindex;
mod serve;
mod theme;
mod user;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, Overrides};
use crate::store::Store;

#[derive(Parser, Debug)]
#[command(name = "nashir", version, about = "ناشر — منصة أخبار عربية: نشر، بحث، ونشرات بريدية")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// More log output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Data directory: SQLite file, media, search index [env: NASHIR_DATA] [default: ./nashir-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database URL, sqlite://… or postgres://… [env: NASHIR_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Config file [env: NASHIR_CONFIG] [default: ./nashir.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the site and the API.
    Serve(ServeArgs),
    /// Create a demo newsroom in an empty data dir, then serve it.
    Demo(ServeArgs),
    /// Import articles: plain text, WordPress WXR, Ghost JSON or JSON Lines (.gz read directly).
    Import(import::ImportArgs),
    /// Rebuild the search index, related articles and entities from the store (stop the server first).
    Reindex,
    /// Manage newsroom accounts.
    User(user::UserArgs),
    /// Newsletter: send an issue now, drain the queue, show delivery status.
    Newsletter(newsletter::NewsletterArgs),
    /// Check the config, data dir, database, migrations and SMTP server; non-zero exit on failure.
    Check,
    /// Write a consistent backup of a SQLite newsroom (database and media) while it runs.
    Backup(backup::BackupArgs),
    /// Replace the SQLite database and media with a backup (stop the server first).
    Restore(backup::RestoreArgs),
    /// Print the documented default configuration (`nashir config default > nashir.toml`).
    Config(config::ConfigArgs),
    /// Copy this SQLite newsroom into an empty PostgreSQL database (to run several nodes).
    CopyTo(copy::CopyArgs),
    /// Themes: `theme export DIR` writes the built-in templates and CSS as a starting point.
    Theme(theme::ThemeArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on [env: NASHIR_ADDR] [default: 127.0.0.1:8080]
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Public base URL for links [env: NASHIR_SITE_URL]
    #[arg(long, value_name = "URL")]
    pub site_url: Option<String>,
}

pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "info,sqlx=warn,tantivy=warn",
        1 => "debug,sqlx=info,tantivy=info,hyper=info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let json = std::env::var("NASHIR_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn overrides(global: &GlobalArgs, serve: Option<&ServeArgs>) -> Overrides {
    Overrides {
        config_file: global.config.clone(),
        data_dir: global.data.clone(),
        database_url: global.database.clone(),
        addr: serve.and_then(|s| s.addr),
        site_url: serve.and_then(|s| s.site_url.clone()),
    }
}

/// Connects to the configured database, applying migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    create_data_dir(config)?;
    crate::related::set_scratch_dir(config.data_dir.join("tmp"));
    Ok(Store::connect(&config.effective_database_url()).await?)
}

fn create_data_dir(config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| anyhow::anyhow!("cannot create data dir {}: {e}", config.data_dir.display()))
}

/// The data dir's exclusive lock, for work no server may run beside (restore, reindex, the
/// import's index update); `None` while a server holds the dir (it keeps a shared lock).
fn lock_stopped_data_dir(config: &Config) -> anyhow::Result<Option<std::fs::File>> {
    create_data_dir(config)?;
    Ok(crate::store::ops::lock_data_dir(&config.data_dir, true).ok())
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Serve(args) => serve::run(Config::load(&overrides(&cli.global, Some(args)))?).await,
        Command::Demo(args) => demo::run(Config::load(&overrides(&cli.global, Some(args)))?).await,
        Command::Import(args) => import::run(Config::load(&overrides(&cli.global, None))?, args).await,
        Command::Reindex => reindex::run(Config::load(&overrides(&cli.global, None))?).await,
        Command::User(args) => user::run(Config::load(&overrides(&cli.global, None))?, args).await,
        Command::Newsletter(args) => newsletter::run(Config::load(&overrides(&cli.global, None))?, args).await,
        Command::Check => check::run(&overrides(&cli.global, None)).await,
        Command::Backup(args) => backup::backup(Config::load(&overrides(&cli.global, None))?, args).await,
        Command::Restore(args) => backup::restore(Config::load(&overrides(&cli.global, None))?, args).await,
        Command::Config(args) => config::run(args),
        Command::CopyTo(args) => copy::run(Config::load(&overrides(&cli.global, None))?, args).await,
        Command::Theme(args) => theme::run(args),
    }
}
