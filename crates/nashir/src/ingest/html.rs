//! HTML from other systems (WordPress `content:encoded`, Ghost `html`) → our blocks.
//!
//! The HTML is untrusted: it is tokenized (html5ever, the browsers' algorithm, so entities,
//! broken nesting and `<script>` contents are read as a browser would) and only text, the
//! structure we have blocks for, and http(s) image addresses survive. No markup is kept:
//! `<strong>`/`<b>`, `<em>`/`<i>` and `<a href>` (http, https or a site path) become `Mark`s
//! over the plain text of paragraphs, quotes and list items; `<ul>`/`<ol>` become lists.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

use super::plaintext::read_also_title;
use crate::domain::link::image_src;
use crate::domain::{
    collapse_whitespace, collapse_whitespace_keeping_marks, link, normalize_marks, Block, ListItem, Mark, MarkKind, MarkPolicy,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text outside any block element: WordPress stores classic posts without `<p>` and
    /// separates paragraphs by blank lines.
    Loose,
    Paragraph,
    Subheading,
    Caption,
}

#[derive(Default)]
struct State {
    blocks: Vec<Block>,
    text: String,
    /// Chars in `text`, kept as it grows (counting at every tag would be quadratic).
    text_len: u32,
    /// Inline marks closed over `text`.
    marks: Vec<Mark>,
    /// Inline elements open now: what they mark and where in `text` they began.
    open_marks: Vec<(MarkKind, u32)>,
    /// `quote_text`'s marks and length in chars.
    quote_marks: Vec<Mark>,
    quote_len: u32,
    /// Open `<ul>`/`<ol>` (nested lists are flattened into the outer one), whether the
    /// outermost is numbered, and its items so far.
    list_depth: usize,
    list_ordered: bool,
    list_items: Vec<ListItem>,
    kind: Option<Kind>,
    /// Open `<blockquote>`s: paragraphs inside become one quote.
    quote_depth: usize,
    quote_text: String,
    quote_cite: String,
    in_cite: bool,
    /// Inside an element whose text is never shown (script, style, …), by nesting depth.
    hidden_depth: usize,
    /// Index of the image of the open `<figure>`, for its caption.
    figure_image: Option<usize>,
    in_figure: bool,
}

