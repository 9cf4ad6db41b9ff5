//! Old addresses of imported articles, answered with a 301 to the article's page.

use super::{Store, StoreResult};

/// The form an old address is stored and looked up in: percent-decoded, without a trailing
/// slash (except the root), with `?query` appended when given (`/?p=123`).
pub fn redirect_key(path: &str, query: Option<&str>) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut key = decoded.trim_end_matches('/').to_string();
    if !key.starts_with('/') {
        key.insert(0, '/');
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        key.push('?');
        key.push_str(&percent_encoding::percent_decode_str(q).decode_utf8_lossy());
    }
    key
}

impl Store {
    /// Remembers old addresses (already in `redirect_key` form) of articles; a later import
    /// of the same address points it at the newer article.
    pub async fn add_redirects(&self, entries: &[(String, i64)]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        // Last one wins, and one statement may not touch a row twice (PostgreSQL).
        let mut unique: Vec<&(String, i64)> = Vec::with_capacity(entries.len());
        let mut seen = std::collections::HashSet::new();
        for entry in entries.iter().rev() {
            if seen.insert(entry.0.as_str()) {
                unique.push(entry);
            }
        }
        let mut tx = self.begin_logged_write().await?;
        for chunk in unique.chunks(200) {
            let values: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect();
            let sql = format!(
                "INSERT INTO redirects (old_path, article_id) VALUES {} ON CONFLICT (old_path) DO UPDATE SET article_id = excluded.article_id",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (old_path, article_id) in chunk {
                query = query.bind(old_path).bind(article_id);
            }
            query.execute(&mut *tx).await?;
        }
        super::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(())
    }

    /// The slug of the published article an old address now lives at.
    pub async fn redirect_target(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT a.slug FROM redirects r JOIN articles a ON a.id = r.article_id WHERE r.old_path = $1 AND a.status = 'published'",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_key;

    #[test]
    fn keys_are_decoded_and_trimmed() {
        assert_eq!(redirect_key("/2021/12/03/%D8%AE%D8%A8%D8%B1/", None), "/2021/12/03/خبر");
        assert_eq!(redirect_key("/", Some("p=123")), "/?p=123");
        assert_eq!(redirect_key("slug", None), "/slug");
    }
}
