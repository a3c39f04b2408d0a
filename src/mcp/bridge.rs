//! Serves rmcp's Streamable HTTP service (an `http`-crate request → response function that
//! makes every wire decision) from an actix-web handler: the request's method, URI, headers
//! and streamed body go in as an `http::Request`, the response (JSON or an SSE stream) comes
//! back streamed. The request's [`TokenGrant`] rides in the request's extensions.
//!
//! Why not `rmcp-actix-web` (reference/mcp.md §4.5 suggested it): it turns on serde_json's
//! `preserve_order` for the whole dependency tree, which changes the key order of every JSON
//! object this service builds and reads (24 of our tests compare key lists); and all it adds
//! over this file is a builder. Its bridging approach (a bounded channel feeding the body in) is
//! the one used here.
//!
//! `Authorization` is removed before rmcp sees the request: the token is never passed on
//! (MCP forbids token passthrough), only the grant the guard derived from it.

use actix_web::error::{ErrorBadRequest, PayloadError};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body::Frame;
use http_body_util::{BodyDataStream, StreamBody};
use rmcp::transport::streamable_http_server::StreamableHttpService;
use switchboard_actors::records::TokenGrant;
use tokio_stream::wrappers::ReceiverStream;

use super::handler::McpServer;
use super::sessions::BoundedSessions;

/// rmcp's service as mounted here.
pub type Service = StreamableHttpService<McpServer, BoundedSessions>;

/// Chunks of the request body buffered between actix and rmcp.
const BODY_CHANNEL_CAPACITY: usize = 8;

fn headers(from: &actix_web::http::header::HeaderMap) -> http::HeaderMap {
    let mut to = http::HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        if name == actix_web::http::header::AUTHORIZATION || name.as_str() == "x-mcp-token" {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            to.append(name, value);
        }
    }
    to
}

fn body(
    mut payload: web::Payload,
) -> StreamBody<ReceiverStream<Result<Frame<Bytes>, PayloadError>>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(BODY_CHANNEL_CAPACITY);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            if sender.send(chunk.map(Frame::data)).await.is_err() {
                break;
            }
        }
    });
    StreamBody::new(ReceiverStream::new(receiver))
}

/// The actix handler of `/mcp` (every method: rmcp answers 405 itself where due).
///
/// # Errors
/// 400 for a method or URI the `http` crate cannot represent.
pub async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    service: web::Data<Service>,
) -> actix_web::Result<HttpResponse> {
    let method = http::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ErrorBadRequest("unsupported HTTP method"))?;
    let uri = http::Uri::try_from(req.uri().to_string())
        .map_err(|_| ErrorBadRequest("unsupported request URI"))?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    if let Some(h) = builder.headers_mut() {
        *h = headers(req.headers());
    }
    let mut request = builder
        .body(body(payload))
        .map_err(|_| ErrorBadRequest("malformed request"))?;
    if let Some(grant) = req.extensions().get::<TokenGrant>().cloned() {
        request.extensions_mut().insert(grant);
    }
    let deleting = req.method() == actix_web::http::Method::DELETE;
    let (parts, body) = service.handle(request).await.into_parts();
    let status = match actix_web::http::StatusCode::from_u16(parts.status.as_u16()) {
        // rmcp accepts a session's DELETE with 202; the MCP clients (the Python SDK among
        // them) expect 200 or 204 for an ended session and log 202 as a failure.
        Ok(actix_web::http::StatusCode::ACCEPTED) if deleting => {
            actix_web::http::StatusCode::NO_CONTENT
        }
        Ok(status) => status,
        Err(_) => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.append_header((name, value));
        }
    }
    Ok(response.streaming(BodyDataStream::new(body)))
}
