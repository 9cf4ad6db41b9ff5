//! Public HTML pages.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::json;

use super::view::{ArticleView, BlockView, Link, SummaryView};
use super::{AppState, PageError};
use crate::domain::Block;
use crate::render::{absolute_url, encode_segment, paths};
use crate::store::ListQuery;

#[derive(Serialize)]
pub struct SiteView {
    pub title: String,
    pub description: String,
    pub url: String,
    pub sections: Vec<Link>,
    /// The breaking-news bar («عاجل»), on every page while it lasts.
    pub breaking: Option<super::front::BreakingView>,
    /// Settings for newsrooms that want no template work (`[site]` in the config).
    pub logo: Option<String>,
    pub accent: Option<String>,
    pub footer: Option<String>,
}

pub async fn site_view(state: &AppState) -> Result<SiteView, PageError> {
    site_view_with(state, &state.store.sections().await?).await
}

/// [`site_view`] with the sections already read (a page that lists them too reads them once).
pub async fn site_view_with(state: &AppState, sections: &[crate::store::Section]) -> Result<SiteView, PageError> {
    let site = &state.config.site;
    Ok(SiteView {
        title: site.title.clone(),
        description: site.description.clone(),
        url: state.base_url.to_string(),
        sections: sections.iter().map(|s| Link { name: s.name.clone(), url: paths::section(&s.slug) }).collect(),
        breaking: super::front::breaking(state).await?,
        logo: Some(site.logo_url.clone()).filter(|l| !l.is_empty()),
        // Checked at start-up to be a hex colour, so it is safe inside the page's CSS.
        accent: Some(site.accent_color.clone()).filter(|c| !c.is_empty()),
        footer: Some(site.footer_text.clone()).filter(|f| !f.is_empty()),
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

pub async fn home(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    // WordPress's plain links, `/?p=123`, still reach imported posts.
    for key in ["p", "page_id"] {
        if let Some(id) = query_param(&raw, key).filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())) {
            if let Some(to) = old_address(&state, "/", Some(&format!("p={id}"))).await? {
                return Ok(to);
            }
        }
    }
    let site = site_view(&state).await?;
    let latest = state.store.latest_published(&ListQuery { limit: 13, ..Default::default() }).await?;
    let pinned = state.store.pinned_lead().await?;
    let mut ids: Vec<i64> = latest.iter().map(|a| a.id).collect();
    ids.extend(pinned.as_ref().map(|p| p.id));
    let images = state.store.lead_images(&ids).await?;
    // The lead story: the editor's pin, else the newest article with a picture, else the newest.
    let lead = pinned
        .or_else(|| latest.iter().find(|a| images.get(&a.id).and_then(super::front::ImageView::of).is_some()).cloned())
        .or_else(|| latest.first().cloned());
    let rest: Vec<_> = latest.iter().filter(|a| Some(a.id) != lead.as_ref().map(|l| l.id)).take(12).cloned().collect();
    let lead = lead.map(|l| super::front::cards_with(&state, std::slice::from_ref(&l), &images).remove(0));
    let grid = super::front::cards_with(&state, &rest, &images);
    let mut groups = Vec::new();
    for section in state.store.sections().await? {
        let articles = state.store.latest_published(&ListQuery { section_id: Some(section.id), limit: 4, ..Default::default() }).await?;
        if !articles.is_empty() {
            groups.push(json!({
                "section": Link { name: section.name.clone(), url: paths::section(&section.slug) },
                "articles": super::front::cards(&state, &articles).await?,
            }));
        }
    }
    let lists = state.most_read.get();
    let most_read: Vec<_> = lists.day_articles.iter().map(|a| SummaryView::build(a, &state.base_url, &state.dates)).collect();
    let html = state.templates.render(
        "home.html",
        json!({ "site": site, "lead": lead, "latest": grid, "groups": groups, "most_read": most_read, "canonical": format!("{}/", state.base_url) }),
    )?;
    let mut response = Html(html).into_response();
    // The most-read list is re-read every interval: the cached home page follows it.
    response.extensions_mut().insert(super::cache::FreshFor(state.config.site.most_read_interval_secs as i64));
    Ok(response)
}

pub async fn article(State(state): State<AppState>, Path(id_or_slug): Path<String>) -> Result<Response, PageError> {
    let article = state.store.published_article(&id_or_slug).await?.ok_or(PageError::NotFound)?;
    if article.slug.as_str() != id_or_slug {
        // The id-based address is stable; the slug one is canonical.
        return Ok(Redirect::permanent(&absolute_url("", &paths::article(article.slug.as_str()))).into_response());
    }
    let titles: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::ReadAlso { title } = b { Some(title.as_str()) } else { None }).collect();
    let links = if titles.is_empty() { HashMap::new() } else { state.store.link_targets(&titles).await? };
    let view = ArticleView::build(&article, &state.link_style(false), &state.dates, &links);
    let image = view.blocks.iter().find_map(|b| match b {
        BlockView::Image { src, .. } if src.starts_with('/') => Some(absolute_url(&state.base_url, src)),
        BlockView::Image { src, .. } => Some(src.clone()),
        _ => None,
    });
    let jsonld = structured_data(&state, &view, image.as_deref());
    let site = site_view(&state).await?;
    // «اقرأ أيضاً» suggestions and entity links (issue 6).
    let extras = super::related::extras(&state, article.id).await?;
    let inline_after = super::related::inline_position(&view.blocks);
    // Who wrote it, with bio and photo, under the article.
    let mut authors = Vec::new();
    for a in &article.authors {
        if let Some(author) = state.store.author_by_slug(&a.slug).await? {
            authors.push(author_view(&author));
        }
    }
    let html = state.templates.render(
        "article.html",
        json!({ "site": site, "canonical": view.url, "current_section": view.section.as_ref().map(|s| s.url.clone()), "image": image, "jsonld": jsonld, "article": view,
                "related": extras.related, "entities": extras.entities, "inline_related_after": inline_after, "authors": authors,
                // The first picture near the top is the page's largest paint: loaded at once.
                "eager_image": view.blocks.iter().position(|b| matches!(b, BlockView::Image { .. })).filter(|at| *at < 3) }),
    )?;
    let mut response = Html(html).into_response();
    // Counted as a view by the page cache, on this request and on every hit it serves.
    response.extensions_mut().insert(super::cache::ViewedArticle(article.id));
    Ok(response)
}

