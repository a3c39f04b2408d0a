//! `sms` jobs: a text message to a caller, sent with the tenant's SMS settings.
//!
//! The settings are read when the job runs, not when it was enqueued: a tenant that removed
//! them meanwhile sends nothing (dead letter saying so), and a replaced auth token is used at
//! once. Transient refusals (transport, 429, 5xx) are retried by the outbox; a refused number
//! or credential is a dead letter, visible in `queue.getFailedJobs`.

use super::{Failure, JobDeps, classify, tenant_of};
use crate::metric_names as m;
use crate::records::{Job, SmsJobPayload};

/// One attempt of a `sms` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let payload: SmsJobPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| Failure::Permanent(format!("unreadable job payload: {e}")))?;
    let result = send(deps, job, &payload).await;
    let status = match &result {
        Ok(()) => "sent",
        Err(Failure::Retry(..)) if job.attempts < job.max_attempts => "retry",
        Err(_) => "dead_letter",
    };
    metrics::counter!(m::SMS_TOTAL, "status" => status).increment(1);
    result
}

async fn send(deps: &JobDeps, job: &Job, payload: &SmsJobPayload) -> Result<(), Failure> {
    // The job row's company is the one the outbox claimed it for; a payload naming another
    // would send with that company's account.
    if payload.company_id != job.company_id {
        return Err(Failure::Permanent(format!(
            "payload names company {} but the job belongs to company {}",
            payload.company_id, job.company_id
        )));
    }
    let tenant = tenant_of(&deps.tenants, payload.company_id).await?;
    let Some(settings) = &tenant.profile.sms else {
        return Err(Failure::Permanent(format!(
            "company {} has no SMS settings any more; the text was not sent",
            payload.company_id
        )));
    };
    let notifier = deps.notifiers.for_settings(settings).map_err(|e| {
        Failure::Permanent(format!(
            "no SMS client for company {}: {e}",
            payload.company_id
        ))
    })?;
    match notifier.send_sms(&payload.message).await {
        Ok(sent) => {
            deps.store
                .complete_job(job.id, &[])
                .await
                // The text is out: a retry would send it again, so the job ends here (as a
                // dead letter saying so) rather than texting the caller twice.
                .map_err(|e| {
                    Failure::Permanent(format!(
                        "sent as {} but recording it failed ({e}); not sent again",
                        sent.sid
                    ))
                })?;
            tracing::info!(job = job.id, company = %payload.company_id, sid = %sent.sid, status = %sent.status, "sms sent");
            Ok(())
        }
        Err(e) => Err(classify(&e)),
    }
}
