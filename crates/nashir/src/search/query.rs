//! What a reader typed, understood: plain words, «quoted phrases», and `-excluded` words.
//! Anything else (stray operators, unbalanced quotes) is read as plain words, never an error.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    pub normalized: String,
    pub stem: String,
    pub stopword: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub words: Vec<QueryWord>,
    pub phrases: Vec<Vec<QueryWord>>,
    pub excluded: Vec<QueryWord>,
}

impl ParsedQuery {
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.phrases.iter().all(|p| p.is_empty())
    }

    /// Every word the reader asked for, for highlighting.
    pub fn wanted(&self) -> impl Iterator<Item = &QueryWord> {
        self.words.iter().chain(self.phrases.iter().flatten())
    }
}

fn analyze_words(text: &str) -> Vec<QueryWord> {
    arabic::analyze(text).into_iter().map(|t| QueryWord { normalized: t.normalized, stem: t.stem, stopword: t.stopword }).collect()
}

const OPEN_QUOTES: &[char] = &['"', '«', '“'];

fn closing_for(open: char) -> &'static [char] {
    match open {
        '«' => &['»', '"', '”'],
        '“' => &['”', '"', '»'],
        _ => &['"', '”', '»'],
    }
}

pub fn parse(query: &str) -> ParsedQuery {
    let mut parsed = ParsedQuery::default();
    let mut plain = String::new();
    let mut rest = query;
    while let Some(open_at) = rest.find(OPEN_QUOTES) {
        let open = rest[open_at..].chars().next().expect("found a quote");
        let after = &rest[open_at + open.len_utf8()..];
        match after.find(closing_for(open)) {
            Some(close_at) => {
                plain.push_str(&rest[..open_at]);
                plain.push(' ');
                let phrase = analyze_words(&after[..close_at]);
                match phrase.len() {
                    0 => {}
                    1 => parsed.words.extend(phrase),
                    _ => parsed.phrases.push(phrase),
                }
                let close = after[close_at..].chars().next().expect("found a quote");
                rest = &after[close_at + close.len_utf8()..];
            }
            None => {
                // An unbalanced quote is just punctuation.
                plain.push_str(&rest[..open_at]);
                plain.push(' ');
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    for chunk in plain.split_whitespace() {
        match chunk.strip_prefix(['-', '−']) {
            Some(excluded) if excluded.chars().next().is_some_and(char::is_alphanumeric) => parsed.excluded.extend(analyze_words(excluded)),
            _ => parsed.words.extend(analyze_words(chunk)),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(words: &[QueryWord]) -> Vec<&str> {
        words.iter().map(|w| w.normalized.as_str()).collect()
    }

    #[test]
    fn words_phrases_and_exclusions() {
        let q = parse("إردوغان «العلاقات التركية» -روسيا MBC");
        assert_eq!(norms(&q.words), ["اردوغان", "mbc"]);
        assert_eq!(q.phrases.len(), 1);
        assert_eq!(norms(&q.phrases[0]), ["العلاقات", "التركيه"]);
        assert_eq!(norms(&q.excluded), ["روسيا"]);
    }

    #[test]
    fn stray_operators_are_plain_words() {
        let q = parse("\"بوتين - + * AND ( ");
        assert_eq!(norms(&q.words), ["بوتين", "and"]);
        assert!(q.phrases.is_empty() && q.excluded.is_empty());
        assert!(parse("  \" « ").is_empty());
        assert!(parse("").is_empty());
    }

    #[test]
    fn single_word_quotes_are_words() {
        let q = parse("\"سوريا\"");
        assert_eq!(norms(&q.words), ["سوريا"]);
    }
}
