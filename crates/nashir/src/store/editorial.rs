//! Editing articles: create, versioned update, revisions, the admin list, scheduled
//! publishing and uploaded media. Every article write appends to `changes`.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::articles::upsert_in;
use super::changes::log_change;
use super::taxonomy::{get_or_create, Taxonomy};
use super::{from_secs, now_secs, Store, StoreError, StoreResult};
use crate::domain::{title_key, ArticleDraft, Block, Slug, Status};

/// What an editor saved, kept per revision to diff and restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub headline: String,
    pub lead: String,
    pub body: Vec<Block>,
    pub section: Option<String>,
    pub tags: Vec<String>,
    pub authors: Vec<String>,
    pub slug: String,
    pub status: Status,
    pub published_at: Option<i64>,
}

/// Who may touch an article, in what state it is.
#[derive(Debug, Clone, Copy)]
pub struct ArticleMeta {
    pub id: i64,
    pub status: Status,
    pub version: i64,
    pub created_by: Option<i64>,
    pub submitted_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("المقال غير موجود")]
    NotFound,
    #[error("عدّل شخص آخر هذا المقال بعد أن فتحته (النسخة {current})؛ لم يُحفظ شيء. افتح النسخة الأحدث وأعد تعديلك.")]
    VersionConflict { current: i64 },
    #[error("المعرّف النصي «{0}» مستخدم لمقال آخر")]
    SlugTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for EditError {
    fn from(e: sqlx::Error) -> Self {
        EditError::Store(e.into())
    }
}

