//! The admin JSON API for newsroom scripts: create, update, publish and unpublish articles
//! with `Authorization: Bearer <token>` (tokens are made and revoked in /admin/tokens).
//! Errors are `{"error": {"code", "message"}}` with stable codes, like the read API.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use chrono::DateTime;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::token_hash;
use crate::domain::{normalize_body_marks, ArticleDraft, Block, Headline, MarkPolicy, Slug, Status};
use crate::domain::{Role, User};
use crate::ingest::markup;
use crate::web::api_types::{ArticleState, EditableArticle};
use crate::web::error::{Error, ErrorCode};
use crate::web::{ApiError, AppState};

/// The token of an `Authorization: Bearer …` header, when one is sent and not blank.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The user behind the request's bearer token.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        let user = state.store.user_for_api_token(&token_hash(token)).await?;
        user.map(ApiUser).ok_or_else(|| ApiError::with_message(ErrorCode::Unauthorized, "رمز API غير صالح أو أُلغي"))
    }
}

/// An article as scripts write it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub headline: String,
    #[serde(default)]
    pub lead: String,
    /// The editor's markup (paragraphs separated by blank lines, `## `, `> `, images,
    /// `- ` lists; inline `**bold**`, `*italic*`, `[words](https://…)`).
    #[serde(default)]
    pub body: String,
    /// The body as structured blocks, instead of `body`: what `GET …/edit` returns as
    /// `blocks`. Sent with a `body` that says something else, it is `invalid_article`. Inline marks are checked, not
    /// repaired: a mark out of its text, a link that is not http(s) or a `/…` site path, or
    /// links that overlap is `invalid_marks`.
    #[serde(default)]
    pub blocks: Option<Vec<Block>>,
    pub section: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    /// Made from the headline when absent.
    pub slug: Option<String>,
    /// `draft` (the default), `scheduled` or `published`; the last two for editors only.
    pub status: Option<String>,
    /// RFC 3339; required with `scheduled`.
    pub published_at: Option<String>,
    /// Required on `PUT`: the version the change was made to.
    pub version: Option<i64>,
}

fn parse_input(bytes: &[u8]) -> Result<ArticleInput, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::with_message(ErrorCode::InvalidJson, format!("جسم الطلب ليس JSON صالحاً للمقال: {e}")))
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::with_message(ErrorCode::InvalidArticle, message)
}

fn forbidden(message: &'static str) -> ApiError {
    ApiError::with_message(ErrorCode::Forbidden, message)
}

fn article_not_found() -> ApiError {
    ApiError::not_found("المقال")
}

async fn to_draft(state: &AppState, input: &ArticleInput, user: &User) -> Result<ArticleDraft, ApiError> {
    let limits = state.config.editor.article_limits();
    // Before anything is parsed: an oversized body costs no more than reading it.
    limits
        .check_chars(&[&input.headline, &input.lead, &input.body])
        .map_err(|e| ApiError::with_message(ErrorCode::ArticleTooLarge, e.to_string()))?;
    let mut d = ArticleDraft::new(Headline::parse(&input.headline)?);
    d.lead = input.lead.trim().to_string();
    if let Some(blocks) = &input.blocks {
        // What `GET …/edit` answered comes back with both: fine while `body` still says what
        // `blocks` says; a client that changed one of them must send only that one.
        let body = input.body.trim();
        if !body.is_empty()
            && body != markup::serialize(blocks)
            && markup::parse_off_worker(body).await.map_err(ApiError::internal)? != *blocks
        {
            return Err(invalid("body و blocks مختلفان: أرسل نص المقال مرة واحدة، body (نص) أو blocks (عناصر)"));
        }
        let texts: Vec<std::borrow::Cow<'_, str>> = blocks.iter().map(Block::text).collect();
        let mut parts: Vec<&str> = vec![&input.headline, &input.lead];
        parts.extend(texts.iter().map(|t| t.as_ref()));
        limits.check_chars(&parts).map_err(|e| ApiError::with_message(ErrorCode::ArticleTooLarge, e.to_string()))?;
        limits.check_blocks(blocks.len())?;
        if let Some(src) = blocks.iter().find_map(|b| match b {
            Block::Image { src, .. } if crate::domain::link::image_src(src).is_none() => Some(src),
            _ => None,
        }) {
            return Err(invalid(super::articles::refused_image_message(src)));
        }
        let mut body = blocks.clone();
        normalize_body_marks(&mut body, MarkPolicy::Refuse)?;
        d.body = body;
    } else {
        d.body = body_from_markup(&input.body).await?;
    }
    if d.body.is_empty() && d.lead.is_empty() {
        return Err(invalid("المقال بلا نص"));
    }
    limits.check_blocks(d.body.len())?;
    fill_draft(d, input, user)
}

/// The body written in the editor's markup, or why it is refused.
async fn body_from_markup(body: &str) -> Result<Vec<Block>, ApiError> {
    if let Some(src) = crate::ingest::plaintext::refused_image(body) {
        return Err(invalid(super::articles::refused_image_message(&src)));
    }
    if let Some(href) = markup::refused_link(body) {
        return Err(ApiError::with_message(ErrorCode::InvalidMarks, super::articles::refused_link_message(&href)));
    }
    markup::parse_off_worker(body).await.map_err(ApiError::internal)
}

