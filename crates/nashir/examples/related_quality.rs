//! Quality and speed harness for related articles and entities over the shared corpus.
//!
//!     cargo run --release -p nashir --example related_quality [-- path/to/corpus.jsonl.gz]
//!
//! Related precision@5 = share of an article's 5 suggestions in its own category, measured
//! with the corpus indexed WITHOUT sections (text and entities only). The baseline is a plain
//! TF-IDF cosine over raw normalized tokens, as a related-posts plugin would do.

use std::io::BufRead;
use std::time::Instant;

use nashir::related::{features, features_with, Doc, FeatureParams, Params, RelatedIndex};
use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    id: String,
    title: String,
    body: String,
    category: String,
    #[serde(default)]
    source: String,
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
        let step: usize = std::env::var("EVAL_EVERY").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
        for (i, row) in rows.iter().enumerate().filter(|(i, r)| r.category == cat && i % step == 0) {
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

#[derive(Deserialize)]
struct Labels {
    articles: Vec<Labelled>,
}

#[derive(Deserialize)]
struct Labelled {
    id: String,
    split: String,
    people: Vec<String>,
    places: Vec<String>,
    orgs: Vec<String>,
}

/// A found entity matches a label when both resolve to the same key (gazetteer spellings
/// resolve to their entry), or when one name is the other's head or tail («خالد بن سلمان» and
/// «خالد بن سلمان بن عبدالعزيز», «سعد الحريري» and «الحريري»), kind aside.
fn same_entity(a: &str, b: &str) -> bool {
    let (a, b) = (nashir::entities::resolve_key(a), nashir::entities::resolve_key(b));
    // «دونالد ترمب» is the gazetteer's «دونالد ترامب» by its surname variant.
    let by_surname =
        |x: &str, y: &str| x.rsplit(' ').next().is_some_and(|last| x.contains(' ') && nashir::entities::resolve_key(last) == y);
    a == b
        || by_surname(&a, &b)
        || by_surname(&b, &a)
        || a.ends_with(&format!(" {b}"))
        || b.ends_with(&format!(" {a}"))
        || a.starts_with(&format!("{b} "))
        || b.starts_with(&format!("{a} "))
}

/// Entity precision and recall on the hand-labelled articles, per split.
fn entity_quality(rows: &[Row]) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/entities-labels.json");
    let labels: Labels = serde_json::from_str(&std::fs::read_to_string(path).expect("labels")).expect("labels json");
    for split in ["dev", "held_out"] {
        let articles: Vec<&Labelled> = labels.articles.iter().filter(|l| l.split == split).collect();
        entity_split(rows, split, &articles);
    }
}

fn entity_split(rows: &[Row], split: &str, articles: &[&Labelled]) {
    let (mut tp_found, mut found_total, mut tp_labels, mut label_total) = (0, 0, 0, 0);
    let verbose = std::env::var("ENTITY_VERBOSE").is_ok();
    for l in articles {
        let row = rows.iter().find(|r| r.id == l.id).unwrap_or_else(|| panic!("labelled article {} not in corpus", l.id));
        let found = nashir::entities::extract(&row.title, &row.body);
        let gold: Vec<&String> = l.people.iter().chain(&l.places).chain(&l.orgs).collect();
        for f in &found {
            found_total += 1;
            if gold.iter().any(|g| same_entity(g, &f.name) || same_entity(g, &f.key)) {
                tp_found += 1;
            } else if verbose {
                println!("  false positive in {}: {} ({:?})", l.id, f.name, f.kind);
            }
        }
        for g in &gold {
            label_total += 1;
            if found.iter().any(|f| same_entity(g, &f.name) || same_entity(g, &f.key)) {
                tp_labels += 1;
            } else if verbose {
                println!("  missed in {}: {g}", l.id);
            }
        }
    }
    println!(
        "entities, {split} ({} hand-labelled articles): precision {:.2} ({tp_found}/{found_total}), recall {:.2} ({tp_labels}/{label_total})",
        articles.len(),
        tp_found as f64 / found_total.max(1) as f64,
        tp_labels as f64 / label_total.max(1) as f64
    );
}

