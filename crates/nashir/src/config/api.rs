//! `[api]`: the JSON API.

use serde::{Deserialize, Serialize};

use super::documented;

documented! {
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct ApiConfig {
        /// Bearer token for editor-only API calls (pinning/removing related articles) until
        /// editor accounts exist; empty disables those calls (403). At least 32 characters
        /// (e.g. `openssl rand -hex 32`): a shorter one is refused at start. Also
        /// `NASHIR_API_ADMIN_TOKEN`.
        pub admin_token: String,
    }
}

/// The shortest `api.admin_token` accepted: it guards editor-only calls, and anyone can try
/// guesses against it, so it must be too long to guess (32 hex digits are 128 bits).
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;
