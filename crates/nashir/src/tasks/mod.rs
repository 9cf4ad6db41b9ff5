//! The task supervisor: every background task of `nashir serve` — the search index's and the
//! related articles' change-log followers, the scheduler of timed articles, the newsletter
//! worker, confirmation mails being retried — is started here, with one cancellation token,
//! and awaited at shutdown. No other module calls `tokio::spawn` for work that outlives a
//! request; that is what lets a SIGTERM end the process within a bound, with nothing cut off
//! in the middle of a write.

pub mod scheduler;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::search::SearchIndex;
use crate::store::Store;

pub use tokio_util::sync::CancellationToken as StopToken;

/// A handle on the running background tasks; cheap to clone.
#[derive(Clone, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Tasks {
    pub fn new() -> Tasks {
        Tasks::default()
    }

    /// Starts a named task. `run` receives a token that is cancelled at shutdown; the task
    /// should return soon after, at a point where stopping loses nothing.
    pub fn spawn<F>(&self, name: &'static str, run: impl FnOnce(StopToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let task = run(self.stop.child_token());
        self.tracker.spawn(async move {
            task.await;
            tracing::debug!(task = name, "background task ended");
        });
    }

    /// Tells every task to stop, without waiting (shutdown begins while requests drain).
    pub fn cancel(&self) {
        self.stop.cancel();
    }

    /// Tells every task to stop and waits at most `grace` for them all; tasks still running
    /// then are left to the runtime's shutdown. Returns whether all ended in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.stop.cancel();
        self.tracker.close();
        let ended = tokio::time::timeout(grace, self.tracker.wait()).await.is_ok();
        if !ended {
            tracing::warn!(still_running = self.tracker.len(), "shutdown: background tasks did not end in time");
        }
        ended
    }

    /// Tasks still running (for tests and `/metrics`).
    pub fn running(&self) -> usize {
        self.tracker.len()
    }
}

/// What the background loops of a server need.
pub struct Background<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub search: &'a Arc<SearchIndex>,
    pub newsletter: &'a crate::newsletter::Newsletter,
    pub metrics: &'a Arc<crate::metrics::Metrics>,
}

/// Starts every background loop of a serving node.
pub fn start(tasks: &Tasks, on: Background<'_>) {
    // Its first step is the index's rebuild when `web::Application::build` found one due.
    let (store, index, metrics) = (on.store.clone(), Arc::clone(on.search), Arc::clone(on.metrics));
    tasks.spawn("search follower", |stop| crate::search::follow(index, store, metrics, stop));
    let (store, metrics) = (on.store.clone(), Arc::clone(on.metrics));
    tasks.spawn("related follower", |stop| crate::related::follower::run(store, metrics, stop));
    // Scheduled articles are published by every running server; the first pass, at
    // start-up, catches those whose time passed while none was running.
    let every = Duration::from_secs(on.config.editor.schedule_interval_secs.max(1));
    let store = on.store.clone();
    tasks.spawn("scheduler", move |stop| scheduler::run(store, every, stop));
    if let Some(worker) = crate::newsletter::worker::spawn(on.newsletter.clone()) {
        // At the signal the worker stops starting messages while requests drain; a message
        // being handed to the SMTP server is finished and recorded, so a restart neither
        // loses it nor sends it twice.
        let grace = Duration::from_secs(on.config.smtp.timeout_secs + 5);
        tasks.spawn("newsletter worker", move |stop| async move {
            stop.cancelled().await;
            worker.stop(grace).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_stops_every_task_and_waits_for_it() {
        let tasks = Tasks::new();
        let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..3 {
            let finished = Arc::clone(&finished);
            tasks.spawn("loop", |stop| async move {
                stop.cancelled().await;
                // Cleanup after the signal is awaited, not cut off.
                tokio::time::sleep(Duration::from_millis(20)).await;
                finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        assert_eq!(tasks.running(), 3);
        assert!(tasks.shutdown(Duration::from_secs(30)).await);
        assert_eq!(finished.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(tasks.running(), 0);
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_signal_does_not_hold_shutdown_forever() {
        let tasks = Tasks::new();
        tasks.spawn("stubborn", |_stop| std::future::pending::<()>());
        assert!(!tasks.shutdown(Duration::from_millis(50)).await);
    }
}
