//! Search quality and speed harness over the shared corpus (test data, never shipped).
//!
//!     cargo run --release -p nashir --example search_quality [-- CORPUS.jsonl.gz [QUERIES]]
//!
//! Imports the corpus into a temporary SQLite store, builds the search index, then runs
//! known-item queries made from titles the way readers type them (hamza dropped, ة as ه,
//! ى as ي, ال or و added or removed, two to four words). Prints MRR@10 and hit@10 for
//! Nashir's index and for a baseline index over plain whitespace tokens, indexing speed,
//! and query latency percentiles.

use std::io::BufRead;
use std::time::Instant;

use nashir::domain::{ArticleDraft, Block, Headline};
use nashir::search::{query, SearchIndex, SearchRequest};
use nashir::Store;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{Schema, TextFieldIndexing, TextOptions, Value, STORED};
use tantivy::tokenizer::{LowerCaser, TextAnalyzer, WhitespaceTokenizer};
use tantivy::{doc, Index, TantivyDocument};

struct Doc {
    title: String,
    body: String,
    category: String,
}

/// Deterministic xorshift, so every run asks the same queries.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Rewrites a title word as a hurried reader would type it.
fn as_typed(word: &str, rng: &mut Rng) -> String {
    let mut w: String = word.chars().filter(|c| !('\u{064B}'..='\u{0652}').contains(c) && *c != 'ـ').collect();
    if rng.chance(0.8) {
        w = w.replace(['أ', 'إ', 'آ'], "ا");
    }
    if rng.chance(0.5) && w.ends_with('ة') {
        w = format!("{}ه", w.trim_end_matches('ة'));
    }
    if rng.chance(0.5) && w.ends_with('ى') {
        w = format!("{}ي", w.trim_end_matches('ى'));
    }
    if w.starts_with("ال") && w.chars().count() > 4 && rng.chance(0.3) {
        w = w.chars().skip(2).collect();
    } else if !w.starts_with("ال") && !w.starts_with('و') && w.chars().count() > 3 && rng.chance(0.15) {
        w = format!("ال{w}");
    } else if rng.chance(0.1) {
        w = format!("و{w}");
    }
    w
}

fn make_query(title: &str, rng: &mut Rng) -> Option<String> {
    let words: Vec<&str> = title
        .split(|c: char| c.is_whitespace() || "،,.:؛;!?؟\"«»“”()[]-–—|/…'".contains(c))
        .filter(|w| w.chars().count() > 1 && !arabic::is_stopword(&arabic::normalize(w)))
        .collect();
    if words.len() < 2 {
        return None;
    }
    let len = (2 + rng.below(3)).min(words.len());
    let start = rng.below(words.len() - len + 1);
    Some(words[start..start + len].iter().map(|w| as_typed(w, rng)).collect::<Vec<_>>().join(" "))
}

