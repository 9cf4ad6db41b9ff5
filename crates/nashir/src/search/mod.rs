//! Full-text search over published articles: a tantivy index in the data dir, derived from
//! the store by following its change log, so it can always be thrown away and rebuilt.

mod directory;
pub mod query;
mod snippet;
mod tokenizers;

use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::document::Document;
use tantivy::schema::{Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STRING};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use query::ParsedQuery;
pub use snippet::Highlighter;

use crate::domain::{Article, Status};
use crate::store::{ChangeKind, Store};

/// Bump when the schema or the analyser changes: an index of another version is rebuilt.
const SCHEMA_VERSION: u32 = 4;
/// The index writer's memory budget: tantivy's floor for one thread. A first start builds the
/// whole index with it (more segments than a bigger budget, merged into one at the end), and
/// it was a good part of that start's peak RSS at 32 MB.
const WRITER_HEAP_BYTES: usize = 15 * 1024 * 1024;
pub const MAX_QUERY_CHARS: usize = 500;
/// Segments one merge step of a rebuild takes at most (see [`merge_in_steps`]).
const MERGE_FAN_IN: usize = 64;
/// Documents a rebuild may have handed to the index writer that it has not indexed yet.
/// tantivy's queue takes up to 10,000, and a rebuild reads articles faster than one indexing
/// thread indexes them: on the 20,000-article corpus that queue held about 90 MB of article
/// text (each text twice, exact and stemmed), the largest part of `nashir import`'s peak.
pub const REBUILD_QUEUED_DOCUMENTS: usize = 256;

/// A document on its way to the index writer. The writer drops it once it is indexed, and
/// with it the rebuild's `slot`, which lets the rebuild hand over the next one.
struct QueuedDocument {
    document: TantivyDocument,
    _slot: Option<RebuildSlot>,
}

/// A rebuild's place in the writer's queue, held by a document until the writer drops it.
struct RebuildSlot {
    _permit: OwnedSemaphorePermit,
    /// Documents of the rebuild not yet indexed, counted apart from the permits.
    queued: Arc<AtomicUsize>,
}

impl Drop for RebuildSlot {
    fn drop(&mut self) {
        self.queued.fetch_sub(1, Ordering::SeqCst);
    }
}

impl QueuedDocument {
    fn unthrottled(document: TantivyDocument) -> Self {
        QueuedDocument { document, _slot: None }
    }
}

impl Document for QueuedDocument {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.document.iter_fields_and_values()
    }
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title_n: Field,
    title_s: Field,
    lead_n: Field,
    lead_s: Field,
    body_n: Field,
    body_s: Field,
    section: Field,
    published_at: Field,
}

/// Per-field weights: headline words count most, and an exact (normalized) match always
/// outweighs a stem-only match in the same field.
const WEIGHTS: Weights =
    Weights { title_n: 5.0, title_s: 2.5, lead_n: 2.0, lead_s: 1.0, body_n: 1.2, body_s: 0.6, title_all: 8.0, title_phrase: 6.0 };

struct Weights {
    title_n: f32,
    title_s: f32,
    lead_n: f32,
    lead_s: f32,
    body_n: f32,
    body_s: f32,
    /// Every query word in the headline.
    title_all: f32,
    /// The query words in the headline in the order typed (within two words).
    title_phrase: f32,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, positions: bool| {
        let record = if positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
        TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record))
    };
    let fields = Fields {
        // Nothing is stored: a hit's id comes from its fast field, the rest from the store.
        id: b.add_u64_field("id", INDEXED | FAST),
        title_n: b.add_text_field("title_n", text(tokenizers::NORMALIZED, true)),
        title_s: b.add_text_field("title_s", text(tokenizers::STEMMED, true)),
        lead_n: b.add_text_field("lead_n", text(tokenizers::NORMALIZED, true)),
        lead_s: b.add_text_field("lead_s", text(tokenizers::STEMMED, false)),
        body_n: b.add_text_field("body_n", text(tokenizers::NORMALIZED, true)),
        body_s: b.add_text_field("body_s", text(tokenizers::STEMMED, false)),
        section: b.add_text_field("section", STRING),
        published_at: b.add_i64_field("published_at", NumericOptions::default().set_indexed().set_fast()),
    };
    (b.build(), fields)
}

