//! The media library (`/admin/media`): every upload as a thumbnail, found by file name,
//! description, caption or credit; one upload's page to edit those texts, see the articles
//! that use it and delete it when none does; and a JSON list for the editor's pickers.
//! Everyone signed in sees the library and uploads; an upload's texts are changed, and an
//! unused upload deleted, by its uploader or an editor.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{local_time, render, AdminError, AdminForm, AdminResult, Session};
use crate::domain::{collapse_whitespace, Role};
use crate::media::{imaging, variants_of};
use crate::store::MediaRecord;
use crate::web::pages::query_param;
use crate::web::AppState;

/// Thumbnails per library page.
const PAGE: i64 = 48;
/// Limits on an upload's texts (characters).
const MAX_ALT: usize = 300;
const MAX_CAPTION: usize = 500;
const MAX_CREDIT: usize = 200;

/// The file name without its extension: the prefix of every variant's name, and what an
/// article's body holds when it uses the upload.
fn stem(file_name: &str) -> &str {
    file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem)
}

/// An upload as the library and the pickers show it: the smallest variant as the thumbnail
/// (originals are never served), the largest as the picture to place.
fn item(m: &MediaRecord) -> Value {
    let variants = variants_of(&m.file_name).unwrap_or_default();
    let thumb = variants.first().map(|v| format!("/media/{}", v.file_name)).unwrap_or_default();
    let (tw, th) = variants.first().map_or((m.width, m.height), |v| (i64::from(v.width), i64::from(v.height)));
    json!({
        "id": m.id, "file_name": m.file_name, "src": format!("/media/{}", m.file_name), "thumb": thumb,
        "thumb_width": tw, "thumb_height": th, "width": m.width, "height": m.height, "kb": (m.bytes + 1023) / 1024,
        "alt": m.alt, "caption": m.caption, "credit": m.credit,
        "widths": variants.iter().map(|v| v.width.to_string()).collect::<Vec<_>>().join("، "),
    })
}

fn may_change(session: &Session, m: &MediaRecord) -> bool {
    session.user.role >= Role::Editor || m.uploaded_by == Some(session.user.id)
}

