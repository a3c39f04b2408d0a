//! `service.list`: a tenant's services as declared.

use crate::domain::ids::CompanyId;
use crate::domain::onboarding::RawService;
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

/// `service.list`.
pub struct List;

/// `result.data` of `service.list`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Services {
    /// The company.
    pub company_id: CompanyId,
    /// In the order declared.
    pub services: Vec<RawService>,
}

impl Method for List {
    const NAME: &'static str = "service.list";
    const SUMMARY: &'static str = "A tenant's services as declared: name, aliases, duration \
        in minutes, Cal.com event type id (and slug when given), team id when it differs from \
        the tenant's, and the branch slugs offering it (absent: all branches).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = AdminDeps;
    type Params = CompanyParams;
    type Output = Services;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Services>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let state = load(&deps, company).await?;
        Reply::fresh(Services {
            company_id: company,
            services: state.spec.to_raw().services,
        })
    }
}
