//! Highlighted snippets: the reader's words marked as they appear in the text, including
//! words that matched only by stem («العلاقات» for «علاقات»).

use std::collections::HashSet;

use super::query::ParsedQuery;

/// The words of a query in both forms, ready for matching against analyzed text.
pub struct Highlighter {
    normalized: HashSet<String>,
    stems: HashSet<String>,
    /// The most different words a window can hold: each match is counted by its stem, which
    /// is either one of `stems` or the stem of one of `normalized`.
    most_distinct: usize,
}

impl Highlighter {
    pub fn new(query: &ParsedQuery) -> Highlighter {
        let wanted: Vec<_> = query.wanted().filter(|w| !w.stopword).collect();
        let normalized: HashSet<String> = wanted.iter().map(|w| w.normalized.clone()).collect();
        let stems: HashSet<String> = wanted.iter().map(|w| w.stem.clone()).collect();
        let most_distinct =
            stems.iter().map(String::as_str).chain(normalized.iter().map(|n| arabic::stem_str(n))).collect::<HashSet<_>>().len();
        Highlighter { normalized, stems, most_distinct }
    }

    /// Byte ranges of the matching words in `text`, with the matched word's identity.
    fn matches(&self, text: &str) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        self.matches_into(text, 0, &mut Vec::new(), &mut out);
        out
    }

    /// Adds the matches in `text` to `out`, their offsets moved by `base` (where `text` starts
    /// in the whole), tokenizing into `tokens` (reused, so its words' buffers are too).
    ///
    /// Runs over every word of up to ten articles per search, so it avoids the full
    /// analysis: a light stem is a slice of its word, so a word that contains none of the
    /// query's stems cannot match by stem and is never stemmed (profiled: stemming, stopword
    /// lookups and their allocations were a quarter of a search).
    fn matches_into(&self, text: &str, base: usize, tokens: &mut Vec<arabic::Token>, out: &mut Vec<(usize, usize, String)>) {
        if self.stems.is_empty() {
            return; // Only stopwords were asked for: nothing is ever marked.
        }
        arabic::tokenize_into(text, tokens);
        for token in tokens.iter() {
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
                out.push((base + token.start, base + token.end, stem.to_owned()));
            }
        }
    }

    /// The matches of as much of `text` as the snippet's window can depend on.
    ///
    /// Tokenizing whole articles was the largest cost of a search (a quarter of its time, most
    /// of the text never shown). The text is read in growing pieces, cut at spaces so no word
    /// is split, and reading stops once a match begins a window (inside what was read) holding
    /// every word of the query: no later window can beat it, as `snippet` keeps the first of
    /// equals, so the snippet is the one the whole text would give.
    fn snippet_matches(&self, text: &str, max_bytes: usize) -> Vec<(usize, usize, String)> {
        let (mut tokens, mut out) = (Vec::new(), Vec::new());
        let mut done = 0;
        while done < text.len() {
            let reach = floor_boundary(text, (done.max(max_bytes) * 2).min(text.len()));
            let cut = text[reach..].find([' ', '\n']).map_or(text.len(), |i| reach + i);
            self.matches_into(&text[done..cut], done, &mut tokens, &mut out);
            done = cut;
            let complete = out.iter().take_while(|(s, _, _)| s + max_bytes <= done).count();
            if (0..complete).any(|i| distinct_within(&out, i, max_bytes) == self.most_distinct) {
                break;
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
        let max_bytes = max_chars * 2; // Arabic letters are two bytes in UTF-8.
        self.snippet_of(text, max_bytes, self.snippet_matches(text, max_bytes))
    }

    /// The snippet around the best window of `matches` (those of the whole text, or of as much
    /// of it as [`Highlighter::snippet_matches`] read).
    fn snippet_of(&self, text: &str, max_bytes: usize, matches: Vec<(usize, usize, String)>) -> String {
        if matches.is_empty() {
            let end = floor_boundary(text, max_bytes.min(text.len()));
            let cut = text[..end].rfind(' ').filter(|&i| end < text.len() && i > end / 2).unwrap_or(end);
            return format!("{}{}", escape(&text[..cut]), if cut < text.len() { "…" } else { "" });
        }
        // Best window start: the match that begins the most distinct matched words within reach.
        let mut best = (0usize, 0usize);
        for i in 0..matches.len() {
            let distinct = distinct_within(&matches, i, max_bytes);
            if distinct > best.1 {
                best = (i, distinct);
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

/// How many different words match within `max_bytes` from the start of match `i`.
fn distinct_within(matches: &[(usize, usize, String)], i: usize, max_bytes: usize) -> usize {
    let start = matches[i].0;
    matches[i..].iter().take_while(|(s, _, _)| s - start < max_bytes).map(|(_, _, w)| w.as_str()).collect::<HashSet<&str>>().len()
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

    /// Reading only as much text as the window needs gives the snippet the whole text gives,
    /// wherever the words stand (start, end, far apart, across the pieces' cuts, absent).
    #[test]
    fn snippet_reads_only_what_it_needs_and_shows_the_same() {
        let filler = |n: usize| "كلام عادي في النص ".repeat(n);
        let texts = [
            format!("بوتين وإردوغان في اتصال {}", filler(400)),
            format!("{} بوتين {} إردوغان {}", filler(30), filler(60), filler(30)),
            format!("{} بوتين {} إردوغان وبوتين {}", filler(10), filler(100), filler(5)),
            format!("{} إردوغان", filler(300)),
            format!("{}بوتين\nإردوغان", filler(22)),
            format!("{} لا شيء هنا", filler(200)),
            "بوتين".to_string(),
            String::new(),
        ];
        for query in ["بوتين أردوغان", "أردوغان", "بوتين في", "في", "غائب تماما"] {
            let h = Highlighter::new(&parse(query));
            for (max_chars, text) in [60, 220].into_iter().flat_map(|m| texts.iter().map(move |t| (m, t))) {
                let whole = h.snippet_of(text, max_chars * 2, h.matches(text));
                assert_eq!(h.snippet(text, max_chars), whole, "{query} / {max_chars}");
            }
        }
        // And it does stop early: a long article whose opening holds both words.
        let h = Highlighter::new(&parse("بوتين أردوغان"));
        let text = format!("بوتين وإردوغان {} بوتين", filler(400));
        assert!(h.snippet_matches(&text, 440).len() < h.matches(&text).len());
    }

    #[test]
    fn snippet_without_matches_is_the_opening() {
        let s = Highlighter::new(&parse("غائب")).snippet("نص قصير", 100);
        assert_eq!(s, "نص قصير");
    }
}
