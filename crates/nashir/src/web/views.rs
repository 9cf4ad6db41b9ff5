//! «الأكثر قراءة»: views counted in memory on the request path (cached hits included), added
//! to the database in batches by a supervised task, and read back as the 24-hour and 7-day
//! lists that every node shows (each node's counts reach the others through the database).
//!
//! A hit costs one thread-local read, one uncontended mutex and one hash-map increment: the
//! counters are sharded by thread, and a map keeps its capacity across flushes, so a view of
//! an article already seen since start-up allocates nothing.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::http::{header, HeaderMap};

use crate::store::{ArticleSummary, Store};

const SHARDS: usize = 16;

/// Views not yet written to the database, by article id.
pub struct ViewCounter {
    shards: [Mutex<HashMap<i64, u64>>; SHARDS],
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Each worker thread takes its own shard, so two threads rarely share a lock.
    static SHARD: Cell<usize> = Cell::new(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
}

impl Default for ViewCounter {
    fn default() -> Self {
        ViewCounter { shards: std::array::from_fn(|_| Mutex::new(HashMap::new())) }
    }
}

impl ViewCounter {
    /// Counts one view of `article_id`.
    pub fn hit(&self, article_id: i64) {
        let shard = SHARD.with(Cell::get);
        let mut counts = match self.shards[shard].lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        };
        *counts.entry(article_id).or_insert(0) += 1;
    }

    /// Takes every count so far, leaving the counters at zero (and their maps allocated).
    pub fn take(&self) -> Vec<(i64, u64)> {
        let mut total: HashMap<i64, u64> = HashMap::new();
        for shard in &self.shards {
            let mut counts = match shard.lock() {
                Ok(counts) => counts,
                Err(poisoned) => poisoned.into_inner(),
            };
            for (id, n) in counts.drain() {
                *total.entry(id).or_insert(0) += n;
            }
        }
        total.into_iter().collect()
    }

    /// Puts counts back after a failed write, so a database hiccup loses no views.
    fn put_back(&self, counts: &[(i64, u64)]) {
        for &(id, n) in counts {
            let mut shard = match self.shards[0].lock() {
                Ok(shard) => shard,
                Err(poisoned) => poisoned.into_inner(),
            };
            *shard.entry(id).or_insert(0) += n;
        }
    }
}

/// Marks of crawlers, link previewers, audits and scripts in a `User-Agent`.
const BOT_MARKS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "preview",
    "lighthouse",
    "headless",
    "monitor",
    "curl/",
    "wget",
    "python-",
    "go-http-client",
    "okhttp",
    "java/",
];

/// The marks as one SIMD multi-pattern searcher (Teddy), each in lower, Capitalised and UPPER
/// case: user agents write them so (`Googlebot`, `AhrefsBot`, `HeadlessChrome`). A naive
/// case-insensitive scan cost 35,000 instructions for a Chrome user agent, more than a whole
/// cached hit; this costs about 250 (see BENCHMARKS.md). `None` on a CPU without the SIMD it
/// needs, where [`BOT_FALLBACK`] answers.
static BOT_SEARCHER: std::sync::LazyLock<Option<aho_corasick::packed::Searcher>> = std::sync::LazyLock::new(|| {
    let mut builder = aho_corasick::packed::Config::new().builder();
    for mark in BOT_MARKS {
        let mut capitalised = mark.to_string();
        capitalised[..1].make_ascii_uppercase();
        builder.add(mark);
        builder.add(capitalised);
        builder.add(mark.to_ascii_uppercase());
    }
    builder.build()
});

static BOT_FALLBACK: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(BOT_MARKS).ok());

/// Whether a request comes from a crawler, a link previewer or a script, by its `User-Agent`.
/// A request without one is counted: some privacy tools strip it.
pub fn is_bot(headers: &HeaderMap) -> bool {
    let Some(agent) = headers.get(header::USER_AGENT) else { return false };
    let agent = agent.as_bytes();
    match BOT_SEARCHER.as_ref() {
        Some(searcher) => searcher.find(agent).is_some(),
        None => BOT_FALLBACK.as_ref().is_some_and(|ac| ac.is_match(agent)),
    }
}

