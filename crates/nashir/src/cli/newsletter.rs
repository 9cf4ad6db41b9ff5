//! `nashir newsletter …`: send an issue by hand, drain the queue, show where delivery stands,
//! add confirmed subscribers from a list.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::domain::Frequency;
use crate::domain::{Email, HeaderText};
use crate::newsletter::digest::IssueRequest;
use crate::newsletter::worker::Worker;
use crate::newsletter::Newsletter;

#[derive(Args, Debug)]
pub struct NewsletterArgs {
    #[command(subcommand)]
    pub command: NewsletterCommand,
}

#[derive(Subcommand, Debug)]
pub enum NewsletterCommand {
    /// Build an issue from the articles published since the last one and send it to every
    /// active subscriber now, with a progress bar.
    SendNow {
        /// Subject line (default: the digest subject).
        #[arg(long)]
        subject: Option<String>,
        /// Include the articles of the last N days instead of those since the last issue.
        #[arg(long, value_name = "N")]
        days: Option<i64>,
        /// Only queue the issue; the worker of `nashir serve` sends it.
        #[arg(long)]
        no_wait: bool,
    },
    /// Send whatever is queued (after a crash, or when `serve` does not run a worker).
    Deliver,
    /// Subscribers and the delivery state of recent issues.
    Status,
    /// Add confirmed subscribers from a file with one address per line (for migrations).
    AddSubscribers {
        file: PathBuf,
        /// daily or weekly
        #[arg(long, default_value = "daily")]
        frequency: String,
    },
}

pub async fn run(config: Config, args: &NewsletterArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(&config).await?;
    let base_url = Newsletter::base_url_of(&config);
    let nl = Newsletter::new(store.clone(), Arc::new(config), &base_url)?;
    match &args.command {
        NewsletterCommand::SendNow { subject, days, no_wait } => {
            let subject = match subject {
                Some(s) => Some(HeaderText::parse(s).map_err(|e| anyhow::anyhow!("--subject: {e}"))?).filter(|s| !s.as_str().is_empty()),
                None => None,
            };
            let now = crate::domain::now_secs();
            let req = IssueRequest {
                frequency: "all",
                kind: "manual",
                period_start: days.map(|d| now - d.max(1) * 86_400),
                period_end: now,
                slot_key: None,
                subject,
                enqueue: true,
            };
            let Some(issue) = nl.build_issue(&req).await? else {
                eprintln!("nashir: لا مقالات جديدة منذ العدد السابق؛ لم يُنشأ عدد (جرّب --days 7)");
                return Ok(ExitCode::FAILURE);
            };
            let counts = store.issue_counts(issue, String::new()).await?;
            println!("العدد {issue}: {} رسالة في الطابور", counts.total());
            if *no_wait {
                return Ok(ExitCode::SUCCESS);
            }
            deliver(&nl, Some(issue)).await
        }
        NewsletterCommand::Deliver => deliver(&nl, None).await,
        NewsletterCommand::Status => {
            for status in ["active", "pending", "unsubscribed", "suppressed"] {
                println!("subscribers {status}: {}", store.count_subscribers(status).await?);
            }
            if !nl.mailer.can_send() {
                println!("smtp.url is not set: queued mail waits");
            }
            for c in store.delivery_counts(10).await? {
                println!(
                    "issue {} «{}»: sent {}, queued {}, sending {}, bounced {}, failed {}, skipped {}{}",
                    c.issue_id,
                    c.subject,
                    c.sent,
                    c.queued,
                    c.sending,
                    c.bounced,
                    c.failed,
                    c.skipped,
                    c.last_error.map(|e| format!(" — last error: {e}")).unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        NewsletterCommand::AddSubscribers { file, frequency } => {
            let frequency = Frequency::parse(frequency).ok_or_else(|| anyhow::anyhow!("--frequency must be daily or weekly"))?;
            let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let mut emails = Vec::new();
            let mut bad = 0;
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                match Email::parse(line) {
                    Ok(e) => emails.push(e),
                    Err(e) => {
                        bad += 1;
                        eprintln!("{}:{}: {e}", file.display(), n + 1);
                    }
                }
            }
            let added = store.import_active_subscribers(&emails, frequency).await?;
            println!("{added} added, {} already known, {bad} rejected", emails.len() as u64 - added);
            Ok(if bad > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
    }
}

/// Drains the queue (or one issue) with a progress bar. Rows leased by a process of this node
/// that died are taken back at once (another node's, when their lease runs out); rows
/// waiting for a retry are left to `serve`.
async fn deliver(nl: &Newsletter, issue: Option<i64>) -> anyhow::Result<ExitCode> {
    if !nl.mailer.can_send() {
        anyhow::bail!("smtp.url (or NASHIR_SMTP_URL) is not set: nothing can be sent");
    }
    let remaining = |c: &crate::newsletter::DeliveryCounts| c.queued + c.sending;
    let ids = match issue {
        Some(id) => vec![id],
        None => nl.store.sending_issue_ids().await?,
    };
    let counts = || async {
        let mut list = Vec::with_capacity(ids.len());
        for id in &ids {
            list.push(nl.store.issue_counts(*id, String::new()).await?);
        }
        anyhow::Ok(list)
    };
    let total: i64 = counts().await?.iter().map(|c| c.total()).sum();
    let bar = ProgressBar::new(total.max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let worker = Worker::new(nl.clone());
    let started = std::time::Instant::now();
    let mut sent_here = 0usize;
    let mut idle_rounds = 0;
    let mut last_count = std::time::Instant::now();
    loop {
        let pass = worker.pass().await?;
        sent_here += pass.sent;
        // Counting scans the issue's rows (100,000 for a big list): after every batch that was
        // a scan per ~128 messages. While batches come, the bar moves by what they did and the
        // queue is counted once a second; an empty pass always counts (is anything left?).
        if pass.leased > 0 && last_count.elapsed() < Duration::from_secs(1) {
            bar.inc((pass.sent + pass.bounced + pass.skipped) as u64);
            idle_rounds = 0;
            continue;
        }
        last_count = std::time::Instant::now();
        let list = counts().await?;
        bar.set_position(list.iter().map(|c| c.done()).sum::<i64>().max(0) as u64);
        let left: i64 = list.iter().map(remaining).sum();
        if left == 0 {
            break;
        }
        if pass.leased == 0 {
            // Only rows leased elsewhere (or by a crashed run) or waiting for a retry are left.
            let waiting_retry: i64 = list.iter().map(|c| c.queued).sum();
            idle_rounds += 1;
            if waiting_retry == left && idle_rounds > 3 {
                bar.abandon();
                println!("{left} رسالة تنتظر إعادة المحاولة؛ سيرسلها عامل `nashir serve` أو `nashir newsletter deliver` لاحقاً");
                return Ok(ExitCode::from(2));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        } else {
            idle_rounds = 0;
        }
    }
    bar.finish();
    let secs = started.elapsed().as_secs_f64();
    println!("{sent_here} sent in {secs:.1} s ({:.0} messages/s)", sent_here as f64 / secs.max(1e-3));
    for c in counts().await? {
        println!("issue {}: sent {}, bounced {}, failed {}, skipped {}", c.issue_id, c.sent, c.bounced, c.failed, c.skipped);
    }
    Ok(ExitCode::SUCCESS)
}
