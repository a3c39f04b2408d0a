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
    const SUMMARY: &'static str = "Counts the Retell webhooks received by event \
        (call_started, call_ended, call_analyzed), duplicate deliveries ignored, calls, \
        booking jobs by status and appointments made, since the database was created.";
    const SCOPE: Scope = Scope::Company;
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
