//! `retell.getRecentCalls`: one page of the latest calls of the company's Retell agent, as
//! Retell lists them.

use super::{RetellDeps, agent_of, page_request, retell_error};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::CallQuery;
use crate::server::require_company;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// `retell.getRecentCalls`.
pub struct GetRecentCalls;

/// Params of `retell.getRecentCalls`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecentCallsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Calls per page, 1–100 (default 50).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next` of the previous page; left out: the first page.
    #[schemars(length(min = 1, max = 256))]
    pub cursor: Option<String>,
    /// Only calls that started at or after this (UTC, RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only calls that started at or before this (UTC, RFC 3339).
    pub until: Option<DateTime<Utc>>,
}

/// `result.data` of `retell.getRecentCalls`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecentCalls {
    /// Call objects as Retell lists them (reference/retell.md §1.3, without transcripts),
    /// newest first; timestamps and durations in ms. Declared as objects: a bare `true` item
    /// schema is refused by clients that map tool schemas onto a stricter dialect (the MCP
    /// Inspector's `--strict` check, tests/mcp/inspector.sh).
    #[schemars(with = "Vec<serde_json::Map<String, Value>>")]
    pub calls: Vec<Value>,
    /// Cursor of the next page; `None`: this was the last.
    pub next: Option<String>,
}

impl Method for GetRecentCalls {
    const NAME: &'static str = "retell.getRecentCalls";
    const SUMMARY: &'static str = "Lists the latest calls of the company's Retell agent, newest \
        first, as Retell lists them (`POST /v3/list-calls`, no transcripts; timestamps in ms \
        since the epoch, UTC; durations in ms). Optional `since`/`until` bound the start time \
        (UTC, RFC 3339; `since` after `until` is -32602); `limit` 1–100 (default 50); pass `next` back as `cursor`.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = RecentCallsParams;
    type Output = RecentCalls;

    async fn apply(
        p: RecentCallsParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<RecentCalls>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        if let (Some(since), Some(until)) = (p.since, p.until)
            && since > until
        {
            return Err(RpcError::invalid_params("since must not be after until"));
        }
        let tenant = deps.tenant(company).await?;
        let agent = agent_of(&tenant)?;
        let page = tenant
            .retell
            .list_calls(CallQuery {
                agent_ids: vec![agent.clone()],
                start_after_ms: p.since.map(|t| t.timestamp_millis()),
                start_before_ms: p.until.map(|t| t.timestamp_millis()),
                page: Some(page_request(p.limit, p.cursor)),
            })
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        Reply::fresh(RecentCalls {
            calls: page
                .items
                .into_iter()
                .filter(|c| c.call.agent_id.as_deref() == Some(agent.as_str()))
                .map(|c| c.raw)
                .collect(),
            next: page.next,
        })
    }
}
