//! Writing and editing articles: list with filters, the editor form with preview, versioned
//! saves, revisions with diff and restore.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Value};

use super::diff::{diff_lines, Diff, DiffLimits};
use super::{local_input, local_time, parse_local_input, render, AdminError, AdminForm, AdminPath, AdminResult, Fields, Session};
use crate::domain::Role;
use crate::domain::{
    normalize_body_marks, Article, ArticleDraft, AuthorRef, Block, DomainError, Headline, MarkPolicy, SectionRef, Slug, Status, TagRef,
};
use crate::ingest::markup;
use crate::media::responsive;
use crate::render::paths;
use crate::store::{draft_from_snapshot, AdminFilter, ArticleMeta, EditError, Snapshot};
use crate::web::api_types::{AutosaveAnswer, EditorSuggestions, RelatedPick};
use crate::web::error::ErrorCode;
use crate::web::pages::url_pairs;
use crate::web::{ApiError, AppState};

const PAGE: i64 = 50;

pub fn status_label(status: Status, submitted: bool) -> &'static str {
    match (status, submitted) {
        (Status::Draft, true) => "بانتظار المراجعة",
        (Status::Draft, false) => "مسودة",
        (Status::Scheduled, _) => "مجدول",
        (Status::Published, _) => "منشور",
    }
}

pub async fn list(State(state): State<AppState>, session: Session, RawQuery(raw): RawQuery) -> AdminResult<Response> {
    let pairs = url_pairs(raw.as_deref().unwrap_or(""));
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let page = param("page").and_then(|p| p.parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let filter = AdminFilter {
        status: param("status"),
        section: param("section"),
        author: param("author"),
        query: param("q"),
        // Writers work on their own articles only.
        created_by: (session.user.role < Role::Editor).then_some(session.user.id),
        limit: PAGE,
        offset: (page - 1) * PAGE,
    };
    let (rows, total) = state.store.admin_articles(&filter).await?;
    // Readers' views from the database (what every node flushed), for the editors.
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let hour = crate::domain::now_secs() / 3600;
    let day = state.store.view_counts(&ids, hour - 23).await?;
    let week = state.store.view_counts(&ids, hour - 24 * 7 + 1).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "headline": r.headline, "status": r.status, "status_label": status_label(r.status, r.submitted),
                "section": r.section, "updated": local_time(&state, r.updated_at),
                "published": r.published_at.map(|t| local_time(&state, t)),
                "url": (r.status == Status::Published).then(|| paths::article(&r.slug)),
                "views_day": day.get(&r.id).copied().unwrap_or(0), "views_week": week.get(&r.id).copied().unwrap_or(0),
            })
        })
        .collect();
    let sections: Vec<Value> = state.store.all_sections().await?.iter().map(|s| json!({ "slug": s.slug, "name": s.name })).collect();
    let authors: Vec<Value> = state.store.all_authors().await?.into_iter().map(|a| json!({ "slug": a.slug, "name": a.name })).collect();
    Ok(render(
        &state,
        Some(&session),
        "admin/list.html",
        json!({
            "items": items, "total": total, "page": page, "pages": ((total + PAGE - 1) / PAGE).max(1),
            "sections": sections, "authors": authors,
            "f": { "status": param("status"), "section": param("section"), "author": param("author"), "q": param("q") },
        }),
    )?
    .into_response())
}

/// What the form shows: stored values, or what the user just typed.
/// The featured image is the image a body starts with, before any text; the form shows it in
/// its own fields.
fn split_featured(body: &[Block]) -> (Option<(&str, &str)>, &[Block]) {
    match body.first() {
        Some(Block::Image { src, alt, caption: None, credit: None }) => (Some((src.as_str(), alt.as_str())), &body[1..]),
        _ => (None, body),
    }
}

