//! Users (owner), sections and tags (editor), API tokens and image uploads (everyone).

use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Value};

use super::{local_time, render, AdminError, AdminForm, AdminPath, AdminResult, Session};
use crate::accounts::{check_password_strength, hash_password_bounded, parse_email, random_token, token_hash};
use crate::domain::Role;
use crate::media::imaging::{self, ImagingError};
use crate::media::{check, original_of_variant, UploadError};
use crate::store::{MediaRecord, StoreError};
use crate::web::api_types::UploadedImage;
use crate::web::error::ErrorCode;
use crate::web::{ApiError, AppState};

pub async fn users(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    session.require(Role::Owner, "إدارة الحسابات")?;
    users_page(&state, &session, StatusCode::OK, json!({})).await
}

async fn users_page(state: &AppState, session: &Session, status: StatusCode, extra: Value) -> AdminResult<Response> {
    let users: Vec<Value> = state
        .store
        .user_listing()
        .await?
        .iter()
        .map(|l| {
            let u = &l.user;
            json!({ "id": u.id, "email": u.email, "name": u.name, "role": u.role, "role_label": u.role.label(),
                    "disabled": l.disabled_at.is_some(), "disabled_at": l.disabled_at.map(|t| local_time(state, t)),
                    "is_me": u.id == session.user.id })
        })
        .collect();
    let mut ctx = json!({ "users": users });
    if let (Some(obj), Some(extra)) = (ctx.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    Ok((status, render(state, Some(session), "admin/users.html", ctx)?).into_response())
}

pub async fn add_user(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Owner, "إضافة الحسابات")?;
    let fail = |msg: String| users_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, json!({ "error": msg }));
    let email = match parse_email(&fields.text("email")) {
        Ok(e) => e,
        Err(msg) => return fail(msg).await,
    };
    let Some(role) = Role::parse(&fields.text("role")) else {
        return fail("اختر دوراً: مالك أو محرر أو كاتب.".into()).await;
    };
    let password = fields.get("password").unwrap_or("").to_string();
    if let Err(msg) = check_password_strength(&password) {
        return fail(msg).await;
    }
    let name =
        Some(fields.text("name")).filter(|n| !n.is_empty()).unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
    let hash = hash_password_bounded(password).await?;
    match state.store.create_user(&email, &name, role, &hash).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(StoreError::Conflict(_)) => fail(format!("يوجد حساب بالبريد {email}.")).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn set_role(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Owner, "تغيير الأدوار")?;
    let role = Role::parse(&fields.text("role")).ok_or_else(|| AdminError::BadRequest("دور غير معروف.".into()))?;
    if id == session.user.id && role < Role::Owner {
        return Err(AdminError::BadRequest("لا يمكنك خفض دورك بنفسك؛ اطلب ذلك من مالك آخر.".into()));
    }
    if !state.store.set_user_role(id, role).await? {
        return Err(AdminError::NotFound);
    }
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/access` with `action=disable` or `action=enable`: the owner takes
/// access away from a person (their sessions end and their API tokens are revoked at once) or
/// gives it back. Not on oneself: an owner cannot lock themselves out by a stray click.
pub async fn set_access(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Owner, "إيقاف الحسابات")?;
    let disable = match fields.text("action").as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(AdminError::BadRequest("اختر «أوقف» أو «أعد التفعيل».".into())),
    };
    if id == session.user.id {
        return Err(AdminError::BadRequest("لا يمكنك إيقاف حسابك بنفسك؛ اطلب ذلك من مالك آخر.".into()));
    }
    if !state.store.set_user_disabled(id, disable).await? {
        return Err(AdminError::NotFound);
    }
    tracing::info!(user = id, by = session.user.id, disabled = disable, "account access changed");
    Ok(Redirect::to("/admin/users").into_response())
}

pub async fn taxonomy(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    session.require(Role::Editor, "إدارة الأقسام والوسوم")?;
    taxonomy_page(&state, &session, StatusCode::OK, None).await
}

async fn taxonomy_page(state: &AppState, session: &Session, status: StatusCode, error: Option<String>) -> AdminResult<Response> {
    let sections: Vec<Value> =
        state.store.all_sections().await?.iter().map(|s| json!({ "slug": s.slug, "name": s.name, "description": s.description })).collect();
    let tags: Vec<Value> =
        state.store.all_tags().await?.into_iter().map(|t| json!({ "id": t.id, "slug": t.slug, "name": t.name })).collect();
    Ok((status, render(state, Some(session), "admin/sections.html", json!({ "sections": sections, "tags": tags, "error": error }))?)
        .into_response())
}

pub async fn add_section(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Editor, "إدارة الأقسام")?;
    let name = crate::domain::collapse_whitespace(&fields.text("name"));
    if name.is_empty() {
        return taxonomy_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some("اكتب اسم القسم.".into())).await;
    }
    let slug = fields.text("slug");
    let slug = if slug.is_empty() { crate::domain::Slug::from_title(&name, "section").to_string() } else { slug };
    if crate::domain::Slug::parse(&slug).is_err() {
        return taxonomy_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(format!("المعرّف «{slug}» غير صالح."))).await;
    }
    state.store.upsert_section(&slug, &name, &fields.text("description"), 100).await?;
    Ok(Redirect::to("/admin/sections").into_response())
}

pub async fn rename_tag(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Editor, "إدارة الوسوم")?;
    let name = crate::domain::collapse_whitespace(&fields.text("name"));
    if name.is_empty() {
        return Err(AdminError::BadRequest("اسم الوسم فارغ.".into()));
    }
    match state.store.rename_tag(id, &name).await {
        Ok(true) => Ok(Redirect::to("/admin/sections").into_response()),
        Ok(false) => Err(AdminError::NotFound),
        Err(StoreError::Conflict(_)) => Err(AdminError::Conflict(format!("يوجد وسم باسم «{name}»."))),
        Err(e) => Err(e.into()),
    }
}

pub async fn tokens(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    tokens_page(&state, &session, None).await
}

async fn tokens_page(state: &AppState, session: &Session, new_token: Option<String>) -> AdminResult<Response> {
    let tokens: Vec<Value> = state
        .store
        .api_tokens(session.user.id)
        .await?
        .iter()
        .map(|t| json!({ "id": t.id, "name": t.name, "created": local_time(state, t.created_at), "used": t.last_used_at.map(|u| local_time(state, u)), "revoked": t.revoked }))
        .collect();
    Ok(render(
        state,
        Some(session),
        "admin/tokens.html",
        json!({ "tokens": tokens, "new_token": new_token, "base": state.base_url.to_string() }),
    )?
    .into_response())
}

pub async fn create_token(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    let name = Some(fields.text("name")).filter(|n| !n.is_empty()).unwrap_or_else(|| "رمز".into());
    let token = format!("nsr_{}", random_token());
    state.store.create_api_token(session.user.id, &name, &token_hash(&token)).await?;
    // Shown once: only its hash is kept.
    tokens_page(&state, &session, Some(token)).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    if !state.store.revoke_api_token(session.user.id, id).await? {
        return Err(AdminError::NotFound);
    }
    Ok(Redirect::to("/admin/tokens").into_response())
}

/// Multipart upload: fields `csrf`, `alt`, `file`. The CSRF token is checked before anything
/// is written to disk.
/// `POST /admin/media`. The form's page by default; JSON for the block editor (`Accept:
/// application/json`): `{src, width, height, alt}` of the stored image, or the API's error
/// shape with an Arabic message.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> AdminResult<Response> {
    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    let max = state.config.editor.max_upload_bytes;
    let too_large = || AdminError::TooLarge(UploadError::TooLarge(max / 1024).to_string());
    let (fields, file) = super::read_multipart(&mut multipart, max, too_large).await?;
    session.check_csrf(&fields)?;
    let (state_ref, session_ref) = (&state, &session);
    let typed = json!({ "alt": fields.text("alt"), "caption": fields.text("caption"), "credit": fields.text("credit") });
    let fail = |msg: String, status: StatusCode| async move {
        if wants_json {
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::PayloadTooLarge } else { ErrorCode::InvalidUpload };
            return Ok(ApiError::with_message(code, msg).into_response());
        }
        let mut extra = typed;
        extra["error"] = json!(msg);
        super::media::library_page(state_ref, session_ref, status, None, extra).await
    };
    let Some((bytes, file_name, content_type)) = file else {
        return fail(UploadError::Missing.to_string(), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let alt = crate::domain::collapse_whitespace(&fields.text("alt")).replace([']', '['], "");
    let checked = match check(&bytes, file_name.as_deref(), content_type.as_deref(), max) {
        Ok(c) => c,
        Err(e @ UploadError::TooLarge(_)) => return fail(e.to_string(), StatusCode::PAYLOAD_TOO_LARGE).await,
        Err(e) => return fail(e.to_string(), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let dir = state.config.data_dir.join("media");
    let size = bytes.len() as i64;
    let stored = match imaging::store_upload_async(dir, bytes, checked.clone()).await {
        Ok(stored) => stored,
        Err(ImagingError::Upload(e)) => return fail(e.to_string(), StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(ImagingError::Io(e)) => return Err(anyhow::Error::from(e).context("storing an upload").into()),
    };
    let record = MediaRecord {
        id: 0,
        file_name: stored.file_name.clone(),
        content_type: checked.kind.mime().into(),
        width: i64::from(stored.width),
        height: i64::from(stored.height),
        bytes: size,
        alt: alt.clone(),
        created_at: 0,
        caption: crate::domain::collapse_whitespace(&fields.text("caption")).chars().take(500).collect(),
        credit: crate::domain::collapse_whitespace(&fields.text("credit")).chars().take(200).collect(),
        uploaded_by: Some(session.user.id),
    };
    state.store.add_media(&record, Some(session.user.id)).await?;
    if wants_json {
        let src = format!("/media/{}", stored.file_name);
        let preview = crate::media::responsive(&src).map(|r| r.0).unwrap_or_else(|| src.clone());
        let answer = UploadedImage { src, preview, width: stored.width, height: stored.height, alt };
        return Ok((StatusCode::CREATED, axum::Json(answer)).into_response());
    }
    let markup = format!("![{alt}](/media/{})", stored.file_name);
    super::media::library_page(&state, &session, StatusCode::CREATED, None, json!({ "uploaded": markup, "alt_missing": alt.is_empty() }))
        .await
}

/// `GET /media/{name}`: the variants of uploaded images, public and immutable (the name holds
/// their hash). Nothing else: originals, with their EXIF metadata (a photographer's GPS
/// position, a camera's serial), are kept in `media/originals` and never answered here, and a
/// name that is not exactly a variant of an upload is a 404. A variant missing because its
/// original was uploaded before variants existed is made now; if that fails, 404.
pub async fn serve_media(State(state): State<AppState>, axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let not_found = || crate::web::PageError::NotFound.into_response();
    let dir = state.config.data_dir.join("media");
    // Checked by the name rules below as well; said here so no later change can open a path.
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return not_found();
    }
    let Some(originals) = original_of_variant(&name) else { return not_found() };
    let mime = if name.ends_with(".png") { "image/png" } else { "image/jpeg" };
    if let Ok(bytes) = tokio::fs::read(dir.join(&name)).await {
        return media_response(mime, bytes);
    }
    for original in originals {
        // An original left in the served folder by an older node during an upgrade.
        let (d, o) = (dir.clone(), original.clone());
        match tokio::task::spawn_blocking(move || imaging::secure_original(&d, &o)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, original, "cannot move an original out of the media folder");
                return not_found();
            }
            Err(_) => return not_found(),
        }
        if !tokio::fs::try_exists(imaging::originals_dir(&dir).join(&original)).await.unwrap_or(false) {
            continue;
        }
        if let Err(e) = imaging::backfill_async(dir.clone(), original.clone()).await {
            tracing::warn!(error = %e, original, "cannot make the variants of an older upload");
        }
        return match tokio::fs::read(dir.join(&name)).await {
            Ok(variant) => media_response(mime, variant),
            Err(_) => not_found(),
        };
    }
    not_found()
}

fn media_response(mime: &'static str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response()
}
