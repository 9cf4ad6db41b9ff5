use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::search::SearchIndex;

/// Rebuilds the search index, related articles and entities from the store. All are derived
/// data: this is always safe, but needs the server stopped (one writer per index).
pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    // A running server holds a shared lock on its data dir and writes this index itself (its
    // search follower); two writers would fail half-way on tantivy's own lock or, worse, leave
    // the server reading segments deleted under it. Refused before any work, with the reason.
    let Some(_lock) = super::lock_stopped_data_dir(&config)? else {
        eprintln!(
            "a nashir server is running on {}; stop it first (it keeps its own search index up to date: `nashir reindex` is for a stopped node)",
            config.data_dir.display()
        );
        return Ok(ExitCode::from(2));
    };
    let store = super::open_store(&config).await?;
    let (index, _) = SearchIndex::open(&config.index_dir())?;
    let index = Arc::new(index);
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} مقال  {per_sec}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let total = index
        .rebuild(&store, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "reindexed {total} articles in {secs:.1}s ({:.0} articles/s); {} searchable",
        total as f64 / secs.max(0.001),
        index.num_docs()
    );
    let started = Instant::now();
    let n = crate::related::refresh_all(&store).await?;
    let secs = started.elapsed().as_secs_f64();
    println!("related articles and entities for {n} articles in {secs:.1}s ({:.0} articles/s)", n as f64 / secs.max(0.001));
    Ok(ExitCode::SUCCESS)
}
