//! Errors that become responses. People get Arabic pages; programs get JSON with a stable
//! `code`. Internal failures are logged with detail and shown without it.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::store::{EditError, StoreError};

/// An error on a public HTML page.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    BadRequest(String),
    /// Not answerable for a moment (the search index is being built): 503 with `Retry-After`,
    /// never cached. The message says why, in Arabic.
    Unavailable(String),
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait before asking again when something is briefly
/// unavailable (the search index being built takes seconds to minutes).
pub const RETRY_AFTER_SECS: &str = "10";

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.into())
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        PageError::Internal(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PageError::NotFound => {
                (StatusCode::NOT_FOUND, "الصفحة غير موجودة", "لم نجد ما تبحث عنه. ربما نُقل المقال أو تغيّر عنوانه.".to_string())
            }
            PageError::BadRequest(msg) => (StatusCode::BAD_REQUEST, "طلب غير صالح", msg.clone()),
            PageError::Unavailable(msg) => {
                let page = error_page(503, "غير متاح لحظات", msg);
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, RETRY_AFTER_SECS), (header::CACHE_CONTROL, "private, no-store")],
                    Html(page),
                )
                    .into_response();
            }
            PageError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "خطأ في الخادم", "حدث خطأ غير متوقع. حاول مرة أخرى بعد قليل.".to_string())
            }
        };
        (status, Html(error_page(status.as_u16(), title, &message))).into_response()
    }
}

/// A standalone error page: it must render even when templates or the database fail.
pub fn error_page(status: u16, title: &str, message: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!(
        "<!doctype html>\n<html lang=\"ar\" dir=\"rtl\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} ({status})</title><style>body{{font-family:system-ui,'Noto Naskh Arabic',Tahoma,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.8;color:#1a1a1a}}a{{color:#0b4f8a}}</style></head>\
         <body><main><h1>{title}</h1><p>{message}</p><p><a href=\"/\">العودة إلى الصفحة الرئيسية</a></p></main></body></html>",
        title = esc(title),
        message = esc(message),
    )
}

/// The API's error table: one row per error a program can meet, with its HTTP status, its
/// wire code (stable: clients match on it, never rename one) and the Arabic sentence used
/// when the handler has nothing more precise to say. The macro makes the enum, the status,
/// the code and the message from the same row, so no code is typed twice. (`$code` is a `tt`:
/// a `literal` fragment reaches derives wrapped in an invisible group, and utoipa then misses
/// the `serde(rename)` and would document the variant names instead of the wire codes.)
macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident => $status:ident, $code:tt, $message:literal; )*) => {
        /// Every error code of the JSON API (`error.code` on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* #[serde(rename = $code)] $variant, )*
        }

        impl ErrorCode {
            /// Every row of the table, in its order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }

            /// The stable wire code, e.g. `not_found`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The Arabic sentence for people when the handler gives none.
            pub fn message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message,)* }
            }
        }
    };
}

