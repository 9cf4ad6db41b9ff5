//! Our Arabic analyser as tantivy tokenizers. Two views of the same text: normalized words
//! (exact spelling aside from hamza, ة/ه, ى/ي, harakat) and light stems (prefixes and
//! suffixes stripped). Offsets point into the original text.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

pub const NORMALIZED: &str = "ar_normalized";
pub const STEMMED: &str = "ar_stemmed";

/// Normalized words, stopwords kept (so quoted phrases match as written).
#[derive(Clone, Default)]
pub struct NormalizedTokenizer {
    tokens: Vec<arabic::Token>,
}

/// Light stems, stopwords dropped (they only add noise to stem matches).
#[derive(Clone, Default)]
pub struct StemmedTokenizer {
    tokens: Vec<arabic::Token>,
}

pub struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl VecTokenStream {
    fn new(tokens: Vec<Token>) -> Self {
        VecTokenStream { tokens, index: usize::MAX }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.index = self.index.wrapping_add(1);
        self.index < self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.index]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index]
    }
}

fn token(text: String, t: &arabic::Token) -> Token {
    Token { offset_from: t.start, offset_to: t.end, position: t.position, text, position_length: 1 }
}

impl Tokenizer for NormalizedTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        arabic::tokenize_into(text, &mut self.tokens);
        VecTokenStream::new(self.tokens.iter().map(|t| token(t.text.clone(), t)).collect())
    }
}

impl Tokenizer for StemmedTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        arabic::tokenize_into(text, &mut self.tokens);
        VecTokenStream::new(
            self.tokens.iter().filter(|t| !arabic::is_stopword(&t.text)).map(|t| token(arabic::stem_str(&t.text).to_string(), t)).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(mut stream: VecTokenStream) -> Vec<String> {
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn both_views() {
        let text = "والعلاقات التركية مع إردوغان";
        assert_eq!(texts(NormalizedTokenizer::default().token_stream(text)), ["والعلاقات", "التركيه", "مع", "اردوغان"]);
        let stems = texts(StemmedTokenizer::default().token_stream(text));
        assert_eq!(stems[0], "علاق", "و and ال and the plural ات go");
        assert!(!stems.contains(&"مع".to_string()), "stopword dropped");
        assert_eq!(stems.last().unwrap(), "اردوغان");
    }
}
