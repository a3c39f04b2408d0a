//! `GET` and `POST /__sim/accounts`: the run-time control of the simulator's accounts. No
//! auth and no vendor headers: these belong to the simulator, not to the API it imitates.

use actix_web::{HttpResponse, Resource, web};
use serde_json::{Value, json};

use super::Shared;
use super::accounts::{Account, AccountError, AccountInput};

/// Path of the account endpoints.
pub const ACCOUNTS_PATH: &str = "/__sim/accounts";

/// The [`ACCOUNTS_PATH`] resource.
///
/// - `POST` with an [`AccountInput`] → 201 with the account as `GET` lists it (assigned ids
///   included); the same `api_key` again replaces the account's user, event types, hours and
///   team and keeps its bookings. 400 `{"error"}` for a malformed account, 409 `{"error"}`
///   naming the event type id, user id or username another account owns, or when the
///   simulator is full.
/// - `GET` → 200 `[{account without its key}]`.
pub(super) fn resource(shared: web::Data<Shared>) -> Resource {
    web::resource(ACCOUNTS_PATH)
        .app_data(shared)
        .route(web::get().to(list))
        .route(web::post().to(upsert))
}

async fn list(shared: web::Data<Shared>) -> HttpResponse {
    let accounts: Vec<Value> = shared.accounts.all().iter().map(|a| view(a)).collect();
    HttpResponse::Ok().json(accounts)
}

async fn upsert(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let input = match serde_json::from_slice::<AccountInput>(&body) {
        Ok(input) => input,
        Err(e) => {
            return HttpResponse::BadRequest()
                .json(json!({ "error": format!("invalid account: {e}") }));
        }
    };
    match shared.accounts.upsert(input) {
        Ok(account) => HttpResponse::Created().json(view(&account)),
        Err(e @ AccountError::Invalid(_)) => {
            HttpResponse::BadRequest().json(json!({ "error": e.to_string() }))
        }
        Err(e @ (AccountError::Taken(_) | AccountError::Full)) => {
            HttpResponse::Conflict().json(json!({ "error": e.to_string() }))
        }
    }
}

/// An account as the endpoints show it: everything but the API key.
fn view(a: &Account) -> Value {
    json!({
        "user": {
            "id": a.host.id,
            "username": a.host.username,
            "name": a.host.name,
            "email": a.host.email,
            "time_zone": a.host.time_zone.name(),
        },
        "event_types": a.event_types.iter().map(|e| json!({
            "id": e.id,
            "title": e.title,
            "slug": e.slug,
            "length_min": e.minutes,
            "team_id": e.team_id,
        })).collect::<Vec<_>>(),
        "working_hours": a.schedule.hours.to_written(),
        "team": a.team.as_ref().map(|t| json!({ "id": t.id, "slug": t.slug, "name": t.name })),
    })
}
