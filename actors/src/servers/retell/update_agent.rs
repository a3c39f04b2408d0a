//! `retell.updateAgent`: changes the latest draft of the company's Retell agent — name,
//! webhook URL, events and timeout, language — after checking each value.

use super::{RetellDeps, own_agent, retell_error};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{Agent, AgentUpdate};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;
use url::{Host, Url};

/// `retell.updateAgent`.
pub struct UpdateAgent;

/// The voice webhook events an agent can subscribe to (reference/retell.md §1.1).
pub const WEBHOOK_EVENTS: [&str; 8] = [
    "call_started",
    "call_ended",
    "call_analyzed",
    "transcript_updated",
    "transfer_started",
    "transfer_bridged",
    "transfer_cancelled",
    "transfer_ended",
];

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
    /// -32602 naming the first value refused, or when nothing would change.
    fn into_update(self) -> Result<(Option<String>, AgentUpdate), RpcError> {
        if let Some(url) = &self.webhook_url {
            check_webhook_url(url)?;
        }
        if let Some(events) = &self.webhook_events
            && let Some(bad) = events
                .iter()
                .find(|e| !WEBHOOK_EVENTS.contains(&e.as_str()))
        {
            return Err(RpcError::invalid_params(format!(
                "webhook_events: {bad:?} is not a Retell webhook event (one of {})",
                WEBHOOK_EVENTS.join(", ")
            )));
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

/// -32602 unless `raw` is an https URL, or an http URL of a loopback host, without
/// credentials.
fn check_webhook_url(raw: &str) -> Result<(), RpcError> {
    let refuse = |why: &str| RpcError::invalid_params(format!("webhook_url {raw:?}: {why}"));
    let url = Url::parse(raw).map_err(|e| refuse(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not contain a user or password"));
    }
    let loopback = match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(refuse("has no host")),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(refuse("must be https (http only on a loopback host)")),
    }
}

impl Method for UpdateAgent {
    const NAME: &'static str = "retell.updateAgent";
    const SUMMARY: &'static str = "Changes the latest draft version of the company's Retell \
        agent (`PATCH /update-agent`): `agent_name`, `webhook_url` (https, or http on a \
        loopback host), `webhook_events` (Retell's voice events), `webhook_timeout_ms` \
        (1000–60000 ms), `language`; left-out fields stay. Answers the agent as changed. Sent \
        once, never retried; publish the draft with `retell.publishAgentVersion`. Another \
        agent id is -32002; a refused value -32602.";
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

#[cfg(test)]
mod tests {
    use super::check_webhook_url;

    #[test]
    fn webhook_url_must_be_https_or_loopback_http() {
        for ok in [
            "https://switchboard.example.com/api/mcp/retell/webhook",
            "http://127.0.0.1:8080/api/mcp/retell/webhook",
            "http://localhost/api/mcp/retell/webhook",
            "http://[::1]:9000/hook",
        ] {
            assert!(check_webhook_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://switchboard.example.com/hook",
            "http://10.0.0.1/hook",
            "ftp://example.com/hook",
            "https://user:pw@example.com/hook",
            "not a url",
        ] {
            assert_eq!(check_webhook_url(bad).unwrap_err().code, -32602, "{bad}");
        }
    }
}
