//! `GET /v2/event-types` (cal-api-version 2024-06-14, calcom.md §3).
//!
//! Filters as `EventTypesController_2024_06_14` applies them: `username` + `eventSlug` → that
//! one event type or `[]`; `username` → the user's public event types; no filter → the key
//! owner's event types, or `[]` for an anonymous caller.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use super::{query_map, reply};
use crate::sim::calcom::auth::Caller;
use crate::sim::calcom::context::Ctx;
use crate::sim::calcom::errors::{CalcomError, Rejection};
use crate::sim::calcom::output;
use crate::sim::calcom::validate::{Violation, query_error};

/// Lists event types for `caller`.
pub(super) async fn list(
    ctx: Ctx,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Rejection> {
    answer(&ctx, &caller, &req).map_err(|e| ctx.reject(e))
}

fn answer(ctx: &Ctx, caller: &Caller, req: &HttpRequest) -> Result<HttpResponse, CalcomError> {
    let query = query_map(req)?;
    let text = |key: &str| query.get(key).and_then(Value::as_str);
    let descending = match text("sortCreatedAt") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            let v = Violation::new(
                "sortCreatedAt",
                "isEnum",
                "sortCreatedAt must be one of the following values: asc, desc",
            );
            return Err(query_error(&[v], &query));
        }
    };
    let owner = match (text("username"), caller) {
        (Some(username), _) => ctx.accounts().by_username(username),
        // Dynamic group events (`usernames`) are not simulated.
        (None, _) if query.contains_key("usernames") => None,
        (None, Caller::Owner(account)) => Some(account.clone()),
        (None, Caller::Anonymous) => None,
    };
    let Some(owner) = owner else {
        return Ok(reply(StatusCode::OK, json!([])));
    };
    let mut types: Vec<_> = owner
        .event_types
        .iter()
        .filter(|e| text("eventSlug").is_none_or(|slug| e.slug == slug))
        .collect();
    // The simulator assigns ids in creation order, so creation order is id order.
    if descending {
        types.reverse();
    }
    let data: Vec<Value> = types
        .into_iter()
        .map(|e| output::event_type(e, &owner.host))
        .collect();
    Ok(reply(StatusCode::OK, json!(data)))
}
