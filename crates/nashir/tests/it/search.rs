use nashir::ingest::{self, ImportOptions};

use crate::helpers::{fixture_path, Backend, TestApp};
use crate::storage_test;

/// The demo newsroom plus the seed-shaped article written for these tests (Turkey and Russia,
/// «أردوغان» and «إردوغان», published 2021-12-03 unlike every demo article).
async fn newsroom_with_seed(app: &TestApp) -> i64 {
    nashir::demo::populate(&app.store).await.unwrap();
    let options = ImportOptions {
        section: Some("سياسة".into()),
        published_at: Some(ingest::parse_published_at("2021-12-03", app.config.timezone()).unwrap()),
        ..Default::default()
    };
    let id = ingest::import_text_file(&app.store, &fixture_path("seed-shaped.txt"), &options).await.unwrap().id;
    app.sync_search().await;
    id
}

fn encode(q: &str) -> String {
    percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn search_ids(app: &TestApp, query: &str) -> Vec<i64> {
    let (status, json) = app.get_json(&format!("/api/v1/search?q={}&limit=50", encode(query))).await;
    assert_eq!(status, 200, "{query}: {json}");
    json["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect()
}

async fn hamza_spellings_find_the_same_articles(app: TestApp) {
    let seed = newsroom_with_seed(&app).await;
    let plain = search_ids(&app, "اردوغان").await;
    assert!(plain.contains(&seed));
    assert_eq!(search_ids(&app, "إردوغان").await, plain);
    assert_eq!(search_ids(&app, "أردوغان").await, plain);
    assert_eq!(search_ids(&app, "أرْدُوغـــان").await, plain, "harakat and tatweel ignored");
    assert_eq!(search_ids(&app, "العلاقات التركيه الروسيه").await.first(), Some(&seed));
    // Attached و/ب/ال and ة/ه, ى/ي as readers type them.
    assert!(search_ids(&app, "والعلاقات").await.contains(&seed));
    assert!(search_ids(&app, "بالعلاقات الروسيه").await.contains(&seed));
    assert!(search_ids(&app, "موسكو").await.contains(&seed));
}
storage_test!(hamza_spellings_find_the_same_articles);

async fn phrases_exclusions_and_filters(app: TestApp) {
    let seed = newsroom_with_seed(&app).await;
    // A quoted phrase matches only words in that order.
    let phrase = search_ids(&app, "\"البحر الأسود\"").await;
    assert_eq!(phrase.len(), 1);
    assert!(!phrase.contains(&seed));
    let both = search_ids(&app, "روسيا").await;
    assert!(both.contains(&seed) && both.len() >= 2);
    let without = search_ids(&app, "روسيا -البحر").await;
    assert!(without.contains(&seed) && !without.contains(&phrase[0]), "exclusion");

    // Section and date filters.
    let (_, json) = app.get_json(&format!("/api/v1/search?q={}&section=economy", encode("زيت"))).await;
    assert!(json["hits"].as_array().unwrap().iter().all(|h| h["section"] == "economy"));
    assert!(json["total"].as_u64().unwrap() >= 1);
    let in_2021 = search_ids(&app, "روسيا").await.len();
    let (_, json) = app.get_json(&format!("/api/v1/search?q={}&from=2021-12-01&to=2021-12-31", encode("روسيا"))).await;
    assert_eq!(json["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![seed]);
    assert!(in_2021 > 1);

    // Mixed Arabic and Latin: the Latin word is searched too (case folded), not only the Arabic
    // half (demo articles say «نموذج» as well).
    let dir = tempfile::tempdir().unwrap();
    let latin = dir.path().join("latin.txt");
    std::fs::write(
        &latin,
        "مختبر في عمّان يطلق نموذج NashirBot للهجة الشامية\n\nأطلق مختبر ناشئ نموذجاً لغوياً سماه NashirBot.\n\nويفهم النموذج اللهجة الشامية.",
    )
    .unwrap();
    let bot = ingest::import_text_file(&app.store, &latin, &ImportOptions::default()).await.unwrap().id;
    app.sync_search().await;
    assert_eq!(search_ids(&app, "NASHIRBOT").await, vec![bot], "the Latin word alone");
    assert_eq!(search_ids(&app, "نموذج NashirBot").await.first(), Some(&bot), "both halves");
    assert!(!search_ids(&app, "نموذج").await.is_empty());
}
storage_test!(phrases_exclusions_and_filters);

async fn search_page_marks_words_and_helps(app: TestApp) {
    newsroom_with_seed(&app).await;
    let (status, html) = app.get_text(&format!("/search?q={}", encode("اردوغان"))).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(html.contains("<mark>أردوغان</mark>"), "the reader's word marked as written in the text");
    assert!(html.contains("نتيجة"));

    let (status, empty) = app.get_text("/search").await;
    assert_eq!(status, 200, "empty query is a prompt, not an error");
    assert!(empty.contains("اكتب كلمة"));
    let (status, none) = app.get_text(&format!("/search?q={}", encode("كلمةغيرموجودةابدا"))).await;
    assert_eq!(status, 200);
    assert!(none.contains("لا نتائج"));

    let long = "ا".repeat(501);
    let (status, body) = app.get_text(&format!("/search?q={long}")).await;
    assert_eq!(status, 400);
    assert!(body.contains("500"));
    let (status, json) = app.get_json(&format!("/api/v1/search?q={long}")).await;
    assert_eq!(status, 400);
    assert_eq!(json["error"]["code"], "invalid_query");

    for odd in ["\"بوتين", "« -", "AND OR NOT ( ) * ?", "-", "\"\"", "+++", "::", "بوتين\"سوريا"] {
        assert_eq!(app.get(&format!("/search?q={}", encode(odd))).await.status(), 200, "{odd}");
        assert_eq!(app.get(&format!("/api/v1/search?q={}", encode(odd))).await.status(), 200, "{odd}");
    }
    assert_eq!(app.get("/api/v1/search?q=x&from=yesterday").await.status(), 400);
    assert_eq!(app.get("/search?q=x&page=0").await.status(), 400);
}
storage_test!(search_page_marks_words_and_helps);

/// The search page's header (with the breaking bar) and its section list are kept between
/// searches, since every search is a new query: a write must show on the next search, and a
/// bar must go at its expiry although expiry writes nothing. Guards the kept header: with it
/// kept regardless of the epoch or the bar's expiry, each of the three checks fails.
async fn search_page_header_follows_writes_and_expiry(app: TestApp) {
    newsroom_with_seed(&app).await;
    let page = |q: &'static str| {
        let app = &app;
        async move {
            let (status, html) = app.get_text(&format!("/search?q={}", encode(q))).await;
            assert_eq!(status, 200, "{q}");
            html
        }
    };
    assert!(!page("روسيا").await.contains("عاجل لاختبار البحث"));
    let expires_at = nashir::domain::now_secs() + 6;
    let news = nashir::store::BreakingNews { text: "عاجل لاختبار البحث".into(), link: "/".into(), expires_at };
    app.store.set_breaking_news(Some(&news)).await.unwrap();
    assert!(page("موسكو").await.contains("عاجل لاختبار البحث"), "the bar set after the last search shows");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("space.txt");
    std::fs::write(&path, "مسبار يصل إلى المريخ\n\nوصل مسبار إلى مدار المريخ بعد رحلة طويلة.\n\nنص الخبر.").unwrap();
    let options = ImportOptions { section: Some("علوم الفضاء".into()), ..Default::default() };
    ingest::import_text_file(&app.store, &path, &options).await.unwrap();
    app.sync_search().await;
    assert!(page("المريخ").await.contains("علوم الفضاء"), "a section with its first article joins the filter list");

    assert!(nashir::domain::now_secs() < expires_at, "the machine was too slow to see the bar before it expired");
    while nashir::domain::now_secs() <= expires_at {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(!page("مسبار").await.contains("عاجل لاختبار البحث"), "the bar is gone at expiry");
}
storage_test!(search_page_header_follows_writes_and_expiry);

/// A hit is filled from the store (headline, address, section, date, snippet), and one whose
/// article was unpublished after the index last caught up is dropped, not shown with the
/// headline the index remembers (the index follows the store within a second).
async fn hits_come_from_the_store_and_only_published(app: TestApp) {
    let seed = newsroom_with_seed(&app).await;
    let search = app.search.clone();
    let query = nashir::search::query::parse("اردوغان");
    let request = nashir::search::SearchRequest { query: query.clone(), limit: 10, ..Default::default() };
    let mut results = search.search(&request).unwrap();
    // What the index answers until it catches up with the unpublishing below.
    let mut stale = results.clone();
    assert!(results.hits.iter().any(|h| h.id == seed));
    nashir::search::fill_hits(&app.store, &query, &mut results).await.unwrap();
    let hit = results.hits.iter().find(|h| h.id == seed).expect("the seed is published");
    let article = app.store.article_by_id(seed).await.unwrap().unwrap();
    assert_eq!((hit.slug.as_str(), hit.headline.as_str()), (article.slug.as_str(), article.headline.as_str()));
    assert_eq!(hit.section_name.as_deref(), Some("سياسة"));
    assert!(hit.published_at.is_some() && hit.snippet.contains("<mark>"), "{hit:?}");

    app.store.set_article_status(seed, nashir::domain::Status::Draft, None, None).await.unwrap();
    nashir::search::fill_hits(&app.store, &query, &mut stale).await.unwrap();
    assert!(stale.hits.iter().all(|h| h.id != seed), "a draft's headline is never shown");
}
storage_test!(hits_come_from_the_store_and_only_published);

/// Unpublishing (here: re-import as a draft is not possible, so delete through the store)
/// and updates reach the index through the change log.
async fn index_follows_updates(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    std::fs::write(&path, "خبر عن الفيضانات في المدينة\n\nضربت الفيضانات أحياء المدينة الشرقية.\n\nنص الخبر.").unwrap();
    ingest::import_text_file(&app.store, &path, &ImportOptions::default()).await.unwrap();
    app.sync_search().await;
    assert_eq!(search_ids(&app, "الفيضانات").await.len(), 1);
    std::fs::write(&path, "خبر عن الزلزال في المدينة\n\nضرب زلزال أحياء المدينة الشرقية.\n\nنص الخبر.").unwrap();
    ingest::import_text_file(&app.store, &path, &ImportOptions::default()).await.unwrap();
    app.sync_search().await;
    assert!(search_ids(&app, "الفيضانات").await.is_empty(), "old text gone");
    assert_eq!(search_ids(&app, "زلزال").await.len(), 1, "one document per article");
}
storage_test!(index_follows_updates);

/// A missing or corrupt index is thrown away and rebuilt from the store when the app starts.
#[test]
fn missing_or_corrupt_index_is_rebuilt_at_start() {
    crate::helpers::run_test(concat!(module_path!(), "::missing_or_corrupt_index_is_rebuilt_at_start"), async {
        let app = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
        let seed = newsroom_with_seed(&app).await;
        for damage in [None, Some(&b"{not json"[..])] {
            let mut config = app.config.clone();
            config.data_dir = app.config.data_dir.join(format!("other-{}", damage.is_some()));
            if let Some(bytes) = damage {
                std::fs::create_dir_all(config.index_dir()).unwrap();
                std::fs::write(config.index_dir().join("meta.json"), bytes).unwrap();
            }
            let second = nashir::Application::build(config, app.store.clone()).await.unwrap();
            let search = second.state().search.clone();
            assert!(search.is_building(), "a rebuild is due");
            // Built by the search follower once the server runs.
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let running = tokio::spawn(second.run_until(async {
                let _ = stopped.await;
            }));
            crate::helpers::index_built(&search).await;
            let request =
                nashir::search::SearchRequest { query: nashir::search::query::parse("اردوغان"), limit: 10, ..Default::default() };
            let results = search.search(&request).unwrap();
            assert!(results.hits.iter().any(|h| h.id == seed), "rebuilt index finds the seed");
            stop.send(()).unwrap();
            running.await.unwrap().unwrap();
        }
    });
}

/// A node started on an archive with a new index answers at once (issue 20: 17 s of silence
/// on the 20,000-article corpus, minutes on bigger ones) and builds the index behind it:
/// pages answer, `/search` either says it is being built or finds, `/readyz` turns 200 once
/// built, and then search finds the articles. The index is marked as building right after
/// `build()` (before, `build()` itself built it and the node listened only then).
async fn a_new_node_answers_while_its_index_is_built(app: TestApp) {
    let seed = newsroom_with_seed(&app).await;
    let slug = app.store.article_by_id(seed).await.unwrap().unwrap().slug.as_str().to_string();
    let mut config = app.config.clone();
    config.data_dir = app.config.data_dir.join("new-node");
    let node = nashir::Application::build(config, app.store.clone()).await.unwrap();
    let (search, metrics, base) = (node.state().search.clone(), node.state().metrics.clone(), node.base_url().to_string());
    assert!(search.is_building(), "a new index is built in the background, not before listening");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));
    let get = |path: String| app.client.get(format!("{base}{path}")).send();
    assert_eq!(get(format!("/news/{slug}")).await.unwrap().status(), 200, "pages answer whatever the index");
    assert_eq!(get("/".into()).await.unwrap().status(), 200);
    let response = get(format!("/search?q={}", encode("اردوغان"))).await.unwrap();
    match response.status().as_u16() {
        503 => assert_building_page(response).await,
        200 => assert!(response.text().await.unwrap().contains(&format!("/news/{slug}")), "built already: it finds the seed"),
        other => panic!("/search answered {other} while the index was built"),
    }
    let start = std::time::Instant::now();
    loop {
        let response = get("/readyz".into()).await.unwrap();
        let status = response.status().as_u16();
        let json: serde_json::Value = response.json().await.unwrap();
        if status == 200 {
            assert_eq!(json["ready"], true, "{json}");
            break;
        }
        assert_eq!((status, &json["ready"], &json["search"]), (503, &serde_json::json!(false), &serde_json::json!("building")), "{json}");
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "not ready within a minute");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!search.is_building());
    let found: serde_json::Value = get(format!("/api/v1/search?q={}", encode("اردوغان"))).await.unwrap().json().await.unwrap();
    assert!(found["hits"].as_array().unwrap().iter().any(|h| h["id"] == seed), "{found}");
    assert_eq!(metrics.search_index_builds.load(std::sync::atomic::Ordering::Relaxed), 1);
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
storage_test!(a_new_node_answers_while_its_index_is_built);

/// The answer of `/search` while the index is built: Arabic, 503, come back later, kept nowhere.
async fn assert_building_page(response: reqwest::Response) {
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "10");
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("البحث غير متاح لحظات: فهرس البحث يُبنى"), "{html}");
}