fn form_values(state: &AppState, s: &Snapshot) -> Value {
    let (featured, rest) = split_featured(&s.body);
    json!({
        "headline": s.headline, "slug": s.slug, "lead": s.lead, "body": markup::serialize(rest), "blocks": editor_blocks(rest),
        "featured_src": featured.map(|f| f.0).unwrap_or_default(), "featured_alt": featured.map(|f| f.1).unwrap_or_default(),
        "section": s.section.clone().unwrap_or_default(), "tags": s.tags.join("، "), "authors": s.authors.join("، "),
        "status": s.status, "publish_at": s.published_at.map(|t| local_input(state, t)).unwrap_or_default(),
    })
}

fn typed_values(fields: &Fields) -> Value {
    json!({
        "headline": fields.text("headline"), "slug": fields.text("slug"), "lead": fields.text("lead"), "body": fields.get("body").unwrap_or(""),
        // What the block editor sent, shown again as typed (an error page must not lose it).
        "blocks": fields.get("body_json").and_then(|j| serde_json::from_str::<Vec<Block>>(j).ok()).map(|b| editor_blocks(&b)),
        "featured_src": fields.text("featured_src"), "featured_alt": fields.text("featured_alt"),
        "section": fields.text("section"), "tags": fields.text("tags"), "authors": fields.text("authors"),
        "status": fields.text("status"), "publish_at": fields.text("publish_at"),
    })
}

/// Blocks as the block editor loads them: as stored, plus for our uploads a `preview` address
/// the browser can show (the stored `src` names the original, which is never served).
fn editor_blocks(blocks: &[Block]) -> Vec<Value> {
    blocks
        .iter()
        .map(|b| {
            let mut v = serde_json::to_value(b).unwrap_or(Value::Null);
            if let Block::Image { src, .. } = b {
                v["preview"] = json!(responsive(src).map(|r| r.0).unwrap_or_else(|| src.clone()));
            }
            v
        })
        .collect()
}

/// Blocks as the preview shows them: the article template's shapes, escaped by minijinja.
fn preview_blocks(blocks: &[Block]) -> Vec<Value> {
    blocks
        .iter()
        .map(|b| {
            let mut v = serde_json::to_value(b).unwrap_or(Value::Null);
            // Our uploads show as their largest variant: originals are never served.
            if let Block::Image { src, .. } = b {
                if let Some((largest, _, w, h)) = responsive(src) {
                    v["src"] = json!(largest);
                    v["width"] = json!(w);
                    v["height"] = json!(h);
                }
            }
            v
        })
        .collect()
}

async fn editor_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    id: Option<i64>,
    meta: Option<&ArticleMeta>,
    values: Value,
    extra: Value,
) -> AdminResult<Response> {
    let sections: Vec<String> = state.store.all_sections().await?.into_iter().map(|s| s.name).collect();
    // What the block editor loads: the blocks, and this person's autosaved working copy.
    let autosave = match id {
        Some(id) => state.store.autosave(id, session.user.id).await?.map(|a| {
            json!({ "fields": serde_json::from_str::<Value>(&a.fields).unwrap_or(Value::Null), "saved_at": a.saved_at, "version": a.base_version })
        }),
        None => None,
    };
    let editor_data = json!({
        "id": id, "version": meta.map(|m| m.version), "blocks": values.get("blocks").cloned().unwrap_or(Value::Null), "autosave": autosave,
        "suggestions_url": id.map(|id| format!("/admin/articles/{id}/suggestions")),
    });
    let mut ctx = json!({
        "editor_data": editor_data,
        "id": id, "a": values, "sections": sections,
        "version": meta.map(|m| m.version), "submitted": meta.is_some_and(|m| m.submitted_at.is_some()),
        "status_label": meta.map(|m| status_label(m.status, m.submitted_at.is_some())),
        "tz": state.config.site.timezone.0.name(),
    });
    super::media::add_featured_picker(state, &mut ctx).await?;
    if let (Some(obj), Some(extra)) = (ctx.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    Ok((status, render(state, Some(session), "admin/edit.html", ctx)?).into_response())
}

pub async fn new_form(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    let values = json!({ "status": "draft", "authors": session.user.name });
    editor_page(&state, &session, StatusCode::OK, None, None, values, json!({})).await
}

fn can_edit(session: &Session, meta: &ArticleMeta) -> AdminResult<()> {
    if session.user.role >= Role::Editor || (meta.created_by == Some(session.user.id) && meta.status == Status::Draft) {
        Ok(())
    } else {
        Err(AdminError::Forbidden("يستطيع الكاتب تعديل مسوداته فقط؛ هذا المقال ليس مسودة لك.".into()))
    }
}

fn can_set_status(session: &Session, status: Status) -> AdminResult<()> {
    if status != Status::Draft && session.user.role < Role::Editor {
        return Err(AdminError::Forbidden("النشر والجدولة للمحررين فقط. أرسل المقال للمراجعة بدلاً من ذلك.".into()));
    }
    Ok(())
}

pub async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    RawQuery(raw): RawQuery,
) -> AdminResult<Response> {
    let meta = state.store.article_meta(id).await?.ok_or(AdminError::NotFound)?;
    if session.user.role < Role::Editor && meta.created_by != Some(session.user.id) {
        return Err(AdminError::Forbidden("هذا المقال ليس لك.".into()));
    }
    let snapshot = state.store.current_snapshot(id).await?.ok_or(AdminError::NotFound)?;
    let saved = crate::web::pages::query_param(&raw, "saved").is_some();
    let url = (snapshot.status == Status::Published).then(|| paths::article(&snapshot.slug));
    let extra = json!({ "notice": saved.then_some("حُفظ المقال."), "public_url": url, "readonly": can_edit(&session, &meta).is_err() });
    editor_page(&state, &session, StatusCode::OK, Some(id), Some(&meta), form_values(&state, &snapshot), extra).await
}

