//! Highlighted snippets: the reader's words marked as they appear in the text, including
//! words that matched only by stem («العلاقات» for «علاقات»).

use std::collections::HashSet;

use super::query::ParsedQuery;

/// The words of a query in both forms, ready for matching against analyzed text.
pub struct Highlighter {
    normalized: HashSet<String>,
    stems: HashSet<String>,
}

impl Highlighter {
    pub fn new(query: &ParsedQuery) -> Highlighter {
        let wanted: Vec<_> = query.wanted().filter(|w| !w.stopword).collect();
        Highlighter {
            normalized: wanted.iter().map(|w| w.normalized.clone()).collect(),
            stems: wanted.iter().map(|w| w.stem.clone()).collect(),
        }
    }

    /// Byte ranges of the matching words in `text`, with the matched word's identity.
    ///
    /// Runs over every word of up to ten whole articles per search, so it avoids the full
    /// analysis: a light stem is a slice of its word, so a word that contains none of the
    /// query's stems cannot match by stem and is never stemmed (profiled: stemming, stopword
    /// lookups and their allocations were a quarter of a search).
    fn matches(&self, text: &str) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        for token in arabic::tokenize(text) {
            let word = token.text.as_str();
            let stem = if self.normalized.contains(word) {
                arabic::stem_str(word)
            } else if self.stems.iter().any(|s| word.contains(s.as_str())) {
                let stem = arabic::stem_str(word);
                if !self.stems.contains(stem) {
                    continue;
                }
                stem
            } else {
                continue;
            };
            if !arabic::is_stopword(word) {
                out.push((token.start, token.end, stem.to_owned()));
            }
        }
        out
    }

    /// The whole text with matches marked (for headlines).
    pub fn mark_all(&self, text: &str) -> String {
        mark(text, 0, text.len(), &self.matches(text))
    }

    /// A window of about `max_chars` characters around the densest cluster of matches.
    pub fn snippet(&self, text: &str, max_chars: usize) -> String {
        let matches = self.matches(text);
        let max_bytes = max_chars * 2; // Arabic letters are two bytes in UTF-8.
        if matches.is_empty() {
            let end = floor_boundary(text, max_bytes.min(text.len()));
            let cut = text[..end].rfind(' ').filter(|&i| end < text.len() && i > end / 2).unwrap_or(end);
            return format!("{}{}", escape(&text[..cut]), if cut < text.len() { "…" } else { "" });
        }
        // Best window start: the match that begins the most distinct matched words within reach.
        let mut best = (0usize, 0usize);
        for (i, (start, _, _)) in matches.iter().enumerate() {
            let distinct: HashSet<&str> =
                matches[i..].iter().take_while(|(s, _, _)| s - start < max_bytes).map(|(_, _, w)| w.as_str()).collect();
            if distinct.len() > best.1 {
                best = (i, distinct.len());
            }
        }
        let anchor = matches[best.0].0;
        // Start a little before the first match, at a word boundary.
        let mut start = floor_boundary(text, anchor.saturating_sub(max_bytes / 5));
        if start > 0 {
            start = text[..start].rfind([' ', '\n']).map(|i| i + 1).unwrap_or(0);
        }
        let mut end = floor_boundary(text, (start + max_bytes).min(text.len()));
        if end < text.len() {
            end = text[..end].rfind([' ', '\n']).filter(|&i| i > anchor).unwrap_or(end);
        }
        let inside: Vec<_> = matches.into_iter().filter(|(s, e, _)| *s >= start && *e <= end).collect();
        format!("{}{}{}", if start > 0 { "…" } else { "" }, mark(text, start, end, &inside), if end < text.len() { "…" } else { "" })
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mark(text: &str, start: usize, end: usize, matches: &[(usize, usize, String)]) -> String {
    let mut out = String::with_capacity(end - start + matches.len() * 13);
    let mut at = start;
    for (s, e, _) in matches {
        if *s < at {
            continue;
        }
        out.push_str(&escape(&text[at..*s]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[*s..*e]));
        out.push_str("</mark>");
        at = *e;
    }
    out.push_str(&escape(&text[at..end]));
    out.replace('\n', " ")
}

fn escape(s: &str) -> String {
    crate::render::escape_html(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    #[test]
    fn marks_words_as_written() {
        let h = Highlighter::new(&parse("اردوغان العلاقات"));
        assert_eq!(h.mark_all("أثنى إردوغان على <متانة> والعلاقات"), "أثنى <mark>إردوغان</mark> على &lt;متانة&gt; <mark>والعلاقات</mark>");
    }

    #[test]
    fn snippet_centres_on_matches() {
        let text = format!("{} بوتين وإردوغان في اتصال هاتفي {}", "كلام ".repeat(200), "ختام ".repeat(200));
        let s = Highlighter::new(&parse("أردوغان بوتين")).snippet(&text, 120);
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert!(s.contains("<mark>بوتين</mark>") && s.contains("<mark>وإردوغان</mark>"), "{s}");
        assert!(s.chars().count() < 200);
    }

    /// The shortcut in `matches` finds exactly what analyzing every word would.
    #[test]
    fn matches_agree_with_full_analysis() {
        let text = "قال وزير الخارجية إن العلاقات بين البلدين والعلاقة الاقتصادية تتطور، وأكد الوزراء في \
                    اجتماعهم بالعاصمة أن الاتفاقيات الموقعة للتجارة والتجاريين ستدخل حيز التنفيذ. في من على";
        for query in ["العلاقات", "وزير الاقتصاد", "التجارة اتفاق", "في على", "عاصمة الوزراء", "حيز"]
        {
            let h = Highlighter::new(&parse(query));
            let full: Vec<_> = arabic::analyze(text)
                .into_iter()
                .filter(|t| !t.stopword && (h.normalized.contains(&t.normalized) || h.stems.contains(&t.stem)))
                .map(|t| (t.start, t.end, t.stem))
                .collect();
            assert_eq!(h.matches(text), full, "{query}");
        }
    }

    #[test]
    fn snippet_without_matches_is_the_opening() {
        let s = Highlighter::new(&parse("غائب")).snippet("نص قصير", 100);
        assert_eq!(s, "نص قصير");
    }
}
