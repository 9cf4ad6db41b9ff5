//! The block editor's server side: its bundle (served content-hashed, allowed by the admin's
//! CSP), the save handler reading `body_json`, the JSON upload answer, and autosave (working
//! copies apart from revisions, the conflict answer, who may autosave what).

use nashir::domain::{Block, Mark, MarkKind, Role};
use serde_json::{json, Value};

use super::images::jpeg;
use super::{add_user, Admin};
use crate::helpers::TestApp;
use crate::storage_test;

impl Admin<'_> {
    /// `POST /admin/articles/{id}/autosave` with this session's cookie and the JSON `body`.
    async fn autosave(&self, id: i64, body: &Value) -> (u16, Value) {
        let resp = self
            .app
            .client
            .post(format!("{}/admin/articles/{id}/autosave", self.app.base))
            .header("cookie", &self.cookie)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn draft(headline: &str) -> Vec<(&str, &str)> {
    vec![("headline", headline), ("body", "نص أول."), ("status", "draft"), ("action", "save")]
}

async fn version_of(app: &TestApp, id: i64) -> i64 {
    app.store.article_meta(id).await.unwrap().unwrap().version
}

async fn editor_saves_blocks(app: TestApp) {
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let w = Admin::login(&app, "w@example.org").await;
    let blocks = json!([
        { "type": "paragraph", "text": "فقرة أولى عن Nashir 2.0 في البلدة.",
          "marks": [{ "start": 0, "end": 4, "mark": "bold" }, { "start": 13, "end": 23, "mark": "link", "href": "https://example.org/n" }] },
        { "type": "subheading", "text": "عنوان فرعي" },
        { "type": "quote", "text": "الزيتون ذاكرة هذه الأرض", "intro": "وقال أحد المزارعين" },
        { "type": "paragraph", "text": "   " },
        { "type": "image", "src": "/media/0123456789abcdef0123-480x270.png", "alt": "الساحة" },
        { "type": "read_also", "title": "مقال سابق" }
    ])
    .to_string();
    // The textarea's markup says something else: the editor's blocks win when they are sent.
    let id = w
        .create(&[("headline", "خبر من المحرر"), ("body", "نص قديم"), ("body_json", &blocks), ("status", "draft"), ("action", "save")])
        .await;
    let body = app.store.current_snapshot(id).await.unwrap().unwrap().body;
    assert_eq!(body.len(), 5, "the empty paragraph is dropped: {body:?}");
    let Block::Paragraph { text, marks } = &body[0] else { panic!("{body:?}") };
    assert_eq!(text, "فقرة أولى عن Nashir 2.0 في البلدة.");
    assert_eq!(marks, &vec![Mark::new(0, 4, MarkKind::Bold), Mark::link(13, 23, "https://example.org/n")]);
    assert!(matches!(&body[2], Block::Quote { intro: Some(i), .. } if i == "وقال أحد المزارعين"));
    assert!(matches!(&body[3], Block::Image { src, .. } if src == "/media/0123456789abcdef0123-480x270.png"));
    assert!(matches!(&body[4], Block::ReadAlso { title } if title == "مقال سابق"));

    // The edit page hands the blocks to the editor as data, never as script.
    let (status, html) = w.get(&format!("/admin/articles/{id}")).await;
    assert_eq!(status, 200);
    let data = html.split("<script type=\"application/json\" id=\"editor-data\">").nth(1).unwrap().split("</script>").next().unwrap();
    let data: Value = serde_json::from_str(data).unwrap();
    assert_eq!(data["blocks"][2]["intro"], "وقال أحد المزارعين");
    assert_eq!(data["version"], version_of(&app, id).await);

    // The same rules as the markup: a `javascript:` image is refused in Arabic, nothing saved.
    let version = version_of(&app, id).await.to_string();
    let hostile = json!([{ "type": "image", "src": "javascript:alert(1)", "alt": "x" }]).to_string();
    let path = format!("/admin/articles/{id}");
    let (status, html) = w
        .post(&path, &[("headline", "خبر"), ("body_json", &hostile), ("status", "draft"), ("version", &version), ("action", "save")])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("رابط الصورة"), "{html}");
    let (status, html) = w
        .post(&path, &[("headline", "خبر"), ("body_json", "{not json"), ("status", "draft"), ("version", &version), ("action", "save")])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("تعذّرت قراءة نص المحرر"));
    let long = json!([{ "type": "paragraph", "text": "ا".repeat(200_001) }]).to_string();
    let (status, _) =
        w.post(&path, &[("headline", "خبر"), ("body_json", &long), ("status", "draft"), ("version", &version), ("action", "save")]).await;
    assert_eq!(status, 422, "the article's size limit holds for the editor's blocks too");
    assert_eq!(version_of(&app, id).await.to_string(), version);
}
storage_test!(editor_saves_blocks);

