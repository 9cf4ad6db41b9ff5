//! Article persistence: upsert from drafts (idempotent by source key), reads for pages and API.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::taxonomy::{get_or_create_cached, short_hash, unique_slug, Taxonomy, TaxonomyCache};
use super::{from_secs, now_secs, Store, StoreError, StoreResult};
use crate::domain::{title_key, Article, ArticleDraft, AuthorRef, Block, SectionRef, Slug, Status, TagRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsertOutcome {
    Created,
    Updated,
}

/// An article as shown in lists: no body.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub lead: String,
    pub section: Option<SectionRef>,
    pub published_at: Option<DateTime<Utc>>,
}

/// Where a read-also title points when an article with that title is published.
#[derive(Debug, Clone, Serialize)]
pub struct LinkTarget {
    pub id: i64,
    pub slug: String,
    pub headline: String,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub section_id: Option<i64>,
    pub author_id: Option<i64>,
    pub tag_id: Option<i64>,
    /// Only articles published at or after this Unix time.
    pub since: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

impl ListQuery {
    /// The WHERE conditions and their values, numbered from `$first`.
    fn conditions(&self, first: usize) -> (String, Vec<i64>) {
        let mut sql = String::from("a.status = 'published'");
        let mut values = Vec::new();
        let filters = [
            (self.section_id, "a.section_id = ${}"),
            (self.author_id, "EXISTS (SELECT 1 FROM article_authors x WHERE x.article_id = a.id AND x.author_id = ${})"),
            (self.tag_id, "EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id AND x.tag_id = ${})"),
            (self.since, "a.published_at >= ${}"),
        ];
        for (value, condition) in filters {
            if let Some(value) = value {
                sql.push_str(" AND ");
                sql.push_str(&condition.replace("${}", &format!("${}", first + values.len())));
                values.push(value);
            }
        }
        (sql, values)
    }
}

/// A published article's address and last change, for sitemaps.
#[derive(Debug, Clone)]
pub struct SitemapEntry {
    pub slug: String,
    pub headline: String,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const ARTICLE_COLUMNS: &str = "a.id, a.slug, a.headline, a.lead, a.body_json, a.status, a.published_at, a.created_at, a.updated_at, \
     a.language, a.source, a.version, s.slug AS section_slug, s.name AS section_name";

pub(super) const SUMMARY_COLUMNS: &str = "a.id, a.slug, a.headline, a.lead, a.published_at, s.slug AS section_slug, s.name AS section_name";

fn section_of(row: &AnyRow) -> StoreResult<Option<SectionRef>> {
    let slug: Option<String> = row.try_get("section_slug")?;
    let name: Option<String> = row.try_get("section_name")?;
    Ok(slug.zip(name).map(|(slug, name)| SectionRef { slug, name }))
}

pub(super) fn summary_from_row(row: &AnyRow) -> StoreResult<ArticleSummary> {
    Ok(ArticleSummary {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        headline: row.try_get("headline")?,
        lead: row.try_get("lead")?,
        section: section_of(row)?,
        published_at: row.try_get::<Option<i64>, _>("published_at")?.map(from_secs),
    })
}

impl Store {
    /// Inserts the draft, or updates the article with the same source key. Returns the id.
    pub async fn upsert_article(&self, draft: &ArticleDraft) -> StoreResult<(i64, UpsertOutcome)> {
        let mut tx = self.begin_logged_write().await?;
        let result = upsert_in(&mut tx, draft).await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(result)
    }

    /// Upserts many drafts in one transaction (importers send hundreds at a time: one commit
    /// per article would make the disk, not the parser, set the pace). All or nothing: on an
    /// error the caller retries one by one to find the bad draft.
    pub async fn upsert_articles(&self, drafts: &[ArticleDraft]) -> StoreResult<Vec<(i64, UpsertOutcome)>> {
        let mut tx = self.begin_logged_write().await?;
        let mut done = Vec::with_capacity(drafts.len());
        let mut cache = TaxonomyCache::new();
        for draft in drafts {
            done.push(upsert_cached(&mut tx, draft, &mut cache).await?);
        }
        tx.commit().await?;
        self.bump_epoch();
        Ok(done)
    }

