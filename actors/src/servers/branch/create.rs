//! `branch.create`: a new branch of a tenant.

use crate::domain::ids::CompanyId;
use crate::domain::onboarding::RawBranch;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::{Changed, edit};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `branch.create`.
pub struct Create;

/// Params of `branch.create`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// Stable id within the tenant, `[a-z0-9-]`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// E.164 numbers callers dial, unique across all tenants.
    #[serde(default)]
    pub phone_numbers: Vec<String>,
    /// `mon` … `sun` → `"08:00-12:00,14:00-18:00"` or `"closed"`; days left out are closed.
    pub opening_hours: Option<BTreeMap<String, String>>,
}

impl Method for Create {
    const NAME: &'static str = "branch.create";
    const SUMMARY: &'static str = "Adds a branch (slug, name, E.164 phone_numbers, \
        opening_hours) to a tenant, validated as a tenant file (-32602 with \
        `error.data.details` = [{path, message}]); phone numbers may be given only with the \
        operators' admin token (-32002 otherwise), and one another tenant owns is refused. \
        Returns the changes as recorded in the audit log.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = CreateParams;
    type Output = Changed;

    async fn apply(
        p: CreateParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Changed>, RpcError> {
        let changed = edit(&deps, &grant, p.company_id, Self::NAME, |raw| {
            // A slug used twice is refused by the validation, naming the key.
            raw.branches.push(RawBranch {
                slug: p.slug,
                name: p.name,
                phone_numbers: p.phone_numbers,
                opening_hours: p.opening_hours,
            });
            Ok(())
        })
        .await?;
        Reply::fresh(changed)
    }
}
