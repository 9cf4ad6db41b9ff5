//! SQL for related articles, duplicates and entities. Written once for SQLite and PostgreSQL
//! (see `store`), on the store's pool; the tables come from migration 0005.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::domain::{Block, SectionRef, Slug};
use crate::entities::{Found, Kind};
use std::fmt::Write as _;

use crate::store::{ArticleSummary, Backend, Store, StoreError, StoreResult};

/// One article as the related index reads it.
pub(crate) struct Source {
    pub id: i64,
    pub title: String,
    pub text: String,
    pub section: Option<String>,
    pub published_at: Option<i64>,
}

/// A suggestion as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedLink {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
}

/// An entity as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct EntityRef {
    pub id: i64,
    pub kind: Kind,
    pub name: String,
    pub slug: String,
}

/// The editor's view of one suggestion, including removed ones.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub id: i64,
    pub headline: String,
    pub score: f64,
    pub pinned: bool,
    pub removed: bool,
}

/// The words of an article that speak for its topic: lead and body text, without the titles
/// of hand-placed read-also links (they describe other articles) or image credits.
pub(crate) fn article_text(lead: &str, body: &[Block]) -> String {
    let mut text = String::with_capacity(lead.len() + body.len() * 200);
    text.push_str(lead);
    for block in body {
        if matches!(block, Block::Paragraph { .. } | Block::Subheading { .. } | Block::Quote { .. }) {
            text.push('\n');
            text.push_str(&block.text());
        }
    }
    text
}

const SOURCE_COLUMNS: &str = "a.id, a.headline, a.lead, a.body_json, a.published_at, s.slug AS section_slug";

fn source_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Source> {
    let id: i64 = row.try_get("id")?;
    let body_json: String = row.try_get("body_json")?;
    let body: Vec<Block> = serde_json::from_str(&body_json).map_err(|e| StoreError::Corrupt(format!("article {id} body: {e}")))?;
    let lead: String = row.try_get("lead")?;
    Ok(Source {
        id,
        title: row.try_get("headline")?,
        text: article_text(&lead, &body),
        section: row.try_get("section_slug")?,
        published_at: row.try_get("published_at")?,
    })
}

