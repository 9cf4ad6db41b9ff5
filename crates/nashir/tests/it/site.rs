use nashir::ingest::{self, ImportOptions};

use std::path::Path;

use crate::helpers::{fixture_path, seed_path, TestApp};
use crate::storage_test;

async fn import_file(app: &TestApp, file: &Path) -> i64 {
    let options = ImportOptions {
        section: Some("سياسة".into()),
        authors: vec!["فريق التحرير".into()],
        published_at: Some(ingest::parse_published_at("2021-12-03", app.config.timezone()).unwrap()),
        ..Default::default()
    };
    ingest::import_text_file(&app.store, file, &options).await.unwrap().id
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

async fn seed_article_page(app: TestApp) {
    let Some(seed) = seed_path() else { return };
    let id = import_file(&app, &seed).await;
    // The id address is stable and redirects to the readable one.
    let resp = app.get(&format!("/news/{id}")).await;
    assert_eq!(resp.status(), 308);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/news/%D8%A7%D8%AA%D8%B5%D8%A7%D9%84"), "{location}");

    let (status, html) = app.get_text(&location).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
    assert_eq!(count(&html, "<h1>"), 1);
    assert_eq!(count(&html, "<h1>اتصال “روتيني” بين أردوغان وبوتين.. هل من مستجدات حول سوريا؟</h1>"), 1, "headline once");
    assert!(html.contains(r#"<p class="lead">مباحثات هاتفية بين الرئيس الروسي"#));
    for sub in
        ["مباحثات روتينية", "الملف السوري.. بين التصعيد والهدوء", "توترات سابقة متعلقة بمقتل جنود أتراك في إدلب", "التقارب بين البلدين"]
    {
        assert!(html.contains(&format!("\">{sub}</h2>")), "subheading {sub} as <h2>");
    }
    assert_eq!(count(&html, "<h2 id="), 4);
    assert!(html.contains("الجمعة 3 كانون الأول/ ديسمبر 2021"), "Arabic date");
    assert_eq!(count(&html, "class=\"read-also\""), 2);
    assert!(!html.contains("هل أعجبك المحتوى"));
    assert!(html.contains("<blockquote>"));
    assert!(html.contains(r#"<link rel="canonical" href="http://127.0.0.1:"#));
    assert!(html.contains("فريق التحرير"));
}
storage_test!(seed_article_page);

/// The seed's page rules on the seed-shaped article written for these tests.
async fn fixture_article_page(app: TestApp) {
    let id = import_file(&app, &fixture_path("seed-shaped.txt")).await;
    let resp = app.get(&format!("/news/{id}")).await;
    assert_eq!(resp.status(), 308);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    // «أردوغان» percent-encoded: the readable address is built from the headline.
    assert!(location.starts_with("/news/%D8%A3%D8%B1%D8%AF%D9%88%D8%BA%D8%A7%D9%86"), "{location}");

    let (status, html) = app.get_text(&location).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
    assert_eq!(count(&html, "<h1>"), 1);
    assert_eq!(count(&html, "<h1>أردوغان وبوتين يبحثان هاتفياً ملفات المنطقة.. هل تتغير المعادلة في إدلب؟</h1>"), 1, "headline once");
    assert!(html.contains(r#"<p class="lead">بحث الرئيس التركي رجب طيب أردوغان"#));
    for sub in ["اتصال في توقيت حساس", "إدلب.. بين التهدئة والتصعيد", "خلافات سابقة حول القرم", "تعاون اقتصادي رغم الخلاف"]
    {
        assert!(html.contains(&format!("\">{sub}</h2>")), "subheading {sub} as <h2>");
    }
    assert_eq!(count(&html, "<h2 id="), 4);
    assert!(html.contains("الجمعة 3 كانون الأول/ ديسمبر 2021"), "Arabic date");
    assert_eq!(count(&html, "class=\"read-also\""), 2);
    assert!(!html.contains("هل أعجبك المحتوى"));
    assert!(html.contains("<blockquote>"));
    assert!(html.contains(r#"<link rel="canonical" href="http://127.0.0.1:"#));
    assert!(html.contains("فريق التحرير"));
}
storage_test!(fixture_article_page);

/// A read-also line links once an article with that title exists, even if it came later.
async fn read_also_links_to_later_article(app: TestApp) {
    let id = import_file(&app, &fixture_path("seed-shaped.txt")).await;
    let slug = app.store.article_by_id(id).await.unwrap().unwrap().slug;
    let link = "<a href=\"/news/قمة-سوتشي-ماذا-بقي-من-تفاهمات-إدلب\">";
    // Before: the page itself (not the id address's empty redirect), the title as plain text.
    let (status, before) = app.get_text(&format!("/news/{slug}")).await;
    assert_eq!(status, 200);
    assert_eq!(count(&before, "<span>قمة سوتشي"), 1, "not linked before the article exists");
    assert!(!before.contains(link));
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("summit.txt");
    std::fs::write(&other, "قمة سوتشي... ماذا بقي من تفاهمات إدلب\n\nالتقى الرئيسان في سوتشي لبحث الملفات العالقة بين البلدين.\n\nوتناول اللقاء الوضع في الشمال السوري.").unwrap();
    ingest::import_text_file(&app.store, &other, &ImportOptions::default()).await.unwrap();
    let (status, html) = app.get_text(&format!("/news/{slug}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(link), "read-also is linked");
    assert_eq!(count(&html, "<span>قمة سوتشي"), 0);
    assert_eq!(count(&html, "<span>مسيّرات"), 1, "the unknown one stays plain text");
}
storage_test!(read_also_links_to_later_article);

async fn home_and_section_pages(app: TestApp) {
    nashir::demo::populate(&app.store).await.unwrap();
    let (status, home) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(home.contains(r#"<html lang="ar" dir="rtl">"#));
    for section in ["سياسة", "اقتصاد", "رياضة", "ثقافة", "تكنولوجيا"] {
        assert!(home.contains(&format!(">{section}</a></h2>")), "home groups by section: {section}");
    }
    let (status, page) = app.get_text("/section/sport").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>رياضة</h1>"));
    assert!(page.contains("الشعلة يقلب تأخره"));
    assert!(!page.contains("إسطنبول تستضيف"), "only the section's articles");
}
storage_test!(home_and_section_pages);

async fn section_pagination(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let options = ImportOptions { section: Some("منوعات".into()), ..Default::default() };
    for i in 0..25 {
        let path = dir.path().join(format!("{i}.txt"));
        std::fs::write(&path, format!("خبر منوع رقم {i}\n\nمقدمة الخبر رقم {i}.\n\nنص الخبر.")).unwrap();
        ingest::import_text_file(&app.store, &path, &options).await.unwrap();
    }
    let slug = app.store.sections().await.unwrap()[0].slug.clone();
    let (_, page1) = app.get_text(&format!("/section/{slug}")).await;
    assert_eq!(count(&page1, "class=\"card\""), 20);
    assert!(page1.contains("rel=\"next\""));
    let (status, page2) = app.get_text(&format!("/section/{slug}?page=2")).await;
    assert_eq!(status, 200);
    assert_eq!(count(&page2, "class=\"card\""), 5);
    assert!(page2.contains("rel=\"prev\""));
    assert_eq!(app.get(&format!("/section/{slug}?page=3")).await.status(), 404);
    let (status, bad) = app.get_text(&format!("/section/{slug}?page=abc")).await;
    assert_eq!(status, 400);
    assert!(bad.contains("رقم الصفحة"));
    assert_eq!(app.get(&format!("/section/{slug}?page=-1")).await.status(), 400);
}
storage_test!(section_pagination);

async fn errors_are_arabic_pages(app: TestApp) {
    let (status, html) = app.get_text("/news/no-such-article").await;
    assert_eq!(status, 404);
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#) && html.contains("الصفحة غير موجودة"));
    assert_eq!(app.get("/news/999999").await.status(), 404);
    assert_eq!(app.get("/section/nothing").await.status(), 404);
    let (status, html) = app.get_text("/no/such/path").await;
    assert_eq!(status, 404);
    assert!(html.contains("الصفحة غير موجودة"));

    // The server refuses an oversized body from its declared length, before reading it.
    let status_line =
        raw_request(&app, &format!("POST /news/x HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", app.config.server.max_body_bytes + 1))
            .await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    assert_eq!(app.get("/healthz").await.status(), 200);
    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["database"], "ok");
}
storage_test!(errors_are_arabic_pages);

/// Sends raw bytes and returns the first line of the answer.
async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_string()
}
