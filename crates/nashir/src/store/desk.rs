//! The newsletter desk's queries: subscriber listing (keyset pages), history, erasure,
//! import and export, the sign-up chart, per-issue counts, cancel, send-now and the one
//! breaking-news issue per article.

use serde::Serialize;
use sqlx::Row;

use crate::domain::{now_secs, Email, Frequency};
use crate::store::newsletter::{IssueRow, NewIssue};
use crate::store::{Store, StoreError, StoreResult};

/// One line of the subscribers page.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriberLine {
    pub id: i64,
    pub email: String,
    pub status: String,
    pub frequency: String,
    pub bounces: i64,
    pub source: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

const LINE_COLUMNS: &str = "id, email, status, frequency, bounces, source, created_at, confirmed_at, unsubscribed_at";

fn line_from_row(r: &sqlx::any::AnyRow) -> StoreResult<SubscriberLine> {
    Ok(SubscriberLine {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        status: r.try_get("status")?,
        frequency: r.try_get("frequency")?,
        bounces: r.try_get("bounces")?,
        source: r.try_get("source")?,
        created_at: r.try_get("created_at")?,
        confirmed_at: r.try_get("confirmed_at")?,
        unsubscribed_at: r.try_get("unsubscribed_at")?,
    })
}

/// What the subscribers page filters by; empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct SubscriberFilter {
    /// Part of the address (case-insensitive for the ASCII letters addresses are made of).
    pub query: String,
    /// `pending`, `active`, `unsubscribed`, `suppressed`, or `bounced` (active with bounces).
    pub status: String,
    pub frequency: String,
}

/// One count of the subscribers page: how many have this status and frequency.
#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub status: String,
    pub frequency: String,
    pub count: i64,
}

/// A mail in one subscriber's history.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryLine {
    pub issue_id: i64,
    pub subject: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

/// One day of the sign-up chart (days since the Unix epoch, UTC).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DayCounts {
    pub day: i64,
    pub signups: i64,
    pub confirmations: i64,
    pub unsubscribes: i64,
}

/// How imported addresses become subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportConsent {
    /// The readers agreed elsewhere (the editor says so): active at once.
    ConsentedElsewhere,
    /// Pending until the reader confirms from the mail sent to them.
    SendConfirmation,
}

/// What an import did: addresses added, addresses already known (left as they were), and the
/// new pending subscribers to whom a confirmation is due.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub added: u64,
    pub known: u64,
    pub to_confirm: Vec<(i64, String)>,
}

/// An issue with its delivery counts, for the issues page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssueCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    /// Temporary failures being retried (queued again with an error) and given up (`failed`).
    pub retrying: i64,
    pub failed: i64,
    pub bounced: i64,
    /// Not sent because the reader was no longer active (unsubscribed, suppressed, erased).
    pub skipped: i64,
    /// Not sent because an editor cancelled the issue.
    pub cancelled: i64,
    /// Readers whose unsubscribe came after this issue was the last one they got.
    pub unsubscribes: i64,
}

impl IssueCounts {
    pub fn total(&self) -> i64 {
        self.queued + self.sending + self.sent + self.failed + self.bounced + self.skipped + self.cancelled
    }
}

