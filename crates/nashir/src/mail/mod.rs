//! Outgoing mail: templates as triples (subject.txt, body.txt, body.html) rendered with
//! minijinja, messages with list headers, and the SMTP transport (lettre, one URL).

use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::Environment;
use serde::Serialize;

use crate::config::Config;
use crate::domain::{Email, HeaderText};

const TEMPLATES: &[(&str, &str)] = &[
    ("confirm/subject.txt", include_str!("../../templates/mail/confirm/subject.txt")),
    ("confirm/body.txt", include_str!("../../templates/mail/confirm/body.txt")),
    ("confirm/body.html", include_str!("../../templates/mail/confirm/body.html")),
    ("digest/subject.txt", include_str!("../../templates/mail/digest/subject.txt")),
    ("digest/body.txt", include_str!("../../templates/mail/digest/body.txt")),
    ("digest/body.html", include_str!("../../templates/mail/digest/body.html")),
    ("breaking/subject.txt", include_str!("../../templates/mail/breaking/subject.txt")),
    ("breaking/body.txt", include_str!("../../templates/mail/breaking/body.txt")),
    ("breaking/body.html", include_str!("../../templates/mail/breaking/body.html")),
];

/// A rendered message before addressing.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct MailTemplates {
    env: Environment<'static>,
}

impl MailTemplates {
    pub fn new() -> anyhow::Result<MailTemplates> {
        let env = crate::render::environment(TEMPLATES)?;
        Ok(MailTemplates { env })
    }

    /// Renders `{name}/subject.txt`, `body.txt` and `body.html`; the subject is one line.
    pub fn render(&self, name: &str, context: impl Serialize) -> anyhow::Result<Rendered> {
        let ctx = minijinja::Value::from_serialize(&context);
        let subject = self.env.get_template(&format!("{name}/subject.txt"))?.render(&ctx)?;
        let subject = crate::domain::collapse_whitespace(&subject);
        let ctx = minijinja::context! { subject => subject.clone(), ..ctx };
        let text = self.env.get_template(&format!("{name}/body.txt"))?.render(&ctx)?;
        let html = self.env.get_template(&format!("{name}/body.html"))?.render(&ctx)?;
        Ok(Rendered { subject, text, html })
    }
}

/// Why a send failed, as the queue needs to know it.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// 4xx, timeouts, refused connections: try again later.
    #[error("temporary: {0}")]
    Temporary(String),
    /// 5xx: the address does not take mail.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Links that make a message a list message (RFC 2369, RFC 8058).
pub struct ListLinks<'a> {
    pub unsubscribe_url: &'a str,
    pub unsubscribe_mailto: &'a str,
}

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    list_id: String,
    id_domain: String,
    dkim: Option<lettre::message::dkim::DkimConfig>,
    pub unsubscribe_mailto: String,
}

