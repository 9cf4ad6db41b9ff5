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

/// Who may keep an answer, decided per route (the router's pattern, not a path prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// The same answer for everyone, depending only on the store and the theme: kept in this
    /// cache and by shared caches. The slice names the query parameters the handler reads; the
    /// cache key is the path plus those, so other parameters cannot create new entries.
    Shared(&'static [&'static str]),
    /// Like `Shared`, but the keys are what readers type (search queries), so they are endless:
    /// kept in a small pool of their own, uncompressed, so that hot queries are
    /// answered from memory while a flood of unique ones can only flush that pool.
    Queries(&'static [&'static str]),
    /// Public, but not kept here (its keys are endless, e.g. search queries); shared caches
    /// may keep it briefly.
    Public,
    /// Depends on who asks or carries a secret (sessions, tokens, links from mails):
    /// `Cache-Control: private, no-store`, never stored anywhere.
    Private,
}

/// The one table of what may be cached. A route missing here is private: a new route is
/// shared only when someone decides it is (the access matrix test lists every route).
pub fn policy(method: &Method, route: Option<&str>) -> CachePolicy {
    use CachePolicy::*;
    if method != Method::GET && method != Method::HEAD {
        return Private;
    }
    let Some(route) = route else {
        // The fallback: a public 404 page, not worth a cache entry per unknown path.
        return Public;
    };
    match route {
        "/" | "/news/{id_or_slug}" => Shared(&[]),
        "/section/{slug}" | "/author/{slug}" | "/tag/{slug}" | "/topics/{slug}" => Shared(&["page"]),
        "/feed.xml" | "/feed.atom" | "/feed.json" | "/feed/{kind}/{file}" | "/sitemap.xml" | "/sitemaps/{file}" => Shared(&[]),
        "/robots.txt" | "/manifest.webmanifest" | "/favicon.svg" | "/favicon.ico" => Shared(&[]),
        "/newsletter/archive" | "/newsletter/archive/{id}" => Shared(&[]),
        "/api/v1/articles" => Shared(&["limit", "offset", "section"]),
        "/api/v1/articles/{id_or_slug}" | "/api/v1/openapi.json" => Shared(&[]),
        // Kept no longer than the bar lasts (see `CachedPage::valid_until`).
        "/api/v1/breaking" => Shared(&[]),
        "/search" => Queries(&["q", "section", "from", "to", "page"]),
        "/api/v1/search" | "/newsletter" | "/media/{name}" | "/assets/{file}" => Public,
        _ => Private,
    }
}

/// Whether a request carries credentials: an `Authorization` header or an admin session
/// cookie. Such a request is never answered from the cache nor stored in it, whatever the
/// route, so an answer made for someone can never reach anyone else.
fn has_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || super::admin::cookie_value(headers, super::admin::SESSION_COOKIE).is_some()
}

/// The cache key of a shared route: the decoded path plus the parameters the route reads, in
/// the table's order. `None` when the query has a parameter the route does not read, or one
/// twice: such a request is answered without the cache, so it cannot add entries.
fn cache_key(path: &str, query: Option<&str>, reads: &[&str]) -> Option<String> {
    let mut key = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    let pairs = super::pages::url_pairs(query.unwrap_or(""));
    for (i, (name, _)) in pairs.iter().enumerate() {
        if !reads.contains(&name.as_str()) || pairs[..i].iter().any(|(n, _)| n == name) {
            return None;
        }
    }
    let mut separator = '?';
    for name in reads {
        if let Some((_, value)) = pairs.iter().find(|(n, _)| n == name) {
            key.push(separator);
            key.push_str(name);
            key.push('=');
            key.extend(percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC));
            separator = '&';
        }
    }
    Some(key)
}

/// Marks an answer as private: no shared cache, no browser cache on disk.
fn make_private(response: &mut Response) {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
}

/// Set by the article page on its response: the page counts as a view of this article, also
/// when it is later served from the cache (kept in [`CachedPage::article_id`]).
#[derive(Clone, Copy, Debug)]
pub struct ViewedArticle(pub i64);

/// Set by a page on its response: keep it at most this many seconds. The home page shows
/// «الأكثر قراءة», which changes with views: it expires by itself instead of every change of
/// the lists moving the epoch (which would drop every cached page of the site each time).
#[derive(Clone, Copy, Debug)]
pub struct FreshFor(pub i64);