async fn bundle_is_served_and_allowed(app: TestApp) {
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let w = Admin::login(&app, "w@example.org").await;
    let page = app.client.get(format!("{}/admin/articles/new", app.base)).header("cookie", &w.cookie).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    let html = page.text().await.unwrap();
    let src = html.split("<script src=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(src.starts_with("/assets/editor-") && src.ends_with(".js"), "{src}");
    let asset = app.get(&src).await;
    assert_eq!(asset.status(), 200);
    assert_eq!(asset.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(asset.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(asset.headers()["vary"], "Accept-Encoding");
    let plain = asset.bytes().await.unwrap();
    assert!(std::str::from_utf8(&plain).unwrap().contains("body_json"));
    // Sent compressed to browsers that take it (the raw bundle is ~240 KB).
    for (accept, encoding) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
        let resp = app.client.get(format!("{}{src}", app.base)).header("accept-encoding", accept).send().await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], encoding);
        let body = resp.bytes().await.unwrap();
        assert!(body.len() * 2 < plain.len(), "{encoding}: {} of {} bytes", body.len(), plain.len());
    }
    assert_eq!(app.get("/assets/editor-0000000000000000.js").await.status(), 404, "only the current build's name is served");
}
storage_test!(bundle_is_served_and_allowed);

async fn uploads_answer_json_to_the_editor(app: TestApp) {
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let w = Admin::login(&app, "w@example.org").await;
    let upload = |bytes: Vec<u8>| {
        let boundary = "----nashirblocks";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
            w.csrf
        )
        .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        app.client
            .post(format!("{}/admin/media", app.base))
            .header("cookie", &w.cookie)
            .header("accept", "application/json")
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
    };
    let resp = upload(jpeg(320, 200)).await.unwrap();
    assert_eq!(resp.status(), 201);
    let answer: Value = resp.json().await.unwrap();
    assert!(answer["src"].as_str().unwrap().starts_with("/media/"), "{answer}");
    assert_eq!((answer["width"].as_u64(), answer["height"].as_u64()), (Some(320), Some(200)));
    assert_eq!(app.get(answer["preview"].as_str().unwrap()).await.status(), 200, "the editor can show it");
    let resp = upload(b"not an image".to_vec()).await.unwrap();
    assert_eq!(resp.status(), 422);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "invalid_upload");
}
storage_test!(uploads_answer_json_to_the_editor);

