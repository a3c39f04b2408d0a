//! Classifying a non-2xx Cal.com answer into an [`UpstreamError`] variant (reference/calcom.md
//! §4.6, §5), once, here: the core decides by variant and never reads the message.
//!
//! Cal.com answers errors in two shapes depending on which layer threw: Nest `HttpException`s
//! go through its filter and become the envelope
//! `{"status":"error","error":{"code","message","details"?}}`, while booking-core `HttpError`s
//! fall through to Nest's default `{"statusCode":N,"message":…}`. Proxies in front of it may
//! answer with plain text or HTML. All three give a readable [`ErrorAnswer`].

use super::SERVICE;
use crate::upstream::{self, raw_preview};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchboard_actors::domain::booking::{ErrorAnswer, UpstreamError};

/// Reset values above this are read as a Unix timestamp rather than a delay: §5 open
/// question 3 (Cal.com's code says seconds, a third-party page says timestamp). No real
/// delay is 30 years long, so the two readings cannot be confused.
const UNIX_TIMESTAMP_THRESHOLD: u64 = 1_000_000_000;

/// Phrases of Cal.com's 400 answers that mean the time cannot be booked (§4.6, UP
/// `errors.service.ts`): "User either already has booking at this time or is not available",
/// "One of the hosts either already has booking …", "The event type can't be booked at the
/// "start" time provided…".
const SLOT_TAKEN_PHRASES: [&str; 3] = ["already has booking", "not available", "can't be booked"];

/// Cal.com's 400 refusal of a slot someone else holds (§2 "Slot holds", UP
/// `reserved-slot-bookings.e2e-spec.ts`): "Someone else reserved this slot before you…",
/// which may go on "This slot will be freed up in N seconds." (our simulator's wording).
const RESERVED_PHRASE: &str = "reserved this slot before you";

/// The error for a non-2xx `status` with `headers` and raw `body`.
pub(crate) fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let (code, message) = match serde_json::from_slice::<Value>(body) {
        Ok(json) => parse_json_error(&json),
        Err(_) => None,
    }
    .unwrap_or_else(|| (None, raw_preview(status, body)));
    let answer = ErrorAnswer {
        status: status.as_u16(),
        code,
        message,
    };
    if let Some(freed_in) = reserved_refusal(&answer) {
        return UpstreamError::SlotReserved {
            service: SERVICE,
            answer,
            freed_in,
        };
    }
    if is_slot_taken(&answer) {
        return UpstreamError::SlotTaken {
            service: SERVICE,
            answer,
        };
    }
    UpstreamError::from_status(
        SERVICE,
        answer,
        retry_after(status, headers, SystemTime::now()),
    )
}

/// Cal.com's "this time cannot be booked": any 409 (`booking_conflict_error` from the booking
/// race, "No more seats left" on a full seated event), and a 400 whose message is one of the
/// availability refusals of [`SLOT_TAKEN_PHRASES`]. Other 400s (validation) are not.
fn is_slot_taken(answer: &ErrorAnswer) -> bool {
    match answer.status {
        409 => true,
        400 => SLOT_TAKEN_PHRASES
            .iter()
            .any(|phrase| answer.message.contains(phrase)),
        _ => false,
    }
}

/// `Some` for the refusal of a slot another reservation holds ([`RESERVED_PHRASE`]), with the
/// wait until it lapses when the message says "freed up in N seconds".
fn reserved_refusal(answer: &ErrorAnswer) -> Option<Option<Duration>> {
    if answer.status != 400 || !answer.message.contains(RESERVED_PHRASE) {
        return None;
    }
    let freed_in = answer
        .message
        .split_once("freed up in ")
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_secs);
    Some(freed_in)
}

