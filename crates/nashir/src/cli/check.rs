//! `nashir check`: is this node ready to run? Config, data dir, database and migrations, SMTP.
//! Prints one line per check and never a secret (URLs are shown with their password hidden).

use std::process::ExitCode;
use std::time::Duration;

use crate::config::{redact_url, Config, Overrides};
use crate::store::ops::{migration_state, sqlite_file};

struct Report {
    failed: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("ok    {what}: {detail}");
    }

    fn warn(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("warn  {what}: {detail}");
    }

    fn fail(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.failed += 1;
        println!("FAIL  {what}: {detail}");
    }
}

pub async fn run(overrides: &Overrides) -> anyhow::Result<ExitCode> {
    let mut report = Report { failed: 0 };
    let config = match Config::load(overrides) {
        Ok(config) => {
            let source = overrides
                .config_file
                .clone()
                .or_else(|| std::env::var_os("NASHIR_CONFIG").map(Into::into))
                .or_else(|| std::path::Path::new("nashir.toml").exists().then(|| "nashir.toml".into()));
            match source {
                Some(file) => report.ok("config", format!("{} is valid", file.display())),
                None => report.ok("config", "no config file; built-in defaults and NASHIR_* variables are valid"),
            }
            config
        }
        Err(e) => {
            // The error names the setting; values that could hold secrets are redacted there.
            report.fail("config", format!("{e:#}"));
            return Ok(finish(&report));
        }
    };
    check_data_dir(&mut report, &config);
    check_database(&mut report, &config).await;
    check_smtp(&mut report, &config).await;
    if config.site.url.is_empty() {
        report.warn("site.url", "not set: links in mails and feeds will use http://{server.addr}");
    }
    if config.metrics.enabled && config.metrics.token.is_empty() {
        report.warn("metrics", "enabled without a token: only loopback clients can scrape /metrics");
    }
    Ok(finish(&report))
}

fn finish(report: &Report) -> ExitCode {
    if report.failed == 0 {
        println!("all checks passed");
        ExitCode::SUCCESS
    } else {
        println!("{} check{} failed", report.failed, if report.failed == 1 { "" } else { "s" });
        ExitCode::FAILURE
    }
}

fn check_data_dir(report: &mut Report, config: &Config) {
    let dir = &config.data_dir;
    let probe = dir.join(format!(".nashir-check-{}", std::process::id()));
    let result = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&probe, b"ok")).and_then(|_| std::fs::remove_file(&probe));
    match result {
        Ok(()) => report.ok("data dir", format!("{} is writable", dir.display())),
        Err(e) => report.fail("data dir", format!("{} is not writable: {e}", dir.display())),
    }
}

async fn check_database(report: &mut Report, config: &Config) {
    let url = config.effective_database_url();
    let shown = redact_url(&url);
    if let Some(file) = sqlite_file(&url).filter(|f| !f.exists()) {
        report.warn("database", format!("{} does not exist yet: `nashir serve` creates it (or `nashir restore` a backup)", file.display()));
        return;
    }
    match tokio::time::timeout(Duration::from_secs(15), migration_state(&url)).await {
        Err(_) => report.fail("database", format!("{shown}: no answer within 15s")),
        // StoreError::Unavailable carries the URL already redacted.
        Ok(Err(e)) => report.fail("database", e),
        Ok(Ok(state)) => {
            report.ok("database", format!("{shown} answers"));
            if !state.unknown.is_empty() {
                report.fail(
                    "migrations",
                    format!("the database has migrations {:?} this binary does not know: it is older than the database", state.unknown),
                );
            } else if !state.changed.is_empty() {
                report.fail("migrations", format!("applied migrations {:?} differ from this binary's", state.changed));
            } else if !state.pending.is_empty() {
                report.warn(
                    "migrations",
                    format!("{} applied, {:?} pending (applied when `nashir serve` starts)", state.applied, state.pending),
                );
            } else {
                report.ok("migrations", format!("{} applied, none pending", state.applied));
            }
        }
    }
}

/// Connects to the SMTP server and reads its greeting; nothing is sent, no login tried.
async fn check_smtp(report: &mut Report, config: &Config) {
    let url = &config.smtp.url;
    if url.is_empty() {
        report.warn("smtp", "smtp.url is not set: newsletter mail stays queued");
        return;
    }
    let shown = redact_url(url);
    let Some((host, port)) = smtp_host_port(url) else {
        report.fail("smtp", format!("{shown}: no host in the URL"));
        return;
    };
    let greeting = async {
        use tokio::io::AsyncReadExt;
        let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string())
    };
    match tokio::time::timeout(Duration::from_secs(5), greeting).await {
        Err(_) => report.fail("smtp", format!("{shown}: no answer within 5s")),
        Ok(Err(e)) => report.fail("smtp", format!("{shown}: cannot connect: {e}")),
        // Implicit TLS (smtps) greets only after the handshake: a connection is all we learn.
        Ok(Ok(_)) if url.starts_with("smtps://") => report.ok("smtp", format!("{shown} accepts connections")),
        Ok(Ok(line)) if line.starts_with("220") => report.ok("smtp", format!("{shown} answers ({line})")),
        Ok(Ok(line)) => report.fail("smtp", format!("{shown}: unexpected greeting {line:?}")),
    }
}

/// Host and port of an SMTP URL, with lettre's default ports.
fn smtp_host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default = match scheme {
        "smtps" => 465,
        _ if url.contains("tls=required") || url.contains("tls=opportunistic") => 587,
        _ => 25,
    };
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host.to_string(), after.strip_prefix(':').and_then(|p| p.parse().ok()).unwrap_or(default))
        }
        None => match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (hostport.to_string(), default),
        },
    };
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::smtp_host_port;

    #[test]
    fn smtp_addresses() {
        assert_eq!(smtp_host_port("smtp://127.0.0.1:2525"), Some(("127.0.0.1".into(), 2525)));
        assert_eq!(smtp_host_port("smtp://u:p@mail.example.org?tls=required"), Some(("mail.example.org".into(), 587)));
        assert_eq!(smtp_host_port("smtps://mail.example.org"), Some(("mail.example.org".into(), 465)));
        assert_eq!(smtp_host_port("smtp://[::1]:25"), Some(("::1".into(), 25)));
        assert_eq!(smtp_host_port("smtp://"), None);
    }
}
