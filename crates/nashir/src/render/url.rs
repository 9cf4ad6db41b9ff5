//! URLs: path segments as IRIs for pages, absolute ASCII URLs for programs, and the paths of
//! public pages (one place, so a page, a feed and a mail link to the same address).

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Characters escaped in a path segment. Letters beyond ASCII stay as they are: pages link
/// with IRIs (a third of the bytes of percent-encoded Arabic), and browsers percent-encode
/// them on the wire.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}').add(b'/').add(b'%');

pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            let mut buf = [0u8; 1];
            out.extend(utf8_percent_encode(c.encode_utf8(&mut buf), SEGMENT));
        } else if c.is_whitespace() || c.is_control() {
            out.extend(utf8_percent_encode(c.encode_utf8(&mut [0u8; 4]), SEGMENT));
        } else {
            out.push(c);
        }
    }
    out
}

/// An absolute URL as programs expect it (API, feeds, sitemaps): pure ASCII, with
/// non-ASCII characters percent-encoded as UTF-8.
pub fn absolute_url(base_url: &str, path: &str) -> String {
    const NON_ASCII_ONLY: &AsciiSet = &CONTROLS.add(b' ');
    format!("{base_url}{}", utf8_percent_encode(path, NON_ASCII_ONLY))
}

/// Paths of public pages, relative to the site root.
pub mod paths {
    use super::encode_segment;

    pub fn article(slug: &str) -> String {
        format!("/news/{}", encode_segment(slug))
    }
    pub fn section(slug: &str) -> String {
        format!("/section/{}", encode_segment(slug))
    }
    pub fn author(slug: &str) -> String {
        format!("/author/{}", encode_segment(slug))
    }
    pub fn tag(slug: &str) -> String {
        format!("/tag/{}", encode_segment(slug))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_slugs_are_percent_encoded() {
        assert_eq!(paths::article("أ-b"), "/news/أ-b");
        assert_eq!(encode_segment("a/b?c d"), "a%2Fb%3Fc%20d");
        assert_eq!(absolute_url("http://x", "/news/أ-b"), "http://x/news/%D8%A3-b");
    }
}
