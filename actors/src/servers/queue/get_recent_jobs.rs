//! `queue.getRecentJobs`: the newest outbox jobs, optionally of one status.

use super::{DEFAULT_LIMIT, MAX_LIMIT, QueueDeps};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::{JobStatus, RecentJob, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `queue.getRecentJobs`.
pub struct GetRecentJobs;

/// Params of `queue.getRecentJobs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecentJobsParams {
    /// Company to list; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
    /// Jobs to return, 1–500; default 50.
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
    /// Only jobs in this status: `pending`, `running`, `done` or `failed`.
    pub status: Option<JobStatus>,
}

/// `result.data` of `queue.getRecentJobs`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RecentJobs {
    /// Jobs, newest (highest id) first.
    pub jobs: Vec<RecentJob>,
}

impl Method for GetRecentJobs {
    const NAME: &'static str = "queue.getRecentJobs";
    const SUMMARY: &'static str = "Lists the newest outbox jobs (e.g. bookings) in any status, or \
        only in one (`pending`, `running`, `done`, `failed`), newest first, with attempts, next \
        run time, lease end and last error. Times are UTC (RFC 3339).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = QueueDeps;
    type Params = RecentJobsParams;
    type Output = RecentJobs;

    async fn apply(
        p: RecentJobsParams,
        grant: TokenGrant,
        deps: Arc<QueueDeps>,
    ) -> Result<Reply<RecentJobs>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let jobs = deps
            .store
            .recent_jobs(company, p.limit.unwrap_or(DEFAULT_LIMIT), p.status)
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(RecentJobs { jobs })
    }
}