/// The store path end to end: the corpus stored as published articles (no sections), then
/// `related::refresh_all` as `nashir reindex` runs it. Prints articles/s for that step.
fn store_pipeline(rows: &[Row], database_url: Option<String>) {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("nashir=info")).init();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = database_url.unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
        let store = nashir::Store::connect(&url).await.expect("store");
        let t = Instant::now();
        for row in rows {
            let Ok(headline) = nashir::domain::Headline::parse(&row.title) else { continue };
            let mut draft = nashir::domain::ArticleDraft::new(headline);
            draft.body = row.body.lines().map(nashir::domain::Block::paragraph).collect();
            draft.source_key = Some(format!("corpus:{}", row.id));
            draft.published_at = Some(chrono::Utc::now());
            store.upsert_article(&draft).await.expect("upsert");
        }
        println!("store: {} articles stored in {:.1}s (plain upserts, for reference)", rows.len(), t.elapsed().as_secs_f64());
        for run in ["first run", "reindex"] {
            let t = Instant::now();
            let n = nashir::related::refresh_all(&store).await.expect("refresh_all");
            let secs = t.elapsed().as_secs_f64();
            println!(
                "store: related::refresh_all ({run}) over {n} articles (read, analyze, entities, index, suggest, write) in {secs:.1}s → {:.0} articles/s",
                n as f64 / secs
            );
        }
        // Precision of what the store holds, as the site shows it: after the whole-archive
        // pass (refresh_all), then after the in-memory index recomputed every article
        // (refresh_many over every id: what refresh_all did before it streamed).
        report("store: refresh_all (whole-archive pass)", &stored_precision(&store, rows).await);
        if std::env::var("SKIP_IN_MEMORY").is_err() {
            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM articles ORDER BY id").fetch_all(store.pool()).await.expect("ids");
            let t = Instant::now();
            nashir::related::refresh_many(&store, &ids).await.expect("refresh_many");
            println!("store: refresh_many over every id (in-memory index) in {:.1}s", t.elapsed().as_secs_f64());
            report("store: refresh_many (in-memory index)", &stored_precision(&store, rows).await);
        }
    });
}

/// P@5 of the suggestions stored for each article (first five by position), by category.
async fn stored_precision(store: &nashir::Store, rows: &[Row]) -> Vec<(String, f64, usize)> {
    use sqlx::Row as _;
    let by_key: std::collections::HashMap<String, usize> = rows.iter().enumerate().map(|(i, r)| (format!("corpus:{}", r.id), i)).collect();
    let row_of: std::collections::HashMap<i64, usize> = sqlx::query("SELECT id, source_key FROM articles")
        .fetch_all(store.pool())
        .await
        .expect("articles")
        .iter()
        .filter_map(|r| Some((r.get::<i64, _>(0), *by_key.get(&r.get::<Option<String>, _>(1)?)?)))
        .collect();
    let mut lists: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for r in sqlx::query("SELECT article_id, related_id FROM related ORDER BY article_id, position")
        .fetch_all(store.pool())
        .await
        .expect("related")
    {
        let (Some(&a), Some(&b)) = (row_of.get(&r.get::<i64, _>(0)), row_of.get(&r.get::<i64, _>(1))) else { continue };
        let list = lists.entry(a).or_default();
        if list.len() < 5 {
            list.push(b);
        }
    }
    let mut out = Vec::new();
    for cat in CATEGORIES.iter().copied().chain(["internationalNews", "middleEast"]) {
        let (mut sum, mut n) = (0.0, 0usize);
        for (i, row) in rows.iter().enumerate().filter(|(_, r)| r.category == cat) {
            let Some(list) = lists.get(&i).filter(|l| !l.is_empty()) else { continue };
            sum += list.iter().filter(|&&j| rows[j].category == row.category).count() as f64 / list.len() as f64;
            n += 1;
        }
        out.push((cat.to_string(), if n > 0 { sum / n as f64 } else { 0.0 }, n));
    }
    out
}

