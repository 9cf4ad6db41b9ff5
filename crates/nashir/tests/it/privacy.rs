//! What the page cache may keep, and the headers every answer carries: an answer made for a
//! token or a session never reaches the next anonymous reader (issue 15, finding 1).

use nashir::accounts::{hash_password, token_hash};
use nashir::config::Config;
use nashir::domain::Role;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE};

use crate::helpers::TestApp;
use crate::storage_test;

/// At least 32 characters, as the server requires of an admin token.
const ADMIN_TOKEN: &str = "privacy-test-admin-token-0123456789abcdef";
const EDITOR_TOKEN: &str = "nsr_privacy-test-editor-token-0123456789abcdef";

fn with_tokens(config: &mut Config) {
    config.api.admin_token = ADMIN_TOKEN.into();
    config.metrics.enabled = true;
}

async fn newsroom(app: &TestApp) -> (i64, i64) {
    nashir::demo::populate(&app.store).await.unwrap();
    let editor = app.store.create_user("e@example.org", "محرر", Role::Editor, &hash_password("كلمة-مرور-طويلة-1").unwrap()).await.unwrap();
    app.store.create_api_token(editor, "سكربت", &token_hash(EDITOR_TOKEN)).await.unwrap();
    let (_, list) = app.get_json("/api/v1/articles?limit=1").await;
    let published = list["items"][0]["id"].as_i64().unwrap();
    let draft = sqlx::query_scalar::<_, i64>("SELECT id FROM articles WHERE status <> 'published' ORDER BY id LIMIT 1")
        .fetch_optional(app.store.pool())
        .await
        .unwrap();
    (published, draft.unwrap_or(published))
}

async fn fetch(app: &TestApp, path: &str, auth: Option<(&'static str, String)>) -> (u16, String, String) {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache_control = response.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, cache_control, response.text().await.unwrap())
}

/// A token's answer, then the same URL without the token: the second must be the anonymous
/// answer, and the first must tell every cache to keep it to itself.
async fn token_answers_stay_with_the_token(app: TestApp) {
    let (published, draft) = newsroom(&app).await;
    let related = format!("/api/v1/articles/{published}/related");
    let edit = format!("/api/v1/articles/{draft}/edit");
    for (path, token) in [(&related, ADMIN_TOKEN), (&related, EDITOR_TOKEN), (&edit, EDITOR_TOKEN)] {
        let (status, cache_control, body) = fetch(&app, path, Some((AUTHORIZATION.as_str(), format!("Bearer {token}")))).await;
        assert_eq!(status, 200, "{path} with a token: {body}");
        assert!(cache_control.contains("no-store") && cache_control.contains("private"), "{path}: Cache-Control {cache_control:?}");
        for _ in 0..2 {
            let (status, cache_control, body) = fetch(&app, path, None).await;
            assert!(status == 401 || status == 403, "{path} anonymous after a token: {status} {body}");
            assert!(!body.contains("suggestions") && !body.contains("\"version\""), "{path} leaked: {body}");
            assert!(cache_control.contains("no-store"), "{path}: {cache_control:?}");
        }
    }
}
storage_test!(token_answers_stay_with_the_token, with_tokens);

/// A public URL asked with credentials is answered fresh and privately, and is not stored: the
/// next anonymous reader gets the public page from a public entry.
async fn credentials_bypass_the_cache(app: TestApp) {
    let (published, _) = newsroom(&app).await;
    let hits = |metrics: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix("nashir_page_cache_hits_total ")).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    let path = format!("/api/v1/articles/{published}");
    for auth in [(AUTHORIZATION.as_str(), format!("Bearer {EDITOR_TOKEN}")), (COOKIE.as_str(), "nashir_session=anything".to_string())] {
        let before = hits(&app.get_text("/metrics").await.1);
        for _ in 0..2 {
            let (status, cache_control, _) = fetch(&app, &path, Some(auth.clone())).await;
            assert_eq!(status, 200);
            assert_eq!(cache_control, "private, no-store", "{auth:?}");
        }
        assert_eq!(hits(&app.get_text("/metrics").await.1), before, "{auth:?} was answered from the cache");
    }
    let (status, cache_control, _) = fetch(&app, &path, None).await;
    assert_eq!(status, 200);
    assert!(cache_control.starts_with("public"), "{cache_control:?}");
}
storage_test!(credentials_bypass_the_cache, with_tokens);

