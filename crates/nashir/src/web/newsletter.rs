//! Newsletter pages: sign-up, confirmation (a POST behind a button, so link scanners never
//! subscribe anyone), preferences, one-click unsubscribe (RFC 8058) and the public archive.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::json;

use super::pages::{query_param, site_view, url_pairs};
use super::{error_page, AppState, PageError};
use crate::domain::{now_secs, Frequency};
use crate::domain::{Email, MailInputError, MAX_INPUT_CHARS};
use crate::newsletter::digest::{frequency_name, DigestGroup};
use crate::newsletter::{Newsletter, Purpose, Subscriber, SubscriberStatus, TokenError};
use crate::store::from_secs;

const CSRF_COOKIE: &str = "nashir_nl_csrf";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/newsletter", get(index))
        .route("/newsletter/subscribe", axum::routing::post(subscribe))
        .route("/newsletter/confirm", get(confirm_page).post(confirm))
        .route("/newsletter/preferences", get(preferences_page).post(save_preferences))
        .route("/newsletter/unsubscribe", get(unsubscribe_page).post(unsubscribe))
        .route("/newsletter/archive", get(archive))
        .route("/newsletter/archive/{id}", get(issue_page))
}

fn form(body: &str) -> Result<Vec<(String, String)>, PageError> {
    if body.chars().count() > 4 * MAX_INPUT_CHARS {
        return Err(PageError::BadRequest(format!("البيانات المرسلة أطول من {MAX_INPUT_CHARS} حرف.")));
    }
    let pairs = url_pairs(body);
    if pairs.iter().any(|(_, v)| v.chars().count() > MAX_INPUT_CHARS) {
        return Err(PageError::BadRequest(format!("أحد الحقول أطول من {MAX_INPUT_CHARS} حرف.")));
    }
    Ok(pairs)
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn token_error(e: TokenError, what: &str) -> PageError {
    match e {
        TokenError::Expired => PageError::BadRequest(format!("انتهت صلاحية {what}. اطلب رابطاً جديداً.")),
        TokenError::Invalid => PageError::BadRequest(format!("{what} غير صالح. تأكد من نسخ الرابط كاملاً من الرسالة.")),
    }
}

async fn subscriber_from_token(nl: &Newsletter, purpose: Purpose, token: Option<&str>, what: &str) -> Result<Subscriber, PageError> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(|| PageError::BadRequest(format!("{what} ناقص.")))?;
    let signer = nl.signer().await?;
    let subject = signer.verify(purpose, token, now_secs()).map_err(|e| token_error(e, what))?;
    let id: i64 = subject.parse().map_err(|_| token_error(TokenError::Invalid, what))?;
    nl.store.subscriber(id).await?.ok_or(PageError::NotFound)
}

async fn message_page(state: &AppState, heading: &str, messages: &[&str], link: Option<(&str, &str)>) -> Result<Html<String>, PageError> {
    let site = site_view(state).await?;
    Ok(Html(state.templates.render(
        "newsletter/message.html",
        json!({ "site": site, "heading": heading, "messages": messages, "link": link.map(|(url, name)| json!({ "url": url, "name": name })) }),
    )?))
}

/// The form's double-submit cookie; `Secure` when the site is served over https.
fn csrf_cookie(state: &AppState, nonce: &str) -> String {
    super::admin::private_cookie(CSRF_COOKIE, nonce, "/newsletter", cookie::SameSite::Strict, 21600, super::admin::secure_cookies(state))
}

async fn check_csrf(nl: &Newsletter, headers: &HeaderMap, pairs: &[(String, String)]) -> Result<(), PageError> {
    let signer = nl.signer().await?;
    if signer.check_form(super::admin::cookie_value(headers, CSRF_COOKIE).as_deref(), field(pairs, "csrf").unwrap_or(""), now_secs()) {
        Ok(())
    } else {
        Err(PageError::BadRequest("انتهت صلاحية النموذج أو أن ملفات تعريف الارتباط معطلة. أعد فتح الرابط من الرسالة وحاول مجدداً.".into()))
    }
}

