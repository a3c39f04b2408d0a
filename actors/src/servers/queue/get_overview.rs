//! `queue.getOverview`: outbox state per queue.

use super::QueueDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::{QueueOverview, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `queue.getOverview`.
pub struct GetOverview;

/// Params of `queue.getOverview`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverviewParams {
    /// Company to show; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
}

impl Method for GetOverview {
    const NAME: &'static str = "queue.getOverview";
    const SUMMARY: &'static str = "Shows the state of the durable outbox (background jobs such as \
        bookings) per queue: job counts by status (pending, running, done, failed), how many \
        pending jobs are due now, the age in seconds of the oldest due job, expired leases, and \
        the next due time. All times are UTC (RFC 3339).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = QueueDeps;
    type Params = OverviewParams;
    type Output = QueueOverview;

    async fn apply(
        p: OverviewParams,
        grant: TokenGrant,
        deps: Arc<QueueDeps>,
    ) -> Result<Reply<QueueOverview>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let overview = deps
            .store
            .queue_overview(company, deps.clock.now())
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(overview)
    }
}