#[derive(Serialize, Deserialize)]
struct CommitPayload {
    schema: u32,
    seq: i64,
}

/// Changes an index may lag behind and still catch up by replaying the log.
const REBUILD_WHEN_BEHIND: i64 = 20_000;

pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter<QueuedDocument>>,
    /// Places in the index writer's queue for a rebuild (see [`REBUILD_QUEUED_DOCUMENTS`]).
    rebuild_slots: Arc<Semaphore>,
    /// Documents the running rebuild handed to the writer that it has not indexed yet, and
    /// the most there were during the last rebuild (see [`SearchIndex::most_queued_in_rebuild`]).
    rebuild_queued: Arc<AtomicUsize>,
    rebuild_most_queued: AtomicUsize,
    /// Set while a rebuild runs: the files its merges open are read through windows (see
    /// `directory`); searches open the rebuilt index's files with it cleared.
    rebuilding: Arc<AtomicBool>,
    fields: Fields,
    /// The store's change sequence number the index reflects.
    seq: AtomicI64,
    dir: PathBuf,
    /// A rebuild from the store is due or under way: searches are refused (the index is
    /// empty or stale) and the change-log catch-up waits, since its commit would publish the
    /// half-written rebuild. Set by whoever decides a rebuild is due (`web::Application::build`),
    /// cleared by the rebuild when it ends, however it ends.
    building: AtomicBool,
}

/// Merges a rebuild's segments into one, at most [`MERGE_FAN_IN`] at a time: the 1,000,000
/// articles of the cost curve were written as ~1,900 segments (the writer's small memory
/// budget), and one merge of them all opened every segment at once — 11,000 mapped files
/// and 1.9 GB of term dictionaries and postings in the import's RSS. In steps, a merge opens
/// at most 64 segments, and each step's segments are deleted before the next one starts
/// (1,900 → 30 → 1: the data is written twice instead of once, and still faster: at
/// 1,000,000 articles the build took 453 s instead of 818, the import's peak 216 MB).
fn merge_in_steps(writer: &mut IndexWriter<QueuedDocument>, stop: &tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
    loop {
        let segments = writer.index().searchable_segment_ids()?;
        if segments.len() <= 1 {
            return Ok(());
        }
        for group in segments.chunks(MERGE_FAN_IN) {
            if stop.is_cancelled() {
                return Ok(());
            }
            if group.len() > 1 {
                writer.merge(group).wait()?;
            }
        }
    }
}

/// Ends a rebuild however it ends (finished, failed, given up, its future dropped): an
/// uncommitted rebuild is rolled back to the last commit, merges are allowed again, and
/// the index no longer says it is building, so searches and the catch-up resume.
struct BuildGuard {
    index: Arc<SearchIndex>,
    committed: bool,
}

