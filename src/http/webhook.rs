//! `POST /api/mcp/retell/webhook` (reference/retell.md §1–2): verify the signature on the raw
//! body, make the event durable (deduplicated on event + call_id), answer 204. A 5xx means
//! "not stored" and Retell retries.

use super::AppState;
use super::retell::{authenticate_call, error};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use switchboard_actors::records::WebhookEvent;
use switchboard_actors::retell::call::RetellCall;
use switchboard_actors::servers::webhook::{HandleWebhook, WebhookAck};

/// Webhook body `{event, call}`.
#[derive(Deserialize)]
struct Envelope {
    event: String,
    call: Value,
}

/// Handles one webhook.
pub async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let envelope: Envelope = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("body is not a Retell webhook {{event, call}}: {e}"),
            );
        }
    };
    let call: RetellCall = match serde_json::from_value(envelope.call.clone()) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", format!("call: {e}")),
    };
    let route = match authenticate_call(&req, &body, call.business_number(), &state).await {
        Ok(route) => route,
        Err(response) => return response,
    };
    let event = WebhookEvent::parse(&envelope.event);
    let msg = HandleWebhook {
        route,
        event,
        call,
        raw_call: envelope.call,
    };
    match state.core.webhooks.send(msg).await {
        Ok(Ok(WebhookAck::Recorded { .. } | WebhookAck::Duplicate)) => {
            HttpResponse::NoContent().finish()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "webhook not stored");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "3004",
                "webhook could not be stored; retry",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook server unavailable");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "internal",
                "webhook server unavailable; retry",
            )
        }
    }
}
