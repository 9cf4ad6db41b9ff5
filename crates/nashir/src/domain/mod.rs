//! Domain types. Values that have invariants (a slug, a headline) can only be built through
//! their `parse` constructors, so the rest of the code never re-checks them.

mod article;
mod email;
mod frequency;
pub mod link;
mod marks;
mod slug;
mod text;
mod user;

pub use article::{
    body_text_from_json, collapse_whitespace, normalize_body_marks, title_key, Article, ArticleDraft, AuthorRef, Block, Headline, ListItem,
    SectionRef, Status, TagRef,
};
pub use email::{parse_mailbox, Email, HeaderText, MailInputError, MAX_INPUT_CHARS};
pub use frequency::Frequency;
pub use marks::{collapse_whitespace_keeping_marks, normalize_marks, Mark, MarkKind, MarkPolicy, MarkProblem, MAX_MARKS_PER_TEXT};
pub use slug::Slug;
pub use text::{is_unwanted_char, strip_controls, strip_controls_in};
pub use user::{Role, User};

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
    #[error("المقال أطول من المسموح: {chars} حرفاً، والحد {max} حرف. قسّمه إلى أكثر من مقال.")]
    ArticleTooLong { chars: usize, max: usize },
    #[error("في المقال {blocks} فقرة وعنصراً، والحد {max}. قسّمه إلى أكثر من مقال.")]
    TooManyBlocks { blocks: usize, max: usize },
    #[error("تنسيق غير صالح في العنصر {block} من نص المقال: {problem}")]
    InvalidMarks { block: usize, problem: MarkProblem },
}

/// How big one article may be when written in the editor or sent to the API
/// (`editor.max_article_chars`, `editor.max_article_blocks`).
#[derive(Debug, Clone, Copy)]
pub struct ArticleLimits {
    pub max_chars: usize,
    pub max_blocks: usize,
}

impl ArticleLimits {
    /// Checks the text as typed (headline, lead and body markup), before it is parsed: the
    /// parse of an oversized body is then never started.
    pub fn check_chars(&self, parts: &[&str]) -> Result<(), DomainError> {
        // Bytes bound characters from above: most texts pass without counting.
        if parts.iter().map(|p| p.len()).sum::<usize>() <= self.max_chars {
            return Ok(());
        }
        let chars: usize = parts.iter().map(|p| p.chars().count()).sum();
        if chars > self.max_chars {
            return Err(DomainError::ArticleTooLong { chars, max: self.max_chars });
        }
        Ok(())
    }

    pub fn check_blocks(&self, blocks: usize) -> Result<(), DomainError> {
        if blocks > self.max_blocks {
            return Err(DomainError::TooManyBlocks { blocks, max: self.max_blocks });
        }
        Ok(())
    }
}

/// The current time in Unix seconds, the unit the store, tokens and queues use. The one clock
/// of the crate, so a test or a future mock has one place to look.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}
