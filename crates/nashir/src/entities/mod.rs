//! People, places and organisations named in an article.
//!
//! Three sources, in order: the gazetteers written by us (`data/gazetteer/*.tsv`); rules for
//! people introduced by a title or role («الرئيس الروسي فلاديمير بوتين», «المحلل السياسي، فراس
//! علاوي»), so people in no list are found; and later mentions by surname alone («وذكر
//! علاوي»). Spellings meet through `arabic::normalize` (أردوغان = إردوغان). Pure: no I/O.

mod gazetteer;
mod rules;

use rustc_hash::FxHashMap;
use serde::Serialize;

pub use gazetteer::Gazetteer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Person,
    Place,
    Org,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Place => "place",
            Kind::Org => "org",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "person" => Some(Kind::Person),
            "place" => Some(Kind::Place),
            "org" => Some(Kind::Org),
            _ => None,
        }
    }
}

/// An entity found in one article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub kind: Kind,
    /// Display name: the gazetteer's canonical name, or the fullest form seen in the text.
    pub name: String,
    /// Identity across articles: normalized words of the canonical name.
    pub key: String,
    pub mentions: u32,
}

/// The identity of a name as an entity: a gazetteer spelling resolves to its entry.
pub fn resolve_key(name: &str) -> String {
    let words: Vec<String> = arabic::tokenize(name).into_iter().map(|t| t.text).collect();
    let Some((first, rest)) = words.split_first() else { return String::new() };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let g = Gazetteer::get();
    match g.longest(first, &rest) {
        Some((idx, len)) if len == words.len() => g.entry(idx).key.clone(),
        _ => words.join(" "),
    }
}

/// The identity of a name: its normalized words, so spelling variants share one key.
pub fn key_of(name: &str) -> String {
    arabic::tokenize(name).into_iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

/// A word of the text as the rules see it.
pub(crate) struct Word<'a> {
    /// Normalized form.
    pub norm: String,
    /// Normalized form without a leading conjunction/preposition (و ف ب ل ك, لل → ال).
    pub bare: Vec<String>,
    /// Punctuation (not just spaces) separates this word from the previous one.
    pub after_punct: bool,
    /// That punctuation is only commas (، or ,).
    pub after_comma: bool,
    pub text: &'a str,
}

/// The word with its proclitics stripped, longest strip last; the word itself first.
pub(crate) fn bare_forms(w: &str) -> Vec<String> {
    let mut out = vec![w.to_string()];
    let letters = |s: &str| s.chars().count();
    let push = |s: String, out: &mut Vec<String>| {
        if letters(&s) >= 2 && !out.contains(&s) {
            out.push(s);
        }
    };
    let mut stems = vec![w.to_string()];
    if let Some(r) = w.strip_prefix('و').or_else(|| w.strip_prefix('ف')) {
        push(r.to_string(), &mut out);
        stems.push(r.to_string());
    }
    for s in stems {
        if let Some(r) = s.strip_prefix("لل") {
            push(format!("ال{r}"), &mut out);
        }
        if let Some(r) = s.strip_prefix(['ب', 'ل', 'ك']) {
            push(r.to_string(), &mut out);
        }
    }
    out
}

pub(crate) fn words(text: &str) -> Vec<Word<'_>> {
    let mut out: Vec<Word<'_>> = Vec::new();
    let mut prev_end = 0;
    for tok in arabic::tokenize(text) {
        let gap = &text[prev_end.min(tok.start)..tok.start];
        let mut marks = gap.chars().filter(|&c| !c.is_whitespace() && !is_mark(c)).peekable();
        let after_punct = out.is_empty() || marks.peek().is_some();
        let after_comma = !out.is_empty() && after_punct && marks.all(|c| c == '،' || c == ',');
        prev_end = tok.end;
        out.push(Word { bare: bare_forms(&tok.text), norm: tok.text, after_punct, after_comma, text: &text[tok.start..tok.end] });
    }
    out
}