    /// A published article by numeric id or slug.
    pub async fn published_article(&self, id_or_slug: &str) -> StoreResult<Option<Article>> {
        let row = match id_or_slug.parse::<i64>() {
            Ok(id) => {
                sqlx::query(&format!(
                    "SELECT {ARTICLE_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id WHERE a.id = $1 AND a.status = 'published'"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
            }
            Err(_) => {
                sqlx::query(&format!(
                    "SELECT {ARTICLE_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id WHERE a.slug = $1 AND a.status = 'published'"
                ))
                .bind(id_or_slug)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        match row {
            Some(row) => Ok(Some(self.article_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    /// The published articles among `ids`, each with its lead and body as one text (for search
    /// hits and their snippets), in one query.
    pub async fn published_texts(&self, ids: &[i64]) -> StoreResult<HashMap<i64, (ArticleSummary, String)>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, a.status, a.body_json FROM articles a LEFT JOIN sections s ON s.id = a.section_id \
             WHERE a.id IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let mut texts = HashMap::with_capacity(ids.len());
        for row in query.fetch_all(&self.pool).await? {
            // Filtered here, not in SQL: `AND a.status = 'published'` made SQLite walk the
            // (status, …) index instead of looking the ids up (1.5 ms a search on 20,000 articles).
            if row.try_get::<String, _>("status")? != Status::Published.as_str() {
                continue;
            }
            let summary = summary_from_row(&row)?;
            let body_json: String = row.try_get("body_json")?;
            let mut text = summary.lead.clone();
            crate::domain::body_text_from_json(&body_json, &mut text)
                .map_err(|e| StoreError::Corrupt(format!("article {} body: {e}", summary.id)))?;
            texts.insert(summary.id, (summary, text));
        }
        Ok(texts)
    }

    /// Any article by id, whatever its status (for editors and indexing).
    pub async fn article_by_id(&self, id: i64) -> StoreResult<Option<Article>> {
        let row =
            sqlx::query(&format!("SELECT {ARTICLE_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id WHERE a.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok(Some(self.article_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn article_from_row(&self, row: &AnyRow) -> StoreResult<Article> {
        let id: i64 = row.try_get("id")?;
        let body_json: String = row.try_get("body_json")?;
        let body: Vec<Block> = serde_json::from_str(&body_json).map_err(|e| StoreError::Corrupt(format!("article {id} body: {e}")))?;
        let status: String = row.try_get("status")?;
        let slug: String = row.try_get("slug")?;
        let authors = sqlx::query("SELECT au.slug, au.name FROM article_authors aa JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = $1 ORDER BY aa.position")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(AuthorRef { slug: r.try_get("slug")?, name: r.try_get("name")? }))
            .collect::<StoreResult<Vec<_>>>()?;
        let tags = sqlx::query(
            "SELECT t.slug, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id = $1 ORDER BY t.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(TagRef { slug: r.try_get("slug")?, name: r.try_get("name")? }))
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(Article {
            id,
            slug: Slug::parse(&slug).map_err(|e| StoreError::Corrupt(format!("article {id}: {e}")))?,
            headline: row.try_get("headline")?,
            lead: row.try_get("lead")?,
            body,
            section: section_of(row)?,
            authors,
            tags,
            status: Status::parse(&status).map_err(|e| StoreError::Corrupt(format!("article {id}: {e}")))?,
            published_at: row.try_get::<Option<i64>, _>("published_at")?.map(from_secs),
            created_at: from_secs(row.try_get("created_at")?),
            updated_at: from_secs(row.try_get("updated_at")?),
            language: row.try_get("language")?,
            source: row.try_get("source")?,
            version: row.try_get("version")?,
        })
    }

    /// Published articles, newest first, with the total count for pagination.
    /// One page of published articles and how many match in all (for pagination).
    pub async fn list_published(&self, query: &ListQuery) -> StoreResult<(Vec<ArticleSummary>, i64)> {
        let page = self.latest_published(query).await?;
        let (conditions, values) = query.conditions(1);
        let count_sql = format!("SELECT COUNT(*) FROM articles a WHERE {conditions}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for v in &values {
            count = count.bind(*v);
        }
        let total = count.fetch_one(&self.pool).await?;
        Ok((page, total))
    }

    /// One page of published articles, newest first, without counting the rest: the count
    /// walks every matching row (200,000 of them on a large archive, once per section block
    /// of the home page), and the home page and the feeds never show it.
    pub async fn latest_published(&self, query: &ListQuery) -> StoreResult<Vec<ArticleSummary>> {
        let (conditions, values) = query.conditions(3);
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id \
             WHERE {conditions} ORDER BY a.published_at DESC, a.id DESC LIMIT $1 OFFSET $2"
        );
        let mut rows = sqlx::query(&sql).bind(query.limit).bind(query.offset);
        for v in &values {
            rows = rows.bind(*v);
        }
        let rows = rows.fetch_all(&self.pool).await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Published articles with `first_id <= id < first_id + count`, in id order, for one
    /// sitemap file. A range of ids, not an OFFSET: each file costs the same at any depth of
    /// the archive (an OFFSET walks every row before the page, so all the files of a large
    /// archive together cost its square).
    pub async fn sitemap_entries(&self, first_id: i64, count: i64) -> StoreResult<Vec<SitemapEntry>> {
        // `status || ''`: see `related::published_sources` (the status index read every
        // published row for each file).
        let rows = sqlx::query(
            "SELECT slug, headline, published_at, updated_at FROM articles \
             WHERE status || '' = 'published' AND id >= $1 AND id < $2 ORDER BY id",
        )
        .bind(first_id)
        .bind(first_id.saturating_add(count))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SitemapEntry {
                    slug: r.try_get("slug")?,
                    headline: r.try_get("headline")?,
                    published_at: r.try_get::<Option<i64>, _>("published_at")?.map(from_secs),
                    updated_at: from_secs(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    /// The id blocks of `size` ids (block `b` holds ids `b*size ..< (b+1)*size`) that hold at
    /// least one published article, ascending: the article sitemap files that are not empty.
    pub async fn sitemap_blocks(&self, size: i64) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT id / $1 AS block FROM articles WHERE status = 'published' ORDER BY block")
            .bind(size.max(1))
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn published_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE status = 'published'").fetch_one(&self.pool).await?)
    }

    /// For each read-also title, the newest published article with that title, if any.
    pub async fn link_targets(&self, titles: &[&str]) -> StoreResult<HashMap<String, LinkTarget>> {
        let mut found = HashMap::new();
        for title in titles {
            let key = title_key(title);
            if key.is_empty() || found.contains_key(&key) {
                continue;
            }
            let row = sqlx::query(
                "SELECT id, slug, headline FROM articles WHERE headline_key = $1 AND status = 'published' ORDER BY published_at DESC, id DESC LIMIT 1",
            )
            .bind(&key)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                found.insert(key, LinkTarget { id: row.try_get("id")?, slug: row.try_get("slug")?, headline: row.try_get("headline")? });
            }
        }
        Ok(found)
    }

    /// Ids of every article, for rebuilding derived state.
    pub async fn all_article_ids(&self) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM articles ORDER BY id").fetch_all(&self.pool).await?)
    }

    /// How many articles have ended with this (normalized) line before; counts this sighting.
    pub async fn record_trailing_line(&self, line_key: &str) -> StoreResult<i64> {
        sqlx::query("INSERT INTO trailing_lines (line_key, seen) VALUES ($1, 1) ON CONFLICT (line_key) DO UPDATE SET seen = trailing_lines.seen + 1")
            .bind(line_key)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT seen FROM trailing_lines WHERE line_key = $1").bind(line_key).fetch_one(&self.pool).await?)
    }

    pub async fn trailing_line_count(&self, line_key: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT seen FROM trailing_lines WHERE line_key = $1")
            .bind(line_key)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(0))
    }
}

pub(super) async fn upsert_in(tx: &mut Transaction<'_, Any>, draft: &ArticleDraft) -> StoreResult<(i64, UpsertOutcome)> {
    upsert_cached(tx, draft, &mut TaxonomyCache::new()).await
}

async fn upsert_cached(
    tx: &mut Transaction<'_, Any>,
    draft: &ArticleDraft,
    cache: &mut TaxonomyCache,
) -> StoreResult<(i64, UpsertOutcome)> {
    // Every importer and the editor write through here: control characters stop at the door.
    let clean = draft.sanitized();
    let draft: &ArticleDraft = &clean;
    let now = now_secs();
    let section_id = match &draft.section {
        Some(name) if !name.trim().is_empty() => Some(get_or_create_cached(tx, Taxonomy::Section, name, cache).await?),
        _ => None,
    };
    let body_json = serde_json::to_string(&draft.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let headline = draft.headline.as_str();
    let published_at = draft.published_at.map(|t| t.timestamp());
    let existing = match &draft.source_key {
        Some(key) => {
            sqlx::query_scalar::<_, i64>("SELECT id FROM articles WHERE source_key = $1").bind(key).fetch_optional(&mut **tx).await?
        }
        None => None,
    };
    let (id, outcome) = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE articles SET headline = $1, headline_key = $2, lead = $3, body_json = $4, section_id = $5, status = $6, \
                 published_at = $7, updated_at = $8, language = $9, source = $10, version = version + 1 WHERE id = $11",
            )
            .bind(headline)
            .bind(title_key(headline))
            .bind(&draft.lead)
            .bind(&body_json)
            .bind(section_id)
            .bind(draft.status.as_str())
            .bind(published_at)
            .bind(now)
            .bind(&draft.language)
            .bind(&draft.source)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            (id, UpsertOutcome::Updated)
        }
        None => {
            let fallback = format!("article-{}", short_hash(&format!("{headline}{now}{:?}", draft.source_key)));
            let base = draft.slug.clone().unwrap_or_else(|| Slug::from_title(headline, &fallback));
            let slug = unique_slug(tx, "articles", &base).await?;
            let id = sqlx::query_scalar::<_, i64>(
                "INSERT INTO articles (slug, headline, headline_key, lead, body_json, section_id, status, published_at, created_at, updated_at, \
                 language, source, source_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12) RETURNING id",
            )
            .bind(slug.as_str())
            .bind(headline)
            .bind(title_key(headline))
            .bind(&draft.lead)
            .bind(&body_json)
            .bind(section_id)
            .bind(draft.status.as_str())
            .bind(published_at)
            .bind(now)
            .bind(&draft.language)
            .bind(&draft.source)
            .bind(&draft.source_key)
            .fetch_one(&mut **tx)
            .await?;
            (id, UpsertOutcome::Created)
        }
    };
    replace_names(tx, id, draft, cache).await?;
    let kind = match outcome {
        UpsertOutcome::Created => "created",
        UpsertOutcome::Updated => "updated",
    };
    super::changes::log_change(tx, id, kind).await?;
    Ok((id, outcome))
}

/// Replaces an article's authors (in the draft's order) and tags with the draft's, creating
/// the names that do not exist yet.
pub(super) async fn replace_names(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    draft: &ArticleDraft,
    cache: &mut TaxonomyCache,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM article_authors WHERE article_id = $1").bind(id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM article_tags WHERE article_id = $1").bind(id).execute(&mut **tx).await?;
    for (position, name) in draft.authors.iter().filter(|n| !n.trim().is_empty()).enumerate() {
        let author_id = get_or_create_cached(tx, Taxonomy::Author, name, cache).await?;
        sqlx::query("INSERT INTO article_authors (article_id, author_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(author_id)
            .bind(position as i64)
            .execute(&mut **tx)
            .await?;
    }
    for name in draft.tags.iter().filter(|n| !n.trim().is_empty()) {
        let tag_id = get_or_create_cached(tx, Taxonomy::Tag, name, cache).await?;
        sqlx::query("INSERT INTO article_tags (article_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(tag_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
