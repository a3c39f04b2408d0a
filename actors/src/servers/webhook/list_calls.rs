//! `webhook.listCalls`: our records of the calls that started in a time range, e.g. one day
//! of one company.

use super::WebhookDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::{CallView, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `webhook.listCalls`.
pub struct ListCalls;

/// Most calls one page holds.
pub const MAX_CALLS: u32 = 200;

/// Calls per page when `limit` is left out.
pub const DEFAULT_CALLS: u32 = 100;

/// Params of `webhook.listCalls`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCallsParams {
    /// Company to list; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
    /// Only calls that started at or after this instant (UTC, RFC 3339).
    pub since: DateTime<Utc>,
    /// Only calls that started before this instant (UTC, RFC 3339); after `since`.
    pub until: DateTime<Utc>,
    /// Calls per page, 1–200; default 100.
    #[schemars(range(min = 1, max = MAX_CALLS))]
    pub limit: Option<u32>,
}

/// `result.data` of `webhook.listCalls`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CallList {
    /// The calls, oldest start first (then by call id), each as `webhook.getCall` shows it.
    pub calls: Vec<CallView>,
    /// More calls started in the range: ask again with `since` = the last call's
    /// `started_at` (calls starting at that very instant are then listed again).
    pub truncated: bool,
}

impl Method for ListCalls {
    const NAME: &'static str = "webhook.listCalls";
    const SUMMARY: &'static str = "Lists our records of the phone calls that started in \
        [`since`, `until`) (UTC, RFC 3339; e.g. one day of the company, midnight to midnight in \
        its time zone), oldest first: status, caller and business numbers, start and end (UTC), \
        the appointment data the agent collected, the state of the booking job (`failed` is a \
        dead letter, with its last error) and the appointment made. At most `limit` (1–200, \
        default 100); `truncated` says more are left. `since` not before `until` is -32602.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = WebhookDeps;
    type Params = ListCallsParams;
    type Output = CallList;

    async fn apply(
        p: ListCallsParams,
        grant: TokenGrant,
        deps: Arc<WebhookDeps>,
    ) -> Result<Reply<CallList>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        if p.since >= p.until {
            return Err(RpcError::invalid_params("since must be before until"));
        }
        let limit = p.limit.unwrap_or(DEFAULT_CALLS);
        // One more than asked tells whether the page is the last.
        let mut calls = deps
            .store
            .list_calls(company, p.since, p.until, limit + 1)
            .await
            .map_err(|e| store_error(&e))?;
        let truncated = calls.len() > limit as usize;
        calls.truncate(limit as usize);
        Reply::fresh(CallList { calls, truncated })
    }
}
