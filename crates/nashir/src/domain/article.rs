use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::borrow::Cow;

use super::marks::{normalize_marks, remove_chars_keeping_marks, Mark, MarkPolicy};
use super::{is_unwanted_char, strip_controls_in, DomainError, Slug};

const MAX_HEADLINE_CHARS: usize = 300;

/// A non-empty, single-line headline of bounded length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Headline(String);

impl Headline {
    pub fn parse(s: &str) -> Result<Headline, DomainError> {
        // Control characters never belong in a headline (one made every feed invalid XML).
        let collapsed = collapse_whitespace(&super::strip_controls(s));
        if collapsed.is_empty() {
            return Err(DomainError::EmptyHeadline);
        }
        if collapsed.chars().count() > MAX_HEADLINE_CHARS {
            return Err(DomainError::HeadlineTooLong(MAX_HEADLINE_CHARS));
        }
        Ok(Headline(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Headline {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Headline::parse(&s)
    }
}

impl From<Headline> for String {
    fn from(h: Headline) -> String {
        h.0
    }
}

/// Joins runs of whitespace (including newlines) into one space and trims the ends.
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The key under which an article is found by its title: analyser-normalized words, so that
/// «القمة الروسية التركية… مباحثات» and «القمة الروسيه التركيه - مباحثات» meet.
pub fn title_key(title: &str) -> String {
    arabic::tokenize(title).into_iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Scheduled,
    Published,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Result<Status, DomainError> {
        match s {
            "draft" => Ok(Status::Draft),
            "scheduled" => Ok(Status::Scheduled),
            "published" => Ok(Status::Published),
            other => Err(DomainError::UnknownStatus(other.chars().take(40).collect())),
        }
    }
}

/// One structural piece of an article body. Text is plain (never HTML): templates escape it,
/// and inline styles (bold, italic, links) are `marks` over it, rendered by `render::marks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph {
        text: String,
        // Rows stored before marks existed have none: they load as they are.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        marks: Vec<Mark>,
    },
    Subheading {
        text: String,
    },
    /// A quotation. `intro` is the sentence that introduced it («وقال الوزير»), kept so the
    /// paragraph still reads as written. `marks` are over `text`.
    Quote {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        intro: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        marks: Vec<Mark>,
    },
    /// «اقرأ أيضاً»: a reference to another article by its title; linked when that article
    /// exists (now or after a later import).
    ReadAlso {
        title: String,
    },
    Image {
        src: String,
        #[serde(default)]
        alt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        /// Who made the image («تصوير: …», an agency), shown under it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit: Option<String>,
    },
    /// A bulleted (`ordered: false`) or numbered list.
    List {
        #[serde(default)]
        ordered: bool,
        items: Vec<ListItem>,
    },
}

/// One entry of a `Block::List`: plain text with its marks, like a paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListItem {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
}

/// Appends each block's text of a stored body (`body_json`) to `out`, each after a line break:
/// what `Block::text` gives for each block, without building the blocks. Search reads ten
/// bodies per results page for their snippets, and `Block`'s tagged form makes serde buffer
/// every block before choosing its kind (profiled: 6 % of an uncached search).
pub fn body_text_from_json(json: &str, out: &mut String) -> serde_json::Result<()> {
    #[derive(Deserialize)]
    struct Item<'a> {
        #[serde(borrow)]
        text: Cow<'a, str>,
    }
    /// Every kind's text-bearing field; `type` says which one `Block::text` reads.
    #[derive(Deserialize)]
    struct Texts<'a> {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
        #[serde(default, borrow)]
        text: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        title: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        alt: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        items: Vec<Item<'a>>,
    }
    let blocks: Vec<Texts<'_>> = serde_json::from_str(json)?;
    for block in &blocks {
        out.push('\n');
        match block.kind.as_ref() {
            "read_also" => out.push_str(block.title.as_deref().unwrap_or_default()),
            "image" => out.push_str(block.alt.as_deref().unwrap_or_default()),
            "list" => {
                for (j, item) in block.items.iter().enumerate() {
                    if j > 0 {
                        out.push('\n');
                    }
                    out.push_str(&item.text);
                }
            }
            _ => out.push_str(block.text.as_deref().unwrap_or_default()),
        }
    }
    Ok(())
}

