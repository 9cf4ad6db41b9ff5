//! The related-articles index, in memory and free of I/O: TF-IDF vectors over the analyzer's
//! stems, document frequencies kept up to date as articles come and go, an inverted index
//! over each article's strongest terms for candidate generation, and MinHash buckets for
//! near-duplicates.

use rustc_hash::FxHashMap;

use super::dupes::{self, Signature};

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

/// The text-derived part of a [`Doc`].
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub terms: Vec<(String, f32)>,
    pub signature: Option<Signature>,
}

/// How [`features_with`] turns text into weighted terms.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureParams {
    /// A title word is worth this many body words: headlines name the story.
    pub title_weight: f32,
    /// The first `lead_words` content words of the body (the lead) count `lead_weight` times.
    pub lead_words: usize,
    pub lead_weight: f32,
    /// Adjacent content-stem pairs («أسعار النفط», «كرة القدم») as extra terms of this weight:
    /// a pair is far less ambiguous than either word.
    pub bigram_weight: f32,
}

impl Default for FeatureParams {
    fn default() -> Self {
        FeatureParams { title_weight: 2.0, lead_words: 0, lead_weight: 1.0, bigram_weight: 0.0 }
    }
}

/// Analyzes headline and body once for both the vectors and the shingles.
pub fn features(title: &str, body: &str) -> Features {
    features_with(title, body, &FeatureParams::default())
}

/// Bigram terms join two stems with a space, which no single stem contains.
const BIGRAM_JOIN: char = ' ';

/// [`features`] with explicit weights.
pub fn features_with(title: &str, body: &str, p: &FeatureParams) -> Features {
    let mut terms: FxHashMap<String, f32> = FxHashMap::default();
    let mut words: Vec<String> = Vec::new();
    for (text, is_title) in [(title, true), (body, false)] {
        let mut content = 0usize;
        // Previous content stem and its position, for bigrams (a stopword or number between
        // two stems breaks the pair).
        let mut prev: Option<(String, usize)> = None;
        for term in arabic::analyze(text) {
            if !is_title {
                words.push(term.normalized.clone());
            }
            if term.stopword || term.stem.chars().count() < 2 || term.stem.bytes().all(|b| b.is_ascii_digit()) {
                prev = None;
                continue;
            }
            let weight = if is_title {
                p.title_weight
            } else if content < p.lead_words {
                p.lead_weight
            } else {
                1.0
            };
            content += 1;
            if p.bigram_weight > 0.0 {
                if let Some((a, pos)) = &prev {
                    if *pos + 1 == term.position && *a != term.stem {
                        let key = format!("{a}{BIGRAM_JOIN}{}", term.stem);
                        *terms.entry(key).or_insert(0.0) += weight * p.bigram_weight;
                    }
                }
                prev = Some((term.stem.clone(), term.position));
            }
            *terms.entry(term.stem).or_insert(0.0) += weight;
        }
    }
    let signature = dupes::signature(&dupes::shingles(words.iter().map(String::as_str)));
    let mut terms: Vec<(String, f32)> = terms.into_iter().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Features { terms, signature }
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
    concepts: Vec<Concepts>,
}

/// Centroids of the latent concepts, term-major: row `rows[term]` holds that term's weight in
/// each of the `k` centroids. Terms no centroid uses have no row.
#[derive(Default)]
struct Concepts {
    k: usize,
    rows: Vec<u32>,
    centroids: Vec<f32>,
}

const NO_ROW: u32 = u32::MAX;

impl Concepts {
    /// Cosine of a unit vector with every centroid.
    fn project(&self, vec: &[(u32, f32)], out: &mut [f32]) {
        out.fill(0.0);
        for &(t, w) in vec {
            let Some(&row) = self.rows.get(t as usize) else { continue };
            if row == NO_ROW {
                continue;
            }
            let c = &self.centroids[row as usize * self.k..(row as usize + 1) * self.k];
            for (o, &x) in out.iter_mut().zip(c) {
                *o += w * x;
            }
        }
    }

