//! Arabic text analysis for Nashir: normalization, tokenization, light stemming, stopwords,
//! dates, digits and slugs.
//!
//! Written in-house because the available crates get the newsroom cases wrong (see
//! `DESIGN.md`, "Arabic text"): they over-stem names (أردوغان→اردوغ) and common words
//! (وزير→زير), or split the article ال into its own token. Pure Rust, no dependencies.
//!
//! The search index stores two fields per word, both produced by [`analyze`]: the normalized
//! form (exact matches, ranked higher) and the light stem (recall).

mod dates;
mod digits;
mod normalize;
mod presentation_table;
mod slug;
mod stem;
mod stopwords;
mod tokenize;
mod wordset;

pub use dates::{days_in_month, format_date, month_name, parse_date, weekday, weekday_name, Digits, MonthNames};
pub use digits::{to_arabic_indic_digits, to_ascii_digits};
pub use normalize::{normalize, normalize_char, normalize_into, NormalizedChar};
pub use slug::{is_valid_slug, slugify, MAX_SLUG_CHARS};
pub use stem::{stem, stem_str};
pub use stopwords::{is_stopword, stopwords};
pub use tokenize::{tokenize, tokenize_into, Token};

/// One word of a document as the search index sees it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Term {
    /// Normalized word: the exact-match field.
    pub normalized: String,
    /// Light stem of `normalized`: the recall field. Equal to `normalized` for Latin words and
    /// numbers, which we do not stem.
    pub stem: String,
    /// Byte offsets into the original text, for highlighting.
    pub start: usize,
    pub end: usize,
    /// Token position, for phrase queries; stopwords keep their position so phrases with
    /// function words still match.
    pub position: usize,
    /// Function word: index it (phrases) but do not let it drive ranking.
    pub stopword: bool,
}

/// Tokenize, normalize, flag stopwords and stem, in one pass over `text`.
pub fn analyze(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    analyze_into(text, &mut Vec::new(), &mut out);
    out
}

/// Like [`analyze`] but reuses a token buffer and appends to `out`, for bulk indexing.
pub fn analyze_into(text: &str, tokens: &mut Vec<Token>, out: &mut Vec<Term>) {
    tokenize_into(text, tokens);
    out.reserve(tokens.len());
    for tok in tokens.iter_mut() {
        let stopword = is_stopword(&tok.text);
        let stem = stem_str(&tok.text).to_owned();
        out.push(Term {
            normalized: std::mem::take(&mut tok.text),
            stem,
            start: tok.start,
            end: tok.end,
            position: tok.position,
            stopword,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyze_seed_sentence() {
        let s = "قال وزير الخارجية الروسي سيرغي لافروف";
        let terms = analyze(s);
        let stems: Vec<&str> = terms.iter().map(|t| t.stem.as_str()).collect();
        assert_eq!(stems, vec!["قال", "وزير", "خارج", "روس", "سيرغ", "لافروف"]);
        assert_eq!(&s[terms[1].start..terms[1].end], "وزير");
        assert!(!terms[0].stopword);
        let t = analyze("في العلاقات");
        assert!(t[0].stopword);
        assert_eq!(t[1].position, 1);
    }
}