/// The body's blocks, after the size limit on what was typed (`Ok(Err(message))` when the
/// article is too long); a big body is parsed off the async workers.
async fn body_from_fields(state: &AppState, fields: &Fields) -> AdminResult<Result<Vec<Block>, String>> {
    if let Some(json) = fields.get("body_json").filter(|j| !j.trim().is_empty()) {
        return Ok(blocks_from_editor(state, fields, json));
    }
    let body = fields.get("body").unwrap_or("");
    let typed = [fields.get("headline").unwrap_or(""), fields.get("lead").unwrap_or(""), body];
    if let Err(e) = state.config.editor.article_limits().check_chars(&typed) {
        return Ok(Err(e.to_string()));
    }
    Ok(Ok(markup::parse_off_worker(body).await?))
}

/// The block editor's body (`body_json`, the API's block representation), held to the rules
/// every other producer meets: the same size limits, image addresses as in the markup, no
/// empty blocks. A message in Arabic names the first problem.
fn blocks_from_editor(state: &AppState, fields: &Fields, json: &str) -> Result<Vec<Block>, String> {
    let blocks: Vec<Block> =
        serde_json::from_str(json).map_err(|_| "تعذّرت قراءة نص المحرر. أعد تحميل الصفحة؛ عملك محفوظ تلقائياً.".to_string())?;
    let block_texts: Vec<_> = blocks.iter().map(Block::text).collect();
    let mut texts = vec![fields.get("headline").unwrap_or(""), fields.get("lead").unwrap_or("")];
    texts.extend(block_texts.iter().map(|t| t.as_ref()));
    state.config.editor.article_limits().check_chars(&texts).map_err(|e| e.to_string())?;
    let mut kept = Vec::with_capacity(blocks.len());
    for block in blocks {
        if let Block::Image { src, .. } = &block {
            if crate::domain::link::image_src(src).is_none() {
                return Err(refused_image_message(src));
            }
        }
        if !matches!(block, Block::Image { .. }) && block.text().trim().is_empty() {
            continue;
        }
        kept.push(block);
    }
    // Marks as every producer has them: canonical, links checked; a bad one is refused.
    normalize_body_marks(&mut kept, MarkPolicy::Refuse).map_err(|e| e.to_string())?;
    Ok(kept)
}