/// While a rebuild is due, searches are refused (page and API, each in its form), `/readyz`
/// says why, pages answer, and the change-log catch-up leaves the index alone (its commit
/// would publish a half-written rebuild); the rebuild's end lets everything resume.
async fn search_is_refused_while_the_index_is_built(app: TestApp) {
    let seed = newsroom_with_seed(&app).await;
    app.search.mark_building();
    assert_building_page(app.get(&format!("/search?q={}", encode("اردوغان"))).await).await;
    let response = app.get(&format!("/api/v1/search?q={}", encode("اردوغان"))).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "10");
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["error"]["code"], "search_unavailable", "{json}");
    let (status, json) = app.get_json("/readyz").await;
    assert_eq!((status, &json["ready"], &json["search"]), (503, &serde_json::json!(false), &serde_json::json!("building")), "{json}");
    assert_eq!(app.get("/").await.status(), 200);
    let slug = app.store.article_by_id(seed).await.unwrap().unwrap().slug.as_str().to_string();
    assert_eq!(app.get(&format!("/news/{slug}")).await.status(), 200, "pages answer as always");

    let options = ImportOptions { section: Some("سياسة".into()), ..Default::default() };
    let later =
        ingest::import_text(&app.store, "زلزال في الأناضول\n\nضرب زلزال قوي شرق الأناضول صباح اليوم.".as_bytes(), "quake", "test", &options)
            .await
            .unwrap()
            .id;
    let seq = app.search.seq();
    assert_eq!(app.search.catch_up(&app.store).await.unwrap(), 0, "no catch-up while building");
    assert_eq!(app.search.seq(), seq);

    assert!(app.search.rebuild(&app.store, |_, _| {}).await.unwrap() >= 2);
    assert!(!app.search.is_building(), "the rebuild's end clears the flag");
    let (status, _) = app.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert!(search_ids(&app, "زلزال").await.contains(&later));
    assert!(search_ids(&app, "اردوغان").await.contains(&seed));
}
storage_test!(search_is_refused_while_the_index_is_built);

