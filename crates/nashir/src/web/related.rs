//! Web side of «اقرأ أيضاً» and entities: the extras an article page and the article API
//! gain, topic pages (`/topics/{slug}`), and the editors' pin/remove endpoint.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Html;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::api_types::{EntityLink, RelatedArticle, RelatedEditorView};
use super::error::ErrorCode;
use super::pages::{query_param, site_view};
use super::view::BlockView;
use super::{ApiError, AppState, PageError};
use crate::related::{EditorAction, EntityRef};
use crate::render::{absolute_url, encode_segment, paths};
use crate::store::related as store_related;

/// Suggestions shown at the end of an article (and returned by the API).
const SHOWN: i64 = 5;
/// The inline block goes after this many paragraphs.
const INLINE_AFTER_PARAGRAPHS: usize = 3;

pub fn topic_path(slug: &str) -> String {
    format!("/topics/{}", encode_segment(slug))
}

#[derive(Serialize)]
pub struct RelatedView {
    pub id: i64,
    pub headline: String,
    pub path: String,
    pub url: String,
}

#[derive(Serialize)]
pub struct EntityView {
    pub name: String,
    pub kind: crate::entities::Kind,
    pub slug: String,
    pub path: String,
    pub url: String,
}

/// What an article page and the article API add: suggestions and entities.
pub struct Extras {
    pub related: Vec<RelatedView>,
    pub entities: Vec<EntityView>,
}

pub async fn extras(state: &AppState, article_id: i64) -> Result<Extras, crate::store::StoreError> {
    let related = store_related::related_links(&state.store, article_id, SHOWN)
        .await?
        .into_iter()
        .map(|r| {
            let path = paths::article(&r.slug);
            RelatedView { id: r.id, headline: r.headline, url: absolute_url(&state.base_url, &path), path }
        })
        .collect();
    let entities =
        store_related::article_entities(&state.store, article_id, 12).await?.into_iter().map(|e| entity_view(state, e)).collect();
    Ok(Extras { related, entities })
}

fn entity_view(state: &AppState, e: EntityRef) -> EntityView {
    let path = topic_path(&e.slug);
    EntityView { name: e.name, kind: e.kind, slug: e.slug, url: absolute_url(&state.base_url, &path), path }
}

/// Where the inline «اقرأ أيضاً» goes: after the third paragraph, unless the editor placed
/// one by hand or the article is too short for it to sit inside the text.
pub fn inline_position(blocks: &[BlockView]) -> Option<usize> {
    if blocks.iter().any(|b| matches!(b, BlockView::ReadAlso { .. })) {
        return None;
    }
    let mut paragraphs = 0;
    for (i, b) in blocks.iter().enumerate() {
        if matches!(b, BlockView::Paragraph { .. }) {
            paragraphs += 1;
            if paragraphs == INLINE_AFTER_PARAGRAPHS {
                return (i + 1 < blocks.len()).then_some(i);
            }
        }
    }
    None
}

/// What the article API adds: the suggestions and entities without their relative paths.
pub fn api_fields(extras: Extras) -> (Vec<RelatedArticle>, Vec<EntityLink>) {
    let related = extras.related.into_iter().map(|r| RelatedArticle { id: r.id, headline: r.headline, url: r.url }).collect();
    let entities =
        extras.entities.into_iter().map(|e| EntityLink { name: e.name, kind: e.kind.into(), slug: e.slug, url: e.url }).collect();
    (related, entities)
}

const KIND_LABELS: [(crate::entities::Kind, &str); 3] =
    [(crate::entities::Kind::Person, "شخصية"), (crate::entities::Kind::Place, "مكان"), (crate::entities::Kind::Org, "منظمة")];

/// `/topics/{slug}`: the articles that mention one person, place or organisation.
pub async fn topic(State(state): State<AppState>, Path(slug): Path<String>, RawQuery(raw): RawQuery) -> Result<Html<String>, PageError> {
    let page = match query_param(&raw, "page") {
        None => 1,
        Some(v) => v.trim().parse::<i64>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
            PageError::BadRequest(format!(
                "رقم الصفحة «{}» غير صالح: يجب أن يكون عدداً صحيحاً موجباً.",
                v.chars().take(20).collect::<String>()
            ))
        })?,
    };
    let entity = store_related::entity_by_slug(&state.store, &slug).await?.ok_or(PageError::NotFound)?;
    let per_page = i64::from(state.config.site.page_size);
    let (articles, total) = store_related::entity_articles(&state.store, entity.id, per_page, (page - 1) * per_page).await?;
    let pages = ((total + per_page - 1) / per_page).max(1);
    if page > pages {
        return Err(PageError::NotFound);
    }
    let path = topic_path(&entity.slug);
    let page_url = |n: i64| if n == 1 { path.clone() } else { format!("{path}?page={n}") };
    let label = KIND_LABELS.iter().find(|(k, _)| *k == entity.kind).map(|(_, l)| *l).unwrap_or("موضوع");
    let site = site_view(&state).await?;
    let html = state.templates.render(
        "list.html",
        json!({
            "site": site,
            "heading": entity.name,
            "intro": format!("{label}: المقالات التي تذكر «{}».", entity.name),
            "articles": super::front::cards(&state, &articles).await?,
            "page": page,
            "pages": pages,
            "prev_url": (page > 1).then(|| page_url(page - 1)),
            "next_url": (page < pages).then(|| page_url(page + 1)),
            "canonical": absolute_url(&state.base_url, &page_url(page)),
        }),
    )?;
    Ok(Html(html))
}