impl State {
    fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Loose)
    }

    /// Adds a block after the list items collected so far (as a list of their own).
    fn push_block(&mut self, block: Block) {
        self.end_list_run();
        self.blocks.push(block);
    }

    fn end_list_run(&mut self) {
        if !self.list_items.is_empty() {
            let items = std::mem::take(&mut self.list_items);
            self.blocks.push(Block::List { ordered: self.list_ordered, items });
        }
    }

    /// Ends the text collected so far as blocks of the current kind.
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.text);
        let text_len = std::mem::take(&mut self.text_len);
        // Elements still open go on in the next text (`<b>` across two paragraphs).
        let mut marks = std::mem::take(&mut self.marks);
        for (kind, start) in &mut self.open_marks {
            if *start < text_len {
                marks.push(Mark { start: *start, end: text_len, kind: kind.clone() });
            }
            *start = 0;
        }
        if self.in_cite {
            self.quote_cite.push(' ');
            self.quote_cite.push_str(&text);
            return;
        }
        if self.quote_depth > 0 {
            self.quote_text.push(' ');
            let offset = self.quote_len + 1;
            self.quote_marks.extend(marks.into_iter().map(|m| Mark { start: m.start + offset, end: m.end + offset, kind: m.kind }));
            self.quote_text.push_str(&text);
            self.quote_len = offset + text_len;
            return;
        }
        let kind = self.kind();
        if kind == Kind::Caption || (self.in_figure && self.figure_image.is_some() && kind == Kind::Loose) {
            let caption = collapse_whitespace(&text);
            if let Some(Block::Image { caption: slot, .. }) = self.figure_image.and_then(|i| self.blocks.get_mut(i)) {
                if !caption.is_empty() {
                    // Appended in place: `format!("{before} {caption}")` copied the caption so
                    // far for every piece, quadratic in a figure with many captions.
                    match slot {
                        Some(before) => {
                            before.push(' ');
                            before.push_str(&caption);
                        }
                        None => *slot = Some(caption),
                    }
                }
                return;
            }
        }
        for (piece, marks) in split_paragraphs(&text, &marks) {
            if self.list_depth > 0 && kind != Kind::Subheading {
                self.list_items.push(ListItem { text: piece, marks });
                continue;
            }
            let block = match kind {
                Kind::Subheading => Block::Subheading { text: piece },
                _ => match read_also_title(&piece) {
                    Some(title) => Block::ReadAlso { title },
                    None => Block::Paragraph { text: piece, marks },
                },
            };
            self.push_block(block);
        }
    }

    fn end_quote(&mut self) {
        let mut marks = std::mem::take(&mut self.quote_marks);
        self.quote_len = 0;
        let text = collapse_whitespace_keeping_marks(&std::mem::take(&mut self.quote_text), &mut marks);
        let cite = collapse_whitespace(&std::mem::take(&mut self.quote_cite));
        if !text.is_empty() {
            let (text, marks) = strip_quote_marks(&text, &marks);
            let marks = normalize_marks(&text, marks, MarkPolicy::Drop).unwrap_or_default();
            self.push_block(Block::Quote { text, intro: (!cite.is_empty()).then_some(cite), marks });
        }
    }

    fn push_text(&mut self, s: &str) {
        if self.hidden_depth > 0 {
            return;
        }
        let before = self.text.len();
        if self.kind() == Kind::Loose && self.quote_depth == 0 && self.list_depth == 0 {
            self.text.push_str(s);
        } else {
            // Inside an element, source line breaks are only spaces.
            self.text.extend(s.chars().map(|c| if c == '\n' { ' ' } else { c }));
        }
        self.text_len += self.text[before..].chars().count() as u32;
    }

    fn line_break(&mut self) {
        self.text.push('\n');
        self.text_len += 1;
    }

    /// `<strong>`, `<em>`, `<a href>` opened (`kind`) or closed.
    fn inline(&mut self, kind: MarkKind, start: bool) {
        if start {
            // A document of a million unclosed `<b>` is not formatting.
            if self.open_marks.len() < 64 {
                self.open_marks.push((kind, self.text_len));
            }
            return;
        }
        let same = |k: &MarkKind| std::mem::discriminant(k) == std::mem::discriminant(&kind);
        if let Some(pos) = self.open_marks.iter().rposition(|(k, _)| same(k)) {
            let (kind, start) = self.open_marks.remove(pos);
            if start < self.text_len {
                self.marks.push(Mark { start, end: self.text_len, kind });
            }
        }
    }

    fn image(&mut self, src: &str, alt: &str) {
        self.flush();
        if let Some(src) = safe_src(src) {
            self.push_block(Block::Image { src, alt: collapse_whitespace(alt), caption: None, credit: None });
            if self.in_figure {
                self.figure_image = Some(self.blocks.len() - 1);
            }
        }
    }
}

/// Splits loose text at blank lines (and `<br><br>`); a single line break is a space. Each
/// paragraph keeps the marks over its part of the text.
fn split_paragraphs(text: &str, marks: &[Mark]) -> Vec<(String, Vec<Mark>)> {
    // Char ranges of runs of non-blank lines.
    let mut pieces: Vec<(u32, u32)> = Vec::new();
    let mut current: Option<(u32, u32)> = None;
    let mut blank_run = false;
    let mut pos = 0u32;
    for line in text.split('\n') {
        let n = line.chars().count() as u32;
        if line.trim().is_empty() {
            blank_run = true;
        } else {
            current = match current {
                Some((start, _)) if !blank_run => Some((start, pos + n)),
                Some(done) => {
                    pieces.push(done);
                    Some((pos, pos + n))
                }
                None => Some((pos, pos + n)),
            };
            blank_run = false;
        }
        pos += n + 1;
    }
    pieces.extend(current);
    let byte_at: Vec<usize> = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect();
    let edge = |c: char| c.is_whitespace() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{200b}');
    let mut out = Vec::with_capacity(pieces.len());
    for (start, end) in pieces {
        let piece = &text[byte_at[start as usize]..byte_at[end as usize]];
        // Direction and zero-width marks at the ends go, like the spaces.
        let lead = piece.chars().take_while(|c| edge(*c)).count() as u32;
        let trimmed = piece.trim_matches(edge);
        let (from, to) = (start + lead, start + lead + trimmed.chars().count() as u32);
        let mut piece_marks = slice_marks(marks, from, to);
        let text = collapse_whitespace_keeping_marks(trimmed, &mut piece_marks);
        if !text.is_empty() {
            let marks = normalize_marks(&text, piece_marks, MarkPolicy::Drop).unwrap_or_default();
            out.push((text, marks));
        }
    }
    out
}

