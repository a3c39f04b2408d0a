//! `retell.getAgentVersions`: one page of the versions of the company's Retell agent.

use super::{RetellDeps, own_agent, page_request, retell_error};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{AgentVersion, Page};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `retell.getAgentVersions`.
pub struct GetAgentVersions;

/// Params of `retell.getAgentVersions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAgentVersionsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The company's agent (`retell.agent_id`, the default); any other agent is refused.
    #[schemars(length(min = 1, max = 128))]
    pub agent_id: Option<String>,
    /// Versions per page, 1–100 (default 50).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next` of the previous page; left out: the first page.
    #[schemars(length(min = 1, max = 256))]
    pub cursor: Option<String>,
}

impl Method for GetAgentVersions {
    const NAME: &'static str = "retell.getAgentVersions";
    const SUMMARY: &'static str = "Lists one page of the versions of the company's Retell \
        agent (`GET /list-agent-versions`): version number, whether published, the version it \
        was made from, title, last change (ms since the epoch, UTC). `limit` 1–100 (default \
        50); pass `next` back as `cursor`. Another agent id is -32002; an agent Retell does \
        not have is 1002.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = GetAgentVersionsParams;
    type Output = Page<AgentVersion>;

    async fn apply(
        p: GetAgentVersionsParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<Page<AgentVersion>>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let agent = own_agent(&tenant, p.agent_id)?;
        let versions = tenant
            .retell
            .list_agent_versions(&agent, page_request(p.limit, p.cursor))
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        Reply::fresh(versions)
    }
}
