//! Keeps one in-memory [`RelatedIndex`] per database in step with the store's change log, and
//! writes what it computes. Several processes (the server, an import) may write the same
//! database: each follows the `changes` table, so each index sees the others' articles.

use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::Mutex;

use super::index::{features, parallel_map, Doc, Features, Params, RelatedIndex};
use super::prepare::Prepared;
use crate::entities;
use crate::store::related::{self as db, Computed, Source};
use crate::store::{ChangeKind, Store, StoreResult};

/// Suggestions stored per article: a few more than shown, so a removal leaves enough.
pub const STORED: usize = 8;

struct Engine {
    index: RelatedIndex,
    /// Entities of the articles applied since the last refresh, until it writes them. Not kept
    /// for the whole archive: a full pass hands its extractions straight to the write (keeping
    /// them here too held every article's entities twice at the pass's peak), and a later
    /// refresh of an article not rewritten keeps its stored entities (`related_only`).
    found: rustc_hash::FxHashMap<i64, Vec<entities::Found>>,
    /// Newest change applied; None until the index is built.
    seq: Option<i64>,
}

type Shared = Arc<Mutex<Engine>>;

static ENGINES: StdMutex<Vec<(String, Shared)>> = StdMutex::new(Vec::new());

async fn engine_for(store: &Store) -> StoreResult<Shared> {
    let id = db::database_identity(store).await?;
    let mut engines = ENGINES.lock().expect("engine registry poisoned");
    if let Some((_, e)) = engines.iter().find(|(k, _)| *k == id) {
        return Ok(e.clone());
    }
    // Tests open many short-lived databases; keep the registry small.
    if engines.len() >= 16 {
        engines.remove(0);
    }
    let e = Arc::new(Mutex::new(Engine { index: RelatedIndex::new(Params::default()), found: Default::default(), seq: None }));
    engines.push((id, e.clone()));
    Ok(e)
}

/// Archives up to this many articles keep their index in memory between refreshes (about
/// 6 KB an article); the follower recomputes larger ones with the whole-archive pass
/// (`related::stream`), whose memory does not grow with the archive.
pub(super) const RESIDENT_MAX: usize = 2_000;

/// Drops the in-memory index of this database when the archive is large (see
/// [`RESIDENT_MAX`]) and returns the freed memory to the operating system.
pub async fn release_if_large(store: &Store) -> StoreResult<()> {
    let id = db::database_identity(store).await?;
    let dropped = {
        let mut engines = ENGINES.lock().expect("engine registry poisoned");
        let large = engines.iter().position(|(k, e)| *k == id && e.try_lock().is_ok_and(|e| e.index.len() > RESIDENT_MAX));
        large.map(|at| engines.remove(at))
    };
    if dropped.is_some() {
        drop(dropped);
        give_back_memory();
    }
    Ok(())
}

/// How freed memory goes back to the operating system after a big pass (allocators keep it
/// for reuse, so RSS would stay high). The binary chooses the allocator, so the binary says
/// how: it installs this hook at start (`main.rs`); the library calls no allocator itself,
/// and without a hook (tests, examples) nothing is released.
static MEMORY_RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Installs the hook that returns freed memory to the OS (see [`MEMORY_RELEASE`]); the first
/// call wins.
pub fn set_memory_release_hook(release: fn()) {
    let _ = MEMORY_RELEASE.set(release);
}

fn give_back_memory() {
    if let Some(release) = MEMORY_RELEASE.get() {
        release();
    }
}

/// Runs computation that takes seconds on a big archive (analysis, reweighting, scoring)
/// without stalling the runtime: on a multi-threaded runtime the worker hands its other tasks
/// on meanwhile. Only synchronous work goes here; awaiting inside a blocked worker is what
/// once left a shutting-down runtime waiting forever for a database reply.
fn cpu_bound<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

fn doc_of(source: &Source, found: &[entities::Found]) -> Doc {
    doc_with(source, features(&source.title, &source.text), found)
}

