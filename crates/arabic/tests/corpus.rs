//! Checks against the shared news corpus. Ignored by default: the corpus lives outside the
//! repository (it must never be copied in). Run with
//! `cargo test -p arabic --test corpus -- --ignored --nocapture`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

fn corpus_path() -> PathBuf {
    std::env::var_os("NASHIR_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/ant_multisource_ar_news.jsonl.gz"))
}

fn titles(n: usize) -> Option<Vec<String>> {
    let f = std::fs::File::open(corpus_path()).ok()?;
    let r = BufReader::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for line in r.lines().take(n) {
        let v: serde_json::Value = serde_json::from_str(&line.ok()?).ok()?;
        out.push(v["title"].as_str()?.to_owned());
    }
    Some(out)
}

/// Prints word → stem pairs for eyeballing over-stemming, and asserts the known-bad cases.
#[test]
#[ignore]
fn stemmer_on_corpus_titles() {
    let Some(titles) = titles(2000) else {
        eprintln!("!!! corpus not found at {} (set NASHIR_CORPUS); skipping", corpus_path().display());
        return;
    };
    let mut freq: BTreeMap<String, usize> = BTreeMap::new();
    let mut waw: BTreeMap<String, usize> = BTreeMap::new();
    for t in &titles {
        for term in arabic::analyze(t) {
            if !term.stopword && term.stem != term.normalized {
                if term.normalized.starts_with('و') && !term.stem.starts_with('و') {
                    *waw.entry(term.normalized.clone()).or_default() += 1;
                }
                *freq.entry(term.normalized).or_default() += 1;
            }
        }
    }
    let mut top: Vec<_> = freq.into_iter().collect();
    top.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (w, n) in top.iter().take(150) {
        println!("{n:4} {w} -> {}", arabic::stem(w));
    }
    let mut waw: Vec<_> = waw.into_iter().collect();
    waw.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (w, n) in waw.iter().take(60) {
        println!("waw {n:4} {w} -> {}", arabic::stem(w));
    }
    for w in [
        "وزير",
        "ولايات",
        "والي",
        "لبنان",
        "بيان",
        "ايران",
        "عمان",
        "سلطان",
        "انتخابات",
        "المتحده",
        "الامم",
        "فلسطين",
        "قطر",
        "ليبيا",
        "اوكرانيا",
    ] {
        println!("check {w} -> {}", arabic::stem(w));
    }
}
