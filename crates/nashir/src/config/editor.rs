//! `[editor]`: sessions, login limits, scheduling, uploads and article size limits.

use serde::{Deserialize, Serialize};

use super::documented;

documented! {
    /// The newsroom's editor: sessions, login limits, scheduling and uploads.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct EditorConfig {
        /// Hours a login lasts.
        pub session_hours: u64,
        /// Login attempts allowed per account (email) within `login_window_secs`, from all
        /// addresses together; more answer 429 until the window ends (a success starts over).
        pub login_max_failures: u32,
        /// Failed logins allowed per client address within `login_window_secs`, whatever the
        /// accounts tried (see `server.trusted_proxies` behind a reverse proxy).
        pub login_max_failures_per_address: u32,
        /// Window, in seconds, over which login attempts are counted.
        pub login_window_secs: u64,
        /// How often the server looks for scheduled articles that are due.
        pub schedule_interval_secs: u64,
        /// Largest accepted image upload, in bytes (also bounded by `server.max_body_bytes`).
        pub max_upload_bytes: usize,
        /// Most characters an article may have (headline, lead and body together) when saved in
        /// the editor or through the API; longer ones are refused (422, API code `article_too_large`).
        pub max_article_chars: usize,
        /// Most blocks (paragraphs, subheadings, quotes, images) in one article's body.
        pub max_article_blocks: usize,
        /// Revision diffs of more lines than this (both versions together) are not computed; the
        /// page says the diff is too large to show.
        pub max_diff_lines: usize,
    }
}

impl Default for EditorConfig {
    fn default() -> Self {
        EditorConfig {
            session_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_address: 30,
            login_window_secs: 900,
            schedule_interval_secs: 20,
            max_upload_bytes: 1536 * 1024,
            max_article_chars: 200_000,
            max_article_blocks: 2_000,
            max_diff_lines: 20_000,
        }
    }
}

impl EditorConfig {
    /// The per-article size limits the editor and the API enforce.
    pub fn article_limits(&self) -> crate::domain::ArticleLimits {
        crate::domain::ArticleLimits { max_chars: self.max_article_chars, max_blocks: self.max_article_blocks }
    }
}
