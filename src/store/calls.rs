//! [`CallStore`]: live call contexts, webhooks (dedupe, call record, customer, booking
//! job in one transaction), the local call view, and appointments.
//!
//! A Retell call id belongs to the company that first recorded it (`calls.call_id` is
//! unique; Retell's ids are global). Every write keyed by a call id checks that owner in its
//! own transaction and, for another company, writes nothing: the transaction is dropped and
//! the caller gets [`StoreError::ForeignCall`]. The upserts of `calls` also carry the check
//! in their `ON CONFLICT … WHERE`, which catches a first write of the same call id by
//! another company that commits in between (PostgreSQL, READ COMMITTED).

use super::AnyStore;
use super::rows::{
    AppointmentViewRow, BOOK_KIND, CallContextRow, CallEventRow, CallRow, EventFields, JobViewRow,
};
use super::sql::{Sql, Tx, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{CallStore, StoreError};
use switchboard_actors::records::{
    CallContextRecord, CallDetailRecord, CallEventRecord, CallId, CallView, ContextSave,
    EventOutcome, MAX_TRANSCRIPT_BYTES, NewAppointment, NewJob, WebhookStats,
};
use switchboard_actors::trace;

/// A write refused because another company owns its call id; the transaction that found
/// it is dropped, so it rolls back.
pub(super) struct Foreign(CallId);

impl From<Foreign> for StoreError {
    fn from(Foreign(call_id): Foreign) -> Self {
        StoreError::ForeignCall(call_id)
    }
}

/// The result of a write keyed by a call id: done, or [`Foreign`].
pub(super) type Owned<T> = Result<T, Foreign>;

/// Whether `company` may write for `call_id`: the call is not recorded yet, or recorded for
/// `company`.
async fn may_write(tx: &mut Tx, company: CompanyId, call_id: &CallId) -> Result<bool, sqlx::Error> {
    let owner: Option<(i64,)> = tx
        .fetch_optional(
            Sql::new("SELECT company_id FROM calls WHERE call_id = $1").bind(call_id.as_str()),
        )
        .await?;
    Ok(owner.is_none_or(|(owner,)| owner == company.0))
}

/// The local record of `call_id` in `tx`, only of `company` (`None`: any company); with its
/// transcript when `with_transcript` (one call's page, not a list).
async fn call_view_in(
    tx: &mut Tx,
    company: Option<CompanyId>,
    call_id: &str,
    with_transcript: bool,
) -> Result<Option<CallView>, StoreError> {
    let call: Option<CallRow> = tx
        .fetch_optional(
            Sql::new(
                "SELECT call_id, company_id, branch_id, status, from_number, to_number, \
                     direction, started_at, ended_at, duration_ms, disconnection_reason, \
                     summary, sentiment, collected \
                 FROM calls WHERE call_id = $1 AND ($2 IS NULL OR company_id = $2)",
            )
            .bind(call_id)
            .bind(company.map(|c| c.0)),
        )
        .await
        .map_err(backend)?;
    let Some(call) = call else {
        return Ok(None);
    };
    let job: Option<JobViewRow> = tx
        .fetch_optional(
            Sql::new(
                "SELECT id, status, attempts, max_attempts, next_run_at, last_error \
                 FROM jobs WHERE call_id = $1 AND kind = $2 AND company_id = $3 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(call_id)
            .bind(BOOK_KIND)
            .bind(call.company_id),
        )
        .await
        .map_err(backend)?;
    let appointment: Option<AppointmentViewRow> = tx
        .fetch_optional(
            Sql::new(
                "SELECT a.id, a.booking_uid, a.service_name, a.start_at, a.end_at, \
                     a.status \
                 FROM calls c JOIN appointments a ON a.id = c.appointment_id \
                 WHERE c.call_id = $1 AND a.company_id = c.company_id",
            )
            .bind(call_id),
        )
        .await
        .map_err(backend)?;
    // At most one row per stored event name (migration 0010); the limit only guards.
    let events: Vec<CallEventRow> = tx
        .fetch_all(
            Sql::new(
                "SELECT event, received_at, details FROM call_events \
                 WHERE call_id = $1 AND company_id = $2 ORDER BY id LIMIT 16",
            )
            .bind(call_id)
            .bind(call.company_id),
        )
        .await
        .map_err(backend)?;
    let job = job.map(JobViewRow::into_view).transpose()?;
    let mut view = call.into_view(job, appointment.map(AppointmentViewRow::into_view))?;
    view.events = events
        .into_iter()
        .map(CallEventRow::into_view)
        .collect::<Result<_, _>>()?;
    if !with_transcript {
        return Ok(Some(view));
    }
    let (payload,): (Option<String>,) = tx
        .fetch_one(
            Sql::new("SELECT payload FROM calls WHERE call_id = $1 AND company_id = $2")
                .bind(call_id)
                .bind(view.company_id.0),
        )
        .await
        .map_err(backend)?;
    view.transcript = payload.as_deref().and_then(transcript_of);
    Ok(Some(view))
}

/// The `transcript` of a stored Retell call object, cut at a character boundary to at most
/// [`MAX_TRANSCRIPT_BYTES`]; `None` when the payload has none (or is not JSON: the column is
/// checked, so only a hand-edited row gets here).
fn transcript_of(payload: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    let text = value.get("transcript")?.as_str()?;
    let mut end = text.len().min(MAX_TRANSCRIPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

impl AnyStore {
    /// One attempt of [`CallStore::save_call_context`]: the compare-and-set upsert, and when
    /// it wrote nothing, whose call it is, in the same transaction. A call's company never
    /// changes, so a row of ours that was not written holds another version.
    async fn save_context_once(
        &self,
        ctx: &CallContextRecord,
        collected: &str,
        version: i64,
    ) -> Result<Owned<ContextSave>, sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        // Status is only set on insert: a context saved after call_ended must not reopen the
        // call. Only the first version is inserted, over no row or a row without data (a
        // webhook came first: version 0); a later one only replaces its predecessor.
        let text = if version == 1 {
            "INSERT INTO calls (call_id, company_id, branch_id, status, from_number, \
                 to_number, collected, collected_at, created_at, updated_at, context_version) \
             VALUES ($1, $2, $3, 'ongoing', $4, $5, $6, $7, $7, $7, $8) \
             ON CONFLICT (call_id) DO UPDATE SET \
                 branch_id = COALESCE(calls.branch_id, excluded.branch_id), \
                 from_number = COALESCE(calls.from_number, excluded.from_number), \
                 to_number = COALESCE(calls.to_number, excluded.to_number), \
                 collected = excluded.collected, \
                 collected_at = excluded.collected_at, \
                 updated_at = excluded.updated_at, \
                 context_version = excluded.context_version \
             WHERE calls.company_id = excluded.company_id AND calls.collected IS NULL \
             RETURNING id"
        } else {
            "UPDATE calls SET \
                 branch_id = COALESCE(branch_id, $3), \
                 from_number = COALESCE(from_number, $4), \
                 to_number = COALESCE(to_number, $5), \
                 collected = $6, collected_at = $7, updated_at = $7, context_version = $8 \
             WHERE call_id = $1 AND company_id = $2 AND collected IS NOT NULL \
                 AND context_version = $8 - 1 \
             RETURNING id"
        };
        let written: Option<(i64,)> = tx
            .fetch_optional(
                Sql::new(text)
                    .bind(ctx.call_id.as_str())
                    .bind(ctx.company_id.0)
                    .bind(ctx.branch_id.0)
                    .bind(ctx.from_number.as_deref())
                    .bind(ctx.to_number.as_deref())
                    .bind(collected)
                    .bind(ctx.updated_at)
                    .bind(version),
            )
            .await?;
        if written.is_some() {
            tx.commit().await?;
            return Ok(Ok(ContextSave::Saved));
        }
        let ours = may_write(&mut tx, ctx.company_id, &ctx.call_id).await?;
        drop(tx);
        Ok(if ours {
            Ok(ContextSave::Stale)
        } else {
            Err(Foreign(ctx.call_id.clone()))
        })
    }

    async fn record_once(
        &self,
        event: &CallEventRecord,
        fields: &EventFields,
    ) -> Result<Owned<EventOutcome>, sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        // Before the dedupe: a foreign delivery is refused, never counted.
        if !may_write(&mut tx, event.company_id, &event.call_id).await? {
            return Ok(Err(Foreign(event.call_id.clone())));
        }
        // On PostgreSQL a concurrent delivery of the same (company, event, call_id) waits here
        // on the unique key until this transaction ends, then counts itself as a duplicate.
        let (duplicates,): (i64,) = tx
            .fetch_one(
                Sql::new(
                    "INSERT INTO webhook_events \
                         (event, call_id, company_id, received_at, duplicate_count) \
                     VALUES ($1, $2, $3, $4, 0) \
                     ON CONFLICT (company_id, event, call_id) DO UPDATE SET \
                         duplicate_count = webhook_events.duplicate_count + 1 \
                     RETURNING duplicate_count",
                )
                .bind(event.event.as_str())
                .bind(event.call_id.as_str())
                .bind(event.company_id.0)
                .bind(event.received_at),
            )
            .await?;
        if duplicates > 0 {
            tx.commit().await?;
            return Ok(Ok(EventOutcome::Duplicate));
        }

        let customer_id = match &event.customer {
            Some(customer) => Some(
                upsert_customer(
                    &mut tx,
                    event.company_id,
                    &customer.phone,
                    customer.name.as_deref(),
                    customer.email.as_deref(),
                    event.received_at,
                )
                .await?,
            ),
            None => None,
        };
        if !upsert_call(&mut tx, event, fields, customer_id).await? {
            return Ok(Err(Foreign(event.call_id.clone())));
        }
        let job_id = match &event.booking_job {
            Some(job) => Some(enqueue(&mut tx, job, event.received_at).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(Ok(EventOutcome::Recorded { job_id }))
    }
}

/// Finds the customer (`company`, `phone`) or creates it; fills a missing name or email but
/// never replaces one already stored (a later caller may say a shorter name).
async fn upsert_customer(
    tx: &mut Tx,
    company: CompanyId,
    phone: &str,
    name: Option<&str>,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = tx
        .fetch_one(
            Sql::new(
                "INSERT INTO customers (company_id, phone, name, email, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (company_id, phone) DO UPDATE SET \
                     name = COALESCE(customers.name, excluded.name), \
                     email = COALESCE(customers.email, excluded.email), \
                     updated_at = excluded.updated_at \
                 RETURNING id",
            )
            .bind(company.0)
            .bind(phone)
            .bind(name)
            .bind(email)
            .bind(now),
        )
        .await?;
    Ok(id)
}

/// Upserts the `calls` row of a webhook. The status only moves up the ladder
/// registered < ongoing < ended/error/not_connected < analyzed, and the stored call object
/// follows the status, so a late or reordered delivery cannot undo a newer one. Other
/// fields take the new value when the event carries one. Returns `false`, changing nothing,
/// when the call is recorded for another company.
async fn upsert_call(
    tx: &mut Tx,
    event: &CallEventRecord,
    fields: &EventFields,
    customer_id: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let written: Option<(i64,)> = tx.fetch_optional(
        Sql::new(
            "INSERT INTO calls (call_id, company_id, branch_id, status, from_number, to_number, \
                 direction, started_at, ended_at, duration_ms, disconnection_reason, collected, \
                 collected_at, payload, summary, sentiment, customer_id, created_at, \
                 updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                 CASE WHEN $12 IS NULL THEN NULL ELSE $17 END, $13, $14, $15, $16, $17, $17) \
             ON CONFLICT (call_id) DO UPDATE SET \
                 status = CASE WHEN \
                     (CASE excluded.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                         WHEN 'analyzed' THEN 3 ELSE 2 END) \
                     >= (CASE calls.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                         WHEN 'analyzed' THEN 3 ELSE 2 END) \
                     THEN excluded.status ELSE calls.status END, \
                 payload = CASE WHEN \
                     (CASE excluded.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                         WHEN 'analyzed' THEN 3 ELSE 2 END) \
                     >= (CASE calls.status WHEN 'registered' THEN 0 WHEN 'ongoing' THEN 1 \
                         WHEN 'analyzed' THEN 3 ELSE 2 END) \
                     THEN excluded.payload ELSE calls.payload END, \
                 branch_id = COALESCE(calls.branch_id, excluded.branch_id), \
                 from_number = COALESCE(excluded.from_number, calls.from_number), \
                 to_number = COALESCE(excluded.to_number, calls.to_number), \
                 direction = COALESCE(excluded.direction, calls.direction), \
                 started_at = COALESCE(excluded.started_at, calls.started_at), \
                 ended_at = COALESCE(excluded.ended_at, calls.ended_at), \
                 duration_ms = COALESCE(excluded.duration_ms, calls.duration_ms), \
                 disconnection_reason = \
                     COALESCE(excluded.disconnection_reason, calls.disconnection_reason), \
                 collected = COALESCE(excluded.collected, calls.collected), \
                 collected_at = COALESCE(excluded.collected_at, calls.collected_at), \
                 context_version = CASE WHEN excluded.collected IS NULL \
                     THEN calls.context_version WHEN calls.collected IS NULL THEN 1 \
                     ELSE calls.context_version + 1 END, \
                 summary = COALESCE(excluded.summary, calls.summary), \
                 sentiment = COALESCE(excluded.sentiment, calls.sentiment), \
                 customer_id = COALESCE(excluded.customer_id, calls.customer_id), \
                 updated_at = excluded.updated_at \
             WHERE calls.company_id = excluded.company_id \
             RETURNING id",
        )
        .bind(event.call_id.as_str())
        .bind(event.company_id.0)
        .bind(event.branch_id.0)
        .bind(fields.status)
        .bind(event.from_number.as_deref())
        .bind(event.to_number.as_deref())
        .bind(event.direction.as_deref())
        .bind(event.started_at)
        .bind(event.ended_at)
        .bind(event.duration_ms)
        .bind(event.disconnection_reason.as_deref())
        .bind(fields.collected.as_deref())
        .bind(fields.payload.as_str())
        .bind(event.summary.as_deref())
        .bind(event.sentiment.as_deref())
        .bind(customer_id)
        .bind(event.received_at),
    )
    .await?;
    Ok(written.is_some())
}

/// Puts `job` in the outbox unless a job of its company with its idempotency key exists;
/// returns the id of whichever row holds the key. The job keeps the `traceparent` of the
/// current span (the request or job enqueueing it), which its own span links to
/// ([`switchboard_actors::trace`]); every enqueue passes here, so no caller has to carry it.
pub(super) async fn enqueue(
    tx: &mut Tx,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let trace_parent = trace::trace_parent(&tracing::Span::current());
    let inserted: Option<(i64,)> = tx
        .fetch_optional(
            Sql::new(
                "INSERT INTO jobs (queue, kind, company_id, call_id, idempotency_key, payload, \
                     status, attempts, max_attempts, next_run_at, created_at, updated_at, \
                     trace_parent) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9, $10) \
                 ON CONFLICT (company_id, idempotency_key) DO NOTHING \
                 RETURNING id",
            )
            .bind(job.queue.as_str())
            .bind(job.kind.as_str())
            .bind(job.company_id.0)
            .bind(job.call_id.as_ref().map(CallId::as_str))
            .bind(job.idempotency_key.as_str())
            .bind(job.payload.to_string())
            // A job with no attempts would sit in the outbox forever; the caller meant "once".
            .bind(i64::from(job.max_attempts.max(1)))
            .bind(job.run_at)
            .bind(now)
            .bind(trace_parent.as_deref()),
        )
        .await?;
    match inserted {
        Some((id,)) => Ok(id),
        None => {
            let (id,): (i64,) = tx
                .fetch_one(
                    Sql::new("SELECT id FROM jobs WHERE company_id = $1 AND idempotency_key = $2")
                        .bind(job.company_id.0)
                        .bind(job.idempotency_key.as_str()),
                )
                .await?;
            Ok(id)
        }
    }
}

/// Inserts the appointment unless one of its company with its idempotency key exists (or
/// Cal.com's webhook stored its booking uid first: that row is completed instead), finds or
/// creates the attendee as customer, and links the call; returns the appointment id.
/// [`Foreign`], before writing anything, when the call is recorded for another company.
pub(super) async fn insert_appointment_in(
    tx: &mut Tx,
    appointment: &NewAppointment,
    now: DateTime<Utc>,
) -> Result<Owned<i64>, sqlx::Error> {
    if let Some(call_id) = &appointment.call_id
        && !may_write(tx, appointment.company_id, call_id).await?
    {
        return Ok(Err(Foreign(call_id.clone())));
    }
    let customer_id = match &appointment.attendee_phone {
        Some(phone) => Some(
            upsert_customer(
                tx,
                appointment.company_id,
                phone,
                Some(&appointment.attendee_name),
                appointment.attendee_email.as_deref(),
                now,
            )
            .await?,
        ),
        None => None,
    };
    // Cal.com's BOOKING_CREATED webhook may have stored this booking first (source `calcom`)
    // while the job that made it was still running: the booking stays one row, which the job
    // completes. Any other row of the uid is left to the INSERT's unique key (a conflict).
    let learned: Option<(i64,)> = tx
        .fetch_optional(
            Sql::new(
                "SELECT id FROM appointments \
                 WHERE booking_uid = $1 AND company_id = $2 AND source = 'calcom'",
            )
            .bind(appointment.booking_uid.as_str())
            .bind(appointment.company_id.0),
        )
        .await?;
    let id = match learned {
        Some((id,)) => {
            tx.execute(
                Sql::new(
                    "UPDATE appointments SET call_id = COALESCE(call_id, $2), \
                         branch_id = COALESCE(branch_id, $3), \
                         customer_id = COALESCE(customer_id, $4), \
                         service_id = COALESCE(service_id, $5), source = $6, updated_at = $7 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(appointment.call_id.as_ref().map(CallId::as_str))
                .bind(appointment.branch_id.map(|b| b.0))
                .bind(customer_id)
                .bind(appointment.service_id)
                .bind(appointment.source.as_str())
                .bind(now),
            )
            .await?;
            id
        }
        None => insert_new_appointment(tx, appointment, customer_id, now).await?,
    };
    if let Some(call_id) = &appointment.call_id {
        tx.execute(
            Sql::new(
                "UPDATE calls SET appointment_id = $1, \
                     customer_id = COALESCE(customer_id, $2), updated_at = $3 \
                 WHERE call_id = $4 AND company_id = $5",
            )
            .bind(id)
            .bind(customer_id)
            .bind(now)
            .bind(call_id.as_str())
            .bind(appointment.company_id.0),
        )
        .await?;
    }
    Ok(Ok(id))
}

/// Inserts `appointment` unless one of its company with its idempotency key exists; returns
/// the id of whichever row holds the key.
async fn insert_new_appointment(
    tx: &mut Tx,
    appointment: &NewAppointment,
    customer_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    // On PostgreSQL a concurrent insert of the same key makes this one wait for its commit
    // and then do nothing; the SELECT below (a fresh READ COMMITTED snapshot) sees the
    // winner's row.
    let inserted: Option<(i64,)> = tx
        .fetch_optional(
            Sql::new(
                "INSERT INTO appointments (company_id, branch_id, call_id, customer_id, \
                     booking_uid, calcom_booking_id, event_type_id, service_id, service_name, \
                     start_at, end_at, attendee_name, attendee_phone, attendee_email, status, \
                     idempotency_key, source, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                     'scheduled', $15, $16, $17, $17) \
                 ON CONFLICT (company_id, idempotency_key) DO NOTHING \
                 RETURNING id",
            )
            .bind(appointment.company_id.0)
            .bind(appointment.branch_id.map(|b| b.0))
            .bind(appointment.call_id.as_ref().map(CallId::as_str))
            .bind(customer_id)
            .bind(appointment.booking_uid.as_str())
            .bind(appointment.calcom_booking_id)
            .bind(appointment.event_type_id.0)
            .bind(appointment.service_id)
            .bind(appointment.service_name.as_str())
            .bind(appointment.start)
            .bind(appointment.end)
            .bind(appointment.attendee_name.as_str())
            .bind(appointment.attendee_phone.as_deref())
            .bind(appointment.attendee_email.as_deref())
            .bind(appointment.idempotency_key.as_str())
            .bind(appointment.source.as_str())
            .bind(now),
        )
        .await?;
    match inserted {
        Some((id,)) => Ok(id),
        None => {
            let (id,): (i64,) = tx
                .fetch_one(
                    Sql::new(
                        "SELECT id FROM appointments \
                         WHERE company_id = $1 AND idempotency_key = $2",
                    )
                    .bind(appointment.company_id.0)
                    .bind(appointment.idempotency_key.as_str()),
                )
                .await?;
            Ok(id)
        }
    }
}

#[async_trait]
impl CallStore for AnyStore {
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<ContextSave, StoreError> {
        let collected = serde_json::to_string(&ctx.collected)
            .map_err(|e| StoreError::backend(format!("collected: {e}")))?;
        let version = i64::try_from(ctx.version)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| StoreError::backend(format!("context version {}", ctx.version)))?;
        Ok(self
            .db
            .retry(|| self.save_context_once(ctx, &collected, version))
            .await
            .map_err(backend)??)
    }

    async fn load_call_context(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError> {
        // One round trip: the owner's row with data, or any row of another company (its data
        // masked, never decoded) so it can be refused.
        let row: Option<CallContextRow> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT call_id, company_id, branch_id, from_number, to_number, \
                         COALESCE(collected, '{}') AS collected, \
                         COALESCE(collected_at, created_at) AS updated_at, \
                         context_version AS version \
                     FROM calls \
                     WHERE call_id = $1 AND (collected IS NOT NULL OR company_id <> $2)",
                )
                .bind(call_id.as_str())
                .bind(company.0),
            )
            .await
            .map_err(backend)?;
        if row.as_ref().is_some_and(|row| row.company_id != company.0) {
            return Err(StoreError::ForeignCall(call_id.clone()));
        }
        row.map(CallContextRow::into_record).transpose()
    }

    async fn call_context_version(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<u64, StoreError> {
        let row: Option<(i64, i64)> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT company_id, \
                         CASE WHEN collected IS NULL THEN 0 ELSE context_version END \
                     FROM calls WHERE call_id = $1",
                )
                .bind(call_id.as_str()),
            )
            .await
            .map_err(backend)?;
        match row {
            None => Ok(0),
            Some((owner, _)) if owner != company.0 => Err(StoreError::ForeignCall(call_id.clone())),
            Some((_, version)) => u64::try_from(version)
                .map_err(|_| super::rows::corrupt("calls", format!("context_version {version}"))),
        }
    }

    async fn record_call_event(&self, event: &CallEventRecord) -> Result<EventOutcome, StoreError> {
        let fields = EventFields::of(event)?;
        let outcome = self
            .db
            .retry(|| self.record_once(event, &fields))
            .await
            .map_err(backend)??;
        tracing::debug!(
            call_id = %event.call_id,
            event = event.event.as_str(),
            ?outcome,
            "webhook recorded"
        );
        Ok(outcome)
    }

    async fn get_call(
        &self,
        company: Option<CompanyId>,
        call_id: &CallId,
    ) -> Result<Option<CallView>, StoreError> {
        // One snapshot, so the job and the appointment are seen as of the same commit.
        let mut tx = self.db.begin_snapshot().await.map_err(backend)?;
        let view = call_view_in(&mut tx, company, call_id.as_str(), true).await?;
        tx.commit().await.map_err(backend)?;
        Ok(view)
    }

    async fn list_calls(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CallView>, StoreError> {
        // One snapshot for the list and every call's job and appointment.
        let mut tx = self.db.begin_snapshot().await.map_err(backend)?;
        let ids: Vec<(String,)> = tx
            .fetch_all(
                Sql::new(
                    "SELECT call_id FROM calls \
                     WHERE ($1 IS NULL OR company_id = $1) \
                         AND started_at >= $2 AND started_at < $3 \
                     ORDER BY started_at, call_id LIMIT $4",
                )
                .bind(company.map(|c| c.0))
                .bind(since)
                .bind(until)
                .bind(i64::from(limit)),
            )
            .await
            .map_err(backend)?;
        let mut calls = Vec::with_capacity(ids.len());
        for (call_id,) in ids {
            if let Some(view) = call_view_in(&mut tx, company, &call_id, false).await? {
                calls.push(view);
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(calls)
    }

    async fn record_call_details(&self, details: &CallDetailRecord) -> Result<(), StoreError> {
        let json = details.details.to_string();
        self.db
            .retry(|| {
                self.db.execute(
                    Sql::new(
                        "INSERT INTO call_events (company_id, call_id, event, received_at, \
                             details) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (company_id, event, call_id) DO NOTHING",
                    )
                    .bind(details.company_id.0)
                    .bind(details.call_id.as_str())
                    .bind(details.event.as_str())
                    .bind(details.received_at)
                    .bind(json.as_str()),
                )
            })
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn webhook_stats(&self, company: Option<CompanyId>) -> Result<WebhookStats, StoreError> {
        let company = company.map(|c| c.0);
        let mut tx = self.db.begin_snapshot().await.map_err(backend)?;
        // `SUM` of BIGINT is NUMERIC in PostgreSQL; the cast makes it BIGINT on both.
        let events: Vec<(String, i64, i64)> = tx
            .fetch_all(
                Sql::new(
                    "SELECT event, COUNT(*), \
                         CAST(COALESCE(SUM(duplicate_count), 0) AS BIGINT) \
                     FROM webhook_events WHERE $1 IS NULL OR company_id = $1 GROUP BY event",
                )
                .bind(company),
            )
            .await
            .map_err(backend)?;
        let (calls,): (i64,) = tx
            .fetch_one(
                Sql::new("SELECT COUNT(*) FROM calls WHERE $1 IS NULL OR company_id = $1")
                    .bind(company),
            )
            .await
            .map_err(backend)?;
        let jobs: Vec<(String, i64)> = tx
            .fetch_all(
                Sql::new(
                    "SELECT status, COUNT(*) FROM jobs \
                     WHERE kind = $2 AND ($1 IS NULL OR company_id = $1) GROUP BY status",
                )
                .bind(company)
                .bind(BOOK_KIND),
            )
            .await
            .map_err(backend)?;
        let (appointments,): (i64,) = tx
            .fetch_one(
                Sql::new("SELECT COUNT(*) FROM appointments WHERE $1 IS NULL OR company_id = $1")
                    .bind(company),
            )
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(WebhookStats {
            duplicates: events.iter().map(|(_, _, duplicates)| duplicates).sum(),
            events: events
                .into_iter()
                .map(|(event, count, _)| (event, count))
                .collect(),
            calls,
            jobs: jobs.into_iter().collect(),
            appointments,
        })
    }

    async fn insert_appointment(&self, appointment: &NewAppointment) -> Result<i64, StoreError> {
        let now = Utc::now();
        self.db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                let id = insert_appointment_in(&mut tx, appointment, now).await?;
                if id.is_ok() {
                    tx.commit().await?;
                }
                Ok(id)
            })
            .await
            .map_err(backend)?
            .map_err(StoreError::from)
    }
}
