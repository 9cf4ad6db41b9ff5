//! The newsletter desk (editors and owners): subscribers (search, filter, keyset pages,
//! history, erasure, CSV export and import), issues (counts live while sending, the message
//! as it renders, a test to oneself, send now, cancel) and the sign-up chart.

use axum::extract::{Multipart, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::{json, Value};

use super::{local_time, render, AdminError, AdminForm, AdminPath, AdminResult, Fields, Session};
use crate::domain::{Email, Frequency, Role};
use crate::newsletter::digest::IssueRequest;
use crate::newsletter::tokens::Purpose;
use crate::store::desk::{DayCounts, ImportConsent, IssueCounts, SubscriberFilter};
use crate::web::AppState;

/// Lines per page of the subscribers list.
const PAGE: i64 = 50;
/// The import's caps: a newsroom moving its list imports in a few files of this size.
const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
const MAX_IMPORT_LINES: usize = 20_000;
/// Invalid lines listed on the page (all are counted).
const MAX_REPORTED: usize = 200;
/// Days in the sign-up chart.
const CHART_DAYS: i64 = 90;

fn require_editor(session: &Session) -> AdminResult<()> {
    session.require(Role::Editor, "النشرة البريدية")
}

fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "بانتظار التأكيد",
        "active" => "فعّال",
        "unsubscribed" => "ألغى الاشتراك",
        "suppressed" => "موقوف (ارتداد)",
        "bounced" => "فعّال مع ارتداد",
        _ => "غير معروف",
    }
}

fn issue_status_label(status: &str) -> &'static str {
    match status {
        "sending" => "قيد الإرسال",
        "sent" => "أُرسل",
        "cancelled" => "أُلغي",
        "empty" => "مُعدّ، لم يُرسل",
        _ => "غير معروف",
    }
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "digest" => "نشرة مجدولة",
        "manual" => "نشرة يدوية",
        "breaking" => "عاجل",
        _ => "نشرة",
    }
}

fn counts_json(c: &IssueCounts) -> Value {
    json!({ "queued": c.queued, "sending": c.sending, "sent": c.sent, "retrying": c.retrying, "failed": c.failed,
            "bounced": c.bounced, "skipped": c.skipped, "cancelled": c.cancelled, "unsubscribes": c.unsubscribes, "total": c.total() })
}

/// `GET /admin/newsletter`: counts, the sign-up chart and every issue with its counts.
pub async fn overview(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    require_editor(&session)?;
    overview_page(&state, &session, StatusCode::OK, json!({})).await
}

async fn overview_page(state: &AppState, session: &Session, status: StatusCode, extra: Value) -> AdminResult<Response> {
    let counts = state.store.subscriber_status_counts().await?;
    let mut by_status: Vec<Value> = Vec::new();
    for s in ["active", "pending", "bounced", "unsubscribed", "suppressed"] {
        let n = |f: &str| counts.iter().filter(|c| c.status == s && (f.is_empty() || c.frequency == f)).map(|c| c.count).sum::<i64>();
        by_status.push(json!({ "status": s, "label": status_label(s), "daily": n("daily"), "weekly": n("weekly"), "total": n("") }));
    }
    let today = crate::domain::now_secs() / 86_400;
    let days = state.store.signup_days((today - CHART_DAYS + 1) * 86_400).await?;
    let mut issues = Vec::new();
    for issue in state.store.recent_issues(30).await? {
        let c = state.store.issue_desk_counts(issue.id).await?;
        issues.push(json!({ "id": issue.id, "subject": issue.subject, "kind": kind_label(&issue.kind), "status": issue.status,
            "status_label": issue_status_label(&issue.status), "created": local_time(state, issue.created_at), "counts": counts_json(&c) }));
    }
    let chart = signup_chart(&days, today);
    let mut ctx = json!({ "by_status": by_status, "issues": issues, "chart": chart.svg, "chart_totals": chart.totals,
                          "can_send": state.newsletter.mailer.can_send() });
    merge(&mut ctx, extra);
    Ok((status, render(state, Some(session), "admin/newsletter.html", ctx)?).into_response())
}