impl Drop for BuildGuard {
    fn drop(&mut self) {
        if !self.committed {
            // A poisoned lock means a panic mid-write; the next start rebuilds anyway.
            if let Ok(mut writer) = self.index.writer.lock() {
                if let Err(e) = writer.rollback() {
                    tracing::warn!(error = %e, "search index: rolling back an unfinished rebuild failed");
                }
                writer.set_merge_policy(Box::new(LogMergePolicy::default()));
            }
        }
        self.index.rebuilding.store(false, Ordering::SeqCst);
        self.index.building.store(false, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: ParsedQuery,
    pub section: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Hit {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub headline_html: String,
    pub section: Option<String>,
    pub section_name: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub snippet: String,
    pub score: f32,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
}

impl SearchIndex {
    /// Opens the index in `dir`, or creates it. An index that cannot be opened or was built
    /// by another schema version is thrown away (it is derived data) and rebuilt by the
    /// caller from the store: `needs_rebuild` says so.
    pub fn open(dir: &Path) -> anyhow::Result<(SearchIndex, bool)> {
        let (schema, fields) = schema();
        let opened = if dir.join("meta.json").exists() {
            match directory::IndexDirectory::open(dir).map_err(anyhow::Error::from).and_then(|directory| {
                let rebuilding = directory.rebuilding();
                let index = Index::open(directory)?;
                let payload = index.load_metas()?.payload.unwrap_or_default();
                let payload: CommitPayload = serde_json::from_str(&payload).unwrap_or(CommitPayload { schema: 0, seq: 0 });
                anyhow::ensure!(payload.schema == SCHEMA_VERSION, "index schema {} is not {SCHEMA_VERSION}", payload.schema);
                anyhow::ensure!(index.schema() == schema, "index fields differ");
                Ok((index, payload.seq, rebuilding))
            }) {
                Ok(found) => Some(found),
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %format!("{e:#}"), "search index unusable; rebuilding it from the store");
                    None
                }
            }
        } else {
            None
        };
        let (index, seq, rebuilding, fresh) = match opened {
            Some((index, seq, rebuilding)) => (index, seq, rebuilding, false),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
                }
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                let directory = directory::IndexDirectory::open(dir)?;
                let rebuilding = directory.rebuilding();
                (Index::create(directory, schema, tantivy::IndexSettings::default())?, 0, rebuilding, true)
            }
        };
        index.tokenizers().register(tokenizers::NORMALIZED, tokenizers::NormalizedTokenizer::default());
        index.tokenizers().register(tokenizers::STEMMED, tokenizers::StemmedTokenizer::default());
        let writer = index.writer_with_num_threads(1, WRITER_HEAP_BYTES).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => {
                anyhow::anyhow!("the search index in {} is in use by another nashir process", dir.display())
            }
            other => other.into(),
        })?;
        // Nothing is stored in the documents (see `schema`): no doc-store block to cache.
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).doc_store_cache_num_blocks(0).try_into()?;
        let index = SearchIndex {
            reader,
            writer: Mutex::new(writer),
            rebuild_slots: Arc::new(Semaphore::new(REBUILD_QUEUED_DOCUMENTS)),
            rebuild_queued: Arc::new(AtomicUsize::new(0)),
            rebuild_most_queued: AtomicUsize::new(0),
            rebuilding,
            fields,
            seq: AtomicI64::new(seq),
            dir: dir.to_path_buf(),
            building: AtomicBool::new(false),
        };
        Ok((index, fresh))
    }

    pub fn seq(&self) -> i64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Whether this index should be rebuilt from the store rather than follow its change log
    /// up to `last_seq` (the store's): it is new (`fresh`, from [`SearchIndex::open`]), ahead
    /// of the store (the database was restored or swapped under it), or so far behind that
    /// one pass over the articles is faster than replaying the log.
    pub fn rebuild_due(&self, fresh: bool, last_seq: i64) -> bool {
        fresh || self.seq() > last_seq || last_seq - self.seq() > REBUILD_WHEN_BEHIND
    }

    /// Says a rebuild from the store is due: until it has run (see [`SearchIndex::rebuild`]),
    /// [`SearchIndex::is_building`] is true and [`SearchIndex::catch_up`] does nothing.
    pub fn mark_building(&self) {
        self.building.store(true, Ordering::SeqCst);
    }

    /// Whether a rebuild is due or under way: searches would miss articles.
    pub fn is_building(&self) -> bool {
        self.building.load(Ordering::SeqCst)
    }

    /// The most documents the last rebuild had handed to the index writer and the writer had
    /// not yet indexed: at most [`REBUILD_QUEUED_DOCUMENTS`], whatever the archive's size.
    pub fn most_queued_in_rebuild(&self) -> usize {
        self.rebuild_most_queued.load(Ordering::SeqCst)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn document(&self, article: &Article) -> TantivyDocument {
        let f = &self.fields;
        let body: String = article.body.iter().map(|b| b.text()).collect::<Vec<_>>().join("\n");
        let mut document = doc!(
            f.id => article.id as u64,
            f.title_n => article.headline.as_str(),
            f.title_s => article.headline.as_str(),
            f.lead_n => article.lead.as_str(),
            f.lead_s => article.lead.as_str(),
            f.body_n => body.as_str(),
            f.body_s => body.as_str(),
            f.published_at => article.published_at.map(|t| t.timestamp()).unwrap_or(0),
        );
        if let Some(section) = &article.section {
            document.add_text(f.section, &section.slug);
        }
        document
    }

    /// Applies the changes the store logged since the index's sequence number. Safe to call
    /// concurrently: one writer at a time. Does nothing while a rebuild is due or under way
    /// (the rebuild's sequence number covers what it read; the rest is caught up after).
    pub async fn catch_up(self: &Arc<Self>, store: &Store) -> anyhow::Result<usize> {
        let mut applied = 0;
        loop {
            if self.is_building() {
                break;
            }
            let changes = store.changes_since(self.seq(), 1000).await?;
            let Some(last_seq) = changes.last().map(|c| c.seq) else { break };
            // Derived and site-wide changes leave the documents as they are, but still count:
            // the caller refreshes pages on any change.
            applied += changes.len();
            let ids: BTreeSet<i64> = changes.iter().filter(|c| c.kind == ChangeKind::Content).map(|c| c.article_id).collect();
            let mut documents = Vec::with_capacity(ids.len());
            for &id in &ids {
                let article = store.article_by_id(id).await?;
                documents.push((id, article.filter(|a| a.status == Status::Published).map(|a| self.document(&a))));
            }
            let this = Arc::clone(self);
            tokio::task::spawn_blocking(move || this.write(documents, last_seq)).await??;
        }
        Ok(applied)
    }

    /// Replaces the given articles' documents (None deletes) and commits at `seq`.
    fn write(&self, documents: Vec<(i64, Option<TantivyDocument>)>, seq: i64) -> anyhow::Result<()> {
        let mut writer = self.writer.lock().map_err(|_| anyhow::anyhow!("search writer poisoned"))?;
        if seq <= self.seq() || self.is_building() {
            // Another caller got here first, or a rebuild began since these were read: its
            // documents are not to be committed half-written.
            return Ok(());
        }
        if documents.is_empty() {
            // Nothing to write; a restart reads these changes again, which costs nothing.
            self.seq.store(seq, Ordering::SeqCst);
            return Ok(());
        }
        for (id, document) in documents {
            writer.delete_term(Term::from_field_u64(self.fields.id, id as u64));
            if let Some(document) = document {
                writer.add_document(QueuedDocument::unthrottled(document))?;
            }
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&serde_json::to_string(&CommitPayload { schema: SCHEMA_VERSION, seq })?);
        commit.commit()?;
        self.reader.reload()?;
        self.seq.store(seq, Ordering::SeqCst);
        Ok(())
    }

    /// Rebuilds the whole index from the store; `progress(done, total)` reports as it goes.
    pub async fn rebuild(self: &Arc<Self>, store: &Store, progress: impl Fn(u64, u64)) -> anyhow::Result<u64> {
        let never = tokio_util::sync::CancellationToken::new();
        Ok(self.rebuild_until(store, progress, &never).await?.unwrap_or(0))
    }

    /// [`SearchIndex::rebuild`], given up between two batches once `stop` is cancelled (then
    /// `None`): the index keeps its last commit, and the next start finds it still due.
    /// While it runs, and until it ends however it ends, [`SearchIndex::is_building`] holds.
    pub async fn rebuild_until(
        self: &Arc<Self>,
        store: &Store,
        progress: impl Fn(u64, u64),
        stop: &tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<Option<u64>> {
        self.mark_building();
        self.rebuild_most_queued.store(0, Ordering::SeqCst);
        self.rebuilding.store(true, Ordering::SeqCst);
        let mut guard = BuildGuard { index: Arc::clone(self), committed: false };
        let seq = store.last_change_seq().await?;
        let ids = store.all_article_ids().await?;
        let total = ids.len() as u64;
        {
            let writer = self.writer.lock().map_err(|_| anyhow::anyhow!("search writer poisoned"))?;
            // No merges while the whole index is written: it is merged into one segment at
            // the end, and a merge started meanwhile would hold segments that one needs.
            writer.set_merge_policy(Box::new(NoMergePolicy));
            writer.delete_all_documents()?;
        }
        let mut done = 0;
        for chunk in ids.chunks(500) {
            if stop.is_cancelled() {
                return Ok(None); // The guard rolls the writer back.
            }
            let mut documents = Vec::with_capacity(chunk.len());
            for &id in chunk {
                if let Some(article) = store.article_by_id(id).await?.filter(|a| a.status == Status::Published) {
                    documents.push(self.document(&article));
                }
            }
            for document in documents {
                // Waits while the writer's queue holds its share: the memory of a rebuild
                // stays the same whatever the archive's size.
                let permit = Arc::clone(&self.rebuild_slots).acquire_owned().await?;
                let queued = self.rebuild_queued.fetch_add(1, Ordering::SeqCst) + 1;
                self.rebuild_most_queued.fetch_max(queued, Ordering::SeqCst);
                let slot = RebuildSlot { _permit: permit, queued: Arc::clone(&self.rebuild_queued) };
                let writer = self.writer.lock().map_err(|_| anyhow::anyhow!("search writer poisoned"))?;
                writer.add_document(QueuedDocument { document, _slot: Some(slot) })?;
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
        let stop = stop.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let this = Arc::clone(&guard.index);
            let mut writer = this.writer.lock().map_err(|_| anyhow::anyhow!("search writer poisoned"))?;
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&serde_json::to_string(&CommitPayload { schema: SCHEMA_VERSION, seq })?);
            commit.commit()?;
            guard.committed = true;
            // One segment instead of the many the build wrote: every query looks each of its
            // terms up once per segment, and on the 20,000-article corpus that was a good part
            // of a search (four segments). The commit's payload is kept by the merges.
            // Skipped when the server is stopping: the index is complete, only slower.
            // Only slower searches if it fails: the index is complete and committed.
            if let Err(e) = merge_in_steps(&mut writer, &stop) {
                tracing::warn!(error = %e, "search index: merging the new segments failed");
            }
            writer.set_merge_policy(Box::new(LogMergePolicy::default()));
            // Searches read the rebuilt index's big files rather than map them.
            this.rebuilding.store(false, Ordering::SeqCst);
            this.reader.reload()?;
            this.seq.store(seq, Ordering::SeqCst);
            drop(writer);
            drop(guard); // Searches may start: the reader shows the new index.
            Ok(())
        })
        .await??;
        Ok(Some(total))
    }

    /// One clause per query word: the word in any field, exact or by stem.
    fn word_clause(&self, word: &query::QueryWord) -> Box<dyn Query> {
        let f = &self.fields;
        let term = |field: Field, text: &str, weight: f32| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs);
            (Occur::Should, Box::new(BoostQuery::new(Box::new(q), weight)))
        };
        let mut clauses = vec![
            term(f.title_n, &word.normalized, WEIGHTS.title_n),
            term(f.lead_n, &word.normalized, WEIGHTS.lead_n),
            term(f.body_n, &word.normalized, WEIGHTS.body_n),
        ];
        if !word.stopword {
            clauses.push(term(f.title_s, &word.stem, WEIGHTS.title_s));
            clauses.push(term(f.lead_s, &word.stem, WEIGHTS.lead_s));
            clauses.push(term(f.body_s, &word.stem, WEIGHTS.body_s));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn phrase_clause(&self, phrase: &[query::QueryWord]) -> Box<dyn Query> {
        let f = &self.fields;
        let clauses = [(f.title_n, WEIGHTS.title_n), (f.lead_n, WEIGHTS.lead_n), (f.body_n, WEIGHTS.body_n)]
            .into_iter()
            .map(|(field, weight)| {
                let terms = phrase.iter().map(|w| Term::from_field_text(field, &w.normalized)).collect();
                (Occur::Should, Box::new(BoostQuery::new(Box::new(PhraseQuery::new(terms)), weight)) as Box<dyn Query>)
            })
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }

    fn build_query(&self, request: &SearchRequest, all_words_required: bool) -> Box<dyn Query> {
        let f = &self.fields;
        let q = &request.query;
        let content_words = q.words.iter().filter(|w| !w.stopword).count();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in &q.words {
            let occur = if all_words_required && (!word.stopword || content_words == 0) { Occur::Must } else { Occur::Should };
            clauses.push((occur, self.word_clause(word)));
        }
        for phrase in &q.phrases {
            clauses.push((Occur::Must, self.phrase_clause(phrase)));
        }
        // Readers often type a piece of the headline they remember: reward articles whose
        // headline holds every word, and more so in the order typed.
        let content: Vec<&query::QueryWord> = q.words.iter().filter(|w| !w.stopword).collect();
        if content.len() >= 2 {
            let in_title: Vec<(Occur, Box<dyn Query>)> = content
                .iter()
                .map(|w| {
                    let either: Vec<(Occur, Box<dyn Query>)> = vec![
                        (
                            Occur::Should,
                            Box::new(TermQuery::new(Term::from_field_text(f.title_n, &w.normalized), IndexRecordOption::Basic)),
                        ),
                        (Occur::Should, Box::new(TermQuery::new(Term::from_field_text(f.title_s, &w.stem), IndexRecordOption::Basic))),
                    ];
                    (Occur::Must, Box::new(BooleanQuery::new(either)) as Box<dyn Query>)
                })
                .collect();
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(BooleanQuery::new(in_title)), WEIGHTS.title_all))));
            let mut phrase = PhraseQuery::new(content.iter().map(|w| Term::from_field_text(f.title_s, &w.stem)).collect());
            phrase.set_slop(2);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(phrase), WEIGHTS.title_phrase))));
        }
        for word in &q.excluded {
            for (field, text) in [(f.title_n, &word.normalized), (f.lead_n, &word.normalized), (f.body_n, &word.normalized)] {
                clauses.push((Occur::MustNot, Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))));
            }
            if !word.stopword {
                for field in [f.title_s, f.lead_s, f.body_s] {
                    clauses.push((
                        Occur::MustNot,
                        Box::new(TermQuery::new(Term::from_field_text(field, &word.stem), IndexRecordOption::Basic)),
                    ));
                }
            }
        }
        if let Some(section) = &request.section {
            clauses.push((Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.section, section), IndexRecordOption::Basic))));
        }
        if request.from.is_some() || request.to.is_some() {
            let bound = |t: Option<DateTime<Utc>>| {
                t.map_or(Bound::Unbounded, |t| Bound::Included(Term::from_field_i64(f.published_at, t.timestamp())))
            };
            clauses.push((Occur::Must, Box::new(RangeQuery::new(bound(request.from), bound(request.to)))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Runs a search. All words are required first; when that finds nothing, any word will do
    /// (readers often add a word the article does not use).
    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<SearchResults> {
        if request.query.is_empty() {
            return Ok(SearchResults::default());
        }
        let searcher = self.reader.searcher();
        let statistics = SearchStatistics::new(&searcher);
        let collector = (TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset), Count);
        let (mut top, mut total) = searcher.search_with_statistics_provider(&self.build_query(request, true), &collector, &statistics)?;
        if total == 0 && request.query.words.len() > 1 {
            (top, total) = searcher.search_with_statistics_provider(&self.build_query(request, false), &collector, &statistics)?;
        }
        // Only the id, from its fast field: the rest of a hit comes from the store with the
        // text its snippet needs (one query for the page). Reading the index's doc store for
        // the headline and section cost a compressed block per hit.
        let mut hits = Vec::with_capacity(top.len());
        let mut ids: Option<(u32, tantivy::columnar::Column<u64>)> = None;
        for (score, address) in top {
            if ids.as_ref().is_none_or(|(segment, _)| *segment != address.segment_ord) {
                let column = searcher.segment_reader(address.segment_ord).fast_fields().u64("id")?;
                ids = Some((address.segment_ord, column));
            }
            let Some(id) = ids.as_ref().and_then(|(_, column)| column.first(address.doc_id)) else { continue };
            hits.push(Hit { id: id as i64, score, ..Hit::default() });
        }
        Ok(SearchResults { total, hits })
    }
}

/// BM25's statistics for one search, each looked up once. A two-word query weighs 18 term
/// queries over 12 distinct terms (the headline clauses repeat the words' terms), and tantivy
/// asks the searcher for each one's document frequency — a walk of the term dictionary — and
/// its field's token count (profiled: 8 % of an uncached search).
struct SearchStatistics<'a> {
    searcher: &'a tantivy::Searcher,
    doc_freqs: std::cell::RefCell<std::collections::HashMap<Term, u64>>,
    tokens: std::cell::RefCell<std::collections::HashMap<Field, u64>>,
}