/// Why an image line of the body was refused, naming its address (shortened, and without
/// control characters, which the page would otherwise show as they are).
pub(crate) fn refused_image_message(src: &str) -> String {
    format!(
        "رابط الصورة «{}» غير مقبول: يُقبل رابط يبدأ بـ https:// أو http://، أو مسار على هذا الموقع يبدأ بشرطة واحدة مثل /media/…",
        src.chars().filter(|c| !c.is_control()).take(80).collect::<String>()
    )
}

/// Why a link of the body was refused, naming its address (shortened, without controls).
pub(crate) fn refused_link_message(href: &str) -> String {
    format!(
        "الرابط «{}» غير مقبول: يُقبل رابط يبدأ بـ https:// أو http://، أو مسار على هذا الموقع يبدأ بشرطة واحدة مثل /مقال. اكتب الرابط هكذا: [الكلمات](https://…)",
        href.chars().filter(|c| !c.is_control()).take(80).collect::<String>()
    )
}

/// The form's fields as a draft, or an Arabic message naming the first problem.
fn draft_from_fields(
    state: &AppState,
    fields: &Fields,
    body: Vec<Block>,
    current_published_at: Option<i64>,
) -> Result<(ArticleDraft, Status), String> {
    let headline = Headline::parse(&fields.text("headline")).map_err(|e| e.to_string())?;
    let status = Status::parse(fields.get("status").unwrap_or("draft")).map_err(|e| e.to_string())?;
    let when = parse_local_input(state, fields.get("publish_at").unwrap_or(""))?;
    let mut draft = ArticleDraft::new(headline);
    draft.lead = fields.text("lead");
    let from_editor = fields.get("body_json").is_some_and(|j| !j.trim().is_empty());
    if let Some(src) = crate::ingest::plaintext::refused_image(fields.get("body").unwrap_or("")).filter(|_| !from_editor) {
        return Err(refused_image_message(&src));
    }
    if let Some(href) = markup::refused_link(fields.get("body").unwrap_or("")) {
        return Err(refused_link_message(&href));
    }
    draft.body = body;
    let featured = fields.text("featured_src");
    if !featured.is_empty() {
        // The same URL rules as images in the body: http(s) or a local path, nothing else.
        let alt = fields.text("featured_alt").replace(['[', ']'], "");
        match crate::ingest::plaintext::image_line(&format!("![{alt}]({featured})")) {
            Some(image) => draft.body.insert(0, image),
            None => {
                return Err(format!(
                    "رابط الصورة الرئيسية «{}» غير مقبول: ارفع الصورة من صفحة الصور أو استعمل رابط https.",
                    featured.chars().filter(|c| !c.is_control()).take(80).collect::<String>()
                ))
            }
        }
    }
    if draft.body.is_empty() && draft.lead.is_empty() {
        return Err(DomainError::EmptyBody.to_string());
    }
    state.config.editor.article_limits().check_blocks(draft.body.len()).map_err(|e| e.to_string())?;
    let names = |name: &str| -> Vec<String> {
        fields.text(name).split([',', '،']).map(crate::domain::collapse_whitespace).filter(|s| !s.is_empty()).collect()
    };
    draft.section = Some(fields.text("section")).filter(|s| !s.is_empty());
    draft.tags = names("tags");
    draft.authors = names("authors");
    let slug = fields.text("slug");
    draft.slug = if slug.is_empty() { None } else { Some(Slug::parse(&slug).map_err(|e| e.to_string())?) };
    draft.status = status;
    draft.source = Some("editor".into());
    draft.published_at = match status {
        Status::Scheduled => Some(when.ok_or("حدّد وقت النشر للمقال المجدول.")?),
        Status::Published => Some(when.or(current_published_at).unwrap_or_else(crate::domain::now_secs)),
        Status::Draft => when,
    }
    .map(crate::store::from_secs);
    if status != Status::Draft {
        if let Some(Block::Image { src, .. }) = draft.body.iter().find(|b| matches!(b, Block::Image { alt, .. } if alt.trim().is_empty())) {
            return Err(format!("لا يُنشر مقال فيه صورة بلا نص بديل: أضف وصفاً بين القوسين [] للصورة {src}"));
        }
    }
    Ok((draft, status))
}

