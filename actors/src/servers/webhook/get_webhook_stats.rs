//! `webhook.getWebhookStats`: counters of webhooks, calls, booking jobs and appointments.

use super::WebhookDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::{TokenGrant, WebhookStats};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `webhook.getWebhookStats`.
pub struct GetWebhookStats;

/// Params of `webhook.getWebhookStats`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Company to count; admin tokens may omit it for all companies.
    pub company_id: Option<CompanyId>,
}

impl Method for GetWebhookStats {
    const NAME: &'static str = "webhook.getWebhookStats";
    const SUMMARY: &'static str = "Counts what the Retell webhooks brought in: webhooks by \
        event (call_started, call_ended, call_analyzed), repeated deliveries that were \
        ignored, calls, booking jobs by status (pending, running, done, failed) and \
        appointments stored. For the token's company; an admin token without company_id \
        counts all companies.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = WebhookDeps;
    type Params = StatsParams;
    type Output = WebhookStats;

    async fn apply(
        p: StatsParams,
        grant: TokenGrant,
        deps: Arc<WebhookDeps>,
    ) -> Result<Reply<WebhookStats>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let stats = deps
            .store
            .webhook_stats(company)
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(stats)
    }
}
