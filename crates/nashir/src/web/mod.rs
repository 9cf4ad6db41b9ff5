//! HTTP: the router as one table, shared state, and the application that binds it.

pub mod admin;
mod api;
mod api_types;
mod cache;
pub mod client_ip;
mod error;
mod feeds;
mod front;
mod newsletter;
pub mod openapi;
mod ops;
mod pages;
mod related;
mod search;
mod server;
mod templates;
pub mod view;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{error_page, ApiError, PageError};
pub use templates::builtin_theme;

use crate::config::Config;
use crate::render::DateStyle;
use crate::search::SearchIndex;
use crate::store::Store;
use templates::Templates;

/// Everything a handler needs. One pointer: axum clones the state for every extractor and
/// middleware of every request, and a dozen reference counts per clone showed in the profile.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub store: Store,
    pub config: Arc<Config>,
    pub templates: Arc<Templates>,
    pub dates: DateStyle,
    pub search: Arc<SearchIndex>,
    pub cache: Arc<cache::PageCache>,
    /// Absolute base URL without a trailing slash, e.g. `https://news.example.org`.
    pub base_url: Arc<str>,
    pub newsletter: crate::newsletter::Newsletter,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Background tasks, started by `run_until` and awaited at shutdown.
    pub tasks: crate::tasks::Tasks,
    /// Views counted since the last batch was written (issue 18, «الأكثر قراءة»).
    pub views: Arc<views::ViewCounter>,
    /// The most-read lists as last read from the database.
    pub most_read: Arc<views::MostRead>,
    /// When the breaking-news bar shown by pages rendered now expires (`i64::MAX`: no bar);
    /// cached pages are kept no longer.
    pub breaking_until: std::sync::atomic::AtomicI64,
    /// The search page's header and section list for the current epoch.
    pub search_chrome: search::PageChrome,
}

/// Every route of the site and the API, in one place.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.server.max_body_bytes;
    let timeout = Duration::from_secs(state.config.server.request_timeout_secs);
    let metrics = state.config.metrics.enabled.then(|| Arc::clone(&state.metrics));
    let router = Router::new()
        .route("/", get(pages::home))
        .route("/news/{id_or_slug}", get(pages::article))
        .route("/section/{slug}", get(pages::section))
        .route("/author/{slug}", get(pages::author))
        .route("/tag/{slug}", get(pages::tag))
        .route("/search", get(search::page))
        .route("/feed.xml", get(feeds::site_rss))
        .route("/feed.atom", get(feeds::site_atom))
        .route("/feed.json", get(feeds::site_json))
        .route("/feed/{kind}/{file}", get(feeds::listing_feed))
        .route("/sitemap.xml", get(feeds::sitemap_index))
        .route("/sitemaps/{file}", get(feeds::sitemap))
        .route("/robots.txt", get(feeds::robots))
        .route("/manifest.webmanifest", get(feeds::manifest))
        .route("/favicon.svg", get(feeds::favicon))
        .route("/favicon.ico", get(feeds::favicon))
        .route("/topics/{slug}", get(related::topic))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(ops::metrics))
        .route("/media/{name}", get(admin::serve_media))
        .route("/assets/{file}", get(admin::serve_asset))
        .nest("/admin", admin::routes())
        .merge(newsletter::routes())
        .nest("/api/v1", Router::from(api_routes()))
        .fallback(pages::not_found)
        // Inside the cache, so cached answers carry the headers without per-hit work.
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), cache::layer))
        .with_state(state)
        // A panicking handler becomes a logged 500 page instead of a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        // Outside the body limit and the timeout, so their answers are translated too.
        .layer(axum::middleware::from_fn(humane_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| tracing::info_span!("request", method = %req.method(), path = %req.uri().path())),
        );
    // Outermost, so cache hits, timeouts and 413s are counted; not installed when metrics are off.
    match metrics {
        Some(metrics) => router.layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::track)),
        None => router,
    }
}

/// Content-Security-Policy of public pages: no script runs (JSON-LD is data, not script),
/// styles are the inline theme, images come from here or from https hosts of imported bodies.
/// `connect-src 'self'`: crawlers' audits (Lighthouse reads robots.txt from the page) may fetch.
const PUBLIC_CSP: &str = "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; connect-src 'self'; \
                          form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'";

/// Headers every answer carries. The admin sets its own stricter CSP first; this keeps it.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{self, HeaderValue};
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(PUBLIC_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    response
}

/// Whether a URL's path or query, decoded, holds a control character. No slug, token or query
/// a person types has one, and a NUL reaching PostgreSQL is an error ("invalid byte sequence").
fn has_control_characters(uri: &axum::http::Uri) -> bool {
    let decoded = |s: &str| percent_encoding::percent_decode_str(s).any(|b| b < 0x20 || b == 0x7f);
    decoded(uri.path()) || uri.query().is_some_and(|q| decoded(&q.replace('+', " ")))
}

