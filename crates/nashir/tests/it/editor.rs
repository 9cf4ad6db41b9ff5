//! The newsroom's editor: accounts, sessions, CSRF, roles, writing, revisions, scheduling,
//! uploads, the admin API. Every denied action must answer 403 and change nothing.

use nashir::accounts::hash_password;
use nashir::config::Config;
use nashir::domain::Role;
use nashir::Application;

use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::storage_test;

mod images;
mod library;

const PASSWORD: &str = "كلمة-مرور-طويلة-1";

/// A signed-in browser: the session cookie and the CSRF token its forms carry.
pub struct Admin<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

pub async fn add_user(app: &TestApp, email: &str, name: &str, role: Role) -> i64 {
    app.store.create_user(email, name, role, &hash_password(PASSWORD).unwrap()).await.unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("page has a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..at + 64].to_string()
}

/// Fetches the login form (for its double-submit token and cookie), then posts it.
pub async fn post_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let form = app.get("/admin/login").await;
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = csrf_of(&form.text().await.unwrap());
    app.client
        .post(format!("{}/admin/login", app.base))
        .header("cookie", cookie)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

impl<'a> Admin<'a> {
    pub async fn login(app: &'a TestApp, email: &str) -> Admin<'a> {
        let resp = post_login(app, email, PASSWORD).await;
        assert_eq!(resp.status(), 303, "login of {email}");
        let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
        let cookie = set.split(';').next().unwrap().to_string();
        let mut admin = Admin { app, cookie, csrf: String::new() };
        let (status, html) = admin.get("/admin/articles").await;
        assert_eq!(status, 200);
        admin.csrf = csrf_of(&html);
        admin
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let resp = self.app.client.get(format!("{}{path}", self.app.base)).header("cookie", &self.cookie).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Posts a form with this session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut all: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let resp =
            self.app.client.post(format!("{}{path}", self.app.base)).header("cookie", &self.cookie).form(fields).send().await.unwrap();
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        (status, location.unwrap_or(resp.text().await.unwrap()))
    }

    /// Creates an article through the form; returns its id.
    pub async fn create(&self, fields: &[(&str, &str)]) -> i64 {
        let (status, location) = self.post("/admin/articles", fields).await;
        assert_eq!(status, 303, "{location}");
        location.trim_start_matches("/admin/articles/").trim_end_matches("?saved=1").parse().unwrap()
    }

    pub async fn upload(&self, file_name: &str, content_type: &str, bytes: &[u8], alt: &str) -> (u16, String) {
        let boundary = "----nashirtestboundary";
        let mut body = Vec::new();
        for (name, value) in [("csrf", self.csrf.as_str()), ("alt", alt)] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = self
            .app
            .client
            .post(format!("{}/admin/media", self.app.base))
            .header("cookie", &self.cookie)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

fn article_fields<'a>(headline: &'a str, body: &'a str, status: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("headline", headline),
        ("lead", "مقدمة قصيرة."),
        ("body", body),
        ("section", "سياسة"),
        ("tags", "اختبار، تجربة"),
        ("status", status),
        ("action", "save"),
    ]
}

async fn article_count(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM articles").fetch_one(app.store.pool()).await.unwrap()
}

/// Writes logged by requests; the related follower's own entries (suggestions it recomputed in
/// the background) are left out, as they may land at any moment.
async fn change_count(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM changes WHERE kind <> 'related'").fetch_one(app.store.pool()).await.unwrap()
}

/// A 2×1 PNG: signature, IHDR and nothing else; enough for header checks.
fn png_bytes() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    v.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0, 0, 0, 0]);
    v
}

async fn sessions_and_login(app: TestApp) {
    add_user(&app, "writer@example.org", "كاتبة", Role::Writer).await;
    // Not signed in: the admin sends people to the login page.
    let resp = app.get("/admin/articles").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/admin/login");
    let (status, page) = app.get_text("/admin/login").await;
    assert_eq!(status, 200);
    assert!(page.contains("dir=\"rtl\"") && page.contains("الدخول"));
    let resp = app.get("/admin/login").await;
    assert_eq!(
        (resp.headers()["cache-control"].to_str().unwrap(), resp.headers()["x-frame-options"].to_str().unwrap()),
        ("private, no-store", "DENY")
    );

    // Unknown email and wrong password look the same.
    let unknown = post_login(&app, "nobody@example.org", PASSWORD).await;
    let (s1, unknown) = (unknown.status(), unknown.text().await.unwrap());
    let wrong = post_login(&app, "writer@example.org", "wrong-password-x").await;
    let (s2, wrong) = (wrong.status(), wrong.text().await.unwrap());
    assert_eq!((s1.as_u16(), s2.as_u16()), (401, 401));
    assert!(unknown.contains("البريد الإلكتروني أو كلمة المرور غير صحيحة") && wrong.contains("البريد الإلكتروني أو كلمة المرور غير صحيحة"));

    // The session cookie is HttpOnly and SameSite=Lax; not Secure on plain http.
    let resp = post_login(&app, "writer@example.org", PASSWORD).await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    let admin = Admin::login(&app, "writer@example.org").await;
    assert_eq!(admin.get("/admin/articles").await.0, 200);

    // A session past its expiry no longer signs in.
    sqlx::query("UPDATE sessions SET expires_at = 1").execute(app.store.pool()).await.unwrap();
    let resp = app.client.get(format!("{}/admin/articles", app.base)).header("cookie", &admin.cookie).send().await.unwrap();
    assert_eq!(resp.status(), 303);

    // Logout ends the session (and needs the CSRF token).
    let admin = Admin::login(&app, "writer@example.org").await;
    assert_eq!(admin.post_raw("/admin/logout", &[("csrf", "nope")]).await.0, 403);
    assert_eq!(admin.post("/admin/logout", &[]).await.0, 303);
    assert_eq!(admin.get("/admin/articles").await.0, 303);

    // Password change: the old password stops working.
    let admin = Admin::login(&app, "writer@example.org").await;
    let (status, _) = admin
        .post("/admin/password", &[("current", "wrong-password-x"), ("new", "another-long-pass"), ("confirm", "another-long-pass")])
        .await;
    assert_eq!(status, 422);
    let (status, _) =
        admin.post("/admin/password", &[("current", PASSWORD), ("new", "another-long-pass"), ("confirm", "another-long-pass")]).await;
    assert_eq!(status, 200);
    assert_eq!(post_login(&app, "writer@example.org", PASSWORD).await.status(), 401);
    assert_eq!(post_login(&app, "writer@example.org", "another-long-pass").await.status(), 303);
}
storage_test!(sessions_and_login);

