//! Inline marks end to end (issue 17): the WordPress and Ghost exports keep their links and
//! emphasis on our pages (and after a re-import over rows stored without marks), the admin
//! API takes and gives blocks with marks, and the page, the feed, the public API and the
//! newsletter digest all carry the same link.

use std::sync::Arc;

use nashir::domain::{Block, Mark, MarkKind};
use nashir::ingest::sample;
use nashir::newsletter::digest::IssueRequest;
use nashir::newsletter::Newsletter;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::storage_test;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    links: usize,
    bold: usize,
    italic: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        (self.links, self.bold, self.italic) = (self.links + o.links, self.bold + o.bold, self.italic + o.italic);
    }
}

/// `html` without every `open … close` span.
fn without(html: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        rest = rest[at..].find(close).map_or("", |end| &rest[at + end + close.len()..]);
    }
    out.push_str(rest);
    out
}

fn count_tags(html: &str) -> Counts {
    Counts {
        links: html.matches("<a href=\"http").count() + html.matches("<a href=\"/").count(),
        bold: html.matches("<strong>").count() + html.matches("<b>").count(),
        italic: html.matches("<em>").count() + html.matches("<i>").count(),
    }
}

/// What a post of the export marks: HTML tags, or Ghost's Lexical format bits and link nodes,
/// or Mobiledoc markups as they are opened. Headings and «اقرأ أيضاً» lines carry no marks in
/// our model (a heading is plain; a read-also line links by title), so they are left out.
fn source_counts(source: &str) -> Counts {
    if source.contains("\"root\"") {
        fn walk(node: &Value, c: &mut Counts) {
            match node["type"].as_str() {
                Some("heading") => return,
                Some("text") => {
                    let format = node["format"].as_u64().unwrap_or(0);
                    c.bold += usize::from(format & 1 != 0);
                    c.italic += usize::from(format & 2 != 0);
                }
                Some("link") => c.links += 1,
                _ => {}
            }
            node["children"].as_array().into_iter().flatten().for_each(|n| walk(n, c));
        }
        let mut c = Counts::default();
        walk(&serde_json::from_str::<Value>(source).unwrap()["root"], &mut c);
        return c;
    }
    if source.contains("\"sections\"") {
        let doc: Value = serde_json::from_str(source).unwrap();
        let mut c = Counts::default();
        for section in doc["sections"].as_array().unwrap() {
            for marker in section[2].as_array().into_iter().flatten() {
                for opened in marker[1].as_array().into_iter().flatten() {
                    match doc["markups"][opened.as_u64().unwrap() as usize][0].as_str() {
                        Some("a") => c.links += 1,
                        Some("strong" | "b") => c.bold += 1,
                        Some("em" | "i") => c.italic += 1,
                        _ => {}
                    }
                }
            }
        }
        return c;
    }
    let mut html = source.to_string();
    for (open, close) in [("<h2", "</h2>"), ("<h3", "</h3>"), ("<p>اقرأ أيضاً", "</p>"), ("<script", "</script>")] {
        html = without(&html, open, close);
    }
    count_tags(&html)
}

/// The marks shown in an article page's body (its own «اقرأ أيضاً» links left out).
async fn page_counts(app: &TestApp, slug: &str) -> Counts {
    let (status, page) = app.get_text(&nashir::render::paths::article(slug)).await;
    assert_eq!(status, 200, "{slug}");
    let start = page.find("<div class=\"body\">").expect("article body");
    let body = &page[start..start + page[start..].find("</div>").unwrap()];
    let body = without(&without(body, "<p class=\"read-also\">", "</p>"), "<aside", "</aside>");
    count_tags(&body)
}

async fn article_id(app: &TestApp, key: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM articles WHERE source_key = $1").bind(key).fetch_one(app.store.pool()).await.unwrap()
}

