//! `retell.importCalls`: backfills our call records with the finished calls of the company's
//! Retell agent that we never recorded (a webhook lost while we were down, calls before the
//! tenant was set up). Idempotent; never touches a call we know; never books.

use super::{CallScan, RetellDeps, Window, agent_of, window};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::ports::{ImportOutcome, ImportedCall};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::CallObject;
use crate::server::require_company;
use crate::servers::store_error;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `retell.importCalls`.
pub struct ImportCalls;

/// Retell `call_status` values of a call that is over (reference/retell.md §1.3).
const FINISHED: [&str; 3] = ["ended", "error", "not_connected"];

/// Params of `retell.importCalls`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportCallsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Calls that started at or after this (UTC, RFC 3339); default: 7 days before `until`.
    pub since: Option<DateTime<Utc>>,
    /// Calls that started at or before this (UTC, RFC 3339); default: now.
    pub until: Option<DateTime<Utc>>,
}

/// `result.data` of `retell.importCalls`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportReport {
    /// The window of start times read (UTC).
    pub window: Window,
    /// Calls of the company's agent Retell listed in the window.
    pub scanned: u64,
    /// Finished calls recorded now.
    pub imported: u64,
    /// Finished calls we had recorded already (left as they were).
    pub already_known: u64,
    /// Finished calls recorded for another company, or made to another company's number:
    /// left untouched, not imported.
    pub skipped_foreign: u64,
    /// Calls not over yet (`registered`, `ongoing`): their webhooks will record them.
    pub not_ended: u64,
    /// Pages read from Retell.
    pub pages: u32,
    /// The page cap (20 pages of 100 calls) stopped the import before Retell's last page:
    /// run it again with an earlier `until`.
    pub truncated: bool,
}

/// The record of a finished call, or `None` for a call not over yet.
fn imported(company: CompanyId, c: CallObject, now: DateTime<Utc>) -> Option<ImportedCall> {
    let status = c.call.call_status.clone()?;
    if !FINISHED.contains(&status.as_str()) {
        return None;
    }
    let call = c.call;
    let analysis = call.call_analysis.clone().unwrap_or_default();
    Some(ImportedCall {
        company_id: company,
        business_number: call.business_number().map(str::to_owned),
        started_at: call.started_at(),
        ended_at: call.ended_at(),
        call_id: call.call_id,
        status,
        from_number: call.from_number,
        to_number: call.to_number,
        direction: call.direction,
        duration_ms: call.duration_ms,
        disconnection_reason: call.disconnection_reason,
        summary: analysis.call_summary,
        sentiment: analysis.user_sentiment,
        payload: c.raw.to_string(),
        imported_at: now,
    })
}

impl Method for ImportCalls {
    const NAME: &'static str = "retell.importCalls";
    const SUMMARY: &'static str = "Backfills our call records from Retell: reads the calls of \
        the company's agent that started in a window (default: the last 7 days; `since`/`until` \
        UTC, RFC 3339) and records each finished one (`ended`, `error`, `not_connected`) we do \
        not know — numbers, branch, start and end, duration, disconnection reason, analysis, \
        the call object. Idempotent: a second run imports nothing. A known call is never \
        changed, a call of another company never touched, and no booking is made for an \
        imported call. Reads at most 20 pages of 100 calls (`truncated`).";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Write;
    type Deps = RetellDeps;
    type Params = ImportCallsParams;
    type Output = ImportReport;

    async fn apply(
        p: ImportCallsParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<ImportReport>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let now = deps.clock.now();
        let window = window(p.since, p.until, now)?;
        let tenant = deps.tenant(company).await?;
        let agent = agent_of(&tenant)?;
        let mut scan = CallScan::new(agent, window);
        let mut report = ImportReport {
            window,
            scanned: 0,
            imported: 0,
            already_known: 0,
            skipped_foreign: 0,
            not_ended: 0,
            pages: 0,
            truncated: false,
        };
        while let Some(calls) = scan.next(&tenant.retell).await? {
            let listed = calls.len();
            report.scanned += listed as u64;
            let finished: Vec<ImportedCall> = calls
                .into_iter()
                .filter_map(|c| imported(company, c, now))
                .collect();
            report.not_ended += (listed - finished.len()) as u64;
            let outcomes = deps
                .records
                .import_calls(&finished)
                .await
                .map_err(|e| store_error(&e))?;
            for outcome in outcomes {
                match outcome {
                    ImportOutcome::Imported => report.imported += 1,
                    ImportOutcome::AlreadyKnown => report.already_known += 1,
                    ImportOutcome::Foreign => report.skipped_foreign += 1,
                }
            }
        }
        report.pages = scan.pages;
        report.truncated = scan.truncated();
        Reply::fresh(report)
    }
}
