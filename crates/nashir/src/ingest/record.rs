//! What every archive reader (`jsonl`, `wxr`, `ghost`) yields and shares, so the readers and
//! the driver in `bulk` depend on this file and not on each other.

use chrono::Utc;

use crate::domain::ArticleDraft;

/// One article ready for the store, with the addresses it had before.
#[derive(Debug, Clone)]
pub struct Entry {
    pub draft: ArticleDraft,
    /// Old paths (`/2021/12/03/slug/`, `/?p=123`) to answer with a redirect.
    pub old_paths: Vec<String>,
}

/// What a parser yields for each thing it meets in the file.
#[derive(Debug)]
pub enum Record {
    Entry(Box<Entry>),
    /// Deliberately not imported (a page without `--include-pages`, a trashed post).
    Skipped {
        what: String,
        reason: String,
    },
    /// Could not be imported; `what` says where (line, post id).
    Failed {
        what: String,
        reason: String,
    },
}

/// Settings the archive parsers share.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Import WordPress pages and attachments, Ghost pages.
    pub include_pages: bool,
    /// Replaces `__GHOST_URL__`; empty leaves site-relative links.
    pub site_url: String,
    /// Zone of local times that carry no offset (WordPress `wp:post_date`).
    pub timezone: chrono_tz::Tz,
    /// Longest JSON Lines line, in bytes (`import.max_jsonl_line_bytes`).
    pub max_jsonl_line_bytes: usize,
    /// Largest Ghost export, in bytes, which is read whole (`import.max_ghost_bytes`).
    pub max_ghost_bytes: u64,
}

impl Default for ParseOptions {
    fn default() -> Self {
        let limits = crate::config::ImportConfig::default();
        ParseOptions {
            include_pages: false,
            site_url: String::new(),
            timezone: chrono_tz::UTC,
            max_jsonl_line_bytes: limits.max_jsonl_line_bytes,
            max_ghost_bytes: limits.max_ghost_bytes,
        }
    }
}

/// Parses a date as archives write them: RFC 3339, `2021-12-03 10:00:00` (UTC unless `tz`),
/// RFC 2822 (RSS `pubDate`) or a bare date (noon).
pub fn parse_date(value: &str, tz: chrono_tz::Tz) -> Option<chrono::DateTime<Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
    let value = value.trim();
    if value.is_empty() || value.starts_with("0000") {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(value) {
        return Some(t.with_timezone(&Utc));
    }
    for pattern in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, pattern) {
            return tz.from_local_datetime(&t).earliest().map(|t| t.with_timezone(&Utc));
        }
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    tz.from_local_datetime(&date.and_hms_opt(12, 0, 0)?).earliest().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let tz = chrono_tz::Asia::Damascus;
        assert_eq!(parse_date("2021-12-03 10:00:00", chrono_tz::UTC).unwrap().to_rfc3339(), "2021-12-03T10:00:00+00:00");
        assert_eq!(parse_date("Fri, 03 Dec 2021 10:00:00 +0000", tz).unwrap().to_rfc3339(), "2021-12-03T10:00:00+00:00");
        assert_eq!(parse_date("2021-12-03T12:00:00.000Z", tz).unwrap().to_rfc3339(), "2021-12-03T12:00:00+00:00");
        assert!(parse_date("0000-00-00 00:00:00", tz).is_none());
        assert!(parse_date("غداً", tz).is_none());
    }
}
