//! Arabic dates: formatting for bylines and parsing dates quoted in article text.
//!
//! The Levant and Iraq name Gregorian months with Syriac names (كانون الأول), Egypt and the
//! Gulf use transliterations (ديسمبر), and pan-Arab outlets print both ("كانون الأول/ ديسمبر")
//! so every reader recognises the month. The weekday is computed here to avoid a date
//! dependency for one function.

use crate::normalize::digit_value;
use crate::tokenize::{tokenize, Token};

/// Which month naming tradition to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum MonthNames {
    /// "كانون الأول/ ديسمبر": understood everywhere, the house default.
    #[default]
    Both,
    /// Syriac names used in the Levant and Iraq: "كانون الأول".
    Levantine,
    /// Transliterated names used in Egypt and the Gulf: "ديسمبر".
    Standard,
}

/// Which digits to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Digits {
    /// 0–9: what most Arabic news sites print online.
    #[default]
    Western,
    /// ٠–٩.
    ArabicIndic,
}

const LEVANTINE: [&str; 12] =
    ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"];
const STANDARD: [&str; 12] =
    ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"];
const BOTH: [&str; 12] = [
    "كانون الثاني/ يناير",
    "شباط/ فبراير",
    "آذار/ مارس",
    "نيسان/ أبريل",
    "أيار/ مايو",
    "حزيران/ يونيو",
    "تموز/ يوليو",
    "آب/ أغسطس",
    "أيلول/ سبتمبر",
    "تشرين الأول/ أكتوبر",
    "تشرين الثاني/ نوفمبر",
    "كانون الأول/ ديسمبر",
];
const WEEKDAYS: [&str; 7] = ["الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت"];

/// Month spellings accepted by [`parse_date`], normalized (so hamza variants such as
/// أبريل/إبريل/ابريل collapse). Includes Egyptian (يونيه) and Maghrebi (جانفي, أوت) forms and
/// Syriac names written without the article (كانون ثاني).
const PARSE_MONTHS: &[(&str, u32)] = &[
    ("كانون الثاني", 1),
    ("كانون ثاني", 1),
    ("يناير", 1),
    ("جانفي", 1),
    ("شباط", 2),
    ("فبراير", 2),
    ("فيفري", 2),
    ("اذار", 3),
    ("مارس", 3),
    ("نيسان", 4),
    ("ابريل", 4),
    ("افريل", 4),
    ("ايار", 5),
    ("مايو", 5),
    ("ماي", 5),
    ("حزيران", 6),
    ("يونيو", 6),
    ("يونيه", 6),
    ("جوان", 6),
    ("تموز", 7),
    ("يوليو", 7),
    ("يوليه", 7),
    ("جويليه", 7),
    ("اب", 8),
    ("اغسطس", 8),
    ("اوت", 8),
    ("اغسطوس", 8),
    ("ايلول", 9),
    ("سبتمبر", 9),
    ("شتنبر", 9),
    ("تشرين الاول", 10),
    ("تشرين اول", 10),
    ("اكتوبر", 10),
    ("تشرين الثاني", 11),
    ("تشرين ثاني", 11),
    ("نوفمبر", 11),
    ("نونبر", 11),
    ("كانون الاول", 12),
    ("كانون اول", 12),
    ("ديسمبر", 12),
    ("دجنبر", 12),
];

/// Month name in the requested tradition; `""` for a month outside 1–12.
pub fn month_name(month: u32, names: MonthNames) -> &'static str {
    let table = match names {
        MonthNames::Both => &BOTH,
        MonthNames::Levantine => &LEVANTINE,
        MonthNames::Standard => &STANDARD,
    };
    month.checked_sub(1).and_then(|i| table.get(i as usize)).copied().unwrap_or("")
}

/// Weekday name, 0 = Sunday (الأحد); `""` outside 0–6.
pub fn weekday_name(weekday: u32) -> &'static str {
    WEEKDAYS.get(weekday as usize).copied().unwrap_or("")
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in a month of the proleptic Gregorian calendar; 0 for an invalid month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Day of week for a proleptic Gregorian date, 0 = Sunday (Sakamoto's method).
/// Arabic weeks are printed starting from Sunday (الأحد), hence the numbering.
pub fn weekday(year: i32, month: u32, day: u32) -> u32 {
    const T: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let m = month.clamp(1, 12);
    let mut y = i64::from(year);
    if m < 3 {
        y -= 1;
    }
    let d = i64::from(day);
    let w = y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) + T[(m - 1) as usize] + d;
    w.rem_euclid(7) as u32
}

