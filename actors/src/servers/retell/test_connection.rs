//! `retell.testConnection`: whether the company's Retell key works, whether Retell has the
//! company's agent and what answers its calls, and how long Retell took — bypassing the
//! breaker, so an operator's failing check never opens it for live work.

use super::{CompanyParams, RetellDeps, retell_error};
use crate::domain::booking::UpstreamError;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{PageRequest, ResponseEngine};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Serialize;
use std::sync::Arc;
use tokio::time::Instant;

/// `retell.testConnection`.
pub struct TestConnection;

/// `result.data` of `retell.testConnection`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RetellConnection {
    /// Retell accepted the key (a refused key is error 1001 instead).
    pub key_valid: bool,
    /// The company's agent (`retell.agent_id`); `None`: not configured.
    pub agent_id: Option<String>,
    /// Whether Retell has that agent under the key; `None` when none is configured.
    pub agent_found: Option<bool>,
    /// What answers the agent's calls (latest version), when found.
    pub response_engine: Option<ResponseEngine>,
    /// Time Retell took to answer the key check (`POST /v2/list-agents`), milliseconds.
    pub latency_ms: u64,
}

impl Method for TestConnection {
    const NAME: &'static str = "retell.testConnection";
    const SUMMARY: &'static str = "Checks the company's Retell API key and agent: whether the \
        key is accepted (a refused key is 1001, an unreachable Retell -32004), whether Retell \
        has the configured agent (`retell.agent_id`) and its response engine, and the latency \
        in ms. Bypasses the circuit breaker, so a failing check does not affect live calls.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = CompanyParams;
    type Output = RetellConnection;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<RetellConnection>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let key = &tenant.profile.retell_api_key;
        let started = Instant::now();
        tenant
            .retell_api
            .list_agents(key, &PageRequest::first(1))
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let agent_id = tenant.profile.retell_agent_id.clone();
        let (agent_found, response_engine) = match &agent_id {
            None => (None, None),
            Some(agent) => match tenant.retell_api.get_agent(key, agent, None).await {
                Ok(agent) => (Some(true), Some(agent.response_engine)),
                Err(UpstreamError::NotFound { .. }) => (Some(false), None),
                Err(e) => return Err(retell_error(&e, ErrorCode::AgentNotFound)),
            },
        };
        Reply::fresh(RetellConnection {
            key_valid: true,
            agent_id,
            agent_found,
            response_engine,
            latency_ms,
        })
    }
}
