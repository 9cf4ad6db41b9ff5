//! Prometheus metrics, kept in atomics and written in the text exposition format by hand: the
//! page cache answers ~10k requests/s, so recording one request must take no lock and allocate
//! nothing, and a client library would bring more than the handful of series we need.
//!
//! Requests are counted by route *template* (`/news/{id_or_slug}`, from axum's `MatchedPath`),
//! never by raw path, so the number of series stays bounded whatever URLs clients send.

use std::fmt::Write;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of the latency histogram, in seconds. A cached page takes well under a
/// millisecond, a rendered one a few, a search tens.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// Route slots: the router has about fifty routes; twice that keeps probing short.
const SLOTS: usize = 128;
/// Status codes 100..=599 each get a counter.
const STATUSES: usize = 500;
const UNMATCHED: &str = "(unmatched)";

struct RouteStats {
    route: Box<str>,
    by_status: Box<[AtomicU64]>,
    /// Per bucket (not cumulative; summed when written), the last one is +Inf.
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_micros: AtomicU64,
}

impl RouteStats {
    fn new(route: &str) -> RouteStats {
        RouteStats {
            route: route.into(),
            by_status: (0..STATUSES).map(|_| AtomicU64::new(0)).collect(),
            latency: Default::default(),
            latency_micros: AtomicU64::new(0),
        }
    }
}

/// Counters of one running application, shared by the web layer and the newsletter worker.
pub struct Metrics {
    routes: Box<[OnceLock<RouteStats>]>,
    /// Used only if more distinct routes than slots ever show up.
    overflow: RouteStats,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    /// Of the hits, those answered before the router (no routing, middleware or span).
    pub cache_front_hits: AtomicU64,
    pub mails_sent: AtomicU64,
    pub mails_bounced: AtomicU64,
    pub mails_retried: AtomicU64,
    pub mails_skipped: AtomicU64,
    /// Passes of the related articles' follower on this node, full recomputations among them,
    /// and the articles they refreshed.
    pub related_passes: AtomicU64,
    pub related_full_passes: AtomicU64,
    pub related_articles_refreshed: AtomicU64,
    /// Search index builds from the whole store at start (0 when the index on disk was current).
    pub search_index_builds: AtomicU64,
    started_at: i64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            routes: (0..SLOTS).map(|_| OnceLock::new()).collect(),
            overflow: RouteStats::new("(other)"),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            cache_front_hits: AtomicU64::new(0),
            mails_sent: AtomicU64::new(0),
            mails_bounced: AtomicU64::new(0),
            mails_retried: AtomicU64::new(0),
            mails_skipped: AtomicU64::new(0),
            related_passes: AtomicU64::new(0),
            related_full_passes: AtomicU64::new(0),
            related_articles_refreshed: AtomicU64::new(0),
            search_index_builds: AtomicU64::new(0),
            started_at: crate::domain::now_secs(),
        }
    }
}

/// Values read from the store and the index when scraped (not kept in counters).
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    pub cache_entries: usize,
    pub changes_seq: Option<i64>,
    pub index_seq: i64,
    /// Deliveries waiting to be sent, by status (`queued`, `sending`).
    pub deliveries: Vec<(String, i64)>,
}

impl Metrics {
    /// Finds or claims the slot of `route`: open addressing over slots that are written once,
    /// so after a route's first request this is a hash and an atomic load.
    fn route(&self, route: &str) -> &RouteStats {
        let mut hasher = rustc_hash::FxHasher::default();
        route.hash(&mut hasher);
        let start = hasher.finish() as usize;
        for i in 0..SLOTS {
            let slot = &self.routes[(start + i) % SLOTS];
            let stats = slot.get_or_init(|| RouteStats::new(route));
            if &*stats.route == route {
                return stats;
            }
        }
        &self.overflow
    }

    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        let stats = self.route(route);
        let index = usize::from(status).saturating_sub(100).min(STATUSES - 1);
        stats.by_status[index].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let bucket = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        stats.latency[bucket].fetch_add(1, Ordering::Relaxed);
        stats.latency_micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Counts the outcome of one newsletter delivery pass.
    pub fn record_mails(&self, sent: usize, bounced: usize, retried: usize, skipped: usize) {
        self.mails_sent.fetch_add(sent as u64, Ordering::Relaxed);
        self.mails_bounced.fetch_add(bounced as u64, Ordering::Relaxed);
        self.mails_retried.fetch_add(retried as u64, Ordering::Relaxed);
        self.mails_skipped.fetch_add(skipped as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let mut routes: Vec<&RouteStats> = self.routes.iter().filter_map(|s| s.get()).collect();
        if self.overflow.latency.iter().any(|c| c.load(Ordering::Relaxed) > 0) {
            routes.push(&self.overflow);
        }
        routes.sort_by(|a, b| a.route.cmp(&b.route));

        header(&mut out, "nashir_http_requests_total", "counter", "HTTP requests answered, by route template and status code.");
        for stats in &routes {
            for (i, count) in stats.by_status.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let _ =
                        writeln!(out, "nashir_http_requests_total{{route=\"{}\",status=\"{}\"}} {count}", escape(&stats.route), i + 100);
                }
            }
        }