pub struct CachedPage {
    epoch: u64,
    /// The route template it was rendered for, so a hit answered in front of the router is
    /// still counted under its route in `/metrics`.
    route: Box<str>,
    /// Held in the queries' pool (see [`CachePolicy::Queries`]).
    query: bool,
    /// The article this page shows (0: none), so a cached hit is counted as a view of it.
    article_id: i64,
    /// Unix second from which the page is stale whatever the epoch: when the breaking-news bar
    /// it shows expires (`i64::MAX`: never). Expiry writes nothing, so no epoch moves then.
    valid_until: i64,
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

/// What the layer knows of a page besides its bytes.
struct PageMeta {
    route: Box<str>,
    query: bool,
    article_id: i64,
    valid_until: i64,
    /// The ETag and rendering time of the page this one replaces, if still held.
    previous: Option<(HeaderValue, i64)>,
}

struct Variant {
    body: Bytes,
    headers: HeaderMap,
}

impl CachedPage {
    fn new(epoch: u64, meta: PageMeta, status: StatusCode, mut headers: HeaderMap, identity: Bytes) -> CachedPage {
        let PageMeta { route, query, article_id, valid_until, previous } = meta;
        let etag = format!("\"{}\"", &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&identity))[..20]);
        let etag = HeaderValue::from_str(&etag).expect("hex etag is a valid header");
        // A write elsewhere moves the epoch and the page is rendered again; when its bytes are
        // the same, it was not modified: Last-Modified stays, so If-Modified-Since still
        // answers 304 (it moved to the second of the new rendering before).
        let rendered_at = previous.filter(|(old, _)| *old == etag).map_or_else(crate::domain::now_secs, |(_, at)| at);
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
        // A query's page is mostly asked once: it is kept uncompressed (identity for every
        // client, as search pages were before they were kept), so a miss costs no compression.
        let (gzip, brotli) = if query { (Bytes::new(), Bytes::new()) } else { (gzip(&identity), brotli(&identity)) };
        let variants = [
            variant(identity.clone(), None),
            // An empty compressed body means compression failed: fall back to identity.
            if gzip.is_empty() { variant(identity.clone(), None) } else { variant(gzip, Some("gzip")) },
            if brotli.is_empty() { variant(identity, None) } else { variant(brotli, Some("br")) },
        ];
        headers.remove(header::CONTENT_TYPE);
        CachedPage { epoch, route, query, article_id, valid_until, status, etag, rendered_at, variants, not_modified: headers }
    }

    /// Not past its breaking bar's expiry (the clock is read only while a page shows one).
    fn fresh(&self) -> bool {
        self.valid_until == i64::MAX || crate::domain::now_secs() < self.valid_until
    }

    fn size(&self) -> usize {
        self.variants.iter().map(|v| v.body.len()).sum::<usize>() + 1024
    }
}

/// Pages kept within a byte budget; over budget, or holding stale pages, it starts afresh
/// rather than track recency.
struct Pool {
    pages: RwLock<HashMap<String, Arc<CachedPage>>>,
    budget_bytes: usize,
    used_bytes: std::sync::atomic::AtomicUsize,
}

pub struct PageCache {
    /// Pages of `Shared` routes.
    pages: Pool,
    /// Pages of `Queries` routes (search results), apart so they cannot push the others out.
    queries: Pool,
    /// The same pages by the exact request target (path and query as the client sent them)
    /// that first filled them: what [`PageCache::front`] answers before the router runs. Only
    /// the layer below, after applying [`policy`], adds to it, one target per page, so it
    /// holds no more entries than `pages` and no route the table keeps private.
    targets: RwLock<HashMap<String, Arc<CachedPage>>>,
    /// Renderings under way, by key: a burst of requests for a page nobody has cached yet
    /// waits for the first one's rendering instead of rendering and compressing it N times
    /// (32 cold requests at once used to take the process from 56 to 201 MB).
    fills: std::sync::Mutex<HashMap<String, FillWatch>>,
}

type FillWatch = tokio::sync::watch::Receiver<Option<Arc<CachedPage>>>;

/// The first request for a missing page renders it; the others follow its rendering.
enum Fill {
    Leader(FillGuard),
    Follower(FillWatch),
}