fn fill_draft(mut d: ArticleDraft, input: &ArticleInput, user: &User) -> Result<ArticleDraft, ApiError> {
    d.section = input.section.clone().filter(|s| !s.trim().is_empty());
    d.tags = input.tags.clone();
    d.authors = if input.authors.is_empty() { vec![user.name.clone()] } else { input.authors.clone() };
    d.slug = match input.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(Slug::parse(s)?),
        None => None,
    };
    d.status = Status::parse(input.status.as_deref().unwrap_or("draft"))?;
    d.published_at = match input.published_at.as_deref() {
        Some(t) => Some(
            DateTime::parse_from_rfc3339(t)
                .map_err(|_| invalid(format!("published_at «{t}» ليس وقتاً بصيغة RFC 3339")))?
                .with_timezone(&chrono::Utc),
        ),
        None => None,
    };
    match d.status {
        Status::Scheduled if d.published_at.is_none() => return Err(invalid("المقال المجدول يحتاج published_at")),
        Status::Published if d.published_at.is_none() => d.published_at = Some(chrono::Utc::now()),
        _ => {}
    }
    if d.status != Status::Draft {
        if user.role < Role::Editor {
            return Err(forbidden("النشر والجدولة للمحررين فقط"));
        }
        check_alt(&d.body)?;
    }
    d.source = Some("api".into());
    Ok(d)
}

/// Writers choose among existing sections (`invalid_article` otherwise).
async fn check_section(state: &AppState, user: &User, draft: &ArticleDraft) -> Result<(), ApiError> {
    match super::section_refusal(state, user, draft.section.as_deref()).await? {
        Some(msg) => Err(invalid(msg)),
        None => Ok(()),
    }
}

fn check_alt(body: &[Block]) -> Result<(), ApiError> {
    if body.iter().any(|b| matches!(b, Block::Image { alt, .. } if alt.trim().is_empty())) {
        return Err(invalid("لا يُنشر مقال فيه صورة بلا نص بديل (alt)"));
    }
    Ok(())
}

async fn summary(state: &AppState, id: i64) -> Result<ArticleState, ApiError> {
    let a = state.store.article_by_id(id).await?.ok_or_else(article_not_found)?;
    Ok(ArticleState {
        id: a.id,
        slug: a.slug.to_string(),
        status: a.status.into(),
        version: a.version,
        published_at: a.published_at.map(|t| t.to_rfc3339()),
        headline: a.headline,
    })
}

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::with_message(ErrorCode::NotFound, "المقال غير موجود (استعمل المعرّف الرقمي)"))
}

/// Creates an article (a draft unless an editor says otherwise).
#[utoipa::path(post, path = "/articles", tag = "write", security(("bearer" = [])),
    request_body = ArticleInput,
    responses(
        (status = 201, description = "Created", body = ArticleState),
        (status = 400, description = "Not JSON, or unknown fields (`invalid_json`)", body = Error),
        (status = 401, description = "Missing, wrong or revoked token", body = Error),
        (status = 403, description = "A writer may not publish or schedule", body = Error),
        (status = 409, description = "The slug is taken (`slug_taken`)", body = Error),
        (status = 422, description = "Invalid article (`invalid_article`), or longer than the newsroom's limits (`article_too_large`)", body = Error),
    ))]
pub async fn api_create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    body: Bytes,
) -> Result<(StatusCode, Json<ArticleState>), ApiError> {
    let input = parse_input(&body)?;
    let draft = to_draft(&state, &input, &user).await?;
    check_section(&state, &user, &draft).await?;
    let id = state.store.create_article(&draft, Some(user.id)).await?;
    Ok((StatusCode::CREATED, Json(summary(&state, id).await?)))
}

/// Replaces an article, with the `version` it was read at.
#[utoipa::path(put, path = "/articles/{id_or_slug}", tag = "write", security(("bearer" = [])),
    params(("id_or_slug" = i64, Path, description = "The article's numeric id (writes take no slugs)")),
    request_body = ArticleInput,
    responses(
        (status = 200, description = "Saved", body = ArticleState),
        (status = 400, description = "Not JSON, or unknown fields (`invalid_json`)", body = Error),
        (status = 401, description = "Missing, wrong or revoked token", body = Error),
        (status = 403, description = "Not allowed for this role", body = Error),
        (status = 404, description = "No such article", body = Error),
        (status = 409, description = "Changed since it was read (`version_conflict`) or slug taken (`slug_taken`)", body = Error),
        (status = 422, description = "Invalid article, or no version (`invalid_article`), or too large (`article_too_large`)", body = Error),
    ))]