/// An author as the article and author pages show them; a photo only from an address allowed
/// for images.
fn author_view(author: &crate::store::Author) -> serde_json::Value {
    let photo = crate::domain::link::image_src(&author.photo).map(|src| match crate::media::responsive(src) {
        Some((src, srcset, width, height)) => json!({ "src": src, "srcset": srcset, "width": width, "height": height }),
        None => json!({ "src": src }),
    });
    json!({ "name": author.name, "url": paths::author(&author.slug), "bio": Some(&author.bio).filter(|b| !b.is_empty()), "photo": photo })
}

/// What a listing page lists: the articles of a section, an author or a tag.
pub struct Listing {
    pub heading: String,
    pub intro: Option<String>,
    pub path: String,
    pub query: ListQuery,
    pub feed_path: String,
    /// The author's card on an author page.
    pub author: Option<serde_json::Value>,
}

impl Listing {
    pub async fn find(state: &AppState, kind: &str, slug: &str) -> Result<Listing, PageError> {
        let store = &state.store;
        let listing = match kind {
            "section" => store.section_by_slug(slug).await?.map(|s| Listing {
                intro: Some(s.description).filter(|d| !d.is_empty()),
                path: paths::section(&s.slug),
                feed_path: format!("/feed/section/{}.xml", encode_segment(&s.slug)),
                query: ListQuery { section_id: Some(s.id), ..Default::default() },
                heading: s.name,
                author: None,
            }),
            "author" => store.author_by_slug(slug).await?.map(|a| Listing {
                author: Some(author_view(&a)),
                intro: Some(a.bio).filter(|b| !b.is_empty()),
                path: paths::author(&a.slug),
                feed_path: format!("/feed/author/{}.xml", encode_segment(&a.slug)),
                query: ListQuery { author_id: Some(a.id), ..Default::default() },
                heading: a.name,
            }),
            "tag" => store.tag_by_slug(slug).await?.map(|t| Listing {
                intro: None,
                path: paths::tag(&t.slug),
                feed_path: format!("/feed/tag/{}.xml", encode_segment(&t.slug)),
                query: ListQuery { tag_id: Some(t.id), ..Default::default() },
                heading: format!("وسم: {}", t.name),
                author: None,
            }),
            _ => None,
        };
        listing.ok_or(PageError::NotFound)
    }
}

