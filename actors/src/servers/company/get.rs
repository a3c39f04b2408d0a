//! `company.get`: one tenant as declared, credentials only as fingerprints.

use super::AdminDeps;
use super::edit::load;
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::{CredentialStatus, RawTenant};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `company.get`.
pub struct Get;

/// Params naming one company.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
}

/// `result.data` of `company.get`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CompanyView {
    /// `companies.id`.
    pub company_id: CompanyId,
    /// The tenant as a tenant file declares it, without credentials (`api_key` and
    /// `webhook_secret` are always absent; see `credentials`).
    pub tenant: RawTenant,
    /// Which credentials are set, each as `sha256:` and 12 hex digits of its SHA-256.
    pub credentials: CredentialStatus,
    /// When it was disabled (UTC); `null` while active.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
}

impl Method for Get {
    const NAME: &'static str = "company.get";
    const SUMMARY: &'static str = "One tenant as declared in a tenant file (slug, name, \
        locale, time zone, retell, calcom, policy, branches with phone numbers and opening \
        hours, services with aliases and event types), with credentials only as fingerprints \
        (`sha256:` + 12 hex digits) and `disabled_at` (UTC).";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = AdminDeps;
    type Params = CompanyParams;
    type Output = CompanyView;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<CompanyView>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let state = load(&deps, company).await?;
        Reply::fresh(CompanyView {
            company_id: state.id,
            tenant: state.spec.to_raw(),
            credentials: state.credentials,
            disabled_at: state.disabled_at,
            created_at: state.created_at,
        })
    }
}