pub async fn create(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    let action = fields.text("action");
    let parsed = body_from_fields(&state, &fields).await?.and_then(|body| draft_from_fields(&state, &fields, body, None));
    let (mut draft, status) = match parsed {
        Ok(d) => d,
        Err(msg) => {
            return editor_page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                typed_values(&fields),
                json!({ "error": msg }),
            )
            .await
        }
    };
    can_set_status(&session, status)?;
    if let Some(msg) = super::section_refusal(&state, &session.user, draft.section.as_deref()).await? {
        let extra = json!({ "error": msg });
        return editor_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, None, None, typed_values(&fields), extra).await;
    }
    if action == "preview" {
        let blocks = preview_blocks(&draft.body);
        return editor_page(&state, &session, StatusCode::OK, None, None, typed_values(&fields), json!({ "preview": blocks })).await;
    }
    if action == "preview_page" {
        return public_preview(&state, None, &draft).await;
    }
    if draft.authors.is_empty() {
        draft.authors = vec![session.user.name.clone()];
    }
    if action == "publish_send" {
        super::desk::check_publish_send(&session, status)?;
    }
    let id = match state.store.create_article(&draft, Some(session.user.id)).await {
        Ok(id) => id,
        Err(e) => return Err(edit_error(e)),
    };
    if action == "submit" {
        let version = state.store.article_meta(id).await?.map(|m| m.version).unwrap_or(1);
        state.store.update_article(id, version, &draft, Some(session.user.id), Some(true)).await.map_err(edit_error)?;
    }
    if action == "publish_send" {
        return super::desk::send_breaking(&state, &session, id, &fields).await;
    }
    Ok(Redirect::to(&format!("/admin/articles/{id}?saved=1")).into_response())
}

fn edit_error(e: EditError) -> AdminError {
    match e {
        EditError::NotFound => AdminError::NotFound,
        EditError::VersionConflict { .. } | EditError::SlugTaken(_) => AdminError::Conflict(e.to_string()),
        EditError::Store(e) => AdminError::Internal(e.into()),
    }
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    let meta = state.store.article_meta(id).await?.ok_or(AdminError::NotFound)?;
    can_edit(&session, &meta)?;
    let action = fields.text("action");
    let current_published = state.store.current_snapshot(id).await?.and_then(|s| s.published_at);
    let parsed = body_from_fields(&state, &fields).await?.and_then(|body| draft_from_fields(&state, &fields, body, current_published));
    let (draft, status) = match parsed {
        Ok(d) => d,
        Err(msg) => {
            return editor_page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(id),
                Some(&meta),
                typed_values(&fields),
                json!({ "error": msg }),
            )
            .await
        }
    };
    can_set_status(&session, status)?;
    if let Some(msg) = super::section_refusal(&state, &session.user, draft.section.as_deref()).await? {
        let extra = json!({ "error": msg });
        return editor_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(id), Some(&meta), typed_values(&fields), extra).await;
    }
    if action == "preview" {
        let blocks = preview_blocks(&draft.body);
        return editor_page(&state, &session, StatusCode::OK, Some(id), Some(&meta), typed_values(&fields), json!({ "preview": blocks }))
            .await;
    }
    if action == "preview_page" {
        return public_preview(&state, Some(id), &draft).await;
    }
    let Some(version) = fields.get("version").and_then(|v| v.trim().parse::<i64>().ok()) else {
        return Err(AdminError::BadRequest("النموذج بلا رقم نسخة؛ أعد تحميل الصفحة.".into()));
    };
    let submitted = match (action.as_str(), status) {
        ("submit", _) => Some(true),
        (_, Status::Published | Status::Scheduled) => Some(false),
        _ => None,
    };
    if action == "publish_send" {
        super::desk::check_publish_send(&session, status)?;
    }
    match state.store.update_article(id, version, &draft, Some(session.user.id), submitted).await {
        Ok(_) => {
            // Saved for real: the working copy has served its purpose.
            state.store.delete_autosave(id, session.user.id).await?;
            if action == "publish_send" {
                return super::desk::send_breaking(&state, &session, id, &fields).await;
            }
            Ok(Redirect::to(&format!("/admin/articles/{id}?saved=1")).into_response())
        }
        Err(e @ (EditError::VersionConflict { .. } | EditError::SlugTaken(_))) => {
            editor_page(
                &state,
                &session,
                StatusCode::CONFLICT,
                Some(id),
                Some(&meta),
                typed_values(&fields),
                json!({ "error": e.to_string() }),
            )
            .await
        }
        Err(e) => Err(edit_error(e)),
    }
}

