//! Writes a generated archive for import benchmarks:
//! `cargo run --release --example gen_archive -- wxr 20000 /tmp/site.xml` (or `ghost … /tmp/site.json`).

use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (kind, n, path) = match args.as_slice() {
        [_, kind, n, path] => (kind.as_str(), n.parse::<usize>().unwrap_or(20_000), path),
        _ => {
            eprintln!("usage: gen_archive wxr|ghost COUNT FILE");
            std::process::exit(2);
        }
    };
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    match kind {
        "wxr" => {
            nashir::ingest::sample::write_wxr(&mut out, n)?;
        }
        _ => {
            let (export, _) = nashir::ingest::sample::ghost_export(n);
            serde_json::to_writer(&mut out, &export)?;
        }
    }
    Ok(())
}
