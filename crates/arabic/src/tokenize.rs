//! Tokenization into normalized words with offsets into the original text.

use crate::normalize::{digit_value, is_format_control, is_other_mark, normalize_char, NormalizedChar};

/// A word of the input.
///
/// `text` is normalized (what the index stores and queries match against) while `start..end`
/// are byte offsets into the *original* input, because snippets highlight the text as
/// published, with its hamzas and vowel marks intact.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Token {
    /// Normalized form, see [`crate::normalize`].
    pub text: String,
    /// Byte offset of the first char of the word in the original text.
    pub start: usize,
    /// Byte offset just past the word (trailing vowel marks/tatweel included).
    pub end: usize,
    /// Index of the token in the token stream, for phrase queries.
    pub position: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Arabic letters: a run of them is one word.
    Arabic,
    /// Latin/other-script letters and digits. Kept together so "g20", "mp3", "5g" stay whole,
    /// but split from Arabic so "عام2021" yields both words.
    Alnum,
    /// Combining marks that belong to whatever letter precedes them.
    Joiner,
    Separator,
}

#[inline]
fn class_of(n: char) -> Class {
    if n.is_ascii() {
        return if n.is_ascii_alphanumeric() { Class::Alnum } else { Class::Separator };
    }
    match n {
        // Fast path: the basic Arabic letters are the bulk of our text, and the generic
        // `is_alphabetic` table lookup profiled as the single largest cost of tokenizing.
        '\u{0620}'..='\u{064A}' => Class::Arabic,
        '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFE}' => {
            if n.is_alphabetic() {
                Class::Arabic
            } else {
                Class::Separator
            }
        }
        _ if is_other_mark(n) => Class::Joiner,
        _ if n.is_alphanumeric() => Class::Alnum,
        _ => Class::Separator,
    }
}

/// Splits `text` into words. See [`tokenize_into`].
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    tokenize_into(text, &mut out);
    out
}

/// Splits `text` into Arabic letter runs and Latin/digit runs, replacing the contents of `out`.
///
/// * Anything that is not a letter, digit or mark separates words, so hashtags such as
///   `#عاصي_الحلاني` index as their words (`#` and `_` are separators).
/// * Vowel marks, tatweel and invisible format controls never split a word: they are how a word
///   is decorated, not where it ends.
/// * A `.`/`,`/`٫`/`٬` between digits stays inside the number so figures search as written:
///   `1.2`, `1,5` and `١٫٥` all become `1.2`/`1.5`; a comma or `٬` followed by exactly three
///   digits is a thousands separator and is dropped (`1,200` → `1200`), so `1,200` finds `1200`.
///
/// Existing tokens in `out` are overwritten in place, so their `String` buffers are reused
/// when one vector serves many documents.
pub fn tokenize_into(text: &str, out: &mut Vec<Token>) {
    let mut t = Tokenizer { out, n: 0, buf: String::new(), class: None, start: 0, end: 0, last_digit: false };
    t.buf = t.take_buf();
    for (i, c) in text.char_indices() {
        let c_end = i + c.len_utf8();
        if matches!(c, '.' | ',' | '\u{066B}' | '\u{066C}') && t.last_digit {
            if let Some(sep) = number_separator(c, &text[c_end..]) {
                if let Some(s) = sep {
                    t.buf.push(s);
                }
                t.last_digit = false;
                continue;
            }
        }
        match normalize_char(c) {
            NormalizedChar::Drop => {
                // Keep trailing vowel marks inside the highlighted span; bidi marks are not
                // part of the word.
                if t.class.is_some() && !is_format_control(c) {
                    t.end = c_end;
                }
            }
            NormalizedChar::One(n) => t.feed(n, i, c_end),
            NormalizedChar::Two(a, b) => {
                t.feed(a, i, c_end);
                t.feed(b, i, c_end);
            }
            NormalizedChar::Expand(s) => {
                for n in s.chars() {
                    t.feed(n, i, c_end);
                }
            }
        }
    }
    t.finish();
    let n = t.n;
    out.truncate(n);
}

/// Decides what a separator between digits means. `None`: not part of a number.
/// `Some(None)`: thousands separator (dropped). `Some(Some('.'))`: decimal point.
#[inline]
fn number_separator(c: char, rest: &str) -> Option<Option<char>> {
    let mut ahead = rest.chars();
    digit_value(ahead.next()?)?;
    match c {
        '.' | '\u{066B}' => Some(Some('.')),
        '\u{066C}' => Some(None),
        _ => {
            // ',' : exactly three digits then a non-digit means thousands, else decimal comma.
            let a = ahead.next().and_then(digit_value).is_some();
            let b = ahead.next().and_then(digit_value).is_some();
            let d = ahead.next().and_then(digit_value).is_some();
            if a && b && !d {
                Some(None)
            } else {
                Some(Some('.'))
            }
        }
    }
}

