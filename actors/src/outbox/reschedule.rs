//! `reschedule` jobs: a move that could not be confirmed during the call (or asked by staff),
//! done through the company's tenant session; a booking already moved to the new start counts
//! as done.
//!
//! Idempotent after a lost answer: a move Cal.com made without us hearing it (our deadline
//! passed, the connection dropped) leaves the old booking `cancelled` and a new one at the
//! new start. Before moving again on a retry, and whenever Cal.com refuses the move, the job
//! looks for that new booking ([`rules::moved_to`]) and records it instead.

use super::{Failure, JobDeps, classify, tenant_of};
use crate::appointments::ops::{self, OpDeps};
use crate::appointments::rules;
use crate::domain::booking::{Booking, BookingQuery, RescheduleRequest, UpstreamError};
use crate::records::{AppointmentStatus, Job, RescheduleJobPayload};
use crate::tenant::{Reschedule, TenantHandle};
use chrono::{DateTime, Duration, Utc};

/// One attempt of a `reschedule` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let payload: RescheduleJobPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| Failure::Permanent(format!("unreadable job payload: {e}")))?;
    let company = payload.company_id;
    let store = deps.store.as_ref();
    let row = store
        .appointment(company, &payload.booking_uid)
        .await
        .map_err(|e| Failure::Retry(e.to_string(), None))?;
    if row
        .as_ref()
        .is_some_and(|r| r.status == AppointmentStatus::Rescheduled)
    {
        tracing::info!(job = job.id, booking_uid = %payload.booking_uid, "already moved and recorded");
        return complete(deps, job, &[]).await;
    }
    let tenant = tenant_of(&deps.tenants, company).await?;
    let looked_up = if job.attempts > 1 {
        find_moved(&tenant, &payload)
            .await
            .map_err(|e| classify(&e))?
    } else {
        None
    };
    let booking = match looked_up {
        Some(found) => found,
        None => {
            let msg = Reschedule {
                uid: payload.booking_uid.clone(),
                request: RescheduleRequest {
                    start: payload.start,
                    reason: payload.reason.clone(),
                    reserved_slot_uid: None,
                },
            };
            match tenant.session.send(msg).await {
                Ok(Ok(booking)) => booking,
                Ok(Err(e)) if e.is_transient() => return Err(classify(&e)),
                // Refused: perhaps because it was moved already (a lost answer).
                Ok(Err(e)) => match find_moved(&tenant, &payload).await {
                    Ok(Some(found)) => found,
                    _ => return Err(classify(&e)),
                },
                Err(e) => {
                    return Err(Failure::Retry(
                        format!("tenant session unavailable: {e}"),
                        None,
                    ));
                }
            }
        }
    };
    let op = OpDeps {
        store,
        cache: deps.cache.as_ref(),
        clock: deps.clock.as_ref(),
    };
    let sms = ops::finish_move(
        op,
        &tenant.profile,
        row.as_ref(),
        &booking,
        payload.confirmation.clone(),
    )
    .await
    .map_err(|e| {
        Failure::Retry(
            format!("moved to {} but storing failed: {e}", booking.uid),
            None,
        )
    })?;
    tracing::info!(job = job.id, from = %payload.booking_uid, to = %booking.uid, "booking moved");
    complete(deps, job, sms.as_slice()).await
}

/// Marks the job done, enqueueing `follow_up` with it.
pub(super) async fn complete(
    deps: &JobDeps,
    job: &Job,
    follow_up: &[crate::records::NewJob],
) -> Result<(), Failure> {
    deps.store
        .complete_job(job.id, follow_up)
        .await
        .map_err(|e| Failure::Retry(format!("completing the job failed: {e}"), None))
}

/// The booking Cal.com made when it moved `payload.booking_uid` to `payload.start`, if it
/// did: the old booking is `cancelled`, and a booking of the same attendee starts then.
async fn find_moved(
    tenant: &TenantHandle,
    payload: &RescheduleJobPayload,
) -> Result<Option<Booking>, UpstreamError> {
    let old = tenant
        .calendar
        .get_booking(payload.booking_uid.clone())
        .await?;
    if old.status != "cancelled" {
        return Ok(None);
    }
    let candidates = tenant
        .calendar
        .list_bookings(around(&old, payload.start))
        .await?;
    Ok(rules::moved_to(&old, candidates, payload.start))
}

/// Bookings of `old`'s event type around `start`, a minute either side of `old`'s length.
fn around(old: &Booking, start: DateTime<Utc>) -> BookingQuery {
    BookingQuery {
        event_type_id: Some(old.event_type_id),
        after_start: Some(start - Duration::minutes(1)),
        before_end: Some(start + (old.end - old.start) + Duration::minutes(1)),
        take: Some(50),
        ..BookingQuery::default()
    }
}
