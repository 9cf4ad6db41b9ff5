//! The editor's body markup: blocks separated by blank lines; `## ` a subheading, `> ` a
//! quote (optionally after an `intro:` line), `![alt](src)` an image (the lines after it are
//! its caption, a last line starting with `©` its credit: `© رويترز`), lines all starting
//! with `- ` (or `• `) a list, lines all starting with `1. ` (any number, `.` or `)`) a
//! numbered list, «اقرأ أيضاً: …» a reference, anything else a paragraph.
//!
//! Inside paragraphs, quotes and list items: `**bold**`, `*italic*`, `[words](address)` a
//! link (http, https or a `/…` path on the site). A backslash makes the next punctuation
//! character plain (`\*`, `\[`, `\\`), and a block that starts with a backslash is always a
//! paragraph (`\- not a list`). Nothing written here is ever emitted as HTML: the text is
//! plain and the styles are `Mark`s beside it, rendered by `render::marked_html`.
//!
//! `serialize` writes markup that `parse` reads back to the same blocks (a property test
//! holds it to that), so editing a stored article in the textarea loses nothing.

use super::plaintext::{image_line, read_also_title};
use crate::domain::{
    collapse_whitespace, collapse_whitespace_keeping_marks, link, normalize_marks, Block, ListItem, Mark, MarkKind, MarkPolicy,
};

pub fn parse(markup: &str) -> Vec<Block> {
    let text = markup.replace("\r\n", "\n").replace('\r', "\n");
    parse_normalized(&text)
}

/// Above this many bytes, `parse_off_worker` moves the parse to the blocking pool.
const BIG_MARKUP_BYTES: usize = 64 * 1024;

/// `parse` for request handlers: a big body is parsed on the blocking pool, so a large save
/// never holds one of the few async workers (where the request timeout cannot stop it).
/// Fails only when the runtime is shutting down; a panic in the parser is passed on.
pub async fn parse_off_worker(markup: &str) -> anyhow::Result<Vec<Block>> {
    if markup.len() <= BIG_MARKUP_BYTES {
        return Ok(parse(markup));
    }
    let owned = markup.to_string();
    match tokio::task::spawn_blocking(move || parse(&owned)).await {
        Ok(blocks) => Ok(blocks),
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => Err(anyhow::anyhow!("body parse cancelled: {e}")),
        },
    }
}

fn parse_normalized(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    for chunk in text.split("\n\n") {
        let lines: Vec<&str> = chunk.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        blocks.push(parse_block(&lines));
    }
    blocks
}

/// The quoted text of lines that all start with `>`, still as markup.
fn quote_text(lines: &[&str]) -> Option<String> {
    let parts: Option<Vec<&str>> = lines.iter().map(|l| l.strip_prefix('>').map(str::trim)).collect();
    parts.map(|p| p.join(" ")).filter(|t| !t.trim().is_empty())
}

/// The text of a list line: `- x`, `• x` (unordered) or `12. x`, `3) x` (ordered).
fn list_item(line: &str) -> Option<(bool, &str)> {
    fn rest(r: &str) -> Option<&str> {
        r.starts_with(char::is_whitespace).then(|| r.trim_start()).filter(|r| !r.is_empty())
    }
    if let Some(r) = line.strip_prefix('-').or_else(|| line.strip_prefix('•')) {
        return rest(r).map(|r| (false, r));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        if let Some(r) = line[digits..].strip_prefix(['.', ')']) {
            return rest(r).map(|r| (true, r));
        }
    }
    None
}

