//! `GET /v2/event-types` (cal-api-version 2024-06-14, calcom.md §3).
//!
//! Filters as `EventTypesController_2024_06_14` applies them: `username` + `eventSlug` → that
//! one event type or `[]`; `username` → the user's public event types; no filter → the key
//! owner's event types, or `[]` for an anonymous caller.
//!
//! `GET /v2/teams/{teamId}/event-types` (any version, no auth; calcom/cal.com
//! `apps/api/v2/src/modules/teams/event-types/controllers/teams-event-types.controller.ts`):
//! the team's event types, each with `teamId`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{query_map, reply};
use crate::sim::calcom::auth::{Caller, Public};
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

/// The event types of team `team_id`, from the account that has the team; `[]` when no
/// account has it.
pub(super) async fn team(ctx: Ctx, _: Public, team_id: web::Path<String>) -> HttpResponse {
    let team_id = team_id.parse::<i64>().ok();
    let owner = ctx
        .accounts()
        .all()
        .into_iter()
        .find(|a| a.team.as_ref().map(|t| t.id) == team_id && team_id.is_some());
    let data: Vec<Value> = owner
        .iter()
        .flat_map(|a| {
            a.event_types
                .iter()
                .filter(|e| e.team_id.is_some() && e.team_id == team_id)
                .map(|e| {
                    let mut out = output::event_type(e, &a.host);
                    out["teamId"] = json!(e.team_id);
                    out
                })
        })
        .collect();
    reply(StatusCode::OK, json!(data))
}
