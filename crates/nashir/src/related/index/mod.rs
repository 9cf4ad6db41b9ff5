//! The related-articles index, in memory and free of I/O: TF-IDF vectors over the analyser's
//! stems, document frequencies kept up to date as articles come and go, an inverted index
//! over each article's strongest terms for candidate generation, and MinHash buckets for
//! near-duplicates. By concern: `features` (text → weighted stems), `vectors` (sparse vector
//! math), `kmeans` (latent concepts), `rerank` (bulk re-ranking); the index itself here.

use rustc_hash::FxHashMap;

use super::dupes::{self, Signature};

mod features;
mod kmeans;
mod rerank;
mod vectors;

pub use features::{features, features_with, FeatureParams, Features};
pub use rerank::{rerank_contextual, rerank_shared_neighbours};

use kmeans::{spherical_kmeans, Concepts};
use vectors::{dot, normalize, tf_weight};

/// What the index needs to know about one article. Built by [`features`] plus metadata.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub id: i64,
    /// Stem → weighted count (title words count more than body words).
    pub terms: Vec<(String, f32)>,
    pub signature: Option<Signature>,
    /// Entity keys (see `crate::entities`), each at most once.
    pub entities: Vec<String>,
    /// Section slug; the section boost applies only when both articles have one.
    pub section: Option<String>,
    /// Unix seconds.
    pub published_at: Option<i64>,
}

/// Scoring knobs. Defaults were tuned on the corpus harness (`examples/related_quality.rs`,
/// odd rows as queries; even rows held out; see BENCHMARKS.md). Off by default because they
/// did not help there: Rocchio feedback, document expansion, the df ceiling, bigrams. The df
/// floor helped a little but would strip an archive's first articles bare (see `weigh`).
#[derive(Debug, Clone)]
pub struct Params {
    /// Terms per article that enter the inverted index, and that a query walks.
    pub index_terms: usize,
    pub query_terms: usize,
    /// Candidates kept from the inverted-index pass for exact scoring.
    pub candidates: usize,
    /// Entries a query reads of each of its terms' postings, strongest first (each list is
    /// kept sorted by weight); 0 = all. A fixed depth keeps a query's cost flat as the
    /// archive grows: posting lists grow with it, and reading them whole made the
    /// whole-archive pass grow with the square of the archive (issue 20).
    pub posting_depth: usize,
    /// Weight of shared entities (cosine over entity sets, idf-weighted).
    pub entity_weight: f32,
    pub section_weight: f32,
    /// Weight of recency and its time scale in days.
    pub recency_weight: f32,
    pub recency_days: f32,
    /// Pseudo-relevance feedback: the query is moved towards its first `feedback_docs`
    /// neighbours by `feedback_weight`, which pulls suggestions to the topic's core.
    pub feedback_docs: usize,
    pub feedback_weight: f32,
    /// Estimated shingle Jaccard at or above which two articles are the same story.
    pub duplicate_threshold: f32,
    /// Term-frequency saturation: 0 = 1 + ln(tf); otherwise BM25's tf·(k1+1)/(tf + k1·(1−b+b·len/avg)).
    pub bm25_k1: f32,
    pub bm25_b: f32,
    /// idf is raised to this power in each vector (the dot product then weighs a shared
    /// term by idf^(2·power)): above 1 favours shared rare terms over shared common ones.
    pub idf_power: f32,
    /// Terms in fewer articles than this, or in more than `max_df` of them (a share), are
    /// left out of the vectors: the first link nothing, the second link everything.
    pub min_df: u32,
    pub max_df: f32,
    /// Latent concepts: spherical k-means over the archive's own vectors with this many
    /// clusters (0 = off); each article gets its similarity profile to the cluster centroids
    /// and two articles' profile cosine adds `concept_weight`. Profiles are raised to
    /// `concept_sharpen` so only the nearest concepts count.
    pub concepts: usize,
    pub concept_weight: f32,
    pub concept_sharpen: f32,
    pub concept_iterations: usize,
    /// Independent clusterings (different seeds) whose profiles are concatenated: one
    /// k-means run depends on its seeds, several agree on what is stable.
    pub concept_runs: usize,
    /// Document expansion: at reweight each article's scoring vector becomes its own plus
    /// `expand_weight` × the mean of its `expand_docs` nearest neighbours' (0 = off), kept to
    /// its `expand_terms` strongest terms. Smooths word choice towards the topic.
    pub expand_docs: usize,
    pub expand_weight: f32,
    pub expand_terms: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            index_terms: 60,
            query_terms: 60,
            candidates: 300,
            posting_depth: POSTING_DEPTH,
            entity_weight: 0.05,
            section_weight: 0.1,
            recency_weight: 0.03,
            recency_days: 30.0,
            feedback_docs: 5,
            feedback_weight: 0.0,
            duplicate_threshold: 0.5,
            bm25_k1: 1.2,
            bm25_b: 0.3,
            idf_power: 0.5,
            min_df: 1,
            max_df: 1.0,
            concepts: 50,
            concept_weight: 0.3,
            concept_sharpen: 1.0,
            concept_iterations: 8,
            concept_runs: 1,
            expand_docs: 0,
            expand_weight: 0.5,
            expand_terms: 150,
        }
    }
}

