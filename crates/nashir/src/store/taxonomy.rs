//! Sections, authors and tags: named things found by a normalized name key, so that
//! «الإقتصاد» and «الاقتصاد» are one section.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreResult};
use crate::domain::{title_key, Slug};

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Author {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: String,
    /// The author's photo: an address of ours (`/media/…`) or https, or empty.
    pub photo: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// Which of the three name tables a lookup is for. Table names never come from input.
#[derive(Clone, Copy)]
pub(crate) enum Taxonomy {
    Section,
    Author,
    Tag,
}

impl Taxonomy {
    fn table(self) -> &'static str {
        match self {
            Taxonomy::Section => "sections",
            Taxonomy::Author => "authors",
            Taxonomy::Tag => "tags",
        }
    }

    fn fallback_prefix(self) -> &'static str {
        match self {
            Taxonomy::Section => "section",
            Taxonomy::Author => "author",
            Taxonomy::Tag => "tag",
        }
    }
}

/// The name as stored (whitespace collapsed) and the key that finds it.
fn name_and_key(name: &str) -> (String, String) {
    let name = crate::domain::collapse_whitespace(name);
    let key = title_key(&name);
    let key = if key.is_empty() { name.clone() } else { key };
    (name, key)
}

/// Finds a named row by its normalized key, creating it (with a unique slug) when missing.
/// `preferred_slug` wins over the slug derived from the name when it is free.
pub(crate) async fn get_or_create(
    tx: &mut Transaction<'_, Any>,
    kind: Taxonomy,
    name: &str,
    preferred_slug: Option<&str>,
) -> StoreResult<i64> {
    let table = kind.table();
    let (name, key) = name_and_key(name);
    if let Some(id) =
        sqlx::query_scalar::<_, i64>(&format!("SELECT id FROM {table} WHERE name_key = $1")).bind(&key).fetch_optional(&mut **tx).await?
    {
        return Ok(id);
    }
    let fallback = format!("{}-{}", kind.fallback_prefix(), short_hash(&key));
    let base = preferred_slug.and_then(|s| Slug::parse(s).ok()).unwrap_or_else(|| Slug::from_title(&name, &fallback));
    let slug = unique_slug(tx, table, &base).await?;
    let id = sqlx::query_scalar::<_, i64>(&format!("INSERT INTO {table} (slug, name, name_key) VALUES ($1, $2, $3) RETURNING id"))
        .bind(slug.as_str())
        .bind(&name)
        .bind(&key)
        .fetch_one(&mut **tx)
        .await?;
    Ok(id)
}

/// Ids found or created during one transaction, by table and name: a batch of imported
/// articles names the same few sections and authors hundreds of times.
pub(crate) type TaxonomyCache = std::collections::HashMap<(&'static str, String), i64>;

pub(crate) async fn get_or_create_cached(
    tx: &mut Transaction<'_, Any>,
    kind: Taxonomy,
    name: &str,
    cache: &mut TaxonomyCache,
) -> StoreResult<i64> {
    let key = (kind.table(), crate::domain::collapse_whitespace(name));
    if let Some(id) = cache.get(&key) {
        return Ok(*id);
    }
    let id = get_or_create(tx, kind, name, None).await?;
    cache.insert(key, id);
    Ok(id)
}

/// The first of `base`, `base-2`, `base-3`… not yet used in `table`.
pub(crate) async fn unique_slug(tx: &mut Transaction<'_, Any>, table: &str, base: &Slug) -> StoreResult<Slug> {
    let mut candidate = base.clone();
    for n in 2u32.. {
        let taken = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table} WHERE slug = $1"))
            .bind(candidate.as_str())
            .fetch_one(&mut **tx)
            .await?;
        if taken == 0 {
            break;
        }
        candidate = base.with_suffix(n);
    }
    Ok(candidate)
}

pub(crate) fn short_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(s.as_bytes())[..4])
}

fn section_from_row(row: &AnyRow) -> StoreResult<Section> {
    Ok(Section { id: row.try_get("id")?, slug: row.try_get("slug")?, name: row.try_get("name")?, description: row.try_get("description")? })
}