#[derive(Debug, Clone, Default)]
pub struct AdminFilter {
    /// draft, scheduled, published, or review (drafts submitted for review).
    pub status: Option<String>,
    pub section: Option<String>,
    pub author: Option<String>,
    pub query: Option<String>,
    pub created_by: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdminRow {
    pub id: i64,
    pub headline: String,
    pub slug: String,
    pub status: Status,
    pub submitted: bool,
    pub section: Option<String>,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub created_by: Option<i64>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionInfo {
    pub id: i64,
    pub version: i64,
    pub user_name: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MediaRecord {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub bytes: i64,
    pub alt: String,
    pub created_at: i64,
    pub caption: String,
    pub credit: String,
    pub uploaded_by: Option<i64>,
}

fn snapshot_of(draft: &ArticleDraft, slug: &str) -> Snapshot {
    Snapshot {
        headline: draft.headline.as_str().to_string(),
        lead: draft.lead.clone(),
        body: draft.body.clone(),
        section: draft.section.clone().filter(|s| !s.trim().is_empty()),
        tags: draft.tags.clone(),
        authors: draft.authors.clone(),
        slug: slug.to_string(),
        status: draft.status,
        published_at: draft.published_at.map(|t| t.timestamp()),
    }
}

async fn add_revision(tx: &mut Transaction<'_, Any>, id: i64, version: i64, user: Option<i64>, snapshot: &Snapshot) -> StoreResult<()> {
    let json = serde_json::to_string(snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("INSERT INTO revisions (article_id, version, user_id, created_at, snapshot) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(version)
        .bind(user)
        .bind(now_secs())
        .bind(json)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The article as a snapshot, read inside a write transaction (so it sees that
/// transaction's own changes).
async fn snapshot_in(tx: &mut Transaction<'_, Any>, id: i64) -> StoreResult<Option<Snapshot>> {
    let row = sqlx::query(
        "SELECT a.headline, a.lead, a.body_json, a.slug, a.status, a.published_at, s.name AS section_name \
         FROM articles a LEFT JOIN sections s ON s.id = a.section_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let body_json: String = row.try_get("body_json")?;
    let status: String = row.try_get("status")?;
    let authors: Vec<String> = sqlx::query_scalar(
        "SELECT au.name FROM article_authors aa JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = $1 ORDER BY aa.position",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let tags: Vec<String> =
        sqlx::query_scalar("SELECT t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id = $1 ORDER BY t.name")
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
    Ok(Some(Snapshot {
        headline: row.try_get("headline")?,
        lead: row.try_get("lead")?,
        body: serde_json::from_str(&body_json).map_err(|e| StoreError::Corrupt(format!("article {id} body: {e}")))?,
        section: row.try_get("section_name")?,
        tags,
        authors,
        slug: row.try_get("slug")?,
        status: Status::parse(&status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        published_at: row.try_get("published_at")?,
    }))
}

fn meta_from_row(row: &AnyRow) -> StoreResult<ArticleMeta> {
    let status: String = row.try_get("status")?;
    Ok(ArticleMeta {
        id: row.try_get("id")?,
        status: Status::parse(&status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        version: row.try_get("version")?,
        created_by: row.try_get("created_by")?,
        submitted_at: row.try_get("submitted_at")?,
    })
}

impl Store {
    /// A new article written in the editor, owned by `user_id`. Returns its id.
    pub async fn create_article(&self, draft: &ArticleDraft, user_id: Option<i64>) -> Result<i64, EditError> {
        let mut draft = draft.sanitized().into_owned();
        draft.source_key = None;
        let mut tx = self.begin_logged_write().await?;
        let (id, _) = upsert_in(&mut tx, &draft).await?;
        sqlx::query("UPDATE articles SET created_by = $1 WHERE id = $2").bind(user_id).bind(id).execute(&mut *tx).await?;
        let slug: String = sqlx::query_scalar("SELECT slug FROM articles WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        add_revision(&mut tx, id, 1, user_id, &snapshot_of(&draft, &slug)).await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(id)
    }

    pub async fn article_meta(&self, id: i64) -> StoreResult<Option<ArticleMeta>> {
        let row = sqlx::query("SELECT id, status, version, created_by, submitted_at FROM articles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(meta_from_row).transpose()
    }

    /// Saves an edit when the article is still at `expected_version`; otherwise nothing is
    /// written and the caller learns the current version. `submitted`: Some(true) marks the
    /// draft as waiting for review, Some(false) clears the mark. Returns the new version.
    pub async fn update_article(
        &self,
        id: i64,
        expected_version: i64,
        draft: &ArticleDraft,
        user_id: Option<i64>,
        submitted: Option<bool>,
    ) -> Result<i64, EditError> {
        let clean = draft.sanitized();
        let draft: &ArticleDraft = &clean;
        let mut tx = self.begin_logged_write().await?;
        let current: Option<(String, i64)> = sqlx::query("SELECT slug, version FROM articles WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get("slug")?, r.try_get("version")?)))
            .transpose()?;
        let Some((current_slug, current_version)) = current else { return Err(EditError::NotFound) };
        if current_version != expected_version {
            return Err(EditError::VersionConflict { current: current_version });
        }
        let slug = match &draft.slug {
            Some(s) if s.as_str() != current_slug => {
                let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE slug = $1 AND id <> $2")
                    .bind(s.as_str())
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                if taken > 0 {
                    return Err(EditError::SlugTaken(s.to_string()));
                }
                s.to_string()
            }
            _ => current_slug,
        };
        let section_id = match &draft.section {
            Some(name) if !name.trim().is_empty() => Some(get_or_create(&mut tx, Taxonomy::Section, name, None).await?),
            _ => None,
        };
        let body_json = serde_json::to_string(&draft.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let submitted_at = match submitted {
            Some(true) => Some(now_secs()),
            _ => None,
        };
        let keep_submitted = if submitted.is_none() { 1i64 } else { 0 };
        let done = sqlx::query(
            "UPDATE articles SET slug = $1, headline = $2, headline_key = $3, lead = $4, body_json = $5, section_id = $6, status = $7, \
             published_at = $8, updated_at = $9, submitted_at = CASE WHEN $10 = 1 THEN submitted_at ELSE $11 END, version = version + 1 \
             WHERE id = $12 AND version = $13",
        )
        .bind(&slug)
        .bind(draft.headline.as_str())
        .bind(title_key(draft.headline.as_str()))
        .bind(&draft.lead)
        .bind(&body_json)
        .bind(section_id)
        .bind(draft.status.as_str())
        .bind(draft.published_at.map(|t| t.timestamp()))
        .bind(now_secs())
        .bind(keep_submitted)
        .bind(submitted_at)
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Another writer committed between our read and our update.
            return Err(EditError::VersionConflict { current: expected_version + 1 });
        }
        super::articles::replace_names(&mut tx, id, draft, &mut super::taxonomy::TaxonomyCache::new()).await?;
        log_change(&mut tx, id, "updated").await?;
        add_revision(&mut tx, id, expected_version + 1, user_id, &snapshot_of(draft, &slug)).await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(expected_version + 1)
    }

    /// Publishes (or unpublishes to a draft) without other edits, for the API.
    pub async fn set_article_status(
        &self,
        id: i64,
        status: Status,
        published_at: Option<i64>,
        user_id: Option<i64>,
    ) -> Result<i64, EditError> {
        let mut tx = self.begin_logged_write().await?;
        // Idempotent: publishing what is already published (a script retrying after a lost
        // answer or a crash), or repeating the same schedule, changes nothing and makes no
        // revision. The write lock taken above makes this read-then-write safe.
        let current: Option<(String, Option<i64>, i64)> =
            sqlx::query_as("SELECT status, published_at, version FROM articles WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        let Some((current_status, current_published_at, current_version)) = current else { return Err(EditError::NotFound) };
        if current_status == status.as_str() && (status == Status::Published || current_published_at == published_at) {
            return Ok(current_version);
        }
        let version: Option<i64> =
            sqlx::query_scalar("UPDATE articles SET status = $1, published_at = $2, updated_at = $3, submitted_at = NULL, version = version + 1 WHERE id = $4 RETURNING version")
                .bind(status.as_str())
                .bind(published_at)
                .bind(now_secs())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(version) = version else { return Err(EditError::NotFound) };
        let kind = match status {
            Status::Draft => "unpublished",
            Status::Scheduled => "scheduled",
            Status::Published => "published",
        };
        log_change(&mut tx, id, kind).await?;
        // The revision records the state after the change, like any save, in the same
        // transaction: a crash between two commits used to leave a status change without its
        // revision (and a version the revisions page did not know).
        let snapshot = snapshot_in(&mut tx, id).await?.ok_or(EditError::NotFound)?;
        add_revision(&mut tx, id, version, user_id, &snapshot).await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(version)
    }

    /// The article as a snapshot, the shape the editor form and revisions use.
    pub async fn current_snapshot(&self, id: i64) -> StoreResult<Option<Snapshot>> {
        let Some(a) = self.article_by_id(id).await? else { return Ok(None) };
        Ok(Some(Snapshot {
            headline: a.headline,
            lead: a.lead,
            body: a.body,
            section: a.section.map(|s| s.name),
            tags: a.tags.into_iter().map(|t| t.name).collect(),
            authors: a.authors.into_iter().map(|t| t.name).collect(),
            slug: a.slug.to_string(),
            status: a.status,
            published_at: a.published_at.map(|t| t.timestamp()),
        }))
    }

    pub async fn revisions(&self, article_id: i64) -> StoreResult<Vec<RevisionInfo>> {
        let rows = sqlx::query(
            "SELECT r.id, r.version, r.created_at, u.name FROM revisions r LEFT JOIN users u ON u.id = r.user_id WHERE r.article_id = $1 ORDER BY r.id DESC",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RevisionInfo {
                    id: r.try_get("id")?,
                    version: r.try_get("version")?,
                    user_name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn revision(&self, article_id: i64, revision_id: i64) -> StoreResult<Option<(RevisionInfo, Snapshot)>> {
        let row = sqlx::query(
            "SELECT r.id, r.version, r.created_at, r.snapshot, u.name FROM revisions r LEFT JOIN users u ON u.id = r.user_id WHERE r.article_id = $1 AND r.id = $2",
        )
        .bind(article_id)
        .bind(revision_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let json: String = r.try_get("snapshot")?;
        let snapshot = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("revision {revision_id}: {e}")))?;
        Ok(Some((
            RevisionInfo {
                id: r.try_get("id")?,
                version: r.try_get("version")?,
                user_name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
            },
            snapshot,
        )))
    }

    /// Articles for the admin list, newest change first, with the total.
    pub async fn admin_articles(&self, f: &AdminFilter) -> StoreResult<(Vec<AdminRow>, i64)> {
        enum Arg {
            I(i64),
            S(String),
        }
        let mut conds: Vec<String> = Vec::new();
        let mut args: Vec<Arg> = Vec::new();
        let mut push = |cond: &str, arg: Arg, conds: &mut Vec<String>| {
            args.push(arg);
            conds.push(cond.replace('?', &format!("${}", args.len())));
        };
        match f.status.as_deref() {
            Some("review") => conds.push("a.status = 'draft' AND a.submitted_at IS NOT NULL".into()),
            Some(s @ ("draft" | "scheduled" | "published")) => push("a.status = ?", Arg::S(s.into()), &mut conds),
            _ => {}
        }
        if let Some(section) = &f.section {
            push("s.slug = ?", Arg::S(section.clone()), &mut conds);
        }
        if let Some(author) = &f.author {
            push(
                "a.id IN (SELECT aa.article_id FROM article_authors aa JOIN authors au ON au.id = aa.author_id WHERE au.slug = ?)",
                Arg::S(author.clone()),
                &mut conds,
            );
        }
        if let Some(q) = f.query.as_deref().map(title_key).filter(|k| !k.is_empty()) {
            push("a.headline_key LIKE ?", Arg::S(format!("%{}%", q.replace(['%', '_'], ""))), &mut conds);
        }
        if let Some(user) = f.created_by {
            push("a.created_by = ?", Arg::I(user), &mut conds);
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let from = format!("FROM articles a LEFT JOIN sections s ON s.id = a.section_id {filter}");
        let sql = format!(
            "SELECT a.id, a.headline, a.slug, a.status, a.submitted_at, a.published_at, a.updated_at, a.created_by, a.version, s.name AS section_name \
             {from} ORDER BY a.updated_at DESC, a.id DESC LIMIT {} OFFSET {}",
            f.limit.clamp(1, 500),
            f.offset.max(0)
        );
        let mut q = sqlx::query(&sql);
        let count_sql = format!("SELECT COUNT(*) {from}");
        let mut c = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &args {
            match a {
                Arg::I(v) => {
                    q = q.bind(*v);
                    c = c.bind(*v);
                }
                Arg::S(v) => {
                    q = q.bind(v.clone());
                    c = c.bind(v.clone());
                }
            }
        }
        let rows = q.fetch_all(&self.pool).await?;
        let total = c.fetch_one(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(AdminRow {
                    id: r.try_get("id")?,
                    headline: r.try_get("headline")?,
                    slug: r.try_get("slug")?,
                    status: Status::parse(&status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    submitted: r.try_get::<Option<i64>, _>("submitted_at")?.is_some(),
                    section: r.try_get("section_name")?,
                    published_at: r.try_get("published_at")?,
                    updated_at: r.try_get("updated_at")?,
                    created_by: r.try_get("created_by")?,
                    version: r.try_get("version")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((items, total))
    }

    /// Publishes every scheduled article whose time has come. The single UPDATE … RETURNING
    /// is atomic on both backends: with several nodes, each article is claimed by exactly one.
    pub async fn publish_due(&self, now: i64) -> StoreResult<Vec<i64>> {
        // Most passes find nothing; a plain read then keeps the idle scheduler from taking
        // SQLite's write lock every few seconds.
        let due: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE status = 'scheduled' AND published_at <= $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        if due == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_logged_write().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE articles SET status = 'published', updated_at = $1, version = version + 1 \
             WHERE status = 'scheduled' AND published_at <= $1 RETURNING id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for id in &ids {
            log_change(&mut tx, *id, "published").await?;
            // Like a publish from the API: the version the publication made has its revision.
            if let Some(snapshot) = snapshot_in(&mut tx, *id).await? {
                let version: i64 = sqlx::query_scalar("SELECT version FROM articles WHERE id = $1").bind(*id).fetch_one(&mut *tx).await?;
                add_revision(&mut tx, *id, version, None, &snapshot).await?;
            }
        }
        tx.commit().await?;
        self.bump_epoch();
        Ok(ids)
    }

    pub async fn rename_tag(&self, id: i64, name: &str) -> StoreResult<bool> {
        let mut tx = self.begin_logged_write().await?;
        let done = sqlx::query("UPDATE tags SET name = $1, name_key = $2 WHERE id = $3")
            .bind(name)
            .bind(title_key(name))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        log_change(&mut tx, 0, "site").await?;
        tx.commit().await?;
        self.bump_epoch();
        Ok(done.rows_affected() > 0)
    }

    pub async fn add_media(&self, m: &MediaRecord, uploaded_by: Option<i64>) -> StoreResult<i64> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO media (file_name, content_type, width, height, bytes, alt, uploaded_by, created_at, caption, credit) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (file_name) DO UPDATE SET alt = $6, caption = $9, credit = $10 RETURNING id",
        )
        .bind(&m.file_name)
        .bind(&m.content_type)
        .bind(m.width)
        .bind(m.height)
        .bind(m.bytes)
        .bind(&m.alt)
        .bind(uploaded_by)
        .bind(now_secs())
        .bind(&m.caption)
        .bind(&m.credit)
        .fetch_one(&self.pool)
        .await?)
    }
}

/// Converts a snapshot back to a draft, e.g. to restore a revision.
pub fn draft_from_snapshot(s: &Snapshot) -> Result<ArticleDraft, crate::domain::DomainError> {
    let mut d = ArticleDraft::new(crate::domain::Headline::parse(&s.headline)?);
    d.lead = s.lead.clone();
    d.body = s.body.clone();
    d.section = s.section.clone();
    d.tags = s.tags.clone();
    d.authors = s.authors.clone();
    d.slug = Some(Slug::parse(&s.slug)?);
    d.status = s.status;
    d.published_at = s.published_at.map(from_secs);
    d.source = Some("editor".into());
    Ok(d)
}
