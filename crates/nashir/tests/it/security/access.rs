//! The access matrix: every route the server answers × every kind of caller, each cell the
//! status it must get. The routes come from the code (the `.route(…)` calls of the three
//! routers and the OpenAPI document of the API), so a route added without a row here fails
//! [`every_route_has_a_row`]. Each request is sent twice: as the identity, then at once
//! anonymously, so an answer the page cache kept for one caller and served to another shows.
//!
//! Reading a row: `route` is the route as the code writes it (`METHOD /path/{param}`), `path`
//! the request actually sent (placeholders in braces are filled from the seeded newsroom, see
//! [`Newsroom::fill`]), then one expected status per identity in the order of [`WHO`].
//! `LOGIN` is a redirect (303) to `/admin/login`; a plain 303 is a redirect anywhere else.

use std::collections::{BTreeMap, BTreeSet};

use nashir::accounts::{hash_password, random_token, token_hash};
use nashir::config::Config;
use nashir::domain::Role;

use crate::helpers::TestApp;
use crate::storage_test;

/// Who sends the request, in the order of the columns of [`MATRIX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// A reader who opened the newsletter form: holds its CSRF cookie, nothing else.
    Reader,
    WriterSession,
    EditorSession,
    OwnerSession,
    WriterToken,
    EditorToken,
    /// The site's `[api] admin_token`.
    AdminToken,
    /// An editor's session from before the editor was disabled.
    DisabledSession,
    /// An editor's API token from before the editor was disabled.
    DisabledToken,
}

use Who::*;

const WHO: [Who; 10] =
    [Anonymous, Reader, WriterSession, EditorSession, OwnerSession, WriterToken, EditorToken, AdminToken, DisabledSession, DisabledToken];

impl Who {
    /// Carries a credential (a session or a token): its answers are private.
    fn authenticated(self) -> bool {
        !matches!(self, Anonymous | Reader)
    }
}

/// A 303 redirect to the login page (the admin's answer to a caller without a session).
const LOGIN: u16 = 1303;

