//! `/metrics` for Prometheus, guarded by `[metrics]` in the config.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{AppState, PageError};
use crate::accounts::constant_time_eq;
use crate::metrics::Gauges;

pub async fn metrics(State(state): State<AppState>, request: Request) -> Result<Response, PageError> {
    let settings = &state.config.metrics;
    if !settings.enabled {
        // As if the route did not exist: nothing to learn about a node that does not export.
        return Err(PageError::NotFound);
    }
    if !settings.token.is_empty() {
        let sent = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if !sent.is_some_and(|t| constant_time_eq(t.trim(), &settings.token)) {
            let mut response = (StatusCode::UNAUTHORIZED, "metrics: send Authorization: Bearer <metrics.token>\n").into_response();
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"metrics\""));
            return Ok(response);
        }
    } else {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        // A reverse proxy on this machine connects from loopback too: what it forwards came
        // from outside, so a proxied request is never "local".
        let proxied = ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|h| request.headers().contains_key(*h));
        if proxied || !peer.is_some_and(|ip| ip.is_loopback()) {
            return Ok((StatusCode::FORBIDDEN, "metrics: only loopback clients may scrape unless metrics.token is set\n").into_response());
        }
    }
    let gauges = Gauges {
        cache_entries: state.cache.len(),
        changes_seq: state.store.last_change_seq().await.ok(),
        index_seq: state.search.seq(),
        deliveries: state.store.delivery_queue_counts().await.unwrap_or_default(),
    };
    let body = state.metrics.render(&gauges);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body).into_response())
}
