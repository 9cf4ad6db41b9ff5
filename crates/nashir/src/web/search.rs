//! `/search` (page) and `/api/v1/search` (JSON).

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::Json;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use super::api_types::{SearchHit, SearchResults as SearchAnswer};
use super::error::{Error, ErrorCode};
use super::pages::{site_view_with, url_pairs};
use super::{ApiError, AppState, PageError};
use crate::render::{absolute_url, paths};
use crate::search::{query, SearchRequest, SearchResults, MAX_QUERY_CHARS};

/// A reader's search parameters, validated. Errors are Arabic sentences.
struct Params {
    q: String,
    section: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    from_raw: String,
    to_raw: String,
}

fn day_bound(value: &str, tz: chrono_tz::Tz, end_of_day: bool) -> Result<Option<DateTime<Utc>>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| format!("التاريخ «{}» غير صالح؛ استخدم الشكل 2021-12-03", value.chars().take(30).collect::<String>()))?;
    let time = if end_of_day { date.and_hms_opt(23, 59, 59) } else { date.and_hms_opt(0, 0, 0) }.expect("valid time");
    Ok(tz.from_local_datetime(&time).earliest().map(|t| t.with_timezone(&Utc)))
}

fn params(state: &AppState, pairs: &[(String, String)]) -> Result<Params, String> {
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let q = get("q");
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("نص البحث أطول من {MAX_QUERY_CHARS} حرف؛ اختصره وحاول مجدداً."));
    }
    let tz = state.dates.tz;
    let (from_raw, to_raw) = (get("from"), get("to"));
    let section = Some(get("section")).filter(|s| !s.is_empty());
    Ok(Params { from: day_bound(&from_raw, tz, false)?, to: day_bound(&to_raw, tz, true)?, q, section, from_raw, to_raw })
}

async fn run(state: &AppState, p: &Params, limit: usize, offset: usize) -> anyhow::Result<(query::ParsedQuery, SearchResults)> {
    let parsed = query::parse(&p.q);
    let request = SearchRequest { query: parsed.clone(), section: p.section.clone(), from: p.from, to: p.to, limit, offset };
    let mut results = state.search.search(&request)?;
    crate::search::fill_hits(&state.store, &parsed, &mut results).await?;
    Ok((parsed, results))
}

const PAGE_SIZE: usize = 10;

/// What the search page shows around its results (the site's header with the breaking bar,
/// and the sections to filter by), kept while the store's epoch and the bar last: every search
/// is a new query, so this was two database round trips per search for the same answer.
#[derive(Default)]
pub struct PageChrome(std::sync::Mutex<Option<Chrome>>);

struct Chrome {
    epoch: u64,
    /// When the breaking bar it shows expires (`i64::MAX`: none shown).
    until: i64,
    site: Value,
    sections: Value,
}

async fn chrome(state: &AppState) -> Result<(Value, Value), PageError> {
    // Read before the queries: a write meanwhile moves the epoch, and the entry is stale.
    let epoch = state.store.epoch();
    if let Ok(kept) = state.search_chrome.0.lock() {
        if let Some(c) = kept.as_ref().filter(|c| c.epoch == epoch && crate::domain::now_secs() < c.until) {
            // As a rendering of the bar would: the page cache keeps this page no longer.
            state.breaking_until.store(c.until, std::sync::atomic::Ordering::Release);
            return Ok((c.site.clone(), c.sections.clone()));
        }
    }
    let all_sections = state.store.sections().await?;
    let site = site_view_with(state, &all_sections).await?;
    let until = state.breaking_until.load(std::sync::atomic::Ordering::Acquire);
    let site = serde_json::to_value(site).map_err(anyhow::Error::from)?;
    let sections = Value::Array(all_sections.into_iter().map(|s| json!({"slug": s.slug, "name": s.name})).collect());
    if let Ok(mut kept) = state.search_chrome.0.lock() {
        *kept = Some(Chrome { epoch, until, site: site.clone(), sections: sections.clone() });
    }
    Ok((site, sections))
}

/// What a reader is told while the index is built (a node that just started on a new or
/// restored archive answers pages at once, and search a little later).
const BUILDING: &str = "البحث غير متاح لحظات: فهرس البحث يُبنى. أعد المحاولة بعد قليل.";

