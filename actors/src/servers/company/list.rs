//! `company.list`: the tenants the token may see.

use super::AdminDeps;
use crate::domain::onboarding::TenantSummary;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `company.list`.
pub struct List;

/// Params of `company.list`: none.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListParams {}

/// `result.data` of `company.list`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Companies {
    /// By slug; a company token sees only its own company.
    pub companies: Vec<TenantSummary>,
}

impl Method for List {
    const NAME: &'static str = "company.list";
    const SUMMARY: &'static str = "Lists tenants by slug: id, slug, name, locale, time zone, \
        counts of branches, phone numbers and services, and `disabled_at` (UTC) when disabled. \
        A company token sees only its own company.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = AdminDeps;
    type Params = ListParams;
    type Output = Companies;

    async fn apply(
        _: ListParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Companies>, RpcError> {
        let mut companies = deps
            .tenants
            .list_tenants()
            .await
            .map_err(|e| store_error(&e))?;
        if let Some(own) = grant.company_id {
            companies.retain(|c| c.id == own);
        }
        Reply::fresh(Companies { companies })
    }
}
