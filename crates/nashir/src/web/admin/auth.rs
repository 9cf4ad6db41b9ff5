//! Login, logout and password change. A wrong password and an unknown email get the same
//! answer in the same time; attempts are counted per account and per client address before
//! the password is checked.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::{cookie_value, private_cookie, render, secure_cookies, AdminError, AdminForm, AdminResult, Session, SESSION_COOKIE};
use crate::accounts::{
    check_password_strength, constant_time_eq, dummy_hash, hash_password_bounded, parse_email, random_token, token_hash,
    verify_password_bounded,
};
use crate::store::LoginAttempt;
use crate::web::client_ip::ClientIp;
use crate::web::pages::query_param;
use crate::web::AppState;

const BAD_LOGIN: &str = "البريد الإلكتروني أو كلمة المرور غير صحيحة.";

/// Before there is a session, the login form is protected by a double-submit token: a
/// cookie only this path receives, repeated in the form, so another site cannot sign a
/// browser in to an account of its choosing.
const LOGIN_COOKIE: &str = "nashir_login";

pub fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    private_cookie(SESSION_COOKIE, token, "/admin", cookie::SameSite::Lax, max_age, secure)
}

fn login_cookie(token: &str, secure: bool) -> String {
    private_cookie(LOGIN_COOKIE, token, "/admin/login", cookie::SameSite::Strict, 3600, secure)
}

/// The login form with a fresh double-submit token.
fn login_page(state: &AppState, status: StatusCode, ctx: serde_json::Value) -> AdminResult<Response> {
    let token = random_token();
    let mut ctx = ctx;
    ctx["login_csrf"] = json!(token);
    let html = render(state, None, "admin/login.html", ctx)?;
    Ok((status, [(header::SET_COOKIE, login_cookie(&token, secure_cookies(state)))], html).into_response())
}

/// Only local admin paths are followed after login, so the form cannot redirect elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin/") && !n.starts_with("//") && !n.contains(['\\', '\r', '\n']) => n.to_string(),
        _ => "/admin/articles".to_string(),
    }
}

pub async fn login_form(State(state): State<AppState>, session: Option<Session>, RawQuery(raw): RawQuery) -> AdminResult<Response> {
    if session.is_some() {
        return Ok(Redirect::to("/admin/articles").into_response());
    }
    // First run: nobody can sign in yet, the owner is created on the setup page.
    if !state.store.has_users().await? {
        return Ok(Redirect::to("/admin/setup").into_response());
    }
    let next = query_param(&raw, "next");
    login_page(&state, StatusCode::OK, json!({ "next": safe_next(next.as_deref()) }))
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    match (cookie_value(&headers, LOGIN_COOKIE), fields.get("csrf")) {
        (Some(cookie), Some(field)) if !cookie.is_empty() && constant_time_eq(&cookie, field) => {}
        _ => return Err(AdminError::Csrf),
    }
    let email_raw = fields.text("email");
    let password = fields.get("password").unwrap_or("").to_string();
    let next = safe_next(fields.get("next"));
    let email = parse_email(&email_raw).unwrap_or_else(|_| email_raw.to_lowercase());
    let editor = &state.config.editor;
    let window = editor.login_window_secs as i64;
    // Every attempt is counted before the password is checked, each in one statement that
    // returns the new count, so concurrent guesses cannot all slip under the limit.
    //
    // Two limits, counted apart. Per address: one client cannot try many accounts (behind a
    // reverse proxy this needs `server.trusted_proxies`, or every client is the proxy). Per
    // account, from all addresses together: a botnet cannot try many passwords on one editor.
    // The per-account limit is what lets a stranger delay a real editor, so it only slows
    // down: its window is fixed from the first attempt and refused attempts never extend it,
    // so the editor waits at most `login_window_secs` (told in Retry-After), never longer
    // however many guesses arrive meanwhile; a successful login starts the count over.
    let account_key = format!("account|{email}");
    let address_key = format!("address|{ip}");
    let address = state.store.count_login_attempt(&address_key, window).await?;
    let account = state.store.count_login_attempt(&account_key, window).await?;
    if address.attempts > i64::from(editor.login_max_failures_per_address) {
        return Ok(too_many("محاولات دخول فاشلة كثيرة من عنوانك.", address));
    }
    if account.attempts > i64::from(editor.login_max_failures) {
        return Ok(too_many("محاولات دخول فاشلة كثيرة لهذا الحساب.", account));
    }
    let found = state.store.user_for_login(&email).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let ok = verify_password_bounded(password, hash).await?;
    let user = match (ok, found) {
        (true, Some((user, _))) => user,
        _ => return login_page(&state, StatusCode::UNAUTHORIZED, json!({ "next": next, "email": email_raw, "error": BAD_LOGIN })),
    };
    // The account starts over; the address only gets this attempt back, so that signing in
    // to one's own account between guesses at others does not reset the address's count.
    state.store.clear_login_failures(&account_key).await?;
    state.store.forgive_login_attempt(&address_key).await?;
    let token = random_token();
    let ttl = state.config.editor.session_hours as i64 * 3600;
    state.store.create_session(&token_hash(&token), user.id, &random_token(), crate::domain::now_secs() + ttl).await?;
    let cookie = session_cookie(&token, ttl, secure_cookies(&state));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
}