// The exhaustive list of the API's error codes. Add a row for a new kind of error; never
// change the code of an existing one (see the test at the end of this file).
error_codes! {
    /// No such article, section or route.
    NotFound => NOT_FOUND, "not_found", "لم نجد ما طلبته";
    /// A query parameter is unknown, or its value is malformed or out of range.
    InvalidQuery => BAD_REQUEST, "invalid_query", "معاملات الطلب غير صالحة";
    /// The article body is not JSON, or has unknown fields.
    InvalidJson => BAD_REQUEST, "invalid_json", "جسم الطلب ليس JSON صالحاً";
    /// The body of a suggestions edit is not one of its accepted forms.
    InvalidBody => BAD_REQUEST, "invalid_body", "جسم الطلب غير صالح";
    /// The article is well-formed JSON but breaks a rule (empty, bad slug, image without alt…).
    InvalidArticle => UNPROCESSABLE_ENTITY, "invalid_article", "المقال غير صالح";
    /// No API token, or one that is wrong or revoked.
    Unauthorized => UNAUTHORIZED, "unauthorized", "أرسل رمز API في الترويسة Authorization: Bearer …";
    /// The token's user may not do this.
    Forbidden => FORBIDDEN, "forbidden", "لا تملك صلاحية هذا الإجراء";
    /// The article changed since the version the client sent.
    VersionConflict => CONFLICT, "version_conflict", "عدّل شخص آخر هذا المقال بعد أن فتحته؛ لم يُحفظ شيء";
    /// Another article has this slug.
    SlugTaken => CONFLICT, "slug_taken", "المعرّف النصي مستخدم لمقال آخر";
    /// The article is longer than `editor.max_article_chars` or has more blocks than
    /// `editor.max_article_blocks`.
    ArticleTooLarge => UNPROCESSABLE_ENTITY, "article_too_large", "المقال أطول من الحد المسموح به";
    /// An inline mark (bold, italic, link) of a block is out of its text's range, links
    /// somewhere not allowed (only http, https or a `/…` path on the site), overlaps another
    /// link, or a block has too many marks.
    InvalidMarks => UNPROCESSABLE_ENTITY, "invalid_marks", "تنسيق غير صالح في نص المقال";
    /// The URL's path or query holds a control character.
    InvalidCharacters => BAD_REQUEST, "invalid_characters", "العنوان يحوي محارف تحكم غير مقبولة";
    /// A request the server could not read (not UTF-8, not the expected form or encoding).
    BadRequest => BAD_REQUEST, "bad_request", "الطلب غير مفهوم: تحقق من العنوان والبيانات المرسلة";
    /// The request body is larger than `server.max_body_bytes`.
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload_too_large", "الطلب أكبر من الحد المسموح به";
    /// The body's content type is not one this endpoint reads.
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "نوع المحتوى المرسل غير مقبول هنا";
    /// The route exists, but not with this method.
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed", "هذه الطريقة غير مقبولة على هذا العنوان";
    /// The request took longer than `server.request_timeout_secs`.
    Timeout => REQUEST_TIMEOUT, "timeout", "استغرق الطلب وقتاً أطول من المسموح؛ حاول مجدداً";
    /// Too many requests from this client in a short time.
    TooManyRequests => TOO_MANY_REQUESTS, "too_many_requests", "طلبات كثيرة في وقت قصير؛ حاول لاحقاً";
    /// An uploaded file is not an image we accept (type, size in pixels, unreadable).
    InvalidUpload => UNPROCESSABLE_ENTITY, "invalid_upload", "الملف المرفوع ليس صورة مقبولة";
    /// The search index is being built (a node that just started on a new or restored
    /// archive): try again after the `Retry-After` seconds.
    SearchUnavailable => SERVICE_UNAVAILABLE, "search_unavailable", "البحث غير متاح لحظات: فهرس البحث يُبنى";
    /// A failure on our side; details are in the server's log, never in the answer.
    Internal => INTERNAL_SERVER_ERROR, "internal", "حدث خطأ داخلي";
}

/// The body of every JSON error: a stable machine code and an Arabic sentence for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct Error {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "not_found")]
    pub code: ErrorCode,
    pub message: String,
}

/// An error from the JSON API: a row of the table, with a more precise message when the
/// handler has one. Internal failures keep their cause for the log.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    cause: Option<anyhow::Error>,
}

impl ApiError {
    /// The error with the table's message.
    pub fn new(code: ErrorCode) -> Self {
        ApiError { code, message: Cow::Borrowed(code.message()), cause: None }
    }

    /// The error with a sentence that says more than the table's (which parameter, which rule).
    pub fn with_message(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError { code, message: message.into(), cause: None }
    }

    /// `not_found` naming what is missing: «المقال غير موجود».
    pub fn not_found(what: &str) -> Self {
        Self::with_message(ErrorCode::NotFound, format!("{what} غير موجود"))
    }

