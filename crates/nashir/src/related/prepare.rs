//! Analysis ahead of time. An archive import hands every article it writes to a background
//! thread that computes its terms and entities while the import goes on (the import keeps
//! about one core of two busy); [`super::refresh_all_prepared`] then only checks that the
//! stored text is the one analysed. Whatever the thread has not reached is analysed there
//! as usual, so the result is the same as without it, only sooner.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use rustc_hash::FxHashMap;

use super::index::{features, Features};
use crate::domain::{ArticleDraft, Status};
use crate::entities::{self, Found};
use crate::store::related::{article_text, Source};

pub(crate) struct Analysed {
    fingerprint: u64,
    pub features: Features,
    pub found: Vec<Found>,
}

struct Shared {
    done: Mutex<FxHashMap<i64, Analysed>>,
    /// Ids at or below this one are being read already: the thread skips them.
    claimed: AtomicI64,
    stop: AtomicBool,
    /// Analyses taken by the refresh (for its log and the tests).
    reused: AtomicUsize,
}

/// Articles waiting for the thread (about 50 MB of text at news-article sizes). The import
/// writes faster than one thread analyses; the queue lets the thread go on through the
/// refresh's first reads, and past it later articles are left to the refresh instead of
/// piling up in memory. (2,000 left a quarter of the corpus to the refresh: +1.8 s.)
const QUEUE: usize = 16_384;
/// Analyses kept at most (a few KB each): beyond, the refresh analyses the rest itself.
const KEPT_MAX: usize = 200_000;

/// Analyses made ahead of time, by article id; empty by default. Dropping it stops the
/// thread.
#[derive(Default)]
pub struct Prepared {
    shared: Option<Arc<Shared>>,
    worker: Option<JoinHandle<()>>,
}

impl Prepared {
    /// Tells the thread that articles up to `id` are about to be read (their analyses are
    /// taken or made now; later ones are worth preparing still).
    pub(crate) fn claim(&self, id: i64) {
        if let Some(shared) = &self.shared {
            shared.claimed.fetch_max(id, Ordering::Relaxed);
        }
    }

    /// The analysis of `source` if it was made from exactly this title and text.
    pub(crate) fn take(&self, source: &Source) -> Option<Analysed> {
        let shared = self.shared.as_ref()?;
        let found = shared.done.lock().expect("prepared analyses poisoned").remove(&source.id);
        let usable = found.filter(|a| a.fingerprint == fingerprint(&source.title, &source.text));
        if usable.is_some() {
            shared.reused.fetch_add(1, Ordering::Relaxed);
        }
        usable
    }

    /// Stops the thread at its next article (the refresh has read everything).
    pub(crate) fn stop(&self) {
        if let Some(shared) = &self.shared {
            shared.stop.store(true, Ordering::Relaxed);
        }
    }

    /// How many analyses the refresh took from here.
    pub fn reused(&self) -> usize {
        self.shared.as_ref().map_or(0, |s| s.reused.load(Ordering::Relaxed))
    }

    /// Waits until the thread has worked through its queue (it must be closed: see
    /// [`Analyser::finish`]). For tests, which need a known state.
    #[doc(hidden)]
    pub fn join_idle(&mut self) {
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        self.stop();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn fingerprint(title: &str, text: &str) -> u64 {
    // SipHash with fixed keys: the same text gives the same value within the process.
    let mut h = std::hash::DefaultHasher::new();
    title.hash(&mut h);
    text.hash(&mut h);
    h.finish()
}

struct Job {
    id: i64,
    title: String,
    text: String,
}

/// The background thread and its queue.
pub struct Analyser {
    queue: Option<mpsc::SyncSender<Job>>,
    prepared: Prepared,
}

impl Analyser {
    pub fn start() -> Analyser {
        let (queue, jobs) = mpsc::sync_channel::<Job>(QUEUE);
        let shared = Arc::new(Shared {
            done: Mutex::default(),
            claimed: AtomicI64::new(i64::MIN),
            stop: AtomicBool::new(false),
            reused: AtomicUsize::new(0),
        });
        let state = shared.clone();
        let worker = std::thread::Builder::new().name("related-analyser".into()).spawn(move || {
            for job in jobs {
                if state.stop.load(Ordering::Relaxed) {
                    break;
                }
                if job.id <= state.claimed.load(Ordering::Relaxed) {
                    continue;
                }
                let analysed = Analysed {
                    fingerprint: fingerprint(&job.title, &job.text),
                    features: features(&job.title, &job.text),
                    found: entities::extract(&job.title, &job.text),
                };
                let mut done = state.done.lock().expect("prepared analyses poisoned");
                if done.len() >= KEPT_MAX {
                    break;
                }
                done.insert(job.id, analysed);
            }
        });
        let worker = match worker {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "related: no analyser thread; the refresh analyses every article itself");
                None
            }
        };
        Analyser { queue: worker.as_ref().map(|_| queue), prepared: Prepared { shared: Some(shared), worker } }
    }

