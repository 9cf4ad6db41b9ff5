//! Quality and speed harness for related articles and entities over the shared corpus.
//!
//!     cargo run --release -p nashir --example related_quality [-- path/to/corpus.jsonl.gz]
//!
//! Related precision@5 = share of an article's 5 suggestions in its own category, measured
//! with the corpus indexed WITHOUT sections (text and entities only). The baseline is a plain
//! TF-IDF cosine over raw normalized tokens, as a related-posts plugin would do.

use std::io::BufRead;
use std::time::Instant;

use nashir::related::{features, Doc, Params, RelatedIndex};
use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    #[allow(dead_code)]
    id: String,
    title: String,
    body: String,
    category: String,
}

const CATEGORIES: &[&str] = &["sport", "economy", "technology", "culture"];

fn load(path: &str) -> Vec<Row> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    reader.lines().map(|l| serde_json::from_str(&l.expect("line")).expect("json row")).collect()
}

fn precision(rows: &[Row], index: &RelatedIndex) -> Vec<(String, f64, usize)> {
    let mut out = Vec::new();
    for cat in CATEGORIES.iter().copied().chain(["internationalNews", "middleEast"]) {
        let (mut sum, mut n) = (0.0, 0usize);
        for (i, row) in rows.iter().enumerate().filter(|(_, r)| r.category == cat) {
            let rel = index.related(i as i64, 5, &[]);
            if rel.is_empty() {
                continue;
            }
            let same = rel.iter().filter(|s| rows[s.id as usize].category == row.category).count();
            sum += same as f64 / rel.len() as f64;
            n += 1;
        }
        out.push((cat.to_string(), if n > 0 { sum / n as f64 } else { 0.0 }, n));
    }
    out
}

fn report(name: &str, results: &[(String, f64, usize)]) {
    let four: Vec<f64> = results.iter().filter(|r| CATEGORIES.contains(&r.0.as_str())).map(|r| r.1).collect();
    println!("{name}:");
    for (cat, p, n) in results {
        println!("  {cat:<18} P@5 = {p:.3}  (n = {n})");
    }
    println!("  mean of the four   P@5 = {:.3}", four.iter().sum::<f64>() / four.len() as f64);
}

fn main() {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/ant_multisource_ar_news.jsonl.gz");
    let path = std::env::args().nth(1).unwrap_or_else(|| default.to_string());
    let rows = load(&path);
    println!("{} articles from {path}", rows.len());

    // Baseline: raw normalized tokens, no stemming, no stopword list, title = body, no boosts.
    let t = Instant::now();
    let mut base = RelatedIndex::new(Params { entity_weight: 0.0, feedback_docs: 0, ..Params::default() });
    for (i, row) in rows.iter().enumerate() {
        let mut counts: std::collections::HashMap<String, f32> = Default::default();
        for tok in arabic::tokenize(&format!("{}\n{}", row.title, row.body)) {
            *counts.entry(tok.text).or_insert(0.0) += 1.0;
        }
        base.upsert(Doc { id: i as i64, terms: counts.into_iter().collect(), ..Doc::default() });
    }
    println!("baseline index built in {:.1}s", t.elapsed().as_secs_f64());
    report("baseline TF-IDF cosine (raw tokens)", &precision(&rows, &base));

    let mode = std::env::var("RELATED_MODE").unwrap_or_default();
    let t = Instant::now();
    let mut index = RelatedIndex::new(Params::default());
    let mut entity_count = 0usize;
    let mut dups = 0usize;
    for (i, row) in rows.iter().enumerate() {
        let f = features(&row.title, &row.body);
        let entities: Vec<String> = if mode == "noentities" {
            Vec::new()
        } else {
            let found = nashir::entities::extract(&row.title, &row.body);
            entity_count += found.len();
            found.into_iter().map(|e| e.key).collect()
        };
        if index.upsert(Doc { id: i as i64, terms: f.terms, signature: f.signature, entities, ..Doc::default() }).is_some() {
            dups += 1;
        }
    }
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut suggestions = 0usize;
    for i in 0..rows.len() {
        suggestions += index.related(i as i64, 5, &[]).len();
    }
    let query = t.elapsed().as_secs_f64();
    println!(
        "ours: analyze + entities + index {:.2}s, related for all {:.2}s → {:.0} articles/s ({} entities, {} near-duplicates, {} suggestions)",
        build,
        query,
        rows.len() as f64 / (build + query),
        entity_count,
        dups,
        suggestions
    );
    report("ours (stems, stopwords, title×3, entities, feedback)", &precision(&rows, &index));
}
