//! Digit-system conversion.
//!
//! Storage and URLs use ASCII digits; some publications (and most of the Gulf print tradition)
//! display Arabic-Indic digits. Conversion happens at the edges, never in stored text.

use crate::normalize::digit_value;

/// ASCII digits → Arabic-Indic (U+0660–U+0669): `2021` → `٢٠٢١`. Other chars, including the
/// decimal point, are left alone because the separator convention is a display choice.
pub fn to_arabic_indic_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0x0660 + (c as u32 - '0' as u32)).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Arabic-Indic and Persian digits → ASCII: `٢٠٢١`/`۲۰۲۱` → `2021`. Other chars are kept.
pub fn to_ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match digit_value(c) {
            Some(d) => char::from(b'0' + d as u8),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(to_arabic_indic_digits("2021-12-03"), "٢٠٢١-١٢-٠٣");
        assert_eq!(to_ascii_digits("٢٠٢١-١٢-٠٣"), "2021-12-03");
        assert_eq!(to_ascii_digits("۱۴۰۰ x"), "1400 x");
    }
}
