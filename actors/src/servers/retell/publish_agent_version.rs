//! `retell.publishAgentVersion`: publishes a draft version of the company's Retell agent.

use super::{RetellDeps, own_agent, retell_error};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `retell.publishAgentVersion`.
pub struct PublishAgentVersion;

/// Params of `retell.publishAgentVersion`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The company's agent (`retell.agent_id`, the default); any other agent is refused.
    #[schemars(length(min = 1, max = 128))]
    pub agent_id: Option<String>,
    /// The draft version to publish (see `retell.getAgentVersions`).
    #[schemars(range(min = 0))]
    pub version: i64,
}

/// `result.data` of `retell.publishAgentVersion`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Published {
    /// The agent.
    pub agent_id: String,
    /// The version now published.
    pub version: i64,
}

impl Method for PublishAgentVersion {
    const NAME: &'static str = "retell.publishAgentVersion";
    const SUMMARY: &'static str = "Publishes draft `version` of the company's Retell agent in \
        place (`POST /publish-agent-version`); Retell then keeps a new draft for further \
        changes. Sent once, never retried. Another agent id is -32002; an agent or version \
        Retell does not have is 1002.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = RetellDeps;
    type Params = PublishParams;
    type Output = Published;

    async fn apply(
        p: PublishParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<Published>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let agent = own_agent(&tenant, p.agent_id)?;
        tenant
            .retell
            .publish_agent_version(&agent, p.version)
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        Reply::fresh(Published {
            agent_id: agent,
            version: p.version,
        })
    }
}