/// Refuses sign-ups posted from another site (the sign-up form sits on cached article pages,
/// so it carries no per-visitor token; browsers always say where a cross-site POST came from).
fn same_origin(headers: &HeaderMap) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return false;
    }
    match (headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), headers.get(header::HOST).and_then(|v| v.to_str().ok())) {
        (Some(origin), Some(host)) => origin.split("://").nth(1).is_some_and(|h| h.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

pub async fn index(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let site = site_view(&state).await?;
    let issues = issue_links(&state, 5).await?;
    Ok(Html(state.templates.render(
        "newsletter/index.html",
        json!({ "site": site, "issues": issues, "canonical": format!("{}/newsletter", state.base_url) }),
    )?))
}

async fn issue_links(state: &AppState, limit: i64) -> Result<Vec<serde_json::Value>, PageError> {
    Ok(state
        .store
        .published_issues(limit)
        .await?
        .iter()
        .map(|i| json!({ "url": format!("/newsletter/archive/{}", i.id), "subject": i.subject, "date": state.dates.long(from_secs(i.period_end)) }))
        .collect())
}

pub async fn subscribe(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let nl = &state.newsletter;
    if !same_origin(&headers) {
        return Err(PageError::BadRequest("لا يُقبل الاشتراك إلا من نموذج هذا الموقع.".into()));
    }
    let pairs = form(&body)?;
    let email = match Email::parse(field(&pairs, "email").unwrap_or("")) {
        Ok(e) => e,
        Err(MailInputError::Empty) => return Err(PageError::BadRequest("اكتب عنوان بريدك الإلكتروني للاشتراك.".into())),
        Err(e) => return Err(PageError::BadRequest(format!("{e}. مثال على عنوان صالح: name@example.org"))),
    };
    let done = || async {
        message_page(
            &state,
            "تحقّق من بريدك",
            &["إن كان العنوان صحيحاً فستصلك خلال دقائق رسالة فيها رابط لتأكيد الاشتراك.", "لن نرسل إليك أي نشرة قبل أن تؤكد."],
            Some(("/", "العودة إلى الصفحة الرئيسية")),
        )
        .await
        .map(IntoResponse::into_response)
    };
    // Bots fill every field; people never see this one. They get the usual answer.
    if field(&pairs, "website").is_some_and(|v| !v.trim().is_empty()) {
        tracing::info!("newsletter sign-up dropped by the honeypot");
        return done().await;
    }
    // The same address as the login limits count (see `server.trusted_proxies`).
    let peer = connect.map(|Extension(ConnectInfo(addr))| addr);
    let ip = super::client_ip::client_ip(peer, &headers, &state.config.server.trusted_proxies).map(|ip| ip.to_string()).unwrap_or_default();
    if !nl.ip_limiter.allow(&format!("ip:{ip}")) {
        let page = error_page(429, "طلبات كثيرة", "أرسلت طلبات اشتراك كثيرة في وقت قصير. حاول مجدداً بعد ساعة.");
        return Ok((StatusCode::TOO_MANY_REQUESTS, Html(page)).into_response());
    }
    let frequency = field(&pairs, "frequency").and_then(Frequency::parse).unwrap_or(Frequency::Daily);
    let (subscriber, due) = nl.store.request_subscription(&email, frequency).await?;
    // The per-address limit is silent: the answer must not tell whether the address is known.
    if due && nl.address_limiter.allow(email.as_str()) {
        send_confirmation(nl, &state.tasks, subscriber.id, email).await?;
    }
    done().await
}

async fn send_confirmation(nl: &Newsletter, tasks: &crate::tasks::Tasks, subscriber_id: i64, email: Email) -> Result<(), PageError> {
    let signer = nl.signer().await?;
    let ttl_hours = nl.config.newsletter.confirm_ttl_hours;
    let token = signer.sign(Purpose::Confirm, &subscriber_id.to_string(), now_secs() + ttl_hours * 3600);
    let rendered = nl.templates.render(
        "confirm",
        json!({ "site": nl.site_context(), "confirm_url": format!("{}/newsletter/confirm?t={token}", nl.base_url), "ttl_hours": ttl_hours }),
    )?;
    let message = nl.mailer.compose(&email, &rendered, None)?;
    let mailer = nl.mailer.clone();
    // Sent in the background so the answer does not depend on (or reveal) the mail server.
    // At shutdown the retries stop (the reader can ask again); a send under way finishes.
    tasks.spawn("confirmation mail", move |stop| async move {
        for delay in [0u64, 2, 10, 60] {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(delay)) => {}
                _ = stop.cancelled() => return,
            }
            match mailer.send(message.clone()).await {
                Ok(()) => return,
                Err(crate::mail::SendError::Permanent(e)) => {
                    tracing::warn!(subscriber = subscriber_id, error = %e, "confirmation mail refused");
                    return;
                }
                Err(e) => tracing::warn!(subscriber = subscriber_id, error = %e, "confirmation mail not sent yet"),
            }
        }
    });
    Ok(())
}

