//! The JSON answers of the API as Rust types. Handlers build these and serialize them, and
//! utoipa derives the OpenAPI schemas from the same types, so the document describes what is
//! sent rather than what someone remembered to write down. Domain and store types are copied
//! into these at the edge: the wire format stays ours even when a domain type changes.
//!
//! Field names, `null`s and absent fields are the API's contract (clients depend on them):
//! an `Option` here is sent as `null`, never left out, unless it says `skip_serializing_if`.

use serde::Serialize;
use utoipa::ToSchema;

use super::view::{BlockView, SummaryView};
use crate::domain::Status;

/// A page of published articles, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub items: Vec<SummaryView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The breaking-news bar («عاجل»), as every page shows it; `breaking` is null when there is
/// none or it has expired.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakingAnswer {
    pub breaking: Option<super::front::BreakingView>,
}

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Scheduled,
    Published,
}

impl From<Status> for ArticleStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Draft => ArticleStatus::Draft,
            Status::Scheduled => ArticleStatus::Scheduled,
            Status::Published => ArticleStatus::Published,
        }
    }
}

/// A section, author or tag: its slug and its display name.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedRef {
    pub slug: String,
    pub name: String,
}

impl NamedRef {
    pub fn new(slug: &str, name: &str) -> Self {
        NamedRef { slug: slug.to_string(), name: name.to_string() }
    }
}

/// One published article, its body as structured blocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDetail {
    pub id: i64,
    pub slug: String,
    /// Absolute URL of the article's page.
    pub url: String,
    pub headline: String,
    pub lead: String,
    /// Read-also blocks carry an absolute `url` when they point to one of our articles.
    pub body: Vec<BlockView>,
    pub section: Option<NamedRef>,
    pub authors: Vec<NamedRef>,
    pub tags: Vec<NamedRef>,
    pub status: ArticleStatus,
    /// RFC 3339.
    pub published_at: Option<String>,
    /// The publication date in Arabic, in the newsroom's time zone.
    pub date: Option<String>,
    /// RFC 3339.
    pub updated_at: String,
    #[schema(example = "ar")]
    pub language: String,
    /// Where the article came from (a file name, a site, `api`).
    pub source: Option<String>,
    /// «اقرأ أيضاً» suggestions.
    pub related: Vec<RelatedArticle>,
    /// People, places and organisations named in the article.
    pub entities: Vec<EntityLink>,
}

/// A suggested article.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedArticle {
    pub id: i64,
    pub headline: String,
    /// Absolute URL of its page.
    pub url: String,
}

/// What kind of thing an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Person,
    Place,
    Org,
}

impl From<crate::entities::Kind> for EntityKind {
    fn from(k: crate::entities::Kind) -> Self {
        use crate::entities::Kind;
        match k {
            Kind::Person => EntityKind::Person,
            Kind::Place => EntityKind::Place,
            Kind::Org => EntityKind::Org,
        }
    }
}

/// A person, place or organisation named in an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityLink {
    pub name: String,
    pub kind: EntityKind,
    pub slug: String,
    /// Absolute URL of its topic page.
    pub url: String,
}

/// Search results, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub query: String,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub id: i64,
    pub headline: String,
    /// Absolute URL of the article's page.
    pub url: String,
    /// RFC 3339.
    pub published_at: Option<String>,
    /// The section's slug.
    pub section: Option<String>,
    /// Text around the matches; `<b>` marks them.
    pub snippet: String,
    /// The index scores in single precision; sent widened to a double, as it always was.
    pub score: f64,
}

/// An article's state after a write.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleState {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    #[schema(example = "draft")]
    pub status: ArticleStatus,
    /// Send it back as `version` with the next `PUT`.
    pub version: i64,
    /// RFC 3339.
    pub published_at: Option<String>,
}

/// An article as `PUT` takes it, with its current `version`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditableArticle {
    pub id: i64,
    pub version: i64,
    pub headline: String,
    pub lead: String,
    /// The editor's markup.
    pub body: String,
    /// The same body as structured blocks with their inline marks (the form `blocks` of
    /// the article input takes).
    pub blocks: Vec<crate::domain::Block>,
    pub section: Option<String>,
    pub tags: Vec<String>,
    pub authors: Vec<String>,
    pub slug: String,
    pub status: ArticleStatus,
    /// RFC 3339.
    pub published_at: Option<String>,
}

/// An article's suggestions with the editors' flags, and its near-duplicates.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedEditorView {
    pub article_id: i64,
    /// Every suggestion, removed ones included: kept ones first, pinned first among them.
    pub suggestions: Vec<SuggestionState>,
    /// Ids of the articles found to be near-duplicates of this one.
    pub duplicates: Vec<i64>,
}

/// One suggestion as editors see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionState {
    pub id: i64,
    pub headline: String,
    pub score: f64,
    pub pinned: bool,
    pub removed: bool,
}

impl From<crate::store::related::Suggestion> for SuggestionState {
    fn from(s: crate::store::related::Suggestion) -> Self {
        let crate::store::related::Suggestion { id, headline, score, pinned, removed } = s;
        SuggestionState { id, headline, score, pinned, removed }
    }
}

/// Exactly one of the fields: the id of the suggested article to act on.
// A request body, read by hand so each mistake gets its own Arabic sentence: only its schema
// is used.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct RelatedAction {
    pub pin: Option<i64>,
    pub remove: Option<i64>,
    pub unpin: Option<i64>,
    pub restore: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire spells statuses and kinds as the domain does (pages, feeds and the API agree).
    #[test]
    fn enums_serialize_like_the_domain() {
        for s in [Status::Draft, Status::Scheduled, Status::Published] {
            assert_eq!(serde_json::to_value(ArticleStatus::from(s)).unwrap(), serde_json::to_value(s).unwrap());
        }
        use crate::entities::Kind;
        for k in [Kind::Person, Kind::Place, Kind::Org] {
            assert_eq!(serde_json::to_value(EntityKind::from(k)).unwrap(), serde_json::to_value(k).unwrap());
        }
    }
}

/// An image the admin's block editor uploaded (`POST /admin/media` with `Accept:
/// application/json`): its served address and size.
#[derive(Debug, Serialize)]
pub struct UploadedImage {
    /// `/media/…`, the address an image block carries (it names the original; pages show
    /// its variants).
    pub src: String,
    /// The largest served variant, for the editor to show.
    pub preview: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
}

/// A stored autosave (`POST /admin/articles/{id}/autosave`).
#[derive(Debug, Serialize)]
pub struct AutosaveAnswer {
    /// Unix seconds.
    pub saved_at: i64,
    /// The article's version the working copy was made from.
    pub version: i64,
}

/// The writing aids' suggestions for an article (`GET /admin/articles/{id}/suggestions`).
#[derive(Debug, Serialize)]
pub struct EditorSuggestions {
    /// Names the entity finder sees in the text that are not tags yet, most mentioned first.
    pub tags: Vec<String>,
    /// Related articles not pinned yet (editors only; empty for writers).
    pub related: Vec<RelatedPick>,
}

#[derive(Debug, Serialize)]
pub struct RelatedPick {
    pub id: i64,
    pub headline: String,
}
