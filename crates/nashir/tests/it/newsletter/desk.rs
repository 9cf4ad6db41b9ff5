//! The newsletter desk in the admin: subscribers (search, keyset pages, erasure, import,
//! export), issues (test, send now, counts, cancel) and breaking news by mail, once.

use nashir::domain::{Email, Frequency, Role};
use nashir::newsletter::breaking::{Audience, BreakingOutcome};
use nashir::newsletter::worker::Worker;
use nashir::newsletter::Purpose;

use super::sink::SmtpSink;
use super::{newsletter, unique, with_smtp};
use crate::editor::{add_user, Admin};
use crate::helpers::TestApp;
use crate::storage_test;

fn emails(tag: &str, n: usize) -> Vec<Email> {
    (0..n).map(|i| Email::parse(&format!("{tag}-{i:03}@example.org")).unwrap()).collect()
}

/// Sends `csv` to the import form; returns the status and the page.
async fn import(admin: &Admin<'_>, csv: &str, consent: &str, dry_run: bool) -> (u16, String) {
    let boundary = "----nashirdeskboundary";
    let mut body = String::new();
    let mut fields = vec![("csrf", admin.csrf.as_str()), ("consent", consent)];
    if dry_run {
        fields.push(("dry_run", "1"));
    }
    for (name, value) in fields {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"));
    let resp = admin
        .app
        .client
        .post(format!("{}/admin/newsletter/import", admin.app.base))
        .header("cookie", &admin.cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    if resp.status() == 413 {
        // The unread rest of the body makes the connection unusable; the answer must say so,
        // or the client's next request on it fails with a reset.
        assert_eq!(resp.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
    }
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn subscribers_search_pages_erase_import_export(app: TestApp) {
    add_user(&app, "desk-editor@example.org", "محررة", Role::Editor).await;
    add_user(&app, "desk-writer@example.org", "كاتب", Role::Writer).await;
    let editor = Admin::login(&app, "desk-editor@example.org").await;
    let writer = Admin::login(&app, "desk-writer@example.org").await;
    assert_eq!(writer.get("/admin/newsletter/subscribers").await.0, 403, "writers have no access");
    assert_eq!(writer.get("/admin/newsletter").await.0, 403);

    let tag = unique("page").split('@').next().unwrap().to_string();
    let list = emails(&tag, 120);
    app.store.import_active_subscribers(&list, Frequency::Daily).await.unwrap();

    // Search by a part of the address, and keyset pages: 50 + 50 + 20, none twice.
    let (status, page) = editor.get(&format!("/admin/newsletter/subscribers?q={tag}")).await;
    assert_eq!(status, 200);
    let mut seen = std::collections::HashSet::new();
    let mut next = Some(format!("/admin/newsletter/subscribers?q={tag}"));
    let mut sizes = Vec::new();
    while let Some(path) = next.take() {
        let (status, page) = editor.get(&path.replace("&amp;", "&")).await;
        assert_eq!(status, 200, "{path}");
        let here: Vec<String> = page.match_indices(&format!("{tag}-")).map(|(i, _)| page[i..i + tag.len() + 4].to_string()).collect();
        sizes.push(here.len());
        for a in here {
            assert!(seen.insert(a.clone()), "{a} on two pages");
        }
        next = page.find("rel=\"next\"").map(|at| {
            let start = page[..at].rfind("href=\"").unwrap() + 6;
            page[start..start + page[start..].find('"').unwrap()].to_string()
        });
    }
    assert_eq!(sizes, vec![50, 50, 20]);
    assert!(page.contains(&format!("{tag}-119@example.org")), "newest first");

    // One reader's history, then the right to be forgotten.
    let newest = app.store.subscriber_by_email(&list[119]).await.unwrap().unwrap();
    let nl = newsletter(&app);
    let old_token = nl.signer().await.unwrap().sign(Purpose::Manage, &newest.id.to_string(), nashir::domain::now_secs() + 3600);
    let (status, history) = editor.get(&format!("/admin/newsletter/subscribers/{}", newest.id)).await;
    assert_eq!(status, 200);
    assert!(history.contains(newest.email.as_str()) && history.contains("أُضيف") || history.contains("اشترك"), "{history}");
    assert_eq!(writer.post(&format!("/admin/newsletter/subscribers/{}/erase", newest.id), &[]).await.0, 403);
    let (status, location) = editor.post(&format!("/admin/newsletter/subscribers/{}/erase", newest.id), &[]).await;
    assert_eq!(status, 303, "{location}");
    assert!(app.store.subscriber_by_email(&list[119]).await.unwrap().is_none(), "no row left");
    assert_eq!(app.store.erasure_count().await.unwrap(), 1);
    assert_eq!(editor.post(&format!("/admin/newsletter/subscribers/{}/erase", newest.id), &[]).await.0, 404);
    // The erased id (the highest) is never handed to the next sign-up: the old link in the
    // erased reader's mails must not open a newcomer's preferences.
    let (newcomer, _) = app.store.request_subscription(&Email::parse(&unique("newcomer")).unwrap(), Frequency::Daily).await.unwrap();
    assert_ne!(newcomer.id, newest.id, "an erased subscriber's id was reused");
    let (status, _) = app.get_text(&format!("/newsletter/preferences?t={old_token}")).await;
    assert!(status >= 400, "the erased reader's link opens nothing: {status}");

    // Import: a dry run reports bad lines by number and adds nothing.
    let itag = unique("imp").split('@').next().unwrap().to_string();
    let csv = format!("email,frequency\n{itag}-a@example.org\nnot an address\n{itag}-b@example.org,weekly\n{itag}-c@example.org,monthly\n");
    let (status, report) = import(&editor, &csv, "consented", true).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("السطر 3") && report.contains("السطر 5") && !report.contains("السطر 2:"), "{report}");
    assert!(app.store.subscriber_by_email(&Email::parse(&format!("{itag}-a@example.org")).unwrap()).await.unwrap().is_none());
    // For real, consent given elsewhere: the good lines are active at once.
    let (status, report) = import(&editor, &csv, "consented", false).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("أُضيف 2"), "{report}");
    let b = app.store.subscriber_by_email(&Email::parse(&format!("{itag}-b@example.org")).unwrap()).await.unwrap().unwrap();
    assert_eq!((b.status, b.frequency), (nashir::newsletter::SubscriberStatus::Active, Frequency::Weekly));
    // Asking for confirmation: pending, and the confirmation mail goes out.
    let pending = unique("confirm-me");
    let (status, report) = import(&editor, &format!("{pending}\n"), "confirm", false).await;
    assert_eq!(status, 200, "{report}");
    let p = app.store.subscriber_by_email(&Email::parse(&pending).unwrap()).await.unwrap().unwrap();
    assert_eq!(p.status, nashir::newsletter::SubscriberStatus::Pending);
    let mail = SmtpSink::shared().wait_for(&pending, 1, 20).await.remove(0);
    assert!(mail.text().contains("/newsletter/confirm?t="));
    // An upload over the cap is refused with 413.
    let big = "x@example.org\n".repeat(2 * 1024 * 1024 / 14 + 10);
    assert_eq!(import(&editor, &big, "consented", true).await.0, 413);

    // Export: the active readers only, never the pending one.
    let (status, csv) = editor.get("/admin/newsletter/subscribers.csv").await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("email,frequency,confirmed_at") && csv.contains(&format!("{itag}-b@example.org,weekly")), "{csv}");
    assert!(!csv.contains(&pending) && !csv.contains(&format!("{tag}-119@")));
    assert_eq!(writer.get("/admin/newsletter/subscribers.csv").await.0, 403);
}
storage_test!(subscribers_search_pages_erase_import_export, with_smtp);

async fn issue_test_send_now_counts(app: TestApp) {
    let sink = SmtpSink::shared();
    add_user(&app, "issue-editor@example.org", "محرر", Role::Editor).await;
    let editor = Admin::login(&app, "issue-editor@example.org").await;
    let tag = unique("iss").split('@').next().unwrap().to_string();
    let list = emails(&tag, 30);
    app.store.import_active_subscribers(&list, Frequency::Daily).await.unwrap();
    super::publish(&app, "افتتاح جسر جديد في المدينة", "محليات", 30).await;

    let (status, location) = editor.post("/admin/newsletter/issues", &[("days", "1")]).await;
    assert_eq!(status, 303, "{location}");
    let (status, page) = editor.get(&location).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-status=\"empty\"") && page.contains("id=\"send-now\""), "{page}");
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let (status, preview) = editor.get(&format!("/admin/newsletter/issues/{id}/preview")).await;
    assert!(status == 200 && preview.contains("افتتاح جسر جديد"), "{status}");

    // A test to oneself: only the editor gets it.
    let (status, page) = editor.post(&format!("/admin/newsletter/issues/{id}/test"), &[]).await;
    assert_eq!(status, 200, "{page}");
    let test = sink.wait_for("issue-editor@example.org", 1, 20).await.remove(0);
    assert!(test.header("Subject").unwrap().contains("تجربة"));
    assert!(sink.mails_to(list[0].as_str()).is_empty(), "a test goes to nobody else");

    // Send now: every reader gets it; the page shows the counts reach "sent".
    let (status, _) = editor.post(&format!("/admin/newsletter/issues/{id}/send"), &[]).await;
    assert_eq!(status, 303);
    assert_eq!(editor.post(&format!("/admin/newsletter/issues/{id}/send"), &[]).await.0, 409, "sent once");
    for e in &list {
        sink.wait_for(e.as_str(), 1, 30).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, page) = editor.get(&format!("/admin/newsletter/issues/{id}")).await;
        if page.contains("data-status=\"sent\"") {
            assert!(page.contains("<td data-count=\"sent\">30</td>"), "{page}");
            assert!(!page.contains("http-equiv=\"refresh\""), "no refresh once sent");
            break;
        }
        assert!(page.contains("http-equiv=\"refresh\""), "the page refreshes itself while sending");
        assert!(std::time::Instant::now() < deadline, "the issue never reached sent: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A reader who unsubscribes now is counted against this issue, the last one they got.
    let leaving = app.store.subscriber_by_email(&list[3]).await.unwrap().unwrap();
    app.store.unsubscribe(leaving.id).await.unwrap();
    assert_eq!(app.store.issue_desk_counts(id).await.unwrap().unsubscribes, 1);
    let (_, page) = editor.get(&format!("/admin/newsletter/issues/{id}")).await;
    assert!(page.contains("<td data-count=\"unsubscribes\">1</td>"), "{page}");
    let (status, overview) = editor.get("/admin/newsletter").await;
    assert!(status == 200 && overview.contains("<svg") && overview.contains("<polyline"), "{status}");
}
storage_test!(issue_test_send_now_counts, with_smtp);

