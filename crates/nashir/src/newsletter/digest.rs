//! Digest issues: the articles published since the previous issue, grouped by section,
//! rendered once for the archive and per section choice for subscribers; and the scheduler
//! that decides when a daily or weekly issue is due in the newsroom's time zone.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::Newsletter;
use crate::domain::{Block, Frequency, HeaderText};
use crate::mail::Rendered;
use crate::render::{absolute_url, marked_html, marked_plain, paths, LinkStyle};
use crate::store::from_secs;
use crate::store::newsletter::{DigestRow, NewIssue};

/// Most articles one issue carries; a newsroom that published more links the archive.
const MAX_ARTICLES: i64 = 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DigestArticle {
    pub id: i64,
    pub headline: String,
    pub lead: String,
    pub url: String,
    pub date: Option<String>,
    /// The body's first paragraph with its links and emphasis: HTML made by
    /// `render::marked_html` (links absolute), and plain text with each link's address after
    /// its words. Empty in issues stored before excerpts existed.
    #[serde(default)]
    pub excerpt_html: String,
    #[serde(default)]
    pub excerpt_text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DigestGroup {
    /// Section slug; `None` for articles without a section.
    pub slug: Option<String>,
    pub name: String,
    pub articles: Vec<DigestArticle>,
}

/// Which issue to build.
pub struct IssueRequest<'a> {
    /// `daily`, `weekly` or `all` (hand-sent to every active subscriber).
    pub frequency: &'a str,
    pub kind: &'a str,
    pub period_start: Option<i64>,
    pub period_end: i64,
    pub slot_key: Option<String>,
    pub subject: Option<HeaderText>,
    /// Queue deliveries; false stores the issue for the archive only.
    pub enqueue: bool,
}

pub fn frequency_name(frequency: &str) -> &'static str {
    Frequency::parse(frequency).map(|f| f.arabic()).unwrap_or("الخاصة")
}

impl Newsletter {
    /// Published articles in `(start, end]`, grouped by section in display order.
    pub async fn digest_groups(&self, start: i64, end: i64) -> anyhow::Result<Vec<DigestGroup>> {
        let rows = self.store.digest_articles(start, end, MAX_ARTICLES).await?;
        let mut groups: Vec<DigestGroup> = Vec::new();
        for row in rows {
            let DigestRow { id, slug, headline, lead, published_at, section_slug, section_name, body_json } = row;
            let links = LinkStyle { base_url: &self.base_url, external_rel: &self.config.site.external_link_rel, absolute: true };
            let body: Vec<Block> = serde_json::from_str(&body_json).unwrap_or_default();
            let first = body.iter().find_map(|b| match b {
                Block::Paragraph { text, marks } => Some((text.as_str(), marks.as_slice())),
                _ => None,
            });
            let article = DigestArticle {
                id,
                headline,
                lead,
                url: absolute_url(&self.base_url, &paths::article(&slug)),
                date: published_at.map(|t| self.dates.long(from_secs(t))),
                excerpt_html: first.map(|(t, m)| marked_html(t, m, &links)).unwrap_or_default(),
                excerpt_text: first.map(|(t, m)| marked_plain(t, m, &links)).unwrap_or_default(),
            };
            match groups.iter_mut().find(|g| g.slug == section_slug) {
                Some(g) => g.articles.push(article),
                None => groups.push(DigestGroup {
                    slug: section_slug,
                    name: section_name.unwrap_or_else(|| "منوّعات".into()),
                    articles: vec![article],
                }),
            }
        }
        Ok(groups)
    }

    /// Renders an issue for one reader's choice of sections; `None` when nothing is left.
    pub fn render_digest(
        &self,
        issue: &super::IssueRow,
        groups: &[DigestGroup],
        sections: &[String],
        manage_url: &str,
        unsubscribe_url: &str,
    ) -> anyhow::Result<Option<Rendered>> {
        let chosen: Vec<&DigestGroup> = groups
            .iter()
            .filter(|g| sections.is_empty() || g.slug.as_ref().is_some_and(|s| sections.contains(s)) || g.slug.is_none())
            .collect();
        if chosen.is_empty() {
            return Ok(None);
        }
        let mut rendered = self.templates.render(
            "digest",
            serde_json::json!({
                "site": self.site_context(),
                "frequency_name": frequency_name(&issue.frequency),
                "date": self.dates.long(from_secs(issue.period_end)),
                "groups": chosen,
                "manage_url": manage_url,
                "unsubscribe_url": unsubscribe_url,
                "archive_url": format!("{}/newsletter/archive/{}", self.base_url, issue.id),
            }),
        )?;
        if issue.kind == "manual" || !issue.subject.is_empty() {
            rendered.subject = issue.subject.clone();
        }
        Ok(Some(rendered))
    }