pub async fn api_update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ArticleState>, ApiError> {
    let id = parse_id(&id)?;
    let input = parse_input(&body)?;
    let meta = state.store.article_meta(id).await?.ok_or_else(article_not_found)?;
    if user.role < Role::Editor && !(meta.created_by == Some(user.id) && meta.status == Status::Draft) {
        return Err(forbidden("يستطيع الكاتب تعديل مسوداته فقط"));
    }
    let version = input.version.ok_or_else(|| invalid("أرسل version: رقم النسخة التي عدّلتها"))?;
    let draft = to_draft(&state, &input, &user).await?;
    check_section(&state, &user, &draft).await?;
    let submitted = (draft.status != Status::Draft).then_some(false);
    state.store.update_article(id, version, &draft, Some(user.id), submitted).await?;
    Ok(Json(summary(&state, id).await?))
}

/// Any article the token's user may edit, in the shape `PUT` takes (body as markup, with its
/// current `version`), whatever its status.
#[utoipa::path(get, path = "/articles/{id_or_slug}/edit", tag = "write", security(("bearer" = [])),
    params(("id_or_slug" = i64, Path, description = "The article's numeric id")),
    responses(
        (status = 200, description = "The editable article", body = EditableArticle),
        (status = 401, description = "Missing, wrong or revoked token", body = Error),
        (status = 403, description = "A writer's token, someone else's article", body = Error),
        (status = 404, description = "No such article", body = Error),
    ))]
pub async fn api_edit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<EditableArticle>, ApiError> {
    let id = parse_id(&id)?;
    let meta = state.store.article_meta(id).await?.ok_or_else(article_not_found)?;
    if user.role < Role::Editor && meta.created_by != Some(user.id) {
        return Err(forbidden("هذا المقال ليس لك"));
    }
    let s = state.store.current_snapshot(id).await?.ok_or_else(article_not_found)?;
    Ok(Json(EditableArticle {
        id,
        version: meta.version,
        headline: s.headline,
        lead: s.lead,
        body: markup::serialize(&s.body),
        blocks: s.body,
        section: s.section,
        tags: s.tags,
        authors: s.authors,
        slug: s.slug,
        status: s.status.into(),
        published_at: s.published_at.and_then(|t| DateTime::from_timestamp(t, 0)).map(|t| t.to_rfc3339()),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    /// RFC 3339; in the future, the article is scheduled instead.
    pub published_at: Option<String>,
}

/// Publishes now, or schedules when `published_at` is ahead. Editors only.
#[utoipa::path(post, path = "/articles/{id_or_slug}/publish", tag = "write", security(("bearer" = [])),
    params(("id_or_slug" = i64, Path, description = "The article's numeric id")),
    request_body(content = Option<PublishInput>, description = "Optional"),
    responses(
        (status = 200, description = "Published or scheduled", body = ArticleState),
        (status = 400, description = "Not JSON (`invalid_json`)", body = Error),
        (status = 401, description = "Missing, wrong or revoked token", body = Error),
        (status = 403, description = "Editors only", body = Error),
        (status = 404, description = "No such article", body = Error),
        (status = 422, description = "An image lacks alt text, or a bad time (`invalid_article`)", body = Error),
    ))]
pub async fn api_publish(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ArticleState>, ApiError> {
    let id = parse_id(&id)?;
    if user.role < Role::Editor {
        return Err(forbidden("النشر للمحررين فقط"));
    }
    let input: PublishInput = if body.iter().all(u8::is_ascii_whitespace) {
        PublishInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::with_message(ErrorCode::InvalidJson, format!("جسم الطلب غير صالح: {e}")))?
    };
    let article = state.store.article_by_id(id).await?.ok_or_else(article_not_found)?;
    check_alt(&article.body)?;
    let now = crate::domain::now_secs();
    let at = match input.published_at.as_deref() {
        Some(t) => DateTime::parse_from_rfc3339(t).map_err(|_| invalid(format!("published_at «{t}» ليس وقتاً بصيغة RFC 3339")))?.timestamp(),
        None => now,
    };
    let status = if at > now { Status::Scheduled } else { Status::Published };
    state.store.set_article_status(id, status, Some(at), Some(user.id)).await?;
    Ok(Json(summary(&state, id).await?))
}

/// Takes an article back to draft. Editors only.
#[utoipa::path(post, path = "/articles/{id_or_slug}/unpublish", tag = "write", security(("bearer" = [])),
    params(("id_or_slug" = i64, Path, description = "The article's numeric id")),
    responses(
        (status = 200, description = "Now a draft", body = ArticleState),
        (status = 401, description = "Missing, wrong or revoked token", body = Error),
        (status = 403, description = "Editors only", body = Error),
        (status = 404, description = "No such article", body = Error),
    ))]
pub async fn api_unpublish(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ArticleState>, ApiError> {
    let id = parse_id(&id)?;
    if user.role < Role::Editor {
        return Err(forbidden("إلغاء النشر للمحررين فقط"));
    }
    let article = state.store.article_by_id(id).await?.ok_or_else(article_not_found)?;
    state.store.set_article_status(id, Status::Draft, article.published_at.map(|t| t.timestamp()), Some(user.id)).await?;
    Ok(Json(summary(&state, id).await?))
}
