//! `DatabaseServer`: reports over the stored calls, jobs and appointments (DESIGN §6
//! `database`): call counts per local day, branch or service (`getCallStats`) and per
//! company (`getTenantStats`), dead-lettered bookings with what the caller said
//! (`getFailedAppointments`), search by name, number or id (`search`), and read-only SQL
//! over documented, tenant-scoped views (`getSchema`, `query`; checked and rewritten by
//! [`sql_guard`](crate::domain::sql_guard)).
//!
//! Tenancy: a company token reads only its own company. For `getCallStats` an admin token
//! must name `company_id` (the counts are in that company's time zone; all companies at once
//! is `getTenantStats`); `getFailedAppointments` and `search` without `company_id` cover
//! every company for an admin token; `query` runs as one company, which an admin token must
//! name. One file per method, listed once in `method_list!` below.

use crate::domain::ids::CompanyId;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::ports::{ReportStore, TenancyStore, TenantAdminStore};
use crate::registry::{MethodSpec, MethodTable};
use crate::supervision::RestartBudget;
use actix::prelude::*;
use chrono::{DateTime, Duration as Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use std::sync::Arc;
use std::time::Duration;

/// Longest date range of the stats methods, in days (`from` and `to` included).
pub const MAX_RANGE_DAYS: i64 = 92;

/// Limits of `database.query` (`[database.query]` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most rows one query returns (a smaller `limit` is taken as given).
    pub max_rows: u32,
    /// A query running longer is stopped (-32005).
    pub timeout: Duration,
    /// Longest `sql`, in bytes (UTF-8).
    pub max_sql_bytes: usize,
}

/// What the `database.*` methods need.
pub struct DatabaseDeps {
    /// The reports and the query runner.
    pub reports: Arc<dyn ReportStore>,
    /// A company's time zone.
    pub tenancy: Arc<dyn TenancyStore>,
    /// Every company with its zone (`getTenantStats`).
    pub tenants: Arc<dyn TenantAdminStore>,
    /// Limits of `database.query`.
    pub limits: QueryLimits,
}

pub mod get_call_stats;
pub mod get_failed_appointments;
pub mod get_schema;
pub mod get_tenant_stats;
pub mod query;
pub mod search;

crate::method_list!(DatabaseDeps:
    get_call_stats::GetCallStats,
    get_tenant_stats::GetTenantStats,
    get_failed_appointments::GetFailedAppointments,
    search::Search,
    get_schema::GetSchema,
    query::Query,
);

/// The `database` server actor.
pub struct DatabaseServer {
    methods: MethodTable<DatabaseDeps>,
    deps: Arc<DatabaseDeps>,
    budget: RestartBudget,
}

impl DatabaseServer {
    /// A server over `deps`.
    pub fn new(deps: DatabaseDeps, budget: RestartBudget) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::new(deps),
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for DatabaseServer {
    type Context = Context<Self>;
}

impl Supervised for DatabaseServer {}

crate::guarded_actor!(DatabaseServer, "database");
crate::method_server!(DatabaseServer);

/// The first instant (UTC) of local day `day` in `zone`: midnight, or on a day that begins in
/// a DST gap the first local minute that exists.
pub fn day_start(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=180)
        .find_map(|m| {
            (midnight + Days::minutes(m))
                .and_local_timezone(zone)
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// The local day in `zone` of UTC quarter hour `quarter` (quarter hours since the epoch).
pub fn quarter_day(quarter: i64, zone: Tz) -> Option<NaiveDate> {
    DateTime::<Utc>::from_timestamp(quarter.checked_mul(900)?, 0)
        .map(|t| t.with_timezone(&zone).date_naive())
}

/// Checks a stats range: `from` not after `to`, at most [`MAX_RANGE_DAYS`] days.
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), RpcError> {
    let days = (to - from).num_days() + 1;
    if days < 1 {
        return Err(RpcError::invalid_params("from must not be after to"));
    }
    if days > MAX_RANGE_DAYS {
        return Err(RpcError::invalid_params(format!(
            "the range holds {days} days; at most {MAX_RANGE_DAYS} are allowed"
        )));
    }
    Ok(())
}

/// 3001 for a company that does not exist.
pub fn company_not_found(company: CompanyId) -> RpcError {
    AppError::new(
        ErrorCode::CompanyNotFound,
        format!("company {company} does not exist"),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Santiago;
    use chrono_tz::Europe::Berlin;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_local_day_runs_midnight_to_midnight_across_dst() {
        // Berlin springs forward on 29 March 2026: that day has 23 hours.
        assert_eq!(
            day_start(date("2026-03-29"), Berlin),
            utc("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            day_start(date("2026-03-30"), Berlin),
            utc("2026-03-29T22:00:00Z")
        );
    }

    #[test]
    fn a_day_that_begins_in_a_dst_gap_starts_at_its_first_minute() {
        // Santiago skipped from 00:00 to 01:00 on 8 September 2024.
        assert_eq!(
            day_start(date("2024-09-08"), Santiago),
            utc("2024-09-08T04:00:00Z")
        );
    }

    #[test]
    fn quarter_hours_fold_into_the_local_day_they_lie_in() {
        let quarter = |t: &str| utc(t).timestamp() / 900;
        assert_eq!(
            quarter_day(quarter("2026-03-28T22:45:00Z"), Berlin),
            Some(date("2026-03-28"))
        );
        assert_eq!(
            quarter_day(quarter("2026-03-28T23:00:00Z"), Berlin),
            Some(date("2026-03-29"))
        );
        assert_eq!(quarter_day(i64::MAX, Berlin), None);
    }

    #[test]
    fn a_range_is_at_most_92_days_and_not_backwards() {
        assert!(check_range(date("2026-01-01"), date("2026-04-02")).is_ok());
        assert_eq!(
            check_range(date("2026-01-01"), date("2026-04-03"))
                .unwrap_err()
                .code,
            -32602
        );
        assert_eq!(
            check_range(date("2026-01-02"), date("2026-01-01"))
                .unwrap_err()
                .code,
            -32602
        );
    }
}
