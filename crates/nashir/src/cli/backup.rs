//! `nashir backup FILE` and `nashir restore FILE`: one SQLite file holding the database and
//! the media folder. PostgreSQL has better tools of its own (pg_dump), which we point to.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::Config;
use crate::store::ops::{sqlite_article_count, sqlite_file, unpack_backup};

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The backup file to write (must not exist, unless --force).
    pub file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A file written by `nashir backup`.
    pub file: PathBuf,
    /// Replace a database that already holds articles.
    #[arg(long)]
    pub force: bool,
}

fn postgres_advice(config: &Config, what: &str) -> String {
    let media = config.data_dir.join("media");
    match what {
        "backup" => format!(
            "nashir backup works on SQLite only. For PostgreSQL, back up the database with its own tool and copy the media folder:\n  \
             pg_dump --format=custom --file=nashir.dump \"$NASHIR_DATABASE_URL\"\n  \
             tar -czf nashir-media.tar.gz -C {} media\n(see docs/deployment.md)",
            config.data_dir.display()
        ),
        _ => format!(
            "nashir restore works on SQLite only. For PostgreSQL, restore with pg_restore and put the media folder back into {}:\n  \
             pg_restore --clean --if-exists --no-owner --dbname=\"$NASHIR_DATABASE_URL\" nashir.dump\n  \
             tar -xzf nashir-media.tar.gz -C {}\nthen restart the nodes; each rebuilds its search index if it is behind (see docs/deployment.md)",
            media.display(),
            config.data_dir.display()
        ),
    }
}

pub async fn backup(config: Config, args: &BackupArgs) -> anyhow::Result<ExitCode> {
    let url = config.effective_database_url();
    let Some(database) = sqlite_file(&url) else {
        eprintln!("{}", postgres_advice(&config, "backup"));
        return Ok(ExitCode::from(2));
    };
    if !database.exists() {
        anyhow::bail!("there is no database to back up at {} (check --data / data_dir)", database.display());
    }
    if args.file.exists() {
        if !args.force {
            anyhow::bail!("{} exists; choose another name or pass --force to replace it", args.file.display());
        }
        std::fs::remove_file(&args.file).map_err(|e| anyhow::anyhow!("cannot replace {}: {e}", args.file.display()))?;
    }
    if let Some(parent) = args.file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
    }
    let store = super::open_store(&config).await?;
    let started = std::time::Instant::now();
    // Written under a temporary name: a file with the final name is always a whole backup.
    let partial = with_suffix(&args.file, ".partial");
    let _ = std::fs::remove_file(&partial);
    let media = store.backup_sqlite(&partial, &config.data_dir.join("media")).await;
    store.close().await;
    let media = match media {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &args.file).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.file.display()))?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup written to {} ({:.1} MB: database and {media} media files) in {:.1}s",
        args.file.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(config: Config, args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    let url = config.effective_database_url();
    let Some(target) = sqlite_file(&url) else {
        eprintln!("{}", postgres_advice(&config, "restore"));
        return Ok(ExitCode::from(2));
    };
    if !args.file.is_file() {
        anyhow::bail!("{} is not a file", args.file.display());
    }
    // A running server holds a shared lock on the data dir; replacing its database under it
    // would lose writes or corrupt the WAL, whatever --force says.
    let Some(_lock) = super::lock_stopped_data_dir(&config)? else {
        anyhow::bail!("a nashir server is running on {}; stop it first", config.data_dir.display());
    };
    if target.exists() {
        if let Some(count) = sqlite_article_count(&target).await?.filter(|n| *n > 0) {
            if !args.force {
                anyhow::bail!("{} already holds {count} articles; pass --force to replace them with the backup", target.display());
            }
        }
    }
    let staging = with_suffix(&target, ".restoring");
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(&args.file, &staging)
        .map_err(|e| anyhow::anyhow!("cannot copy {} to {}: {e}", args.file.display(), staging.display()))?;
    let media = match unpack_backup(&staging, &config.data_dir.join("media")).await {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(anyhow::anyhow!("{} cannot be restored: {e:#}", args.file.display()));
        }
    };
    // The old write-ahead log belongs to the old database: left beside the new file, SQLite
    // would replay it into the restored one.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(&target, suffix));
    }
    std::fs::rename(&staging, &target).map_err(|e| anyhow::anyhow!("cannot replace {}: {e}", target.display()))?;
    // The search index describes the old database: the next start rebuilds it from the store.
    let index = config.index_dir();
    if index.exists() {
        std::fs::remove_dir_all(&index).map_err(|e| anyhow::anyhow!("cannot remove the old search index {}: {e}", index.display()))?;
    }
    let articles = sqlite_article_count(&target).await?.unwrap_or(0);
    println!(
        "restored {} into {} ({articles} articles, {media} media files); the search index is rebuilt when the server starts",
        args.file.display(),
        target.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