    /// The article's concept profile: centroid cosines, sharpened, unit length.
    fn profile(&self, vec: &[(u32, f32)], sharpen: f32) -> Vec<f32> {
        if self.k == 0 {
            return Vec::new();
        }
        let mut p = vec![0.0f32; self.k];
        self.project(vec, &mut p);
        for x in p.iter_mut() {
            *x = x.max(0.0).powf(sharpen);
        }
        let n = p.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            p.iter_mut().for_each(|x| *x /= n);
        }
        p
    }
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

/// splitmix64, for deterministic seeding of the clustering.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Spherical k-means (k-means++ seeding, deterministic) over unit sparse vectors sorted by
/// term id. Returns the centroids, term-major over `n_terms` term ids.
fn spherical_kmeans(docs: &[&[(u32, f32)]], n_terms: usize, k: usize, iterations: usize, seed: u64) -> Concepts {
    let k = k.min(docs.len());
    if k == 0 {
        return Concepts::default();
    }
    let mut rows = vec![NO_ROW; n_terms];
    let mut n_rows = 0u32;
    for d in docs {
        for &(t, _) in d.iter() {
            if rows[t as usize] == NO_ROW {
                rows[t as usize] = n_rows;
                n_rows += 1;
            }
        }
    }
    // k-means++: each next seed drawn with probability proportional to its distance
    // (1 − cosine) from the nearest seed so far.
    let mut rng = 0x5eed_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut dist: Vec<f32> = vec![1.0; docs.len()];
    let mut seeds: Vec<usize> = vec![(next_random(&mut rng) % docs.len() as u64) as usize];
    while seeds.len() < k {
        let last = docs[*seeds.last().expect("a seed")];
        let near = parallel_map(docs, |doc| dot(doc, last));
        for (d, cos) in dist.iter_mut().zip(near) {
            *d = d.min(1.0 - cos).max(0.0);
        }
        let total: f64 = dist.iter().map(|&d| f64::from(d)).sum();
        if total <= 0.0 {
            break;
        }
        let mut r = (next_random(&mut rng) >> 11) as f64 / (1u64 << 53) as f64 * total;
        let mut pick = docs.len() - 1;
        for (i, &d) in dist.iter().enumerate() {
            r -= f64::from(d);
            if r <= 0.0 {
                pick = i;
                break;
            }
        }
        seeds.push(pick);
    }
    let k = seeds.len();
    let mut c = Concepts { k, rows, centroids: vec![0.0; n_rows as usize * k] };
    for (j, &s) in seeds.iter().enumerate() {
        for &(t, w) in docs[s] {
            c.centroids[c.rows[t as usize] as usize * k + j] = w;
        }
    }
    let mut assign = vec![usize::MAX; docs.len()];
    for _ in 0..iterations {
        let mut moved = 0usize;
        let nearest = parallel_map(docs, |doc| {
            let mut scores = vec![0.0f32; k];
            c.project(doc, &mut scores);
            scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |b| b.0)
        });
        for (a, best) in assign.iter_mut().zip(nearest) {
            if *a != best {
                moved += 1;
                *a = best;
            }
        }
        if moved == 0 {
            break;
        }
        let mut next = vec![0.0f32; c.centroids.len()];
        let mut members = vec![0usize; k];
        for (doc, &j) in docs.iter().zip(&assign) {
            members[j] += 1;
            for &(t, w) in doc.iter() {
                next[c.rows[t as usize] as usize * k + j] += w;
            }
        }
        let mut norms = vec![0.0f32; k];
        for row in next.chunks(k) {
            for (n, &x) in norms.iter_mut().zip(row) {
                *n += x * x;
            }
        }
        for row in next.chunks_mut(k) {
            for (j, x) in row.iter_mut().enumerate() {
                if norms[j] > 0.0 {
                    *x /= norms[j].sqrt();
                }
            }
        }
        // A cluster left empty keeps its old centroid.
        for (j, &m) in members.iter().enumerate() {
            if m == 0 {
                for (row, old) in next.chunks_mut(k).zip(c.centroids.chunks(k)) {
                    row[j] = old[j];
                }
            }
        }
        c.centroids = next;
    }
    c
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

