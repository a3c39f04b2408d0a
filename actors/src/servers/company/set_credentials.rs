//! `company.setCredentials`: write-only credentials.

use super::AdminDeps;
use super::edit::{company_not_found, forget, load, validate};
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::{AuditRecord, CredentialStatus, CredentialUpdate, plan};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `company.setCredentials`.
pub struct SetCredentials;

/// Params of `company.setCredentials`: the credentials to replace; left-out ones stay.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsParams {
    /// Defaults to the token's company; required with the operators' token.
    pub company_id: Option<CompanyId>,
    /// Retell API key (verifies the `X-Retell-Signature` of the tenant's calls).
    #[schemars(length(min = 1, max = 512))]
    pub retell_api_key: Option<String>,
    /// Cal.com API key, `cal_…` or `cal_live_…`.
    #[schemars(length(min = 1, max = 512))]
    pub calcom_api_key: Option<String>,
    /// Secret of the tenant's Cal.com webhooks.
    #[schemars(length(min = 1, max = 512))]
    pub calcom_webhook_secret: Option<String>,
    /// Twilio auth token of the tenant's SMS account; the tenant must have SMS settings
    /// (`company.update` with `sms`, or a tenant file's `[sms]`).
    #[schemars(length(min = 1, max = 512))]
    pub sms_auth_token: Option<String>,
}

/// `result.data` of `company.setCredentials`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CredentialsSet {
    /// The company.
    pub company_id: CompanyId,
    /// What changed, as in the audit log, e.g. `~ calcom.api_key: replaced (sha256:… →
    /// sha256:…)`.
    pub changes: Vec<String>,
    /// Every credential as stored now, as a fingerprint.
    pub credentials: CredentialStatus,
}

impl Method for SetCredentials {
    const NAME: &'static str = "company.setCredentials";
    const SUMMARY: &'static str = "Replaces a tenant's Retell API key, Cal.com API key, \
        Cal.com webhook secret and/or SMS auth token (left-out ones stay). Write-only: the answer, company.get and \
        the audit log show only fingerprints (`sha256:` + 12 hex digits). Validated as a \
        tenant file (a Cal.com key starts with cal_). Cal.com calls use a new key at once; \
        calls to the tenant's numbers may have their Retell signature checked with the old \
        key for up to `cache.lookups_ttl_s` (10 s by default).";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Write;
    type Deps = AdminDeps;
    type Params = CredentialsParams;
    type Output = CredentialsSet;

    async fn apply(
        p: CredentialsParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<CredentialsSet>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let state = load(&deps, company).await?;
        let mut raw = state.spec.to_raw();
        raw.retell.api_key = p.retell_api_key;
        raw.calcom.api_key = p.calcom_api_key;
        raw.calcom.webhook_secret = p.calcom_webhook_secret;
        if let Some(token) = p.sms_auth_token {
            let Some(sms) = raw.sms.as_mut() else {
                return Err(RpcError::invalid_params(
                    "sms_auth_token: the tenant has no SMS settings; set them with company.update (sms) first",
                ));
            };
            sms.auth_token = Some(token);
        }
        let spec = validate(&raw)?;
        let changes = plan(Some(&state), &spec).texts();
        if !changes.is_empty() {
            let update = CredentialUpdate {
                retell_api_key: spec.retell.api_key,
                calcom_api_key: spec.calcom.api_key,
                calcom_webhook_secret: spec.calcom.webhook_secret,
                sms_auth_token: spec.sms.and_then(|s| s.auth_token),
            };
            let audit = AuditRecord {
                actor: grant.actor(),
                action: Self::NAME.to_owned(),
                changes: changes.clone(),
            };
            let found = deps
                .tenants
                .set_credentials(company, &update, &audit)
                .await
                .map_err(|e| store_error(&e))?;
            if !found {
                return Err(company_not_found(company));
            }
            forget(&deps, company).await;
        }
        let credentials = load(&deps, company).await?.credentials;
        Reply::fresh(CredentialsSet {
            company_id: company,
            changes,
            credentials,
        })
    }
}
