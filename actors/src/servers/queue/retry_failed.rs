//! `queue.retryFailed`: puts every dead letter since a time back in the outbox.

use super::QueueDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::outbox::Wake;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `queue.retryFailed`.
pub struct RetryFailed;

/// Params of `queue.retryFailed`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryFailedParams {
    /// RFC 3339 instant (any offset); dead letters that failed at or after it are retried.
    pub since: DateTime<Utc>,
    /// Defaults to the token's company. Admin tokens may omit it to retry the dead letters
    /// of all companies.
    pub company_id: Option<CompanyId>,
}

/// `result.data` of `queue.retryFailed`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RetryFailedResult {
    /// Dead letters put back in the outbox.
    pub requeued: u64,
    /// The `since` that was applied, in UTC.
    pub since: DateTime<Utc>,
}

impl Method for RetryFailed {
    const NAME: &'static str = "queue.retryFailed";
    const SUMMARY: &'static str = "Puts every dead letter (failed outbox job) that failed at or \
        after `since` (RFC 3339, any offset) back in the outbox, as queue.retryJob does for \
        one, and runs them at once. Returns how many were requeued and `since` in UTC.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Write;
    type Deps = QueueDeps;
    type Params = RetryFailedParams;
    type Output = RetryFailedResult;

    async fn apply(
        p: RetryFailedParams,
        grant: TokenGrant,
        deps: Arc<QueueDeps>,
    ) -> Result<Reply<RetryFailedResult>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let requeued = deps
            .store
            .retry_failed(company, p.since, deps.clock.now())
            .await
            .map_err(|e| store_error(&e))?;
        if requeued > 0 {
            deps.outbox.do_send(Wake);
        }
        Reply::fresh(RetryFailedResult {
            requeued,
            since: p.since,
        })
    }
}