fn snapshot_text(state: &AppState, s: &Snapshot) -> String {
    format!(
        "العنوان: {}\nالمعرّف: {}\nالحالة: {}\nموعد النشر: {}\nالقسم: {}\nالوسوم: {}\nالكتّاب: {}\n\nالمقدمة: {}\n\n{}",
        s.headline,
        s.slug,
        status_label(s.status, false),
        s.published_at.map(|t| local_time(state, t)).unwrap_or_default(),
        s.section.clone().unwrap_or_default(),
        s.tags.join("، "),
        s.authors.join("، "),
        s.lead,
        markup::serialize(&s.body)
    )
}

async fn viewable(state: &AppState, session: &Session, id: i64) -> AdminResult<ArticleMeta> {
    let meta = state.store.article_meta(id).await?.ok_or(AdminError::NotFound)?;
    if session.user.role < Role::Editor && meta.created_by != Some(session.user.id) {
        return Err(AdminError::Forbidden("هذا المقال ليس لك.".into()));
    }
    Ok(meta)
}

pub async fn revisions(State(state): State<AppState>, session: Session, AdminPath(id): AdminPath<i64>) -> AdminResult<Response> {
    let meta = viewable(&state, &session, id).await?;
    let current = state.store.current_snapshot(id).await?.ok_or(AdminError::NotFound)?;
    let revs: Vec<Value> = state
        .store
        .revisions(id)
        .await?
        .iter()
        .map(|r| json!({ "id": r.id, "version": r.version, "user": r.user_name, "at": local_time(&state, r.created_at), "current": r.version == meta.version }))
        .collect();
    Ok(render(
        &state,
        Some(&session),
        "admin/revisions.html",
        json!({ "id": id, "headline": current.headline, "revisions": revs, "version": meta.version }),
    )?
    .into_response())
}

pub async fn revision_diff(
    State(state): State<AppState>,
    session: Session,
    AdminPath((id, rev)): AdminPath<(i64, i64)>,
) -> AdminResult<Response> {
    let meta = viewable(&state, &session, id).await?;
    let (info, old) = state.store.revision(id, rev).await?.ok_or(AdminError::NotFound)?;
    let current = state.store.current_snapshot(id).await?.ok_or(AdminError::NotFound)?;
    let (old_text, new_text) = (snapshot_text(&state, &old), snapshot_text(&state, &current));
    let limits = DiffLimits {
        max_lines: state.config.editor.max_diff_lines,
        // A line diff of more than 8 MiB of text is unreadable anyway; the bound keeps one
        // request's memory small whatever the lines' lengths.
        max_bytes: 8 << 20,
        deadline: std::time::Duration::from_secs(2),
    };
    // Off the async workers: even bounded, a diff is seconds of one core at worst.
    let diff = tokio::task::spawn_blocking(move || diff_lines(&old_text, &new_text, limits))
        .await
        .map_err(|e| AdminError::Internal(anyhow::anyhow!("diff task failed: {e}")))?;
    // Too large: still 200, with the versions' metadata and the restore button, and a message
    // in place of the lines (the revision is fine; only its comparison is not shown).
    let (lines, too_large) = match diff {
        Diff::Lines(lines) => (lines, None),
        Diff::TooLarge { lines, .. } => (
            Vec::new(),
            Some(format!(
                "الفرق بين النسختين أكبر من أن يُعرض ({lines} سطراً، والحد {} سطر). يمكنك استعادة النسخة أو فتح كل منهما في المحرر.",
                limits.max_lines
            )),
        ),
    };
    Ok(render(
        &state,
        Some(&session),
        "admin/diff.html",
        json!({ "id": id, "rev": info.id, "rev_version": info.version, "version": meta.version, "headline": current.headline,
                "at": local_time(&state, info.created_at), "user": info.user_name, "lines": lines, "too_large": too_large }),
    )?
    .into_response())
}

