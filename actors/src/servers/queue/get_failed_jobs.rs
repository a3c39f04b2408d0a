//! `queue.getFailedJobs`: dead letters, newest first, paged.

use super::{DEFAULT_LIMIT, MAX_LIMIT, QueueDeps};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::{FailedJob, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `queue.getFailedJobs`.
pub struct GetFailedJobs;

/// Params of `queue.getFailedJobs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedJobsParams {
    /// Company to list; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
    /// Jobs per page, 1–500; default 50.
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
    /// Only jobs with a smaller id: the `next_before_id` of the previous page.
    pub before_id: Option<i64>,
}

/// `result.data` of `queue.getFailedJobs`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FailedJobsPage {
    /// Dead letters, newest (highest id) first.
    pub jobs: Vec<FailedJob>,
    /// Pass as `before_id` for the next page; `None` when this page was the last.
    pub next_before_id: Option<i64>,
}

impl Method for GetFailedJobs {
    const NAME: &'static str = "queue.getFailedJobs";
    const SUMMARY: &'static str = "Lists dead letters: outbox jobs (e.g. bookings) that failed \
        every attempt, newest first, each with its last error, attempt counts and a summary of \
        its payload (service, start, attendee name; no contact data). Page with `before_id` = \
        the previous page's `next_before_id`. Times are UTC (RFC 3339).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = QueueDeps;
    type Params = FailedJobsParams;
    type Output = FailedJobsPage;

    async fn apply(
        p: FailedJobsParams,
        grant: TokenGrant,
        deps: Arc<QueueDeps>,
    ) -> Result<Reply<FailedJobsPage>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
        let jobs = deps
            .store
            .failed_jobs(company, limit, p.before_id)
            .await
            .map_err(|e| store_error(&e))?;
        // A short page is the last one; a full page may have more behind it.
        let next_before_id = if jobs.len() == limit as usize {
            jobs.last().map(|job| job.id)
        } else {
            None
        };
        Reply::fresh(FailedJobsPage {
            jobs,
            next_before_id,
        })
    }
}
