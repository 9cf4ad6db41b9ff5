//! «اقرأ أيضاً» in the admin: the suggestions computed for an article, with the editor's pin
//! and remove, and the near-duplicates found for it. Editors and owners only: suggestions
//! shape every reader's page, like publishing does.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::{render, AdminError, AdminForm, AdminPath, AdminResult, Session};
use crate::domain::Role;
use crate::related::EditorAction;
use crate::store::related as store_related;
use crate::web::AppState;

fn editors_only(session: &Session) -> AdminResult<()> {
    if session.user.role < Role::Editor {
        return Err(AdminError::Forbidden("تعديل المقالات المقترحة للمحررين فقط.".into()));
    }
    Ok(())
}

pub async fn page(State(state): State<AppState>, session: Session, AdminPath(id): AdminPath<i64>) -> AdminResult<Response> {
    editors_only(&session)?;
    let article = state.store.article_by_id(id).await?.ok_or(AdminError::NotFound)?;
    let suggestions: Vec<_> = store_related::suggestions(&state.store, id)
        .await?
        .into_iter()
        .map(
            |s| json!({ "id": s.id, "headline": s.headline, "score": format!("{:.2}", s.score), "pinned": s.pinned, "removed": s.removed }),
        )
        .collect();
    let mut duplicates = Vec::new();
    for dup in store_related::duplicates_of(&state.store, id).await? {
        if let Some(a) = state.store.article_by_id(dup).await? {
            duplicates.push(json!({ "id": a.id, "headline": a.headline }));
        }
    }
    Ok(render(
        &state,
        Some(&session),
        "admin/related.html",
        json!({ "id": id, "headline": article.headline, "published": article.status == crate::domain::Status::Published,
                "suggestions": suggestions, "duplicates": duplicates }),
    )?
    .into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    editors_only(&session)?;
    state.store.article_by_id(id).await?.ok_or(AdminError::NotFound)?;
    let action = match fields.get("action") {
        Some("pin") => EditorAction::Pin,
        Some("unpin") => EditorAction::Unpin,
        Some("remove") => EditorAction::Remove,
        Some("restore") => EditorAction::Restore,
        _ => return Err(AdminError::BadRequest("إجراء غير معروف: اختر التثبيت أو الإزالة أو الاستعادة.".into())),
    };
    // The target is a number from the list, or what an editor pasted: a number or a slug.
    let target = fields.text("target");
    let found = match target.parse::<i64>() {
        Ok(n) => state.store.article_by_id(n).await?,
        Err(_) => state.store.published_article(target.trim_start_matches("/news/").trim_matches('/')).await?,
    };
    let Some(target) = found else {
        return Err(AdminError::BadRequest(format!("لا يوجد مقال بالرقم أو الرابط «{target}».")));
    };
    if target.id == id {
        return Err(AdminError::BadRequest("لا يمكن اقتراح المقال على نفسه.".into()));
    }
    // Pages show the pin or removal at once; the related follower refills the list.
    store_related::apply_editor_action(&state.store, id, target.id, action).await?;
    Ok(Redirect::to(&format!("/admin/articles/{id}/related")).into_response())
}