fn reciprocal_rank(ranked: &[usize], target: usize) -> (f64, bool) {
    match ranked.iter().take(10).position(|&d| d == target) {
        Some(i) => (1.0 / (i as f64 + 1.0), true),
        None => (0.0, false),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let corpus = args.get(1).cloned().unwrap_or_else(|| "../shared/corpus/ant_multisource_ar_news.jsonl.gz".into());
    let query_count: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(400);
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(&corpus)?));
    let mut docs = Vec::new();
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        docs.push(Doc { title: text("title"), body: text("body"), category: text("category") });
    }
    println!("corpus: {} articles from {corpus}", docs.len());

    let dir = tempfile::tempdir()?;
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display())).await?;
    let started = Instant::now();
    let mut ids = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let Ok(headline) = Headline::parse(&d.title) else {
            ids.push(-1);
            continue;
        };
        let mut lines = d.body.lines().map(str::trim).filter(|l| !l.is_empty());
        let mut draft = ArticleDraft::new(headline);
        draft.lead = lines.next().unwrap_or_default().to_string();
        draft.body = lines.map(|l| Block::paragraph(l.to_string())).collect();
        draft.section = Some(d.category.clone());
        draft.published_at = chrono::DateTime::from_timestamp(1_500_000_000 + i as i64 * 60, 0);
        draft.source_key = Some(format!("corpus:{i}"));
        ids.push(store.upsert_article(&draft).await?.0);
    }
    println!("stored in {:.1}s", started.elapsed().as_secs_f64());

    let (index, _) = SearchIndex::open(&dir.path().join("index"))?;
    let index = std::sync::Arc::new(index);
    let started = Instant::now();
    let n = index.rebuild(&store, |_, _| {}).await?;
    let secs = started.elapsed().as_secs_f64();
    println!("nashir index: {n} articles in {secs:.1}s = {:.0} articles/s (store reads included)", n as f64 / secs);

    // Baseline: the same documents over whitespace tokens, lowercased, BM25, title boosted.
    let mut schema = Schema::builder();
    let opts = TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer("ws"));
    let b_title = schema.add_text_field("title", opts.clone());
    let b_body = schema.add_text_field("body", opts);
    let b_id = schema.add_u64_field("id", STORED);
    let baseline = Index::create_in_ram(schema.build());
    baseline.tokenizers().register("ws", TextAnalyzer::builder(WhitespaceTokenizer::default()).filter(LowerCaser).build());
    let mut writer = baseline.writer(100_000_000)?;
    for (i, d) in docs.iter().enumerate() {
        writer.add_document(doc!(b_title => d.title.as_str(), b_body => d.body.as_str(), b_id => i as u64))?;
    }
    writer.commit()?;
    let b_reader = baseline.reader()?;
    let b_searcher = b_reader.searcher();
    let mut parser = QueryParser::for_index(&baseline, vec![b_title, b_body]);
    parser.set_field_boost(b_title, 3.0);

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut ours, mut base, mut ours_hits, mut base_hits, mut asked) = (0.0, 0.0, 0, 0, 0);
    let mut latencies = Vec::new();
    let mut misses = Vec::new();
    while asked < query_count {
        let target = rng.below(docs.len());
        let Some(q) = make_query(&docs[target].title, &mut rng) else { continue };
        if ids[target] < 0 {
            continue;
        }
        asked += 1;
        let started = Instant::now();
        let request = SearchRequest { query: query::parse(&q), limit: 10, ..Default::default() };
        let results = index.search(&request)?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        let ranked: Vec<usize> = results.hits.iter().filter_map(|h| ids.iter().position(|&id| id == h.id)).collect();
        let (rr, hit) = reciprocal_rank(&ranked, target);
        ours += rr;
        ours_hits += hit as usize;
        if !hit && misses.len() < 15 {
            misses.push(format!("  {q}  →  {}", docs[target].title));
        }
        let escaped: String = q.chars().map(|c| if "+-&|!(){}[]^\"~*?:\\/".contains(c) { ' ' } else { c }).collect();
        let b_query = parser.parse_query_lenient(&escaped).0;
        let top = b_searcher.search(&b_query, &TopDocs::with_limit(10))?;
        let ranked: Vec<usize> = top
            .iter()
            .filter_map(|(_, addr)| b_searcher.doc::<TantivyDocument>(*addr).ok()?.get_first(b_id)?.as_u64().map(|v| v as usize))
            .collect();
        let (rr, hit) = reciprocal_rank(&ranked, target);
        base += rr;
        base_hits += hit as usize;
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = asked as f64;
    println!("queries: {asked} known-item queries typed like readers (seeded, reproducible)");
    println!("nashir:   MRR@10 {:.3}  hit@10 {:.3}", ours / n, ours_hits as f64 / n);
    println!("baseline: MRR@10 {:.3}  hit@10 {:.3}  (whitespace tokens, lowercase, BM25)", base / n, base_hits as f64 / n);
    println!(
        "latency:  p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99)
    );
    println!("some misses:\n{}", misses.join("\n"));
    Ok(())
}
