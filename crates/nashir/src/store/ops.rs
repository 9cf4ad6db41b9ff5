//! What operators need from the store: an online SQLite backup, the migration state for
//! `nashir check`, and the queue counts for `/metrics`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

use super::{Backend, Store, StoreError, StoreResult};

/// The table a backup file carries the media folder in, so one file holds everything.
const MEDIA_TABLE: &str = "nashir_backup_media";

/// How the database's applied migrations compare with the ones this binary carries.
#[derive(Debug, Default)]
pub struct MigrationState {
    pub applied: usize,
    /// Known to this binary, not applied yet (`nashir serve` applies them at start).
    pub pending: Vec<i64>,
    /// Applied by a newer binary: this one is older than the database.
    pub unknown: Vec<i64>,
    /// Applied, but the file changed since: someone edited a released migration.
    pub changed: Vec<i64>,
}

/// The SQLite file a URL points at, if it is one.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    super::sqlite_path(url)
}

impl Store {
    /// Delivery rows by status (every row: for tests and reports, not for every scrape).
    pub async fn delivery_status_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM deliveries GROUP BY status ORDER BY status").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?))).collect()
    }

    /// Rows waiting to be sent, by status: the queue depth. Reads the `(status, …)` index, so a
    /// scrape costs the size of the queue, not of every delivery ever made.
    pub async fn delivery_queue_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) FROM deliveries WHERE status IN ('queued', 'sending') GROUP BY status ORDER BY status")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?))).collect()
    }

    /// A consistent copy of a SQLite database while the server keeps running (`VACUUM INTO`
    /// reads one snapshot), with the files of `media_dir` stored inside it.
    pub async fn backup_sqlite(&self, target: &Path, media_dir: &Path) -> anyhow::Result<usize> {
        if self.backend() != Backend::Sqlite {
            anyhow::bail!("online backup is only built in for SQLite");
        }
        let target_str = target.to_str().ok_or_else(|| anyhow::anyhow!("backup path {} is not UTF-8", target.display()))?;
        sqlx::query("VACUUM INTO $1").bind(target_str.to_string()).execute(self.pool()).await?;
        let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(target)).await?;
        sqlx::query(&format!("CREATE TABLE {MEDIA_TABLE} (name TEXT PRIMARY KEY, data BLOB NOT NULL)")).execute(&mut conn).await?;
        let mut tx = conn.begin().await?;
        let mut count = 0;
        for (name, path) in media_files(media_dir).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", media_dir.display()))? {
            let data = std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            sqlx::query(&format!("INSERT INTO {MEDIA_TABLE} (name, data) VALUES ($1, $2)")).bind(name).bind(data).execute(&mut *tx).await?;
            count += 1;
        }
        tx.commit().await?;
        conn.close().await?;
        Ok(count)
    }
}

/// Files under `dir` with their path relative to it (`/`-separated); none if it is missing.
fn media_files(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.push((name, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Prepares a backup file for use as the database: writes the media it carries into
/// `media_dir`, then drops them from the file. Returns how many media files were written.
pub async fn unpack_backup(file: &Path, media_dir: &Path) -> anyhow::Result<usize> {
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(file)).await?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check").fetch_one(&mut conn).await?;
    if check != "ok" {
        anyhow::bail!("the backup file is damaged: {check}");
    }
    let has_articles: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('articles', '_sqlx_migrations')")
            .fetch_one(&mut conn)
            .await?;
    if has_articles < 2 {
        anyhow::bail!("not a Nashir database (no articles table or migrations)");
    }
    let has_media: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{MEDIA_TABLE}'"))
        .fetch_one(&mut conn)
        .await?;
    let mut count = 0;
    if has_media > 0 {
        let io = |e: std::io::Error| anyhow::anyhow!("cannot write media into {}: {e}", media_dir.display());
        let rows = sqlx::query(&format!("SELECT name, data FROM {MEDIA_TABLE}")).fetch_all(&mut conn).await?;
        for row in rows {
            let name: String = row.try_get(0)?;
            let data: Vec<u8> = row.try_get(1)?;
            // The names were written by `backup_sqlite`; still, never write outside the folder.
            if name.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
                anyhow::bail!("unexpected media name {name:?} in the backup");
            }
            let path = media_dir.join(&name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&path, data).map_err(io)?;
            count += 1;
        }
        sqlx::query(&format!("DROP TABLE {MEDIA_TABLE}")).execute(&mut conn).await?;
        sqlx::query("VACUUM").execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(count)
}

/// Number of articles in a SQLite file, or None when it holds no Nashir tables yet.
pub async fn sqlite_article_count(file: &Path) -> StoreResult<Option<i64>> {
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(file).read_only(true)).await?;
    let tables: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'articles'").fetch_one(&mut conn).await?;
    let count = if tables > 0 { Some(sqlx::query_scalar("SELECT COUNT(*) FROM articles").fetch_one(&mut conn).await?) } else { None };
    conn.close().await?;
    Ok(count)
}

/// Connects without migrating (a check must not change anything) and compares the applied
/// migrations with this binary's. A SQLite file that does not exist is reported, not created.
pub async fn migration_state(url: &str) -> StoreResult<MigrationState> {
    sqlx::any::install_default_drivers();
    let unavailable = |reason: String| StoreError::Unavailable { url: crate::config::redact_url(url), reason };
    let (backend, options) = if url.starts_with("sqlite:") {
        let path = super::sqlite_path(url).ok_or_else(|| unavailable("no file in the SQLite URL".into()))?;
        if !path.exists() {
            return Err(unavailable(format!("{} does not exist yet (`nashir serve` creates it)", path.display())));
        }
        (Backend::Sqlite, sqlx::any::AnyConnectOptions::from_str(&format!("sqlite://{}?mode=ro", path.display())))
    } else {
        (Backend::Postgres, sqlx::any::AnyConnectOptions::from_str(url))
    };
    let options = options.map_err(|e| unavailable(e.to_string()))?;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let migrator = super::migrator(backend);
    let table = match backend {
        Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
        }
    };
    let exists: i64 = sqlx::query_scalar(table).fetch_one(&pool).await?;
    let applied: Vec<(i64, Vec<u8>)> = if exists > 0 {
        sqlx::query("SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?
    } else {
        Vec::new()
    };
    pool.close().await;
    let known: Vec<_> = migrator.iter().filter(|m| m.migration_type.is_up_migration()).collect();
    let mut state = MigrationState { applied: applied.len(), ..Default::default() };
    for m in &known {
        match applied.iter().find(|(v, _)| *v == m.version) {
            None => state.pending.push(m.version),
            Some((_, checksum)) if checksum.as_slice() != &*m.checksum => state.changed.push(m.version),
            Some(_) => {}
        }
    }
    state.unknown = applied.iter().map(|(v, _)| *v).filter(|v| !known.iter().any(|m| m.version == *v)).collect();
    Ok(state)
}

/// Every running server holds `data_dir/nashir.lock` shared; `nashir restore` needs it
/// exclusively, so it can tell that a server is running (and a server cannot start mid-restore).
pub fn lock_data_dir(dir: &Path, exclusive: bool) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("nashir.lock"))?;
    let locked = if exclusive { file.try_lock() } else { file.try_lock_shared() };
    locked.map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(file)
}