/// Baseline: raw normalized tokens, no stemming, no stopword list, title = body, no boosts,
/// plain TF-IDF cosine over the same candidate generation.
fn baseline(rows: &[Row]) {
    let t = Instant::now();
    // The index's original scoring, none of the tuned knobs: log tf × idf, 40 terms, no concepts.
    let mut base = RelatedIndex::new(Params {
        index_terms: 40,
        query_terms: 40,
        candidates: 200,
        entity_weight: 0.0,
        feedback_docs: 0,
        bm25_k1: 0.0,
        idf_power: 1.0,
        min_df: 1,
        concepts: 0,
        ..Params::default()
    });
    for (i, row) in rows.iter().enumerate() {
        let mut counts: std::collections::HashMap<String, f32> = Default::default();
        for tok in arabic::tokenize(&format!("{}\n{}", row.title, row.body)) {
            *counts.entry(tok.text).or_insert(0.0) += 1.0;
        }
        base.upsert(Doc { id: i as i64, terms: counts.into_iter().collect(), ..Doc::default() });
    }
    base.reweight();
    println!("baseline index built in {:.1}s", t.elapsed().as_secs_f64());
    report("baseline TF-IDF cosine (raw tokens)", &precision(rows, &base));
}

/// Bulk mode as `related::refresh_all` runs it: first 30 suggestions for everyone, then
/// shared-nearest-neighbour re-ranking.
fn snn(rows: &[Row], index: &RelatedIndex) {
    let t = Instant::now();
    let lists: rustc_hash::FxHashMap<i64, Vec<nashir::related::Scored>> =
        (0..rows.len() as i64).map(|i| (i, index.related(i, 30, &[]))).collect();
    println!("shared neighbours: first pass {:.1}s", t.elapsed().as_secs_f64());
    for weight in [0.4f32, 0.8, 1.6] {
        let mut results = Vec::new();
        for cat in CATEGORIES {
            let (mut sum, mut n) = (0.0, 0usize);
            let step: usize = std::env::var("EVAL_EVERY").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
            for (i, row) in rows.iter().enumerate().filter(|(i, r)| r.category == *cat && i % step == 0) {
                let top = nashir::related::index::rerank_shared_neighbours(&lists, i as i64, 5, weight);
                if top.is_empty() {
                    continue;
                }
                sum += top.iter().filter(|s| rows[s.id as usize].category == row.category).count() as f64 / top.len() as f64;
                n += 1;
            }
            results.push((cat.to_string(), sum / n as f64, n));
        }
        report(&format!("ours + shared-neighbour re-ranking (bulk, weight {weight})"), &results);
    }
}

/// Everything a tuning run can vary: index parameters, feature weights, and harness-side
/// options (shared-neighbour re-ranking, which entity kinds count).
#[derive(Debug, Clone)]
struct Knobs {
    params: Params,
    feat: FeatureParams,
    /// Shared-neighbour re-ranking weight (0 = per-article scoring only), as `refresh_all` does.
    snn: f32,
    /// Contextual re-ranking weight and depth (see `rerank_contextual`); 0 = off.
    ctx: f32,
    ctx_depth: usize,
    hub: f32,
    hub_k: usize,
    /// Diagnostic only (the product knows no sources): suggestions from the query's own
    /// source, to measure how much of the error is the sources' different category schemes.
    same_source: bool,
    with_places: bool,
    entities: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            params: Params::default(),
            feat: FeatureParams::default(),
            snn: 0.0,
            ctx: 0.0,
            hub: 0.0,
            hub_k: 10,
            same_source: false,
            ctx_depth: 10,
            with_places: false,
            entities: true,
        }
    }
}

