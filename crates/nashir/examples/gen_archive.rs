//! Writes a generated archive for import benchmarks:
//! `cargo run --release --example gen_archive -- wxr 20000 /tmp/site.xml` (or `ghost … /tmp/site.json`),
//! or, with real vocabulary for the cost curve (issue 20):
//! `gen_archive corpus 200000 /tmp/archive.jsonl [../shared/corpus/ant_multisource_ar_news.jsonl.gz]`
//! — the corpus's titles and paragraphs recombined into COUNT distinct JSON Lines articles,
//! each built from articles of one category, so related stories still share their words.

use std::io::{BufRead, BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (kind, n, path) = match args.get(1..4) {
        Some([kind, n, path]) => (kind.as_str(), n.parse::<usize>().unwrap_or(20_000), path),
        _ => {
            eprintln!("usage: gen_archive wxr|ghost|corpus COUNT FILE [CORPUS.jsonl.gz]");
            std::process::exit(2);
        }
    };
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    match kind {
        "wxr" => {
            nashir::ingest::sample::write_wxr(&mut out, n)?;
        }
        "corpus" => {
            let corpus = args.get(4).map_or("../shared/corpus/ant_multisource_ar_news.jsonl.gz", String::as_str);
            write_recombined(&mut out, n, corpus)?;
        }
        _ => {
            let (export, _) = nashir::ingest::sample::ghost_export(n);
            serde_json::to_writer(&mut out, &export)?;
        }
    }
    out.flush()
}

struct Source {
    title: String,
    paragraphs: Vec<String>,
    category: String,
}

/// Article `i` takes corpus article `i mod len` for its title, first paragraph, category and
/// date, then three to six more paragraphs from articles of the same category picked by a
/// fixed pseudo-random sequence; past the corpus's size the title gets a number, so every
/// headline (and slug) differs. The first `len` articles are the corpus's own.
fn write_recombined(out: &mut impl Write, n: usize, corpus: &str) -> std::io::Result<()> {
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(corpus)?));
    let mut sources = Vec::new();
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let paragraphs: Vec<String> = text("body").lines().map(str::to_string).filter(|p| !p.trim().is_empty()).collect();
        if !paragraphs.is_empty() {
            sources.push(Source { title: text("title"), paragraphs, category: text("category") });
        }
    }
    let mut by_category: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, s) in sources.iter().enumerate() {
        by_category.entry(s.category.as_str()).or_default().push(i);
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: deterministic, so every run writes the same archive.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let day = 86_400i64;
    let start = 1_514_764_800i64; // 2018-01-01
    for i in 0..n {
        let base = &sources[i % sources.len()];
        let round = i / sources.len();
        let mut paragraphs = base.paragraphs.clone();
        if round > 0 {
            let peers = &by_category[base.category.as_str()];
            paragraphs.truncate(1);
            for _ in 0..3 + next() % 4 {
                let peer = &sources[peers[(next() % peers.len() as u64) as usize]];
                paragraphs.push(peer.paragraphs[(next() % peer.paragraphs.len() as u64) as usize].clone());
            }
        }
        let title = if round > 0 { format!("{} ({})", base.title, round + 1) } else { base.title.clone() };
        let published = start + (i as i64 % 1000) * day + (i as i64 / 1000) * 60;
        let line = serde_json::json!({
            "id": format!("gen-{i}"),
            "title": title,
            "body": paragraphs.join("\n"),
            "category": base.category,
            "published_at": chrono::DateTime::from_timestamp(published, 0).unwrap_or_default().to_rfc3339(),
        });
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
