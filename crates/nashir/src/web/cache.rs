//! Render once, serve many: public GET responses are kept in memory with their ETag and
//! gzip/brotli variants, so a cached hit touches no database and compresses nothing.
//!
//! Invalidation is by epoch: the store bumps its epoch after every committed write in this
//! process, the change-log follower bumps it when another process or node wrote, and any
//! successful editorial POST/PUT (admin, API) bumps it too. A page rendered under an older epoch is stale.
//! Pages show other articles (home, sections, «اقرأ أيضاً»), so any write invalidates all
//! pages; re-rendering one costs about a millisecond, far cheaper than tracking who shows what.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, RwLock};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Paths whose GET answers depend only on the store and the theme.
fn cacheable(path: &str) -> bool {
    path == "/"
        || ["/news/", "/section/", "/author/", "/tag/", "/topics/", "/feed", "/sitemap", "/api/v1/articles", "/newsletter/archive"]
            .iter()
            .any(|p| path.starts_with(p))
        || matches!(path, "/robots.txt" | "/manifest.webmanifest" | "/favicon.svg" | "/favicon.ico")
}

pub struct CachedPage {
    epoch: u64,
    status: StatusCode,
    etag: HeaderValue,
    /// When this rendering was made (whole seconds, as HTTP dates carry).
    rendered_at: i64,
    /// Identity, gzip and brotli, each with every response header already in place, so a hit
    /// formats no date, builds no header and copies no body.
    variants: [Variant; 3],
    /// Headers of a 304 answer: the validators and caching headers, no body headers.
    not_modified: HeaderMap,
}

struct Variant {
    body: Bytes,
    headers: HeaderMap,
}

impl CachedPage {
    fn new(epoch: u64, status: StatusCode, mut headers: HeaderMap, identity: Bytes) -> CachedPage {
        let etag = format!("\"{}\"", &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&identity))[..20]);
        let etag = HeaderValue::from_str(&etag).expect("hex etag is a valid header");
        let rendered_at = chrono::Utc::now().timestamp();
        headers.remove(header::CONTENT_LENGTH);
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("public, max-age=60, stale-while-revalidate=300"));
        headers.insert(header::ETAG, etag.clone());
        if let Some(date) = chrono::DateTime::from_timestamp(rendered_at, 0) {
            if let Ok(value) = HeaderValue::from_str(&date.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
                headers.insert(header::LAST_MODIFIED, value);
            }
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        let variant = |body: Bytes, encoding: Option<&'static str>| {
            let mut h = headers.clone();
            if let Some(encoding) = encoding {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            Variant { body, headers: h }
        };
        let (gzip, brotli) = (gzip(&identity), brotli(&identity));
        let variants = [
            variant(identity.clone(), None),
            // An empty compressed body means compression failed: fall back to identity.
            if gzip.is_empty() { variant(identity.clone(), None) } else { variant(gzip, Some("gzip")) },
            if brotli.is_empty() { variant(identity, None) } else { variant(brotli, Some("br")) },
        ];
        headers.remove(header::CONTENT_TYPE);
        CachedPage { epoch, status, etag, rendered_at, variants, not_modified: headers }
    }

    fn size(&self) -> usize {
        self.variants.iter().map(|v| v.body.len()).sum::<usize>() + 1024
    }
}

pub struct PageCache {
    pages: RwLock<HashMap<String, Arc<CachedPage>>>,
    budget_bytes: usize,
    used_bytes: std::sync::atomic::AtomicUsize,
}

impl PageCache {
    pub fn new(budget_bytes: usize) -> PageCache {
        PageCache { pages: RwLock::new(HashMap::new()), budget_bytes, used_bytes: 0.into() }
    }

    fn get(&self, key: &str, epoch: u64) -> Option<Arc<CachedPage>> {
        // A &str lookup: a hit allocates no key.
        let pages = self.pages.read().ok()?;
        pages.get(key).filter(|p| p.epoch == epoch).cloned()
    }

    fn insert(&self, key: String, page: CachedPage) -> Arc<CachedPage> {
        use std::sync::atomic::Ordering;
        let page = Arc::new(page);
        if page.size() > self.budget_bytes / 8 {
            return page;
        }
        if let Ok(mut pages) = self.pages.write() {
            // Over budget (or holding stale pages): start afresh rather than track recency.
            if self.used_bytes.load(Ordering::Relaxed) + page.size() > self.budget_bytes || pages.values().any(|p| p.epoch != page.epoch) {
                pages.retain(|_, p| p.epoch == page.epoch);
                if self.used_bytes.load(Ordering::Relaxed) + page.size() > self.budget_bytes {
                    pages.clear();
                }
                self.used_bytes.store(pages.values().map(|p| p.size()).sum(), Ordering::Relaxed);
            }
            if let Some(old) = pages.insert(key, Arc::clone(&page)) {
                self.used_bytes.fetch_sub(old.size(), Ordering::Relaxed);
            }
            self.used_bytes.fetch_add(page.size(), Ordering::Relaxed);
        }
        page
    }

