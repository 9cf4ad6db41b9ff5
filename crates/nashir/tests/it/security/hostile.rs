//! Hostile input on every form and JSON endpoint: oversized, malformed, wrong-type,
//! control-character, overlong-UTF-8, badly percent-encoded, huge and negative values. Each
//! must get a 4xx with a message (an Arabic sentence on HTML pages, a stable `error.code` in
//! JSON), never a 5xx and never a dropped connection.

use nashir::accounts::{hash_password, random_token, token_hash};
use nashir::config::Config;
use nashir::domain::Role;

use crate::helpers::TestApp;
use crate::storage_test;

/// A small body limit, so "oversized" is cheap to send.
const LIMIT: usize = 64 * 1024;

fn config(config: &mut Config) {
    config.server.max_body_bytes = LIMIT;
}

struct Caller {
    cookie: String,
    csrf: String,
    token: String,
}

async fn caller(app: &TestApp, email: &str, role: Role) -> (i64, Caller) {
    let id = app.store.create_user(email, "اختبار", role, &hash_password("كلمة-مرور-طويلة-1").unwrap()).await.unwrap();
    let (session, csrf, token) = (random_token(), random_token(), format!("nsr_{}", random_token()));
    app.store.create_session(&token_hash(&session), id, &csrf, chrono::Utc::now().timestamp() + 3600).await.unwrap();
    app.store.create_api_token(id, "hostile", &token_hash(&token)).await.unwrap();
    (id, Caller { cookie: format!("{}={session}", nashir::web::admin::SESSION_COOKIE), csrf, token })
}

/// What came back, or why nothing did.
struct Answer {
    status: u16,
    body: String,
}

async fn send(req: reqwest::RequestBuilder) -> Result<Answer, String> {
    let resp = req.send().await.map_err(|e| format!("connection dropped: {e}"))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| format!("body cut off: {e}"))?;
    Ok(Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() })
}

fn arabic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0621}'..='\u{064A}').contains(&c))
}

/// A refusal as the issue wants it: 4xx with a message a person (HTML) or a script (JSON) reads.
fn check_refusal(what: &str, answer: Result<Answer, String>, json: bool, failures: &mut Vec<String>) {
    match answer {
        Err(e) => failures.push(format!("{what}: {e}")),
        Ok(a) if !(400..500).contains(&a.status) => {
            failures.push(format!("{what}: {} (expected a 4xx) {}", a.status, a.body.chars().take(200).collect::<String>()))
        }
        Ok(a) if json => {
            let code = serde_json::from_str::<serde_json::Value>(&a.body).ok().and_then(|v| v["error"]["code"].as_str().map(String::from));
            if code.is_none() {
                failures.push(format!("{what}: {} without a JSON error code: {}", a.status, a.body.chars().take(200).collect::<String>()));
            }
        }
        Ok(a) if !arabic(&a.body) => {
            failures.push(format!("{what}: {} without an Arabic message: {}", a.status, a.body.chars().take(200).collect::<String>()))
        }
        Ok(_) => {}
    }
}

/// Anything but a 5xx or a dropped connection (for inputs a server may also accept, cleaned).
fn check_survived(what: &str, answer: Result<Answer, String>, failures: &mut Vec<String>) {
    match answer {
        Err(e) => failures.push(format!("{what}: {e}")),
        Ok(a) if a.status >= 500 => failures.push(format!("{what}: {} {}", a.status, a.body.chars().take(200).collect::<String>())),
        Ok(_) => {}
    }
}

/// No 5xx and no dropped connection; a 4xx must carry its message.
fn check_survived_or_refused(what: &str, answer: Result<Answer, String>, json: bool, failures: &mut Vec<String>) {
    match answer {
        Ok(a) if a.status < 400 => {}
        answer => check_refusal(what, answer, json, failures),
    }
}

/// Raw urlencoded bodies no form of the site sends.
fn hostile_forms() -> Vec<(&'static str, Vec<u8>)> {
    let mut oversized = b"headline=".to_vec();
    oversized.extend(std::iter::repeat_n(b'a', LIMIT + 1));
    vec![
        ("oversized", oversized),
        ("invalid percent-encoding", b"headline=%ZZ%&body=%C&version=%".to_vec()),
        ("overlong UTF-8, percent-encoded", b"headline=%C0%AF&body=%E0%80%AF&name=%C0%AF&email=%E0%80%AF".to_vec()),
        ("overlong UTF-8, raw bytes", b"headline=\xC0\xAF&body=\xE0\x80\xAF&name=\xC0\xAF".to_vec()),
        ("not urlencoded at all", b"\x00\x01\x02{\"headline\": [1, 2]}\xFF\xFE".to_vec()),
        ("huge numbers", b"version=999999999999999999999999999999&role=99999999999999999999&target=-99999999999999999999".to_vec()),
        ("negative numbers", b"version=-1&target=-5&action=pin".to_vec()),
    ]
}

