//! The gazetteers in `data/gazetteer/*.tsv`, compiled into the binary and indexed once by
//! their normalized first word.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::{key_of, Kind};

const FILES: &[(Kind, &str)] = &[
    (Kind::Place, include_str!("../../data/gazetteer/countries.tsv")),
    (Kind::Place, include_str!("../../data/gazetteer/cities.tsv")),
    (Kind::Org, include_str!("../../data/gazetteer/organisations.tsv")),
    (Kind::Person, include_str!("../../data/gazetteer/people.tsv")),
];

#[derive(Debug)]
pub struct Entry {
    pub kind: Kind,
    pub name: String,
    pub key: String,
}

pub struct Gazetteer {
    pub entries: Vec<Entry>,
    /// First normalized word → (remaining words, entry), longest first.
    by_first: FxHashMap<String, Vec<(Vec<String>, u32)>>,
}

impl Gazetteer {
    pub fn get() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(|| Gazetteer::parse(FILES))
    }

    fn parse(files: &[(Kind, &str)]) -> Gazetteer {
        let mut g = Gazetteer { entries: Vec::new(), by_first: FxHashMap::default() };
        for &(kind, text) in files {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                let mut cols = line.split('\t');
                let name = cols.next().unwrap_or_default().trim();
                let variants = cols.next().unwrap_or_default();
                let key = key_of(name);
                if key.is_empty() {
                    continue;
                }
                let idx = g.entries.len() as u32;
                g.entries.push(Entry { kind, name: name.to_string(), key });
                for form in std::iter::once(name).chain(variants.split('|')).map(str::trim).filter(|v| !v.is_empty()) {
                    let words: Vec<String> = arabic::tokenize(form).into_iter().map(|t| t.text).collect();
                    let Some((first, rest)) = words.split_first() else { continue };
                    let list = g.by_first.entry(first.clone()).or_default();
                    if !list.iter().any(|(r, _)| r == rest) {
                        list.push((rest.to_vec(), idx));
                    }
                }
            }
        }
        for list in g.by_first.values_mut() {
            list.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        }
        g
    }

    /// The longest entry starting at `words[0]` (already stripped of clitics), with how many
    /// words it spans.
    pub fn longest(&self, first: &str, next: &[&str]) -> Option<(u32, usize)> {
        let list = self.by_first.get(first)?;
        list.iter()
            .find(|(rest, _)| rest.len() <= next.len() && rest.iter().zip(next).all(|(a, b)| a == b))
            .map(|(rest, idx)| (*idx, rest.len() + 1))
    }

    pub fn entry(&self, idx: u32) -> &Entry {
        &self.entries[idx as usize]
    }

    /// The person entry one of whose single-word variants is `word`.
    pub fn person_by_word(&self, word: &str) -> Option<u32> {
        self.by_first.get(word)?.iter().find(|(rest, idx)| rest.is_empty() && self.entries[*idx as usize].kind == Kind::Person).map(|x| x.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gazetteer_is_large_enough_and_keys_are_unique() {
        let g = Gazetteer::get();
        let places = g.entries.iter().filter(|e| e.kind == Kind::Place).count();
        let orgs = g.entries.iter().filter(|e| e.kind == Kind::Org).count();
        assert!(places >= 200, "{places} places");
        assert!(orgs >= 80, "{orgs} organisations");
        let mut keys: Vec<&str> = g.entries.iter().map(|e| e.key.as_str()).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "duplicate gazetteer keys");
    }
}
