//! The newsroom's admin under `/admin`: server-rendered Arabic pages that work without
//! JavaScript. Every state-changing form carries the session's CSRF token; every handler
//! checks the role before it writes anything.

pub(crate) mod api;
mod articles;
mod auth;
mod desk;
mod diff;
mod front;
mod manage;
mod media;
mod related;
mod setup;

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Form;
use axum::Router;
use chrono::TimeZone;
use serde_json::{json, Value};

pub use manage::serve_media;

use super::AppState;
use crate::accounts::{constant_time_eq, token_hash};
use crate::domain::{Role, User};
use crate::store::StoreError;

pub const SESSION_COOKIE: &str = "nashir_session";

/// The admin's routes, nested under `/admin` by the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin/articles") }))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/setup", get(setup::form).post(setup::create_owner))
        .route("/logout", post(auth::logout))
        .route("/password", get(auth::password_form).post(auth::change_password))
        .route("/articles", get(articles::list).post(articles::create))
        .route("/articles/new", get(articles::new_form))
        .route("/articles/{id}", get(articles::edit_form).post(articles::save))
        .route("/articles/{id}/revisions", get(articles::revisions))
        .route("/articles/{id}/autosave", post(articles::autosave))
        .route("/articles/{id}/suggestions", get(articles::suggestions))
        .route("/articles/{id}/related", get(related::page).post(related::edit))
        .route("/articles/{id}/revisions/{rev}", get(articles::revision_diff))
        .route("/articles/{id}/revisions/{rev}/restore", post(articles::restore))
        .route("/users", get(manage::users).post(manage::add_user))
        .route("/users/{id}/role", post(manage::set_role))
        .route("/users/{id}/access", post(manage::set_access))
        .route("/sections", get(manage::taxonomy).post(manage::add_section))
        .route("/tags/{id}", post(manage::rename_tag))
        .route("/tokens", get(manage::tokens).post(manage::create_token))
        .route("/tokens/{id}/revoke", post(manage::revoke_token))
        .route("/media", get(media::library).post(manage::upload))
        .route("/media/pick", get(media::pick))
        .route("/media/{id}", get(media::detail).post(media::update))
        .route("/media/{id}/delete", post(media::delete))
        .route("/front", get(front::page))
        .route("/front/breaking", post(front::set_breaking))
        .route("/front/lead", post(front::pin_lead))
        .route("/authors/{id}", post(front::edit_author))
        .route("/newsletter", get(desk::overview))
        .route("/newsletter/subscribers", get(desk::subscribers))
        .route("/newsletter/subscribers.csv", get(desk::export))
        .route("/newsletter/subscribers/{id}", get(desk::subscriber))
        .route("/newsletter/subscribers/{id}/erase", post(desk::erase))
        .route("/newsletter/import", post(desk::import))
        .route("/newsletter/issues", post(desk::build_issue))
        .route("/newsletter/issues/{id}", get(desk::issue))
        .route("/newsletter/issues/{id}/preview", get(desk::preview))
        .route("/newsletter/issues/{id}/test", post(desk::send_test))
        .route("/newsletter/issues/{id}/send", post(desk::send_now))
        .route("/newsletter/issues/{id}/cancel", post(desk::cancel))
        .fallback(|| async { AdminError::NotFound })
        .layer(axum::middleware::map_response(private_headers))
}

/// The editor's bundle compressed once, the first time someone asks (brotli, gzip).
static EDITOR_BUNDLE_COMPRESSED: std::sync::LazyLock<(axum::body::Bytes, axum::body::Bytes)> = std::sync::LazyLock::new(|| {
    let source = crate::web::templates::EDITOR_BUNDLE.as_bytes();
    (crate::web::cache::brotli(source), crate::web::cache::gzip(source))
});

/// `GET /assets/{file}`: the editor's bundle under its content-hashed name, cached for a year
/// (a new build has a new name), compressed when the browser takes it; any other name is a
/// 404. Public: it is the editor's code, the same for everyone, and the session cookie (path
/// `/admin`) is not sent for it.
pub async fn serve_asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    use crate::web::cache::{preferred_encoding, Encoding};
    use crate::web::templates::{EDITOR_BUNDLE, EDITOR_BUNDLE_PATH};
    if EDITOR_BUNDLE_PATH.strip_prefix("/assets/") != Some(file.as_str()) {
        return crate::web::PageError::NotFound.into_response();
    }
    let encoding = preferred_encoding(&headers);
    let (body, content_encoding) = if encoding == Encoding::Identity {
        (axum::body::Bytes::from_static(EDITOR_BUNDLE.as_bytes()), None)
    } else {
        // Compressing 240 KB takes some milliseconds of one core: not on the async workers.
        let compressed = tokio::task::spawn_blocking(|| std::sync::LazyLock::force(&EDITOR_BUNDLE_COMPRESSED)).await;
        match (compressed, encoding) {
            (Ok((br, _)), Encoding::Brotli) if !br.is_empty() => (br.clone(), Some("br")),
            (Ok((_, gz)), _) if !gz.is_empty() => (gz.clone(), Some("gzip")),
            _ => (axum::body::Bytes::from_static(EDITOR_BUNDLE.as_bytes()), None),
        }
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::VARY, "Accept-Encoding"),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = content_encoding {
        response.headers_mut().insert(header::CONTENT_ENCODING, header::HeaderValue::from_static(encoding));
    }
    response
}