    pub fn len(&self) -> usize {
        self.pages.read().map(|p| p.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

fn preferred_encoding(headers: &HeaderMap) -> Encoding {
    let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let offers = |name: &str| {
        accept.split(',').any(|part| {
            let mut pieces = part.trim().split(';');
            pieces.next().is_some_and(|n| n.trim().eq_ignore_ascii_case(name)) && !pieces.any(|q| q.trim().replace(' ', "") == "q=0")
        })
    };
    if offers("br") {
        Encoding::Brotli
    } else if offers("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::best());
    let _ = encoder.write_all(bytes);
    encoder.finish().map(Bytes::from).unwrap_or_default()
}

fn brotli(bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let params = brotli::enc::BrotliEncoderParams { quality: 9, lgwin: 20, ..Default::default() };
    match brotli::BrotliCompress(&mut &bytes[..], &mut out, &params) {
        Ok(_) => Bytes::from(out),
        Err(_) => Bytes::new(),
    }
}

/// What a request asks of a cached page: taken from its headers before the request moves on.
struct Wants {
    encoding: Encoding,
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
    head: bool,
}

impl Wants {
    fn of(request: &Request) -> Wants {
        let headers = request.headers();
        Wants {
            encoding: preferred_encoding(headers),
            if_none_match: headers.get(header::IF_NONE_MATCH).cloned(),
            if_modified_since: headers.get(header::IF_MODIFIED_SINCE).cloned(),
            head: request.method() == Method::HEAD,
        }
    }
}

fn respond(page: &CachedPage, wants: &Wants) -> Response {
    // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 §13.2.2).
    let not_modified = match wants.if_none_match.as_ref().and_then(|v| v.to_str().ok()) {
        Some(tags) => tags.split(',').any(|tag| tag.trim().as_bytes() == page.etag.as_bytes() || tag.trim() == "*"),
        None => wants
            .if_modified_since
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| since.timestamp() >= page.rendered_at),
    };
    if not_modified {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = page.not_modified.clone();
        return response;
    }
    let variant = &page.variants[match wants.encoding {
        Encoding::Identity => 0,
        Encoding::Gzip => 1,
        Encoding::Brotli => 2,
    }];
    let mut response = Response::new(if wants.head { Body::empty() } else { Body::from(variant.body.clone()) });
    *response.status_mut() = page.status;
    *response.headers_mut() = variant.headers.clone();
    response
}

/// The caching middleware for public pages.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        // Editors' writes (admin forms, API) change what pages show; readers' posts
        // (newsletter sign-ups) do not, and must not let anyone empty the cache at will.
        let editorial = request.uri().path().starts_with("/admin") || request.uri().path().starts_with("/api/");
        let response = next.run(request).await;
        if editorial && (response.status().is_success() || response.status().is_redirection()) {
            state.store.bump_epoch();
        }
        return response;
    }
    let path = request.uri().path();
    if !cacheable(path) || request.headers().contains_key(header::COOKIE) && path.starts_with("/admin") {
        return next.run(request).await;
    }
    let epoch = state.store.epoch();
    let wants = Wants::of(&request);
    let key = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or_default();
    if let Some(page) = state.cache.get(key, epoch) {
        state.metrics.cache_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return respond(&page, &wants);
    }
    state.metrics.cache_misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = key.to_string();
    let response = next.run(request).await;
    let status = response.status();
    // Only complete, public answers are shared: never one that sets a cookie.
    if !(status == StatusCode::OK || status == StatusCode::NOT_FOUND) || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(identity) = to_bytes(body, 16 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = state.cache.insert(key, CachedPage::new(epoch, status, parts.headers, identity));
    respond(&page, &wants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_negotiation() {
        let mut h = HeaderMap::new();
        assert!(preferred_encoding(&h) == Encoding::Identity);
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate, br"));
        assert!(preferred_encoding(&h) == Encoding::Brotli);
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=1, br;q=0"));
        assert!(preferred_encoding(&h) == Encoding::Gzip);
    }

    #[test]
    fn compressed_variants_round_trip() {
        let text = "مرحبا بالعالم ".repeat(100);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzip(text.as_bytes())[..]), &mut out).unwrap();
        assert_eq!(out, text);
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &brotli(text.as_bytes())[..], &mut decoded).unwrap();
        assert_eq!(decoded, text.as_bytes());
    }
}
