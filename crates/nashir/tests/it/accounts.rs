//! Accounts under attack (issue 15, findings 6 and 7): login attempts are counted before the
//! password is checked, per account and per address; `X-Forwarded-For` counts only from a
//! trusted proxy; a person's access can be taken away at once; writers cannot create public
//! sections, tags or authors from drafts.

use nashir::config::{Config, TrustedProxy};
use nashir::domain::Role;

use crate::editor::{add_user, csrf_of, post_login, Admin};
use crate::helpers::TestApp;
use crate::storage_test;

const PASSWORD: &str = "كلمة-مرور-طويلة-1";

/// A login form's double-submit cookie and token, fetched ahead so attempts can race.
async fn login_form(app: &TestApp) -> (String, String) {
    let form = app.get("/admin/login").await;
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    (cookie, csrf_of(&form.text().await.unwrap()))
}

async fn login_via(app: &TestApp, email: &str, password: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let (cookie, csrf) = login_form(app).await;
    let mut req = app.client.post(format!("{}/admin/login", app.base)).header("cookie", cookie).form(&[
        ("email", email),
        ("password", password),
        ("csrf", &csrf),
    ]);
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap()
}

/// 20 wrong guesses at once with `login_max_failures = 5`: each is counted before its password
/// is checked, so at most 5 are verified and the rest are refused with 429. (Before: the count
/// was read, then the password checked, then the failure recorded, so all 20 were verified.)
async fn concurrent_guesses_are_counted_before_verifying(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let mut forms = Vec::new();
    for _ in 0..20 {
        forms.push(login_form(&app).await);
    }
    let guesses = forms.into_iter().map(|(cookie, csrf)| {
        let req = app.client.post(format!("{}/admin/login", app.base)).header("cookie", cookie).form(&[
            ("email", "e@example.org"),
            ("password", "wrong-password-x"),
            ("csrf", csrf.as_str()),
        ]);
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_join_all(guesses).await;
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(verified + refused, 20, "{statuses:?}");
    assert!(verified <= 5 && refused >= 15, "{verified} verified, {refused} refused: {statuses:?}");

    // The account waits, told for how long; even its right password is not checked meanwhile.
    let resp = post_login(&app, "e@example.org", PASSWORD).await;
    assert_eq!(resp.status(), 429);
    let retry: i64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1 && retry <= app.config.editor.login_window_secs as i64, "{retry}");
    assert!(resp.text().await.unwrap().contains("محاولات دخول"));
    // Another account from the same address is not held up by it.
    assert_eq!(post_login(&app, "w@example.org", PASSWORD).await.status(), 303);
    // The wait ends with the window, however many refused attempts came meanwhile.
    sqlx::query("UPDATE login_failures SET window_start = 1").execute(app.store.pool()).await.unwrap();
    assert_eq!(post_login(&app, "e@example.org", PASSWORD).await.status(), 303);
}
storage_test!(concurrent_guesses_are_counted_before_verifying);

async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

fn three_per_address(config: &mut Config) {
    config.editor.login_max_failures_per_address = 3;
}

fn three_per_address_behind_proxy(config: &mut Config) {
    three_per_address(config);
    config.server.trusted_proxies = ["127.0.0.1", "::1"].iter().map(|p| TrustedProxy::try_from(p.to_string()).unwrap()).collect();
}

/// One address trying many accounts is stopped by the per-address limit; `X-Forwarded-For`
/// from a peer that is not a trusted proxy changes nothing (each guess claims a new address).
async fn forwarded_for_from_untrusted_peers_is_ignored(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    for i in 0..3 {
        let resp = login_via(&app, &format!("guess{i}@example.org"), "wrong-password-x", Some(&format!("203.0.113.{i}"))).await;
        assert_eq!(resp.status(), 401, "attempt {i}");
    }
    let resp = login_via(&app, "e@example.org", PASSWORD, Some("198.51.100.77")).await;
    assert_eq!(resp.status(), 429, "the fourth attempt from this peer, whatever it claims");
    assert!(resp.text().await.unwrap().contains("عنوانك"));
}
storage_test!(forwarded_for_from_untrusted_peers_is_ignored, three_per_address);

/// Behind a trusted proxy, the client is the right-most address the proxy did not add itself:
/// clients are counted apart, and what a client writes to the left of it is ignored.
async fn forwarded_for_from_a_trusted_proxy_is_used(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    for i in 0..3 {
        let spoofed = format!("192.0.2.{i}, 203.0.113.7");
        let resp = login_via(&app, &format!("guess{i}@example.org"), "wrong-password-x", Some(&spoofed)).await;
        assert_eq!(resp.status(), 401, "attempt {i}");
    }
    assert_eq!(login_via(&app, "e@example.org", PASSWORD, Some("203.0.113.7")).await.status(), 429, "the same client");
    assert_eq!(login_via(&app, "e@example.org", PASSWORD, Some("203.0.113.8")).await.status(), 303, "another client");
}
storage_test!(forwarded_for_from_a_trusted_proxy_is_used, three_per_address_behind_proxy);

async fn bearer_status(app: &TestApp, token: &str) -> u16 {
    let body = serde_json::json!({ "headline": "خبر من سكربت", "body": "فقرة." });
    app.client.post(format!("{}/api/v1/articles", app.base)).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
}

async fn new_token(admin: &Admin<'_>) -> String {
    let (status, html) = admin.post("/admin/tokens", &[("name", "سكربت")]).await;
    assert_eq!(status, 200);
    let at = html.find("nsr_").unwrap();
    html[at..at + 68].to_string()
}

/// The owner's button and `nashir user disable` end a person's sessions and API tokens at
/// once; a disabled person cannot sign in; only an owner may do it, with the form's token, and
/// not to themselves.
async fn access_can_be_taken_away(app: TestApp) {
    let owner_id = add_user(&app, "o@example.org", "المالكة", Role::Owner).await;
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let writer_id = add_user(&app, "w@example.org", "كاتب يغادر", Role::Writer).await;
    let owner = Admin::login(&app, "o@example.org").await;
    let editor = Admin::login(&app, "e@example.org").await;
    let writer = Admin::login(&app, "w@example.org").await;
    let token = new_token(&writer).await;
    assert_eq!(bearer_status(&app, &token).await, 201);

    let (_, page) = owner.get("/admin/users").await;
    assert!(page.contains(&format!("/admin/users/{writer_id}/access")) && !page.contains(&format!("/admin/users/{owner_id}/access")));
    let access = format!("/admin/users/{writer_id}/access");
    assert_eq!(editor.post(&access, &[("action", "disable")]).await.0, 403, "owners only");
    assert_eq!(owner.post_raw(&access, &[("action", "disable"), ("csrf", "nope")]).await.0, 403, "CSRF");
    assert_eq!(owner.post(&format!("/admin/users/{owner_id}/access"), &[("action", "disable")]).await.0, 422, "not oneself");
    assert_eq!(owner.post("/admin/users/999/access", &[("action", "disable")]).await.0, 404);
    assert_eq!(writer.get("/admin/articles").await.0, 200, "nothing changed yet");

    let (status, location) = owner.post(&access, &[("action", "disable")]).await;
    assert_eq!((status, location.as_str()), (303, "/admin/users"));
    let resp = app.client.get(format!("{}/admin/articles", app.base)).header("cookie", &writer.cookie).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["location"].to_str().unwrap()), (303, "/admin/login"), "old session");
    assert_eq!(bearer_status(&app, &token).await, 401, "old API token");
    assert_eq!(post_login(&app, "w@example.org", PASSWORD).await.status(), 401, "cannot sign in");
    assert!(owner.get("/admin/users").await.1.contains("موقوف"));

    // Enabled again: they sign in, but their old token stays revoked.
    assert_eq!(owner.post(&access, &[("action", "enable")]).await.0, 303);
    let writer = Admin::login(&app, "w@example.org").await;
    assert_eq!(bearer_status(&app, &token).await, 401);
    let token = new_token(&writer).await;

    // The same from the command line, on this app's database.
    let out = app.nashir(&["user", "disable", "W@Example.org"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(writer.get("/admin/articles").await.0, 303);
    assert_eq!(bearer_status(&app, &token).await, 401);
    assert_eq!(post_login(&app, "w@example.org", PASSWORD).await.status(), 401);
    let out = app.nashir(&["user", "enable", "w@example.org"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(post_login(&app, "w@example.org", PASSWORD).await.status(), 303);
    let out = app.nashir(&["user", "disable", "nobody@example.org"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("لا يوجد حساب"));
    // The store call the adversarial suite uses.
    assert!(app.store.set_user_disabled(writer_id, true).await.unwrap());
    assert!(!app.store.set_user_disabled(999, true).await.unwrap());
}
storage_test!(access_can_be_taken_away);

/// Writers file drafts under existing sections only (422 in the form and the API); editors may
/// still name a new one.
async fn writers_choose_existing_sections(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let editor = Admin::login(&app, "e@example.org").await;
    let writer = Admin::login(&app, "w@example.org").await;
    assert_eq!(editor.post("/admin/sections", &[("name", "اقتصاد"), ("slug", "economy")]).await.0, 303);
    let draft =
        |section: &'static str| vec![("headline", "مسودة"), ("body", "نص."), ("section", section), ("status", "draft"), ("action", "save")];

    let (status, page) = writer.post("/admin/articles", &draft("قسم من عندي")).await;
    assert_eq!(status, 422);
    assert!(page.contains("القسم «قسم من عندي» غير موجود"), "{page}");
    assert_eq!(writer.post("/admin/articles", &draft("اقتصاد")).await.0, 303);
    let token = new_token(&writer).await;
    let resp = app
        .client
        .post(format!("{}/api/v1/articles", app.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "headline": "من سكربت", "body": "نص.", "section": "قسم آخر من عندي" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["error"]["code"], "invalid_article");
    let names: Vec<String> = app.store.all_sections().await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["اقتصاد"], "no section was created by the writer");
    assert_eq!(editor.post("/admin/articles", &draft("رياضة")).await.0, 303, "editors may create");
}
storage_test!(writers_choose_existing_sections);

/// A writer's draft names tags and authors (and an empty section); none of them shows in the
/// navigation, the section/tag/author lists or `pages.xml` until an article with them is
/// published.
async fn public_lists_show_only_published_taxonomy(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let editor = Admin::login(&app, "e@example.org").await;
    let writer = Admin::login(&app, "w@example.org").await;
    assert_eq!(editor.post("/admin/sections", &[("name", "اقتصاد"), ("slug", "economy")]).await.0, 303);
    let fields = [
        ("headline", "مسودة فيها أسماء"),
        ("body", "نص."),
        ("section", "اقتصاد"),
        ("tags", "وسم سري"),
        ("authors", "كاتب مستعار"),
        ("status", "draft"),
        ("action", "save"),
    ];
    assert_eq!(writer.post("/admin/articles", &fields).await.0, 303);
    let published = [
        ("headline", "خبر منشور"),
        ("body", "نص."),
        ("section", "سياسة"),
        ("tags", "وسم علني"),
        ("authors", "محرر"),
        ("status", "published"),
        ("action", "save"),
    ];
    assert_eq!(editor.post("/admin/articles", &published).await.0, 303);

    let names = |v: Vec<String>| v.join("|");
    assert_eq!(names(app.store.sections().await.unwrap().into_iter().map(|s| s.name).collect()), "سياسة");
    assert_eq!(names(app.store.tags().await.unwrap().into_iter().map(|t| t.name).collect()), "وسم علني");
    assert_eq!(names(app.store.authors().await.unwrap().into_iter().map(|a| a.name).collect()), "محرر");
    assert_eq!(app.store.all_tags().await.unwrap().len(), 2, "the newsroom still sees the draft's tag");

    let slug_of_tag = app.store.all_tags().await.unwrap().into_iter().find(|t| t.name == "وسم سري").unwrap().slug;
    let slug_of_author = app.store.all_authors().await.unwrap().into_iter().find(|a| a.name == "كاتب مستعار").unwrap().slug;
    let (_, pages) = app.get_text("/sitemaps/pages.xml").await;
    assert!(pages.contains("/section/"), "{pages}");
    for hidden in ["/section/economy<", &format!("/tag/{slug_of_tag}<"), &format!("/author/{slug_of_author}<")] {
        let encoded = hidden.replace(&slug_of_tag, &percent(&slug_of_tag)).replace(&slug_of_author, &percent(&slug_of_author));
        assert!(!pages.contains(hidden) && !pages.contains(&encoded), "{hidden} in {pages}");
    }
    let (_, home) = app.get_text("/").await;
    assert!(!home.contains("/section/economy") && !home.contains("اقتصاد"), "navigation");
}
storage_test!(public_lists_show_only_published_taxonomy);

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The setup form's double-submit cookie and token.
async fn setup_form(app: &TestApp) -> (String, String) {
    let form = app.get("/admin/setup").await;
    assert_eq!(form.status(), 200, "the setup page is open while there is no account");
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    (cookie, csrf_of(&form.text().await.unwrap()))
}

async fn post_setup(app: &TestApp, form: &(String, String), code: &str, email: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/admin/setup", app.base))
        .header("cookie", &form.0)
        .form(&[
            ("csrf", form.1.as_str()),
            ("code", code),
            ("name", "المالكة"),
            ("email", email),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

/// First run (issue 17): with no account the login sends to /admin/setup; a wrong code creates
/// nothing; the printed code (typed with spaces, in capitals) creates one owner and signs them
/// in; then the page is gone and the code cannot be used again.
async fn first_run_creates_the_owner_with_the_printed_code(app: TestApp) {
    let code = app.setup_code.clone().expect("a server with no account prints a setup code");
    let login = app.get("/admin/login").await;
    assert_eq!((login.status().as_u16(), login.headers()["location"].to_str().unwrap()), (303, "/admin/setup"));
    let form = setup_form(&app).await;
    let wrong = post_setup(&app, &form, "0000-0000-0000-0000", "owner@example.org").await;
    assert_eq!(wrong.status(), 403);
    assert!(wrong.text().await.unwrap().contains("رمز الإعداد غير صحيح"));
    assert!(!app.store.has_users().await.unwrap(), "a wrong code creates no account");

    let typed = code.to_uppercase().replace('-', " ");
    let made = post_setup(&app, &form, &typed, "Owner@Example.org").await;
    assert_eq!(made.status(), 303);
    assert_eq!(made.headers()["location"], "/admin/articles");
    let session = made
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("nashir_session=") && c.len() > "nashir_session=".len())
        .expect("signed in");
    let page = app.client.get(format!("{}/admin/users", app.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(page.status(), 200, "the new account is an owner");
    let (user, _) = app.store.user_for_login("owner@example.org").await.unwrap().expect("created with a normalized email");
    assert_eq!(user.role, Role::Owner);

    let closed = app.get("/admin/setup").await;
    assert_eq!((closed.status().as_u16(), closed.headers()["location"].to_str().unwrap()), (303, "/admin/login"));
    let again = post_setup(&app, &form, &code, "second@example.org").await;
    assert_eq!(again.status(), 303, "with an account the page sends to the login");
    assert!(app.store.user_for_login("second@example.org").await.unwrap().is_none(), "the code is spent");
}
storage_test!(first_run_creates_the_owner_with_the_printed_code);

/// Two people with the code at once (or with two nodes' codes): exactly one owner.
async fn two_setups_at_once_make_one_owner(app: TestApp) {
    let code = app.setup_code.clone().unwrap();
    let a = setup_form(&app).await;
    let b = setup_form(&app).await;
    let (ra, rb) = tokio::join!(post_setup(&app, &a, &code, "a@example.org"), post_setup(&app, &b, &code, "b@example.org"));
    let made = [ra.status(), rb.status()].iter().filter(|s| s.as_u16() == 303).count();
    assert!(made >= 1);
    let owners = [app.store.user_for_login("a@example.org").await.unwrap(), app.store.user_for_login("b@example.org").await.unwrap()];
    assert_eq!(owners.iter().filter(|o| o.is_some()).count(), 1, "one first owner, never two");
}
storage_test!(two_setups_at_once_make_one_owner);

/// Once an account exists a restarted server prints no code and stores none.
async fn no_setup_code_once_there_is_an_account(backend: crate::helpers::Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else { return };
    assert!(app.setup_code.is_some());
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let again = nashir::web::Application::build(
        Config { data_dir: app.config.data_dir.join("second-node"), ..app.config.clone() },
        app.store.clone(),
    )
    .await
    .unwrap();
    assert!(again.setup_code().is_none());
}
storage_test!(no_setup_code_once_there_is_an_account(Backend));
