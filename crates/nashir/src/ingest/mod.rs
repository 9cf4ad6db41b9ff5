//! Importers: every format ends as `ArticleDraft`s handed to the store.

pub mod bulk;
pub mod ghost;
pub mod html;
pub mod jsonl;
pub mod markup;
pub mod plaintext;
pub mod record;
pub mod sample;
pub mod wxr;

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::domain::{ArticleDraft, Status};
use crate::store::{Store, StoreError, UpsertOutcome};

/// How often a line must have closed other imported articles before it counts as the
/// site's footer rather than news.
const RECURRING_FOOTER_THRESHOLD: i64 = 3;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub section: Option<String>,
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Text(#[from] plaintext::TextError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Imported {
    pub id: i64,
    pub outcome: UpsertOutcome,
    pub headline: String,
    pub removed_trailing: Vec<String>,
}

/// Parses `--published-at`: a date (`2021-12-03`, taken as noon in the newsroom's zone so
/// it shows as that day whatever the zone) or a full RFC 3339 time.
pub fn parse_published_at(value: &str, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| format!("«{value}» ليس تاريخاً بالشكل 2021-12-03 أو 2021-12-03T10:00:00+02:00"))?;
    let noon = date.and_hms_opt(12, 0, 0).expect("noon exists");
    tz.from_local_datetime(&noon).earliest().map(|t| t.with_timezone(&Utc)).ok_or_else(|| format!("«{value}» غير موجود في المنطقة الزمنية"))
}

/// Imports one plain-text file. The file's canonical path is its identity, so importing it
/// again updates the same article.
pub async fn import_text_file(store: &Store, path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path)?;
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    import_text(store, &bytes, &format!("text:{}", canonical.display()), &name, options).await
}

/// Imports plain-text bytes under a stable source key (a path, or a demo file name).
pub async fn import_text(
    store: &Store,
    bytes: &[u8],
    source_key: &str,
    source: &str,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let text = plaintext::decode(bytes)?;
    let known_footer = known_footer_lines(store, &text).await?;
    let parsed = plaintext::parse(&text, &|_, key| known_footer.contains(key))?;

    let mut draft = ArticleDraft::new(parsed.headline.clone());
    draft.lead = parsed.lead;
    draft.body = parsed.body;
    draft.section = options.section.clone();
    draft.authors = options.authors.clone();
    draft.tags = options.tags.clone();
    draft.status = Status::Published;
    draft.published_at = Some(options.published_at.unwrap_or_else(Utc::now));
    draft.source = Some(source.to_string());
    draft.source_key = Some(source_key.to_string());
    // Suggestions and entities are derived state, computed by the server's related follower
    // from the change log (at its next start when none runs): an import does not wait for
    // them, nor load the whole archive's index into the importing process.
    let (id, outcome) = store.upsert_article(&draft).await?;

    if outcome == UpsertOutcome::Created {
        for key in parsed.trailing_keys.iter().filter(|k| !k.is_empty() && k.split(' ').count() <= 40) {
            store.record_trailing_line(key).await?;
        }
    }
    Ok(Imported { id, outcome, headline: parsed.headline.as_str().to_string(), removed_trailing: parsed.removed_trailing })
}

/// Which of the text's last lines closed enough earlier imports to be the site's footer.
async fn known_footer_lines(store: &Store, text: &str) -> Result<HashSet<String>, StoreError> {
    let mut known = HashSet::new();
    for line in text.lines().rev().filter(|l| !l.trim().is_empty()).take(3) {
        let key = plaintext::line_key(line);
        if !key.is_empty() && store.trailing_line_count(&key).await? >= RECURRING_FOOTER_THRESHOLD {
            known.insert(key);
        }
    }
    Ok(known)
}