pub async fn confirm_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let nl = &state.newsletter;
    let token = query_param(&raw, "t");
    let subscriber = subscriber_from_token(nl, Purpose::Confirm, token.as_deref(), "رابط التأكيد").await?;
    if subscriber.status == SubscriberStatus::Active {
        return Ok(message_page(&state, "اشتراكك مؤكد", &["هذا العنوان مشترك في النشرة بالفعل."], None).await?.into_response());
    }
    let (nonce, csrf) = nl.signer().await?.form_pair(now_secs());
    let site = site_view(&state).await?;
    let html = state
        .templates
        .render("newsletter/confirm.html", json!({ "site": site, "email": subscriber.email, "token": token, "csrf": csrf }))?;
    Ok(([(header::SET_COOKIE, csrf_cookie(&state, &nonce)), (header::CACHE_CONTROL, "no-store".into())], Html(html)).into_response())
}

pub async fn confirm(State(state): State<AppState>, headers: HeaderMap, body: String) -> Result<Response, PageError> {
    let nl = &state.newsletter;
    let pairs = form(&body)?;
    check_csrf(nl, &headers, &pairs).await?;
    let subscriber = subscriber_from_token(nl, Purpose::Confirm, field(&pairs, "t"), "رابط التأكيد").await?;
    match nl.store.confirm_subscriber(subscriber.id).await? {
        Some(active) => {
            let (manage, _) = nl.manage_urls(nl.signer().await?, active.id, now_secs());
            let manage_path = manage.strip_prefix(nl.base_url.as_ref()).unwrap_or(&manage).to_string();
            Ok(message_page(
                &state,
                "تم تأكيد اشتراكك",
                &["أهلاً بك! ستصلك النشرة القادمة في موعدها.", "يمكنك تغيير عدد مرات الإرسال والأقسام التي تهمك من صفحة التفضيلات."],
                Some((&manage_path, "تفضيلات النشرة")),
            )
            .await?
            .into_response())
        }
        None => Err(PageError::BadRequest("لا يمكن تأكيد هذا الاشتراك: ربما ألغي أو أوقف. اشترك مرة أخرى من صفحة النشرة.".into())),
    }
}

async fn preferences_response(state: &AppState, subscriber: &Subscriber, token: &str, saved: bool) -> Result<Response, PageError> {
    let nl = &state.newsletter;
    let (nonce, csrf) = nl.signer().await?.form_pair(now_secs());
    let sections: Vec<_> = state
        .store
        .sections()
        .await?
        .into_iter()
        .map(|s| json!({ "slug": s.slug, "name": s.name, "checked": subscriber.sections.contains(&s.slug) }))
        .collect();
    let site = site_view(state).await?;
    let html = state.templates.render(
        "newsletter/preferences.html",
        json!({ "site": site, "subscriber": subscriber, "token": token, "csrf": csrf, "sections": sections, "saved": saved }),
    )?;
    Ok(([(header::SET_COOKIE, csrf_cookie(state, &nonce)), (header::CACHE_CONTROL, "no-store".into())], Html(html)).into_response())
}

pub async fn preferences_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let token = query_param(&raw, "t").unwrap_or_default();
    let subscriber = subscriber_from_token(&state.newsletter, Purpose::Manage, Some(&token), "رابط التفضيلات").await?;
    preferences_response(&state, &subscriber, &token, false).await
}

