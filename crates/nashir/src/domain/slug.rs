use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A URL path segment for people: Arabic letters stay Arabic (percent-encoded only on the wire).
/// Purely numeric slugs are refused because `/news/{id}` is the stable id-based address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Slug, DomainError> {
        if !arabic::is_valid_slug(s) || s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::InvalidSlug(s.chars().take(100).collect()));
        }
        Ok(Slug(s.to_string()))
    }

    /// A slug made from a title; `fallback` is used when the title has no usable letters.
    pub fn from_title(title: &str, fallback: &str) -> Slug {
        Slug::parse(&arabic::slugify(title)).unwrap_or_else(|_| Slug::parse(fallback).expect("fallback slug is valid"))
    }

    /// The slug with a numeric suffix, used when the plain one is taken.
    pub fn with_suffix(&self, n: u32) -> Slug {
        let base: String = self.0.chars().take(72).collect();
        Slug(format!("{}-{n}", base.trim_end_matches('-')))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_slugs_are_kept() {
        let s = Slug::from_title("اتصال “روتيني” بين أردوغان وبوتين", "x");
        assert_eq!(s.as_str(), "اتصال-روتيني-بين-أردوغان-وبوتين");
    }

    #[test]
    fn refuses_bad_slugs() {
        assert!(Slug::parse("").is_err());
        assert!(Slug::parse("123").is_err());
        assert!(Slug::parse("a/b").is_err());
        assert!(Slug::parse("a b").is_err());
        assert!(Slug::parse("-a").is_err());
        assert!(Slug::parse("politics").is_ok());
    }

    #[test]
    fn suffix_keeps_it_valid() {
        let s = Slug::from_title(&"كلمة ".repeat(40), "x");
        assert!(Slug::parse(s.with_suffix(12).as_str()).is_ok());
    }
}
