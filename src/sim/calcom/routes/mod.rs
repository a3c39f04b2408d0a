//! Mounting: which path answers under which `cal-api-version`, and the 404 for everything
//! else (calcom.md §1).
//!
//! Cal.com routes by version with NestJS custom versioning: a request whose
//! `cal-api-version` is missing or wrong lands on the legacy controllers, which do not have
//! these routes, so Nest's router answers `404 Cannot <METHOD> <url>`. A header guard per
//! resource reproduces that: an unguarded request falls through to the same 404 page.

mod booking_input;
mod booking_list;
mod bookings;
mod event_types;
mod me;
mod reservations;
mod slots;
mod webhooks;

use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, Resource, guard, web};
use serde_json::{Map, Value};

use super::Shared;
use super::context::Ctx;
use super::errors::{CalcomError, Rejection};
use super::{faults, headers};

/// `cal-api-version` of the bookings controller (`BookingsController_2024_08_13`).
const BOOKINGS: &str = "2024-08-13";
/// `cal-api-version` of the slots controller (`SlotsController_2024_09_04`).
const SLOTS: &str = "2024-09-04";
/// `cal-api-version` of the user event types controller (`EventTypesController_2024_06_14`).
const EVENT_TYPES: &str = "2024-06-14";

/// Mounts the simulator in one root scope that applies faults to `/v2/…` requests and
/// stamps the headers of every reply (faulted ones included).
pub(super) fn mount(cfg: &mut web::ServiceConfig, shared: web::Data<Shared>) {
    let counters = shared.clone();
    let fault_state = shared.clone();
    cfg.service(
        web::scope("")
            .app_data(shared)
            // Registered first, so it runs inside the header stamping (actix wraps outward).
            .wrap(from_fn(move |req, next| {
                faults::apply(fault_state.clone(), req, next)
            }))
            .wrap_fn(move |req, srv| {
                let quota = counters
                    .rate
                    .hit(&headers::tracker(&req), counters.clock.now());
                let reply = srv.call(req);
                async move {
                    let mut res = reply.await?;
                    headers::stamp(res.headers_mut(), quota);
                    Ok(res)
                }
            })
            .service(versioned("/v2/slots", SLOTS).route(web::get().to(slots::get)))
            .service(
                versioned("/v2/slots/reservations", SLOTS)
                    .route(web::post().to(reservations::create)),
            )
            .service(
                versioned("/v2/slots/reservations/{uid}", SLOTS)
                    .route(web::get().to(reservations::get))
                    .route(web::patch().to(reservations::renew))
                    .route(web::delete().to(reservations::release)),
            )
            .service(
                versioned("/v2/event-types", EVENT_TYPES).route(web::get().to(event_types::list)),
            )
            // Declared with every known version (`API_VERSIONS_VALUES`), so no guard.
            .service(
                web::resource("/v2/me")
                    .route(web::get().to(me::get))
                    .default_service(web::to(not_found)),
            )
            .service(
                web::resource("/v2/webhooks")
                    .route(web::post().to(webhooks::create))
                    .route(web::get().to(webhooks::list))
                    .default_service(web::to(not_found)),
            )
            .service(
                web::resource("/v2/webhooks/{id}")
                    .route(web::get().to(webhooks::get))
                    .route(web::delete().to(webhooks::delete))
                    .default_service(web::to(not_found)),
            )
            .service(
                web::resource("/v2/teams/{team_id}/event-types")
                    .route(web::get().to(event_types::team))
                    .default_service(web::to(not_found)),
            )
            .service(
                versioned("/v2/bookings", BOOKINGS)
                    .route(web::get().to(bookings::list))
                    .route(web::post().to(bookings::create)),
            )
            .service(versioned("/v2/bookings/{uid}", BOOKINGS).route(web::get().to(bookings::get)))
            .service(
                versioned("/v2/bookings/{uid}/reschedule", BOOKINGS)
                    .route(web::post().to(bookings::reschedule)),
            )
            .service(
                versioned("/v2/bookings/{uid}/cancel", BOOKINGS)
                    .route(web::post().to(bookings::cancel)),
            )
            .default_service(web::to(not_found)),
    );
}

/// A resource that only matches under `version`; other methods on it get the 404 page too,
/// as Nest has no route for them either (actix would say 405).
fn versioned(path: &str, version: &'static str) -> Resource {
    web::resource(path)
        .guard(guard::Header("cal-api-version", version))
        .default_service(web::to(not_found))
}

/// Nest's answer for a route it does not have: `404 Cannot <METHOD> <url>` in the envelope.
async fn not_found(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse, Rejection> {
    let message = format!("Cannot {} {}", req.method(), ctx.url());
    Err(ctx.reject(CalcomError::NotFound(message)))
}

/// A success reply: `{"status":"success","data":…}` with `status`.
fn reply(status: StatusCode, data: Value) -> HttpResponse {
    HttpResponse::build(status).json(super::output::success(data))
}

/// The query string as Express's `req.query` sees a flat query: every value a string, the
/// last of repeated keys winning.
fn query_map(req: &HttpRequest) -> Result<Map<String, Value>, CalcomError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| CalcomError::BadRequest(e.to_string()))?;
    Ok(pairs
        .into_inner()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

/// A JSON request body as Express's `json()` parser and Cal.com's pipes see it: no body is
/// `{}`, broken JSON is the parser's own 400 (a plain `{statusCode, message}`, as it is not a
/// Nest exception), and anything but an object fails the pipe.
fn json_object(body: &[u8]) -> Result<Map<String, Value>, CalcomError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CalcomError::BadRequest("Body should be an object".into())),
        Err(e) => Err(CalcomError::Core {
            status: StatusCode::BAD_REQUEST,
            message: format!("Unexpected token in JSON: {e}"),
        }),
    }
}