fn merge(ctx: &mut Value, extra: Value) {
    if let (Some(obj), Value::Object(extra)) = (ctx.as_object_mut(), extra) {
        obj.extend(extra);
    }
}

struct Chart {
    svg: String,
    totals: Value,
}

/// Daily sign-ups, confirmations and unsubscribes over the last `CHART_DAYS` days as an
/// inline SVG (no script, no third party): three lines on one scale, today at the left end
/// of the time axis, as Arabic reads.
fn signup_chart(days: &[DayCounts], today: i64) -> Chart {
    let (width, height, pad) = (720.0_f64, 180.0_f64, 24.0_f64);
    let first = today - CHART_DAYS + 1;
    let mut series = [vec![0i64; CHART_DAYS as usize], vec![0i64; CHART_DAYS as usize], vec![0i64; CHART_DAYS as usize]];
    for d in days.iter().filter(|d| d.day >= first && d.day <= today) {
        let i = (d.day - first) as usize;
        series[0][i] = d.signups;
        series[1][i] = d.confirmations;
        series[2][i] = d.unsubscribes;
    }
    let max = series.iter().flatten().copied().max().unwrap_or(0).max(1);
    let x = |i: usize| width - pad - (i as f64) * (width - 2.0 * pad) / (CHART_DAYS as f64 - 1.0);
    let y = |n: i64| height - pad - (n as f64) * (height - 2.0 * pad) / (max as f64);
    let colours = ["#0b4f8a", "#2e7d32", "#b3261e"];
    let names = ["اشتراكات", "تأكيدات", "إلغاءات"];
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-labelledby=\"chart-title\" style=\"background:#fff;border:1px solid #ddd\">\
         <title id=\"chart-title\">الاشتراكات والتأكيدات والإلغاءات اليومية في آخر {CHART_DAYS} يوماً (الأعلى {max})</title>\
         <line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#999\"/>\
         <text x=\"{r}\" y=\"{t}\" font-size=\"11\" direction=\"rtl\" text-anchor=\"start\" fill=\"#555\">{max}</text>\
         <text x=\"{r}\" y=\"{height}\" font-size=\"11\" direction=\"rtl\" text-anchor=\"start\" fill=\"#555\">اليوم</text>\
         <text x=\"{pad}\" y=\"{height}\" font-size=\"11\" direction=\"rtl\" text-anchor=\"end\" fill=\"#555\">قبل {CHART_DAYS} يوماً</text>",
        b = height - pad,
        r = width - pad,
        t = pad - 6.0,
    );
    for (k, values) in series.iter().enumerate() {
        let points: Vec<String> =
            values.iter().enumerate().map(|(i, n)| format!("{:.1},{:.1}", x(CHART_DAYS as usize - 1 - i), y(*n))).collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            colours[k],
            points.join(" "),
            names[k]
        ));
    }
    svg.push_str("</svg>");
    let sum = |k: usize| series[k].iter().sum::<i64>();
    Chart { svg, totals: json!({ "signups": sum(0), "confirmations": sum(1), "unsubscribes": sum(2), "max": max }) }
}

#[derive(Debug, Default)]
pub struct ListQuery {
    q: String,
    status: String,
    frequency: String,
    before: Option<String>,
}

/// `GET /admin/newsletter/subscribers?q=&status=&frequency=&before=`: newest first, 50 a page.
pub async fn subscribers(State(state): State<AppState>, session: Session, RawQuery(raw): RawQuery) -> AdminResult<Response> {
    require_editor(&session)?;
    let param = |name: &str| crate::web::pages::query_param(&raw, name);
    let query = ListQuery {
        q: param("q").unwrap_or_default(),
        status: param("status").unwrap_or_default(),
        frequency: param("frequency").unwrap_or_default(),
        before: param("before"),
    };
    let erased = param("erased").is_some();
    subscribers_page(&state, &session, StatusCode::OK, &query, json!({ "erased": erased })).await
}

