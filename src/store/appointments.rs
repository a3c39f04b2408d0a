//! [`AppointmentStore`]: appointments after booking — found by the caller's number, moved,
//! cancelled, Cal.com's webhooks applied — and jobs enqueued outside webhooks.
//!
//! Every statement names the company. `appointments.booking_uid` is unique across companies
//! (Cal.com's uids are global), so a uid stored for another company is looked up before any
//! write and then left alone: [`StoreError::Conflict`] for our own reschedules, "not changed"
//! for Cal.com's webhooks, and "unknown" for reads and cancellations.

use super::AnyStore;
use super::calls::{enqueue, insert_appointment_in};
use super::rows::{BOOK_KIND, call_id_column, corrupt};
use super::sql::{Sql, Tx, backend};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_actors::domain::ids::{BookingUid, BranchId, CompanyId, EventTypeId};
use switchboard_actors::ports::{AppointmentStore, StoreError};
use switchboard_actors::records::{
    AppointmentRecord, AppointmentStatus, CalcomEventOutcome, CalcomEventRecord, CalcomTrigger,
    NewAppointment, NewJob,
};

/// Longest `appointments.cancellation_reason` kept, in characters (the column's CHECK).
const REASON_MAX_CHARS: usize = 500;

/// The columns of [`AppointmentRow`], in its order.
const APPOINTMENT_COLUMNS: &str = "id, company_id, branch_id, call_id, booking_uid, \
     calcom_booking_id, event_type_id, service_id, service_name, start_at, end_at, \
     attendee_name, attendee_phone, attendee_email, status, source, rescheduled_to_uid, \
     cancellation_reason, updated_at";

/// An `appointments` row as find / change / cancel read it.
#[derive(sqlx::FromRow)]
struct AppointmentRow {
    id: i64,
    company_id: i64,
    branch_id: Option<i64>,
    call_id: Option<String>,
    booking_uid: String,
    calcom_booking_id: i64,
    event_type_id: i64,
    service_id: Option<i64>,
    service_name: String,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    attendee_name: String,
    attendee_phone: Option<String>,
    attendee_email: Option<String>,
    status: String,
    source: String,
    rescheduled_to_uid: Option<String>,
    cancellation_reason: Option<String>,
    updated_at: DateTime<Utc>,
}

fn uid_column(column: &str, value: String) -> Result<BookingUid, StoreError> {
    BookingUid::parse(value).map_err(|e| corrupt("appointments", format!("{column}: {e}")))
}

impl AppointmentRow {
    fn into_record(self) -> Result<AppointmentRecord, StoreError> {
        Ok(AppointmentRecord {
            id: self.id,
            company_id: CompanyId(self.company_id),
            branch_id: self.branch_id.map(BranchId),
            call_id: self
                .call_id
                .map(|id| call_id_column("appointments", id))
                .transpose()?,
            booking_uid: uid_column("booking_uid", self.booking_uid)?,
            calcom_booking_id: self.calcom_booking_id,
            event_type_id: EventTypeId(self.event_type_id),
            service_id: self.service_id,
            service_name: self.service_name,
            start: self.start_at,
            end: self.end_at,
            attendee_name: self.attendee_name,
            attendee_phone: self.attendee_phone,
            attendee_email: self.attendee_email,
            status: AppointmentStatus::parse(&self.status).ok_or_else(|| {
                corrupt("appointments", format!("unknown status {:?}", self.status))
            })?,
            source: self.source,
            rescheduled_to_uid: self
                .rescheduled_to_uid
                .map(|uid| uid_column("rescheduled_to_uid", uid))
                .transpose()?,
            cancellation_reason: self.cancellation_reason,
            updated_at: self.updated_at,
        })
    }
}

/// `reason` cut to [`REASON_MAX_CHARS`] characters (never inside a character).
fn clip_reason(reason: Option<&str>) -> Option<&str> {
    reason.map(|reason| {
        reason
            .char_indices()
            .nth(REASON_MAX_CHARS)
            .map_or(reason, |(end, _)| &reason[..end])
    })
}

/// The company that holds booking uid `uid`, if any.
async fn uid_owner(tx: &mut Tx, uid: &BookingUid) -> Result<Option<(i64, i64)>, sqlx::Error> {
    tx.fetch_optional(
        Sql::new("SELECT id, company_id FROM appointments WHERE booking_uid = $1")
            .bind(uid.as_str()),
    )
    .await
}

/// What a reschedule did.
enum Moved {
    /// `new` inserted (and the old booking marked); its id.
    Inserted(i64),
    /// `new`'s uid was already stored for the company; its id, nothing changed.
    Known(i64),
    /// `new`'s uid (or `new` itself) belongs to another company; nothing changed.
    Foreign,
}

