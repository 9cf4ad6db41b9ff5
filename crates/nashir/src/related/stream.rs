//! The pass over the whole archive (`nashir import --related`, `nashir reindex`, a follower
//! that fell far behind) without the archive in memory. The in-memory [`RelatedIndex`]
//! holds every article's vectors (about 6 KB an article: 2.16 GB at 200,000 articles); this
//! pass keeps them in unlinked temporary files and holds in memory only what grows with the
//! vocabulary (term and entity ids, document frequencies, the concept centroids), one batch
//! of articles, and a few bytes per article (file offsets, a per-thread score accumulator).
//!
//! It computes what the in-memory index computes, step for step, with the same functions
//! (`index::Weights`, `index::boosts`, `index::ConceptModel`):
//!
//! 1. read: articles in id order, a batch at a time; analysis and entities (or the import's
//!    analyses made ahead); term counts, entities and signatures go to file `A`, document
//!    frequencies stay in memory;
//! 2. duplicates: per MinHash band, the articles sharing a bucket, checked in id order as
//!    the index's insertion does (only signatures are read, from file `S`);
//! 3. weigh: every vector with the final document frequencies; postings of each article's
//!    strongest terms go to file `P`, then are sorted by term into file `Q` in
//!    memory-bounded slices; latent concepts are fitted on at most [`CONCEPT_SAMPLE`] articles
//!    (every article of archives up to that size, so their result is the index's); each
//!    article's scoring record (vector, concept profile, entities…) goes to file `B`;
//! 4. suggest and write: a batch at a time, candidates from the postings of the article's
//!    strongest terms (read from `Q`: the first [`Params::posting_depth`] of each), the best [`Params::candidates`] scored exactly from
//!    their records in `B`, and the batch written (`store::related::write_range`).
//!
//! Rocchio feedback and document expansion (`Params::feedback_*`, `expand_docs`, both off by
//! default) are not applied here.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;

use rustc_hash::FxHashMap;

use super::dupes::{self, Signature, SIGNATURE_LEN};
use super::index::{
    best_candidates, boosts, depth, features, parallel_map, posting_order, top_part, top_terms, ConceptModel, Features, Params, Traits,
    Weights,
};
use super::prepare::Prepared;
use crate::entities::{self, Found, Kind};
use crate::store::related::{self as db, Computed, IdRange, Source};
use crate::store::{Store, StoreResult};

/// Where the pass keeps its temporary files (about 3.5 KB an article): the data directory's
/// `tmp/` once a command has set it, so they land on the data disk — `/tmp` is often a RAM
/// disk (tmpfs), where they would take the memory this pass is built to leave alone.
static SCRATCH_DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Sets the folder for the pass's temporary files (created if missing); the first call wins.
pub fn set_scratch_dir(dir: std::path::PathBuf) {
    let _ = std::fs::create_dir_all(&dir);
    let _ = SCRATCH_DIR.set(dir);
}

/// An unlinked temporary file in the scratch folder (the system's temporary folder when none
/// was set, or when it is not writable).
fn scratch_file() -> std::io::Result<std::fs::File> {
    match SCRATCH_DIR.get() {
        Some(dir) => tempfile::tempfile_in(dir).or_else(|_| tempfile::tempfile()),
        None => tempfile::tempfile(),
    }
}

/// Articles read, analysed, suggested and written at a time.
const BATCH: i64 = 1000;
/// Articles the latent concepts are fitted on, at most (evenly spread over the archive):
/// k-means needs every fitted vector in memory for its iterations.
pub(crate) const CONCEPT_SAMPLE: usize = 20_000;
/// Postings sorted by term in memory at a time (8 bytes each).
const SORT_SLICE: usize = 2 << 20;

fn io(e: std::io::Error) -> crate::store::StoreError {
    crate::store::StoreError::Scratch(e)
}