async fn subscribers_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    query: &ListQuery,
    extra: Value,
) -> AdminResult<Response> {
    let filter = SubscriberFilter {
        query: query.q.chars().take(254).collect(),
        status: Some(query.status.as_str())
            .filter(|s| ["pending", "active", "unsubscribed", "suppressed", "bounced"].contains(s))
            .unwrap_or("")
            .into(),
        frequency: Some(query.frequency.as_str()).filter(|f| Frequency::parse(f).is_some()).unwrap_or("").into(),
    };
    let before = query.before.as_deref().and_then(|b| b.parse::<i64>().ok());
    let lines = state.store.list_subscribers(&filter, before, PAGE + 1).await?;
    let more = lines.len() as i64 > PAGE;
    let shown: Vec<Value> = lines
        .iter()
        .take(PAGE as usize)
        .map(|s| {
            json!({ "id": s.id, "email": s.email, "status": s.status, "status_label": status_label(&s.status),
                    "frequency": Frequency::parse(&s.frequency).map(|f| f.arabic()).unwrap_or(""), "bounces": s.bounces,
                    "created": local_time(state, s.created_at) })
        })
        .collect();
    let next = more.then(|| {
        let last = lines[PAGE as usize - 1].id;
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        format!(
            "/admin/newsletter/subscribers?q={}&status={}&frequency={}&before={last}",
            enc(&filter.query),
            filter.status,
            filter.frequency
        )
    });
    let mut ctx = json!({ "subscribers": shown, "next": next, "q": filter.query, "status": filter.status, "frequency": filter.frequency,
                          "first_page": before.is_none(), "max_kb": MAX_IMPORT_BYTES / 1024, "max_lines": MAX_IMPORT_LINES });
    merge(&mut ctx, extra);
    Ok((status, render(state, Some(session), "admin/subscribers.html", ctx)?).into_response())
}

/// `GET /admin/newsletter/subscribers/{id}`: one reader's history.
pub async fn subscriber(State(state): State<AppState>, session: Session, AdminPath(id): AdminPath<i64>) -> AdminResult<Response> {
    require_editor(&session)?;
    let s = state.store.subscriber_line(id).await?.ok_or(AdminError::NotFound)?;
    let mut events = vec![json!({ "at": local_time(&state, s.created_at), "what": match s.source.as_str() {
        "import" => "أُضيف باستيراد (بموافقة سابقة)",
        "import_confirm" => "أُضيف باستيراد وأُرسل إليه طلب تأكيد",
        _ => "اشترك من الموقع",
    } })];
    if let Some(t) = s.confirmed_at {
        events.push(json!({ "at": local_time(&state, t), "what": "أكّد الاشتراك" }));
    }
    if let Some(t) = s.unsubscribed_at {
        events.push(json!({ "at": local_time(&state, t), "what": "ألغى الاشتراك" }));
    }
    let mails: Vec<Value> = state
        .store
        .subscriber_deliveries(id, 200)
        .await?
        .iter()
        .map(|d| {
            json!({ "issue_id": d.issue_id, "subject": d.subject, "kind": kind_label(&d.kind), "status": d.status,
                    "attempts": d.attempts, "sent": d.sent_at.map(|t| local_time(&state, t)), "error": d.last_error })
        })
        .collect();
    let ctx = json!({ "s": { "id": s.id, "email": s.email, "status_label": status_label(&s.status), "bounces": s.bounces,
        "frequency": Frequency::parse(&s.frequency).map(|f| f.arabic()).unwrap_or("") }, "events": events, "mails": mails });
    Ok(render(&state, Some(&session), "admin/subscriber.html", ctx)?.into_response())
}

/// `POST /admin/newsletter/subscribers/{id}/erase`: the right to be forgotten.
pub async fn erase(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    require_editor(&session)?;
    let deliveries = state.store.erase_subscriber(id, Some(session.user.id)).await?.ok_or(AdminError::NotFound)?;
    // The log says that it was done and by whom; never whose address it was.
    tracing::info!(by = session.user.id, deliveries, "newsletter subscriber erased");
    Ok(Redirect::to("/admin/newsletter/subscribers?erased=1").into_response())
}

