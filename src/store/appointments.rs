//! Appointments after booking ([`AppointmentStore`]): found by the caller's number, moved,
//! cancelled, Cal.com's webhooks applied, and jobs enqueued outside webhooks.

use super::AnyStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_actors::domain::ids::{BookingUid, CompanyId};
use switchboard_actors::ports::{AppointmentStore, StoreError};
use switchboard_actors::records::{
    AppointmentRecord, CalcomEventOutcome, CalcomEventRecord, NewAppointment, NewJob,
};

fn todo_err() -> StoreError {
    StoreError::backend("appointment store is not implemented yet")
}

#[async_trait]
impl AppointmentStore for AnyStore {
    async fn upcoming_appointments(
        &self,
        _company: CompanyId,
        _phone: &str,
        _after: DateTime<Utc>,
        _limit: u32,
    ) -> Result<Vec<AppointmentRecord>, StoreError> {
        Err(todo_err())
    }

    async fn appointment(
        &self,
        _company: CompanyId,
        _uid: &BookingUid,
    ) -> Result<Option<AppointmentRecord>, StoreError> {
        Err(todo_err())
    }

    async fn record_reschedule(
        &self,
        _company: CompanyId,
        _old_uid: &BookingUid,
        _new: &NewAppointment,
        _at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Err(todo_err())
    }

    async fn record_cancellation(
        &self,
        _company: CompanyId,
        _uid: &BookingUid,
        _reason: Option<&str>,
        _at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Err(todo_err())
    }

    async fn record_calcom_event(
        &self,
        _event: &CalcomEventRecord,
    ) -> Result<CalcomEventOutcome, StoreError> {
        Err(todo_err())
    }

    async fn enqueue_job(&self, _job: &NewJob) -> Result<i64, StoreError> {
        Err(todo_err())
    }

    async fn complete_job(&self, _job_id: i64, _follow_up: &[NewJob]) -> Result<(), StoreError> {
        Err(todo_err())
    }
}
