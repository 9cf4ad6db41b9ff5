//! «عاجل» by mail: one published article sent on its own (not in a digest) to every active
//! subscriber or to those who follow its section — once per article, whichever editor or
//! node asks (the issue's slot key `breaking:<article>` is unique in the database).

use serde_json::json;

use super::worker::{MANAGE_MARK, UNSUB_MARK};
use super::Newsletter;
use crate::domain::{Article, Block, Status};
use crate::mail::Rendered;
use crate::render::{absolute_url, paths};
use crate::store::newsletter::NewIssue;

/// Who gets the breaking mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// Readers who chose the article's section, and those who take every section.
    SectionFollowers,
}

/// What asking for the breaking mail did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakingOutcome {
    Queued(i64),
    /// The article's mail was already made (a second press, another node): nothing new.
    AlreadySent(i64),
    /// Only a published article is mailed.
    NotPublished,
}

impl Newsletter {
    /// The breaking mail of an article with the preferences and unsubscribe links left as
    /// placeholders (the worker puts each reader's own in).
    pub fn render_breaking(&self, article: &Article, manage_url: &str, unsubscribe_url: &str) -> anyhow::Result<Rendered> {
        let blocks: Vec<serde_json::Value> = article
            .body
            .iter()
            .filter_map(|b| match b {
                Block::Paragraph { text } => Some(json!({ "kind": "paragraph", "text": text })),
                Block::Subheading { text } => Some(json!({ "kind": "subheading", "text": text })),
                Block::Quote { text, intro } => Some(json!({ "kind": "quote", "text": text, "intro": intro })),
                // A reference to another article reads as a dangling title in a mail.
                Block::ReadAlso { .. } => None,
                Block::Image { src, alt, caption } => {
                    let src = if src.starts_with('/') { absolute_url(&self.base_url, src) } else { src.clone() };
                    src.starts_with("https://").then(|| json!({ "kind": "image", "src": src, "alt": alt, "caption": caption })).or_else(
                        || src.starts_with("http://").then(|| json!({ "kind": "image", "src": src, "alt": alt, "caption": caption })),
                    )
                }
            })
            .collect();
        self.templates.render(
            "breaking",
            json!({
                "site": self.site_context(),
                "article": {
                    "headline": article.headline,
                    "lead": article.lead,
                    "url": absolute_url(&self.base_url, &paths::article(article.slug.as_str())),
                    "date": article.published_at.map(|t| self.dates.long(t)),
                    "section": article.section.as_ref().map(|s| s.name.clone()),
                    "blocks": blocks,
                },
                "manage_url": manage_url,
                "unsubscribe_url": unsubscribe_url,
            }),
        )
    }

    /// Queues the breaking mail of a published article, once.
    pub async fn send_breaking(&self, article: &Article, audience: Audience) -> anyhow::Result<BreakingOutcome> {
        if article.status != Status::Published {
            return Ok(BreakingOutcome::NotPublished);
        }
        if let Some(id) = self.store.breaking_issue_of(article.id).await? {
            return Ok(BreakingOutcome::AlreadySent(id));
        }
        let rendered = self.render_breaking(article, MANAGE_MARK, UNSUB_MARK)?;
        let url = absolute_url(&self.base_url, &paths::article(article.slug.as_str()));
        // The archive shows it as a one-article issue.
        let groups = vec![super::digest::DigestGroup {
            slug: article.section.as_ref().map(|s| s.slug.clone()),
            name: article.section.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| "عاجل".into()),
            articles: vec![super::digest::DigestArticle {
                id: article.id,
                headline: article.headline.clone(),
                lead: article.lead.clone(),
                url,
                date: article.published_at.map(|t| self.dates.long(t)),
            }],
        }];
        let articles_json = serde_json::to_string(&groups)?;
        let now = crate::domain::now_secs();
        let issue = NewIssue {
            frequency: "all",
            kind: "breaking",
            subject: &rendered.subject,
            articles_json: &articles_json,
            body_text: &rendered.text,
            body_html: &rendered.html,
            period_start: now,
            period_end: now,
            slot_key: None,
        };
        let section = match audience {
            Audience::Everyone => None,
            Audience::SectionFollowers => article.section.as_ref().map(|s| s.slug.as_str()),
        };
        match self.store.create_breaking_issue(article.id, &issue, section).await? {
            Some(id) => Ok(BreakingOutcome::Queued(id)),
            None => Ok(self.store.breaking_issue_of(article.id).await?.map_or(BreakingOutcome::NotPublished, BreakingOutcome::AlreadySent)),
        }
    }
}
