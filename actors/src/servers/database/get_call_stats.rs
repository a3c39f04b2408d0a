//! `database.getCallStats`: a company's calls by booking state per local day, branch or
//! service. Its result is the contract of the dashboard's charts: keep its shape.

use super::{DatabaseDeps, check_range, company_not_found, day_start, quarter_day};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::reports::{CallCounts, StatsGrouping, StatsKey};
use crate::server::require_company;
use crate::servers::store_error;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `database.getCallStats`.
pub struct GetCallStats;

/// How the calls are grouped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// One row per local day of the range, days without calls included.
    #[default]
    Day,
    /// One row per branch that was called.
    Branch,
    /// One row per service the callers chose.
    Service,
}

/// Params of `database.getCallStats`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallStatsParams {
    /// Company; defaults to the token's company. An admin token must name one.
    pub company_id: Option<CompanyId>,
    /// First local day (`YYYY-MM-DD`, the company's time zone), included.
    pub from: NaiveDate,
    /// Last local day, included; at most 92 days after `from` counting both.
    pub to: NaiveDate,
    /// `day` (default), `branch` or `service`.
    #[serde(default)]
    pub group_by: GroupBy,
}

/// One group of [`CallStats`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct StatsGroupRow {
    /// The local day (`YYYY-MM-DD`), the branch's name or the service's name; `null` for
    /// calls without a branch or a chosen service.
    pub key: Option<String>,
    /// The group's calls by booking state.
    #[serde(flatten)]
    pub counts: CallCounts,
}

/// `result.data` of `database.getCallStats`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CallStats {
    /// The company.
    pub company_id: CompanyId,
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub to: NaiveDate,
    /// The company's IANA zone the days are read in.
    pub time_zone: String,
    /// The grouping used.
    pub group_by: GroupBy,
    /// By day: every day from `from` to `to` in order. By branch or service: the groups with
    /// calls, most calls first (then by name).
    pub rows: Vec<StatsGroupRow>,
    /// The sums over all rows.
    pub totals: CallCounts,
}

impl Method for GetCallStats {
    const NAME: &'static str = "database.getCallStats";
    const SUMMARY: &'static str = "Counts a company's calls that started between the local \
        days `from` and `to` (`YYYY-MM-DD`, both included, at most 92 days; the company's time \
        zone, DST-correct), grouped by `group_by`: `day` (default; every day of the range), \
        `branch` or `service`. Each row has `key` (the day, branch name or service name) and \
        `calls`, `booked` (an appointment was made), `unconfirmed` (complete data the caller \
        never confirmed), `missing_data` (a required field missing), `failed` (the booking is \
        a dead letter) and `pending` (the booking job waits or runs); `totals` sums them. A \
        company token reads its own company; an admin token must name `company_id`.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = DatabaseDeps;
    type Params = CallStatsParams;
    type Output = CallStats;

    async fn apply(
        p: CallStatsParams,
        grant: TokenGrant,
        deps: Arc<DatabaseDeps>,
    ) -> Result<Reply<CallStats>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        check_range(p.from, p.to)?;
        let profile = deps
            .tenancy
            .company(company)
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| company_not_found(company))?;
        let zone = profile.time_zone;
        let grouping = match p.group_by {
            GroupBy::Day => StatsGrouping::QuarterHour,
            GroupBy::Branch => StatsGrouping::Branch,
            GroupBy::Service => StatsGrouping::Service,
        };
        let since = day_start(p.from, zone);
        let until = day_start(p.to.succ_opt().unwrap_or(p.to), zone);
        let found = deps
            .reports
            .call_stats(Some(company), since, until, grouping)
            .await
            .map_err(|e| store_error(&e))?;
        let mut groups: BTreeMap<Option<String>, CallCounts> = BTreeMap::new();
        if p.group_by == GroupBy::Day {
            for day in p.from.iter_days().take_while(|d| *d <= p.to) {
                groups.insert(Some(day.to_string()), CallCounts::default());
            }
        }
        for row in found {
            let key = match row.key {
                StatsKey::QuarterHour(q) => quarter_day(q, zone).map(|d| d.to_string()),
                StatsKey::Label(label) => label,
            };
            // A quarter hour outside the range cannot come back; ignore it if it does.
            if p.group_by == GroupBy::Day && !groups.contains_key(&key) {
                continue;
            }
            groups.entry(key).or_default().add(&row.counts);
        }
        let mut totals = CallCounts::default();
        let mut rows: Vec<StatsGroupRow> = groups
            .into_iter()
            .map(|(key, counts)| {
                totals.add(&counts);
                StatsGroupRow { key, counts }
            })
            .collect();
        if p.group_by != GroupBy::Day {
            rows.sort_by(|a, b| b.counts.calls.cmp(&a.counts.calls).then(a.key.cmp(&b.key)));
        }
        Reply::fresh(CallStats {
            company_id: company,
            from: p.from,
            to: p.to,
            time_zone: zone.name().to_owned(),
            group_by: p.group_by,
            rows,
            totals,
        })
    }
}