/// `(code, message)` from either JSON error shape, `None` when the JSON is neither.
fn parse_json_error(json: &Value) -> Option<(Option<String>, String)> {
    if let Some(error) = json.get("error").filter(|e| e.is_object()) {
        let code = error.get("code").and_then(Value::as_str).map(str::to_owned);
        // ErrorWithCodeExceptionFilter puts the message at the top level of the envelope.
        let message = error
            .get("message")
            .or_else(|| json.get("message"))
            .map(message_text)
            .unwrap_or_default();
        let message = match error.get("details").map(validation_constraints) {
            // The global ValidationPipe says only "Bad Request Exception"; the reason is in
            // the class-validator errors under `details`.
            Some(constraints) if !constraints.is_empty() => {
                format!("{message}: {}", constraints.join("; "))
            }
            _ => message,
        };
        return Some((code, message));
    }
    json.get("message")
        .filter(|_| json.get("statusCode").is_some())
        .map(|m| (None, message_text(m)))
}

/// Nest sends `message` as a string, or as a list of strings from a default ValidationPipe.
fn message_text(message: &Value) -> String {
    match message {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Constraint messages of `details.errors[]` (class-validator `ValidationError`s, nested
/// through `children`), e.g. `take must not be greater than 250`.
fn validation_constraints(details: &Value) -> Vec<String> {
    fn collect(error: &Value, out: &mut Vec<String>) {
        if let Some(constraints) = error.get("constraints").and_then(Value::as_object) {
            out.extend(
                constraints
                    .values()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
        }
        for child in error
            .get("children")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect(child, out);
        }
    }
    let mut out = Vec::new();
    for error in details
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect(error, &mut out);
    }
    out
}

/// `Retry-After` (delay-seconds or an HTTP date) on any status ([`UpstreamError::from_status`] keeps it for
/// 429 and 5xx). On a 429 only, Cal.com's throttler reset
/// headers as a fallback: Cal.com never sends `Retry-After` there (§5), and its
/// `X-RateLimit-Reset-*` headers ride on every answer, where on a 400 they would be no reason
/// to wait. With several named limits, the exhausted ones decide; otherwise `Default`.
fn retry_after(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(wait) = upstream::retry_after(headers, now) {
        return Some(wait);
    }
    if status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let exhausted = headers
        .keys()
        .filter_map(|name| {
            name.as_str()
                .strip_prefix("x-ratelimit-remaining-")
                .filter(|_| header_u64(headers, name.as_str()) == Some(0))
        })
        .filter_map(|limit| header_u64(headers, &format!("x-ratelimit-reset-{limit}")))
        .max();
    exhausted
        .or_else(|| header_u64(headers, "x-ratelimit-reset-default"))
        .map(|reset| reset_delay(reset, now))
}

fn reset_delay(reset: u64, now: SystemTime) -> Duration {
    if reset < UNIX_TIMESTAMP_THRESHOLD {
        return Duration::from_secs(reset);
    }
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    Duration::from_secs(reset.saturating_sub(now))
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calcom::tests::status_parts as parts;
    use reqwest::header::HeaderValue;

    fn error(status: u16, headers: &[(&'static str, &str)], body: &str) -> UpstreamError {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        status_error(StatusCode::from_u16(status).unwrap(), &map, body.as_bytes())
    }

    #[test]
    fn envelope_shape_gives_code_and_message() {
        // §5 sample, verbatim.
        let e = error(
            400,
            &[],
            r#"{"status":"error","timestamp":"2025-07-01T10:00:00.000Z","path":"/v2/bookings",
 "error":{"code":"BadRequestException","message":"User either already has booking at this time or is not available",
  "details":{"message":"User either already has booking at this time or is not available","error":"Bad Request","statusCode":400}}}"#,
        );
        assert_eq!(
            parts(&e),
            (
                400,
                Some("BadRequestException"),
                "User either already has booking at this time or is not available",
                None
            )
        );
        assert!(e.is_slot_unavailable());
        assert!(!e.is_transient());
    }

    #[test]
    fn envelope_without_details_is_accepted() {
        let e = error(
            404,
            &[],
            r#"{"status":"error","error":{"code":"NotFoundException","message":"Cannot GET /v2/slots"}}"#,
        );
        assert_eq!(
            parts(&e),
            (404, Some("NotFoundException"), "Cannot GET /v2/slots", None)
        );
    }

    #[test]
    fn nest_default_shape_gives_message_without_code() {
        let e = error(
            409,
            &[],
            r#"{"statusCode":409,"message":"booking_conflict_error"}"#,
        );
        assert_eq!(parts(&e), (409, None, "booking_conflict_error", None));
        assert!(e.is_slot_unavailable());
    }

    #[test]
    fn nest_message_list_is_joined() {
        let e = error(
            400,
            &[],
            r#"{"statusCode":400,"message":["take must be a number","skip must be a number"],"error":"Bad Request"}"#,
        );
        assert_eq!(parts(&e).2, "take must be a number; skip must be a number");
    }

    #[test]
    fn validation_pipe_constraints_are_appended() {
        let e = error(
            400,
            &[],
            r#"{"status":"error","error":{"code":"BadRequestException","message":"Bad Request Exception",
              "details":{"errors":[{"property":"take","value":900,"constraints":{"max":"take must not be greater than 250"}}]}}}"#,
        );
        assert_eq!(
            parts(&e).2,
            "Bad Request Exception: take must not be greater than 250"
        );
    }

    #[test]
    fn non_json_body_is_truncated_text() {
        let html = format!("<html>{}</html>", "x".repeat(500));
        let e = error(502, &[], &html);
        let (status, code, message, _) = parts(&e);
        assert_eq!((status, code), (502, None));
        assert_eq!(message.chars().count(), 200);
        assert!(message.starts_with("<html>xxx"));
        assert!(e.is_transient());
    }

    #[test]
    fn empty_body_uses_reason_phrase() {
        assert_eq!(parts(&error(503, &[], "")).2, "Service Unavailable");
    }

    #[test]
    fn unknown_json_is_shown_raw() {
        assert_eq!(parts(&error(500, &[], r#"{"oops":1}"#)).2, r#"{"oops":1}"#);
    }

    #[test]
    fn throttled_429_takes_reset_default_as_retry_after() {
        let e = error(
            429,
            &[
                ("x-ratelimit-limit-default", "120"),
                ("x-ratelimit-remaining-default", "0"),
                ("x-ratelimit-reset-default", "42"),
            ],
            r#"{"status":"error","timestamp":"2025-07-01T10:00:00.000Z","path":"/v2/slots","error":{"code":"ThrottlerException","message":"CustomThrottlerGuard - Too many requests. Please try again later.","details":"CustomThrottlerGuard - Too many requests. Please try again later."}}"#,
        );
        assert_eq!(
            parts(&e),
            (
                429,
                Some("ThrottlerException"),
                "CustomThrottlerGuard - Too many requests. Please try again later.",
                Some(Duration::from_secs(42))
            )
        );
        assert!(e.is_transient());
    }

    #[test]
    fn exhausted_named_limit_wins_over_default() {
        let e = error(
            429,
            &[
                ("x-ratelimit-remaining-default", "80"),
                ("x-ratelimit-reset-default", "5"),
                ("x-ratelimit-remaining-booking", "0"),
                ("x-ratelimit-reset-booking", "30"),
            ],
            "",
        );
        assert_eq!(parts(&e).3, Some(Duration::from_secs(30)));
    }

    #[test]
    fn retry_after_header_wins_and_applies_to_any_status() {
        let e = error(
            503,
            &[("retry-after", "7"), ("x-ratelimit-reset-default", "42")],
            "",
        );
        assert_eq!(parts(&e).3, Some(Duration::from_secs(7)));
    }

    #[test]
    fn reset_header_is_ignored_outside_429() {
        let e = error(400, &[("x-ratelimit-reset-default", "42")], "");
        assert_eq!(parts(&e).3, None);
    }

    #[test]
    fn reset_as_unix_timestamp_becomes_delay() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(reset_delay(1_800_000_060, now), Duration::from_secs(60));
        assert_eq!(reset_delay(1_799_999_000, now), Duration::ZERO);
        assert_eq!(reset_delay(60, now), Duration::from_secs(60));
    }

    fn variant(status: u16, message: &str) -> UpstreamError {
        let body = serde_json::json!({"statusCode": status, "message": message}).to_string();
        error(status, &[], &body)
    }

    /// Asserts that each of `messages`, answered with `status`, is classified as `is` says.
    fn classified(status: u16, messages: &[&str], is: fn(&UpstreamError) -> bool) {
        for message in messages {
            let e = variant(status, message);
            assert!(is(&e), "{status} {message:?} gave {e:?}");
        }
    }

    #[test]
    fn any_409_is_slot_taken() {
        classified(
            409,
            &[
                "booking_conflict_error",
                "No more seats left at this seated booking.",
            ],
            |e| matches!(e, UpstreamError::SlotTaken { .. }) && !e.is_transient(),
        );
    }

    #[test]
    fn availability_refusals_of_400_are_slot_taken() {
        classified(
            400,
            &[
                "User either already has booking at this time or is not available",
                "One of the hosts either already has booking at this time or is not available",
                "The event type can't be booked at the \"start\" time provided. min booking notice violated.",
            ],
            |e| e.is_slot_unavailable() && !e.is_transient(),
        );
    }

    #[test]
    fn refusal_for_another_reservation_is_slot_reserved_with_its_lapse() {
        let e = variant(
            400,
            "Someone else reserved this slot before you. This slot will be freed up in 540 seconds.",
        );
        assert_eq!(
            e.reserved_for(),
            Some(Some(Duration::from_secs(540))),
            "{e:?}"
        );
        assert!(e.is_slot_unavailable() && !e.is_transient());
        let unsaid = variant(400, "Someone else reserved this slot before you.");
        assert_eq!(unsaid.reserved_for(), Some(None), "{unsaid:?}");
        let taken = variant(
            400,
            "User either already has booking at this time or is not available",
        );
        assert_eq!(taken.reserved_for(), None, "a booking is no reservation");
    }

    #[test]
    fn other_400s_are_rejections_not_slot_taken() {
        classified(
            400,
            &[
                "attendee property is wrong,name must be a string ",
                "Attempting to book a meeting in the past.",
            ],
            |e| matches!(e, UpstreamError::Rejected { .. }),
        );
    }

    #[test]
    fn slot_taken_phrases_count_only_on_400() {
        classified(
            422,
            &["User either already has booking at this time"],
            |e| matches!(e, UpstreamError::Rejected { .. }),
        );
    }

    #[test]
    fn refused_key_is_unauthorized() {
        let refusal = ["ApiAuthStrategy - api key - Your api key is not valid"];
        for status in [401, 403] {
            classified(status, &refusal, |e| {
                matches!(e, UpstreamError::Unauthorized { .. })
                    && e.is_unauthorized()
                    && !e.is_transient()
            });
        }
    }

    #[test]
    fn unknown_resource_is_not_found() {
        classified(
            404,
            &["Booking with uid=u1 was not found in the database"],
            |e| matches!(e, UpstreamError::NotFound { .. }) && !e.is_breaker_failure(),
        );
    }

    #[test]
    fn too_many_requests_is_rate_limited() {
        classified(429, &["ThrottlerException"], |e| {
            matches!(e, UpstreamError::RateLimited { .. }) && e.is_breaker_failure()
        });
    }

    #[test]
    fn five_hundreds_are_server_errors() {
        for status in [500, 502, 503, 504] {
            classified(status, &["Internal server error."], |e| {
                matches!(e, UpstreamError::ServerError { .. }) && e.is_transient()
            });
        }
    }

    #[test]
    fn other_statuses_are_rejections() {
        for status in [302, 405, 422, 498] {
            classified(status, &["no"], |e| {
                matches!(e, UpstreamError::Rejected { .. }) && !e.is_breaker_failure()
            });
        }
    }

    #[test]
    fn retry_after_is_kept_only_where_waiting_helps() {
        let e = error(400, &[("retry-after", "7")], "");
        assert_eq!(e.retry_after(), None);
        let e = error(429, &[("retry-after", "7")], "");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    }
}
