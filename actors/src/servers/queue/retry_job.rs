//! `queue.retryJob`: puts one dead letter back in the outbox.

use super::QueueDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::outbox::Wake;
use crate::records::{JobStatus, JobView, RetryOutcome, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// `queue.retryJob`.
pub struct RetryJob;

/// Params of `queue.retryJob`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryJobParams {
    /// The dead letter to retry (`id` from `queue.getFailedJobs`).
    pub job_id: i64,
    /// Defaults to the token's company. A job of another company is reported as not found.
    pub company_id: Option<CompanyId>,
}

impl Method for RetryJob {
    const NAME: &'static str = "queue.retryJob";
    const SUMMARY: &'static str = "Puts one dead letter (a failed outbox job, `id` from \
        queue.getFailedJobs) back in the outbox: pending, due now, attempts reset to 0, and \
        runs it at once. Only failed jobs can be retried; any other status is refused with \
        -32602 `job_not_failed`, an unknown id with -32602 `not_found`. Returns the requeued \
        job; its `last_error` stays until the next attempt.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Write;
    type Deps = QueueDeps;
    type Params = RetryJobParams;
    type Output = JobView;

    /// # Errors
    /// 3004 when the store fails; -32602 with `data.type = "not_found"` for a job that does
    /// not exist (or belongs to another company), and with `data.type = "job_not_failed"`
    /// naming the status for a job that is not a dead letter.
    async fn apply(
        p: RetryJobParams,
        grant: TokenGrant,
        deps: Arc<QueueDeps>,
    ) -> Result<Reply<JobView>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let outcome = deps
            .store
            .retry_job(p.job_id, company, deps.clock.now())
            .await
            .map_err(|e| store_error(&e))?;
        let job = match outcome {
            RetryOutcome::Requeued(job) => job,
            RetryOutcome::NotFound => return Err(job_not_found(p.job_id)),
            RetryOutcome::NotFailed(status) => return Err(job_not_failed(p.job_id, status)),
        };
        deps.outbox.do_send(Wake);
        Reply::fresh(job)
    }
}

/// -32602 with its own `data.type`, so clients can tell "no such job" from bad params.
fn invalid_params_of(kind: &str, details: String) -> RpcError {
    RpcError {
        data: Some(json!({ "type": kind, "details": details })),
        ..RpcError::invalid_params("")
    }
}

fn job_not_found(job_id: i64) -> RpcError {
    invalid_params_of("not_found", format!("no job with id {job_id}"))
}

fn job_not_failed(job_id: i64, status: JobStatus) -> RpcError {
    invalid_params_of(
        "job_not_failed",
        format!(
            "job {job_id} is {}; only failed jobs (dead letters) can be retried",
            status.as_str()
        ),
    )
}