/// Marks `old_uid` of `company` rescheduled to `new` and inserts `new` with the old booking's
/// customer when `new` names no phone. Checks before writing: a `new` uid already stored is
/// [`Moved::Known`] (ours) or [`Moved::Foreign`].
async fn reschedule_in(
    tx: &mut Tx,
    company: CompanyId,
    old_uid: Option<&BookingUid>,
    new: &NewAppointment,
    at: DateTime<Utc>,
) -> Result<Result<Moved, StoreError>, sqlx::Error> {
    if new.company_id != company {
        return Ok(Ok(Moved::Foreign));
    }
    match uid_owner(tx, &new.booking_uid).await? {
        Some((id, owner)) if owner == company.0 => return Ok(Ok(Moved::Known(id))),
        Some(_) => return Ok(Ok(Moved::Foreign)),
        None => {}
    }
    if let Some(old_uid) = old_uid {
        tx.execute(
            Sql::new(
                "UPDATE appointments SET status = 'rescheduled', rescheduled_to_uid = $3, \
                     updated_at = $4 \
                 WHERE company_id = $1 AND booking_uid = $2",
            )
            .bind(company.0)
            .bind(old_uid.as_str())
            .bind(new.booking_uid.as_str())
            .bind(at),
        )
        .await?;
    }
    let id = match insert_appointment_in(tx, new, at).await? {
        Ok(id) => id,
        Err(foreign) => return Ok(Err(foreign.into())),
    };
    if let Some(old_uid) = old_uid {
        // The same person moved it: without a phone on the new booking it stays theirs.
        tx.execute(
            Sql::new(
                "UPDATE appointments SET customer_id = COALESCE(customer_id, \
                     (SELECT old.customer_id FROM appointments old \
                      WHERE old.company_id = $1 AND old.booking_uid = $2)) \
                 WHERE id = $3 AND company_id = $1",
            )
            .bind(company.0)
            .bind(old_uid.as_str())
            .bind(id),
        )
        .await?;
    }
    Ok(Ok(Moved::Inserted(id)))
}

/// Marks `uid` of `company` cancelled unless it no longer stands; whether a row changed.
async fn cancel_in(
    tx: &mut Tx,
    company: CompanyId,
    uid: &BookingUid,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let changed = tx
        .execute(
            Sql::new(
                "UPDATE appointments SET status = 'cancelled', cancellation_reason = $3, \
                     updated_at = $4 \
                 WHERE company_id = $1 AND booking_uid = $2 AND status = 'scheduled'",
            )
            .bind(company.0)
            .bind(uid.as_str())
            .bind(clip_reason(reason))
            .bind(at),
        )
        .await?;
    Ok(changed > 0)
}

/// Applies a first-seen Cal.com event (see [`CalcomEventRecord`]); whether a row changed.
async fn apply_calcom_event(
    tx: &mut Tx,
    event: &CalcomEventRecord,
) -> Result<Result<bool, StoreError>, sqlx::Error> {
    let company = event.company_id;
    match event.trigger {
        CalcomTrigger::BookingCancelled => Ok(Ok(cancel_in(
            tx,
            company,
            &event.booking_uid,
            event.cancellation_reason.as_deref(),
            event.received_at,
        )
        .await?)),
        CalcomTrigger::BookingCreated | CalcomTrigger::BookingRescheduled => {
            let Some(appointment) = &event.appointment else {
                return Ok(Ok(false));
            };
            let from = match event.trigger {
                CalcomTrigger::BookingRescheduled => event.from_uid.as_ref(),
                _ => None,
            };
            Ok(
                match reschedule_in(tx, company, from, appointment, event.received_at).await? {
                    Ok(Moved::Inserted(_)) => Ok(true),
                    Ok(Moved::Known(_) | Moved::Foreign) => Ok(false),
                    Err(error) => Err(error),
                },
            )
        }
    }
}

