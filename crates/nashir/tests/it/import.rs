use nashir::domain::Block;
use nashir::ingest::{self, ImportOptions};
use nashir::store::UpsertOutcome;

use crate::helpers::{fixture_path, seed_path, TestApp};
use crate::storage_test;

fn seed_options(app: &TestApp) -> ImportOptions {
    ImportOptions {
        section: Some("سياسة".into()),
        authors: vec!["فريق التحرير".into()],
        tags: vec!["تركيا".into(), "روسيا".into()],
        published_at: Some(ingest::parse_published_at("2021-12-03", app.config.timezone()).unwrap()),
    }
}

async fn seed_import_follows_every_rule(app: TestApp) {
    let Some(seed) = seed_path() else { return };
    let done = ingest::import_text_file(&app.store, &seed, &seed_options(&app)).await.unwrap();
    assert_eq!(done.outcome, UpsertOutcome::Created);
    let article = app.store.article_by_id(done.id).await.unwrap().unwrap();

    assert_eq!(article.headline, "اتصال “روتيني” بين أردوغان وبوتين.. هل من مستجدات حول سوريا؟");
    assert!(article.lead.starts_with("مباحثات هاتفية بين الرئيس الروسي فلاديمير بوتين"), "lead: {}", article.lead);
    let texts: Vec<String> = article.body.iter().map(|b| b.text().into_owned()).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert!(!texts.contains(&article.headline.as_str()), "the repeated headline is dropped");
    assert!(!texts.contains(&article.lead.as_str()), "the lead is not repeated in the body");

    let subheadings: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::Subheading { text } = b { Some(text.as_str()) } else { None }).collect();
    assert_eq!(
        subheadings,
        vec![
            "مباحثات روتينية",
            "الملف السوري.. بين التصعيد والهدوء",
            "توترات سابقة متعلقة بمقتل جنود أتراك في إدلب",
            "التقارب بين البلدين"
        ]
    );

    let read_also: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::ReadAlso { title } = b { Some(title.as_str()) } else { None }).collect();
    assert_eq!(
        read_also,
        vec![
            "القمة الروسية التركية… مباحثات المتورط والمنقذ",
            "صحفي روسي «يفجرها» ثانية: هل أعطى إردوغان شخصياً الأمر بإسقاط المقاتلة الروسية؟"
        ]
    );
    // The read-also stands where it stood: after Lavrov's paragraph, before the next one.
    let pos = article.body.iter().position(|b| matches!(b, Block::ReadAlso { .. })).unwrap();
    assert!(article.body[pos - 1].text().starts_with("قال وزير الخارجية الروسي سيرغي لافروف"));

    let all = texts.join("\n");
    assert!(!all.contains("هل أعجبك المحتوى"), "newsletter boilerplate removed");
    assert!(!all.contains("انضم إلى قائمة"), "newsletter boilerplate removed");
    assert!(done.removed_trailing.len() == 2, "removed: {:?}", done.removed_trailing);
    assert!(article.body.last().unwrap().text().starts_with("وبحسب بحث أجرته الجزيرة"));

    // Quotes keep their quotation: inline marks survive and quoted statements are quote blocks.
    assert!(all.contains("“قائمة على الصداقة وتتواصل بشكل جيد”"));
    assert!(article.body.iter().any(|b| matches!(b, Block::Quote { text, .. } if text.starts_with("وصلت علاقاتنا حاليا إلى الذروة"))));

    assert_eq!(article.section.as_ref().unwrap().name, "سياسة");
    assert_eq!(article.authors[0].name, "فريق التحرير");
    assert_eq!(article.tags.len(), 2);
    assert_eq!(article.published_at.unwrap().to_rfc3339(), "2021-12-03T10:00:00+00:00");
}
storage_test!(seed_import_follows_every_rule);