/// `k=v,k=v` over `base`: `RELATED_PARAMS="entity_weight=0.2,feedback_docs=8"` overrides defaults.
fn knobs(base: &Knobs, spec: &str) -> Knobs {
    let mut k = base.clone();
    for pair in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, v) = pair.split_once('=').unwrap_or_else(|| panic!("key=value, got {pair}"));
        let f: f32 = v.parse().unwrap_or_else(|_| panic!("number for {key}, got {v}"));
        let p = &mut k.params;
        match key {
            "index_terms" => p.index_terms = f as usize,
            "query_terms" => p.query_terms = f as usize,
            "candidates" => p.candidates = f as usize,
            "posting_depth" => p.posting_depth = f as usize,
            "entity_weight" => p.entity_weight = f,
            "feedback_docs" => p.feedback_docs = f as usize,
            "feedback_weight" => p.feedback_weight = f,
            "duplicate_threshold" => p.duplicate_threshold = f,
            "bm25_k1" => p.bm25_k1 = f,
            "bm25_b" => p.bm25_b = f,
            "idf_power" => p.idf_power = f,
            "min_df" => p.min_df = f as u32,
            "max_df" => p.max_df = f,
            "concepts" => p.concepts = f as usize,
            "concept_weight" => p.concept_weight = f,
            "concept_sharpen" => p.concept_sharpen = f,
            "concept_runs" => p.concept_runs = f as usize,
            "concept_iterations" => p.concept_iterations = f as usize,
            "expand_docs" => p.expand_docs = f as usize,
            "expand_weight" => p.expand_weight = f,
            "expand_terms" => p.expand_terms = f as usize,
            "hub" => k.hub = f,
            "hub_k" => k.hub_k = f as usize,
            "same_source" => k.same_source = f > 0.0,
            "title_weight" => k.feat.title_weight = f,
            "lead_words" => k.feat.lead_words = f as usize,
            "lead_weight" => k.feat.lead_weight = f,
            "bigram_weight" => k.feat.bigram_weight = f,
            "snn" => k.snn = f,
            "ctx" => k.ctx = f,
            "ctx_depth" => k.ctx_depth = f as usize,
            "with_places" => k.with_places = f > 0.0,
            "entities" => k.entities = f > 0.0,
            other => panic!("unknown parameter {other}"),
        }
    }
    k
}

/// Text features per feature setting, computed once per setting and shared by the runs.
struct Cache {
    features: Vec<(FeatureParams, std::rc::Rc<Vec<nashir::related::Features>>)>,
    entities: Vec<Vec<nashir::entities::Found>>,
}

fn build_index(rows: &[Row], cache: &mut Cache, k: &Knobs) -> RelatedIndex {
    let feats = match cache.features.iter().find(|(f, _)| *f == k.feat) {
        Some((_, v)) => v.clone(),
        None => {
            let v = std::rc::Rc::new(rows.iter().map(|r| features_with(&r.title, &r.body, &k.feat)).collect::<Vec<_>>());
            cache.features.push((k.feat.clone(), v.clone()));
            v
        }
    };
    let mut index = RelatedIndex::new(k.params.clone());
    for (i, f) in feats.iter().enumerate() {
        let entities = if k.entities {
            cache.entities[i].iter().filter(|e| k.with_places || e.kind != nashir::entities::Kind::Place).map(|e| e.key.clone()).collect()
        } else {
            Vec::new()
        };
        index.upsert(Doc { id: i as i64, terms: f.terms.clone(), signature: f.signature, entities, ..Doc::default() });
    }
    index.reweight();
    index
}

