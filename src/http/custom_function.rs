//! `POST /api/mcp/retell/custom-function` (body `{name, call, args}`, reference/retell.md §3.1)
//! and `POST /api/mcp/retell/custom-function/{name}` (the same body, or — for tools with
//! `args_at_root` — the args alone, reference/retell.md §3.1). Signed like webhooks.
//!
//! Everything that routes a request is signed: an args-at-root body must name its call in
//! reserved args `call_id` and `to_number` (optional `from_number`), which the deployed tool
//! fills from Retell dynamic variables as `const` parameters (reference/retell.md §3.3). The
//! signature covers only the body, so the query may repeat these values but never supply or
//! change them. The reply is JSON with a spoken `message`, within the function deadline: on
//! timeout the agent gets a spoken fallback instead of silence, and a company over its
//! custom-function rate limit gets a spoken "one moment" (200, never a 5xx, which Retell would
//! retry into the same limit).

use super::AppState;
use super::retell::{RetellError, authenticate_call, parse_body, parse_call};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchboard_actors::call::context::ContextError;
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::functions::{FunctionError, registry};
use switchboard_actors::jsonrpc::json_kind;
use switchboard_actors::ratelimit::{Bucket, Lane, admit};
use switchboard_actors::servers::retell_function::ExecuteFunction;
use switchboard_actors::speech::Catalog;
use switchboard_actors::speech::general::GeneralSay;
use switchboard_actors::trace;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

#[derive(Deserialize)]
struct Envelope {
    name: Option<String>,
    call: Value,
    /// Anything but an object (a string, an array, `null`) reads as no args: the function then
    /// asks the caller for what it needs, in words, instead of Retell hearing a 400.
    #[serde(default, deserialize_with = "args_or_none")]
    args: Map<String, Value>,
}

fn args_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(args) => args,
        other => {
            tracing::warn!(
                args_type = json_kind(&other),
                "custom-function args are not an object; read as none"
            );
            Map::new()
        }
    })
}

/// Query of an args-at-root call: it may repeat the call's routing data from the signed body,
/// and must then agree with it.
#[derive(Deserialize)]
pub struct CallQuery {
    call_id: Option<String>,
    to_number: Option<String>,
    from_number: Option<String>,
}

/// The args reserved for routing an args-at-root call, with the query field repeating each.
const ROUTING_ARGS: [&str; 3] = ["call_id", "to_number", "from_number"];

/// Takes the routing args out of an args-at-root body and builds the call object from them.
///
/// # Errors
/// [`RetellError::Malformed`] when `call_id` or `to_number` is missing or not a string, or the
/// query names a different value than the signed body.
fn call_from_signed_args(
    args: &mut Map<String, Value>,
    query: CallQuery,
) -> Result<Value, RetellError> {
    let repeated = [query.call_id, query.to_number, query.from_number];
    let mut call = Map::new();
    for (name, in_query) in ROUTING_ARGS.into_iter().zip(repeated) {
        let signed = match args.remove(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(value)) => Some(value),
            Some(_) => {
                return Err(RetellError::Malformed(format!(
                    "args-at-root body: {name} must be a string"
                )));
            }
        };
        if in_query.is_some() && in_query != signed {
            return Err(RetellError::Malformed(format!(
                "{name} in the query differs from the signed body; routing data is taken from \
                 the body only"
            )));
        }
        if let Some(value) = signed {
            call.insert(name.to_owned(), Value::String(value));
        }
    }
    if !call.contains_key("call_id") || !call.contains_key("to_number") {
        return Err(RetellError::Malformed(
            "args-at-root requests must carry call_id and to_number in the signed body \
             (declare them as const tool parameters filled from Retell's dynamic variables); \
             the query string is not signed"
                .into(),
        ));
    }
    call.insert("direction".to_owned(), json!("inbound"));
    Ok(Value::Object(call))
}

/// The reply when the function failed or missed Retell's deadline. It promises nothing: what
/// the function was doing may not have happened, so the caller is asked to try again.
fn fallback(locale: Locale, timeout: bool) -> Value {
    let message = GeneralSay::FunctionFailed { timeout }.say(locale);
    json!({"success": false, "fallback": true, "timeout": timeout, "message": message})
}

/// The reply of every custom function of a disabled tenant: nothing is looked up or stored,
/// and the caller is told politely that the line does not take appointments.
fn not_in_service(locale: Locale) -> Value {
    let message = GeneralSay::NotInService.say(locale);
    json!({"success": false, "not_in_service": true, "message": message})
}

