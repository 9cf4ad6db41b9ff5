//! Sorted static word lists with binary search.
//!
//! The lists are written in whatever order reads best for a reviewer (grouped by kind) and
//! sorted once on first use, so nobody has to hand-sort Arabic.

use std::sync::OnceLock;

pub(crate) struct WordSet {
    words: &'static [&'static str],
    sorted: OnceLock<Vec<&'static str>>,
}

impl WordSet {
    pub(crate) const fn new(words: &'static [&'static str]) -> Self {
        WordSet {
            words,
            sorted: OnceLock::new(),
        }
    }

    pub(crate) fn as_sorted(&self) -> &[&'static str] {
        self.sorted.get_or_init(|| {
            let mut v = self.words.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        })
    }

    #[inline]
    pub(crate) fn contains(&self, w: &str) -> bool {
        self.as_sorted().binary_search(&w).is_ok()
    }
}
