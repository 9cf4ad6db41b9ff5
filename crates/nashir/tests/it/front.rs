//! The front page (issue 18): «الأكثر قراءة» counted from readers' requests (not crawlers'),
//! the breaking-news bar on cached pages until it expires, and themes changed on a running
//! server.

use std::time::Duration;

use nashir::config::Config;
use nashir::ingest::{self, ImportOptions};
use nashir::store::BreakingNews;

use crate::helpers::TestApp;
use crate::storage_test;

/// Publishes a short article and returns its path.
async fn publish(app: &TestApp, headline: &str) -> String {
    let text = format!("{headline}\n\nفقرة أولى من الخبر تكفي ليكون مقالاً منشوراً في الموقع.\n\nوفقرة ثانية تكمله.\n");
    let options = ImportOptions {
        section: Some("محليات".into()),
        authors: vec!["فريق التحرير".into()],
        published_at: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
        ..Default::default()
    };
    let imported = ingest::import_text(&app.store, text.as_bytes(), &format!("test:{headline}"), "test", &options).await.unwrap();
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", imported.id)).await;
    reqwest::Url::parse(json["url"].as_str().unwrap()).unwrap().path().to_string()
}

fn fast_most_read(config: &mut Config) {
    config.site.most_read_interval_secs = 1;
}

/// The «الأكثر قراءة» block of the home page: the headlines in order.
fn most_read_list(html: &str) -> Vec<String> {
    let Some(start) = html.find("id=\"most-read-h\"") else { return Vec::new() };
    let block = &html[start..html[start..].find("</aside>").map_or(html.len(), |end| start + end)];
    block
        .split("<li><a href=\"")
        .skip(1)
        .filter_map(|item| item.split_once("\">").and_then(|(_, rest)| rest.split_once("</a>")).map(|(h, _)| h.to_string()))
        .collect()
}

