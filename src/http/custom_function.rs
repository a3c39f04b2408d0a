//! `POST /api/mcp/retell/custom-function` (body `{name, call, args}`, reference/retell.md §3.1)
//! and `POST /api/mcp/retell/custom-function/{name}` (the same body, or — for tools with
//! `args_at_root` — the args alone, with the call named in the query: `?call_id=…&to_number=…`).
//! Signed like webhooks. The reply is JSON with a spoken `message`, within the function
//! deadline: on timeout the agent gets a spoken fallback instead of silence, and a company over
//! its custom-function rate limit gets a spoken "one moment" (200, never a 5xx, which Retell
//! would retry into the same limit).

use super::AppState;
use super::retell::{RetellError, authenticate_call, parse_body, parse_call};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchboard_actors::call::context::ContextError;
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::functions::FunctionError;
use switchboard_actors::ratelimit::{Bucket, admit};
use switchboard_actors::servers::retell_function::ExecuteFunction;

#[derive(Deserialize)]
struct Envelope {
    name: Option<String>,
    call: Value,
    #[serde(default)]
    args: Map<String, Value>,
}

/// Query of an args-at-root call.
#[derive(Deserialize)]
pub struct CallQuery {
    call_id: Option<String>,
    to_number: Option<String>,
    from_number: Option<String>,
}

fn fallback(locale: Locale, timeout: bool) -> Value {
    let message = match (locale, timeout) {
        (Locale::De, true) => {
            "Einen Moment bitte, das dauert gerade länger. Ich notiere Ihren Wunsch und wir melden uns mit der Bestätigung."
        }
        (Locale::De, false) => {
            "Entschuldigung, da ist bei mir etwas schiefgelaufen. Ich notiere Ihren Wunsch und wir melden uns bei Ihnen."
        }
        (Locale::En, true) => {
            "One moment please, this is taking longer than usual. I'll note your request and we'll get back to you with a confirmation."
        }
        (Locale::En, false) => {
            "Sorry, something went wrong on my side. I'll note your request and we'll get back to you."
        }
    };
    json!({"success": false, "fallback": true, "timeout": timeout, "message": message})
}

/// The reply of a custom function refused by the company's rate limit: short enough to speak
/// while the caller waits, asking them to hold on so the agent's next attempt can pass.
fn hold_on(locale: Locale, retry_after_s: u64) -> Value {
    let message = match locale {
        Locale::De => {
            "Einen kleinen Moment bitte, ich habe gerade sehr viele Anfragen. Versuchen wir es gleich noch einmal."
        }
        Locale::En => {
            "One moment please, I'm handling a lot of requests right now. Let's try that again in a moment."
        }
    };
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
    let locale = route.company.locale;
    let call_id = call.call_id.clone();
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
/// As [`handle`]; also 400 when the path and body name different functions, or an args-at-root
/// call has no `call_id` in the query.
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
    let Value::Object(args) = value else {
        return Err(RetellError::Malformed("args must be a JSON object".into()));
    };
    let q = query.into_inner();
    let call_id = q.call_id.ok_or_else(|| {
        RetellError::Malformed("args-at-root calls need ?call_id=…&to_number=… in the URL".into())
    })?;
    let call = json!({"call_id": call_id, "to_number": q.to_number, "from_number": q.from_number, "direction": "inbound"});
    run(req, body, name, call, args, state).await
}
