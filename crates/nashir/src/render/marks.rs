//! The one place inline marks become HTML (or plain text): article pages, feeds, the
//! newsletter and the public API's `html` all call `marked_html`, so escaping and link rules
//! cannot drift apart.
//!
//! The text is escaped character by character and the only tags written are `<strong>`,
//! `<em>` and `<a href>`; marks are normalized again first (a row written to the database by
//! hand or by an older version is not trusted), so an href is always one `domain::link`
//! accepts, `<a>` never nests, and offsets out of range are ignored.

use crate::domain::{normalize_marks, Mark, MarkKind, MarkPolicy};

use super::escape_html;

/// How links are written.
#[derive(Debug, Clone, Copy)]
pub struct LinkStyle<'a> {
    /// The site's public base URL (`https://example.org`): links to it are internal.
    pub base_url: &'a str,
    /// `rel` of links to other sites (`site.external_link_rel`, e.g. "nofollow noopener");
    /// empty writes none. Only `[a-z-]` tokens are kept.
    pub external_rel: &'a str,
    /// Write site paths (`/…`) as absolute URLs: feeds and mail are read away from the site.
    pub absolute: bool,
}

impl LinkStyle<'_> {
    /// The href as written, and whether it leaves the site.
    fn target(&self, href: &str) -> (String, bool) {
        if href.starts_with('/') {
            let href = if self.absolute { format!("{}{href}", self.base_url.trim_end_matches('/')) } else { href.to_string() };
            return (href, false);
        }
        let base = self.base_url.trim_end_matches('/');
        let internal = !base.is_empty()
            && href.len() >= base.len()
            && href[..base.len()].eq_ignore_ascii_case(base)
            && matches!(href.as_bytes().get(base.len()), None | Some(b'/' | b'?' | b'#'));
        (href.to_string(), !internal)
    }

    fn rel(&self) -> String {
        self.external_rel
            .split_whitespace()
            .filter(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The rank of a mark in the nesting: links outermost, then bold, then italic, so the same
/// marks always give the same tags.
fn rank(kind: &MarkKind) -> u8 {
    match kind {
        MarkKind::Link { .. } => 0,
        MarkKind::Bold => 1,
        MarkKind::Italic => 2,
    }
}

/// `text` escaped for HTML content, with its marks as `<strong>`, `<em>` and `<a href>`.
/// Overlapping marks are closed and reopened where they cross, so the output is always
/// well-nested.
pub fn marked_html(text: &str, marks: &[Mark], links: &LinkStyle) -> String {
    if marks.is_empty() {
        return escape_html(text);
    }
    let marks = normalize_marks(text, marks.to_vec(), MarkPolicy::Drop).unwrap_or_default();
    // Byte offset of every char boundary, so segments are sliced without recounting.
    let byte_at: Vec<usize> = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect();
    let mut bounds: Vec<u32> = marks.iter().flat_map(|m| [m.start, m.end]).chain([0, byte_at.len() as u32 - 1]).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let rel = links.rel();
    let mut out = String::with_capacity(text.len() + marks.len() * 24);
    let mut open: Vec<&Mark> = Vec::new();
    for pair in bounds.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let mut want: Vec<&Mark> = marks.iter().filter(|m| m.start <= from && to <= m.end).collect();
        want.sort_by_key(|m| (rank(&m.kind), m.start));
        let keep = open.iter().zip(&want).take_while(|(a, b)| a == b).count();
        for m in open.drain(keep..).rev() {
            out.push_str(close_tag(&m.kind));
        }
        for m in &want[keep..] {
            match &m.kind {
                MarkKind::Bold => out.push_str("<strong>"),
                MarkKind::Italic => out.push_str("<em>"),
                MarkKind::Link { href } => {
                    let (href, external) = links.target(href);
                    out.push_str("<a href=\"");
                    out.push_str(&escape_html(&href));
                    out.push('"');
                    if external && !rel.is_empty() {
                        out.push_str(" rel=\"");
                        out.push_str(&rel);
                        out.push('"');
                    }
                    out.push('>');
                }
            }
            open.push(m);
        }
        out.push_str(&escape_html(&text[byte_at[from as usize]..byte_at[to as usize]]));
    }
    for m in open.into_iter().rev() {
        out.push_str(close_tag(&m.kind));
    }
    out
}

fn close_tag(kind: &MarkKind) -> &'static str {
    match kind {
        MarkKind::Bold => "</strong>",
        MarkKind::Italic => "</em>",
        MarkKind::Link { .. } => "</a>",
    }
}

