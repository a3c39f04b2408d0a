//! The answer of a commit whose connection breaks: shared by the simulators' commit-then-fail
//! faults ([`super::FailMode::Drop`]).

use actix_web::HttpResponse;
use actix_web::body::BodyStream;
use actix_web::web::Bytes;
use futures_util::{StreamExt, stream};
use std::io;

/// `handled` with its status and headers, but a body that stops after its first half with an
/// I/O error. Between the two, the stream yields once, so actix flushes the head and the half
/// to the socket; the error then makes actix close the connection. A client sees the answer
/// start (201, headers) and its body end early: a broken connection, not a malformed body.
pub async fn broken(handled: HttpResponse) -> Result<HttpResponse, actix_web::Error> {
    let (head, body) = handled.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let half = bytes.slice(..bytes.len() / 2);
    let chunks = stream::iter([Ok::<Bytes, io::Error>(half)]).chain(stream::once(async {
        tokio::task::yield_now().await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "simulated fault: connection dropped after the commit",
        ))
    }));
    Ok(head.set_body(BodyStream::new(chunks)).map_into_boxed_body())
}
