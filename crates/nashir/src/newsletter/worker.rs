//! The delivery worker: leases queue rows, sends them with bounded concurrency and rate,
//! and records the outcomes. Failures are recorded at once; messages the server accepted are
//! marked sent in groups of half a batch (one write for many rows instead of one commit each,
//! which is what a durable PostgreSQL pays for), written while sending goes on. So a crash
//! resends at most the messages in flight and those accepted but not yet marked — at most
//! `concurrency + batch` (batch = `min(batch_size, concurrency × 4)`) readers get that issue
//! twice. Rows leased but not started are not sent by the dead process: they go back to the
//! queue and are sent once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::digest::DigestGroup;
use super::lease::{Holder, LeaseOwner};
use super::{IssueRow, Newsletter, Signer, SubscriberStatus};
use crate::domain::Email;
use crate::mail::{BulkTemplate, ListLinks, Rendered, SendError};
use crate::store::newsletter::Leased;

const IDLE_POLL: Duration = Duration::from_millis(500);
/// How long one `pass` keeps leasing before it finishes what it started and returns (the
/// schedule, dead leases and the progress bar are looked at between passes).
const PASS_BUDGET: Duration = Duration::from_secs(1);
const SCHEDULE_EVERY: Duration = Duration::from_secs(30);
/// How often a running worker looks for rows held by dead processes of its node (the first
/// pass always does: that is the restart after a crash).
const RECLAIM_EVERY: Duration = Duration::from_secs(15);

/// What one pass over the queue did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pass {
    pub leased: usize,
    pub sent: usize,
    pub retried: usize,
    pub bounced: usize,
    pub skipped: usize,
}

struct IssueCache {
    issue: IssueRow,
    groups: Vec<DigestGroup>,
    /// Rendered and encoded once per distinct choice of sections, with placeholder links.
    by_sections: Mutex<HashMap<Vec<String>, Option<Arc<BulkTemplate>>>>,
}

/// Placeholders for each reader's own links in a body rendered once for many readers.
pub(crate) const MANAGE_MARK: &str = "__NASHIR_MANAGE_URL__";
pub(crate) const UNSUB_MARK: &str = "__NASHIR_UNSUBSCRIBE_URL__";

pub struct Worker {
    nl: Newsletter,
    issues: Mutex<HashMap<i64, Arc<IssueCache>>>,
    pacer: tokio::sync::Mutex<Option<Instant>>,
    /// Turns true at shutdown: the messages being sent are finished, no new one is started.
    stop: tokio::sync::watch::Receiver<bool>,
    owner: LeaseOwner,
    owner_tag: String,
    next_reclaim: Mutex<Option<Instant>>,
}

fn backoff_secs(attempts: i64) -> i64 {
    (30i64 << (attempts - 1).clamp(0, 7)).min(3600)
}

impl Worker {
    pub fn new(nl: Newsletter) -> Arc<Worker> {
        Self::with_stop(nl, tokio::sync::watch::channel(false).1)
    }

    fn with_stop(nl: Newsletter, stop: tokio::sync::watch::Receiver<bool>) -> Arc<Worker> {
        let owner = LeaseOwner::current();
        Arc::new(Worker {
            nl,
            issues: Mutex::new(HashMap::new()),
            pacer: tokio::sync::Mutex::new(None),
            stop,
            owner_tag: owner.tag(),
            owner,
            next_reclaim: Mutex::new(None),
        })
    }

    /// Takes back the rows of dead processes of this node (see `lease`), at most every
    /// `RECLAIM_EVERY`. Returns how many rows went back to the queue.
    pub async fn reclaim_dead_leases(&self) -> anyhow::Result<u64> {
        {
            let mut next = self.next_reclaim.lock().unwrap_or_else(|e| e.into_inner());
            if next.is_some_and(|at| Instant::now() < at) {
                return Ok(0);
            }
            *next = Some(Instant::now() + RECLAIM_EVERY);
        }
        let mut released = 0;
        for holder in self.nl.store.lease_holders().await? {
            if self.owner.judge(&holder) == Holder::Dead {
                let n = self.nl.store.release_leases_of(&holder).await?;
                tracing::warn!(holder = %holder, rows = n, "newsletter: took back the leases of a process that died mid-send");
                released += n;
            }
        }
        Ok(released)
    }

