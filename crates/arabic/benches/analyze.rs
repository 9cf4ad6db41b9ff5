//! Throughput of `analyze` over ~5 MB of real news bodies from the shared corpus.
//!
//! The corpus is read from outside the repository (NASHIR_CORPUS, or the shared checkout next
//! to the workspace) and never copied in. Run:
//! `cargo bench -p arabic -- --warm-up-time 1 --measurement-time 5`

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const TARGET_BYTES: usize = 5 * 1024 * 1024;

fn load_bodies() -> Option<Vec<String>> {
    let path = std::env::var_os("NASHIR_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/ant_multisource_ar_news.jsonl.gz"));
    let Ok(f) = std::fs::File::open(&path) else {
        eprintln!("\n!!!!!! arabic bench: corpus not found at {} — set NASHIR_CORPUS. Skipping. !!!!!!\n", path.display());
        return None;
    };
    let mut bodies = Vec::new();
    let mut total = 0;
    for line in BufReader::new(flate2::read::GzDecoder::new(f)).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.ok()?).ok()?;
        let body = v["body"].as_str()?.to_owned();
        total += body.len();
        bodies.push(body);
        if total >= TARGET_BYTES {
            break;
        }
    }
    Some(bodies)
}

fn bench(c: &mut Criterion) {
    let Some(bodies) = load_bodies() else { return };
    let bytes: usize = bodies.iter().map(String::len).sum();
    let mut g = c.benchmark_group("arabic");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("analyze", |b| {
        b.iter(|| {
            let mut n = 0;
            for body in &bodies {
                n += arabic::analyze(body).len();
            }
            n
        })
    });
    g.bench_function("analyze_into_reused", |b| {
        let mut toks = Vec::new();
        let mut terms = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for body in &bodies {
                terms.clear();
                arabic::analyze_into(body, &mut toks, &mut terms);
                n += terms.len();
            }
            n
        })
    });
    g.bench_function("tokenize_into", |b| {
        let mut toks = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for body in &bodies {
                arabic::tokenize_into(body, &mut toks);
                n += toks.len();
            }
            n
        })
    });
    g.bench_function("normalize_into", |b| {
        let mut s = String::new();
        b.iter(|| {
            for body in &bodies {
                s.clear();
                arabic::normalize_into(body, &mut s);
            }
            s.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