fn no_worker(config: &mut nashir::config::Config) {
    super::with_smtp(config);
    config.newsletter.worker = false;
}

async fn cancel_leaves_the_unsent_unsent(app: TestApp) {
    add_user(&app, "cancel-editor@example.org", "محرر", Role::Editor).await;
    let editor = Admin::login(&app, "cancel-editor@example.org").await;
    let tag = unique("cxl").split('@').next().unwrap().to_string();
    let list = emails(&tag, 12);
    app.store.import_active_subscribers(&list, Frequency::Daily).await.unwrap();
    super::publish(&app, "تأجيل الامتحانات أسبوعاً", "تعليم", 30).await;
    let (_, location) = editor.post("/admin/newsletter/issues", &[("days", "1")]).await;
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(editor.post(&format!("/admin/newsletter/issues/{id}/cancel"), &[]).await.0, 409, "not sending yet");
    assert_eq!(editor.post(&format!("/admin/newsletter/issues/{id}/send"), &[]).await.0, 303);
    assert_eq!(editor.post(&format!("/admin/newsletter/issues/{id}/cancel"), &[]).await.0, 303);
    let counts = app.store.issue_desk_counts(id).await.unwrap();
    assert_eq!((counts.cancelled, counts.queued, counts.sent), (12, 0, 0));
    // A worker that runs afterwards sends none of it.
    let pass = Worker::new(newsletter(&app)).pass().await.unwrap();
    assert_eq!(pass.leased, 0);
    let (_, page) = editor.get(&format!("/admin/newsletter/issues/{id}")).await;
    assert!(page.contains("data-status=\"cancelled\"") && page.contains("<td data-count=\"cancelled\">12</td>"), "{page}");
    assert!(SmtpSink::shared().mails_to(list[0].as_str()).is_empty());
}
storage_test!(cancel_leaves_the_unsent_unsent, no_worker);

