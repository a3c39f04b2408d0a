//! A deadline on reading the request body. actix-web times out a slow request *head*
//! (`client_request_timeout`) and idle keep-alive connections, but nothing bounds the body:
//! a request announcing `Content-Length: 1000` and sending 10 bytes held its connection and a
//! worker's handler open for as long as the client liked. This middleware gives the body
//! [`BodyReadTimeout`] from the moment the handler is reached; when it passes, the read fails
//! and the answer is 408 with `Connection: close`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse};
use futures_util::{Stream, StreamExt};
use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

/// How long a request's body may take to arrive (`server.body_read_timeout_ms`), registered
/// as app data; the middleware does nothing without it.
#[derive(Debug, Clone, Copy)]
pub struct BodyReadTimeout(pub Duration);

/// Middleware (use with `actix_web::middleware::from_fn`).
///
/// # Errors
/// Those of the wrapped service; a body that did not arrive in time is answered 408.
pub async fn middleware<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let Some(BodyReadTimeout(limit)) = req.app_data::<BodyReadTimeout>().copied() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let expired = Rc::new(Cell::new(false));
    let (http_req, payload) = req.into_parts();
    let timed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(deadline(payload, limit, Rc::clone(&expired)));
    let payload = Payload::Stream { payload: timed };
    let res = next
        .call(ServiceRequest::from_parts(http_req, payload))
        .await?;
    if !expired.get() {
        return Ok(res.map_into_left_body());
    }
    tracing::warn!(
        limit_ms = limit.as_millis() as u64,
        "request body not received in time; answered 408"
    );
    let timed_out = HttpResponse::RequestTimeout().force_close().finish();
    Ok(res.into_response(timed_out).map_into_right_body())
}

/// `payload`, failing with `TimedOut` (and setting `expired`) once `limit` has passed.
fn deadline(
    mut payload: Payload,
    limit: Duration,
    expired: Rc<Cell<bool>>,
) -> impl Stream<Item = Result<Bytes, PayloadError>> + 'static {
    let mut timer = Box::pin(tokio::time::sleep(limit));
    futures_util::stream::poll_fn(move |cx| {
        if let Poll::Ready(chunk) = payload.poll_next_unpin(cx) {
            return Poll::Ready(chunk);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        expired.set(true);
        Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            "request body not received in time",
        )))))
    })
}