/// Held by the request rendering a page. Dropped without [`FillGuard::finish`] (the client
/// went away, the answer is not cacheable), it closes the channel and the followers render
/// for themselves: nobody waits on a rendering that will not come.
struct FillGuard {
    cache: Arc<PageCache>,
    key: String,
    done: tokio::sync::watch::Sender<Option<Arc<CachedPage>>>,
}

impl FillGuard {
    fn finish(self, page: Arc<CachedPage>) {
        let _ = self.done.send(Some(page));
    }
}

impl Drop for FillGuard {
    fn drop(&mut self) {
        if let Ok(mut fills) = self.cache.fills.lock() {
            fills.remove(&self.key);
        }
    }
}

impl PageCache {
    /// A cache of `budget_bytes` for pages, and an eighth of that for search results.
    pub fn new(budget_bytes: usize) -> PageCache {
        let pool = |budget_bytes| Pool { pages: RwLock::new(HashMap::new()), budget_bytes, used_bytes: 0.into() };
        PageCache {
            pages: pool(budget_bytes),
            queries: pool(budget_bytes / 8),
            targets: RwLock::new(HashMap::new()),
            fills: Default::default(),
        }
    }

    fn pool(&self, query: bool) -> &Pool {
        if query {
            &self.queries
        } else {
            &self.pages
        }
    }