impl Store {
    /// Sections readers see (navigation, lists, sitemaps, sign-up choices), in display order:
    /// only those with at least one published article, so a name typed into a draft is never
    /// public before an editor publishes it.
    pub async fn sections(&self) -> StoreResult<Vec<Section>> {
        let rows = sqlx::query(
            "SELECT id, slug, name, description FROM sections s WHERE EXISTS \
             (SELECT 1 FROM articles a WHERE a.section_id = s.id AND a.status = 'published') ORDER BY position, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(section_from_row).collect()
    }

    /// Every section, published articles or not, for the newsroom's own pages.
    pub async fn all_sections(&self) -> StoreResult<Vec<Section>> {
        let rows = sqlx::query("SELECT id, slug, name, description FROM sections ORDER BY position, id").fetch_all(&self.pool).await?;
        rows.iter().map(section_from_row).collect()
    }

    /// Whether a section of this name (compared as sections are matched: normalized) exists.
    pub async fn section_exists(&self, name: &str) -> StoreResult<bool> {
        let (_, key) = name_and_key(name);
        let n = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sections WHERE name_key = $1").bind(&key).fetch_one(&self.pool).await?;
        Ok(n > 0)
    }

    pub async fn section_by_slug(&self, slug: &str) -> StoreResult<Option<Section>> {
        let row =
            sqlx::query("SELECT id, slug, name, description FROM sections WHERE slug = $1").bind(slug).fetch_optional(&self.pool).await?;
        row.as_ref().map(section_from_row).transpose()
    }

    /// Creates or updates a section with a chosen slug (used by the demo and by editors).
    pub async fn upsert_section(&self, slug: &str, name: &str, description: &str, position: i64) -> StoreResult<i64> {
        let mut tx = self.begin_logged_write().await?;
        let id = get_or_create(&mut tx, Taxonomy::Section, name, Some(slug)).await?;
        sqlx::query("UPDATE sections SET description = $1, position = $2 WHERE id = $3")
            .bind(description)
            .bind(position)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        super::changes::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(id)
    }

    pub async fn upsert_author(&self, slug: &str, name: &str, bio: &str) -> StoreResult<i64> {
        let mut tx = self.begin_logged_write().await?;
        let id = get_or_create(&mut tx, Taxonomy::Author, name, Some(slug)).await?;
        sqlx::query("UPDATE authors SET bio = $1 WHERE id = $2").bind(bio).bind(id).execute(&mut *tx).await?;
        super::changes::log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(id)
    }

    pub async fn tag_by_slug(&self, slug: &str) -> StoreResult<Option<Tag>> {
        let row = sqlx::query("SELECT id, slug, name FROM tags WHERE slug = $1").bind(slug).fetch_optional(&self.pool).await?;
        row.map(|row| -> StoreResult<Tag> { Ok(Tag { id: row.try_get("id")?, slug: row.try_get("slug")?, name: row.try_get("name")? }) })
            .transpose()
    }

    /// Authors readers see: only those named on at least one published article.
    pub async fn authors(&self) -> StoreResult<Vec<Author>> {
        self.authors_where(
            "WHERE EXISTS (SELECT 1 FROM article_authors aa JOIN articles a ON a.id = aa.article_id \
             WHERE aa.author_id = authors.id AND a.status = 'published')",
        )
        .await
    }

    /// Every author, for the newsroom's own pages.
    pub async fn all_authors(&self) -> StoreResult<Vec<Author>> {
        self.authors_where("").await
    }

    /// `filter` is one of the constant clauses above, never input.
    async fn authors_where(&self, filter: &str) -> StoreResult<Vec<Author>> {
        let rows =
            sqlx::query(&format!("SELECT id, slug, name, bio, photo FROM authors {filter} ORDER BY name")).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(Author {
                    id: row.try_get("id")?,
                    slug: row.try_get("slug")?,
                    name: row.try_get("name")?,
                    bio: row.try_get("bio")?,
                    photo: row.try_get("photo")?,
                })
            })
            .collect()
    }

    /// Tags readers see: only those on at least one published article.
    pub async fn tags(&self) -> StoreResult<Vec<Tag>> {
        self.tags_where(
            "WHERE EXISTS (SELECT 1 FROM article_tags t JOIN articles a ON a.id = t.article_id \
             WHERE t.tag_id = tags.id AND a.status = 'published')",
        )
        .await
    }

    /// Every tag, for the newsroom's own pages.
    pub async fn all_tags(&self) -> StoreResult<Vec<Tag>> {
        self.tags_where("").await
    }

    /// `filter` is one of the constant clauses above, never input.
    async fn tags_where(&self, filter: &str) -> StoreResult<Vec<Tag>> {
        let rows = sqlx::query(&format!("SELECT id, slug, name FROM tags {filter} ORDER BY name")).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok(Tag { id: row.try_get("id")?, slug: row.try_get("slug")?, name: row.try_get("name")? })).collect()
    }

    pub async fn author_by_slug(&self, slug: &str) -> StoreResult<Option<Author>> {
        let row =
            sqlx::query("SELECT id, slug, name, bio, photo FROM authors WHERE slug = $1").bind(slug).fetch_optional(&self.pool).await?;
        row.map(|row| -> StoreResult<Author> {
            Ok(Author {
                id: row.try_get("id")?,
                slug: row.try_get("slug")?,
                name: row.try_get("name")?,
                bio: row.try_get("bio")?,
                photo: row.try_get("photo")?,
            })
        })
        .transpose()
    }
}
