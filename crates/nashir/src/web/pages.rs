//! Public HTML pages.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::json;

use super::view::{paths, ArticleView, Link, SummaryView};
use super::{AppState, PageError};
use crate::domain::Block;
use crate::store::ListQuery;

#[derive(Serialize)]
pub struct SiteView {
    pub title: String,
    pub description: String,
    pub url: String,
    pub sections: Vec<Link>,
}

pub async fn site_view(state: &AppState) -> Result<SiteView, PageError> {
    let sections = state.store.sections().await?;
    Ok(SiteView {
        title: state.config.site.title.clone(),
        description: state.config.site.description.clone(),
        url: state.base_url.to_string(),
        sections: sections.iter().map(|s| Link { name: s.name.clone(), url: paths::section(&s.slug) }).collect(),
    })
}

/// Reads one query parameter by name from a raw query string.
pub fn query_param(raw: &Option<String>, name: &str) -> Option<String> {
    let raw = raw.as_deref()?;
    url_pairs(raw).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

pub fn url_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (decode(k), decode(v))
        })
        .collect()
}

/// `?page=N`: absent means 1; anything but a positive integer is a reader's typo, answered 400.
fn page_number(raw: &Option<String>) -> Result<i64, PageError> {
    match query_param(raw, "page") {
        None => Ok(1),
        Some(v) => v.trim().parse::<i64>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
            PageError::BadRequest(format!(
                "رقم الصفحة «{}» غير صالح: يجب أن يكون عدداً صحيحاً موجباً.",
                v.chars().take(20).collect::<String>()
            ))
        }),
    }
}

pub async fn home(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let site = site_view(&state).await?;
    let (latest, _) = state.store.list_published(&ListQuery { section_id: None, limit: 7, offset: 0 }).await?;
    let mut groups = Vec::new();
    for section in state.store.sections().await? {
        let (articles, _) = state.store.list_published(&ListQuery { section_id: Some(section.id), limit: 5, offset: 0 }).await?;
        if !articles.is_empty() {
            groups.push(json!({
                "section": Link { name: section.name.clone(), url: paths::section(&section.slug) },
                "articles": articles.iter().map(|a| SummaryView::build(a, &state.base_url, &state.dates)).collect::<Vec<_>>(),
            }));
        }
    }
    let latest: Vec<_> = latest.iter().map(|a| SummaryView::build(a, &state.base_url, &state.dates)).collect();
    let html = state
        .templates
        .render("home.html", json!({ "site": site, "latest": latest, "groups": groups, "canonical": format!("{}/", state.base_url) }))?;
    Ok(Html(html))
}

pub async fn article(State(state): State<AppState>, Path(id_or_slug): Path<String>) -> Result<Response, PageError> {
    let article = state.store.published_article(&id_or_slug).await?.ok_or(PageError::NotFound)?;
    if article.slug.as_str() != id_or_slug {
        // The id-based address is stable; the slug one is canonical.
        return Ok(Redirect::permanent(&super::view::absolute_url("", &paths::article(article.slug.as_str()))).into_response());
    }
    let titles: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::ReadAlso { title } = b { Some(title.as_str()) } else { None }).collect();
    let links = if titles.is_empty() { HashMap::new() } else { state.store.link_targets(&titles).await? };
    let view = ArticleView::build(&article, &state.base_url, &state.dates, &links);
    let site = site_view(&state).await?;
    // «اقرأ أيضاً» suggestions and entity links (issue 6).
    let extras = super::related::extras(&state, article.id).await?;
    let inline_after = super::related::inline_position(&view.blocks);
    let html = state.templates.render(
        "article.html",
        json!({ "site": site, "canonical": view.url, "current_section": view.section.as_ref().map(|s| s.url.clone()), "article": view,
                "related": extras.related, "entities": extras.entities, "inline_related_after": inline_after }),
    )?;
    Ok(Html(html).into_response())
}

pub async fn section(State(state): State<AppState>, Path(slug): Path<String>, RawQuery(raw): RawQuery) -> Result<Html<String>, PageError> {
    let page = page_number(&raw)?;
    let section = state.store.section_by_slug(&slug).await?.ok_or(PageError::NotFound)?;
    let per_page = i64::from(state.config.site.page_size);
    let (articles, total) =
        state.store.list_published(&ListQuery { section_id: Some(section.id), limit: per_page, offset: (page - 1) * per_page }).await?;
    let pages = ((total + per_page - 1) / per_page).max(1);
    if page > pages {
        return Err(PageError::NotFound);
    }
    let path = paths::section(&section.slug);
    let page_url = |n: i64| if n == 1 { path.clone() } else { format!("{path}?page={n}") };
    let site = site_view(&state).await?;
    let html = state.templates.render(
        "list.html",
        json!({
            "site": site,
            "heading": section.name,
            "intro": if section.description.is_empty() { None } else { Some(section.description.clone()) },
            "articles": articles.iter().map(|a| SummaryView::build(a, &state.base_url, &state.dates)).collect::<Vec<_>>(),
            "page": page,
            "pages": pages,
            "prev_url": (page > 1).then(|| page_url(page - 1)),
            "next_url": (page < pages).then(|| page_url(page + 1)),
            "canonical": super::view::absolute_url(&state.base_url, &page_url(page)),
            "current_section": path,
        }),
    )?;
    Ok(Html(html))
}

pub async fn not_found() -> PageError {
    PageError::NotFound
}