/// `GET /admin/newsletter/subscribers.csv`: the active subscribers, read page by page.
pub async fn export(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    require_editor(&session)?;
    let mut csv = String::from("email,frequency,confirmed_at\r\n");
    let mut after = 0;
    loop {
        let page = state.store.active_subscribers_page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for s in &page {
            let confirmed = s.confirmed_at.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.to_rfc3339()).unwrap_or_default();
            csv.push_str(&format!("{},{},{}\r\n", csv_cell(&s.email), s.frequency, confirmed));
        }
    }
    tracing::info!(by = session.user.id, "newsletter subscribers exported");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"subscribers.csv\"")],
        csv,
    )
        .into_response())
}

/// A cell a spreadsheet shows as text: no formula (a leading `=`, `+`, `-` or `@`, which
/// an address's local part may have), quoted when it holds a separator or a quote.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// One line of an import that could not be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

/// Reads an import: one subscriber a line, `email[,frequency]` (comma, semicolon or tab),
/// an optional header line, blank lines ignored. Returns the good rows (an address twice in
/// the file is taken once) and the bad lines by number (1-based, as an editor counts them).
pub fn parse_import(text: &str) -> (Vec<(Email, Frequency)>, Vec<BadLine>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let mut cells = line.split([',', ';', '\t']).map(|c| c.trim().trim_matches('"').trim());
        let address = cells.next().unwrap_or("");
        if i == 0 && ["email", "e-mail", "address", "البريد", "البريد الإلكتروني"].contains(&address.to_lowercase().as_str())
        {
            continue;
        }
        let frequency = match cells.next().filter(|f| !f.is_empty()) {
            None => Frequency::Daily,
            Some(f) => match Frequency::parse(&f.to_lowercase()) {
                Some(f) => f,
                None => {
                    bad.push(BadLine {
                        line: i + 1,
                        reason: format!("التواتر «{}» غير معروف (daily أو weekly)", f.chars().take(20).collect::<String>()),
                    });
                    continue;
                }
            },
        };
        match Email::parse(address) {
            Ok(email) => {
                if seen.insert(email.as_str().to_string()) {
                    good.push((email, frequency));
                }
            }
            Err(e) => bad.push(BadLine { line: i + 1, reason: e.to_string() }),
        }
    }
    (good, bad)
}

/// `POST /admin/newsletter/import` (multipart: `csrf`, `consent`, `dry_run`, `file`).
pub async fn import(State(state): State<AppState>, session: Session, mut multipart: Multipart) -> AdminResult<Response> {
    let too_large = || AdminError::TooLarge(format!("الملف أكبر من {} كيلوبايت؛ قسّمه إلى ملفات أصغر.", MAX_IMPORT_BYTES / 1024));
    let (fields, file) = super::read_multipart(&mut multipart, MAX_IMPORT_BYTES, too_large).await?;
    let file = file.map(|(bytes, _, _)| bytes);
    session.check_csrf(&fields)?;
    require_editor(&session)?;
    let query = ListQuery::default();
    let fail = |msg: String| subscribers_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &query, json!({ "import_error": msg }));
    let consent = match fields.text("consent").as_str() {
        "consented" => ImportConsent::ConsentedElsewhere,
        "confirm" => ImportConsent::SendConfirmation,
        _ => return fail("اختر كيف وافق هؤلاء القرّاء: موافقة سابقة، أو رسالة تأكيد تُرسل إليهم.".into()).await,
    };
    let dry_run = fields.get("dry_run").is_some_and(|v| !v.is_empty());
    let Some(bytes) = file.filter(|b| !b.is_empty()) else { return fail("اختر ملف CSV لاستيراده.".into()).await };
    let Ok(text) = String::from_utf8(bytes) else { return fail("الملف ليس نصاً بترميز UTF-8.".into()).await };
    if text.lines().count() > MAX_IMPORT_LINES {
        return fail(format!("الملف أطول من {MAX_IMPORT_LINES} سطر؛ قسّمه إلى ملفات أصغر.")).await;
    }
    let (good, bad) = tokio::task::spawn_blocking(move || parse_import(&text)).await.map_err(|e| AdminError::Internal(e.into()))?;
    let bad_lines: Vec<Value> = bad.iter().take(MAX_REPORTED).map(|b| json!({ "line": b.line, "reason": b.reason })).collect();
    let mut report = json!({ "dry_run": dry_run, "good": good.len(), "bad_count": bad.len(), "bad": bad_lines,
                             "bad_more": bad.len().saturating_sub(MAX_REPORTED) });
    if !dry_run {
        if consent == ImportConsent::SendConfirmation && !state.newsletter.mailer.can_send() {
            return fail("لا يمكن إرسال رسائل التأكيد: خادم البريد (smtp.url) غير مضبوط.".into()).await;
        }
        let outcome = state.store.import_subscribers(&good, consent).await?;
        tracing::info!(by = session.user.id, added = outcome.added, known = outcome.known, bad = bad.len(), "newsletter import");
        merge(&mut report, json!({ "added": outcome.added, "known": outcome.known, "confirmations": outcome.to_confirm.len() }));
        if !outcome.to_confirm.is_empty() {
            send_confirmations(&state, outcome.to_confirm).await?;
        }
    }
    subscribers_page(&state, &session, StatusCode::OK, &query, json!({ "import": report })).await
}

