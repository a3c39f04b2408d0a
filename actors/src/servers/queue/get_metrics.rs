//! `queue.getMetrics`: outbox throughput per minute and job latency over a recent window.

use super::QueueDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::records::{JOB_LATENCY_BUCKETS_MS, MinuteCounts, QueueMetricsRows, TokenGrant};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::optional_company;
use crate::servers::store_error;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Window when the params name none: the last hour.
pub const DEFAULT_MINUTES: u32 = 60;
/// Longest window: one day.
pub const MAX_MINUTES: u32 = 1440;

/// `queue.getMetrics`.
pub struct GetMetrics;

/// Params of `queue.getMetrics`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsParams {
    /// Company to measure; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
    /// Length of the window in minutes, ending now, 1–1440; default 60.
    #[schemars(range(min = 1, max = MAX_MINUTES))]
    pub minutes: Option<u32>,
}

/// Job latency percentiles (`updated_at − created_at` of the jobs that became `done`), in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LatencyMs {
    /// Median: the upper bound of the histogram bucket holding it (buckets 10, 25, 50, 100,
    /// 250, 500 ms, 1, 2.5, 5, 10, 30, 60 s, 5 min, 1 h); a percentile beyond 1 h is reported
    /// as 3,600,000. `None` when no job finished in the window.
    pub p50: Option<u64>,
    /// 95th percentile, read the same way.
    pub p95: Option<u64>,
    /// Jobs the percentiles are computed over.
    pub samples: u64,
}

/// `result.data` of `queue.getMetrics`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct QueueMetrics {
    /// Start of the window (UTC); jobs that finished at or after it count.
    pub since: DateTime<Utc>,
    /// End of the window (UTC): when the metrics were read.
    pub as_of: DateTime<Utc>,
    /// Every UTC minute of the window, oldest first, with zeros for quiet minutes: jobs that
    /// became `done` (processed) and dead letters (`failed`).
    pub per_minute: Vec<MinuteCounts>,
    /// Jobs processed in the whole window.
    pub processed: u64,
    /// Dead letters in the whole window.
    pub failed: u64,
    /// Latency of the processed jobs.
    pub latency_ms: LatencyMs,
}

impl Method for GetMetrics {
    const NAME: &'static str = "queue.getMetrics";
    const SUMMARY: &'static str = "Measures the durable outbox (background jobs such as bookings) \
        over the last `minutes` (default 60): jobs processed and jobs that became dead letters \
        per UTC minute, their totals, and the p50/p95 job latency in ms (enqueued to done). Use \
        it to see whether bookings keep up and whether failures cluster in time.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = QueueDeps;
    type Params = MetricsParams;
    type Output = QueueMetrics;

    async fn apply(
        p: MetricsParams,
        grant: TokenGrant,
        deps: Arc<QueueDeps>,
    ) -> Result<Reply<QueueMetrics>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let as_of = deps.clock.now();
        let since = as_of - TimeDelta::minutes(p.minutes.unwrap_or(DEFAULT_MINUTES).into());
        let rows = deps
            .store
            .queue_metrics(company, since)
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(metrics(rows, since, as_of))
    }
}

/// Fills the quiet minutes of `[since, as_of]` and reads the percentiles off the histogram.
fn metrics(rows: QueueMetricsRows, since: DateTime<Utc>, as_of: DateTime<Utc>) -> QueueMetrics {
    let minute = TimeDelta::minutes(1);
    let first = since.duration_trunc(minute).unwrap_or(since);
    let mut counted = rows.minutes.into_iter().peekable();
    let mut per_minute = Vec::new();
    let mut at = first;
    while at <= as_of {
        let mut entry = MinuteCounts {
            minute: at,
            processed: 0,
            failed: 0,
        };
        while let Some(row) = counted.next_if(|row| row.minute <= at) {
            if row.minute == at {
                entry = row;
            }
        }
        per_minute.push(entry);
        at += minute;
    }
    let samples: u64 = rows.latency_buckets.iter().sum();
    QueueMetrics {
        since,
        as_of,
        processed: per_minute.iter().map(|m| m.processed).sum(),
        failed: per_minute.iter().map(|m| m.failed).sum(),
        per_minute,
        latency_ms: LatencyMs {
            p50: percentile(&rows.latency_buckets, 50),
            p95: percentile(&rows.latency_buckets, 95),
            samples,
        },
    }
}

/// The upper bound (ms) of the bucket that holds the `pct`-th percentile (nearest rank), the
/// largest bound for the overflow bucket; `None` for an empty histogram.
fn percentile(buckets: &[u64], pct: u64) -> Option<u64> {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (total * pct).div_ceil(100).max(1);
    let mut seen = 0;
    let largest = JOB_LATENCY_BUCKETS_MS[JOB_LATENCY_BUCKETS_MS.len() - 1];
    for (i, count) in buckets.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return Some(JOB_LATENCY_BUCKETS_MS.get(i).copied().unwrap_or(largest));
        }
    }
    Some(largest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, s).unwrap()
    }

    fn buckets(pairs: &[(usize, u64)]) -> Vec<u64> {
        let mut b = vec![0; JOB_LATENCY_BUCKETS_MS.len() + 1];
        for &(i, n) in pairs {
            b[i] = n;
        }
        b
    }

    #[test]
    fn percentiles_are_bucket_upper_bounds_by_nearest_rank() {
        // 90 jobs ≤ 100 ms (bucket 3), 10 jobs ≤ 2.5 s (bucket 7).
        let b = buckets(&[(3, 90), (7, 10)]);
        assert_eq!(percentile(&b, 50), Some(100));
        assert_eq!(percentile(&b, 90), Some(100));
        assert_eq!(percentile(&b, 95), Some(2_500));
    }

    #[test]
    fn empty_histogram_has_no_percentiles() {
        assert_eq!(percentile(&buckets(&[]), 50), None);
    }

    #[test]
    fn overflow_bucket_reports_the_largest_bound() {
        assert_eq!(percentile(&buckets(&[(14, 3)]), 95), Some(3_600_000));
    }

    #[test]
    fn quiet_minutes_are_filled_with_zeros_and_totals_add_up() {
        let rows = QueueMetricsRows {
            minutes: vec![
                MinuteCounts {
                    minute: at(10, 1, 0),
                    processed: 4,
                    failed: 1,
                },
                MinuteCounts {
                    minute: at(10, 3, 0),
                    processed: 2,
                    failed: 0,
                },
            ],
            latency_buckets: buckets(&[(2, 6)]),
        };
        let m = metrics(rows, at(10, 0, 30), at(10, 3, 30));
        let minutes: Vec<_> = m.per_minute.iter().map(|e| e.minute).collect();
        assert_eq!(
            minutes,
            vec![at(10, 0, 0), at(10, 1, 0), at(10, 2, 0), at(10, 3, 0)]
        );
        let processed: Vec<_> = m.per_minute.iter().map(|e| e.processed).collect();
        assert_eq!(processed, vec![0, 4, 0, 2]);
        assert_eq!((m.processed, m.failed), (6, 1));
        assert_eq!(m.latency_ms.samples, 6);
        assert_eq!(m.latency_ms.p50, Some(50));
    }
}
