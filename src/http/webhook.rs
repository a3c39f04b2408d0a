//! `POST /api/mcp/retell/webhook` (reference/retell.md §1–2): verify the signature on the raw
//! body, make the event durable (deduplicated on company + event + call_id), answer 204. A 5xx
//! means "not stored" and Retell retries; a call id another company recorded first is 403 and
//! nothing is written. A disabled tenant's webhooks are verified, answered 204 and not recorded.
//! Transfer events and `call_analyzed` also store what they add to the call (the transfer
//! fields, the whole `call_analysis`), shown by `webhook.getCall`. A recorded `call_started`
//! then warms the dialled branch's free slots in the background ([`Prefetch`]).

use super::AppState;
use super::retell::{RetellError, authenticate_call, parse_body, parse_call};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use switchboard_actors::domain::tenant::TenantRoute;
use switchboard_actors::records::WebhookEvent;
use switchboard_actors::retell::prefetch::Prefetch;
use switchboard_actors::servers::webhook::{
    HandleWebhook, TRANSFER_FIELDS, WebhookAck, WebhookError,
};
use switchboard_actors::trace;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Webhook body `{event, call}`; transfer events add `transfer_destination` and
/// `transfer_option` at the top level (reference/retell.md §1.2).
#[derive(Deserialize)]
struct Envelope {
    event: String,
    call: Value,
    transfer_destination: Option<Value>,
    transfer_option: Option<Value>,
}

/// Handles one webhook.
///
/// # Errors
/// [`RetellError`]: 400 for a body that is not a webhook, the tenant and signature refusals of
/// [`authenticate_call`], 403 for a call id of another company, 503 when the event could not
/// be made durable.
pub async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RetellError> {
    let envelope: Envelope = parse_body(&body, "webhook {event, call}")?;
    let call = parse_call(&envelope.call)?;
    let route = authenticate_call(&req, &body, call.business_number(), &state).await?;
    let event = WebhookEvent::parse(&envelope.event);
    let span = tracing::Span::current();
    trace::join_call(&span, route.company.id, &call.call_id);
    // A documented event's wire name or `other`, never the request's text.
    span.set_attribute("switchboard.retell.event", event.as_str().to_owned());
    if route.company.disabled {
        // Accepted so Retell stops retrying; a disabled tenant books nothing and keeps what
        // it had.
        tracing::info!(company = %route.company.id, call_id = %call.call_id, "webhook for a disabled tenant accepted and not recorded");
        return Ok(HttpResponse::NoContent().finish());
    }
    let transfer = TRANSFER_FIELDS
        .into_iter()
        .zip([envelope.transfer_destination, envelope.transfer_option])
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect();
    // Captured before the route moves into the message.
    let warm_up = (event == WebhookEvent::CallStarted).then(|| route.clone());
    let msg = HandleWebhook {
        route,
        event,
        call,
        raw_call: envelope.call,
        transfer,
        span,
    };
    match state.core.webhooks.send(msg).await {
        Ok(Ok(WebhookAck::Recorded { .. })) => {
            if let Some(route) = warm_up {
                prefetch_call(&state, route);
            }
            Ok(HttpResponse::NoContent().finish())
        }
        Ok(Ok(WebhookAck::Duplicate)) => Ok(HttpResponse::NoContent().finish()),
        Ok(Err(WebhookError::ForeignCall(call_id))) => Err(RetellError::OtherTenant(call_id)),
        Ok(Err(e)) => Err(RetellError::WebhookNotStored(e)),
        Err(e) => Err(RetellError::WebhookServerUnavailable(e)),
    }
}

/// After a call's `call_started` was recorded: warms the free slots of the services offered at
/// the dialled branch ([`Prefetch`]), as the inbound-call webhook does when Retell sends one
/// (the second finds the days warm or in flight). The services come from the per-company
/// cache the functions read too. Spawned: the 204 never waits for them, and a failed read only
/// leaves the cache cold.
fn prefetch_call(state: &web::Data<AppState>, route: TenantRoute) {
    let services = Arc::clone(&state.core.services);
    let prefetch = state.core.prefetch.clone();
    let now = state.clock.now();
    actix_web::rt::spawn(async move {
        match services.services(route.company.id).await {
            Ok(services) => prefetch.do_send(Prefetch::for_call(&route, &services, now)),
            Err(e) => {
                tracing::info!(company = %route.company.id, error = %e, "call_started: services unreadable, no availability prefetch");
            }
        }
    });
}