enum Body {
    None,
    /// Urlencoded; a session identity adds its CSRF token, so the role check is what is tested.
    Form(&'static str),
    /// Urlencoded, sent without any CSRF token (routes where a valid one would end the fixture).
    FormNoCsrf(&'static str),
    Json(&'static str),
}

struct Row {
    route: &'static str,
    path: &'static str,
    body: Body,
    expect: [u16; 10],
}

const fn row(route: &'static str, path: &'static str, body: Body, expect: [u16; 10]) -> Row {
    Row { route, path, body, expect }
}

const fn get(route: &'static str, path: &'static str, expect: [u16; 10]) -> Row {
    Row { route, path, body: Body::None, expect }
}

/// Everyone alike.
const fn all(status: u16) -> [u16; 10] {
    [status; 10]
}

/// Admin pages every signed-in person may see.
const SIGNED_IN: [u16; 10] = [LOGIN, LOGIN, 200, 200, 200, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN];
/// Admin pages for editors and owners.
const EDITORS: [u16; 10] = [LOGIN, LOGIN, 403, 200, 200, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN];
/// Admin pages for owners.
const OWNERS: [u16; 10] = [LOGIN, LOGIN, 403, 403, 200, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN];

#[rustfmt::skip]
static MATRIX: &[Row] = &[
    //                                                                                        anon   reader writer editor owner  w-tok  e-tok  admin  dis-s  dis-t
    // ── Public pages: the same answer for everyone, whatever credential they send.
    get("GET /", "/", all(200)),
    get("GET /news/{id_or_slug}", "/news/{published_slug}", all(200)),
    get("GET /news/{id_or_slug}", "/news/{published}", all(308)),
    get("GET /news/{id_or_slug}", "/news/{writer_draft}", all(404)),
    get("GET /section/{slug}", "/section/{section}", all(200)),
    get("GET /author/{slug}", "/author/{author}", all(200)),
    get("GET /tag/{slug}", "/tag/{tag}", all(200)),
    get("GET /search", "/search?q=%D8%AE%D8%A8%D8%B1", all(200)),
    get("GET /feed.xml", "/feed.xml", all(200)),
    get("GET /feed.atom", "/feed.atom", all(200)),
    get("GET /feed.json", "/feed.json", all(200)),
    get("GET /feed/{kind}/{file}", "/feed/section/{section}.xml", all(200)),
    get("GET /sitemap.xml", "/sitemap.xml", all(200)),
    get("GET /sitemaps/{file}", "/sitemaps/pages.xml", all(200)),
    get("GET /robots.txt", "/robots.txt", all(200)),
    get("GET /manifest.webmanifest", "/manifest.webmanifest", all(200)),
    get("GET /favicon.svg", "/favicon.svg", all(200)),
    get("GET /favicon.ico", "/favicon.ico", all(200)),
    get("GET /topics/{slug}", "/topics/no-such-topic", all(404)),
    get("GET /healthz", "/healthz", all(200)),
    get("GET /readyz", "/readyz", all(200)),
    // Metrics want their own token (set in `config`); no identity here holds it.
    get("GET /metrics", "/metrics", all(401)),
    // Resized variants are public; the uploaded original (with its EXIF) never is (finding 2).
    get("GET /media/{name}", "/media/{variant}", all(200)),
    get("GET /media/{name}", "/media/{original}", all(404)),
    // The editor's bundle: the same code for everyone, under its content-hashed name only.
    get("GET /assets/{file}", "/assets/editor-0000000000000000.js", all(404)),

    // ── Newsletter: public forms, each protected by its own signed CSRF token, not by roles.
    get("GET /newsletter", "/newsletter", all(200)),
    // Sign-ups carry no token (the form sits on cached pages); a cross-site origin is refused instead.
    row("POST /newsletter/subscribe", "/newsletter/subscribe", Body::FormNoCsrf("email=matrix%40example.org"), all(200)),
    get("GET /newsletter/confirm", "/newsletter/confirm?t=forged", all(400)),
    row("POST /newsletter/confirm", "/newsletter/confirm", Body::FormNoCsrf("t=forged"), all(400)),
    get("GET /newsletter/preferences", "/newsletter/preferences?t=forged", all(400)),
    row("POST /newsletter/preferences", "/newsletter/preferences", Body::FormNoCsrf("t=forged"), all(400)),
    get("GET /newsletter/unsubscribe", "/newsletter/unsubscribe?t=forged", all(400)),
    row("POST /newsletter/unsubscribe", "/newsletter/unsubscribe?t=forged", Body::FormNoCsrf(""), all(400)),
    get("GET /newsletter/archive", "/newsletter/archive", all(200)),
    get("GET /newsletter/archive/{id}", "/newsletter/archive/999999", all(404)),

    // ── Admin. Tokens are for the API: on admin pages they count for nothing (LOGIN).
    get("GET /admin", "/admin", all(303)),
    get("GET /admin/login", "/admin/login", [200, 200, 303, 303, 303, 200, 200, 200, 200, 200]),
    // No double-submit cookie: refused before any password is checked.
    row("POST /admin/login", "/admin/login", Body::FormNoCsrf("email=owner%40example.org&password=x"), all(403)),
    // The first-run page exists only while there is no account; the fixture has several.
    get("GET /admin/setup", "/admin/setup", all(LOGIN)),
    row("POST /admin/setup", "/admin/setup", Body::FormNoCsrf("code=0000&name=x&email=x%40example.org&password=long-enough-1&confirm=long-enough-1"), all(403)),
    row("POST /admin/logout", "/admin/logout", Body::FormNoCsrf(""), [LOGIN, LOGIN, 403, 403, 403, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/password", "/admin/password", SIGNED_IN),
    row("POST /admin/password", "/admin/password", Body::Form("current=not-the-password-1&new=a-new-long-password-2&confirm=a-new-long-password-2"),
        [LOGIN, LOGIN, 422, 422, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/articles", "/admin/articles", SIGNED_IN),
    row("POST /admin/articles", "/admin/articles", Body::Form("headline=%D8%AE%D8%A8%D8%B1&body=%D9%86%D8%B5&status=draft&action=save"),
        [LOGIN, LOGIN, 303, 303, 303, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    // A writer chooses among existing sections; a new one is the editors' to make (finding 7).
    row("POST /admin/articles", "/admin/articles", Body::Form("headline=%D8%AE%D8%A8%D8%B1&body=%D9%86%D8%B5&status=draft&action=save&section=writer-made-section"),
        [LOGIN, LOGIN, 422, 303, 303, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    // Writers may not publish.
    row("POST /admin/articles", "/admin/articles", Body::Form("headline=%D8%AE%D8%A8%D8%B1&body=%D9%86%D8%B5&status=published&action=save"),
        [LOGIN, LOGIN, 403, 303, 303, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/articles/new", "/admin/articles/new", SIGNED_IN),
    get("GET /admin/articles/{id}", "/admin/articles/{writer_draft}", SIGNED_IN),
    get("GET /admin/articles/{id}", "/admin/articles/{editor_draft}", EDITORS),
    // A stale version: whoever may edit gets the conflict, nothing is written.
    row("POST /admin/articles/{id}", "/admin/articles/{writer_draft}", Body::Form("headline=x&body=y&status=draft&version=0&action=save"),
        [LOGIN, LOGIN, 409, 409, 409, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/articles/{id}", "/admin/articles/{editor_draft}", Body::Form("headline=x&body=y&status=draft&version=0&action=save"),
        [LOGIN, LOGIN, 403, 409, 409, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    // Autosave (JSON): the CSRF token travels in the body; a forged one is refused whoever asks.
    row("POST /admin/articles/{id}/autosave", "/admin/articles/{writer_draft}/autosave", Body::Json(r#"{"csrf":"forged","version":0,"fields":{}}"#),
        [LOGIN, LOGIN, 403, 403, 403, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/articles/{id}/suggestions", "/admin/articles/{writer_draft}/suggestions", SIGNED_IN),
    get("GET /admin/articles/{id}/suggestions", "/admin/articles/{editor_draft}/suggestions", EDITORS),
    get("GET /admin/articles/{id}/revisions", "/admin/articles/{writer_draft}/revisions", SIGNED_IN),
    get("GET /admin/articles/{id}/revisions", "/admin/articles/{editor_draft}/revisions", EDITORS),
    get("GET /admin/articles/{id}/related", "/admin/articles/{published}/related", EDITORS),
    row("POST /admin/articles/{id}/related", "/admin/articles/{published}/related", Body::Form("action=pin&target=999999"),
        [LOGIN, LOGIN, 403, 422, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/articles/{id}/revisions/{rev}", "/admin/articles/{writer_draft}/revisions/{writer_draft_rev}", SIGNED_IN),
    get("GET /admin/articles/{id}/revisions/{rev}", "/admin/articles/{editor_draft}/revisions/{editor_draft_rev}", EDITORS),
    row("POST /admin/articles/{id}/revisions/{rev}/restore", "/admin/articles/{published}/revisions/{published_rev}/restore", Body::Form("version=0"),
        [LOGIN, LOGIN, 403, 409, 409, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/users", "/admin/users", OWNERS),
    row("POST /admin/users", "/admin/users", Body::Form("email=&role=writer&password=short"), [LOGIN, LOGIN, 403, 403, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/users/{id}/role", "/admin/users/{writer_id}/role", Body::Form("role=nonsense"), [LOGIN, LOGIN, 403, 403, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/users/{id}/access", "/admin/users/{writer_id}/access", Body::Form("action=nonsense"), [LOGIN, LOGIN, 403, 403, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/sections", "/admin/sections", EDITORS),
    row("POST /admin/sections", "/admin/sections", Body::Form("name="), [LOGIN, LOGIN, 403, 422, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/tags/{id}", "/admin/tags/{tag_id}", Body::Form("name="), [LOGIN, LOGIN, 403, 422, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/tokens", "/admin/tokens", SIGNED_IN),
    row("POST /admin/tokens", "/admin/tokens", Body::Form("name=matrix"), SIGNED_IN),
    // The owner's spare token: only its holder may revoke it; for anyone else it does not exist.
    row("POST /admin/tokens/{id}/revoke", "/admin/tokens/{owner_spare_token}/revoke", Body::Form(""),
        [LOGIN, LOGIN, 404, 404, 303, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/media", "/admin/media", SIGNED_IN),
    // Not multipart: whoever may upload is told the form is wrong.
    row("POST /admin/media", "/admin/media", Body::Form("alt=x"), [LOGIN, LOGIN, 400, 400, 400, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    // The front page (issue 18): editors set the breaking bar, pin the lead story, edit authors.
    get("GET /admin/front", "/admin/front", EDITORS),
    row("POST /admin/front/breaking", "/admin/front/breaking", Body::Form("text="), [LOGIN, LOGIN, 403, 422, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/front/lead", "/admin/front/lead", Body::Form("article=x"), [LOGIN, LOGIN, 403, 422, 422, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/authors/{id}", "/admin/authors/999999", Body::Form("bio=x"), [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/media/pick", "/admin/media/pick?q=x", SIGNED_IN),
    // The fixture has no upload: signed-in people get a 404 for a missing one, others the login.
    get("GET /admin/media/{id}", "/admin/media/999999", [LOGIN, LOGIN, 404, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/media/{id}", "/admin/media/999999", Body::Form("alt=x&caption=&credit="),
        [LOGIN, LOGIN, 404, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/media/{id}/delete", "/admin/media/999999/delete", Body::Form(""),
        [LOGIN, LOGIN, 404, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    // The newsletter desk: editors and owners; a writer is refused before anything is read.
    get("GET /admin/newsletter", "/admin/newsletter", EDITORS),
    get("GET /admin/newsletter/subscribers", "/admin/newsletter/subscribers?q=x&status=active", EDITORS),
    get("GET /admin/newsletter/subscribers.csv", "/admin/newsletter/subscribers.csv", EDITORS),
    get("GET /admin/newsletter/subscribers/{id}", "/admin/newsletter/subscribers/999999", [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/newsletter/subscribers/{id}/erase", "/admin/newsletter/subscribers/999999/erase", Body::Form(""),
        [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    // Not multipart: refused as a malformed form, as for media.
    row("POST /admin/newsletter/import", "/admin/newsletter/import", Body::Form("consent=confirm"), [LOGIN, LOGIN, 400, 400, 400, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/newsletter/issues", "/admin/newsletter/issues", Body::Form("days=1"), [LOGIN, LOGIN, 403, 303, 303, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/newsletter/issues/{id}", "/admin/newsletter/issues/999999", [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    get("GET /admin/newsletter/issues/{id}/preview", "/admin/newsletter/issues/999999/preview", [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/newsletter/issues/{id}/test", "/admin/newsletter/issues/999999/test", Body::Form(""), [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/newsletter/issues/{id}/send", "/admin/newsletter/issues/999999/send", Body::Form(""), [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),
    row("POST /admin/newsletter/issues/{id}/cancel", "/admin/newsletter/issues/999999/cancel", Body::Form(""), [LOGIN, LOGIN, 403, 404, 404, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),

    // ── API. Sessions count for nothing here (a cookie-authenticated API could be driven
    // by another site); tokens do, by their holder's role.
    get("GET /api/v1/articles", "/api/v1/articles", all(200)),
    row("POST /api/v1/articles", "/api/v1/articles", Body::Json(r#"{"headline":"خبر","body":"نص."}"#),
        [401, 401, 401, 401, 401, 201, 201, 401, 401, 401]),
    get("GET /api/v1/articles/{id_or_slug}", "/api/v1/articles/{published_slug}", all(200)),
    get("GET /api/v1/articles/{id_or_slug}", "/api/v1/articles/{writer_draft}", all(404)),
    row("PUT /api/v1/articles/{id_or_slug}", "/api/v1/articles/{writer_draft}", Body::Json(r#"{"headline":"خبر","body":"نص.","version":0}"#),
        [401, 401, 401, 401, 401, 409, 409, 401, 401, 401]),
    row("PUT /api/v1/articles/{id_or_slug}", "/api/v1/articles/{published}", Body::Json(r#"{"headline":"خبر","body":"نص.","version":0}"#),
        [401, 401, 401, 401, 401, 403, 409, 401, 401, 401]),
    // Finding 1: an editor's answer must never reach the anonymous request that follows.
    get("GET /api/v1/articles/{id_or_slug}/edit", "/api/v1/articles/{writer_draft}/edit", [401, 401, 401, 401, 401, 200, 200, 401, 401, 401]),
    get("GET /api/v1/articles/{id_or_slug}/edit", "/api/v1/articles/{editor_draft}/edit", [401, 401, 401, 401, 401, 403, 200, 401, 401, 401]),
    row("POST /api/v1/articles/{id_or_slug}/publish", "/api/v1/articles/{published}/publish", Body::None,
        [401, 401, 401, 401, 401, 403, 200, 401, 401, 401]),
    row("POST /api/v1/articles/{id_or_slug}/unpublish", "/api/v1/articles/{spare}/unpublish", Body::None,
        [401, 401, 401, 401, 401, 403, 200, 401, 401, 401]),
    get("GET /api/v1/articles/{id_or_slug}/related", "/api/v1/articles/{published}/related", [403, 403, 403, 403, 403, 403, 200, 200, 403, 403]),
    row("POST /api/v1/articles/{id_or_slug}/related", "/api/v1/articles/{published}/related", Body::Json(r#"{"pin":999999}"#),
        [403, 403, 403, 403, 403, 403, 404, 404, 403, 403]),
    get("GET /api/v1/search", "/api/v1/search?q=%D8%AE%D8%A8%D8%B1", all(200)),
    get("GET /api/v1/openapi.json", "/api/v1/openapi.json", all(200)),
    get("GET /api/v1/breaking", "/api/v1/breaking", all(200)),
];

/// The routes the server answers, as `METHOD /path/{param}`, read from the code: the
/// `.route("…", get(…).post(…))` calls of the site, admin and newsletter routers, and the
/// operations of the API's OpenAPI document (every API route is in it by construction).
/// The second value says whether the route is private (admin, or an API operation that
/// takes a token): its answers to a credential must not be stored by any cache.
fn routes_from_code() -> BTreeMap<String, bool> {
    let mut routes = BTreeMap::new();
    let site = include_str!("../../../src/web/mod.rs");
    assert!(site.contains(".nest(\"/admin\", admin::routes())"), "the admin router is nested at /admin");
    assert!(site.contains(".merge(newsletter::routes())"), "the newsletter router is merged at the root");
    for (source, prefix) in
        [(site, ""), (include_str!("../../../src/web/admin/mod.rs"), "/admin"), (include_str!("../../../src/web/newsletter.rs"), "")]
    {
        for (path, methods) in route_calls(source) {
            let path = if path == "/" && !prefix.is_empty() { prefix.to_string() } else { format!("{prefix}{path}") };
            for method in methods {
                routes.insert(format!("{method} {path}"), prefix == "/admin");
            }
        }
    }
    let doc: serde_json::Value = serde_json::from_str(nashir::web::openapi::document()).expect("openapi.json parses");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                let secured = op.get("security").and_then(|s| s.as_array()).is_some_and(|s| !s.is_empty());
                routes.insert(format!("{} {path}", method.to_uppercase()), secured);
            }
        }
    }
    routes
}

/// `(path, methods)` of every `.route("path", get(…).post(…))` call in a router's source.
fn route_calls(source: &str) -> Vec<(String, Vec<&'static str>)> {
    // Unit tests below the code build routers of their own; they are not served.
    let source = source.split("#[cfg(test)]").next().unwrap_or(source);
    let mut found = Vec::new();
    for (at, _) in source.match_indices(".route(\"") {
        let rest = &source[at + ".route(\"".len()..];
        let path = &rest[..rest.find('"').expect("route path ends")];
        // The method router runs to the end of the call: the line, as rustfmt writes them.
        let call = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let mut methods = Vec::new();
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = call
                .match_indices(&format!("{method}("))
                .any(|(i, _)| i == 0 || !call.as_bytes()[i - 1].is_ascii_alphanumeric() && call.as_bytes()[i - 1] != b'_');
            if called {
                methods.push(method.to_uppercase().leak() as &'static str);
            }
        }
        assert!(!methods.is_empty(), "no method found for route {path}: {call}");
        found.push((path.to_string(), methods));
    }
    found
}

/// A route added without a row fails here (and so does a row for a route that is gone).
#[test]
fn every_route_has_a_row() {
    let code: BTreeSet<String> = routes_from_code().into_keys().collect();
    assert!(code.len() >= 60, "the route extraction found only {} routes: {code:?}", code.len());
    let table: BTreeSet<String> = MATRIX.iter().map(|r| r.route.to_string()).collect();
    let missing: Vec<_> = code.difference(&table).collect();
    let stale: Vec<_> = table.difference(&code).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row in security::access::MATRIX: {missing:?}\nrows for routes the code no longer has: {stale:?}"
    );
}

/// The seeded newsroom every row's placeholders are filled from.
struct Newsroom {
    values: BTreeMap<&'static str, String>,
    /// Per identity: what it sends (a cookie or an Authorization header) and its CSRF token.
    credentials: Vec<Credential>,
    /// Whether the disabled identities could be made (see [`disable_user`]).
    disabled: bool,
}

#[derive(Default, Clone)]
struct Credential {
    cookie: Option<String>,
    bearer: Option<String>,
    csrf: Option<String>,
}

impl Newsroom {
    fn fill(&self, path: &str) -> String {
        let mut out = path.to_string();
        for (key, value) in &self.values {
            out = out.replace(&format!("{{{key}}}"), value);
        }
        assert!(!out.contains('{'), "a placeholder of {path} has no value in the newsroom");
        out
    }
}

const ADMIN_TOKEN: &str = "matrix-admin-token-0123456789abcdef0123456789";

fn config(config: &mut Config) {
    config.api.admin_token = ADMIN_TOKEN.into();
    config.metrics.enabled = true;
    config.metrics.token = "matrix-metrics-token-0123456789abcdef".into();
}

async fn user(app: &TestApp, email: &str, role: Role) -> i64 {
    // One hash for everyone: argon2 is slow in debug builds and no one logs in with it here.
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH.get_or_init(|| hash_password("كلمة-مرور-طويلة-1").unwrap());
    app.store.create_user(email, email.split('@').next().unwrap(), role, hash).await.unwrap()
}

async fn session(app: &TestApp, user_id: i64) -> Credential {
    let (token, csrf) = (random_token(), random_token());
    app.store.create_session(&token_hash(&token), user_id, &csrf, chrono::Utc::now().timestamp() + 3600).await.unwrap();
    Credential { cookie: Some(format!("{}={token}", nashir::web::admin::SESSION_COOKIE)), bearer: None, csrf: Some(csrf) }
}

async fn api_token(app: &TestApp, user_id: i64, name: &str) -> (i64, String) {
    let token = format!("nsr_{}", random_token());
    let id = app.store.create_api_token(user_id, name, &token_hash(&token)).await.unwrap();
    (id, token)
}

fn bearer(token: String) -> Credential {
    Credential { bearer: Some(token), ..Credential::default() }
}

/// Takes access away from a user, as `nashir user disable EMAIL` and the owner's button do
/// (the store ends the person's sessions and API tokens in the same transaction).
async fn disable_user(app: &TestApp, user_id: i64) -> bool {
    app.store.set_user_disabled(user_id, true).await.expect("disable the leaver")
}

async fn api_create(app: &TestApp, token: &str, body: serde_json::Value) -> serde_json::Value {
    let resp = app.client.post(format!("{}/api/v1/articles", app.base)).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 201, "seeding an article");
    resp.json().await.unwrap()
}

async fn seed(app: &TestApp) -> Newsroom {
    let owner = user(app, "owner@example.org", Role::Owner).await;
    let editor = user(app, "editor@example.org", Role::Editor).await;
    let writer = user(app, "writer@example.org", Role::Writer).await;
    // An editor, so a disable that does not hold would show as successes of a powerful role.
    let leaver = user(app, "leaver@example.org", Role::Editor).await;
    let (_, writer_token) = api_token(app, writer, "writer's script").await;
    let (_, editor_token) = api_token(app, editor, "editor's script").await;
    let (owner_spare_token, _) = api_token(app, owner, "owner's spare").await;
    let (_, leaver_token) = api_token(app, leaver, "leaver's script").await;
    let leaver_session = session(app, leaver).await;

    let article = |headline: &str, status: &str| {
        serde_json::json!({ "headline": headline, "lead": "مقدمة.", "body": "فقرة أولى عن المدينة.\n\n## عنوان فرعي\n\nفقرة ثانية.",
                            "section": "سياسة", "tags": ["اختبار"], "authors": ["ليلى حداد"], "status": status })
    };
    let published = api_create(app, &editor_token, article("خبر منشور للمصفوفة", "published")).await;
    let spare = api_create(app, &editor_token, article("خبر منشور احتياطي", "published")).await;
    let writer_draft = api_create(app, &writer_token, article("مسودة الكاتب", "draft")).await;
    let editor_draft = api_create(app, &editor_token, article("مسودة المحرر", "draft")).await;

    let owner_session = session(app, owner).await;
    let (variant, original) = upload_photo(app, &owner_session).await;

    // A reader: the newsletter form's CSRF cookie, nothing more.
    let form = app.get("/newsletter").await;
    let reader_cookie = form.headers().get("set-cookie").map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string());

    let disabled = disable_user(app, leaver).await;
    assert!(disabled, "the leaver could not be disabled");
    let section = app.store.sections().await.unwrap().into_iter().next().expect("a section").slug;
    let tag = app.store.tags().await.unwrap().into_iter().next().expect("a tag");
    let author = app.store.authors().await.unwrap().into_iter().next().expect("an author").slug;
    let first_revision = |article: &serde_json::Value| {
        let id = article["id"].as_i64().unwrap();
        async move {
            let rev: i64 = sqlx::query_scalar(&format!("SELECT MIN(id) FROM revisions WHERE article_id = {id}"))
                .fetch_one(app.store.pool())
                .await
                .expect("the article has a revision");
            rev.to_string()
        }
    };
    let values = BTreeMap::from([
        ("writer_draft_rev", first_revision(&writer_draft).await),
        ("editor_draft_rev", first_revision(&editor_draft).await),
        ("published_rev", first_revision(&published).await),
        ("published", published["id"].to_string()),
        ("published_slug", published["slug"].as_str().unwrap().to_string()),
        ("spare", spare["id"].to_string()),
        ("writer_draft", writer_draft["id"].to_string()),
        ("editor_draft", editor_draft["id"].to_string()),
        ("section", section),
        ("tag", tag.slug.to_string()),
        ("tag_id", tag.id.to_string()),
        ("author", author),
        ("variant", variant),
        ("original", original),
        ("owner_spare_token", owner_spare_token.to_string()),
        ("writer_id", writer.to_string()),
    ]);
    let credentials = vec![
        Credential::default(),
        Credential { cookie: reader_cookie, ..Credential::default() },
        session(app, writer).await,
        session(app, editor).await,
        owner_session,
        bearer(writer_token),
        bearer(editor_token),
        bearer(ADMIN_TOKEN.to_string()),
        leaver_session,
        bearer(leaver_token),
    ];
    Newsroom { values, credentials, disabled }
}

/// Uploads a photo; returns the name of one of its resized variants and of the original.
async fn upload_photo(app: &TestApp, owner: &Credential) -> (String, String) {
    let boundary = "----nashirmatrixboundary";
    let mut body = Vec::new();
    for (name, value) in [("csrf", owner.csrf.as_deref().unwrap()), ("alt", "ساحة")] {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(&jpeg(1000, 600));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = app
        .client
        .post(format!("{}/admin/media", app.base))
        .header("cookie", owner.cookie.as_deref().unwrap())
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    let at = html.find("](/media/").expect("the upload page shows the markup") + "](/media/".len();
    let original = html[at..].split(')').next().unwrap().to_string();
    let (stem, ext) = original.rsplit_once('.').unwrap();
    (format!("{stem}-480w.{ext}"), original)
}

/// A real JPEG the upload accepts and resizes.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

struct Answer {
    status: u16,
    location: String,
    cache_control: String,
}

impl Answer {
    /// The status as the matrix writes it (`LOGIN` for a redirect to the login page).
    fn code(&self) -> u16 {
        if self.status == 303 && self.location.starts_with("/admin/login") {
            LOGIN
        } else {
            self.status
        }
    }
}

async fn send(app: &TestApp, row: &Row, path: &str, who: &Credential) -> Result<Answer, String> {
    let method = reqwest::Method::from_bytes(row.route.split(' ').next().unwrap().as_bytes()).unwrap();
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    if let Some(cookie) = &who.cookie {
        req = req.header("cookie", cookie);
    }
    if let Some(token) = &who.bearer {
        req = req.bearer_auth(token);
    }
    req = match &row.body {
        Body::None => req,
        Body::Form(form) => {
            let form = match &who.csrf {
                Some(csrf) if form.is_empty() => format!("csrf={csrf}"),
                Some(csrf) => format!("csrf={csrf}&{form}"),
                None => form.to_string(),
            };
            req.header("content-type", "application/x-www-form-urlencoded").body(form)
        }
        Body::FormNoCsrf(form) => req.header("content-type", "application/x-www-form-urlencoded").body(*form),
        Body::Json(json) => req.header("content-type", "application/json").body(*json),
    };
    let resp = req.send().await.map_err(|e| format!("connection failed: {e}"))?;
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let answer = Answer { status: resp.status().as_u16(), location: header("location"), cache_control: header("cache-control") };
    resp.bytes().await.map_err(|e| format!("body cut off: {e}"))?;
    Ok(answer)
}

fn shown(code: u16) -> String {
    if code == LOGIN {
        "LOGIN".into()
    } else {
        code.to_string()
    }
}

async fn access_matrix(app: TestApp) {
    let newsroom = seed(&app).await;
    let private = routes_from_code();
    let mut failures = Vec::new();
    let mut observed = Vec::new();
    for row in MATRIX {
        let path = newsroom.fill(row.path);
        let is_private = private.get(row.route).copied().unwrap_or(false);
        let mut seen = [0u16; 10];
        for (i, who) in WHO.iter().enumerate() {
            if matches!(who, DisabledSession | DisabledToken) && !newsroom.disabled {
                continue;
            }
            let cell = format!("{} {path} as {who:?}", row.route.split(' ').next().unwrap());
            match send(&app, row, &path, &newsroom.credentials[i]).await {
                Err(e) => failures.push(format!("{cell}: {e}")),
                Ok(answer) => {
                    seen[i] = answer.code();
                    if answer.code() != row.expect[i] {
                        failures.push(format!("{cell}: {} (expected {})", shown(answer.code()), shown(row.expect[i])));
                    }
                    if who.authenticated() && is_private && !answer.cache_control.contains("no-store") {
                        failures.push(format!("{cell}: Cache-Control «{}», a private answer needs no-store", answer.cache_control));
                    }
                }
            }
            // Right after: the same request without any credential must get the anonymous answer.
            if who.authenticated() {
                match send(&app, row, &path, &Credential::default()).await {
                    Err(e) => failures.push(format!("{cell}, then anonymous: {e}")),
                    Ok(answer) if answer.code() != row.expect[0] => failures.push(format!(
                        "{cell}, then anonymous: {} (expected {}; Cache-Control «{}») — an answer leaked through a cache?",
                        shown(answer.code()),
                        shown(row.expect[0]),
                        answer.cache_control
                    )),
                    Ok(_) => {}
                }
            }
        }
        observed.push(format!("{} {} {:?}", row.route, row.path, seen.map(shown)));
    }
    if std::env::var_os("NASHIR_ACCESS_PRINT").is_some() {
        eprintln!("observed:\n{}", observed.join("\n"));
    }
    assert!(failures.is_empty(), "{} cells of the access matrix are wrong:\n{}", failures.len(), failures.join("\n"));
}
storage_test!(access_matrix, config);
