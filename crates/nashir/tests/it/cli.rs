use crate::helpers::{fixture_path, TestApp};
use crate::storage_test;

async fn import_command_reports_bad_files_and_keeps_good_ones(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    let binary = dir.path().join("image.txt");
    let latin1 = dir.path().join("latin1.txt");
    let headline_only = dir.path().join("headline-only.txt");
    std::fs::write(&empty, "").unwrap();
    std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0xff]).unwrap();
    std::fs::write(&latin1, b"caf\xe9 au lait\n\nd\xe9j\xe0 vu").unwrap();
    std::fs::write(&headline_only, "عنوان بلا نص").unwrap();
    let seed = fixture_path("seed-shaped.txt");
    let missing = dir.path().join("missing.txt");
    let args: Vec<&str> = ["import", "--published-at", "2021-12-03", "--section", "سياسة"]
        .into_iter()
        .chain([&empty, &binary, &seed, &latin1, &headline_only, &missing].map(|p| p.to_str().unwrap()))
        .collect();
    let out = app.nashir(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "non-zero exit when a file failed");
    for (file, reason) in [
        ("empty.txt", "فارغ"),
        ("image.txt", "ثنائي"),
        ("latin1.txt", "UTF-8"),
        ("headline-only.txt", "لا يوجد نص"),
        ("missing.txt", "cannot read"),
    ] {
        assert!(stderr.lines().any(|l| l.contains(file) && l.contains(reason)), "{file} reported with «{reason}»: {stderr}");
    }
    assert!(!stderr.contains("panicked"));
    assert!(stdout.contains("1 imported, 0 updated, 5 failed"), "{stdout}");
    assert_eq!(app.store.all_article_ids().await.unwrap().len(), 1, "the good file still imported");

    // Importing it again updates.
    let out = app.nashir(&["import", seed.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 imported, 1 updated, 0 failed"));
    assert_eq!(app.store.all_article_ids().await.unwrap().len(), 1);
}
storage_test!(import_command_reports_bad_files_and_keeps_good_ones);

#[test]
fn unreachable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["postgres://nobody:secret@127.0.0.1:1/none", "mysql://x/y"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nashir"))
            .args(["--data", dir.path().to_str().unwrap(), "--database", url, "import", "x.txt"])
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("nashir: "), "{stderr}");
        assert!(!stderr.contains("secret"), "password hidden: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn bad_published_at_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nashir"))
        .args(["--data", dir.path().to_str().unwrap(), "import", "--published-at", "03/12/2021", "x.txt"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2021-12-03"));
}

/// `nashir demo` puts a newcomer in the editor in one step: the first run prints a demo
/// owner's login, and that login signs in; a second run prints no password (none is kept).
#[tokio::test]
async fn demo_prints_a_login_that_works() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nashir"))
            .args(["--data", dir.path().to_str().unwrap(), "demo", "--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        // Up to the line naming the address, and the login line right after it on a first run.
        while let Some(Ok(line)) = lines.next() {
            let done = line.contains("ادخل إلى التحرير") || line.contains("حساب المالك التجريبي");
            seen.push(line);
            if done {
                break;
            }
        }
        (child, seen)
    };
    let (mut child, seen) = run();
    let login = seen.iter().find(|l| l.contains("ادخل إلى التحرير")).unwrap_or_else(|| panic!("no login printed: {seen:?}"));
    let words: Vec<&str> = login.split_whitespace().collect();
    let url = words.iter().find(|w| w.starts_with("http")).unwrap().to_string();
    let email = words[words.iter().position(|w| *w == "البريد").unwrap() + 1].to_string();
    let password = words.last().unwrap().to_string();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = client.get(&url).send().await.unwrap();
    assert_eq!(form.status(), 200, "the demo has an account, so the login page shows");
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = crate::editor::csrf_of(&form.text().await.unwrap());
    let signed_in = client
        .post(&url)
        .header("cookie", cookie)
        .form(&[("email", &email), ("password", &password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(signed_in.status(), 303, "the printed login works");
    assert_eq!(signed_in.headers()["location"], "/admin/articles");

    let (mut child, seen) = run();
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().any(|l| l.contains("حساب المالك التجريبي")), "{seen:?}");
    assert!(!seen.iter().any(|l| l.contains(&password)), "a password is printed once");
}