/// Default [`Params::posting_depth`], chosen on the corpus harness (see BENCHMARKS.md, "The
/// related pass in linear time").
pub const POSTING_DEPTH: usize = 250;

/// The order of a term's postings: strongest first, then by slot, so a query's first
/// [`Params::posting_depth`] entries are the same wherever the list is kept (the in-memory
/// index and `related::stream` sort by this one function).
#[inline]
pub(crate) fn posting_order(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// The strongest `limit` of the accumulated candidates (slot, partial score); ties by slot, so
/// the cut does not depend on the order they were met in.
pub(crate) fn best_candidates(cands: &mut Vec<(u32, f32)>, limit: usize) {
    if cands.len() > limit {
        cands.select_nth_unstable_by(limit, posting_order);
        cands.truncate(limit);
    }
}

/// How many entries of a list of `len` a query reads.
#[inline]
pub(crate) fn depth(params: &Params, len: usize) -> usize {
    if params.posting_depth == 0 {
        len
    } else {
        len.min(params.posting_depth)
    }
}

/// A suggestion and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub id: i64,
    pub score: f32,
}

struct Slot {
    id: i64,
    /// (term id, weighted count), sorted by term id.
    terms: Vec<(u32, f32)>,
    /// Term ids entered in the inverted index for this doc, sorted.
    indexed: Vec<u32>,
    /// Unit TF-IDF vector with the idf of when it was computed (see [`RelatedIndex::reweight`]).
    vec: Vec<(u32, f32)>,
    entities: Vec<u32>,
    section: Option<u32>,
    published_at: Option<i64>,
    signature: Option<Signature>,
    duplicate_of: Option<i64>,
    /// Sum of the weighted counts (for BM25's length normalisation).
    len: f32,
    /// Similarity profile over the latent concepts, unit length; empty until they exist.
    concept: Vec<f32>,
    /// Expanded scoring vector (see [`Params::expand_docs`]); empty = use `vec`.
    xvec: Vec<(u32, f32)>,
}

impl Slot {
    fn traits(&self) -> Traits<'_> {
        Traits { concept: &self.concept, entities: &self.entities, section: self.section, published_at: self.published_at }
    }

    /// The vector exact scores use.
    fn scoring(&self) -> &[(u32, f32)] {
        if self.xvec.is_empty() {
            &self.vec
        } else {
            &self.xvec
        }
    }
}

/// The index. Slots are reused after removal; postings hold slot numbers.
#[derive(Default)]
pub struct RelatedIndex {
    params: Params,
    terms: FxHashMap<String, u32>,
    df: Vec<u32>,
    postings: Vec<Vec<(u32, f32)>>,
    entity_ids: FxHashMap<String, u32>,
    entity_df: Vec<u32>,
    sections: FxHashMap<String, u32>,
    by_id: FxHashMap<i64, u32>,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    buckets: FxHashMap<(u8, u64), Vec<u32>>,
    live: u32,
    total_len: f64,
    /// Upserts and removals since the last [`RelatedIndex::reweight`].
    changes: usize,
    /// One clustering per run (see [`Params::concept_runs`]).
    concepts: ConceptModel,
}

