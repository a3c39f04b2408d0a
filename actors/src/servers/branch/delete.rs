//! `branch.delete`: removes a branch and its numbers.

use super::branch_mut;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::{Changed, edit};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `branch.delete`.
pub struct Delete;

/// Params naming one branch.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// Slug of the branch.
    pub branch: String,
}

impl Method for Delete {
    const NAME: &'static str = "branch.delete";
    const SUMMARY: &'static str = "Deletes a branch with its phone numbers (they stop \
        routing within `cache.lookups_ttl_s`, 10 s by default). Refused with -32602 while a \
        service names the branch (path `services[i].branches[j]`), and with 4004 while the \
        branch still has calls or appointments. Returns the changes as recorded in the audit \
        log.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Destructive;
    type Deps = AdminDeps;
    type Params = BranchParams;
    type Output = Changed;

    async fn apply(
        p: BranchParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            branch_mut(raw, &p.branch)?;
            raw.branches.retain(|b| b.slug != p.branch);
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