/// Published articles with id > `after`, in id order, `limit` at a time.
pub(crate) async fn published_sources(store: &Store, after: i64, limit: i64) -> StoreResult<Vec<Source>> {
    // `a.status || ''`, not `a.status`: with a plain comparison SQLite read every published
    // row through the (status, …) index and sorted them for each batch, so a whole-archive
    // pass cost the square of the archive (5–7 s a batch at 1,000,000 articles). So written,
    // the id range is walked on the primary key (both databases).
    let rows = sqlx::query(&format!(
        "SELECT {SOURCE_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id \
         WHERE a.status || '' = 'published' AND a.id > $1 ORDER BY a.id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(source_from_row).collect()
}

/// The article if it is published, else None.
pub(crate) async fn published_source(store: &Store, id: i64) -> StoreResult<Option<Source>> {
    let row = sqlx::query(&format!(
        "SELECT {SOURCE_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id WHERE a.status = 'published' AND a.id = $1"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(source_from_row).transpose()
}

/// A name for the database behind `store`, so one process keeps one index per database.
pub(crate) async fn database_identity(store: &Store) -> StoreResult<String> {
    Ok(match store.backend() {
        crate::store::Backend::Sqlite => {
            let file: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_one(store.pool()).await?;
            format!("sqlite:{file}")
        }
        crate::store::Backend::Postgres => {
            let id: String = sqlx::query_scalar("SELECT current_database() || ':' || COALESCE(inet_server_addr()::text, '') || ':' || COALESCE(inet_server_port()::text, '')")
                .fetch_one(store.pool())
                .await?;
            format!("postgres:{id}")
        }
    })
}

/// Ids an editor removed from or pinned to `article_id`'s suggestions.
pub(crate) async fn editor_choices(store: &Store, article_id: i64) -> StoreResult<(Vec<i64>, Vec<i64>)> {
    let rows = sqlx::query("SELECT related_id, pinned, removed FROM related WHERE article_id = $1 AND (pinned = 1 OR removed = 1)")
        .bind(article_id)
        .fetch_all(store.pool())
        .await?;
    let (mut pinned, mut removed) = (Vec::new(), Vec::new());
    for r in rows {
        let id: i64 = r.try_get("related_id")?;
        if r.try_get::<i64, _>("removed")? == 1 {
            removed.push(id);
        } else if r.try_get::<i64, _>("pinned")? == 1 {
            pinned.push(id);
        }
    }
    Ok((pinned, removed))
}

/// What one refresh writes for one article.
pub(crate) struct Computed {
    pub article_id: i64,
    pub related: Vec<(i64, f32)>,
    pub duplicate_of: Option<i64>,
    pub entities: Vec<Found>,
    /// Only the suggestions changed (a neighbour of a refreshed article).
    pub related_only: bool,
}

/// Replaces the computed state of the given articles in one transaction. Editors' pinned and
/// removed rows stay.
pub(crate) async fn write(store: &Store, batch: &[Computed]) -> StoreResult<()> {
    let mut tx = store.begin_logged_write().await?;
    for c in batch {
        sqlx::query("DELETE FROM related WHERE article_id = $1 AND pinned = 0 AND removed = 0")
            .bind(c.article_id)
            .execute(&mut *tx)
            .await?;
        for (position, (rid, score)) in c.related.iter().enumerate() {
            sqlx::query(
                "INSERT INTO related (article_id, related_id, score, position) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (article_id, related_id) DO UPDATE SET score = excluded.score, position = excluded.position",
            )
            .bind(c.article_id)
            .bind(*rid)
            .bind(f64::from(*score))
            .bind(position as i64)
            .execute(&mut *tx)
            .await?;
        }
        if c.related_only {
            continue;
        }
        sqlx::query("DELETE FROM duplicates WHERE article_id = $1").bind(c.article_id).execute(&mut *tx).await?;
        if let Some(of) = c.duplicate_of {
            sqlx::query("INSERT INTO duplicates (article_id, duplicate_of) VALUES ($1, $2)")
                .bind(c.article_id)
                .bind(of)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM article_entities WHERE article_id = $1").bind(c.article_id).execute(&mut *tx).await?;
        for e in &c.entities {
            let entity_id = entity_id(&mut tx, e).await?;
            sqlx::query("INSERT INTO article_entities (article_id, entity_id, mentions) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(c.article_id)
                .bind(entity_id)
                .bind(i64::from(e.mentions))
                .execute(&mut *tx)
                .await?;
        }
    }
    // Other nodes' page caches learn of it from the change log.
    crate::store::log_change(&mut tx, batch.first().map_or(0, |c| c.article_id), "related").await?;
    tx.commit().await?;
    store.bump_epoch();
    Ok(())
}

/// Article ids `after < id <= upto` (no upper bound when `upto` is None).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdRange {
    pub after: i64,
    pub upto: Option<i64>,
}

impl IdRange {
    fn sql(&self) -> &'static str {
        if self.upto.is_some() {
            "article_id > $1 AND article_id <= $2"
        } else {
            "article_id > $1"
        }
    }
}

/// Replaces the computed state (suggestions, duplicate links, entity mentions) of every
/// article in `range` by `batch` in one transaction (multi-row statements: 20,000 articles
/// take seconds; readers see the range's old state until the commit): a pass over the whole archive writes it
/// range by range, so it never holds the whole archive's results. Articles of the range
/// missing from `batch` lose their computed rows (they are no longer published); editors'
/// pinned and removed rows stay. `last` = the pass is done: entities no article mentions any
/// more are deleted.
pub(crate) async fn write_range(store: &Store, range: IdRange, all: &[Computed], last: bool) -> StoreResult<()> {
    let backend = store.backend();
    let mut tx = store.begin_logged_write().await?;
    for table in ["related", "duplicates", "article_entities"] {
        let editors = if table == "related" { " AND pinned = 0 AND removed = 0" } else { "" };
        let sql = format!("DELETE FROM {table} WHERE {}{editors}", range.sql());
        let mut q = sqlx::query(&sql).bind(range.after);
        if let Some(upto) = range.upto {
            q = q.bind(upto);
        }
        q.execute(&mut *tx).await?;
    }

    // On a reindex nearly every entity exists already: one read instead of one per entity.
    let mut ids: std::collections::HashMap<String, i64> = sqlx::query("SELECT id, key FROM entities")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("key")?, r.try_get("id")?)))
        .collect::<StoreResult<_>>()?;
    create_entities(&mut tx, backend, &mut ids, all.iter().flat_map(|c| &c.entities)).await?;
    // Editors' rows survived the delete; computed rows must not collide with them.
    let kept_sql = format!("SELECT article_id, related_id FROM related WHERE {}", range.sql());
    let mut kept_query = sqlx::query(&kept_sql).bind(range.after);
    if let Some(upto) = range.upto {
        kept_query = kept_query.bind(upto);
    }
    let kept: std::collections::HashSet<(i64, i64)> = kept_query
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("article_id")?, r.try_get("related_id")?)))
        .collect::<StoreResult<_>>()?;

    let related: Vec<(i64, i64, f64, i64)> =
        all.iter()
            .flat_map(|c| {
                c.related.iter().enumerate().map(move |(pos, (rid, score))| {
                    (c.article_id, *rid, if score.is_finite() { f64::from(*score) } else { 0.0 }, pos as i64)
                })
            })
            .filter(|(a, r, _, _)| !kept.contains(&(*a, *r)))
            .collect();
    insert_columns(
        &mut tx,
        backend,
        "INSERT INTO related (article_id, related_id, score, position)",
        &[
            Column::Int(related.iter().map(|r| r.0).collect()),
            Column::Int(related.iter().map(|r| r.1).collect()),
            Column::Float(related.iter().map(|r| r.2).collect()),
            Column::Int(related.iter().map(|r| r.3).collect()),
        ],
    )
    .await?;
    let dups: Vec<(i64, i64)> = all.iter().filter_map(|c| c.duplicate_of.map(|d| (c.article_id, d))).collect();
    insert_columns(
        &mut tx,
        backend,
        "INSERT INTO duplicates (article_id, duplicate_of)",
        &[Column::Int(dups.iter().map(|d| d.0).collect()), Column::Int(dups.iter().map(|d| d.1).collect())],
    )
    .await?;
    let mentions: Vec<(i64, i64, i64)> =
        all.iter().flat_map(|c| c.entities.iter().map(|e| (c.article_id, ids[e.key.as_str()], i64::from(e.mentions)))).collect();
    insert_columns(
        &mut tx,
        backend,
        "INSERT INTO article_entities (article_id, entity_id, mentions)",
        &[
            Column::Int(mentions.iter().map(|m| m.0).collect()),
            Column::Int(mentions.iter().map(|m| m.1).collect()),
            Column::Int(mentions.iter().map(|m| m.2).collect()),
        ],
    )
    .await?;
    // Entities no article mentions any more would leave empty topic pages.
    // NOT EXISTS, not NOT IN: PostgreSQL hashes a NOT IN list only while it fits work_mem;
    // past that (130,000 mentions) it rescanned the list for every entity, ~10 s.
    if last {
        sqlx::query("DELETE FROM entities WHERE NOT EXISTS (SELECT 1 FROM article_entities ae WHERE ae.entity_id = entities.id)")
            .execute(&mut *tx)
            .await?;
    }
    crate::store::log_change(&mut tx, 0, "related").await?;
    tx.commit().await?;
    store.bump_epoch();
    Ok(())
}