    async fn issue(&self, id: i64) -> anyhow::Result<Option<Arc<IssueCache>>> {
        if let Some(c) = self.issues.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(Some(c.clone()));
        }
        let Some(issue) = self.nl.store.issue(id).await? else { return Ok(None) };
        let groups: Vec<DigestGroup> = serde_json::from_str(&issue.articles_json)?;
        let cache = Arc::new(IssueCache { issue, groups, by_sections: Mutex::new(HashMap::new()) });
        let mut issues = self.issues.lock().unwrap_or_else(|e| e.into_inner());
        if issues.len() >= 8 {
            // Only the issues being sent now are worth keeping; a long-running worker must
            // not collect every issue it ever sent.
            issues.clear();
        }
        issues.insert(id, cache.clone());
        Ok(Some(cache))
    }

    fn render_for(&self, cache: &IssueCache, sections: &[String]) -> anyhow::Result<Option<Arc<BulkTemplate>>> {
        // A breaking mail was rendered once when it was queued, for a chosen audience: the
        // same for every reader whatever their sections.
        let key = if cache.issue.kind == "breaking" { &[][..] } else { sections };
        let mut map = cache.by_sections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = map.get(key) {
            return Ok(r.clone());
        }
        let rendered = if cache.issue.kind == "breaking" {
            let issue = &cache.issue;
            Some(Rendered { subject: issue.subject.clone(), text: issue.body_text.clone(), html: issue.body_html.clone() })
        } else {
            self.nl.render_digest(&cache.issue, &cache.groups, sections, MANAGE_MARK, UNSUB_MARK)?
        };
        let template = rendered.map(|r| Arc::new(BulkTemplate::new(&r, &[MANAGE_MARK, UNSUB_MARK])));
        map.insert(key.to_vec(), template.clone());
        Ok(template)
    }

    /// Waits for the next send slot when a rate is configured.
    async fn pace(&self) {
        let rate = self.nl.config.newsletter.rate_per_sec;
        if rate <= 0.0 {
            return;
        }
        let step = Duration::from_secs_f64(1.0 / rate);
        let mut next = self.pacer.lock().await;
        let now = Instant::now();
        let at = next.map_or(now, |n| n.max(now));
        *next = Some(at + step);
        drop(next);
        tokio::time::sleep_until(at).await;
    }

    /// Sends from the queue for about `PASS_BUDGET`, or until it is empty or the worker stops;
    /// returns what happened. Zero leased means idle.
    ///
    /// A leasing task reserves the next batch while this one is being sent (a channel of one
    /// batch between them), so `concurrency` messages stay in flight across batch boundaries
    /// instead of the connections idling while the slowest message of each batch finishes.
    /// Accepted messages are marked sent in groups of half a batch, one group's write at a
    /// time, in the background: at any moment at most one batch of accepted messages (the group
    /// being written and the group filling) plus the `concurrency` in flight are not yet
    /// marked — the crash bound of the module's note.
    pub async fn pass(self: &Arc<Self>) -> anyhow::Result<Pass> {
        let cfg = &self.nl.config.newsletter;
        let batch = cfg.batch_size.min(cfg.concurrency as i64 * 4).max(1);
        let concurrency = cfg.concurrency.max(1);
        self.reclaim_dead_leases().await?;
        let signer = self.nl.signer().await?.clone();
        let (batches, mut next_batch) = tokio::sync::mpsc::channel::<LeasedBatch>(1);
        let leaser = tokio::spawn(self.clone().lease_ahead(batch, batches));
        let mut marker = SentMarker::new(self.nl.store.clone(), batch as usize);
        let mut pass = Pass::default();
        let mut tasks: JoinSet<anyhow::Result<Outcome>> = JoinSet::new();
        let mut last_error = None;
        let mut unsent = Vec::new();
        let mut failure = None;
        'batches: while let Some(LeasedBatch { rows, subscribers }) = next_batch.recv().await {
            pass.leased += rows.len();
            let mut rows = rows.into_iter();
            while let Some(row) = rows.next() {
                // At shutdown the rest goes back to the queue, checked before and after each
                // wait (for a send slot, for the rate limit).
                let mut stopping = *self.stop.borrow();
                while !stopping && tasks.len() >= concurrency {
                    if let Some(done) = tasks.join_next().await {
                        failure = failure.or(tally(&mut pass, &mut last_error, &mut marker, done).await.err());
                    }
                    stopping = *self.stop.borrow();
                }
                if !stopping {
                    self.pace().await;
                    stopping = *self.stop.borrow();
                }
                if stopping || failure.is_some() {
                    unsent.push(row.id);
                    unsent.extend(rows.map(|r| r.id));
                    break 'batches;
                }
                let this = self.clone();
                let subscriber = subscribers.get(&row.subscriber_id).cloned();
                let signer = signer.clone();
                tasks.spawn(async move { this.deliver(&row, subscriber, &signer).await });
                while let Some(done) = tasks.try_join_next() {
                    failure = failure.or(tally(&mut pass, &mut last_error, &mut marker, done).await.err());
                }
            }
        }
        // Whatever the leasing task reserved and nobody will start goes back to the queue.
        next_batch.close();
        while let Some(LeasedBatch { rows, .. }) = next_batch.recv().await {
            unsent.extend(rows.iter().map(|r| r.id));
        }
        while let Some(done) = tasks.join_next().await {
            failure = failure.or(tally(&mut pass, &mut last_error, &mut marker, done).await.err());
        }
        let leasing = leaser.await;
        marker.finish().await?;
        self.nl.store.release_deliveries(&unsent).await?;
        if let Some(e) = failure {
            return Err(e);
        }
        leasing??;
        self.nl.metrics.record_mails(pass.sent, pass.bounced, pass.retried, pass.skipped);
        if pass.retried > 0 {
            tracing::warn!(
                retried = pass.retried,
                sent = pass.sent,
                error = last_error.as_deref().unwrap_or(""),
                "newsletter: temporary SMTP failures, will retry"
            );
        }
        if pass.sent + pass.bounced + pass.skipped > 0 {
            self.nl.store.finish_issues().await?;
        }
        Ok(pass)
    }

    /// The leasing side of `pass`: reserves batches (with their subscribers) one ahead of the
    /// sender until the queue is empty, the pass's time is up, the worker stops, or the sender
    /// hangs up (a batch it did not take is given back here).
    async fn lease_ahead(self: Arc<Self>, batch: i64, batches: tokio::sync::mpsc::Sender<LeasedBatch>) -> anyhow::Result<()> {
        let lease_secs = self.nl.config.newsletter.lease_secs;
        let until = Instant::now() + PASS_BUDGET;
        while !*self.stop.borrow() && Instant::now() < until {
            let rows = self.nl.store.lease_deliveries(batch, lease_secs, &self.owner_tag).await?;
            if rows.is_empty() {
                break;
            }
            let ids: Vec<i64> = rows.iter().map(|l| l.subscriber_id).collect();
            let subscribers = match self.nl.store.subscribers_by_ids(&ids).await {
                Ok(list) => list.into_iter().map(|s| (s.id, s)).collect(),
                Err(e) => {
                    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                    self.nl.store.release_deliveries(&ids).await?;
                    return Err(e.into());
                }
            };
            let short = rows.len() < batch as usize;
            if let Err(refused) = batches.send(LeasedBatch { rows, subscribers }).await {
                let ids: Vec<i64> = refused.0.rows.iter().map(|r| r.id).collect();
                self.nl.store.release_deliveries(&ids).await?;
                break;
            }
            if short {
                break; // the queue had less than a batch: nothing more is due now
            }
        }
        Ok(())
    }

    async fn deliver(&self, row: &Leased, subscriber: Option<super::Subscriber>, signer: &Signer) -> anyhow::Result<Outcome> {
        let store = &self.nl.store;
        let Some(subscriber) = subscriber.filter(|s| s.status == SubscriberStatus::Active) else {
            store.mark_skipped(row.id).await?;
            return Ok(Outcome::Skipped);
        };
        let Some(cache) = self.issue(row.issue_id).await? else {
            store.mark_skipped(row.id).await?;
            return Ok(Outcome::Skipped);
        };
        let Some(template) = self.render_for(&cache, &subscriber.sections)? else {
            store.mark_skipped(row.id).await?;
            return Ok(Outcome::Skipped);
        };
        let now = crate::domain::now_secs();
        let (manage, unsubscribe) = self.nl.manage_urls(signer, subscriber.id, now);
        let email = match Email::parse(&subscriber.email) {
            Ok(e) => e,
            Err(e) => {
                store.mark_bounced(row.id, subscriber.id, &e.to_string(), self.nl.config.newsletter.max_bounces).await?;
                return Ok(Outcome::Bounced);
            }
        };
        let links = ListLinks { unsubscribe_url: &unsubscribe, unsubscribe_mailto: &self.nl.mailer.unsubscribe_mailto };
        let personal = [(MANAGE_MARK, manage.as_str()), (UNSUB_MARK, unsubscribe.as_str())];
        let message = match self.nl.mailer.compose_bulk(&email, &template, &personal, Some(&links)) {
            Ok(m) => m,
            Err(e) => {
                // Retrying cannot fix a message that cannot be built (e.g. a site title with a
                // line break): give it up with the reason instead of leasing it forever.
                store.mark_retry(row.id, None, &format!("{e:#}")).await?;
                return Ok(Outcome::Retry(format!("{e:#}")));
            }
        };
        match self.nl.mailer.send(message).await {
            // Marked with the rest of the batch (see the module's note on crashes).
            Ok(()) => Ok(Outcome::Sent(row.id)),
            Err(SendError::Permanent(e)) => {
                store.mark_bounced(row.id, subscriber.id, &e, self.nl.config.newsletter.max_bounces).await?;
                Ok(Outcome::Bounced)
            }
            Err(SendError::Temporary(e)) => {
                let retry_at = (row.attempts < self.nl.config.newsletter.max_attempts).then(|| now + backoff_secs(row.attempts));
                store.mark_retry(row.id, retry_at, &e).await?;
                Ok(Outcome::Retry(e))
            }
        }
    }

    /// Serves the queue and the schedule until `stop` fires.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut next_schedule = Instant::now();
        let mut warned_unconfigured = false;
        loop {
            if *stop.borrow() {
                break;
            }
            if Instant::now() >= next_schedule {
                next_schedule = Instant::now() + SCHEDULE_EVERY;
                if let Err(e) = self.nl.run_schedule(chrono::Utc::now()).await {
                    tracing::error!(error = %format!("{e:#}"), "newsletter scheduler failed");
                }
            }
            let idle = if !self.nl.mailer.can_send() {
                if !warned_unconfigured {
                    warned_unconfigured = true;
                    tracing::warn!("newsletter: smtp.url is not set; issues stay queued until it is");
                }
                true
            } else {
                match self.pass().await {
                    Ok(p) => p.leased == 0,
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "newsletter delivery pass failed");
                        true
                    }
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

enum Outcome {
    /// Accepted by the server; the row is marked sent at the end of the pass.
    Sent(i64),
    Retry(String),
    Bounced,
    Skipped,
}

/// Counts one finished message; an accepted one joins the rows to be marked sent. An error
/// is the marking's (a store failure): the pass ends with it.
async fn tally(
    pass: &mut Pass,
    last_error: &mut Option<String>,
    marker: &mut SentMarker,
    done: Result<anyhow::Result<Outcome>, tokio::task::JoinError>,
) -> anyhow::Result<()> {
    match done {
        Ok(Ok(Outcome::Sent(id))) => {
            pass.sent += 1;
            marker.push(id).await?;
        }
        Ok(Ok(Outcome::Retry(e))) => {
            pass.retried += 1;
            *last_error = Some(e);
        }
        Ok(Ok(Outcome::Bounced)) => pass.bounced += 1,
        Ok(Ok(Outcome::Skipped)) => pass.skipped += 1,
        // The row keeps its lease and is taken again when it runs out.
        Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "newsletter delivery failed"),
        Err(e) => tracing::error!(error = %e, "newsletter delivery task panicked"),
    }
    Ok(())
}