async fn autosave_keeps_a_working_copy(app: TestApp) {
    let writer = add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let w = Admin::login(&app, "w@example.org").await;
    let id = w.create(&draft("خبر يُكتب")).await;
    let version = version_of(&app, id).await;
    let blocks = json!([{ "type": "paragraph", "text": "نص لم يُحفظ بعد." }]).to_string();
    let body = json!({ "csrf": w.csrf, "version": version, "fields": { "headline": "خبر يُكتب الآن", "body_json": blocks, "evil": "x" } });
    let (status, answer) = w.autosave(id, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["version"], version);
    let saved = app.store.autosave(id, writer).await.unwrap().expect("the working copy is stored");
    assert_eq!(saved.base_version, version);
    let fields: Value = serde_json::from_str(&saved.fields).unwrap();
    assert_eq!(fields["headline"], "خبر يُكتب الآن");
    assert!(fields.get("evil").is_none(), "only the form's fields are kept");
    // Apart from the revisions: the article and its history are as they were.
    assert_eq!(version_of(&app, id).await, version);
    assert_eq!(app.store.revisions(id).await.unwrap().len(), 1);
    assert_eq!(app.store.current_snapshot(id).await.unwrap().unwrap().headline, "خبر يُكتب");

    // A second autosave replaces the first; the edit page offers it back.
    let body = json!({ "csrf": w.csrf, "version": version, "fields": { "headline": "العنوان الأخير" } });
    assert_eq!(w.autosave(id, &body).await.0, 200);
    let (_, html) = w.get(&format!("/admin/articles/{id}")).await;
    assert!(html.contains("العنوان الأخير"), "the edit page carries the working copy for «استعادة»");

    // Saving for real forgets the working copy.
    let v = version.to_string();
    let (status, _) = w
        .post(
            &format!("/admin/articles/{id}"),
            &[("headline", "العنوان الأخير"), ("body", "نص."), ("status", "draft"), ("version", &v), ("action", "save")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(app.store.autosave(id, writer).await.unwrap().is_none());
}
storage_test!(autosave_keeps_a_working_copy);

async fn autosave_reports_a_conflict(app: TestApp) {
    let writer = add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let w = Admin::login(&app, "w@example.org").await;
    let e = Admin::login(&app, "e@example.org").await;
    let id = w.create(&draft("خبر مشترك")).await;
    let opened = version_of(&app, id).await;
    // The editor saves while the writer is still typing.
    let v = opened.to_string();
    let (status, _) = e
        .post(
            &format!("/admin/articles/{id}"),
            &[("headline", "خبر مشترك"), ("body", "تعديل المحرر."), ("status", "draft"), ("version", &v), ("action", "save")],
        )
        .await;
    assert_eq!(status, 303);
    let body = json!({ "csrf": w.csrf, "version": opened, "fields": { "headline": "عمل الكاتبة" } });
    let (status, answer) = w.autosave(id, &body).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "version_conflict");
    assert!(answer["error"]["message"].as_str().unwrap().contains("حفظ شخص آخر"));
    // Her work is kept all the same, marked with the version she started from.
    let saved = app.store.autosave(id, writer).await.unwrap().unwrap();
    assert_eq!(saved.base_version, opened);
    assert!(saved.fields.contains("عمل الكاتبة"));
    assert_eq!(app.store.current_snapshot(id).await.unwrap().unwrap().body.len(), 1, "the article is the editor's");
}
storage_test!(autosave_reports_a_conflict);

async fn autosave_is_for_who_may_edit(app: TestApp) {
    let writer = add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let other = add_user(&app, "o@example.org", "كاتب آخر", Role::Writer).await;
    let editor = add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let w = Admin::login(&app, "w@example.org").await;
    let o = Admin::login(&app, "o@example.org").await;
    let e = Admin::login(&app, "e@example.org").await;
    let id = w.create(&draft("مسودة الكاتبة")).await;
    let version = version_of(&app, id).await;
    let fields = json!({ "headline": "محاولة" });

    // Another writer: not their draft.
    let (status, answer) = o.autosave(id, &json!({ "csrf": o.csrf, "version": version, "fields": fields })).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"]["code"], "forbidden");
    assert!(app.store.autosave(id, other).await.unwrap().is_none());
    // The author without her form's token, or with another session's.
    for csrf in ["", o.csrf.as_str()] {
        let (status, _) = w.autosave(id, &json!({ "csrf": csrf, "version": version, "fields": fields })).await;
        assert_eq!(status, 403);
    }
    assert!(app.store.autosave(id, writer).await.unwrap().is_none());
    // Not JSON, an article that does not exist, no session.
    let resp =
        app.client.post(format!("{}/admin/articles/{id}/autosave", app.base)).header("cookie", &w.cookie).body("x").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(w.autosave(999_999, &json!({ "csrf": w.csrf, "version": 1, "fields": fields })).await.0, 404);
    let resp = app.client.post(format!("{}/admin/articles/{id}/autosave", app.base)).json(&fields).send().await.unwrap();
    assert_eq!(resp.status(), 303, "no session: to the login page");
    // An editor may edit (and so autosave) a writer's draft; copies are per person.
    assert_eq!(e.autosave(id, &json!({ "csrf": e.csrf, "version": version, "fields": fields })).await.0, 200);
    assert!(app.store.autosave(id, editor).await.unwrap().is_some());
    assert!(app.store.autosave(id, writer).await.unwrap().is_none());
    // A writer's draft once published is no longer hers to change, nor to autosave.
    let v = version.to_string();
    let (status, _) = e
        .post(
            &format!("/admin/articles/{id}"),
            &[("headline", "مسودة الكاتبة"), ("body", "نص."), ("status", "published"), ("version", &v), ("action", "save")],
        )
        .await;
    assert_eq!(status, 303);
    let version = version_of(&app, id).await;
    assert_eq!(w.autosave(id, &json!({ "csrf": w.csrf, "version": version, "fields": fields })).await.0, 403);
}
storage_test!(autosave_is_for_who_may_edit);

async fn writing_aids_suggest_tags(app: TestApp) {
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    add_user(&app, "o@example.org", "كاتب آخر", Role::Writer).await;
    let w = Admin::login(&app, "w@example.org").await;
    let o = Admin::login(&app, "o@example.org").await;
    let body = "قال الخبير الاقتصادي سامر حداد إن الأسعار سترتفع. وأضاف حداد أن الحكومة تأخرت.";
    let id = w.create(&[("headline", "الأسعار ترتفع"), ("body", body), ("status", "draft"), ("action", "save")]).await;
    let (status, text) = w.get(&format!("/admin/articles/{id}/suggestions")).await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert!(answer["tags"].as_array().unwrap().iter().any(|t| t == "سامر حداد"), "{answer}");
    assert_eq!(answer["related"], json!([]), "pinning is for editors: writers get no related list");
    // A tag already on the article is not suggested again.
    let v = version_of(&app, id).await.to_string();
    let fields =
        [("headline", "الأسعار ترتفع"), ("body", body), ("tags", "سامر حداد"), ("status", "draft"), ("version", &v), ("action", "save")];
    assert_eq!(w.post(&format!("/admin/articles/{id}"), &fields).await.0, 303);
    let (_, text) = w.get(&format!("/admin/articles/{id}/suggestions")).await;
    assert!(!text.contains("سامر حداد"), "{text}");
    // Another writer's draft is not theirs to read.
    assert_eq!(o.get(&format!("/admin/articles/{id}/suggestions")).await.0, 403);
}
storage_test!(writing_aids_suggest_tags);

async fn preview_uses_the_public_template(app: TestApp) {
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    let w = Admin::login(&app, "w@example.org").await;
    let blocks = json!([
        { "type": "paragraph", "text": "خبر فيه كلمة عريضة ورابط.", "marks": [{ "start": 8, "end": 18, "mark": "bold" }, { "start": 20, "end": 25, "mark": "link", "href": "https://example.org/r" }] },
        { "type": "list", "ordered": false, "items": [{ "text": "بند أول" }, { "text": "بند ثان" }] }
    ])
    .to_string();
    let fields = [("headline", "معاينة كما يراها القارئ"), ("body_json", blocks.as_str()), ("status", "draft"), ("action", "preview_page")];
    let (status, html) = w.post("/admin/articles", &fields).await;
    assert_eq!(status, 200);
    // The reader's template (its `<article>` and the site's own stylesheet), not the admin's.
    assert!(html.contains("<article") && !html.contains("section class=\"preview\"") && !html.contains("id=\"editor\""), "{html}");
    assert!(html.contains("<strong>كلمة عريضة</strong>"), "{html}");
    assert!(html.contains("href=\"https://example.org/r\""));
    assert!(html.contains("<li>بند أول</li>") || html.contains("بند أول</li>"));
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM articles").fetch_one(app.store.pool()).await.unwrap(),
        0,
        "a preview stores nothing"
    );
}
storage_test!(preview_uses_the_public_template);