impl<'a> SearchStatistics<'a> {
    fn new(searcher: &'a tantivy::Searcher) -> Self {
        SearchStatistics { searcher, doc_freqs: Default::default(), tokens: Default::default() }
    }
}

impl tantivy::query::Bm25StatisticsProvider for SearchStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        if let Some(&count) = self.tokens.borrow().get(&field) {
            return Ok(count);
        }
        let count = self.searcher.total_num_tokens(field)?;
        self.tokens.borrow_mut().insert(field, count);
        Ok(count)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        if let Some(&count) = self.doc_freqs.borrow().get(term) {
            return Ok(count);
        }
        let count = tantivy::query::Bm25StatisticsProvider::doc_freq(self.searcher, term)?;
        self.doc_freqs.borrow_mut().insert(term.clone(), count);
        Ok(count)
    }
}

/// Fills each hit from the store — headline (the reader's words marked), address, section,
/// date and the snippet of its text — in one query. A hit whose article is no longer published
/// (the index follows the store within a second) is dropped.
pub async fn fill_hits(store: &Store, query: &query::ParsedQuery, results: &mut SearchResults) -> anyhow::Result<()> {
    let ids: Vec<i64> = results.hits.iter().map(|h| h.id).collect();
    let mut found = store.published_texts(&ids).await?;
    let highlighter = Highlighter::new(query);
    results.hits.retain_mut(|hit| {
        let Some((summary, text)) = found.remove(&hit.id) else { return false };
        hit.headline_html = highlighter.mark_all(&summary.headline);
        hit.snippet = highlighter.snippet(&text, 220);
        hit.slug = summary.slug;
        hit.headline = summary.headline;
        hit.published_at = summary.published_at;
        (hit.section, hit.section_name) = summary.section.map(|s| (Some(s.slug), Some(s.name))).unwrap_or_default();
        true
    });
    Ok(())
}

