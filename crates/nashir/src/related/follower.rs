//! Keeps suggestions, duplicates and entities current for articles written by any path — the
//! editor, the API, the scheduler, a bulk import in another process — by following the change
//! log. One node of a cluster does it at a time (a leased cursor in the store); after a long
//! gap, such as a bulk import of thousands of articles, it recomputes everything at once,
//! which also re-ranks by shared neighbours.

use std::time::Duration;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::metrics::Metrics;
use crate::store::{ChangeKind, Store, StoreResult};

/// The follower's leased cursor; a full recomputation elsewhere moves it too.
pub(crate) const JOB: &str = "related";
const LEASE_SECS: i64 = 30;
const POLL: Duration = Duration::from_millis(1000);
/// Between working passes over an archive too big to keep its index in memory.
const LARGE_ARCHIVE_PAUSE: Duration = Duration::from_secs(30);
/// More changed articles than this: one full recomputation beats refreshing them one by one.
const FULL_REFRESH_OVER: usize = 500;

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Articles whose suggestions were recomputed.
    pub refreshed: usize,
    /// Whether the whole archive was recomputed.
    pub full: bool,
}

/// One pass; None when another node leads.
pub async fn pass(store: &Store, owner: &str) -> StoreResult<Option<Pass>> {
    let Some(cursor) = store.lease_job(JOB, owner, LEASE_SECS).await? else { return Ok(None) };
    let last = store.last_change_seq().await?;
    if last <= cursor {
        return Ok(Some(Pass { refreshed: 0, full: false }));
    }
    let mut ids: Vec<i64> = Vec::new();
    let mut seq = cursor;
    while seq < last {
        let changes = store.changes_since(seq, 5000).await?;
        let Some(newest) = changes.last() else { break };
        seq = newest.seq;
        ids.extend(changes.iter().filter(|c| matches!(c.kind, ChangeKind::Content | ChangeKind::Curated)).map(|c| c.article_id));
        if ids.len() > FULL_REFRESH_OVER * 4 {
            break; // Enough to know a full pass is due; do not hold thousands of ids.
        }
    }
    ids.sort_unstable();
    ids.dedup();
    // An archive too big to keep its index in memory (see `engine::RESIDENT_MAX`) is
    // recomputed by the whole-archive pass, whose memory does not grow with the archive,
    // rather than by rebuilding the whole in-memory index for a few changed articles.
    let full = ids.len() > FULL_REFRESH_OVER || (!ids.is_empty() && store.published_count().await? > super::engine::RESIDENT_MAX as i64);
    let refreshed = if full {
        // The full pass reads the store as of now, so everything logged so far is covered.
        let seq_now = store.last_change_seq().await?;
        let count = super::refresh_all(store).await?;
        seq = seq.max(seq_now);
        tracing::info!(articles = count, "related articles recomputed for the whole archive");
        count
    } else {
        if !ids.is_empty() {
            super::refresh_many(store, &ids).await?;
        }
        ids.len()
    };
    store.advance_job(JOB, owner, seq).await?;
    super::engine::release_if_large(store).await?;
    Ok(Some(Pass { refreshed, full }))
}

/// Runs [`pass`] until `stop`; failures are logged and retried. Started by `tasks`.
/// Each pass is counted in `metrics` (passes, full passes, articles refreshed), which is how
/// one sees that a server started after `nashir import --related` did not redo the import's work.
pub async fn run(store: Store, metrics: Arc<Metrics>, stop: tokio_util::sync::CancellationToken) {
    let mut salt = [0u8; 4];
    let _ = getrandom::getrandom(&mut salt);
    let owner = format!("{}-{}-{:x}", hostname(), std::process::id(), u32::from_le_bytes(salt));
    {
        let mut ticker = tokio::time::interval(POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Idle passes are one read: the lease (a write) is only taken when the log moved.
        let mut seen = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.cancelled() => return,
            }
            let last = match store.last_change_seq().await {
                Ok(last) => last,
                Err(e) => {
                    tracing::warn!(error = %e, "change log unreadable; will retry");
                    continue;
                }
            };
            if seen == Some(last) {
                continue;
            }
            // The seconds of computation inside a pass leave the worker through `cpu_bound`
            // (engine.rs); the pass itself stays async so that shutdown can drop it at any
            // await: its writes are transactions, and the leased cursor only moves at the end.
            let started = std::time::Instant::now();
            let result = tokio::select! {
                result = pass(&store, &owner) => result,
                _ = stop.cancelled() => return,
            };
            if let Ok(Some(done)) = &result {
                metrics.related_passes.fetch_add(1, Ordering::Relaxed);
                metrics.related_full_passes.fetch_add(u64::from(done.full), Ordering::Relaxed);
                metrics.related_articles_refreshed.fetch_add(done.refreshed as u64, Ordering::Relaxed);
            }
            match result {
                Ok(Some(Pass { refreshed: 0, .. })) => seen = Some(last),
                Ok(Some(done)) => {
                    seen = Some(last);
                    // A full pass refreshed every published article: its count is the archive's size.
                    if done.full && done.refreshed > super::engine::RESIDENT_MAX {
                        // A big archive is recomputed whole for each pass: let publications
                        // gather for a while rather than recompute for every one of them, and
                        // at least as long as the pass took, so that it keeps at most half of
                        // one core busy however large the archive grows.
                        let pause = LARGE_ARCHIVE_PAUSE.max(started.elapsed());
                        tokio::select! {
                            _ = tokio::time::sleep(pause) => {}
                            _ = stop.cancelled() => return,
                        }
                    }
                }
                // Another node leads; look again next tick in case it stops.
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "related articles not refreshed; will retry"),
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "node".into())
}