/// Terms, entities and sections by id, and their document frequencies: grows with the
/// vocabulary, not with the number of articles.
#[derive(Default)]
struct Vocabulary {
    terms: FxHashMap<String, u32>,
    df: Vec<u32>,
    entities: FxHashMap<String, u32>,
    entity_df: Vec<u32>,
    sections: FxHashMap<String, u32>,
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

/// Little-endian record encoding for the temporary files.
#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn i64(&mut self, x: i64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn f32(&mut self, x: f32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn pairs(&mut self, v: &[(u32, f32)]) {
        self.u32(v.len() as u32);
        for &(t, w) in v {
            self.u32(t);
            self.f32(w);
        }
    }
    fn ids(&mut self, v: &[u32]) {
        self.u32(v.len() as u32);
        v.iter().for_each(|&x| self.u32(x));
    }
    fn floats(&mut self, v: &[f32]) {
        self.u32(v.len() as u32);
        v.iter().for_each(|&x| self.f32(x));
    }
    fn opt_u32(&mut self, x: Option<u32>) {
        self.u32(x.unwrap_or(u32::MAX));
    }
    fn opt_i64(&mut self, x: Option<i64>) {
        self.u32(u32::from(x.is_some()));
        self.i64(x.unwrap_or(0));
    }
}

struct In<'a>(&'a [u8]);

impl In<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().expect("4 bytes"))
    }
    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take(8).try_into().expect("8 bytes"))
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take(4).try_into().expect("4 bytes"))
    }
    fn str(&mut self) -> String {
        let n = self.u32() as usize;
        String::from_utf8_lossy(self.take(n)).into_owned()
    }
    fn pairs_into(&mut self, v: &mut Vec<(u32, f32)>) {
        v.clear();
        let n = self.u32() as usize;
        v.extend((0..n).map(|_| (self.u32(), self.f32())));
    }
    fn ids_into(&mut self, v: &mut Vec<u32>) {
        v.clear();
        let n = self.u32() as usize;
        v.extend((0..n).map(|_| self.u32()));
    }
    fn floats_into(&mut self, v: &mut Vec<f32>) {
        v.clear();
        let n = self.u32() as usize;
        v.extend((0..n).map(|_| self.f32()));
    }
    fn opt_u32(&mut self) -> Option<u32> {
        Some(self.u32()).filter(|&x| x != u32::MAX)
    }
    fn opt_i64(&mut self) -> Option<i64> {
        let some = self.u32() == 1;
        let x = self.i64();
        some.then_some(x)
    }
}

fn kind_code(kind: Kind) -> u32 {
    match kind {
        Kind::Person => 0,
        Kind::Place => 1,
        Kind::Org => 2,
    }
}

fn kind_of(code: u32) -> Kind {
    match code {
        0 => Kind::Person,
        1 => Kind::Place,
        _ => Kind::Org,
    }
}

fn put_found(out: &mut Out, found: &[Found]) {
    out.u32(found.len() as u32);
    for f in found {
        out.u32(kind_code(f.kind));
        out.str(&f.name);
        out.str(&f.key);
        out.u32(f.mentions);
    }
}

fn get_found(input: &mut In) -> Vec<Found> {
    let n = input.u32() as usize;
    (0..n).map(|_| Found { kind: kind_of(input.u32()), name: input.str(), key: input.str(), mentions: input.u32() }).collect()
}

/// Writes length-prefixed records one after another.
struct RecordWriter {
    out: BufWriter<File>,
    at: u64,
}

impl RecordWriter {
    fn new() -> StoreResult<RecordWriter> {
        Ok(RecordWriter { out: BufWriter::with_capacity(1 << 20, scratch_file().map_err(io)?), at: 0 })
    }

    /// Returns the record's offset.
    fn push(&mut self, record: &[u8]) -> StoreResult<u64> {
        let at = self.at;
        self.out.write_all(&(record.len() as u32).to_le_bytes()).map_err(io)?;
        self.out.write_all(record).map_err(io)?;
        self.at += 4 + record.len() as u64;
        Ok(at)
    }

    fn finish(self) -> StoreResult<File> {
        self.out.into_inner().map_err(|e| io(e.into_error()))
    }
}

/// Reads the records of a [`RecordWriter`] in order.
struct RecordReader {
    input: BufReader<File>,
    buf: Vec<u8>,
}

