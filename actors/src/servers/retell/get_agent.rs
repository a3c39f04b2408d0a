//! `retell.getAgent`: the company's Retell agent, one version or the latest.

use super::{RetellDeps, own_agent, retell_error};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::Agent;
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `retell.getAgent`.
pub struct GetAgent;

/// Params of `retell.getAgent`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAgentParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The company's agent (`retell.agent_id`, the default); any other agent is refused.
    #[schemars(length(min = 1, max = 128))]
    pub agent_id: Option<String>,
    /// Version number; left out: the latest (draft) version.
    #[schemars(range(min = 0))]
    pub version: Option<i64>,
}

impl Method for GetAgent {
    const NAME: &'static str = "retell.getAgent";
    const SUMMARY: &'static str = "Reads the company's Retell agent (`GET /get-agent`): \
        version, whether published, response engine (e.g. the Retell LLM), webhook URL, \
        events and timeout (ms), language, last change (ms since the epoch, UTC) and every \
        other field Retell keeps. `version` left out: the latest. Only the company's own \
        agent (`retell.agent_id`) can be read: another agent id is -32002; an agent Retell \
        does not have is 1002.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = GetAgentParams;
    type Output = Agent;

    async fn apply(
        p: GetAgentParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<Agent>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let agent = own_agent(&tenant, p.agent_id)?;
        let agent = tenant
            .retell
            .get_agent(&agent, p.version)
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        Reply::fresh(agent)
    }
}