/// Follows the store's change log until `stop`, so that what is published through any
/// process (the editor, an import, another node) becomes searchable within a second. It also
/// invalidates this node's page cache when another process wrote. Started by `tasks`.
///
/// When the index is due a rebuild (new, or far behind: see [`SearchIndex::mark_building`]),
/// that comes first, while the server already answers: pages do not need the index, and
/// `/search` says it is being built. `metrics` counts the rebuilds.
pub async fn follow(
    index: Arc<SearchIndex>,
    store: Store,
    metrics: Arc<crate::metrics::Metrics>,
    stop: tokio_util::sync::CancellationToken,
) {
    while index.is_building() {
        let started = std::time::Instant::now();
        match index.rebuild_until(&store, |_, _| {}, &stop).await {
            Ok(Some(count)) => {
                metrics.search_index_builds.fetch_add(1, Ordering::Relaxed);
                tracing::info!(count, secs = started.elapsed().as_secs_f64(), "search index built");
            }
            Ok(None) => return, // Stopping: the next start builds it.
            Err(e) => {
                // Still due (a database that went away for a moment): say so at once, so that
                // searches keep being refused rather than served from a partial index.
                index.mark_building();
                tracing::error!(error = %format!("{e:#}"), "building the search index failed; trying again in 10 s");
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
                    _ = stop.cancelled() => return,
                }
            }
        }
    }
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(500));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.cancelled() => return,
        }
        // A catch-up is left to finish: it commits the index with its sequence number.
        match index.catch_up(&store).await {
            // Something changed, perhaps in another process: pages may show it.
            Ok(applied) if applied > 0 => store.bump_epoch(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "search index could not catch up; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More segments than one merge step takes end as one segment holding every document;
    /// a stop between steps leaves them as they are (complete, only more of them).
    #[test]
    fn a_rebuilds_segments_are_merged_in_steps_into_one() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = SearchIndex::open(dir.path()).unwrap();
        let n = MERGE_FAN_IN * 2 + 3;
        let mut writer = index.writer.lock().unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for i in 0..n {
            let mut document = TantivyDocument::default();
            document.add_u64(index.fields.id, i as u64);
            document.add_text(index.fields.title_n, "اقتصاد");
            writer.add_document(QueuedDocument::unthrottled(document)).unwrap();
            writer.commit().unwrap(); // One segment per commit.
        }
        let tantivy_index = writer.index().clone();
        let segments = || tantivy_index.searchable_segment_ids().unwrap().len();
        assert_eq!(segments(), n);
        let stopped = tokio_util::sync::CancellationToken::new();
        stopped.cancel();
        merge_in_steps(&mut writer, &stopped).unwrap();
        assert_eq!(segments(), n, "a stopping server does not merge");
        merge_in_steps(&mut writer, &tokio_util::sync::CancellationToken::new()).unwrap();
        assert_eq!(segments(), 1);
        drop(writer);
        index.reader.reload().unwrap();
        assert_eq!(index.reader.searcher().num_docs(), n as u64);
    }
}