/// Per-thread buffers for queries, kept zeroed between uses: allocating and clearing arrays
/// as long as the vocabulary or the index for every query cost more than the query.
#[derive(Default)]
struct Scratch {
    /// Candidate score accumulator, by slot.
    acc: Vec<f32>,
    /// The query vector by term id, so scoring a candidate is one lookup per candidate term.
    dense: Vec<f32>,
}

impl Scratch {
    fn scatter(&mut self, v: &[(u32, f32)], n_terms: usize) {
        if self.dense.len() < n_terms {
            self.dense.resize(n_terms, 0.0);
        }
        for &(t, w) in v {
            self.dense[t as usize] = w;
        }
    }

    fn clear(&mut self, v: &[(u32, f32)]) {
        for &(t, _) in v {
            self.dense[t as usize] = 0.0;
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// `f` over `items` on up to four threads, results in order. The index is read-only while
/// it runs; small inputs stay on the calling thread.
pub(crate) fn parallel_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if threads <= 1 || items.len() < 64 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items.chunks(chunk).map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<U>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("related worker panicked")).collect()
    })
}

/// `f` on every item, the items split between up to four threads.
fn parallel_chunks<T: Send>(items: &mut [T], f: impl Fn(&mut T) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if threads <= 1 || items.len() < 64 {
        items.iter_mut().for_each(f);
        return;
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for part in items.chunks_mut(chunk) {
            scope.spawn(|| part.iter_mut().for_each(&f));
        }
    });
}

fn intern(map: &mut FxHashMap<String, u32>, counts: &mut Vec<u32>, key: &str) -> u32 {
    if let Some(&id) = map.get(key) {
        return id;
    }
    let id = counts.len() as u32;
    map.insert(key.to_string(), id);
    counts.push(0);
    id
}

/// What turns an article's term counts into its unit TF-IDF vector: the parameters and the
/// collection's statistics. The in-memory index and the streaming pass (`related::stream`)
/// weigh through this one function, so both give the same vectors.
pub(crate) struct Weights<'a> {
    pub params: &'a Params,
    /// Articles containing each term id.
    pub df: &'a [u32],
    pub live: u32,
    /// Sum of every article's weighted term count (BM25's average length).
    pub total_len: f64,
}

impl Weights<'_> {
    #[inline]
    fn idf(&self, term: u32) -> f32 {
        let df = self.df[term as usize].max(1) as f32;
        (1.0 + self.live.max(1) as f32 / df).ln()
    }

    /// Unit-length TF-IDF vector of term counts, sorted by term id. `whole` = the collection
    /// is complete (reweight): only then do terms seen in fewer than `min_df` articles leave
    /// the vector; an article arriving alone would otherwise have no terms for the articles
    /// that come after it.
    pub(crate) fn weigh(&self, terms: &[(u32, f32)], len: f32, whole: bool) -> Vec<(u32, f32)> {
        let p = self.params;
        let min_df = if whole { p.min_df } else { 1 };
        let n = self.live.max(1) as f32;
        let max_df = if p.max_df < 1.0 { (p.max_df * n).max(1.0) } else { f32::INFINITY };
        let avg = if self.live > 0 { (self.total_len / f64::from(self.live)) as f32 } else { len };
        let length_norm = 1.0 - p.bm25_b + p.bm25_b * len / avg.max(1e-3);
        let mut v: Vec<(u32, f32)> = terms
            .iter()
            .filter(|&&(t, _)| {
                let df = self.df[t as usize];
                df >= min_df && (df as f32) <= max_df
            })
            .map(|&(t, c)| {
                let tf = if p.bm25_k1 > 0.0 { c * (p.bm25_k1 + 1.0) / (c + p.bm25_k1 * length_norm) } else { tf_weight(c) };
                let idf = self.idf(t);
                (t, tf * if p.idf_power == 1.0 { idf } else { idf.powf(p.idf_power) })
            })
            .collect();
        normalize(&mut v);
        v
    }
}