#[async_trait]
impl AppointmentStore for AnyStore {
    async fn upcoming_appointments(
        &self,
        company: CompanyId,
        phone: &str,
        after: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AppointmentRecord>, StoreError> {
        let rows: Vec<AppointmentRow> = self
            .db
            .fetch_all(
                Sql::new(format!(
                    "SELECT {APPOINTMENT_COLUMNS} FROM appointments \
                     WHERE company_id = $1 AND attendee_phone = $2 AND status = 'scheduled' \
                         AND end_at > $3 \
                     ORDER BY start_at, id LIMIT $4"
                ))
                .bind(company.0)
                .bind(phone)
                .bind(after)
                .bind(i64::from(limit)),
            )
            .await
            .map_err(backend)?;
        rows.into_iter().map(AppointmentRow::into_record).collect()
    }

    async fn customer_name(
        &self,
        company: CompanyId,
        phone: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = self
            .db
            .fetch_optional(
                Sql::new("SELECT name FROM customers WHERE company_id = $1 AND phone = $2")
                    .bind(company.0)
                    .bind(phone),
            )
            .await
            .map_err(backend)?;
        Ok(row.and_then(|(name,)| name))
    }

    async fn appointment(
        &self,
        company: CompanyId,
        uid: &BookingUid,
    ) -> Result<Option<AppointmentRecord>, StoreError> {
        let row: Option<AppointmentRow> = self
            .db
            .fetch_optional(
                Sql::new(format!(
                    "SELECT {APPOINTMENT_COLUMNS} FROM appointments \
                     WHERE company_id = $1 AND booking_uid = $2"
                ))
                .bind(company.0)
                .bind(uid.as_str()),
            )
            .await
            .map_err(backend)?;
        row.map(AppointmentRow::into_record).transpose()
    }

    async fn record_reschedule(
        &self,
        company: CompanyId,
        old_uid: &BookingUid,
        new: &NewAppointment,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let moved = self
            .db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                let moved = reschedule_in(&mut tx, company, Some(old_uid), new, at).await?;
                if matches!(moved, Ok(Moved::Inserted(_))) {
                    tx.commit().await?;
                }
                Ok(moved)
            })
            .await
            .map_err(backend)??;
        match moved {
            Moved::Inserted(id) | Moved::Known(id) => Ok(id),
            Moved::Foreign => Err(StoreError::Conflict(format!(
                "booking {} belongs to another company",
                new.booking_uid
            ))),
        }
    }

    async fn record_cancellation(
        &self,
        company: CompanyId,
        uid: &BookingUid,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                let changed = cancel_in(&mut tx, company, uid, reason, at).await?;
                tx.commit().await?;
                Ok(changed)
            })
            .await
            .map_err(backend)
    }

    async fn record_calcom_event(
        &self,
        event: &CalcomEventRecord,
    ) -> Result<CalcomEventOutcome, StoreError> {
        let outcome = self
            .db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                // On PostgreSQL a concurrent delivery of the same body waits here on the
                // unique key until this transaction ends, then finds itself a duplicate.
                let first: Option<(i64,)> = tx
                    .fetch_optional(
                        Sql::new(
                            "INSERT INTO calcom_webhook_events \
                                 (company_id, dedupe_key, trigger, booking_uid, received_at) \
                             VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (company_id, dedupe_key) DO NOTHING \
                             RETURNING id",
                        )
                        .bind(event.company_id.0)
                        .bind(event.dedupe_key.as_str())
                        .bind(event.trigger.as_str())
                        .bind(event.booking_uid.as_str())
                        .bind(event.received_at),
                    )
                    .await?;
                if first.is_none() {
                    tx.commit().await?;
                    return Ok(Ok(CalcomEventOutcome::Duplicate));
                }
                let changed = match apply_calcom_event(&mut tx, event).await? {
                    Ok(changed) => changed,
                    Err(error) => return Ok(Err(error)),
                };
                tx.commit().await?;
                Ok(Ok(CalcomEventOutcome::Applied { changed }))
            })
            .await
            .map_err(backend)??;
        tracing::debug!(
            company = %event.company_id,
            trigger = event.trigger.as_str(),
            booking_uid = %event.booking_uid,
            ?outcome,
            "Cal.com webhook recorded"
        );
        Ok(outcome)
    }

    async fn enqueue_job(&self, job: &NewJob) -> Result<i64, StoreError> {
        let now = Utc::now();
        self.db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                let id = enqueue(&mut tx, job, now).await?;
                tx.commit().await?;
                Ok(id)
            })
            .await
            .map_err(backend)
    }

    async fn complete_job(&self, job_id: i64, follow_up: &[NewJob]) -> Result<(), StoreError> {
        let now = Utc::now();
        self.db
            .retry(|| async {
                let mut tx = self.db.begin_write().await?;
                // A `book` job is finished only with its appointment (`complete_booking_job`).
                let company: Option<(i64,)> = tx
                    .fetch_optional(
                        Sql::new(
                            "UPDATE jobs SET status = 'done', locked_until = NULL, \
                                 last_error = NULL, updated_at = $2 \
                             WHERE id = $1 AND kind <> $3 \
                             RETURNING company_id",
                        )
                        .bind(job_id)
                        .bind(now)
                        .bind(BOOK_KIND),
                    )
                    .await?;
                let Some((company,)) = company else {
                    return Ok(Err(StoreError::backend(format!(
                        "job {job_id} does not exist or is a {BOOK_KIND} job"
                    ))));
                };
                if let Some(job) = follow_up.iter().find(|job| job.company_id.0 != company) {
                    return Ok(Err(StoreError::Conflict(format!(
                        "follow-up {} of job {job_id} names another company",
                        job.idempotency_key
                    ))));
                }
                for job in follow_up {
                    enqueue(&mut tx, job, now).await?;
                }
                tx.commit().await?;
                Ok(Ok(()))
            })
            .await
            .map_err(backend)?
    }
}
