//! `POST /api/mcp/gateway`: JSON-RPC 2.0 (single and batch) behind bearer-token auth.
//! HTTP mapping (the spec has none): 200 with the reply body, 204 when only notifications were
//! sent, 401 with a JSON-RPC error (-32001) when the token is missing or unknown.

use super::AppState;
use super::auth::{AuthError, authenticate};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use switchboard_actors::jsonrpc::{AppError, ErrorCode, RpcError, process};
use switchboard_actors::router::Dispatch;

fn rpc_error_response(status: StatusCode, err: RpcError) -> HttpResponse {
    HttpResponse::build(status).json(json!({"jsonrpc": "2.0", "error": err, "id": null}))
}

/// Handles one gateway request.
pub async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let grant = match authenticate(&req, state.store.as_ref(), &state.lookups).await {
        Ok(grant) => grant,
        Err(AuthError::Store(e)) => {
            tracing::error!(error = %e, "token lookup failed");
            return rpc_error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                AppError::new(ErrorCode::DatabaseError, "database unavailable").into(),
            );
        }
        Err(e) => {
            return rpc_error_response(
                StatusCode::UNAUTHORIZED,
                AppError::new(ErrorCode::Unauthorized, e.to_string()).into(),
            );
        }
    };
    let router = state.core.router.clone();
    let reply = process(&body, &state.rpc_limits, |request| {
        let router = router.clone();
        let grant = grant.clone();
        async move {
            router
                .send(Dispatch { request, grant })
                .await
                .unwrap_or_else(|e| Err(RpcError::internal(format!("router unavailable: {e}"))))
        }
    })
    .await;
    match reply {
        Some(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        None => HttpResponse::NoContent().finish(),
    }
}
