//! The stemmer on the shared news corpus (`../shared`, beside the repository; it must never be
//! copied in). Without it the corpus test skips with one loud line, unless `CI` or
//! `NASHIR_REQUIRE_SHARED=1` is set: then it fails. Every rule it checks is also checked on
//! words written here (`known_words_keep_their_stems`), so a clone alone still covers them.
//! `NASHIR_CORPUS` names another corpus file; `NASHIR_SHARED_DIR` another shared folder.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// Words the stemmer once over-stemmed (a root letter taken for an affix) and the stem each
/// must keep. Literal values: a stemmer change that moves one shows here first.
const KNOWN: &[(&str, &str)] = &[
    ("وزير", "وزير"),
    ("ولايات", "ولاي"),
    ("لبنان", "لبنان"),
    ("بيان", "بيان"),
    ("ايران", "ايران"),
    ("عمان", "عمان"),
    ("سلطان", "سلطان"),
    ("انتخابات", "انتخاب"),
    ("المتحده", "متحد"),
    ("الامم", "امم"),
    ("فلسطين", "فلسطين"),
    ("قطر", "قطر"),
    ("ليبيا", "ليبيا"),
    ("اوكرانيا", "اوكرانيا"),
];

fn shared_dir() -> PathBuf {
    std::env::var_os("NASHIR_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn corpus_path() -> PathBuf {
    std::env::var_os("NASHIR_CORPUS").map(PathBuf::from).unwrap_or_else(|| shared_dir().join("corpus/ant_multisource_ar_news.jsonl.gz"))
}

/// CI (and anyone who sets `NASHIR_REQUIRE_SHARED=1`) must not pass by skipping.
fn shared_required() -> bool {
    std::env::var("NASHIR_REQUIRE_SHARED").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn titles(n: usize) -> Option<Vec<String>> {
    let path = corpus_path();
    if !path.exists() {
        assert!(!shared_required(), "the corpus is missing at {} and CI or NASHIR_REQUIRE_SHARED=1 requires it", path.display());
        eprintln!("SKIPPED (no ../shared): the corpus is not at {} (set NASHIR_CORPUS or NASHIR_SHARED_DIR)", path.display());
        return None;
    }
    let f = std::fs::File::open(&path).expect("open the corpus");
    let r = BufReader::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for line in r.lines().take(n) {
        let v: serde_json::Value = serde_json::from_str(&line.expect("read the corpus")).expect("a JSON line");
        out.push(v["title"].as_str().expect("a title").to_owned());
    }
    Some(out)
}

#[test]
fn known_words_keep_their_stems() {
    for (word, stem) in KNOWN {
        assert_eq!(arabic::stem(word), *stem, "{word}");
    }
    // In running text too, where the word comes with its prefixes.
    let terms = arabic::analyze("والعلاقات مع وزير خارجية لبنان وانتخابات الامم المتحده");
    let stems: Vec<&str> = terms.iter().filter(|t| !t.stopword).map(|t| t.stem.as_str()).collect();
    assert_eq!(stems, ["علاق", "وزير", "خارج", "لبنان", "انتخاب", "امم", "متحد"]);
}

/// Every known word met in 2,000 corpus titles keeps its stem there; prints the most frequent
/// word → stem pairs (`--nocapture`) for eyeballing new over-stemming.
#[test]
fn stemmer_on_corpus_titles() {
    let Some(titles) = titles(2000) else { return };
    assert_eq!(titles.len(), 2000, "the corpus has at least 2,000 articles");
    let known: BTreeMap<&str, &str> = KNOWN.iter().copied().collect();
    let mut freq: BTreeMap<String, usize> = BTreeMap::new();
    let mut met: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &titles {
        for term in arabic::analyze(t) {
            if let Some((word, stem)) = known.get_key_value(term.normalized.as_str()) {
                assert_eq!(term.stem, *stem, "«{word}» in the title «{t}»");
                *met.entry(word).or_default() += 1;
            }
            assert!(term.stopword || !term.stem.is_empty(), "an empty stem for «{}» in «{t}»", term.normalized);
            if !term.stopword && term.stem != term.normalized {
                *freq.entry(term.normalized).or_default() += 1;
            }
        }
    }
    // Otherwise the loop above checked nothing: the titles must contain most of the words.
    assert!(met.len() >= KNOWN.len() / 2, "only {met:?} of the known words occur in the titles");
    let mut top: Vec<_> = freq.into_iter().collect();
    top.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (w, n) in top.iter().take(150) {
        println!("{n:4} {w} -> {}", arabic::stem(w));
    }
}
