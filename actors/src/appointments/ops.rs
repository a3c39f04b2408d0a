//! Moving and cancelling a booking through the company's tenant session, and what follows a
//! change Cal.com confirmed: the local record, the cached availability, the SMS confirmation.
//! Used during calls (with a deadline and the outbox as fallback), by the JSON-RPC methods
//! and by the outbox's `reschedule` and `cancel` jobs.

use crate::domain::booking::{Booking, CancelRequest, RescheduleRequest, UpstreamError};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::domain::tenant::CompanyProfile;
use crate::metric_names as m;
use crate::notify;
use crate::outbox::{KIND_CANCEL, KIND_RESCHEDULE, QUEUE_BOOKINGS};
use crate::ports::{AppointmentStore, Cache, Clock, SmsMessage, StoreError};
use crate::records::{
    AppointmentRecord, CancelJobPayload, NewAppointment, NewJob, RescheduleJobPayload,
};
use crate::servers::calcom::forget_availability;
use crate::speech::sms::SmsText;
use crate::tenant::{Cancel, Reschedule, TenantHandle};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// Attempts of the `reschedule`, `cancel` and `sms` jobs enqueued here before they become
/// dead letters (visible in `queue.getFailedJobs`).
pub const JOB_MAX_ATTEMPTS: u32 = 8;

/// What the operations need besides the company's handles.
#[derive(Clone, Copy)]
pub struct OpDeps<'a> {
    /// Appointments and the outbox.
    pub store: &'a dyn AppointmentStore,
    /// Cached free slots, dropped after every change.
    pub cache: &'a dyn Cache,
    /// "Now", UTC: record times and job due times.
    pub clock: &'a dyn Clock,
}

/// The result of a move or cancellation.
#[derive(Clone, Debug, PartialEq)]
pub enum Changed {
    /// Cal.com confirmed: the new booking (move) or the cancelled one.
    Done {
        /// As Cal.com answered it.
        booking: Booking,
        /// An SMS confirmation was enqueued.
        sms: bool,
    },
    /// Cal.com did not answer within the deadline (or failed transiently): job `job_id` in the
    /// outbox does it; `sms`: it sends a confirmation when done.
    Queued {
        /// Row id in `jobs`.
        job_id: i64,
        /// A confirmation will be sent when the job is done.
        sms: bool,
    },
}

/// Why a move or cancellation did not happen (and was not queued).
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Cal.com refused (slot taken, booking already changed, …) or failed without a fallback.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The company's booking session did not take the message.
    #[error("booking session unavailable: {0}")]
    Session(String),
    /// Queueing the fallback job failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The SMS confirmation of `text` for the attendee of `row`, when the company sends them and
/// the number is a mobile one ([`notify::confirmation`]).
fn confirmation(
    profile: &CompanyProfile,
    phone: Option<&str>,
    text: &SmsText,
) -> Option<SmsMessage> {
    phone.and_then(|p| notify::confirmation(profile, p, text))
}