pub async fn save_preferences(State(state): State<AppState>, headers: HeaderMap, body: String) -> Result<Response, PageError> {
    let nl = &state.newsletter;
    let pairs = form(&body)?;
    check_csrf(nl, &headers, &pairs).await?;
    let token = field(&pairs, "t").unwrap_or_default().to_string();
    let subscriber = subscriber_from_token(nl, Purpose::Manage, Some(&token), "رابط التفضيلات").await?;
    if field(&pairs, "action") == Some("unsubscribe") {
        nl.store.unsubscribe(subscriber.id).await?;
        return Ok(unsubscribed_page(&state).await?.into_response());
    }
    let frequency = match field(&pairs, "frequency") {
        None => subscriber.frequency,
        Some(f) => Frequency::parse(f).ok_or_else(|| PageError::BadRequest("اختر «يومياً» أو «أسبوعياً».".into()))?,
    };
    let known: Vec<String> = state.store.sections().await?.into_iter().map(|s| s.slug).collect();
    let mut chosen: Vec<String> =
        pairs.iter().filter(|(k, _)| k == "sections").map(|(_, v)| v.clone()).filter(|s| known.contains(s)).collect();
    chosen.sort();
    chosen.dedup();
    nl.store.update_preferences(subscriber.id, frequency, &chosen).await?;
    let subscriber = nl.store.subscriber(subscriber.id).await?.ok_or(PageError::NotFound)?;
    preferences_response(&state, &subscriber, &token, true).await
}

async fn unsubscribed_page(state: &AppState) -> Result<Html<String>, PageError> {
    message_page(
        state,
        "أُلغي اشتراكك",
        &["لن تصلك رسائل النشرة بعد الآن.", "إن كان ذلك خطأً فيمكنك الاشتراك من جديد في أي وقت."],
        Some(("/newsletter", "الاشتراك من جديد")),
    )
    .await
}

pub async fn unsubscribe_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let token = query_param(&raw, "t").unwrap_or_default();
    let subscriber = subscriber_from_token(&state.newsletter, Purpose::Manage, Some(&token), "رابط إلغاء الاشتراك").await?;
    let site = site_view(&state).await?;
    let html = state.templates.render("newsletter/unsubscribe.html", json!({ "site": site, "email": subscriber.email, "token": token }))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` to the URL from the
/// header. The signed token is the authority, so no second click and no cookie are needed.
pub async fn unsubscribe(State(state): State<AppState>, RawQuery(raw): RawQuery, body: String) -> Result<Response, PageError> {
    let pairs = form(&body)?;
    let token = query_param(&raw, "t").or_else(|| field(&pairs, "t").map(str::to_string));
    let subscriber = subscriber_from_token(&state.newsletter, Purpose::Manage, token.as_deref(), "رابط إلغاء الاشتراك").await?;
    state.newsletter.store.unsubscribe(subscriber.id).await?;
    tracing::info!(subscriber = subscriber.id, one_click = field(&pairs, "List-Unsubscribe").is_some(), "newsletter unsubscribe");
    Ok(unsubscribed_page(&state).await?.into_response())
}

pub async fn archive(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let site = site_view(&state).await?;
    let issues = issue_links(&state, 200).await?;
    Ok(Html(state.templates.render(
        "newsletter/archive.html",
        json!({ "site": site, "issues": issues, "canonical": format!("{}/newsletter/archive", state.base_url) }),
    )?))
}

pub async fn issue_page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let issue = state.store.issue(id).await?.filter(|i| i.status != "empty").ok_or(PageError::NotFound)?;
    let groups: Vec<DigestGroup> =
        serde_json::from_str(&issue.articles_json).map_err(|e| PageError::Internal(anyhow::anyhow!("issue {id} articles: {e}")))?;
    let site = site_view(&state).await?;
    Ok(Html(state.templates.render(
        "newsletter/issue.html",
        json!({
            "site": site,
            "issue": { "subject": issue.subject, "date": state.dates.long(from_secs(issue.period_end)), "frequency": frequency_name(&issue.frequency) },
            "groups": groups,
            "canonical": format!("{}/newsletter/archive/{id}", state.base_url),
        }),
    )?))
}