impl RecordReader {
    fn new(file: &File) -> StoreResult<RecordReader> {
        let mut file = file.try_clone().map_err(io)?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).map_err(io)?;
        Ok(RecordReader { input: BufReader::with_capacity(1 << 20, file), buf: Vec::new() })
    }

    fn next(&mut self) -> StoreResult<&[u8]> {
        let mut len = [0u8; 4];
        self.input.read_exact(&mut len).map_err(io)?;
        self.buf.resize(u32::from_le_bytes(len) as usize, 0);
        self.input.read_exact(&mut self.buf).map_err(io)?;
        Ok(&self.buf)
    }
}

/// File `A`: what the analysis found, with ids from the vocabulary.
struct Analysed {
    id: i64,
    section: Option<u32>,
    published_at: Option<i64>,
    len: f32,
    terms: Vec<(u32, f32)>,
    entities: Vec<u32>,
    found: Vec<Found>,
}

impl Analysed {
    fn encode(&self, out: &mut Out) {
        out.i64(self.id);
        out.opt_u32(self.section);
        out.opt_i64(self.published_at);
        out.f32(self.len);
        out.pairs(&self.terms);
        out.ids(&self.entities);
        put_found(out, &self.found);
    }

    fn decode(bytes: &[u8]) -> Analysed {
        let mut input = In(bytes);
        let id = input.i64();
        let section = input.opt_u32();
        let published_at = input.opt_i64();
        let len = input.f32();
        let mut terms = Vec::new();
        input.pairs_into(&mut terms);
        let mut entities = Vec::new();
        input.ids_into(&mut entities);
        let found = get_found(&mut input);
        Analysed { id, section, published_at, len, terms, entities, found }
    }
}

/// File `B`: what scoring reads of an article (decoded into reused buffers).
#[derive(Default)]
struct Scoring {
    id: i64,
    duplicate_of: Option<i64>,
    section: Option<u32>,
    published_at: Option<i64>,
    vec: Vec<(u32, f32)>,
    concept: Vec<f32>,
    entities: Vec<u32>,
}

impl Scoring {
    fn traits(&self) -> Traits<'_> {
        Traits { concept: &self.concept, entities: &self.entities, section: self.section, published_at: self.published_at }
    }

    fn decode_from(&mut self, bytes: &[u8]) {
        let mut input = In(bytes);
        self.id = input.i64();
        self.duplicate_of = input.opt_i64();
        self.section = input.opt_u32();
        self.published_at = input.opt_i64();
        input.pairs_into(&mut self.vec);
        input.floats_into(&mut self.concept);
        input.ids_into(&mut self.entities);
    }
}

/// Signatures by slot, fixed size, in file `S`.
const SIG_BYTES: usize = 1 + SIGNATURE_LEN * 4;

fn encode_signature(sig: Option<&Signature>, out: &mut Vec<u8>) {
    out.push(u8::from(sig.is_some()));
    for i in 0..SIGNATURE_LEN {
        out.extend_from_slice(&sig.map_or(0, |s| s[i]).to_le_bytes());
    }
}

fn decode_signature(bytes: &[u8]) -> Option<Signature> {
    if bytes[0] == 0 {
        return None;
    }
    let mut sig = [0u32; SIGNATURE_LEN];
    for (i, x) in sig.iter_mut().enumerate() {
        *x = u32::from_le_bytes(bytes[1 + i * 4..5 + i * 4].try_into().expect("4 bytes"));
    }
    Some(sig)
}

fn read_signature(file: &File, slot: u32) -> StoreResult<Option<Signature>> {
    let mut buf = [0u8; SIG_BYTES];
    file.read_exact_at(&mut buf, slot as u64 * SIG_BYTES as u64).map_err(io)?;
    Ok(decode_signature(&buf))
}

