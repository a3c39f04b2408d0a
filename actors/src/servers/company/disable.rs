//! `company.disable` / `company.enable`: take a tenant out of service and back, deleting
//! nothing.

use super::AdminDeps;
use super::edit::{forget, load};
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::AuditRecord;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `company.disable`.
pub struct Disable;

/// `company.enable`.
pub struct Enable;

/// Params of `company.disable` and `company.enable`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleParams {
    /// The company.
    pub company_id: CompanyId,
}

/// `result.data` of `company.disable` and `company.enable`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Lifecycle {
    /// The company.
    pub company_id: CompanyId,
    /// Whether it was not already so.
    pub changed: bool,
}

async fn set(
    p: LifecycleParams,
    grant: &TokenGrant,
    deps: &AdminDeps,
    disabled: bool,
    action: &str,
) -> Result<Reply<Lifecycle>, RpcError> {
    let audit = AuditRecord {
        actor: grant.actor(),
        action: action.to_owned(),
        changes: vec![if disabled { "~ disabled" } else { "~ enabled" }.to_owned()],
    };
    load(deps, p.company_id).await?;
    let changed = deps
        .tenants
        .set_disabled(p.company_id, disabled, &audit)
        .await
        .map_err(|e| store_error(&e))?;
    forget(deps, p.company_id).await;
    Reply::fresh(Lifecycle {
        company_id: p.company_id,
        changed,
    })
}

impl Method for Disable {
    const NAME: &'static str = "company.disable";
    const SUMMARY: &'static str = "Takes a tenant out of service without deleting anything: \
        its numbers answer callers with a polite \"not in service\" message and its tokens \
        stop working (within `cache.lookups_ttl_s`, 10 s by default, on every instance). \
        Operators' token only.";
    const SCOPE: Scope = Scope::Platform;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = LifecycleParams;
    type Output = Lifecycle;

    async fn apply(
        p: LifecycleParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Lifecycle>, RpcError> {
        set(p, &grant, &deps, true, Self::NAME).await
    }
}

impl Method for Enable {
    const NAME: &'static str = "company.enable";
    const SUMMARY: &'static str = "Puts a disabled tenant back in service: its numbers and \
        tokens work again (within `cache.lookups_ttl_s`, 10 s by default). Operators' token \
        only.";
    const SCOPE: Scope = Scope::Platform;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = LifecycleParams;
    type Output = Lifecycle;

    async fn apply(
        p: LifecycleParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<Lifecycle>, RpcError> {
        set(p, &grant, &deps, false, Self::NAME).await
    }
}
