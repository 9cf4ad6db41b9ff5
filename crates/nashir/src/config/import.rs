//! `[import]`: limits on `nashir import`.

use serde::{Deserialize, Serialize};

use super::documented;

documented! {
    /// Limits on `nashir import`, so a hostile or broken file cannot exhaust memory or disk.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct ImportConfig {
        /// Largest size a `.gz` file may expand to, in bytes; beyond it the file is refused.
        pub max_gz_expanded_bytes: u64,
        /// Longest line in a JSON Lines file, in bytes; a longer line fails alone (with its number).
        pub max_jsonl_line_bytes: usize,
        /// Largest Ghost JSON export, in bytes (expanded), which is read whole; larger ones are refused.
        pub max_ghost_bytes: u64,
    }
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig { max_gz_expanded_bytes: 1 << 30, max_jsonl_line_bytes: 8 << 20, max_ghost_bytes: 256 << 20 }
    }
}