/// `text` for plain-text mail: emphasis is dropped and every link's address follows its
/// words, «النص (https://…)», unless the words already are the address.
pub fn marked_plain(text: &str, marks: &[Mark], links: &LinkStyle) -> String {
    let marks = normalize_marks(text, marks.to_vec(), MarkPolicy::Drop).unwrap_or_default();
    let mut ends: Vec<(usize, String)> = marks
        .iter()
        .filter_map(|m| match &m.kind {
            MarkKind::Link { href } => {
                let words: String = text.chars().skip(m.start as usize).take((m.end - m.start) as usize).collect();
                let (href, _) = links.target(href);
                (words.trim() != href).then_some((m.end as usize, href))
            }
            _ => None,
        })
        .collect();
    if ends.is_empty() {
        return text.to_string();
    }
    ends.sort();
    let mut out = String::with_capacity(text.len() + ends.iter().map(|(_, h)| h.len() + 3).sum::<usize>());
    let mut next = ends.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        while let Some((_, href)) = next.next_if(|(end, _)| *end == i) {
            out.push_str(&format!(" ({href})"));
        }
        out.push(c);
    }
    for (_, href) in next {
        out.push_str(&format!(" ({href})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: LinkStyle<'static> = LinkStyle { base_url: "https://news.example", external_rel: "nofollow noopener", absolute: false };

    fn bold(s: u32, e: u32) -> Mark {
        Mark::new(s, e, MarkKind::Bold)
    }
    fn italic(s: u32, e: u32) -> Mark {
        Mark::new(s, e, MarkKind::Italic)
    }

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(marked_html("<b>«نص» & 'x'</b>", &[], &SITE), "&lt;b&gt;«نص» &amp; &#39;x&#39;&lt;/b&gt;");
    }

    #[test]
    fn marks_become_well_nested_tags() {
        // «قال الوزير اليوم»: bold over «قال الوزير», italic over «الوزير اليوم».
        let text = "قال الوزير اليوم";
        assert_eq!(marked_html(text, &[bold(0, 10), italic(4, 16)], &SITE), "<strong>قال <em>الوزير</em></strong><em> اليوم</em>");
        assert_eq!(
            marked_html(text, &[Mark::link(4, 10, "/مقال/أ"), bold(0, 16)], &SITE),
            "<strong>قال </strong><a href=\"/مقال/أ\"><strong>الوزير</strong></a><strong> اليوم</strong>"
        );
    }

    #[test]
    fn external_links_get_rel_internal_links_do_not() {
        let text = "مصدر وموقعنا";
        let marks = [Mark::link(0, 4, "https://other.example/x"), Mark::link(5, 12, "https://NEWS.example/a")];
        assert_eq!(
            marked_html(text, &marks, &SITE),
            "<a href=\"https://other.example/x\" rel=\"nofollow noopener\">مصدر</a> <a href=\"https://NEWS.example/a\">وموقعنا</a>"
        );
        // A look-alike host is another site.
        let marks = [Mark::link(0, 4, "https://news.example.evil/x")];
        assert!(marked_html(text, &marks, &SITE).contains("rel="));
        // Feeds and mail: site paths become absolute; the rel setting cannot inject attributes.
        let feed = LinkStyle { absolute: true, external_rel: "noopener onclick=\"x\"", ..SITE };
        assert_eq!(marked_html(text, &[Mark::link(0, 4, "/a")], &feed), "<a href=\"https://news.example/a\">مصدر</a> وموقعنا");
        assert_eq!(
            marked_html(text, &[Mark::link(0, 4, "https://o.example/")], &feed),
            "<a href=\"https://o.example/\" rel=\"noopener\">مصدر</a> وموقعنا"
        );
    }

    #[test]
    fn hostile_marks_are_harmless() {
        let text = "انقر <هنا> \"الآن\"";
        for href in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>",
            "//evil.example",
            "https://a.example/\"onmouseover=\"x",
        ] {
            let html = marked_html(text, &[Mark::link(0, 4, href)], &SITE);
            assert_eq!(html, "انقر &lt;هنا&gt; &quot;الآن&quot;", "{href:?}");
        }
        // Quotes and angle brackets in an accepted href are escaped, not interpreted. (The
        // domain refuses `"` in hrefs; `'` and `&` pass and are escaped here.)
        let html = marked_html(text, &[Mark::link(0, 4, "https://a.example/?q='x'&y=1")], &SITE);
        assert!(html.starts_with("<a href=\"https://a.example/?q=&#39;x&#39;&amp;y=1\""), "{html}");
        // Offsets out of range or reversed are ignored; the text is all there.
        for m in [bold(3, 99), bold(9, 2), bold(u32::MAX - 1, u32::MAX)] {
            assert_eq!(marked_html(text, &[m], &SITE), "انقر &lt;هنا&gt; &quot;الآن&quot;");
        }
        // A mark ending between a letter and its vowel sign takes the sign along.
        assert_eq!(marked_html("كَتَبَ", &[bold(0, 1)], &SITE), "<strong>كَ</strong>تَبَ");
        // Astral characters (a surrogate pair in UTF-16) are single chars here.
        assert_eq!(marked_html("a😀b", &[bold(1, 2)], &SITE), "a<strong>😀</strong>b");
        // Links that overlap other links are never nested.
        let html = marked_html("abcdef", &[Mark::link(0, 4, "/a"), Mark::link(2, 6, "/b")], &SITE);
        assert_eq!(html, "<a href=\"/a\">abcd</a>ef");
    }

    #[test]
    fn plain_text_keeps_link_addresses() {
        let text = "حسب التقرير الكامل اليوم";
        let marks = [Mark::link(4, 18, "https://a.example/r"), bold(0, 3), Mark::link(19, 24, "/x")];
        let mail = LinkStyle { absolute: true, ..SITE };
        assert_eq!(marked_plain(text, &marks, &mail), "حسب التقرير الكامل (https://a.example/r) اليوم (https://news.example/x)");
        assert_eq!(marked_plain("https://a.example/", &[Mark::link(0, 18, "https://a.example/")], &mail), "https://a.example/");
    }
}