fn parse_block(lines: &[&str]) -> Block {
    let first = lines[0];
    if let Some(escaped) = first.strip_prefix('\\') {
        // `\` before punctuation is an inline escape, handled there; before anything else it
        // only says "a paragraph" and goes.
        let mut joined = lines.join(" ");
        if !escaped.starts_with(|c: char| c.is_ascii_punctuation()) {
            joined.remove(0);
        }
        let (text, marks) = parse_inline(&joined);
        return Block::Paragraph { text, marks };
    }
    if let Some(text) = first.strip_prefix("##") {
        // One join (linear): folding with `format!` copied the text so far for every line,
        // quadratic in a subheading of many lines.
        let text = collapse_whitespace(&std::iter::once(text).chain(lines[1..].iter().copied()).collect::<Vec<_>>().join(" "));
        if !text.is_empty() {
            return Block::Subheading { text };
        }
    }
    if let Some(quoted) = quote_text(lines) {
        let (text, marks) = parse_inline(&quoted);
        return Block::Quote { text, intro: None, marks };
    }
    if lines.len() > 1 && first.ends_with(':') && !first.starts_with('>') {
        if let Some(quoted) = quote_text(&lines[1..]) {
            let intro = collapse_whitespace(first.trim_end_matches(':'));
            let (text, marks) = parse_inline(&quoted);
            return Block::Quote { text, intro: (!intro.is_empty()).then_some(intro), marks };
        }
    }
    if let Some(Block::Image { src, alt, .. }) = image_line(first) {
        let mut rest = &lines[1..];
        let mut credit = None;
        if let Some((last, before)) = rest.split_last() {
            if let Some(c) = last.strip_prefix('©').map(str::trim).filter(|c| !c.is_empty()) {
                credit = Some(collapse_whitespace(c));
                rest = before;
            }
        }
        let caption = collapse_whitespace(&rest.join(" "));
        return Block::Image { src, alt, caption: (!caption.is_empty()).then_some(caption), credit };
    }
    let items: Option<Vec<(bool, &str)>> = lines.iter().map(|l| list_item(l)).collect();
    if let Some(items) = items {
        let ordered = items[0].0;
        if items.iter().all(|(o, _)| *o == ordered) {
            let items = items
                .into_iter()
                .map(|(_, item)| {
                    let (text, marks) = parse_inline(item);
                    ListItem { text, marks }
                })
                .filter(|i| !i.text.is_empty())
                .collect::<Vec<_>>();
            if !items.is_empty() {
                return Block::List { ordered, items };
            }
        }
    }
    let joined = lines.join(" ");
    if lines.len() == 1 {
        if let Some(title) = read_also_title(&joined) {
            return Block::ReadAlso { title };
        }
    }
    let (text, marks) = parse_inline(&joined);
    Block::Paragraph { text, marks }
}