/// An outbox job of `company`, due now.
fn job(
    queue: &str,
    kind: &str,
    company: CompanyId,
    key: String,
    payload: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<NewJob, StoreError> {
    Ok(NewJob {
        queue: queue.to_owned(),
        kind: kind.to_owned(),
        company_id: company,
        call_id: None,
        idempotency_key: key,
        payload: serde_json::to_value(payload).map_err(|e| StoreError::Corrupt {
            table: "jobs",
            message: format!("job payload: {e}"),
        })?,
        max_attempts: JOB_MAX_ATTEMPTS,
        run_at: now,
    })
}

/// Waits for the session's answer, at most `deadline` when given. `None`: no answer in time,
/// or (with a deadline) a failure worth retrying later.
async fn within<M>(
    tenant: &TenantHandle,
    msg: M,
    deadline: Option<Duration>,
) -> Result<Option<Booking>, OpError>
where
    M: actix::Message<Result = Result<Booking, UpstreamError>> + Send + 'static,
    crate::tenant::TenantSession: actix::Handler<M>,
{
    let answer = match deadline {
        Some(d) => match tokio::time::timeout(d, tenant.session.send(msg)).await {
            Ok(answer) => answer,
            Err(_) => return Ok(None),
        },
        None => tenant.session.send(msg).await,
    };
    match answer {
        Ok(Ok(booking)) => Ok(Some(booking)),
        Ok(Err(e)) if deadline.is_some() && e.is_transient() => Ok(None),
        Ok(Err(e)) => Err(OpError::Upstream(e)),
        Err(_) if deadline.is_some() => Ok(None),
        Err(e) => Err(OpError::Session(e.to_string())),
    }
}

/// Puts a change Cal.com could not confirm in time in the outbox (`kind`, key `key`).
async fn queue(
    deps: OpDeps<'_>,
    company: CompanyId,
    kind: &str,
    key: String,
    payload: &impl Serialize,
    sms: bool,
) -> Result<Changed, OpError> {
    let job = job(
        QUEUE_BOOKINGS,
        kind,
        company,
        key,
        payload,
        deps.clock.now(),
    )?;
    let job_id = deps.store.enqueue_job(&job).await?;
    tracing::warn!(%company, job_id, kind, "booking change not confirmed in time; queued");
    Ok(Changed::Queued { job_id, sms })
}

/// Moves `row` to `start` (UTC) through the company's session. With a `deadline`, a move
/// Cal.com cannot confirm in time becomes a `reschedule` job (key
/// `reschedule:<uid>:<start>`), which sends the confirmation when done; without one, every
/// failure is returned. A confirmed move is recorded ([`finish_move`]) before it is reported.
///
/// # Errors
/// Cal.com's refusal (e.g. [`UpstreamError::SlotTaken`]), or any failure without a deadline.
pub async fn reschedule(
    deps: OpDeps<'_>,
    tenant: &TenantHandle,
    row: &AppointmentRecord,
    start: DateTime<Utc>,
    reason: Option<String>,
    deadline: Option<Duration>,
) -> Result<Changed, OpError> {
    counted(
        "reschedule",
        move_booking(deps, tenant, row, start, reason, deadline).await,
    )
}

/// Counts a change in `appointment_changes_total{action, status}`: `done`, `queued`, or
/// `refused` (Cal.com refused, or the store or session failed).
fn counted(action: &'static str, result: Result<Changed, OpError>) -> Result<Changed, OpError> {
    let status = match &result {
        Ok(Changed::Done { .. }) => "done",
        Ok(Changed::Queued { .. }) => "queued",
        Err(_) => "refused",
    };
    metrics::counter!(m::APPOINTMENT_CHANGES_TOTAL, "action" => action, "status" => status)
        .increment(1);
    result
}

async fn move_booking(
    deps: OpDeps<'_>,
    tenant: &TenantHandle,
    row: &AppointmentRecord,
    start: DateTime<Utc>,
    reason: Option<String>,
    deadline: Option<Duration>,
) -> Result<Changed, OpError> {
    let profile = &tenant.profile;
    let uid = &row.booking_uid;
    let text = SmsText::Moved {
        company: profile.name.clone(),
        service: row.service_name.clone(),
        start: start.with_timezone(&profile.time_zone).naive_local(),
    };
    let sms = confirmation(profile, row.attendee_phone.as_deref(), &text);
    let msg = Reschedule {
        uid: uid.clone(),
        request: RescheduleRequest {
            start,
            reason: reason.clone(),
            reserved_slot_uid: None,
        },
    };
    let Some(booking) = within(tenant, msg, deadline).await? else {
        let payload = RescheduleJobPayload {
            company_id: profile.id,
            booking_uid: uid.clone(),
            start,
            reason,
            confirmation: sms.clone(),
        };
        let key = format!("reschedule:{uid}:{}", start.to_rfc3339());
        return queue(
            deps,
            profile.id,
            KIND_RESCHEDULE,
            key,
            &payload,
            sms.is_some(),
        )
        .await;
    };
    let sent = after(
        deps,
        profile.id,
        finish_move(deps, profile, Some(row), &booking, sms).await,
    )
    .await;
    Ok(Changed::Done { booking, sms: sent })
}

/// Cancels `row` through the company's session; a booking Cal.com already shows cancelled
/// counts as done. Deadline and fallback (`cancel` job, key `cancel:<uid>`) as in
/// [`reschedule`].
///
/// # Errors
/// As [`reschedule`].
pub async fn cancel(
    deps: OpDeps<'_>,
    tenant: &TenantHandle,
    row: &AppointmentRecord,
    reason: Option<String>,
    deadline: Option<Duration>,
) -> Result<Changed, OpError> {
    counted(
        "cancel",
        cancel_booking(deps, tenant, row, reason, deadline).await,
    )
}

async fn cancel_booking(
    deps: OpDeps<'_>,
    tenant: &TenantHandle,
    row: &AppointmentRecord,
    reason: Option<String>,
    deadline: Option<Duration>,
) -> Result<Changed, OpError> {
    let profile = &tenant.profile;
    let uid = &row.booking_uid;
    let sms = cancel_confirmation(profile, row);
    let msg = Cancel {
        uid: uid.clone(),
        request: CancelRequest {
            reason: reason.clone(),
        },
    };
    let booking = match within(tenant, msg, deadline).await {
        Ok(Some(booking)) => booking,
        Ok(None) => {
            let payload = CancelJobPayload {
                company_id: profile.id,
                booking_uid: uid.clone(),
                reason,
                confirmation: sms.clone(),
            };
            let key = format!("cancel:{uid}");
            return queue(deps, profile.id, KIND_CANCEL, key, &payload, sms.is_some()).await;
        }
        Err(OpError::Upstream(e)) => match already_cancelled(tenant, uid, &e).await {
            Some(booking) => booking,
            None => return Err(OpError::Upstream(e)),
        },
        Err(e) => return Err(e),
    };
    let finished = finish_cancel(deps, profile, Some(row), &booking, reason.as_deref(), sms).await;
    let sent = after(deps, profile.id, finished).await;
    Ok(Changed::Done { booking, sms: sent })
}

/// The confirmation of cancelling `row`.
pub fn cancel_confirmation(
    profile: &CompanyProfile,
    row: &AppointmentRecord,
) -> Option<SmsMessage> {
    let text = SmsText::Cancelled {
        company: profile.name.clone(),
        service: row.service_name.clone(),
        start: row.start.with_timezone(&profile.time_zone).naive_local(),
    };
    confirmation(profile, row.attendee_phone.as_deref(), &text)
}

/// The booking as Cal.com shows it, when a refusal (`e`: 400 or 404) was because it is
/// already cancelled: a repeated cancellation counts as done. Decided by the booking's
/// status, not by the refusal's text.
pub async fn already_cancelled(
    tenant: &TenantHandle,
    uid: &BookingUid,
    e: &UpstreamError,
) -> Option<Booking> {
    if e.is_transient() || e.is_unauthorized() {
        return None;
    }
    match tenant.calendar.get_booking(uid.clone()).await {
        Ok(b) if b.status == "cancelled" => Some(b),
        _ => None,
    }
}

/// After a confirmed change: enqueues the SMS job `finished` returned. A store failure here
/// is logged, not returned: Cal.com has made the change, and its webhook brings the record
/// in line. Returns whether a confirmation is on its way.
async fn after(
    deps: OpDeps<'_>,
    company: CompanyId,
    finished: Result<Option<NewJob>, StoreError>,
) -> bool {
    match finished {
        Ok(Some(sms)) => match deps.store.enqueue_job(&sms).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(%company, error = %e, "enqueueing the SMS confirmation failed");
                false
            }
        },
        Ok(None) => false,
        Err(e) => {
            tracing::error!(%company, error = %e, "recording a confirmed booking change failed");
            false
        }
    }
}

