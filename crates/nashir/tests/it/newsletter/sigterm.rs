//! SIGTERM while a request and a newsletter send are in flight: the request gets its whole
//! answer, the messages being handed over are finished and recorded, every background task
//! ends, and the process exits by itself. A later `deliver` sends the rest, with no duplicate.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nashir::domain::Email;
use nashir::domain::Frequency;

use super::sink::SmtpSink;
use crate::helpers::TestApp;
use crate::storage_test;

const SUBSCRIBERS: usize = 1200;

/// `data`: the test's own server holds its data dir's lock, so the spawned one gets another.
fn nashir(app: &TestApp, config: &std::path::Path, data: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nashir"));
    cmd.arg("--config").arg(config).arg("--data").arg(data).arg("--database").arg(&app.config.database_url).args(args);
    cmd.env_remove("NASHIR_SMTP_URL").env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn sigterm_mid_request_and_send(app: TestApp) {
    let sink = SmtpSink::start();
    let tag = format!("term{}", super::unique("x").replace(['@', '.', '-'], ""));
    let addresses: Vec<String> = (0..SUBSCRIBERS).map(|i| format!("{tag}-{i}@example.org")).collect();
    let emails: Vec<Email> = addresses.iter().map(|a| Email::parse(a).unwrap()).collect();
    app.store.import_active_subscribers(&emails, Frequency::Daily).await.unwrap();
    super::publish(&app, "اجتماع طارئ لمجلس المحافظة", "محليات", 30).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nashir.toml");
    let port = free_port();
    std::fs::write(
        &config,
        format!(
            "[server]\naddr = \"127.0.0.1:{port}\"\n[smtp]\nurl = \"{}\"\n[newsletter]\nconcurrency = 4\nrate_per_sec = 150.0\nlease_secs = 2\n",
            sink.url
        ),
    )
    .unwrap();
    // The issue is built and queued by the CLI; the server's worker sends it.
    let data = dir.path().join("node");
    let out = nashir(&app, &config, &data, &["newsletter", "send-now", "--days", "1", "--no-wait"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut server = nashir(&app, &config, &data, &["serve"]).spawn().unwrap();
    let start = Instant::now();
    while sink.all().len() < 20 {
        assert!(start.elapsed() < Duration::from_secs(120), "sending did not start");
        if server.try_wait().unwrap().is_some() {
            let mut stderr = String::new();
            server.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("the server ended early: {stderr}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A request in flight: its head and half of its body are sent before the signal.
    let body = "email=reader%40example.org&frequency=daily&website=";
    let mut request = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    request.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        request,
        "POST /newsletter/subscribe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    request.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let kill = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(kill.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    request.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    let _ = request.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 "), "the request in flight got no answer: {answer:?}");
    let status: u16 = answer[9..12].parse().unwrap();
    assert!(status < 500, "the request in flight failed: {}", &answer[..answer.len().min(300)]);

    // The process ends by itself: the drain bound (30 s) plus the send grace, with margin.
    let start = Instant::now();
    let exit = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    server.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(exit.success(), "exit {exit}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let at_stop = sink.all().len();
    assert!(at_stop < SUBSCRIBERS, "stopped mid-send ({at_stop} of {SUBSCRIBERS})");

    // What the stopped worker left is sent by the next one; nothing was in flight, so nothing
    // arrives twice.
    let out = nashir(&app, &config, &data, &["newsletter", "deliver"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut received: HashMap<String, usize> = HashMap::new();
    for mail in sink.all() {
        for to in mail.to {
            *received.entry(to).or_default() += 1;
        }
    }
    let missing = addresses.iter().filter(|a| !received.contains_key(*a)).count();
    assert_eq!(missing, 0, "subscribers who never got the issue");
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "a graceful stop sent these twice: {twice:?}");
}
storage_test!(sigterm_mid_request_and_send);
