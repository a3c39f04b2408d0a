//! `POST /__sim/calls`: the simulator learns a call our sandbox made (`switchboard replay`
//! posts each call it played, as Retell would hold it after the call). Not part of Retell's
//! API: no auth, no faults, and errors as `{"error": "<text>"}` like the other `/__sim/…`
//! endpoints.

use actix_web::{HttpResponse, Resource, ResponseError, web};
use serde_json::{Value, json};

use super::Shared;
use super::routes::{MAX_BODY_BYTES, record};

/// Path of the endpoint.
pub const CALLS_PATH: &str = "/__sim/calls";

/// The [`CALLS_PATH`] resource.
///
/// `POST` with a call object (reference/retell.md §1.3) → 201 `{"call_id"}`; the call is
/// stored under the account owning its `to_number` (else its `agent_id`), replacing an
/// earlier one of the same `call_id`, and is then listed and served by `list-calls` and
/// `get-call`. 400 for a body that is not such an object or has no `call_id`, 422 when no
/// account owns the number or agent, 413 for a body over 256 KiB or a new call when the
/// account holds [`super::store::MAX_CALLS`] calls.
pub(super) fn resource(shared: web::Data<Shared>) -> Resource {
    web::resource(CALLS_PATH)
        .app_data(shared)
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .route(web::post().to(post))
}

async fn post(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let call = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(call)) => call,
        _ => {
            return HttpResponse::BadRequest()
                .json(json!({"error": "the body must be a call object"}));
        }
    };
    match record(&shared, call) {
        Ok(call_id) => HttpResponse::Created().json(json!({ "call_id": call_id })),
        Err(e) => HttpResponse::build(e.status_code()).json(json!({"error": e.to_string()})),
    }
}
