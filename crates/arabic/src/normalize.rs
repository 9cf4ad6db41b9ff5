//! Search normalization.
//!
//! Arabic as typed by readers and as published by newsrooms differs in ways that carry no
//! meaning for search: hamza seats on alef, alef maksura vs. yeh, teh marbuta vs. heh, vowel
//! marks, tatweel, bidi controls, three digit systems and legacy presentation-form code points.
//! Folding them here means the index and the query meet in the middle. The folding is
//! deliberately lossy; never use its output for display.

use crate::presentation_table::PRESENTATION_FORMS;

/// Tatweel (kashida) only stretches a word visually.
pub(crate) const TATWEEL: char = '\u{0640}';

/// What one input char becomes after search normalization.
///
/// Most chars map to exactly one char; the enum exists because presentation-form ligatures
/// expand (lam-alef is two letters, ﷺ is a phrase) and marks vanish. Returning this instead
/// of pushing into a buffer lets the tokenizer keep byte offsets of the *original* char.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalizedChar {
    /// The char carries no searchable meaning (vowel mark, tatweel, bidi/format control).
    Drop,
    /// The char maps to a single char (often itself).
    One(char),
    /// Lowercasing produced two chars (only `İ` in current Unicode).
    Two(char, char),
    /// A presentation form expanded to already-normalized text (may contain spaces, e.g. ﷺ).
    Expand(&'static str),
}

impl NormalizedChar {
    /// Appends the normalized text to `out`.
    #[inline]
    pub fn push_to(self, out: &mut String) {
        match self {
            NormalizedChar::Drop => {}
            NormalizedChar::One(c) => out.push(c),
            NormalizedChar::Two(a, b) => {
                out.push(a);
                out.push(b);
            }
            NormalizedChar::Expand(s) => out.push_str(s),
        }
    }
}

/// True for Arabic vowel marks and other Arabic combining marks.
///
/// The spec names U+064B–U+0652 and U+0670; the neighbouring Quranic and hamza/madda combining
/// marks (U+0653–U+065F, U+0610–U+061A, U+06D6–U+06ED) are dropped too, because text that was
/// decomposed (alef + U+0654) must end up equal to text that was not (أ, which folds to ا).
#[inline]
pub(crate) fn is_arabic_mark(c: char) -> bool {
    matches!(c,
        '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E4}'
        | '\u{06E7}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}')
}

/// Invisible format controls: bidi marks/isolates/embeddings, zero-width chars, BOM, soft hyphen.
///
/// Editors paste these in from word processors and social media; they split or poison words
/// without anyone being able to see why a search missed.
#[inline]
pub(crate) fn is_format_control(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{061C}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}')
}

/// Non-Arabic combining marks and variation selectors: they belong to the previous letter, so a
/// tokenizer must not split on them (decomposed "café").
#[inline]
pub(crate) fn is_other_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Value of an ASCII, Arabic-Indic (U+0660–U+0669) or Persian (U+06F0–U+06F9) digit.
#[inline]
pub(crate) fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        _ => None,
    }
}

/// Normalizes a single char. See [`normalize`] for the rules.
#[inline]
pub fn normalize_char(c: char) -> NormalizedChar {
    use NormalizedChar::{Drop, One};
    if c.is_ascii() {
        return One(c.to_ascii_lowercase());
    }
    match c {
        // Hamza seats and wasla on alef are spelled inconsistently even by professionals.
        'أ' | 'إ' | 'آ' | 'ٱ' => One('ا'),
        // Alef maksura vs. yeh at word end is a regional/typing habit (Egypt writes علي for على).
        'ى' => One('ي'),
        // Teh marbuta is frequently typed as heh, especially in titles and by readers.
        'ة' => One('ه'),
        // Readers type these without the hamza (مسؤول/مسئول/مسوول), so we fold to the bare seat.
        'ؤ' => One('و'),
        'ئ' => One('ي'),
        // Persian keyboard variants of yeh and kaf leak into Arabic text.
        '\u{06CC}' => One('ي'),
        '\u{06A9}' => One('ك'),
        // Arabic decimal/thousands separators: the tokenizer treats them like '.' and ','.
        '\u{066B}' => One('.'),
        '\u{066C}' => One(','),
        '\u{0660}'..='\u{0669}' => One(char::from(b'0' + (c as u32 - 0x0660) as u8)),
        '\u{06F0}'..='\u{06F9}' => One(char::from(b'0' + (c as u32 - 0x06F0) as u8)),
        TATWEEL => Drop,
        _ if is_arabic_mark(c) || is_format_control(c) => Drop,
        // Arabic letters need no further work; checked before the generic lowercase path.
        '\u{0600}'..='\u{06FF}' => One(c),
        '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFE}' => presentation_form(c),
        _ => lowercase(c),
    }
}