/// Records a move Cal.com confirmed (`new` replaces `old`, when stored), drops the cached
/// availability of the old and the new day, and returns the SMS job for `sms`.
///
/// # Errors
/// The store's failure; the cache is cleared first either way.
pub async fn finish_move(
    deps: OpDeps<'_>,
    profile: &CompanyProfile,
    old: Option<&AppointmentRecord>,
    new: &Booking,
    sms: Option<SmsMessage>,
) -> Result<Option<NewJob>, StoreError> {
    let tz = profile.time_zone;
    let mut days = vec![new.start.with_timezone(&tz).date_naive()];
    days.extend(old.map(|o| o.start.with_timezone(&tz).date_naive()));
    forget_availability(deps.cache, profile.id, new.event_type_id, &days).await;
    let now = deps.clock.now();
    if let Some(old) = old {
        let appointment = NewAppointment {
            company_id: profile.id,
            branch_id: old.branch_id,
            call_id: old.call_id.clone(),
            booking_uid: new.uid.clone(),
            calcom_booking_id: new.id,
            event_type_id: new.event_type_id,
            service_id: old.service_id,
            service_name: old.service_name.clone(),
            start: new.start,
            end: new.end,
            attendee_name: old.attendee_name.clone(),
            attendee_phone: old.attendee_phone.clone(),
            attendee_email: old.attendee_email.clone(),
            idempotency_key: format!("reschedule:{}:{}", old.booking_uid, new.uid),
            source: old.source.clone(),
        };
        deps.store
            .record_reschedule(profile.id, &old.booking_uid, &appointment, now)
            .await?;
    }
    Ok(sms.map(|m| {
        notify::sms_job(
            profile.id,
            None,
            "moved",
            new.uid.as_str(),
            m,
            JOB_MAX_ATTEMPTS,
            now,
        )
    }))
}

