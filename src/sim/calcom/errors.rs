//! Cal.com's two error body shapes (calcom.md §5).
//!
//! Nest `HttpException`s go through Cal.com's `HttpExceptionFilter` and come out as the
//! envelope `{"status":"error","timestamp","path","error":{code,message,details}}`. Errors the
//! booking core throws as `HttpError` are not `HttpException`s; Nest's base filter answers them
//! with a bare `{"statusCode":N,"message":"…"}`. Clients must accept both, so the simulator
//! emits both, each where the real service does.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::fmt;

use super::output::iso_ms_utc;

/// Why a request failed, by the exception the real service throws.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(super) enum CalcomError {
    /// `BadRequestException(message)`: body pipes and service checks.
    #[error("{0}")]
    BadRequest(String),
    /// `BadRequestException({errors})` from the global `ValidationPipe` on query DTOs: the
    /// message is fixed and `details.errors` holds class-validator `ValidationError` objects.
    #[error("Bad Request Exception")]
    QueryValidation(Vec<Value>),
    /// `UnauthorizedException(message)`: throttler guard or `ApiAuthStrategy`.
    #[error("{0}")]
    Unauthorized(String),
    /// `NotFoundException(message)`: unknown ids and unmatched routes.
    #[error("{0}")]
    NotFound(String),
    /// `UnprocessableEntityException(message)`: a slot reservation conflict (§5 status table).
    #[error("{0}")]
    Unprocessable(String),
    /// `ThrottlerException` from `CustomThrottlerGuard` (§5 "Rate limits"); its `details` is
    /// the message itself.
    #[error("CustomThrottlerGuard - Too many requests. Please try again later.")]
    Throttled,
    /// `InternalServerErrorException()` without arguments: an injected 500.
    #[error("Internal Server Error")]
    Internal,
    /// `ServiceUnavailableException()` without arguments: an injected 503.
    #[error("Service Unavailable")]
    Unavailable,
    /// A booking-core `HttpError` (or body-parser error) answered in the bare shape.
    #[error("{message}")]
    Core {
        /// HTTP status the core chose.
        status: StatusCode,
        /// Message as the core wrote it, e.g. "This booking has already been cancelled.".
        message: String,
    },
}

impl CalcomError {
    /// The HTTP status of the reply.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::QueryValidation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Core { status, .. } => *status,
        }
    }

    /// Nest's exception class name (`error.code`) and `HttpStatus` reason (`details.error`).
    fn exception(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) | Self::QueryValidation(_) => {
                ("BadRequestException", "Bad Request")
            }
            Self::Unauthorized(_) => ("UnauthorizedException", "Unauthorized"),
            Self::NotFound(_) => ("NotFoundException", "Not Found"),
            Self::Unprocessable(_) => ("UnprocessableEntityException", "Unprocessable Entity"),
            Self::Throttled => ("ThrottlerException", "Too Many Requests"),
            Self::Internal => ("InternalServerErrorException", "Internal Server Error"),
            Self::Unavailable => ("ServiceUnavailableException", "Service Unavailable"),
            Self::Core { .. } => ("HttpError", ""),
        }
    }

    /// The reply body for a request to `path` (Express `req.url`, query included) at `at`.
    pub(super) fn body(&self, path: &str, at: DateTime<Utc>) -> Value {
        let status = self.status().as_u16();
        if let Self::Core { message, .. } = self {
            return json!({ "statusCode": status, "message": message });
        }
        let (code, reason) = self.exception();
        let message = self.to_string();
        // `details` is Nest's `getResponse()`: the object passed to the exception, the
        // default `{message, error, statusCode}` when a string was passed, `{message,
        // statusCode}` when nothing was, and the throttler's bare string.
        let details = match self {
            Self::QueryValidation(errors) => json!({ "errors": errors }),
            Self::Throttled => json!(message),
            Self::Internal | Self::Unavailable => {
                json!({ "message": message, "statusCode": status })
            }
            _ => json!({ "message": message, "error": reason, "statusCode": status }),
        };
        json!({
            "status": "error",
            "timestamp": iso_ms_utc(at),
            "path": path,
            "error": { "code": code, "message": message, "details": details },
        })
    }
}

/// A [`CalcomError`] bound to the request it answers, so actix can render it from a handler
/// or an extractor.
#[derive(Debug)]
pub(super) struct Rejection {
    error: CalcomError,
    path: String,
    at: DateTime<Utc>,
}

impl Rejection {
    /// Binds `error` to the request URL `path` and the simulator time `at`.
    pub(super) fn new(error: CalcomError, path: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            error,
            path: path.into(),
            at,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.error.status().as_u16(),
            self.path,
            self.error
        )
    }
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        self.error.status()
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.error.body(&self.path, self.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2050, 9, 1, 8, 0, 0).unwrap()
    }

    #[test]
    fn bad_request_envelope_carries_nest_details() {
        let body = CalcomError::BadRequest("nope".into()).body("/v2/bookings", at());
        assert_eq!(
            body,
            json!({"status":"error","timestamp":"2050-09-01T08:00:00.000Z","path":"/v2/bookings",
                   "error":{"code":"BadRequestException","message":"nope",
                            "details":{"message":"nope","error":"Bad Request","statusCode":400}}})
        );
    }

    #[test]
    fn throttler_envelope_has_the_message_as_details() {
        let body = CalcomError::Throttled.body("/v2/slots", at());
        let message = "CustomThrottlerGuard - Too many requests. Please try again later.";
        assert_eq!(
            body,
            json!({"status":"error","timestamp":"2050-09-01T08:00:00.000Z","path":"/v2/slots",
                   "error":{"code":"ThrottlerException","message":message,"details":message}})
        );
    }

    #[test]
    fn argumentless_server_errors_carry_nest_default_details() {
        let body = CalcomError::Unavailable.body("/v2/slots", at());
        assert_eq!(
            body["error"],
            json!({"code":"ServiceUnavailableException","message":"Service Unavailable",
                   "details":{"message":"Service Unavailable","statusCode":503}})
        );
    }

    #[test]
    fn core_error_is_the_bare_nest_shape() {
        let error = CalcomError::Core {
            status: StatusCode::BAD_REQUEST,
            message: "x".into(),
        };
        assert_eq!(
            error.body("/v2/bookings/u/cancel", at()),
            json!({"statusCode":400,"message":"x"})
        );
    }
}
