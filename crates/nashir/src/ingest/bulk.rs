//! Archive imports (JSON Lines, WordPress WXR, Ghost JSON): format detection and the driver that writes them to the store in batches.
//!
//! Parsers are plain iterators over a `BufRead`, run on their own thread so parsing and
//! database writes overlap; a bounded channel between them keeps memory flat whatever the
//! size of the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;

use super::record::{Entry, ParseOptions, Record};
use super::{ghost, jsonl, wxr};
use crate::domain::ArticleDraft;
use crate::store::{redirect_key, Store, StoreError, UpsertOutcome};

/// Articles written per transaction.
pub const BATCH_SIZE: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Wxr,
    Ghost,
    Jsonl,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Wxr => "wxr",
            Format::Ghost => "ghost",
            Format::Jsonl => "jsonl",
        }
    }
}

/// Defaults applied to entries that lack them (from `--section`, `--author`, `--tag`).
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub section: Option<String>,
    pub authors: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub imported: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    pub redirects: u64,
    /// Skip reasons with their counts.
    pub skip_reasons: BTreeMap<String, u64>,
    /// The first failures, `(where, why)`; `failed` has the full count.
    pub failures: Vec<(String, String)>,
}

const MAX_LISTED_FAILURES: usize = 200;

impl Summary {
    fn fail(&mut self, what: String, reason: String) {
        self.failed += 1;
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push((what, reason));
        }
    }

    pub fn processed(&self) -> u64 {
        self.imported + self.updated + self.skipped + self.failed
    }
}

/// Counts bytes read from the file (compressed bytes for `.gz`) for the progress bar.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn is_gzip(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == [0x1f, 0x8b]
}

/// Fails the read once more than `left` bytes came out of a decompressor: a few kilobytes of
/// gzip can expand to terabytes (a "gzip bomb"), which would fill memory or the database.
struct ExpansionCap<R> {
    inner: R,
    left: u64,
    limit: u64,
    file: String,
}

impl<R: Read> Read for ExpansionCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => Err(std::io::Error::other(format!(
                "{}: expands to more than {} bytes (import.max_gz_expanded_bytes); refused as a possible gzip bomb",
                self.file, self.limit
            ))),
        }
    }
}

/// Opens the file for reading, decompressing gzip transparently (up to the default expansion cap).
pub fn open(path: &Path, counter: Arc<AtomicU64>) -> std::io::Result<Box<dyn BufRead + Send>> {
    open_capped(path, counter, crate::config::ImportConfig::default().max_gz_expanded_bytes)
}

/// Opens the file for reading; a gzip file may expand to at most `max_expanded` bytes, after
/// which reading fails with an error naming the file.
pub fn open_capped(path: &Path, counter: Arc<AtomicU64>, max_expanded: u64) -> std::io::Result<Box<dyn BufRead + Send>> {
    let file = Counted { inner: File::open(path)?, count: counter };
    Ok(if is_gzip(path) {
        let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(file));
        let capped = ExpansionCap { inner: decoder, left: max_expanded, limit: max_expanded, file: path.display().to_string() };
        Box::new(BufReader::with_capacity(256 * 1024, capped))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, file))
    })
}

/// The format of a file: by its extension first, then by its first bytes.
pub fn detect(path: &Path) -> Format {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return Format::Jsonl;
    }
    if name.ends_with(".wxr") {
        return Format::Wxr;
    }
    if name.ends_with(".txt") {
        return Format::Text;
    }
    let mut head = Vec::new();
    if let Ok(reader) = open(path, Arc::default()) {
        let _ = reader.take(64 * 1024).read_to_end(&mut head);
    }
    sniff(&head)
}

/// Tells the format from the first bytes: `<?xml`/`<rss` → WXR, a JSON object with `"db"` →
/// Ghost, a JSON object on the first line → JSON Lines, anything else → plain text.
pub fn sniff(head: &[u8]) -> Format {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let head = &head[start..];
    if head.starts_with(b"<?xml") || head.starts_with(b"<rss") {
        return Format::Wxr;
    }
    if head.starts_with(b"{") {
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(first_line).is_ok_and(|m| !m.contains_key("db")) {
            return Format::Jsonl;
        }
        let window = &head[..head.len().min(4096)];
        if window.windows(4).any(|w| w == b"\"db\"") || window.windows(6).any(|w| w == b"\"data\"") {
            return Format::Ghost;
        }
        return Format::Jsonl;
    }
    Format::Text
}

/// The records of one archive file, parsed on a thread of their own.
pub fn spawn_parser(format: Format, reader: Box<dyn BufRead + Send>, options: ParseOptions) -> tokio::sync::mpsc::Receiver<Record> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Record>(2 * BATCH_SIZE);
    std::thread::spawn(move || {
        let records: Box<dyn Iterator<Item = Record>> = match format {
            Format::Jsonl => Box::new(jsonl::records_capped(reader, options.max_jsonl_line_bytes)),
            Format::Wxr => Box::new(wxr::records(reader, options)),
            Format::Ghost => Box::new(ghost::records(reader, options)),
            Format::Text => Box::new(std::iter::once(Record::Failed {
                what: "file".into(),
                reason: "plain text is imported one file at a time".into(),
            })),
        };
        for record in records {
            if tx.blocking_send(record).is_err() {
                break;
            }
        }
    });
    rx
}

