//! Classifying a non-2xx Retell answer into an [`UpstreamError`] variant (reference/retell.md
//! §4.2), once, here: the core decides by variant and never reads the message.
//!
//! Retell answers every error as `{"status":"error","message":"<text>"}`; proxies in front of
//! it may answer with plain text or HTML, which is kept as a short preview.

use super::SERVICE;
use crate::upstream::{self, raw_preview};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use std::time::SystemTime;
use switchboard_actors::domain::booking::{ErrorAnswer, UpstreamError};

/// Retell's error body (§4.2).
#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// The error for a non-2xx `status` with `headers` and raw `body`:
/// - 401, 403 and 402 ("Trial has ended": the key cannot be used until someone pays) →
///   [`UpstreamError::Unauthorized`];
/// - 404 and 422 → [`UpstreamError::NotFound`]: Retell answers 422 "Cannot find requested
///   asset under given api key" for a missing agent, LLM, number or call, and some live
///   endpoints 404 for the same (§4.2: treat them alike);
/// - 429 → [`UpstreamError::RateLimited`] and 5xx → [`UpstreamError::ServerError`], both with
///   `Retry-After` (seconds or HTTP date) so the breaker's retry waits that long;
/// - anything else (400, 409, a redirect) → [`UpstreamError::Rejected`].
pub(super) fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.message)
        .unwrap_or_else(|_| raw_preview(status, body));
    let answer = ErrorAnswer {
        status: status.as_u16(),
        code: None,
        message,
    };
    match status.as_u16() {
        402 => UpstreamError::Unauthorized {
            service: SERVICE,
            answer,
        },
        422 => UpstreamError::NotFound {
            service: SERVICE,
            answer,
        },
        _ => UpstreamError::from_status(
            SERVICE,
            answer,
            upstream::retry_after(headers, SystemTime::now()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::Duration;

    fn error(status: u16, retry_after: Option<&str>, body: &str) -> UpstreamError {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert("retry-after", HeaderValue::from_str(value).unwrap());
        }
        status_error(
            StatusCode::from_u16(status).unwrap(),
            &headers,
            body.as_bytes(),
        )
    }

    fn retell_body(message: &str) -> String {
        serde_json::json!({"status": "error", "message": message}).to_string()
    }

    #[test]
    fn retell_error_body_gives_the_message() {
        let e = error(
            400,
            None,
            &retell_body("Invalid request format, please check API reference."),
        );
        let answer = e.answer().unwrap();
        assert_eq!(answer.status, 400);
        assert_eq!(
            answer.message,
            "Invalid request format, please check API reference."
        );
        assert!(matches!(
            e,
            UpstreamError::Rejected {
                service: "retell",
                ..
            }
        ));
    }

    #[test]
    fn missing_asset_422_and_404_are_not_found() {
        for status in [404, 422] {
            let e = error(
                status,
                None,
                &retell_body("Cannot find requested asset under given api key."),
            );
            assert!(
                matches!(e, UpstreamError::NotFound { .. }),
                "{status}: {e:?}"
            );
            assert!(!e.is_breaker_failure());
        }
    }

    #[test]
    fn refused_key_and_ended_trial_are_unauthorized() {
        for status in [401, 402, 403] {
            let e = error(status, None, &retell_body("API key is missing or invalid."));
            assert!(e.is_unauthorized(), "{status}: {e:?}");
            assert!(!e.is_transient());
        }
    }

    #[test]
    fn conflict_409_is_a_rejection() {
        let e = error(409, None, &retell_body("Conflict"));
        assert!(matches!(e, UpstreamError::Rejected { .. }));
    }

    #[test]
    fn rate_limit_429_keeps_retry_after_seconds() {
        let e = error(
            429,
            Some("3"),
            &retell_body("Account rate limited, please throttle your requests."),
        );
        assert!(matches!(e, UpstreamError::RateLimited { .. }));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert!(e.is_transient());
    }

    #[test]
    fn server_error_5xx_keeps_retry_after() {
        for status in [500, 502, 503] {
            let e = error(status, Some("2"), "");
            assert!(matches!(e, UpstreamError::ServerError { .. }), "{status}");
            assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        }
    }

    #[test]
    fn body_that_is_not_retells_shape_is_a_short_preview() {
        let html = format!("<html>{}</html>", "x".repeat(500));
        let e = error(502, None, &html);
        let message = &e.answer().unwrap().message;
        assert_eq!(message.chars().count(), upstream::RAW_BODY_PREVIEW_CHARS);
        assert!(message.starts_with("<html>"));
        assert_eq!(
            error(503, None, "").answer().unwrap().message,
            "Service Unavailable"
        );
    }
}