/// One column of rows to insert.
enum Column {
    Int(Vec<i64>),
    Float(Vec<f64>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::Float(v) => v.len(),
        }
    }

    /// Rows `rows` of the column as a PostgreSQL array literal, `{1,2,3}`.
    fn array_literal(&self, rows: std::ops::Range<usize>) -> String {
        let mut out = String::with_capacity(rows.len() * 8 + 2);
        out.push('{');
        match self {
            Column::Int(v) => v[rows].iter().enumerate().for_each(|(i, x)| {
                let _ = write!(out, "{}{x}", if i > 0 { "," } else { "" });
            }),
            Column::Float(v) => v[rows].iter().enumerate().for_each(|(i, x)| {
                let _ = write!(out, "{}{}", if i > 0 { "," } else { "" }, if x.is_finite() { *x } else { 0.0 });
            }),
        }
        out.push('}');
        out
    }

    fn pg_type(&self) -> &'static str {
        match self {
            Column::Int(_) => "bigint[]",
            Column::Float(_) => "float8[]",
        }
    }
}

/// Inserts rows given column by column (`insert` is `INSERT INTO table (columns…)`).
/// PostgreSQL gets one statement whatever the row count, each column one array parameter
/// sent as text (the `Any` driver binds no arrays): 200-row statements spent more time in
/// round trips and parameter encoding than in the inserts. SQLite gets 200-row statements.
async fn insert_columns(tx: &mut sqlx::Transaction<'_, sqlx::Any>, backend: Backend, insert: &str, columns: &[Column]) -> StoreResult<()> {
    let rows = columns.first().map_or(0, Column::len);
    debug_assert!(columns.iter().all(|c| c.len() == rows), "columns of one length");
    if rows == 0 {
        return Ok(());
    }
    match backend {
        Backend::Postgres => {
            let arrays: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("CAST(${} AS {})", i + 1, c.pg_type())).collect();
            let sql = format!("{insert} SELECT * FROM unnest({})", arrays.join(", "));
            // 100,000 rows a statement keeps each parameter to a few MB.
            for start in (0..rows).step_by(100_000) {
                let end = (start + 100_000).min(rows);
                let mut q = sqlx::query(&sql);
                for c in columns {
                    q = q.bind(c.array_literal(start..end));
                }
                q.execute(&mut **tx).await?;
            }
        }
        Backend::Sqlite => {
            for start in (0..rows).step_by(200) {
                let end = (start + 200).min(rows);
                let sql = values_sql(backend, &format!("{insert} VALUES "), columns.len(), end - start);
                let mut q = sqlx::query(&sql);
                for row in start..end {
                    for c in columns {
                        q = match c {
                            Column::Int(v) => q.bind(v[row]),
                            Column::Float(v) => q.bind(v[row]),
                        };
                    }
                }
                q.execute(&mut **tx).await?;
            }
        }
    }
    Ok(())
}