/// Called after every batch with the running summary.
pub type Progress<'a> = &'a mut dyn FnMut(&Summary, &[(String, String)]);

/// Parses the archive and writes its articles in batches. With `store` None (a dry run)
/// nothing is written and every article counts as imported.
pub async fn import_archive(
    store: Option<&Store>,
    format: Format,
    reader: Box<dyn BufRead + Send>,
    options: ParseOptions,
    defaults: &Defaults,
    analyser: Option<&crate::related::Analyser>,
    progress: Progress<'_>,
) -> Summary {
    let mut rx = spawn_parser(format, reader, options);
    let mut summary = Summary::default();
    let mut batch: Vec<Entry> = Vec::with_capacity(BATCH_SIZE);
    let mut new_failures = Vec::new();
    while let Some(record) = rx.recv().await {
        match record {
            Record::Entry(entry) => {
                let mut entry = *entry;
                apply_defaults(&mut entry.draft, defaults);
                batch.push(entry);
            }
            Record::Skipped { reason, .. } => {
                summary.skipped += 1;
                *summary.skip_reasons.entry(reason).or_default() += 1;
            }
            Record::Failed { what, reason } => {
                new_failures.push((what.clone(), reason.clone()));
                summary.fail(what, reason);
            }
        }
        if batch.len() >= BATCH_SIZE {
            write_batch(store, &mut batch, &mut summary, &mut new_failures, analyser).await;
            progress(&summary, &new_failures);
            new_failures.clear();
        }
    }
    write_batch(store, &mut batch, &mut summary, &mut new_failures, analyser).await;
    progress(&summary, &new_failures);
    summary
}

fn apply_defaults(draft: &mut ArticleDraft, defaults: &Defaults) {
    if draft.section.is_none() {
        draft.section.clone_from(&defaults.section);
    }
    if draft.authors.is_empty() {
        draft.authors.clone_from(&defaults.authors);
    }
    for tag in &defaults.tags {
        if !draft.tags.contains(tag) {
            draft.tags.push(tag.clone());
        }
    }
    if draft.published_at.is_none() && draft.status == crate::domain::Status::Published {
        draft.published_at = Some(Utc::now());
    }
}

async fn write_batch(
    store: Option<&Store>,
    batch: &mut Vec<Entry>,
    summary: &mut Summary,
    failures: &mut Vec<(String, String)>,
    analyser: Option<&crate::related::Analyser>,
) {
    if batch.is_empty() {
        return;
    }
    let Some(store) = store else {
        summary.imported += batch.len() as u64;
        batch.clear();
        return;
    };
    let drafts: Vec<ArticleDraft> = batch.iter().map(|e| e.draft.clone()).collect();
    let results: Vec<Result<(i64, UpsertOutcome), StoreError>> = match store.upsert_articles(&drafts).await {
        Ok(done) => done.into_iter().map(Ok).collect(),
        // One bad draft spoils its transaction; redo the batch one by one to keep the rest.
        Err(_) => {
            let mut each = Vec::with_capacity(drafts.len());
            for draft in &drafts {
                each.push(store.upsert_article(draft).await);
            }
            each
        }
    };
    let mut redirects = Vec::new();
    for (entry, result) in batch.iter().zip(results) {
        match result {
            Ok((id, outcome)) => {
                if let Some(analyser) = analyser {
                    analyser.add(id, &entry.draft);
                }
                match outcome {
                    UpsertOutcome::Created => summary.imported += 1,
                    UpsertOutcome::Updated => summary.updated += 1,
                }
                for path in &entry.old_paths {
                    let (path, query) = match path.split_once('?') {
                        Some((p, q)) => (p, Some(q)),
                        None => (path.as_str(), None),
                    };
                    redirects.push((redirect_key(path, query), id));
                }
            }
            Err(e) => {
                let what = entry.draft.source_key.clone().unwrap_or_else(|| entry.draft.headline.as_str().to_string());
                let reason = format!("storage failed: {e}");
                failures.push((what.clone(), reason.clone()));
                summary.fail(what, reason);
            }
        }
    }
    let count = redirects.len() as u64;
    match store.add_redirects(&redirects).await {
        Ok(()) => summary.redirects += count,
        Err(e) => {
            let reason = format!("redirects not saved: {e}");
            failures.push(("redirects".into(), reason.clone()));
            summary.fail("redirects".into(), reason);
        }
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><rss>"), Format::Wxr);
        assert_eq!(sniff(b"\xef\xbb\xbf  <rss version=\"2.0\">"), Format::Wxr);
        assert_eq!(sniff(b"{\"db\":[{\"data\":{}}]}"), Format::Ghost);
        assert_eq!(sniff(b"{\n  \"db\": [\n"), Format::Ghost);
        assert_eq!(sniff(b"{\"id\":1,\"title\":\"x\"}\n{\"id\":2"), Format::Jsonl);
        assert_eq!(sniff("عنوان\n\nنص".as_bytes()), Format::Text);
    }
}