/// A rebuild hands the index writer at most `REBUILD_QUEUED_DOCUMENTS` documents it has not
/// indexed yet. Before, it handed over each chunk of 500 at once into tantivy's queue of
/// 10,000: on the 20,000-article corpus that queue held about 90 MB of article text, the
/// peak of `nashir import`. Counted by the documents themselves (a document leaves the count
/// when the writer drops it), not by the limit's permits.
async fn a_rebuild_queues_a_bounded_number_of_documents(app: TestApp) {
    let n = nashir::search::REBUILD_QUEUED_DOCUMENTS * 3;
    let body = "فقرة طويلة عن الاقتصاد والسياسة والرياضة في المنطقة. ".repeat(40);
    let lines: String = (0..n)
        .map(|i| {
            serde_json::json!({ "id": format!("q{i}"), "title": format!("خبر رقم {i} عن المدينة"), "body": body, "category": "اقتصاد" })
                .to_string()
                + "\n"
        })
        .collect();
    let summary = nashir::ingest::bulk::import_archive(
        Some(&app.store),
        nashir::ingest::bulk::Format::Jsonl,
        Box::new(std::io::Cursor::new(lines.into_bytes())),
        Default::default(),
        &Default::default(),
        None,
        &mut |_, _| {},
    )
    .await;
    assert_eq!(summary.imported as usize, n, "{:?}", summary.failures);
    let total = app.search.rebuild(&app.store, |_, _| {}).await.unwrap();
    assert!(total as usize >= n);
    assert_eq!(app.search.num_docs() as usize, total as usize, "every article indexed");
    let most = app.search.most_queued_in_rebuild();
    assert!(most > 0 && most <= nashir::search::REBUILD_QUEUED_DOCUMENTS, "{most} documents queued at once");
    assert!(search_ids(&app, "الاقتصاد").await.len() > 1);
}
storage_test!(a_rebuild_queues_a_bounded_number_of_documents);
