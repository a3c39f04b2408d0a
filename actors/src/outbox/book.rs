//! `book` jobs: the booking a call confirmed, made once through the company's tenant session.

use super::{Failure, JobDeps, classify, tenant_of};
use crate::domain::booking::{BookingRequest, IDEMPOTENCY_METADATA_KEY};
use crate::metric_names as m;
use crate::notify::{confirmation, sms_job};
use crate::records::{BookingJobPayload, Job, NewAppointment};
use crate::speech::sms::SmsText;
use crate::tenant::{Book, BookOutcome};
use std::collections::BTreeMap;

/// One attempt of a `book` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let store = deps.store.as_ref();
    let payload: BookingJobPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| Failure::Permanent(format!("unreadable job payload: {e}")))?;
    let tenant = tenant_of(&deps.tenants, payload.company_id).await?;
    let reserved_slot_uid = match &payload.reserved_slot_uid {
        Some(uid) => Some(uid.clone()),
        None => late_hold(deps, &payload).await,
    };
    let request = BookingRequest {
        event_type_id: payload.event_type_id,
        start: payload.start,
        attendee: payload.attendee.clone(),
        metadata: BTreeMap::from([
            (
                IDEMPOTENCY_METADATA_KEY.to_owned(),
                payload.idempotency_key.clone(),
            ),
            ("source".to_owned(), "switchboard-phone".to_owned()),
        ])
        .into_iter()
        .chain(
            payload
                .call_id
                .as_ref()
                .map(|c| ("retell_call_id".to_owned(), c.to_string())),
        )
        .collect(),
        length_in_minutes: None,
        reserved_slot_uid: reserved_slot_uid.clone(),
    };
    let book = Book {
        request,
        idempotency_key: payload.idempotency_key.clone(),
        duration_min: payload.duration_min,
        // A retry may follow a booking whose answer was lost or a crash before our commit. A
        // first attempt (also of a re-queued dead letter) creates directly: if a booking of
        // ours exists, Cal.com refuses the taken slot and the session looks it up then.
        look_up_first: job.attempts > 1,
    };
    let outcome = match tenant.session.send(book).await {
        Ok(Ok(outcome)) => outcome,
        // Refused for a hold while we named none: the call's own hold may be landing just now
        // (a function still running when `call_ended` read the call); the next attempt books
        // against it. Any other refusal is what it is.
        Ok(Err(e))
            if e.is_slot_unavailable()
                && reserved_slot_uid.is_none()
                && late_hold(deps, &payload).await.is_some() =>
        {
            return Err(Failure::Retry(
                format!("slot held by this call's own reservation, stored after call_ended: {e}"),
                None,
            ));
        }
        Ok(Err(e)) => return Err(classify(&e)),
        Err(e) => {
            return Err(Failure::Retry(
                format!("tenant session unavailable: {e}"),
                None,
            ));
        }
    };
    let booking = outcome.booking();
    let appointment = NewAppointment {
        company_id: payload.company_id,
        branch_id: Some(payload.branch_id),
        call_id: payload.call_id.clone(),
        booking_uid: booking.uid.clone(),
        calcom_booking_id: booking.id,
        event_type_id: payload.event_type_id,
        service_id: Some(payload.service_id),
        service_name: payload.service_name.clone(),
        start: booking.start,
        end: booking.end,
        attendee_name: payload.attendee.name.clone(),
        attendee_phone: payload.attendee.phone_number.clone(),
        attendee_email: payload.attendee.email.clone(),
        idempotency_key: payload.idempotency_key.clone(),
        source: "phone".to_owned(),
    };
    // The confirmation is enqueued with the appointment, so a stored booking is always
    // confirmed (to a mobile caller of a tenant with SMS settings) and never twice.
    let text = SmsText::Booked {
        company: tenant.profile.name.clone(),
        service: payload.service_name.clone(),
        start: booking
            .start
            .with_timezone(&tenant.profile.time_zone)
            .naive_local(),
    };
    let follow_up: Vec<_> = payload
        .attendee
        .phone_number
        .as_deref()
        .and_then(|phone| confirmation(&tenant.profile, phone, &text))
        .map(|message| {
            sms_job(
                payload.company_id,
                payload.call_id.clone(),
                "booked",
                booking.uid.as_str(),
                message,
                job.max_attempts,
                deps.clock.now(),
            )
        })
        .into_iter()
        .collect();
    store
        .complete_booking_job(job.id, &appointment, &follow_up)
        .await
        // Booked at Cal.com but not stored: the retry finds the booking by key.
        .map_err(|e| {
            Failure::Retry(
                format!("booked as {} but storing failed: {e}", booking.uid),
                None,
            )
        })?;
    // The slot is taken now: the day's cached free slots lose it (and stay warm), and no
    // answer Cal.com gave before the booking is cached after it.
    deps.flights
        .booked(
            &tenant.calendar,
            payload.company_id,
            payload.event_type_id,
            tenant.profile.time_zone,
            booking.start,
            booking.end,
        )
        .await;
    let status = match outcome {
        BookOutcome::Created(_) => "booked",
        BookOutcome::Found(_) => "reused",
    };
    metrics::counter!(m::BOOKING_TOTAL, "status" => status).increment(1);
    metrics::counter!(m::APPOINTMENTS_CREATED_TOTAL, "source" => "phone").increment(1);
    // The job was enqueued at `call_ended`: its age is the caller's wait for the booking.
    let lag = (deps.clock.now() - job.created_at)
        .to_std()
        .unwrap_or_default();
    metrics::histogram!(m::BOOKING_LAG_SECONDS).record(lag.as_secs_f64());
    tracing::info!(job = job.id, call_id = ?payload.call_id, booking_uid = %booking.uid, status, "booking stored");
    Ok(())
}

/// The call's hold of the job's slot when it was stored after `call_ended` read the call (a
/// function still running then), so the job does not carry it; `None` when there is none, or
/// the call data cannot be read (the booking then goes ahead without one).
async fn late_hold(deps: &JobDeps, payload: &BookingJobPayload) -> Option<String> {
    let call_id = payload.call_id.as_ref()?;
    let record = deps
        .store
        .load_call_context(payload.company_id, call_id)
        .await
        .ok()??;
    record
        .collected
        .hold
        .filter(|h| h.covers(payload.event_type_id, payload.start))
        .map(|h| h.uid)
}
