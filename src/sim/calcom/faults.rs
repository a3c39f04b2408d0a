//! The fault layer: applies a [`Faults`] decision to every `/v2/…` request and renders it the
//! way Cal.com fails (calcom.md §5). Paths outside `/v2` (the 404 page, `/__sim/…`) are never
//! faulted.
//!
//! - Fail: the request is not handled. 500 and 503 answer with Nest's envelope
//!   (`InternalServerErrorException`, `ServiceUnavailableException`); 429 with the
//!   `ThrottlerException` envelope and an exhausted quota in the `X-RateLimit-*-Default`
//!   headers (remaining 0, reset after the 60 s block).
//! - Hang: the request is accepted and never answered; only the client's timeout ends it.
//! - Commit-then-fail (`POST /v2/bookings` only): the handler runs, so the booking is stored,
//!   and then the answer is replaced by a 500 envelope, or sent as a 201 whose body breaks off
//!   halfway with the connection (see [`broken`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use tokio::time::Instant;

use super::Shared;
use super::errors::{CalcomError, Rejection};
use super::headers::{self, Quota};
use crate::sim::faults::{Action, ErrorStatus, FailMode, RequestKind, broken};

/// Prefix of the simulated API; everything under it is subject to faults.
const API_PREFIX: &str = "/v2/";

/// The middleware function; mount with `middleware::from_fn` inside the header stamping, so
/// injected failures are counted and carry `X-Request-Id` like real ones.
pub(super) async fn apply<B: MessageBody + 'static>(
    shared: web::Data<Shared>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.path().starts_with(API_PREFIX) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let kind = if req.method() == Method::POST && req.path() == "/v2/bookings" {
        RequestKind::Commit
    } else {
        RequestKind::Plain
    };
    let decision = shared.faults.decide(kind, Instant::now());
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    match decision.action {
        Action::Pass => Ok(next.call(req).await?.map_into_boxed_body()),
        Action::Fail(status) => {
            let reply = failure(req.request(), &shared, status);
            Ok(req.into_response(reply))
        }
        Action::Hang => std::future::pending().await,
        Action::CommitThenFail(mode) => {
            let (req, handled) = next.call(req).await?.map_into_boxed_body().into_parts();
            let reply = match mode {
                FailMode::Status500 => failure(&req, &shared, ErrorStatus::InternalServerError),
                FailMode::Drop => broken(handled).await?,
            };
            Ok(ServiceResponse::new(req, reply))
        }
    }
}

/// Cal.com's answer for an injected failure with `status`.
fn failure(req: &HttpRequest, shared: &Shared, status: ErrorStatus) -> HttpResponse {
    let error = match status {
        ErrorStatus::InternalServerError => CalcomError::Internal,
        ErrorStatus::ServiceUnavailable => CalcomError::Unavailable,
        ErrorStatus::TooManyRequests => CalcomError::Throttled,
    };
    // Nest reports Express's `req.url`: path plus query string.
    let url = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    let mut reply = Rejection::new(error, url, shared.clock.now()).error_response();
    if status == ErrorStatus::TooManyRequests {
        headers::stamp(reply.headers_mut(), Quota::exhausted());
    }
    reply
}