/// The marks over chars `from..to`, counted from `from`.
fn slice_marks(marks: &[Mark], from: u32, to: u32) -> Vec<Mark> {
    marks
        .iter()
        .filter_map(|m| {
            let (start, end) = (m.start.max(from), m.end.min(to));
            (start < end).then(|| Mark { start: start - from, end: end - from, kind: m.kind.clone() })
        })
        .collect()
}

/// A quote without the quotation marks around all of it, its marks moved along.
fn strip_quote_marks(text: &str, marks: &[Mark]) -> (String, Vec<Mark>) {
    for (open, close) in [('«', '»'), ('“', '”'), ('"', '"')] {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            if !inner.contains([open, close]) && !inner.trim().is_empty() {
                let lead = 1 + inner.chars().take_while(|c| c.is_whitespace()).count() as u32;
                let trimmed = inner.trim();
                return (trimmed.to_string(), slice_marks(marks, lead, lead + trimmed.chars().count() as u32));
            }
        }
    }
    (text.to_string(), marks.to_vec())
}

/// Image addresses we link to: http(s) and site-relative only (see [`image_src`]); an image
/// with any other address is dropped from the import, with a warning in the log.
pub(crate) fn safe_src(src: &str) -> Option<String> {
    let src = src.trim();
    let safe = image_src(src).map(str::to_string);
    if safe.is_none() && !src.is_empty() {
        tracing::warn!(src = %src.chars().take(120).collect::<String>(), "import: image dropped, its address is neither http(s) nor a path on this site");
    }
    safe
}

struct Sink(RefCell<State>);

fn attr(tag: &html5ever::tokenizer::Tag, name: &str) -> String {
    tag.attrs.iter().find(|a| &*a.name.local == name).map(|a| a.value.to_string()).unwrap_or_default()
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut st = self.0.borrow_mut();
        match token {
            Token::CharacterTokens(t) => st.push_text(&t),
            Token::TagToken(tag) => {
                let name = &*tag.name;
                let start = tag.kind == TagKind::StartTag;
                match name {
                    "script" | "style" | "noscript" | "iframe" | "object" | "svg" | "template" | "textarea" | "title" | "head"
                    | "select" | "noembed" | "noframes" | "xmp" | "math" | "video" | "audio" | "canvas" | "button" | "form" => {
                        if start && !tag.self_closing {
                            st.hidden_depth += 1;
                            return match name {
                                "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                                "style" | "noscript" | "iframe" | "noembed" | "noframes" | "xmp" => {
                                    TokenSinkResult::RawData(RawKind::Rawtext)
                                }
                                "textarea" | "title" => TokenSinkResult::RawData(RawKind::Rcdata),
                                _ => TokenSinkResult::Continue,
                            };
                        } else if !start {
                            st.hidden_depth = st.hidden_depth.saturating_sub(1);
                        }
                    }
                    _ if st.hidden_depth > 0 => {}
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                        st.flush();
                        st.kind = if start { Some(Kind::Subheading) } else { None };
                    }
                    "p" | "li" | "dd" | "dt" | "td" | "th" | "pre" => {
                        st.flush();
                        st.kind = if start { Some(Kind::Paragraph) } else { None };
                    }
                    "ul" | "ol" => {
                        st.flush();
                        st.kind = None;
                        if start {
                            if st.list_depth == 0 {
                                st.end_list_run();
                                st.list_ordered = name == "ol";
                            }
                            st.list_depth += 1;
                        } else if st.list_depth > 0 {
                            st.list_depth -= 1;
                            if st.list_depth == 0 {
                                st.end_list_run();
                            }
                        }
                    }
                    "div" | "section" | "article" | "header" | "footer" | "aside" | "main" | "table" | "tr" | "hr" | "dl" | "center" => {
                        st.flush();
                        st.kind = None;
                    }
                    "strong" | "b" => st.inline(MarkKind::Bold, start),
                    "em" | "i" => st.inline(MarkKind::Italic, start),
                    "a" => {
                        let href = attr(&tag, "href");
                        match link::link_href(&href) {
                            Some(href) if start => st.inline(MarkKind::Link { href: href.to_string() }, true),
                            // `<a>` without a usable href (anchors, mailto:, javascript:) is text.
                            None if start => {}
                            _ => st.inline(MarkKind::Link { href: String::new() }, false),
                        }
                    }
                    "br" => st.line_break(),
                    "blockquote" => {
                        st.flush();
                        if start {
                            st.quote_depth += 1;
                        } else if st.quote_depth > 0 {
                            st.quote_depth -= 1;
                            if st.quote_depth == 0 {
                                st.end_quote();
                            }
                        }
                        st.kind = None;
                    }
                    "cite" if st.quote_depth > 0 => {
                        st.flush();
                        st.in_cite = start;
                    }
                    "figure" => {
                        st.flush();
                        st.in_figure = start;
                        st.figure_image = None;
                        st.kind = None;
                    }
                    "figcaption" => {
                        st.flush();
                        st.kind = if start { Some(Kind::Caption) } else { None };
                    }
                    "img" if start => {
                        let (src, alt) = (attr(&tag, "src"), attr(&tag, "alt"));
                        let kind = st.kind;
                        st.image(&src, &alt);
                        st.kind = kind;
                    }
                    _ => {}
                }
            }
            Token::NullCharacterToken | Token::CommentToken(_) | Token::DoctypeToken(_) | Token::ParseError(_) => {}
            Token::EOFToken => {
                st.flush();
                if st.quote_depth > 0 {
                    st.quote_depth = 0;
                    st.end_quote();
                }
                st.end_list_run();
            }
        }
        TokenSinkResult::Continue
    }
}

