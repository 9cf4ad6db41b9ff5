//! Newsletter persistence: subscribers, issues and the delivery queue. Portable SQL except
//! the lease, where PostgreSQL gets `FOR UPDATE SKIP LOCKED` so two nodes never take one row.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::domain::{now_secs, Email, Frequency};
use crate::store::{Backend, Store, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriberStatus {
    Pending,
    Active,
    Unsubscribed,
    Suppressed,
}

impl SubscriberStatus {
    fn parse(s: &str) -> StoreResult<SubscriberStatus> {
        Ok(match s {
            "pending" => SubscriberStatus::Pending,
            "active" => SubscriberStatus::Active,
            "unsubscribed" => SubscriberStatus::Unsubscribed,
            "suppressed" => SubscriberStatus::Suppressed,
            other => return Err(StoreError::Corrupt(format!("subscriber status {other:?}"))),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub status: SubscriberStatus,
    pub frequency: Frequency,
    /// Section slugs the reader wants; empty means every section.
    pub sections: Vec<String>,
    pub bounces: i64,
}

const SUBSCRIBER_COLUMNS: &str = "id, email, status, frequency, sections_json, bounces";

fn subscriber_from_row(row: &AnyRow) -> StoreResult<Subscriber> {
    let id: i64 = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let frequency: String = row.try_get("frequency")?;
    let sections: String = row.try_get("sections_json")?;
    Ok(Subscriber {
        id,
        email: row.try_get("email")?,
        status: SubscriberStatus::parse(&status)?,
        frequency: Frequency::parse(&frequency).ok_or_else(|| StoreError::Corrupt(format!("subscriber {id} frequency")))?,
        sections: serde_json::from_str(&sections).map_err(|e| StoreError::Corrupt(format!("subscriber {id} sections: {e}")))?,
        bounces: row.try_get("bounces")?,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct IssueRow {
    pub id: i64,
    pub frequency: String,
    pub kind: String,
    pub status: String,
    pub subject: String,
    pub articles_json: String,
    pub body_text: String,
    pub body_html: String,
    pub period_start: i64,
    pub period_end: i64,
    pub created_at: i64,
}

pub(crate) const ISSUE_COLUMNS: &str =
    "id, frequency, kind, status, subject, articles_json, body_text, body_html, period_start, period_end, created_at";

pub(crate) fn issue_from_row(row: &AnyRow) -> StoreResult<IssueRow> {
    Ok(IssueRow {
        id: row.try_get("id")?,
        frequency: row.try_get("frequency")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        subject: row.try_get("subject")?,
        articles_json: row.try_get("articles_json")?,
        body_text: row.try_get("body_text")?,
        body_html: row.try_get("body_html")?,
        period_start: row.try_get("period_start")?,
        period_end: row.try_get("period_end")?,
        created_at: row.try_get("created_at")?,
    })
}

/// What a new issue holds before it gets an id.
pub struct NewIssue<'a> {
    /// `daily`, `weekly`, or `all` (a hand-sent issue for every active subscriber).
    pub frequency: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub articles_json: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub period_start: i64,
    pub period_end: i64,
    pub slot_key: Option<&'a str>,
}

/// A queue row reserved by this worker until `lease_until`.
#[derive(Debug, Clone)]
pub struct Leased {
    pub id: i64,
    pub issue_id: i64,
    pub subscriber_id: i64,
    pub attempts: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeliveryCounts {
    pub issue_id: i64,
    pub subject: String,
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub bounced: i64,
    pub failed: i64,
    pub skipped: i64,
    pub last_error: Option<String>,
}

impl DeliveryCounts {
    pub fn total(&self) -> i64 {
        self.queued + self.sending + self.sent + self.bounced + self.failed + self.skipped
    }
    pub fn done(&self) -> i64 {
        self.total() - self.queued - self.sending
    }
}

impl Store {
    /// Records a sign-up. Returns the subscriber and whether a confirmation mail is due (new,
    /// still pending, or coming back after unsubscribing); active and suppressed addresses
    /// get nothing, and the caller answers the same either way.
    pub async fn request_subscription(&self, email: &Email, frequency: Frequency) -> StoreResult<(Subscriber, bool)> {
        let t = now_secs();
        sqlx::query(
            "INSERT INTO subscribers (email, status, frequency, sections_json, bounces, created_at, updated_at) \
             VALUES ($1, 'pending', $2, '[]', 0, $3, $3) ON CONFLICT (email) DO NOTHING",
        )
        .bind(email.as_str())
        .bind(frequency.as_str())
        .bind(t)
        .execute(self.pool())
        .await?;
        sqlx::query("UPDATE subscribers SET status = 'pending', updated_at = $2 WHERE email = $1 AND status = 'unsubscribed'")
            .bind(email.as_str())
            .bind(t)
            .execute(self.pool())
            .await?;
        let sub = self.subscriber_by_email(email).await?.ok_or_else(|| StoreError::Corrupt("subscriber vanished".into()))?;
        let send = sub.status == SubscriberStatus::Pending;
        Ok((sub, send))
    }

    pub async fn subscriber(&self, id: i64) -> StoreResult<Option<Subscriber>> {
        let row = sqlx::query(&format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(subscriber_from_row).transpose()
    }

    pub async fn subscriber_by_email(&self, email: &Email) -> StoreResult<Option<Subscriber>> {
        let row = sqlx::query(&format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email = $1"))
            .bind(email.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(subscriber_from_row).transpose()
    }

    /// Activates a pending subscriber; an active one stays active. Unsubscribed and
    /// suppressed addresses are not revived by an old confirmation link.
    pub async fn confirm_subscriber(&self, id: i64) -> StoreResult<Option<Subscriber>> {
        let t = now_secs();
        sqlx::query("UPDATE subscribers SET status = 'active', confirmed_at = $2, updated_at = $2 WHERE id = $1 AND status = 'pending'")
            .bind(id)
            .bind(t)
            .execute(self.pool())
            .await?;
        Ok(self.subscriber(id).await?.filter(|s| s.status == SubscriberStatus::Active))
    }

    pub async fn update_preferences(&self, id: i64, frequency: Frequency, sections: &[String]) -> StoreResult<()> {
        let json = serde_json::to_string(sections).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("UPDATE subscribers SET frequency = $2, sections_json = $3, updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(frequency.as_str())
            .bind(json)
            .bind(now_secs())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Unsubscribes and drops whatever was still queued for the address.
    pub async fn unsubscribe(&self, id: i64) -> StoreResult<()> {
        let t = now_secs();
        let mut tx = self.begin_write().await?;
        // The last issue the reader got is credited with the unsubscribe (the issues page).
        sqlx::query(
            "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = $2, updated_at = $2, unsubscribed_issue_id = \
             (SELECT issue_id FROM deliveries WHERE subscriber_id = $1 AND status = 'sent' ORDER BY sent_at DESC, id DESC LIMIT 1) \
             WHERE id = $1 AND status <> 'suppressed'",
        )
        .bind(id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE deliveries SET status = 'skipped', lease_until = NULL WHERE subscriber_id = $1 AND status = 'queued'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts subscribers already confirmed (imports, benchmarks). Known addresses are kept.
    pub async fn import_active_subscribers(&self, emails: &[Email], frequency: Frequency) -> StoreResult<u64> {
        let t = now_secs();
        let mut added = 0;
        let mut tx = self.begin_write().await?;
        for email in emails {
            added += sqlx::query(
                "INSERT INTO subscribers (email, status, frequency, sections_json, bounces, created_at, updated_at, confirmed_at) \
                 VALUES ($1, 'active', $2, '[]', 0, $3, $3, $3) ON CONFLICT (email) DO NOTHING",
            )
            .bind(email.as_str())
            .bind(frequency.as_str())
            .bind(t)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    pub async fn subscribers_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Subscriber>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE id IN ({})", placeholders.join(", "));
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(self.pool()).await?.iter().map(subscriber_from_row).collect()
    }

    pub async fn count_subscribers(&self, status: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM subscribers WHERE status = $1").bind(status).fetch_one(self.pool()).await?)
    }

    /// Stores an issue and queues one delivery per active subscriber of its frequency, in one
    /// transaction. `None` when an issue for the same slot already exists (another node).
    pub async fn create_issue(&self, issue: &NewIssue<'_>, enqueue: bool) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_logged_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO newsletter_issues (frequency, kind, status, subject, articles_json, body_text, body_html, period_start, period_end, created_at, slot_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(issue.frequency)
        .bind(issue.kind)
        .bind(if enqueue { "sending" } else { "empty" })
        .bind(issue.subject)
        .bind(issue.articles_json)
        .bind(issue.body_text)
        .bind(issue.body_html)
        .bind(issue.period_start)
        .bind(issue.period_end)
        .bind(now_secs())
        .bind(issue.slot_key)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(_) => return Ok(None),
                other => return Err(other),
            },
        };
        if enqueue {
            sqlx::query(
                "INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, next_attempt_at) \
                 SELECT $1, id, 'queued', 0, 0 FROM subscribers WHERE status = 'active' AND (frequency = $2 OR $2 = 'all') \
                 ON CONFLICT (issue_id, subscriber_id) DO NOTHING",
            )
            .bind(id)
            .bind(issue.frequency)
            .execute(&mut *tx)
            .await?;
        }
        // The archive pages of every node show the new issue.
        crate::store::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(Some(id))
    }

    pub async fn issue(&self, id: i64) -> StoreResult<Option<IssueRow>> {
        let row = sqlx::query(&format!("SELECT {ISSUE_COLUMNS} FROM newsletter_issues WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(issue_from_row).transpose()
    }

    /// Issues that went out (or are going out), newest first (the public archive): not
    /// those built and never sent, nor those an editor cancelled.
    pub async fn published_issues(&self, limit: i64) -> StoreResult<Vec<IssueRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ISSUE_COLUMNS} FROM newsletter_issues WHERE status IN ('sending', 'sent') ORDER BY period_end DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(issue_from_row).collect()
    }

    /// End of the newest issue's period for this frequency (any status), if any.
    pub async fn last_issue_end(&self, frequency: &str) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(period_end) FROM newsletter_issues WHERE frequency = $1 OR $1 = 'all'")
            .bind(frequency)
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn slot_taken(&self, slot_key: &str) -> StoreResult<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM newsletter_issues WHERE slot_key = $1").bind(slot_key).fetch_one(self.pool()).await?;
        Ok(n > 0)
    }

    /// Reserves up to `limit` due rows for `lease_secs`: queued rows whose retry time has
    /// come, and rows whose previous lease ran out (a worker that died mid-send).
    /// `owner` is written on each row (see `newsletter::lease`).
    pub async fn lease_deliveries(&self, limit: i64, lease_secs: i64, owner: &str) -> StoreResult<Vec<Leased>> {
        let t = now_secs();
        let lock = if self.backend() == Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE deliveries SET status = 'sending', lease_until = $1, lease_owner = $4, attempts = attempts + 1 WHERE id IN (\
               SELECT id FROM deliveries WHERE (status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until < $2) \
               ORDER BY id LIMIT $3 {lock}) \
             RETURNING id, issue_id, subscriber_id, attempts"
        );
        let rows = sqlx::query(&sql).bind(t + lease_secs).bind(t).bind(limit).bind(owner).fetch_all(self.pool()).await?;
        let mut leased: Vec<Leased> = rows
            .iter()
            .map(|r| {
                Ok(Leased {
                    id: r.try_get("id")?,
                    issue_id: r.try_get("issue_id")?,
                    subscriber_id: r.try_get("subscriber_id")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        leased.sort_by_key(|l| l.id);
        Ok(leased)
    }

    /// Gives back rows leased but not sent (the worker is stopping), so another node or the
    /// next start sends them now instead of after the lease runs out.
    pub async fn release_deliveries(&self, ids: &[i64]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "UPDATE deliveries SET status = 'queued', lease_until = NULL, attempts = attempts - 1 WHERE status = 'sending' AND id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(self.pool()).await?;
        Ok(())
    }

    /// The holders of rows being sent now (a handful: one per sending process).
    pub async fn lease_holders(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT lease_owner FROM deliveries WHERE status = 'sending' AND lease_owner IS NOT NULL")
            .fetch_all(self.pool())
            .await?)
    }

    /// Puts back in the queue, due now, the rows a dead process held. Their attempt stays
    /// counted: the message may have reached the server before the process died.
    pub async fn release_leases_of(&self, owner: &str) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE deliveries SET status = 'queued', lease_until = NULL, lease_owner = NULL, next_attempt_at = 0 WHERE status = 'sending' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    pub async fn mark_sent(&self, delivery_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE deliveries SET status = 'sent', sent_at = $2, lease_until = NULL, last_error = NULL WHERE id = $1")
            .bind(delivery_id)
            .bind(now_secs())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Marks many accepted messages sent in one statement (the worker's batch).
    pub async fn mark_sent_many(&self, delivery_ids: &[i64]) -> StoreResult<()> {
        for chunk in delivery_ids.chunks(500) {
            let placeholders: Vec<String> = (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
            let sql = format!(
                "UPDATE deliveries SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL WHERE id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(now_secs());
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(self.pool()).await?;
        }
        Ok(())
    }

    pub async fn mark_skipped(&self, delivery_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE deliveries SET status = 'skipped', lease_until = NULL WHERE id = $1")
            .bind(delivery_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A temporary failure: back to the queue until `retry_at`, or `failed` when out of tries.
    pub async fn mark_retry(&self, delivery_id: i64, retry_at: Option<i64>, error: &str) -> StoreResult<()> {
        match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE deliveries SET status = 'queued', next_attempt_at = $2, lease_until = NULL, last_error = $3 WHERE id = $1",
                )
                .bind(delivery_id)
                .bind(at)
                .bind(error)
                .execute(self.pool())
                .await?
            }
            None => {
                sqlx::query("UPDATE deliveries SET status = 'failed', lease_until = NULL, last_error = $2 WHERE id = $1")
                    .bind(delivery_id)
                    .bind(error)
                    .execute(self.pool())
                    .await?
            }
        };
        Ok(())
    }

    /// A permanent failure: counts a bounce and suppresses the address after `max_bounces`.
    pub async fn mark_bounced(&self, delivery_id: i64, subscriber_id: i64, error: &str, max_bounces: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE deliveries SET status = 'bounced', lease_until = NULL, last_error = $2 WHERE id = $1")
            .bind(delivery_id)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE subscribers SET bounces = bounces + 1, status = CASE WHEN bounces + 1 >= $2 THEN 'suppressed' ELSE status END, updated_at = $3 WHERE id = $1",
        )
        .bind(subscriber_id)
        .bind(max_bounces)
        .bind(now_secs())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Per-issue delivery counts for issues that are still sending or were created recently.
    pub async fn delivery_counts(&self, limit: i64) -> StoreResult<Vec<DeliveryCounts>> {
        let issues = sqlx::query("SELECT id, subject FROM newsletter_issues WHERE status <> 'empty' ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::new();
        for row in issues {
            let id: i64 = row.try_get("id")?;
            out.push(self.issue_counts(id, row.try_get("subject")?).await?);
        }
        Ok(out)
    }

    pub async fn issue_counts(&self, issue_id: i64, subject: String) -> StoreResult<DeliveryCounts> {
        let mut counts = DeliveryCounts { issue_id, subject, ..Default::default() };
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM deliveries WHERE issue_id = $1 GROUP BY status")
            .bind(issue_id)
            .fetch_all(self.pool())
            .await?;
        for r in rows {
            let status: String = r.try_get("status")?;
            let n: i64 = r.try_get("n")?;
            match status.as_str() {
                "queued" => counts.queued = n,
                "sending" => counts.sending = n,
                "sent" => counts.sent = n,
                "bounced" => counts.bounced = n,
                "failed" => counts.failed = n,
                _ => counts.skipped += n,
            }
        }
        counts.last_error = sqlx::query_scalar::<_, Option<String>>(
            "SELECT last_error FROM deliveries WHERE issue_id = $1 AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(issue_id)
        .fetch_optional(self.pool())
        .await?
        .flatten();
        Ok(counts)
    }

    /// Issues whose deliveries are not all done yet.
    pub async fn sending_issue_ids(&self) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM newsletter_issues WHERE status = 'sending' ORDER BY id").fetch_all(self.pool()).await?)
    }

    /// Marks issues whose queue has drained as sent.
    pub async fn finish_issues(&self) -> StoreResult<()> {
        sqlx::query(
            "UPDATE newsletter_issues SET status = 'sent' WHERE status = 'sending' AND NOT EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.issue_id = newsletter_issues.id AND d.status IN ('queued', 'sending'))",
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// A published article as a digest lists it, with its section.
#[derive(Debug, Clone)]
pub struct DigestRow {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub lead: String,
    pub published_at: Option<i64>,
    pub section_slug: Option<String>,
    pub section_name: Option<String>,
    /// The body's blocks as stored (JSON), for the excerpt a digest shows.
    pub body_json: String,
}

impl Store {
    /// Published articles in `(start, end]`, at most `limit`, in display order: sections by
    /// position (articles without one last), newest first within a section.
    pub async fn digest_articles(&self, start: i64, end: i64, limit: i64) -> StoreResult<Vec<DigestRow>> {
        let rows = sqlx::query(
            "SELECT a.id, a.slug, a.headline, a.lead, a.published_at, s.slug AS section_slug, s.name AS section_name, a.body_json \
             FROM articles a LEFT JOIN sections s ON s.id = a.section_id \
             WHERE a.status = 'published' AND a.published_at > $1 AND a.published_at <= $2 \
             ORDER BY COALESCE(s.position, 1000000), s.id, a.published_at DESC, a.id DESC LIMIT $3",
        )
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DigestRow {
                    id: row.try_get("id")?,
                    slug: row.try_get("slug")?,
                    headline: row.try_get("headline")?,
                    lead: row.try_get("lead")?,
                    published_at: row.try_get("published_at")?,
                    section_slug: row.try_get("section_slug")?,
                    section_name: row.try_get("section_name")?,
                    body_json: row.try_get("body_json")?,
                })
            })
            .collect()
    }

    /// The hex key that signs newsletter links, stored with `fresh` the first time so that
    /// every node of a site (and every restart) shares the one kept in the database.
    pub async fn newsletter_token_key(&self, fresh: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO newsletter_secrets (name, value) VALUES ('token_key', $1) ON CONFLICT (name) DO NOTHING")
            .bind(fresh)
            .execute(self.pool())
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM newsletter_secrets WHERE name = 'token_key'").fetch_one(self.pool()).await?)
    }
}
