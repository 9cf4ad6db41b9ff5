//! Errors that become responses. People get Arabic pages; programs get JSON with a stable
//! `code`. Internal failures are logged with detail and shown without it.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::store::StoreError;

/// An error on a public HTML page.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    BadRequest(String),
    Internal(anyhow::Error),
}

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

/// An error from the JSON API.
#[derive(Debug)]
pub enum ApiError {
    NotFound(&'static str),
    BadRequest { code: &'static str, message: String },
    Internal(anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", format!("{what} غير موجود")),
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message),
            ApiError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "api request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "حدث خطأ داخلي".to_string())
            }
        };
        (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
    }
}