/// 429 with the wait in minutes and in `Retry-After`.
fn too_many(why: &str, attempt: LoginAttempt) -> Response {
    let minutes = (attempt.retry_after + 59) / 60;
    let mut resp = AdminError::TooMany(format!("{why} انتظر {minutes} دقيقة ثم حاول مجدداً.")).into_response();
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(attempt.retry_after));
    resp
}

pub async fn logout(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    state.store.delete_session(&session.token_hash).await?;
    let cookie = session_cookie("", 0, secure_cookies(&state));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/admin/login")).into_response())
}

pub async fn password_form(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    Ok(render(&state, Some(&session), "admin/password.html", json!({}))?.into_response())
}

pub async fn change_password(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    let current = fields.get("current").unwrap_or("").to_string();
    let new = fields.get("new").unwrap_or("").to_string();
    let fail = |msg: &str| -> AdminResult<Response> {
        let html = render(&state, Some(&session), "admin/password.html", json!({ "error": msg }))?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    if new != fields.get("confirm").unwrap_or("") {
        return fail("كلمتا المرور الجديدتان غير متطابقتين.");
    }
    if let Err(msg) = check_password_strength(&new) {
        return fail(&msg);
    }
    let (_, hash) = state.store.user_by_id(session.user.id).await?.ok_or(AdminError::LoginRequired)?;
    if !verify_password_bounded(current, hash).await? {
        return fail("كلمة المرور الحالية غير صحيحة.");
    }
    let hash = hash_password_bounded(new).await?;
    state.store.set_user_password(session.user.id, &hash, Some(&session.token_hash)).await?;
    Ok(render(&state, Some(&session), "admin/password.html", json!({ "done": true }))?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_locked_down() {
        let c = session_cookie("abc", 60, true);
        let mut parts: Vec<&str> = c.split("; ").collect();
        parts.sort();
        assert_eq!(parts, ["HttpOnly", "Max-Age=60", "Path=/admin", "SameSite=Lax", "Secure", "nashir_session=abc"]);
        assert!(!session_cookie("abc", 60, false).contains("Secure"));
        assert!(login_cookie("t", true).contains("SameSite=Strict") && login_cookie("t", true).contains("; Secure"));
    }

    #[test]
    fn only_admin_paths_follow_login() {
        assert_eq!(safe_next(Some("/admin/articles/3")), "/admin/articles/3");
        for bad in ["https://evil.example", "//evil.example", "/admin\\x", "/news/1"] {
            assert_eq!(safe_next(Some(bad)), "/admin/articles", "{bad}");
        }
    }
}
