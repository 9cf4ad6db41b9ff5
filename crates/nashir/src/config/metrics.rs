//! `[metrics]`: who may read `/metrics`.

use serde::{Deserialize, Serialize};

use super::documented;

documented! {
    /// Who may read `/metrics`. Off by default, like Gitea's `[metrics]`; when on, scrapers
    /// either send the token or come from the machine itself.
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct MetricsConfig {
        /// Serve Prometheus metrics at `/metrics` (404 when off).
        pub enabled: bool,
        /// When set, scrapers must send `Authorization: Bearer <token>`; when empty, only
        /// loopback clients (127.0.0.1, ::1) may scrape, and not through a proxy (requests
        /// carrying X-Forwarded-For are refused). Also `NASHIR_METRICS_TOKEN`.
        pub token: String,
    }
}