pub async fn page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Html<String>, PageError> {
    if state.search.is_building() {
        return Err(PageError::Unavailable(BUILDING.into()));
    }
    let pairs = url_pairs(raw.as_deref().unwrap_or(""));
    let p = params(&state, &pairs).map_err(PageError::BadRequest)?;
    let page: usize = match pairs.iter().find(|(k, _)| k == "page") {
        None => 1,
        Some((_, v)) => {
            v.trim().parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| PageError::BadRequest("رقم الصفحة غير صالح.".into()))?
        }
    };
    let (parsed, results) = run(&state, &p, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let pages = results.total.div_ceil(PAGE_SIZE).max(1);
    let page_url = |n: usize| {
        let mut url = format!("/search?q={}", percent_encoding::utf8_percent_encode(&p.q, percent_encoding::NON_ALPHANUMERIC));
        for (name, value) in [("section", p.section.clone().unwrap_or_default()), ("from", p.from_raw.clone()), ("to", p.to_raw.clone())] {
            if !value.is_empty() {
                url.push_str(&format!("&{name}={}", percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC)));
            }
        }
        if n > 1 {
            url.push_str(&format!("&page={n}"));
        }
        url
    };
    let hits: Vec<Value> = results
        .hits
        .iter()
        .map(|h| {
            json!({
                "path": paths::article(&h.slug),
                "headline_html": h.headline_html,
                "snippet_html": h.snippet,
                "section_name": h.section_name,
                "section_url": h.section.as_ref().map(|s| paths::section(s)),
                "date": h.published_at.map(|t| state.dates.long(t)),
                "published_at": h.published_at.map(|t| t.to_rfc3339()),
            })
        })
        .collect();
    let (site, sections) = chrome(&state).await?;
    let html = state.templates.render(
        "search.html",
        json!({
            "site": site,
            "query": p.q,
            "searched": !parsed.is_empty(),
            "total": results.total,
            "hits": hits,
            "sections": sections,
            "section": p.section,
            "from": p.from_raw,
            "to": p.to_raw,
            "page": page,
            "pages": pages,
            "prev_url": (page > 1).then(|| page_url(page - 1)),
            "next_url": (page < pages).then(|| page_url(page + 1)),
        }),
    )?;
    Ok(Html(html))
}

/// Full-text search of published articles (Arabic-aware: normalised and stemmed).
#[utoipa::path(get, path = "/search", tag = "read", operation_id = "search",
    params(
        ("q" = Option<String>, Query, description = "What to look for; quotes for phrases, `-word` to exclude"),
        ("section" = Option<String>, Query, description = "Only this section (its slug)"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD in the newsroom's time zone"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD"),
        ("limit" = Option<u64>, Query, description = "Hits per page, 1–100 (10 when absent)"),
        ("offset" = Option<u64>, Query, description = "Hits to skip, 0–10000"),
    ),
    responses(
        (status = 200, description = "Hits, best first", body = SearchAnswer),
        (status = 400, description = "Unknown parameter, bad date or number, query too long (`invalid_query`)", body = Error),
        (status = 503, description = "The search index is being built (`search_unavailable`); try again after `Retry-After` seconds", body = Error),
    ))]
pub async fn api(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<SearchAnswer>, ApiError> {
    if state.search.is_building() {
        return Err(ApiError::new(ErrorCode::SearchUnavailable));
    }
    let pairs = url_pairs(raw.as_deref().unwrap_or(""));
    let bad = |message: String| ApiError::with_message(ErrorCode::InvalidQuery, message);
    if let Some((unknown, _)) = pairs.iter().find(|(k, _)| !["q", "section", "from", "to", "limit", "offset"].contains(&k.as_str())) {
        return Err(bad(format!("معامل غير معروف: {}", unknown.chars().take(40).collect::<String>())));
    }
    let p = params(&state, &pairs).map_err(bad)?;
    let number = |name: &str, default: usize, max: usize| -> Result<usize, ApiError> {
        match pairs.iter().find(|(k, _)| k == name) {
            None => Ok(default),
            Some((_, v)) => {
                v.trim().parse().ok().filter(|n| *n <= max).ok_or_else(|| bad(format!("المعامل {name} يجب أن يكون عدداً بين 0 و{max}")))
            }
        }
    };
    let limit = number("limit", 10, 100)?.max(1);
    let offset = number("offset", 0, 10_000)?;
    let (_, results) = run(&state, &p, limit, offset).await?;
    let hits = results
        .hits
        .into_iter()
        .map(|h| SearchHit {
            id: h.id,
            url: absolute_url(&state.base_url, &paths::article(&h.slug)),
            headline: h.headline,
            published_at: h.published_at.map(|t| t.to_rfc3339()),
            section: h.section,
            snippet: h.snippet,
            score: f64::from(h.score),
        })
        .collect();
    Ok(Json(SearchAnswer { query: p.q, total: results.total as u64, limit: limit as u64, offset: offset as u64, hits }))
}
