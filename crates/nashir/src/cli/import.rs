use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::ingest::bulk::{self, Defaults, Format, Summary};
use crate::ingest::record::ParseOptions;
use crate::ingest::{self, plaintext, ImportOptions};
use crate::store::{Store, UpsertOutcome};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Files to import: plain text (or directories of .txt files), WordPress WXR (.xml),
    /// Ghost JSON exports (.json) or JSON Lines (.jsonl); .gz files are read directly.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The files' format; detected from the name and the first bytes when absent.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Parse and report without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Also import WordPress pages and attachments, and Ghost pages.
    #[arg(long)]
    pub include_pages: bool,
    /// Section name for the imported articles, e.g. «سياسة» (archives: when an article has none).
    #[arg(long)]
    pub section: Option<String>,
    /// Author name (repeat for several authors; archives: when an article has none).
    #[arg(long = "author")]
    pub authors: Vec<String>,
    /// Tag (repeat for several tags).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Publication date of plain-text articles, 2021-12-03 or 2021-12-03T10:00:00+02:00 (default: now).
    #[arg(long, value_name = "DATE")]
    pub published_at: Option<String>,
    /// After an archive import, recompute related articles and entities for the whole archive
    /// (otherwise the running server or `nashir reindex` does it). Articles are analysed while they are
    /// written; the whole archive's index is then held in memory (peak about 15 KB an article).
    #[arg(long)]
    pub related: bool,
}

fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "txt")).collect())
                .unwrap_or_default();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(path.clone());
        }
    }
    out
}