/// The `n` strongest term ids of a vector, sorted (for binary search).
pub(crate) fn top_terms(vec: &[(u32, f32)], n: usize) -> Vec<u32> {
    let mut ranked: Vec<(u32, f32)> = vec.to_vec();
    if ranked.len() > n {
        ranked.select_nth_unstable_by(n, |a, b| b.1.total_cmp(&a.1));
        ranked.truncate(n);
    }
    let mut ids: Vec<u32> = ranked.into_iter().map(|r| r.0).collect();
    ids.sort_unstable();
    ids
}

/// The part of a vector whose terms are in `indexed` (the article's strongest terms).
pub(crate) fn top_part(vec: &[(u32, f32)], indexed: &[u32]) -> Vec<(u32, f32)> {
    vec.iter().filter(|(t, _)| indexed.binary_search(t).is_ok()).copied().collect()
}

/// What the boosts of a score read of one article, wherever it is kept.
pub(crate) struct Traits<'a> {
    pub concept: &'a [f32],
    pub entities: &'a [u32],
    pub section: Option<u32>,
    pub published_at: Option<i64>,
}

/// The concept, entity, section and recency boosts added to the cosine of two articles;
/// `entity_idf` gives each entity id's idf. Shared by the in-memory index and the stream.
pub(crate) fn boosts(params: &Params, entity_idf: impl Fn(u32) -> f32, doc: &Traits, other: &Traits) -> f32 {
    let mut score = 0.0;
    if params.concept_weight > 0.0 && !doc.concept.is_empty() && doc.concept.len() == other.concept.len() {
        score += params.concept_weight * doc.concept.iter().zip(other.concept).map(|(a, b)| a * b).sum::<f32>();
    }
    if params.entity_weight > 0.0 && !doc.entities.is_empty() && !other.entities.is_empty() {
        score += params.entity_weight * entity_cosine(&entity_idf, doc.entities, other.entities);
    }
    if let (Some(a), Some(b)) = (doc.section, other.section) {
        if a == b {
            score += params.section_weight;
        }
    }
    if let (Some(a), Some(b)) = (doc.published_at, other.published_at) {
        let days = (a - b).unsigned_abs() as f32 / 86_400.0;
        score += params.recency_weight * (-days / params.recency_days).exp();
    }
    score
}

fn entity_cosine(entity_idf: &impl Fn(u32) -> f32, a: &[u32], b: &[u32]) -> f32 {
    let norm = |s: &[u32]| s.iter().map(|&e| entity_idf(e).powi(2)).sum::<f32>().sqrt();
    let (mut i, mut j, mut shared) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += entity_idf(a[i]).powi(2);
                i += 1;
                j += 1;
            }
        }
    }
    let n = norm(a) * norm(b);
    if n > 0.0 {
        shared / n
    } else {
        0.0
    }
}

/// Latent concepts fitted on the given strongest-term vectors (see [`Params::concepts`]):
/// one clustering per run; empty when there are too few articles for them.
#[derive(Default)]
pub(crate) struct ConceptModel(Vec<Concepts>);

impl ConceptModel {
    pub(crate) fn fit(params: &Params, tops: &[&[(u32, f32)]], n_terms: usize) -> ConceptModel {
        let k = params.concepts;
        if k == 0 || tops.len() < 4 * k {
            return ConceptModel(Vec::new());
        }
        ConceptModel(
            (0..params.concept_runs.max(1)).map(|run| spherical_kmeans(tops, n_terms, k, params.concept_iterations, run as u64)).collect(),
        )
    }

    /// Profiles of every clustering run, concatenated; unit length (empty without concepts).
    pub(crate) fn profile(&self, top: &[(u32, f32)], sharpen: f32) -> Vec<f32> {
        let mut out = Vec::new();
        for c in &self.0 {
            out.extend(c.profile(top, sharpen));
        }
        let n = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            out.iter_mut().for_each(|x| *x /= n);
        }
        out
    }
}

