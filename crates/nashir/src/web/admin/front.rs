//! The front page's editor controls (issue 18): the breaking-news bar, the pinned lead story
//! («الخبر الرئيسي») and the authors' bios and photos.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Value};

use super::{local_time, render, AdminError, AdminForm, AdminPath, AdminResult, Session};
use crate::domain::Role;
use crate::store::BreakingNews;
use crate::web::AppState;

/// The bar's longest life: a week. Breaking news older than that is not breaking.
const MAX_BAR_MINUTES: i64 = 7 * 24 * 60;
/// Longest bar text; it must fit one line on a phone or two.
const MAX_BAR_CHARS: usize = 200;
const MAX_BIO_CHARS: usize = 1000;

pub async fn page(State(state): State<AppState>, session: Session) -> AdminResult<Response> {
    session.require(Role::Editor, "إدارة الواجهة")?;
    front_page(&state, &session, StatusCode::OK, None).await
}

async fn front_page(state: &AppState, session: &Session, status: StatusCode, error: Option<String>) -> AdminResult<Response> {
    let breaking =
        state.store.breaking_news().await?.map(|b| json!({ "text": b.text, "link": b.link, "until": local_time(state, b.expires_at) }));
    let lead = state.store.pinned_lead().await?.map(|a| json!({ "id": a.id, "headline": a.headline }));
    let authors: Vec<Value> = state
        .store
        .all_authors()
        .await?
        .into_iter()
        .map(|a| json!({ "id": a.id, "slug": a.slug, "name": a.name, "bio": a.bio, "photo": a.photo }))
        .collect();
    let ctx = json!({ "breaking": breaking, "lead": lead, "authors": authors, "error": error });
    Ok((status, render(state, Some(session), "admin/front.html", ctx)?).into_response())
}

pub async fn set_breaking(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Editor, "الخبر العاجل")?;
    if fields.get("clear").is_some() {
        state.store.set_breaking_news(None).await?;
        return Ok(Redirect::to("/admin/front").into_response());
    }
    let refuse = |message: String| async { front_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await };
    let text = crate::domain::collapse_whitespace(&fields.text("text"));
    if text.is_empty() || text.chars().count() > MAX_BAR_CHARS {
        return refuse(format!("اكتب نص الخبر العاجل (حتى {MAX_BAR_CHARS} حرف).")).await;
    }
    let link = fields.text("link");
    let link = link.trim();
    if !link.is_empty() && crate::domain::link::image_src(link).is_none() {
        return refuse("الرابط غير صالح: اكتب عنواناً يبدأ بـ https:// أو مساراً في الموقع يبدأ بـ /.".into()).await;
    }
    let Some(minutes) = fields.text("minutes").trim().parse::<i64>().ok().filter(|m| (1..=MAX_BAR_MINUTES).contains(m)) else {
        return refuse(format!("مدة الظهور بالدقائق: من 1 إلى {MAX_BAR_MINUTES}.")).await;
    };
    let news = BreakingNews { text, link: link.to_string(), expires_at: crate::domain::now_secs() + minutes * 60 };
    state.store.set_breaking_news(Some(&news)).await?;
    Ok(Redirect::to("/admin/front").into_response())
}

pub async fn pin_lead(State(state): State<AppState>, session: Session, AdminForm(fields): AdminForm) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Editor, "تثبيت الخبر الرئيسي")?;
    let raw = fields.text("article");
    let raw = raw.trim();
    let article = if raw.is_empty() {
        None
    } else {
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                return front_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(format!("رقم المقال «{raw}» غير صالح."))).await
            }
        }
    };
    if !state.store.pin_lead(article).await? {
        return front_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some("لا يُثبَّت إلا مقال منشور.".into())).await;
    }
    // Back where the editor pressed the button (the article list or this page).
    let back = if fields.get("from_list").is_some() { "/admin/articles" } else { "/admin/front" };
    Ok(Redirect::to(back).into_response())
}

pub async fn edit_author(
    State(state): State<AppState>,
    session: Session,
    AdminPath(id): AdminPath<i64>,
    AdminForm(fields): AdminForm,
) -> AdminResult<Response> {
    session.check_csrf(&fields)?;
    session.require(Role::Editor, "تعديل نبذة الكاتب")?;
    let bio = fields.text("bio").trim().to_string();
    if bio.chars().count() > MAX_BIO_CHARS {
        return front_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(format!("النبذة أطول من {MAX_BIO_CHARS} حرف."))).await;
    }
    let photo = fields.text("photo");
    let photo = photo.trim();
    if !photo.is_empty() && crate::domain::link::image_src(photo).is_none() {
        return front_page(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("عنوان الصورة غير صالح: ارفعها في «الصور» والصق عنوانها.".into()),
        )
        .await;
    }
    if !state.store.set_author_profile(id, &bio, photo).await? {
        return Err(AdminError::NotFound);
    }
    Ok(Redirect::to("/admin/front").into_response())
}
