//! `branch.update`: a branch's name and opening hours.

use super::branch_mut;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::{Changed, edit};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `branch.update`.
pub struct Update;

/// Params of `branch.update`; what is left out stays.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// Slug of the branch.
    pub branch: String,
    /// New display name.
    pub name: Option<String>,
    /// New opening hours: `mon` … `sun` → `"08:00-18:00"` or `"closed"`; days left out are
    /// closed.
    pub opening_hours: Option<BTreeMap<String, String>>,
}

impl Method for Update {
    const NAME: &'static str = "branch.update";
    const SUMMARY: &'static str = "Renames a branch and/or replaces its opening hours, \
        validated as a tenant file (-32602 with `error.data.details` = [{path, message}]); \
        an unknown branch is -32602 `not_found`. Returns the changes as recorded in the \
        audit log.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = UpdateParams;
    type Output = Changed;

    async fn apply(
        p: UpdateParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            let branch = branch_mut(raw, &p.branch)?;
            if let Some(name) = p.name {
                branch.name = name;
            }
            if let Some(hours) = p.opening_hours {
                branch.opening_hours = Some(hours);
            }
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
