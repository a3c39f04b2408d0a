//! `X-Request-Id`: taken from the request when sane, else generated (UUID v4); echoed on every
//! response and recorded on the request's span.
//!
//! The request's span is its log span and, with `telemetry.otlp_endpoint` set, its exported
//! OpenTelemetry span: a server span named `{method} {route}` with the HTTP semantic
//! conventions' attributes (`http.request.method`, `http.route`, `url.path`,
//! `http.response.status_code`; status error on a 5xx). `company_id` and `call_id` are empty
//! until a Retell endpoint has verified the request and put the span into the call's trace
//! ([`switchboard_actors::trace::join_call`]). Never the query: it may hold phone numbers.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;
use tracing::field::Empty;

/// Header carrying the request id.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, readable from handlers via `req.extensions()`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn incoming(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&HEADER)?.to_str().ok()?;
    (!v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| v.to_owned())
}

/// The semantic conventions' span name: `{method} {route}`, the method alone when no route
/// matched (a path is unbounded).
fn span_name(req: &ServiceRequest) -> String {
    match req.match_pattern() {
        Some(route) => format!("{} {route}", req.method()),
        None => req.method().to_string(),
    }
}

/// Middleware (use with `actix_web::middleware::from_fn`).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = incoming(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    // Built only when the span is enabled (tracing evaluates field values then): with logs at
    // `warn` and no traces a request pays for no route lookup or name.
    let span = tracing::info_span!(
        "request",
        otel.name = %span_name(&req),
        otel.kind = "server",
        otel.status_code = Empty,
        request_id = %id,
        http.request.method = %req.method(),
        http.route = req.match_pattern(),
        url.path = %req.path(),
        http.response.status_code = Empty,
        company_id = Empty,
        call_id = Empty,
    );
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status();
    // As an integer attribute: the OpenTelemetry layer exports unsigned values as text.
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    span.in_scope(|| tracing::debug!(status = status.as_u16(), "response"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}
