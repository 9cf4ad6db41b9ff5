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

/// Status, the headers that differ between a shared and a private answer, and the body.
async fn answer(app: &TestApp, path: &str, header: Option<(&str, &str)>) -> (u16, Vec<(String, String)>, String) {
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

async fn cached_hits_are_answered_in_front_of_the_router(app: TestApp) {
    nashir::demo::populate(&app.store).await.unwrap();
    let (_, list) = app.get_json("/api/v1/articles?limit=1").await;
    let url = list["items"][0]["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&app.base).unwrap_or(&url).to_string();

    let first = answer(&app, &path, None).await;
    assert_eq!(first.0, 200, "{}", first.2);
    assert_eq!(front_hits(&app).await, 0, "the first request renders");
    let second = answer(&app, &path, None).await;
    assert_eq!(front_hits(&app).await, 1, "the second is answered in front of the router");
    assert_eq!(second, first, "the same status, headers and body as the rendering");

    // Credentials never get the shared answer, in front or behind.
    for credentials in [(AUTHORIZATION.as_str(), "Bearer not-a-real-token-0123456789abcdef"), (COOKIE.as_str(), "nashir_session=anything")]
    {
        let (_, headers, _) = answer(&app, &path, Some(credentials)).await;
        let cache_control = headers.iter().find(|(n, _)| n == CACHE_CONTROL.as_str()).map(|(_, v)| v.as_str()).unwrap_or("");
        assert!(cache_control.contains("private") && cache_control.contains("no-store"), "{credentials:?}: {cache_control}");
    }
    // A parameter the route does not read is not the cached target: answered by the router.
    answer(&app, &format!("{path}?utm_source=x"), None).await;
    // A private route is never stored, so never answered in front, however often it is asked.
    for _ in 0..2 {
        assert_eq!(answer(&app, "/admin/login", None).await.0, 200);
    }
    assert_eq!(front_hits(&app).await, 1);

    // A write makes every page stale: the next request renders again, then is answered in front.
    app.store.bump_epoch();
    answer(&app, &path, None).await;
    assert_eq!(front_hits(&app).await, 1);
    answer(&app, &path, None).await;
    assert_eq!(front_hits(&app).await, 2);

    // Front hits are counted under their route, as the metrics layer they skip would have.
    let before = route_count(&app).await;
    answer(&app, &path, None).await;
    assert_eq!(front_hits(&app).await, 3);
    assert_eq!(route_count(&app).await, before + 1);
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