/// P@5 per category for the odd-row (tuning) and even-row (held-out) queries.
struct SplitResult {
    /// (category, odd P@5, even P@5)
    per_cat: Vec<(&'static str, f64, f64)>,
}

impl SplitResult {
    fn mean(&self, which: usize) -> f64 {
        let four: Vec<f64> =
            self.per_cat.iter().filter(|c| CATEGORIES.contains(&c.0)).map(|c| [c.1, c.2, (c.1 + c.2) / 2.0][which]).collect();
        four.iter().sum::<f64>() / four.len() as f64
    }
}

fn evaluate(rows: &[Row], index: &RelatedIndex, k: &Knobs) -> SplitResult {
    let step: usize = std::env::var("EVAL_EVERY").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let all_cats = std::env::var("EVAL_ALL").is_ok();
    let cats: Vec<&'static str> =
        CATEGORIES.iter().copied().chain(if all_cats { vec!["internationalNews", "middleEast"] } else { vec![] }).collect();
    let is_query = |i: usize| cats.contains(&rows[i].category.as_str()) && (i / 2).is_multiple_of(step);
    let lists: Option<rustc_hash::FxHashMap<i64, Vec<nashir::related::Scored>>> =
        (k.snn > 0.0 || k.ctx > 0.0 || k.hub > 0.0 || k.same_source).then(|| {
            (0..rows.len()).map(|i| (i as i64, index.related(i as i64, if k.hub > 0.0 || k.same_source { 50 } else { 30 }, &[]))).collect()
        });
    // Hubness: an article close to everything (its own nearest neighbours score high) is
    // discounted by its mean neighbour score (CSLS).
    let hubness: rustc_hash::FxHashMap<i64, f32> = match &lists {
        Some(l) if k.hub > 0.0 => l
            .iter()
            .map(|(&id, list)| {
                let n = list.len().min(k.hub_k).max(1);
                (id, list.iter().take(n).map(|s| s.score).sum::<f32>() / n as f32)
            })
            .collect(),
        _ => Default::default(),
    };
    let mut sums: rustc_hash::FxHashMap<(&str, usize), (f64, usize)> = Default::default();
    // DIAG=1: where the wrong suggestions go, and how often they share the query's source.
    let diag = std::env::var("DIAG").is_ok();
    let mut confusion: std::collections::BTreeMap<(String, String), usize> = Default::default();
    let mut source_stats: std::collections::BTreeMap<bool, (usize, usize)> = Default::default();
    let mut hist: std::collections::BTreeMap<(String, usize), usize> = Default::default();
    for i in (0..rows.len()).filter(|&i| is_query(i)) {
        let rel = match &lists {
            Some(l) if k.same_source => {
                l[&(i as i64)].iter().filter(|s| rows[s.id as usize].source == rows[i].source).take(5).copied().collect()
            }
            Some(l) if k.hub > 0.0 => {
                let mut list: Vec<nashir::related::Scored> = l[&(i as i64)]
                    .iter()
                    .map(|s| nashir::related::Scored { id: s.id, score: s.score - k.hub * hubness.get(&s.id).copied().unwrap_or(0.0) })
                    .collect();
                list.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
                list.truncate(5);
                list
            }
            Some(l) if k.ctx > 0.0 => nashir::related::index::rerank_contextual(l, i as i64, 5, k.ctx, k.ctx_depth),
            Some(l) => nashir::related::index::rerank_shared_neighbours(l, i as i64, 5, k.snn),
            None => index.related(i as i64, 5, &[]),
        };
        if rel.is_empty() {
            continue;
        }
        let same = rel.iter().filter(|s| rows[s.id as usize].category == rows[i].category).count();
        if diag {
            *hist.entry((rows[i].category.clone(), same)).or_insert(0usize) += 1;
            // A sample of the suggestions the metric calls wrong, to judge by reading them.
            // JUDGE=same: a sample of the ones it calls right, to check them the same way.
            let judge_same = std::env::var("JUDGE").is_ok_and(|v| v == "same");
            if i % if judge_same { 331 } else { 97 } == 0 {
                for s in rel.iter().filter(|s| (rows[s.id as usize].category == rows[i].category) == judge_same).take(if judge_same {
                    2
                } else {
                    5
                }) {
                    let o = &rows[s.id as usize];
                    println!(
                        "  {}: {} [{}] {}\n      → {} [{}] {}",
                        if judge_same { "same-category" } else { "other-category" },
                        rows[i].id,
                        rows[i].category,
                        rows[i].title,
                        o.id,
                        o.category,
                        o.title
                    );
                }
            }
            for s in &rel {
                let o = &rows[s.id as usize];
                let right = o.category == rows[i].category;
                *confusion.entry((rows[i].category.clone(), o.category.clone())).or_insert(0usize) += 1;
                let e = source_stats.entry(right).or_insert((0usize, 0usize));
                e.0 += usize::from(o.source == rows[i].source);
                e.1 += 1;
            }
        }
        let e = sums.entry((cats.iter().find(|c| **c == rows[i].category).expect("query category"), i % 2)).or_default();
        e.0 += same as f64 / rel.len() as f64;
        e.1 += 1;
    }
    if diag {
        for ((q, same), n) in &hist {
            println!("  {q:<18} {same}/5 right: {n}");
        }
        for ((q, o), n) in &confusion {
            println!("  confusion {q:<18} -> {o:<18} {n}");
        }
        for (right, (same, n)) in &source_stats {
            println!("  suggestions {}: same source as the query {:.2}", if *right { "right" } else { "wrong" }, *same as f64 / *n as f64);
        }
    }
    let p = |c: &str, parity: usize| sums.get(&(c, parity)).map_or(0.0, |(s, n)| s / *n as f64);
    SplitResult { per_cat: cats.iter().map(|&c| (c, p(c, 1), p(c, 0))).collect() }
}

#[derive(Deserialize)]
struct Judgements {
    other_category: Vec<Judged>,
    same_category: Vec<Judged>,
}

#[derive(Deserialize)]
struct Judged {
    query: String,
    suggestion: String,
    judgement: String,
}

/// Reads `tests/data/related-judgements.json` (suggestions judged by reading them) and turns
/// the category precision into what a reader would call related: share `p5` of suggestions
/// agree with the query's category, `1 − p5` do not, and each kind is judged separately.
fn judged(rows: &[Row], index: &RelatedIndex, p5: f64) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/related-judgements.json");
    let j: Judgements = serde_json::from_str(&std::fs::read_to_string(path).expect("judgements")).expect("judgements json");
    let position: rustc_hash::FxHashMap<&str, usize> = rows.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let share =
        |list: &[Judged], what: &[&str]| list.iter().filter(|x| what.contains(&x.judgement.as_str())).count() as f64 / list.len() as f64;
    let still = j
        .other_category
        .iter()
        .chain(&j.same_category)
        .filter(|x| index.related(position[x.query.as_str()] as i64, 5, &[]).iter().any(|s| s.id == position[x.suggestion.as_str()] as i64))
        .count();
    println!("judged pairs: {} (still suggested by this setting: {still})", j.other_category.len() + j.same_category.len());
    for (name, what) in [("same story or topic", &["same"][..]), ("same, or a shared broad theme", &["same", "loose"][..])] {
        let (o, s) = (share(&j.other_category, what), share(&j.same_category, what));
        println!("  {name}: other-category suggestions {o:.2}, same-category {s:.2} → estimated precision {:.3}", p5 * s + (1.0 - p5) * o);
    }
}

