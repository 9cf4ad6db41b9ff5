//! WordPress, Ghost and JSON Lines archives through `nashir import`, on both databases.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use nashir::domain::{Article, Block};
use nashir::ingest::sample::{self, Expected};

use crate::helpers::{shared_file, TestApp};
use crate::storage_test;

async fn by_source_key(app: &TestApp, key: &str) -> Article {
    let id: i64 = sqlx::query_scalar("SELECT id FROM articles WHERE source_key = $1")
        .bind(key)
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("no article with source key {key}: {e}"));
    app.store.article_by_id(id).await.unwrap().unwrap()
}

fn run_ok(app: &TestApp, args: &[&str]) -> String {
    let out = app.nashir(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nashir {args:?} failed:\n{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}

fn all_text(article: &Article) -> String {
    let mut text = article.lead.clone();
    for block in &article.body {
        text.push('\n');
        text.push_str(&block.text());
    }
    text
}

/// Checks every article against what the generator wrote, and that old addresses redirect.
async fn check_round_trip(app: &TestApp, expected: &[Expected], key_prefix: &str) {
    for e in expected {
        let article = by_source_key(app, &format!("{key_prefix}{}", e.id)).await;
        assert_eq!(article.headline, e.title);
        assert_eq!(article.slug.as_str(), e.slug, "slug of {}", e.id);
        assert_eq!(article.status.as_str(), e.status, "status of {}", e.id);
        assert_eq!(article.section.as_ref().map(|s| s.name.clone()), e.section, "section of {}", e.id);
        let tags: BTreeSet<String> = article.tags.iter().map(|t| t.name.clone()).collect();
        assert_eq!(tags, e.tags.iter().cloned().collect::<BTreeSet<_>>(), "tags of {}", e.id);
        assert_eq!(article.authors.first().map(|a| a.name.clone()), e.author, "author of {}", e.id);
        let text = all_text(&article);
        assert!(text.contains(&e.marker), "{}: marker missing in {text}", e.id);
        for bad in ["<", "alert", "نص مخفي", "color: red", "[caption", "__GHOST_URL__"] {
            assert!(!text.contains(bad), "{}: «{bad}» leaked into {text}", e.id);
        }
        if let Some(old) = &e.old_path {
            let resp = app.get(old).await;
            assert_eq!(resp.status().as_u16(), 301, "{old} redirects");
            let location = resp.headers()["location"].to_str().unwrap().to_string();
            let decoded = percent_encoding::percent_decode_str(&location).decode_utf8_lossy().into_owned();
            assert_eq!(decoded, format!("/news/{}", e.slug), "{old}");
            assert_eq!(app.get(&location).await.status().as_u16(), 200);
        }
    }
}

async fn wordpress_export_round_trips(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.xml");
    let mut file = std::fs::File::create(&path).unwrap();
    let expected = sample::write_wxr(&mut file, 12).unwrap();
    drop(file);
    let path_str = path.to_str().unwrap();

    let dry = run_ok(&app, &["import", "--dry-run", path_str]);
    assert!(dry.contains("12 imported, 0 updated, 0 failed, 5 skipped (dry run"), "{dry}");
    assert!(app.store.all_article_ids().await.unwrap().is_empty(), "a dry run writes nothing");

    let stdout = run_ok(&app, &["import", path_str]);
    assert!(stdout.contains("12 imported, 0 updated, 0 failed, 5 skipped"), "{stdout}");
    assert!(stdout.contains("WordPress page (use --include-pages)"), "{stdout}");
    check_round_trip(&app, &expected, "wxr:old.example.org:").await;
    // A post without a slug gets one from its title: written out here, not computed by the
    // code under test (the generator's expectation is).
    let bare = by_source_key(&app, "wxr:old.example.org:1002").await;
    assert_eq!(bare.slug.as_str(), "فرقة-المسرح-الوطني-يناقش-الميزانية-للعام-رقم-2");

    let first = by_source_key(&app, "wxr:old.example.org:1000").await;
    assert_eq!(first.lead, "ملخص «الخبر» رقم 0");
    assert_eq!(
        first.body[0],
        Block::Image {
            src: "https://old.example.org/wp-content/uploads/featured-0.jpg".into(),
            alt: first.headline.clone(),
            caption: None,
            credit: None
        },
        "the featured image, listed after the post, comes first"
    );
    for block in [
        Block::Subheading { text: "تفاصيل الخطة".into() },
        Block::quote("سنعمل معاً من أجل المدينة", None),
        Block::ReadAlso { title: "المجلس يقر الميزانية".into() },
        Block::Image {
            src: "https://old.example.org/wp-content/uploads/a0.jpg".into(),
            alt: "قاعة المجلس".into(),
            caption: Some("قاعة المجلس أثناء الجلسة".into()),
            credit: None,
        },
        Block::paragraph("افتتح المجلس جلسته صباح اليوم & ناقش «الخطة» الجديدة."),
        Block::paragraph("رمز خاص ]]> داخل النص"),
        Block::paragraph("سطر أول سطر ثانٍ"),
    ] {
        assert!(first.body.contains(&block), "missing {block:?} in {:#?}", first.body);
    }
    let classic = by_source_key(&app, "wxr:old.example.org:1001").await;
    assert!(classic
        .body
        .iter()
        .any(|b| matches!(b, Block::Image { src, caption: Some(c), .. } if src == "/wp-content/uploads/b1.jpg" && c == "عمال في الحقل")));
    assert_eq!(classic.lead, "بدأ الموسم في القرى الشمالية مع ارتفاع الأسعار. وتوقع المزارعون إنتاجاً أفضل.");
    assert_eq!(
        by_source_key(&app, "wxr:old.example.org:1003").await.published_at.unwrap().to_rfc3339(),
        "2021-12-03T10:00:00+00:00",
        "local wp:post_date in the site zone"
    );
    // `?p=123` links of WordPress still work.
    let resp = app.get("/?p=1002").await;
    assert_eq!(resp.status().as_u16(), 301);
    assert_eq!(app.get("/2021/12/01/nothing-here/").await.status().as_u16(), 404);

    let again = run_ok(&app, &["import", "--format", "wxr", path_str]);
    assert!(again.contains("0 imported, 12 updated"), "{again}");
    assert_eq!(app.store.all_article_ids().await.unwrap().len(), 12);

    let pages = run_ok(&app, &["import", "--include-pages", path_str]);
    assert!(pages.contains("3 imported, 12 updated, 0 failed, 2 skipped"), "page and attachments too: {pages}");
}
storage_test!(wordpress_export_round_trips);

async fn ghost_export_round_trips(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ghost-export.json");
    let (export, expected) = sample::ghost_export(8);
    std::fs::write(&path, serde_json::to_vec_pretty(&export).unwrap()).unwrap();
    let stdout = run_ok(&app, &["import", path.to_str().unwrap()]);
    assert!(stdout.contains("8 imported, 0 updated, 0 failed, 1 skipped"), "{stdout}");
    check_round_trip(&app, &expected, "ghost:").await;
    let html_post = by_source_key(&app, &format!("ghost:{}", expected[0].id)).await;
    assert!(matches!(&html_post.body[0], Block::Image { src, .. } if src == "/content/images/f0.jpg"), "{:?}", html_post.body);
    assert_eq!(html_post.lead, "مقدمة الخبر رقم 0 & تفاصيله.");
    let lexical = by_source_key(&app, &format!("ghost:{}", expected[1].id)).await;
    assert_eq!(lexical.body[0], Block::Subheading { text: "عنوان فرعي".into() });
    let again = run_ok(&app, &["import", path.to_str().unwrap()]);
    assert!(again.contains("0 imported, 8 updated"), "{again}");
}
storage_test!(ghost_export_round_trips);

async fn json_lines_bad_line_fails_alone(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("articles.jsonl");
    std::fs::write(
        &path,
        "{\"id\": \"a1\", \"title\": \"خبر أول\", \"body\": \"فقرة أولى.\\nفقرة ثانية.\", \"category\": \"sport\", \"source\": \"نحن\", \"author\": \"رنا\", \"tags\": [\"دمشق\"], \"published_at\": \"2020-05-01T08:00:00Z\"}\n\
         {\"id\": \"a2\", \"title\": \n\
         {\"id\": \"a3\", \"title\": \"خبر ثالث\", \"body\": \"نص الخبر الثالث.\", \"category\": \"thirdWay\"}\n",
    )
    .unwrap();
    let out = app.nashir(&["import", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a failed line makes the exit code non-zero");
    assert!(stderr.contains("line 2") && stderr.contains("malformed JSON"), "{stderr}");
    assert!(stdout.contains("2 imported, 0 updated, 1 failed"), "{stdout}");
    let first = by_source_key(&app, "jsonl:a1").await;
    assert_eq!(first.section.unwrap().name, "رياضة");
    assert_eq!(first.lead, "فقرة أولى.");
    assert_eq!(first.authors[0].name, "رنا");
    assert_eq!(first.published_at.unwrap().to_rfc3339(), "2020-05-01T08:00:00+00:00");
    assert_eq!(by_source_key(&app, "jsonl:a3").await.section.unwrap().name, "thirdWay");
}
storage_test!(json_lines_bad_line_fails_alone);

async fn truncated_wxr_keeps_what_came_before(app: TestApp) {
    let mut bytes = Vec::new();
    sample::write_wxr(&mut bytes, 6).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    // Cut inside the fifth post's body (an unclosed CDATA section), then close the channel.
    let cut = text.match_indices("<content:encoded>").nth(4).unwrap().0 + "<content:encoded><![CDATA[<p>".len();
    let broken = format!("{}</channel></rss>", &text[..cut]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.xml");
    std::fs::write(&path, broken).unwrap();
    let out = app.nashir(&["import", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("malformed XML") && stderr.contains("line ") && stderr.contains("column "), "{stderr}");
    assert_eq!(app.store.all_article_ids().await.unwrap().len(), 4, "the four complete posts are kept");
}
storage_test!(truncated_wxr_keeps_what_came_before);

/// A slice of the shared corpus, gzipped: categories become sections.
async fn corpus_slice_imports_with_sections(app: TestApp) {
    let Some(corpus) = shared_file("corpus/ant_multisource_ar_news.jsonl.gz") else { return };
    let lines = read_gz_lines(&corpus, 400);
    let dir = tempfile::tempdir().unwrap();
    let path = write_gz(dir.path(), &lines);
    let stdout = run_ok(&app, &["import", path.to_str().unwrap()]);
    assert!(stdout.contains(&format!("{} imported, 0 updated, 0 failed", lines.len())), "{stdout}");
    let sections: BTreeSet<String> = app.store.sections().await.unwrap().into_iter().map(|s| s.name).collect();
    assert!(sections.contains("رياضة") || sections.contains("ثقافة"), "{sections:?}");
}
storage_test!(corpus_slice_imports_with_sections);

/// The corpus test's rules on lines in the corpus's shape written here: gzip, ids ending in a
/// date, bodies in lines, English categories that become Arabic sections.
async fn corpus_shaped_lines_import_with_sections(app: TestApp) {
    let lines = [
        r#"{"id": "NS-sport-1-20190312", "title": "نادي الوادي يتأهل إلى نصف النهائي", "body": "تأهل نادي الوادي إلى نصف نهائي الكأس بعد فوزه بهدفين.\nوسجل المهاجم الهدفين في الشوط الثاني.", "category": "sport", "source": "ناشر"}"#,
        r#"{"id": "NS-culture-2-20190313", "title": "معرض للخط العربي في دمشق", "body": "افتُتح في دمشق معرض للخط العربي يضم أربعين لوحة.\nويستمر المعرض أسبوعين.", "category": "culture", "source": "ناشر"}"#,
        r#"{"id": "NS-culture-3-20190314", "title": "أمسية شعرية في حلب", "body": "أحيا شعراء شباب أمسية شعرية في حلب.", "category": "Culture", "source": "ناشر"}"#,
    ]
    .map(String::from);
    let dir = tempfile::tempdir().unwrap();
    let path = write_gz(dir.path(), &lines);
    let stdout = run_ok(&app, &["import", path.to_str().unwrap()]);
    assert!(stdout.contains("3 imported, 0 updated, 0 failed"), "{stdout}");
    let sections: BTreeSet<String> = app.store.sections().await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(sections, ["ثقافة", "رياضة"].map(String::from).into());
    let first = by_source_key(&app, "jsonl:NS-sport-1-20190312").await;
    assert_eq!(first.lead, "تأهل نادي الوادي إلى نصف نهائي الكأس بعد فوزه بهدفين.");
    assert_eq!(first.published_at.unwrap().date_naive().to_string(), "2019-03-12", "the date at the end of the id");
}
storage_test!(corpus_shaped_lines_import_with_sections);

fn write_gz(dir: &Path, lines: &[String]) -> std::path::PathBuf {
    let path = dir.join("slice.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    for line in lines {
        writeln!(gz, "{line}").unwrap();
    }
    gz.finish().unwrap();
    path
}

fn read_gz_lines(path: &Path, n: usize) -> Vec<String> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).expect("the shared corpus");
    std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines().take(n).map(Result::unwrap).collect()
}
