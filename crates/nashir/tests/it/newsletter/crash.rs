//! `kill -9` in the middle of sending an issue, then a restart: everyone gets the issue, only
//! the messages in flight at the kill may arrive twice, and the restarted node takes back the
//! dead process's leases at once instead of waiting them out.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nashir::domain::Email;
use nashir::domain::Frequency;

use super::sink::SmtpSink;
use crate::helpers::TestApp;
use crate::storage_test;

const SUBSCRIBERS: usize = 1500;
const CONCURRENCY: usize = 8;
/// The worker leases `min(batch_size, concurrency × 4)` rows at a time (the next batch while
/// this one is sent) and marks the accepted ones sent in groups of half a batch, written while
/// sending goes on: a kill resends at most the messages in flight and one batch of accepted
/// but unmarked ones — the promise is "at most concurrency + batch".
const BATCH: usize = CONCURRENCY * 4;
const TWICE_AT_MOST: usize = CONCURRENCY + BATCH;
/// Far longer than the test may take: the restart must not wait for the dead leases to run out.
const LEASE_SECS: u64 = 600;

fn nashir(app: &TestApp, config: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nashir"));
    cmd.arg("--config").arg(config).arg("--data").arg(app.data_dir()).arg("--database").arg(&app.config.database_url).args(args);
    cmd.env_remove("NASHIR_SMTP_URL").env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

async fn kill_mid_send_then_resume(app: TestApp) {
    let sink = SmtpSink::start();
    let tag = format!("crash{}", super::unique("x").replace(['@', '.', '-'], ""));
    let addresses: Vec<String> = (0..SUBSCRIBERS).map(|i| format!("{tag}-{i}@example.org")).collect();
    let emails: Vec<Email> = addresses.iter().map(|a| Email::parse(a).unwrap()).collect();
    app.store.import_active_subscribers(&emails, Frequency::Daily).await.unwrap();
    super::publish(&app, "اجتماع طارئ لمجلس المحافظة", "محليات", 30).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nashir.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nurl = \"{}\"\n[newsletter]\nconcurrency = {CONCURRENCY}\nrate_per_sec = 600.0\nlease_secs = {LEASE_SECS}\nworker = false\n",
            sink.url
        ),
    )
    .unwrap();

    let mut child = nashir(&app, &config, &["newsletter", "send-now", "--days", "1"]).spawn().unwrap();
    let start = Instant::now();
    while sink.all().len() < SUBSCRIBERS / 4 {
        assert!(start.elapsed() < Duration::from_secs(60), "sending did not start: {} mails", sink.all().len());
        if let Some(status) = child.try_wait().unwrap() {
            panic!("send-now ended before the kill: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, no graceful shutdown.
    child.wait().unwrap();
    let at_kill = sink.all().len();
    assert!(at_kill < SUBSCRIBERS, "killed mid-send ({at_kill} of {SUBSCRIBERS})");

    // Restart: the queue is drained, including the rows the dead process had leased, at once.
    let mut resumed = nashir(&app, &config, &["newsletter", "deliver"]).spawn().unwrap();
    let restart = Instant::now();
    let status = loop {
        if let Some(status) = resumed.try_wait().unwrap() {
            break status;
        }
        if restart.elapsed() > Duration::from_secs(60) {
            resumed.kill().unwrap();
            resumed.wait().unwrap();
            panic!("the restarted deliver waited out the dead process's {LEASE_SECS}-s leases");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut resumed.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");

    let mut received: HashMap<String, usize> = HashMap::new();
    for mail in sink.all() {
        for to in mail.to {
            *received.entry(to).or_default() += 1;
        }
    }
    let missing: Vec<_> = addresses.iter().filter(|a| !received.contains_key(*a)).collect();
    assert!(missing.is_empty(), "{} subscribers never got the issue, e.g. {:?}", missing.len(), &missing[..missing.len().min(3)]);
    let twice: usize = received.values().map(|n| n - 1).sum();
    eprintln!("crash test: {at_kill} sent before the kill, {twice} sent twice (concurrency {CONCURRENCY}, batch {BATCH})");
    assert!(twice <= TWICE_AT_MOST, "{twice} duplicates: more than concurrency + batch ({TWICE_AT_MOST})");
    assert_eq!(received.len(), SUBSCRIBERS);
}
storage_test!(kill_mid_send_then_resume);