async fn most_read_orders_articles_by_readers_views(app: TestApp) {
    let first = publish(&app, "خبر قرأه قارئ واحد").await;
    let second = publish(&app, "خبر قرأه ثلاثة قراء").await;
    let crawled = publish(&app, "خبر زاره زاحف محركات البحث فقط").await;
    // Repeated requests are served by the page cache after the first: hits count too.
    for _ in 0..3 {
        assert_eq!(app.get(&second).await.status(), 200);
    }
    assert_eq!(app.get(&first).await.status(), 200);
    for _ in 0..10 {
        let resp = app
            .client
            .get(format!("{}{crawled}", app.base))
            .header("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    // The counts reach the database in the next batch and the lists come back from it.
    let mut list = Vec::new();
    for _ in 0..100 {
        list = most_read_list(&app.get_text("/").await.1);
        if list.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(list, vec!["خبر قرأه ثلاثة قراء".to_string(), "خبر قرأه قارئ واحد".to_string()], "the crawler's article is not listed");
}
storage_test!(most_read_orders_articles_by_readers_views, fast_most_read);

/// Waits until no background task (search and related followers) has moved the page cache's
/// epoch for a while, so what the test then sees in the cache stays there.
async fn settle(app: &TestApp) {
    loop {
        let epoch = app.store.epoch();
        tokio::time::sleep(Duration::from_millis(800)).await;
        if app.store.epoch() == epoch {
            return;
        }
    }
}

async fn breaking_bar_shows_on_cached_pages_and_goes_at_expiry(app: TestApp) {
    let path = publish(&app, "خبر عادي في يوم عادي").await;
    let expires_at = nashir::domain::now_secs() + 6;
    let news = BreakingNews {
        text: "عاجل للاختبار: انقطاع الكهرباء في المدينة".into(), link: path.clone(), expires_at
    };
    app.store.set_breaking_news(Some(&news)).await.unwrap();
    // The followers hear of the article and the bar and move the epoch; once they are done, the
    // page is rendered once and served from the cache.
    settle(&app).await;
    let first = app.get(&path).await;
    let etag = first.headers()["etag"].clone();
    let html = first.text().await.unwrap();
    assert!(html.contains("عاجل للاختبار: انقطاع الكهرباء في المدينة"), "the bar is on the page");
    let epoch = app.store.epoch();
    let again = app.get(&path).await;
    assert_eq!(again.headers()["etag"], etag, "served from the cache");
    assert!(again.text().await.unwrap().contains("عاجل للاختبار"));
    let (_, api) = app.get_json("/api/v1/breaking").await;
    assert_eq!(api["breaking"]["text"], "عاجل للاختبار: انقطاع الكهرباء في المدينة");
    assert!(nashir::domain::now_secs() < expires_at, "the machine was too slow to see the bar before it expired");
    // Expiry writes nothing: no epoch moves. The cached page must still not outlive the bar.
    while nashir::domain::now_secs() <= expires_at {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.store.epoch(), epoch, "nothing invalidated the cache meanwhile: the expiry alone must drop the page");
    let (_, html) = app.get_text(&path).await;
    assert!(!html.contains("عاجل للاختبار"), "the bar is gone at expiry");
    let (_, api) = app.get_json("/api/v1/breaking").await;
    assert!(api["breaking"].is_null(), "{api}");
}
storage_test!(breaking_bar_shows_on_cached_pages_and_goes_at_expiry);

async fn pinned_lead_story_leads_the_home_page(app: TestApp) {
    let older = publish(&app, "الخبر الذي ثبّته المحرر").await;
    publish(&app, "خبر أحدث منه").await;
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", older.trim_start_matches("/news/"))).await;
    let id = json["id"].as_i64().unwrap();
    let lead = |html: &str| {
        html.split("class=\"lead-story\"").nth(1).map(|s| s.split("</section>").next().unwrap_or("").to_string()).unwrap_or_default()
    };
    assert!(lead(&app.get_text("/").await.1).contains("خبر أحدث منه"), "without a pin, the newest leads");
    assert!(app.store.pin_lead(Some(id)).await.unwrap());
    assert!(lead(&app.get_text("/").await.1).contains("الخبر الذي ثبّته المحرر"), "the pin leads");
}
storage_test!(pinned_lead_story_leads_the_home_page);

async fn theme_overrides_a_template_and_a_colour_on_a_running_server(app: TestApp) {
    let path = publish(&app, "خبر تحت قالب جديد").await;
    let (_, before) = app.get_text("/").await;
    assert!(!before.contains("قالب-غرفة-الأخبار") && !before.contains("#123456"));
    // Start from the exported built-in theme, as docs/themes.md says.
    let export = app.data_dir().join("exported");
    let out = app.nashir(&["theme", "export", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let css = std::fs::read_to_string(export.join("style.css")).unwrap().replace("--accent:#0b4f8a", "--accent:#123456");
    let home =
        std::fs::read_to_string(export.join("home.html")).unwrap().replace("{% block main %}", "{% block main %}<p>قالب-غرفة-الأخبار</p>");
    let theme = app.data_dir().join("theme");
    std::fs::create_dir_all(&theme).unwrap();
    std::fs::write(theme.join("style.css"), css).unwrap();
    std::fs::write(theme.join("home.html"), home).unwrap();
    // A broken template: reported to the operator, and the built-in one keeps serving.
    std::fs::write(theme.join("article.html"), "{% extends \"base.html\" %}{% block main %}{% if %}{% endblock %}").unwrap();
    let mut after = String::new();
    for _ in 0..100 {
        after = app.get_text("/").await.1;
        if after.contains("قالب-غرفة-الأخبار") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(after.contains("<p>قالب-غرفة-الأخبار</p>"), "the theme's home.html is used");
    assert!(after.contains("--accent:#123456"), "the theme's colour is used");
    let (status, article) = app.get_text(&path).await;
    assert_eq!(status, 200);
    assert!(article.contains("خبر تحت قالب جديد"), "the built-in article.html serves while the theme's is broken");
    // Removing the theme file brings the built-in one back.
    std::fs::remove_file(theme.join("home.html")).unwrap();
    for _ in 0..100 {
        after = app.get_text("/").await.1;
        if !after.contains("قالب-غرفة-الأخبار") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!after.contains("قالب-غرفة-الأخبار"));
}
storage_test!(theme_overrides_a_template_and_a_colour_on_a_running_server);