pub async fn restore(
    State(state): State<AppState>,
    session: Session,
    AdminPath((id, rev)): AdminPath<(i64, i64)>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    let meta = state.store.article_meta(id).await?.ok_or(AdminError::NotFound)?;
    can_edit(&session, &meta)?;
    let (_, snapshot) = state.store.revision(id, rev).await?.ok_or(AdminError::NotFound)?;
    can_set_status(&session, snapshot.status)?;
    let draft = draft_from_snapshot(&snapshot).map_err(|e| AdminError::BadRequest(e.to_string()))?;
    let version = fields.get("version").and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(meta.version);
    state.store.update_article(id, version, &draft, Some(session.user.id), None).await.map_err(edit_error)?;
    Ok(Redirect::to(&format!("/admin/articles/{id}?saved=1")).into_response())
}

/// The form fields an autosave keeps; anything else a client sends is dropped.
const AUTOSAVED_FIELDS: &[&str] = &[
    "headline",
    "slug",
    "lead",
    "body",
    "body_json",
    "featured_src",
    "featured_alt",
    "section",
    "tags",
    "authors",
    "status",
    "publish_at",
];

#[derive(serde::Deserialize)]
pub struct AutosaveInput {
    csrf: String,
    /// The article's version the page was opened at.
    version: i64,
    fields: std::collections::BTreeMap<String, String>,
}

/// `POST /admin/articles/{id}/autosave` (JSON, from the block editor every few seconds while
/// someone types): stores their working copy apart from the revisions. Whoever may edit the
/// article may autosave it, with the session's CSRF token in the body. The copy is kept even
/// when someone else saved the article since the page was opened, and the answer is then a
/// 409 `version_conflict` so the editor can say so.
pub async fn autosave(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let input: AutosaveInput = serde_json::from_slice(&body).map_err(|_| ApiError::new(ErrorCode::InvalidJson))?;
    if !crate::accounts::constant_time_eq(&input.csrf, &session.csrf) {
        return Err(ApiError::with_message(ErrorCode::Forbidden, "رمز الحماية مفقود أو غير صحيح. أعد تحميل الصفحة."));
    }
    let meta = state.store.article_meta(id).await?.ok_or_else(|| ApiError::not_found("المقال"))?;
    if let Err(AdminError::Forbidden(message)) = can_edit(&session, &meta) {
        return Err(ApiError::with_message(ErrorCode::Forbidden, message));
    }
    let kept: std::collections::BTreeMap<&str, &str> =
        input.fields.iter().filter(|(k, _)| AUTOSAVED_FIELDS.contains(&k.as_str())).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let texts: Vec<&str> = kept.values().copied().collect();
    // The whole form, JSON included, within twice the article's limit: room for the markup
    // of marks, never an unbounded row.
    let limit = state.config.editor.max_article_chars.saturating_mul(2);
    if texts.iter().map(|t| t.chars().count()).sum::<usize>() > limit {
        return Err(ApiError::new(ErrorCode::ArticleTooLarge));
    }
    let fields = serde_json::to_string(&kept).map_err(|e| ApiError::internal(anyhow::Error::from(e)))?;
    state.store.put_autosave(id, session.user.id, input.version, &fields).await?;
    if meta.version != input.version {
        return Err(ApiError::with_message(
            ErrorCode::VersionConflict,
            format!(
                "حفظ شخص آخر هذا المقال بعد أن فتحته (النسخة {}). حُفظ عملك تلقائياً هنا؛ انسخ ما كتبت ثم افتح النسخة الأحدث.",
                meta.version
            ),
        ));
    }
    let saved_at = crate::domain::now_secs();
    Ok(axum::Json(AutosaveAnswer { saved_at, version: meta.version }).into_response())
}