/// `SWEEP="a=1;a=2,b=3"`: one line per setting (each over `RELATED_PARAMS`), odd rows tune,
/// even rows are held out.
fn sweep(rows: &[Row], spec: &str) {
    let base = knobs(&Knobs::default(), &std::env::var("RELATED_PARAMS").unwrap_or_default());
    let t = Instant::now();
    let mut cache = Cache { features: Vec::new(), entities: rows.iter().map(|r| nashir::entities::extract(&r.title, &r.body)).collect() };
    println!("entities for all: {:.1}s", t.elapsed().as_secs_f64());
    println!("| setting | odd (tuning) | even (held out) | all | sport | economy | technology | culture | build s | query s |");
    for setting in spec.split(';') {
        let k = knobs(&base, setting);
        let t = Instant::now();
        let index = build_index(rows, &mut cache, &k);
        let build = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let r = evaluate(rows, &index, &k);
        let query = t.elapsed().as_secs_f64();
        if std::env::var("JUDGED").is_ok() {
            judged(rows, &index, r.mean(2));
        }
        let cats: Vec<String> = r.per_cat.iter().map(|c| format!("{:.3}", (c.1 + c.2) / 2.0)).collect();
        println!(
            "| {} | {:.3} | {:.3} | {:.3} | {} | {build:.1} | {query:.1} |",
            if setting.is_empty() { "(base)" } else { setting },
            r.mean(0),
            r.mean(1),
            r.mean(2),
            cats.join(" | ")
        );
    }
}