    /// A failure on our side: logged with its cause, answered with the table's sentence only.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ApiError { code: ErrorCode::Internal, message: Cow::Borrowed(ErrorCode::Internal.message()), cause: Some(cause.into()) }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        // Listed one by one so a new store error is a decision here, not a silent 500.
        match e {
            StoreError::Unavailable { .. }
            | StoreError::Migration(_)
            | StoreError::Corrupt(_)
            | StoreError::Database(_)
            | StoreError::Scratch(_) => ApiError::internal(e),
            // A unique violation the handler did not anticipate (slugs are checked by the
            // store and come back as `EditError::SlugTaken`): our bug, not the client's.
            StoreError::Conflict(_) => ApiError::internal(e),
        }
    }
}

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::NotFound => ApiError::not_found("المقال"),
            EditError::VersionConflict { .. } => ApiError::with_message(ErrorCode::VersionConflict, e.to_string()),
            EditError::SlugTaken(_) => ApiError::with_message(ErrorCode::SlugTaken, e.to_string()),
            EditError::Store(e) => e.into(),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        // Every rule of the domain types is about the article the client sent.
        match e {
            DomainError::EmptyHeadline
            | DomainError::HeadlineTooLong(_)
            | DomainError::InvalidSlug(_)
            | DomainError::UnknownStatus(_)
            | DomainError::EmptyBody => ApiError::with_message(ErrorCode::InvalidArticle, e.to_string()),
            DomainError::ArticleTooLong { .. } | DomainError::TooManyBlocks { .. } => {
                ApiError::with_message(ErrorCode::ArticleTooLarge, e.to_string())
            }
            DomainError::InvalidMarks { .. } => ApiError::with_message(ErrorCode::InvalidMarks, e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = %format!("{cause:#}"), "api request failed");
        }
        let status = self.code.status();
        let body = Error { error: ErrorDetail { code: self.code, message: self.message.into_owned() } };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API contract in one table: a change to a status, a code or its sentence shows here
    /// in review. Codes are what clients match on; changing one breaks them.
    #[test]
    fn error_table_rows() {
        let rows: Vec<(u16, &str, &str)> = ErrorCode::ALL.iter().map(|c| (c.status().as_u16(), c.as_str(), c.message())).collect();
        assert_eq!(
            rows,
            [
                (404, "not_found", "لم نجد ما طلبته"),
                (400, "invalid_query", "معاملات الطلب غير صالحة"),
                (400, "invalid_json", "جسم الطلب ليس JSON صالحاً"),
                (400, "invalid_body", "جسم الطلب غير صالح"),
                (422, "invalid_article", "المقال غير صالح"),
                (401, "unauthorized", "أرسل رمز API في الترويسة Authorization: Bearer …"),
                (403, "forbidden", "لا تملك صلاحية هذا الإجراء"),
                (409, "version_conflict", "عدّل شخص آخر هذا المقال بعد أن فتحته؛ لم يُحفظ شيء"),
                (409, "slug_taken", "المعرّف النصي مستخدم لمقال آخر"),
                (422, "article_too_large", "المقال أطول من الحد المسموح به"),
                (422, "invalid_marks", "تنسيق غير صالح في نص المقال"),
                (400, "invalid_characters", "العنوان يحوي محارف تحكم غير مقبولة"),
                (400, "bad_request", "الطلب غير مفهوم: تحقق من العنوان والبيانات المرسلة"),
                (413, "payload_too_large", "الطلب أكبر من الحد المسموح به"),
                (415, "unsupported_media_type", "نوع المحتوى المرسل غير مقبول هنا"),
                (405, "method_not_allowed", "هذه الطريقة غير مقبولة على هذا العنوان"),
                (408, "timeout", "استغرق الطلب وقتاً أطول من المسموح؛ حاول مجدداً"),
                (429, "too_many_requests", "طلبات كثيرة في وقت قصير؛ حاول لاحقاً"),
                (422, "invalid_upload", "الملف المرفوع ليس صورة مقبولة"),
                (503, "search_unavailable", "البحث غير متاح لحظات: فهرس البحث يُبنى"),
                (500, "internal", "حدث خطأ داخلي"),
            ]
        );
    }

    /// What goes on the wire and what the OpenAPI document lists are the table's codes.
    #[test]
    fn wire_codes_and_schema_come_from_the_table() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{} is not snake_case", code.as_str());
            assert!(code.status().is_client_error() || code.status().is_server_error());
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        let schema = serde_json::to_value(<ErrorCode as utoipa::PartialSchema>::schema()).unwrap();
        let listed: Vec<&str> = schema["enum"].as_array().expect("a string enum").iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(listed, ErrorCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn one_body_shape_and_no_internal_detail() {
        async fn body(e: ApiError) -> (StatusCode, Option<HeaderValue>, serde_json::Value) {
            let resp = e.into_response();
            let (status, auth) = (resp.status(), resp.headers().get(header::WWW_AUTHENTICATE).cloned());
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
            (status, auth, serde_json::from_slice(&bytes).unwrap())
        }
        let (status, auth, json) = body(ApiError::not_found("المقال")).await;
        assert_eq!((status, auth), (StatusCode::NOT_FOUND, None));
        assert_eq!(json, serde_json::json!({ "error": { "code": "not_found", "message": "المقال غير موجود" } }));

        let (status, auth, json) = body(ApiError::new(ErrorCode::Unauthorized)).await;
        assert_eq!((status, auth.as_ref().map(|v| v.to_str().unwrap())), (StatusCode::UNAUTHORIZED, Some("Bearer")));
        assert_eq!(json["error"]["code"], "unauthorized");

        let (status, _, json) = body(ApiError::from(anyhow::anyhow!("secret path /var/lib/db"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json, serde_json::json!({ "error": { "code": "internal", "message": "حدث خطأ داخلي" } }));
    }
}
