//! Inline marks: bold, italic and links over a run of a block's text. The text stays plain
//! (search, summaries, entities and related read it unchanged); marks are kept beside it as
//! char offsets, so every producer (the editor's markup, the importers, the API) and every
//! consumer (pages, feeds, the newsletter, the API) share one representation, and HTML is
//! only ever produced by the one renderer in `render/`.
//!
//! `normalize_marks` is the one gate every producer goes through (the store runs it once more
//! with `MarkPolicy::Drop` on every draft it writes): after it, marks are in range, sorted,
//! merged, their links are safe to put in `href`, and links never overlap each other.

use serde::{Deserialize, Serialize};

use super::link;

/// An inline style over a run of a block's text. Offsets count chars (Unicode scalar values,
/// as Rust's `chars()`), `start < end <= text.chars().count()`, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mark {
    pub start: u32,
    pub end: u32,
    #[serde(flatten)]
    pub kind: MarkKind,
}

/// What a mark does. Serialized inline with the offsets:
/// `{"start":0,"end":4,"mark":"link","href":"https://…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mark", rename_all = "snake_case")]
pub enum MarkKind {
    Bold,
    Italic,
    /// `href` is an absolute http(s) URL or a path on this site (`/…`), checked by
    /// `domain::link::link_href`.
    Link {
        href: String,
    },
}

impl Mark {
    pub fn new(start: u32, end: u32, kind: MarkKind) -> Mark {
        Mark { start, end, kind }
    }

    pub fn link(start: u32, end: u32, href: impl Into<String>) -> Mark {
        Mark { start, end, kind: MarkKind::Link { href: href.into() } }
    }
}

/// More marks than this in one text are a payload, not formatting (a long paragraph of a
/// real archive has a few dozen at most).
pub const MAX_MARKS_PER_TEXT: usize = 256;

/// What producers do with a mark that is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkPolicy {
    /// Importers and the store's last check: the text is kept, the bad mark is dropped.
    Drop,
    /// The API and the editor: the writer is told, nothing is saved.
    Refuse,
}

/// Why a mark was refused (shown to writers and API clients: Arabic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkProblem {
    #[error("حدود التنسيق ({start}–{end}) خارج النص ({len} حرفاً)، ويجب أن تكون البداية قبل النهاية")]
    OutOfRange { start: u32, end: u32, len: u32 },
    #[error("رابط غير مقبول: يُقبل عنوان يبدأ بـ http:// أو https:// أو مسار على الموقع يبدأ بـ / (حتى {max} حرفاً)", max = link::MAX_LEN)]
    BadHref,
    #[error("رابطان متداخلان في النص نفسه ({0}–{1})")]
    OverlappingLinks(u32, u32),
    #[error("تنسيقات كثيرة في فقرة واحدة: الحد {max}", max = MAX_MARKS_PER_TEXT)]
    TooMany,
}