pub async fn run(config: Config, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let published_at = match &args.published_at {
        Some(v) => Some(ingest::parse_published_at(v, config.timezone()).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let options = ImportOptions { section: args.section.clone(), authors: args.authors.clone(), tags: args.tags.clone(), published_at };
    let store = if args.dry_run { None } else { Some(super::open_store(&config).await?) };
    let parse_options = ParseOptions {
        include_pages: args.include_pages,
        site_url: config.site.url.trim_end_matches('/').to_string(),
        timezone: config.timezone(),
        max_jsonl_line_bytes: config.import.max_jsonl_line_bytes,
        max_ghost_bytes: config.import.max_ghost_bytes,
    };
    let defaults = Defaults { section: args.section.clone(), authors: args.authors.clone(), tags: args.tags.clone() };

    let mut total = Summary::default();
    let mut archive_writes = 0;
    // With --related, terms and entities are computed while the import writes (see
    // related::Analyser): the import leaves about one core of two idle.
    let analyser = (args.related && store.is_some()).then(crate::related::Analyser::start);
    for file in expand(&args.files) {
        let format = args.format.unwrap_or_else(|| bulk::detect(&file));
        if format == Format::Text {
            import_text(store.as_ref(), &file, &options, &mut total).await;
        } else {
            let summary = import_archive(
                store.as_ref(),
                &file,
                format,
                parse_options.clone(),
                &defaults,
                analyser.as_ref(),
                config.import.max_gz_expanded_bytes,
            )
            .await;
            total.imported += summary.imported;
            total.updated += summary.updated;
            total.skipped += summary.skipped;
            total.failed += summary.failed;
            total.redirects += summary.redirects;
            archive_writes += summary.imported + summary.updated;
            for (reason, n) in summary.skip_reasons {
                *total.skip_reasons.entry(reason).or_default() += n;
            }
        }
    }
    let dry = if args.dry_run { " (dry run: nothing written)" } else { "" };
    println!("{} imported, {} updated, {} failed, {} skipped{dry}", total.imported, total.updated, total.failed, total.skipped);
    for (reason, n) in &total.skip_reasons {
        println!("  skipped {n}: {reason}");
    }
    if total.redirects > 0 {
        println!("  {} old addresses now redirect", total.redirects);
    }
    match (&store, archive_writes > 0, args.related) {
        (Some(store), true, true) => {
            // Archive imports write in batches without per-article suggestions; one pass over
            // the whole archive is far faster than one refresh per article.
            let started = std::time::Instant::now();
            let prepared = analyser.map(crate::related::Analyser::finish).unwrap_or_default();
            let n = crate::related::refresh_all_prepared(store, &prepared).await?;
            let secs = started.elapsed().as_secs_f64();
            println!("related articles and entities for {n} articles in {secs:.1}s ({:.0} articles/s)", n as f64 / secs.max(0.001));
        }
        (Some(_), true, false) => println!("  related articles and entities: computed by the running server (`nashir serve`), or now with `nashir reindex` / import --related"),
        _ => {}
    }
    if let Some(store) = &store {
        if total.imported + total.updated > 0 {
            // The articles are in; an index left behind is rebuilt by the next `nashir serve`.
            if let Err(e) = update_search_index(&config, store).await {
                eprintln!("  search index not updated ({e:#}): `nashir serve` builds it when it starts");
            }
        }
    }
    Ok(if total.failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn import_text(store: Option<&Store>, file: &Path, options: &ImportOptions, total: &mut Summary) {
    let Some(store) = store else {
        let parsed = std::fs::read(file)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|b| plaintext::decode(&b).map_err(|e| e.to_string()))
            .and_then(|t| plaintext::parse(&t, &|_, _| false).map_err(|e| e.to_string()));
        match parsed {
            Ok(p) => {
                total.imported += 1;
                println!("would import {} → {}", file.display(), p.headline.as_str());
            }
            Err(e) => {
                total.failed += 1;
                eprintln!("failed {}: {e}", file.display());
            }
        }
        return;
    };
    match ingest::import_text_file(store, file, options).await {
        Ok(done) => {
            match done.outcome {
                UpsertOutcome::Created => total.imported += 1,
                UpsertOutcome::Updated => total.updated += 1,
            }
            let verb = if done.outcome == UpsertOutcome::Created { "imported" } else { "updated" };
            println!("{verb} {} → #{} {}", file.display(), done.id, done.headline);
        }
        Err(e) => {
            total.failed += 1;
            eprintln!("failed {}: {e}", file.display());
        }
    }
}

/// One archive with a progress bar on stderr (drawn only when stderr is a terminal).
async fn import_archive(
    store: Option<&Store>,
    file: &Path,
    format: Format,
    options: ParseOptions,
    defaults: &Defaults,
    analyser: Option<&crate::related::Analyser>,
    max_gz_expanded_bytes: u64,
) -> Summary {
    let counter = Arc::new(AtomicU64::new(0));
    let reader = match bulk::open_capped(file, counter.clone(), max_gz_expanded_bytes) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("failed {}: cannot read: {e}", file.display());
            return Summary { failed: 1, ..Summary::default() };
        }
    };
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {percent}% {msg} · ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{} ({})", file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), format.name()));
    bar.enable_steady_tick(Duration::from_millis(200));
    let started = Instant::now();
    let name = file.display().to_string();
    let summary = bulk::import_archive(store, format, reader, options, defaults, analyser, &mut |summary, failures| {
        bar.set_position(counter.load(Ordering::Relaxed));
        let secs = started.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!("{} articles, {:.0}/s", summary.processed(), summary.processed() as f64 / secs));
        for (what, reason) in failures {
            bar.suspend(|| eprintln!("failed {name} {what}: {reason}"));
        }
    })
    .await;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let articles = summary.imported + summary.updated;
    eprintln!(
        "{name}: {articles} articles in {secs:.1} s ({:.0} articles/s), {} skipped, {} failed",
        articles as f64 / secs.max(0.001),
        summary.skipped,
        summary.failed
    );
    summary
}

/// Brings this data dir's search index up to date with what the import wrote, so the first
/// `nashir serve` afterwards builds nothing (20 s of a search answering 503 on the
/// 20,000-article corpus, minutes on bigger archives). Left to the server when one runs on
/// this data dir: it holds the index and follows the change log. The data dir's lock is held
/// meanwhile, so no server starts on a half-written index.
async fn update_search_index(config: &Config, store: &Store) -> anyhow::Result<()> {
    let Some(_lock) = super::lock_stopped_data_dir(config)? else {
        println!("  search index: updated by the running server");
        return Ok(());
    };
    let started = Instant::now();
    let (index, fresh) = crate::search::SearchIndex::open(&config.index_dir())?;
    let index = Arc::new(index);
    if index.rebuild_due(fresh, store.last_change_seq().await?) {
        let n = index.rebuild(store, |_, _| {}).await?;
        println!("search index built: {n} articles in {:.1}s", started.elapsed().as_secs_f64());
    } else {
        let n = index.catch_up(store).await?;
        println!("search index updated: {n} changes in {:.1}s", started.elapsed().as_secs_f64());
    }
    Ok(())
}
