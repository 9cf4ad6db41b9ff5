//! Being found: RSS 2.0, Atom and JSON Feed 1.1 (site, section, author, tag), sitemaps with
//! a Google News sitemap, robots.txt, and the web manifest.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::pages::Listing;
use super::view::ArticleView;
use super::{AppState, PageError};
use crate::domain::Article;
use crate::render::{absolute_url, escape_html, paths};
use crate::store::ListQuery;

/// Escapes for XML and drops the characters XML cannot carry. Input is cleaned when stored;
/// this second wall keeps every feed and sitemap well-formed even for rows written before
/// that (or by a path that forgot), since one bad character breaks the whole document.
fn esc(s: &str) -> String {
    escape_html(&crate::domain::strip_controls(s))
}

/// Ids per article sitemap file, so at most this many URLs: the protocol allows 50,000, but a
/// file of 50,000 Arabic (percent-encoded) URLs is over 10 MB; 10,000 keeps every sitemap
/// small enough to cache and quick to fetch.
const SITEMAP_MAX_URLS: i64 = 10_000;
const NEWS_SITEMAP_MAX_URLS: i64 = 1_000;

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "xml" | "rss" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

fn with_type(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}

/// The article's body as simple, escaped HTML for feed readers.
fn body_html(view: &ArticleView) -> String {
    use super::view::BlockView;
    // An imported article whose first paragraph carries links has no separate lead.
    let mut html = if view.lead.is_empty() { String::new() } else { format!("<p><strong>{}</strong></p>", esc(&view.lead)) };
    for block in &view.blocks {
        match block {
            // `html` is the marked text, escaped by `render::marked_html` (links absolute).
            BlockView::Paragraph { html: text, .. } => html.push_str(&format!("<p>{text}</p>")),
            BlockView::Subheading { text, .. } => html.push_str(&format!("<h2>{}</h2>", esc(text))),
            BlockView::Quote { html: text, intro, .. } => {
                if let Some(intro) = intro {
                    html.push_str(&format!("<p>{}:</p>", esc(intro)));
                }
                html.push_str(&format!("<blockquote><p>{text}</p></blockquote>"));
            }
            BlockView::ReadAlso { title, url } => match url {
                Some(url) => html.push_str(&format!("<p>اقرأ أيضاً: <a href=\"{}\">{}</a></p>", esc(url), esc(title))),
                None => html.push_str(&format!("<p>اقرأ أيضاً: {}</p>", esc(title))),
            },
            BlockView::Image { src, alt, .. } => {
                html.push_str(&format!("<figure><img src=\"{}\" alt=\"{}\"></figure>", esc(src), esc(alt)))
            }
            BlockView::List { ordered, items } => {
                let tag = if *ordered { "ol" } else { "ul" };
                html.push_str(&format!("<{tag}>{}</{tag}>", items.iter().map(|i| format!("<li>{}</li>", i.html)).collect::<String>()));
            }
        }
    }
    html
}

struct FeedItem {
    view: ArticleView,
    article: Article,
}

async fn items(state: &AppState, query: ListQuery) -> Result<Vec<FeedItem>, PageError> {
    let summaries = state.store.latest_published(&ListQuery { limit: 20, ..query }).await?;
    let mut items = Vec::with_capacity(summaries.len());
    for summary in summaries {
        if let Some(article) = state.store.article_by_id(summary.id).await? {
            // Read-also links in feeds resolve like on the page.
            let titles: Vec<&str> = article
                .body
                .iter()
                .filter_map(|b| if let crate::domain::Block::ReadAlso { title } = b { Some(title.as_str()) } else { None })
                .collect();
            let links = state.store.link_targets(&titles).await?;
            let mut view = ArticleView::build(&article, &state.link_style(true), &state.dates, &links);
            // Feed readers resolve nothing against the site: links and images become absolute.
            for block in &mut view.blocks {
                match block {
                    super::view::BlockView::ReadAlso { url: Some(url), .. } => *url = absolute_url(&state.base_url, url),
                    super::view::BlockView::Image { src, .. } if src.starts_with('/') => *src = absolute_url(&state.base_url, src),
                    _ => {}
                }
            }
            items.push(FeedItem { view, article });
        }
    }
    Ok(items)
}

fn rfc2822(t: DateTime<Utc>) -> String {
    t.to_rfc2822()
}

