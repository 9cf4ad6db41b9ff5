//! Characters that must not reach storage or output: C0/C1 control characters and the
//! non-characters XML 1.0 forbids. One in a headline made every feed invalid XML, so they are
//! stripped on input (every draft, whatever its source, on its way into the store) and once
//! more when XML is written (feeds, sitemaps).

use std::borrow::Cow;

/// True for characters no article text needs and XML cannot carry (or that render as
/// nothing but confuse readers): C0 controls except tab and line breaks, DEL, C1 controls
/// (U+0080–U+009F, NEL included) and the non-characters U+FFFE/U+FFFF (and U+FDD0–U+FDEF).
/// Lone surrogates cannot occur in a Rust `str`.
pub fn is_unwanted_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fdd0}'..='\u{fdef}')
        || (c as u32 & 0xfffe) == 0xfffe
}

/// The text without unwanted characters (tab, `\n` and `\r` are kept: they mean something in
/// a body before it is parsed). Borrows when there is nothing to strip.
pub fn strip_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unwanted_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().filter(|c| !is_unwanted_char(*c)).collect())
}

/// In place, for the fields of a draft; no allocation when the text is clean.
pub fn strip_controls_in(s: &mut String) {
    if let Cow::Owned(clean) = strip_controls(s) {
        *s = clean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_non_characters_go_text_stays() {
        let all_c0: String = (0u32..0x20).chain([0x7f, 0x85, 0x9f, 0xfffe, 0xffff, 0x1fffe]).filter_map(char::from_u32).collect();
        assert_eq!(strip_controls(&format!("عنوان{all_c0}خبر")), "عنوان\t\n\rخبر");
        assert!(matches!(strip_controls("نص عادي\n\tمع سطر"), Cow::Borrowed(_)));
        // Arabic marks, zero-width joiners and emoji are text.
        let kept = "\u{200f}\u{200d}\u{061c}ـ😀\u{fffd}";
        assert_eq!(strip_controls(kept), kept);
    }
}