/// The library page; `extra` carries an upload's result or error (see `manage::upload`).
pub(super) async fn library_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    raw_query: Option<&str>,
    extra: Value,
) -> AdminResult<Response> {
    let raw = raw_query.map(str::to_string);
    let q = query_param(&raw, "q").map(|q| q.chars().take(100).collect::<String>()).unwrap_or_default();
    let before = query_param(&raw, "before").and_then(|b| b.parse::<i64>().ok()).filter(|b| *b > 0);
    let found = state.store.media_list(Some(&q), before, PAGE + 1).await?;
    let more = found.len() as i64 > PAGE;
    let items: Vec<Value> = found.iter().take(PAGE as usize).map(item).collect();
    let next = if more { found.get(PAGE as usize - 1).map(|m| m.id) } else { None };
    let mut ctx = json!({
        "items": items, "q": q, "next": next, "paged": before.is_some(),
        "max_kb": state.config.editor.max_upload_bytes / 1024,
    });
    if let (Some(obj), Some(extra)) = (ctx.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    Ok((status, render(state, Some(session), "admin/media.html", ctx)?).into_response())
}

pub async fn library(State(state): State<AppState>, session: Session, RawQuery(raw): RawQuery) -> AdminResult<Response> {
    library_page(&state, &session, StatusCode::OK, raw.as_deref(), json!({})).await
}

/// `GET /admin/media/pick?q=`: up to 24 uploads as JSON, for the editor's image pickers.
pub async fn pick(State(state): State<AppState>, _session: Session, RawQuery(raw): RawQuery) -> AdminResult<Json<Value>> {
    let q = query_param(&raw, "q").map(|q| q.chars().take(100).collect::<String>());
    let found = state.store.media_list(q.as_deref(), None, 24).await?;
    Ok(Json(json!({ "items": found.iter().map(item).collect::<Vec<_>>() })))
}

async fn detail_page(state: &AppState, session: &Session, status: StatusCode, m: &MediaRecord, extra: Value) -> AdminResult<Response> {
    let uses = state.store.media_uses(stem(&m.file_name), 50).await?;
    let largest = crate::media::responsive(&format!("/media/{}", m.file_name));
    let mut ctx = json!({
        "m": item(m), "uses": uses, "uploaded": local_time(state, m.created_at), "may_change": may_change(session, m),
        "large": largest.as_ref().map(|(src, srcset, w, h)| json!({ "src": src, "srcset": srcset, "width": w, "height": h })),
        "max_alt": MAX_ALT, "max_caption": MAX_CAPTION, "max_credit": MAX_CREDIT,
    });
    if let (Some(obj), Some(extra)) = (ctx.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    Ok((status, render(state, Some(session), "admin/media_item.html", ctx)?).into_response())
}

async fn find(state: &AppState, id: &str) -> AdminResult<MediaRecord> {
    let id: i64 = id.parse().map_err(|_| AdminError::NotFound)?;
    state.store.media_by_id(id).await?.ok_or(AdminError::NotFound)
}

pub async fn detail(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AdminResult<Response> {
    let m = find(&state, &id).await?;
    let saved = query_param(&raw, "saved").is_some();
    detail_page(&state, &session, StatusCode::OK, &m, json!({ "notice": saved.then_some("حُفظت بيانات الصورة.") })).await
}

/// One line of text, trimmed, or an Arabic message naming the field and its limit.
fn text_field(value: &str, what: &str, max: usize) -> Result<String, String> {
    let text = collapse_whitespace(&crate::domain::strip_controls(value));
    if text.chars().count() > max {
        return Err(format!("{what} أطول من {max} حرف."));
    }
    Ok(text)
}

pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    let m = find(&state, &id).await?;
    if !may_change(&session, &m) {
        return Err(AdminError::Forbidden("يعدّل بيانات الصورة من رفعها أو محرر.".into()));
    }
    let parsed = (|| {
        // Square brackets would end the description early in the body's markup `![…](…)`.
        let alt = text_field(fields.get("alt").unwrap_or(""), "الوصف", MAX_ALT)?.replace(['[', ']'], "");
        Ok::<_, String>((
            alt,
            text_field(fields.get("caption").unwrap_or(""), "التعليق", MAX_CAPTION)?,
            text_field(fields.get("credit").unwrap_or(""), "المصدر", MAX_CREDIT)?,
        ))
    })();
    let (alt, caption, credit) = match parsed {
        Ok(texts) => texts,
        Err(msg) => return detail_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &m, json!({ "error": msg })).await,
    };
    if !state.store.update_media_text(m.id, &alt, &caption, &credit).await? {
        return Err(AdminError::NotFound);
    }
    Ok(Redirect::to(&format!("/admin/media/{}?saved=1", m.id)).into_response())
}

/// Deletes an upload no article uses: its row, then its variants and original on disk (a
/// file already gone is fine). Used ones are refused with the list of articles.
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    let m = find(&state, &id).await?;
    if !may_change(&session, &m) {
        return Err(AdminError::Forbidden("يحذف الصورة من رفعها أو محرر.".into()));
    }
    if !state.store.delete_unused_media(m.id, stem(&m.file_name)).await? {
        let msg = "لا تُحذف صورة مستعملة: أزلها من المقالات المذكورة أولاً.";
        return detail_page(&state, &session, StatusCode::CONFLICT, &m, json!({ "error": msg })).await;
    }
    let dir = state.config.data_dir.join("media");
    let mut files: Vec<std::path::PathBuf> = variants_of(&m.file_name).unwrap_or_default().iter().map(|v| dir.join(&v.file_name)).collect();
    files.push(imaging::originals_dir(&dir).join(&m.file_name));
    // Only names built from a stored, validated file name: nothing typed reaches the paths.
    for file in files {
        if let Err(e) = tokio::fs::remove_file(&file).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, file = %file.display(), "cannot delete a media file");
            }
        }
    }
    tracing::info!(media = m.id, file = %m.file_name, by = session.user.id, "upload deleted");
    Ok(Redirect::to("/admin/media").into_response())
}

/// The article form's featured-image picker: the newest uploads as choices (never a path to
/// type), and a preview of the current choice from our variants when it is one of ours.
pub(super) async fn add_featured_picker(state: &AppState, ctx: &mut Value) -> AdminResult<()> {
    let library: Vec<Value> = state.store.media_list(None, None, 24).await?.iter().map(item).collect();
    let current = ctx["a"]["featured_src"].as_str().unwrap_or_default().to_string();
    let in_library = library.iter().any(|m| m["src"] == current.as_str());
    ctx["library"] = json!(library);
    ctx["featured_in_library"] = json!(in_library);
    if let Some((_, _, _, _)) = crate::media::responsive(&current) {
        // The smallest variant: originals are never served.
        let thumb =
            current.strip_prefix("/media/").and_then(variants_of).and_then(|v| v.first().map(|v| format!("/media/{}", v.file_name)));
        ctx["featured_preview"] = json!(thumb);
    }
    Ok(())
}
