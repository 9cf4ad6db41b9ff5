//! What templates and the API see: articles with absolute URLs, Arabic dates and resolved
//! read-also links. Built from domain types; no HTML is produced here.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::Serialize;

use crate::domain::{title_key, Article, Block};
use crate::store::{ArticleSummary, LinkTarget};

/// Characters escaped in a path segment. Letters beyond ASCII stay as they are: pages link
/// with IRIs (a third of the bytes of percent-encoded Arabic), and browsers percent-encode
/// them on the wire.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}').add(b'/').add(b'%');

pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            let mut buf = [0u8; 1];
            out.extend(utf8_percent_encode(c.encode_utf8(&mut buf), SEGMENT));
        } else if c.is_whitespace() || c.is_control() {
            out.extend(utf8_percent_encode(c.encode_utf8(&mut [0u8; 4]), SEGMENT));
        } else {
            out.push(c);
        }
    }
    out
}

/// An absolute URL as programs expect it (API, feeds, sitemaps): pure ASCII, with
/// non-ASCII characters percent-encoded as UTF-8.
pub fn absolute_url(base_url: &str, path: &str) -> String {
    const NON_ASCII_ONLY: &AsciiSet = &CONTROLS.add(b' ');
    format!("{base_url}{}", utf8_percent_encode(path, NON_ASCII_ONLY))
}

/// How dates are written for this site.
#[derive(Debug, Clone, Copy)]
pub struct DateStyle {
    pub tz: chrono_tz::Tz,
    pub names: arabic::MonthNames,
    pub digits: arabic::Digits,
}

impl DateStyle {
    /// «الجمعة 3 كانون الأول/ ديسمبر 2021» in the newsroom's time zone.
    pub fn long(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        arabic::format_date(local.year(), local.month(), local.day(), self.names, self.digits, true)
    }
}

/// Paths of public pages, relative to the site root.
pub mod paths {
    use super::encode_segment;

    pub fn article(slug: &str) -> String {
        format!("/news/{}", encode_segment(slug))
    }
    pub fn section(slug: &str) -> String {
        format!("/section/{}", encode_segment(slug))
    }
    pub fn author(slug: &str) -> String {
        format!("/author/{}", encode_segment(slug))
    }
    pub fn tag(slug: &str) -> String {
        format!("/tag/{}", encode_segment(slug))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockView {
    Paragraph {
        text: String,
    },
    Subheading {
        text: String,
        anchor: String,
    },
    Quote {
        text: String,
        intro: Option<String>,
    },
    ReadAlso {
        title: String,
        url: Option<String>,
    },
    Image {
        /// For our own uploads, the largest resized variant (the original is never linked).
        src: String,
        alt: String,
        caption: Option<String>,
        /// Every variant with its width, for `<img srcset>`; only for our own uploads.
        #[serde(skip_serializing_if = "Option::is_none")]
        srcset: Option<String>,
        /// Known for our own uploads (read from the file name), so the page does not reflow.
        #[serde(skip_serializing_if = "Option::is_none")]
        width: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        height: Option<u32>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ArticleView {
    pub id: i64,
    pub slug: String,
    pub url: String,
    pub path: String,
    pub headline: String,
    pub lead: String,
    pub date: Option<String>,
    pub published_at: Option<String>,
    pub updated_at: String,
    pub section: Option<Link>,
    pub authors: Vec<Link>,
    pub tags: Vec<Link>,
    pub blocks: Vec<BlockView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SummaryView {
    pub id: i64,
    pub headline: String,
    pub lead: String,
    pub url: String,
    pub path: String,
    pub date: Option<String>,
    pub published_at: Option<String>,
    pub section: Option<Link>,
}

impl ArticleView {
    pub fn build(article: &Article, base_url: &str, style: &DateStyle, links: &HashMap<String, LinkTarget>) -> ArticleView {
        let path = paths::article(article.slug.as_str());
        let mut subheading_count = 0;
        let blocks = article
            .body
            .iter()
            // Stored before addresses were checked with the `url` crate (or written to the
            // database by hand): an image at `//host` or `javascript:` is not shown.
            .filter(|block| !matches!(block, Block::Image { src, .. } if crate::domain::link::image_src(src).is_none()))
            .map(|block| match block {
                Block::Paragraph { text } => BlockView::Paragraph { text: text.clone() },
                Block::Subheading { text } => {
                    subheading_count += 1;
                    BlockView::Subheading { text: text.clone(), anchor: format!("s{subheading_count}") }
                }
                Block::Quote { text, intro } => BlockView::Quote { text: text.clone(), intro: intro.clone() },
                Block::ReadAlso { title } => {
                    let target = links.get(&title_key(title)).filter(|t| t.id != article.id);
                    BlockView::ReadAlso {
                        title: target.map(|t| t.headline.clone()).unwrap_or_else(|| title.clone()),
                        url: target.map(|t| paths::article(&t.slug)),
                    }
                }
                Block::Image { src, alt, caption } => match crate::editor::media::responsive(src) {
                    Some((largest, srcset, width, height)) => BlockView::Image {
                        src: largest,
                        alt: alt.clone(),
                        caption: caption.clone(),
                        srcset: Some(srcset),
                        width: Some(width),
                        height: Some(height),
                    },
                    None => BlockView::Image {
                        src: src.clone(),
                        alt: alt.clone(),
                        caption: caption.clone(),
                        srcset: None,
                        width: None,
                        height: None,
                    },
                },
            })
            .collect();
        ArticleView {
            id: article.id,
            slug: article.slug.to_string(),
            url: absolute_url(base_url, &path),
            path,
            headline: article.headline.clone(),
            lead: article.lead.clone(),
            date: article.published_at.map(|t| style.long(t)),
            published_at: article.published_at.map(|t| t.to_rfc3339()),
            updated_at: article.updated_at.to_rfc3339(),
            section: article.section.as_ref().map(|s| Link { name: s.name.clone(), url: paths::section(&s.slug) }),
            authors: article.authors.iter().map(|a| Link { name: a.name.clone(), url: paths::author(&a.slug) }).collect(),
            tags: article.tags.iter().map(|t| Link { name: t.name.clone(), url: paths::tag(&t.slug) }).collect(),
            blocks,
        }
    }
}

impl SummaryView {
    pub fn build(s: &ArticleSummary, base_url: &str, style: &DateStyle) -> SummaryView {
        let path = paths::article(&s.slug);
        SummaryView {
            id: s.id,
            headline: s.headline.clone(),
            lead: s.lead.clone(),
            url: absolute_url(base_url, &path),
            path,
            date: s.published_at.map(|t| style.long(t)),
            published_at: s.published_at.map(|t| t.to_rfc3339()),
            section: s.section.as_ref().map(|sec| Link { name: sec.name.clone(), url: paths::section(&sec.slug) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_slugs_are_percent_encoded() {
        assert_eq!(paths::article("أ-b"), "/news/أ-b");
        assert_eq!(encode_segment("a/b?c d"), "a%2Fb%3Fc%20d");
        assert_eq!(absolute_url("http://x", "/news/أ-b"), "http://x/news/%D8%A3-b");
    }

    #[test]
    fn dates_follow_the_newsroom_zone() {
        let style = DateStyle { tz: chrono_tz::Asia::Damascus, names: arabic::MonthNames::Both, digits: arabic::Digits::Western };
        let t = DateTime::parse_from_rfc3339("2021-12-02T23:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(style.long(t), "الجمعة 3 كانون الأول/ ديسمبر 2021");
    }
}
