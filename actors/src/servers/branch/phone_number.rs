//! `branch.addPhoneNumber` / `branch.removePhoneNumber`.

use super::branch_mut;
use crate::domain::ids::CompanyId;
use crate::domain::phone::PhoneNumber;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::{Changed, edit, not_found};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `branch.addPhoneNumber`.
pub struct AddPhoneNumber;

/// `branch.removePhoneNumber`.
pub struct RemovePhoneNumber;

/// Params naming a branch and a number.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// Slug of the branch.
    pub branch: String,
    /// The number in E.164, e.g. `+494012345678`.
    #[schemars(length(min = 1, max = 32))]
    pub phone_number: String,
}

impl Method for AddPhoneNumber {
    const NAME: &'static str = "branch.addPhoneNumber";
    const SUMMARY: &'static str = "Routes an E.164 number to a branch; operators' admin token \
        only (a tenant must not claim numbers of businesses not yet onboarded). A number in \
        another form, or one another tenant owns, is refused with -32602 and its key path. \
        Calls to it reach the tenant within `cache.lookups_ttl_s` (10 s by default). Returns \
        the changes as recorded in the audit log.";
    const SCOPE: Scope = Scope::Platform;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = NumberParams;
    type Output = Changed;

    async fn apply(
        p: NumberParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            branch_mut(raw, &p.branch)?
                .phone_numbers
                .push(p.phone_number);
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}

impl Method for RemovePhoneNumber {
    const NAME: &'static str = "branch.removePhoneNumber";
    const SUMMARY: &'static str = "Stops routing a number to a branch; calls to it are \
        refused within `cache.lookups_ttl_s` (10 s by default). A number the branch does not \
        have is -32602 `not_found`. Returns the changes as recorded in the audit log.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Destructive;
    type Deps = AdminDeps;
    type Params = NumberParams;
    type Output = Changed;

    async fn apply(
        p: NumberParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let number = PhoneNumber::parse_default(&p.phone_number)
            .map_err(|e| RpcError::invalid_params(format!("phone_number: {e}")))?;
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            let branch = branch_mut(raw, &p.branch)?;
            let before = branch.phone_numbers.len();
            branch.phone_numbers.retain(|n| *n != number.to_string());
            if branch.phone_numbers.len() == before {
                return Err(not_found(format!(
                    "branch {:?} has no number {number}",
                    p.branch
                )));
            }
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