/// The marks of `text` in their one canonical form, or the first problem when `policy` is
/// `Refuse` (with `Drop`, bad marks are left out and this never fails):
/// - offsets in range and `start < end`;
/// - no whitespace at either end (`<strong>كلمة </strong>` covers «كلمة»; a mark over
///   whitespace only is dropped, never an error);
/// - boundaries widened to whole characters as the reader sees them: a mark never starts on a
///   combining mark (Arabic harakat, accents) or either side of a zero-width joiner, nor ends
///   just before one, so `<strong>` never separates a letter from its vowel sign;
/// - links only to http(s) or a site path (trimmed), at most `link::MAX_LEN` bytes;
/// - overlapping or touching marks of the same kind (same href for links) merged into one;
/// - links do not overlap other links (`<a>` cannot nest): with `Drop` the later one goes;
/// - sorted by (start, end, kind); at most `MAX_MARKS_PER_TEXT`.
pub fn normalize_marks(text: &str, marks: Vec<Mark>, policy: MarkPolicy) -> Result<Vec<Mark>, MarkProblem> {
    if marks.is_empty() {
        return Ok(marks);
    }
    // Far more than the limit is refused (or cut) before any sorting.
    let mut marks = marks;
    if marks.len() > 4 * MAX_MARKS_PER_TEXT {
        if policy == MarkPolicy::Refuse {
            return Err(MarkProblem::TooMany);
        }
        marks.truncate(4 * MAX_MARKS_PER_TEXT);
    }
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len() as u32;
    let mut kept: Vec<Mark> = Vec::with_capacity(marks.len());
    for mut mark in marks {
        if mark.start >= mark.end || mark.end > len {
            if policy == MarkPolicy::Refuse {
                return Err(MarkProblem::OutOfRange { start: mark.start, end: mark.end, len });
            }
            continue;
        }
        if let MarkKind::Link { href } = &mut mark.kind {
            match link::link_href(href) {
                Some(clean) if clean.len() != href.len() => *href = clean.to_string(),
                Some(_) => {}
                None if policy == MarkPolicy::Refuse => return Err(MarkProblem::BadHref),
                None => continue,
            }
        }
        kept.push(mark);
    }
    // Merge first (two bold runs touching across a space are one), then fit each run to
    // its text, then merge what fitting made touch.
    let merged = merge_same_kind(kept);
    let mut fitted: Vec<Mark> = Vec::with_capacity(merged.len());
    for mut mark in merged {
        while mark.start < mark.end && chars[mark.start as usize].is_whitespace() {
            mark.start += 1;
        }
        while mark.end > mark.start && chars[mark.end as usize - 1].is_whitespace() {
            mark.end -= 1;
        }
        if mark.start == mark.end {
            continue;
        }
        while mark.start > 0 && attaches_to_previous(&chars, mark.start as usize) {
            mark.start -= 1;
        }
        while mark.end < len && attaches_to_previous(&chars, mark.end as usize) {
            mark.end += 1;
        }
        fitted.push(mark);
    }
    let mut merged = merge_same_kind(fitted);
    merged.sort_by(|a, b| (a.start, a.end, &a.kind).cmp(&(b.start, b.end, &b.kind)));
    // Links with different targets must not overlap: the one that starts first stays. Kept
    // links are in order and disjoint, so only the last one can overlap the next.
    let mut out: Vec<Mark> = Vec::with_capacity(merged.len());
    let mut last_link_end: Option<u32> = None;
    for mark in merged {
        if matches!(mark.kind, MarkKind::Link { .. }) {
            if let Some(end) = last_link_end.filter(|end| mark.start < *end) {
                if policy == MarkPolicy::Refuse {
                    return Err(MarkProblem::OverlappingLinks(mark.start, end.min(mark.end)));
                }
                continue;
            }
            last_link_end = Some(mark.end);
        }
        out.push(mark);
    }
    if out.len() > MAX_MARKS_PER_TEXT {
        if policy == MarkPolicy::Refuse {
            return Err(MarkProblem::TooMany);
        }
        out.truncate(MAX_MARKS_PER_TEXT);
    }
    Ok(out)
}

/// Overlapping or touching marks of the same kind (links: the same href) as one; sorted by
/// kind, then start.
fn merge_same_kind(mut marks: Vec<Mark>) -> Vec<Mark> {
    marks.sort_by(|a, b| (&a.kind, a.start, a.end).cmp(&(&b.kind, b.start, b.end)));
    let mut merged: Vec<Mark> = Vec::with_capacity(marks.len());
    for mark in marks {
        match merged.last_mut() {
            Some(last) if last.kind == mark.kind && mark.start <= last.end => last.end = last.end.max(mark.end),
            _ => merged.push(mark),
        }
    }
    merged
}

/// True when the char at `i` belongs to the character before it as a reader sees it: a
/// combining mark, a zero-width joiner, or whatever follows a joiner.
fn attaches_to_previous(chars: &[char], i: usize) -> bool {
    const ZWJ: char = '\u{200d}';
    let c = chars[i];
    unicode_normalization::char::is_combining_mark(c) || c == ZWJ || (i > 0 && chars[i - 1] == ZWJ)
}

