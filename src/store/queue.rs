//! [`QueueAdminStore`]: the outbox as operators see it (`queue.*`) — overview, listings,
//! metrics, live workers, and putting dead letters back.

use super::AnyStore;
use super::rows::{
    JobListingRow, JobViewRow, LatencyBucketRow, MinuteRow, QueueOverviewRow, WorkerRow,
    latency_histogram,
};
use super::sql::{Arg, Sql, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{QueueAdminStore, StoreError};
use switchboard_actors::records::{
    FailedJob, JOB_LATENCY_BUCKETS_MS, JobStatus, QueueMetricsRows, QueueOverview, RecentJob,
    RetryOutcome, WorkerView,
};

/// The index in [`JOB_LATENCY_BUCKETS_MS`] of the bucket a latency of `ms` milliseconds
/// falls in (bounds inclusive), or the overflow index, as a BIGINT expression.
fn latency_bucket(ms: &str) -> String {
    let mut case = String::from("CAST(CASE");
    for (index, bound) in JOB_LATENCY_BUCKETS_MS.iter().enumerate() {
        let _ = write!(case, " WHEN {ms} <= {bound} THEN {index}");
    }
    let _ = write!(
        case,
        " ELSE {} END AS BIGINT)",
        JOB_LATENCY_BUCKETS_MS.len()
    );
    case
}

impl AnyStore {
    /// The jobs of a queue listing, newest (highest id) first, at most `limit`: those of
    /// `company` (all when `None`) that match `filter`, a condition on `$2` = `filter_arg`.
    async fn job_listing(
        &self,
        filter: &str,
        company: Option<CompanyId>,
        filter_arg: Arg<'_>,
        limit: u32,
    ) -> Result<Vec<JobListingRow>, StoreError> {
        let sql = format!(
            "{} WHERE ($1 IS NULL OR company_id = $1) AND {filter} ORDER BY id DESC LIMIT $3",
            self.db.dialect().job_listing_from()
        );
        self.db
            .fetch_all(
                Sql::new(sql)
                    .bind(company.map(|c| c.0))
                    .bind(filter_arg)
                    .bind(i64::from(limit)),
            )
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl QueueAdminStore for AnyStore {
    async fn queue_overview(
        &self,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, StoreError> {
        // One statement is one snapshot: the counts and the lag signals agree. "Due",
        // "expired" and the ages use the same comparisons as `claim_due_jobs`; `jobs.queue`
        // is COLLATE "C" on PostgreSQL, so queues come in SQLite's byte order.
        let rows: Vec<QueueOverviewRow> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT queue, \
                         COUNT(*) FILTER (WHERE status = 'pending') AS pending, \
                         COUNT(*) FILTER (WHERE status = 'running') AS running, \
                         COUNT(*) FILTER (WHERE status = 'done') AS done, \
                         COUNT(*) FILTER (WHERE status = 'failed') AS failed, \
                         COUNT(*) FILTER (WHERE status = 'pending' AND next_run_at <= $2) \
                             AS due, \
                         MIN(created_at) FILTER (WHERE status = 'pending' AND next_run_at <= $2) \
                             AS oldest_due_created_at, \
                         COUNT(*) FILTER (WHERE status = 'running' AND locked_until < $2) \
                             AS expired_leases, \
                         MIN(next_run_at) FILTER (WHERE status = 'pending' AND next_run_at > $2) \
                             AS next_due_at \
                     FROM jobs WHERE $1 IS NULL OR company_id = $1 \
                     GROUP BY queue ORDER BY queue",
                )
                .bind(company.map(|c| c.0))
                .bind(now),
            )
            .await
            .map_err(backend)?;
        Ok(QueueOverview {
            as_of: now,
            queues: rows
                .into_iter()
                .map(|row| row.into_summary(now))
                .collect::<Result<_, _>>()?,
        })
    }

    async fn failed_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<FailedJob>, StoreError> {
        let rows = self
            .job_listing(
                "status = 'failed' AND ($2 IS NULL OR id < $2)",
                company,
                before_id.into(),
                limit,
            )
            .await?;
        rows.into_iter().map(JobListingRow::into_failed).collect()
    }

    async fn recent_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        status: Option<JobStatus>,
    ) -> Result<Vec<RecentJob>, StoreError> {
        let rows = self
            .job_listing(
                "($2 IS NULL OR status = $2)",
                company,
                status.map(JobStatus::as_str).into(),
                limit,
            )
            .await?;
        rows.into_iter().map(JobListingRow::into_recent).collect()
    }

    async fn queue_metrics(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
    ) -> Result<QueueMetricsRows, StoreError> {
        let dialect = self.db.dialect();
        let company = company.map(|c| c.0);
        // Both aggregates in one snapshot, so the histogram counts the jobs the minutes do.
        // Each returns at most one row per minute of the window or per bucket, whatever the
        // job volume.
        let minutes_sql = format!(
            "SELECT {} AS minute, \
                 COUNT(*) FILTER (WHERE status = 'done') AS processed, \
                 COUNT(*) FILTER (WHERE status = 'failed') AS failed \
             FROM jobs \
             WHERE status IN ('done', 'failed') AND updated_at >= $2 \
                 AND ($1 IS NULL OR company_id = $1) \
             GROUP BY 1 ORDER BY 1",
            dialect.updated_minute()
        );
        let buckets_sql = format!(
            "SELECT {} AS bucket, COUNT(*) AS jobs FROM ( \
                 SELECT {} AS ms FROM jobs \
                 WHERE status = 'done' AND updated_at >= $2 \
                     AND ($1 IS NULL OR company_id = $1)) AS done \
             GROUP BY 1",
            latency_bucket("ms"),
            dialect.latency_ms()
        );
        let mut tx = self.db.begin_snapshot().await.map_err(backend)?;
        let minutes: Vec<MinuteRow> = tx
            .fetch_all(Sql::new(minutes_sql).bind(company).bind(since))
            .await
            .map_err(backend)?;
        let buckets: Vec<LatencyBucketRow> = tx
            .fetch_all(Sql::new(buckets_sql).bind(company).bind(since))
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(QueueMetricsRows {
            minutes: minutes
                .into_iter()
                .map(MinuteRow::into_counts)
                .collect::<Result<_, _>>()?,
            latency_buckets: latency_histogram(buckets)?,
        })
    }

    async fn workers(&self, alive_since: DateTime<Utc>) -> Result<Vec<WorkerView>, StoreError> {
        let rows: Vec<WorkerRow> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT worker_id, host, pid, started_at, last_heartbeat_at \
                     FROM outbox_workers WHERE last_heartbeat_at >= $1 \
                     ORDER BY last_heartbeat_at DESC, worker_id",
                )
                .bind(alive_since),
            )
            .await
            .map_err(backend)?;
        rows.into_iter().map(WorkerRow::into_view).collect()
    }

    async fn retry_job(
        &self,
        job_id: i64,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError> {
        let company = company.map(|c| c.0);
        // The update and, when it matched nothing, the look at why, in one transaction: the
        // reported status is the one that stopped the retry.
        let (requeued, status) = self
            .db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                let requeued: Option<JobViewRow> = tx
                    .fetch_optional(
                        Sql::new(
                            "UPDATE jobs SET status = 'pending', attempts = 0, \
                                 next_run_at = $3, locked_until = NULL, updated_at = $3 \
                             WHERE id = $1 AND status = 'failed' \
                                 AND ($2 IS NULL OR company_id = $2) \
                             RETURNING id, status, attempts, max_attempts, next_run_at, \
                                 last_error",
                        )
                        .bind(job_id)
                        .bind(company)
                        .bind(now),
                    )
                    .await?;
                let status: Option<(String,)> = if requeued.is_some() {
                    None
                } else {
                    tx.fetch_optional(
                        Sql::new(
                            "SELECT status FROM jobs \
                             WHERE id = $1 AND ($2 IS NULL OR company_id = $2)",
                        )
                        .bind(job_id)
                        .bind(company),
                    )
                    .await?
                };
                tx.commit().await?;
                Ok((requeued, status))
            })
            .await
            .map_err(backend)?;
        match (requeued, status) {
            (Some(row), _) => {
                tracing::info!(job_id, "dead letter requeued by an operator");
                Ok(RetryOutcome::Requeued(row.into_view()?))
            }
            (None, Some((status,))) => JobStatus::parse(&status)
                .map(RetryOutcome::NotFailed)
                .ok_or_else(|| StoreError::Corrupt {
                    table: "jobs",
                    message: format!("unknown status {status:?}"),
                }),
            (None, None) => Ok(RetryOutcome::NotFound),
        }
    }

    async fn retry_failed(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let requeued = self
            .db
            .retry(|| {
                self.db.execute(
                    Sql::new(
                        "UPDATE jobs SET status = 'pending', attempts = 0, next_run_at = $3, \
                             locked_until = NULL, updated_at = $3 \
                         WHERE status = 'failed' AND updated_at >= $2 \
                             AND ($1 IS NULL OR company_id = $1)",
                    )
                    .bind(company.map(|c| c.0))
                    .bind(since)
                    .bind(now),
                )
            })
            .await
            .map_err(backend)?;
        tracing::info!(requeued, %since, "dead letters requeued by an operator");
        Ok(requeued)
    }
}