/// Sends the imported readers their confirmation mails one after another in one background
/// task (not one task per address): the mail server sees a steady trickle, and a shutdown
/// stops it (the rest stay pending; they can sign up again).
async fn send_confirmations(state: &AppState, readers: Vec<(i64, String)>) -> AdminResult<()> {
    let nl = state.newsletter.clone();
    let signer = nl.signer().await?.clone();
    state.tasks.spawn("import confirmation mails", move |stop| async move {
        let ttl_hours = nl.config.newsletter.confirm_ttl_hours;
        for (id, address) in readers {
            if stop.is_cancelled() {
                return;
            }
            let Ok(email) = Email::parse(&address) else { continue };
            let token = signer.sign(Purpose::Confirm, &id.to_string(), crate::domain::now_secs() + ttl_hours * 3600);
            let rendered = nl.templates.render(
                "confirm",
                json!({ "site": nl.site_context(), "confirm_url": format!("{}/newsletter/confirm?t={token}", nl.base_url), "ttl_hours": ttl_hours }),
            );
            let message = rendered.and_then(|r| nl.mailer.compose(&email, &r, None));
            match message {
                Ok(m) => {
                    if let Err(e) = nl.mailer.send(m).await {
                        tracing::warn!(subscriber = id, error = %e, "import confirmation mail not sent");
                    }
                }
                Err(e) => tracing::warn!(subscriber = id, error = %format!("{e:#}"), "import confirmation mail not built"),
            }
        }
    });
    Ok(())
}

/// `POST /admin/newsletter/issues`: builds a digest of the last `days` days without sending it.
pub async fn build_issue(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    require_editor(&session)?;
    let days = fields.text("days").parse::<i64>().unwrap_or(1).clamp(1, 31);
    let now = crate::domain::now_secs();
    let req = IssueRequest {
        frequency: "all",
        kind: "manual",
        period_start: Some(now - days * 86_400),
        period_end: now,
        slot_key: None,
        subject: None,
        enqueue: false,
    };
    match state.newsletter.build_issue(&req).await? {
        Some(id) => Ok(Redirect::to(&format!("/admin/newsletter/issues/{id}")).into_response()),
        None => {
            overview_page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": format!("لا مقالات منشورة في آخر {days} يوم؛ لم يُعدّ عدد.") }),
            )
            .await
        }
    }
}

/// `GET /admin/newsletter/issues/{id}`: state and counts; the page reloads itself every few
/// seconds while the issue sends (a meta refresh: no script needed).
pub async fn issue(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    RawQuery(raw): RawQuery,
) -> AdminResult<Response> {
    require_editor(&session)?;
    let extra = if crate::web::pages::query_param(&raw, "already").is_some() {
        json!({ "notice": "أُرسل هذا الخبر إلى المشتركين من قبل؛ لم يُرسل مرة ثانية." })
    } else {
        json!({})
    };
    issue_page(&state, &session, id, StatusCode::OK, extra).await
}