/// Records a cancellation Cal.com confirmed (when stored), drops the cached availability of
/// its day, and returns the SMS job for `sms`.
///
/// # Errors
/// The store's failure.
pub async fn finish_cancel(
    deps: OpDeps<'_>,
    profile: &CompanyProfile,
    row: Option<&AppointmentRecord>,
    booking: &Booking,
    reason: Option<&str>,
    sms: Option<SmsMessage>,
) -> Result<Option<NewJob>, StoreError> {
    let day = booking.start.with_timezone(&profile.time_zone).date_naive();
    forget_availability(deps.cache, profile.id, booking.event_type_id, &[day]).await;
    let now = deps.clock.now();
    if row.is_some() {
        deps.store
            .record_cancellation(profile.id, &booking.uid, reason, now)
            .await?;
    }
    Ok(sms.map(|m| {
        notify::sms_job(
            profile.id,
            None,
            "cancelled",
            booking.uid.as_str(),
            m,
            JOB_MAX_ATTEMPTS,
            now,
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{
        Appointments, CALLER, COMPANY, EVENT_TYPE, FakeCal, Fixed, Memory, booking, now, row,
        tenant,
    };
    use crate::domain::tenant::Locale;
    use crate::records::AppointmentStatus;
    use crate::servers::calcom::availability_key;
    use crate::speech::Catalog;
    use crate::speech::appointments::AppointmentSay;
    use crate::test_clock::paused_system;
    use chrono::Duration as Days;
    use serde_json::json;
    use std::sync::atomic::Ordering;

    const TZ: chrono_tz::Tz = chrono_tz::Europe::Berlin;

    fn day(t: DateTime<Utc>) -> chrono::NaiveDate {
        t.with_timezone(&TZ).date_naive()
    }

    #[test]
    fn confirmed_change_moves_the_booking_in_calcom_and_locally() {
        paused_system().block_on(async {
            let old_start = now() + Days::days(2);
            let new_start = now() + Days::days(3);
            let cal = FakeCal::with(vec![booking("old", CALLER, old_start)]);
            let store = Appointments::default();
            store
                .rows
                .lock()
                .unwrap()
                .push(row("old", CALLER, old_start));
            let cache = Memory::default();
            for d in [day(old_start), day(new_start)] {
                cache
                    .set(
                        &availability_key(COMPANY, EVENT_TYPE, d),
                        json!([]).into(),
                        std::time::Duration::from_secs(300),
                    )
                    .await;
            }
            let deps = OpDeps {
                store: &store,
                cache: &cache,
                clock: &Fixed,
            };
            let handle = tenant(cal.clone()).await;
            let old = row("old", CALLER, old_start);
            let changed = reschedule(
                deps,
                &handle,
                &old,
                new_start,
                None,
                Some(Duration::from_secs(2)),
            )
            .await
            .unwrap();
            let Changed::Done { booking: new, .. } = changed else {
                panic!("expected a confirmed move, got {changed:?}");
            };
            assert_eq!(new.start, new_start);
            let in_calcom = cal.bookings.lock().unwrap().clone();
            assert_eq!(
                in_calcom[0].status, "cancelled",
                "old booking cancelled by the move"
            );
            assert_eq!(in_calcom[1].uid, new.uid);
            let rows = store.rows.lock().unwrap().clone();
            assert_eq!(rows[0].status, AppointmentStatus::Rescheduled);
            assert_eq!(rows[0].rescheduled_to_uid.as_ref(), Some(&new.uid));
            assert_eq!(rows[1].booking_uid, new.uid);
            assert_eq!(rows[1].status, AppointmentStatus::Scheduled);
            for d in [day(old_start), day(new_start)] {
                let key = availability_key(COMPANY, EVENT_TYPE, d);
                assert!(cache.get(&key).await.is_none(), "{key} forgotten");
            }
        });
    }

    #[test]
    fn calcom_timeout_queues_the_change_and_says_so_honestly() {
        paused_system().block_on(async {
            let old_start = now() + Days::days(2);
            let new_start = now() + Days::days(3);
            let cal = FakeCal::with(vec![booking("old", CALLER, old_start)]);
            cal.hang.store(true, Ordering::SeqCst);
            let store = Appointments::default();
            let old = row("old", CALLER, old_start);
            store.rows.lock().unwrap().push(old.clone());
            let cache = Memory::default();
            let deps = OpDeps {
                store: &store,
                cache: &cache,
                clock: &Fixed,
            };
            let handle = tenant(cal.clone()).await;
            let changed = reschedule(
                deps,
                &handle,
                &old,
                new_start,
                Some("by phone".into()),
                Some(Duration::from_secs(2)),
            )
            .await
            .unwrap();
            assert_eq!(
                changed,
                Changed::Queued {
                    job_id: 1,
                    sms: false
                }
            );
            let jobs = store.jobs.lock().unwrap().clone();
            assert_eq!(jobs.len(), 1);
            assert_eq!(jobs[0].kind, KIND_RESCHEDULE);
            assert_eq!(
                jobs[0].idempotency_key,
                format!("reschedule:old:{}", new_start.to_rfc3339())
            );
            let payload: RescheduleJobPayload =
                serde_json::from_value(jobs[0].payload.clone()).unwrap();
            assert_eq!(payload.start, new_start);
            assert_eq!(payload.company_id, COMPANY);
            assert_eq!(
                store.rows.lock().unwrap()[0].status,
                AppointmentStatus::Scheduled,
                "nothing recorded as moved before Cal.com confirmed"
            );
            let local = new_start.with_timezone(&TZ).naive_local();
            let said = AppointmentSay::MoveQueued {
                to: local,
                sms: false,
            };
            for locale in [Locale::De, Locale::En] {
                let text = said.say(locale);
                assert!(
                    !text.contains("Erledigt") && !text.contains("Done"),
                    "{text}"
                );
                assert!(
                    !text.contains("SMS") && !text.contains("text message"),
                    "no confirmation promised: {text}"
                );
            }
            assert!(
                AppointmentSay::MoveQueued {
                    to: local,
                    sms: true
                }
                .say(Locale::De)
                .contains("Bestätigung per SMS")
            );
        });
    }

    #[test]
    fn cancel_frees_the_slot_at_once() {
        paused_system().block_on(async {
            let start = now() + Days::days(2);
            let cal = FakeCal::with(vec![booking("old", CALLER, start)]);
            let store = Appointments::default();
            let old = row("old", CALLER, start);
            store.rows.lock().unwrap().push(old.clone());
            let cache = Memory::default();
            let key = availability_key(COMPANY, EVENT_TYPE, day(start));
            cache
                .set(&key, json!([]).into(), std::time::Duration::from_secs(300))
                .await;
            let deps = OpDeps {
                store: &store,
                cache: &cache,
                clock: &Fixed,
            };
            let handle = tenant(cal.clone()).await;
            let changed = cancel(
                deps,
                &handle,
                &old,
                Some("ill".into()),
                Some(Duration::from_secs(2)),
            )
            .await
            .unwrap();
            assert!(matches!(changed, Changed::Done { .. }), "{changed:?}");
            assert!(
                cache.get(&key).await.is_none(),
                "cached free slots of that day dropped"
            );
            assert_eq!(cal.bookings.lock().unwrap()[0].status, "cancelled");
            let stored = store.rows.lock().unwrap()[0].clone();
            assert_eq!(stored.status, AppointmentStatus::Cancelled);
            assert_eq!(stored.cancellation_reason.as_deref(), Some("ill"));
        });
    }

    #[test]
    fn cancelling_a_booking_already_cancelled_in_calcom_counts_as_done() {
        paused_system().block_on(async {
            let start = now() + Days::days(2);
            let mut cancelled = booking("old", CALLER, start);
            cancelled.status = "cancelled".into();
            let cal = FakeCal::with(vec![cancelled]);
            let store = Appointments::default();
            let old = row("old", CALLER, start);
            store.rows.lock().unwrap().push(old.clone());
            let cache = Memory::default();
            let deps = OpDeps {
                store: &store,
                cache: &cache,
                clock: &Fixed,
            };
            let handle = tenant(cal).await;
            let changed = cancel(deps, &handle, &old, None, None).await.unwrap();
            assert!(matches!(changed, Changed::Done { .. }), "{changed:?}");
            assert_eq!(
                store.rows.lock().unwrap()[0].status,
                AppointmentStatus::Cancelled
            );
        });
    }
}