/// Creates, in multi-row statements, the entities of `found` that `ids` (key → id) lacks, and
/// adds them to `ids`. A first import meets thousands of new names; one statement each took
/// seconds.
async fn create_entities<'a>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    ids: &mut std::collections::HashMap<String, i64>,
    found: impl Iterator<Item = &'a Found>,
) -> StoreResult<()> {
    let mut new: Vec<&Found> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for e in found {
        if !ids.contains_key(&e.key) && seen.insert(e.key.as_str()) {
            new.push(e);
        }
    }
    if new.is_empty() {
        return Ok(());
    }
    let mut slugs: std::collections::HashSet<String> =
        sqlx::query_scalar::<_, String>("SELECT slug FROM entities").fetch_all(&mut **tx).await?.into_iter().collect();
    let rows: Vec<(&Found, String)> = new
        .into_iter()
        .map(|e| {
            let slug = slug_candidates(e).find(|s| !slugs.contains(s)).expect("slug candidates never end");
            slugs.insert(slug.clone());
            (e, slug)
        })
        .collect();
    for chunk in rows.chunks(200) {
        // Writers are serialized (see Store::begin_logged_write), so nothing should collide;
        // should a row be skipped all the same, the one-by-one path below resolves it.
        let sql = values_sql(backend, "INSERT INTO entities (kind, name, slug, key) VALUES ", 4, chunk.len())
            + " ON CONFLICT DO NOTHING RETURNING id, key";
        let mut q = sqlx::query(&sql);
        for (e, slug) in chunk {
            q = q.bind(e.kind.as_str()).bind(&e.name).bind(slug).bind(&e.key);
        }
        for r in q.fetch_all(&mut **tx).await? {
            ids.insert(r.try_get("key")?, r.try_get("id")?);
        }
    }
    for (e, _) in rows {
        if !ids.contains_key(&e.key) {
            let id = entity_id(tx, e).await?;
            ids.insert(e.key.clone(), id);
        }
    }
    Ok(())
}