/// Editors only: an editor's or owner's API token (created in the admin), or the site-wide
/// `api.admin_token` for scripts that predate accounts. With neither, the endpoint is closed.
/// A missing or wrong token is answered `forbidden` (403), not `unauthorized`: so it has
/// always been, and scripts depend on it.
async fn check_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let forbidden = |message: &'static str| ApiError::with_message(ErrorCode::Forbidden, message);
    let Some(given) = super::admin::api::bearer_token(headers) else {
        return Err(forbidden("أرسل رمز API لمحرر في الترويسة Authorization: Bearer …"));
    };
    let expected = state.config.api.admin_token.as_str();
    if !expected.is_empty() && crate::accounts::constant_time_eq(given, expected) {
        return Ok(());
    }
    match state.store.user_for_api_token(&crate::accounts::token_hash(given)).await? {
        Some(user) if user.role >= crate::domain::Role::Editor => Ok(()),
        Some(_) => Err(forbidden("تعديل المقالات المقترحة للمحررين فقط")),
        None => Err(forbidden("رمز API مفقود أو غير صحيح")),
    }
}

async fn article_id(state: &AppState, id_or_slug: &str) -> Result<i64, ApiError> {
    let found = match id_or_slug.parse::<i64>() {
        Ok(id) => state.store.article_by_id(id).await?,
        Err(_) => state.store.published_article(id_or_slug).await?,
    };
    Ok(found.ok_or_else(|| ApiError::not_found("المقال"))?.id)
}

async fn editor_view(state: &AppState, id: i64) -> Result<Json<RelatedEditorView>, ApiError> {
    let suggestions = store_related::suggestions(&state.store, id).await?.into_iter().map(Into::into).collect();
    let duplicates = store_related::duplicates_of(&state.store, id).await?;
    Ok(Json(RelatedEditorView { article_id: id, suggestions, duplicates }))
}

/// `GET /api/v1/articles/{id}/related`: every suggestion with the editor's flags, and the
/// article's near-duplicates.
#[utoipa::path(get, path = "/articles/{id_or_slug}/related", tag = "related", security(("bearer" = []), ("admin_token" = [])),
    params(("id_or_slug" = String, Path, description = "The article's numeric id or its slug")),
    responses(
        (status = 200, description = "Suggestions with the editors' flags, and near-duplicates", body = RelatedEditorView),
        (status = 403, description = "No token, a wrong one, or a writer's (editors and owners only)", body = super::error::Error),
        (status = 404, description = "No such article", body = super::error::Error),
    ))]
pub async fn get_suggestions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id_or_slug): Path<String>,
) -> Result<Json<RelatedEditorView>, ApiError> {
    check_admin(&state, &headers).await?;
    let id = article_id(&state, &id_or_slug).await?;
    editor_view(&state, id).await
}

/// `POST /api/v1/articles/{id}/related` with `{"pin": id}`, `{"remove": id}`, `{"unpin": id}`
/// or `{"restore": id}`.
#[utoipa::path(post, path = "/articles/{id_or_slug}/related", tag = "related", security(("bearer" = []), ("admin_token" = [])),
    params(("id_or_slug" = String, Path, description = "The article's numeric id or its slug")),
    request_body = super::api_types::RelatedAction,
    responses(
        (status = 200, description = "The suggestions after the change", body = RelatedEditorView),
        (status = 400, description = "Not one of pin, remove, unpin, restore with a positive id (`invalid_body`)", body = super::error::Error),
        (status = 403, description = "No token, a wrong one, or a writer's (editors and owners only)", body = super::error::Error),
        (status = 404, description = "No such article", body = super::error::Error),
    ))]
pub async fn edit_suggestions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id_or_slug): Path<String>,
    body: Bytes,
) -> Result<Json<RelatedEditorView>, ApiError> {
    check_admin(&state, &headers).await?;
    edit(&state, &id_or_slug, &body).await
}

async fn edit(state: &AppState, id_or_slug: &str, body: &[u8]) -> Result<Json<RelatedEditorView>, ApiError> {
    let bad = |message: &'static str| ApiError::with_message(ErrorCode::InvalidBody, message);
    let value: Value = serde_json::from_slice(body).map_err(|_| bad("الطلب يجب أن يكون JSON مثل {\"pin\": 12} أو {\"remove\": 12}"))?;
    let obj = value.as_object().filter(|o| o.len() == 1).ok_or_else(|| bad("أرسل حقلاً واحداً: pin أو remove أو unpin أو restore"))?;
    let (key, target) = obj.iter().next().expect("one field");
    let action = match key.as_str() {
        "pin" => EditorAction::Pin,
        "remove" => EditorAction::Remove,
        "unpin" => EditorAction::Unpin,
        "restore" => EditorAction::Restore,
        _ => return Err(bad("الحقل يجب أن يكون pin أو remove أو unpin أو restore")),
    };
    let target = target.as_i64().filter(|n| *n > 0).ok_or_else(|| bad("رقم المقال المقترح يجب أن يكون عدداً صحيحاً موجباً"))?;
    let id = article_id(state, id_or_slug).await?;
    if target == id {
        return Err(bad("لا يمكن اقتراح المقال على نفسه"));
    }
    if state.store.article_by_id(target).await?.is_none() {
        return Err(ApiError::not_found("المقال المقترح"));
    }
    // Pages show the pin or removal at once; the related follower refills the list.
    store_related::apply_editor_action(&state.store, id, target, action).await?;
    editor_view(state, id).await
}