fn params_from_env() -> Params {
    let p = knobs(&Knobs::default(), &std::env::var("RELATED_PARAMS").unwrap_or_default()).params;
    println!("params: {p:?}");
    p
}

fn main() {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/ant_multisource_ar_news.jsonl.gz");
    let path = std::env::args().nth(1).unwrap_or_else(|| default.to_string());
    let mut rows = load(&path);
    println!("{} articles from {path}", rows.len());
    if std::env::var("SWEEP").is_err() {
        entity_quality(&rows);
    }
    if let Some(n) = std::env::var("LIMIT_ROWS").ok().and_then(|v| v.parse().ok()) {
        rows.truncate(n);
        println!("limited to the first {n} articles");
    }
    if std::env::var("ENTITIES_ONLY").is_ok() {
        return;
    }
    if let Ok(spec) = std::env::var("SWEEP") {
        sweep(&rows, &spec);
        return;
    }
    if std::env::var("RELATED_STORE").is_ok() {
        store_pipeline(&rows, std::env::var("RELATED_STORE_URL").ok());
        return;
    }

    if std::env::var("SKIP_BASELINE").is_err() {
        baseline(&rows);
    }
    let mode = std::env::var("RELATED_MODE").unwrap_or_default();
    let t = Instant::now();
    let mut index = RelatedIndex::new(params_from_env());
    let mut entity_count = 0usize;
    let mut dups = 0usize;
    for (i, row) in rows.iter().enumerate() {
        let f = features(&row.title, &row.body);
        let entities: Vec<String> = if mode == "noentities" {
            Vec::new()
        } else {
            let found = nashir::entities::extract(&row.title, &row.body);
            entity_count += found.len();
            // As the engine does: people and organisations only (see `related::engine::doc_of`).
            let with_places = std::env::var("WITH_PLACES").is_ok();
            found.into_iter().filter(|e| with_places || e.kind != nashir::entities::Kind::Place).map(|e| e.key).collect()
        };
        if index.upsert(Doc { id: i as i64, terms: f.terms, signature: f.signature, entities, ..Doc::default() }).is_some() {
            dups += 1;
        }
    }
    index.reweight();
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut suggestions = 0usize;
    let step: usize = std::env::var("EVAL_EVERY").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    for i in (0..rows.len()).step_by(step) {
        suggestions += index.related(i as i64, 5, &[]).len();
    }
    let query = t.elapsed().as_secs_f64();
    println!(
        "ours: analyze + entities + index {:.2}s, related for all {:.2}s → {:.0} articles/s ({} entities, {} near-duplicates, {} suggestions)",
        build,
        query,
        rows.len() as f64 / (build + query * step as f64),
        entity_count,
        dups,
        suggestions
    );
    report("ours (defaults: stems, BM25 tf, idf^0.5, title×2, person/org entities, 50 latent concepts)", &precision(&rows, &index));
    if std::env::var("NO_SNN").is_err() {
        snn(&rows, &index);
    }
}
