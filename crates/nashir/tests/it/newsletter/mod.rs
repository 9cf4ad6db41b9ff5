//! The newsletter end to end, against a real SMTP server in the test process.

mod crash;
mod desk;
mod sigterm;
pub mod sink;

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Utc};
use nashir::config::Config;
use nashir::domain::{ArticleDraft, Block, Headline, Status};
use nashir::newsletter::digest::IssueRequest;
use nashir::newsletter::worker::Worker;
use nashir::newsletter::{Newsletter, SubscriberStatus};

use crate::helpers::TestApp;
use crate::storage_test;
use sink::SmtpSink;

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000;
    format!("{prefix}-{}-{nanos}-{}@example.org", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Sends through the shared sink; the daily digest is due ten minutes from now (the test
/// runs the scheduler at that time), and the weekly one never during the test.
fn with_smtp(config: &mut Config) {
    config.smtp.url = SmtpSink::shared().url.clone();
    config.newsletter.from = "نشرة ناشر <news@nashir.test>".into();
    config.newsletter.reply_to = "desk@nashir.test".into();
    let tz = config.timezone();
    let local = (Utc::now() + chrono::Duration::minutes(10)).with_timezone(&tz);
    config.newsletter.daily_at = local.format("%H:%M").to_string().parse().unwrap();
    config.newsletter.weekly_on = nashir::config::Day(local.weekday().succ().succ().succ());
    config.newsletter.subscribe_per_ip_per_hour = 6;
}

fn newsletter(app: &TestApp) -> Newsletter {
    Newsletter::new(app.store.clone(), Arc::new(app.config.clone()), &app.base).unwrap()
}

pub async fn publish(app: &TestApp, headline: &str, section: &str, minutes_ago: i64) -> i64 {
    let draft = ArticleDraft {
        headline: Headline::parse(headline).unwrap(),
        lead: format!("مقدمة الخبر: {headline}."),
        body: vec![Block::paragraph("نص الخبر بالتفصيل.")],
        section: Some(section.into()),
        authors: vec![],
        tags: vec![],
        status: Status::Published,
        published_at: Some(Utc::now() - chrono::Duration::minutes(minutes_ago)),
        language: "ar".into(),
        source: None,
        source_key: Some(unique("article")),
        slug: None,
    };
    app.store.upsert_article(&draft).await.unwrap().0
}

async fn post_form(app: &TestApp, path: &str, body: &str, cookie: Option<&str>) -> (u16, String) {
    let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", app.base) };
    let mut req = app.client.post(url).header("content-type", "application/x-www-form-urlencoded").body(body.to_string());
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn link_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text.find(marker).unwrap_or_else(|| panic!("{marker} in {text}"));
    let rest = &text[start..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '"' || c == '>').unwrap_or(rest.len());
    &rest[..end]
}

fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("{name} field in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// GETs a form page and returns its HTML and the cookie to send back with the POST.
async fn open_form(app: &TestApp, url: &str) -> (String, String) {
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    let cookie = resp.headers().get("set-cookie").expect("form sets its cookie").to_str().unwrap().split(';').next().unwrap().to_string();
    (resp.text().await.unwrap(), cookie)
}

async fn subscribe_confirm_digest_unsubscribe(app: TestApp) {
    let sink = SmtpSink::shared();
    let nl = newsletter(&app);
    let reader = unique("reader");

    // The form stands at the end of every article and on /newsletter.
    let id = publish(&app, "افتتاح معرض الكتاب في دمشق", "ثقافة", 1800).await;
    let location = app.get(&format!("/news/{id}")).await.headers()["location"].to_str().unwrap().to_string();
    let (_, article) = app.get_text(&location).await;
    assert!(article.contains("action=\"/newsletter/subscribe\"") && article.contains("name=\"email\""), "{article}");
    let (status, index) = app.get_text("/newsletter").await;
    assert_eq!(status, 200);
    assert!(index.contains("name=\"email\"") && index.contains("name=\"website\""));

    // Sign up: a pending subscriber and a confirmation mail.
    let (status, answer) = post_form(&app, "/newsletter/subscribe", &format!("email={}&website=", enc(&reader.to_uppercase())), None).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("تحقّق من بريدك"));
    let email = nashir::domain::Email::parse(&reader).unwrap();
    assert_eq!(app.store.subscriber_by_email(&email).await.unwrap().unwrap().status, SubscriberStatus::Pending);
    let confirm_mail = sink.wait_for(&reader, 1, 20).await.remove(0);
    assert!(confirm_mail.header("Subject").unwrap().contains("أكّد اشتراكك"), "{:?}", confirm_mail.header("Subject"));
    assert!(confirm_mail.header("List-Unsubscribe").is_none(), "a confirmation is not a list message");
    let confirm_url = link_after(&confirm_mail.text(), &format!("{}/newsletter/confirm?t=", app.base)).to_string();
    assert!(confirm_mail.html().contains(&confirm_url));

    // Following the link (as a mail scanner would) subscribes nobody.
    let (page, cookie) = open_form(&app, &confirm_url).await;
    assert!(page.contains("تأكيد الاشتراك") && page.contains("method=\"post\""));
    assert_eq!(app.store.subscriber_by_email(&email).await.unwrap().unwrap().status, SubscriberStatus::Pending);
    let token = hidden_value(&page, "t");
    let csrf = hidden_value(&page, "csrf");
    let (status, body) = post_form(&app, "/newsletter/confirm", &format!("t={}&csrf={}", enc(&token), enc(&csrf)), None).await;
    assert_eq!(status, 400, "a POST without the form cookie is refused: {body}");
    let (status, body) = post_form(&app, "/newsletter/confirm", &format!("t={}&csrf={}", enc(&token), enc(&csrf)), Some(&cookie)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("تم تأكيد اشتراكك"));
    assert_eq!(app.store.subscriber_by_email(&email).await.unwrap().unwrap().status, SubscriberStatus::Active);

    // Articles are published; the scheduler builds the daily digest at its time.
    publish(&app, "وزير الاقتصاد يعلن خطة لدعم المزارعين", "اقتصاد", 5).await;
    publish(&app, "فوز منتخب الشباب في البطولة العربية", "رياضة", 3).await;
    let built = nl.run_schedule(Utc::now() + chrono::Duration::minutes(11)).await.unwrap();
    assert_eq!(built.len(), 1, "one daily issue");
    let again = nl.run_schedule(Utc::now() + chrono::Duration::minutes(12)).await.unwrap();
    assert!(again.is_empty(), "a slot is built once");
    let digest = sink.wait_for(&reader, 2, 30).await.remove(1);

    // Headers.
    let from = digest.header("From").unwrap();
    assert!(from.contains("news@nashir.test") && from.contains("نشرة ناشر"), "{from}");
    assert!(digest.header("Reply-To").unwrap().contains("desk@nashir.test"));
    assert!(digest.header("Message-ID").unwrap().ends_with("@nashir.test>"));
    assert!(digest.header("List-Id").unwrap().contains("newsletter.127.0.0.1"));
    assert_eq!(digest.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let list_unsubscribe = digest.header("List-Unsubscribe").unwrap();
    assert!(list_unsubscribe.contains("<mailto:news@nashir.test?subject=unsubscribe>"), "{list_unsubscribe}");
    let unsubscribe_url =
        link_after(&list_unsubscribe, &format!("{}/newsletter/unsubscribe?t=", app.base)).trim_end_matches('>').to_string();
    let subject = digest.header("Subject").unwrap();
    assert!(subject.contains("النشرة اليومية"), "{subject}");

    // Bodies: every article with its link, RTL on every block, an Arabic date.
    let (html, text) = (digest.html(), digest.text());
    for headline in ["وزير الاقتصاد يعلن خطة لدعم المزارعين", "فوز منتخب الشباب في البطولة العربية"]
    {
        assert!(html.contains(headline) && text.contains(headline), "{headline}");
    }
    assert!(!html.contains("افتتاح معرض الكتاب"), "published before the period");
    assert!(text.contains(&format!("{}/news/", app.base)));
    for tag in ["<body", "<div", "<p", "<h1", "<h2", "<h3", "<section", "<article", "<header", "<footer"] {
        for (i, _) in html.match_indices(tag) {
            let open = &html[i..i + html[i..].find('>').unwrap()];
            if open[tag.len()..].starts_with([' ', '>']) || open.len() == tag.len() {
                assert!(open.contains("dir=\"rtl\""), "block without dir=rtl: {open}");
            }
        }
    }
    let months = ["كانون", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين", "كانون"];
    assert!(months.iter().any(|m| html.contains(m)), "Arabic date in {html}");
    assert!(html.contains(&unsubscribe_url.replace('&', "&amp;")) || html.contains(&unsubscribe_url));

    // The issue is in the public archive.
    let (status, archive) = app.get_text("/newsletter/archive").await;
    assert_eq!(status, 200);
    let issue_path = link_after(&archive, "/newsletter/archive/").to_string();
    let (status, issue_page) = app.get_text(&issue_path).await;
    assert_eq!(status, 200, "{issue_path}");
    assert!(issue_page.contains("وزير الاقتصاد يعلن خطة لدعم المزارعين"));

    // Preferences from the link in the mail.
    let manage_url = link_after(&text, &format!("{}/newsletter/preferences?t=", app.base)).to_string();
    let (prefs, cookie) = open_form(&app, &manage_url).await;
    assert!(prefs.contains(&reader) && prefs.contains("value=\"weekly\""));
    // The sports section of this newsroom (its slug comes from the Arabic name), and one that
    // does not exist.
    let sport = app.store.sections().await.unwrap().into_iter().find(|s| s.name == "رياضة").expect("the sports section").slug;
    assert!(prefs.contains(&format!("value=\"{sport}\"")), "the form offers the section: {prefs}");
    let body = format!(
        "t={}&csrf={}&frequency=weekly&sections={}&sections=nope&action=save",
        enc(&hidden_value(&prefs, "t")),
        enc(&hidden_value(&prefs, "csrf")),
        enc(sport.as_str())
    );
    let (status, saved) = post_form(&app, "/newsletter/preferences", &body, Some(&cookie)).await;
    assert_eq!(status, 200, "{saved}");
    let sub = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    assert_eq!(sub.frequency.as_str(), "weekly");
    assert_eq!(sub.sections, [sport.as_str()], "the known section is kept, the unknown one dropped");

    // One-click unsubscribe (RFC 8058): one POST, no cookie, no second click.
    let resp = app
        .client
        .post(&unsubscribe_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(app.store.subscriber_by_email(&email).await.unwrap().unwrap().status, SubscriberStatus::Unsubscribed);

    // No further mail.
    publish(&app, "افتتاح جسر جديد في حلب", "اقتصاد", 1).await;
    let req = IssueRequest {
        frequency: "all",
        kind: "manual",
        period_start: Some(Utc::now().timestamp() - 3600),
        period_end: Utc::now().timestamp(),
        slot_key: None,
        subject: None,
        enqueue: true,
    };
    let issue = nl.build_issue(&req).await.unwrap().expect("there are new articles");
    assert_eq!(app.store.issue_counts(issue, String::new()).await.unwrap().total(), 0, "nobody to send to");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails_to(&reader).len(), 2, "nothing after unsubscribing");
}
storage_test!(subscribe_confirm_digest_unsubscribe, with_smtp);

async fn bad_input_is_refused_clearly(app: TestApp) {
    let sink = SmtpSink::shared();
    for (input, expected) in [
        ("victim@example.org\r\nBcc: all@example.org", "غير صالح"),
        ("victim@example.org\nSubject: spam", "غير صالح"),
        ("not-an-address", "غير صالح"),
        ("", "اكتب عنوان بريدك"),
    ] {
        let (status, page) = post_form(&app, "/newsletter/subscribe", &format!("email={}", enc(input)), None).await;
        assert_eq!(status, 400, "{input:?}");
        assert!(page.contains(expected), "{input:?}: {page}");
        assert!(page.contains("dir=\"rtl\""));
    }
    let long = format!("{}@example.org", "a".repeat(10_001));
    let (status, page) = post_form(&app, "/newsletter/subscribe", &format!("email={long}"), None).await;
    assert_eq!(status, 400);
    assert!(page.contains("أطول من 10000"), "{page}");

    // Another site cannot sign people up.
    let resp = app
        .client
        .post(format!("{}/newsletter/subscribe", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .body(format!("email={}", enc(&unique("csrf"))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);

    // The honeypot: same answer, nothing stored, nothing sent.
    let bot = unique("bot");
    let (status, bot_page) = post_form(&app, "/newsletter/subscribe", &format!("email={}&website=spam", enc(&bot)), None).await;
    assert_eq!(status, 200);
    assert!(app.store.subscriber_by_email(&nashir::domain::Email::parse(&bot).unwrap()).await.unwrap().is_none());

    // The same answer whether the address is new or known.
    let person = unique("person");
    let (_, first) = post_form(&app, "/newsletter/subscribe", &format!("email={}", enc(&person)), None).await;
    let (_, second) = post_form(&app, "/newsletter/subscribe", &format!("email={}", enc(&person)), None).await;
    assert_eq!(first, second);
    assert_eq!(first, bot_page);
    // Per-address limit (3 an hour by default): a fourth request answers the same, silently,
    // and sends nothing (these four requests stay under the per-IP limit of 6).
    for _ in 0..2 {
        let (_, again) = post_form(&app, "/newsletter/subscribe", &format!("email={}", enc(&person)), None).await;
        assert_eq!(again, first);
    }
    sink.wait_for(&person, 3, 20).await;

    // Per-IP limit (6 an hour in this test): the next ones are refused with 429.
    let mut limited = false;
    for _ in 0..6 {
        let (status, page) = post_form(&app, "/newsletter/subscribe", &format!("email={}", enc(&unique("many"))), None).await;
        if status == 429 {
            assert!(page.contains("طلبات"));
            limited = true;
            break;
        }
    }
    assert!(limited, "the per-IP limit applies");
    // Mail goes out in the background: give a fourth confirmation time to arrive, if sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails_to(&person).len(), 3, "the per-address limit held back the fourth confirmation");
    assert!(sink.mails_to(&bot).is_empty(), "the honeypot sends nothing");

    // Broken or forged links.
    for path in [
        "/newsletter/confirm?t=garbage",
        "/newsletter/preferences?t=m.1.99999999999.00",
        "/newsletter/unsubscribe?t=",
        "/newsletter/confirm",
    ] {
        let (status, page) = app.get_text(path).await;
        assert_eq!(status, 400, "{path}: {page}");
        assert!(page.contains("الرابط") || page.contains("رابط"), "{page}");
    }
    let (status, _) = app.get_text("/newsletter/archive/999999").await;
    assert_eq!(status, 404);
    let (status, _) = app.get_text("/newsletter/archive/abc").await;
    assert_eq!(status, 404);

    // Header injection through the CLI subject.
    let out = app.nashir(&["newsletter", "send-now", "--subject", "عنوان\r\nBcc: all@example.org", "--days", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--subject") && stderr.contains("أسطر"), "{stderr}");
}
storage_test!(bad_input_is_refused_clearly, with_smtp);

/// 5xx refusals count as bounces and suppress the address; 4xx ones stay queued for a retry
/// and show in `nashir newsletter status`.
async fn failures_bounce_or_retry(app: TestApp) {
    let (bounce, tempfail, fine) = (unique("bounce"), unique("tempfail"), unique("fine"));
    let emails: Vec<_> = [&bounce, &tempfail, &fine].iter().map(|e| nashir::domain::Email::parse(e).unwrap()).collect();
    app.store.import_active_subscribers(&emails, nashir::domain::Frequency::Daily).await.unwrap();
    publish(&app, "تقرير عن موسم الزيتون", "اقتصاد", 2).await;
    let nl = newsletter(&app);
    let req = IssueRequest {
        frequency: "all",
        kind: "manual",
        period_start: Some(Utc::now().timestamp() - 3600),
        period_end: Utc::now().timestamp(),
        slot_key: None,
        subject: Some(nashir::domain::HeaderText::parse("نشرة خاصة").unwrap()),
        enqueue: true,
    };
    let issue = nl.build_issue(&req).await.unwrap().unwrap();
    let mail = SmtpSink::shared().wait_for(&fine, 1, 30).await.remove(0);
    assert_eq!(mail.header("Subject").as_deref(), Some("نشرة خاصة"));
    // Wait for all three outcomes, not only two: the accepted message is marked sent after
    // the bounce and the retry may already be recorded (the worker marks accepted rows in
    // groups), so stopping at "bounced 1, queued 1" could see "sent 0". A loaded machine may
    // take long; the wait gives up only after a minute.
    let mut counts = app.store.issue_counts(issue, String::new()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while (counts.sent, counts.bounced, counts.queued) != (1, 1, 1) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        counts = app.store.issue_counts(issue, String::new()).await.unwrap();
    }
    assert_eq!((counts.sent, counts.bounced, counts.queued), (1, 1, 1), "{counts:?}");
    assert_eq!(app.store.subscriber_by_email(&emails[0]).await.unwrap().unwrap().status, SubscriberStatus::Suppressed);
    let out = app.nashir(&["newsletter", "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("sent 1, queued 1") && stdout.contains("last error"), "{stdout}");
}

fn bounce_once(config: &mut Config) {
    with_smtp(config);
    config.newsletter.max_bounces = 1;
}
storage_test!(failures_bounce_or_retry, bounce_once);

/// One pass keeps the SMTP connections busy across lease batches: the next batch is leased
/// while this one is sent, instead of the pass returning after each batch once its slowest
/// message is done (before, this pass leased exactly one batch of 8). Every accepted message
/// is recorded sent when the pass returns, and each reader got it once.
async fn one_pass_sends_batch_after_batch(app: TestApp) {
    let tag = unique("stream").split('@').next().unwrap().to_string();
    let emails: Vec<_> = (0..40).map(|i| nashir::domain::Email::parse(&format!("{tag}-{i:02}@example.org")).unwrap()).collect();
    app.store.import_active_subscribers(&emails, nashir::domain::Frequency::Daily).await.unwrap();
    publish(&app, "افتتاح معرض الكتاب", "ثقافة", 2).await;
    let req = IssueRequest {
        frequency: "all",
        kind: "manual",
        period_start: Some(Utc::now().timestamp() - 3600),
        period_end: Utc::now().timestamp(),
        slot_key: None,
        subject: None,
        enqueue: true,
    };
    let issue = newsletter(&app).build_issue(&req).await.unwrap().unwrap();
    let pass = Worker::new(newsletter(&app)).pass().await.unwrap();
    assert!(pass.leased > SMALL_BATCH, "one pass leased {} rows: only one batch of {SMALL_BATCH}", pass.leased);
    assert_eq!((pass.sent, pass.retried, pass.bounced), (pass.leased, 0, 0), "{pass:?}");
    let counts = app.store.issue_counts(issue, String::new()).await.unwrap();
    assert_eq!((counts.sent as usize, counts.sending), (pass.sent, 0), "{counts:?}");
    let mut received = 0;
    for email in &emails {
        let n = SmtpSink::shared().mails_to(email.as_str()).len();
        assert!(n <= 1, "{email} got the issue {n} times");
        received += n;
    }
    assert_eq!(received, pass.sent);
}

/// `min(batch_size, concurrency × 4)` rows per lease.
const SMALL_BATCH: usize = 8;

fn small_batches(config: &mut Config) {
    with_smtp(config);
    config.newsletter.worker = false;
    config.newsletter.concurrency = 2;
    config.newsletter.batch_size = SMALL_BATCH as i64;
}
storage_test!(one_pass_sends_batch_after_batch, small_batches);

/// SMTP server down: the issue stays queued with the error recorded, `status` shows it, and
/// nothing is marked sent or dropped.
async fn smtp_down_keeps_the_queue(app: TestApp) {
    let reader = unique("patient");
    app.store
        .import_active_subscribers(&[nashir::domain::Email::parse(&reader).unwrap()], nashir::domain::Frequency::Weekly)
        .await
        .unwrap();
    publish(&app, "انقطاع الكهرباء عن أحياء المدينة", "محليات", 2).await;
    let req = IssueRequest {
        frequency: "all",
        kind: "manual",
        period_start: Some(Utc::now().timestamp() - 3600),
        period_end: Utc::now().timestamp(),
        slot_key: None,
        subject: None,
        enqueue: true,
    };
    let issue = newsletter(&app).build_issue(&req).await.unwrap().unwrap();
    let mut counts = app.store.issue_counts(issue, String::new()).await.unwrap();
    for _ in 0..100 {
        if counts.last_error.is_some() && counts.queued == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        counts = app.store.issue_counts(issue, String::new()).await.unwrap();
    }
    assert_eq!((counts.queued, counts.sent, counts.failed), (1, 0, 0), "{counts:?}");
    assert!(counts.last_error.is_some());
    let out = app.nashir(&["newsletter", "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("queued 1") && stdout.contains("last error"), "{stdout}");
}

fn smtp_down(config: &mut Config) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    config.smtp.url = format!("smtp://127.0.0.1:{port}");
    config.smtp.timeout_secs = 2;
}
storage_test!(smtp_down_keeps_the_queue, smtp_down);
