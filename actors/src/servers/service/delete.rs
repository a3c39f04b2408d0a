//! `service.delete`: removes a service.

use super::service_mut;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::{Changed, edit};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `service.delete`.
pub struct Delete;

/// Params naming one service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// The service's name.
    pub service: String,
}

impl Method for Delete {
    const NAME: &'static str = "service.delete";
    const SUMMARY: &'static str = "Deletes a service: callers can no longer book it. An \
        unknown service is -32602 `not_found`. Returns the changes as recorded in the audit \
        log.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Destructive;
    type Deps = AdminDeps;
    type Params = ServiceParams;
    type Output = Changed;

    async fn apply(
        p: ServiceParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            let name = service_mut(raw, &p.service)?.name.clone();
            raw.services.retain(|s| s.name != name);
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