fn doc_with(source: &Source, f: Features, found: &[entities::Found]) -> Doc {
    Doc {
        id: source.id,
        terms: f.terms,
        signature: f.signature,
        // Shared people and organisations say two stories are related; shared places mostly
        // say they were filed from the same city (datelines), which on the corpus harness
        // pulled sport and economy stories together (P@5 0.849 → 0.833 with places).
        entities: found.iter().filter(|e| e.kind != entities::Kind::Place).map(|e| e.key.clone()).collect(),
        section: source.section.clone(),
        published_at: source.published_at,
    }
}

/// Builds the index from every published article.
async fn build(engine: &mut Engine, store: &Store, prepared: &Prepared) -> StoreResult<Vec<(i64, Option<i64>, Vec<entities::Found>)>> {
    let seq = store.last_change_seq().await?;
    engine.index = RelatedIndex::new(Params::default());
    engine.found.clear();
    let mut out = Vec::new();
    let mut after = 0;
    let (mut reading, mut analysing) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    loop {
        let t = std::time::Instant::now();
        let batch = db::published_sources(store, after, 1000).await?;
        reading += t.elapsed();
        let t = std::time::Instant::now();
        let Some(last) = batch.last() else { break };
        after = last.id;
        prepared.claim(after);
        // Analysis and extraction are the costly, independent part: made ahead of time by an
        // import's analyser, or spread over the cores here. (Overlapping them with the next
        // read measured no faster on two busy cores.)
        cpu_bound(|| {
            let ready: Vec<Option<(Features, Vec<entities::Found>)>> =
                batch.iter().map(|source| prepared.take(source).map(|a| (a.features, a.found))).collect();
            let todo: Vec<&Source> = batch.iter().zip(&ready).filter(|(_, r)| r.is_none()).map(|(s, _)| s).collect();
            let mut fresh =
                parallel_map(&todo, |source| (features(&source.title, &source.text), entities::extract(&source.title, &source.text)))
                    .into_iter();
            let analysed = ready.into_iter().map(|r| r.unwrap_or_else(|| fresh.next().expect("one analysis per article")));
            for (source, (f, found)) in batch.iter().zip(analysed) {
                let dup = engine.index.upsert(doc_with(source, f, &found));
                out.push((source.id, dup, found));
            }
        });
        analysing += t.elapsed();
    }
    let t = std::time::Instant::now();
    cpu_bound(|| engine.index.reweight());
    tracing::info!(
        articles = out.len(),
        analysed_ahead = prepared.reused(),
        read_s = reading.as_secs_f64(),
        analyse_and_index_s = analysing.as_secs_f64(),
        reweight_s = t.elapsed().as_secs_f64(),
        "related: index built"
    );
    engine.seq = Some(seq);
    Ok(out)
}

/// Applies changes written since the index was last in step. Returns the articles changed.
async fn catch_up(engine: &mut Engine, store: &Store) -> StoreResult<Vec<i64>> {
    let Some(mut seq) = engine.seq else {
        // The refresh that follows writes the entities of the articles it was asked about.
        for (id, _, found) in build(engine, store, &Prepared::default()).await? {
            engine.found.insert(id, found);
        }
        return Ok(Vec::new());
    };
    let mut changed = Vec::new();
    loop {
        let changes = store.changes_since(seq, 1000).await?;
        let Some(last) = changes.last() else { break };
        seq = last.seq;
        for change in changes.iter().filter(|c| c.kind == ChangeKind::Content) {
            if !changed.contains(&change.article_id) {
                changed.push(change.article_id);
            }
        }
    }
    for &id in &changed {
        apply(engine, store, id).await?;
    }
    if engine.index.needs_reweight() {
        cpu_bound(|| engine.index.reweight());
    }
    engine.seq = Some(seq);
    Ok(changed)
}

