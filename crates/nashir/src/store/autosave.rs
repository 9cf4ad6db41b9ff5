//! The editor's autosaved working copies (`article_autosaves`): one per article and person,
//! kept apart from the revisions. They are not part of the article, so they write nothing to
//! the change log: no other node, index or cache has anything to do with them.

use super::{now_secs, Store, StoreResult};

/// A working copy as stored: the form's fields as JSON text, the article version it was
/// made from and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autosave {
    pub base_version: i64,
    pub fields: String,
    pub saved_at: i64,
}

impl Store {
    /// Stores (or replaces) `user_id`'s working copy of article `article_id`.
    pub async fn put_autosave(&self, article_id: i64, user_id: i64, base_version: i64, fields: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO article_autosaves (article_id, user_id, base_version, fields, saved_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (article_id, user_id) DO UPDATE SET base_version = excluded.base_version, fields = excluded.fields, saved_at = excluded.saved_at",
        )
        .bind(article_id)
        .bind(user_id)
        .bind(base_version)
        .bind(fields)
        .bind(now_secs())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `user_id`'s working copy of article `article_id`, if any.
    pub async fn autosave(&self, article_id: i64, user_id: i64) -> StoreResult<Option<Autosave>> {
        let row: Option<(i64, String, i64)> =
            sqlx::query_as("SELECT base_version, fields, saved_at FROM article_autosaves WHERE article_id = $1 AND user_id = $2")
                .bind(article_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(base_version, fields, saved_at)| Autosave { base_version, fields, saved_at }))
    }

    /// Forgets `user_id`'s working copy once they saved the article for real.
    pub async fn delete_autosave(&self, article_id: i64, user_id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM article_autosaves WHERE article_id = $1 AND user_id = $2")
            .bind(article_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
