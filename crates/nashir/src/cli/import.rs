use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::Config;
use crate::ingest::{self, ImportOptions};
use crate::store::UpsertOutcome;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Plain-text files, or directories whose .txt files are imported.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Section name for the imported articles, e.g. «سياسة».
    #[arg(long)]
    pub section: Option<String>,
    /// Author name (repeat for several authors).
    #[arg(long = "author")]
    pub authors: Vec<String>,
    /// Tag (repeat for several tags).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Publication date, 2021-12-03 or 2021-12-03T10:00:00+02:00 (default: now).
    #[arg(long, value_name = "DATE")]
    pub published_at: Option<String>,
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
        Some(v) => Some(ingest::parse_published_at(v, config.timezone()?).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let options = ImportOptions { section: args.section.clone(), authors: args.authors.clone(), tags: args.tags.clone(), published_at };
    let store = super::open_store(&config).await?;
    let (mut created, mut updated, mut failed) = (0, 0, 0);
    for file in expand(&args.files) {
        match ingest::import_text_file(&store, Path::new(&file), &options).await {
            Ok(done) => {
                match done.outcome {
                    UpsertOutcome::Created => created += 1,
                    UpsertOutcome::Updated => updated += 1,
                }
                let verb = if done.outcome == UpsertOutcome::Created { "imported" } else { "updated" };
                println!("{verb} {} → #{} {}", file.display(), done.id, done.headline);
            }
            Err(e) => {
                failed += 1;
                eprintln!("failed {}: {e}", file.display());
            }
        }
    }
    println!("{created} imported, {updated} updated, {failed} failed");
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