/// `prefix ($1, $2), ($3, $4)…` for `rows` rows of `cols` placeholders. SQLite gets anonymous
/// `?`: for numbered ones sqlx looks up every parameter's name, a linear scan in SQLite, so a
/// statement of n parameters cost n² (a tenth of a reindex went there).
fn values_sql(backend: Backend, prefix: &str, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * cols * 6);
    sql.push_str(prefix);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${}", r * cols + c + 1);
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Every editor choice, by article: (pinned, removed).
pub(crate) async fn all_editor_choices(store: &Store) -> StoreResult<std::collections::HashMap<i64, (Vec<i64>, Vec<i64>)>> {
    let rows = sqlx::query("SELECT article_id, related_id, pinned, removed FROM related WHERE pinned = 1 OR removed = 1")
        .fetch_all(store.pool())
        .await?;
    let mut out: std::collections::HashMap<i64, (Vec<i64>, Vec<i64>)> = std::collections::HashMap::new();
    for r in rows {
        let entry = out.entry(r.try_get("article_id")?).or_default();
        let id: i64 = r.try_get("related_id")?;
        if r.try_get::<i64, _>("removed")? == 1 {
            entry.1.push(id);
        } else {
            entry.0.push(id);
        }
    }
    Ok(out)
}

/// Removes the computed state of an article that is no longer published.
pub(crate) async fn clear(store: &Store, article_id: i64) -> StoreResult<()> {
    let mut tx = store.begin_logged_write().await?;
    sqlx::query("DELETE FROM related WHERE article_id = $1 AND pinned = 0 AND removed = 0").bind(article_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM duplicates WHERE article_id = $1").bind(article_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM article_entities WHERE article_id = $1").bind(article_id).execute(&mut *tx).await?;
    // The related follower refills the list (a removal leaves a gap); pages show the pin or
    // the removal at once.
    crate::store::log_change(&mut tx, article_id, "curated").await?;
    tx.commit().await?;
    store.bump_epoch();
    Ok(())
}

/// Slugs for a new entity, best first: its name, then with a hash of its key, then numbered.
fn slug_candidates(e: &Found) -> impl Iterator<Item = String> {
    let hash = short_hash(&e.key);
    let base = Slug::from_title(&e.name, &format!("{}-{hash}", e.kind.as_str())).to_string();
    std::iter::once(base.clone()).chain(std::iter::once(format!("{base}-{hash}"))).chain((2..).map(move |n| format!("{base}-{hash}-{n}")))
}