    /// Queues an article just written with id `id` (drafts that are not published are
    /// skipped: the related index holds published articles only).
    pub fn add(&self, id: i64, draft: &ArticleDraft) {
        if draft.status != Status::Published {
            return;
        }
        if let Some(queue) = &self.queue {
            let job = Job { id, title: draft.headline.as_str().to_string(), text: article_text(&draft.lead, &draft.body) };
            // Full queue or no thread: the refresh analyses this article itself.
            let _ = queue.try_send(job);
        }
    }

    /// No more articles: the thread works through its queue while the caller goes on to
    /// [`super::refresh_all_prepared`].
    pub fn finish(mut self) -> Prepared {
        self.queue = None;
        std::mem::take(&mut self.prepared)
    }
}

impl Drop for Analyser {
    fn drop(&mut self) {
        // Close the queue before `prepared` joins the thread, whatever the field order.
        self.queue = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Block, Headline};

    fn draft(title: &str, text: &str) -> ArticleDraft {
        let mut d = ArticleDraft::new(Headline::parse(title).unwrap());
        d.body = vec![Block::paragraph(text)];
        d.status = Status::Published;
        d
    }

    fn source(id: i64, d: &ArticleDraft) -> Source {
        Source { id, title: d.headline.as_str().to_string(), text: article_text(&d.lead, &d.body), section: None, published_at: None }
    }

    #[test]
    fn analyses_are_used_only_for_the_text_they_were_made_from() {
        let analyser = Analyser::start();
        let same = draft("الرئيس الروسي فلاديمير بوتين يزور أنقرة", "التقى الرئيس الروسي فلاديمير بوتين نظيره التركي في أنقرة.");
        let changed = draft("وزير الخارجية يصل إلى موسكو", "وصل وزير الخارجية إلى موسكو صباح اليوم.");
        let mut unpublished = draft("مسودة لم تنشر", "نص المسودة.");
        unpublished.status = Status::Draft;
        analyser.add(1, &same);
        analyser.add(2, &changed);
        analyser.add(3, &unpublished);
        let mut prepared = analyser.finish();
        prepared.join_idle();
        assert_eq!(prepared.shared.as_ref().unwrap().done.lock().unwrap().len(), 2, "the unpublished draft is not analysed");

        let a = prepared.take(&source(1, &same)).expect("analysed ahead");
        assert_eq!(a.features.terms, features(&source(1, &same).title, &source(1, &same).text).terms);
        assert!(a.found.iter().any(|e| e.name.contains("بوتين")), "{:?}", a.found);
        // Edited after the import: the stored text differs, so the analysis is not used.
        let edited = draft("وزير الخارجية يصل إلى موسكو", "وصل وزير الخارجية إلى موسكو مساء اليوم.");
        assert!(prepared.take(&source(2, &edited)).is_none());
        assert!(prepared.take(&source(3, &unpublished)).is_none());
        assert_eq!(prepared.reused(), 1);
    }

    #[test]
    fn claimed_articles_are_left_to_the_refresh() {
        let analyser = Analyser::start();
        analyser.prepared.claim(10);
        let a = draft("الرئيس الروسي فلاديمير بوتين يزور أنقرة", "التقى الرئيس الروسي فلاديمير بوتين نظيره التركي في أنقرة.");
        analyser.add(9, &a);
        analyser.add(11, &a);
        let mut prepared = analyser.finish();
        prepared.join_idle();
        assert!(prepared.take(&source(9, &a)).is_none(), "read already: not analysed twice");
        assert!(prepared.take(&source(11, &a)).is_some());
    }
}
