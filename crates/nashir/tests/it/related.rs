//! «اقرأ أيضاً»: suggestions, near-duplicates, entities, editors' pin/remove, pages and API.

use nashir::config::Config;
use nashir::domain::{ArticleDraft, Block, Headline};
use nashir::ingest::{self, ImportOptions};
use nashir::related;
use nashir::Store;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{fixture_path, fresh_database, Backend, TestApp};
use crate::storage_test;

const TOKEN: &str = "test-admin-token-0123456789abcdef";

/// Original test articles: three on Russian–Turkish talks, three on football, one on olive oil.
const ARTICLES: &[(&str, &[&str])] = &[
    (
        "بوتين وأردوغان يبحثان الملف السوري في اتصال هاتفي",
        &[
            "بحث الرئيس الروسي فلاديمير بوتين مع الرئيس التركي رجب طيب أردوغان في اتصال هاتفي الوضع في سوريا وإدلب.",
            "وقال الكرملين إن الرئيسين اتفقا على مواصلة التنسيق في الملف السوري وملف ليبيا.",
            "وأشار البيان إلى أن موسكو وأنقرة تعملان على تهدئة الأوضاع في إدلب.",
            "وكان وزير الخارجية الروسي سيرغي لافروف قد أعلن عن الاتصال قبل يومين.",
            "وتشهد العلاقات الروسية التركية تقارباً في السنوات الأخيرة.",
        ],
    ),
    (
        "لافروف: محادثات مرتقبة بين موسكو وأنقرة حول إدلب",
        &[
            "قال وزير الخارجية الروسي سيرغي لافروف إن محادثات مرتقبة ستجمع موسكو وأنقرة حول الوضع في إدلب السورية.",
            "وأضاف لافروف أن روسيا وتركيا تتفقان على ضرورة التهدئة في سوريا.",
            "وأكد أن بوتين وأردوغان سيبحثان الملف في لقاء قريب.",
        ],
    ),
    (
        "أردوغان يزور موسكو لبحث التعاون مع روسيا",
        &[
            "يزور الرئيس التركي رجب طيب أردوغان العاصمة الروسية موسكو الأسبوع المقبل للقاء نظيره فلاديمير بوتين.",
            "ويبحث الرئيسان التعاون الاقتصادي والغاز والوضع في سوريا وليبيا وأوكرانيا.",
            "وقالت أنقرة إن الزيارة تأتي في إطار التقارب التركي الروسي.",
        ],
    ),
    (
        "فريق الشعلة يفوز بالدوري بعد مباراة مثيرة",
        &[
            "فاز فريق الشعلة ببطولة الدوري بعد تغلبه على منافسه بهدفين مقابل هدف في المباراة النهائية.",
            "وسجل المهاجم سامر الخطيب هدف الفوز في الدقيقة الأخيرة من المباراة.",
            "وقال المدرب إن اللاعبين قدموا مباراة كبيرة أمام الجماهير.",
        ],
    ),
    (
        "المدرب: الفوز بالدوري ثمرة عمل الفريق طوال الموسم",
        &[
            "أكد مدرب فريق الشعلة أن الفوز بالدوري جاء ثمرة عمل اللاعبين طوال الموسم.",
            "وأضاف أن الفريق سيستعد للبطولة القارية بعد عطلة قصيرة للاعبين.",
            "وأشاد بالمهاجم الذي سجل هدف الفوز في المباراة النهائية.",
        ],
    ),
    (
        "جماهير الشعلة تحتفل بلقب الدوري في الشوارع",
        &[
            "احتفلت جماهير فريق الشعلة في الشوارع بعد الفوز بلقب الدوري للمرة الثالثة.",
            "ورفع المشجعون أعلام الفريق وهتفوا للاعبين والمدرب حتى ساعات الفجر.",
            "وسجل الفريق هذا الموسم أكبر عدد من الأهداف في تاريخ الدوري.",
        ],
    ),
    (
        "موسم الزيتون يبدأ مبكراً في القرى الجبلية",
        &[
            "بدأ المزارعون في القرى الجبلية قطاف الزيتون مبكراً هذا العام بسبب الأمطار.",
            "ويتوقع المزارعون إنتاجاً جيداً من زيت الزيتون رغم ارتفاع تكاليف النقل.",
            "وتباع صفيحة الزيت في الأسواق المحلية بأسعار أعلى من العام الماضي.",
        ],
    ),
];

