//! `branch.list`: a tenant's branches as declared.

use crate::domain::ids::CompanyId;
use crate::domain::onboarding::RawBranch;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::company::AdminDeps;
use crate::servers::company::edit::load;
use crate::servers::company::get::CompanyParams;
use schemars::JsonSchema;
use serde::Serialize;
use std::sync::Arc;

/// `branch.list`.
pub struct List;

/// `result.data` of `branch.list`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Branches {
    /// The company.
    pub company_id: CompanyId,
    /// In the order declared.
    pub branches: Vec<RawBranch>,
}

impl Method for List {
    const NAME: &'static str = "branch.list";
    const SUMMARY: &'static str = "A tenant's branches as declared: slug, name, E.164 phone \
        numbers and opening hours (`mon`…`sun` → `08:00-12:00,14:00-18:00` or `closed`; \
        absent when not stated).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = AdminDeps;
    type Params = CompanyParams;
    type Output = Branches;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Branches>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let state = load(&deps, company).await?;
        Reply::fresh(Branches {
            company_id: company,
            branches: state.spec.to_raw().branches,
        })
    }
}
