//! `cancel` jobs: a cancellation that could not be confirmed during the call (or asked by staff),
//! done through the company's tenant session; an already cancelled booking counts as done.

use super::reschedule::{complete, follow_ups, session_unavailable};
use super::{Failure, JobDeps, classify, tenant_of};
use crate::appointments::ops::{self, OpDeps};
use crate::domain::booking::CancelRequest;
use crate::records::{AppointmentStatus, CancelJobPayload, Job, NewJob};
use crate::tenant::{Cancel, TenantHandle};

/// One attempt of a `cancel` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let payload: CancelJobPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| Failure::Permanent(format!("unreadable job payload: {e}")))?;
    let tenant = tenant_of(&deps.tenants, payload.company_id).await?;
    let follow_up = run(deps.op(), &tenant, &payload).await?;
    tracing::info!(job = job.id, booking_uid = %payload.booking_uid, "cancellation done");
    complete(deps, job, &follow_up).await
}

/// Cancels the booking unless it is cancelled already (recorded here, or shown cancelled by
/// Cal.com), records it, and returns the SMS job to enqueue with the job's completion.
pub(crate) async fn run(
    op: OpDeps<'_>,
    tenant: &TenantHandle,
    payload: &CancelJobPayload,
) -> Result<Vec<NewJob>, Failure> {
    let row = op
        .store
        .appointment(payload.company_id, &payload.booking_uid)
        .await
        .map_err(|e| Failure::Retry(e.to_string(), None))?;
    if row
        .as_ref()
        .is_some_and(|r| r.status == AppointmentStatus::Cancelled)
    {
        return Ok(Vec::new());
    }
    let msg = Cancel {
        uid: payload.booking_uid.clone(),
        request: CancelRequest {
            reason: payload.reason.clone(),
        },
    };
    let booking = match tenant.session.send(msg).await {
        Ok(Ok(booking)) => booking,
        Ok(Err(e)) => match ops::already_cancelled(tenant, &payload.booking_uid, &e).await {
            Some(booking) => booking,
            None => return Err(classify(&e)),
        },
        Err(e) => return Err(session_unavailable(&e)),
    };
    let sms = ops::finish_cancel(
        op,
        &tenant.profile,
        row.as_ref(),
        &booking,
        payload.reason.as_deref(),
        payload.confirmation.clone(),
    )
    .await;
    follow_ups(&format!("cancelled {}", booking.uid), sms)
}
