//! The fault layer: applies a [`crate::sim::faults`] decision to every API request and renders
//! it the way Retell fails (reference/retell.md §4.2). `/__sim/…` is mounted outside it.
//!
//! - Fail: the request is not handled; 500, 503, or 429 with `Retry-After` (seconds), each in
//!   Retell's `{"status": "error", "message"}` body.
//! - Hang: the request is accepted and never answered.
//! - Commit-then-fail (the changing requests: `PATCH`, publish, new version): the change is
//!   made, then the answer is a 500 or breaks off halfway with the connection.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use tokio::time::Instant;

use super::Shared;
use super::errors::RetellError;
use crate::sim::faults::{Action, ErrorStatus, FailMode, RequestKind, broken};

/// The middleware function; mount with `middleware::from_fn` on the API scope.
pub(super) async fn apply<B: MessageBody + 'static>(
    shared: web::Data<Shared>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let changes = req.method() == Method::PATCH
        || (req.method() == Method::POST
            && (req.path().starts_with("/publish-agent-version/")
                || req.path().starts_with("/create-agent-version/")));
    let kind = if changes {
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
        Action::Fail(status) => Ok(req.into_response(failure(status).error_response())),
        Action::Hang => std::future::pending().await,
        Action::CommitThenFail(mode) => {
            let (req, handled) = next.call(req).await?.map_into_boxed_body().into_parts();
            let reply = match mode {
                FailMode::Status500 => RetellError::Internal.error_response(),
                FailMode::Drop => broken(handled).await?,
            };
            Ok(ServiceResponse::new(req, reply))
        }
    }
}

fn failure(status: ErrorStatus) -> RetellError {
    match status {
        ErrorStatus::InternalServerError => RetellError::Internal,
        ErrorStatus::ServiceUnavailable => RetellError::Unavailable,
        ErrorStatus::TooManyRequests => RetellError::RateLimited,
    }
}