/// The entity's id, creating it with a unique slug on first sight.
async fn entity_id(tx: &mut sqlx::Transaction<'_, sqlx::Any>, e: &Found) -> StoreResult<i64> {
    if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM entities WHERE key = $1").bind(&e.key).fetch_optional(&mut **tx).await? {
        return Ok(id);
    }
    for candidate in slug_candidates(e).take(20) {
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO entities (kind, name, slug, key) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(e.kind.as_str())
        .bind(&e.name)
        .bind(&candidate)
        .bind(&e.key)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = id {
            return Ok(id);
        }
        // Lost a race on the key: someone else created it.
        if let Some(id) =
            sqlx::query_scalar::<_, i64>("SELECT id FROM entities WHERE key = $1").bind(&e.key).fetch_optional(&mut **tx).await?
        {
            return Ok(id);
        }
    }
    Err(StoreError::Conflict(format!("no free slug for entity {}", e.key)))
}

/// Suggestions for a published article: pinned first, removed never, unpublished never.
pub async fn related_links(store: &Store, article_id: i64, limit: i64) -> StoreResult<Vec<RelatedLink>> {
    let rows = sqlx::query(
        "SELECT a.id, a.slug, a.headline, r.pinned FROM related r JOIN articles a ON a.id = r.related_id \
         WHERE r.article_id = $1 AND r.removed = 0 AND a.status = 'published' \
         ORDER BY r.pinned DESC, r.position, r.score DESC, a.id LIMIT $2",
    )
    .bind(article_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RelatedLink {
                id: r.try_get("id")?,
                slug: r.try_get("slug")?,
                headline: r.try_get("headline")?,
                pinned: r.try_get::<i64, _>("pinned")? == 1,
            })
        })
        .collect()
}

/// Every stored suggestion of an article, with the editor's flags, for editors.
pub async fn suggestions(store: &Store, article_id: i64) -> StoreResult<Vec<Suggestion>> {
    let rows = sqlx::query(
        "SELECT a.id, a.headline, r.score, r.pinned, r.removed FROM related r JOIN articles a ON a.id = r.related_id \
         WHERE r.article_id = $1 ORDER BY r.removed, r.pinned DESC, r.position, a.id",
    )
    .bind(article_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Suggestion {
                id: r.try_get("id")?,
                headline: r.try_get("headline")?,
                score: r.try_get("score")?,
                pinned: r.try_get::<i64, _>("pinned")? == 1,
                removed: r.try_get::<i64, _>("removed")? == 1,
            })
        })
        .collect()
}

/// Articles recorded as the same story as `article_id` (either direction).
pub async fn duplicates_of(store: &Store, article_id: i64) -> StoreResult<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT duplicate_of AS id FROM duplicates WHERE article_id = $1 \
         UNION SELECT article_id AS id FROM duplicates WHERE duplicate_of = $1 ORDER BY id",
    )
    .bind(article_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// The editor's action on one suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorAction {
    Pin,
    Unpin,
    Remove,
    Restore,
}

/// Applies an editor's choice; both articles must exist and differ (checked by the caller).
pub async fn apply_editor_action(store: &Store, article_id: i64, related_id: i64, action: EditorAction) -> StoreResult<()> {
    let sql = match action {
        EditorAction::Pin => {
            "INSERT INTO related (article_id, related_id, score, position, pinned, removed) VALUES ($1, $2, 0, 0, 1, 0) \
             ON CONFLICT (article_id, related_id) DO UPDATE SET pinned = 1, removed = 0"
        }
        EditorAction::Remove => {
            "INSERT INTO related (article_id, related_id, score, position, pinned, removed) VALUES ($1, $2, 0, 0, 0, 1) \
             ON CONFLICT (article_id, related_id) DO UPDATE SET pinned = 0, removed = 1"
        }
        EditorAction::Unpin => "UPDATE related SET pinned = 0 WHERE article_id = $1 AND related_id = $2",
        // Forget the removal; the next refresh decides whether it is suggested again.
        EditorAction::Restore => "DELETE FROM related WHERE article_id = $1 AND related_id = $2 AND removed = 1",
    };
    let mut tx = store.begin_logged_write().await?;
    sqlx::query(sql).bind(article_id).bind(related_id).execute(&mut *tx).await?;
    // The related follower refills the list (a removal leaves a gap); pages show the pin or
    // the removal at once.
    crate::store::log_change(&mut tx, article_id, "curated").await?;
    tx.commit().await?;
    store.bump_epoch();
    Ok(())
}