/// The admin's Content-Security-Policy: scripts from this site (the editor's bundle) and the
/// one inline script by hash; nothing loaded from elsewhere.
/// Inline style attributes are allowed (the admin's forms use them; styles cannot run code).
static ADMIN_CSP: std::sync::LazyLock<header::HeaderValue> = std::sync::LazyLock::new(|| {
    let policy = format!(
        "default-src 'none'; script-src 'self' {}; style-src 'unsafe-inline'; img-src 'self' https: data: blob:; connect-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        crate::web::templates::csp_hash(crate::web::templates::EDITOR_JS)
    );
    header::HeaderValue::from_str(&policy).expect("CSP is a valid header value")
});

/// Admin pages are private and never framed: no caches keep them, no other site embeds them.
async fn private_headers(mut resp: Response) -> Response {
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, ADMIN_CSP.clone());
    headers.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    resp
}

/// Errors on admin pages: Arabic, with the right status, never a detail of internals.
#[derive(Debug)]
pub enum AdminError {
    LoginRequired,
    Forbidden(String),
    Csrf,
    NotFound,
    BadRequest(String),
    Conflict(String),
    TooMany(String),
    TooLarge(String),
    Internal(anyhow::Error),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AdminError {
    fn from(e: anyhow::Error) -> Self {
        AdminError::Internal(e)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            AdminError::LoginRequired => return Redirect::to("/admin/login").into_response(),
            AdminError::Forbidden(m) => (StatusCode::FORBIDDEN, "غير مسموح", m),
            AdminError::Csrf => (
                StatusCode::FORBIDDEN,
                "انتهت صلاحية النموذج",
                "رمز الحماية في النموذج مفقود أو غير صحيح. أعد تحميل الصفحة ثم حاول مجدداً.".to_string(),
            ),
            AdminError::NotFound => (StatusCode::NOT_FOUND, "غير موجود", "الصفحة أو المقال غير موجود.".to_string()),
            AdminError::BadRequest(m) => (StatusCode::UNPROCESSABLE_ENTITY, "طلب غير صالح", m),
            AdminError::Conflict(m) => (StatusCode::CONFLICT, "تعارض في التعديل", m),
            AdminError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, "محاولات كثيرة", m),
            AdminError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "الملف كبير", m),
            AdminError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "admin request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "خطأ في الخادم", "حدث خطأ غير متوقع. حاول مرة أخرى بعد قليل.".to_string())
            }
        };
        (status, Html(super::error_page(status.as_u16(), title, &message))).into_response()
    }
}

pub type AdminResult<T> = Result<T, AdminError>;

/// The signed-in user of an admin request. Extracting it requires a live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub token_hash: String,
}

impl Session {
    /// Checks the form's CSRF token; call before anything else in a state-changing handler.
    pub fn check_csrf(&self, fields: &Fields) -> AdminResult<()> {
        match fields.get("csrf") {
            Some(token) if constant_time_eq(token, &self.csrf) => Ok(()),
            _ => Err(AdminError::Csrf),
        }
    }

    pub fn require(&self, role: Role, what: &str) -> AdminResult<()> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(AdminError::Forbidden(format!("{what} يحتاج دور {} على الأقل، ودورك {}.", role.label(), self.user.role.label())))
        }
    }
}

/// The value of the request's cookie `name`, parsed by the `cookie` crate (malformed pairs
/// are skipped, not fatal).
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value for a cookie scripts cannot read (`HttpOnly`), limited to `path`, that
/// browsers send back only over https when `secure`.
pub fn private_cookie(name: &str, value: &str, path: &str, same_site: cookie::SameSite, max_age_secs: i64, secure: bool) -> String {
    cookie::Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(secure)
        .build()
        .to_string()
}

async fn session_from(parts: &Parts, state: &AppState) -> AdminResult<Option<Session>> {
    let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else { return Ok(None) };
    let hash = token_hash(&token);
    Ok(state.store.session(&hash).await?.map(|s| Session { user: s.user, csrf: s.csrf, token_hash: hash }))
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        session_from(parts, state).await?.ok_or(AdminError::LoginRequired)
    }
}