/// Byline date: `format_date(2021, 12, 3, MonthNames::Both, Digits::Western, true)` is
/// "الجمعة 3 كانون الأول/ ديسمبر 2021". The day is not zero-padded, as in Arabic print.
/// Invalid input is not rejected (that is the caller's job); the month name is then empty.
pub fn format_date(year: i32, month: u32, day: u32, names: MonthNames, digits: Digits, with_weekday: bool) -> String {
    let mut s = String::with_capacity(64);
    if with_weekday {
        s.push_str(weekday_name(weekday(year, month, day)));
        s.push(' ');
    }
    let numbers = |n: String| match digits {
        Digits::Western => n,
        Digits::ArabicIndic => crate::to_arabic_indic_digits(&n),
    };
    s.push_str(&numbers(day.to_string()));
    s.push(' ');
    s.push_str(month_name(month, names));
    s.push(' ');
    s.push_str(&numbers(year.to_string()));
    s
}

/// Value of a token made only of digits (any script, already ASCII after normalization).
fn number(tok: &Token) -> Option<(u32, usize)> {
    if tok.text.is_empty() || tok.text.len() > 4 || !tok.text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((tok.text.parse().ok()?, tok.text.len()))
}

/// Length in tokens and value of a month name starting at `toks[i]`.
fn month_at(toks: &[Token], i: usize) -> Option<(usize, u32)> {
    let first = &toks.get(i)?.text;
    // Two-word names first so "كانون الأول" is not read as an unknown "كانون".
    if let Some(second) = toks.get(i + 1) {
        for &(name, m) in PARSE_MONTHS {
            if let Some((a, b)) = name.split_once(' ') {
                if a == first && b == second.text {
                    return Some((2, m));
                }
            }
        }
    }
    PARSE_MONTHS.iter().find(|(name, _)| name == first).map(|&(_, m)| (1, m))
}

fn valid(y: u32, m: u32, d: u32) -> Option<(i32, u32, u32)> {
    let y = i32::try_from(y).ok()?;
    (d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

/// The text between two tokens with spaces removed: "/" for both "3/12" and "الأول/ ديسمبر".
fn gap<'a>(text: &'a str, a: &Token, b: &Token) -> &'a str {
    text[a.end..b.start].trim()
}

/// First full date (day, month, 4-digit year) written in `text`, as (year, month, day).
///
/// Accepts "3 كانون الأول/ ديسمبر 2021", "الجمعة 3 ديسمبر 2021", "٣ كانون الأول ٢٠٢١",
/// hamza variants (اذار/آذار, ابريل/إبريل/أبريل), Egyptian/Maghrebi month names, numeric
/// day-first "3/12/2021" and "3-12-2021", and ISO "2021-12-03". A month without a day or year
/// ("في ديسمبر الماضي") is not a date, so `None`; so is an impossible date (30 شباط).
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let toks = tokenize(text);
    for i in 0..toks.len() {
        let Some((n, digits)) = number(&toks[i]) else {
            // Dotted numeric dates tokenize as one number-like token: "3.12.2021".
            if let Some(d) = dotted(&toks[i].text) {
                return Some(d);
            }
            continue;
        };
        if digits <= 2 {
            // Day, month name(s), year.
            if let Some((len, m)) = month_at(&toks, i + 1) {
                let mut j = i + 1 + len;
                // Optional second name after a slash: "كانون الأول/ ديسمبر".
                if let (Some(prev), Some(next)) = (toks.get(j - 1), toks.get(j)) {
                    if gap(text, prev, next) == "/" {
                        if let Some((len2, _)) = month_at(&toks, j) {
                            j += len2;
                        }
                    }
                }
                if let Some((y, 4)) = toks.get(j).and_then(number) {
                    if let Some(d) = valid(y, m, n) {
                        return Some(d);
                    }
                }
                continue;
            }
            // Numeric day-first.
            if let (Some(b), Some(c)) = (toks.get(i + 1), toks.get(i + 2)) {
                let g1 = gap(text, &toks[i], b);
                if (g1 == "/" || g1 == "-") && gap(text, b, c) == g1 {
                    if let (Some((m, 1..=2)), Some((y, 4))) = (number(b), number(c)) {
                        if let Some(d) = valid(y, m, n) {
                            return Some(d);
                        }
                    }
                }
            }
        } else if digits == 4 {
            // ISO year-first.
            if let (Some(b), Some(c)) = (toks.get(i + 1), toks.get(i + 2)) {
                let g1 = gap(text, &toks[i], b);
                if (g1 == "-" || g1 == "/") && gap(text, b, c) == g1 {
                    if let (Some((m, 1..=2)), Some((d, 1..=2))) = (number(b), number(c)) {
                        if let Some(date) = valid(n, m, d) {
                            return Some(date);
                        }
                    }
                }
            }
        }
    }
    None
}

