//! The media library: uploads listed newest first, found by file name or description, their
//! texts edited, where each is used, and deleting one nobody uses.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{MediaRecord, Store, StoreResult};

const COLUMNS: &str = "id, file_name, content_type, width, height, bytes, alt, created_at, caption, credit, uploaded_by";

fn media_from_row(r: &AnyRow) -> StoreResult<MediaRecord> {
    Ok(MediaRecord {
        id: r.try_get("id")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        width: r.try_get("width")?,
        height: r.try_get("height")?,
        bytes: r.try_get("bytes")?,
        alt: r.try_get("alt")?,
        created_at: r.try_get("created_at")?,
        caption: r.try_get("caption")?,
        credit: r.try_get("credit")?,
        uploaded_by: r.try_get("uploaded_by")?,
    })
}

/// `%text%` for LIKE, with LIKE's own wildcards in `text` taken literally (escape `\`).
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// An article that uses an upload, for the library's "used in" list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MediaUse {
    pub id: i64,
    pub headline: String,
    pub status: String,
}

impl Store {
    /// The newest uploads, or those whose file name, description, caption or credit contains
    /// `query` (case-insensitive for Latin letters), older than the id `before` when given
    /// (keyset paging: each page is an index range, however large the library).
    pub async fn media_list(&self, query: Option<&str>, before: Option<i64>, limit: i64) -> StoreResult<Vec<MediaRecord>> {
        let before = before.unwrap_or(i64::MAX);
        let rows = match query.map(str::trim).filter(|q| !q.is_empty()) {
            None => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM media WHERE id < $1 ORDER BY id DESC LIMIT $2"))
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(q) => {
                let pattern = contains_pattern(&q.to_lowercase());
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM media WHERE id < $1 AND (LOWER(file_name) LIKE $2 ESCAPE '\\' OR LOWER(alt) LIKE $2 ESCAPE '\\' \
                     OR LOWER(caption) LIKE $2 ESCAPE '\\' OR LOWER(credit) LIKE $2 ESCAPE '\\') ORDER BY id DESC LIMIT $3"
                ))
                .bind(before)
                .bind(pattern)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(media_from_row).collect()
    }

    pub async fn media_by_id(&self, id: i64) -> StoreResult<Option<MediaRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM media WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(media_from_row).transpose()
    }

    /// The upload whose original or one of whose variants is `/media/{name}`.
    pub async fn media_by_file_name(&self, name: &str) -> StoreResult<Option<MediaRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM media WHERE file_name = $1")).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(media_from_row).transpose()
    }

    /// Sets an upload's description, caption and credit. False when there is no such upload.
    pub async fn update_media_text(&self, id: i64, alt: &str, caption: &str, credit: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE media SET alt = $1, caption = $2, credit = $3 WHERE id = $4")
            .bind(alt)
            .bind(caption)
            .bind(credit)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Articles (any status) whose body or featured image uses the upload `stem` (its file
    /// name without the extension, which every variant's name starts with), at most `limit`.
    /// A scan of the bodies, bounded by the archive: fine for an editor's page, never public.
    pub async fn media_uses(&self, stem: &str, limit: i64) -> StoreResult<Vec<MediaUse>> {
        let rows = sqlx::query("SELECT id, headline, status FROM articles WHERE body_json LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2")
            .bind(contains_pattern(&format!("/media/{stem}")))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(MediaUse { id: r.try_get("id")?, headline: r.try_get("headline")?, status: r.try_get("status")? })).collect()
    }

    /// Deletes an upload's row, only if no article uses it (checked in the same transaction
    /// as the delete, so an article saved meanwhile is seen). `Ok(false)`: in use or gone.
    pub async fn delete_unused_media(&self, id: i64, stem: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE body_json LIKE $1 ESCAPE '\\'")
            .bind(contains_pattern(&format!("/media/{stem}")))
            .fetch_one(&mut *tx)
            .await?;
        if used > 0 {
            return Ok(false);
        }
        let done = sqlx::query("DELETE FROM media WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(super::contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
