//! `retell.listAgents`: one page of the agents the company's Retell key sees.

use super::{RetellDeps, page_request, retell_error};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{AgentSummary, Page};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `retell.listAgents`.
pub struct ListAgents;

/// Params of `retell.listAgents`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAgentsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Agents per page, 1–100 (default 50).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next` of the previous page; left out: the first page.
    #[schemars(length(min = 1, max = 256))]
    pub cursor: Option<String>,
}

impl Method for ListAgents {
    const NAME: &'static str = "retell.listAgents";
    const SUMMARY: &'static str = "Lists one page of the agents in the company's Retell \
        account (`POST /v2/list-agents`, read with the company's own key): agent id, name, \
        channel, whether suspended, last change (ms since the epoch, UTC). `limit` 1–100 \
        (default 50); pass `next` back as `cursor` for the following page.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = ListAgentsParams;
    type Output = Page<AgentSummary>;

    async fn apply(
        p: ListAgentsParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<Page<AgentSummary>>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let page = tenant
            .retell
            .list_agents(page_request(p.limit, p.cursor))
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        Reply::fresh(page)
    }
}
