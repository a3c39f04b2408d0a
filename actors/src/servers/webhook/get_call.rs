//! `webhook.getCall`: the local record of one call.

use super::WebhookDeps;
use crate::domain::ids::CallId;
use crate::jsonrpc::RpcError;
use crate::records::{CallView, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// `webhook.getCall`.
pub struct GetCall;

/// Params of `webhook.getCall`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetCallParams {
    /// Retell call id.
    pub call_id: CallId,
}

impl Method for GetCall {
    const NAME: &'static str = "webhook.getCall";
    const SUMMARY: &'static str = "Shows our record of one phone call by its Retell `call_id`: \
        status, caller and business numbers, start and end (UTC), the appointment data the \
        agent collected, the state of its booking job, the appointment made, if any, and what \
        was said (`transcript`, at most 32 KiB). An unknown call_id, and a call of another \
        company, is -32602 `not_found`.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = WebhookDeps;
    type Params = GetCallParams;
    type Output = CallView;

    async fn apply(
        p: GetCallParams,
        grant: TokenGrant,
        deps: Arc<WebhookDeps>,
    ) -> Result<Reply<CallView>, RpcError> {
        // The store reads only the token's company: another tenant's call is not found,
        // exactly like one that does not exist, so call ids cannot be probed.
        deps.store
            .get_call(grant.company_id, &p.call_id)
            .await
            .map_err(|e| store_error(&e))?
            .map_or_else(|| Err(call_not_found(&p.call_id)), Reply::fresh)
    }
}

/// -32602 with `data.type = "not_found"` for a call id that does not exist — or that belongs
/// to another company, answered identically (same code, message and data) so a tenant cannot
/// tell the two apart.
pub fn call_not_found(call_id: &CallId) -> RpcError {
    RpcError {
        data: Some(
            json!({ "type": "not_found", "details": format!("no call with call_id {call_id}") }),
        ),
        ..RpcError::invalid_params("")
    }
}
