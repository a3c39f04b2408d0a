//! `retell.config.updateWebhookSettings`: sets the tenant agent's webhook URL, events and
//! timeout in Retell, validated first (https, or http on loopback; Retell's event names).

use super::RetellConfigDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::AgentUpdate;
use crate::server::require_company;
use crate::servers::retell::check_webhook_settings;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `retell.config.updateWebhookSettings`.
pub struct UpdateWebhookSettings;

/// Params of `retell.config.updateWebhookSettings`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Where Retell posts the agent's events: https, or http on a loopback host.
    #[schemars(length(min = 1, max = 2048))]
    pub webhook_url: String,
    /// Events to post (Retell's voice events, reference/retell.md §1.1); left out: unchanged.
    #[schemars(length(min = 1, max = 8))]
    pub webhook_events: Option<Vec<String>>,
    /// Retell's wait for our answer, ms; left out: unchanged.
    #[schemars(range(min = 1000, max = 60000))]
    pub webhook_timeout_ms: Option<u64>,
}

/// `result.data` of `retell.config.updateWebhookSettings`: the agent's webhook as Retell
/// answered the update.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentWebhook {
    /// The tenant's agent.
    pub agent_id: String,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Events posted (`null`: Retell's default set).
    pub webhook_events: Option<Vec<String>>,
    /// Timeout, ms (`null`: Retell's default 10000).
    pub webhook_timeout_ms: Option<u64>,
}

impl Method for UpdateWebhookSettings {
    const NAME: &'static str = "retell.config.updateWebhookSettings";
    const SUMMARY: &'static str = "Sets the tenant agent's webhook in Retell: webhook_url (https, \
        or http on a loopback host), webhook_events (Retell's voice events) and \
        webhook_timeout_ms (1000..60000); fields left out stay. Invalid values are 4004 and \
        write nothing. Writes through the company's Retell breaker (one attempt).";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = RetellConfigDeps;
    type Params = WebhookParams;
    type Output = AgentWebhook;

    async fn apply(
        p: WebhookParams,
        grant: TokenGrant,
        deps: Arc<RetellConfigDeps>,
    ) -> Result<Reply<AgentWebhook>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        check_webhook_settings(Some(&p.webhook_url), p.webhook_events.as_deref())?;
        let tenant = deps.tenant(company).await?;
        let update = AgentUpdate {
            webhook_url: Some(p.webhook_url),
            webhook_events: p.webhook_events,
            webhook_timeout_ms: p.webhook_timeout_ms,
            ..AgentUpdate::default()
        };
        let agent = tenant
            .handle
            .retell
            .update_agent(&tenant.agent_id, update)
            .await
            .map_err(|e| super::retell_error(&e, ErrorCode::AgentNotFound))?;
        Reply::fresh(AgentWebhook {
            agent_id: agent.agent_id,
            webhook_url: agent.webhook_url,
            webhook_events: agent.webhook_events,
            webhook_timeout_ms: agent.webhook_timeout_ms,
        })
    }
}
