//! The newsletter: subscribers who confirmed by a signed link, digest issues built from
//! what was published, and a delivery queue that a worker drains over SMTP.

pub mod breaking;
pub mod digest;
pub mod lease;
pub mod limiter;
pub mod tokens;
pub mod worker;

use std::sync::Arc;

pub use crate::store::newsletter::{DeliveryCounts, IssueRow, Subscriber, SubscriberStatus};
pub use tokens::{Purpose, Signer, TokenError};

use crate::config::Config;
use crate::mail::{MailTemplates, Mailer};
use crate::render::DateStyle;
use crate::store::{Store, StoreResult};

/// Lifetime of the preferences/unsubscribe link in each mail: long, because people
/// unsubscribe from old mails, and RFC 8058 asks that the link keep working.
pub const MANAGE_TTL_SECS: i64 = 400 * 86_400;

/// Everything the newsletter needs, shared by the web handlers, the worker and the CLI.
#[derive(Clone)]
pub struct Newsletter {
    pub store: Store,
    pub config: Arc<Config>,
    /// Absolute base URL for links in mails, without a trailing slash.
    pub base_url: Arc<str>,
    pub dates: DateStyle,
    pub templates: Arc<MailTemplates>,
    pub mailer: Arc<Mailer>,
    signer: Arc<tokio::sync::OnceCell<Signer>>,
    /// Sign-up limits: per IP address, per subscriber address.
    pub ip_limiter: Arc<limiter::RateLimiter>,
    pub address_limiter: Arc<limiter::RateLimiter>,
    /// Where the worker counts what it sent; the server shares it with `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Newsletter {
    pub fn new(store: Store, config: Arc<Config>, base_url: &str) -> anyhow::Result<Newsletter> {
        let base_url = base_url.trim_end_matches('/');
        let dates = DateStyle::from_config(&config);
        let (ip_limiter, address_limiter) = (
            Arc::new(limiter::RateLimiter::new(config.newsletter.subscribe_per_ip_per_hour)),
            Arc::new(limiter::RateLimiter::new(config.newsletter.subscribe_per_address_per_hour)),
        );
        Ok(Newsletter {
            ip_limiter,
            address_limiter,
            mailer: Arc::new(Mailer::new(&config, base_url)?),
            templates: Arc::new(MailTemplates::new()?),
            store,
            config,
            base_url: base_url.into(),
            dates,
            signer: Arc::new(tokio::sync::OnceCell::new()),
            metrics: Arc::default(),
        })
    }

    /// The base URL for mail links from the config alone (CLI): `site.url`, or the address.
    pub fn base_url_of(config: &Config) -> String {
        if config.site.url.is_empty() {
            format!("http://{}", config.server.addr)
        } else {
            config.site.url.trim_end_matches('/').to_string()
        }
    }

    pub async fn signer(&self) -> StoreResult<&Signer> {
        self.signer.get_or_try_init(|| Signer::load_or_create(&self.store)).await
    }

    /// The signed preferences and one-click unsubscribe URLs of one subscriber.
    pub fn manage_urls(&self, signer: &Signer, subscriber_id: i64, now: i64) -> (String, String) {
        let token = signer.sign(Purpose::Manage, &subscriber_id.to_string(), now + MANAGE_TTL_SECS);
        (format!("{}/newsletter/preferences?t={token}", self.base_url), format!("{}/newsletter/unsubscribe?t={token}", self.base_url))
    }

    pub fn site_context(&self) -> serde_json::Value {
        serde_json::json!({ "title": self.config.site.title, "url": self.base_url.as_ref() })
    }
}