/// The lists as last read from the database; pages read these, never the database.
#[derive(Default)]
pub struct MostRead {
    lists: RwLock<Arc<MostReadLists>>,
}

/// The ids in order (what decides whether pages change: counts alone do not re-render them) and the articles to show.
#[derive(Default)]
pub struct MostReadLists {
    pub day: Vec<i64>,
    pub week: Vec<i64>,
    pub day_articles: Vec<ArticleSummary>,
    pub week_articles: Vec<ArticleSummary>,
}

impl MostRead {
    pub fn get(&self) -> Arc<MostReadLists> {
        match self.lists.read() {
            Ok(lists) => Arc::clone(&lists),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the lists; returns whether what pages show changed.
    fn set(&self, lists: MostReadLists) -> bool {
        let mut current = match self.lists.write() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        let changed = current.day != lists.day || current.week != lists.week;
        if changed {
            *current = Arc::new(lists);
        }
        changed
    }
}

/// How many articles a list holds.
pub const LIST_LENGTH: i64 = 5;

/// Reads both lists from the database.
async fn read_lists(store: &Store) -> crate::store::StoreResult<MostReadLists> {
    let hour = crate::domain::now_secs() / 3600;
    let day = store.most_read(hour - 23, LIST_LENGTH).await?;
    let week = store.most_read(hour - 24 * 7 + 1, LIST_LENGTH).await?;
    Ok(MostReadLists {
        day: day.iter().map(|(a, _)| a.id).collect(),
        week: week.iter().map(|(a, _)| a.id).collect(),
        day_articles: day.into_iter().map(|(a, _)| a).collect(),
        week_articles: week.into_iter().map(|(a, _)| a).collect(),
    })
}

/// The supervised loop: every `every`, writes the counted views as one batch and re-reads the
/// lists (which include other nodes' views); the home page picks them up when its cached copy
/// expires.
/// At shutdown the last counts are written before the task ends.
pub async fn run(store: Store, counter: Arc<ViewCounter>, lists: Arc<MostRead>, every: Duration, stop: crate::tasks::StopToken) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = ticks.tick() => false,
            _ = stop.cancelled() => true,
        };
        flush(&store, &counter).await;
        if stopping {
            return;
        }
        match read_lists(&store).await {
            // No epoch bump when the lists change: that would drop every cached page of the
            // site; the home page, the one page showing them, expires by itself (`FreshFor`).
            Ok(read) => {
                lists.set(read);
            }
            Err(e) => tracing::warn!(error = %e, "most read: cannot read the lists"),
        }
    }
}

async fn flush(store: &Store, counter: &ViewCounter) {
    let counts = counter.take();
    if counts.is_empty() {
        return;
    }
    let hour = crate::domain::now_secs() / 3600;
    if let Err(e) = store.add_views(hour, &counts).await {
        tracing::warn!(error = %e, articles = counts.len(), "most read: cannot write views; kept for the next batch");
        counter.put_back(&counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_once_and_summed_across_threads() {
        let counter = Arc::new(ViewCounter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        counter.hit(7);
                    }
                    counter.hit(9);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut taken = counter.take();
        taken.sort();
        assert_eq!(taken, vec![(7, 400), (9, 4)]);
        assert!(counter.take().is_empty());
    }

    #[test]
    fn bots_are_known_by_their_user_agent() {
        let with = |ua: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::USER_AGENT, ua.parse().unwrap());
            is_bot(&h)
        };
        assert!(with("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"));
        assert!(with("facebookexternalhit/1.1"));
        assert!(with("Mozilla/5.0 (compatible; AhrefsBot/7.0)"));
        assert!(with("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"));
        assert!(with("python-requests/2.31"));
        assert!(!with("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"));
        assert!(!is_bot(&HeaderMap::new()));
    }
}