impl Mailer {
    /// A mailer for the configured server; without `smtp.url` it queues but cannot send.
    pub fn new(config: &Config, base_url: &str) -> anyhow::Result<Mailer> {
        let nl = &config.newsletter;
        let from = nl.from_mailbox()?;
        let reply_to = if nl.reply_to.is_empty() { None } else { Some(crate::domain::parse_mailbox(&nl.reply_to)?) };
        let transport = if config.smtp.url.is_empty() {
            None
        } else {
            let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp.url)
                .map_err(|e| anyhow::anyhow!("smtp.url {}: {e}", crate::config::redact_url(&config.smtp.url)))?;
            let pool = lettre::transport::smtp::PoolConfig::new().max_size(nl.concurrency as u32).idle_timeout(Duration::from_secs(30));
            Some(builder.timeout(Some(Duration::from_secs(config.smtp.timeout_secs))).pool_config(pool).build())
        };
        let host = base_url.split("://").nth(1).unwrap_or(base_url).split(['/', ':']).next().unwrap_or("localhost").to_string();
        let id_domain = from.email.domain().to_string();
        let unsubscribe_mailto = if nl.unsubscribe_mailto.is_empty() { from.email.to_string() } else { nl.unsubscribe_mailto.clone() };
        Ok(Mailer { transport, from, reply_to, list_id: format!("<newsletter.{host}>"), id_domain, dkim: nl.dkim()?, unsubscribe_mailto })
    }

    pub fn can_send(&self) -> bool {
        self.transport.is_some()
    }

    /// Builds the message: From/Reply-To from config, a unique Message-ID, text and HTML
    /// alternatives, and the list headers when `list` is given.
    pub fn compose(&self, to: &Email, rendered: &Rendered, list: Option<&ListLinks<'_>>) -> anyhow::Result<Message> {
        let subject = HeaderText::parse(&rendered.subject).map_err(|e| anyhow::anyhow!("subject: {e}"))?;
        let to: Mailbox = Mailbox::new(None, to.as_str().parse().context("recipient")?);
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).context("randomness")?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(subject.as_str()).date_now().message_id(Some(format!(
            "<{}.{}@{}>",
            crate::domain::now_secs(),
            hex::encode(nonce),
            self.id_domain
        )));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(list) = list {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Id"), self.list_id.clone()))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{}>, <mailto:{}?subject=unsubscribe>", list.unsubscribe_url, list.unsubscribe_mailto),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        }
        let part =
            |ct: ContentType, body: &str| SinglePart::builder().header(ct).header(ContentTransferEncoding::Base64).body(body.to_string());
        let body = MultiPart::alternative()
            .singlepart(part(ContentType::TEXT_PLAIN, &rendered.text))
            .singlepart(part(ContentType::TEXT_HTML, &rendered.html));
        let mut message = builder.multipart(body).context("building the message")?;
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(message)
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let transport = self.transport.as_ref().ok_or_else(|| SendError::Temporary("smtp.url is not configured".into()))?;
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Temporary(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn rendered() -> Rendered {
        Rendered { subject: "نشرة اليوم".into(), text: "نص".into(), html: "<p dir=\"rtl\">نص</p>".into() }
    }

    #[test]
    fn list_headers_and_dkim_cover_them() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("dkim.key");
        std::fs::write(&key, base64::engine::general_purpose::STANDARD.encode([7u8; 32])).unwrap();
        let mut config = Config::default();
        config.newsletter.from = "نشرة <news@nashir.test>".into();
        config.newsletter.dkim_key_file = key.display().to_string();
        config.newsletter.dkim_algorithm = crate::config::DkimAlgorithm::Ed25519;
        config.newsletter.dkim_selector = "sel".into();
        config.validate().unwrap();
        let mailer = Mailer::new(&config, "https://news.example.org").unwrap();
        let links = ListLinks {
            unsubscribe_url: "https://news.example.org/newsletter/unsubscribe?t=m.1.2.abc",
            unsubscribe_mailto: "news@nashir.test",
        };
        let message = mailer.compose(&Email::parse("reader@example.org").unwrap(), &rendered(), Some(&links)).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ").replace("\r\n\t", " ");
        assert!(head.contains("List-Unsubscribe: <https://news.example.org/newsletter/unsubscribe?t=m.1.2.abc>, <mailto:news@nashir.test?subject=unsubscribe>"), "{head}");
        assert!(head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(head.contains("List-Id: <newsletter.news.example.org>"));
        let dkim = head.lines().find(|l| l.starts_with("DKIM-Signature:")).expect("signed");
        assert!(dkim.contains("d=nashir.test") && dkim.contains("s=sel") && dkim.contains("a=ed25519-sha256"), "{dkim}");
        let signed = dkim.split("h=").nth(1).unwrap().split(';').next().unwrap().to_ascii_lowercase();
        for h in ["from", "subject", "message-id", "list-unsubscribe", "list-unsubscribe-post", "list-id"] {
            assert!(signed.split(':').any(|s| s.trim() == h), "{h} signed: {signed}");
        }
    }

    #[test]
    fn bad_dkim_key_is_a_config_error() {
        let mut config = Config::default();
        config.newsletter.dkim_key_file = "/nonexistent/key.pem".into();
        assert!(config.validate().unwrap_err().to_string().contains("dkim_key_file"));
    }

    #[test]
    fn subjects_with_line_breaks_are_refused() {
        let mailer = Mailer::new(&Config::default(), "http://x").unwrap();
        let mut r = rendered();
        r.subject = "a\r\nBcc: x@y.org".into();
        assert!(mailer.compose(&Email::parse("reader@example.org").unwrap(), &r, None).is_err());
    }
}