/// An error answer in the reader's language: JSON with the table's stable code under
/// `/api/`, the Arabic error page elsewhere. Never cached.
fn error_answer(api: bool, code: error::ErrorCode) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = if api {
        ApiError::new(code).into_response()
    } else {
        let status = code.status();
        let title = if status.is_server_error() { "خطأ في الخادم" } else { "طلب غير صالح" };
        (status, axum::response::Html(error_page(status.as_u16(), title, code.message()))).into_response()
    };
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-store"));
    response
}

/// Rejections made below the handlers — axum's extractors (a path that is not UTF-8, a form
/// that is not a form), the body limit, the timeout — come as English plain text or nothing;
/// they become the Arabic page, or a JSON error from the one table, that every other error is.
async fn humane_errors(request: Request<axum::body::Body>, next: axum::middleware::Next) -> axum::response::Response {
    use error::ErrorCode;
    let api = request.uri().path().starts_with("/api/");
    if has_control_characters(request.uri()) {
        return error_answer(api, ErrorCode::InvalidCharacters);
    }
    let mut response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body stays unread, so the connection cannot carry another request:
        // say so, or a client reuses it and its next request meets a reset ("broken pipe").
        response.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    let plain = response.headers().get(axum::http::header::CONTENT_TYPE).is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        _ => ErrorCode::BadRequest,
    };
    let mut answer = error_answer(api, code);
    // Keep what the client needs to act: which methods are allowed, when to come back.
    use axum::http::header;
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE, header::CONNECTION] {
        if let Some(value) = response.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// The answer to a request whose handler panicked: the panic is logged (it is a bug), the
/// reader gets the usual Arabic error page, and the connection stays usable.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let message = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("?");
    tracing::error!(panic = message, "handler panicked");
    let page = error_page(500, "خطأ في الخادم", "حدث خطأ غير متوقع. حاول مرة أخرى بعد قليل.");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(axum::http::header::CACHE_CONTROL, "private, no-store"), (axum::http::header::CONTENT_SECURITY_POLICY, PUBLIC_CSP)],
        axum::response::Html(page),
    )
        .into_response()
}

/// Ready to serve: the database answers, the search index is built and caught up with the
/// change log (a load balancer should not send readers to a node whose pages lag behind).
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (status, body) = match state.store.last_change_seq().await {
        Err(e) => {
            // The reason goes to the log, not to whoever asked: it can name hosts and users.
            tracing::warn!(error = %e, "readyz: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "ready": false, "database": "unreachable" }))
        }
        // While the index is built the node serves pages but not search: a load balancer
        // keeps readers on nodes that can answer everything.
        Ok(_) if state.search.is_building() => {
            (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "ready": false, "database": "ok", "search": "building" }))
        }
        Ok(head) => {
            let lag = head - state.search.seq();
            let ready = lag <= 1000;
            let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            (status, serde_json::json!({ "ready": ready, "database": "ok", "index_lag": lag }))
        }
    };
    (status, axum::Json(body)).into_response()
}

/// The JSON API under `/api/v1`. Every route goes through `routes!`, which also collects the
/// handler's `#[utoipa::path]` into openapi.json; a plain `.route` would go undocumented.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list_articles, admin::api::api_create))
        .routes(routes!(api::get_article, admin::api::api_update))
        .routes(routes!(admin::api::api_edit))
        .routes(routes!(admin::api::api_publish))
        .routes(routes!(admin::api::api_unpublish))
        .routes(routes!(related::get_suggestions, related::edit_suggestions))
        .routes(routes!(search::api))
        .routes(routes!(api::breaking))
        .routes(routes!(openapi::serve))
        .fallback(api::not_found)
}

/// The running site: a bound listener plus its router. Tests bind port 0 and read the real
/// address from `local_addr`, so they exercise exactly the production code path.
/// How long a first-run setup code stays valid; a restart prints a new one.
const SETUP_CODE_TTL_SECS: i64 = 24 * 3600;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    /// Held while serving, so `nashir restore` refuses to replace the database under us.
    _lock: std::fs::File,
    /// While the newsroom has no account: the one-time code that lets `/admin/setup` create
    /// the owner, for the operator's terminal and log only.
    setup_code: Option<String>,
}