/// `GET /admin/articles/{id}/suggestions` (JSON, for the writing aids beside the editor): the
/// people, places and organisations the entity finder sees in the saved article, as tags to
/// accept with one click, and for editors (who may pin them) the related articles the related
/// follower found. Whoever may open the article may ask.
pub async fn suggestions(State(state): State<AppState>, session: Session, AdminPath(id): AdminPath<i64>) -> Result<Response, ApiError> {
    let meta = state.store.article_meta(id).await?.ok_or_else(|| ApiError::not_found("المقال"))?;
    if session.user.role < Role::Editor && meta.created_by != Some(session.user.id) {
        return Err(ApiError::with_message(ErrorCode::Forbidden, "هذا المقال ليس لك."));
    }
    let snapshot = state.store.current_snapshot(id).await?.ok_or_else(|| ApiError::not_found("المقال"))?;
    let (headline, body) = (snapshot.headline.clone(), snapshot.body.iter().map(|b| b.text().into_owned()).collect::<Vec<_>>().join("\n"));
    // Off the async workers: a long article is a few milliseconds of one core.
    let mut found = tokio::task::spawn_blocking(move || crate::entities::extract(&headline, &body))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("entity task failed: {e}")))?;
    found.sort_by(|a, b| b.mentions.cmp(&a.mentions).then_with(|| a.name.cmp(&b.name)));
    let tags = found.into_iter().map(|f| f.name).filter(|name| !snapshot.tags.contains(name)).take(8).collect();
    let related = if session.user.role >= Role::Editor {
        crate::store::related::suggestions(&state.store, id)
            .await?
            .into_iter()
            .filter(|s| !s.pinned && !s.removed)
            .take(5)
            .map(|s| RelatedPick { id: s.id, headline: s.headline })
            .collect()
    } else {
        Vec::new()
    };
    Ok(axum::Json(EditorSuggestions { tags, related }).into_response())
}

/// «معاينة بقالب الموقع»: the draft through the public article template itself (the site's
/// header, styles and blocks as readers get them), in its own tab. Nothing is stored; the
/// related articles and entity links the followers compute later are not shown.
async fn public_preview(state: &AppState, id: Option<i64>, draft: &ArticleDraft) -> AdminResult<Response> {
    let now = chrono::Utc::now();
    let slug_of = |name: &str| Slug::from_title(name, "preview").as_str().to_string();
    let article = Article {
        id: id.unwrap_or(0),
        slug: draft.slug.clone().unwrap_or_else(|| Slug::from_title(draft.headline.as_str(), "preview")),
        headline: draft.headline.as_str().to_string(),
        lead: draft.lead.clone(),
        body: draft.body.clone(),
        section: draft.section.as_deref().map(|name| SectionRef { slug: slug_of(name), name: name.to_string() }),
        authors: draft.authors.iter().map(|name| AuthorRef { slug: slug_of(name), name: name.clone() }).collect(),
        tags: draft.tags.iter().map(|name| TagRef { slug: slug_of(name), name: name.clone() }).collect(),
        status: draft.status,
        published_at: Some(draft.published_at.unwrap_or(now)),
        created_at: now,
        updated_at: now,
        language: draft.language.clone(),
        source: None,
        version: 0,
    };
    let titles: Vec<&str> =
        article.body.iter().filter_map(|b| if let Block::ReadAlso { title } = b { Some(title.as_str()) } else { None }).collect();
    let links = if titles.is_empty() { Default::default() } else { state.store.link_targets(&titles).await? };
    let view = crate::web::view::ArticleView::build(&article, &state.link_style(false), &state.dates, &links);
    let site = crate::web::pages::site_view(state).await.map_err(|_| AdminError::Internal(anyhow::anyhow!("site view for a preview")))?;
    let html = state.templates.render(
        "article.html",
        json!({ "site": site, "canonical": view.url, "current_section": view.section.as_ref().map(|s| s.url.clone()), "image": null,
                "jsonld": "{}", "article": view, "related": [], "entities": [], "inline_related_after": null }),
    )?;
    Ok(axum::response::Html(html).into_response())
}
