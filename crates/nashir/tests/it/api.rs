use nashir::ingest::{self, ImportOptions};

use crate::helpers::{fixture_path, TestApp};
use crate::storage_test;

async fn article_api(app: TestApp) {
    nashir::demo::populate(&app.store).await.unwrap();
    let options = ImportOptions {
        section: Some("سياسة".into()),
        published_at: Some(ingest::parse_published_at("2021-12-03", app.config.timezone()).unwrap()),
        ..Default::default()
    };
    let seed = ingest::import_text_file(&app.store, &fixture_path("seed-shaped.txt"), &options).await.unwrap();

    let (status, json) = app.get_json(&format!("/api/v1/articles/{}", seed.id)).await;
    assert_eq!(status, 200);
    assert_eq!(json["id"], seed.id);
    assert_eq!(json["headline"], "أردوغان وبوتين يبحثان هاتفياً ملفات المنطقة.. هل تتغير المعادلة في إدلب؟");
    let url = json["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/news/%D8%A3%D8%B1%D8%AF", app.base)), "absolute, percent-encoded url: {url}");
    assert_eq!(json["section"]["name"], "سياسة");
    assert_eq!(json["published_at"], "2021-12-03T10:00:00+00:00");
    assert_eq!(json["date"], "الجمعة 3 كانون الأول/ ديسمبر 2021");
    let body = json["body"].as_array().unwrap();
    assert_eq!(body.iter().filter(|b| b["type"] == "subheading").count(), 4);
    assert_eq!(body.iter().filter(|b| b["type"] == "read_also").count(), 2);

    // The same article by slug.
    let slug = json["slug"].as_str().unwrap().to_string();
    let (status, by_slug) = app.get_json(&format!("/api/v1/articles/{slug}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_slug["id"], seed.id);

    // The page at the API's url answers.
    let path = url.strip_prefix(&app.base).unwrap();
    assert_eq!(app.get(path).await.status(), 200);
}
storage_test!(article_api);

async fn list_api(app: TestApp) {
    nashir::demo::populate(&app.store).await.unwrap();
    let (status, all) = app.get_json("/api/v1/articles?limit=5").await;
    assert_eq!(status, 200);
    let total = all["total"].as_i64().unwrap();
    assert!(total >= 12);
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    let dates: Vec<&str> = all["items"].as_array().unwrap().iter().map(|i| i["published_at"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // The second page continues the first: the next five of the full list, in order.
    let (_, everything) = app.get_json("/api/v1/articles?limit=100").await;
    let ids = |page: &serde_json::Value| page["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(&everything).len() as i64, total);
    assert_eq!(ids(&all), ids(&everything)[..5]);
    let (_, page2) = app.get_json("/api/v1/articles?limit=5&offset=5").await;
    assert_eq!(ids(&page2), ids(&everything)[5..10]);
    assert_eq!(page2["total"], total);

    let (status, sport) = app.get_json("/api/v1/articles?section=sport&limit=100").await;
    assert_eq!(status, 200);
    let items = sport["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["section"]["name"] == "رياضة"));
    assert_eq!(sport["total"].as_i64().unwrap() as usize, items.len());
}
storage_test!(list_api);

async fn api_errors_have_stable_codes(app: TestApp) {
    for (path, status, code) in [
        ("/api/v1/articles/404404", 404, "not_found"),
        ("/api/v1/articles/no-such-slug", 404, "not_found"),
        ("/api/v1/articles?limit=abc", 400, "invalid_query"),
        ("/api/v1/articles?limit=0", 400, "invalid_query"),
        ("/api/v1/articles?limit=1000", 400, "invalid_query"),
        ("/api/v1/articles?offset=-3", 400, "invalid_query"),
        ("/api/v1/articles?bogus=1", 400, "invalid_query"),
        ("/api/v1/articles?section=nothing", 404, "not_found"),
        ("/api/v1/nothing", 404, "not_found"),
    ] {
        let (got, json) = app.get_json(path).await;
        assert_eq!(got, status, "{path}");
        assert_eq!(json["error"]["code"], code, "{path}");
        assert!(!json["error"]["message"].as_str().unwrap().is_empty());
    }
}
storage_test!(api_errors_have_stable_codes);
