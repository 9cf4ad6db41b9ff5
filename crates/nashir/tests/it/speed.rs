//! The cached hit answered before the router (issue 20): the same bytes and headers as the
//! hit through the cache layer, counted, and only ever for what the layer's policy table let
//! it keep for anonymous readers.

use nashir::config::Config;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, COOKIE};

use crate::helpers::TestApp;
use crate::storage_test;

fn with_metrics(config: &mut Config) {
    config.metrics.enabled = true;
}

/// Status, the headers but the date, and the body.
type Answer = (u16, Vec<(String, String)>, String);

async fn answer(app: &TestApp, path: &str, header: Option<(&str, &str)>) -> Answer {
    let mut request = app.client.get(format!("{}{path}", app.base)).header("accept-encoding", "identity");
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_string()))
        .collect();
    headers.sort();
    (status, headers, response.text().await.unwrap())
}

/// Two requests for `path`: the first rendered (or answered by the cache layer), the second
/// answered in front of the router. The server's followers bump the epoch in the background
/// after a write, which makes the cache miss at any moment: tried again until a pair is clean.
async fn rendered_then_front(app: &TestApp, path: &str) -> (Answer, Answer) {
    for _ in 0..50 {
        let before = front_hits(app).await;
        let first = answer(app, path, None).await;
        let between = front_hits(app).await;
        let second = answer(app, path, None).await;
        if between == before && front_hits(app).await == before + 1 {
            return (first, second);
        }
        app.store.bump_epoch();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} was never answered in front of the router");
}

async fn cached_hits_are_answered_in_front_of_the_router(app: TestApp) {
    nashir::demo::populate(&app.store).await.unwrap();
    let (_, list) = app.get_json("/api/v1/articles?limit=1").await;
    let url = list["items"][0]["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&app.base).unwrap_or(&url).to_string();

    let (first, second) = rendered_then_front(&app, &path).await;
    assert_eq!(first.0, 200, "{}", first.2);
    assert_eq!(second, first, "the same status, headers and body as the rendering");

    // Credentials never get the shared answer, in front or behind; a parameter the route does
    // not read is not the cached target; a private route is never stored, however often asked.
    let before = front_hits(&app).await;
    for credentials in [(AUTHORIZATION.as_str(), "Bearer not-a-real-token-0123456789abcdef"), (COOKIE.as_str(), "nashir_session=anything")]
    {
        let (_, headers, _) = answer(&app, &path, Some(credentials)).await;
        let cache_control = headers.iter().find(|(n, _)| n == CACHE_CONTROL.as_str()).map(|(_, v)| v.as_str()).unwrap_or("");
        assert!(cache_control.contains("private") && cache_control.contains("no-store"), "{credentials:?}: {cache_control}");
    }
    answer(&app, &format!("{path}?utm_source=x"), None).await;
    for _ in 0..2 {
        answer(&app, "/admin/login", None).await;
    }
    assert_eq!(front_hits(&app).await, before);

    // After a write every page is stale: it renders again, then is answered in front again;
    // front hits are counted under their route, as the metrics layer they skip would have.
    app.store.bump_epoch();
    let counted = route_count(&app).await;
    let (again, _) = rendered_then_front(&app, &path).await;
    assert_eq!(again.0, 200);
    assert!(route_count(&app).await >= counted + 2);

    // Search results of a hot query are kept too (in their own pool) and answered in front.
    let (first, second) = rendered_then_front(&app, "/search?q=%D8%B3%D9%88%D8%B1%D9%8A%D8%A7").await;
    assert_eq!((first.0, &second), (200, &first));
}
storage_test!(cached_hits_are_answered_in_front_of_the_router, with_metrics);

async fn scrape(app: &TestApp, prefix: &str) -> u64 {
    let (_, text) = app.get_text("/metrics").await;
    let line = text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in /metrics"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

async fn front_hits(app: &TestApp) -> u64 {
    scrape(app, "nashir_page_cache_front_hits_total ").await
}

async fn route_count(app: &TestApp) -> u64 {
    scrape(app, "nashir_http_requests_total{route=\"/news/{id_or_slug}\",status=\"200\"}").await
}