/// `text` with runs of whitespace (newlines included) made one space and the ends trimmed,
/// like `domain::collapse_whitespace`, and the marks moved to cover the same characters.
/// Importers and the editor's markup build text and marks together, then collapse once.
pub fn collapse_whitespace_keeping_marks(text: &str, marks: &mut Vec<Mark>) -> String {
    let chars: Vec<char> = text.chars().collect();
    // new_index[i]: where the char at old index i lands (or the next kept char would).
    let mut new_index: Vec<u32> = Vec::with_capacity(chars.len() + 1);
    let mut out = String::with_capacity(text.len());
    let mut n = 0u32;
    for (i, &c) in chars.iter().enumerate() {
        new_index.push(n);
        if !c.is_whitespace() {
            out.push(c);
            n += 1;
        } else if n > 0 && !chars[i - 1].is_whitespace() && chars[i + 1..].iter().any(|c| !c.is_whitespace()) {
            // The first space of a run inside the text. (`any` stops at the next word, so
            // this is linear overall.)
            out.push(' ');
            n += 1;
        }
    }
    new_index.push(n);
    let at = |i: u32| new_index.get(i as usize).copied().unwrap_or(n);
    for mark in marks.iter_mut() {
        mark.start = at(mark.start);
        mark.end = at(mark.end);
    }
    marks.retain(|m| m.start < m.end);
    out
}

