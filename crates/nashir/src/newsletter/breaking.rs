//! «عاجل» by mail: one published article sent on its own (not in a digest) to every active
//! subscriber or to those who follow its section — once per article, whichever editor or
//! node asks (the issue's slot key `breaking:<article>` is unique in the database).

use serde_json::json;

use super::worker::{MANAGE_MARK, UNSUB_MARK};
use super::Newsletter;
use crate::domain::{Article, Block, Status};
use crate::mail::Rendered;
use crate::render::{absolute_url, escape_html, marked_html, marked_plain, paths, LinkStyle};
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
        // Links in the article become absolute (a mail has no base); marks keep their meaning.
        let links = LinkStyle { base_url: &self.base_url, external_rel: &self.config.site.external_link_rel, absolute: true };
        let marked = |text: &str, marks: &[crate::domain::Mark]| (marked_html(text, marks, &links), marked_plain(text, marks, &links));
        let blocks: Vec<serde_json::Value> = article
            .body
            .iter()
            .filter_map(|b| match b {
                Block::Paragraph { text, marks } => {
                    let (html, text) = marked(text, marks);
                    Some(json!({ "kind": "paragraph", "html": html, "text": text }))
                }
                Block::Subheading { text } => Some(json!({ "kind": "subheading", "html": escape_html(text), "text": text })),
                Block::Quote { text, intro, marks } => {
                    let (html, text) = marked(text, marks);
                    Some(json!({ "kind": "quote", "html": html, "text": text, "intro": intro }))
                }
                Block::List { ordered, items } => {
                    let items: Vec<serde_json::Value> = items
                        .iter()
                        .map(|i| {
                            let (html, text) = marked(&i.text, &i.marks);
                            json!({ "html": html, "text": text })
                        })
                        .collect();
                    Some(json!({ "kind": "list", "ordered": ordered, "items": items }))
                }
                // A reference to another article reads as a dangling title in a mail.
                Block::ReadAlso { .. } => None,
                Block::Image { src, alt, caption, credit } => {
                    let src = if src.starts_with('/') { absolute_url(&self.base_url, src) } else { src.clone() };
                    (src.starts_with("https://") || src.starts_with("http://"))
                        .then(|| json!({ "kind": "image", "src": src, "alt": alt, "caption": caption, "credit": credit }))
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
                // The archive lists it by headline and lead; the mail itself carries the body.
                excerpt_html: String::new(),
                excerpt_text: String::new(),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::mail::MailTemplates;

    /// What major mail clients drop or block: external style sheets, style blocks (Gmail
    /// keeps some, Outlook.com and many webmail readers not), scripts, forms, remote fonts.
    fn assert_client_safe(name: &str, html: &str) {
        let lower = html.to_lowercase();
        for banned in ["<script", "<link", "<style", "@import", "<form", "<iframe", "javascript:", "url("] {
            assert!(!lower.contains(banned), "{name}: {banned} in the HTML part");
        }
        assert!(lower.contains("dir=\"rtl\""), "{name}: right to left");
        // Every visible block carries its own style.
        for tag in ["<p ", "<h1 ", "<h2 ", "<blockquote ", "<img "] {
            for (i, _) in lower.match_indices(tag) {
                let open = &lower[i..i + lower[i..].find('>').unwrap()];
                assert!(open.contains("style=\""), "{name}: {open} has no inline style");
            }
        }
    }

    #[test]
    fn mail_html_parts_use_only_what_clients_keep() {
        let templates = MailTemplates::new().unwrap();
        let site = json!({ "title": "ناشر", "url": "https://news.example.org" });
        let breaking = templates
            .render(
                "breaking",
                json!({ "site": site, "manage_url": "https://news.example.org/m", "unsubscribe_url": "https://news.example.org/u",
                    "article": { "headline": "عنوان عاجل", "lead": "مقدمة", "url": "https://news.example.org/news/x", "date": "٦ كانون الأول", "section": "محليات",
                    "blocks": [ { "kind": "paragraph", "html": "نص <strong>مهم</strong>", "text": "نص مهم" }, { "kind": "subheading", "html": "عنوان فرعي", "text": "عنوان فرعي" },
                                { "kind": "quote", "html": "قول", "text": "قول", "intro": "وقال" }, { "kind": "image", "src": "https://news.example.org/media/a.jpg", "alt": "صورة", "caption": "شرح", "credit": "وكالة" },
                                { "kind": "list", "ordered": true, "items": [ { "html": "أولاً", "text": "أولاً" } ] } ] } }),
            )
            .unwrap();
        assert_client_safe("breaking", &breaking.html);
        assert!(breaking.html.contains("<table role=\"presentation\""), "table layout for Outlook");
        assert!(breaking.html.contains("max-width:100%") && breaking.html.contains("height:auto"), "images scale down");
        assert!(breaking.text.contains("1. أولاً") && breaking.subject.starts_with("عاجل"));
        let digest = templates
            .render(
                "digest",
                json!({ "site": site, "frequency_name": "اليومية", "date": "اليوم", "manage_url": "m", "unsubscribe_url": "u", "archive_url": "a",
                    "groups": [ { "slug": "x", "name": "محليات", "articles": [ { "id": 1, "headline": "خبر", "lead": "مقدمة", "url": "https://news.example.org/news/x", "date": null } ] } ] }),
            )
            .unwrap();
        assert_client_safe("digest", &digest.html);
        let confirm = templates
            .render("confirm", json!({ "site": site, "confirm_url": "https://news.example.org/newsletter/confirm?t=x", "ttl_hours": 48 }))
            .unwrap();
        assert_client_safe("confirm", &confirm.html);
    }
}