/// Sublinear tf; counts below one (bigrams, light weights) stay linear so weights stay positive.
#[inline]
fn tf_weight(count: f32) -> f32 {
    if count >= 1.0 {
        1.0 + count.ln()
    } else {
        count
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
    fn idf(&self, term: u32) -> f32 {
        let df = self.df[term as usize].max(1) as f32;
        (1.0 + self.live.max(1) as f32 / df).ln()
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
                self.postings[t as usize].push((slot, w));
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
        let p = &self.params;
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

    /// The part of a slot's vector that is in the inverted index (its strongest terms).
    fn top_vec(&self, slot: u32) -> Vec<(u32, f32)> {
        let Some(doc) = &self.slots[slot as usize] else { return Vec::new() };
        doc.vec.iter().filter(|(t, _)| doc.indexed.binary_search(t).is_ok()).copied().collect()
    }

    fn top_terms(&self, vec: &[(u32, f32)], n: usize) -> Vec<u32> {
        let mut ranked: Vec<(u32, f32)> = vec.to_vec();
        if ranked.len() > n {
            ranked.select_nth_unstable_by(n, |a, b| b.1.total_cmp(&a.1));
            ranked.truncate(n);
        }
        // Sorted, for binary search.
        let mut ids: Vec<u32> = ranked.into_iter().map(|r| r.0).collect();
        ids.sort_unstable();
        ids
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
        self.build_concepts();
        self.expand();
    }

    /// Concept profiles of every clustering run, concatenated; unit length.
    fn profile(&self, top: &[(u32, f32)]) -> Vec<f32> {
        let mut out = Vec::new();
        for c in &self.concepts {
            out.extend(c.profile(top, self.params.concept_sharpen));
        }
        let n = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            out.iter_mut().for_each(|x| *x /= n);
        }
        out
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
        let k = self.params.concepts;
        if k == 0 || self.live < (4 * k) as u32 {
            self.concepts.clear();
            for doc in self.slots.iter_mut().flatten() {
                doc.concept.clear();
            }
            return;
        }
        let tops: Vec<(u32, Vec<(u32, f32)>)> =
            (0..self.slots.len() as u32).filter(|&s| self.slots[s as usize].is_some()).map(|s| (s, self.top_vec(s))).collect();
        let refs: Vec<&[(u32, f32)]> = tops.iter().map(|(_, v)| v.as_slice()).collect();
        self.concepts = (0..self.params.concept_runs.max(1))
            .map(|run| spherical_kmeans(&refs, self.df.len(), k, self.params.concept_iterations, run as u64))
            .collect();
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
        let mut score: f32 = vector.iter().map(|&(t, w)| query[t as usize] * w).sum();
        if self.params.concept_weight > 0.0 && !doc.concept.is_empty() && doc.concept.len() == other.concept.len() {
            score += self.params.concept_weight * doc.concept.iter().zip(&other.concept).map(|(a, b)| a * b).sum::<f32>();
        }
        if self.params.entity_weight > 0.0 && !doc.entities.is_empty() && !other.entities.is_empty() {
            score += self.params.entity_weight * self.entity_cosine(&doc.entities, &other.entities);
        }
        if let (Some(a), Some(b)) = (doc.section, other.section) {
            if a == b {
                score += self.params.section_weight;
            }
        }
        if let (Some(a), Some(b)) = (doc.published_at, other.published_at) {
            let days = (a - b).unsigned_abs() as f32 / 86_400.0;
            score += self.params.recency_weight * (-days / self.params.recency_days).exp();
        }
        score
    }

    fn entity_cosine(&self, a: &[u32], b: &[u32]) -> f32 {
        let norm = |s: &[u32]| s.iter().map(|&e| self.entity_idf(e).powi(2)).sum::<f32>().sqrt();
        let (mut i, mut j, mut shared) = (0, 0, 0.0f32);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += self.entity_idf(a[i]).powi(2);
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
            for &(s, w) in &self.postings[t as usize] {
                let a = &mut acc[s as usize];
                if *a == 0.0 {
                    touched.push(s);
                }
                *a += qw * w;
            }
        }
        let mut cands: Vec<(u32, f32)> = touched.into_iter().map(|s| (s, std::mem::take(&mut acc[s as usize]))).collect();
        if cands.len() > limit {
            cands.select_nth_unstable_by(limit, |a, b| b.1.total_cmp(&a.1));
            cands.truncate(limit);
        }
        cands.into_iter().map(|c| c.0).collect()
    }

    /// Every indexed id (for bulk recomputation).
    pub fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.by_id.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

/// Shared-nearest-neighbour re-ranking, for bulk recomputation when every article's first
/// suggestions are known: a candidate whose own suggestions overlap the article's (and that
/// suggests the article back) sits in the same topic, not just on a shared phrase. On the
/// corpus harness it lifted P@5 from 0.833 to 0.845 over plain TF-IDF but adds nothing on top
/// of the latent concepts, so the engine no longer uses it; the harness still measures it.
pub fn rerank_shared_neighbours(lists: &FxHashMap<i64, Vec<Scored>>, id: i64, k: usize, weight: f32) -> Vec<Scored> {
    let Some(mine) = lists.get(&id) else { return Vec::new() };
    let n = mine.len().max(1) as f32;
    let mut out: Vec<Scored> = mine
        .iter()
        .map(|c| {
            let theirs = lists.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
            let shared = theirs.iter().filter(|t| mine.iter().any(|m| m.id == t.id)).count() as f32 / n;
            let mutual = if theirs.iter().any(|t| t.id == id) { 0.25 } else { 0.0 };
            Scored { id: c.id, score: c.score + weight * (shared + mutual) }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(k);
    out
}

/// Contextual re-ranking, for bulk recomputation: each article is described by its own
/// neighbourhood (itself and its first `depth` suggestions, weighted by score), and a
/// candidate gains `weight` × the cosine of the two neighbourhoods. Softer than counting
/// shared neighbours: a neighbour both rank highly counts more than two distant ones.
pub fn rerank_contextual(lists: &FxHashMap<i64, Vec<Scored>>, id: i64, k: usize, weight: f32, depth: usize) -> Vec<Scored> {
    let Some(mine) = lists.get(&id) else { return Vec::new() };
    let context = |of: i64| -> Vec<(i64, f32)> {
        let list = lists.get(&of).map(Vec::as_slice).unwrap_or(&[]);
        let top = list.first().map_or(1.0, |s| s.score.max(f32::EPSILON));
        let mut v: Vec<(i64, f32)> = std::iter::once((of, 1.0)).chain(list.iter().take(depth).map(|s| (s.id, s.score / top))).collect();
        v.sort_unstable_by_key(|e| e.0);
        v.dedup_by_key(|e| e.0);
        let n = v.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
        v.iter_mut().for_each(|e| e.1 /= n.max(f32::EPSILON));
        v
    };
    let me = context(id);
    let mut out: Vec<Scored> = mine
        .iter()
        .map(|c| {
            let theirs = context(c.id);
            let (mut i, mut j, mut sim) = (0, 0, 0.0f32);
            while i < me.len() && j < theirs.len() {
                match me[i].0.cmp(&theirs[j].0) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        sim += me[i].1 * theirs[j].1;
                        i += 1;
                        j += 1;
                    }
                }
            }
            Scored { id: c.id, score: c.score + weight * sim }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(k);
    out
}

fn normalize(v: &mut [(u32, f32)]) {
    let n = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
    if n > 0.0 {
        for x in v.iter_mut() {
            x.1 /= n;
        }
    }
}

/// Dot product of two vectors sorted by term id.
fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: i64, title: &str, body: &str, entities: &[&str]) -> Doc {
        let f = features(title, body);
        Doc { id, terms: f.terms, signature: f.signature, entities: entities.iter().map(|e| e.to_string()).collect(), ..Doc::default() }
    }

    fn corpus() -> RelatedIndex {
        let mut index = RelatedIndex::new(Params::default());
        let docs = [
            (
                "ارتفاع أسعار النفط في الأسواق العالمية",
                "ارتفعت أسعار النفط اليوم مع تراجع المخزونات الأمريكية وزيادة الطلب على الخام في الأسواق",
            ),
            ("النفط يواصل الصعود", "واصلت أسعار خام النفط صعودها في الأسواق بعد قرار أوبك خفض الإنتاج وتراجع المخزونات"),
            ("أوبك تبحث خفض إنتاج النفط", "تجتمع منظمة أوبك لبحث خفض إنتاج النفط لدعم الأسعار في الأسواق العالمية"),
            ("الفريق يفوز بالكأس", "فاز الفريق بالكأس بعد مباراة نهائية مثيرة سجل فيها المهاجم هدفين"),
            ("المنتخب يستعد للمباراة", "يستعد المنتخب لمباراة ودية قبل البطولة ويأمل المدرب في الفوز وتسجيل الأهداف"),
        ];
        for (i, (t, b)) in docs.iter().enumerate() {
            index.upsert(doc(i as i64 + 1, t, b, &[]));
        }
        index.reweight();
        index
    }

    #[test]
    fn suggests_the_same_topic_and_never_itself() {
        let index = corpus();
        let rel = index.related(1, 2, &[]);
        let ids: Vec<i64> = rel.iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&2) && ids.contains(&3), "{rel:?}");
        let rel = index.related(4, 1, &[]);
        assert_eq!(rel[0].id, 5);
        assert!(index.related(1, 10, &[]).iter().all(|s| s.id != 1));
    }

    #[test]
    fn articles_added_one_by_one_find_each_other_before_any_reweight() {
        let mut index = RelatedIndex::new(Params::default());
        for (i, (t, b)) in corpus_docs().iter().enumerate() {
            index.upsert(doc(i as i64 + 1, t, b, &[]));
        }
        assert_eq!(index.related(2, 2, &[]).iter().map(|s| s.id).collect::<std::collections::BTreeSet<_>>(), [1, 3].into());
        assert_eq!(index.related(1, 2, &[]).iter().map(|s| s.id).collect::<std::collections::BTreeSet<_>>(), [2, 3].into());
    }

    #[test]
    fn excluded_ids_are_skipped() {
        let index = corpus();
        assert!(index.related(1, 5, &[2]).iter().all(|s| s.id != 2));
    }

    #[test]
    fn document_frequencies_follow_removals() {
        let mut index = corpus();
        let before = index.related(1, 3, &[]);
        index.remove(3);
        assert_eq!(index.len(), 4);
        assert!(index.related(1, 3, &[]).iter().all(|s| s.id != 3));
        let f = features("أوبك تبحث خفض إنتاج النفط", "تجتمع منظمة أوبك لبحث خفض إنتاج النفط لدعم الأسعار في الأسواق العالمية");
        index.upsert(Doc { id: 3, terms: f.terms, signature: f.signature, ..Doc::default() });
        index.reweight();
        let after = index.related(1, 3, &[]);
        assert_eq!(before.iter().map(|s| s.id).collect::<Vec<_>>(), after.iter().map(|s| s.id).collect::<Vec<_>>());
        for (a, b) in before.iter().zip(&after) {
            assert!((a.score - b.score).abs() < 1e-5);
        }
    }

    #[test]
    fn near_duplicates_are_linked_to_the_first_copy_and_not_suggested() {
        let mut index = corpus();
        let body = "ارتفعت أسعار النفط اليوم مع تراجع المخزونات الأمريكية وزيادة الطلب على الخام في الأسواق";
        let dup = index.upsert(doc(10, "أسعار النفط ترتفع", &format!("لندن - {body}"), &[]));
        assert_eq!(dup, Some(1));
        assert_eq!(index.duplicate_of(10), Some(1));
        assert_eq!(index.duplicates(1), vec![10]);
        assert!(index.related(1, 5, &[]).iter().all(|s| s.id != 10));
        assert!(index.related(10, 5, &[]).iter().all(|s| s.id != 1));
        // A third article sees one copy of the story, not both.
        let rel: Vec<i64> = index.related(2, 5, &[]).iter().map(|s| s.id).collect();
        assert!(!(rel.contains(&1) && rel.contains(&10)), "{rel:?}");
    }

    #[test]
    fn bigrams_join_adjacent_content_stems_only() {
        let p = FeatureParams { bigram_weight: 0.5, ..FeatureParams::default() };
        let f = features_with("", "أسعار النفط في الأسواق", &p);
        let pairs: Vec<&(String, f32)> = f.terms.iter().filter(|t| t.0.contains(BIGRAM_JOIN)).collect();
        // «في» is a stopword: «النفط في الأسواق» gives no pair.
        assert_eq!(pairs.len(), 1, "{:?}", f.terms);
        assert_eq!(pairs[0].1, 0.5);
        assert!(features("", "أسعار النفط في الأسواق").terms.iter().all(|t| !t.0.contains(BIGRAM_JOIN)));
    }

    #[test]
    fn title_and_lead_words_weigh_more() {
        let p = FeatureParams { title_weight: 2.0, lead_words: 1, lead_weight: 1.5, ..FeatureParams::default() };
        let f = features_with("النفط", "الأسواق الذهب الذهب", &p);
        let w = |word: &str| f.terms.iter().find(|t| t.0 == arabic::analyze(word)[0].stem).map(|t| t.1);
        assert_eq!(w("النفط"), Some(2.0));
        assert_eq!(w("الأسواق"), Some(1.5));
        assert_eq!(w("الذهب"), Some(2.0));
    }

    #[test]
    fn light_counts_keep_a_positive_weight() {
        assert!(tf_weight(0.3) > 0.0 && tf_weight(0.3) < tf_weight(1.0));
        assert_eq!(tf_weight(1.0), 1.0);
        assert!(tf_weight(4.0) < 4.0);
    }

    #[test]
    fn rare_and_ubiquitous_terms_leave_the_vectors() {
        let mut index = RelatedIndex::new(Params { min_df: 2, max_df: 0.9, ..Params::default() });
        let docs = corpus_docs();
        for (i, (t, b)) in docs.iter().enumerate() {
            index.upsert(doc(i as i64 + 1, t, b, &[]));
        }
        index.reweight();
        let n = index.len() as f32;
        for slot in index.slots.iter().flatten() {
            for &(t, _) in &slot.vec {
                let df = index.df[t as usize];
                assert!(df >= 2 && df as f32 <= 0.9 * n, "term with df {df} kept");
            }
        }
        // Still enough left to relate the oil stories.
        assert!(index.related(1, 2, &[]).iter().any(|s| s.id == 2 || s.id == 3));
    }

    #[test]
    fn bm25_saturates_repeated_terms() {
        let mut index = RelatedIndex::new(Params { bm25_k1: 1.2, bm25_b: 0.0, ..Params::default() });
        index.upsert(Doc { id: 1, terms: vec![("a".into(), 1.0), ("b".into(), 20.0)], ..Doc::default() });
        index.upsert(Doc { id: 2, terms: vec![("a".into(), 1.0), ("b".into(), 1.0)], ..Doc::default() });
        index.reweight();
        let v = &index.slot(1).expect("doc").vec;
        // Same idf for a and b: a count of 20 weighs less than (k1 + 1) times a count of 1.
        assert!(v[1].1 / v[0].1 < 2.2, "{v:?}");
    }

    #[test]
    fn concepts_group_articles_of_one_topic() {
        let params = Params { concepts: 2, concept_weight: 0.5, ..Params::default() };
        let mut index = RelatedIndex::new(params);
        let oil = ["النفط الأسعار الخام أوبك", "الخام النفط البرميل الأسواق", "أوبك الإنتاج النفط البرميل", "الأسعار البرميل الخام الإنتاج"];
        let sport =
            ["المباراة الفريق الهدف المدرب", "الفريق الدوري المباراة اللاعب", "الهدف اللاعب المدرب الملعب", "الدوري الملعب الفريق الهدف"];
        let mut id = 0;
        for _ in 0..2 {
            for text in oil.iter().chain(&sport) {
                id += 1;
                index.upsert(doc(id, "", text, &[]));
            }
        }
        index.reweight();
        assert_eq!(index.concepts[0].k, 2);
        let profile = |index: &RelatedIndex, id: i64| index.slot(id).expect("doc").concept.clone();
        let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        // Docs 1 and 4 share one word, 1 and 5 none; their topics still show in the profiles.
        let (p1, p4, p5) = (profile(&index, 1), profile(&index, 4), profile(&index, 5));
        assert!(cos(&p1, &p4) > 0.9, "{p1:?} {p4:?}");
        assert!(cos(&p1, &p5) < 0.5, "{p1:?} {p5:?}");
        // An article added later is placed with the existing concepts.
        index.upsert(doc(100, "", "النفط البرميل أوبك", &[]));
        assert!(cos(&profile(&index, 100), &profile(&index, 2)) > 0.9);
    }

    #[test]
    fn contextual_reranking_prefers_candidates_with_the_same_neighbourhood() {
        let sc = |id: i64, score: f32| Scored { id, score };
        let mut lists: FxHashMap<i64, Vec<Scored>> = FxHashMap::default();
        // 2 and 3 score the same for 1, but 3 shares 1's neighbours (4, 5) and suggests it back.
        lists.insert(1, vec![sc(2, 0.5), sc(3, 0.5), sc(4, 0.4), sc(5, 0.4)]);
        lists.insert(2, vec![sc(9, 0.6), sc(8, 0.5)]);
        lists.insert(3, vec![sc(1, 0.5), sc(4, 0.5), sc(5, 0.4)]);
        let top = rerank_contextual(&lists, 1, 2, 1.0, 10);
        assert_eq!(top[0].id, 3, "{top:?}");
        assert!(top.iter().all(|s| s.id != 1));
        assert_eq!(rerank_shared_neighbours(&lists, 1, 1, 1.0)[0].id, 3);
    }

    #[test]
    fn document_expansion_borrows_neighbours_words() {
        let mut index = RelatedIndex::new(Params { expand_docs: 1, expand_weight: 1.0, ..Params::default() });
        for (i, (t, b)) in corpus_docs().iter().enumerate() {
            index.upsert(doc(i as i64 + 1, t, b, &[]));
        }
        index.reweight();
        let a = index.slot(1).expect("doc");
        assert!(!a.xvec.is_empty());
        let own: Vec<u32> = a.vec.iter().map(|e| e.0).collect();
        assert!(a.xvec.iter().any(|e| !own.contains(&e.0)), "expanded vector has words of its neighbour");
        assert!((a.xvec.iter().map(|e| e.1 * e.1).sum::<f32>() - 1.0).abs() < 1e-4);
    }

    fn corpus_docs() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "ارتفاع أسعار النفط في الأسواق العالمية",
                "ارتفعت أسعار النفط اليوم مع تراجع المخزونات الأمريكية وزيادة الطلب على الخام في الأسواق",
            ),
            ("النفط يواصل الصعود", "واصلت أسعار خام النفط صعودها في الأسواق بعد قرار أوبك خفض الإنتاج وتراجع المخزونات"),
            ("أوبك تبحث خفض إنتاج النفط", "تجتمع منظمة أوبك لبحث خفض إنتاج النفط لدعم الأسعار في الأسواق العالمية"),
            ("الفريق يفوز بالكأس", "فاز الفريق بالكأس بعد مباراة نهائية مثيرة سجل فيها المهاجم هدفين"),
            ("المنتخب يستعد للمباراة", "يستعد المنتخب لمباراة ودية قبل البطولة ويأمل المدرب في الفوز وتسجيل الأهداف"),
        ]
    }

    #[test]
    fn shared_entities_raise_the_score() {
        let mut index = RelatedIndex::new(Params::default());
        index.upsert(doc(1, "زيارة رسمية", "بدأ الرئيس زيارة رسمية تستمر ثلاثة أيام", &["موسكو"]));
        index.upsert(doc(2, "زيارة رسمية أخرى", "بدأ الوزير زيارة رسمية تستمر يومين", &["موسكو"]));
        index.upsert(doc(3, "زيارة رسمية ثالثة", "بدأ الوفد زيارة رسمية تستمر أسبوعا", &["باريس"]));
        let rel = index.related(1, 2, &[]);
        assert_eq!(rel[0].id, 2, "{rel:?}");
    }
}
