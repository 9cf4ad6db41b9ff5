//! HTTP: the router as one table, shared state, and the application that binds it.

mod api;
mod error;
mod newsletter;
mod pages;
mod templates;
pub mod view;

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

pub use error::{error_page, ApiError, PageError};
pub use templates::{escape_html, truncate as truncate_text};

use crate::config::Config;
use crate::store::Store;
use templates::Templates;
use view::DateStyle;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub templates: Arc<Templates>,
    pub dates: DateStyle,
    /// Absolute base URL without a trailing slash, e.g. `https://news.example.org`.
    pub base_url: Arc<str>,
    pub newsletter: crate::newsletter::Newsletter,
}

/// Every route of the site and the API, in one place.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.server.max_body_bytes;
    let timeout = Duration::from_secs(state.config.server.request_timeout_secs);
    Router::new()
        .route("/", get(pages::home))
        .route("/news/{id_or_slug}", get(pages::article))
        .route("/section/{slug}", get(pages::section))
        .route("/healthz", get(|| async { "ok" }))
        .merge(newsletter::routes())
        .nest("/api/v1", api_routes())
        .fallback(pages::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| tracing::info_span!("request", method = %req.method(), path = %req.uri().path())),
        )
}

fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/articles", get(api::list_articles))
        .route("/articles/{id_or_slug}", get(api::get_article))
        .fallback(api::not_found)
}

/// The running site: a bound listener plus its router. Tests bind port 0 and read the real
/// address from `local_addr`, so they exercise exactly the production code path.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config, store: Store) -> anyhow::Result<Application> {
        let listener =
            TcpListener::bind(config.server.addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.addr))?;
        let addr = listener.local_addr()?;
        let base_url =
            if config.site.url.is_empty() { format!("http://{addr}") } else { config.site.url.trim_end_matches('/').to_string() };
        let dates = DateStyle {
            tz: config.timezone()?,
            names: config.month_names()?,
            digits: if config.site.arabic_indic_digits { arabic::Digits::ArabicIndic } else { arabic::Digits::Western },
        };
        let config = Arc::new(config);
        let newsletter = crate::newsletter::Newsletter::new(store.clone(), config.clone(), &base_url)?;
        let state = AppState { store, templates: Arc::new(Templates::new()?), config, dates, base_url: base_url.into(), newsletter };
        Ok(Application { router: router(state.clone()), listener, state })
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
        let worker = crate::newsletter::worker::spawn(self.state.newsletter.clone());
        let served = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
        if let Some(stop) = worker {
            let _ = stop.send(true);
        }
        served
    }
}
