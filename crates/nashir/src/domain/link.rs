//! Which image addresses an article may carry. Bodies come from writers, API clients and
//! imported archives, and the address ends up in `<img src>`, feeds and the JSON API, so it
//! is checked once, the same way everywhere: an absolute `http(s)` URL, or a path on this
//! site. Prefix checks were not enough: browsers read `//evil.example/x.jpg` and
//! `/\evil.example/x.jpg` as another host, and drop tabs and newlines inside `java\tscript:`.

use url::Url;

/// The address as written when it is one we may link to, `None` otherwise:
/// - `https://host/…` or `http://host/…` that the `url` crate parses to the same scheme, with
///   a host and without credentials (`http:evil` and `https:///evil` are refused: browsers
///   and parsers disagree on them);
/// - a site-relative path starting with exactly one `/` (not `//`, not `/\`).
///
/// In both, no whitespace, control characters, backslashes, quotes or angle brackets
/// anywhere. Surrounding spaces are trimmed.
pub fn image_src(raw: &str) -> Option<&str> {
    let src = raw.trim_matches(|c: char| c == ' ');
    if src.is_empty()
        || src.len() > MAX_LEN
        || src.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\\' | '"' | '<' | '>' | '`'))
    {
        return None;
    }
    if let Some(path) = src.strip_prefix('/') {
        // `/` alone is the home page, not an image.
        if path.is_empty() || path.starts_with('/') {
            return None;
        }
        // The path joined onto a base must stay on that base's host.
        let base = Url::parse("https://site.invalid/").ok()?;
        let joined = base.join(src).ok()?;
        return (joined.host_str() == Some("site.invalid")).then_some(src);
    }
    let lower = src.get(..8).unwrap_or(src).to_ascii_lowercase();
    let after_scheme = if lower.starts_with("https://") {
        &src[8..]
    } else if lower.starts_with("http://") {
        &src[7..]
    } else {
        return None;
    };
    if after_scheme.starts_with('/') {
        return None;
    }
    let url = Url::parse(src).ok()?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    ok.then_some(src)
}

/// The target of an inline link (`MarkKind::Link`) when we may put it in `href`: the same
/// rule as for images — an absolute http(s) URL with a host, or a path on this site such as
/// an article's `/…` address. Everything else (`javascript:`, `data:`, `//host`, quotes) is
/// refused.
pub fn link_href(raw: &str) -> Option<&str> {
    image_src(raw)
}

/// Longer addresses are not images anyone links to; they are payloads.
pub const MAX_LEN: usize = 2048;

#[cfg(test)]
mod tests {
    use super::image_src;

    #[test]
    fn accepts_http_and_site_paths() {
        for ok in [
            "/media/0123456789abcdef0123-800x600.jpg",
            "/wp-content/uploads/2021/12/a.jpg?w=300",
            "https://example.org/a.jpg",
            "http://example.org/a.jpg",
            "HTTPS://Example.org/a.jpg",
            "https://example.org:8443/path/%D8%B5.jpg",
            "https://مثال.example/صورة.jpg",
            "/صور/أ.jpg",
        ] {
            assert_eq!(image_src(ok), Some(ok), "{ok:?} should be accepted");
        }
        assert_eq!(image_src("  /media/a.jpg "), Some("/media/a.jpg"), "surrounding spaces trimmed");
    }

    #[test]
    fn refuses_hostile_addresses() {
        for bad in [
            "",
            "/",
            "//evil.example/a.jpg",
            "///evil.example/a.jpg",
            "/\\evil.example/a.jpg",
            "\\\\evil.example/a.jpg",
            "\\/evil.example/a.jpg",
            "/media\\..\\x.jpg",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "java\rscript:alert(1)",
            " javascript:alert(1)",
            "\u{1}javascript:alert(1)",
            "data:image/svg+xml;base64,PHN2Zz4=",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://example.org/a.jpg",
            "http:evil.example/a.jpg",
            "https:evil.example/a.jpg",
            "http:/evil.example/a.jpg",
            "https:///evil.example/a.jpg",
            "https:/\\evil.example/a.jpg",
            "https://",
            "https://user:pass@example.org/a.jpg",
            "https://example.org@evil.example/a.jpg",
            "https://example.org/a b.jpg",
            "https://example.org/a.jpg\"onerror=\"alert(1)",
            "/a.jpg\"><script>",
            "/a\u{0}.jpg",
            "/a\u{7f}.jpg",
            "/a\u{85}.jpg",
            "/a\u{2028}.jpg",
            "a.jpg",
            "media/a.jpg",
            "./a.jpg",
            "?x=/a.jpg",
            "#/a.jpg",
        ] {
            assert_eq!(image_src(bad), None, "{bad:?} should be refused");
        }
        assert_eq!(image_src(&format!("/{}", "a".repeat(super::MAX_LEN))), None, "overlong");
    }
}
