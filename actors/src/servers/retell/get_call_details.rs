//! `retell.getCallDetails`: one call of the company's Retell agent, with its transcript, as
//! Retell holds it.

use super::{RetellDeps, retell_error};
use crate::domain::booking::UpstreamError;
use crate::domain::ids::{CallId, CompanyId};
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::webhook::get_call::call_not_found;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// `retell.getCallDetails`.
pub struct GetCallDetails;

/// Params of `retell.getCallDetails`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallDetailsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Retell call id.
    pub call_id: CallId,
}

impl Method for GetCallDetails {
    const NAME: &'static str = "retell.getCallDetails";
    const SUMMARY: &'static str = "Reads one call from Retell (`GET /v2/get-call`) as Retell \
        holds it: status, numbers, start and end (ms since the epoch, UTC), duration (ms), \
        disconnection reason, transcript, analysis, cost. Only calls of the company's own \
        agent: a call of another agent, one Retell does not have, and any call of a company \
        without an agent is -32602 `not_found` (answered identically).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = CallDetailsParams;
    type Output = Value;

    async fn apply(
        p: CallDetailsParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<Value>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        // Without an agent no call is the company's: answered like an unknown call, so the
        // answer never depends on whose the call id is.
        let Some(agent) = tenant.profile.retell_agent_id.clone() else {
            return Err(call_not_found(&p.call_id));
        };
        let call = match tenant.retell.get_call(p.call_id.as_str()).await {
            Ok(call) => call,
            Err(UpstreamError::NotFound { .. }) => return Err(call_not_found(&p.call_id)),
            Err(e) => return Err(retell_error(&e, ErrorCode::AgentNotFound)),
        };
        // Another agent's call is answered like a missing one, so ids cannot be probed.
        if call.call.agent_id.as_deref() != Some(agent.as_str()) {
            return Err(call_not_found(&p.call_id));
        }
        Reply::fresh(call.raw)
    }
}
