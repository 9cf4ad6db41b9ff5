//! Static word lists with fast membership tests.
//!
//! The lists are written in whatever order reads best for a reviewer (grouped by kind) and
//! indexed once on first use. Lookups sit on the hot path of `analyze` (several per word), so
//! this is a small open-addressing hash table rather than a binary search, which profiled as
//! a quarter of analysis time in string comparisons.

use std::sync::OnceLock;

pub(crate) struct WordSet {
    words: &'static [&'static str],
    index: OnceLock<Index>,
}

struct Index {
    sorted: Vec<&'static str>,
    /// Slots hold `index into sorted + 1`; 0 is empty.
    slots: Vec<u32>,
    mask: usize,
    /// Bit `n` set if some word has byte length `n` (lengths ≥ 63 share bit 63).
    lengths: u64,
}

/// Hash of the first and last (up to) 8 bytes and the length: three loads and a multiply,
/// which is all the list words need to spread, and much cheaper than a byte loop.
#[inline]
fn hash(s: &str) -> usize {
    let b = s.as_bytes();
    let load = |bytes: &[u8]| {
        let mut buf = [0u8; 8];
        buf[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(buf)
    };
    let n = b.len();
    let head = load(&b[..n.min(8)]);
    let tail = load(&b[n.saturating_sub(8)..]);
    let h = (head ^ tail.rotate_left(29) ^ (n as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 32) as usize
}

#[inline]
fn length_bit(len: usize) -> u64 {
    1u64 << len.min(63)
}

impl WordSet {
    pub(crate) const fn new(words: &'static [&'static str]) -> Self {
        WordSet { words, index: OnceLock::new() }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut sorted = self.words.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            let cap = (sorted.len() * 4).next_power_of_two().max(16);
            let mask = cap - 1;
            let mut slots = vec![0u32; cap];
            let mut lengths = 0;
            for (i, w) in sorted.iter().enumerate() {
                lengths |= length_bit(w.len());
                let mut at = hash(w) & mask;
                while slots[at] != 0 {
                    at = (at + 1) & mask;
                }
                slots[at] = i as u32 + 1;
            }
            Index { sorted, slots, mask, lengths }
        })
    }

    pub(crate) fn as_sorted(&self) -> &[&'static str] {
        &self.index().sorted
    }

    #[inline]
    pub(crate) fn contains(&self, w: &str) -> bool {
        let ix = self.index();
        if ix.lengths & length_bit(w.len()) == 0 {
            return false;
        }
        let mut at = hash(w) & ix.mask;
        loop {
            match ix.slots[at] {
                0 => return false,
                i => {
                    if ix.sorted[i as usize - 1] == w {
                        return true;
                    }
                }
            }
            at = (at + 1) & ix.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        static S: WordSet = WordSet::new(&["في", "من", "اردوغان", "من", ""]);
        assert!(S.contains("في") && S.contains("من") && S.contains("اردوغان") && S.contains(""));
        assert!(!S.contains("وزير") && !S.contains("ف") && !S.contains("فيي"));
        assert_eq!(S.as_sorted().len(), 4);
    }
}