fn import(app: &TestApp, path: &std::path::Path) -> String {
    let out = app.nashir(&["import", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Every published post of the WordPress and Ghost exports: as many links, bold and italic
/// runs on our page as in the export. Then the rows are set back to bodies without marks
/// (as stored before marks existed) and a re-import of the same files brings the marks back.
async fn exports_keep_links_and_emphasis(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let wxr_path = dir.path().join("site.xml");
    let mut file = std::fs::File::create(&wxr_path).unwrap();
    let wxr = sample::write_wxr(&mut file, 12).unwrap();
    drop(file);
    let ghost_path = dir.path().join("ghost.json");
    let (export, ghost) = sample::ghost_export(8);
    std::fs::write(&ghost_path, serde_json::to_vec(&export).unwrap()).unwrap();
    let posts: Vec<(String, &sample::Expected)> = wxr
        .iter()
        .map(|e| (format!("wxr:old.example.org:{}", e.id), e))
        .chain(ghost.iter().map(|e| (format!("ghost:{}", e.id), e)))
        .filter(|(_, e)| e.status == "published")
        .collect();

    import(&app, &wxr_path);
    import(&app, &ghost_path);
    // Rows as an older version stored them: the same text, no marks.
    for (key, _) in &posts {
        let id = article_id(&app, key).await;
        let mut article = app.store.article_by_id(id).await.unwrap().unwrap();
        for block in &mut article.body {
            for (_, marks) in block.marked_texts_mut() {
                marks.clear();
            }
        }
        sqlx::query("UPDATE articles SET body_json = $1 WHERE id = $2")
            .bind(serde_json::to_string(&article.body).unwrap())
            .bind(id)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    let first = article_id(&app, &posts[0].0).await;
    assert!(app.store.article_by_id(first).await.unwrap().unwrap().body.iter().all(|b| b.marked_texts().iter().all(|(_, m)| m.is_empty())));
    assert!(import(&app, &wxr_path).contains("0 imported, 12 updated"));
    assert!(import(&app, &ghost_path).contains("0 imported, 8 updated"));

    let mut total = Counts::default();
    for (key, expected) in &posts {
        let want = source_counts(&expected.body_source);
        // By the stored slug: the two exports reuse slugs, and the second import gets a new one.
        let slug = app.store.article_by_id(article_id(&app, key).await).await.unwrap().unwrap().slug;
        let got = page_counts(&app, slug.as_str()).await;
        assert_eq!(got, want, "{key}: marks on the page against the export\n{}", expected.body_source);
        total += want;
    }
    // Not vacuous: the exports do carry links and emphasis of every kind.
    assert!(total.links >= 6 && total.bold >= 6 && total.italic >= 4, "{total:?}");
}
storage_test!(exports_keep_links_and_emphasis);

async fn editor_token(app: &TestApp) -> String {
    let user = app
        .store
        .create_user(
            "editor@example.org",
            "محررة",
            nashir::domain::Role::Editor,
            &nashir::accounts::hash_password("كلمة-مرور-طويلة-1").unwrap(),
        )
        .await
        .unwrap();
    let token = format!("nsr_{}", nashir::accounts::random_token());
    app.store.create_api_token(user, "marks", &nashir::accounts::token_hash(&token)).await.unwrap();
    token
}

async fn call(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}/api/v1{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// Blocks with marks through the admin API and back; bad marks are refused with
/// `invalid_marks`; the published page, the RSS feed, the public API and a digest carry the
/// link and the emphasis.
async fn marks_through_api_pages_feeds_and_digest(app: TestApp) {
    let token = editor_token(&app).await;
    let blocks = json!([
        {"type": "paragraph", "text": "قال الوزير إن التقرير الكامل منشور.", "marks": [
            {"start": 4, "end": 10, "mark": "bold"},
            {"start": 14, "end": 28, "mark": "link", "href": "https://source.example/report?a=1&b=2"}]},
        {"type": "list", "ordered": true, "items": [{"text": "أولاً", "marks": [{"start": 0, "end": 5, "mark": "italic"}]}, {"text": "ثانياً"}]},
        {"type": "quote", "text": "لن نتراجع", "intro": "وأضاف", "marks": [{"start": 0, "end": 2, "mark": "link", "href": "/news/x"}]},
    ]);
    let article = json!({"headline": "خبر بروابط", "lead": "مقدمة الخبر.", "blocks": blocks, "status": "published", "section": "سياسة"});

    // Hostile or broken marks: refused with a stable code, nothing saved.
    for (bad, why) in [
        (json!({"start": 0, "end": 3, "mark": "link", "href": "javascript:alert(1)"}), "javascript:"),
        (json!({"start": 0, "end": 3, "mark": "link", "href": "https://a.example/\"onclick=\"x"}), "a quote in href"),
        (json!({"start": 30, "end": 99, "mark": "bold"}), "out of range"),
        (json!({"start": 5, "end": 2, "mark": "italic"}), "reversed"),
    ] {
        let mut a = article.clone();
        a["blocks"][0]["marks"] = json!([bad]);
        let (status, answer) = call(&app, reqwest::Method::POST, "/articles", &token, Some(a)).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("invalid_marks")), "{why}: {answer}");
    }
    let (status, answer) =
        call(&app, reqwest::Method::POST, "/articles", &token, Some(json!({"headline": "خبر", "body": "انقر [هنا](javascript:alert(1))"})))
            .await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("invalid_marks")), "{answer}");
    assert!(app.store.all_article_ids().await.unwrap().is_empty());

    let (status, created) = call(&app, reqwest::Method::POST, "/articles", &token, Some(article)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, edit) = call(&app, reqwest::Method::GET, &format!("/articles/{id}/edit"), &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(edit["blocks"], blocks, "blocks come back as sent");
    assert_eq!(
        edit["body"],
        "قال **الوزير** إن [التقرير الكامل](https://source.example/report?a=1&b=2) منشور.\n\n1. *أولاً*\n2. ثانياً\n\nوأضاف:\n> [لن](/news/x) نتراجع"
    );
    // Sent back as read (markup and blocks together), it saves.
    let mut update = edit.clone();
    update.as_object_mut().unwrap().remove("id");
    let (status, saved) = call(&app, reqwest::Method::PUT, &format!("/articles/{id}"), &token, Some(update.clone())).await;
    assert_eq!(status, 200, "{saved}");
    // Markup alone, with marks written in it, gives the same blocks.
    update.as_object_mut().unwrap().remove("blocks");
    update["version"] = saved["version"].clone();
    let (status, saved) = call(&app, reqwest::Method::PUT, &format!("/articles/{id}"), &token, Some(update)).await;
    assert_eq!(status, 200, "{saved}");
    let stored = app.store.article_by_id(id).await.unwrap().unwrap();
    assert_eq!(
        stored.body[0],
        Block::Paragraph {
            text: "قال الوزير إن التقرير الكامل منشور.".into(),
            marks: vec![Mark::new(4, 10, MarkKind::Bold), Mark::link(14, 28, "https://source.example/report?a=1&b=2")]
        }
    );

    let link = "<a href=\"https://source.example/report?a=1&amp;b=2\" rel=\"noopener\">التقرير الكامل</a>";
    let (status, page) = app.get_text(&nashir::render::paths::article(stored.slug.as_str())).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("قال <strong>الوزير</strong> إن {link} منشور.")), "{page}");
    assert!(page.contains("<ol><li><em>أولاً</em></li><li>ثانياً</li></ol>"), "{page}");
    assert!(page.contains("<blockquote><p><a href=\"/news/x\">لن</a> نتراجع</p></blockquote>"), "internal links have no rel: {page}");

    let (_, rss) = app.get_text("/feed.xml").await;
    let escaped_link = link.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    assert!(rss.contains(&escaped_link) || rss.contains(link), "the feed item carries the link: {rss}");
    assert!(rss.contains(&format!("{}/news/x", app.base)), "site links are absolute in feeds");

    let (status, api) = app.get_json(&format!("/api/v1/articles/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(api["body"][0]["marks"], blocks[0]["marks"]);
    assert_eq!(api["body"][0]["html"], format!("قال <strong>الوزير</strong> إن {link} منشور."));
    assert_eq!(api["body"][2]["html"], format!("<a href=\"{}/news/x\">لن</a> نتراجع", app.base));

    let nl = Newsletter::new(app.store.clone(), Arc::new(app.config.clone()), &app.base).unwrap();
    let now = chrono::Utc::now().timestamp();
    let request = IssueRequest {
        frequency: "all",
        kind: "manual",
        period_start: Some(now - 3600),
        period_end: now + 60,
        slot_key: None,
        subject: None,
        enqueue: false,
    };
    let issue = nl.build_issue(&request).await.unwrap().expect("an issue");
    let issue = app.store.issue(issue).await.unwrap().unwrap();
    assert!(issue.body_html.contains(link), "{}", issue.body_html);
    assert!(issue.body_text.contains("قال الوزير إن التقرير الكامل (https://source.example/report?a=1&b=2) منشور."), "{}", issue.body_text);
}
storage_test!(marks_through_api_pages_feeds_and_digest);