        header(&mut out, "nashir_http_request_duration_seconds", "histogram", "Time to produce the response head, by route template.");
        for stats in &routes {
            let route = escape(&stats.route);
            let mut cumulative = 0;
            for (i, count) in stats.latency.iter().enumerate() {
                cumulative += count.load(Ordering::Relaxed);
                let le = BUCKETS.get(i).map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(out, "nashir_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}");
            }
            let sum = stats.latency_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "nashir_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "nashir_http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}");
        }

        let counter = |out: &mut String, name: &str, help: &str, value: &AtomicU64| {
            header(out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        };
        counter(&mut out, "nashir_page_cache_hits_total", "Public pages served from the page cache.", &self.cache_hits);
        counter(&mut out, "nashir_page_cache_misses_total", "Cacheable pages that had to be rendered.", &self.cache_misses);
        counter(&mut out, "nashir_page_cache_front_hits_total", "Of the hits, those answered before the router.", &self.cache_front_hits);
        header(&mut out, "nashir_page_cache_entries", "gauge", "Pages held in the page cache.");
        let _ = writeln!(out, "nashir_page_cache_entries {}", gauges.cache_entries);

        header(&mut out, "nashir_newsletter_mails_total", "counter", "Newsletter deliveries handled by this node's worker, by outcome.");
        for (outcome, value) in [
            ("sent", &self.mails_sent),
            ("bounced", &self.mails_bounced),
            ("retried", &self.mails_retried),
            ("skipped", &self.mails_skipped),
        ] {
            let _ = writeln!(out, "nashir_newsletter_mails_total{{outcome=\"{outcome}\"}} {}", value.load(Ordering::Relaxed));
        }
        header(&mut out, "nashir_newsletter_queue_depth", "gauge", "Deliveries waiting to be sent (queued or being sent), all nodes.");
        let depth: i64 = gauges.deliveries.iter().map(|(_, n)| n).sum();
        let _ = writeln!(out, "nashir_newsletter_queue_depth {depth}");
        header(&mut out, "nashir_newsletter_queue", "gauge", "Deliveries waiting, by status: queued, or leased by a worker (sending).");
        for status in ["queued", "sending"] {
            let count = gauges.deliveries.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "nashir_newsletter_queue{{status=\"{status}\"}} {count}");
        }

        counter(
            &mut out,
            "nashir_related_passes_total",
            "Passes of this node's related articles follower that held the lease.",
            &self.related_passes,
        );
        counter(&mut out, "nashir_related_full_passes_total", "Of those, recomputations of the whole archive.", &self.related_full_passes);
        counter(
            &mut out,
            "nashir_related_articles_refreshed_total",
            "Articles whose related suggestions this node recomputed.",
            &self.related_articles_refreshed,
        );
        counter(
            &mut out,
            "nashir_search_index_builds_total",
            "Search index builds from the whole store at start.",
            &self.search_index_builds,
        );

        header(&mut out, "nashir_search_index_seq", "gauge", "Last change-log sequence number applied to this node's search index.");
        let _ = writeln!(out, "nashir_search_index_seq {}", gauges.index_seq);
        if let Some(head) = gauges.changes_seq {
            header(&mut out, "nashir_changes_seq", "gauge", "Last sequence number in the store's change log.");
            let _ = writeln!(out, "nashir_changes_seq {head}");
            header(&mut out, "nashir_search_index_lag", "gauge", "Changes not yet applied to this node's search index.");
            let _ = writeln!(out, "nashir_search_index_lag {}", (head - gauges.index_seq).max(0));
        }
        header(&mut out, "nashir_database_up", "gauge", "1 when the database answered this scrape.");
        let _ = writeln!(out, "nashir_database_up {}", u8::from(gauges.changes_seq.is_some()));

        header(&mut out, "nashir_build_info", "gauge", "The running version.");
        let _ = writeln!(out, "nashir_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        header(&mut out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
        let _ = writeln!(out, "process_start_time_seconds {}", self.started_at);
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Label values: backslash, double quote and line feed are escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware recording every request by route template, status and latency (installed by
/// `web::router` when metrics are enabled).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    metrics.observe(route.as_ref().map_or(UNMATCHED, |r| r.as_str()), response.status().as_u16(), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.observe("/news/{id_or_slug}", 200, Duration::from_micros(300));
        m.observe("/news/{id_or_slug}", 200, Duration::from_millis(30));
        m.observe("/news/{id_or_slug}", 404, Duration::from_millis(3));
        m.observe("/x\"y", 999, Duration::from_secs(9));
        let text = m.render(&Gauges { changes_seq: Some(10), index_seq: 7, ..Default::default() });
        assert!(text.contains("nashir_http_requests_total{route=\"/news/{id_or_slug}\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("nashir_http_requests_total{route=\"/news/{id_or_slug}\",status=\"404\"} 1\n"));
        assert!(text.contains("nashir_http_request_duration_seconds_bucket{route=\"/news/{id_or_slug}\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("nashir_http_request_duration_seconds_bucket{route=\"/news/{id_or_slug}\",le=\"0.005\"} 2\n"));
        assert!(text.contains("nashir_http_request_duration_seconds_bucket{route=\"/news/{id_or_slug}\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("nashir_http_request_duration_seconds_count{route=\"/news/{id_or_slug}\"} 3\n"));
        assert!(text.contains("route=\"/x\\\"y\",status=\"599\"} 1\n"));
        assert!(text.contains("nashir_search_index_lag 3\n"));
    }

    #[test]
    fn more_routes_than_slots_fall_into_one_series() {
        let m = Metrics::default();
        for i in 0..SLOTS + 10 {
            m.observe(&format!("/r{i}"), 200, Duration::ZERO);
        }
        let text = m.render(&Gauges::default());
        assert!(text.contains("nashir_http_requests_total{route=\"(other)\",status=\"200\"} 10\n"), "{text}");
    }
}