impl Application {
    pub async fn build(config: Config, store: Store) -> anyhow::Result<Application> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create data dir {}: {e}", config.data_dir.display()))?;
        let lock = crate::store::ops::lock_data_dir(&config.data_dir, false).map_err(|e| {
            anyhow::anyhow!("cannot lock {} (is `nashir restore` or `nashir import` writing to it?): {e}", config.data_dir.display())
        })?;
        // Originals uploaded before they were kept apart leave the served folder (the media
        // route would not answer them anyway; this is so their variants can be made).
        match crate::media::imaging::secure_originals(&config.data_dir.join("media")) {
            Ok(0) => {}
            Ok(moved) => tracing::info!(moved, "moved uploaded originals out of the served media folder"),
            Err(e) => tracing::warn!(error = %e, "cannot move uploaded originals out of the served media folder"),
        }
        // The related pass's temporary files go to the data disk, not a /tmp that may be RAM.
        crate::related::set_scratch_dir(config.data_dir.join("tmp"));
        let setup_code = Self::first_run_code(&store).await?;
        let dates = DateStyle::from_config(&config);
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let (search, fresh) = SearchIndex::open(&config.index_dir())?;
        let search = Arc::new(search);
        let last_seq = store.last_change_seq().await?;
        if search.rebuild_due(fresh, last_seq) {
            // Built in the background by the search follower (`tasks::start`), so the node
            // answers at once: pages, feeds and the admin do not need the index; `/search` and
            // `/readyz` answer 503 until it is built (minutes on a large archive).
            tracing::info!(dir = %config.index_dir().display(), index_seq = search.seq(), last_seq, "the search index will be built from the store");
            search.mark_building();
        }
        let listener =
            TcpListener::bind(config.server.addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.addr))?;
        let addr = listener.local_addr()?;
        let base_url =
            if config.site.url.is_empty() { format!("http://{addr}") } else { config.site.url.trim_end_matches('/').to_string() };
        let config = Arc::new(config);
        let mut newsletter = crate::newsletter::Newsletter::new(store.clone(), config.clone(), &base_url)?;
        newsletter.metrics = Arc::clone(&metrics);
        let state = AppState(Arc::new(Shared {
            store,
            templates: Arc::new(Templates::with_theme(Some(config.data_dir.join("theme")))?),
            config,
            newsletter,
            dates,
            search,
            cache: Arc::new(cache::PageCache::new(32 * 1024 * 1024)),
            base_url: base_url.into(),
            metrics,
            tasks: crate::tasks::Tasks::new(),
            views: Default::default(),
            most_read: Default::default(),
            breaking_until: i64::MAX.into(),
            search_chrome: Default::default(),
        }));
        Ok(Application { router: router(state.clone()), listener, state, _lock: lock, setup_code })
    }

    /// With no account yet, a setup code whose hash the store keeps for a day (any node's
    /// code works on any node; creating the owner deletes them all). Without it the admin
    /// cannot be claimed by whoever reaches a fresh server first.
    async fn first_run_code(store: &Store) -> anyhow::Result<Option<String>> {
        if store.has_users().await? {
            return Ok(None);
        }
        let code = crate::accounts::setup_code();
        let hash = crate::accounts::token_hash(&crate::accounts::normalize_setup_code(&code));
        store.add_setup_code(&hash, crate::domain::now_secs() + SETUP_CODE_TTL_SECS).await?;
        Ok(Some(code))
    }

    /// The first run's setup code, when this node made one (see [`Application::build`]).
    pub fn setup_code(&self) -> Option<&str> {
        self.setup_code.as_deref()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let state = self.state.clone();
        let tasks = state.tasks.clone();
        crate::tasks::start(
            &tasks,
            crate::tasks::Background {
                store: &state.store,
                config: &state.config,
                search: &state.search,
                newsletter: &state.newsletter,
                metrics: &state.metrics,
            },
        );
        // Views counted in memory go to the database in batches; the lists come back from it.
        let (store, counter, lists) = (state.store.clone(), Arc::clone(&state.views), Arc::clone(&state.most_read));
        let every = Duration::from_secs(state.config.site.most_read_interval_secs.max(1));
        tasks.spawn("most read", move |stop| views::run(store, counter, lists, every, stop));
        // A theme edited on disk is used at once: the templates are re-read and every cached
        // page dropped. Looking costs one directory listing a second.
        let (store, templates) = (state.store.clone(), Arc::clone(&state.templates));
        tasks.spawn("theme watcher", move |stop| async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stop.cancelled() => return,
                }
                let templates = Arc::clone(&templates);
                let Ok((changed, problems)) = tokio::task::spawn_blocking(move || templates.reload_if_changed()).await else { continue };
                for problem in &problems {
                    tracing::error!(problem = %problem, "theme file not used; the built-in one is served instead");
                }
                if changed {
                    tracing::info!(problems = problems.len(), "theme reloaded");
                    store.bump_epoch();
                }
            }
        });
        // At the signal every background task is told to stop while requests drain, so a
        // restart waits for the longer of the two, not their sum.
        let stopping = tasks.clone();
        let shutdown = async move {
            shutdown.await;
            stopping.cancel();
        };
        let served = server::serve(self.listener, self.router, Some(state.clone()), server::Limits::default(), shutdown).await;
        tasks.shutdown(Duration::from_secs(state.config.smtp.timeout_secs + 10)).await;
        served
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn boom() -> String {
        let divisor = std::hint::black_box(0u32);
        (1 / divisor).to_string()
    }

    /// A handler that panics answers a 500 page; without the layer the connection would drop.
    #[tokio::test]
    async fn a_panicking_handler_answers_500() {
        let app: Router = Router::new().route("/boom", get(boom)).layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response));
        let response = app.oneshot(Request::builder().uri("/boom").body(axum::body::Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[axum::http::header::CACHE_CONTROL], "private, no-store");
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("خطأ في الخادم"));
    }
}
