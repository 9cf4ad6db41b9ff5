//! What templates and the API see: articles with absolute URLs, Arabic dates and resolved
//! read-also links. Built from domain types; no HTML is produced here.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::{title_key, Article, Block, Mark};
use crate::render::{absolute_url, marked_html, paths, DateStyle, LinkStyle};
use crate::store::{ArticleSummary, LinkTarget};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockView {
    Paragraph {
        /// Plain text, as search and summaries read it.
        text: String,
        /// Inline marks over `text` (see the `Mark` schema); absent when there are none.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        marks: Vec<Mark>,
        /// `text` with its marks as an HTML fragment: escaped, and no tags but `<strong>`,
        /// `<em>` and `<a href>` (links to other sites with `rel` from
        /// `site.external_link_rel`). Made from `text` and `marks` by one renderer, the
        /// page's and the feeds' own.
        html: String,
    },
    Subheading {
        text: String,
        anchor: String,
    },
    Quote {
        text: String,
        intro: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        marks: Vec<Mark>,
        /// `text` with its marks as an HTML fragment (as for paragraphs).
        html: String,
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
        /// Who made the image, shown after the caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        credit: Option<String>,
        /// Every variant with its width, for `<img srcset>`; only for our own uploads.
        #[serde(skip_serializing_if = "Option::is_none")]
        srcset: Option<String>,
        /// Known for our own uploads (read from the file name), so the page does not reflow.
        #[serde(skip_serializing_if = "Option::is_none")]
        width: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        height: Option<u32>,
    },
    /// A bulleted (`ordered: false`) or numbered list.
    List {
        ordered: bool,
        items: Vec<ListItemView>,
    },
}

/// One entry of a list: like a paragraph.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListItemView {
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
    /// `text` with its marks as an HTML fragment (as for paragraphs).
    pub html: String,
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

impl super::Shared {
    /// How inline links are written in what this site serves: `absolute` for feeds, the
    /// API and mail (read away from the site), site paths on pages.
    pub fn link_style(&self, absolute: bool) -> LinkStyle<'_> {
        LinkStyle { base_url: &self.base_url, external_rel: &self.config.site.external_link_rel, absolute }
    }
}

impl ArticleView {
    /// `link_style` says how inline links are written (its `base_url` also makes the
    /// article's own URL): pages keep site paths, feeds and the API make them absolute.
    pub fn build(article: &Article, link_style: &LinkStyle, style: &DateStyle, links: &HashMap<String, LinkTarget>) -> ArticleView {
        let base_url = link_style.base_url;
        let html = |text: &str, marks: &[Mark]| marked_html(text, marks, link_style);
        let path = paths::article(article.slug.as_str());
        let mut subheading_count = 0;
        let blocks = article
            .body
            .iter()
            // Stored before addresses were checked with the `url` crate (or written to the
            // database by hand): an image at `//host` or `javascript:` is not shown.
            .filter(|block| !matches!(block, Block::Image { src, .. } if crate::domain::link::image_src(src).is_none()))
            .map(|block| match block {
                Block::Paragraph { text, marks } => {
                    BlockView::Paragraph { text: text.clone(), marks: marks.clone(), html: html(text, marks) }
                }
                Block::Subheading { text } => {
                    subheading_count += 1;
                    BlockView::Subheading { text: text.clone(), anchor: format!("s{subheading_count}") }
                }
                Block::Quote { text, intro, marks } => {
                    BlockView::Quote { text: text.clone(), intro: intro.clone(), marks: marks.clone(), html: html(text, marks) }
                }
                Block::ReadAlso { title } => {
                    let target = links.get(&title_key(title)).filter(|t| t.id != article.id);
                    BlockView::ReadAlso {
                        title: target.map(|t| t.headline.clone()).unwrap_or_else(|| title.clone()),
                        url: target.map(|t| paths::article(&t.slug)),
                    }
                }
                Block::List { ordered, items } => BlockView::List {
                    ordered: *ordered,
                    items: items
                        .iter()
                        .map(|i| ListItemView { text: i.text.clone(), marks: i.marks.clone(), html: html(&i.text, &i.marks) })
                        .collect(),
                },
                Block::Image { src, alt, caption, credit } => match crate::media::responsive(src) {
                    Some((largest, srcset, width, height)) => BlockView::Image {
                        src: largest,
                        alt: alt.clone(),
                        caption: caption.clone(),
                        credit: credit.clone(),
                        srcset: Some(srcset),
                        width: Some(width),
                        height: Some(height),
                    },
                    None => BlockView::Image {
                        src: src.clone(),
                        alt: alt.clone(),
                        caption: caption.clone(),
                        credit: credit.clone(),
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
