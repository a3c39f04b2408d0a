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
use crate::ports::StoreError;
use crate::records::{AppointmentStatus, Job, NewJob, RescheduleJobPayload};
use crate::tenant::{Reschedule, TenantHandle};
use chrono::{DateTime, Duration, Utc};

/// One attempt of a `reschedule` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let payload: RescheduleJobPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| Failure::Permanent(format!("unreadable job payload: {e}")))?;
    let tenant = tenant_of(&deps.tenants, payload.company_id).await?;
    let follow_up = run(deps.op(), &tenant, job.attempts, &payload).await?;
    tracing::info!(job = job.id, booking_uid = %payload.booking_uid, "move done");
    complete(deps, job, &follow_up).await
}

/// Moves the booking unless it has been moved already (recorded here, or done by Cal.com
/// without us hearing it), records the move, and returns the SMS job to enqueue with the
/// job's completion. `attempts` counts this one.
pub(crate) async fn run(
    op: OpDeps<'_>,
    tenant: &TenantHandle,
    attempts: u32,
    payload: &RescheduleJobPayload,
) -> Result<Vec<NewJob>, Failure> {
    let row = op
        .store
        .appointment(payload.company_id, &payload.booking_uid)
        .await
        .map_err(|e| Failure::Retry(e.to_string(), None))?;
    if row
        .as_ref()
        .is_some_and(|r| r.status == AppointmentStatus::Rescheduled)
    {
        return Ok(Vec::new());
    }
    let looked_up = if attempts > 1 {
        find_moved(tenant, payload)
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
                Ok(Err(e)) => match find_moved(tenant, payload).await {
                    Ok(Some(found)) => found,
                    _ => return Err(classify(&e)),
                },
                Err(e) => return Err(session_unavailable(&e)),
            }
        }
    };
    let sms = ops::finish_move(
        op,
        &tenant.profile,
        row.as_ref(),
        &booking,
        payload.confirmation.clone(),
    )
    .await;
    follow_ups(&format!("moved to {}", booking.uid), sms)
}

/// The follow-up jobs (the SMS confirmation) of a change Cal.com made, or a retry when storing
/// it failed: the retry finds the change done and stores it then.
pub(super) fn follow_ups(
    done: &str,
    stored: Result<Option<NewJob>, StoreError>,
) -> Result<Vec<NewJob>, Failure> {
    stored
        .map(|sms| sms.into_iter().collect())
        .map_err(|e| Failure::Retry(format!("{done} but storing failed: {e}"), None))
}

impl JobDeps {
    /// The ports as the appointment operations take them.
    pub(super) fn op(&self) -> OpDeps<'_> {
        OpDeps {
            store: self.store.as_ref(),
            cache: self.cache.as_ref(),
            clock: self.clock.as_ref(),
        }
    }
}

/// The company's session did not take the message (restarting, shutting down): retried.
pub(super) fn session_unavailable(e: &actix::MailboxError) -> Failure {
    Failure::Retry(format!("tenant session unavailable: {e}"), None)
}

/// Marks the job done, enqueueing `follow_up` with it.
pub(super) async fn complete(
    deps: &JobDeps,
    job: &Job,
    follow_up: &[NewJob],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{
        Appointments, CALLER, COMPANY, FakeCal, Fixed, Memory, booking, now, row, tenant,
    };
    use crate::ports::{CalendarApi, SmsMessage};
    use crate::test_clock::paused_system;
    use secrecy::SecretString;
    use std::sync::atomic::Ordering;

    #[test]
    fn reschedule_job_is_idempotent_after_a_lost_answer() {
        paused_system().block_on(async {
            let old_start = now() + Duration::days(2);
            let new_start = now() + Duration::days(3);
            let cal = FakeCal::with(vec![booking("old", CALLER, old_start)]);
            let old = row("old", CALLER, old_start);
            // Cal.com moved it, but the answer never reached us: nothing is recorded.
            let moved = cal
                .reschedule_booking(
                    &SecretString::from("cal_test"),
                    &old.booking_uid,
                    &RescheduleRequest {
                        start: new_start,
                        reason: None,
                        reserved_slot_uid: None,
                    },
                )
                .await
                .unwrap();
            let store = Appointments::default();
            store.rows.lock().unwrap().push(old.clone());
            let cache = Memory::default();
            let op = OpDeps {
                store: &store,
                cache: &cache,
                clock: &Fixed,
            };
            let handle = tenant(cal.clone()).await;
            let payload = RescheduleJobPayload {
                company_id: COMPANY,
                booking_uid: old.booking_uid.clone(),
                start: new_start,
                reason: None,
                confirmation: Some(SmsMessage {
                    to: CALLER.into(),
                    body: "moved".into(),
                }),
            };
            for attempts in [1, 2] {
                let follow_up = run(op, &handle, attempts, &payload)
                    .await
                    .unwrap_or_else(|_| {
                        panic!("attempt {attempts}: a move already made must count as done")
                    });
                let expected = if attempts == 1 { 1 } else { 0 };
                assert_eq!(follow_up.len(), expected, "one confirmation, sent once");
                if let Some(sms) = follow_up.first() {
                    assert_eq!(sms.idempotency_key, format!("sms:moved:{}", moved.uid));
                }
            }
            assert_eq!(
                cal.bookings.lock().unwrap().len(),
                2,
                "no second booking was made"
            );
            let rows = store.rows.lock().unwrap().clone();
            assert_eq!(rows[0].status, AppointmentStatus::Rescheduled);
            assert_eq!(rows[1].booking_uid, moved.uid);
            assert_eq!(
                cal.changes.load(Ordering::SeqCst),
                2,
                "the lost move and the job's one refused try"
            );
        });
    }
}
