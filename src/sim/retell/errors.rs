//! Retell's error answer (reference/retell.md §4.2): every error is
//! `{"status": "error", "message": "<text>"}` with the status of the table there. A missing
//! agent, LLM, number or call is 422, not 404; 404 is only for a path Retell has no route for.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// `Retry-After` of an injected 429, seconds. Retell documents no value (§6, open question
/// 8); one second keeps clients that honour it (the official SDKs do) quick in tests.
pub const RETRY_AFTER_S: u64 = 1;

/// Retell's message for a body it cannot read (§4.2, 400).
pub(super) const INVALID_FORMAT: &str = "Invalid request format, please check API reference.";

/// Why a request failed, with the status and message Retell answers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(super) enum RetellError {
    /// 400: malformed JSON, a bad field, a bad tool, weights not summing to 1.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no `Authorization: Bearer` key, or one no account has.
    #[error("API key is missing or invalid.")]
    Unauthorized,
    /// 404: no such route.
    #[error("The requested resource was not found.")]
    NoRoute,
    /// 413: a body over the limit, or a cap of the simulator's state reached.
    #[error("{0}")]
    TooLarge(String),
    /// 422: no agent, version, LLM, number or call of that id under the key.
    #[error("Cannot find requested asset under given api key.")]
    NotFound,
    /// 429 (injected), with `Retry-After`.
    #[error("Account rate limited, please throttle your requests.")]
    RateLimited,
    /// 500 (injected).
    #[error("An unexpected server error occurred.")]
    Internal,
    /// 503 (injected outage).
    #[error("Service temporarily unavailable, please retry later.")]
    Unavailable,
}

impl RetellError {
    /// A 400 naming what is wrong.
    pub(super) fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }
}

impl ResponseError for RetellError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NoRoute => StatusCode::NOT_FOUND,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut reply = HttpResponse::build(self.status_code())
            .json(json!({"status": "error", "message": self.to_string()}));
        if *self == Self::RateLimited {
            reply
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
        }
        reply
    }
}
