//! What the Retell endpoints share: resolving the business number of a call to its tenant and
//! verifying `X-Retell-Signature` with that tenant's Retell API key, and the JSON error body.

use super::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde_json::json;
use switchboard_actors::domain::tenant::TenantRoute;
use switchboard_actors::retell::signature;
use switchboard_actors::tenant::RouteError;

/// Header Retell signs with (reference/retell.md §2.1).
pub const SIGNATURE_HEADER: &str = "x-retell-signature";

/// A JSON error body `{"error": {"code", "message"}}` with `status`. `code` is one of our
/// DESIGN §5 codes where one fits, else a short name.
pub fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({"error": {"code": code, "message": message.to_string()}}))
}

/// Resolves the tenant of `number` and checks the request's signature over `body`.
pub async fn authenticate_call(
    req: &HttpRequest,
    body: &[u8],
    number: Option<&str>,
    state: &AppState,
) -> Result<TenantRoute, HttpResponse> {
    let route = state
        .lookups
        .route(state.store.as_ref(), number)
        .await
        .map_err(|e| match e {
            RouteError::NoNumber | RouteError::InvalidNumber(_) => {
                error(StatusCode::BAD_REQUEST, "4003", &e)
            }
            RouteError::NotConfigured(_) => error(StatusCode::NOT_FOUND, "1003", &e),
            RouteError::Store(ref s) => {
                tracing::error!(error = %s, "tenant lookup failed");
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "3004",
                    "database unavailable",
                )
            }
        })?;
    let header = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    signature::verify(
        header,
        body,
        route.company.retell_api_key.expose_secret(),
        state.clock.now().timestamp_millis(),
        state.signature_tolerance_ms,
    )
    .map_err(|e| {
        tracing::warn!(company = %route.company.id, error = %e, "rejected Retell signature");
        error(StatusCode::UNAUTHORIZED, "unauthorized", e)
    })?;
    Ok(route)
}
