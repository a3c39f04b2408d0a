//! Bearer auth in front of `/mcp` (MCP 2025-11-25 `basic/authorization`, reference/mcp.md
//! §3.4): the gateway's tokens and scopes. A request without a token, or with an unknown one,
//! gets 401 with `WWW-Authenticate: Bearer resource_metadata="…"` pointing at the RFC 9728
//! metadata (and `error="invalid_token"` when a token was sent), and a JSON-RPC error body
//! without `id`; a failed token lookup gets 503. An admitted request carries its
//! [`TokenGrant`] in the request extensions, which the rmcp bridge hands to the MCP server.

use super::McpAccess;
use crate::http::AppState;
use crate::http::auth::{AuthError, authenticate};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use serde_json::json;

/// The `WWW-Authenticate` value of a 401: the Bearer scheme, the metadata URL, and for a
/// token that was sent but not accepted, `error="invalid_token"` (RFC 6750 §3.1).
pub fn challenge(access: &McpAccess, token_sent: bool) -> String {
    let mut value = format!(
        r#"Bearer realm="switchboard", resource_metadata="{}""#,
        access.metadata_url()
    );
    if token_sent {
        value.push_str(r#", error="invalid_token", error_description="unknown or revoked token""#);
    }
    value
}

fn refuse(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response.content_type("application/json");
    response
}

fn body(code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}}).to_string()
}

/// Middleware on the `/mcp` scope: authenticates, or answers 401 / 503 itself.
///
/// # Errors
/// Only what the inner service returns.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (Some(state), Some(access)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.app_data::<web::Data<McpAccess>>().cloned(),
    ) else {
        let response = HttpResponse::InternalServerError().finish();
        return Ok(req.into_response(response));
    };
    match authenticate(req.request(), state.store.as_ref(), &state.lookups).await {
        Ok(grant) => {
            req.extensions_mut().insert(grant);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
        Err(AuthError::Store(e)) => {
            tracing::error!(error = %e, "token lookup failed");
            let message = "token lookup unavailable";
            let response = refuse(StatusCode::SERVICE_UNAVAILABLE).body(body(-32603, message));
            Ok(req.into_response(response))
        }
        Err(e) => {
            let sent = matches!(e, AuthError::Unknown);
            let message = e.to_string();
            let response = refuse(StatusCode::UNAUTHORIZED)
                .insert_header((WWW_AUTHENTICATE, challenge(&access, sent)))
                .body(body(-32001, &message));
            Ok(req.into_response(response))
        }
    }
}