/// schema.org `NewsArticle` and `BreadcrumbList` as JSON-LD, safe to place in a <script>.
fn structured_data(state: &AppState, view: &ArticleView, image: Option<&str>) -> String {
    let abs = |path: &str| absolute_url(&state.base_url, path);
    let logo = if state.config.site.logo_url.is_empty() { abs("/favicon.svg") } else { state.config.site.logo_url.clone() };
    let mut crumbs = vec![json!({"@type": "ListItem", "position": 1, "name": "الرئيسية", "item": abs("/")})];
    if let Some(section) = &view.section {
        crumbs.push(json!({"@type": "ListItem", "position": 2, "name": section.name, "item": abs(&section.url)}));
    }
    crumbs.push(json!({"@type": "ListItem", "position": crumbs.len() + 1, "name": view.headline, "item": view.url}));
    let data = json!([
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": view.headline.chars().take(110).collect::<String>(),
            "description": view.lead,
            "image": image.map(|i| vec![i.to_string()]).unwrap_or_default(),
            "datePublished": view.published_at,
            "dateModified": view.updated_at,
            "inLanguage": "ar",
            "mainEntityOfPage": {"@type": "WebPage", "@id": view.url},
            "articleSection": view.section.as_ref().map(|s| s.name.clone()),
            "keywords": view.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
            "author": view.authors.iter().map(|a| json!({"@type": "Person", "name": a.name, "url": abs(&a.url)})).collect::<Vec<_>>(),
            "publisher": {"@type": "Organization", "name": state.config.site.title, "logo": {"@type": "ImageObject", "url": logo}},
        },
        {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": crumbs},
    ]);
    // Inside <script>, "</script" or "<!--" in a headline would end or confuse the element:
    // JSON allows escaping every <, > and & as unicode escapes, so none remain.
    data.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

pub async fn section(state: State<AppState>, Path(slug): Path<String>, raw: RawQuery) -> Result<Html<String>, PageError> {
    listing_page(state, "section", slug, raw).await
}

pub async fn author(state: State<AppState>, Path(slug): Path<String>, raw: RawQuery) -> Result<Html<String>, PageError> {
    listing_page(state, "author", slug, raw).await
}

pub async fn tag(state: State<AppState>, Path(slug): Path<String>, raw: RawQuery) -> Result<Html<String>, PageError> {
    listing_page(state, "tag", slug, raw).await
}

async fn listing_page(State(state): State<AppState>, kind: &str, slug: String, RawQuery(raw): RawQuery) -> Result<Html<String>, PageError> {
    let page = page_number(&raw)?;
    let listing = Listing::find(&state, kind, &slug).await?;
    let per_page = i64::from(state.config.site.page_size);
    let query = ListQuery { limit: per_page, offset: (page - 1) * per_page, ..listing.query.clone() };
    let (articles, total) = state.store.list_published(&query).await?;
    let pages = ((total + per_page - 1) / per_page).max(1);
    if page > pages {
        return Err(PageError::NotFound);
    }
    let path = listing.path.clone();
    let page_url = |n: i64| if n == 1 { path.clone() } else { format!("{path}?page={n}") };
    let site = site_view(&state).await?;
    let html = state.templates.render(
        "list.html",
        json!({
            "site": site,
            "heading": listing.heading,
            "intro": listing.intro,
            "feed": listing.feed_path,
            "articles": super::front::cards(&state, &articles).await?,
            "author": listing.author,
            "page": page,
            "pages": pages,
            "prev_url": (page > 1).then(|| page_url(page - 1)),
            "next_url": (page < pages).then(|| page_url(page + 1)),
            "canonical": absolute_url(&state.base_url, &page_url(page)),
            "current_section": if kind == "section" { Some(path.clone()) } else { None },
        }),
    )?;
    Ok(Html(html))
}

/// Unknown paths: an imported archive's old address (WordPress permalink, Ghost `/slug/`) is
/// answered with a permanent redirect to the article; anything else is a 404.
pub async fn not_found(State(state): State<AppState>, uri: axum::http::Uri) -> Result<Response, PageError> {
    if let Some(to) = old_address(&state, uri.path(), None).await? {
        return Ok(to);
    }
    Err(PageError::NotFound)
}

/// The redirect for an old address, if one was imported (`query` for `/?p=123`).
async fn old_address(state: &AppState, path: &str, query: Option<&str>) -> Result<Option<Response>, PageError> {
    let key = crate::store::redirect_key(path, query);
    Ok(state
        .store
        .redirect_target(&key)
        .await?
        // 301, not 308: what search engines know as "moved permanently" for old permalinks.
        .map(|slug| {
            let to = absolute_url("", &paths::article(&slug));
            (axum::http::StatusCode::MOVED_PERMANENTLY, [(axum::http::header::LOCATION, to)]).into_response()
        }))
}
