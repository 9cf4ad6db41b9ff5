//! The change log: one row per committed write that other processes must hear about. Every
//! node's search index, related-articles index and page cache follow it by sequence number,
//! so a change made through one node reaches the others without any node talking to another.

use sqlx::{Any, Row, Transaction};

use super::{now_secs, Backend, Store, StoreResult};

/// What a change row says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The article itself was written: created, edited, published, unpublished, scheduled.
    Content,
    /// Only derived state of the article changed (related suggestions, duplicates, entities).
    Derived,
    /// An editor pinned or removed a suggestion: the article's list wants recomputing.
    Curated,
    /// Something every page may show changed (sections, tags, settings); `article_id` is 0.
    Site,
}

impl ChangeKind {
    fn from_stored(kind: &str) -> ChangeKind {
        match kind {
            "related" => ChangeKind::Derived,
            "curated" => ChangeKind::Curated,
            "site" => ChangeKind::Site,
            // created, updated, published, unpublished, scheduled, and kinds of later versions.
            _ => ChangeKind::Content,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub seq: i64,
    pub article_id: i64,
    pub kind: ChangeKind,
}

/// Arbitrary constant naming the change-log lock among PostgreSQL advisory locks.
const CHANGE_LOG_LOCK: i64 = 0x006e_6173_6869_7201;

impl Store {
    /// A write transaction that will append to the change log.
    ///
    /// On PostgreSQL a sequence number is taken at INSERT but becomes visible at COMMIT, so
    /// without care a follower could read seq 11, move its cursor past 10, and never see 10
    /// when it commits a moment later. Taking a transaction-scoped advisory lock first makes
    /// change-log writers commit in sequence order. It is taken at the start, before any row
    /// lock, so it cannot deadlock with them. SQLite's `BEGIN IMMEDIATE` already serializes.
    pub async fn begin_logged_write(&self) -> StoreResult<Transaction<'static, Any>> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(CHANGE_LOG_LOCK).execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Records, in its own transaction, that derived state or site-wide data changed.
    pub async fn log_change_now(&self, article_id: i64, kind: &str) -> StoreResult<()> {
        let mut tx = self.begin_logged_write().await?;
        log_change(&mut tx, article_id, kind).await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(())
    }

    /// The newest change sequence number (0 when nothing was ever written).
    pub async fn last_change_seq(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM changes").fetch_one(&self.pool).await?.unwrap_or(0))
    }

    /// Changes after `seq`, oldest first.
    pub async fn changes_since(&self, seq: i64, limit: i64) -> StoreResult<Vec<Change>> {
        let rows = sqlx::query("SELECT seq, article_id, kind FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(Change { seq: r.try_get("seq")?, article_id: r.try_get("article_id")?, kind: ChangeKind::from_stored(&kind) })
            })
            .collect()
    }
}

/// Appends to the change log inside `tx`, which must come from [`Store::begin_logged_write`].
pub(crate) async fn log_change(tx: &mut Transaction<'_, Any>, article_id: i64, kind: &str) -> StoreResult<()> {
    sqlx::query("INSERT INTO changes (article_id, kind, at) VALUES ($1, $2, $3)")
        .bind(article_id)
        .bind(kind)
        .bind(now_secs())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
