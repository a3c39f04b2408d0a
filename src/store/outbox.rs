//! [`OutboxStore`]: the durable outbox as its workers use it — claim due jobs under a
//! lease, complete or fail them, and record that the worker is alive.

use super::AnyStore;
use super::calls::{enqueue, insert_appointment_in};
use super::rows::JobRow;
use super::sql::{Sql, backend, job_not_found};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;
use switchboard_actors::ports::{OutboxStore, StoreError};
use switchboard_actors::records::{Job, JobFailure, NewAppointment, NewJob, WorkerHeartbeat};

/// `now + lease`, saturating at the largest instant chrono represents: a lease too long
/// for the calendar holds "forever" instead of failing.
pub(super) fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl AnyStore {
    /// Dead-letters a claimed row that cannot become a [`Job`], so it stops being claimed
    /// and shows up in `queue.getFailedJobs` with the reason.
    async fn dead_letter_corrupt(&self, job_id: i64, error: &StoreError) -> Result<(), StoreError> {
        tracing::error!(job_id, %error, "dead-lettering a job that cannot be decoded");
        self.fail_job(
            job_id,
            &JobFailure {
                error: error.to_string(),
                retry_at: None,
            },
        )
        .await
    }
}

/// How long the row of a worker that stopped heartbeating is kept, for operators reading the
/// table after an incident; every heartbeat deletes older ones.
const WORKER_ROW_KEPT: chrono::TimeDelta = chrono::TimeDelta::days(1);

#[async_trait]
impl OutboxStore for AnyStore {
    async fn claim_due_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // One statement: the pick and the lease cannot be split by another claimer (see
        // `Dialect::claim_lock` for how PostgreSQL keeps concurrent claimers apart).
        let sql = format!(
            "UPDATE jobs SET status = 'running', locked_until = $2, \
                 attempts = attempts + 1, updated_at = $1 \
             WHERE id IN ( \
                 SELECT id FROM jobs \
                 WHERE (status = 'pending' AND next_run_at <= $1) \
                    OR (status = 'running' AND locked_until < $1) \
                 ORDER BY next_run_at, id LIMIT $3 {}) \
             RETURNING id, queue, kind, company_id, call_id, idempotency_key, payload, \
                 attempts, max_attempts, created_at, trace_parent",
            self.db.dialect().claim_lock()
        );
        let rows: Vec<JobRow> = self
            .db
            .retry(|| {
                self.db.fetch_all(
                    Sql::new(sql.as_str())
                        .bind(now)
                        .bind(lease_end(now, lease))
                        .bind(i64::from(limit)),
                )
            })
            .await
            .map_err(backend)?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match row.into_job() {
                Ok(job) => jobs.push(job),
                // The claimed good jobs must still be returned: failing here would leave them
                // running, unworked, until their lease ends. An unrecorded dead letter is
                // simply claimed again when its lease ends.
                Err(error) => {
                    if let Err(e) = self.dead_letter_corrupt(id, &error).await {
                        tracing::error!(job_id = id, error = %e, "recording a corrupt job as a dead letter failed");
                    }
                }
            }
        }
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    async fn complete_booking_job(
        &self,
        job_id: i64,
        appointment: &NewAppointment,
        follow_up: &[NewJob],
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        let id = self
            .db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                let done = tx
                    .execute(
                        Sql::new(
                            "UPDATE jobs SET status = 'done', locked_until = NULL, \
                                 last_error = NULL, updated_at = $2 \
                             WHERE id = $1",
                        )
                        .bind(job_id)
                        .bind(now),
                    )
                    .await?;
                if done == 0 {
                    return Ok(None);
                }
                let id = insert_appointment_in(&mut tx, appointment, now).await?;
                if id.is_ok() {
                    for job in follow_up {
                        enqueue(&mut tx, job, now).await?;
                    }
                    tx.commit().await?;
                }
                Ok(Some(id))
            })
            .await
            .map_err(backend)?;
        Ok(id.ok_or_else(|| job_not_found(job_id))??)
    }

    async fn fail_job(&self, job_id: i64, failure: &JobFailure) -> Result<(), StoreError> {
        let now = Utc::now();
        let status = if failure.retry_at.is_some() {
            "pending"
        } else {
            "failed"
        };
        let exists = self
            .db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                // A job another worker already completed stays done: a late failure report
                // from an expired lease must not schedule a second booking. On PostgreSQL a
                // completion in flight holds the row; this update waits for it and then
                // re-checks the status.
                let updated = tx
                    .execute(
                        Sql::new(
                            "UPDATE jobs SET status = $2, \
                                 next_run_at = COALESCE($3, next_run_at), \
                                 locked_until = NULL, last_error = $4, updated_at = $5 \
                             WHERE id = $1 AND status <> 'done'",
                        )
                        .bind(job_id)
                        .bind(status)
                        .bind(failure.retry_at)
                        .bind(failure.error.as_str())
                        .bind(now),
                    )
                    .await?;
                let exists = updated > 0
                    || tx
                        .fetch_optional::<(i64,)>(
                            Sql::new("SELECT id FROM jobs WHERE id = $1").bind(job_id),
                        )
                        .await?
                        .is_some();
                tx.commit().await?;
                Ok(exists)
            })
            .await
            .map_err(backend)?;
        if exists {
            Ok(())
        } else {
            Err(job_not_found(job_id))
        }
    }

    async fn heartbeat_worker(&self, heartbeat: &WorkerHeartbeat) -> Result<(), StoreError> {
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new(
                        "INSERT INTO outbox_workers \
                             (worker_id, host, pid, started_at, last_heartbeat_at) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (worker_id) DO UPDATE SET \
                             host = excluded.host, \
                             pid = excluded.pid, \
                             started_at = excluded.started_at, \
                             last_heartbeat_at = excluded.last_heartbeat_at",
                    )
                    .bind(heartbeat.worker_id.as_str())
                    .bind(heartbeat.host.as_str())
                    .bind(i64::from(heartbeat.pid))
                    .bind(heartbeat.started_at)
                    .bind(heartbeat.at),
                )
            })
            .await
            .map_err(backend)?;
        // Every start is a new worker id: without this the table grew by a row per restart.
        // A clock so early that a day cannot be subtracted has nothing older to delete; never
        // fall back to `at`, which would delete every other worker's live row.
        let Some(stale) = heartbeat.at.checked_sub_signed(WORKER_ROW_KEPT) else {
            return Ok(());
        };
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new("DELETE FROM outbox_workers WHERE last_heartbeat_at < $1").bind(stale),
                )
            })
            .await
            .map_err(backend)?;
        Ok(())
    }
}
