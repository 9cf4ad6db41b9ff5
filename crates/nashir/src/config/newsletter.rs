//! Outgoing mail and the newsletter: the `[smtp]` and `[newsletter]` sections.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::domain::{parse_mailbox, HeaderText};

crate::config::documented! {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct SmtpConfig {
        /// Outgoing mail server in lettre's URL format, e.g. `smtp://127.0.0.1:2525` or
        /// `smtp://user:pass@mail.example.org:587?tls=required`. Empty: mail stays queued.
        /// Also `NASHIR_SMTP_URL`.
        pub url: String,
        /// Seconds an SMTP command may take before the attempt counts as a temporary failure.
        pub timeout_secs: u64,
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig { url: String::new(), timeout_secs: 30 }
    }
}

impl SmtpConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.url.is_empty() {
            return Ok(());
        }
        if !(self.url.starts_with("smtp://") || self.url.starts_with("smtps://")) {
            bail!("smtp.url must start with smtp:// or smtps:// (got {:?})", crate::config::redact_url(&self.url));
        }
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&self.url)
            .map_err(|e| anyhow::anyhow!("smtp.url {}: {e}", crate::config::redact_url(&self.url)))?;
        Ok(())
    }
}

crate::config::documented! {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct NewsletterConfig {
        /// Run the delivery worker and the digest scheduler inside `serve`.
        pub worker: bool,
        /// Sender, e.g. `ناشر <news@example.org>`.
        pub from: String,
        /// Where replies go; empty means the sender.
        pub reply_to: String,
        /// Address for `List-Unsubscribe: <mailto:…>`; empty means the sender's address.
        pub unsubscribe_mailto: String,
        /// Daily digest time, `HH:MM` in the site's time zone.
        pub daily_at: super::ClockTime,
        /// Weekday of the weekly digest (english name), sent at `daily_at`.
        pub weekly_on: super::Day,
        /// Messages sent at the same time.
        pub concurrency: usize,
        /// Messages per second at most; 0 means as fast as the server takes them.
        pub rate_per_sec: f64,
        /// Rows leased by the worker at once.
        pub batch_size: i64,
        /// Seconds a leased row stays reserved; after a crash it is sent again once this passes.
        pub lease_secs: i64,
        /// Temporary failures tolerated before a message is given up.
        pub max_attempts: i64,
        /// Permanent failures (5xx) after which an address is suppressed.
        pub max_bounces: i64,
        /// Hours a confirmation link stays valid.
        pub confirm_ttl_hours: i64,
        /// DKIM: key file (PKCS#1 PEM for rsa, base64 of the 32-byte seed for ed25519); empty: no
        /// signing (leave it to the relay).
        pub dkim_key_file: String,
        /// DKIM selector, the name of the key published at `SELECTOR._domainkey.DOMAIN`.
        pub dkim_selector: String,
        /// DKIM signing domain; empty means the sender's domain.
        pub dkim_domain: String,
        /// `rsa` or `ed25519`.
        pub dkim_algorithm: super::DkimAlgorithm,
        /// Sign-ups accepted per IP address per hour.
        pub subscribe_per_ip_per_hour: u32,
        /// Confirmation mails sent to one address per hour.
        pub subscribe_per_address_per_hour: u32,
    }
}

impl Default for NewsletterConfig {
    fn default() -> Self {
        NewsletterConfig {
            worker: true,
            from: "ناشر <newsletter@localhost.localdomain>".into(),
            reply_to: String::new(),
            unsubscribe_mailto: String::new(),
            daily_at: super::ClockTime(chrono::NaiveTime::from_hms_opt(7, 0, 0).expect("a valid time")),
            weekly_on: super::Day(chrono::Weekday::Fri),
            concurrency: 16,
            rate_per_sec: 0.0,
            batch_size: 200,
            lease_secs: 120,
            max_attempts: 8,
            max_bounces: 3,
            confirm_ttl_hours: 72,
            dkim_key_file: String::new(),
            dkim_selector: "nashir".into(),
            dkim_domain: String::new(),
            dkim_algorithm: super::DkimAlgorithm::Rsa,
            subscribe_per_ip_per_hour: 20,
            subscribe_per_address_per_hour: 3,
        }
    }
}

impl NewsletterConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        self.from_mailbox().context("newsletter.from")?;
        if !self.reply_to.is_empty() {
            parse_mailbox(&self.reply_to).context("newsletter.reply_to")?;
        }
        if !self.unsubscribe_mailto.is_empty() {
            crate::domain::Email::parse(&self.unsubscribe_mailto).map_err(|e| anyhow::anyhow!("newsletter.unsubscribe_mailto: {e}"))?;
        }
        if !self.dkim_key_file.is_empty() {
            self.dkim()?;
        }
        if self.concurrency == 0 || self.concurrency > 512 {
            bail!("newsletter.concurrency must be between 1 and 512");
        }
        if self.batch_size < 1 || self.lease_secs < 1 || self.max_attempts < 1 || self.max_bounces < 1 || self.rate_per_sec < 0.0 {
            bail!("newsletter.batch_size, lease_secs, max_attempts and max_bounces must be positive, rate_per_sec not negative");
        }
        Ok(())
    }

    pub fn from_mailbox(&self) -> anyhow::Result<lettre::message::Mailbox> {
        parse_mailbox(&self.from)
    }

    /// The DKIM signer, when a key is configured. Every list header is covered, so a relay
    /// cannot strip or alter the unsubscribe links without breaking the signature.
    pub fn dkim(&self) -> anyhow::Result<Option<lettre::message::dkim::DkimConfig>> {
        use lettre::message::dkim::{DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey};
        use lettre::message::header::HeaderName;
        if self.dkim_key_file.is_empty() {
            return Ok(None);
        }
        let algorithm = match self.dkim_algorithm {
            super::DkimAlgorithm::Rsa => DkimSigningAlgorithm::Rsa,
            super::DkimAlgorithm::Ed25519 => DkimSigningAlgorithm::Ed25519,
        };
        let pem = std::fs::read_to_string(&self.dkim_key_file)
            .with_context(|| format!("newsletter.dkim_key_file: cannot read {}", self.dkim_key_file))?;
        let key = DkimSigningKey::new(pem.trim(), algorithm)
            .map_err(|e| anyhow::anyhow!("newsletter.dkim_key_file {}: not a usable key ({e})", self.dkim_key_file))?;
        HeaderText::parse(&self.dkim_selector).map_err(|e| anyhow::anyhow!("newsletter.dkim_selector: {e}"))?;
        let domain = if self.dkim_domain.is_empty() { self.from_mailbox()?.email.domain().to_string() } else { self.dkim_domain.clone() };
        let headers = ["From", "To", "Subject", "Date", "Message-ID", "Reply-To", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"]
            .into_iter()
            .map(HeaderName::new_from_ascii_str)
            .collect();
        let canonicalization = DkimCanonicalization { header: DkimCanonicalizationType::Relaxed, body: DkimCanonicalizationType::Relaxed };
        Ok(Some(DkimConfig::new(self.dkim_selector.clone(), domain, key, headers, canonicalization)))
    }

    /// The daily digest's time of day, in the site's time zone.
    pub fn daily_time(&self) -> chrono::NaiveTime {
        self.daily_at.0
    }

    /// The weekly digest's day.
    pub fn weekly_day(&self) -> chrono::Weekday {
        self.weekly_on.0
    }
}