/// Re-reads one article into the index (or out of it, when it is not published).
async fn apply(engine: &mut Engine, store: &Store, id: i64) -> StoreResult<()> {
    match db::published_source(store, id).await? {
        Some(source) => {
            let found = entities::extract(&source.title, &source.text);
            engine.index.upsert(doc_of(&source, &found));
            engine.found.insert(id, found);
        }
        None => {
            engine.index.remove(id);
            engine.found.remove(&id);
        }
    }
    Ok(())
}

fn compute(index: &RelatedIndex, article_id: i64, removed: &[i64], pinned: &[i64], found: Vec<entities::Found>) -> Computed {
    let mut exclude = removed.to_vec();
    exclude.extend_from_slice(pinned);
    let related = index.related(article_id, STORED, &exclude).into_iter().map(|s| (s.id, s.score)).collect();
    Computed { article_id, related, duplicate_of: index.duplicate_of(article_id), entities: found, related_only: false }
}

/// Recomputes an article's suggestions, duplicate link and entities after it was written
/// (call it after `Store::upsert_article`). Its closest neighbours' suggestions are refreshed
/// too, so a new article appears under older ones.
pub async fn refresh(store: &Store, article_id: i64) -> StoreResult<()> {
    refresh_many(store, &[article_id]).await
}

/// [`refresh`] for a batch (an import run): one catch-up, one write transaction.
pub async fn refresh_many(store: &Store, ids: &[i64]) -> StoreResult<()> {
    let shared = engine_for(store).await?;
    let mut engine = shared.lock().await;
    let changed = catch_up(&mut engine, store).await?;
    let mut batch = Vec::new();
    let mut neighbours: Vec<i64> = Vec::new();
    for &id in ids {
        if !changed.contains(&id) && !engine.index.contains(id) {
            // Written outside the change log, or by a process we have not heard of yet.
            apply(&mut engine, store, id).await?;
        }
        if !engine.index.contains(id) {
            db::clear(store, id).await?;
            continue;
        }
        let (pinned, removed) = db::editor_choices(store, id).await?;
        let found = engine.found.remove(&id);
        let rewritten = found.is_some();
        let mut c = compute(&engine.index, id, &removed, &pinned, found.unwrap_or_default());
        // Not re-read (an editor's pin, say): its stored entities and duplicate link stand.
        c.related_only = !rewritten;
        neighbours.extend(c.related.iter().take(5).map(|r| r.0).filter(|n| !ids.contains(n)));
        batch.push(c);
    }
    neighbours.sort_unstable();
    neighbours.dedup();
    for n in neighbours {
        let (pinned, removed) = db::editor_choices(store, n).await?;
        let mut c = compute(&engine.index, n, &removed, &pinned, Vec::new());
        c.related_only = true;
        batch.push(c);
    }
    engine.found.clear();
    db::write(store, &batch).await
}

/// Rebuilds everything from the store: the index, every published article's suggestions,
/// duplicates and entities. Used by reindex and after bulk imports. Returns the article count.
pub async fn refresh_all(store: &Store) -> StoreResult<usize> {
    refresh_all_prepared(store, &Prepared::default()).await
}

/// [`refresh_all`] with analyses an import made ahead of time (see [`super::Analyser`]).
///
/// Streams the archive through temporary files (`related::stream`), so its memory does not
/// grow with the archive; the in-memory index of this database is dropped (a later
/// [`refresh`] builds it again if it needs it).
pub async fn refresh_all_prepared(store: &Store, prepared: &Prepared) -> StoreResult<usize> {
    let shared = engine_for(store).await?;
    let mut engine = shared.lock().await;
    engine.index = RelatedIndex::new(Params::default());
    engine.found.clear();
    engine.seq = None;
    give_back_memory();
    let (count, covered) = super::stream::full_pass(store, prepared, &Params::default()).await?;
    // Everything logged up to `covered` is done: a server started after this import or
    // reindex must not recompute the whole archive again (its follower starts from here).
    store.cover_job(super::follower::JOB, covered).await?;
    give_back_memory();
    Ok(count)
}
