//! `POST /api/mcp/gateway`: JSON-RPC 2.0 (single and batch) behind bearer-token auth.
//! HTTP mapping (the spec has none): 200 with the reply body, 204 when only notifications were
//! sent, 401 with a JSON-RPC error (-32001) when the token is missing or unknown, and 429 with
//! `Retry-After` (seconds, RFC 9110 §10.2.3) and the -32003 reply when a single request was
//! refused by a rate limit. A batch stays 200 and answers rate limits per element: its other
//! elements may have run.

use super::AppState;
use super::auth::{AuthError, authenticate};
use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::cell::Cell;
use std::rc::Rc;
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
    // `retry_after` of the last call refused by a rate limit; the handler runs on one worker
    // thread, so a `Cell` shared with the dispatch futures is enough.
    let limited: Rc<Cell<Option<u64>>> = Rc::default();
    let reply = process(&body, &state.rpc_limits, |request| {
        let router = router.clone();
        let grant = grant.clone();
        let limited = Rc::clone(&limited);
        async move {
            let outcome = router
                .send(Dispatch {
                    request,
                    grant,
                    span: tracing::Span::current(),
                })
                .await
                .unwrap_or_else(|e| Err(RpcError::internal(format!("router unavailable: {e}"))));
            if let Err(e) = &outcome
                && e.code == ErrorCode::RateLimited.code()
            {
                limited.set(Some(retry_after_s(e)));
            }
            outcome
        }
    })
    .await;
    match reply {
        Some(reply) => {
            let mut response = match limited.get().filter(|_| !is_batch(&body)) {
                Some(secs) => {
                    let mut r = HttpResponse::TooManyRequests();
                    r.insert_header((RETRY_AFTER, secs));
                    r
                }
                None => HttpResponse::Ok(),
            };
            response.content_type("application/json").body(reply)
        }
        None => HttpResponse::NoContent().finish(),
    }
}

/// `data.retry_after` of a -32003 error; 1 s if it is missing.
fn retry_after_s(e: &RpcError) -> u64 {
    e.data
        .as_ref()
        .and_then(|d| d.get("retry_after"))
        .and_then(Value::as_u64)
        .unwrap_or(1)
}

/// Whether `body` is a JSON array (a batch), judged by its first non-blank byte as JSON-RPC's
/// own parse would.
fn is_batch(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}
