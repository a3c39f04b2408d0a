//! `/v2/bookings/**` (cal-api-version 2024-08-13, calcom.md §4): create (201), list (auth
//! required), get, reschedule (201) and cancel (200). Auth is optional everywhere but the
//! list: a booking uid is its own capability.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{booking_input, booking_list, json_object, query_map, reply};
use crate::sim::calcom::auth::Caller;
use crate::sim::calcom::context::Ctx;
use crate::sim::calcom::errors::{CalcomError, Rejection};
use crate::sim::calcom::output;
use crate::sim::calcom::webhooks::{self, Trigger};

/// `POST /v2/bookings` → 201 with the new booking.
pub(super) async fn create(
    ctx: Ctx,
    _: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let (new, owner) = booking_input::create(&json_object(&body)?)?.resolve(ctx.accounts())?;
        let booking = ctx.store().create(new, &owner.schedule, ctx.now())?;
        ctx.webhooks()
            .emit(Trigger::Created, &booking, Map::new(), ctx.now());
        Ok(output::booking(&booking))
    };
    run()
        .map(|data| reply(StatusCode::CREATED, data))
        .map_err(|e| ctx.reject(e))
}

/// `GET /v2/bookings` → the key owner's bookings matching the filters, with `pagination`.
pub(super) async fn list(
    ctx: Ctx,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let host = caller.require_owner()?.host.id;
        let query = booking_list::parse(&query_map(&req)?)?;
        let mut own = ctx.store().all();
        own.retain(|b| b.host.id == host);
        let (page, total) = query.apply(own, ctx.now());
        let pagination = output::pagination(query.skip(), query.take(), page.len(), total);
        let data: Vec<Value> = page.iter().map(output::booking).collect();
        Ok(json!({ "status": "success", "data": data, "pagination": pagination }))
    };
    run()
        .map(|body| HttpResponse::Ok().json(body))
        .map_err(|e| ctx.reject(e))
}

/// `GET /v2/bookings/{uid}` → 200, or 404 for an unknown uid.
pub(super) async fn get(
    ctx: Ctx,
    _: Caller,
    uid: web::Path<String>,
) -> Result<HttpResponse, Rejection> {
    match ctx.store().get(&uid) {
        Some(booking) => Ok(reply(StatusCode::OK, output::booking(&booking))),
        None => Err(ctx.reject(CalcomError::NotFound(format!(
            "Booking with uid={uid} was not found in the database"
        )))),
    }
}

/// `POST /v2/bookings/{uid}/reschedule` → 201 with the new booking (new uid,
/// `rescheduledFromUid`); the old one is cancelled with `rescheduledToUid`.
pub(super) async fn reschedule(
    ctx: Ctx,
    caller: Caller,
    uid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let change = booking_input::reschedule(&json_object(&body)?)?;
        let by = change.by.clone().or_else(|| caller.email());
        let new = ctx
            .store()
            .reschedule(&uid, change, ctx.accounts(), ctx.now())?;
        if let Some(old) = ctx.store().get(&uid) {
            let extra = webhooks::rescheduled_fields(&old, by.as_deref());
            ctx.webhooks()
                .emit(Trigger::Rescheduled, &new, extra, ctx.now());
        }
        Ok(output::booking(&new))
    };
    run()
        .map(|data| reply(StatusCode::CREATED, data))
        .map_err(|e| ctx.reject(e))
}

/// `POST /v2/bookings/{uid}/cancel` → 200 with the cancelled booking (`@HttpCode(200)`).
pub(super) async fn cancel(
    ctx: Ctx,
    caller: Caller,
    uid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let reason = booking_input::cancel(&json_object(&body)?)?;
        let cancelled = ctx
            .store()
            .cancel(&uid, reason, caller.email(), ctx.now())?;
        let extra = webhooks::cancelled_fields(&cancelled);
        ctx.webhooks()
            .emit(Trigger::Cancelled, &cancelled, extra, ctx.now());
        Ok(output::booking(&cancelled))
    };
    run()
        .map(|data| reply(StatusCode::OK, data))
        .map_err(|e| ctx.reject(e))
}
