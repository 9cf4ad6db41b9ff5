//! Arabic function words.
//!
//! Our own list, in normalized form, tuned for news: particles, pronouns, demonstratives,
//! relatives and auxiliaries that match nearly every article and so only add noise to ranking.
//! Common و/ف/ب/ل-prefixed forms are listed too because the stopword check runs on the
//! normalized token, before stemming. Content verbs such as قال are deliberately absent: in a
//! newsroom, "who said what" is searched for.

use crate::wordset::WordSet;

#[rustfmt::skip]
const WORDS: &[&str] = &[
    // prepositions and adverbs of place/time
    "في", "من", "علي", "الي", "عن", "مع", "منذ", "حتي", "عند", "لدي", "خلال", "بين", "ضد", "نحو",
    "حول", "دون", "عبر", "قبل", "بعد", "فوق", "تحت", "امام", "وراء", "اثناء", "ضمن", "لدن", "سوي",
    "غير", "مثل", "كل", "بعض", "جميع", "اي", "ايه", "كلا", "كلتا", "عده",
    // conjunctions and connectives
    "و", "ف", "ب", "ل", "ك", "ثم", "او", "ام", "بل", "لكن", "لكنه", "لكنها", "اما", "اذا", "اذ",
    "لو", "لولا", "كي", "لكي", "حيث", "بينما", "كما", "كذلك", "ايضا", "لان", "لانه", "لانها", "ان",
    "انه", "انها", "انهم", "اذن", "حين", "حينما", "عندما", "كلما", "لما", "مما", "ممن", "عما",
    "فيما", "بما", "كيف", "متي", "اين", "هل", "ماذا", "لماذا", "كم", "الا", "فقط", "جدا", "اجل",
    "بان", "بانه", "بانها", "لذلك", "لذا", "لهذا", "لهذه", "بذلك", "بهذا", "بهذه", "لكل", "الان",
    "تم", "يتم",
    // negation and auxiliaries
    "لا", "لم", "لن", "ليس", "ليست", "ما", "قد", "لقد", "سوف", "كان", "كانت", "كانوا", "يكون",
    "تكون", "يكن", "تكن", "مازال", "لازال", "زال", "ظل",
    // pronouns
    "هو", "هي", "هم", "هن", "هما", "انا", "نحن", "انت", "انتم", "انتما",
    // demonstratives
    "هذا", "هذه", "هذان", "هذين", "هاتان", "هاتين", "هولاء", "ذلك", "تلك", "اوليك", "ذاك", "هناك",
    "هنا", "هنالك", "ثمه",
    // relatives
    "الذي", "التي", "الذين", "اللذان", "اللتان", "اللذين", "اللتين", "اللاتي", "اللواتي",
    // pronoun-suffixed prepositions
    "عليه", "عليها", "عليهم", "منه", "منها", "منهم", "فيه", "فيها", "فيهم", "له", "لها", "لهم",
    "لهما", "به", "بها", "بهم", "عنه", "عنها", "عنهم", "اليه", "اليها", "اليهم", "معه", "معها",
    "معهم", "بينهم", "بينها",
    // و-prefixed
    "وفي", "ومن", "وعلي", "والي", "وعن", "ومع", "وقد", "ولم", "ولن", "ولا", "وما", "وهو", "وهي",
    "وهم", "وهذا", "وهذه", "وذلك", "وكان", "وكانت", "وان", "وانه", "واذا", "ولكن", "وكذلك", "وبين",
    "وحتي", "وعند", "ومنذ", "وبعد", "وقبل", "وخلال", "وكل", "وغير", "وليس", "وكما", "وهناك", "وهنا",
    "والتي", "والذي", "والذين", "وايضا", "واما", "وبعض", "ولها", "وله", "وبه", "وفيه", "ومنها",
    "ومنه", "وثم", "واو", "وتم", "ويتم", "والان",
    // ف-prefixed
    "فان", "فقد", "فلا", "فما", "فهو", "فهي", "فمن", "فكان", "فلم", "فلن", "فاذا",
];

static SET: WordSet = WordSet::new(WORDS);

/// True if `normalized` (output of [`crate::normalize`]) is a function word that search should
/// not rank on. The index still stores it so phrase queries keep working.
pub fn is_stopword(normalized: &str) -> bool {
    SET.contains(normalized)
}

/// The stopword list, sorted, for callers that need to show or export it.
pub fn stopwords() -> &'static [&'static str] {
    SET.as_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize;

    #[test]
    fn common_function_words() {
        for w in ["في", "من", "على", "إلى", "عن", "أن", "هذا", "هذه", "التي", "الذي", "كان", "وفي", "ومن", "وقد"]
        {
            assert!(is_stopword(&normalize(w)), "{w}");
        }
        for w in ["وزير", "سوريا", "قال", "اردوغان"] {
            assert!(!is_stopword(&normalize(w)), "{w}");
        }
    }

    #[test]
    fn list_is_normalized_and_short() {
        assert!(stopwords().len() >= 200, "{}", stopwords().len());
        for w in stopwords() {
            assert_eq!(normalize(w), *w);
        }
    }
}
