//! Outgoing mail: templates as triples (subject.txt, body.txt, body.html) rendered with
//! minijinja, messages with list headers, and the SMTP transport (lettre, one URL).

use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
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

/// A message rendered once for many readers, with markers where each reader's own links go.
///
/// Encoding a ~47 KB digest as base64 for every reader was most of a newsletter's CPU time
/// (the profile in BENCHMARKS.md, "third step"). Base64 works on 3-byte groups and lettre
/// writes 57 bytes per 76-character line, so everything before the first marker, cut at a
/// 57-byte boundary, encodes to the same lines in every copy: it is encoded once here, and
/// each reader's copy encodes only the rest (the footer with the links). The result is byte
/// for byte what encoding the whole personal body would give (a test checks it), so DKIM
/// signing and every reader's mail client see no difference.
pub struct BulkTemplate {
    subject: String,
    text: BulkPart,
    html: BulkPart,
}

impl BulkTemplate {
    /// `markers`: the placeholders `compose_bulk` replaces (each reader's links).
    pub fn new(rendered: &Rendered, markers: &[&str]) -> BulkTemplate {
        BulkTemplate {
            subject: rendered.subject.clone(),
            text: BulkPart::new(&rendered.text, markers),
            html: BulkPart::new(&rendered.html, markers),
        }
    }
}

/// Bytes of input per base64 line (76 characters), as lettre encodes bodies.
const BASE64_LINE_INPUT: usize = 57;

struct BulkPart {
    /// Base64 lines, each ending in CRLF, of the body up to a line boundary before the first
    /// marker.
    encoded_head: String,
    /// The rest of the body, not encoded: the bytes of a character the cut split (at most
    /// three), then the text with the markers.
    split_char: Vec<u8>,
    tail: String,
}

impl BulkPart {
    fn new(body: &str, markers: &[&str]) -> BulkPart {
        // Line endings as lettre sends a text body: CRLF.
        let normalized = match Body::new_with_encoding(body.to_string(), ContentTransferEncoding::Binary) {
            Ok(b) => String::from_utf8(b.into_vec()).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            Err(_) => body.to_string(),
        };
        let first_marker = markers.iter().filter_map(|m| normalized.find(m)).min().unwrap_or(normalized.len());
        // Keep at least one byte in the tail so the last encoded line always ends in CRLF.
        let cut = first_marker.min(normalized.len().saturating_sub(1)) / BASE64_LINE_INPUT * BASE64_LINE_INPUT;
        let mut encoded_head = String::with_capacity(cut / 3 * 4 + cut / BASE64_LINE_INPUT * 2);
        for line in normalized.as_bytes()[..cut].chunks(BASE64_LINE_INPUT) {
            base64::engine::general_purpose::STANDARD.encode_string(line, &mut encoded_head);
            encoded_head.push_str("\r\n");
        }
        // The cut may fall inside a character; the markers start on a character boundary.
        let boundary = (cut..=normalized.len()).find(|&i| normalized.is_char_boundary(i)).unwrap_or(normalized.len());
        BulkPart { encoded_head, split_char: normalized.as_bytes()[cut..boundary].to_vec(), tail: normalized[boundary..].to_string() }
    }

    /// The whole part encoded, with `personal` (marker, value) pairs put in.
    fn encode(&self, personal: &[(&str, &str)]) -> Vec<u8> {
        let mut tail = self.tail.clone();
        for (marker, value) in personal {
            if tail.contains(marker) {
                tail = tail.replace(marker, value);
            }
        }
        let mut rest = Vec::with_capacity(self.split_char.len() + tail.len());
        rest.extend_from_slice(&self.split_char);
        rest.extend_from_slice(tail.as_bytes());
        let mut out = String::with_capacity(self.encoded_head.len() + rest.len() / 3 * 4 + rest.len() / BASE64_LINE_INPUT * 2 + 8);
        out.push_str(&self.encoded_head);
        let mut lines = rest.chunks(BASE64_LINE_INPUT).peekable();
        while let Some(line) = lines.next() {
            base64::engine::general_purpose::STANDARD.encode_string(line, &mut out);
            if lines.peek().is_some() {
                out.push_str("\r\n");
            }
        }
        out.into_bytes()
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
        let encode = |body: &str| {
            Body::new_with_encoding(body.to_string(), ContentTransferEncoding::Base64).map_err(|_| anyhow::anyhow!("body cannot be base64"))
        };
        self.compose_parts(to, &rendered.subject, encode(&rendered.text)?, encode(&rendered.html)?, list)
    }

    /// One reader's copy of a message prepared for many (`BulkTemplate`): only the part of
    /// each body from the reader's own links on is encoded here.
    pub fn compose_bulk(
        &self,
        to: &Email,
        template: &BulkTemplate,
        personal: &[(&str, &str)],
        list: Option<&ListLinks<'_>>,
    ) -> anyhow::Result<Message> {
        let text = Body::dangerous_pre_encoded(template.text.encode(personal), ContentTransferEncoding::Base64);
        let html = Body::dangerous_pre_encoded(template.html.encode(personal), ContentTransferEncoding::Base64);
        self.compose_parts(to, &template.subject, text, html, list)
    }

    fn compose_parts(&self, to: &Email, subject: &str, text: Body, html: Body, list: Option<&ListLinks<'_>>) -> anyhow::Result<Message> {
        let subject = HeaderText::parse(subject).map_err(|e| anyhow::anyhow!("subject: {e}"))?;
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
        let part = |ct: ContentType, body: Body| SinglePart::builder().header(ct).body(body);
        let body = MultiPart::alternative().singlepart(part(ContentType::TEXT_PLAIN, text)).singlepart(part(ContentType::TEXT_HTML, html));
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

    /// The body of each reader's copy must be exactly what encoding the whole personal body
    /// gives: markers early, late, after a character the 57-byte cut splits, LF line endings.
    #[test]
    fn bulk_bodies_are_byte_for_byte_the_whole_encoding() {
        let long = "نص عربي طويل، ".repeat(400);
        for body in [
            format!("{long}\nM1 و M2 و M1\n"),
            format!("aM1\n{long}M2"),
            format!("{}é M1", "x".repeat(56)),
            format!("{}M1", "y".repeat(57 * 3)),
            "M1".to_string(),
            "no marker at all".to_string(),
            String::new(),
        ] {
            let personal = [("M1", "https://x.test/p?t=m.1.2.abc"), ("M2", "https://x.test/u?t=m.1.2.abc")];
            let whole = personal.iter().fold(body.clone(), |b, (m, v)| b.replace(m, v));
            let expected = Body::new_with_encoding(whole, ContentTransferEncoding::Base64).unwrap().into_vec();
            let part = BulkPart::new(&body, &["M1", "M2"]);
            assert_eq!(String::from_utf8(part.encode(&personal)).unwrap(), String::from_utf8(expected).unwrap(), "{body:?}");
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