/// The reply of a custom function refused by the company's rate limit: short enough to speak
/// while the caller waits, asking them to hold on so the agent's next attempt can pass.
fn hold_on(locale: Locale, retry_after_s: u64) -> Value {
    let message = GeneralSay::HoldOn.say(locale);
    json!({"success": false, "rate_limited": true, "retry_after": retry_after_s, "message": message})
}

async fn run(
    req: HttpRequest,
    body: web::Bytes,
    name: String,
    call: Value,
    args: Map<String, Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RetellError> {
    let call = parse_call(&call)?;
    let route = authenticate_call(&req, &body, call.business_number(), &state).await?;
    let span = tracing::Span::current();
    trace::join_call(&span, route.company.id, &call.call_id);
    // The registry's name, never the request's: span attributes come from a fixed set.
    if let Some(entry) = registry::find(&name) {
        span.set_attribute("switchboard.function", entry.name);
    }
    let locale = route.company.locale;
    let call_id = call.call_id.clone();
    if route.company.disabled {
        tracing::info!(%call_id, function = %name, company = %route.company.id, "custom function for a disabled tenant answered with not in service");
        return Ok(HttpResponse::Ok().json(not_in_service(locale)));
    }
    let limiter = state.core.limiter.as_ref();
    if let Err(denied) = admit(limiter, route.company.id, Bucket::CustomFunction).await {
        tracing::warn!(%call_id, function = %name, company = %route.company.id, retry_after_s = denied.retry_after_secs(), "custom function over the company's rate limit");
        return Ok(HttpResponse::Ok().json(hold_on(locale, denied.retry_after_secs())));
    }
    let msg = ExecuteFunction {
        route,
        call,
        name: name.clone(),
        args,
        lane: Lane::Live,
        span,
    };
    let reply = match state
        .core
        .functions
        .send(msg)
        .timeout(state.function_deadline)
        .await
    {
        Ok(Ok(reply)) => reply,
        Ok(Err(FunctionError::Unknown(_))) => return Err(RetellError::UnknownFunction(name)),
        Ok(Err(FunctionError::Context(ContextError::CrossTenant(_)))) => {
            return Err(RetellError::OtherTenant(call_id));
        }
        // The agent is mid-sentence: anything else is answered with words, not a status.
        Ok(Err(e)) => {
            tracing::error!(%call_id, function = %name, error = %e, "custom function failed");
            fallback(locale, false)
        }
        Err(actix::MailboxError::Timeout) => {
            tracing::warn!(%call_id, function = %name, deadline_ms = state.function_deadline.as_millis() as u64, "custom function deadline passed");
            fallback(locale, true)
        }
        Err(e) => {
            tracing::error!(%call_id, function = %name, error = %e, "function server unavailable");
            fallback(locale, false)
        }
    };
    Ok(HttpResponse::Ok().json(reply))
}

/// `POST /api/mcp/retell/custom-function`.
///
/// # Errors
/// [`RetellError`]: 400 for a body that is not `{name, call, args}`, the tenant and signature
/// refusals of [`authenticate_call`], 404 for an unknown function, 403 for a call of another
/// company.
pub async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RetellError> {
    let envelope: Envelope = parse_body(&body, "custom-function request {name, call, args}")?;
    let name = envelope.name.ok_or_else(|| {
        RetellError::Malformed(
            "missing function name (use /custom-function/{name} for args-at-root tools)".into(),
        )
    })?;
    run(req, body, name, envelope.call, envelope.args, state).await
}

/// `POST /api/mcp/retell/custom-function/{name}`.
///
/// # Errors
/// As [`handle`]; also 400 when the path and body name different functions, when an
/// args-at-root body lacks `call_id` or `to_number`, or when the query names other routing
/// data than the signed body.
pub async fn handle_named(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<CallQuery>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RetellError> {
    let name = path.into_inner();
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| RetellError::Malformed(format!("body is not JSON: {e}")))?;
    if value.get("call").is_some_and(Value::is_object) {
        let envelope: Envelope =
            serde_json::from_value(value).map_err(|e| RetellError::Malformed(e.to_string()))?;
        if envelope.name.as_ref().is_some_and(|n| *n != name) {
            return Err(RetellError::Malformed(
                "function name in the path and the body differ".into(),
            ));
        }
        return run(req, body, name, envelope.call, envelope.args, state).await;
    }
    let Value::Object(mut args) = value else {
        return Err(RetellError::Malformed("args must be a JSON object".into()));
    };
    let call = call_from_signed_args(&mut args, query.into_inner())?;
    run(req, body, name, call, args, state).await
}
