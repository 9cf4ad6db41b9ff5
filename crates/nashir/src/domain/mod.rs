//! Domain types. Values that have invariants (a slug, a headline) can only be built through
//! their `parse` constructors, so the rest of the code never re-checks them.

mod article;
mod email;
mod frequency;
mod slug;

pub use article::{collapse_whitespace, title_key, Article, ArticleDraft, AuthorRef, Block, Headline, SectionRef, Status, TagRef};
pub use email::{parse_mailbox, Email, HeaderText, MailInputError, MAX_INPUT_CHARS};
pub use frequency::Frequency;
pub use slug::Slug;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("العنوان فارغ")]
    EmptyHeadline,
    #[error("العنوان أطول من {0} حرفاً")]
    HeadlineTooLong(usize),
    #[error("المعرّف النصي (slug) غير صالح: {0}")]
    InvalidSlug(String),
    #[error("حالة غير معروفة: {0}")]
    UnknownStatus(String),
    #[error("المقال بلا نص")]
    EmptyBody,
}