/// `%`, `_` and the escape itself match literally in a `LIKE … ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// Subscribers by status and frequency, plus `bounced` (active readers with a bounce).
    pub async fn subscriber_status_counts(&self) -> StoreResult<Vec<StatusCount>> {
        let mut rows = sqlx::query(
            "SELECT status, frequency, COUNT(*) AS n FROM subscribers GROUP BY status, frequency \
             UNION ALL SELECT 'bounced' AS status, frequency, COUNT(*) AS n FROM subscribers WHERE status = 'active' AND bounces > 0 GROUP BY frequency",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok(StatusCount { status: r.try_get("status")?, frequency: r.try_get("frequency")?, count: r.try_get("n")? }))
        .collect::<StoreResult<Vec<_>>>()?;
        rows.sort_by(|a, b| (a.status.as_str(), a.frequency.as_str()).cmp(&(b.status.as_str(), b.frequency.as_str())));
        Ok(rows)
    }

    /// A page of subscribers, newest first, after the id `before` (keyset: every page costs
    /// the same, however deep, and a sign-up meanwhile does not shift the pages).
    pub async fn list_subscribers(&self, filter: &SubscriberFilter, before: Option<i64>, limit: i64) -> StoreResult<Vec<SubscriberLine>> {
        enum Bind {
            Text(String),
            Int(i64),
        }
        let mut conditions: Vec<String> = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        let mut param = |value: Bind| {
            binds.push(value);
            format!("${}", binds.len())
        };
        match filter.status.as_str() {
            "" => {}
            "bounced" => conditions.push("status = 'active' AND bounces > 0".into()),
            s => conditions.push(format!("status = {}", param(Bind::Text(s.to_string())))),
        }
        if !filter.frequency.is_empty() {
            conditions.push(format!("frequency = {}", param(Bind::Text(filter.frequency.clone()))));
        }
        let query = filter.query.trim().to_lowercase();
        if !query.is_empty() {
            conditions.push(format!("LOWER(email) LIKE {} ESCAPE '\\'", param(Bind::Text(format!("%{}%", like_escape(&query))))));
        }
        if let Some(before) = before {
            conditions.push(format!("id < {}", param(Bind::Int(before))));
        }
        let limit = param(Bind::Int(limit));
        let where_clause = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {LINE_COLUMNS} FROM subscribers {where_clause} ORDER BY id DESC LIMIT {limit}");
        let mut q = sqlx::query(&sql);
        for value in binds {
            q = match value {
                Bind::Text(t) => q.bind(t),
                Bind::Int(n) => q.bind(n),
            };
        }
        q.fetch_all(self.pool()).await?.iter().map(line_from_row).collect()
    }

    pub async fn subscriber_line(&self, id: i64) -> StoreResult<Option<SubscriberLine>> {
        let row =
            sqlx::query(&format!("SELECT {LINE_COLUMNS} FROM subscribers WHERE id = $1")).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(line_from_row).transpose()
    }

    /// The mails of one subscriber, newest first (at most `limit`).
    pub async fn subscriber_deliveries(&self, id: i64, limit: i64) -> StoreResult<Vec<DeliveryLine>> {
        sqlx::query(
            "SELECT d.issue_id, i.subject, i.kind, d.status, d.attempts, d.sent_at, d.last_error FROM deliveries d \
             JOIN newsletter_issues i ON i.id = d.issue_id WHERE d.subscriber_id = $1 ORDER BY d.id DESC LIMIT $2",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(DeliveryLine {
                issue_id: r.try_get("issue_id")?,
                subject: r.try_get("subject")?,
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                sent_at: r.try_get("sent_at")?,
                last_error: r.try_get("last_error")?,
            })
        })
        .collect()
    }

    /// The right to be forgotten: the subscriber and every delivery to them are deleted in one
    /// transaction, and the erasure log gets a line without the address. `None` when there
    /// was no such subscriber. A mail being sent at this moment may still go out (its row is
    /// gone, so nothing records it); nothing is queued for the address afterwards.
    pub async fn erase_subscriber(&self, id: i64, erased_by: Option<i64>) -> StoreResult<Option<u64>> {
        let mut tx = self.begin_write().await?;
        let deliveries = sqlx::query("DELETE FROM deliveries WHERE subscriber_id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
        let gone = sqlx::query("DELETE FROM subscribers WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
        if gone == 0 {
            return Ok(None); // dropped: rolls back
        }
        sqlx::query("INSERT INTO subscriber_erasures (erased_at, erased_by, deliveries) VALUES ($1, $2, $3)")
            .bind(now_secs())
            .bind(erased_by)
            .bind(deliveries as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(deliveries))
    }

    pub async fn erasure_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM subscriber_erasures").fetch_one(self.pool()).await?)
    }

    /// Active subscribers after the id `after`, oldest first (the CSV export, page by page).
    pub async fn active_subscribers_page(&self, after: i64, limit: i64) -> StoreResult<Vec<SubscriberLine>> {
        sqlx::query(&format!("SELECT {LINE_COLUMNS} FROM subscribers WHERE status = 'active' AND id > $1 ORDER BY id LIMIT $2"))
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(line_from_row)
            .collect()
    }

    /// Adds imported addresses in one transaction. Known addresses are left exactly as they
    /// are: an import never revives an unsubscribed or suppressed reader.
    pub async fn import_subscribers(&self, rows: &[(Email, Frequency)], consent: ImportConsent) -> StoreResult<ImportOutcome> {
        let t = now_secs();
        let (status, source, confirmed_at) = match consent {
            ImportConsent::ConsentedElsewhere => ("active", "import", Some(t)),
            ImportConsent::SendConfirmation => ("pending", "import_confirm", None),
        };
        let mut outcome = ImportOutcome::default();
        let mut tx = self.begin_write().await?;
        for (email, frequency) in rows {
            let id = sqlx::query_scalar::<_, i64>(
                "INSERT INTO subscribers (email, status, frequency, sections_json, bounces, created_at, updated_at, confirmed_at, source) \
                 VALUES ($1, $2, $3, '[]', 0, $4, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
            )
            .bind(email.as_str())
            .bind(status)
            .bind(frequency.as_str())
            .bind(t)
            .bind(confirmed_at)
            .bind(source)
            .fetch_optional(&mut *tx)
            .await?;
            match id {
                Some(id) => {
                    outcome.added += 1;
                    if consent == ImportConsent::SendConfirmation {
                        outcome.to_confirm.push((id, email.as_str().to_string()));
                    }
                }
                None => outcome.known += 1,
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Daily sign-ups, confirmations and unsubscribes from `since` (Unix seconds) on, by UTC
    /// day; days without any are absent.
    pub async fn signup_days(&self, since: i64) -> StoreResult<Vec<DayCounts>> {
        let mut days: std::collections::BTreeMap<i64, DayCounts> = Default::default();
        for (column, which) in [("created_at", 0), ("confirmed_at", 1), ("unsubscribed_at", 2)] {
            let sql =
                format!("SELECT {column} / 86400 AS day, COUNT(*) AS n FROM subscribers WHERE {column} >= $1 GROUP BY {column} / 86400");
            for r in sqlx::query(&sql).bind(since).fetch_all(self.pool()).await? {
                let (day, n): (i64, i64) = (r.try_get("day")?, r.try_get("n")?);
                let entry = days.entry(day).or_insert_with(|| DayCounts { day, ..Default::default() });
                match which {
                    0 => entry.signups = n,
                    1 => entry.confirmations = n,
                    _ => entry.unsubscribes = n,
                }
            }
        }
        Ok(days.into_values().collect())
    }

    /// The newest issues (any state), at most `limit`.
    pub async fn recent_issues(&self, limit: i64) -> StoreResult<Vec<IssueRow>> {
        let rows = sqlx::query(&format!("SELECT {} FROM newsletter_issues ORDER BY id DESC LIMIT $1", super::newsletter::ISSUE_COLUMNS))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(super::newsletter::issue_from_row).collect()
    }

    /// Delivery counts of one issue, as the issues page shows them.
    pub async fn issue_desk_counts(&self, issue_id: i64) -> StoreResult<IssueCounts> {
        let mut c = IssueCounts::default();
        let rows = sqlx::query(
            "SELECT status, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END AS erred, COUNT(*) AS n FROM deliveries WHERE issue_id = $1 \
             GROUP BY status, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END",
        )
        .bind(issue_id)
        .fetch_all(self.pool())
        .await?;
        for r in rows {
            let (status, erred, n): (String, i64, i64) = (r.try_get("status")?, r.try_get("erred")?, r.try_get("n")?);
            match status.as_str() {
                "queued" => {
                    c.queued += n;
                    if erred == 1 {
                        c.retrying += n;
                    }
                }
                "sending" => c.sending += n,
                "sent" => c.sent += n,
                "failed" => c.failed += n,
                "bounced" => c.bounced += n,
                "cancelled" => c.cancelled += n,
                _ => c.skipped += n,
            }
        }
        c.unsubscribes =
            sqlx::query_scalar("SELECT COUNT(*) FROM subscribers WHERE unsubscribed_issue_id = $1 AND status = 'unsubscribed'")
                .bind(issue_id)
                .fetch_one(self.pool())
                .await?;
        Ok(c)
    }

    /// Cancels a sending issue: the queued rows become `cancelled` (never sent), the rows
    /// being sent this instant finish. Returns how many were cancelled; `None` when the issue
    /// was not sending.
    pub async fn cancel_issue(&self, issue_id: i64) -> StoreResult<Option<u64>> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query("UPDATE newsletter_issues SET status = 'cancelled' WHERE id = $1 AND status = 'sending'")
            .bind(issue_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        let n = sqlx::query("UPDATE deliveries SET status = 'cancelled', lease_until = NULL WHERE issue_id = $1 AND status = 'queued'")
            .bind(issue_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Some(n))
    }

    /// Queues a built, unsent issue (`empty`) for every active subscriber of its frequency.
    /// `None` when the issue is not waiting to be sent (already sending, sent, cancelled).
    pub async fn queue_built_issue(&self, issue_id: i64) -> StoreResult<Option<u64>> {
        let mut tx = self.begin_logged_write().await?;
        let Some(frequency) = sqlx::query_scalar::<_, String>(
            "UPDATE newsletter_issues SET status = 'sending' WHERE id = $1 AND status = 'empty' AND kind <> 'breaking' RETURNING frequency",
        )
        .bind(issue_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let n = sqlx::query(
            "INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, next_attempt_at) \
             SELECT $1, id, 'queued', 0, 0 FROM subscribers WHERE status = 'active' AND (frequency = $2 OR $2 = 'all') \
             ON CONFLICT (issue_id, subscriber_id) DO NOTHING",
        )
        .bind(issue_id)
        .bind(&frequency)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        crate::store::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(Some(n))
    }

    /// The breaking-news issue of one article, queued for every active subscriber (or those
    /// who follow `section`, and those who follow every section). The slot key
    /// `breaking:<article>` is unique: a second press, or another node, gets `None`.
    pub async fn create_breaking_issue(&self, article_id: i64, issue: &NewIssue<'_>, section: Option<&str>) -> StoreResult<Option<i64>> {
        let slot = format!("breaking:{article_id}");
        let mut tx = self.begin_logged_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO newsletter_issues (frequency, kind, status, subject, articles_json, body_text, body_html, period_start, period_end, created_at, slot_key) \
             VALUES ('all', 'breaking', 'sending', $1, $2, $3, $4, $5, $5, $5, $6) RETURNING id",
        )
        .bind(issue.subject)
        .bind(issue.articles_json)
        .bind(issue.body_text)
        .bind(issue.body_html)
        .bind(now_secs())
        .bind(&slot)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(_) => return Ok(None),
                other => return Err(other),
            },
        };
        let audience = match section {
            // A JSON array of slugs: the quoted slug appears in it exactly when followed.
            Some(slug) => {
                sqlx::query(
                    "INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, next_attempt_at) \
                     SELECT $1, id, 'queued', 0, 0 FROM subscribers WHERE status = 'active' AND (sections_json = '[]' OR sections_json LIKE $2 ESCAPE '\\')",
                )
                .bind(id)
                .bind(format!("%{}%", like_escape(&serde_json::to_string(slug).unwrap_or_default())))
                .execute(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(
                    "INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, next_attempt_at) \
                     SELECT $1, id, 'queued', 0, 0 FROM subscribers WHERE status = 'active'",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?
            }
        };
        tracing::info!(issue = id, article = article_id, recipients = audience.rows_affected(), "breaking-news mail queued");
        crate::store::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(Some(id))
    }

    /// The breaking-news issue already made for an article, if any.
    pub async fn breaking_issue_of(&self, article_id: i64) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM newsletter_issues WHERE slot_key = $1")
            .bind(format!("breaking:{article_id}"))
            .fetch_optional(self.pool())
            .await?)
    }
}