    fn join_fill(self: &Arc<Self>, key: &str) -> Fill {
        let mut fills = match self.fills.lock() {
            Ok(fills) => fills,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(watch) = fills.get(key) {
            return Fill::Follower(watch.clone());
        }
        let (done, watch) = tokio::sync::watch::channel(None);
        fills.insert(key.to_string(), watch);
        Fill::Leader(FillGuard { cache: Arc::clone(self), key: key.to_string(), done })
    }

    fn get(&self, key: &str, query: bool, epoch: u64) -> Option<Arc<CachedPage>> {
        // A &str lookup: a hit allocates no key.
        let pages = self.pool(query).pages.read().ok()?;
        pages.get(key).filter(|p| p.epoch == epoch && p.fresh()).cloned()
    }

    /// The ETag and rendering time of the page held under `key`, whatever its epoch (a stale
    /// page stays until the next insertion in its pool).
    fn previous(&self, key: &str, query: bool) -> Option<(HeaderValue, i64)> {
        let pages = self.pool(query).pages.read().ok()?;
        pages.get(key).map(|p| (p.etag.clone(), p.rendered_at))
    }

    fn insert(&self, key: String, target: &str, page: CachedPage) -> Arc<CachedPage> {
        use std::sync::atomic::Ordering;
        let page = Arc::new(page);
        let pool = self.pool(page.query);
        if page.size() > pool.budget_bytes / 8 {
            return page;
        }
        if let Ok(mut pages) = pool.pages.write() {
            // Over budget (or holding stale pages): start afresh rather than track recency.
            let (mut stale, mut full) = (false, false);
            if pool.used_bytes.load(Ordering::Relaxed) + page.size() > pool.budget_bytes || pages.values().any(|p| p.epoch != page.epoch) {
                pages.retain(|_, p| p.epoch == page.epoch);
                stale = true;
                if pool.used_bytes.load(Ordering::Relaxed) + page.size() > pool.budget_bytes {
                    pages.clear();
                    full = true;
                }
                pool.used_bytes.store(pages.values().map(|p| p.size()).sum(), Ordering::Relaxed);
            }
            if let Some(old) = pages.insert(key, Arc::clone(&page)) {
                pool.used_bytes.fetch_sub(old.size(), Ordering::Relaxed);
            }
            pool.used_bytes.fetch_add(page.size(), Ordering::Relaxed);
            // Under the pool's lock, so the targets follow what the pool dropped.
            if let Ok(mut targets) = self.targets.write() {
                if full {
                    targets.retain(|_, p| p.query != page.query && p.epoch == page.epoch);
                } else if stale {
                    targets.retain(|_, p| p.epoch == page.epoch);
                }
                targets.insert(target.to_string(), Arc::clone(&page));
            }
        }
        page
    }

    /// Answers a request from the cache before the router and the middleware stack run: a GET
    /// or HEAD without credentials whose exact target was filled under the current `epoch`.
    /// Anything else (None) goes through the router, where [`layer`] applies the policy table.
    pub fn front<B>(&self, request: &axum::http::Request<B>, epoch: u64) -> Option<(Response, Arc<CachedPage>)> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return None;
        }
        let target = request.uri().path_and_query()?.as_str();
        let page = self.targets.read().ok()?.get(target).filter(|p| p.epoch == epoch && p.fresh()).cloned()?;
        if has_credentials(request.headers()) {
            return None;
        }
        let wants = Wants::of(request);
        Some((respond(&page, &wants), page))
    }

    pub fn len(&self) -> usize {
        [&self.pages, &self.queries].iter().map(|pool| pool.pages.read().map(|p| p.len()).unwrap_or(0)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

pub(crate) fn preferred_encoding(headers: &HeaderMap) -> Encoding {
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

/// Bodies above this get the fast compression levels. The best levels cost little on a page
/// (about 1 ms of gzip for a 27 KB home page) but grow badly on big repetitive bodies: on a
/// 3.6 MB sitemap file gzip 9 took 0.93 s and brotli 9 0.87 s where gzip 6 took 0.30 s and
/// brotli 5 0.12 s (output 13 % and 66 % larger), and an epoch bump makes the next request pay it.
const LARGE_BODY: usize = 256 * 1024;

pub(crate) fn gzip(bytes: &[u8]) -> Bytes {
    let level = if bytes.len() > LARGE_BODY { flate2::Compression::new(6) } else { flate2::Compression::best() };
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), level);
    let _ = encoder.write_all(bytes);
    encoder.finish().map(Bytes::from).unwrap_or_default()
}

/// Pages up to this size get brotli's best level (10, the "zopfli" hasher).
const SMALL_BODY: usize = 64 * 1024;

/// Brotli's level by body size. Level 9, used before, cost the most memory of any request:
/// its hasher's tables (about 32 MB, zeroed, so every page of them resident) were most of a
/// cold page's peak RSS. Measured on the corpus's pages (18 and 27 KB): level 10 is 8–10 %
/// smaller than 9 at the same time (14–20 ms) with a 5 MB peak; from 100 KB it is 3–4 times
/// slower, so bigger bodies get level 6 (2–4 % larger than 9, 3 times faster, 2 MB of tables)
/// and the largest level 5 as before.
fn brotli_quality(len: usize) -> i32 {
    if len <= SMALL_BODY {
        10
    } else if len <= LARGE_BODY {
        6
    } else {
        5
    }
}

pub(crate) fn brotli(bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    // A window no bigger than the body (2^lgwin bytes, 1 KiB to 1 MiB) finds the same matches
    // with a smaller ring buffer.
    let lgwin = (usize::BITS - bytes.len().saturating_sub(1).leading_zeros()).clamp(10, 20) as i32;
    let params = brotli::enc::BrotliEncoderParams { quality: brotli_quality(bytes.len()), lgwin, ..Default::default() };
    match brotli::BrotliCompress(&mut &bytes[..], &mut out, &params) {
        Ok(_) => Bytes::from(out),
        Err(_) => Bytes::new(),
    }
}

/// A cached hit answered before the router (see [`PageCache::front`]), counted as the layers
/// it skips would have counted it: a cache hit, and under its route when metrics are on.
pub fn answer_front<B>(state: &AppState, request: &axum::http::Request<B>) -> Option<Response> {
    let started = state.config.metrics.enabled.then(std::time::Instant::now);
    let (response, page) = state.cache.front(request, state.store.epoch())?;
    state.metrics.cache_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state.metrics.cache_front_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // As the layer does for its hits: the user agent is looked at only for article pages.
    if page.article_id != 0 && counts_as_view(request) {
        state.views.hit(page.article_id);
    }
    if let Some(started) = started {
        state.metrics.observe(&page.route, response.status().as_u16(), started.elapsed());
    }
    Some(response)
}

/// What a request asks of a cached page: taken from its headers before the request moves on.
struct Wants {
    encoding: Encoding,
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
    head: bool,
}

impl Wants {
    fn of<B>(request: &axum::http::Request<B>) -> Wants {
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

/// The caching middleware: applies [`policy`] to every request (installed with
/// `Router::layer`, so the matched route is known).
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Borrowed, not copied: this runs on every cached hit.
    let policy = policy(request.method(), request.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str()));
    let credentials = has_credentials(request.headers());
    let reads = match policy {
        CachePolicy::Private => {
            // Editors' writes (admin forms, API) change what pages show; readers' posts
            // (newsletter sign-ups) do not, and must not let anyone empty the cache at will.
            let write = request.method() != Method::GET && request.method() != Method::HEAD;
            let path = request.uri().path();
            // An autosave stores a working copy, not the article: pages do not change.
            let editorial = write && (path.starts_with("/admin") || path.starts_with("/api/")) && !path.ends_with("/autosave");
            let mut response = next.run(request).await;
            if editorial && (response.status().is_success() || response.status().is_redirection()) {
                state.store.bump_epoch();
            }
            make_private(&mut response);
            return response;
        }
        CachePolicy::Public => None,
        CachePolicy::Shared(reads) | CachePolicy::Queries(reads) => Some(reads),
    };
    let query = matches!(policy, CachePolicy::Queries(_));
    let key = reads.filter(|_| !credentials).and_then(|reads| cache_key(request.uri().path(), request.uri().query(), reads));
    let Some(key) = key else {
        let counts_views = counts_as_view(&request);
        // Answered fresh; one made with credentials is marked private even though the route
        // is public (the handler may have shown more to the holder of the token).
        let mut response = next.run(request).await;
        if let Some(ViewedArticle(id)) = response.extensions().get::<ViewedArticle>().copied().filter(|_| counts_views && !credentials) {
            state.views.hit(id);
        }
        if credentials || response.headers().contains_key(header::SET_COOKIE) || response.status().is_server_error() {
            make_private(&mut response);
        }
        return response;
    };
    let epoch = state.store.epoch();
    let wants = Wants::of(&request);
    if let Some(page) = state.cache.get(&key, query, epoch) {
        state.metrics.cache_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The user agent is looked at only for article pages: other hits pay nothing.
        if page.article_id != 0 && counts_as_view(&request) {
            state.views.hit(page.article_id);
        }
        return respond(&page, &wants);
    }
    let guard = match state.cache.join_fill(&key) {
        Fill::Leader(guard) => guard,
        Fill::Follower(mut watch) => {
            // Served from the leader's rendering; if it fails or is not cacheable, render.
            if let Ok(page) = watch.wait_for(Option::is_some).await {
                if let Some(page) = page.clone() {
                    state.metrics.cache_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if page.article_id != 0 && counts_as_view(&request) {
                        state.views.hit(page.article_id);
                    }
                    return respond(&page, &wants);
                }
            }
            state.metrics.cache_misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let counts_views = counts_as_view(&request);
            let response = next.run(request).await;
            if let Some(ViewedArticle(id)) = response.extensions().get::<ViewedArticle>().copied().filter(|_| counts_views) {
                state.views.hit(id);
            }
            return response;
        }
    };
    state.metrics.cache_misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let route: Box<str> = request.extensions().get::<axum::extract::MatchedPath>().map_or("", |m| m.as_str()).into();
    let target = request.uri().path_and_query().map_or_else(|| request.uri().path().to_string(), |pq| pq.as_str().to_string());
    let counts_views = counts_as_view(&request);
    let mut response = next.run(request).await;
    let article_id = response.extensions().get::<ViewedArticle>().map_or(0, |v| v.0);
    if article_id != 0 && counts_views {
        state.views.hit(article_id);
    }
    // The bar's expiry as the handler saw it (read after rendering: a bar set meanwhile also
    // moved the epoch, so this page is not kept past it anyway).
    let bar_until = Some(state.breaking_until.load(std::sync::atomic::Ordering::Acquire))
        .filter(|until| *until != i64::MAX && *until > crate::domain::now_secs())
        .unwrap_or(i64::MAX);
    let fresh_until = response.extensions().get::<FreshFor>().map_or(i64::MAX, |f| crate::domain::now_secs() + f.0.max(1));
    let valid_until = bar_until.min(fresh_until);
    let status = response.status();
    // Only complete answers are kept: never one that sets a cookie, never an error (a 404 per
    // random path would let anyone flush the cache), never one too large to hold.
    let too_large = axum::body::HttpBody::size_hint(response.body()).upper().is_none_or(|n| n > MAX_CACHED_BODY);
    if status != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) || too_large {
        if response.headers().contains_key(header::SET_COOKIE) || status.is_server_error() {
            make_private(&mut response);
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(identity) = to_bytes(body, MAX_CACHED_BODY as usize).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let meta = PageMeta { route, query, article_id, valid_until, previous: state.cache.previous(&key, query) };
    let page = if query {
        // A query's page is kept uncompressed (see `CachedPage::new`): a hash of the body, a
        // few microseconds, cheaper here than the hand-over to a blocking thread and back
        // (profiled: 2 % of an uncached search).
        CachedPage::new(epoch, meta, status, parts.headers, identity)
    } else {
        // Compression (milliseconds of CPU for a big page) leaves the async workers.
        let Ok(page) = tokio::task::spawn_blocking(move || CachedPage::new(epoch, meta, status, parts.headers, identity)).await else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        page
    };
    let page = state.cache.insert(key, &target, page);
    guard.finish(Arc::clone(&page));
    respond(&page, &wants)
}

/// Whether this request is a reader's view, for «الأكثر قراءة»: a GET by a person, not a
/// HEAD nor a crawler.
fn counts_as_view<B>(request: &axum::http::Request<B>) -> bool {
    request.method() == Method::GET && !super::views::is_bot(request.headers())
}

/// Largest body kept in the cache; larger answers (a big sitemap) are served uncached.
const MAX_CACHED_BODY: u64 = 16 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_hold_only_what_the_route_reads() {
        assert_eq!(cache_key("/section/x", None, &["page"]).as_deref(), Some("/section/x"));
        assert_eq!(cache_key("/section/x", Some("page=2"), &["page"]).as_deref(), Some("/section/x?page=2"));
        // Unknown or repeated parameters bypass the cache instead of creating entries.
        assert_eq!(cache_key("/section/x", Some("page=2&utm=1"), &["page"]), None);
        assert_eq!(cache_key("/section/x", Some("page=2&page=3"), &["page"]), None);
        assert_eq!(cache_key("/", Some("p=5"), &[]), None);
        // Table order, whatever the request's order; encodings of one path share a key.
        assert_eq!(
            cache_key("/api/v1/articles", Some("offset=20&limit=5"), &["limit", "offset", "section"]).as_deref(),
            Some("/api/v1/articles?limit=5&offset=20")
        );
        assert_eq!(cache_key("/news/%D8%A7", None, &[]), cache_key("/news/\u{627}", None, &[]));
    }

    #[test]
    fn private_routes_and_writes_are_never_shared() {
        assert_eq!(policy(&Method::GET, Some("/api/v1/articles/{id_or_slug}/edit")), CachePolicy::Private);
        assert_eq!(policy(&Method::GET, Some("/api/v1/articles/{id_or_slug}/related")), CachePolicy::Private);
        assert_eq!(policy(&Method::GET, Some("/admin/articles")), CachePolicy::Private);
        assert_eq!(policy(&Method::POST, Some("/news/{id_or_slug}")), CachePolicy::Private);
        assert_eq!(policy(&Method::GET, Some("/a/route/nobody/listed")), CachePolicy::Private);
        assert_eq!(policy(&Method::GET, Some("/news/{id_or_slug}")), CachePolicy::Shared(&[]));
    }

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

    #[test]
    fn brotli_round_trips_at_every_level_and_window_size() {
        // Sizes at the window's bounds (1 KiB, powers of two, 1 MiB) and at each level's.
        let text: Vec<u8> = (0..1_200_000u32).flat_map(|i| format!("خبر {} ", i.wrapping_mul(2_654_435_761) % 997).into_bytes()).collect();
        for len in [0, 1, 1023, 1024, 1025, 4097, SMALL_BODY, SMALL_BODY + 1, LARGE_BODY, LARGE_BODY + 1, 1 << 20, (1 << 20) + 1, 1_100_000]
        {
            let mut decoded = Vec::new();
            brotli::BrotliDecompress(&mut &brotli(&text[..len])[..], &mut decoded).unwrap();
            assert!(decoded == text[..len], "brotli round trip of {len} bytes");
        }
        assert_eq!((brotli_quality(SMALL_BODY), brotli_quality(SMALL_BODY + 1), brotli_quality(LARGE_BODY + 1)), (10, 6, 5));
    }
}
