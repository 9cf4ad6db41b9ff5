//! Highlighted snippets: the reader's words marked as they appear in the text, including
//! words that matched only by stem («العلاقات» for «علاقات»).

use std::collections::HashSet;

use super::query::ParsedQuery;

/// The words of a query in both forms, ready for matching against analyzed text.
pub struct Highlighter {
    normalized: HashSet<String>,
    stems: HashSet<String>,
    /// Which raw two-byte letters can start a match (see [`Anchors`]); `None` when some
    /// query word has no letter that can be found by its bytes: then every word is analysed.
    anchors: Option<Anchors>,
}

impl Highlighter {
    pub fn new(query: &ParsedQuery) -> Highlighter {
        let wanted: Vec<_> = query.wanted().filter(|w| !w.stopword).collect();
        let normalized: HashSet<String> = wanted.iter().map(|w| w.normalized.clone()).collect();
        let stems: HashSet<String> = wanted.iter().map(|w| w.stem.clone()).collect();
        let anchors = Anchors::for_stems(&stems);
        Highlighter { normalized, stems, anchors }
    }

    /// Byte ranges of the matching words in `text`, with the matched word's identity: what
    /// analysing every word would find (the test `prefilter_finds_what_full_analysis_finds`).
    ///
    /// Tokenizing whole articles was the largest cost of an uncached search (a quarter of its
    /// time, for ten articles a page), though most words cannot match. Every match contains
    /// one of the query's stems, so its raw bytes hold every letter of that stem that only
    /// itself normalizes to (see [`Anchors`]). The text is searched (memchr's SIMD search) for
    /// each stem's rarest such letter; only the words around those (cut at ASCII white space,
    /// where a token always ends) that hold all of the stem's such letters, and the words
    /// with a char that could expand to anything (presentation forms, all starting with byte
    /// 0xEF), are analysed.
    fn matches(&self, text: &str) -> Vec<(usize, usize, String)> {
        let (mut tokens, mut out) = (Vec::new(), Vec::new());
        if self.stems.is_empty() {
            return out;
        }
        let Some(anchors) = &self.anchors else {
            self.matches_into(text, 0, &mut tokens, &mut out);
            return out;
        };
        let bytes = text.as_bytes();
        let is_space = |b: &u8| matches!(b, b' ' | b'\n' | b'\t' | b'\r' | 0x0B | 0x0C);
        // Both ends are ASCII white space or the text's ends: char boundaries.
        let word_at = |i: usize| {
            let start = bytes[..i].iter().rposition(is_space).map_or(0, |p| p + 1);
            (start, bytes[i..].iter().position(is_space).map_or(bytes.len(), |p| i + p))
        };
        let mut words = Vec::new();
        for stem in &anchors.stems {
            // Past the word last found: a long run without spaces is walked once.
            let mut covered = 0;
            for at in stem.rarest.find_iter(bytes) {
                if at < covered {
                    continue;
                }
                let (start, end) = word_at(at);
                covered = end;
                if anchors.letters_of(&bytes[start..end]) & stem.letters == stem.letters {
                    words.push((start, end));
                }
            }
        }
        let mut covered = 0;
        for at in memchr::memchr_iter(0xEF, bytes) {
            if at >= covered {
                let word = word_at(at);
                covered = word.1;
                words.push(word);
            }
        }
        words.sort_unstable();
        words.dedup();
        for (start, end) in words {
            self.matches_into(&text[start..end], start, &mut tokens, &mut out);
        }
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

    /// The whole text with matches marked (for headlines).
    pub fn mark_all(&self, text: &str) -> String {
        mark(text, 0, text.len(), &self.matches(text))
    }

    /// A window of about `max_chars` characters around the densest cluster of matches.
    pub fn snippet(&self, text: &str, max_chars: usize) -> String {
        let max_bytes = max_chars * 2; // Arabic letters are two bytes in UTF-8.
        self.snippet_of(text, max_bytes, self.matches(text))
    }

    /// The snippet around the best window of `matches` (those of the whole text).
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

/// The Arabic letters that find a query's words in raw text by their two UTF-8 bytes.
///
/// A letter qualifies when no other char outside the presentation forms normalizes to it
/// (`ا`, `ي`, `ه`, `و` and `ك` do not: `أ`, `ى`, `ة`, `ؤ`, `ک` … fold into them). A raw word
/// (without presentation forms) that lacks any of a stem's qualifying letters cannot normalize
/// to anything holding that stem; a stem without any (`وهي`) makes every word a candidate.
struct Anchors {
    /// A bit per qualifying letter, indexed by its second byte's low six bits, plus 64 when
    /// its first byte is 0xD9 (every letter U+0621–U+064A starts with 0xD8 or 0xD9).
    bits: [u64; 128],
    stems: Vec<StemAnchor>,
}

struct StemAnchor {
    /// The bits of the stem's qualifying letters.
    letters: u64,
    /// Finds the bytes of its least common one.
    rarest: memchr::memmem::Finder<'static>,
}

impl Anchors {
    fn for_stems(stems: &HashSet<String>) -> Option<Anchors> {
        let exact = exact_letters();
        let two_bytes = |c: char| {
            let mut buf = [0; 4];
            let encoded = c.encode_utf8(&mut buf).as_bytes();
            [encoded[0], encoded[1]]
        };
        let mut bits = [0; 128];
        for (bit, c) in ('\u{0621}'..='\u{064A}').enumerate().filter(|&(_, c)| exact(c)) {
            let [first, second] = two_bytes(c);
            bits[Anchors::slot(first, second)] = 1 << bit;
        }
        let mut anchors = Vec::with_capacity(stems.len());
        for stem in stems {
            let qualifying = || stem.chars().filter(|&c| exact(c));
            // The commoner the letter, the more places to look at.
            let rarest = qualifying().max_by_key(|&c| COMMON_LETTERS.chars().position(|x| x == c).unwrap_or(usize::MAX))?;
            let letters = qualifying().fold(0, |mask, c| {
                let [first, second] = two_bytes(c);
                mask | bits[Anchors::slot(first, second)]
            });
            anchors.push(StemAnchor { letters, rarest: memchr::memmem::Finder::new(&two_bytes(rarest)).into_owned() });
        }
        Some(Anchors { bits, stems: anchors })
    }

    fn slot(first: u8, second: u8) -> usize {
        (usize::from(first & 1) << 6) | usize::from(second & 0x3F)
    }

    /// The qualifying letters in `word`'s bytes.
    fn letters_of(&self, word: &[u8]) -> u64 {
        word.windows(2)
            .filter(|pair| matches!(pair[0], 0xD8 | 0xD9))
            .fold(0, |mask, pair| mask | self.bits[Anchors::slot(pair[0], pair[1])])
    }
}

/// Arabic letters from the commonest (after those that other chars fold into).
const COMMON_LETTERS: &str = "لنمترعبدسفقحجشصخطزثذضغظء";

/// Whether an Arabic letter (U+0621–U+064A) is, outside the chars starting with byte 0xEF,
/// only ever the normalization of itself. Computed once from the normalizer, so a new
/// folding rule cannot make the prefilter miss words.
fn exact_letters() -> impl Fn(char) -> bool {
    static FOLDED_INTO: std::sync::OnceLock<[bool; 42]> = std::sync::OnceLock::new();
    let folded = FOLDED_INTO.get_or_init(|| {
        let mut folded = [false; 42];
        let mut mark = |from: char, to: char| {
            if from != to && ('\u{0621}'..='\u{064A}').contains(&to) {
                folded[to as usize - 0x0621] = true;
            }
        };
        for from in (0..=u32::from(char::MAX)).filter_map(char::from_u32).filter(|c| !(0xF000..=0xFFFF).contains(&u32::from(*c))) {
            match arabic::normalize_char(from) {
                arabic::NormalizedChar::Drop => {}
                arabic::NormalizedChar::One(a) => mark(from, a),
                arabic::NormalizedChar::Two(a, b) => {
                    mark(from, a);
                    mark(from, b);
                }
                arabic::NormalizedChar::Expand(s) => s.chars().for_each(|a| mark(from, a)),
            }
        }
        folded
    });
    move |c: char| ('\u{0621}'..='\u{064A}').contains(&c) && !folded[c as usize - 0x0621]
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

    /// Every word analysed, as the highlighter did before its prefilter.
    fn all_matches(h: &Highlighter, text: &str) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        h.matches_into(text, 0, &mut Vec::new(), &mut out);
        out
    }

    /// The prefilter finds exactly what analysing every word finds, whatever decorates the
    /// words: hamza seats, teh marbuta, alef maksura, vowel marks and tatweel inside words,
    /// presentation-form ligatures, bidi marks, Latin in any case, digits, punctuation glued
    /// to words, and random mixtures of all of them.
    #[test]
    fn prefilter_finds_what_full_analysis_finds() {
        let texts = [
            "قال أردوغان إن العلاقاتِ مع روسيا والعـــلاقة الاقتصادية متينة.",
            "\u{200F}إردوغان\u{200F}، وبوتين؛ «آردوغان» (اردوغان) اردوغانُ",
            "ﺍﻟﻌﻼﻗﺎﺕ ﻻ ﺗﺘﻐﻴﺮ والعلاقه مدرسة المدرسه مدرستي",
            "مباراة مباراه مباراتي مبارى MBC Mbc mbc G20 g20 ٢٠٢١ 2021 1,200 ١٬٢٠٠",
            "الحلاني#عاصي_الحلاني\tالحلاني\nالحلاني\r\nكلام",
            "مسؤول مسئول مسوول المسؤولين",
        ];
        let queries = ["اردوغان", "العلاقات", "علاقه مدرسه", "مباراة mbc", "g20 2021", "1200", "الحلاني", "مسؤول", "ﻻ", "في من"];
        let check = |text: &str| {
            for query in queries {
                let h = Highlighter::new(&parse(query));
                assert_eq!(h.matches(text), all_matches(&h, text), "{query} in {text:?}");
            }
        };
        for text in texts {
            check(text);
        }
        // Random texts from pieces that normalize in every way the normalizer knows.
        let pieces = [
            "ا", "أ", "إ", "آ", "ٱ", "ل", "ع", "ق", "ه", "ة", "ى", "ي", "ئ", "ؤ", "و", "د", "ر", "غ", "ن", "م", "ب", "ت", "س", "ح", "ز",
            "\u{064E}", "\u{0651}", "\u{0640}", "\u{200F}", "\u{0301}", "ﻻ", "ﺍ", "ﻟ", "ﻌ", "ﻼ", "ﻗ", "ﺎ", "ﺕ", "ﷺ", "M", "b", "C", "g",
            "2", "0", "٢", "٠", ",", ".", "٫", " ", " ", " ", "\n", "#", "_", "«", "،",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..40 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            check(&text);
        }
    }

    #[test]
    fn snippet_is_the_best_window_of_the_whole_text() {
        let filler = |n: usize| "كلام عادي في النص ".repeat(n);
        let h = Highlighter::new(&parse("بوتين أردوغان"));
        let text = format!("{} بوتين {} إردوغان وبوتين {}", filler(10), filler(100), filler(5));
        let s = h.snippet(&text, 60);
        assert!(s.contains("<mark>إردوغان</mark> <mark>وبوتين</mark>"), "{s}");
        assert_eq!(s, h.snippet_of(&text, 120, all_matches(&h, &text)));
    }

    #[test]
    fn snippet_without_matches_is_the_opening() {
        let s = Highlighter::new(&parse("غائب")).snippet("نص قصير", 100);
        assert_eq!(s, "نص قصير");
    }
}
