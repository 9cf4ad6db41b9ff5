//! Property tests: invariants the search index and URL layer rely on.

use arabic::*;
use proptest::prelude::*;

/// Strings biased towards the characters that matter here: Arabic letters, hamza forms,
/// harakat, tatweel, bidi marks, presentation forms, digits of three systems, separators.
fn arabicish() -> impl Strategy<Value = String> {
    let pool: Vec<char> = "ابتثجحخدذرسشصضطظعغفقكلمنهويءأإآٱىةؤئ ًٌٍَُِّْٰـ\u{200F}\u{200E}\u{061C}\u{200B}\u{FEFF}\u{FEFB}\u{FEF5}\u{FDF2}\u{FDFA}\u{FE70}\u{FE8D}٠١٢٣٤٥٦٧٨٩۰۱۲۳٫٬0123456789.,#_-/ \n،؛؟«»“”MBCabcİǅ\u{0301}é😀"
        .chars()
        .collect();
    prop_oneof![proptest::collection::vec(proptest::sample::select(pool), 0..60).prop_map(|v| v.into_iter().collect()), any::<String>(),]
}

fn arabic_word() -> impl Strategy<Value = String> {
    let pool: Vec<char> = "ابتثجحخدذرسشصضطظعغفقكلمنهويءى".chars().collect();
    proptest::collection::vec(proptest::sample::select(pool), 1..12).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn normalize_is_idempotent(s in arabicish()) {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn tokenize_offsets_are_valid(s in arabicish()) {
        let toks = tokenize(&s);
        let mut last_start = 0;
        for (i, t) in toks.iter().enumerate() {
            prop_assert!(t.start < t.end && t.end <= s.len());
            prop_assert!(s.is_char_boundary(t.start) && s.is_char_boundary(t.end));
            // Monotone; tokens overlap only when one ligature (ﷺ) expands to several words.
            prop_assert!(t.start >= last_start);
            prop_assert!(!t.text.is_empty());
            prop_assert_eq!(t.position, i);
            last_start = t.start;
        }
    }

    #[test]
    fn tokenize_into_matches_tokenize(a in arabicish(), b in arabicish()) {
        let mut buf = Vec::new();
        tokenize_into(&a, &mut buf);
        tokenize_into(&b, &mut buf);
        prop_assert_eq!(buf, tokenize(&b));
    }

    #[test]
    fn stem_never_empty_never_longer(w in prop_oneof![arabic_word(), arabicish()]) {
        let n = normalize(&w);
        let s = stem(&n);
        if !n.is_empty() {
            prop_assert!(!s.is_empty());
        }
        prop_assert!(s.chars().count() <= n.chars().count());
        prop_assert!(n.contains(s.as_str()));
    }

    #[test]
    fn slugify_is_valid_or_empty(s in arabicish()) {
        let slug = slugify(&s);
        prop_assert!(slug.is_empty() || is_valid_slug(&slug), "{:?} -> {:?}", s, slug);
        prop_assert_eq!(slugify(&slug), slug.clone());
    }

    #[test]
    fn date_round_trip(y in 1000i32..=9999, m in 1u32..=12, d in 1u32..=31, wd in any::<bool>(), indic in any::<bool>()) {
        prop_assume!(d <= days_in_month(y, m));
        let digits = if indic { Digits::ArabicIndic } else { Digits::Western };
        for names in [MonthNames::Both, MonthNames::Levantine, MonthNames::Standard] {
            let s = format_date(y, m, d, names, digits, wd);
            prop_assert_eq!(parse_date(&s), Some((y, m, d)), "{}", s);
        }
    }

    #[test]
    fn weekday_advances_daily(y in 1i32..=9999, m in 1u32..=12) {
        let n = days_in_month(y, m);
        for d in 1..n {
            prop_assert_eq!((weekday(y, m, d) + 1) % 7, weekday(y, m, d + 1));
        }
    }

    #[test]
    fn digit_conversions_round_trip(n in any::<u64>()) {
        let s = n.to_string();
        prop_assert_eq!(to_ascii_digits(&to_arabic_indic_digits(&s)), s);
    }
}