impl ListItem {
    pub fn plain(text: impl Into<String>) -> ListItem {
        ListItem { text: text.into(), marks: Vec::new() }
    }
}

impl Block {
    /// A paragraph without marks.
    pub fn paragraph(text: impl Into<String>) -> Block {
        Block::Paragraph { text: text.into(), marks: Vec::new() }
    }

    /// A quote without marks.
    pub fn quote(text: impl Into<String>, intro: Option<String>) -> Block {
        Block::Quote { text: text.into(), intro, marks: Vec::new() }
    }

    /// The words a reader sees in this block, for search and summaries (marks left out; a
    /// list's items one per line).
    // `body_text_from_json` reads the same fields from stored JSON: keep the two in step.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Block::Paragraph { text, .. } | Block::Subheading { text } | Block::Quote { text, .. } => Cow::Borrowed(text),
            Block::ReadAlso { title } => Cow::Borrowed(title),
            Block::Image { alt, .. } => Cow::Borrowed(alt),
            Block::List { items, .. } => match items.as_slice() {
                [one] => Cow::Borrowed(&one.text),
                _ => Cow::Owned(items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>().join("\n")),
            },
        }
    }

    /// Every (text, marks) pair of this block: one for a paragraph or quote, one per list item.
    pub fn marked_texts_mut(&mut self) -> Vec<(&mut String, &mut Vec<Mark>)> {
        match self {
            Block::Paragraph { text, marks } | Block::Quote { text, marks, .. } => vec![(text, marks)],
            Block::List { items, .. } => items.iter_mut().map(|i| (&mut i.text, &mut i.marks)).collect(),
            Block::Subheading { .. } | Block::ReadAlso { .. } | Block::Image { .. } => Vec::new(),
        }
    }

    /// Every (text, marks) pair of this block, read-only.
    pub fn marked_texts(&self) -> Vec<(&str, &[Mark])> {
        match self {
            Block::Paragraph { text, marks } | Block::Quote { text, marks, .. } => vec![(text.as_str(), marks.as_slice())],
            Block::List { items, .. } => items.iter().map(|i| (i.text.as_str(), i.marks.as_slice())).collect(),
            Block::Subheading { .. } | Block::ReadAlso { .. } | Block::Image { .. } => Vec::new(),
        }
    }
}

/// Brings the marks of every block of `body` to their canonical form (`normalize_marks`):
/// the one function the editor, the API and every importer call before a body is saved.
/// With `MarkPolicy::Refuse` the first bad mark is an error naming its block (1-based).
pub fn normalize_body_marks(body: &mut [Block], policy: MarkPolicy) -> Result<(), DomainError> {
    for (i, block) in body.iter_mut().enumerate() {
        for (text, marks) in block.marked_texts_mut() {
            if marks.is_empty() {
                continue;
            }
            *marks = normalize_marks(text, std::mem::take(marks), policy)
                .map_err(|problem| DomainError::InvalidMarks { block: i + 1, problem })?;
        }
    }
    Ok(())
}