struct Tokenizer<'a> {
    out: &'a mut Vec<Token>,
    /// Tokens emitted so far.
    n: usize,
    buf: String,
    class: Option<Class>,
    start: usize,
    end: usize,
    last_digit: bool,
}

impl Tokenizer<'_> {
    /// Reuses the `String` of a token from a previous call when there is one.
    #[inline]
    fn take_buf(&mut self) -> String {
        match self.out.get_mut(self.n) {
            Some(tok) => {
                let mut s = std::mem::take(&mut tok.text);
                s.clear();
                s
            }
            // Most Arabic words fit in 24 bytes (12 letters): no regrowth while pushing.
            None => String::with_capacity(24),
        }
    }

    #[inline]
    fn feed(&mut self, n: char, start: usize, end: usize) {
        let class = class_of(n);
        match (class, self.class) {
            (Class::Separator, _) => self.finish(),
            (Class::Joiner, None) => {}
            (Class::Joiner, Some(_)) => {
                self.buf.push(n);
                self.end = end;
            }
            (c, cur) => {
                if cur != Some(c) {
                    self.finish();
                    self.class = Some(c);
                    self.start = start;
                }
                self.buf.push(n);
                self.end = end;
                self.last_digit = n.is_ascii_digit();
            }
        }
    }

    #[inline]
    fn finish(&mut self) {
        self.last_digit = false;
        if self.class.take().is_none() {
            return;
        }
        let text = std::mem::take(&mut self.buf);
        let tok = Token { text, start: self.start, end: self.end, position: self.n };
        if let Some(slot) = self.out.get_mut(self.n) {
            *slot = tok;
        } else {
            self.out.push(tok);
        }
        self.n += 1;
        self.buf = self.take_buf();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn offsets_point_into_original() {
        let s = "قال أردوغان: MBC";
        let toks = tokenize(s);
        assert_eq!(toks.len(), 3);
        assert_eq!(&s[toks[1].start..toks[1].end], "أردوغان");
        assert_eq!(toks[1].text, "اردوغان");
        assert_eq!(toks[2].text, "mbc");
        assert_eq!(&s[toks[2].start..toks[2].end], "MBC");
        assert_eq!(toks.iter().map(|t| t.position).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn hamza_variants_one_token() {
        for s in ["أردوغان", "إردوغان", "اردوغان"] {
            assert_eq!(texts(s), vec!["اردوغان"]);
        }
    }

    #[test]
    fn hashtags_split_into_words() {
        assert_eq!(texts("#عاصي_الحلاني"), vec!["عاصي", "الحلاني"]);
        assert_eq!(texts("#Breaking_News"), vec!["breaking", "news"]);
    }

    #[test]
    fn numbers_with_separators_stay_whole() {
        assert_eq!(texts("نما 1.2 في المئة"), vec!["نما", "1.2", "في", "الميه"]);
        assert_eq!(texts("1,200 دولار"), vec!["1200", "دولار"]);
        assert_eq!(texts("1,5 مليار"), vec!["1.5", "مليار"]);
        assert_eq!(texts("١٫٥ و١٬٢٠٠"), vec!["1.5", "و", "1200"]);
        assert_eq!(texts("عام 2021. ثم"), vec!["عام", "2021", "ثم"]);
        assert_eq!(texts("أ، ب"), vec!["ا", "ب"]);
    }

    #[test]
    fn harakat_and_tatweel_do_not_split() {
        assert_eq!(texts("الْحَسَن العـــلاقات"), vec!["الحسن", "العلاقات"]);
        let s = "الحسنُ";
        let t = tokenize(s);
        assert_eq!(t[0].end, s.len());
    }

    #[test]
    fn bidi_marks_do_not_split_or_extend() {
        let s = "\u{200F}سوريا\u{200F} x";
        let t = tokenize(s);
        assert_eq!(t[0].text, "سوريا");
        assert_eq!(&s[t[0].start..t[0].end], "سوريا");
    }

    #[test]
    fn latin_lowercased_and_mixed_scripts_split() {
        assert_eq!(texts("MBC مصر"), vec!["mbc", "مصر"]);
        assert_eq!(texts("عام2021م"), vec!["عام", "2021", "م"]);
        assert_eq!(texts("G20"), vec!["g20"]);
    }

    #[test]
    fn persian_digits() {
        assert_eq!(texts("۱۴۰۰"), vec!["1400"]);
    }

    #[test]
    fn lam_alef_ligature_in_word() {
        assert_eq!(texts("ا\u{FEDF}\u{FEFB}عب"), vec!["اللاعب"]);
        assert_eq!(texts("\u{FDFA}"), vec!["صلي", "الله", "عليه", "وسلم"]);
    }

    #[test]
    fn tokenize_into_reuses_and_truncates() {
        let mut v = Vec::new();
        tokenize_into("واحد اثنان ثلاثة أربعة", &mut v);
        assert_eq!(v.len(), 4);
        tokenize_into("خمسة", &mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].text, "خمسه");
        assert_eq!(v[0].position, 0);
    }
}