fn is_mark(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{0652}' | '\u{0670}' | '\u{0640}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Extracts the entities of an article (headline and body text).
pub fn extract(title: &str, body: &str) -> Vec<Found> {
    let mut acc = Accumulator::default();
    let gaz = Gazetteer::get();
    let texts = [title, body];
    let all: Vec<Vec<Word<'_>>> = texts.iter().map(|t| words(t)).collect();
    // Pass 1: gazetteer names and titled people, which also teach us surnames.
    let mut covered: Vec<Vec<bool>> = all.iter().map(|w| vec![false; w.len()]).collect();
    for (ws, cov) in all.iter().zip(covered.iter_mut()) {
        rules::scan(ws, gaz, cov, &mut acc);
    }
    // Pass 2: surnames alone, wherever nothing else was found.
    for (ws, cov) in all.iter().zip(covered.iter()) {
        for (i, w) in ws.iter().enumerate() {
            if cov[i] {
                continue;
            }
            if let Some(key) = w.bare.iter().find_map(|b| acc.surnames.get(b.as_str())) {
                let key = key.clone();
                acc.bump(&key);
            }
        }
    }
    acc.finish()
}

#[derive(Default)]
pub(crate) struct Accumulator {
    found: Vec<Found>,
    by_key: FxHashMap<String, usize>,
    /// Normalized surname → person key, for later mentions by surname alone.
    pub surnames: FxHashMap<String, String>,
}

impl Accumulator {
    pub fn add(&mut self, kind: Kind, name: &str, key: String) {
        match self.by_key.get(&key) {
            Some(&i) => {
                let f = &mut self.found[i];
                f.mentions += 1;
                // Show the fullest form of a name seen in the article.
                if kind == Kind::Person && name.chars().count() > f.name.chars().count() {
                    f.name = name.to_string();
                }
            }
            None => {
                self.by_key.insert(key.clone(), self.found.len());
                self.found.push(Found { kind, name: name.to_string(), key, mentions: 1 });
            }
        }
    }

    /// A person already found with the same first and last name («شذى الجمال» and
    /// «شذى رضا الجمال» in one article).
    pub fn same_person(&self, words: &[&str]) -> Option<String> {
        let (first, last) = (words.first()?, words.last()?);
        self.found
            .iter()
            .filter(|f| f.kind == Kind::Person)
            .find(|f| f.key.split(' ').next() == Some(first) && f.key.rsplit(' ').next() == Some(last))
            .map(|f| f.key.clone())
    }

    pub fn bump(&mut self, key: &str) {
        if let Some(&i) = self.by_key.get(key) {
            self.found[i].mentions += 1;
        }
    }

    fn finish(mut self) -> Vec<Found> {
        self.found.sort_by(|a, b| b.mentions.cmp(&a.mentions).then_with(|| a.key.cmp(&b.key)));
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[Found], kind: Kind) -> Vec<String> {
        found.iter().filter(|f| f.kind == kind).map(|f| f.name.clone()).collect()
    }

    #[test]
    fn clitics_are_stripped() {
        assert!(bare_forms("وليبيا").contains(&"ليبيا".to_string()));
        assert!(bare_forms("للامم").contains(&"الامم".to_string()));
        assert!(bare_forms("بالقرم").contains(&"القرم".to_string()));
    }

    #[test]
    fn titled_people_are_found() {
        let f = extract("", "قال وزير الخارجية الروسي سيرغي لافروف إن المحادثات مستمرة، وأكد المحلل السياسي، فراس علاوي، أن الوضع هادئ.");
        let people = names(&f, Kind::Person);
        assert!(people.iter().any(|p| p == "سيرغي لافروف"), "{people:?}");
        assert!(people.iter().any(|p| p == "فراس علاوي"), "{people:?}");
        assert!(f.iter().all(|e| e.name != "الرئيس" && e.name != "الجمعة"));
    }

    #[test]
    fn surname_mentions_merge_into_the_full_name() {
        let f = extract("", "قال الخبير الاقتصادي سامر حداد إن الأسعار سترتفع. وأضاف حداد أن الحكومة تأخرت، وختم حدّاد حديثه.");
        let p = f.iter().find(|e| e.name == "سامر حداد").expect("found");
        assert_eq!(p.mentions, 3);
        assert_eq!(f.iter().filter(|e| e.kind == Kind::Person).count(), 1);
    }

    #[test]
    fn spelling_variants_share_one_entity() {
        let f = extract("اتصال بين أردوغان وبوتين", "من جانبه أثنى إردوغان على العلاقات.");
        let erdogan: Vec<&Found> = f.iter().filter(|e| e.key == key_of("رجب طيب أردوغان")).collect();
        assert_eq!(erdogan.len(), 1);
        assert_eq!(erdogan[0].mentions, 2);
    }

    #[test]
    fn titles_and_weekdays_alone_are_not_people() {
        let f = extract("", "قال الرئيس يوم الجمعة إن الرئيس التركي، بحث مع نظيره الملف. وأعلن المدرب أن اللاعب مصاب.");
        assert!(f.iter().all(|e| e.kind != Kind::Person), "{f:?}");
    }
}