async fn issue_page(state: &AppState, session: &Session, id: i64, status: StatusCode, extra: Value) -> AdminResult<Response> {
    let issue = state.store.issue(id).await?.ok_or(AdminError::NotFound)?;
    let counts = state.store.issue_desk_counts(id).await?;
    // A breaking mail links back to its article.
    let article_id = (issue.kind == "breaking")
        .then(|| serde_json::from_str::<Vec<crate::newsletter::digest::DigestGroup>>(&issue.articles_json).ok())
        .flatten()
        .and_then(|groups| groups.first().and_then(|g| g.articles.first()).map(|a| a.id));
    let mut ctx = json!({ "article_id": article_id, "issue": { "id": issue.id, "subject": issue.subject, "kind": kind_label(&issue.kind), "status": issue.status,
        "status_label": issue_status_label(&issue.status), "created": local_time(state, issue.created_at), "is_breaking": issue.kind == "breaking" },
        "counts": counts_json(&counts), "live": issue.status == "sending", "can_send": state.newsletter.mailer.can_send() });
    merge(&mut ctx, extra);
    Ok((status, render(state, Some(session), "admin/issue.html", ctx)?).into_response())
}

/// `GET /admin/newsletter/issues/{id}/preview`: the HTML part as a reader of every section
/// gets it (under the admin's CSP: no script runs, nothing loads from elsewhere but images).
pub async fn preview(State(state): State<AppState>, session: Session, AdminPath(id): AdminPath<i64>) -> AdminResult<Response> {
    require_editor(&session)?;
    let rendered = rendered_issue(&state, id).await?;
    Ok(Html(rendered.html).into_response())
}

async fn rendered_issue(state: &AppState, id: i64) -> AdminResult<crate::mail::Rendered> {
    let nl = &state.newsletter;
    let issue = state.store.issue(id).await?.ok_or(AdminError::NotFound)?;
    let prefs = format!("{}/newsletter", nl.base_url);
    if issue.kind == "breaking" {
        let fill =
            |s: &str| s.replace(crate::newsletter::worker::MANAGE_MARK, &prefs).replace(crate::newsletter::worker::UNSUB_MARK, &prefs);
        return Ok(crate::mail::Rendered { subject: issue.subject.clone(), text: fill(&issue.body_text), html: fill(&issue.body_html) });
    }
    let groups: Vec<crate::newsletter::digest::DigestGroup> = serde_json::from_str(&issue.articles_json).map_err(anyhow::Error::from)?;
    nl.render_digest(&issue, &groups, &[], &prefs, &prefs)?.ok_or(AdminError::NotFound)
}

/// `POST /admin/newsletter/issues/{id}/test`: the issue to the signed-in editor, now.
pub async fn send_test(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    require_editor(&session)?;
    let nl = &state.newsletter;
    let mut rendered = rendered_issue(&state, id).await?;
    if !nl.mailer.can_send() {
        return issue_page(&state, &session, id, StatusCode::UNPROCESSABLE_ENTITY, json!({ "error": "خادم البريد (smtp.url) غير مضبوط." }))
            .await;
    }
    rendered.subject = format!("[تجربة] {}", rendered.subject);
    let to = Email::parse(&session.user.email).map_err(|e| AdminError::BadRequest(e.to_string()))?;
    let message = nl.mailer.compose(&to, &rendered, None)?;
    match nl.mailer.send(message).await {
        Ok(()) => {
            issue_page(&state, &session, id, StatusCode::OK, json!({ "notice": format!("أُرسلت نسخة تجريبية إلى {}.", to.as_str()) })).await
        }
        Err(e) => {
            tracing::warn!(issue = id, error = %e, "newsletter test mail failed");
            issue_page(
                &state,
                &session,
                id,
                StatusCode::BAD_GATEWAY,
                json!({ "error": "رفض خادم البريد الرسالة التجريبية أو تعذّر الوصول إليه؛ راجع السجل." }),
            )
            .await
        }
    }
}

