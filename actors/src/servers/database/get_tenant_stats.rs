//! `database.getTenantStats`: every company's calls by booking state over a range of local
//! days, each company in its own time zone (operators only).

use super::{DatabaseDeps, check_range, day_start, quarter_day};
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::reports::{CallCounts, StatsGrouping, StatsKey};
use crate::servers::store_error;
use chrono::NaiveDate;
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `database.getTenantStats`.
pub struct GetTenantStats;

/// Params of `database.getTenantStats`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantStatsParams {
    /// First local day (`YYYY-MM-DD`, each company's own time zone), included.
    pub from: NaiveDate,
    /// Last local day, included; at most 92 days counting both.
    pub to: NaiveDate,
}

/// One company of [`TenantStats`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TenantStatsRow {
    /// The company.
    pub company_id: CompanyId,
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Its IANA zone, in which its days are read.
    pub time_zone: String,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Its calls by booking state (as `database.getCallStats` counts them).
    #[serde(flatten)]
    pub counts: CallCounts,
}

/// `result.data` of `database.getTenantStats`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TenantStats {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub to: NaiveDate,
    /// Every company, by slug.
    pub rows: Vec<TenantStatsRow>,
    /// The sums over all companies.
    pub totals: CallCounts,
}

impl Method for GetTenantStats {
    const NAME: &'static str = "database.getTenantStats";
    const SUMMARY: &'static str = "Operators only: every company (by slug, with name, zone and \
        whether it is disabled) with its calls between the local days `from` and `to` \
        (`YYYY-MM-DD`, both included, at most 92 days; each company's own time zone) counted \
        as database.getCallStats counts them: `calls`, `booked`, `unconfirmed`, \
        `missing_data`, `failed`, `pending`; `totals` sums them.";
    const SCOPE: Scope = Scope::Platform;
    const KIND: Kind = Kind::Read;
    type Deps = DatabaseDeps;
    type Params = TenantStatsParams;
    type Output = TenantStats;

    async fn apply(
        p: TenantStatsParams,
        _grant: TokenGrant,
        deps: Arc<DatabaseDeps>,
    ) -> Result<Reply<TenantStats>, RpcError> {
        check_range(p.from, p.to)?;
        let tenants = deps
            .tenants
            .list_tenants()
            .await
            .map_err(|e| store_error(&e))?;
        // A stored zone that does not parse was refused when written; UTC keeps it counted.
        let zones: BTreeMap<CompanyId, Tz> = tenants
            .iter()
            .map(|t| (t.id, t.time_zone.parse().unwrap_or(Tz::UTC)))
            .collect();
        let after = p.to.succ_opt().unwrap_or(p.to);
        let since = zones.values().map(|z| day_start(p.from, *z)).min();
        let until = zones.values().map(|z| day_start(after, *z)).max();
        let mut counts: BTreeMap<CompanyId, CallCounts> = BTreeMap::new();
        if let (Some(since), Some(until)) = (since, until) {
            let found = deps
                .reports
                .call_stats(None, since, until, StatsGrouping::QuarterHour)
                .await
                .map_err(|e| store_error(&e))?;
            for row in found {
                let (Some(zone), StatsKey::QuarterHour(q)) = (zones.get(&row.company_id), row.key)
                else {
                    continue;
                };
                let in_range = quarter_day(q, *zone).is_some_and(|d| d >= p.from && d <= p.to);
                if in_range {
                    counts.entry(row.company_id).or_default().add(&row.counts);
                }
            }
        }
        let mut totals = CallCounts::default();
        let rows = tenants
            .into_iter()
            .map(|t| {
                let counts = counts.get(&t.id).copied().unwrap_or_default();
                totals.add(&counts);
                TenantStatsRow {
                    company_id: t.id,
                    slug: t.slug,
                    name: t.name,
                    time_zone: t.time_zone,
                    disabled: t.disabled_at.is_some(),
                    counts,
                }
            })
            .collect();
        Reply::fresh(TenantStats {
            from: p.from,
            to: p.to,
            rows,
            totals,
        })
    }
}