impl OptionalFromRequestParts<AppState> for Session {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        session_from(parts, state).await
    }
}

/// Why `user` may not file an article under `section`, if they may not: writers choose among
/// the existing sections (a new name in a draft would otherwise become a public section when
/// the draft is published); editors and owners may name a new one.
pub(crate) async fn section_refusal(state: &AppState, user: &User, section: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(section) = section.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if user.role >= Role::Editor || state.store.section_exists(section).await? {
        return Ok(None);
    }
    Ok(Some(format!("القسم «{}» غير موجود. اختر قسماً من القائمة؛ إضافة الأقسام للمحررين.", section.chars().take(80).collect::<String>())))
}

/// A path parameter; one that does not parse (`/admin/articles/abc`) is simply not found.
pub struct AdminPath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for AdminPath<T> {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        <Path<T> as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| AdminPath(t))
            .map_err(|_| AdminError::NotFound)
    }
}

/// An urlencoded form; anything else gets an Arabic answer instead of axum's English one.
pub struct AdminForm(pub Fields);

impl FromRequest<AppState> for AdminForm {
    type Rejection = AdminError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Form::<Fields>::from_request(req, state).await {
            Ok(Form(fields)) => Ok(AdminForm(fields)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AdminError::TooLarge("النموذج أكبر من الحد المسموح.".into())),
            Err(_) => Err(AdminError::BadRequest("النموذج المرسل غير مفهوم؛ أرسله من صفحة الإدارة.".into())),
        }
    }
}

/// Form fields in order; repeated names are kept.
/// A multipart form read whole: its text fields, and the bytes, file name and declared type
/// of its `file` field. Each field is read in chunks and refused with `too_large` as soon as
/// it passes `max` bytes, so an upload never costs more memory than the limit allows.
pub(super) async fn read_multipart(
    multipart: &mut axum::extract::Multipart,
    max: usize,
    too_large: impl Fn() -> AdminError,
) -> AdminResult<(Fields, Option<(Vec<u8>, Option<String>, Option<String>)>)> {
    let mut fields = Fields::default();
    let mut file = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(AdminError::BadRequest("تعذّرت قراءة النموذج المرفوع.".into())),
        };
        let name = field.name().unwrap_or("").to_string();
        let (file_name, content_type) = (field.file_name().map(str::to_string), field.content_type().map(str::to_string));
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > max {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(_) => return Err(AdminError::BadRequest("انقطع رفع الملف.".into())),
            }
        }
        if name == "file" {
            file = Some((bytes, file_name, content_type));
        } else {
            fields.0.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((fields, file))
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_string()
    }
}

/// Renders an admin page with the user, their CSRF token and the navigation.
pub fn render(state: &AppState, session: Option<&Session>, name: &str, mut ctx: Value) -> AdminResult<Html<String>> {
    if let (Some(s), Some(obj)) = (session, ctx.as_object_mut()) {
        obj.insert(
            "me".into(),
            json!({ "name": s.user.name, "email": s.user.email, "role": s.user.role, "role_label": s.user.role.label(),
            "is_editor": s.user.role >= Role::Editor, "is_owner": s.user.role >= Role::Owner }),
        );
        obj.insert("csrf".into(), json!(s.csrf));
    }
    if let Some(obj) = ctx.as_object_mut() {
        obj.insert("site_title".into(), json!(state.config.site.title));
    }
    Ok(Html(state.templates.render(name, ctx)?))
}

/// A Unix time as the newsroom reads it: `2026-11-29 14:05` in its zone.
pub fn local_time(state: &AppState, secs: i64) -> String {
    state.dates.tz.timestamp_opt(secs, 0).single().map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// The value of a `datetime-local` input for a Unix time.
pub fn local_input(state: &AppState, secs: i64) -> String {
    state.dates.tz.timestamp_opt(secs, 0).single().map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

/// Reads a `datetime-local` value (`2026-11-29T14:05`) in the newsroom's zone.
pub fn parse_local_input(state: &AppState, value: &str) -> Result<Option<i64>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let naive = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M"))
        .map_err(|_| format!("الوقت «{}» غير مفهوم؛ اكتبه بالشكل 2026-11-29T14:05", value.chars().take(30).collect::<String>()))?;
    state
        .dates
        .tz
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| Some(t.timestamp()))
        .ok_or_else(|| format!("الوقت «{value}» غير موجود في المنطقة الزمنية للموقع (تغيير التوقيت)"))
}

/// Whether cookies must be `Secure`: the site is served over https.
pub fn secure_cookies(state: &AppState) -> bool {
    state.base_url.starts_with("https://")
}
