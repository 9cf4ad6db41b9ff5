//! Features: an article's headline and body turned into weighted stems (title and lead words
//! weigh more, optional stem pairs) and the MinHash signature for near-duplicates, from one
//! analysis of the text.

use rustc_hash::FxHashMap;

use crate::related::dupes::{self, Signature};

/// The text-derived part of a [`Doc`].
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub terms: Vec<(String, f32)>,
    pub signature: Option<Signature>,
}

/// How [`features_with`] turns text into weighted terms.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureParams {
    /// A title word is worth this many body words: headlines name the story.
    pub title_weight: f32,
    /// The first `lead_words` content words of the body (the lead) count `lead_weight` times.
    pub lead_words: usize,
    pub lead_weight: f32,
    /// Adjacent content-stem pairs («أسعار النفط», «كرة القدم») as extra terms of this weight:
    /// a pair is far less ambiguous than either word.
    pub bigram_weight: f32,
}

impl Default for FeatureParams {
    fn default() -> Self {
        FeatureParams { title_weight: 2.0, lead_words: 0, lead_weight: 1.0, bigram_weight: 0.0 }
    }
}

/// Analyzes headline and body once for both the vectors and the shingles.
pub fn features(title: &str, body: &str) -> Features {
    features_with(title, body, &FeatureParams::default())
}

/// Bigram terms join two stems with a space, which no single stem contains.
pub(super) const BIGRAM_JOIN: char = ' ';

/// [`features`] with explicit weights.
pub fn features_with(title: &str, body: &str, p: &FeatureParams) -> Features {
    let mut terms: FxHashMap<String, f32> = FxHashMap::default();
    let mut words: Vec<String> = Vec::new();
    for (text, is_title) in [(title, true), (body, false)] {
        let mut content = 0usize;
        // Previous content stem and its position, for bigrams (a stopword or number between
        // two stems breaks the pair).
        let mut prev: Option<(String, usize)> = None;
        for term in arabic::analyze(text) {
            if !is_title {
                words.push(term.normalized.clone());
            }
            if term.stopword || term.stem.chars().count() < 2 || term.stem.bytes().all(|b| b.is_ascii_digit()) {
                prev = None;
                continue;
            }
            let weight = if is_title {
                p.title_weight
            } else if content < p.lead_words {
                p.lead_weight
            } else {
                1.0
            };
            content += 1;
            if p.bigram_weight > 0.0 {
                if let Some((a, pos)) = &prev {
                    if *pos + 1 == term.position && *a != term.stem {
                        let key = format!("{a}{BIGRAM_JOIN}{}", term.stem);
                        *terms.entry(key).or_insert(0.0) += weight * p.bigram_weight;
                    }
                }
                prev = Some((term.stem.clone(), term.position));
            }
            *terms.entry(term.stem).or_insert(0.0) += weight;
        }
    }
    let signature = dupes::signature(&dupes::shingles(words.iter().map(String::as_str)));
    let mut terms: Vec<(String, f32)> = terms.into_iter().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Features { terms, signature }
}
