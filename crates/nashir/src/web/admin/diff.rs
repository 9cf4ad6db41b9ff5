//! Line diffs of article revisions, bounded in memory and time.
//!
//! The previous diff filled an (old lines + 1) × (new lines + 1) table: a body of 110,000
//! one-word paragraphs asked for tens of gigabytes and killed the server. This one uses the
//! `similar` crate's Myers diff (memory linear in the input) with a deadline after which it
//! settles for a coarser (still correct) diff, and refuses inputs above a size cap before any
//! work is done: the page then says the diff is too large (see `revision_diff`).

use std::time::Duration;

use serde::Serialize;
use similar::{Algorithm, ChangeTag, TextDiff};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// "same", "added" or "removed".
    pub kind: &'static str,
    pub text: String,
}

/// How big a diff may get before it is not computed.
#[derive(Debug, Clone, Copy)]
pub struct DiffLimits {
    /// Lines of both versions together.
    pub max_lines: usize,
    /// Bytes of both versions together.
    pub max_bytes: usize,
    /// After this, Myers stops refining and the diff is coarser (whole runs replaced).
    pub deadline: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    Lines(Vec<DiffLine>),
    /// Above the limits: the sizes, for the message.
    TooLarge {
        lines: usize,
        bytes: usize,
    },
}

pub fn diff_lines(old: &str, new: &str, limits: DiffLimits) -> Diff {
    // `lines()` counts without allocating; the sum is what the diff would index.
    let lines = old.lines().count() + new.lines().count();
    let bytes = old.len() + new.len();
    if lines > limits.max_lines || bytes > limits.max_bytes {
        return Diff::TooLarge { lines, bytes };
    }
    let diff = TextDiff::configure().algorithm(Algorithm::Myers).timeout(limits.deadline).diff_lines(old, new);
    let out = diff
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Insert => "added",
                ChangeTag::Delete => "removed",
            },
            text: change.value().trim_end_matches(['\n', '\r']).to_string(),
        })
        .collect();
    Diff::Lines(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOMY: DiffLimits = DiffLimits { max_lines: 1_000_000, max_bytes: 100 << 20, deadline: Duration::from_secs(5) };

    #[test]
    fn marks_changes() {
        let Diff::Lines(d) = diff_lines("a\nb\nc", "a\nx\nc", ROOMY) else { panic!("too large") };
        let kinds: Vec<_> = d.iter().map(|l| (l.kind, l.text.as_str())).collect();
        assert_eq!(kinds, vec![("same", "a"), ("removed", "b"), ("added", "x"), ("same", "c")]);
    }

    #[test]
    fn above_the_cap_nothing_is_computed() {
        let limits = DiffLimits { max_lines: 10, ..ROOMY };
        assert_eq!(diff_lines(&"x\n".repeat(6), &"y\n".repeat(6), limits), Diff::TooLarge { lines: 12, bytes: 24 });
        let limits = DiffLimits { max_bytes: 10, ..ROOMY };
        assert!(matches!(diff_lines("0123456789", "a", limits), Diff::TooLarge { .. }));
    }

    /// Two entirely different versions of 20,000 lines each: the old table needed 400 million
    /// cells (1.6 GB); Myers with a deadline needs memory linear in the lines. This completes
    /// well within the test watchdog, and its output has one line per input line.
    #[test]
    fn large_disjoint_inputs_stay_linear() {
        let old: String = (0..20_000).map(|i| format!("a{i}\n")).collect();
        let new: String = (0..20_000).map(|i| format!("b{i}\n")).collect();
        let limits = DiffLimits { deadline: Duration::from_millis(500), ..ROOMY };
        let Diff::Lines(d) = diff_lines(&old, &new, limits) else { panic!("too large") };
        assert_eq!(d.len(), 40_000);
    }
}