impl RelatedIndex {
    pub fn new(params: Params) -> RelatedIndex {
        RelatedIndex { params, ..RelatedIndex::default() }
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn len(&self) -> usize {
        self.live as usize
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Enough has changed since the last [`RelatedIndex::reweight`] that idf, vectors and
    /// concepts should be recomputed (a tenth of the index, and at least 50 articles).
    pub fn needs_reweight(&self) -> bool {
        self.changes >= 50 && self.changes * 10 >= self.live as usize
    }

    pub fn contains(&self, id: i64) -> bool {
        self.by_id.contains_key(&id)
    }

    #[inline]
    fn entity_idf(&self, e: u32) -> f32 {
        let df = self.entity_df[e as usize].max(1) as f32;
        (1.0 + self.live.max(1) as f32 / df).ln()
    }

    /// Adds or replaces an article. Returns the earlier article it duplicates, if any.
    pub fn upsert(&mut self, doc: Doc) -> Option<i64> {
        self.remove(doc.id);
        let mut terms: Vec<(u32, f32)> = doc.terms.iter().map(|(t, c)| (intern(&mut self.terms, &mut self.df, t), *c)).collect();
        terms.sort_unstable_by_key(|t| t.0);
        if self.postings.len() < self.df.len() {
            self.postings.resize_with(self.df.len(), Vec::new);
        }
        for &(t, _) in &terms {
            self.df[t as usize] += 1;
        }
        let len: f32 = terms.iter().map(|t| t.1).sum();
        self.total_len += f64::from(len);
        self.changes += 1;
        let mut entities: Vec<u32> = doc.entities.iter().map(|e| intern(&mut self.entity_ids, &mut self.entity_df, e)).collect();
        entities.sort_unstable();
        entities.dedup();
        for &e in &entities {
            self.entity_df[e as usize] += 1;
        }
        let section = doc.section.as_deref().filter(|s| !s.is_empty()).map(|s| {
            let next = self.sections.len() as u32;
            *self.sections.entry(s.to_string()).or_insert(next)
        });
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.live += 1;
        // The strongest terms go into the inverted index (idf as of now; good enough to find
        // candidates, exact scores are computed later with current weights).
        let vec = self.weigh(&terms, len, false);
        let indexed = self.top_terms(&vec, self.params.index_terms);
        for &(t, w) in &vec {
            if indexed.binary_search(&t).is_ok() {
                let list = &mut self.postings[t as usize];
                let at = list.partition_point(|p| posting_order(p, &(slot, w)).is_lt());
                list.insert(at, (slot, w));
            }
        }
        let duplicate_of = doc.signature.as_ref().and_then(|sig| self.find_duplicate(doc.id, sig));
        if let Some(sig) = &doc.signature {
            for key in dupes::band_keys(sig) {
                self.buckets.entry(key).or_default().push(slot);
            }
        }
        self.slots[slot as usize] = Some(Slot {
            id: doc.id,
            terms,
            indexed,
            vec,
            entities,
            section,
            published_at: doc.published_at,
            signature: doc.signature,
            duplicate_of,
            len,
            concept: Vec::new(),
            xvec: Vec::new(),
        });
        let concept = self.profile(&self.top_vec(slot));
        self.slots[slot as usize].as_mut().expect("just stored").concept = concept;
        self.by_id.insert(doc.id, slot);
        duplicate_of
    }

    /// The oldest (lowest id) article already indexed whose shingles overlap enough.
    fn find_duplicate(&self, id: i64, sig: &Signature) -> Option<i64> {
        let mut best: Option<i64> = None;
        let mut seen: Vec<u32> = Vec::new();
        for key in dupes::band_keys(sig) {
            for &s in self.buckets.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.contains(&s) {
                    continue;
                }
                seen.push(s);
                let Some(other) = &self.slots[s as usize] else { continue };
                if other.id == id {
                    continue;
                }
                let Some(osig) = &other.signature else { continue };
                if dupes::similarity(sig, osig) >= self.params.duplicate_threshold {
                    // Point at the original of a chain so groups share one root.
                    let root = other.duplicate_of.unwrap_or(other.id);
                    if root != id && best.is_none_or(|b| root < b) {
                        best = Some(root);
                    }
                }
            }
        }
        best
    }

    pub fn remove(&mut self, id: i64) {
        let Some(slot) = self.by_id.remove(&id) else { return };
        let Some(doc) = self.slots[slot as usize].take() else { return };
        for &(t, _) in &doc.terms {
            self.df[t as usize] -= 1;
        }
        self.total_len -= f64::from(doc.len);
        self.changes += 1;
        for &t in &doc.indexed {
            self.postings[t as usize].retain(|p| p.0 != slot);
        }
        for &e in &doc.entities {
            self.entity_df[e as usize] -= 1;
        }
        if let Some(sig) = &doc.signature {
            for key in dupes::band_keys(sig) {
                if let Some(v) = self.buckets.get_mut(&key) {
                    v.retain(|&s| s != slot);
                }
            }
        }
        self.live -= 1;
        self.free.push(slot);
    }

    /// The article this one duplicates, as found when it was added.
    pub fn duplicate_of(&self, id: i64) -> Option<i64> {
        self.slot(id).and_then(|s| s.duplicate_of)
    }

    /// Other indexed articles whose shingles overlap with `id`'s above the threshold.
    pub fn duplicates(&self, id: i64) -> Vec<i64> {
        let Some(doc) = self.slot(id) else { return Vec::new() };
        let Some(sig) = &doc.signature else { return Vec::new() };
        let mut out = Vec::new();
        for key in dupes::band_keys(sig) {
            for &s in self.buckets.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(o) = &self.slots[s as usize] {
                    if o.id != id
                        && !out.contains(&o.id)
                        && o.signature.as_ref().is_some_and(|os| dupes::similarity(sig, os) >= self.params.duplicate_threshold)
                    {
                        out.push(o.id);
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn slot(&self, id: i64) -> Option<&Slot> {
        self.by_id.get(&id).and_then(|&s| self.slots[s as usize].as_ref())
    }

    /// Unit-length TF-IDF vector of term counts with the current idf, sorted by term id.
    /// `whole` = the collection is complete (reweight): only then do terms seen in fewer than
    /// `min_df` articles leave the vector; an article arriving alone would otherwise have no
    /// terms for the articles that come after it.
    fn weigh(&self, terms: &[(u32, f32)], len: f32, whole: bool) -> Vec<(u32, f32)> {
        Weights { params: &self.params, df: &self.df, live: self.live, total_len: self.total_len }.weigh(terms, len, whole)
    }

    /// The part of a slot's vector that is in the inverted index (its strongest terms).
    fn top_vec(&self, slot: u32) -> Vec<(u32, f32)> {
        let Some(doc) = &self.slots[slot as usize] else { return Vec::new() };
        top_part(&doc.vec, &doc.indexed)
    }

    fn top_terms(&self, vec: &[(u32, f32)], n: usize) -> Vec<u32> {
        top_terms(vec, n)
    }

    /// Recomputes every stored vector and posting with today's document frequencies. Articles
    /// added early in a bulk load were weighed against a small collection; call this once the
    /// load is done (refresh_all does).
    pub fn reweight(&mut self) {
        self.changes = 0;
        for p in self.postings.iter_mut() {
            p.clear();
        }
        let live: Vec<usize> = (0..self.slots.len()).filter(|&s| self.slots[s].is_some()).collect();
        // In chunks, so new vectors replace old ones as they come instead of all coexisting.
        for chunk in live.chunks(4096) {
            let weighed = parallel_map(chunk, |&slot| {
                let doc = self.slots[slot].as_ref().expect("live slot");
                let vec = self.weigh(&doc.terms, doc.len, true);
                let indexed = self.top_terms(&vec, self.params.index_terms);
                (vec, indexed)
            });
            for (&slot, (vec, indexed)) in chunk.iter().zip(weighed) {
                for &(t, w) in &vec {
                    if indexed.binary_search(&t).is_ok() {
                        self.postings[t as usize].push((slot as u32, w));
                    }
                }
                let doc = self.slots[slot].as_mut().expect("live slot");
                doc.vec = vec;
                doc.indexed = indexed;
                doc.xvec.clear();
            }
        }
        parallel_chunks(&mut self.postings, |list| list.sort_unstable_by(posting_order));
        self.build_concepts();
        self.expand();
    }

    /// Concept profiles of every clustering run, concatenated; unit length.
    fn profile(&self, top: &[(u32, f32)]) -> Vec<f32> {
        self.concepts.profile(top, self.params.concept_sharpen)
    }

    /// Document expansion over the whole index (see [`Params::expand_docs`]).
    fn expand(&mut self) {
        let m = self.params.expand_docs;
        if m == 0 {
            return;
        }
        let mut expanded: Vec<(u32, Vec<(u32, f32)>)> = Vec::new();
        for s in 0..self.slots.len() as u32 {
            let Some(doc) = &self.slots[s as usize] else { continue };
            let mut near: Vec<(u32, f32)> = self
                .candidates(&doc.vec, self.params.candidates)
                .into_iter()
                .filter(|&c| c != s)
                .map(|c| (c, dot(&doc.vec, &self.slots[c as usize].as_ref().expect("live candidate").vec)))
                .collect();
            near.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
            near.truncate(m);
            let mut acc: FxHashMap<u32, f32> = doc.vec.iter().copied().collect();
            for &(c, _) in &near {
                for &(t, w) in &self.slots[c as usize].as_ref().expect("live candidate").vec {
                    *acc.entry(t).or_insert(0.0) += w * self.params.expand_weight / near.len() as f32;
                }
            }
            let mut v: Vec<(u32, f32)> = acc.into_iter().collect();
            if v.len() > self.params.expand_terms {
                v.select_nth_unstable_by(self.params.expand_terms, |a, b| b.1.total_cmp(&a.1));
                v.truncate(self.params.expand_terms);
            }
            v.sort_unstable_by_key(|e| e.0);
            normalize(&mut v);
            expanded.push((s, v));
        }
        for (s, v) in expanded {
            self.slots[s as usize].as_mut().expect("live slot").xvec = v;
        }
    }

    /// Clusters the archive's vectors into latent concepts and gives every article its
    /// profile over them (see [`Params::concepts`]). Needs a few articles per concept.
    fn build_concepts(&mut self) {
        let tops: Vec<(u32, Vec<(u32, f32)>)> =
            (0..self.slots.len() as u32).filter(|&s| self.slots[s as usize].is_some()).map(|s| (s, self.top_vec(s))).collect();
        let refs: Vec<&[(u32, f32)]> = tops.iter().map(|(_, v)| v.as_slice()).collect();
        self.concepts = ConceptModel::fit(&self.params, &refs, self.df.len());
        let profiles = parallel_map(&tops, |(_, top)| self.profile(top));
        for ((s, _), profile) in tops.iter().zip(profiles) {
            self.slots[*s as usize].as_mut().expect("live slot").concept = profile;
        }
    }

    /// Up to `k` related articles for `id`, best first; never itself nor a near-duplicate.
    /// `exclude` lists further ids to skip (for instance suggestions an editor removed).
    pub fn related(&self, id: i64, k: usize, exclude: &[i64]) -> Vec<Scored> {
        SCRATCH.with(|scratch| self.related_with(&mut scratch.borrow_mut(), id, k, exclude))
    }

    fn related_with(&self, scratch: &mut Scratch, id: i64, k: usize, exclude: &[i64]) -> Vec<Scored> {
        let Some(doc) = self.slot(id) else { return Vec::new() };
        let query = doc.scoring();
        let mut cands = self.candidates_with(scratch, &doc.vec, self.params.candidates);
        let dup_root = doc.duplicate_of.unwrap_or(doc.id);
        let is_dup = |o: &Slot| {
            o.id == doc.id
                || o.duplicate_of.unwrap_or(o.id) == dup_root
                || (doc.signature.is_some()
                    && o.signature.is_some()
                    && dupes::similarity(doc.signature.as_ref().unwrap(), o.signature.as_ref().unwrap()) >= self.params.duplicate_threshold)
        };
        let feedback = self.params.feedback_docs > 0 && self.params.feedback_weight > 0.0;
        // Comparing signatures is dear; without feedback only the few candidates that reach
        // the final list need it (see the loop at the end), which gives the same answer.
        cands.retain(|&s| self.slots[s as usize].as_ref().is_some_and(|o| !(exclude.contains(&o.id) || (feedback && is_dup(o)))));
        let vectors: Vec<(u32, &[(u32, f32)])> =
            cands.iter().map(|&s| (s, self.slots[s as usize].as_ref().expect("live candidate").scoring())).collect();
        scratch.scatter(query, self.df.len());
        let mut scored: Vec<(u32, f32)> = vectors.iter().map(|(s, v)| (*s, self.score(doc, &scratch.dense, *s, v))).collect();
        scratch.clear(query);
        scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

        let fb = self.params.feedback_docs.min(scored.len());
        if feedback && fb > 0 {
            // Rocchio: query + β · mean of the first neighbours, then rescore.
            let mut centroid: FxHashMap<u32, f32> = FxHashMap::default();
            for &(s, _) in &scored[..fb] {
                let v = vectors.iter().find(|(vs, _)| *vs == s).expect("scored candidate has a vector").1;
                for &(t, w) in v {
                    *centroid.entry(t).or_insert(0.0) += w * self.params.feedback_weight / fb as f32;
                }
            }
            for &(t, w) in query {
                *centroid.entry(t).or_insert(0.0) += w;
            }
            let mut expanded: Vec<(u32, f32)> = centroid.into_iter().collect();
            expanded.sort_unstable_by_key(|e| e.0);
            normalize(&mut expanded);
            scratch.scatter(&expanded, self.df.len());
            scored = vectors.iter().map(|(s, v)| (*s, self.score(doc, &scratch.dense, *s, v))).collect();
            scratch.clear(&expanded);
            scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        // One copy of a story is enough: later copies of an already chosen one are skipped.
        let mut roots: Vec<i64> = Vec::with_capacity(k);
        let mut out = Vec::with_capacity(k);
        for (s, score) in scored {
            let o = self.slots[s as usize].as_ref().expect("live candidate");
            let root = o.duplicate_of.unwrap_or(o.id);
            if roots.contains(&root) || is_dup(o) {
                continue;
            }
            roots.push(root);
            out.push(Scored { id: o.id, score });
            if out.len() == k {
                break;
            }
        }
        out
    }

    /// Cosine plus the entity, section and recency boosts.
    /// `query` is the query vector scattered densely over term ids.
    fn score(&self, doc: &Slot, query: &[f32], slot: u32, vector: &[(u32, f32)]) -> f32 {
        let other = self.slots[slot as usize].as_ref().expect("live candidate");
        let cosine: f32 = vector.iter().map(|&(t, w)| query[t as usize] * w).sum();
        cosine + boosts(&self.params, |e| self.entity_idf(e), &doc.traits(), &other.traits())
    }

    /// Slots sharing the query's strongest terms, by partial dot product.
    fn candidates(&self, query: &[(u32, f32)], limit: usize) -> Vec<u32> {
        SCRATCH.with(|scratch| self.candidates_with(&mut scratch.borrow_mut(), query, limit))
    }

    fn candidates_with(&self, scratch: &mut Scratch, query: &[(u32, f32)], limit: usize) -> Vec<u32> {
        let top = self.top_terms(query, self.params.query_terms);
        // A dense accumulator: postings of common stems run to thousands of entries, and
        // hashing each one was the largest cost of a query.
        if scratch.acc.len() < self.slots.len() {
            scratch.acc.resize(self.slots.len(), 0.0);
        }
        let acc = &mut scratch.acc;
        let mut touched: Vec<u32> = Vec::new();
        for t in top {
            let qw = query.iter().find(|q| q.0 == t).map_or(0.0, |q| q.1);
            let list = &self.postings[t as usize];
            for &(s, w) in &list[..depth(&self.params, list.len())] {
                let a = &mut acc[s as usize];
                if *a == 0.0 {
                    touched.push(s);
                }
                *a += qw * w;
            }
        }
        let mut cands: Vec<(u32, f32)> = touched.into_iter().map(|s| (s, std::mem::take(&mut acc[s as usize]))).collect();
        best_candidates(&mut cands, limit);
        cands.into_iter().map(|c| c.0).collect()
    }

    /// Every indexed id (for bulk recomputation).
    pub fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.by_id.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

#[cfg(test)]
mod tests;