/// WordPress `[caption …]<img …> text[/caption]` shortcodes become figures; other shortcodes
/// in square brackets that hold no reader text (`[gallery]`, `[embed]…[/embed]`) are dropped.
///
/// Linear in the input: every search either consumes what it scanned or, when it finds
/// nothing, is remembered so it is not repeated (`[embed` a thousand times without a
/// `[/embed]` used to scan the rest of the text a thousand times).
fn expand_shortcodes(html: &str) -> std::borrow::Cow<'_, str> {
    if !html.contains('[') {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    // Searches that found nothing: nothing will be found later in the text either.
    let mut no_closing_bracket = false;
    let mut no_closing_tag: Vec<&str> = Vec::new();
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let closing = after.starts_with('/');
        // Known names are short; a long run of letters is text, read once.
        let name_len = after[usize::from(closing)..].bytes().take(16).take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        let name = &after[usize::from(closing)..usize::from(closing) + name_len];
        let known = matches!(name, "caption" | "wp_caption" | "gallery" | "embed" | "video" | "audio" | "playlist");
        let end = if known && !no_closing_bracket { after.find(']') } else { None };
        if known && end.is_none() {
            no_closing_bracket = true;
        }
        match end {
            Some(end) => {
                match (name, closing) {
                    ("caption" | "wp_caption", false) => out.push_str("<figure>"),
                    ("caption" | "wp_caption", true) => out.push_str("</figure>"),
                    ("embed" | "video" | "audio", false) if !no_closing_tag.contains(&name) => {
                        // The embedded address is not text for readers.
                        let close = format!("[/{name}]");
                        match after.find(&close) {
                            Some(pos) => {
                                rest = &after[pos + close.len()..];
                                continue;
                            }
                            None => no_closing_tag.push(name),
                        }
                    }
                    _ => {}
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The blocks of an HTML fragment.
pub fn to_blocks(html: &str) -> Vec<Block> {
    let html = expand_shortcodes(html);
    let sink = Sink(RefCell::new(State::default()));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let state = tokenizer.sink.0.into_inner();
    state.blocks
}

/// The plain text of an HTML fragment (an excerpt), one line.
pub fn to_text(html: &str) -> String {
    collapse_whitespace(&to_blocks(html).iter().map(Block::text).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Block {
        Block::paragraph(text)
    }

    #[test]
    fn structure_is_kept_and_markup_dropped() {
        let html = r#"<p>فقرة <strong>أولى</strong> مع <a href="x">رابط</a>&nbsp;و&amp; رمز.</p>
<h2>عنوان <em>فرعي</em></h2><p></p><p> </p>
<blockquote><p>«قول مأثور»</p><cite>الوزير</cite></blockquote>
<script>alert("<p>لا</p>")</script><style>p{}</style>
<p>اقرأ أيضاً: <a href="/x">خبر آخر</a></p>
<figure><img src="https://example.org/a.jpg" alt="صورة"><figcaption>تعليق الصورة</figcaption></figure>
<img src="javascript:alert(1)"><p>سطر<br>وسطر</p>"#;
        assert_eq!(
            to_blocks(html),
            vec![
                Block::Paragraph {
                    text: "فقرة أولى مع رابط و& رمز.".into(), marks: vec![Mark::new(5, 9, MarkKind::Bold)]
                },
                Block::Subheading { text: "عنوان فرعي".into() },
                Block::quote("قول مأثور", Some("الوزير".into())),
                Block::ReadAlso { title: "خبر آخر".into() },
                Block::Image {
                    src: "https://example.org/a.jpg".into(),
                    alt: "صورة".into(),
                    caption: Some("تعليق الصورة".into()),
                    credit: None
                },
                p("سطر وسطر"),
            ]
        );
    }

    #[test]
    fn emphasis_links_and_lists_become_marks() {
        let bold = |s, e| Mark::new(s, e, MarkKind::Bold);
        let italic = |s, e| Mark::new(s, e, MarkKind::Italic);
        let html = r#"<p>قال <b>الوزير <i>اليوم</i></b> إن <a href="https://source.example/r?a=1&amp;b=2">التقرير</a> <a href="javascript:alert(1)">خطير</a> و<A HREF="/2021/x/">هنا</A>.</p>
<blockquote><p>«<strong>لن</strong> نتراجع»</p></blockquote>
<ul><li>أول <em>بند</em></li><li><a href="https://a.example/">ثانٍ</a><ul><li>متداخل</li></ul></li></ul>
<ol><li>واحد</li></ol>
سطر <strong>مفتوح

يمتد</strong> إلى فقرتين"#;
        assert_eq!(
            to_blocks(html),
            vec![
                Block::Paragraph {
                    text: "قال الوزير اليوم إن التقرير خطير وهنا.".into(),
                    marks: vec![
                        bold(4, 16),
                        italic(11, 16),
                        Mark::link(20, 27, "https://source.example/r?a=1&b=2"),
                        Mark::link(34, 37, "/2021/x/")
                    ]
                },
                Block::Quote { text: "لن نتراجع".into(), intro: None, marks: vec![bold(0, 2)] },
                Block::List {
                    ordered: false,
                    items: vec![
                        ListItem { text: "أول بند".into(), marks: vec![italic(4, 7)] },
                        ListItem { text: "ثانٍ".into(), marks: vec![Mark::link(0, 4, "https://a.example/")] },
                        ListItem::plain("متداخل"),
                    ]
                },
                Block::List { ordered: true, items: vec![ListItem::plain("واحد")] },
                Block::Paragraph { text: "سطر مفتوح".into(), marks: vec![bold(4, 9)] },
                Block::Paragraph { text: "يمتد إلى فقرتين".into(), marks: vec![bold(0, 4)] },
            ]
        );
    }

    #[test]
    fn classic_wordpress_content_without_p_tags() {
        let html = "الفقرة الأولى\nتكملة السطر.\n\nالفقرة الثانية.<br /><br />الفقرة الثالثة.\n\n[caption id=\"a\" align=\"x\" width=\"300\"]<img src=\"/wp/b.jpg\" alt=\"\" /> شرح الصورة[/caption]\n\n[embed]https://youtube.com/x[/embed]نهاية [1]";
        assert_eq!(
            to_blocks(html),
            vec![
                p("الفقرة الأولى تكملة السطر."),
                p("الفقرة الثانية."),
                p("الفقرة الثالثة."),
                Block::Image { src: "/wp/b.jpg".into(), alt: String::new(), caption: Some("شرح الصورة".into()), credit: None },
                p("نهاية [1]"),
            ]
        );
    }

    #[test]
    fn broken_html_never_fails() {
        for html in
            ["<p>غير مغلق", "</p></div>نص", "<blockquote><blockquote>x", "<p <p>>", "&#xFFFFFF;&bogus;", "<![CDATA[x]]>", "", "[caption"]
        {
            let _ = to_blocks(html);
        }
        assert_eq!(to_text("<p>أ</p><p>ب</p>"), "أ ب");
    }
}