/// Removes the chars for which `remove` is true from `text`, moving the marks so they still
/// cover the same characters (a mark left empty is dropped). Used when control characters are
/// stripped from a text that carries marks.
pub fn remove_chars_keeping_marks(text: &mut String, marks: &mut Vec<Mark>, remove: impl Fn(char) -> bool) {
    if !text.chars().any(&remove) {
        return;
    }
    // new_index[i]: where the char at old index i lands (for i == len: the new length).
    let mut new_index: Vec<u32> = Vec::with_capacity(text.len() + 1);
    let mut kept = String::with_capacity(text.len());
    let mut n = 0u32;
    for c in text.chars() {
        new_index.push(n);
        if !remove(c) {
            kept.push(c);
            n += 1;
        }
    }
    new_index.push(n);
    let at = |i: u32| new_index.get(i as usize).copied().unwrap_or(n);
    for mark in marks.iter_mut() {
        mark.start = at(mark.start);
        mark.end = at(mark.end);
    }
    marks.retain(|m| m.start < m.end);
    *text = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bold(s: u32, e: u32) -> Mark {
        Mark::new(s, e, MarkKind::Bold)
    }
    fn italic(s: u32, e: u32) -> Mark {
        Mark::new(s, e, MarkKind::Italic)
    }

    #[test]
    fn marks_serialize_flat_with_a_mark_tag() {
        let json = serde_json::to_string(&vec![bold(0, 3), Mark::link(4, 6, "/a")]).unwrap();
        assert_eq!(json, r#"[{"start":0,"end":3,"mark":"bold"},{"start":4,"end":6,"mark":"link","href":"/a"}]"#);
        let back: Vec<Mark> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![bold(0, 3), Mark::link(4, 6, "/a")]);
    }

    #[test]
    fn in_range_sorted_and_merged() {
        let text = "قال الوزير اليوم"; // 16 chars
        let got =
            normalize_marks(text, vec![italic(4, 10), bold(5, 8), bold(0, 3), bold(3, 6), italic(11, 16)], MarkPolicy::Refuse).unwrap();
        assert_eq!(got, vec![bold(0, 8), italic(4, 10), italic(11, 16)]);
        for bad in [bold(3, 3), bold(4, 2), bold(0, 17), bold(u32::MAX - 1, u32::MAX)] {
            assert!(matches!(normalize_marks(text, vec![bad.clone()], MarkPolicy::Refuse), Err(MarkProblem::OutOfRange { .. })), "{bad:?}");
            assert_eq!(normalize_marks(text, vec![bad, bold(0, 1)], MarkPolicy::Drop).unwrap(), vec![bold(0, 1)]);
        }
    }

    #[test]
    fn links_are_checked_and_never_nest() {
        let text = "اقرأ التقرير الكامل هنا";
        for bad in ["javascript:alert(1)", "java\tscript:x", "//evil.example/", "https://a.example/\"onclick=\"x", "data:text/html,x", ""] {
            assert_eq!(normalize_marks(text, vec![Mark::link(0, 4, bad)], MarkPolicy::Refuse), Err(MarkProblem::BadHref), "{bad:?}");
            assert_eq!(normalize_marks(text, vec![Mark::link(0, 4, bad)], MarkPolicy::Drop), Ok(vec![]));
        }
        let long = format!("https://a.example/{}", "x".repeat(link::MAX_LEN));
        assert_eq!(normalize_marks(text, vec![Mark::link(0, 4, long)], MarkPolicy::Refuse), Err(MarkProblem::BadHref));
        assert_eq!(normalize_marks(text, vec![Mark::link(0, 4, " /مقال ")], MarkPolicy::Refuse).unwrap(), vec![Mark::link(0, 4, "/مقال")]);
        let overlapping = vec![Mark::link(0, 6, "https://a.example/"), Mark::link(5, 9, "https://b.example/")];
        assert_eq!(normalize_marks(text, overlapping.clone(), MarkPolicy::Refuse), Err(MarkProblem::OverlappingLinks(5, 6)));
        assert_eq!(normalize_marks(text, overlapping, MarkPolicy::Drop).unwrap(), vec![Mark::link(0, 6, "https://a.example/")]);
        // The same target touching: one link.
        let same = vec![Mark::link(0, 4, "/a"), Mark::link(4, 9, "/a")];
        assert_eq!(normalize_marks(text, same, MarkPolicy::Refuse).unwrap(), vec![Mark::link(0, 9, "/a")]);
    }

    #[test]
    fn boundaries_never_split_a_letter_from_its_marks() {
        // «كَتَبَ»: every letter carries a fatha (U+064E).
        let text = "كَتَبَ";
        assert_eq!(normalize_marks(text, vec![bold(1, 2)], MarkPolicy::Refuse).unwrap(), vec![bold(0, 2)]);
        assert_eq!(normalize_marks(text, vec![bold(0, 1)], MarkPolicy::Refuse).unwrap(), vec![bold(0, 2)]);
        // A family emoji joined with ZWJs stays whole.
        let text = "a👩\u{200d}👧b";
        assert_eq!(normalize_marks(text, vec![bold(1, 2)], MarkPolicy::Refuse).unwrap(), vec![bold(1, 4)]);
    }

    #[test]
    fn too_many_marks() {
        let text = "ا".repeat(1000);
        let many: Vec<Mark> = (0..=MAX_MARKS_PER_TEXT as u32).map(|i| bold(i * 2, i * 2 + 1)).collect();
        assert_eq!(normalize_marks(&text, many.clone(), MarkPolicy::Refuse), Err(MarkProblem::TooMany));
        assert_eq!(normalize_marks(&text, many, MarkPolicy::Drop).unwrap().len(), MAX_MARKS_PER_TEXT);
    }

    #[test]
    fn whitespace_at_the_ends_of_a_mark_is_left_out() {
        let text = "كلمة  مهمة ";
        assert_eq!(normalize_marks(text, vec![bold(4, 11), italic(4, 6)], MarkPolicy::Refuse).unwrap(), vec![bold(6, 10)]);
    }

    #[test]
    fn collapsing_whitespace_moves_marks() {
        let mut marks = vec![bold(2, 6), italic(7, 12), Mark::link(0, 2, "/x")];
        let text = collapse_whitespace_keeping_marks("  أب \n\t جد  هو  ", &mut marks);
        assert_eq!(text, "أب جد هو");
        assert_eq!(marks, vec![bold(0, 3), italic(3, 6)]);
    }

    #[test]
    fn removing_chars_moves_marks() {
        let mut text = "أ\u{1}ب\u{2}ج د".to_string();
        let mut marks = vec![bold(2, 5), italic(1, 2), Mark::link(5, 7, "/x")];
        remove_chars_keeping_marks(&mut text, &mut marks, |c| c < ' ');
        assert_eq!(text, "أبج د");
        assert_eq!(marks, vec![bold(1, 3), Mark::link(3, 5, "/x")]);
    }
}
