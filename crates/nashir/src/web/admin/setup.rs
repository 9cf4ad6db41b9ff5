//! First run: while the newsroom has no account, `/admin/setup` creates the owner. It asks
//! for the one-time code the server printed to its terminal and log at start, so a fresh
//! server reachable from the internet cannot be claimed by whoever finds it first. Once any
//! account exists the page is gone (it sends people to the login).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::auth::session_cookie;
use super::{cookie_value, private_cookie, render, secure_cookies, AdminError, AdminForm, AdminResult};
use crate::accounts::{
    check_password_strength, constant_time_eq, hash_password_bounded, normalize_setup_code, parse_email, random_token, token_hash,
};
use crate::web::client_ip::ClientIp;
use crate::web::AppState;

/// Double-submit token of the setup form (there is no session yet), as on the login form.
const SETUP_COOKIE: &str = "nashir_setup";

/// Wrong codes allowed per client address and login window: 64-bit codes are not guessed in
/// five tries, and the limit keeps a scanner from trying at all.
const MAX_WRONG_CODES: i64 = 5;

fn setup_page(state: &AppState, status: StatusCode, mut ctx: serde_json::Value) -> AdminResult<Response> {
    let token = random_token();
    ctx["setup_csrf"] = json!(token);
    let html = render(state, None, "admin/setup.html", ctx)?;
    let cookie = private_cookie(SETUP_COOKIE, &token, "/admin/setup", cookie::SameSite::Strict, 3600, secure_cookies(state));
    Ok((status, [(header::SET_COOKIE, cookie)], html).into_response())
}

pub async fn form(State(state): State<AppState>) -> AdminResult<Response> {
    if state.store.has_users().await? {
        return Ok(Redirect::to("/admin/login").into_response());
    }
    setup_page(&state, StatusCode::OK, json!({}))
}

pub async fn create_owner(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    match (cookie_value(&headers, SETUP_COOKIE), fields.get("csrf")) {
        (Some(cookie), Some(field)) if !cookie.is_empty() && constant_time_eq(&cookie, field) => {}
        _ => return Err(AdminError::Csrf),
    }
    if state.store.has_users().await? {
        return Ok(Redirect::to("/admin/login").into_response());
    }
    let name = fields.text("name");
    let email_raw = fields.text("email");
    let password = fields.get("password").unwrap_or("").to_string();
    let again = |status: StatusCode, error: &str| setup_page(&state, status, json!({ "name": name, "email": email_raw, "error": error }));
    let email = match parse_email(&email_raw) {
        Ok(email) => email,
        Err(msg) => return again(StatusCode::UNPROCESSABLE_ENTITY, &msg),
    };
    if name.is_empty() || name.chars().count() > 100 {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "اكتب اسمك (100 حرف على الأكثر).");
    }
    if password != fields.get("confirm").unwrap_or("") {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "كلمتا المرور غير متطابقتين.");
    }
    if let Err(msg) = check_password_strength(&password) {
        return again(StatusCode::UNPROCESSABLE_ENTITY, &msg);
    }
    // Counted before the code is checked, in the same table as login attempts.
    let window = state.config.editor.login_window_secs as i64;
    let attempt = state.store.count_login_attempt(&format!("setup|{ip}"), window).await?;
    if attempt.attempts > MAX_WRONG_CODES {
        let minutes = (attempt.retry_after + 59) / 60;
        return Err(AdminError::TooMany(format!("محاولات إعداد كثيرة من عنوانك. انتظر {minutes} دقيقة ثم حاول مجدداً.")));
    }
    let code_hash = token_hash(&normalize_setup_code(fields.get("code").unwrap_or("")));
    let hash = hash_password_bounded(password).await?;
    let Some(user_id) = state.store.create_first_owner(&code_hash, &email, &name, &hash).await? else {
        if state.store.has_users().await? {
            return Ok(Redirect::to("/admin/login").into_response());
        }
        return again(
            StatusCode::FORBIDDEN,
            "رمز الإعداد غير صحيح أو انتهت صلاحيته. تجده في طرفية الخادم؛ إعادة تشغيل الخادم تطبع رمزاً جديداً.",
        );
    };
    tracing::info!(user_id, "first owner created through /admin/setup");
    let token = random_token();
    let ttl = state.config.editor.session_hours as i64 * 3600;
    state.store.create_session(&token_hash(&token), user_id, &random_token(), crate::domain::now_secs() + ttl).await?;
    let cookie = session_cookie(&token, ttl, secure_cookies(&state));
    let clear = private_cookie(SETUP_COOKIE, "", "/admin/setup", cookie::SameSite::Strict, 0, secure_cookies(&state));
    let mut resp = Redirect::to("/admin/articles").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, cookie.parse().map_err(|e| AdminError::Internal(anyhow::anyhow!("session cookie: {e}")))?);
    resp.headers_mut().append(header::SET_COOKIE, clear.parse().map_err(|e| AdminError::Internal(anyhow::anyhow!("setup cookie: {e}")))?);
    Ok(resp)
}