/// Runs `work` off the async workers when the runtime allows (see `engine::cpu_bound`).
fn cpu_bound<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Recomputes and writes every published article's suggestions, duplicate link and entities.
/// Returns the number of articles and the newest change the pass covers.
pub(super) async fn full_pass(store: &Store, prepared: &Prepared, params: &Params) -> StoreResult<(usize, i64)> {
    let covered = store.last_change_seq().await?;
    let started = std::time::Instant::now();

    // 1. Read and analyse.
    let mut vocab = Vocabulary::default();
    let mut a_file = RecordWriter::new()?;
    let mut s_file = BufWriter::with_capacity(1 << 20, scratch_file().map_err(io)?);
    let mut ids: Vec<i64> = Vec::new();
    let mut total_len = 0f64;
    let mut after = i64::MIN;
    let mut record = Out::default();
    let mut sig_bytes = Vec::with_capacity(SIG_BYTES);
    loop {
        let batch = db::published_sources(store, after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        prepared.claim(after);
        let analysed: Vec<(Features, Vec<Found>)> = cpu_bound(|| {
            let ready: Vec<Option<(Features, Vec<Found>)>> =
                batch.iter().map(|s| prepared.take(s).map(|a| (a.features, a.found))).collect();
            let todo: Vec<&Source> = batch.iter().zip(&ready).filter(|(_, r)| r.is_none()).map(|(s, _)| s).collect();
            let mut fresh = parallel_map(&todo, |s| (features(&s.title, &s.text), entities::extract(&s.title, &s.text))).into_iter();
            ready.into_iter().map(|r| r.unwrap_or_else(|| fresh.next().expect("one analysis per article"))).collect()
        });
        for (source, (f, found)) in batch.iter().zip(analysed) {
            let mut terms: Vec<(u32, f32)> = f.terms.iter().map(|(t, c)| (intern(&mut vocab.terms, &mut vocab.df, t), *c)).collect();
            terms.sort_unstable_by_key(|t| t.0);
            for &(t, _) in &terms {
                vocab.df[t as usize] += 1;
            }
            let len: f32 = terms.iter().map(|t| t.1).sum();
            total_len += f64::from(len);
            // People and organisations, not places (see `engine::doc_with`).
            let mut entity_ids: Vec<u32> =
                found.iter().filter(|e| e.kind != Kind::Place).map(|e| intern(&mut vocab.entities, &mut vocab.entity_df, &e.key)).collect();
            entity_ids.sort_unstable();
            entity_ids.dedup();
            for &e in &entity_ids {
                vocab.entity_df[e as usize] += 1;
            }
            let section = source.section.as_deref().filter(|s| !s.is_empty()).map(|s| {
                let next = vocab.sections.len() as u32;
                *vocab.sections.entry(s.to_string()).or_insert(next)
            });
            record.0.clear();
            Analysed { id: source.id, section, published_at: source.published_at, len, terms, entities: entity_ids, found }
                .encode(&mut record);
            a_file.push(&record.0)?;
            sig_bytes.clear();
            encode_signature(f.signature.as_ref(), &mut sig_bytes);
            s_file.write_all(&sig_bytes).map_err(io)?;
            ids.push(source.id);
        }
    }
    prepared.stop();
    let a_file = a_file.finish()?;
    let s_file = s_file.into_inner().map_err(|e| io(e.into_error()))?;
    let read_s = started.elapsed().as_secs_f64();
    let live = ids.len() as u32;

    // 2. Near-duplicates, in id order as the index finds them at insertion.
    let t = std::time::Instant::now();
    let duplicate_of = cpu_bound(|| find_duplicates(&s_file, &ids, params.duplicate_threshold))?;

    // 3. Weigh; postings; concepts; scoring records.
    let weights = Weights { params, df: &vocab.df, live, total_len };
    let n_terms = vocab.df.len();
    let stride = ids.len().div_ceil(CONCEPT_SAMPLE).max(1);
    let mut sample: Vec<Vec<(u32, f32)>> = Vec::new();
    let mut p_file = BufWriter::with_capacity(1 << 20, scratch_file().map_err(io)?);
    let mut per_term = vec![0u64; n_terms + 1];
    {
        let mut reader = RecordReader::new(&a_file)?;
        for slot in 0..ids.len() {
            let a = Analysed::decode(reader.next()?);
            let vec = weights.weigh(&a.terms, a.len, true);
            let indexed = top_terms(&vec, params.index_terms);
            for &(t, w) in &vec {
                if indexed.binary_search(&t).is_ok() {
                    per_term[t as usize] += 1;
                    p_file.write_all(&t.to_le_bytes()).map_err(io)?;
                    p_file.write_all(&(slot as u32).to_le_bytes()).map_err(io)?;
                    p_file.write_all(&w.to_le_bytes()).map_err(io)?;
                }
            }
            if slot % stride == 0 {
                sample.push(top_part(&vec, &indexed));
            }
        }
    }
    let p_file = p_file.into_inner().map_err(|e| io(e.into_error()))?;
    // Offsets of each term's postings (in entries) in `Q`.
    let mut starts = vec![0u64; n_terms + 1];
    for t in 0..n_terms {
        starts[t + 1] = starts[t] + per_term[t];
    }
    drop(per_term);
    let q_file = cpu_bound(|| sort_postings(&p_file, &starts, SORT_SLICE))?;
    drop(p_file);
    let concepts = cpu_bound(|| {
        let refs: Vec<&[(u32, f32)]> = sample.iter().map(Vec::as_slice).collect();
        ConceptModel::fit(params, &refs, n_terms)
    });
    drop(sample);
    let mut b_file = RecordWriter::new()?;
    let mut b_offsets: Vec<u64> = Vec::with_capacity(ids.len() + 1);
    {
        let mut reader = RecordReader::new(&a_file)?;
        for slot in 0..ids.len() {
            let a = Analysed::decode(reader.next()?);
            let vec = weights.weigh(&a.terms, a.len, true);
            let indexed = top_terms(&vec, params.index_terms);
            let concept = concepts.profile(&top_part(&vec, &indexed), params.concept_sharpen);
            record.0.clear();
            record.i64(a.id);
            record.opt_i64(duplicate_of.get(&(slot as u32)).copied());
            record.opt_u32(a.section);
            record.opt_i64(a.published_at);
            record.pairs(&vec);
            record.floats(&concept);
            record.ids(&a.entities);
            b_offsets.push(b_file.push(&record.0)?);
        }
    }
    b_offsets.push(b_file.at);
    let b_file = b_file.finish()?;
    let index_s = t.elapsed().as_secs_f64();

    // 4. Suggest and write, a batch at a time.
    let t = std::time::Instant::now();
    let choices = db::all_editor_choices(store).await?;
    let none = (Vec::new(), Vec::new());
    let entity_idf = |e: u32| {
        let df = vocab.entity_df[e as usize].max(1) as f32;
        (1.0 + live.max(1) as f32 / df).ln()
    };
    let files = Files { b: &b_file, b_offsets: &b_offsets, q: &q_file, q_starts: &starts, s: &s_file };
    let mut a_reader = RecordReader::new(&a_file)?;
    let (mut suggest_s, mut write_s) = (0.0, 0.0);
    let mut range_after = i64::MIN;
    let slots: Vec<u32> = (0..ids.len() as u32).collect();
    for (n, chunk) in slots.chunks(BATCH as usize).enumerate() {
        let ts = std::time::Instant::now();
        let lists = cpu_bound(|| {
            parallel_map(chunk, |&slot| {
                let (pinned, removed) = choices.get(&ids[slot as usize]).unwrap_or(&none);
                let mut exclude = removed.clone();
                exclude.extend_from_slice(pinned);
                files.related(params, &entity_idf, slot, super::STORED, &exclude)
            })
        });
        let mut computed = Vec::with_capacity(chunk.len());
        for (&slot, related) in chunk.iter().zip(lists) {
            let a = Analysed::decode(a_reader.next()?);
            computed.push(Computed {
                article_id: a.id,
                related: related?,
                duplicate_of: duplicate_of.get(&slot).copied(),
                entities: a.found,
                related_only: false,
            });
        }
        suggest_s += ts.elapsed().as_secs_f64();
        let tw = std::time::Instant::now();
        let last = (n + 1) * BATCH as usize >= slots.len();
        let upto = if last { None } else { computed.last().map(|c| c.article_id) };
        db::write_range(store, IdRange { after: range_after, upto }, &computed, last).await?;
        range_after = upto.unwrap_or(i64::MAX);
        write_s += tw.elapsed().as_secs_f64();
    }
    if slots.is_empty() {
        db::write_range(store, IdRange { after: i64::MIN, upto: None }, &[], true).await?;
    }
    tracing::info!(
        articles = ids.len(),
        analysed_ahead = prepared.reused(),
        read_and_analyse_s = read_s,
        index_s,
        suggest_s,
        write_s,
        total_s = t.elapsed().as_secs_f64() + read_s + index_s,
        "related: whole archive recomputed (streaming)"
    );
    Ok((ids.len(), covered))
}

/// For each article (by slot, in id order) the earliest article it duplicates, as
/// `RelatedIndex::find_duplicate` decides it at insertion: among the earlier articles sharing
/// a MinHash bucket with it and similar enough, the lowest root (the original of a chain).
fn find_duplicates(s_file: &File, ids: &[i64], threshold: f32) -> StoreResult<FxHashMap<u32, i64>> {
    // (later, earlier) slots sharing a bucket, one band at a time (8 bytes an article).
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for band in 0..dupes::BANDS {
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(ids.len());
        let mut reader = BufReader::with_capacity(1 << 20, s_file.try_clone().map_err(io)?);
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(0)).map_err(io)?;
        let mut buf = [0u8; SIG_BYTES];
        for slot in 0..ids.len() as u32 {
            reader.read_exact(&mut buf).map_err(io)?;
            if let Some(sig) = decode_signature(&buf) {
                let key = dupes::band_keys(&sig).nth(band).expect("one key per band").1;
                keys.push((key, slot));
            }
        }
        keys.sort_unstable();
        for group in keys.chunk_by(|a, b| a.0 == b.0) {
            for (j, later) in group.iter().enumerate() {
                pairs.extend(group[..j].iter().map(|earlier| (later.1, earlier.1)));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut duplicate_of: FxHashMap<u32, i64> = FxHashMap::default();
    for group in pairs.chunk_by(|a, b| a.0 == b.0) {
        let slot = group[0].0;
        let Some(sig) = read_signature(s_file, slot)? else { continue };
        let mut best: Option<i64> = None;
        for &(_, earlier) in group {
            let Some(other) = read_signature(s_file, earlier)? else { continue };
            if ids[earlier as usize] == ids[slot as usize] {
                continue;
            }
            if dupes::similarity(&sig, &other) >= threshold {
                let root = duplicate_of.get(&earlier).copied().unwrap_or(ids[earlier as usize]);
                if root != ids[slot as usize] && best.is_none_or(|b| root < b) {
                    best = Some(root);
                }
            }
        }
        if let Some(root) = best {
            duplicate_of.insert(slot, root);
        }
    }
    Ok(duplicate_of)
}

/// Sorts the postings of `p` (term, slot, weight; in slot order) by term into a new file of
/// (slot, weight) entries, term `t`'s at entries `starts[t]..starts[t + 1]`, each term's
/// strongest first (`index::posting_order`, as the in-memory index keeps them), so a query
/// reads only the head of each list ([`Params::posting_depth`]). A slice of terms at a time,
/// so at most `slice` entries ([`SORT_SLICE`]) are in memory (more only when one term alone
/// has more).
fn sort_postings(p: &File, starts: &[u64], slice: usize) -> StoreResult<File> {
    let q = scratch_file().map_err(io)?;
    let n_terms = starts.len() - 1;
    let mut first = 0;
    while first < n_terms {
        let mut end = first + 1;
        while end < n_terms && starts[end + 1] - starts[first] <= slice as u64 {
            end += 1;
        }
        let base = starts[first];
        let mut slice = vec![0u8; ((starts[end] - base) * 8) as usize];
        let mut cursor: Vec<u64> = starts[first..end].iter().map(|s| s - base).collect();
        let mut reader = BufReader::with_capacity(1 << 20, p.try_clone().map_err(io)?);
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(0)).map_err(io)?;
        let mut entry = [0u8; 12];
        loop {
            match reader.read_exact(&mut entry) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(io(e)),
            }
            let t = u32::from_le_bytes(entry[..4].try_into().expect("4 bytes")) as usize;
            if (first..end).contains(&t) {
                let at = cursor[t - first] as usize * 8;
                slice[at..at + 8].copy_from_slice(&entry[4..]);
                cursor[t - first] += 1;
            }
        }
        let mut entries: Vec<(u32, f32)> = Vec::new();
        for t in first..end {
            let bytes = &mut slice[((starts[t] - base) * 8) as usize..((starts[t + 1] - base) * 8) as usize];
            entries.clear();
            entries.extend(bytes.chunks_exact(8).map(|e| {
                (u32::from_le_bytes(e[..4].try_into().expect("4 bytes")), f32::from_le_bytes(e[4..].try_into().expect("4 bytes")))
            }));
            entries.sort_unstable_by(posting_order);
            for (e, &(s, w)) in bytes.chunks_exact_mut(8).zip(&entries) {
                e[..4].copy_from_slice(&s.to_le_bytes());
                e[4..].copy_from_slice(&w.to_le_bytes());
            }
        }
        q.write_all_at(&slice, base * 8).map_err(io)?;
        first = end;
    }
    Ok(q)
}

/// The pass's files, read at random during the suggestions (`pread`, so nothing is mapped
/// into the process: the kernel's page cache holds what is hot, and gives it back).
struct Files<'a> {
    b: &'a File,
    b_offsets: &'a [u64],
    q: &'a File,
    q_starts: &'a [u64],
    s: &'a File,
}

