//! `company.getAuditLog`: who changed what when, newest first, paged.

use super::AdminDeps;
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::AuditEntry;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Entries per page when `limit` is left out.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest `limit`.
pub const MAX_LIMIT: u32 = 500;

/// `company.getAuditLog`.
pub struct GetAuditLog;

/// Params of `company.getAuditLog`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditLogParams {
    /// Defaults to the token's company; the operators' token may leave it out for every
    /// entry (changes of no single tenant included).
    pub company_id: Option<CompanyId>,
    /// Entries per page, 1–500; default 50.
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
    /// Only entries with a smaller id: the `next_before_id` of the previous page.
    pub before_id: Option<i64>,
}

/// `result.data` of `company.getAuditLog`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditLogPage {
    /// Newest (highest id) first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `before_id` for the next page; `null` when this page was the last.
    pub next_before_id: Option<i64>,
}

impl Method for GetAuditLog {
    const NAME: &'static str = "company.getAuditLog";
    const SUMMARY: &'static str = "The audit log of tenant and token changes, newest first: \
        when (UTC), who (`token:<id> (<name>)`, `cli:<user>`, `sandbox`), the method or \
        command, and the changes line by line — secrets only as fingerprints. Page with \
        `before_id` = the previous page's `next_before_id`.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Read;
    type Deps = AdminDeps;
    type Params = AuditLogParams;
    type Output = AuditLogPage;

    async fn apply(
        p: AuditLogParams,
        grant: TokenGrant,
        deps: Arc<AdminDeps>,
    ) -> Result<Reply<AuditLogPage>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
        let entries = deps
            .tenants
            .audit_log(company, limit, p.before_id)
            .await
            .map_err(|e| store_error(&e))?;
        // A short page is the last one; a full page may have more behind it.
        let next_before_id = if entries.len() == limit as usize {
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Reply::fresh(AuditLogPage {
            entries,
            next_before_id,
        })
    }
}
