//! URL slugs from headlines.
//!
//! Arabic stays Arabic: readers share links in messaging apps where the slug is the only
//! preview, and transliteration is both lossy and contested. Unlike search normalization the
//! letters are not folded (أ stays أ) because a slug is read by people.

use crate::normalize::{digit_value, is_arabic_mark, is_format_control, is_other_mark, TATWEEL};

/// Longest slug in chars. Long enough for a headline's gist, short enough for a tweet.
pub const MAX_SLUG_CHARS: usize = 80;

/// A char allowed inside a slug word (besides `-` between words).
#[inline]
fn is_slug_char(c: char) -> bool {
    // Arabic vowel marks count as alphabetic in Unicode (Other_Alphabetic), hence the mark check.
    c != TATWEEL && c.is_alphanumeric() && !c.is_uppercase() && !is_arabic_mark(c) && !is_other_mark(c)
}

/// Slug for a headline: vowel marks, tatweel, bidi/zero-width controls dropped; any run of
/// whitespace, punctuation (incl. ، ؛ ؟ « » “ ”) or symbols becomes one `-`; Latin lowercased;
/// Arabic-Indic/Persian digits → ASCII; cut at a word boundary to at most
/// [`MAX_SLUG_CHARS`] chars. May return an empty string (headline of only punctuation or
/// emoji); callers fall back to the article id.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SLUG_CHARS * 4));
    let mut chars = 0usize; // chars in `out`
    let mut word = String::new();
    let mut word_chars = 0usize;

    // Appends the pending word if it fits; returns false when the slug is full.
    let flush = |word: &mut String, word_chars: &mut usize, out: &mut String, chars: &mut usize| -> bool {
        if *word_chars == 0 {
            return true;
        }
        let sep = usize::from(*chars > 0);
        let fits = *chars + sep + *word_chars <= MAX_SLUG_CHARS;
        if fits {
            if sep == 1 {
                out.push('-');
            }
            out.push_str(word);
            *chars += sep + *word_chars;
        } else if *chars == 0 {
            // A single word longer than the limit: cut it rather than return nothing.
            out.extend(word.chars().take(MAX_SLUG_CHARS));
            *chars = MAX_SLUG_CHARS;
        }
        word.clear();
        *word_chars = 0;
        fits
    };

    for c in text.chars() {
        if is_arabic_mark(c) || c == TATWEEL || is_format_control(c) || is_other_mark(c) {
            continue;
        }
        if let Some(d) = digit_value(c) {
            word.push(char::from(b'0' + d as u8));
            word_chars += 1;
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase().filter(|&l| is_slug_char(l)) {
                word.push(l);
                word_chars += 1;
            }
        } else if !flush(&mut word, &mut word_chars, &mut out, &mut chars) {
            return out;
        }
    }
    flush(&mut word, &mut word_chars, &mut out, &mut chars);
    out
}

/// True if `s` could have come out of [`slugify`]: non-empty, at most [`MAX_SLUG_CHARS`]
/// chars, words of lowercase letters/digits joined by single `-`. Use it to validate slugs
/// edited by hand before they go into a URL.
pub fn is_valid_slug(s: &str) -> bool {
    if s.is_empty() || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return false;
    }
    let mut n = 0;
    for c in s.chars() {
        n += 1;
        if n > MAX_SLUG_CHARS || !(c == '-' || is_slug_char(c)) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_headline() {
        assert_eq!(
            slugify("اتصال “روتيني” بين أردوغان وبوتين.. هل من مستجدات حول سوريا؟"),
            "اتصال-روتيني-بين-أردوغان-وبوتين-هل-من-مستجدات-حول-سوريا"
        );
    }

    #[test]
    fn marks_tatweel_bidi_dropped_digits_ascii() {
        assert_eq!(slugify("\u{200F}الْعـــلاقات، «MBC» ٢٠٢١!"), "العلاقات-mbc-2021");
        assert_eq!(slugify("؟؟ ... !!"), "");
        assert_eq!(slugify("#عاصي_الحلاني"), "عاصي-الحلاني");
    }

    #[test]
    fn cut_at_word_boundary() {
        let long = "كلمة ".repeat(40);
        let s = slugify(&long);
        assert!(s.chars().count() <= MAX_SLUG_CHARS);
        assert!(s.ends_with("كلمة"));
        assert!(is_valid_slug(&s));
        let one = "ب".repeat(100);
        assert_eq!(slugify(&one).chars().count(), MAX_SLUG_CHARS);
    }

    #[test]
    fn validity() {
        assert!(is_valid_slug("اتصال-روتيني-2021"));
        for bad in ["", "-a", "a-", "a--b", "a b", "a/b", "a?b", "a#b", "a%b", "ABC", "الْ", "اـب"] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }
}
