//! Persistence. One `Store` over sqlx's `Any` driver: the SQL is written once, in the subset
//! SQLite and PostgreSQL share (`$1` placeholders, Unix-second integers for times, TEXT for
//! JSON), and migrations are kept per backend where the DDL differs.

mod articles;
mod autosave;
mod changes;
pub mod copy;
pub mod desk;
mod editorial;
mod front;
mod jobs;
mod media;
pub mod newsletter;
pub mod ops;
mod redirects;
pub mod related;
mod taxonomy;
mod users;

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use articles::{ArticleSummary, LinkTarget, ListQuery, SitemapEntry, UpsertOutcome};
pub use autosave::Autosave;
pub(crate) use changes::log_change;
pub use changes::{Change, ChangeKind};
pub use editorial::{draft_from_snapshot, AdminFilter, AdminRow, ArticleMeta, EditError, MediaRecord, RevisionInfo, Snapshot};
pub use front::{BreakingNews, LeadImage};
pub use media::MediaUse;
pub use redirects::redirect_key;
pub(crate) use taxonomy::short_hash;
pub use taxonomy::{Author, Section, Tag};
pub use users::{ApiTokenInfo, LoginAttempt, SessionInfo, UserListing};

use crate::config::redact_url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database {url}: {reason}")]
    Unavailable { url: String, reason: String },
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
    /// A temporary file of a pass over the archive (the related pass spills to disk).
    #[error("temporary file: {0}")]
    Scratch(#[from] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
            _ => StoreError::Database(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Bumped after every committed write seen by this process; caches compare against it.
    epoch: Arc<AtomicU64>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations of one backend (the DDL differs, so each has its own folder).
fn migrator(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

impl Store {
    /// Connects and applies pending migrations. SQLite files (and their directory) are created.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let unavailable = |reason: String| StoreError::Unavailable { url: redact_url(url), reason };
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(unavailable("unsupported URL scheme (use sqlite:// or postgres://)".into()));
        };
        if backend == Backend::Sqlite {
            if let Some(parent) = sqlite_path(url).and_then(|p| p.parent().map(|p| p.to_path_buf())) {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(&parent).map_err(|e| unavailable(format!("cannot create {}: {e}", parent.display())))?;
                }
            }
        }
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| unavailable(e.to_string()))?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed while one writer commits; busy_timeout makes
                        // concurrent writers wait instead of failing with SQLITE_BUSY.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        migrator(backend).run(&pool).await?;
        Ok(Store { pool, backend, epoch: Arc::new(AtomicU64::new(1)) })
    }

    /// The current write epoch: anything derived under an older epoch may be stale.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Marks derived state stale. Call after a write commits (never before: a reader could
    /// otherwise cache old data under the new epoch).
    pub fn bump_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads first fails with SQLITE_BUSY_SNAPSHOT (517) when another
    /// connection (the newsletter worker, an import) committed in between, instead of waiting.
    pub async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

pub(crate) use crate::domain::now_secs;

pub(crate) fn from_secs(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
}
