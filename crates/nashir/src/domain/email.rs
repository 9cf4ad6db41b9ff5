//! Values that end up in mail headers. An `Email` or a `HeaderText` can only exist valid, so
//! nothing a reader typed can add a header line (CR/LF) or smuggle a second recipient.

use std::fmt;

use anyhow::Context;

/// Longest input a form field may carry; longer ones are refused before any parsing.
pub const MAX_INPUT_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailInputError {
    #[error("عنوان البريد الإلكتروني فارغ")]
    Empty,
    #[error("النص أطول من {MAX_INPUT_CHARS} حرف")]
    TooLong,
    #[error("عنوان البريد الإلكتروني «{0}» غير صالح")]
    InvalidEmail(String),
    #[error("النص يحتوي على أسطر جديدة أو رموز تحكم غير مسموح بها")]
    ControlCharacters,
}

/// A deliverable address: `local@domain`, ASCII, one `@`, a dotted domain. Stored lowercased
/// so that one person is one subscriber whatever the capitalisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

fn excerpt(s: &str) -> String {
    let short: String = s.chars().filter(|c| !c.is_control()).take(60).collect();
    if s.chars().count() > 60 {
        format!("{short}…")
    } else {
        short
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, MailInputError> {
        if input.chars().count() > MAX_INPUT_CHARS {
            return Err(MailInputError::TooLong);
        }
        let s = input.trim_matches(|c: char| c == ' ' || c == '\t');
        if s.is_empty() {
            return Err(MailInputError::Empty);
        }
        let invalid = || MailInputError::InvalidEmail(excerpt(s));
        if s.len() > 254 || s.chars().any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii()) {
            return Err(invalid());
        }
        let (local, domain) = s.split_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(invalid());
        }
        const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(invalid());
        }
        if !local.chars().all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c)) {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || domain.len() > 253 {
            return Err(invalid());
        }
        for label in &labels {
            if label.is_empty()
                || label.len() > 63
                || label.starts_with('-')
                || label.ends_with('-')
                || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(invalid());
            }
        }
        let tld = labels.last().expect("at least two labels");
        if tld.len() < 2 || tld.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        Ok(Email(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text allowed in a header such as Subject or a display name: one line, no control
/// characters, bounded length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderText(String);

impl HeaderText {
    pub fn parse(input: &str) -> Result<HeaderText, MailInputError> {
        if input.chars().count() > MAX_INPUT_CHARS {
            return Err(MailInputError::TooLong);
        }
        if input.chars().any(|c| c.is_control()) {
            return Err(MailInputError::ControlCharacters);
        }
        let s = input.trim();
        if s.chars().count() > 300 {
            return Err(MailInputError::TooLong);
        }
        Ok(HeaderText(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `Name <addr>` or `addr`, with the name free of line breaks and the address valid.
pub fn parse_mailbox(s: &str) -> anyhow::Result<lettre::message::Mailbox> {
    HeaderText::parse(s).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (name, addr) = match (s.find('<'), s.rfind('>')) {
        (Some(l), Some(r)) if l < r => (Some(s[..l].trim().trim_matches('"').to_string()), &s[l + 1..r]),
        _ => (None, s),
    };
    let email = Email::parse(addr).map_err(|e| anyhow::anyhow!("{e}"))?;
    let address: lettre::Address = email.as_str().parse().context("address")?;
    Ok(lettre::message::Mailbox::new(name.filter(|n| !n.is_empty()), address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in ["reader@example.org", "  Reader.Name+news@Mail.Example.ORG ", "a_b-c@sub.domain.co", "x@xn--mgbh0fb.xn--kgbechtv"] {
            let e = Email::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(e.as_str(), e.as_str().to_ascii_lowercase());
        }
        assert_eq!(Email::parse("Reader@Example.org").unwrap().as_str(), "reader@example.org");
    }

    #[test]
    fn rejects_malformed_and_injected_addresses() {
        for bad in [
            "",
            "plain",
            "@example.org",
            "a@",
            "a@b",
            "a@@b.org",
            "a@b@c.org",
            "a b@c.org",
            ".a@b.org",
            "a..b@c.org",
            "a@-b.org",
            "a@b..org",
            "a@b.1",
            "a@b.org\r\nBcc: victim@example.org",
            "a@b.org\nX: y",
            "a@b.org,c@d.org",
            "<a@b.org>",
            "قارئ@مثال.شبكة",
            "a@b.org\u{0}",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        let long = format!("{}@example.org", "a".repeat(10_001));
        assert_eq!(Email::parse(&long), Err(MailInputError::TooLong));
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(65))).is_err());
    }

    #[test]
    fn header_text_is_one_line() {
        assert_eq!(HeaderText::parse(" نشرة الصباح ").unwrap().as_str(), "نشرة الصباح");
        assert_eq!(HeaderText::parse("a\r\nBcc: x@y.org"), Err(MailInputError::ControlCharacters));
        assert_eq!(HeaderText::parse("a\nb"), Err(MailInputError::ControlCharacters));
        assert_eq!(HeaderText::parse(&"ن".repeat(10_001)), Err(MailInputError::TooLong));
    }
}