/// JSON bodies no script of the newsroom should send.
fn hostile_json() -> Vec<(&'static str, Vec<u8>)> {
    let mut oversized = br#"{"headline":"x","body":""#.to_vec();
    oversized.extend(std::iter::repeat_n(b'a', LIMIT + 1));
    oversized.extend_from_slice(br#""}"#);
    vec![
        ("oversized", oversized),
        ("malformed", br#"{"headline": "#.to_vec()),
        ("not an object", br#"["headline"]"#.to_vec()),
        ("null", b"null".to_vec()),
        ("wrong types", br#"{"headline": 5, "body": ["x"], "tags": "x", "version": "1", "pin": "x"}"#.to_vec()),
        ("overlong UTF-8 in a string", b"{\"headline\": \"\xC0\xAF\", \"body\": \"\xE0\x80\xAF\"}".to_vec()),
        ("huge numbers", br#"{"headline": "x", "body": "y", "version": 1e400, "pin": 99999999999999999999999}"#.to_vec()),
        ("negative ids", br#"{"headline": "x", "body": "y", "version": -1, "pin": -3}"#.to_vec()),
        ("deeply nested", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes()),
        ("unknown fields", br#"{"headline": "x", "body": "y", "is_admin": true}"#.to_vec()),
    ]
}

async fn hostile_input(mut app: TestApp) {
    let (_, owner) = caller(&app, "owner@example.org", Role::Owner).await;
    let (writer_id, _) = caller(&app, "writer@example.org", Role::Writer).await;
    let created = app
        .client
        .post(format!("{}/api/v1/articles", app.base))
        .bearer_auth(&owner.token)
        .json(
            &serde_json::json!({ "headline": "خبر للاختبار", "body": "فقرة.", "section": "سياسة", "tags": ["وسم"], "status": "published" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut failures = Vec::new();
    // A fresh connection per request: after a 413 the server may close a connection whose
    // body it did not read, and a pooled client would report the next request as dropped.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    app.client = client;

    // Every admin and newsletter form, as the owner (who may post every one of them), with
    // a valid CSRF token first so the hostile part is what the handler meets.
    let forms = [
        "/admin/login".to_string(),
        "/admin/password".into(),
        "/admin/articles".into(),
        format!("/admin/articles/{id}"),
        format!("/admin/articles/{id}/related"),
        format!("/admin/articles/{id}/revisions/1/restore"),
        "/admin/users".into(),
        format!("/admin/users/{writer_id}/role"),
        "/admin/sections".into(),
        "/admin/tags/1".into(),
        "/admin/tokens".into(),
        "/admin/tokens/1/revoke".into(),
        "/admin/media".into(),
        "/newsletter/subscribe".into(),
        "/newsletter/confirm".into(),
        "/newsletter/preferences".into(),
        "/newsletter/unsubscribe".into(),
    ];
    for path in &forms {
        for (kind, payload) in hostile_forms() {
            let mut body = format!("csrf={}&", owner.csrf).into_bytes();
            body.extend_from_slice(&payload);
            let req = app
                .client
                .post(format!("{}{path}", app.base))
                .header("cookie", &owner.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            let what = format!("POST {path} ({kind})");
            if kind == "oversized" {
                check_refusal(&what, send(req).await, false, &mut failures);
            } else {
                // Lossy decoding (a replacement character, a literal `%ZZ`) is an acceptable
                // reading of these; a refusal must still be an Arabic sentence.
                check_survived_or_refused(&what, send(req).await, false, &mut failures);
            }
        }
    }

    // Every JSON endpoint, with a token that may call it.
    let json_endpoints = [
        ("POST", "/api/v1/articles".to_string()),
        ("PUT", format!("/api/v1/articles/{id}")),
        ("POST", format!("/api/v1/articles/{id}/related")),
    ];
    for (method, path) in &json_endpoints {
        for (kind, payload) in hostile_json() {
            let req = app
                .client
                .request(method.parse().unwrap(), format!("{}{path}", app.base))
                .bearer_auth(&owner.token)
                .header("content-type", "application/json")
                .body(payload);
            check_refusal(&format!("{method} {path} ({kind})"), send(req).await, true, &mut failures);
        }
    }

    // Hostile path segments and query strings on pages (HTML) and the API (JSON).
    let segments =
        ["%C0%AF", "%E0%80%AF", "%ZZ", "%", "-1", "99999999999999999999999", "0", "..%2F..%2Fetc%2Fpasswd", "%00", "%0D%0ASet-Cookie:x=1"];
    for segment in segments {
        for (path, json) in [
            (format!("/news/{segment}"), false),
            (format!("/section/{segment}"), false),
            (format!("/tag/{segment}"), false),
            (format!("/admin/articles/{segment}"), false),
            (format!("/newsletter/archive/{segment}"), false),
            (format!("/api/v1/articles/{segment}"), true),
            (format!("/api/v1/articles/{segment}/edit"), true),
        ] {
            let req = app.client.get(format!("{}{path}", app.base)).header("cookie", &owner.cookie).bearer_auth(&owner.token);
            check_refusal(&format!("GET {path}"), send(req).await, json, &mut failures);
        }
        if segment == "0" {
            continue; // a valid offset
        }
        for (path, json) in [
            (format!("/api/v1/articles?limit={segment}"), true),
            (format!("/api/v1/articles?offset={segment}"), true),
            (format!("/api/v1/search?q=x&offset={segment}"), true),
        ] {
            let req = app.client.get(format!("{}{path}", app.base));
            check_refusal(&format!("GET {path}"), send(req).await, json, &mut failures);
        }
        // Searches for anything are fine, as long as the server survives them.
        for path in [format!("/search?q={segment}"), format!("/api/v1/search?q={segment}"), format!("/media/{segment}")] {
            check_survived(&format!("GET {path}"), send(app.client.get(format!("{}{path}", app.base))).await, &mut failures);
        }
    }
    // Finding 5: a media name whose size is zero divides by nothing.
    for name in ["0123456789abcdef0123-0x0-0w.jpg", "0123456789abcdef0123-0x0.jpg", "0123456789abcdef0123-1x0-0w.jpg"] {
        check_refusal(
            &format!("GET /media/{name}"),
            send(app.client.get(format!("{}/media/{name}", app.base))).await,
            false,
            &mut failures,
        );
    }

    assert!(failures.is_empty(), "{} hostile requests were mishandled:\n{}", failures.len(), failures.join("\n"));
}
storage_test!(hostile_input, config);

/// Finding 8: control characters written into a headline (by a script, a form or an import)
/// never reach a feed, where a single one makes the whole document invalid XML.
async fn control_characters_never_reach_the_feeds(app: TestApp) {
    let (_, editor) = caller(&app, "editor@example.org", Role::Editor).await;
    let headline = "خبر\u{0}فيه\u{1}محارف\u{8}تحكم\u{1b}[31m\u{7f}";
    let resp = app
        .client
        .post(format!("{}/api/v1/articles", app.base))
        .bearer_auth(&editor.token)
        .json(&serde_json::json!({ "headline": headline, "lead": "مقدمة\u{b}هنا", "body": "فقرة\u{c}أولى.", "status": "published" }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!(status == 201 || status == 422, "{status}: stripped and kept, or refused with a message");
    let form =
        format!("csrf={}&headline=%D8%AE%D8%A8%D8%B1%00%01%1B%7F&lead=x&body=%D9%86%D8%B5%0B%0C&status=published&action=save", editor.csrf);
    let resp = app
        .client
        .post(format!("{}/admin/articles", app.base))
        .header("cookie", &editor.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(resp.status().as_u16() < 500, "{}", resp.status());
    for feed in ["/feed.xml", "/feed.atom", "/sitemaps/pages.xml", "/sitemap.xml"] {
        let (status, body) = app.get_text(feed).await;
        assert_eq!(status, 200, "{feed}");
        let bad: Vec<_> = body.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')).collect();
        assert!(bad.is_empty(), "{feed} carries control characters {bad:?}: not well-formed XML");
        let mut reader = quick_xml::Reader::from_str(&body);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{feed} is not well-formed XML: {e}"),
            }
        }
    }
}
storage_test!(control_characters_never_reach_the_feeds);
