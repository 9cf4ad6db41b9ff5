//! The media library (issue 17): uploads found by description, their texts edited by the
//! uploader or an editor, the articles using one listed, deleting refused while one does and
//! removing the files when none does; the article form picks its featured image from it.

use nashir::domain::Role;

use super::images::jpeg;
use super::{add_user, Admin};
use crate::helpers::TestApp;
use crate::storage_test;

/// The `/media/…` path an upload page offers, and the upload's library id.
async fn upload(admin: &Admin<'_>, alt: &str, width: u32) -> (String, i64) {
    let (status, html) = admin.upload("photo.jpg", "image/jpeg", &jpeg(width, 800), alt).await;
    assert_eq!(status, 201, "{html}");
    let at = html.find("](/media/").unwrap() + 2;
    let src = html[at..].split(')').next().unwrap().to_string();
    let file = src.trim_start_matches("/media/");
    let id = admin.app.store.media_by_file_name(file).await.unwrap().expect("recorded").id;
    (src, id)
}

async fn the_library_finds_edits_and_deletes(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    add_user(&app, "w@example.org", "كاتبة", Role::Writer).await;
    add_user(&app, "v@example.org", "كاتب آخر", Role::Writer).await;
    let editor = Admin::login(&app, "e@example.org").await;
    let writer = Admin::login(&app, "w@example.org").await;
    let other = Admin::login(&app, "v@example.org").await;

    let (market_src, market) = upload(&writer, "سوق الحميدية صباحاً", 1200).await;
    let (_, harbour) = upload(&editor, "ميناء اللاذقية", 1100).await;

    // Search by description: one finds one; LIKE's wildcards are taken literally.
    assert_ne!(market, harbour);
    let (status, page) = writer.get("/admin/media?q=%D8%A7%D9%84%D8%AD%D9%85%D9%8A%D8%AF%D9%8A%D8%A9").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("/admin/media/{market}\"")) && !page.contains(&format!("/admin/media/{harbour}\"")), "{page}");
    let (_, none) = writer.get("/admin/media?q=%25").await;
    assert!(!none.contains(&format!("/admin/media/{market}\"")), "a bare % matches nothing: {none}");
    let (_, json) = writer.get("/admin/media/pick?q=%D9%85%D9%8A%D9%86%D8%A7%D8%A1").await;
    let picked: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(picked["items"].as_array().unwrap().len(), 1);
    assert_eq!(picked["items"][0]["id"], harbour);
    assert!(picked["items"][0]["thumb"].as_str().unwrap().ends_with("-480w.jpg"), "thumbnails are variants, never originals");

    // Texts: the uploader and editors may change them, another writer may not.
    let (status, _) = other.post(&format!("/admin/media/{market}"), &[("alt", "x"), ("caption", ""), ("credit", "")]).await;
    assert_eq!(status, 403);
    let (status, location) = writer
        .post(&format!("/admin/media/{market}"), &[("alt", "سوق [الحميدية]"), ("caption", "قبيل الافتتاح"), ("credit", "تصوير: ليلى")])
        .await;
    assert_eq!((status, location.as_str()), (303, format!("/admin/media/{market}?saved=1").as_str()));
    let m = app.store.media_by_id(market).await.unwrap().unwrap();
    assert_eq!((m.alt.as_str(), m.caption.as_str(), m.credit.as_str()), ("سوق الحميدية", "قبيل الافتتاح", "تصوير: ليلى"));
    let (status, _) = writer.post(&format!("/admin/media/{market}"), &[("alt", &"و".repeat(301)), ("caption", ""), ("credit", "")]).await;
    assert_eq!(status, 422, "too long a description is refused");

    // Used as a featured image: listed, and not deleted.
    let article = writer
        .create(&[
            ("headline", "السوق في الصباح"),
            ("body", "فقرة أولى."),
            ("featured_src", &market_src),
            ("featured_alt", "سوق الحميدية"),
            ("status", "draft"),
        ])
        .await;
    let (_, detail) = editor.get(&format!("/admin/media/{market}")).await;
    assert!(detail.contains(&format!("/admin/articles/{article}")), "{detail}");
    let (status, _) = editor.post(&format!("/admin/media/{market}/delete"), &[]).await;
    assert_eq!(status, 409);
    assert!(app.store.media_by_id(market).await.unwrap().is_some());

    // The article form offers the library and shows the chosen one checked.
    let (_, form) = writer.get(&format!("/admin/articles/{article}")).await;
    assert!(form.contains(&format!("value=\"{market_src}\" checked")), "featured picked from the library");

    // Unused: another writer may not delete it, its uploader (an editor) may; files go too.
    let (status, _) = other.post(&format!("/admin/media/{harbour}/delete"), &[]).await;
    assert_eq!(status, 403);
    let file = app.store.media_by_id(harbour).await.unwrap().unwrap().file_name;
    let media = app.config.data_dir.join("media");
    let stem = file.trim_end_matches(".jpg");
    assert!(media.join(format!("{stem}-480w.jpg")).exists());
    let (status, location) = editor.post(&format!("/admin/media/{harbour}/delete"), &[]).await;
    assert_eq!((status, location.as_str()), (303, "/admin/media"));
    assert!(app.store.media_by_id(harbour).await.unwrap().is_none());
    assert!(!media.join(format!("{stem}-480w.jpg")).exists() && !media.join("originals").join(&file).exists(), "files removed");
    let (status, _) = editor.get(&format!("/admin/media/{harbour}")).await;
    assert_eq!(status, 404);
    let (status, _) = editor.get("/admin/media/abc").await;
    assert_eq!(status, 404);
}
storage_test!(the_library_finds_edits_and_deletes);
