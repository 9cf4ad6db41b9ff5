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
