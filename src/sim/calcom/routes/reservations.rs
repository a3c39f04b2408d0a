//! `/v2/slots/reservations[/{uid}]` (cal-api-version 2024-09-04, calcom.md §2 "Slot holds"):
//! reserve (201), read, renew (`PATCH`) and release (`DELETE`) a hold on one slot. Auth is
//! optional, but only an authenticated caller may choose `reservationDuration`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Duration;
use serde_json::{Value, json};

use super::{booking_input, json_object, reply};
use crate::sim::calcom::auth::Caller;
use crate::sim::calcom::context::Ctx;
use crate::sim::calcom::errors::{CalcomError, Rejection};
use crate::sim::calcom::holds::{DEFAULT_HOLD_MINUTES, HoldRequest};
use crate::sim::calcom::output;

/// Longest slot or hold worth taking, minutes: a day. Longer ones would overflow `Duration`
/// arithmetic and hold nothing a day-long one does not.
const MAX_MINUTES: i64 = 24 * 60;

/// `POST /v2/slots/reservations` → 201 with the reservation.
pub(super) async fn create(
    ctx: Ctx,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, Rejection> {
    place(&ctx, &caller, &body, None)
        .map(|data| reply(StatusCode::CREATED, data))
        .map_err(|e| ctx.reject(e))
}

/// `GET /v2/slots/reservations/{uid}` → 200, or 404 once released or lapsed.
pub(super) async fn get(
    ctx: Ctx,
    _: Caller,
    uid: web::Path<String>,
) -> Result<HttpResponse, Rejection> {
    match ctx.store().live_hold(&uid, ctx.now()) {
        Some((_, hold)) => Ok(reply(StatusCode::OK, output::reservation(&hold))),
        None => Err(ctx.reject(unknown(&uid))),
    }
}

/// `PATCH /v2/slots/reservations/{uid}` → 200: the hold, moved to the body's slot if it
/// differs, lasts `reservationDuration` from now again.
pub(super) async fn renew(
    ctx: Ctx,
    caller: Caller,
    uid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Rejection> {
    place(&ctx, &caller, &body, Some(&uid))
        .map(|data| reply(StatusCode::OK, data))
        .map_err(|e| ctx.reject(e))
}

/// `DELETE /v2/slots/reservations/{uid}` → 200 `{"status":"success"}`.
pub(super) async fn release(
    ctx: Ctx,
    _: Caller,
    uid: web::Path<String>,
) -> Result<HttpResponse, Rejection> {
    if ctx.store().release(&uid, ctx.now()) {
        Ok(HttpResponse::Ok().json(json!({ "status": "success" })))
    } else {
        Err(ctx.reject(unknown(&uid)))
    }
}

fn unknown(uid: &str) -> CalcomError {
    CalcomError::NotFound(format!("Reserved slot with uid={uid} not found"))
}

/// Makes (or, with `existing`, renews) the hold the body asks for.
fn place(
    ctx: &Ctx,
    caller: &Caller,
    body: &[u8],
    existing: Option<&str>,
) -> Result<Value, CalcomError> {
    let input = booking_input::reservation(&json_object(body)?)?;
    if input.hold_minutes.is_some() && *caller == Caller::Anonymous {
        return Err(CalcomError::Unauthorized(
            "reservationDuration can only be used for authenticated requests".into(),
        ));
    }
    let Some((event_type, owner)) = ctx.accounts().event_type(input.event_type_id) else {
        return Err(CalcomError::NotFound(format!(
            "Event Type with ID={} not found",
            input.event_type_id
        )));
    };
    if let Some(uid) = existing {
        match ctx.store().live_hold(uid, ctx.now()) {
            Some((host, _)) if host == owner.host.id => {}
            Some(_) => {
                return Err(CalcomError::BadRequest(
                    "A reservation cannot move to another user's event type".into(),
                ));
            }
            None => return Err(unknown(uid)),
        }
    }
    let slot = input
        .slot_minutes
        .unwrap_or(i64::from(event_type.minutes))
        .min(MAX_MINUTES);
    let hold_minutes = input
        .hold_minutes
        .unwrap_or(i64::from(DEFAULT_HOLD_MINUTES))
        .min(MAX_MINUTES);
    let request = HoldRequest {
        event_type_id: event_type.id,
        start: input.slot_start,
        end: input.slot_start + Duration::minutes(slot),
        hold_minutes: u32::try_from(hold_minutes).unwrap_or(DEFAULT_HOLD_MINUTES),
    };
    let hold = ctx
        .store()
        .hold(owner.host.id, request, existing, &owner.schedule, ctx.now())?;
    Ok(output::reservation(&hold))
}