/// One lease batch and its subscribers, handed from the leasing task to the sender.
struct LeasedBatch {
    rows: Vec<Leased>,
    subscribers: HashMap<i64, super::Subscriber>,
}

/// Marks accepted messages sent in groups of half a batch, one write at a time in the
/// background so the sender keeps sending while a durable database commits. Never more than
/// a batch of accepted rows is unmarked here: the group being written and the one filling
/// (when that one is full before the write ends, the sender waits for the write). A batch of
/// one is written at once.
struct SentMarker {
    store: crate::store::Store,
    group: usize,
    /// False for a batch of one: two groups of one would be two unmarked rows.
    background: bool,
    filling: Vec<i64>,
    writing: Option<tokio::task::JoinHandle<crate::store::StoreResult<()>>>,
}

impl SentMarker {
    fn new(store: crate::store::Store, batch: usize) -> SentMarker {
        let group = (batch / 2).max(1);
        SentMarker { store, group, background: batch >= 2, filling: Vec::with_capacity(group), writing: None }
    }

    async fn push(&mut self, id: i64) -> anyhow::Result<()> {
        self.filling.push(id);
        if self.filling.len() >= self.group {
            self.wait().await?;
            let ids = std::mem::replace(&mut self.filling, Vec::with_capacity(self.group));
            let store = self.store.clone();
            let write = tokio::spawn(async move { store.mark_sent_many(&ids).await });
            self.writing = Some(write);
            if !self.background {
                self.wait().await?;
            }
        }
        Ok(())
    }

    async fn wait(&mut self) -> anyhow::Result<()> {
        if let Some(writing) = self.writing.take() {
            writing.await??;
        }
        Ok(())
    }

    /// Waits for the write under way and marks the rest.
    async fn finish(mut self) -> anyhow::Result<()> {
        self.wait().await?;
        self.store.mark_sent_many(&self.filling).await?;
        Ok(())
    }
}

/// The worker running inside `serve`.
pub struct Running {
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// A switch that makes the worker start no new message, for the moment shutdown begins.
    pub fn stopper(&self) -> impl FnOnce() + Send + 'static {
        let stop = Arc::clone(&self.stop);
        move || {
            let _ = stop.send(true);
        }
    }

    /// Lets the messages being sent finish (their outcome recorded), gives back the rows
    /// leased but not started, and waits at most `grace` for all that.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("newsletter: delivery did not finish in time; unfinished messages are resent when their lease runs out");
        }
    }
}

/// Starts the worker inside `serve` unless disabled.
pub fn spawn(nl: Newsletter) -> Option<Running> {
    if !nl.config.newsletter.worker {
        return None;
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Worker::with_stop(nl, rx.clone()).run(rx));
    Some(Running { stop: Arc::new(tx), task })
}