/// `POST /admin/newsletter/issues/{id}/send`: queues a built digest for its readers.
pub async fn send_now(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    require_editor(&session)?;
    state.store.issue(id).await?.ok_or(AdminError::NotFound)?;
    match state.store.queue_built_issue(id).await? {
        Some(n) => {
            tracing::info!(issue = id, by = session.user.id, recipients = n, "newsletter issue queued from the desk");
            Ok(Redirect::to(&format!("/admin/newsletter/issues/{id}")).into_response())
        }
        None => Err(AdminError::Conflict("هذا العدد ليس بانتظار الإرسال (أُرسل أو أُلغي أو يُرسل الآن).".into())),
    }
}

/// `POST /admin/newsletter/issues/{id}/cancel`: what is unsent stays unsent.
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    require_editor(&session)?;
    state.store.issue(id).await?.ok_or(AdminError::NotFound)?;
    match state.store.cancel_issue(id).await? {
        Some(n) => {
            tracing::info!(issue = id, by = session.user.id, cancelled = n, "newsletter issue cancelled");
            Ok(Redirect::to(&format!("/admin/newsletter/issues/{id}")).into_response())
        }
        None => Err(AdminError::Conflict("لا يمكن إلغاء عدد لا يُرسل الآن.".into())),
    }
}

/// "Publish and send": editors only, and the article must be saved as published.
pub(crate) fn check_publish_send(session: &Session, status: crate::domain::Status) -> AdminResult<()> {
    require_editor(session)?;
    if status != crate::domain::Status::Published {
        return Err(AdminError::BadRequest("«انشر وأرسل» يحتاج الحالة «منشور».".into()));
    }
    Ok(())
}

/// After the article was saved as published: its breaking mail, once. The editor lands on
/// the mail's issue page and watches the counts.
pub(crate) async fn send_breaking(state: &AppState, session: &Session, article_id: i64, fields: &Fields) -> AdminResult<Response> {
    use crate::newsletter::breaking::{Audience, BreakingOutcome};
    let audience = if fields.text("mail_to") == "section" { Audience::SectionFollowers } else { Audience::Everyone };
    let article = state.store.article_by_id(article_id).await?.ok_or(AdminError::NotFound)?;
    match state.newsletter.send_breaking(&article, audience).await? {
        BreakingOutcome::Queued(issue) => {
            tracing::info!(article = article_id, issue, by = session.user.id, "breaking-news mail queued");
            Ok(Redirect::to(&format!("/admin/newsletter/issues/{issue}")).into_response())
        }
        BreakingOutcome::AlreadySent(issue) => Ok(Redirect::to(&format!("/admin/newsletter/issues/{issue}?already=1")).into_response()),
        // Saved as published but scheduled for later: nothing to mail yet.
        BreakingOutcome::NotPublished => Ok(Redirect::to(&format!("/admin/articles/{article_id}?saved=1")).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_reports_bad_lines_by_number_and_keeps_the_good() {
        let text = "email,frequency\nreader1@example.org\n\nnot-an-address\nreader2@example.org;weekly\nreader3@example.org,monthly\nReader1@example.org\n";
        let (good, bad) = parse_import(text);
        let addresses: Vec<&str> = good.iter().map(|(e, _)| e.as_str()).collect();
        assert!(addresses.contains(&"reader2@example.org") && addresses.len() == 2 || addresses.len() == 3, "{addresses:?}");
        assert_eq!(good.iter().find(|(e, _)| e.as_str() == "reader2@example.org").map(|(_, f)| *f), Some(Frequency::Weekly));
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![4, 6]);
    }

    #[test]
    fn exported_cells_are_never_formulas() {
        assert_eq!(csv_cell("=cmd@example.org"), "'=cmd@example.org");
        assert_eq!(csv_cell("reader@example.org"), "reader@example.org");
    }

    #[test]
    fn the_chart_draws_three_lines_over_ninety_days() {
        let today = 20_000;
        let days = vec![
            DayCounts { day: today, signups: 4, confirmations: 3, unsubscribes: 1 },
            DayCounts { day: today - 200, signups: 99, ..Default::default() },
        ];
        let chart = signup_chart(&days, today);
        assert_eq!(chart.svg.matches("<polyline").count(), 3);
        assert_eq!(chart.totals["signups"], 4, "a day outside the window is not drawn");
        assert!(!chart.svg.contains("<script"));
    }
}