async fn publish_and_send_mails_each_reader_once(app: TestApp) {
    let sink = SmtpSink::shared();
    add_user(&app, "breaking-editor@example.org", "محررة", Role::Editor).await;
    add_user(&app, "breaking-writer@example.org", "كاتب", Role::Writer).await;
    let editor = Admin::login(&app, "breaking-editor@example.org").await;
    let writer = Admin::login(&app, "breaking-writer@example.org").await;
    let tag = unique("brk").split('@').next().unwrap().to_string();
    let list = emails(&tag, 5);
    app.store.import_active_subscribers(&list, Frequency::Weekly).await.unwrap();

    let fields = |action: &'static str, version: String| {
        vec![
            ("headline", "زلزال بقوة خمس درجات يضرب الساحل".to_string()),
            ("lead", "لا أنباء عن إصابات.".to_string()),
            ("body", "شعر السكان بالهزة في ساعات الصباح الأولى.\n\nوقالت هيئة الرصد إن مركزها في البحر.".to_string()),
            ("section", "محليات".to_string()),
            ("status", "published".to_string()),
            ("action", action.to_string()),
            ("mail_to", "all".to_string()),
            ("version", version),
        ]
    };
    let saved = fields("save", "0".into());
    let id = editor.create(&saved.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    let post = |who: &'static str| {
        let admin = if who == "editor" { &editor } else { &writer };
        let app = &app;
        let fields = &fields;
        async move {
            let version = app.store.article_meta(id).await.unwrap().unwrap().version.to_string();
            let f = fields("publish_send", version);
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post(&format!("/admin/articles/{id}"), &refs).await
        }
    };
    assert_eq!(post("writer").await.0, 403, "writers cannot publish, nor send");
    let (status, first) = post("editor").await;
    assert_eq!(status, 303, "{first}");
    assert!(first.starts_with("/admin/newsletter/issues/"), "{first}");
    // Pressed again: the same issue, no second mail.
    let (status, second) = post("editor").await;
    assert_eq!(status, 303, "{second}");
    assert_eq!(second, format!("{first}?already=1"));
    for e in &list {
        let mails = sink.wait_for(e.as_str(), 1, 30).await;
        let html = mails[0].html();
        assert!(mails[0].header("Subject").unwrap().contains("عاجل"));
        assert!(html.contains("وقالت هيئة الرصد إن مركزها في البحر"), "the mail carries the article");
        assert!(mails[0].text().contains("/newsletter/unsubscribe?t="), "each reader's own link replaced the placeholder");
        assert!(!html.contains("__NASHIR_"));
    }
    // Two nodes asking at the same instant: one issue (the unique slot key decides).
    let other = super::publish(&app, "انقطاع الكهرباء عن أحياء العاصمة", "محليات", 1).await;
    let article = app.store.article_by_id(other).await.unwrap().unwrap();
    let (a, b) = (newsletter(&app), newsletter(&app));
    let (ra, rb) = tokio::join!(a.send_breaking(&article, Audience::Everyone), b.send_breaking(&article, Audience::Everyone));
    let outcomes = [ra.unwrap(), rb.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| matches!(o, BreakingOutcome::Queued(_))).count(), 1, "{outcomes:?}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for e in &list {
        let mails = sink.wait_for(e.as_str(), 2, 30).await;
        assert_eq!(mails.len(), 2, "one mail per article per reader");
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(sink.mails_to(list[0].as_str()).len(), 2, "no late duplicate");
}
storage_test!(publish_and_send_mails_each_reader_once, with_smtp);
