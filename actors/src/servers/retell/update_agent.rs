//! `retell.updateAgent`: changes the latest draft of the company's Retell agent — name,
//! webhook URL, events and timeout, language — after checking each value.

use super::{RetellDeps, check_webhook_settings, own_agent, retell_error};
use crate::domain::ids::CompanyId;
use crate::domain::text;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{Agent, AgentUpdate};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `retell.updateAgent`.
pub struct UpdateAgent;

/// Params of `retell.updateAgent`: the fields of [`AgentUpdate`]; left-out fields stay.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The company's agent (`retell.agent_id`, the default); any other agent is refused.
    #[schemars(length(min = 1, max = 128))]
    pub agent_id: Option<String>,
    /// Display name.
    #[schemars(length(min = 1, max = 200))]
    pub agent_name: Option<String>,
    /// Where Retell posts the agent's webhooks: `https://…`, or `http://` on a loopback host
    /// (`localhost`, `127.0.0.1`, `[::1]`) for local tests; no user or password in it.
    #[schemars(length(min = 1, max = 2048))]
    pub webhook_url: Option<String>,
    /// Events posted to it, each one of `call_started`, `call_ended`, `call_analyzed`,
    /// `transcript_updated`, `transfer_started`, `transfer_bridged`, `transfer_cancelled`,
    /// `transfer_ended`.
    #[schemars(length(max = 8))]
    pub webhook_events: Option<Vec<String>>,
    /// How long Retell waits for the webhook's answer, milliseconds, 1000–60000 (Retell's
    /// default 10000).
    #[schemars(range(min = 1000, max = 60000))]
    pub webhook_timeout_ms: Option<u64>,
    /// Language code, e.g. `de-DE`.
    #[schemars(length(min = 2, max = 16))]
    pub language: Option<String>,
}

impl UpdateAgentParams {
    /// The checked update and the agent it names.
    ///
    /// # Errors
    /// 4004 naming the first value refused; -32602 when nothing would change.
    fn into_update(self) -> Result<(Option<String>, AgentUpdate), RpcError> {
        check_webhook_settings(self.webhook_url.as_deref(), self.webhook_events.as_deref())?;
        if let Some(name) = &self.agent_name
            && (name.trim().is_empty() || name.chars().any(text::is_hidden))
        {
            return Err(AppError::new(
                ErrorCode::SchemaValidationFailed,
                "agent_name must be visible text: no control or bidi characters, not blank",
            )
            .into());
        }
        let update = AgentUpdate {
            agent_name: self.agent_name,
            webhook_url: self.webhook_url,
            webhook_events: self.webhook_events,
            webhook_timeout_ms: self.webhook_timeout_ms,
            language: self.language,
        };
        if update == AgentUpdate::default() {
            return Err(RpcError::invalid_params(
                "nothing to change: give agent_name, webhook_url, webhook_events, \
                 webhook_timeout_ms or language",
            ));
        }
        Ok((self.agent_id, update))
    }
}

impl Method for UpdateAgent {
    const NAME: &'static str = "retell.updateAgent";
    const SUMMARY: &'static str = "Changes the latest draft version of the company's Retell \
        agent (`PATCH /update-agent`): `agent_name`, `webhook_url` (https, or http on a \
        loopback host), `webhook_events` (Retell's voice events), `webhook_timeout_ms` \
        (1000–60000 ms), `language`; left-out fields stay. Answers the agent as changed. Sent \
        once, never retried; publish the draft with `retell.publishAgentVersion`. Another \
        agent id is -32002; a refused value 4004.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = RetellDeps;
    type Params = UpdateAgentParams;
    type Output = Agent;

    async fn apply(
        p: UpdateAgentParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<Agent>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let (agent_id, update) = p.into_update()?;
        let tenant = deps.tenant(company).await?;
        let agent = own_agent(&tenant, agent_id)?;
        let agent = tenant
            .retell
            .update_agent(&agent, update)
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        Reply::fresh(agent)
    }
}
