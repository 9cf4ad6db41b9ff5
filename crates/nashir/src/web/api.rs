//! Read API: `/api/v1/articles` and `/api/v1/articles/{id-or-slug}`.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::Json;

use super::api_types::{ArticleDetail, ArticleList, NamedRef};
use super::error::{Error, ErrorCode};
use super::pages::url_pairs;
use super::view::{ArticleView, BlockView, SummaryView};
use super::{ApiError, AppState};
use crate::domain::Block;
use crate::render::absolute_url;
use crate::store::ListQuery;

/// Parses an integer query parameter within bounds, naming it in the error.
fn int_param(pairs: &[(String, String)], name: &'static str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    match pairs.iter().find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) => v.trim().parse::<i64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
            ApiError::with_message(ErrorCode::InvalidQuery, format!("المعامل {name} يجب أن يكون عدداً صحيحاً بين {min} و{max}"))
        }),
    }
}

const KNOWN_LIST_PARAMS: &[&str] = &["limit", "offset", "section"];

/// Published articles, newest first.
#[utoipa::path(get, path = "/articles", tag = "read",
    params(
        ("limit" = Option<i64>, Query, description = "Articles per page, 1–100 (20 when absent)"),
        ("offset" = Option<i64>, Query, description = "Articles to skip, from 0"),
        ("section" = Option<String>, Query, description = "Only this section (its slug)"),
    ),
    responses(
        (status = 200, description = "A page of articles", body = ArticleList),
        (status = 400, description = "Unknown parameter or value out of range (`invalid_query`)", body = Error),
        (status = 404, description = "No such section", body = Error),
    ))]
pub async fn list_articles(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<ArticleList>, ApiError> {
    let pairs = url_pairs(raw.as_deref().unwrap_or(""));
    if let Some((unknown, _)) = pairs.iter().find(|(k, _)| !KNOWN_LIST_PARAMS.contains(&k.as_str())) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidQuery,
            format!("معامل غير معروف: {} (المعاملات المقبولة: limit, offset, section)", unknown.chars().take(40).collect::<String>()),
        ));
    }
    let limit = int_param(&pairs, "limit", 20, 1, 100)?;
    let offset = int_param(&pairs, "offset", 0, 0, 10_000_000)?;
    let section_id = match pairs.iter().find(|(k, _)| k == "section") {
        Some((_, slug)) => Some(state.store.section_by_slug(slug).await?.ok_or(ApiError::not_found("القسم"))?.id),
        None => None,
    };
    let (items, total) = state.store.list_published(&ListQuery { section_id, limit, offset, ..Default::default() }).await?;
    let items: Vec<_> = items.iter().map(|a| SummaryView::build(a, &state.base_url, &state.dates)).collect();
    Ok(Json(ArticleList { items, total, limit, offset }))
}

/// One published article, by numeric id or slug.
#[utoipa::path(get, path = "/articles/{id_or_slug}", tag = "read",
    params(("id_or_slug" = String, Path, description = "The article's numeric id or its slug")),
    responses(
        (status = 200, description = "The article", body = ArticleDetail),
        (status = 404, description = "No published article by that id or slug", body = Error),
    ))]
pub async fn get_article(State(state): State<AppState>, Path(id_or_slug): Path<String>) -> Result<Json<ArticleDetail>, ApiError> {
    let article = state.store.published_article(&id_or_slug).await?.ok_or(ApiError::not_found("المقال"))?;
    let titles: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::ReadAlso { title } = b { Some(title.as_str()) } else { None }).collect();
    let links = if titles.is_empty() { HashMap::new() } else { state.store.link_targets(&titles).await? };
    let view = ArticleView::build(&article, &state.link_style(true), &state.dates, &links);
    // Body blocks keep their structured form; read-also references gain an absolute url.
    let body = view
        .blocks
        .into_iter()
        .map(|b| match b {
            BlockView::ReadAlso { title, url } => BlockView::ReadAlso { title, url: url.map(|u| absolute_url(&state.base_url, &u)) },
            other => other,
        })
        .collect();
    // «اقرأ أيضاً» suggestions and entities (issue 6).
    let (related, entities) = super::related::api_fields(super::related::extras(&state, article.id).await?);
    Ok(Json(ArticleDetail {
        id: article.id,
        slug: article.slug.to_string(),
        url: view.url,
        headline: article.headline,
        lead: article.lead,
        body,
        section: article.section.as_ref().map(|s| NamedRef::new(&s.slug, &s.name)),
        authors: article.authors.iter().map(|a| NamedRef::new(&a.slug, &a.name)).collect(),
        tags: article.tags.iter().map(|t| NamedRef::new(&t.slug, &t.name)).collect(),
        status: article.status.into(),
        published_at: view.published_at,
        date: view.date,
        updated_at: view.updated_at,
        language: article.language,
        source: article.source,
        related,
        entities,
    }))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("المسار")
}