fn draft(key: &str, headline: &str, paragraphs: &[&str]) -> ArticleDraft {
    let mut d = ArticleDraft::new(Headline::parse(headline).unwrap());
    d.body = paragraphs.iter().map(|p| Block::paragraph(*p)).collect();
    d.source_key = Some(format!("test:{key}"));
    d.published_at = Some(chrono::Utc::now());
    d
}

/// Stores the test articles (refreshing each as the importer does); returns their ids.
async fn newsroom(store: &Store) -> Vec<i64> {
    let mut ids = Vec::new();
    for (i, (headline, paragraphs)) in ARTICLES.iter().enumerate() {
        let (id, _) = store.upsert_article(&draft(&i.to_string(), headline, paragraphs)).await.unwrap();
        related::refresh(store, id).await.unwrap();
        ids.push(id);
    }
    ids
}

/// The article's API answer once its suggestions satisfy `ok`: the server's related follower
/// refills lists after editors' changes, within a second or so.
async fn refilled(app: &TestApp, id: i64, ok: impl Fn(&[i64]) -> bool) -> Value {
    for _ in 0..100 {
        let (_, json) = app.get_json(&format!("/api/v1/articles/{id}")).await;
        if ok(&related_ids(&json)) {
            return json;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("suggestions of {id} were not refilled within 10 s");
}

fn related_ids(json: &Value) -> Vec<i64> {
    json["related"].as_array().expect("related array").iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

async fn api_returns_related_and_entities(app: TestApp) {
    let ids = newsroom(&app.store).await;
    let (status, json) = app.get_json(&format!("/api/v1/articles/{}", ids[0])).await;
    assert_eq!(status, 200);
    let rel = related_ids(&json);
    assert!(!rel.contains(&ids[0]), "never itself: {rel:?}");
    assert_eq!(&rel[..2].iter().copied().collect::<std::collections::BTreeSet<_>>(), &[ids[1], ids[2]].into_iter().collect(), "{json:#}");
    let first = &json["related"][0];
    assert!(first["headline"].is_string());
    assert!(first["url"].as_str().unwrap().starts_with(&format!("{}/news/", app.base)));
    // Football articles relate to each other, older ones gain the newer ones too.
    let (_, sport) = app.get_json(&format!("/api/v1/articles/{}", ids[3])).await;
    let rel = related_ids(&sport);
    assert!(rel[..2].contains(&ids[4]) && rel[..2].contains(&ids[5]), "{rel:?} vs {ids:?}");

    let entities = json["entities"].as_array().unwrap();
    let names: Vec<&str> = entities.iter().map(|e| e["name"].as_str().unwrap()).collect();
    for name in ["فلاديمير بوتين", "رجب طيب أردوغان", "سيرغي لافروف", "سوريا", "إدلب", "موسكو"]
    {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(entities.iter().all(|e| e["url"].as_str().unwrap().contains("/topics/")));
    let putin = entities.iter().find(|e| e["name"] == "فلاديمير بوتين").unwrap();
    assert_eq!(putin["kind"], "person");
}
storage_test!(api_returns_related_and_entities);

async fn near_duplicates_are_linked_and_never_suggested(app: TestApp) {
    let ids = newsroom(&app.store).await;
    let (headline, paragraphs) = ARTICLES[0];
    // The same wire story from another outlet: a dateline and a closing line added.
    let mut copy: Vec<String> = paragraphs.iter().map(|p| p.to_string()).collect();
    copy[0] = format!("موسكو - {}", copy[0]);
    copy.push("المصدر: وكالات".to_string());
    let copy_refs: Vec<&str> = copy.iter().map(String::as_str).collect();
    let (dup, _) = app.store.upsert_article(&draft("copy", &format!("{headline} (محدّث)"), &copy_refs)).await.unwrap();
    related::refresh(&app.store, dup).await.unwrap();

    assert_eq!(nashir::store::related::duplicates_of(&app.store, dup).await.unwrap(), vec![ids[0]]);
    assert_eq!(nashir::store::related::duplicates_of(&app.store, ids[0]).await.unwrap(), vec![dup]);
    for id in [ids[0], dup] {
        let (_, json) = app.get_json(&format!("/api/v1/articles/{id}")).await;
        let rel = related_ids(&json);
        assert!(!rel.contains(&ids[0]) && !rel.contains(&dup), "{id}: {rel:?}");
    }
    // Bulk recomputation agrees.
    assert_eq!(related::refresh_all(&app.store).await.unwrap(), ARTICLES.len() + 1);
    assert_eq!(nashir::store::related::duplicates_of(&app.store, dup).await.unwrap(), vec![ids[0]]);
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", ids[1])).await;
    let rel = related_ids(&json);
    assert!(rel.contains(&ids[0]) != rel.contains(&dup), "one copy of the story, not both: {rel:?}");
}
storage_test!(near_duplicates_are_linked_and_never_suggested);

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = app.client.post(format!("{}{path}", app.base)).header("content-type", "application/json").body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn editors_pin_and_remove(app: TestApp) {
    let ids = newsroom(&app.store).await;
    let path = format!("/api/v1/articles/{}/related", ids[0]);
    // Without the token, or with a wrong one, nothing changes.
    let (status, body) = post(&app, &path, None, &json!({ "remove": ids[1] }).to_string()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(post(&app, &path, Some("wrong"), &json!({ "remove": ids[1] }).to_string()).await.0, 403);

    let (status, body) = post(&app, &path, Some(TOKEN), &json!({ "remove": ids[1] }).to_string()).await;
    assert_eq!(status, 200, "{body}");
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", ids[0])).await;
    assert!(!related_ids(&json).contains(&ids[1]));
    // A removal survives recomputation.
    related::refresh(&app.store, ids[0]).await.unwrap();
    related::refresh_all(&app.store).await.unwrap();
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", ids[0])).await;
    assert!(!related_ids(&json).contains(&ids[1]));

    // A pinned article comes first, even an unrelated one, and stays there.
    let (status, _) = post(&app, &path, Some(TOKEN), &json!({ "pin": ids[6] }).to_string()).await;
    assert_eq!(status, 200);
    related::refresh_all(&app.store).await.unwrap();
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", ids[0])).await;
    assert_eq!(related_ids(&json)[0], ids[6]);

    let (status, editor) =
        app.client.get(format!("{}{path}", app.base)).bearer_auth(TOKEN).send().await.map(|r| (r.status().as_u16(), r)).unwrap();
    assert_eq!(status, 200);
    let editor: Value = editor.json().await.unwrap();
    let s = editor["suggestions"].as_array().unwrap();
    assert!(s.iter().any(|x| x["id"] == ids[1] && x["removed"] == true));
    assert!(s.iter().any(|x| x["id"] == ids[6] && x["pinned"] == true));

    // Restore and unpin undo both, once the server's follower has refilled the list.
    assert_eq!(post(&app, &path, Some(TOKEN), &json!({ "restore": ids[1] }).to_string()).await.0, 200);
    assert_eq!(post(&app, &path, Some(TOKEN), &json!({ "unpin": ids[6] }).to_string()).await.0, 200);
    let json = refilled(&app, ids[0], |r| r.contains(&ids[1])).await;
    assert_ne!(related_ids(&json)[0], ids[6]);

    // Bad requests get stable codes, never 500.
    for bad in ["nope", "{}", r#"{"pin": "x"}"#, r#"{"pin": 1, "remove": 2}"#, r#"{"star": 1}"#] {
        let (status, body) = post(&app, &path, Some(TOKEN), bad).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_body")), "{bad}");
    }
    assert_eq!(post(&app, &path, Some(TOKEN), &json!({ "pin": ids[0] }).to_string()).await.0, 400);
    assert_eq!(post(&app, &path, Some(TOKEN), &json!({ "pin": 999_999 }).to_string()).await.0, 404);
    assert_eq!(post(&app, "/api/v1/articles/999999/related", Some(TOKEN), &json!({ "pin": ids[1] }).to_string()).await.0, 404);
}

fn with_admin_token(config: &mut Config) {
    config.api.admin_token = TOKEN.into();
}
storage_test!(editors_pin_and_remove, with_admin_token);

async fn editor_endpoint_is_closed_without_a_configured_token(app: TestApp) {
    let ids = newsroom(&app.store).await;
    let path = format!("/api/v1/articles/{}/related", ids[0]);
    assert_eq!(post(&app, &path, Some(""), &json!({ "pin": ids[1] }).to_string()).await.0, 403);
    assert_eq!(app.get(&path).await.status(), 403);
}
storage_test!(editor_endpoint_is_closed_without_a_configured_token);

async fn seed_page_shows_read_also_entities_and_topics(app: TestApp) {
    let ids = newsroom(&app.store).await;
    let options = ImportOptions {
        published_at: Some(ingest::parse_published_at("2021-12-03", app.config.timezone()).unwrap()),
        ..Default::default()
    };
    let seed = ingest::import_text_file(&app.store, &fixture_path("seed-shaped.txt"), &options).await.unwrap();
    // The server's follower computes the imported article's suggestions and entities.
    let json = refilled(&app, seed.id, |r| r.len() >= 3).await;
    let rel = related_ids(&json);
    assert!(rel.len() >= 3 && rel[..3].iter().all(|id| ids[..3].contains(id)), "seed relates to the Russia–Turkey articles: {rel:?}");

    // The seed has hand-placed «اقرأ أيضاً» lines: no automatic inline block, only the list.
    let slug = json["slug"].as_str().unwrap();
    let (status, html) = app.get_text(&format!("/news/{}", slug)).await;
    assert_eq!(status, 200);
    assert!(!html.contains("read-also auto"));
    assert!(html.contains(r#"<section class="related""#));
    assert!(html.contains("/topics/"), "entity links");

    // An article without one gets the inline block after its third paragraph.
    let (_, first) = app.get_json(&format!("/api/v1/articles/{}", ids[0])).await;
    let (status, html) = app.get_text(&format!("/news/{}", first["slug"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    let third = html.find(ARTICLES[0].1[2]).expect("third paragraph");
    let inline = html.find("read-also auto").expect("inline block");
    let fourth = html.find(ARTICLES[0].1[3]).expect("fourth paragraph");
    assert!(third < inline && inline < fourth);
    let top = &first["related"][0]["headline"];
    assert!(html[inline..fourth].contains(top.as_str().unwrap()));

    // Short articles only get the list at the end.
    let (_, short) = app.get_json(&format!("/api/v1/articles/{}", ids[1])).await;
    let (_, html) = app.get_text(&format!("/news/{}", short["slug"].as_str().unwrap())).await;
    assert!(!html.contains("read-also auto"));

    // Topic pages list the articles that mention the entity, under every spelling.
    let erdogan = json["entities"].as_array().unwrap().iter().find(|e| e["name"] == "رجب طيب أردوغان").expect("erdogan").clone();
    let topic_path = erdogan["url"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_string();
    let (status, html) = app.get_text(&topic_path).await;
    assert_eq!(status, 200);
    assert!(html.contains("رجب طيب أردوغان"));
    for id in [ids[0], ids[2], seed.id] {
        let (_, a) = app.get_json(&format!("/api/v1/articles/{id}")).await;
        assert!(html.contains(a["headline"].as_str().unwrap()), "{id} listed on the topic page");
    }
    assert_eq!(app.get("/topics/no-such-topic").await.status(), 404);
    assert_eq!(app.get(&format!("{topic_path}?page=x")).await.status(), 400);
}
storage_test!(seed_page_shows_read_also_entities_and_topics);

async fn unpublished_articles_leave_the_suggestions(app: TestApp) {
    let ids = newsroom(&app.store).await;
    // Precondition: while published, the article is among the suggestions (else the final
    // check would pass whatever unpublishing did).
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", ids[0])).await;
    assert!(related_ids(&json).contains(&ids[1]), "{json}");
    let (headline, paragraphs) = ARTICLES[1];
    let mut d = draft("1", headline, paragraphs);
    d.status = nashir::domain::Status::Draft;
    app.store.upsert_article(&d).await.unwrap();
    related::refresh(&app.store, ids[1]).await.unwrap();
    related::refresh(&app.store, ids[0]).await.unwrap();
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", ids[0])).await;
    assert!(!related_ids(&json).contains(&ids[1]), "{json}");
    assert!(!related_ids(&json).is_empty(), "the other suggestions stay");
}
storage_test!(unpublished_articles_leave_the_suggestions);

/// The admin page lets editors pin and remove suggestions; writers cannot; editors' API tokens
/// work on the JSON endpoint without the site-wide admin token.
async fn editors_curate_suggestions_in_the_admin(app: TestApp) {
    use crate::editor::{add_user, Admin};
    use nashir::accounts::{random_token, token_hash};
    use nashir::domain::Role;
    let ids = newsroom(&app.store).await;
    let editor_id = add_user(&app, "desk@example.org", "مكتب التحرير", Role::Editor).await;
    let writer_id = add_user(&app, "writer@example.org", "كاتب", Role::Writer).await;
    let editor = Admin::login(&app, "desk@example.org").await;
    let writer = Admin::login(&app, "writer@example.org").await;
    let page = format!("/admin/articles/{}/related", ids[0]);
    let api_path = format!("/api/v1/articles/{}", ids[0]);
    let suggested = |json: &Value| related_ids(json);

    let (status, html) = editor.get(&page).await;
    assert_eq!(status, 200);
    let (_, before) = app.get_json(&api_path).await;
    let first = suggested(&before)[0];
    assert!(html.contains(&format!("name=\"target\" value=\"{first}\"")), "the page lists the suggestions with their forms");

    // Writers and forms without the CSRF token change nothing.
    assert_eq!(writer.get(&page).await.0, 403);
    assert_eq!(writer.post(&page, &[("action", "remove"), ("target", &first.to_string())]).await.0, 403);
    assert_eq!(editor.post_raw(&page, &[("action", "remove"), ("target", &first.to_string())]).await.0, 403);
    assert_eq!(suggested(&app.get_json(&api_path).await.1)[0], first);

    // Remove, then pin by slug as an editor would paste it.
    assert_eq!(editor.post(&page, &[("action", "remove"), ("target", &first.to_string())]).await.0, 303);
    assert!(!suggested(&app.get_json(&api_path).await.1).contains(&first));
    let slug = app.get_json(&format!("/api/v1/articles/{}", ids[6])).await.1["slug"].as_str().unwrap().to_string();
    assert_eq!(editor.post(&page, &[("action", "pin"), ("target", &format!("/news/{slug}"))]).await.0, 303);
    assert_eq!(suggested(&app.get_json(&api_path).await.1)[0], ids[6]);
    let (_, html) = editor.get(&page).await;
    assert!(html.contains("مثبَّت") && html.contains("مُزال"));

    // Bad input: a clear 422 page (the admin's answer to a form it cannot use), no change.
    assert_eq!(editor.post(&page, &[("action", "star"), ("target", "1")]).await.0, 422);
    assert_eq!(editor.post(&page, &[("action", "pin"), ("target", "لا-يوجد")]).await.0, 422);
    assert_eq!(editor.post(&page, &[("action", "pin"), ("target", &ids[0].to_string())]).await.0, 422);
    assert_eq!(suggested(&app.get_json(&api_path).await.1)[0], ids[6]);

    // The JSON endpoint takes an editor's API token; a writer's is refused.
    let (editor_token, writer_token) = (random_token(), random_token());
    app.store.create_api_token(editor_id, "تحرير", &token_hash(&editor_token)).await.unwrap();
    app.store.create_api_token(writer_id, "كتابة", &token_hash(&writer_token)).await.unwrap();
    let edit = format!("{api_path}/related");
    assert_eq!(post(&app, &edit, Some(&writer_token), &json!({ "restore": first }).to_string()).await.0, 403);
    assert_eq!(post(&app, &edit, Some(&editor_token), &json!({ "restore": first }).to_string()).await.0, 200);
    refilled(&app, ids[0], |r| r.contains(&first)).await;
}
storage_test!(editors_curate_suggestions_in_the_admin);

async fn archive_import_with_related_computes_suggestions(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.jsonl");
    let lines: Vec<String> = ARTICLES
        .iter()
        .enumerate()
        .map(|(i, (title, paragraphs))| json!({ "id": format!("a{i}"), "title": title, "body": paragraphs.join("\n") }).to_string())
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let run = |args: &[&str]| {
        let out = app.nashir(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "nashir {args:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    // Without --related the import stays fast and says how to compute them.
    let stdout = run(&["import", path.to_str().unwrap()]);
    assert!(stdout.contains("nashir reindex"), "{stdout}");
    let stdout = run(&["import", "--related", path.to_str().unwrap()]);
    assert!(stdout.contains(&format!("related articles and entities for {} articles", ARTICLES.len())), "{stdout}");
    let mut football = Vec::new();
    for i in 3..6 {
        let id: i64 = sqlx::query_scalar("SELECT id FROM articles WHERE source_key = $1")
            .bind(format!("jsonl:a{i}"))
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        football.push(id);
    }
    let (_, json) = app.get_json(&format!("/api/v1/articles/{}", football[0])).await;
    let rel = related_ids(&json);
    assert!(rel.len() >= 2 && football[1..].contains(&rel[0]) && football[1..].contains(&rel[1]), "{rel:?}");
}
storage_test!(archive_import_with_related_computes_suggestions);

/// `nashir reindex` writes the search index a running server also writes: refused with the
/// reason while a server holds the data dir, and it rebuilds everything on a stopped node's
/// data dir (here a second one on the same database).
async fn reindex_refuses_a_data_dir_a_server_holds(app: TestApp) {
    let ids = newsroom(&app.store).await;
    let out = app.nashir(&["reindex"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("stop it first"), "{stderr}");

    let stopped = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nashir"))
        .arg("--data")
        .arg(stopped.path())
        .arg("--database")
        .arg(&app.config.database_url)
        .arg("reindex")
        .env_remove("NASHIR_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("reindexed {} articles", ids.len())), "{stdout}");
    assert!(stdout.contains(&format!("related articles and entities for {} articles", ids.len())), "{stdout}");
}
storage_test!(reindex_refuses_a_data_dir_a_server_holds);

/// Everything a refresh computes: suggestions, entity mentions, duplicate links.
async fn computed(store: &Store) -> (Vec<(i64, i64, i64)>, Vec<(i64, String)>, Vec<(i64, i64)>) {
    let rows = |sql: &'static str| async move { sqlx::query(sql).fetch_all(store.pool()).await.unwrap() };
    let related = rows("SELECT article_id, related_id, position FROM related ORDER BY 1, 3")
        .await
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let mentions = rows("SELECT ae.article_id, e.key FROM article_entities ae JOIN entities e ON e.id = ae.entity_id ORDER BY 1, 2")
        .await
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let duplicates =
        rows("SELECT article_id, duplicate_of FROM duplicates ORDER BY 1").await.iter().map(|r| (r.get(0), r.get(1))).collect();
    (related, mentions, duplicates)
}

/// An import's background analyses (related::Analyser) give exactly what a refresh computes
/// from the store, and one edited after it was analysed is analysed again. On a store of its
/// own: the test app's server follows its database and would write meanwhile.
async fn analyses_made_during_an_import_change_nothing(app: TestApp) {
    let backend = match app.store.backend() {
        nashir::store::Backend::Sqlite => Backend::Sqlite,
        nashir::store::Backend::Postgres => Backend::Postgres,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&fresh_database(backend, dir.path()).await.unwrap()).await.unwrap();
    let mut drafts: Vec<ArticleDraft> = ARTICLES.iter().enumerate().map(|(i, (h, p))| draft(&i.to_string(), h, p)).collect();
    // The same wire story twice, so duplicate links are compared too.
    let mut copy = drafts[0].clone();
    copy.source_key = Some("test:copy".into());
    drafts.push(copy);
    let analyser = related::Analyser::start();
    let written = store.upsert_articles(&drafts).await.unwrap();
    for ((id, _), d) in written.iter().zip(&drafts) {
        analyser.add(*id, d);
    }
    let mut prepared = analyser.finish();
    prepared.join_idle();
    let mut edited = drafts[3].clone();
    edited.body.push(Block::paragraph("وأضاف المدرب أن الفريق سيخوض مباراة ودية قبل انطلاق الدوري."));
    store.upsert_article(&edited).await.unwrap();

    assert_eq!(related::refresh_all_prepared(&store, &prepared).await.unwrap(), drafts.len());
    assert_eq!(prepared.reused(), drafts.len() - 1, "every analysis but the edited article's");
    let with_analyses = computed(&store).await;
    assert!(!with_analyses.0.is_empty() && !with_analyses.1.is_empty() && !with_analyses.2.is_empty(), "{with_analyses:?}");
    related::refresh_all(&store).await.unwrap();
    assert_eq!(computed(&store).await, with_analyses);
}
storage_test!(analyses_made_during_an_import_change_nothing);

/// Starts `nashir serve`'s application on `config` until `stop` fires; returns its metrics and
/// the handle to await for the shutdown (which releases the data dir and the index).
async fn serve_until(
    config: &Config,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> (std::sync::Arc<nashir::metrics::Metrics>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let store = Store::connect(&config.database_url).await.unwrap();
    let app = nashir::Application::build(config.clone(), store).await.unwrap();
    let (metrics, search) = (app.state().metrics.clone(), app.state().search.clone());
    let running = tokio::spawn(app.run_until(async {
        let _ = stop.await;
    }));
    // Built in the background when due; the callers count the builds.
    crate::helpers::index_built(&search).await;
    (metrics, running)
}

/// Waits for the related follower's first pass on this node (it polls the change log every second).
async fn first_related_pass(metrics: &nashir::metrics::Metrics) {
    use std::sync::atomic::Ordering;
    for _ in 0..600 {
        if metrics.related_passes.load(Ordering::Relaxed) > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the related follower made no pass in 60 s");
}

/// `nashir import --related` computed every article's suggestions: the first `nashir serve`
/// afterwards must not compute them again (it once recomputed the whole archive: 104 s of
/// reading and 2 GB at 200,000 articles), and a second start must not rebuild a current
/// search index.
async fn serve_after_import_related_redoes_nothing(backend: Backend) {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let Some(database_url) = fresh_database(backend, dir.path()).await else { return };
    let mut config = Config { data_dir: dir.path().join("data"), database_url, ..Config::default() };
    config.server.addr = "127.0.0.1:0".parse().unwrap();
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let lines: String = ARTICLES
        .iter()
        .enumerate()
        .map(|(i, (title, paragraphs))| json!({ "id": format!("a{i}"), "title": title, "body": paragraphs.join("\n") }).to_string() + "\n")
        .collect();
    let archive = dir.path().join("archive.jsonl");
    std::fs::write(&archive, lines).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nashir"))
        .arg("--data")
        .arg(&config.data_dir)
        .arg("--database")
        .arg(&config.database_url)
        .args(["import", "--related"])
        .arg(&archive)
        .env_remove("NASHIR_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("related articles and entities for 7 articles"), "{stdout}");

    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (metrics, running) = serve_until(&config, stopped).await;
    first_related_pass(&metrics).await;
    assert_eq!(metrics.related_full_passes.load(Ordering::Relaxed), 0, "no full related pass after import --related");
    assert_eq!(metrics.related_articles_refreshed.load(Ordering::Relaxed), 0, "no article's suggestions recomputed");
    // The import built the search index (no server held the data dir): nothing to build here.
    assert_eq!(metrics.search_index_builds.load(Ordering::Relaxed), 0, "the import wrote the index");
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();

    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (metrics, running) = serve_until(&config, stopped).await;
    first_related_pass(&metrics).await;
    assert_eq!(metrics.search_index_builds.load(Ordering::Relaxed), 0, "the index on disk is current");
    assert_eq!(metrics.related_articles_refreshed.load(Ordering::Relaxed), 0);
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
storage_test!(serve_after_import_related_redoes_nothing(Backend));

/// The pass over the whole archive (`refresh_all`, which streams the archive through
/// temporary files) computes what the in-memory index computes for the same articles
/// (`refresh_many` over every id builds it): same suggestions in the same order, same
/// duplicate links, same entities, with enough articles for the latent concepts (200+).
/// Then an unpublished article loses its rows in the next pass (it is in no batch: its id
/// range is cleared all the same). On a store of its own, as above.
async fn whole_archive_pass_matches_the_in_memory_index(app: TestApp) {
    let backend = match app.store.backend() {
        nashir::store::Backend::Sqlite => Backend::Sqlite,
        nashir::store::Backend::Postgres => Backend::Postgres,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&fresh_database(backend, dir.path()).await.unwrap()).await.unwrap();
    let days = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد", "أمس", "اليوم"];
    let places = ["القاهرة", "عمان", "تونس", "الرباط", "بيروت", "الدوحة", "الخرطوم", "بغداد", "دمشق", "الجزائر", "صنعاء"];
    let drafts: Vec<ArticleDraft> = (0..231)
        .map(|i| {
            let (headline, paragraphs) = ARTICLES[i % ARTICLES.len()];
            let mut body: Vec<&str> = paragraphs.to_vec();
            let turn = (i / ARTICLES.len()) % body.len();
            body.rotate_left(turn);
            let extra = format!("وجاء ذلك {} في {} بحسب مصادر محلية.", days[i % days.len()], places[i % places.len()]);
            let mut d = draft(&format!("many-{i}"), &format!("{headline} ({})", places[i % places.len()]), &body);
            d.body.push(Block::paragraph(&extra));
            d
        })
        .collect();
    let ids: Vec<i64> = store.upsert_articles(&drafts).await.unwrap().into_iter().map(|(id, _)| id).collect();

    assert_eq!(related::refresh_all(&store).await.unwrap(), drafts.len());
    let streamed = computed(&store).await;
    assert!(!streamed.1.is_empty() && !streamed.2.is_empty(), "entities and duplicates expected: {streamed:?}");
    assert!(streamed.0.len() >= ids.len() * 5, "every article has suggestions: {}", streamed.0.len());
    related::refresh_many(&store, &ids).await.unwrap();
    let in_memory = computed(&store).await;
    assert_eq!(streamed.0, in_memory.0, "suggestions");
    assert_eq!(streamed.1, in_memory.1, "entities");
    assert_eq!(streamed.2, in_memory.2, "duplicates");

    let gone = ids[100];
    let mut unpublished = drafts[100].clone();
    unpublished.status = nashir::domain::Status::Draft;
    store.upsert_article(&unpublished).await.unwrap();
    assert_eq!(related::refresh_all(&store).await.unwrap(), drafts.len() - 1);
    let after = computed(&store).await;
    assert!(after.0.iter().all(|&(a, r, _)| a != gone && r != gone), "the unpublished article keeps no rows and is suggested nowhere");
    assert!(after.1.iter().all(|(a, _)| *a != gone) && after.2.iter().all(|&(a, d)| a != gone && d != gone));
}
storage_test!(whole_archive_pass_matches_the_in_memory_index);