fn render(state: &AppState, format: Format, title: &str, page_path: &str, feed_path: &str, items: &[FeedItem]) -> Response {
    let site = &state.config.site;
    let full_text = site.feed_full_text;
    let page_url = absolute_url(&state.base_url, page_path);
    let feed_url = absolute_url(&state.base_url, feed_path);
    let updated = items.iter().map(|i| i.article.updated_at).max().unwrap_or_else(Utc::now);
    let content = |item: &FeedItem| if full_text { body_html(&item.view) } else { format!("<p>{}</p>", esc(&item.view.lead)) };
    let body = match format {
        Format::Rss => {
            let mut xml = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n<title>{}</title>\n<link>{}</link>\n<description>{}</description>\n<language>ar</language>\n<lastBuildDate>{}</lastBuildDate>\n<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
                esc(title), esc(&page_url), esc(&site.description), rfc2822(updated), esc(&feed_url)
            );
            for item in items {
                let v = &item.view;
                xml.push_str(&format!("<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}/news/{}</guid>\n<description>{}</description>\n", esc(&v.headline), esc(&v.url), esc(&state.base_url), v.id, esc(&v.lead)));
                if full_text {
                    xml.push_str(&format!("<content:encoded>{}</content:encoded>\n", esc(&content(item))));
                }
                if let Some(t) = item.article.published_at {
                    xml.push_str(&format!("<pubDate>{}</pubDate>\n", rfc2822(t)));
                }
                for author in &item.article.authors {
                    xml.push_str(&format!("<dc:creator>{}</dc:creator>\n", esc(&author.name)));
                }
                if let Some(section) = &v.section {
                    xml.push_str(&format!("<category>{}</category>\n", esc(&section.name)));
                }
                for tag in &v.tags {
                    xml.push_str(&format!("<category>{}</category>\n", esc(&tag.name)));
                }
                xml.push_str("</item>\n");
            }
            xml.push_str("</channel>\n</rss>\n");
            xml
        }
        Format::Atom => {
            let mut xml = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"ar\">\n<title>{}</title>\n<subtitle>{}</subtitle>\n<id>{}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n<updated>{}</updated>\n",
                esc(title), esc(&site.description), esc(&feed_url), esc(&page_url), esc(&feed_url), updated.to_rfc3339()
            );
            for item in items {
                let v = &item.view;
                xml.push_str(&format!(
                    "<entry>\n<title>{}</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<id>{}/news/{}</id>\n<updated>{}</updated>\n",
                    esc(&v.headline), esc(&v.url), esc(&state.base_url), v.id, item.article.updated_at.to_rfc3339()
                ));
                if let Some(t) = item.article.published_at {
                    xml.push_str(&format!("<published>{}</published>\n", t.to_rfc3339()));
                }
                let authors: Vec<&str> = item.article.authors.iter().map(|a| a.name.as_str()).collect();
                let author = if authors.is_empty() { site.title.clone() } else { authors.join("، ") };
                xml.push_str(&format!("<author><name>{}</name></author>\n<summary>{}</summary>\n", esc(&author), esc(&v.lead)));
                if full_text {
                    xml.push_str(&format!("<content type=\"html\">{}</content>\n", esc(&content(item))));
                }
                if let Some(section) = &v.section {
                    xml.push_str(&format!("<category term=\"{}\"/>\n", esc(&section.name)));
                }
                xml.push_str("</entry>\n");
            }
            xml.push_str("</feed>\n");
            xml
        }
        Format::Json => {
            let items: Vec<_> = items
                .iter()
                .map(|item| {
                    let v = &item.view;
                    let mut entry = json!({
                        "id": format!("{}/news/{}", state.base_url, v.id),
                        "url": v.url,
                        "title": v.headline,
                        "summary": v.lead,
                        "date_published": item.article.published_at.map(|t| t.to_rfc3339()),
                        "date_modified": item.article.updated_at.to_rfc3339(),
                        "authors": item.article.authors.iter().map(|a| json!({"name": a.name, "url": absolute_url(&state.base_url, &paths::author(&a.slug))})).collect::<Vec<_>>(),
                        "tags": v.section.iter().map(|s| s.name.clone()).chain(v.tags.iter().map(|t| t.name.clone())).collect::<Vec<_>>(),
                        "language": "ar",
                    });
                    entry["content_html"] = json!(content(item));
                    entry
                })
                .collect();
            serde_json::to_string_pretty(&json!({
                "version": "https://jsonfeed.org/version/1.1",
                "title": title,
                "home_page_url": page_url,
                "feed_url": feed_url,
                "description": site.description,
                "language": "ar",
                "items": items,
            }))
            .unwrap_or_default()
        }
    };
    with_type(body, format.content_type())
}

async fn site_feed(state: AppState, format: Format, path: &str) -> Result<Response, PageError> {
    let items = items(&state, ListQuery::default()).await?;
    Ok(render(&state, format, &state.config.site.title, "/", path, &items))
}

/// `/feed.xml`, `/feed.atom`, `/feed.json`: the whole site.
pub async fn site_rss(State(state): State<AppState>) -> Result<Response, PageError> {
    site_feed(state, Format::Rss, "/feed.xml").await
}
pub async fn site_atom(State(state): State<AppState>) -> Result<Response, PageError> {
    site_feed(state, Format::Atom, "/feed.atom").await
}
pub async fn site_json(State(state): State<AppState>) -> Result<Response, PageError> {
    site_feed(state, Format::Json, "/feed.json").await
}