fn dotted(t: &str) -> Option<(i32, u32, u32)> {
    let mut parts = t.split('.');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || d.len() > 2 || m.len() > 2 || y.len() != 4 {
        return None;
    }
    let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| digit_value(c).is_some());
    if !(all_digits(d) && all_digits(m) && all_digits(y)) {
        return None;
    }
    valid(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_both_levantine_standard() {
        assert_eq!(format_date(2021, 12, 3, MonthNames::Both, Digits::Western, true), "الجمعة 3 كانون الأول/ ديسمبر 2021");
        assert_eq!(format_date(2021, 12, 3, MonthNames::Levantine, Digits::Western, true), "الجمعة 3 كانون الأول 2021");
        assert_eq!(format_date(2021, 12, 3, MonthNames::Standard, Digits::Western, true), "الجمعة 3 ديسمبر 2021");
        assert_eq!(format_date(2021, 12, 3, MonthNames::Standard, Digits::Western, false), "3 ديسمبر 2021");
        assert_eq!(format_date(2021, 12, 3, MonthNames::Levantine, Digits::ArabicIndic, false), "٣ كانون الأول ٢٠٢١");
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday(2021, 12, 3), 5); // Friday
        assert_eq!(weekday(2000, 1, 1), 6); // Saturday
        assert_eq!(weekday(2024, 2, 29), 4); // Thursday
        assert_eq!(weekday(1970, 1, 1), 4);
        assert_eq!(weekday_name(0), "الأحد");
    }

    #[test]
    fn month_names() {
        assert_eq!(month_name(12, MonthNames::Both), "كانون الأول/ ديسمبر");
        assert_eq!(month_name(3, MonthNames::Levantine), "آذار");
        assert_eq!(month_name(0, MonthNames::Standard), "");
        assert_eq!(month_name(13, MonthNames::Standard), "");
    }

    #[test]
    fn parse_forms() {
        let want = Some((2021, 12, 3));
        for s in [
            "يوم الجمعة 3 كانون الأول/ ديسمبر 2021، أن",
            "الجمعة 3 ديسمبر 2021",
            "٣ كانون الأول ٢٠٢١",
            "3/12/2021",
            "في 03-12-2021",
            "2021-12-03",
            "3.12.2021",
            "3  كانون   الاول /ديسمبر  2021",
            "۳ دجنبر ۲۰۲۱",
        ] {
            assert_eq!(parse_date(s), want, "{s}");
        }
        assert_eq!(parse_date("1 اذار 2020"), Some((2020, 3, 1)));
        assert_eq!(parse_date("1 آذار 2020"), Some((2020, 3, 1)));
        for s in ["5 ابريل 2019", "5 إبريل 2019", "5 أبريل 2019", "5 نيسان 2019"] {
            assert_eq!(parse_date(s), Some((2019, 4, 5)), "{s}");
        }
        assert_eq!(parse_date("8 آب/ أغسطس 2018"), Some((2018, 8, 8)));
    }

    #[test]
    fn parse_rejects_partial_and_impossible() {
        assert_eq!(parse_date("في ديسمبر الماضي"), None);
        assert_eq!(parse_date("3 ديسمبر"), None);
        assert_eq!(parse_date("30 شباط 2021"), None);
        assert_eq!(parse_date("قتل 15 شخصا"), None);
        assert_eq!(parse_date(""), None);
    }
}