/// What a piece of inline markup became while it is read.
enum Piece {
    Char(char),
    /// `**`, `*`, `[` or `](address)`: a mark's edge when paired, its own text otherwise.
    Delimiter {
        raw: String,
        paired: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Opener {
    Bold,
    Italic,
    Link,
}

/// The address of `](address)` starting at `chars[i]` (the `]`): up to the `)` that closes
/// the `(`, no whitespace; parentheses inside either balance or are escaped (`\(`, `\)`: an
/// address never holds a backslash). Returns it and the index after `)`.
fn link_close(chars: &[char], i: usize) -> Option<(String, usize)> {
    if chars.get(i + 1) != Some(&'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut href = String::new();
    let mut j = i + 2;
    while let Some(&c) = chars.get(j) {
        match c {
            c if c.is_whitespace() => return None,
            '\\' if matches!(chars.get(j + 1), Some('(' | ')')) => {
                href.push(chars[j + 1]);
                j += 2;
                continue;
            }
            '(' => depth += 1,
            ')' if depth == 0 => return Some((href, j + 1)),
            ')' => depth -= 1,
            _ => {}
        }
        href.push(c);
        j += 1;
    }
    None
}

/// Inline markup → plain text (whitespace collapsed) and its marks, in canonical form. Links
/// to addresses `link_href` refuses keep their words and lose the link (the editor and the
/// API refuse them before: `refused_link`).
pub fn parse_inline(src: &str) -> (String, Vec<Mark>) {
    let chars: Vec<char> = src.chars().collect();
    let mut pieces: Vec<Piece> = Vec::with_capacity(chars.len());
    // Open delimiters: (index in `pieces`, what it opens).
    let mut open: Vec<(usize, Opener)> = Vec::new();
    // Paired delimiters: (opening piece, closing piece, kind).
    let mut pairs: Vec<(usize, usize, MarkKind)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) {
            pieces.push(Piece::Char(chars[i + 1]));
            i += 2;
        } else if c == '*' {
            let run = chars[i..].iter().take_while(|&&c| c == '*').count();
            let mut left = run;
            // Close what the run can, innermost first; a link's `[` is a wall.
            while left > 0 {
                let Some(&(at, opener)) = open.last() else { break };
                let (kind, width) = match opener {
                    Opener::Italic => (MarkKind::Italic, 1),
                    Opener::Bold if left >= 2 => (MarkKind::Bold, 2),
                    _ => break,
                };
                open.pop();
                pairs.push((at, pieces.len(), kind));
                pieces.push(Piece::Delimiter { raw: "*".repeat(width), paired: true });
                left -= width;
            }
            while left > 0 {
                let width = if left >= 2 { 2 } else { 1 };
                open.push((pieces.len(), if width == 2 { Opener::Bold } else { Opener::Italic }));
                pieces.push(Piece::Delimiter { raw: "*".repeat(width), paired: false });
                left -= width;
            }
            i += run;
        } else if c == '[' {
            open.push((pieces.len(), Opener::Link));
            pieces.push(Piece::Delimiter { raw: "[".into(), paired: false });
            i += 1;
        } else if let Some((href, next)) = (c == ']').then(|| link_close(&chars, i)).flatten() {
            match open.iter().rposition(|(_, o)| *o == Opener::Link) {
                Some(pos) => {
                    let (at, _) = open[pos];
                    open.truncate(pos);
                    pairs.push((at, pieces.len(), MarkKind::Link { href }));
                    pieces.push(Piece::Delimiter { raw: String::new(), paired: true });
                }
                None => pieces.extend(chars[i..next].iter().map(|&c| Piece::Char(c))),
            }
            i = next;
        } else {
            pieces.push(Piece::Char(c));
            i += 1;
        }
    }
    for &(at, close, _) in &pairs {
        for p in [at, close] {
            if let Piece::Delimiter { paired, .. } = &mut pieces[p] {
                *paired = true;
            }
        }
    }
    // Where each piece starts in the plain text.
    let mut text = String::with_capacity(src.len());
    let mut position: Vec<u32> = Vec::with_capacity(pieces.len());
    let mut n = 0u32;
    for piece in &pieces {
        position.push(n);
        match piece {
            Piece::Char(c) => {
                text.push(*c);
                n += 1;
            }
            Piece::Delimiter { paired: true, .. } => {}
            Piece::Delimiter { raw, paired: false } => {
                text.push_str(raw);
                n += raw.chars().count() as u32;
            }
        }
    }
    let mut marks: Vec<Mark> =
        pairs.into_iter().map(|(at, close, kind)| Mark { start: position[at], end: position[close], kind }).collect();
    let text = collapse_whitespace_keeping_marks(&text, &mut marks);
    let marks = normalize_marks(&text, marks, MarkPolicy::Drop).unwrap_or_default();
    (text, marks)
}
/// The first link address in `markup` that `domain::link::link_href` refuses (`javascript:`,
/// `//host`…), so the editor and the API can say so instead of saving the words unlinked.
pub fn refused_link(markup: &str) -> Option<String> {
    let chars: Vec<char> = markup.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            ']' => match link_close(&chars, i) {
                Some((href, _)) if link::link_href(&href).is_none() && !is_image_line_at(&chars, i) => return Some(href),
                Some((_, next)) => i = next,
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    None
}

/// True when the `](` at `i` ends the `![alt` of an image line (checked by `refused_image`).
fn is_image_line_at(chars: &[char], i: usize) -> bool {
    let line_start = chars[..i].iter().rposition(|&c| c == '\n').map_or(0, |p| p + 1);
    let line: String = chars[line_start..i].iter().collect();
    line.trim_start().starts_with("![")
}

/// The markup that parses back to these blocks, for editing a stored article.
pub fn serialize(blocks: &[Block]) -> String {
    let parts: Vec<String> = blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph { text, marks } => {
                let line = serialize_inline(text, marks);
                // Words that would read as another block («- …», «## …», «اقرأ أيضاً: …»)
                // are kept a paragraph by a leading backslash.
                if line.starts_with('\\') || matches!(parse_block(&[line.as_str()]), Block::Paragraph { .. }) {
                    line
                } else {
                    format!("\\{line}")
                }
            }
            Block::Subheading { text } => format!("## {text}"),
            Block::Quote { text, intro: None, marks } => format!("> {}", serialize_inline(text, marks)),
            Block::Quote { text, intro: Some(intro), marks } => format!("{intro}:\n> {}", serialize_inline(text, marks)),
            Block::ReadAlso { title } => format!("اقرأ أيضاً: {title}"),
            Block::Image { src, alt, caption, credit } => {
                let mut lines = vec![format!("![{alt}]({src})")];
                lines.extend(caption.clone());
                lines.extend(credit.as_ref().map(|c| format!("© {c}")));
                lines.join("\n")
            }
            Block::List { ordered, items } => items
                .iter()
                .enumerate()
                .map(|(n, item)| {
                    let text = serialize_inline(&item.text, &item.marks);
                    if *ordered {
                        format!("{}. {text}", n + 1)
                    } else {
                        format!("- {text}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect();
    parts.join("\n\n")
}

/// Text and marks as inline markup: `**`, `*`, `[…](…)`, and a backslash before every
/// character that would otherwise be read as one. Marks nest as the renderer nests them
/// (links outside, then bold, then italic), which is what `parse_inline` pairs back.
pub fn serialize_inline(text: &str, marks: &[Mark]) -> String {
    let marks = normalize_marks(text, marks.to_vec(), MarkPolicy::Drop).unwrap_or_default();
    let chars: Vec<char> = text.chars().collect();
    let mut bounds: Vec<u32> = marks.iter().flat_map(|m| [m.start, m.end]).chain([0, chars.len() as u32]).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let rank = |k: &MarkKind| match k {
        MarkKind::Link { .. } => 0,
        MarkKind::Bold => 1,
        MarkKind::Italic => 2,
    };
    let close = |out: &mut String, m: &Mark| match &m.kind {
        MarkKind::Bold => out.push_str("**"),
        MarkKind::Italic => out.push('*'),
        MarkKind::Link { href } => {
            out.push_str("](");
            out.push_str(&markup_href(href));
            out.push(')');
        }
    };
    let mut out = String::with_capacity(text.len() + marks.len() * 8);
    let mut open: Vec<&Mark> = Vec::new();
    for pair in bounds.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let mut want: Vec<&Mark> = marks.iter().filter(|m| m.start <= from && to <= m.end).collect();
        want.sort_by_key(|m| (rank(&m.kind), m.start));
        let keep = open.iter().zip(&want).take_while(|(a, b)| a == b).count();
        for m in open.drain(keep..).rev() {
            close(&mut out, m);
        }
        for m in &want[keep..] {
            out.push_str(match m.kind {
                MarkKind::Bold => "**",
                MarkKind::Italic => "*",
                MarkKind::Link { .. } => "[",
            });
            open.push(m);
        }
        for &c in &chars[from as usize..to as usize] {
            match c {
                '\\' | '*' | '[' | ']' => {
                    out.push('\\');
                    out.push(c);
                }
                // A line break would end the block; a space reads the same.
                '\n' | '\r' => out.push(' '),
                c => out.push(c),
            }
        }
    }
    for m in open.into_iter().rev() {
        close(&mut out, m);
    }
    out
}

/// An href as written inside `(…)`: when its parentheses do not balance, each is escaped
/// with a backslash, so the `)` that ends the link is found and the address stays the same.
fn markup_href(href: &str) -> std::borrow::Cow<'_, str> {
    let mut depth = 0i32;
    for c in href.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            break;
        }
    }
    if depth == 0 {
        return std::borrow::Cow::Borrowed(href);
    }
    std::borrow::Cow::Owned(href.replace('(', "\\(").replace(')', "\\)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bold(s: u32, e: u32) -> Mark {
        Mark::new(s, e, MarkKind::Bold)
    }
    fn italic(s: u32, e: u32) -> Mark {
        Mark::new(s, e, MarkKind::Italic)
    }

    #[test]
    fn every_block_kind() {
        let blocks = parse(
            "فقرة أولى\nتكمل هنا.\n\n## عنوان فرعي\n\n> اقتباس طويل\n> يكمل\n\nوقال الوزير:\n> نص التصريح\n\n![صورة](/media/a.jpg)\nتعليق الصورة\n© رويترز\n\nاقرأ أيضاً: خبر آخر\n\n- أول\n- ثانٍ\n\n1. واحد\n2) اثنان",
        );
        assert_eq!(
            blocks,
            vec![
                Block::paragraph("فقرة أولى تكمل هنا."),
                Block::Subheading { text: "عنوان فرعي".into() },
                Block::quote("اقتباس طويل يكمل", None),
                Block::quote("نص التصريح", Some("وقال الوزير".into())),
                Block::Image {
                    src: "/media/a.jpg".into(),
                    alt: "صورة".into(),
                    caption: Some("تعليق الصورة".into()),
                    credit: Some("رويترز".into())
                },
                Block::ReadAlso { title: "خبر آخر".into() },
                Block::List { ordered: false, items: vec![ListItem::plain("أول"), ListItem::plain("ثانٍ")] },
                Block::List { ordered: true, items: vec![ListItem::plain("واحد"), ListItem::plain("اثنان")] },
            ]
        );
        assert_eq!(parse(&serialize(&blocks)), blocks);
    }

    #[test]
    fn inline_marks() {
        let (text, marks) = parse_inline("قال **الوزير** إن *الاتفاق* [نُشر هنا](https://a.example/x) و[هنا](/مقال)");
        assert_eq!(text, "قال الوزير إن الاتفاق نُشر هنا وهنا");
        assert_eq!(marks, vec![bold(4, 10), italic(14, 21), Mark::link(22, 30, "https://a.example/x"), Mark::link(32, 35, "/مقال")]);
        // Nested and across lines of one paragraph.
        let blocks = parse("**عاجل: [*الخبر*\nكاملاً](/a)**");
        assert_eq!(
            blocks,
            vec![Block::Paragraph {
                text: "عاجل: الخبر كاملاً".into(), marks: vec![bold(0, 18), italic(6, 11), Mark::link(6, 18, "/a")]
            }]
        );
        // Marks in quotes and list items.
        let blocks = parse("> قال: **لا**\n\n- [أ](/a)\n- *ب*");
        assert_eq!(blocks[0], Block::Quote { text: "قال: لا".into(), intro: None, marks: vec![bold(5, 7)] });
        assert_eq!(
            blocks[1],
            Block::List {
                ordered: false,
                items: vec![
                    ListItem { text: "أ".into(), marks: vec![Mark::link(0, 1, "/a")] },
                    ListItem { text: "ب".into(), marks: vec![italic(0, 1)] }
                ]
            }
        );
    }

    #[test]
    fn unpaired_and_escaped_delimiters_are_text() {
        assert_eq!(parse_inline("٥ * ٣ = ١٥"), ("٥ * ٣ = ١٥".into(), vec![]));
        assert_eq!(parse_inline("**مفتوح بلا إغلاق"), ("**مفتوح بلا إغلاق".into(), vec![]));
        assert_eq!(parse_inline(r"\*\*ليس عريضاً\*\* و\[ليس رابطاً\](/a) و\\"), (r"**ليس عريضاً** و[ليس رابطاً](/a) و\".into(), vec![]));
        assert_eq!(parse_inline("نص ](/a) و[بلا إغلاق"), ("نص ](/a) و[بلا إغلاق".into(), vec![]));
        assert_eq!(parse_inline(r"C:\Users"), (r"C:\Users".into(), vec![]), "a backslash before a letter stays");
        // A block that starts with a backslash is a paragraph, whatever follows.
        assert_eq!(parse(r"\- ليست قائمة"), vec![Block::paragraph("- ليست قائمة")]);
        assert_eq!(parse(r"\اقرأ أيضاً: ليست إحالة"), vec![Block::paragraph("اقرأ أيضاً: ليست إحالة")]);
        assert_eq!(parse("2020. عام"), vec![Block::paragraph("2020. عام")], "a year is not a list number");
    }

    #[test]
    fn bad_links_lose_the_link_not_the_words() {
        for bad in ["javascript:alert(1)", "//evil.example/", "data:text/html,x", "https:evil.example"] {
            let markup = format!("انقر [هنا]({bad}) الآن");
            assert_eq!(refused_link(&markup).as_deref(), Some(bad), "{bad}");
            assert_eq!(parse(&markup), vec![Block::paragraph("انقر هنا الآن")], "{bad}");
        }
        assert_eq!(refused_link("[أ](https://a.example/x_(y)) و[ب](/b)\n\n![صورة](javascript:x)"), None, "images are refused_image's");
        assert_eq!(parse_inline("[ويكي](https://a.example/x_(y))").1, vec![Mark::link(0, 4, "https://a.example/x_(y)")]);
    }

    #[test]
    fn serializing_escapes_what_would_be_read_as_markup() {
        let blocks = vec![
            Block::paragraph("- ## «اقرأ أيضاً» *نجمة* [قوس] \\"),
            Block::paragraph("اقرأ أيضاً: ليست إحالة"),
            Block::paragraph("1. ليست قائمة"),
            Block::paragraph("> ليس اقتباساً"),
            Block::Paragraph { text: "!صورة".into(), marks: vec![Mark::link(1, 5, "/a.jpg")] },
            Block::Paragraph { text: "رابط غريب".into(), marks: vec![Mark::link(0, 4, "https://a.example/a)b(")] },
            Block::Paragraph { text: "سطر\nآخر".into(), marks: vec![] },
        ];
        let markup = serialize(&blocks);
        let mut expected = blocks.clone();
        expected[6] = Block::paragraph("سطر آخر");
        assert_eq!(parse(&markup), expected, "{markup}");
    }

    #[test]
    fn scripts_and_javascript_urls_stay_text() {
        let blocks = parse("<script>alert(1)</script>\n\n![x](javascript:alert(1))\n\n##\n\n>");
        assert!(blocks.iter().all(|b| matches!(b, Block::Paragraph { .. })), "{blocks:?}");
    }

    /// Text as the parser leaves it (whitespace collapsed), from characters that are
    /// markup somewhere, Arabic with harakat, and Latin.
    fn text() -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec![
            'ا', 'ب', 'ت', 'ق', 'ل', 'َ', 'ّ', 'a', 'Z', '1', '9', ' ', ' ', '\n', '*', '*', '[', ']', '(', ')', '\\', '#', '>', '-', '!',
            ':', '.', '©', '«', '»', '•', '😀', '\u{200d}',
        ]);
        prop::collection::vec(chars, 1..40)
            .prop_map(|c| collapse_whitespace(&c.into_iter().collect::<String>()))
            .prop_filter("empty", |t| !t.is_empty())
    }

    fn marked_text() -> impl Strategy<Value = (String, Vec<Mark>)> {
        let href = prop::sample::select(vec![
            "https://a.example/x",
            "/مقال/أ",
            "https://a.example/x_(y)",
            "https://b.example/a)b",
            "/a*b[c]",
            "http://c.example/?q=1&r=2",
        ]);
        let kind = prop_oneof![Just(MarkKind::Bold), Just(MarkKind::Italic), href.prop_map(|h| MarkKind::Link { href: h.to_string() })];
        (text(), prop::collection::vec((0u32..45, 0u32..45, kind), 0..6)).prop_map(|(text, raw)| {
            let marks = raw.into_iter().map(|(a, b, kind)| Mark::new(a.min(b), a.max(b), kind)).collect();
            let marks = normalize_marks(&text, marks, MarkPolicy::Drop).unwrap();
            (text, marks)
        })
    }

    fn plain() -> impl Strategy<Value = String> {
        // Titles, alts, captions and credits: plain words (their own syntax is not escaped).
        prop::collection::vec(prop::sample::select(vec!["خبر", "a", "صورة", "«قول»", "1"]), 1..4).prop_map(|w| w.join(" "))
    }

    fn block() -> impl Strategy<Value = Block> {
        prop_oneof![
            marked_text().prop_map(|(text, marks)| Block::Paragraph { text, marks }),
            (marked_text(), prop::option::of(plain())).prop_map(|((text, marks), intro)| Block::Quote { text, intro, marks }),
            (any::<bool>(), prop::collection::vec(marked_text(), 1..4)).prop_map(|(ordered, items)| Block::List {
                ordered,
                items: items.into_iter().map(|(text, marks)| ListItem { text, marks }).collect()
            }),
            plain().prop_map(|text| Block::Subheading { text }),
            plain().prop_map(|title| Block::ReadAlso { title }),
            (plain(), prop::option::of(plain()), prop::option::of(plain())).prop_map(|(alt, caption, credit)| Block::Image {
                src: "/media/a.jpg".into(),
                alt,
                caption,
                credit
            }),
        ]
    }

    proptest! {
        #[test]
        fn markup_round_trips(blocks in prop::collection::vec(block(), 1..6)) {
            let markup = serialize(&blocks);
            prop_assert_eq!(parse(&markup), blocks, "markup:\n{}", markup);
        }

        #[test]
        fn any_markup_parses_to_valid_marks(src in "[ab *\\[\\]()\\\\/:.\n-]{0,60}") {
            for block in parse(&src) {
                for (text, marks) in block.marked_texts() {
                    let again = normalize_marks(text, marks.to_vec(), MarkPolicy::Refuse);
                    prop_assert_eq!(again.as_deref(), Ok(marks));
                }
            }
        }
    }
}