async fn login_is_rate_limited(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    for _ in 0..5 {
        assert_eq!(post_login(&app, "e@example.org", "wrong-password-x").await.status(), 401);
    }
    // Even the right password is refused until the window passes.
    let resp = post_login(&app, "e@example.org", PASSWORD).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.text().await.unwrap().contains("محاولات"));
    sqlx::query("UPDATE login_failures SET window_start = 1").execute(app.store.pool()).await.unwrap();
    assert_eq!(post_login(&app, "e@example.org", PASSWORD).await.status(), 303);
}
storage_test!(login_is_rate_limited);

async fn csrf_is_required(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let admin = Admin::login(&app, "e@example.org").await;
    let before = article_count(&app).await;
    let mut fields = article_fields("خبر بلا رمز حماية", "نص الخبر.", "draft");
    let (status, html) = admin.post_raw("/admin/articles", &fields).await;
    assert_eq!(status, 403);
    assert!(html.contains("رمز الحماية"));
    fields.push(("csrf", "0000000000000000000000000000000000000000000000000000000000000000"));
    assert_eq!(admin.post_raw("/admin/articles", &fields).await.0, 403);
    assert_eq!(admin.post_raw("/admin/sections", &[("name", "قسم")]).await.0, 403);
    assert_eq!(article_count(&app).await, before);
    // The login form has its own token: without the matching cookie, no session is made.
    let form = app.get_text("/admin/login").await.1;
    let resp = app
        .client
        .post(format!("{}/admin/login", app.base))
        .form(&[("email", "e@example.org"), ("password", PASSWORD), ("csrf", &csrf_of(&form))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("set-cookie").is_none());
    // Another session's token is wrong too.
    let other = Admin::login(&app, "e@example.org").await;
    let mut fields = article_fields("خبر برمز جلسة أخرى", "نص الخبر.", "draft");
    fields.push(("csrf", &other.csrf));
    assert_eq!(admin.post_raw("/admin/articles", &fields).await.0, 403);
    assert_eq!(article_count(&app).await, before);
}
storage_test!(csrf_is_required);

/// Who tries, where they post, what they send.
type Denied<'a> = (&'a Admin<'a>, String, Vec<(&'a str, &'a str)>);

async fn role_matrix(app: TestApp) {
    add_user(&app, "owner@example.org", "المالكة", Role::Owner).await;
    add_user(&app, "editor@example.org", "المحرر", Role::Editor).await;
    add_user(&app, "w1@example.org", "كاتب أول", Role::Writer).await;
    add_user(&app, "w2@example.org", "كاتب ثان", Role::Writer).await;
    let owner = Admin::login(&app, "owner@example.org").await;
    let editor = Admin::login(&app, "editor@example.org").await;
    let w1 = Admin::login(&app, "w1@example.org").await;
    let w2 = Admin::login(&app, "w2@example.org").await;

    // The editor's article creates the section the writer then chooses (writers cannot create one).
    let published = editor.create(&article_fields("خبر نشره المحرر", "نص منشور.", "published")).await;
    let own = w1.create(&article_fields("مسودة الكاتب الأول", "نص المسودة.", "draft")).await;

    // Each denied case: 403, an Arabic message, and no change at all.
    let denied: Vec<Denied> = vec![
        (&w1, "/admin/articles".into(), article_fields("محاولة نشر من كاتب", "نص.", "published")),
        (
            &w1,
            "/admin/articles".into(),
            vec![("headline", "محاولة جدولة"), ("body", "نص."), ("status", "scheduled"), ("publish_at", "2030-01-01T10:00")],
        ),
        (
            &w1,
            format!("/admin/articles/{own}"),
            vec![("headline", "نشر مسودتي"), ("body", "نص."), ("status", "published"), ("version", "1"), ("action", "save")],
        ),
        (
            &w2,
            format!("/admin/articles/{own}"),
            vec![("headline", "تعديل مسودة غيري"), ("body", "نص."), ("status", "draft"), ("version", "1"), ("action", "save")],
        ),
        (
            &w1,
            format!("/admin/articles/{published}"),
            vec![("headline", "تعديل خبر منشور"), ("body", "نص."), ("status", "draft"), ("version", "1"), ("action", "save")],
        ),
        (&w1, format!("/admin/articles/{published}/revisions/1/restore"), vec![("version", "1")]),
        (&w1, "/admin/sections".into(), vec![("name", "قسم من كاتب")]),
        (&w1, "/admin/tags/1".into(), vec![("name", "وسم من كاتب")]),
        (&w1, "/admin/users".into(), vec![("email", "x@example.org"), ("role", "owner"), ("password", "long-enough-pass")]),
        (&editor, "/admin/users".into(), vec![("email", "y@example.org"), ("role", "owner"), ("password", "long-enough-pass")]),
        (&editor, "/admin/users/3/role".into(), vec![("role", "owner")]),
        (&w1, "/admin/users/3/role".into(), vec![("role", "owner")]),
    ];
    for (who, path, fields) in denied {
        let before = (article_count(&app).await, change_count(&app).await, app.store.users().await.unwrap().len());
        let roles_before: Vec<_> = app.store.users().await.unwrap().iter().map(|u| u.role).collect();
        let (status, html) = who.post(&path, &fields).await;
        assert_eq!(status, 403, "{path} {fields:?}: {html}");
        assert!(html.contains("غير مسموح"), "{html}");
        let after = (article_count(&app).await, change_count(&app).await, app.store.users().await.unwrap().len());
        assert_eq!(before, after, "{path}: nothing changes");
        let roles_after: Vec<_> = app.store.users().await.unwrap().iter().map(|u| u.role).collect();
        assert_eq!(roles_before, roles_after);
    }
    assert_eq!(app.store.current_snapshot(own).await.unwrap().unwrap().headline, "مسودة الكاتب الأول");
    assert_eq!(app.store.current_snapshot(published).await.unwrap().unwrap().status, nashir::domain::Status::Published);
    // Pages a role may not see are 403 too.
    assert_eq!(w1.get("/admin/users").await.0, 403);
    assert_eq!(editor.get("/admin/users").await.0, 403);
    assert_eq!(w1.get("/admin/sections").await.0, 403);
    assert_eq!(w2.get(&format!("/admin/articles/{own}")).await.0, 403);

    // What each role may do.
    let (status, _) = w1
        .post(
            &format!("/admin/articles/{own}"),
            &[("headline", "مسودة الكاتب الأول"), ("body", "نص أطول."), ("status", "draft"), ("version", "1"), ("action", "submit")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, list) = editor.get("/admin/articles?status=review").await;
    assert!(list.contains("مسودة الكاتب الأول") && list.contains("بانتظار المراجعة"), "{list}");
    let (_, list) = w2.get("/admin/articles").await;
    assert!(!list.contains("مسودة الكاتب الأول"), "writers see their own articles only");
    let (status, _) = editor
        .post(
            &format!("/admin/articles/{own}"),
            &[("headline", "مسودة الكاتب الأول"), ("body", "نص أطول."), ("status", "published"), ("version", "2"), ("action", "save")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(app.get(&format!("/news/{own}")).await.status(), 308);
    assert_eq!(editor.post("/admin/sections", &[("name", "اقتصاد"), ("slug", "economy")]).await.0, 303);
    assert_eq!(
        owner
            .post("/admin/users", &[("email", "new@example.org"), ("name", "جديد"), ("role", "writer"), ("password", "long-enough-pass")])
            .await
            .0,
        303
    );
    assert_eq!(owner.get("/admin/users").await.0, 200);
}
storage_test!(role_matrix);

async fn revisions_and_version_conflicts(app: TestApp) {
    add_user(&app, "e1@example.org", "محررة", Role::Editor).await;
    add_user(&app, "e2@example.org", "محرر", Role::Editor).await;
    let e1 = Admin::login(&app, "e1@example.org").await;
    let e2 = Admin::login(&app, "e2@example.org").await;
    let id = e1.create(&article_fields("العنوان الأول", "الفقرة الأولى.\n\n## عنوان فرعي\n\n> اقتباس", "draft")).await;
    let (status, page) = e1.get(&format!("/admin/articles/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("## عنوان فرعي") && page.contains("name=\"version\" value=\"1\""), "the form shows markup and version");

    let edit = |headline: &'static str, body: &'static str, version: &'static str| {
        vec![("headline", headline), ("body", body), ("status", "draft"), ("version", version), ("action", "save")]
    };
    assert_eq!(e1.post(&format!("/admin/articles/{id}"), &edit("العنوان الثاني", "الفقرة المعدلة.", "1")).await.0, 303);
    // The second editor still holds version 1: told, nothing overwritten.
    let changes = change_count(&app).await;
    let (status, html) = e2.post(&format!("/admin/articles/{id}"), &edit("تعديل متأخر", "نص قديم.", "1")).await;
    assert_eq!(status, 409);
    assert!(html.contains("عدّل شخص آخر هذا المقال"), "{html}");
    assert!(html.contains("تعديل متأخر"), "the form keeps what they typed");
    assert_eq!(app.store.current_snapshot(id).await.unwrap().unwrap().headline, "العنوان الثاني");
    assert_eq!(change_count(&app).await, changes);

    // Revisions: listed, diffed, restored.
    let revs = app.store.revisions(id).await.unwrap();
    assert_eq!(revs.len(), 2);
    let first = revs.iter().find(|r| r.version == 1).unwrap().id;
    let (status, list) = e1.get(&format!("/admin/articles/{id}/revisions")).await;
    assert_eq!(status, 200);
    assert!(list.contains("محررة"));
    let (status, diff) = e1.get(&format!("/admin/articles/{id}/revisions/{first}")).await;
    assert_eq!(status, 200);
    assert!(diff.contains("class=\"added\"><pre>+ العنوان: العنوان الثاني"), "{diff}");
    assert!(diff.contains("class=\"removed\"><pre>- العنوان: العنوان الأول"));
    let (status, _) = e1.post(&format!("/admin/articles/{id}/revisions/{first}/restore"), &[("version", "2")]).await;
    assert_eq!(status, 303);
    let restored = app.store.current_snapshot(id).await.unwrap().unwrap();
    assert_eq!(restored.headline, "العنوان الأول");
    assert_eq!(restored.body.len(), 3);
    assert_eq!(app.store.article_meta(id).await.unwrap().unwrap().version, 3);
    assert_eq!(app.store.revisions(id).await.unwrap().len(), 3, "a restore is a save too");
    // A restore from a stale page conflicts as well.
    assert_eq!(e1.post(&format!("/admin/articles/{id}/revisions/{first}/restore"), &[("version", "2")]).await.0, 409);
}
storage_test!(revisions_and_version_conflicts);

async fn editor_form_preview_list_and_slug(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let e = Admin::login(&app, "e@example.org").await;
    let (status, form) = e.get("/admin/articles/new").await;
    assert_eq!(status, 200);
    assert!(form.contains("beforeunload") && form.contains("type=\"datetime-local\""));
    let body = "فقرة.\n\n## عنوان فرعي\n\n> قول مأثور\n\nاقرأ أيضاً: خبر آخر";
    let mut fields = article_fields("خبر للمعاينة", body, "draft");
    fields.retain(|(k, _)| *k != "action");
    fields.push(("action", "preview"));
    let before = article_count(&app).await;
    let (status, html) = e.post("/admin/articles", &fields).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h2>عنوان فرعي</h2>") && html.contains("<blockquote><p>قول مأثور</p></blockquote>"), "{html}");
    assert_eq!(article_count(&app).await, before, "preview saves nothing");

    let id = e.create(&article_fields("انتخابات البلدية في حمص", body, "published")).await;
    let article = app.store.article_by_id(id).await.unwrap().unwrap();
    assert_eq!(article.slug.as_str(), "انتخابات-البلدية-في-حمص", "slug generated from the Arabic headline");
    assert_eq!(article.tags.len(), 2);
    let (status, page) = app.get_text(&format!("/news/{}", article.slug)).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h2 id=\"s1\">عنوان فرعي</h2>"));
    // Filters.
    let other =
        e.create(&[("headline", "خبر رياضي"), ("body", "نص."), ("section", "رياضة"), ("status", "draft"), ("action", "save")]).await;
    let (_, list) = e.get("/admin/articles?status=published").await;
    assert!(list.contains("انتخابات البلدية") && !list.contains("خبر رياضي"));
    let sports = app.store.all_sections().await.unwrap().into_iter().find(|s| s.name == "رياضة").unwrap();
    let (_, list) = e.get(&format!("/admin/articles?section={}", sports.slug)).await;
    assert!(!list.contains("انتخابات البلدية") && list.contains("خبر رياضي"));
    let (_, list) = e.get("/admin/articles?q=%D8%A7%D9%84%D8%A8%D9%84%D8%AF%D9%8A%D9%87").await; // «البلديه»: normalized match
    assert!(list.contains("انتخابات البلدية") && !list.contains("خبر رياضي"), "{list}");
    // Empty values render empty (not «None»), so saving the form as shown works.
    let nosection = e.create(&[("headline", "خبر بلا قسم"), ("body", "نص."), ("status", "draft"), ("action", "save")]).await;
    let (_, form) = e.get(&format!("/admin/articles/{nosection}")).await;
    let (_, list) = e.get("/admin/articles").await;
    for page in [&form, &list] {
        assert!(!page.contains("None") && !page.contains("none<") && !page.contains("\"none\""), "{page}");
    }
    let resave = [
        ("headline", "خبر بلا قسم"),
        ("body", "نص."),
        ("status", "draft"),
        ("featured_src", ""),
        ("featured_alt", ""),
        ("version", "1"),
        ("action", "save"),
    ];
    assert_eq!(e.post(&format!("/admin/articles/{nosection}"), &resave).await.0, 303);
    // An edited slug that another article uses is refused.
    let taken = [
        ("headline", "خبر رياضي"),
        ("slug", "انتخابات-البلدية-في-حمص"),
        ("body", "نص."),
        ("status", "draft"),
        ("version", "1"),
        ("action", "save"),
    ];
    assert_eq!(e.post(&format!("/admin/articles/{other}"), &taken).await.0, 409);
    // Malformed requests get Arabic answers, not the framework's English ones.
    let (status, html) = e.get("/admin/articles/abc").await;
    assert_eq!(status, 404);
    assert!(html.contains("غير موجود"));
    let resp = app
        .client
        .post(format!("{}/admin/articles", app.base))
        .header("cookie", &e.cookie)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("النموذج المرسل غير مفهوم"));
    // Bad input is a 422 with the form kept.
    let (status, html) = e.post("/admin/articles", &[("headline", "  "), ("body", "نص."), ("status", "draft")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("العنوان فارغ"));
    let (status, html) =
        e.post("/admin/articles", &[("headline", "موعد خاطئ"), ("body", "نص."), ("status", "scheduled"), ("publish_at", "غدا")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("غير مفهوم"));
}
storage_test!(editor_form_preview_list_and_slug);

async fn writers_cannot_inject_markup(app: TestApp) {
    add_user(&app, "w@example.org", "كاتب", Role::Writer).await;
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let w = Admin::login(&app, "w@example.org").await;
    // An image at a `javascript:` address is refused outright (see images::image_addresses_are_parsed).
    let body =
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[رابط](javascript:alert(4))\n\n## <b onmouseover=alert(5)>عنوان</b>";
    let fields = [
        ("headline", "<script>alert(6)</script>"),
        ("lead", "\"><svg onload=alert(7)>"),
        ("body", body),
        ("tags", "<i>وسم</i>"),
        ("status", "draft"),
        ("action", "save"),
    ];
    let id = w.create(&fields).await;
    let mut preview = fields.to_vec();
    preview.pop();
    preview.push(("action", "preview"));
    let (_, editor_html) = w.post("/admin/articles", &preview).await;
    let e = Admin::login(&app, "e@example.org").await;
    let snapshot = app.store.current_snapshot(id).await.unwrap().unwrap();
    let mut publish: Vec<(&str, String)> = vec![
        ("headline", snapshot.headline.clone()),
        ("lead", snapshot.lead.clone()),
        ("body", body.to_string()),
        ("status", "published".into()),
        ("version", "1".into()),
        ("action", "save".into()),
    ];
    publish.push(("tags", "<i>وسم</i>".into()));
    let publish: Vec<(&str, &str)> = publish.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(e.post(&format!("/admin/articles/{id}"), &publish).await.0, 303);
    let (status, page) = app.get_text(&format!("/news/{id}")).await;
    assert_eq!(status, 308);
    let slug = app.store.article_by_id(id).await.unwrap().unwrap().slug;
    let (_, page2) = app.get_text(&format!("/news/{slug}")).await;
    for html in [&editor_html, &page2, &page] {
        let lower = html.to_lowercase();
        assert!(!lower.contains("<script>alert"), "no script tag");
        assert!(!lower.contains("<img src=x") && !lower.contains("<svg") && !lower.contains("<b onmouseover"), "no injected elements");
        assert!(!lower.contains("src=\"javascript:") && !lower.contains("href=\"javascript:"), "no javascript: urls");
    }
    assert!(page2.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "written text is shown, escaped");
}
storage_test!(writers_cannot_inject_markup);

async fn uploads(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let e = Admin::login(&app, "e@example.org").await;
    let (status, html) = e.upload("notes.png", "image/png", b"just some text, not an image", "وصف").await;
    assert_eq!(status, 422);
    assert!(html.contains("ليس صورة"), "{html}");
    let (status, html) = e.upload("photo.jpg", "image/jpeg", &png_bytes(), "وصف").await;
    assert_eq!(status, 422);
    assert!(html.contains("يدّعي أنه image/jpeg لكنه في الحقيقة image/png"), "{html}");
    let big = [png_bytes(), vec![0u8; 40 * 1024]].concat();
    let (status, html) = e.upload("big.png", "image/png", &big, "وصف").await;
    assert_eq!(status, 413);
    assert!(html.contains("أكبر من الحد"), "{html}");
    // A header alone is not an image.
    let (status, html) = e.upload("header.png", "image/png", &png_bytes(), "وصف").await;
    assert_eq!(status, 422);
    assert!(html.contains("تالف"), "{html}");
    let real = images::png_with_alpha(2, 1);
    let (status, html) = e.upload("big.png", "image/png", &real, "قاعة المجلس البلدي").await;
    assert_eq!(status, 201, "{html}");
    let at = html.find("![قاعة المجلس البلدي](/media/").unwrap();
    let markup = html[at..].split("</code>").next().unwrap().to_string();
    let src = markup.split("](").nth(1).unwrap().trim_end_matches(')').to_string();
    assert!(src.ends_with("-2x1.png"), "{src}");
    // The original is never served; pages show the re-encoded copy at its own width (never upscaled).
    assert_eq!(app.get(&src).await.status(), 404);
    let shown = src.replace(".png", "-2w.png");
    let resp = app.get(&shown).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(app.get("/media/..%2F..%2Fetc%2Fpasswd").await.status(), 404);

    // Alt text is required to publish.
    let without_alt = format!("فقرة.\n\n![]({src})");
    let (status, html) = e.post("/admin/articles", &article_fields("خبر بصورة بلا وصف", &without_alt, "published")).await;
    assert_eq!(status, 422);
    assert!(html.contains("نص بديل"));
    // The featured image follows the same rules, and leads the published page.
    let mut featured = article_fields("خبر بصورة رئيسية", "فقرة.", "published");
    featured.push(("featured_src", &src));
    let (status, html) = e.post("/admin/articles", &featured).await;
    assert_eq!(status, 422, "featured image without alt");
    assert!(html.contains("نص بديل"));
    featured.push(("featured_alt", "واجهة المبنى"));
    let id = e.create(&featured).await;
    let slug = app.store.article_by_id(id).await.unwrap().unwrap().slug;
    let (_, page) = app.get_text(&format!("/news/{slug}")).await;
    let body = &page[page.find("<div class=\"body\">").unwrap()..];
    assert!(
        body.trim_start_matches("<div class=\"body\">")
            .trim_start()
            .starts_with(&format!("<figure><img src=\"{shown}\" alt=\"واجهة المبنى\"")),
        "{body}"
    );
    let (_, form) = e.get(&format!("/admin/articles/{id}")).await;
    assert!(form.contains(&format!("name=\"featured_src\" value=\"{src}\"")) && form.contains("value=\"واجهة المبنى\""));
    let mut evil = article_fields("صورة رئيسية خبيثة", "فقرة.", "draft");
    evil.push(("featured_src", "javascript:alert(1)"));
    evil.push(("featured_alt", "x"));
    assert_eq!(e.post("/admin/articles", &evil).await.0, 422);

    let with_alt = format!("فقرة.\n\n{markup}\nتعليق الصورة");
    let id = e.create(&article_fields("خبر بصورة", &with_alt, "published")).await;
    let slug = app.store.article_by_id(id).await.unwrap().unwrap().slug;
    let (_, page) = app.get_text(&format!("/news/{slug}")).await;
    assert!(page.contains(&format!("src=\"{shown}\" alt=\"قاعة المجلس البلدي\" width=\"2\" height=\"1\" srcset=\"{shown} 2w\"")), "{page}");
}

fn small_upload_limit(config: &mut Config) {
    config.editor.max_upload_bytes = 32 * 1024;
}
storage_test!(uploads, small_upload_limit);

async fn scheduling(backend: Backend) {
    // A long interval: only the start-up pass and explicit passes run during the test.
    let Some(app) = spawn_app_with(backend, |c| c.editor.schedule_interval_secs = 3600).await else { return };
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let e = Admin::login(&app, "e@example.org").await;
    let tz = app.config.timezone();
    let local = |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string();
    let future = local(3 * 3600);
    let mut fields = article_fields("خبر مجدول للغد", "نص.", "scheduled");
    fields.push(("publish_at", &future));
    let later = e.create(&fields).await;

    // Missed while down: scheduled in the past, then the server (re)starts.
    let past = local(-600);
    let mut fields = article_fields("خبر فات موعده", "نص.", "scheduled");
    fields.push(("publish_at", &past));
    let missed = e.create(&fields).await;
    assert_eq!(app.get(&format!("/news/{missed}")).await.status(), 404, "not published before a pass");
    // A second server on the same database (its own data dir: one search-index writer each).
    let mut config = app.config.clone();
    config.data_dir = app.config.data_dir.join("restarted");
    let restarted = Application::build(config, app.store.clone()).await.unwrap();
    tokio::spawn(restarted.run_until(std::future::pending()));
    let mut published = false;
    for _ in 0..100 {
        if app.get(&format!("/news/{missed}")).await.status() == 308 {
            published = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(published, "the start-up pass publishes what was missed");
    assert_eq!(app.get(&format!("/news/{later}")).await.status(), 404, "the future one waits");
    let meta = app.store.article_meta(later).await.unwrap().unwrap();
    assert_eq!(meta.status, nashir::domain::Status::Scheduled);

    // Exactly once with several workers claiming at the same moment.
    sqlx::query("UPDATE articles SET published_at = 1 WHERE id = $1").bind(later).execute(app.store.pool()).await.unwrap();
    let mut due = vec![later];
    for i in 0..20 {
        let mut draft = nashir::domain::ArticleDraft::new(nashir::domain::Headline::parse(&format!("خبر مجدول رقم {i}")).unwrap());
        draft.lead = "نص.".into();
        draft.status = nashir::domain::Status::Scheduled;
        draft.published_at = chrono::DateTime::from_timestamp(100, 0);
        due.push(app.store.create_article(&draft, None).await.unwrap());
    }
    let now = chrono::Utc::now().timestamp();
    let claims = futures_join(&app, now).await;
    let mut claimed: Vec<i64> = claims.iter().flatten().copied().collect();
    claimed.sort();
    due.sort();
    assert_eq!(claimed, due, "every due article claimed exactly once: {claims:?}");
    let published_changes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE article_id = $1 AND kind = 'published'")
        .bind(later)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(published_changes, 1);
    assert_eq!(app.get(&format!("/news/{later}")).await.status(), 308);
}

/// Four workers on two separate connection pools (two "nodes") claim due articles at once.
async fn futures_join(app: &TestApp, now: i64) -> Vec<Vec<i64>> {
    let other_node = nashir::Store::connect(&app.config.database_url).await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let store = if i % 2 == 0 { app.store.clone() } else { other_node.clone() };
            tokio::spawn(async move { store.publish_due(now).await.unwrap() })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

storage_test!(scheduling(Backend));

async fn scheduler_runs_in_the_server(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.editor.schedule_interval_secs = 1).await else { return };
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let e = Admin::login(&app, "e@example.org").await;
    let id = e.create(&article_fields("خبر بعد ثانيتين", "نص.", "draft")).await;
    // Schedule two seconds ahead (the form has minute precision, so set the time directly).
    sqlx::query("UPDATE articles SET status = 'scheduled', published_at = $1 WHERE id = $2")
        .bind(chrono::Utc::now().timestamp() + 2)
        .bind(id)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(app.get(&format!("/news/{id}")).await.status(), 404);
    let mut status = 404;
    for _ in 0..80 {
        status = app.get(&format!("/news/{id}")).await.status().as_u16();
        if status == 308 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 308, "published by the running server");
}

storage_test!(scheduler_runs_in_the_server(Backend));

async fn api_tokens(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    add_user(&app, "w@example.org", "كاتب", Role::Writer).await;
    let e = Admin::login(&app, "e@example.org").await;
    let (status, html) = e.post("/admin/tokens", &[("name", "سكربت النشر")]).await;
    assert_eq!(status, 200);
    let at = html.find("nsr_").unwrap();
    let token = html[at..at + 68].to_string();
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(app.store.pool()).await.unwrap();
    assert!(!stored.contains(&token[4..]), "only a hash is stored");

    let api = |method: reqwest::Method, path: &str, token: Option<&str>, body: Option<serde_json::Value>| {
        let mut req = app.client.request(method, format!("{}/api/v1{path}", app.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap_or(serde_json::Value::Null))
        }
    };
    let article =
        serde_json::json!({ "headline": "خبر من سكربت", "body": "فقرة.\n\n## فرعي\n\nفقرة ثانية.", "section": "سياسة", "tags": ["آلي"] });
    let (status, json) = api(reqwest::Method::POST, "/articles", None, Some(article.clone())).await;
    assert_eq!((status, json["error"]["code"].as_str()), (401, Some("unauthorized")));
    let (status, json) = api(reqwest::Method::POST, "/articles", Some("nsr_wrong"), Some(article.clone())).await;
    assert_eq!(status, 401, "{json}");
    let (status, created) = api(reqwest::Method::POST, "/articles", Some(&token), Some(article.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "draft");
    let id = created["id"].as_i64().unwrap();
    let (status, json) = api(reqwest::Method::POST, "/articles", Some(&token), Some(serde_json::json!({ "headline": "" }))).await;
    assert_eq!((status, json["error"]["code"].as_str()), (422, Some("invalid_article")));

    // Read for editing (any status), change, write back with the version read.
    let (status, mut update) = api(reqwest::Method::GET, &format!("/articles/{id}/edit"), Some(&token), None).await;
    assert_eq!(status, 200, "{update}");
    assert_eq!((update["version"].as_i64(), update["body"].as_str()), (Some(1), Some("فقرة.\n\n## فرعي\n\nفقرة ثانية.")));
    update.as_object_mut().unwrap().remove("id");
    update["headline"] = "خبر من سكربت (محدّث)".into();
    let (status, json) = api(reqwest::Method::PUT, &format!("/articles/{id}"), Some(&token), Some(update.clone())).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["version"], 2);
    let (status, json) = api(reqwest::Method::PUT, &format!("/articles/{id}"), Some(&token), Some(update.clone())).await;
    assert_eq!((status, json["error"]["code"].as_str()), (409, Some("version_conflict")));

    let (status, json) = api(reqwest::Method::POST, &format!("/articles/{id}/publish"), Some(&token), None).await;
    assert_eq!((status, json["status"].as_str()), (200, Some("published")), "{json}");
    assert_eq!(app.get_json(&format!("/api/v1/articles/{id}")).await.0, 200);
    let (status, json) = api(reqwest::Method::POST, &format!("/articles/{id}/unpublish"), Some(&token), None).await;
    assert_eq!((status, json["status"].as_str()), (200, Some("draft")));
    assert_eq!(app.get_json(&format!("/api/v1/articles/{id}")).await.0, 404);

    // A writer's token cannot publish; nothing changes.
    let w = Admin::login(&app, "w@example.org").await;
    let (_, html) = w.post("/admin/tokens", &[("name", "كاتب")]).await;
    let at = html.find("nsr_").unwrap();
    let writer_token = html[at..at + 68].to_string();
    let version = app.store.article_meta(id).await.unwrap().unwrap().version;
    let (status, json) = api(reqwest::Method::POST, &format!("/articles/{id}/publish"), Some(&writer_token), None).await;
    assert_eq!((status, json["error"]["code"].as_str()), (403, Some("forbidden")));
    let mut published = article.clone();
    published["status"] = "published".into();
    let (status, _) = api(reqwest::Method::POST, "/articles", Some(&writer_token), Some(published)).await;
    assert_eq!(status, 403);
    assert_eq!(app.store.article_meta(id).await.unwrap().unwrap().version, version);

    // Revoked tokens stop working.
    let token_id: i64 =
        sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'سكربت النشر'").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(w.post(&format!("/admin/tokens/{token_id}/revoke"), &[]).await.0, 404, "not someone else's");
    assert_eq!(e.post(&format!("/admin/tokens/{token_id}/revoke"), &[]).await.0, 303);
    let (status, _) = api(reqwest::Method::POST, &format!("/articles/{id}/publish"), Some(&token), None).await;
    assert_eq!(status, 401);
}
storage_test!(api_tokens);

/// The OpenAPI document is generated from the routes (utoipa), equals the checked-in snapshot
/// (`NASHIR_UPDATE_SNAPSHOTS=1` rewrites it after a deliberate change), and tells the truth:
/// every documented operation is routed, no other method answers on its paths, every schema
/// it refers to exists, and responses have the documented fields.
async fn openapi_is_honest(app: TestApp) {
    use serde_json::Value;
    let resp = app.get("/api/v1/openapi.json").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served = resp.text().await.unwrap();
    assert_eq!(served, nashir::web::openapi::document(), "served as generated");
    let snapshot_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots/openapi.json");
    let pretty = served.clone() + "\n";
    if std::env::var("NASHIR_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&snapshot_path, &pretty).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot_path).expect("snapshot exists (NASHIR_UPDATE_SNAPSHOTS=1 writes it)");
    assert!(pretty == expected, "the OpenAPI document changed: review the diff and update the snapshot with NASHIR_UPDATE_SNAPSHOTS=1");
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));

    let methods = ["get", "post", "put", "delete", "patch"];
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/articles",
        "/api/v1/articles/{id_or_slug}",
        "/api/v1/articles/{id_or_slug}/publish",
        "/api/v1/search",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} documented");
    }
    for (path, ops) in paths {
        let ops = ops.as_object().unwrap();
        let concrete = format!("{}{}", app.base, path.replace("{id_or_slug}", "999999"));
        for method in methods {
            let resp = app.client.request(method.to_uppercase().parse().unwrap(), &concrete).send().await.unwrap();
            let status = resp.status().as_u16();
            if !ops.contains_key(method) {
                assert_eq!(status, 405, "{method} {path} answers but is not documented");
                continue;
            }
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_ne!(body["error"]["message"], "المسار غير موجود", "{method} {path} is documented but not routed");
            let op = &ops[method];
            assert!(
                op["responses"].as_object().is_some_and(|r| r.contains_key(&status.to_string())),
                "{method} {path} answered {status}, undocumented: {body}"
            );
            let writes = op["tags"][0] != "read";
            assert_eq!(op.get("security").is_some(), writes, "{method} {path}: security only on writes");
        }
    }
    // Every schema referred to exists.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    out.push(r.clone());
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 10);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{r} is not defined");
    }
    // Real responses have exactly the documented fields.
    let fields = |schema: &str| -> Vec<String> {
        let mut keys: Vec<String> = doc["components"]["schemas"][schema]["properties"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&app.get_json("/api/v1/articles").await.1), fields("ArticleList"));
    assert_eq!(keys(&app.get_json("/api/v1/search?q=x").await.1), fields("SearchResults"));
    let (status, error) = app.get_json("/api/v1/articles?limit=0").await;
    assert_eq!(status, 400);
    assert_eq!((keys(&error), keys(&error["error"])), (fields("Error"), fields("ErrorDetail")));
}
storage_test!(openapi_is_honest);

#[test]
fn cli_adds_users_with_the_password_on_stdin() {
    use std::io::Write;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(crate::helpers::spawn_app(Backend::Sqlite)).unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nashir"));
        cmd.arg("--data").arg(app.data_dir()).arg("--database").arg(&app.config.database_url).args(args);
        cmd.env_remove("NASHIR_CONFIG").env("RUST_LOG", "warn");
        cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["user", "add", "Owner@Example.org", "--role", "owner", "--name", "المالكة"], "a-long-password-1\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["user", "add", "owner@example.org", "--role", "owner"], "a-long-password-1\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("يوجد حساب"));
    let out = run(&["user", "add", "x@example.org", "--role", "king"], "a-long-password-1\n");
    assert!(!out.status.success());
    let out = run(&["user", "add", "y@example.org", "--role", "writer"], "short\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("قصيرة"));
    let users = rt.block_on(app.store.users()).unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!((users[0].email.as_str(), users[0].name.as_str(), users[0].role), ("owner@example.org", "المالكة", Role::Owner));
    let resp = rt.block_on(post_login(&app, "owner@example.org", "a-long-password-1"));
    assert_eq!(resp.status(), 303);
}
