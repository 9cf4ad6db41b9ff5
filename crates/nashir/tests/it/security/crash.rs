//! `kill -9` in the middle of an import and of a backup (the newsletter send has its own test
//! in `newsletter::crash`): afterwards `nashir check` is clean, the same command run again
//! completes, and nothing is lost or doubled.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp};
use crate::storage_test;

fn nashir(app: &TestApp, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nashir"));
    cmd.arg("--data").arg(app.data_dir()).arg("--database").arg(&app.config.database_url).args(args);
    cmd.env_remove("NASHIR_CONFIG").env_remove("NASHIR_SMTP_URL").env("RUST_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

fn run(app: &TestApp, args: &[&str]) -> std::process::Output {
    nashir(app, args).output().expect("run nashir")
}

fn assert_check_clean(app: &TestApp, after: &str) {
    let out = run(app, &["check"]);
    assert!(
        out.status.success(),
        "`nashir check` after {after}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn article_count(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM articles").fetch_one(app.store.pool()).await.unwrap()
}

const ARTICLES: usize = 4000;

/// An archive of distinct articles in the JSON Lines format.
fn write_archive(path: &Path) {
    let mut out = String::new();
    let sections = ["sport", "economy", "culture", "politics"];
    for i in 0..ARTICLES {
        let line = serde_json::json!({
            "id": format!("crash-{i}-20240{}1{}", 1 + i % 9, i % 10),
            "title": format!("خبر رقم {i} عن اجتماع المجلس البلدي في المدينة"),
            "body": format!("فقرة أولى من الخبر {i} تروي ما جرى.\nفقرة ثانية فيها تفاصيل أخرى عن الخبر {i}.\n«قول منسوب إلى مسؤول»"),
            "category": sections[i % sections.len()],
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

async fn kill_mid_import_then_rerun(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive.jsonl");
    write_archive(&archive);
    let archive = archive.to_str().unwrap();

    let mut child = nashir(&app, &["import", archive]).spawn().unwrap();
    let start = Instant::now();
    while article_count(&app).await < (ARTICLES / 10) as i64 {
        assert!(start.elapsed() < Duration::from_secs(120), "the import did not start");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the import ended before the kill: {status}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = article_count(&app).await;
    assert!(at_kill < ARTICLES as i64, "killed mid-import ({at_kill} of {ARTICLES})");
    assert_check_clean(&app, "an import killed with SIGKILL");

    let out = run(&app, &["import", archive]);
    assert!(out.status.success(), "the rerun of the import: {}", String::from_utf8_lossy(&out.stderr));
    // Everything once: an article the first run wrote is recognised, not imported again.
    assert_eq!(article_count(&app).await, ARTICLES as i64, "after the rerun ({at_kill} were in at the kill)");
    let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT headline) FROM articles").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(distinct, ARTICLES as i64, "no article twice");
    assert_check_clean(&app, "the rerun of the import");
}
storage_test!(kill_mid_import_then_rerun);

/// A backup killed at any moment leaves no file under the final name, or a whole one; the
/// same command then completes (or refuses to overwrite a whole backup, saying why).
async fn kill_mid_backup_then_rerun(backend: Backend) {
    crate::helpers::with_app(
        backend,
        |_| {},
        |app| async move {
            let dir = tempfile::tempdir().unwrap();
            let archive = dir.path().join("archive.jsonl");
            write_archive(&archive);
            let out = run(&app, &["import", archive.to_str().unwrap()]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            if backend == Backend::Postgres {
                // PostgreSQL is backed up with its own tools; `nashir backup` says so and exits 2.
                let out = run(&app, &["backup", dir.path().join("b.nashir").to_str().unwrap()]);
                assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
                return;
            }
            for delay_ms in [0u64, 2, 5, 10, 20, 40, 80] {
                let file = dir.path().join(format!("backup-{delay_ms}.nashir"));
                let file_arg = file.to_str().unwrap().to_string();
                let mut child = nashir(&app, &["backup", &file_arg]).spawn().unwrap();
                std::thread::sleep(Duration::from_millis(delay_ms));
                let _ = child.kill();
                let finished = child.wait().unwrap().success();
                assert_check_clean(&app, &format!("a backup killed after {delay_ms} ms"));
                let out = run(&app, &["backup", &file_arg]);
                if file.exists() && finished {
                    assert!(!out.status.success(), "a whole backup is not overwritten without --force");
                    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"), "{}", String::from_utf8_lossy(&out.stderr));
                } else {
                    assert!(
                        out.status.success(),
                        "the rerun of a backup killed after {delay_ms} ms: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                // What is under the final name is a whole backup: it restores, with every article.
                let restored = dir.path().join(format!("restored-{delay_ms}"));
                let out = Command::new(env!("CARGO_BIN_EXE_nashir"))
                    .arg("--data")
                    .arg(&restored)
                    .args(["restore", &file_arg])
                    .env_remove("NASHIR_CONFIG")
                    .env_remove("NASHIR_DATABASE_URL")
                    .output()
                    .unwrap();
                assert!(out.status.success(), "restore of {file_arg}: {}", String::from_utf8_lossy(&out.stderr));
                let db = restored.join("nashir.db");
                let url = format!("sqlite://{}?mode=ro", db.display());
                let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.expect("the restored database opens");
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM articles").fetch_one(&mut conn).await.unwrap();
                assert_eq!(count, ARTICLES as i64, "the backup of run {delay_ms} ms holds every article");
            }
        },
    )
    .await;
}
storage_test!(kill_mid_backup_then_rerun(Backend));

/// A `nashir serve` of its own (own data dir and search index, the test's database), killed
/// with SIGKILL while editors' scripts publish through it.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    fn start(app: &TestApp, data: &Path) -> Server {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_nashir"))
            .arg("--data")
            .arg(data)
            .arg("--database")
            .arg(&app.config.database_url)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .env_remove("NASHIR_CONFIG")
            .env_remove("NASHIR_SMTP_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nashir serve");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("serve prints its address");
        let base = line.split_whitespace().find(|w| w.starts_with("http://")).expect("address line").trim_end_matches('/').to_string();
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const DRAFTS: usize = 150;

/// Each article's row agrees with its newest revision: a publish is all or nothing.
async fn assert_articles_match_revisions(app: &TestApp, after: &str) {
    let rows: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, status, version FROM articles ORDER BY id").fetch_all(app.store.pool()).await.unwrap();
    for (id, status, version) in rows {
        let (newest, snapshot): (i64, String) =
            sqlx::query_as(&format!("SELECT version, snapshot FROM revisions WHERE article_id = {id} ORDER BY version DESC LIMIT 1"))
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        let snapshot: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
        assert_eq!((newest, snapshot["status"].as_str().unwrap_or("?")), (version, status.as_str()), "article {id} after {after}");
    }
}

async fn kill_mid_publish_then_retry(app: TestApp) {
    use nashir::accounts::{hash_password, random_token, token_hash};
    use nashir::domain::Role;
    let editor =
        app.store.create_user("editor@example.org", "محرر", Role::Editor, &hash_password("كلمة-مرور-طويلة-1").unwrap()).await.unwrap();
    let token = format!("nsr_{}", random_token());
    app.store.create_api_token(editor, "crash", &token_hash(&token)).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..DRAFTS {
        let resp = app
            .client
            .post(format!("{}/api/v1/articles", app.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "headline": format!("مسودة رقم {i} للنشر"), "body": format!("نص المسودة {i}.\n\nفقرة ثانية.") }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        ids.push(resp.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap());
    }

    let node_dir = tempfile::tempdir().unwrap();
    let server = Server::start(&app, node_dir.path());
    let client = reqwest::Client::new();
    let publish_token = token.clone();
    let publish = move |base: String, id: i64| {
        let (client, token) = (client.clone(), publish_token.clone());
        async move { client.post(format!("{base}/api/v1/articles/{id}/publish")).bearer_auth(token).send().await.map(|r| r.status().as_u16()) }
    };
    // Eight scripts publishing at once; the server dies under them.
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in ids.chunks(DRAFTS / 8 + 1) {
        let chunk = chunk.to_vec();
        let (base, publish) = (server.base.clone(), publish.clone());
        tasks.spawn(async move {
            for id in chunk {
                if publish(base.clone(), id).await.is_err() {
                    break; // the server is gone
                }
            }
        });
    }
    let start = Instant::now();
    loop {
        let published: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE status = 'published'").fetch_one(app.store.pool()).await.unwrap();
        if published >= (DRAFTS / 4) as i64 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "publishing did not start ({published})");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(server); // SIGKILL
    while tasks.join_next().await.is_some() {}
    assert_check_clean(&app, "a server killed while publishing");
    assert_articles_match_revisions(&app, "the kill").await;

    // The scripts retry every publish against a running server: all published, each once.
    for id in &ids {
        assert_eq!(publish(app.base.clone(), *id).await.unwrap(), 200, "publish {id} again");
    }
    let published: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE status = 'published'").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(published, DRAFTS as i64);
    assert_articles_match_revisions(&app, "the retries").await;
    let max_revisions: i64 = sqlx::query_scalar("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM revisions GROUP BY article_id) AS counts")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(max_revisions <= 2, "a publish repeated after the crash made another revision ({max_revisions} for one article)");
    assert_check_clean(&app, "the retries");
}
storage_test!(kill_mid_publish_then_retry);