#[cold]
fn presentation_form(c: char) -> NormalizedChar {
    match PRESENTATION_FORMS.binary_search_by_key(&(c as u32), |&(cp, _)| cp) {
        Ok(i) => {
            let s = PRESENTATION_FORMS[i].1;
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (None, _) => NormalizedChar::Drop,
                (Some(a), None) => NormalizedChar::One(a),
                _ => NormalizedChar::Expand(s),
            }
        }
        Err(_) => NormalizedChar::One(c),
    }
}

/// Non-ASCII, non-Arabic chars are rare in our text, so the general Unicode mapping is cheap.
#[inline]
fn lowercase(c: char) -> NormalizedChar {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(a), None) => NormalizedChar::One(a),
        (Some(a), Some(b)) => NormalizedChar::Two(a, b),
        (None, _) => NormalizedChar::One(c),
    }
}

/// Folds `text` for search (index and query must both go through this):
///
/// * أ إ آ ٱ → ا; ى → ي; ة → ه; ؤ → و; ئ → ي
/// * vowel marks (U+064B–U+0652, U+0670 and other Arabic combining marks) and tatweel removed
/// * bidi and zero-width format controls removed
/// * Arabic-Indic and Persian digits → ASCII; ٫ → `.`, ٬ → `,`
/// * presentation forms (U+FB50–U+FDFF, U+FE70–U+FEFF) → base letters (ﻻ → لا)
/// * everything else lowercased (Unicode lowercase), so Latin brand names match any casing
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// Like [`normalize`] but appends to `out`, so a caller normalizing many strings can reuse one
/// buffer (clear it yourself between calls).
pub fn normalize_into(text: &str, out: &mut String) {
    out.reserve(text.len());
    for c in text.chars() {
        normalize_char(c).push_to(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hamza_alef_variants_fold_to_bare_alef() {
        assert_eq!(normalize("أردوغان"), "اردوغان");
        assert_eq!(normalize("إردوغان"), "اردوغان");
        assert_eq!(normalize("آذار ٱلله"), "اذار الله");
    }

    #[test]
    fn alef_maksura_folds_to_yeh() {
        assert_eq!(normalize("على مستوى"), "علي مستوي");
    }

    #[test]
    fn teh_marbuta_folds_to_heh() {
        assert_eq!(normalize("المدينة"), normalize("المدينه"));
        assert_eq!(normalize("المدينة"), "المدينه");
    }

    #[test]
    fn hamza_on_waw_and_yeh_folds_to_seat() {
        assert_eq!(normalize("مسؤول"), "مسوول");
        assert_eq!(normalize("رئيس"), "رييس");
    }

    #[test]
    fn harakat_removed() {
        assert_eq!(normalize("الْحَسَن"), "الحسن");
        assert_eq!(normalize("مُحَمَّدٌ"), "محمد");
        assert_eq!(normalize("هٰذا"), "هذا");
    }

    #[test]
    fn decomposed_hamza_matches_precomposed() {
        assert_eq!(normalize("ا\u{0654}حمد"), normalize("أحمد"));
    }

    #[test]
    fn tatweel_removed() {
        assert_eq!(normalize("العـــلاقات"), "العلاقات");
    }

    #[test]
    fn bidi_and_zero_width_removed() {
        assert_eq!(normalize("\u{200F}سوريا\u{200E} \u{061C}x\u{200B}y\u{2067}z\u{2069}\u{FEFF}"), "سوريا xyz");
    }

    #[test]
    fn arabic_indic_and_persian_digits_to_ascii() {
        assert_eq!(normalize("٢٠٢١"), "2021");
        assert_eq!(normalize("۲۰۲۱"), "2021");
        assert_eq!(normalize("١٫٥"), "1.5");
    }

    #[test]
    fn lam_alef_ligature_expands() {
        assert_eq!(normalize("\u{FEFB}"), "لا");
        assert_eq!(normalize("ا\u{FEDF}\u{FEFC}ﻋﺐ"), "اللاعب");
        assert_eq!(normalize("\u{FEF7}"), "لا");
        assert_eq!(normalize("\u{FDF2}"), "الله");
    }

    #[test]
    fn latin_lowercased() {
        assert_eq!(normalize("MBC Ärger İ"), "mbc ärger i\u{307}");
    }

    #[test]
    fn presentation_table_is_sorted_and_normalized() {
        for w in PRESENTATION_FORMS.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
        for &(_, s) in PRESENTATION_FORMS {
            assert_eq!(normalize(s), s);
        }
    }
}