/// `/feed/{section|author|tag}/{slug}.{xml|atom|json}`.
pub async fn listing_feed(State(state): State<AppState>, Path((kind, file)): Path<(String, String)>) -> Result<Response, PageError> {
    let (slug, ext) = file.rsplit_once('.').ok_or(PageError::NotFound)?;
    let format = Format::from_extension(ext).ok_or(PageError::NotFound)?;
    let listing = Listing::find(&state, &kind, slug).await?;
    let items = items(&state, listing.query.clone()).await?;
    let title = format!("{} — {}", listing.heading, state.config.site.title);
    let feed_path = format!("/feed/{kind}/{}.{ext}", crate::render::encode_segment(slug));
    Ok(render(&state, format, &title, &listing.path, &feed_path, &items))
}

fn xml(body: String) -> Response {
    with_type(body, "application/xml; charset=utf-8")
}

/// The sitemap index: article sitemaps of at most 50,000 URLs, the listing pages, the news sitemap.
pub async fn sitemap_index(State(state): State<AppState>) -> Result<Response, PageError> {
    let blocks = state.store.sitemap_blocks(SITEMAP_MAX_URLS).await?;
    let mut body =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let mut add = |path: String| body.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", esc(&absolute_url(&state.base_url, &path))));
    add("/sitemaps/pages.xml".into());
    add("/sitemaps/news.xml".into());
    // File N holds the published articles with ids in block N-1; a site with none still lists
    // (an empty) articles-1.
    if blocks.is_empty() {
        add("/sitemaps/articles-1.xml".into());
    }
    for block in blocks {
        add(format!("/sitemaps/articles-{}.xml", block + 1));
    }
    body.push_str("</sitemapindex>\n");
    Ok(xml(body))
}

/// `/sitemaps/articles-N.xml`, `/sitemaps/pages.xml`, `/sitemaps/news.xml`.
pub async fn sitemap(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, PageError> {
    let base = &state.base_url;
    let url = |path: &str| esc(&absolute_url(base, path));
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    if file == "pages.xml" {
        body.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        body.push_str(&format!("<url><loc>{}</loc></url>\n", url("/")));
        for s in state.store.sections().await? {
            body.push_str(&format!("<url><loc>{}</loc></url>\n", url(&paths::section(&s.slug))));
        }
        for a in state.store.authors().await? {
            body.push_str(&format!("<url><loc>{}</loc></url>\n", url(&paths::author(&a.slug))));
        }
        for t in state.store.tags().await? {
            body.push_str(&format!("<url><loc>{}</loc></url>\n", url(&paths::tag(&t.slug))));
        }
    } else if file == "news.xml" {
        // Google News: articles of the last two days, at most 1,000.
        let since = (Utc::now() - chrono::Duration::days(2)).timestamp();
        let articles =
            state.store.latest_published(&ListQuery { since: Some(since), limit: NEWS_SITEMAP_MAX_URLS, ..Default::default() }).await?;
        body.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n");
        for a in articles {
            body.push_str(&format!(
                "<url><loc>{}</loc><news:news><news:publication><news:name>{}</news:name><news:language>ar</news:language></news:publication><news:publication_date>{}</news:publication_date><news:title>{}</news:title></news:news></url>\n",
                url(&paths::article(&a.slug)),
                esc(&state.config.site.title),
                a.published_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                esc(&a.headline)
            ));
        }
    } else {
        let n: i64 = file
            .strip_prefix("articles-")
            .and_then(|rest| rest.strip_suffix(".xml"))
            .and_then(|n| n.parse().ok())
            .filter(|n| *n >= 1)
            .ok_or(PageError::NotFound)?;
        let entries = state.store.sitemap_entries((n - 1).saturating_mul(SITEMAP_MAX_URLS), SITEMAP_MAX_URLS).await?;
        if entries.is_empty() && n > 1 {
            return Err(PageError::NotFound);
        }
        body.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for e in entries {
            body.push_str(&format!(
                "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
                url(&paths::article(&e.slug)),
                e.updated_at.to_rfc3339()
            ));
        }
    }
    body.push_str("</urlset>\n");
    Ok(xml(body))
}

pub async fn robots(State(state): State<AppState>) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /admin/\nDisallow: /search\nAllow: /\n\nSitemap: {}\nSitemap: {}\n",
        absolute_url(&state.base_url, "/sitemap.xml"),
        absolute_url(&state.base_url, "/sitemaps/news.xml")
    );
    with_type(body, "text/plain; charset=utf-8")
}

pub async fn manifest(State(state): State<AppState>) -> Response {
    let body = json!({
        "name": state.config.site.title,
        "short_name": state.config.site.title.chars().take(12).collect::<String>(),
        "description": state.config.site.description,
        "lang": "ar",
        "dir": "rtl",
        "start_url": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": [{ "src": "/favicon.svg", "sizes": "any", "type": "image/svg+xml" }],
    });
    with_type(body.to_string(), "application/manifest+json")
}

pub const FAVICON_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\"><rect width=\"64\" height=\"64\" rx=\"12\" fill=\"#0b4f8a\"/><text x=\"32\" y=\"46\" font-size=\"40\" text-anchor=\"middle\" fill=\"#fff\" font-family=\"sans-serif\">ن</text></svg>";

pub async fn favicon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=604800")], FAVICON_SVG).into_response()
}