/// The seed's rules on an article written for these tests in the seed's shape (so a clone
/// without `../shared` checks them too): the repeated headline, the lead, subheadings,
/// read-also lines where they stood, quotes, and the trailing call to subscribe.
async fn fixture_import_follows_every_rule(app: TestApp) {
    let done = ingest::import_text_file(&app.store, &fixture_path("seed-shaped.txt"), &seed_options(&app)).await.unwrap();
    assert_eq!(done.outcome, UpsertOutcome::Created);
    let article = app.store.article_by_id(done.id).await.unwrap().unwrap();

    assert_eq!(article.headline, "أردوغان وبوتين يبحثان هاتفياً ملفات المنطقة.. هل تتغير المعادلة في إدلب؟");
    assert!(article.lead.starts_with("بحث الرئيس التركي رجب طيب أردوغان مع نظيره الروسي"), "lead: {}", article.lead);
    let texts: Vec<String> = article.body.iter().map(|b| b.text().into_owned()).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert!(!texts.contains(&article.headline.as_str()), "the repeated headline is dropped");
    assert!(!texts.contains(&article.lead.as_str()), "the lead is not repeated in the body");

    let subheadings: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::Subheading { text } = b { Some(text.as_str()) } else { None }).collect();
    assert_eq!(subheadings, ["اتصال في توقيت حساس", "إدلب.. بين التهدئة والتصعيد", "خلافات سابقة حول القرم", "تعاون اقتصادي رغم الخلاف"]);

    let read_also: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::ReadAlso { title } = b { Some(title.as_str()) } else { None }).collect();
    assert_eq!(read_also, ["قمة سوتشي… ماذا بقي من تفاهمات إدلب", "مسيّرات «بيرقدار» في سماء أوكرانيا: ما موقف الكرملين؟"]);
    // The read-also stands where it stood: after Lavrov's paragraph, before the next one.
    let pos = article.body.iter().position(|b| matches!(b, Block::ReadAlso { .. })).unwrap();
    assert!(article.body[pos - 1].text().starts_with("وجاء الاتصال بعد أيام من تصريحات لوزير الخارجية الروسي"));
    assert!(article.body[pos + 1].text().starts_with("وتأتي المباحثات"));

    let all = texts.join("\n");
    assert!(!all.contains("هل أعجبك المحتوى"), "newsletter boilerplate removed");
    assert!(!all.contains("انضم إلى قائمة"), "newsletter boilerplate removed");
    assert_eq!(done.removed_trailing.len(), 2, "removed: {:?}", done.removed_trailing);
    assert!(article.body.last().unwrap().text().starts_with("وبحسب تقديرات نشرها مركز دراسات تركي"));

    // Quotes keep their quotation: inline marks survive and quoted statements are quote blocks.
    assert!(all.contains("“قائمة على الحوار المستمر رغم الخلافات”"));
    assert!(article.body.iter().any(|b| matches!(b, Block::Quote { text, intro: Some(intro), .. }
        if text.starts_with("نحن لا نريد موجة نزوح جديدة") && intro == "وقال أردوغان في تصريحات سابقة")));

    assert_eq!(article.section.as_ref().unwrap().name, "سياسة");
    assert_eq!(article.authors[0].name, "فريق التحرير");
    assert_eq!(article.tags.len(), 2);
    assert_eq!(article.published_at.unwrap().to_rfc3339(), "2021-12-03T10:00:00+00:00");
}
storage_test!(fixture_import_follows_every_rule);

async fn reimport_updates_instead_of_duplicating(app: TestApp) {
    let file = fixture_path("seed-shaped.txt");
    let first = ingest::import_text_file(&app.store, &file, &seed_options(&app)).await.unwrap();
    let second = ingest::import_text_file(&app.store, &file, &seed_options(&app)).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.outcome, UpsertOutcome::Updated);
    assert_eq!(app.store.all_article_ids().await.unwrap(), vec![first.id]);
    let article = app.store.article_by_id(first.id).await.unwrap().unwrap();
    assert_eq!(article.version, 2);
    assert_eq!(article.tags.len(), 2, "tags are replaced, not duplicated");
}
storage_test!(reimport_updates_instead_of_duplicating);

/// A line that closes many imported articles is the site's footer, even if no rule knows it.
async fn recurring_footer_lines_are_learned(app: TestApp) {
    let footer = "جميع المواد المنشورة تعبر عن رأي كتّابها فقط";
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        let path = dir.path().join(format!("{i}.txt"));
        std::fs::write(
            &path,
            format!("خبر رقم {i} عن الطقس\n\nمقدمة الخبر رقم {i} وهي فقرة كاملة.\n\nنص الخبر رقم {i} بالتفصيل.\n\n{footer}"),
        )
        .unwrap();
        let done = ingest::import_text_file(&app.store, &path, &ImportOptions::default()).await.unwrap();
        let article = app.store.article_by_id(done.id).await.unwrap().unwrap();
        let has_footer = article.body.iter().any(|b| b.text() == footer);
        assert_eq!(has_footer, i < 3, "article {i}: footer kept only until it has been seen three times");
    }
}
storage_test!(recurring_footer_lines_are_learned);

async fn demo_newsroom_is_complete(app: TestApp) {
    let count = nashir::demo::populate(&app.store).await.unwrap();
    assert!(count >= 12);
    assert!(app.store.sections().await.unwrap().len() >= 4);
    // Every read-also in the demo resolves to another demo article.
    for id in app.store.all_article_ids().await.unwrap() {
        let article = app.store.article_by_id(id).await.unwrap().unwrap();
        let titles: Vec<&str> =
            article.body.iter().filter_map(|b| if let Block::ReadAlso { title } = b { Some(title.as_str()) } else { None }).collect();
        let targets = app.store.link_targets(&titles).await.unwrap();
        assert_eq!(targets.len(), titles.len(), "unresolved read-also in «{}»: {titles:?}", article.headline);
        let all: String = article.body.iter().map(|b| b.text()).collect();
        assert!(
            !all.contains("نشرتنا البريدية") && !all.contains("النشرة البريدية") && !all.contains("نشرة ناشر البريدية"),
            "boilerplate left in «{}»",
            article.headline
        );
    }
}
storage_test!(demo_newsroom_is_complete);
