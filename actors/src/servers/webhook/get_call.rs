//! `webhook.getCall`: the local record of one call.

use super::WebhookDeps;
use crate::domain::ids::CallId;
use crate::jsonrpc::RpcError;
use crate::records::{CallView, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::forbidden;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
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
        agent collected, the state of its booking job and the appointment made, if any. A \
        call of another company is -32002; an unknown call_id is -32602.";
    const SCOPE: Scope = Scope::Company;
    const KIND: Kind = Kind::Read;
    type Deps = WebhookDeps;
    type Params = GetCallParams;
    type Output = CallView;

    async fn apply(
        p: GetCallParams,
        grant: TokenGrant,
        deps: Arc<WebhookDeps>,
    ) -> Result<Reply<CallView>, RpcError> {
        let view = deps
            .store
            .get_call(&p.call_id)
            .await
            .map_err(|e| store_error(&e))?;
        let Some(view) = view else {
            return Err(RpcError::invalid_params(format!(
                "no call with call_id {}",
                p.call_id
            )));
        };
        if let Some(own) = grant.company_id
            && own != view.company_id
        {
            return Err(forbidden(view.company_id));
        }
        Reply::fresh(view)
    }
}
