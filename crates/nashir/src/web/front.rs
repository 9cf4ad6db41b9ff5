//! The front page's pieces (issue 18): cards with thumbnails from our image variants, the
//! lead story, the breaking-news bar as pages and the API show it.

use std::collections::HashMap;

use serde::Serialize;

use super::view::SummaryView;
use super::AppState;
use crate::store::{ArticleSummary, BreakingNews, LeadImage};

/// An image as a card shows it: always one of our resized variants, with its size, so the
/// page does not reflow and the browser picks the smallest that fits.
#[derive(Debug, Clone, Serialize)]
pub struct ImageView {
    pub src: String,
    pub srcset: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
}

impl ImageView {
    /// `None` for images that are not our uploads (an imported body's remote picture): their
    /// size is unknown and they are not ours to resize, so cards go without.
    pub fn of(image: &LeadImage) -> Option<ImageView> {
        let (src, srcset, width, height) = crate::media::responsive(&image.src)?;
        Some(ImageView { src, srcset, width, height, alt: image.alt.clone() })
    }
}

/// An article on a list: its summary and, when it has one of ours, its first image.
#[derive(Debug, Clone, Serialize)]
pub struct CardView {
    #[serde(flatten)]
    pub summary: SummaryView,
    pub image: Option<ImageView>,
}

/// Cards for these summaries, with their images read in one query.
pub async fn cards(state: &AppState, summaries: &[ArticleSummary]) -> Result<Vec<CardView>, crate::store::StoreError> {
    let ids: Vec<i64> = summaries.iter().map(|s| s.id).collect();
    let images = state.store.lead_images(&ids).await?;
    Ok(cards_with(state, summaries, &images))
}

pub fn cards_with(state: &AppState, summaries: &[ArticleSummary], images: &HashMap<i64, LeadImage>) -> Vec<CardView> {
    summaries
        .iter()
        .map(|s| CardView {
            summary: SummaryView::build(s, &state.base_url, &state.dates),
            image: images.get(&s.id).and_then(ImageView::of),
        })
        .collect()
}

/// The breaking-news bar as pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BreakingView {
    pub text: String,
    /// Where the bar links to, if anywhere.
    pub link: Option<String>,
    /// When the bar disappears (RFC 3339).
    pub expires_at: String,
}

impl BreakingView {
    pub fn of(news: &BreakingNews) -> BreakingView {
        BreakingView {
            text: news.text.clone(),
            link: Some(news.link.clone()).filter(|l| !l.is_empty()),
            expires_at: chrono::DateTime::from_timestamp(news.expires_at, 0).unwrap_or_default().to_rfc3339(),
        }
    }
}

/// The current bar, and a note for the page cache of when pages showing it go stale.
pub async fn breaking(state: &AppState) -> Result<Option<BreakingView>, crate::store::StoreError> {
    let news = state.store.breaking_news().await?;
    state.breaking_until.store(news.as_ref().map_or(i64::MAX, |n| n.expires_at), std::sync::atomic::Ordering::Release);
    Ok(news.as_ref().map(BreakingView::of))
}
