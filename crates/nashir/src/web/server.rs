//! The HTTP/1 accept loop. `axum::serve` sets no header-read timeout and no connection cap,
//! so a slow client (slowloris) or a flood of connections could exhaust the server; this loop
//! bounds both and drains in-flight requests on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use super::AppState;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more are accepted and closed at once (a clean refusal).
    pub max_connections: usize,
    /// Time a client has to send its request head.
    pub header_read_timeout: Duration,
    /// Largest request head, in bytes (hyper answers 431 above it).
    pub max_head_bytes: usize,
    /// Time given to in-flight requests at shutdown.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `router`; with `front`, cached pages are answered before it (see
/// `cache::answer_front`): no routing, no middleware, no tracing span for a hit.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    front: Option<AppState>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                // Handlers that need the client address (login rate limits) read ConnectInfo.
                let (router, front) = (router.clone(), front.clone());
                let service = hyper::service::service_fn(move |r: Request<Incoming>| {
                    let hit = front.as_ref().and_then(|state| super::cache::answer_front(state, &r));
                    let router = router.clone();
                    async move {
                        if let Some(response) = hit {
                            return Ok::<_, Infallible>(response);
                        }
                        let mut r = r.map(Body::new);
                        r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                        router.oneshot(r).await
                    }
                });
                let mut closing = closing_rx.clone();
                tokio::spawn(async move {
                    let mut builder = hyper::server::conn::http1::Builder::new();
                    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).max_buf_size(limits.max_head_bytes.max(8192));
                    let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = closing.changed() => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                    drop(permit);
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection task holds a permit until it ends: having them all means drained.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain_timeout, permits.acquire_many(all)).await.is_err() {
        tracing::warn!("shutdown: some connections did not finish in time");
    }
    Ok(())
}