/// Entities of an article, most mentioned first.
pub async fn article_entities(store: &Store, article_id: i64, limit: i64) -> StoreResult<Vec<EntityRef>> {
    let rows = sqlx::query(
        "SELECT e.id, e.kind, e.name, e.slug FROM article_entities ae JOIN entities e ON e.id = ae.entity_id \
         WHERE ae.article_id = $1 ORDER BY ae.mentions DESC, e.name LIMIT $2",
    )
    .bind(article_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(entity_from_row).collect()
}

fn entity_from_row(r: &sqlx::any::AnyRow) -> StoreResult<EntityRef> {
    let kind: String = r.try_get("kind")?;
    Ok(EntityRef {
        id: r.try_get("id")?,
        kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("entity kind {kind}")))?,
        name: r.try_get("name")?,
        slug: r.try_get("slug")?,
    })
}

pub async fn entity_by_slug(store: &Store, slug: &str) -> StoreResult<Option<EntityRef>> {
    let row = sqlx::query("SELECT id, kind, name, slug FROM entities WHERE slug = $1").bind(slug).fetch_optional(store.pool()).await?;
    row.as_ref().map(entity_from_row).transpose()
}

/// Published articles that mention the entity, newest first, with the total.
pub async fn entity_articles(store: &Store, entity_id: i64, limit: i64, offset: i64) -> StoreResult<(Vec<ArticleSummary>, i64)> {
    let rows = sqlx::query(
        "SELECT a.id, a.slug, a.headline, a.lead, a.published_at, s.slug AS section_slug, s.name AS section_name \
         FROM article_entities ae JOIN articles a ON a.id = ae.article_id LEFT JOIN sections s ON s.id = a.section_id \
         WHERE ae.entity_id = $1 AND a.status = 'published' ORDER BY a.published_at DESC, a.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(entity_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM article_entities ae JOIN articles a ON a.id = ae.article_id WHERE ae.entity_id = $1 AND a.status = 'published'",
    )
    .bind(entity_id)
    .fetch_one(store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let slug: Option<String> = r.try_get("section_slug")?;
            let name: Option<String> = r.try_get("section_name")?;
            Ok(ArticleSummary {
                id: r.try_get("id")?,
                slug: r.try_get("slug")?,
                headline: r.try_get("headline")?,
                lead: r.try_get("lead")?,
                section: slug.zip(name).map(|(slug, name)| SectionRef { slug, name }),
                published_at: r
                    .try_get::<Option<i64>, _>("published_at")?
                    .map(|s| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default()),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((items, total))
}

use super::taxonomy::short_hash;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_slugs_fall_back_to_the_key_hash_then_numbers() {
        let e = Found { kind: Kind::Person, name: "فراس علاوي".into(), key: "فراس علاوي".into(), mentions: 1 };
        let hash = short_hash(&e.key);
        let first: Vec<String> = slug_candidates(&e).take(4).collect();
        assert_eq!(
            first,
            ["فراس-علاوي".to_string(), format!("فراس-علاوي-{hash}"), format!("فراس-علاوي-{hash}-2"), format!("فراس-علاوي-{hash}-3")]
        );
    }

    #[test]
    fn placeholders_are_anonymous_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(values_sql(Backend::Sqlite, "INSERT INTO t (a, b) VALUES ", 2, 2), "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
        assert_eq!(values_sql(Backend::Postgres, "INSERT INTO t (a, b) VALUES ", 2, 2), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert_eq!(Column::Float(vec![0.5, f64::NAN, 2.0]).array_literal(0..3), "{0.5,0,2}");
        assert_eq!(Column::Int(vec![1, 2, 3]).array_literal(1..3), "{2,3}");
    }
}
