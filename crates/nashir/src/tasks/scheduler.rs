//! Publishes scheduled articles when their time comes. Runs inside every server; the first
//! pass at start-up catches articles whose time passed while no server was running.

use std::time::Duration;

use crate::store::Store;

/// One pass: publishes what is due now and returns the ids.
pub async fn publish_due_now(store: &Store) -> crate::store::StoreResult<Vec<i64>> {
    let ids = store.publish_due(crate::domain::now_secs()).await?;
    if !ids.is_empty() {
        tracing::info!(?ids, "published scheduled articles");
    }
    Ok(ids)
}

/// Loops until `stop`; a failed pass is logged and retried at the next tick. Started by `tasks`.
pub async fn run(store: Store, every: Duration, stop: tokio_util::sync::CancellationToken) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(200)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.cancelled() => return,
        }
        if let Err(e) = publish_due_now(&store).await {
            tracing::warn!(error = %e, "scheduled publishing failed; will retry");
        }
    }
}
