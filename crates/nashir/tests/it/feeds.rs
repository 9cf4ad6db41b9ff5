use crate::helpers::TestApp;
use crate::storage_test;

async fn demo(app: &TestApp) {
    nashir::demo::populate(&app.store).await.unwrap();
}

async fn feeds_carry_arabic_articles(app: TestApp) {
    demo(&app).await;
    let resp = app.get("/feed.xml").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/rss+xml; charset=utf-8");
    let rss = resp.text().await.unwrap();
    assert!(rss.contains("<language>ar</language>"));
    assert_eq!(rss.matches("<item>").count(), 15);
    assert!(rss.contains("<title>عدّاءة من إربد تحطّم الرقم القياسي لسباق «درب الزيتون» الجبلي</title>"), "newest first, Arabic kept");
    assert!(rss.contains("<content:encoded>&lt;p&gt;"), "full text, escaped");
    assert!(rss.contains(&format!("<link>{}/news/%D8%B9", app.base)), "absolute, percent-encoded links");

    let atom = app.get_text("/feed.atom").await.1;
    assert!(atom.contains("xml:lang=\"ar\"") && atom.matches("<entry>").count() == 15);
    let (status, json) = app.get_json("/feed.json").await;
    assert_eq!(status, 200);
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["language"], "ar");
    assert_eq!(json["items"].as_array().unwrap().len(), 15);
    assert!(json["items"][0]["content_html"].as_str().unwrap().contains("<p>"));

    // Per section, author and tag.
    let sport = app.get_text("/feed/section/sport.xml").await.1;
    assert!(sport.contains("الشعلة يقلب تأخره") && !sport.contains("إسطنبول تستضيف"));
    let author_slug = app.store.authors().await.unwrap()[0].slug.clone();
    assert_eq!(app.get(&format!("/feed/author/{author_slug}.atom")).await.status(), 200);
    let tag_slug = app.store.tags().await.unwrap()[0].slug.clone();
    assert_eq!(app.get(&format!("/feed/tag/{tag_slug}.json")).await.status(), 200);
    assert_eq!(app.get("/feed/section/nothing.xml").await.status(), 404);
    assert_eq!(app.get("/feed/section/sport.pdf").await.status(), 404);

    // Pages announce their feeds.
    let home = app.get_text("/").await.1;
    assert!(home.contains(r#"<link rel="alternate" type="application/rss+xml""#));
    let section = app.get_text("/section/sport").await.1;
    assert!(section.contains(r#"href="/feed/section/sport.xml""#));
}
storage_test!(feeds_carry_arabic_articles);

async fn sitemaps_and_robots(app: TestApp) {
    demo(&app).await;
    let index = app.get_text("/sitemap.xml").await.1;
    assert!(index.contains("<sitemapindex"));
    assert!(index.contains("/sitemaps/articles-1.xml") && index.contains("/sitemaps/news.xml") && index.contains("/sitemaps/pages.xml"));
    let articles = app.get_text("/sitemaps/articles-1.xml").await.1;
    assert_eq!(articles.matches("<url>").count(), 15);
    assert!(articles.contains("<lastmod>"));
    let pages = app.get_text("/sitemaps/pages.xml").await.1;
    assert!(pages.contains("/section/sport</loc>"));
    assert_eq!(app.get("/sitemaps/articles-2.xml").await.status(), 404);
    // The demo's articles are dated before today: the news sitemap holds only the last two days.
    let news = app.get_text("/sitemaps/news.xml").await.1;
    assert!(news.contains("xmlns:news="));
    let robots = app.get_text("/robots.txt").await.1;
    assert!(robots.contains(&format!("Sitemap: {}/sitemap.xml", app.base)));
    assert!(robots.contains("Disallow: /admin/"));
}
storage_test!(sitemaps_and_robots);

async fn news_sitemap_lists_fresh_articles(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.txt");
    std::fs::write(&path, "خبر عاجل من دمشق اليوم\n\nمقدمة الخبر العاجل.\n\nتفاصيل الخبر.").unwrap();
    nashir::ingest::import_text_file(&app.store, &path, &Default::default()).await.unwrap();
    // The window is two days: one article just inside it, one just outside.
    for (name, headline, hours_ago) in [("inside.txt", "خبر من حلب قبل يوم ونصف", 36), ("outside.txt", "خبر قديم من حمص قبل ثلاثة أيام", 72)]
    {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{headline}\n\nمقدمة الخبر.\n\nتفاصيل الخبر.")).unwrap();
        let options = nashir::ingest::ImportOptions {
            published_at: Some(chrono::Utc::now() - chrono::Duration::hours(hours_ago)),
            ..Default::default()
        };
        nashir::ingest::import_text_file(&app.store, &path, &options).await.unwrap();
    }
    let news = app.get_text("/sitemaps/news.xml").await.1;
    assert!(news.contains("<news:title>خبر عاجل من دمشق اليوم</news:title>"));
    assert!(news.contains("<news:title>خبر من حلب قبل يوم ونصف</news:title>"), "{news}");
    assert!(!news.contains("خبر قديم من حمص"), "older than two days: {news}");
    assert!(app.get_text("/sitemaps/articles-1.xml").await.1.contains("/news/"), "the old one is in the full sitemap");
    assert!(news.contains("<news:language>ar</news:language>"));
    assert!(news.contains("<news:publication_date>"));
}
storage_test!(news_sitemap_lists_fresh_articles);

async fn article_structured_data(app: TestApp) {
    demo(&app).await;
    let (_, list) = app.get_json("/api/v1/articles?limit=1").await;
    let url = list["items"][0]["url"].as_str().unwrap().to_string();
    let html = app.get_text(url.strip_prefix(&app.base).unwrap()).await.1;
    let start = html.find(r#"<script type="application/ld+json">"#).unwrap() + r#"<script type="application/ld+json">"#.len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    let article = &data[0];
    assert_eq!(article["@type"], "NewsArticle");
    assert_eq!(article["inLanguage"], "ar");
    assert_eq!(article["mainEntityOfPage"]["@id"], url);
    assert_eq!(article["author"][0]["@type"], "Person");
    assert!(article["author"][0]["url"].as_str().unwrap().starts_with(&app.base));
    assert_eq!(article["publisher"]["@type"], "Organization");
    assert!(article["datePublished"].as_str().unwrap().starts_with("2026-11-28"));
    assert_eq!(data[1]["@type"], "BreadcrumbList");
    assert_eq!(data[1]["itemListElement"].as_array().unwrap().len(), 3);
    assert!(html.contains(r#"<meta property="og:type" content="article">"#));
    assert!(html.contains(&format!(r#"<meta property="og:url" content="{url}">"#)));
    assert!(html.contains(r#"<meta name="twitter:card""#));
    // Authors' pages exist and list their articles.
    let author = article["author"][0]["url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
    let (status, page) = app.get_text(&author).await;
    assert_eq!(status, 200, "{author}");
    assert!(page.contains(list["items"][0]["headline"].as_str().unwrap()));
}
storage_test!(article_structured_data);

async fn cached_pages_are_fresh_and_compressed(app: TestApp) {
    demo(&app).await;
    let first = app.get("/").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let body = first.text().await.unwrap();
    // Conditional request: 304 without a body.
    let resp = app.client.get(format!("{}/", app.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(resp.status(), 304);
    let last_modified = resp.headers()["last-modified"].to_str().unwrap().to_string();
    assert!(last_modified.ends_with(" GMT"));
    let resp = app.client.get(format!("{}/", app.base)).header("if-modified-since", &last_modified).send().await.unwrap();
    assert_eq!(resp.status(), 304, "If-Modified-Since with the page's own date");
    // A write elsewhere (a follower catching up, another node) moves the epoch and the page is
    // rendered again, here a second later, with the same bytes: it was not modified, so it keeps
    // its date and its ETag (this 304 was a 200 when Last-Modified followed the rendering).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.store.bump_epoch();
    let resp = app.client.get(format!("{}/", app.base)).header("if-modified-since", &last_modified).send().await.unwrap();
    assert_eq!(resp.status(), 304, "an unchanged page rendered again keeps its Last-Modified");
    assert_eq!(resp.headers()["last-modified"].to_str().unwrap(), last_modified);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    // Compressed variants decode to the same page.
    let resp = app.client.get(format!("{}/", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let mut decoded = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&resp.bytes().await.unwrap()[..]), &mut decoded).unwrap();
    assert_eq!(decoded, body);
    let resp = app.client.get(format!("{}/", app.base)).header("accept-encoding", "br, gzip").send().await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "br");
    // A new article shows at once: the cache is invalidated by the write.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.txt");
    std::fs::write(&path, "خبر جديد يظهر فوراً في الصفحة الرئيسية\n\nمقدمة.\n\nنص.").unwrap();
    nashir::ingest::import_text_file(&app.store, &path, &Default::default()).await.unwrap();
    let after = app.get("/").await;
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    assert!(after.text().await.unwrap().contains("خبر جديد يظهر فوراً"));
}
storage_test!(cached_pages_are_fresh_and_compressed);
