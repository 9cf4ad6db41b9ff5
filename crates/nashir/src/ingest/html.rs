//! HTML from other systems (WordPress `content:encoded`, Ghost `html`) → our blocks.
//!
//! The HTML is untrusted: it is tokenized (html5ever, the browsers' algorithm, so entities,
//! broken nesting and `<script>` contents are read as a browser would) and only text, the
//! structure we have blocks for, and http(s) image addresses survive. No markup is kept.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

use super::plaintext::read_also_title;
use crate::domain::link::image_src;
use crate::domain::{collapse_whitespace, Block};

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

    /// Ends the text collected so far as blocks of the current kind.
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.text);
        if self.in_cite {
            self.quote_cite.push(' ');
            self.quote_cite.push_str(&text);
            return;
        }
        if self.quote_depth > 0 {
            self.quote_text.push(' ');
            self.quote_text.push_str(&text);
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
        for piece in split_paragraphs(&text) {
            let block = match kind {
                Kind::Subheading => Block::Subheading { text: piece },
                _ => match read_also_title(&piece) {
                    Some(title) => Block::ReadAlso { title },
                    None => Block::paragraph(piece),
                },
            };
            self.blocks.push(block);
        }
    }

    fn end_quote(&mut self) {
        let text = collapse_whitespace(&std::mem::take(&mut self.quote_text));
        let cite = collapse_whitespace(&std::mem::take(&mut self.quote_cite));
        if !text.is_empty() {
            let text = strip_quote_marks(&text);
            self.blocks.push(Block::quote(text, (!cite.is_empty()).then_some(cite)));
        }
    }

    fn push_text(&mut self, s: &str) {
        if self.hidden_depth > 0 {
            return;
        }
        if self.kind() == Kind::Loose && self.quote_depth == 0 {
            self.text.push_str(s);
        } else {
            // Inside an element, source line breaks are only spaces.
            self.text.extend(s.chars().map(|c| if c == '\n' { ' ' } else { c }));
        }
    }

    fn image(&mut self, src: &str, alt: &str) {
        self.flush();
        if let Some(src) = safe_src(src) {
            self.blocks.push(Block::Image { src, alt: collapse_whitespace(alt), caption: None, credit: None });
            if self.in_figure {
                self.figure_image = Some(self.blocks.len() - 1);
            }
        }
    }
}

/// Splits loose text at blank lines (and `<br><br>`); a single line break is a space.
fn split_paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut blank_run = false;
    for line in text.split('\n') {
        if line.trim().is_empty() {
            blank_run = true;
            continue;
        }
        if blank_run && !current.trim().is_empty() {
            out.push(std::mem::take(&mut current));
        }
        blank_run = false;
        current.push(' ');
        current.push_str(line);
    }
    out.push(current);
    out.into_iter()
        .map(|p| collapse_whitespace(p.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{200b}'))))
        .filter(|p| !p.is_empty())
        .collect()
}

fn strip_quote_marks(text: &str) -> String {
    for (open, close) in [('«', '»'), ('“', '”'), ('"', '"')] {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            if !inner.contains([open, close]) && !inner.trim().is_empty() {
                return inner.trim().to_string();
            }
        }
    }
    text.to_string()
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
                    "div" | "section" | "article" | "header" | "footer" | "aside" | "main" | "ul" | "ol" | "table" | "tr" | "hr" | "dl"
                    | "center" => {
                        st.flush();
                        st.kind = None;
                    }
                    "br" => st.text.push('\n'),
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
                p("فقرة أولى مع رابط و& رمز."),
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