/// Per-thread buffers of the suggestions.
#[derive(Default)]
struct Scratch {
    /// Candidate score accumulator, by slot (4 bytes an article).
    acc: Vec<f32>,
    /// The query vector by term id.
    dense: Vec<f32>,
    bytes: Vec<u8>,
    query: Scoring,
    other: Scoring,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Files<'_> {
    fn load(&self, slot: u32, bytes: &mut Vec<u8>, into: &mut Scoring) -> StoreResult<()> {
        let (start, end) = (self.b_offsets[slot as usize], self.b_offsets[slot as usize + 1]);
        bytes.resize((end - start) as usize, 0);
        self.b.read_exact_at(bytes, start).map_err(io)?;
        into.decode_from(&bytes[4..]);
        Ok(())
    }

    /// `RelatedIndex::related`, over the files: the same candidates, scores and order.
    fn related(
        &self,
        params: &Params,
        entity_idf: &(impl Fn(u32) -> f32 + Sync),
        slot: u32,
        k: usize,
        exclude: &[i64],
    ) -> StoreResult<Vec<(i64, f32)>> {
        SCRATCH.with(|scratch| {
            let scratch = &mut *scratch.borrow_mut();
            let Scratch { acc, dense, bytes, query, other } = scratch;
            self.load(slot, bytes, query)?;
            // Candidates: partial dot products over the postings of the strongest terms.
            let n_slots = self.b_offsets.len() - 1;
            if acc.len() < n_slots {
                acc.resize(n_slots, 0.0);
            }
            let mut touched: Vec<u32> = Vec::new();
            let mut postings: Vec<u8> = Vec::new();
            for t in top_terms(&query.vec, params.query_terms) {
                let qw = query.vec.iter().find(|q| q.0 == t).map_or(0.0, |q| q.1);
                let start = self.q_starts[t as usize];
                let len = depth(params, (self.q_starts[t as usize + 1] - start) as usize);
                postings.resize(len * 8, 0);
                self.q.read_exact_at(&mut postings, start * 8).map_err(io)?;
                for entry in postings.chunks_exact(8) {
                    let s = u32::from_le_bytes(entry[..4].try_into().expect("4 bytes"));
                    let w = f32::from_le_bytes(entry[4..].try_into().expect("4 bytes"));
                    let a = &mut acc[s as usize];
                    if *a == 0.0 {
                        touched.push(s);
                    }
                    *a += qw * w;
                }
            }
            let mut cands: Vec<(u32, f32)> = touched.into_iter().map(|s| (s, std::mem::take(&mut acc[s as usize]))).collect();
            best_candidates(&mut cands, params.candidates);
            // Exact scores.
            if dense.len() < self.q_starts.len() {
                dense.resize(self.q_starts.len(), 0.0);
            }
            for &(t, w) in &query.vec {
                dense[t as usize] = w;
            }
            let mut scored: Vec<(u32, f32, i64, Option<i64>)> = Vec::with_capacity(cands.len());
            let mut failed = None;
            for &(s, _) in &cands {
                if let Err(e) = self.load(s, bytes, other) {
                    failed = Some(e);
                    break;
                }
                if exclude.contains(&other.id) {
                    continue;
                }
                let cosine: f32 = other.vec.iter().map(|&(t, w)| dense[t as usize] * w).sum();
                let score = cosine + boosts(params, entity_idf, &query.traits(), &other.traits());
                scored.push((s, score, other.id, other.duplicate_of));
            }
            for &(t, _) in &query.vec {
                dense[t as usize] = 0.0;
            }
            if let Some(e) = failed {
                return Err(e);
            }
            scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            // One copy of a story is enough; never the article itself or a near-duplicate.
            let signature = read_signature(self.s, slot)?;
            let dup_root = query.duplicate_of.unwrap_or(query.id);
            let mut roots: Vec<i64> = Vec::with_capacity(k);
            let mut out = Vec::with_capacity(k);
            for (s, score, id, duplicate_of) in scored {
                let root = duplicate_of.unwrap_or(id);
                if roots.contains(&root) || id == query.id || root == dup_root {
                    continue;
                }
                if let Some(sig) = &signature {
                    if read_signature(self.s, s)?.is_some_and(|o| dupes::similarity(sig, &o) >= params.duplicate_threshold) {
                        continue;
                    }
                }
                roots.push(root);
                out.push((id, score));
                if out.len() == k {
                    break;
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Postings written in slot order come out grouped by term, strongest first, whether the
    /// sort takes every term at once or a slice of a few entries at a time (a 200,000-article
    /// archive needs several slices; a small test archive never would).
    #[test]
    fn postings_are_sorted_by_term_in_slices() {
        // (term, slot, weight) in slot order.
        let entries: &[(u32, u32, f32)] =
            &[(2, 0, 0.5), (0, 0, 0.1), (1, 1, 0.2), (2, 1, 0.3), (0, 2, 0.4), (3, 2, 0.9), (2, 3, 0.7), (0, 4, 0.6), (2, 4, 0.8)];
        let mut p = tempfile::tempfile().unwrap();
        let mut counts = [0u64; 4];
        for &(t, s, w) in entries {
            p.write_all(&t.to_le_bytes()).unwrap();
            p.write_all(&s.to_le_bytes()).unwrap();
            p.write_all(&w.to_le_bytes()).unwrap();
            counts[t as usize] += 1;
        }
        let mut starts = vec![0u64; 5];
        for t in 0..4 {
            starts[t + 1] = starts[t] + counts[t];
        }
        // Each term's list strongest first (term 0's entries came in as 0.1, 0.4, 0.6).
        let expected: Vec<(u32, f32)> = (0..4u32)
            .flat_map(|t| {
                let mut list: Vec<(u32, f32)> = entries.iter().filter(|e| e.0 == t).map(|e| (e.1, e.2)).collect();
                list.sort_by(|a, b| b.1.total_cmp(&a.1));
                list
            })
            .collect();
        assert_eq!(&expected[..3], &[(4, 0.6), (2, 0.4), (0, 0.1)]);
        for slice in [1, 2, 3, 100] {
            let q = sort_postings(&p, &starts, slice).unwrap();
            let mut bytes = vec![0u8; entries.len() * 8];
            q.read_exact_at(&mut bytes, 0).unwrap();
            let got: Vec<(u32, f32)> = bytes
                .chunks_exact(8)
                .map(|e| (u32::from_le_bytes(e[..4].try_into().unwrap()), f32::from_le_bytes(e[4..].try_into().unwrap())))
                .collect();
            assert_eq!(got, expected, "slice of {slice}");
        }
    }

    #[test]
    fn records_read_back_as_written() {
        let found = vec![Found { kind: Kind::Org, name: "الأمم المتحدة".into(), key: "امم متحده".into(), mentions: 3 }];
        let a =
            Analysed { id: 42, section: Some(2), published_at: None, len: 7.5, terms: vec![(1, 2.0), (9, 1.0)], entities: vec![4], found };
        let mut out = Out::default();
        a.encode(&mut out);
        let b = Analysed::decode(&out.0);
        assert_eq!(
            (b.id, b.section, b.published_at, b.len, b.terms, b.entities),
            (42, Some(2), None, 7.5, vec![(1, 2.0), (9, 1.0)], vec![4])
        );
        assert_eq!((b.found[0].kind, b.found[0].name.as_str(), b.found[0].mentions), (Kind::Org, "الأمم المتحدة", 3));
    }
}
