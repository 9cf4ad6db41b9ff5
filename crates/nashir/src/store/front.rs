//! The front page's own data (issue 18): the pinned lead story, the breaking-news bar, views
//! per article per hour for «الأكثر قراءة», author profiles, and the first image of articles
//! for thumbnails.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use super::articles::{summary_from_row, SUMMARY_COLUMNS};
use super::{now_secs, ArticleSummary, Store, StoreResult};
use crate::domain::Block;

/// The breaking-news bar as stored: shown while `expires_at` (Unix seconds) is in the future.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakingNews {
    pub text: String,
    /// Empty, or an address the editor gave (checked before it was stored).
    pub link: String,
    pub expires_at: i64,
}

/// An article's first image, for its card on lists.
#[derive(Debug, Clone)]
pub struct LeadImage {
    pub src: String,
    pub alt: String,
}

/// The slot of the home page's lead story in `front_pins`.
const LEAD_SLOT: &str = "lead";

impl Store {
    /// Pins a published article as the home page's lead story («الخبر الرئيسي»), or frees the
    /// slot with `None`. Returns false when the article is not published.
    pub async fn pin_lead(&self, article_id: Option<i64>) -> StoreResult<bool> {
        let mut tx = self.begin_logged_write().await?;
        sqlx::query("DELETE FROM front_pins WHERE slot = $1").bind(LEAD_SLOT).execute(&mut *tx).await?;
        if let Some(id) = article_id {
            let published =
                sqlx::query("SELECT 1 FROM articles WHERE id = $1 AND status = 'published'").bind(id).fetch_optional(&mut *tx).await?;
            if published.is_none() {
                return Ok(false);
            }
            sqlx::query("INSERT INTO front_pins (slot, article_id, pinned_at) VALUES ($1, $2, $3)")
                .bind(LEAD_SLOT)
                .bind(id)
                .bind(now_secs())
                .execute(&mut *tx)
                .await?;
        }
        super::changes::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(true)
    }

    /// The pinned lead story, if it is still published.
    pub async fn pinned_lead(&self) -> StoreResult<Option<ArticleSummary>> {
        let row = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM front_pins p JOIN articles a ON a.id = p.article_id LEFT JOIN sections s ON s.id = a.section_id \
             WHERE p.slot = $1 AND a.status = 'published'"
        ))
        .bind(LEAD_SLOT)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(summary_from_row).transpose()
    }

    /// Sets the breaking-news bar (replacing any), or removes it with `None`. Every node hears
    /// of it through the change log, so every page cache drops its pages.
    pub async fn set_breaking_news(&self, news: Option<&BreakingNews>) -> StoreResult<()> {
        let mut tx = self.begin_logged_write().await?;
        sqlx::query("DELETE FROM breaking_news WHERE id = 1").execute(&mut *tx).await?;
        if let Some(news) = news {
            sqlx::query("INSERT INTO breaking_news (id, text, link, expires_at, set_at) VALUES (1, $1, $2, $3, $4)")
                .bind(&news.text)
                .bind(&news.link)
                .bind(news.expires_at)
                .bind(now_secs())
                .execute(&mut *tx)
                .await?;
        }
        super::changes::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(())
    }

    /// The breaking-news bar, unless there is none or it has expired.
    pub async fn breaking_news(&self) -> StoreResult<Option<BreakingNews>> {
        let row = sqlx::query("SELECT text, link, expires_at FROM breaking_news WHERE id = 1 AND expires_at > $1")
            .bind(now_secs())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| -> StoreResult<BreakingNews> {
            Ok(BreakingNews { text: r.try_get("text")?, link: r.try_get("link")?, expires_at: r.try_get("expires_at")? })
        })
        .transpose()
    }

    /// Adds a batch of views counted in memory to the hour `hour` (Unix seconds / 3600), in one
    /// transaction. Nothing else listens: no change-log row.
    pub async fn add_views(&self, hour: i64, counts: &[(i64, u64)]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for &(article_id, views) in counts {
            sqlx::query(
                "INSERT INTO article_views (article_id, hour, views) VALUES ($1, $2, $3) \
                 ON CONFLICT (article_id, hour) DO UPDATE SET views = article_views.views + excluded.views",
            )
            .bind(article_id)
            .bind(hour)
            .bind(i64::try_from(views).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The most viewed published articles since the hour `since_hour`, most viewed first.
    pub async fn most_read(&self, since_hour: i64, limit: i64) -> StoreResult<Vec<(ArticleSummary, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, CAST(SUM(v.views) AS BIGINT) AS total_views FROM article_views v JOIN articles a ON a.id = v.article_id \
             LEFT JOIN sections s ON s.id = a.section_id WHERE v.hour >= $1 AND a.status = 'published' \
             GROUP BY a.id, a.slug, a.headline, a.lead, a.published_at, s.slug, s.name ORDER BY total_views DESC, a.id DESC LIMIT $2"
        ))
        .bind(since_hour)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((summary_from_row(r)?, r.try_get::<i64, _>("total_views")?))).collect()
    }

    /// Views since the hour `since_hour` of the given articles (absent: none counted).
    pub async fn view_counts(&self, ids: &[i64], since_hour: i64) -> StoreResult<HashMap<i64, i64>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",");
        // `list` is made of integers only, never of input text.
        let rows = sqlx::query(&format!(
            "SELECT article_id, CAST(SUM(views) AS BIGINT) AS total_views FROM article_views WHERE hour >= $1 AND article_id IN ({list}) GROUP BY article_id"
        ))
        .bind(since_hour)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("article_id")?, r.try_get("total_views")?))).collect()
    }

    /// The first image of each of these articles that has one, for thumbnails.
    pub async fn lead_images(&self, ids: &[i64]) -> StoreResult<HashMap<i64, LeadImage>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!("SELECT id, body_json FROM articles WHERE id IN ({list})")).fetch_all(&self.pool).await?;
        let mut images = HashMap::new();
        for row in &rows {
            let body: String = row.try_get("body_json")?;
            // A body that does not parse has no image to show; the article page reports it.
            let Ok(blocks) = serde_json::from_str::<Vec<Block>>(&body) else { continue };
            let image = blocks.into_iter().find_map(|b| match b {
                Block::Image { src, alt, .. } if crate::domain::link::image_src(&src).is_some() => Some(LeadImage { src, alt }),
                _ => None,
            });
            if let Some(image) = image {
                images.insert(row.try_get("id")?, image);
            }
        }
        Ok(images)
    }

    /// An author's bio and photo, as the admin edits them. Returns false for an unknown id.
    pub async fn set_author_profile(&self, author_id: i64, bio: &str, photo: &str) -> StoreResult<bool> {
        let mut tx = self.begin_logged_write().await?;
        let done = sqlx::query("UPDATE authors SET bio = $1, photo = $2 WHERE id = $3")
            .bind(bio)
            .bind(photo)
            .bind(author_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        super::changes::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(true)
    }
}
