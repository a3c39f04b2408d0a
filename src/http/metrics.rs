//! `GET /api/metrics` (Prometheus text format, behind an admin or `metrics`-scope bearer
//! token: the labels name companies and upstreams) and the middleware that counts and times every
//! HTTP request by route pattern.

use super::AppState;
use super::auth::{OperatorAuthError, authorize_operator};
use crate::telemetry;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};
use std::time::Instant;
use switchboard_actors::metric_names as m;

/// Renders all metrics for a caller with an admin or `metrics`-scope token, the `process_*`
/// metrics read at this moment.
///
/// # Errors
/// [`OperatorAuthError`]: 401 with `WWW-Authenticate: Bearer` without such a token.
pub async fn render(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OperatorAuthError> {
    authorize_operator(&req, state.store.as_ref(), &state.lookups).await?;
    telemetry::process_metrics().collect();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.prometheus.render()))
}

/// Middleware: `http_requests_total{route,status}` and `http_request_duration_seconds{route}`.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    // The pattern, not the path: keeps label cardinality bounded.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let res = next.call(req).await?;
    let status = status_label(res.status().as_u16());
    metrics::counter!(m::HTTP_REQUESTS_TOTAL, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(m::HTTP_REQUEST_DURATION_SECONDS, "route" => route)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// The `status` label of `code` ("200", "404" …) as a `&'static str`: built once for every
/// code HTTP allows (100–999), so a request allocates no label text.
fn status_label(code: u16) -> &'static str {
    static LABELS: std::sync::OnceLock<Box<[String]>> = std::sync::OnceLock::new();
    LABELS
        .get_or_init(|| (0..1000u16).map(|c| c.to_string()).collect())
        .get(usize::from(code))
        .map_or("other", String::as_str)
}
