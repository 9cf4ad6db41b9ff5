//! `nashir copy-to postgres://…`: moves a SQLite newsroom into an empty PostgreSQL database,
//! the step from one machine to several nodes.

use std::process::ExitCode;

use clap::Args;

use crate::config::{redact_url, Config};
use crate::store::ops::sqlite_file;
use crate::store::Store;

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// URL of an empty PostgreSQL database, e.g. postgres://nashir:PASSWORD@db:5432/nashir
    pub url: String,
}

pub async fn run(config: Config, args: &CopyArgs) -> anyhow::Result<ExitCode> {
    let source = config.effective_database_url();
    let Some(file) = sqlite_file(&source) else {
        anyhow::bail!("copy-to copies a SQLite newsroom; this one is on {} already", redact_url(&source));
    };
    if !file.exists() {
        anyhow::bail!("there is no SQLite database at {} (check --data / data_dir)", file.display());
    }
    if !(args.url.starts_with("postgres://") || args.url.starts_with("postgresql://")) {
        anyhow::bail!("the target must be a postgres:// URL (got {})", redact_url(&args.url));
    }
    let started = std::time::Instant::now();
    // Both sides at this binary's schema: the source is migrated like at any start, the
    // target gets the tables.
    Store::connect(&source).await?.close().await;
    Store::connect(&args.url).await?.close().await;
    let copied = crate::store::copy::sqlite_to_postgres(&file, &args.url).await?;
    let total: u64 = copied.iter().map(|(_, n)| n).sum();
    for (table, rows) in copied.iter().filter(|(_, n)| *n > 0) {
        println!("{rows:>9}  {table}");
    }
    println!(
        "copied {total} rows from {} to {} in {:.1}s.\nNext: set NASHIR_DATABASE_URL on every node, put {} on the shared media mount; \
         each node builds its search index at its first start.",
        file.display(),
        redact_url(&args.url),
        started.elapsed().as_secs_f64(),
        config.data_dir.join("media").display()
    );
    Ok(ExitCode::SUCCESS)
}