/// True when every block's marks are already canonical (cheap when there are none).
fn body_marks_are_normal(body: &[Block]) -> bool {
    body.iter().all(|b| {
        b.marked_texts()
            .into_iter()
            .all(|(text, marks)| marks.is_empty() || normalize_marks(text, marks.to_vec(), MarkPolicy::Refuse).is_ok_and(|n| n == marks))
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRef {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorRef {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRef {
    pub slug: String,
    pub name: String,
}

/// A stored article as the site and the API see it.
#[derive(Debug, Clone, Serialize)]
pub struct Article {
    pub id: i64,
    pub slug: Slug,
    pub headline: String,
    pub lead: String,
    pub body: Vec<Block>,
    pub section: Option<SectionRef>,
    pub authors: Vec<AuthorRef>,
    pub tags: Vec<TagRef>,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub language: String,
    pub source: Option<String>,
    pub version: i64,
}

/// What an importer or editor hands to the store: everything but the ids.
#[derive(Debug, Clone)]
pub struct ArticleDraft {
    pub headline: Headline,
    pub lead: String,
    pub body: Vec<Block>,
    /// Section by display name; created when missing.
    pub section: Option<String>,
    /// Author display names; created when missing.
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub language: String,
    /// Where the article came from, shown to editors (a file name, a site).
    pub source: Option<String>,
    /// Stable identity in the source, so importing again updates instead of duplicating.
    pub source_key: Option<String>,
    /// Preferred slug; generated from the headline when absent.
    pub slug: Option<Slug>,
}

impl ArticleDraft {
    pub fn new(headline: Headline) -> ArticleDraft {
        ArticleDraft {
            headline,
            lead: String::new(),
            body: Vec::new(),
            section: None,
            authors: Vec::new(),
            tags: Vec::new(),
            status: Status::Published,
            published_at: None,
            language: "ar".into(),
            source: None,
            source_key: None,
            slug: None,
        }
    }

    /// The draft without control characters in any of its texts (see `domain::text`) and with
    /// its marks in canonical form (bad ones dropped: `normalize_body_marks` with `Drop`); the
    /// store calls this for every draft it writes, so editors, the API and every importer are
    /// covered. Borrows when the draft is clean, which is nearly always.
    pub fn sanitized(&self) -> Cow<'_, ArticleDraft> {
        let dirty = |s: &str| s.chars().any(is_unwanted_char);
        let block_dirty = |b: &Block| match b {
            Block::Paragraph { text, .. } | Block::Subheading { text } => dirty(text),
            Block::Quote { text, intro, .. } => dirty(text) || intro.as_deref().is_some_and(dirty),
            Block::ReadAlso { title } => dirty(title),
            Block::Image { src, alt, caption, credit } => {
                dirty(src) || dirty(alt) || caption.as_deref().is_some_and(dirty) || credit.as_deref().is_some_and(dirty)
            }
            Block::List { items, .. } => items.iter().any(|i| dirty(&i.text)),
        };
        let clean = !dirty(&self.lead)
            && !self.body.iter().any(block_dirty)
            && !self.section.as_deref().is_some_and(dirty)
            && !self.authors.iter().chain(&self.tags).any(|s| dirty(s))
            && !self.source.as_deref().is_some_and(dirty)
            && body_marks_are_normal(&self.body);
        if clean {
            return Cow::Borrowed(self);
        }
        let mut d = self.clone();
        strip_controls_in(&mut d.lead);
        for block in &mut d.body {
            match block {
                Block::Subheading { text } => strip_controls_in(text),
                Block::Quote { intro, .. } => intro.iter_mut().for_each(strip_controls_in),
                Block::ReadAlso { title } => strip_controls_in(title),
                Block::Image { src, alt, caption, credit } => {
                    strip_controls_in(src);
                    strip_controls_in(alt);
                    caption.iter_mut().chain(credit.iter_mut()).for_each(strip_controls_in);
                }
                Block::Paragraph { .. } | Block::List { .. } => {}
            }
            // Texts with marks: the marks move with the characters that stay.
            for (text, marks) in block.marked_texts_mut() {
                remove_chars_keeping_marks(text, marks, is_unwanted_char);
            }
        }
        let _ = normalize_body_marks(&mut d.body, MarkPolicy::Drop);
        d.section.iter_mut().chain(d.source.iter_mut()).chain(d.authors.iter_mut()).chain(d.tags.iter_mut()).for_each(strip_controls_in);
        Cow::Owned(d)
    }
}

#[cfg(test)]
mod tests {
    /// The search snippets' shortcut reads the same text as the blocks give.
    #[test]
    fn body_text_from_json_is_the_blocks_text() {
        let blocks = vec![
            Block::paragraph("فقرة أولى \"مقتبسة\" \\ وسطر"),
            Block::Subheading { text: "عنوان فرعي".into() },
            Block::Quote { text: "نص الاقتباس".into(), intro: Some("وقال".into()), marks: Vec::new() },
            Block::ReadAlso { title: "عنوان آخر".into() },
            Block::Image { src: "/media/1.jpg".into(), alt: "صورة".into(), caption: Some("تعليق".into()), credit: None },
            Block::Image { src: "/media/2.jpg".into(), alt: String::new(), caption: None, credit: None },
            Block::List { ordered: true, items: vec![ListItem::plain("أول"), ListItem::plain("ثان")] },
            Block::List { ordered: false, items: vec![ListItem::plain("وحيد")] },
            Block::List { ordered: false, items: Vec::new() },
        ];
        let json = serde_json::to_string(&blocks).unwrap();
        let mut text = String::new();
        body_text_from_json(&json, &mut text).unwrap();
        assert_eq!(text, blocks.iter().map(|b| format!("\n{}", b.text())).collect::<String>());
        assert!(body_text_from_json("[{\"text\": 1}]", &mut String::new()).is_err());
    }

    use super::*;
    use crate::domain::MarkKind;

    #[test]
    fn headline_is_trimmed_and_required() {
        assert_eq!(Headline::parse("  عنوان \n جديد ").unwrap().as_str(), "عنوان جديد");
        assert_eq!(Headline::parse(" \n\t"), Err(DomainError::EmptyHeadline));
        assert!(Headline::parse(&"ا".repeat(301)).is_err());
    }

    #[test]
    fn drafts_lose_control_characters() {
        assert_eq!(Headline::parse("خبر\u{1}\u{7}عاجل\u{85}\u{ffff}").unwrap().as_str(), "خبرعاجل");
        let mut d = ArticleDraft::new(Headline::parse("خبر").unwrap());
        assert!(matches!(d.sanitized(), Cow::Borrowed(_)));
        d.lead = "مقدمة\u{0}".into();
        d.body = vec![
            Block::Quote { text: "قول\u{1b}".into(), intro: Some("قال\u{7f}".into()), marks: vec![] },
            Block::List {
                ordered: false, items: vec![ListItem { text: "أ\u{1}ب".into(), marks: vec![Mark::new(2, 3, MarkKind::Bold)] }]
            },
        ];
        d.tags = vec!["وسم\u{8}".into()];
        let clean = d.sanitized().into_owned();
        assert_eq!((clean.lead.as_str(), clean.tags[0].as_str()), ("مقدمة", "وسم"));
        assert_eq!(clean.body[0], Block::quote("قول", Some("قال".into())));
        assert_eq!(
            clean.body[1],
            Block::List { ordered: false, items: vec![ListItem { text: "أب".into(), marks: vec![Mark::new(1, 2, MarkKind::Bold)] }] }
        );
    }

    #[test]
    fn sanitizing_drops_bad_marks_and_old_rows_load() {
        let mut d = ArticleDraft::new(Headline::parse("خبر").unwrap());
        d.body = vec![Block::Paragraph {
            text: "نص".into(),
            marks: vec![Mark::link(0, 2, "javascript:x"), Mark::new(0, 9, MarkKind::Italic)],
        }];
        assert_eq!(d.sanitized().body[0], Block::paragraph("نص"));
        let old: Block = serde_json::from_str(r#"{"type":"paragraph","text":"قديم"}"#).unwrap();
        assert_eq!(old, Block::paragraph("قديم"));
        let old: Block = serde_json::from_str(r#"{"type":"image","src":"/a.jpg","alt":"x"}"#).unwrap();
        assert!(matches!(old, Block::Image { credit: None, .. }));
    }

    #[test]
    fn title_keys_ignore_spelling_and_punctuation() {
        assert_eq!(
            title_key("القمة الروسية التركية… مباحثات المتورط والمنقذ"),
            title_key("القمه الروسيه التركيه - مباحثات المتورط والمنقذ")
        );
    }

    #[test]
    fn blocks_serialize_with_a_type_tag() {
        let json = serde_json::to_string(&Block::Subheading { text: "x".into() }).unwrap();
        assert_eq!(json, r#"{"type":"subheading","text":"x"}"#);
    }
}
