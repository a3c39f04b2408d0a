//! `POST /api/mcp/retell/inbound`: Retell's inbound-call webhook (reference/retell.md §1.6),
//! set as a number's `inbound_webhook_url`. Retell waits 10 s and retries a non-2xx up to
//! three times, then connects the number's own inbound agent (or drops the call when it has
//! none).
//!
//! The request is signed like every Retell request (reference/retell.md §2) and is resolved,
//! verified and replay-guarded by [`authenticate_call`] with the key of the tenant owning
//! `to_number`. The answer is read from our own tables and the in-process lookups only —
//! never from Retell or Cal.com — so it is fast (≤ 20 ms p99 is the target; benches/README.md
//! has the figure). After answering, the branch's free slots are warmed in the background
//! ([`Prefetch`]); the call's `call_started` webhook asks again and finds them warm or in
//! flight.
//!
//! What each caller gets:
//! - **Tenant with an agent**: 200 `{"call_inbound": {"override_agent_id", "dynamic_variables",
//!   "metadata"}}` (variables in [`switchboard_actors::retell::inbound`]).
//! - **Tenant without an agent** (`retell.agent_id` not set): 200 with the variables and no
//!   `override_agent_id`: Retell connects the agent bound to the number in the tenant's own
//!   Retell account — the request is signed with that account's key, so it can never be
//!   another tenant's agent — or rejects the call when none is bound.
//! - **Disabled tenant**: 200 `{"call_inbound": {}}`: no agent named and nothing said about
//!   the business. A non-2xx would make Retell retry and then connect the number's bound agent,
//!   the very thing to avoid; with the empty answer Retell rejects the call when the number
//!   has no bound inbound agent (Retell's documented way to decline calls: leave the number's
//!   inbound agent unset and name the agent here). A number that keeps a bound agent still
//!   reaches it, and its custom functions then answer "not in service" and book nothing.
//! - **Number no branch owns**: 401, exactly as a wrong signature (same body, same HMAC work),
//!   so our numbers cannot be probed. We name no agent; what Retell does after its retries is
//!   the number's own configuration in the account that owns it.
//! - Missing, malformed, stale, replayed or wrong signature (another tenant's key too): 401;
//!   a body that is not `{"event": "call_inbound", "call_inbound": {…}}` or a `to_number` that
//!   is not a phone number: 400; larger than [`MAX_BODY_BYTES`]: 413; our store failing: 503.

use super::AppState;
use super::retell::{RetellError, authenticate_call, parse_body};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use switchboard_actors::domain::ids::CallId;
use switchboard_actors::metric_names as m;
use switchboard_actors::retell::inbound::{self, InboundAnswer};
use switchboard_actors::retell::prefetch::Prefetch;
use switchboard_actors::trace;

/// Largest accepted body: Retell's request is a few hundred bytes (numbers and ids).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Webhook body (reference/retell.md §1.6).
#[derive(Deserialize)]
struct Envelope {
    event: String,
    call_inbound: InboundCall,
}

/// `call_inbound` of the request. `agent_id` and `agent_version` may be present and are not
/// needed: the agent is ours to name, and the answer is the same on every retry. `call_id`,
/// when present, only puts the request's span into the call's trace.
#[derive(Deserialize)]
struct InboundCall {
    from_number: Option<String>,
    to_number: Option<String>,
    call_id: Option<String>,
}

fn count(outcome: &'static str) {
    metrics::counter!(m::INBOUND_CALLS_TOTAL, "outcome" => outcome).increment(1);
}

/// Handles one inbound-call webhook (module docs for every answer).
///
/// # Errors
/// [`RetellError`]: 400 for a body that is not a `call_inbound` webhook, the tenant and
/// signature refusals of [`authenticate_call`] (401, or 400 for a `to_number` that is not a
/// phone number), 503 when our store fails.
pub async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RetellError> {
    let envelope: Envelope = parse_body(&body, "inbound webhook {event, call_inbound}")?;
    if envelope.event != "call_inbound" {
        return Err(RetellError::Malformed(
            "event must be \"call_inbound\" on this endpoint".into(),
        ));
    }
    let call = envelope.call_inbound;
    let route = authenticate_call(&req, &body, call.to_number.as_deref(), &state).await?;
    let company = route.company.id;
    if let Some(call_id) = call
        .call_id
        .as_deref()
        .and_then(|id| CallId::parse(id).ok())
    {
        trace::join_call(&tracing::Span::current(), company, &call_id);
    }
    if route.company.disabled {
        tracing::info!(%company, "inbound call to a disabled tenant: no agent named");
        count("disabled");
        return Ok(HttpResponse::Ok().json(InboundAnswer::refusal()));
    }
    let now = state.clock.now();
    let (services, caller) = futures_util::try_join!(
        state.core.services.services(company),
        inbound::caller(
            state.store.as_ref(),
            &route,
            call.from_number.as_deref(),
            now
        ),
    )
    .map_err(RetellError::TenantLookup)?;
    let services: Vec<_> = services
        .into_iter()
        .filter(|s| s.offered_at(route.branch_id))
        .collect();
    let answer = inbound::answer(&route, &services, caller.as_ref(), now);
    if answer.call_inbound.override_agent_id.is_some() {
        count("agent");
    } else {
        tracing::warn!(%company, "inbound call to a tenant without retell.agent_id: the number's bound agent answers");
        count("no_agent");
    }
    state
        .core
        .prefetch
        .do_send(Prefetch::for_call(&route, &services, now));
    Ok(HttpResponse::Ok().json(answer))
}