/// Parameters a route does not read cannot create cache entries (nor be served a cached answer).
async fn unknown_parameters_bypass_the_cache(app: TestApp) {
    newsroom(&app).await;
    let hits = |metrics: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix("nashir_page_cache_hits_total ")).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    // Just after the newsroom is written, the search and related followers are still catching
    // up with the change log (each catch-up moves the cache epoch): ask until a hit shows.
    let mut after_known = 0.0;
    let mut cached = false;
    for _ in 0..50 {
        assert_eq!(app.get("/").await.status(), 200);
        let before = hits(&app.get_text("/metrics").await.1);
        assert_eq!(app.get("/").await.status(), 200);
        after_known = hits(&app.get_text("/metrics").await.1);
        if after_known == before + 1.0 {
            cached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(cached, "the home page is cached");
    for n in 0..3 {
        assert_eq!(app.get(&format!("/?utm_source={n}")).await.status(), 200);
        assert_eq!(app.get(&format!("/?utm_source={n}")).await.status(), 200);
    }
    assert_eq!(hits(&app.get_text("/metrics").await.1), after_known, "unknown parameters were cached");
    // The API still refuses parameters it does not know, even when the plain list is cached.
    assert_eq!(app.get("/api/v1/articles").await.status(), 200);
    assert_eq!(app.get("/api/v1/articles?bogus=1").await.status(), 400);
}
storage_test!(unknown_parameters_bypass_the_cache, with_tokens);

/// Public and admin pages carry a Content-Security-Policy and nosniff; the admin's one inline
/// script is allowed by hash and the editor's bundle by origin, and public pages allow no script at all.
async fn security_headers_everywhere(app: TestApp) {
    let (published, _) = newsroom(&app).await;
    for path in ["/".to_string(), format!("/news/{published}"), "/search?q=سوريا".into(), "/no-such-page".into(), "/feed.xml".into()] {
        for _ in 0..2 {
            let response = app.get(&path).await;
            let csp = response.headers().get(CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{path}: {csp:?}");
            assert_eq!(response.headers().get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{path}");
            assert!(response.headers().contains_key("referrer-policy"), "{path}");
        }
    }
    let response = app.get("/admin/login").await;
    let csp = response.headers().get(CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self' 'sha256-") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers().get(CACHE_CONTROL).unwrap(), "private, no-store");
}
storage_test!(security_headers_everywhere, with_tokens);

/// `/readyz` says "not ready" without the database's error text.
async fn readyz_hides_internals(app: TestApp) {
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!((status, body["ready"].as_bool()), (200, Some(true)));
    app.store.pool().close().await;
    let (status, text) = app.get_text("/readyz").await;
    assert_eq!(status, 503);
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body, serde_json::json!({ "ready": false, "database": "unreachable" }), "{text}");
}
storage_test!(readyz_hides_internals);

/// A burst of readers on a page nobody has cached yet: one rendering, the others wait for it.
async fn a_cold_burst_renders_once(app: TestApp) {
    let (published, _) = newsroom(&app).await;
    let misses = |metrics: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix("nashir_page_cache_misses_total ")).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    let (_, article) = app.get_json(&format!("/api/v1/articles/{published}")).await;
    let path = article["url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
    let before = misses(&app.get_text("/metrics").await.1);
    let requests = (0..32).map(|_| {
        let (client, url) = (app.client.clone(), format!("{}{path}", app.base));
        tokio::spawn(async move { client.get(url).header("accept-encoding", "br").send().await.unwrap().status().as_u16() })
    });
    for request in requests.collect::<Vec<_>>() {
        assert_eq!(request.await.unwrap(), 200);
    }
    assert_eq!(misses(&app.get_text("/metrics").await.1) - before, 1.0, "the page was rendered more than once");
}
storage_test!(a_cold_burst_renders_once, with_tokens);
