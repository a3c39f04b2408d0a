//! `retell.getCallStats`: counts and durations over the calls of the company's Retell agent
//! in a window, read from Retell page by page (capped), and how many of them we recorded.

use super::{CallScan, RetellDeps, Window, agent_of, window};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::call::RetellCall;
use crate::server::require_company;
use crate::servers::store_error;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `retell.getCallStats`.
pub struct GetCallStats;

/// Params of `retell.getCallStats`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallStatsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Calls that started at or after this (UTC, RFC 3339); default: 7 days before `until`.
    pub since: Option<DateTime<Utc>>,
    /// Calls that started at or before this (UTC, RFC 3339); default: now.
    pub until: Option<DateTime<Utc>>,
}

/// `result.data` of `retell.getCallStats`.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct CallStats {
    /// The window of start times counted (UTC).
    pub window: Option<Window>,
    /// Calls counted.
    pub calls: u64,
    /// Calls by Retell's `call_status` (`ended`, `error`, `not_connected`, `ongoing`, …;
    /// `unknown` when missing).
    pub by_status: BTreeMap<String, u64>,
    /// Calls by `disconnection_reason` (`user_hangup`, `agent_hangup`, …; `unknown` when
    /// missing).
    pub by_disconnection_reason: BTreeMap<String, u64>,
    /// Calls by `direction` (`inbound`, `outbound`; `unknown` for web calls).
    pub by_direction: BTreeMap<String, u64>,
    /// Analysed calls by `call_analysis.user_sentiment` (`Positive`, `Negative`, `Neutral`,
    /// `Unknown`).
    pub by_sentiment: BTreeMap<String, u64>,
    /// Analysed calls by `call_analysis.call_successful` (`true`, `false`).
    pub by_success: BTreeMap<String, u64>,
    /// Sum of the calls' durations, milliseconds (calls with a known duration).
    pub total_duration_ms: i64,
    /// Mean duration of the calls with a known duration, milliseconds; `None` when none.
    pub average_duration_ms: Option<i64>,
    /// How many of the counted calls we have a record of (webhooks or an import).
    pub recorded_locally: u64,
    /// Pages read from Retell.
    pub pages: u32,
    /// The page cap stopped the count before Retell's last page: narrow the window.
    pub truncated: bool,
}

impl CallStats {
    fn count(&mut self, call: &RetellCall) {
        fn bump(map: &mut BTreeMap<String, u64>, key: Option<&str>) {
            *map.entry(key.unwrap_or("unknown").to_owned()).or_default() += 1;
        }
        self.calls += 1;
        bump(&mut self.by_status, call.call_status.as_deref());
        bump(
            &mut self.by_disconnection_reason,
            call.disconnection_reason.as_deref(),
        );
        bump(&mut self.by_direction, call.direction.as_deref());
        if let Some(analysis) = &call.call_analysis {
            if let Some(sentiment) = analysis.user_sentiment.as_deref() {
                bump(&mut self.by_sentiment, Some(sentiment));
            }
            if let Some(success) = analysis.call_successful {
                bump(
                    &mut self.by_success,
                    Some(if success { "true" } else { "false" }),
                );
            }
        }
    }
}

/// Length of `call` in ms: Retell's `duration_ms`, else end minus start.
fn duration_ms(call: &RetellCall) -> Option<i64> {
    call.duration_ms.or_else(|| {
        let (start, end) = (call.start_timestamp?, call.end_timestamp?);
        (end >= start).then(|| end - start)
    })
}

impl Method for GetCallStats {
    const NAME: &'static str = "retell.getCallStats";
    const SUMMARY: &'static str = "Statistics of the calls of the company's Retell agent that \
        started in a window (default: the last 7 days; `since`/`until` UTC, RFC 3339), read \
        from Retell's call list: counts by status, disconnection reason, direction, sentiment \
        and success (when analysed), total and average duration in ms, and how many of them \
        we have a record of. Reads at most 20 pages of 100 calls; `truncated` says the window \
        held more.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = CallStatsParams;
    type Output = CallStats;

    async fn apply(
        p: CallStatsParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<CallStats>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let window = window(p.since, p.until, deps.clock.now())?;
        let tenant = deps.tenant(company).await?;
        let agent = agent_of(&tenant)?;
        let mut scan = CallScan::new(agent, window);
        let mut stats = CallStats {
            window: Some(window),
            ..CallStats::default()
        };
        let mut durations = (0i64, 0i64);
        while let Some(calls) = scan.next(&tenant.retell).await? {
            for c in &calls {
                stats.count(&c.call);
                if let Some(ms) = duration_ms(&c.call) {
                    durations = (durations.0.saturating_add(ms), durations.1 + 1);
                }
            }
            let ids: Vec<_> = calls.into_iter().map(|c| c.call.call_id).collect();
            let known = deps
                .records
                .known_calls(company, &ids)
                .await
                .map_err(|e| store_error(&e))?;
            stats.recorded_locally += known.len() as u64;
        }
        stats.total_duration_ms = durations.0;
        stats.average_duration_ms = (durations.1 > 0).then(|| durations.0 / durations.1);
        stats.pages = scan.pages;
        stats.truncated = scan.truncated();
        Reply::fresh(stats)
    }
}