    /// Builds and stores an issue from the articles published in its period, queueing a
    /// delivery for each active subscriber. `Ok(None)`: nothing was published, or the slot
    /// was already taken by another node.
    pub async fn build_issue(&self, req: &IssueRequest<'_>) -> anyhow::Result<Option<i64>> {
        let period = Frequency::parse(req.frequency).unwrap_or(Frequency::Weekly).period_secs();
        let start = match req.period_start {
            Some(s) => s,
            None => self.store.last_issue_end(req.frequency).await?.unwrap_or(req.period_end - period),
        };
        let groups = self.digest_groups(start, req.period_end).await?;
        let placeholder = super::IssueRow {
            id: 0,
            frequency: req.frequency.to_string(),
            kind: req.kind.to_string(),
            status: String::new(),
            subject: req.subject.as_ref().map(|s| s.as_str().to_string()).unwrap_or_default(),
            articles_json: String::new(),
            body_text: String::new(),
            body_html: String::new(),
            period_start: start,
            period_end: req.period_end,
            created_at: 0,
        };
        let newsletter_url = format!("{}/newsletter", self.base_url);
        let Some(rendered) = self.render_digest(&placeholder, &groups, &[], &newsletter_url, &newsletter_url)? else {
            // Nothing published in the period: no issue. A later check of the same slot finds
            // nothing either, since articles published after it belong to the next period.
            return Ok(None);
        };
        let enqueue = req.enqueue;
        let (subject, text, html) = (rendered.subject.as_str(), rendered.text.as_str(), rendered.html.as_str());
        let articles_json = serde_json::to_string(&groups)?;
        let id = self
            .store
            .create_issue(
                &NewIssue {
                    frequency: req.frequency,
                    kind: req.kind,
                    subject,
                    articles_json: &articles_json,
                    body_text: text,
                    body_html: html,
                    period_start: start,
                    period_end: req.period_end,
                    slot_key: req.slot_key.as_deref(),
                },
                enqueue,
            )
            .await?;
        Ok(id)
    }

    /// Builds every scheduled issue whose time has come and that no node built yet.
    pub async fn run_schedule(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<i64>> {
        let tz = self.config.timezone();
        let at = self.config.newsletter.daily_time();
        let weekday = self.config.newsletter.weekly_day();
        let mut built = Vec::new();
        for frequency in [Frequency::Daily, Frequency::Weekly] {
            let Some((slot, key)) = due_slot(frequency, now, tz, at, weekday) else { continue };
            if self.store.slot_taken(&key).await? {
                continue;
            }
            let req = IssueRequest {
                frequency: frequency.as_str(),
                kind: "digest",
                period_start: None,
                period_end: slot.timestamp(),
                slot_key: Some(key.clone()),
                subject: None,
                enqueue: true,
            };
            if let Some(id) = self.build_issue(&req).await? {
                tracing::info!(issue = id, slot = %key, "newsletter issue queued");
                built.push(id);
            }
        }
        Ok(built)
    }
}

/// The latest slot of this frequency at or before `now`, with its key, when it is recent
/// enough to still send (a server that was down for a day does not send yesterday's issue).
pub fn due_slot(
    frequency: Frequency,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
    at: NaiveTime,
    weekday: Weekday,
) -> Option<(DateTime<Utc>, String)> {
    let local_today = now.with_timezone(&tz).date_naive();
    let slot_on = |date: chrono::NaiveDate| tz.from_local_datetime(&date.and_time(at)).earliest().map(|t| t.with_timezone(&Utc));
    let (slot, grace) = match frequency {
        Frequency::Daily => {
            let today = slot_on(local_today)?;
            (if today <= now { today } else { slot_on(local_today - Duration::days(1))? }, Duration::hours(12))
        }
        Frequency::Weekly => {
            let back = (7 + local_today.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
            let date = local_today - Duration::days(i64::from(back));
            let candidate = slot_on(date)?;
            (if candidate <= now { candidate } else { slot_on(date - Duration::days(7))? }, Duration::hours(24))
        }
    };
    if now - slot > grace {
        return None;
    }
    let key = format!("{}:{}", frequency.as_str(), slot.with_timezone(&tz).format("%Y-%m-%d"));
    Some((slot, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn daily_slot_follows_the_newsroom_zone() {
        let tz = chrono_tz::Asia::Damascus; // UTC+3
        let at = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
        assert!(
            due_slot(Frequency::Daily, utc("2024-05-01T03:59:00Z"), tz, at, Weekday::Fri).is_none(),
            "before 07:00 local, yesterday's slot is stale"
        );
        let (slot, key) = due_slot(Frequency::Daily, utc("2024-05-01T04:00:00Z"), tz, at, Weekday::Fri).unwrap();
        assert_eq!(slot, utc("2024-05-01T04:00:00Z"));
        assert_eq!(key, "daily:2024-05-01");
        assert!(due_slot(Frequency::Daily, utc("2024-05-01T17:00:00Z"), tz, at, Weekday::Fri).is_none());
    }

    #[test]
    fn weekly_slot_is_on_the_configured_day() {
        let tz = chrono_tz::Asia::Damascus;
        let at = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
        // 2024-05-03 is a Friday.
        let (slot, key) = due_slot(Frequency::Weekly, utc("2024-05-03T05:00:00Z"), tz, at, Weekday::Fri).unwrap();
        assert_eq!(slot, utc("2024-05-03T04:00:00Z"));
        assert_eq!(key, "weekly:2024-05-03");
        assert!(due_slot(Frequency::Weekly, utc("2024-05-05T05:00:00Z"), tz, at, Weekday::Fri).is_none());
    }
}
