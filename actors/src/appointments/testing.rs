//! In-memory fakes of the ports the appointment operations use: appointments and outbox
//! jobs, a Cal.com that moves and cancels (or never answers), a cache, a fixed clock, and
//! the company's handles through a real tenant directory.

use crate::breaker::UpstreamPolicy;
use crate::domain::book_once::tests::status;
use crate::domain::booking::{
    Attendee, Booking, BookingQuery, BookingRequest, CalcomProfile, CancelRequest, ErrorAnswer,
    EventType, RescheduleRequest, Slot, SlotQuery, UpstreamError,
};
use crate::domain::ids::{BookingUid, CompanyId, EventTypeId};
use crate::ports::{AppointmentStore, Cache, CalendarApi, Clock, SameCalendarApi, StoreError};
use crate::ratelimit::{LocalLimiter, Quotas};
use crate::records::{
    AppointmentRecord, AppointmentStatus, CalcomEventOutcome, CalcomEventRecord, NewAppointment,
    NewJob,
};
use crate::resilience::RetryBudget;
use crate::supervision::RestartBudget;
use crate::tenant::directory::tests::OneCompany;
use crate::tenant::{CalcomAccess, GetTenant, TenantDirectory, TenantHandle, TenantLock};
use actix::{Actor, Addr};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use secrecy::SecretString;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The company of the fakes.
pub const COMPANY: CompanyId = CompanyId(1);
/// The event type every fake booking has.
pub const EVENT_TYPE: EventTypeId = EventTypeId(7);
/// The caller's number.
pub const CALLER: &str = "+4915112345678";

/// "Now" of the tests: Monday 2026-11-23 10:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

/// A fixed clock at [`now`].
pub struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// A 30-minute booking of `phone` at `start`.
pub fn booking(uid: &str, phone: &str, start: DateTime<Utc>) -> Booking {
    Booking {
        id: 1,
        uid: BookingUid::parse(uid).unwrap(),
        title: "Herrenhaarschnitt".into(),
        status: "accepted".into(),
        start,
        end: start + Duration::minutes(30),
        event_type_id: EVENT_TYPE,
        attendees: vec![Attendee {
            name: "Max".into(),
            time_zone: "Europe/Berlin".into(),
            email: None,
            phone_number: Some(phone.into()),
            language: None,
        }],
        metadata: Default::default(),
    }
}

/// The stored appointment of [`booking`].
pub fn row(uid: &str, phone: &str, start: DateTime<Utc>) -> AppointmentRecord {
    AppointmentRecord {
        id: 1,
        company_id: COMPANY,
        branch_id: None,
        call_id: None,
        booking_uid: BookingUid::parse(uid).unwrap(),
        calcom_booking_id: 1,
        event_type_id: EVENT_TYPE,
        service_id: None,
        service_name: "Herrenhaarschnitt".into(),
        start,
        end: start + Duration::minutes(30),
        attendee_name: "Max".into(),
        attendee_phone: Some(phone.into()),
        attendee_email: None,
        status: AppointmentStatus::Scheduled,
        source: "phone".into(),
        rescheduled_to_uid: None,
        cancellation_reason: None,
        updated_at: now(),
    }
}

/// Appointments and outbox jobs in memory.
#[derive(Default)]
pub struct Appointments {
    /// Every appointment row.
    pub rows: Mutex<Vec<AppointmentRecord>>,
    /// Every job enqueued.
    pub jobs: Mutex<Vec<NewJob>>,
}

#[async_trait]
impl AppointmentStore for Appointments {
    async fn upcoming_appointments(
        &self,
        company: CompanyId,
        phone: &str,
        after: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AppointmentRecord>, StoreError> {
        let mut found: Vec<_> = self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|r| {
                r.company_id == company
                    && r.attendee_phone.as_deref() == Some(phone)
                    && r.status == AppointmentStatus::Scheduled
                    && r.end > after
            })
            .cloned()
            .collect();
        found.sort_by_key(|r| r.start);
        found.truncate(limit as usize);
        Ok(found)
    }
    async fn customer_name(&self, _: CompanyId, _: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    async fn appointment(
        &self,
        company: CompanyId,
        uid: &BookingUid,
    ) -> Result<Option<AppointmentRecord>, StoreError> {
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.company_id == company && &r.booking_uid == uid)
            .cloned())
    }
    async fn record_reschedule(
        &self,
        company: CompanyId,
        old_uid: &BookingUid,
        new: &NewAppointment,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let old = rows
            .iter_mut()
            .find(|r| r.company_id == company && &r.booking_uid == old_uid)
            .ok_or_else(|| StoreError::Conflict("no such appointment".into()))?;
        old.status = AppointmentStatus::Rescheduled;
        old.rescheduled_to_uid = Some(new.booking_uid.clone());
        let mut moved = old.clone();
        moved.id = rows.len() as i64 + 1;
        moved.booking_uid = new.booking_uid.clone();
        moved.start = new.start;
        moved.end = new.end;
        moved.status = AppointmentStatus::Scheduled;
        moved.rescheduled_to_uid = None;
        moved.updated_at = at;
        rows.push(moved);
        Ok(rows.len() as i64)
    }
    async fn record_cancellation(
        &self,
        company: CompanyId,
        uid: &BookingUid,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let Some(row) = rows
            .iter_mut()
            .find(|r| r.company_id == company && &r.booking_uid == uid)
        else {
            return Ok(false);
        };
        row.status = AppointmentStatus::Cancelled;
        row.cancellation_reason = reason.map(str::to_owned);
        row.updated_at = at;
        Ok(true)
    }
    async fn record_calcom_event(
        &self,
        _: &CalcomEventRecord,
    ) -> Result<CalcomEventOutcome, StoreError> {
        Err(StoreError::Conflict("not used here".into()))
    }
    async fn enqueue_job(&self, job: &NewJob) -> Result<i64, StoreError> {
        let mut jobs = self.jobs.lock().unwrap();
        if let Some(i) = jobs.iter().position(|j| {
            j.company_id == job.company_id && j.idempotency_key == job.idempotency_key
        }) {
            return Ok(i as i64 + 1);
        }
        jobs.push(job.clone());
        Ok(jobs.len() as i64)
    }
    async fn complete_job(&self, _: i64, follow_up: &[NewJob]) -> Result<(), StoreError> {
        self.jobs.lock().unwrap().extend_from_slice(follow_up);
        Ok(())
    }
}

/// Cal.com holding `bookings`: moves make a new booking and cancel the old one, as
/// reference/calcom.md §4.4 says; with `hang`, moves and cancellations never answer.
#[derive(Default)]
pub struct FakeCal {
    /// Every booking, cancelled ones included.
    pub bookings: Mutex<Vec<Booking>>,
    /// Moves and cancellations never answer.
    pub hang: AtomicBool,
    /// Moves and cancellations that reached Cal.com.
    pub changes: AtomicUsize,
    /// Free-slot requests that reached Cal.com.
    pub slot_requests: AtomicUsize,
    /// Free-slot requests are refused (400).
    pub fail_slots: AtomicBool,
    /// The free slots answered: those starting on the asked days (in the asked zone), as
    /// they were when the request arrived.
    pub free: Mutex<Vec<Slot>>,
    /// How long a free-slot request takes, ms (drive it with a paused clock).
    pub slot_latency_ms: AtomicU64,
    /// The first day of each free-slot request, in the order they arrived.
    pub slot_days: Mutex<Vec<NaiveDate>>,
    /// Free-slot requests being answered now.
    pub slots_now: AtomicUsize,
    /// The most free-slot requests answered at once.
    pub slots_peak: AtomicUsize,
}

fn refused(message: &str) -> UpstreamError {
    UpstreamError::Rejected {
        service: "calcom",
        answer: ErrorAnswer {
            status: 400,
            code: Some("BadRequestException".into()),
            message: message.into(),
        },
    }
}

impl FakeCal {
    /// Cal.com with `bookings`.
    pub fn with(bookings: Vec<Booking>) -> Arc<Self> {
        Arc::new(Self {
            bookings: Mutex::new(bookings),
            ..Self::default()
        })
    }

    async fn change(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        if self.hang.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
}

#[async_trait]
impl CalendarApi for FakeCal {
    async fn event_types(&self, _: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
        Ok(vec![])
    }
    async fn slots(&self, _: &SecretString, q: &SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
        self.slot_requests.fetch_add(1, Ordering::SeqCst);
        self.slot_days.lock().unwrap().push(q.from);
        let answer: Vec<Slot> = self
            .free
            .lock()
            .unwrap()
            .iter()
            .filter(|s| (q.from..=q.to).contains(&s.start.with_timezone(&q.time_zone).date_naive()))
            .cloned()
            .collect();
        let now = self.slots_now.fetch_add(1, Ordering::SeqCst) + 1;
        self.slots_peak.fetch_max(now, Ordering::SeqCst);
        let latency = self.slot_latency_ms.load(Ordering::SeqCst);
        if latency > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
        }
        self.slots_now.fetch_sub(1, Ordering::SeqCst);
        if self.fail_slots.load(Ordering::SeqCst) {
            return Err(refused("slots refused by the test"));
        }
        Ok(answer)
    }
    async fn create_booking(
        &self,
        _: &SecretString,
        _: &BookingRequest,
    ) -> Result<Booking, UpstreamError> {
        Err(status(501, "not used here"))
    }
    async fn list_bookings(
        &self,
        _: &SecretString,
        q: &BookingQuery,
    ) -> Result<Vec<Booking>, UpstreamError> {
        Ok(self
            .bookings
            .lock()
            .unwrap()
            .iter()
            .filter(|b| q.event_type_id.is_none_or(|e| e == b.event_type_id))
            .filter(|b| q.after_start.is_none_or(|t| b.start > t))
            .filter(|b| q.before_end.is_none_or(|t| b.end < t))
            .cloned()
            .collect())
    }
    async fn get_booking(
        &self,
        _: &SecretString,
        uid: &BookingUid,
    ) -> Result<Booking, UpstreamError> {
        self.bookings
            .lock()
            .unwrap()
            .iter()
            .find(|b| &b.uid == uid)
            .cloned()
            .ok_or_else(|| status(404, "Booking not found."))
    }
    async fn me(&self, _: &SecretString) -> Result<CalcomProfile, UpstreamError> {
        Err(status(501, "not used here"))
    }
    async fn team_event_types(
        &self,
        _: &SecretString,
        _: i64,
    ) -> Result<Vec<EventType>, UpstreamError> {
        Ok(vec![])
    }
    async fn reschedule_booking(
        &self,
        _: &SecretString,
        uid: &BookingUid,
        request: &RescheduleRequest,
    ) -> Result<Booking, UpstreamError> {
        self.change().await;
        let mut bookings = self.bookings.lock().unwrap();
        let n = bookings.len();
        let old = bookings
            .iter_mut()
            .find(|b| &b.uid == uid)
            .ok_or_else(|| status(404, "Booking not found."))?;
        if old.status == "cancelled" {
            return Err(refused(
                "Can't reschedule booking because it has been cancelled",
            ));
        }
        old.status = "cancelled".into();
        let mut new = old.clone();
        new.id = n as i64 + 1;
        new.uid = BookingUid::parse(format!("moved-{n}")).unwrap();
        new.status = "accepted".into();
        new.end = request.start + (old.end - old.start);
        new.start = request.start;
        bookings.push(new.clone());
        Ok(new)
    }
    async fn cancel_booking(
        &self,
        _: &SecretString,
        uid: &BookingUid,
        _: &CancelRequest,
    ) -> Result<Booking, UpstreamError> {
        self.change().await;
        let mut bookings = self.bookings.lock().unwrap();
        let b = bookings
            .iter_mut()
            .find(|b| &b.uid == uid)
            .ok_or_else(|| status(404, "Booking not found."))?;
        if b.status == "cancelled" {
            return Err(refused("This booking has already been cancelled."));
        }
        b.status = "cancelled".into();
        Ok(b.clone())
    }
}

/// A cache in memory.
#[derive(Default)]
pub struct Memory(pub Mutex<HashMap<String, crate::jsonrpc::SharedJson>>);

#[async_trait]
impl Cache for Memory {
    async fn get(&self, key: &str) -> Option<crate::jsonrpc::SharedJson> {
        self.0.lock().unwrap().get(key).cloned()
    }
    async fn set(&self, key: &str, value: crate::jsonrpc::SharedJson, _: std::time::Duration) {
        self.0.lock().unwrap().insert(key.to_owned(), value);
    }
    async fn remove(&self, key: &str) {
        self.0.lock().unwrap().remove(key);
    }
}

/// Company 1's handles, its Cal.com being `cal`.
pub async fn tenant(cal: Arc<FakeCal>) -> TenantHandle {
    directory(cal)
        .send(GetTenant(COMPANY))
        .await
        .unwrap()
        .unwrap()
}

/// A tenant directory serving company 1, its Cal.com being `cal`.
pub fn directory(cal: Arc<FakeCal>) -> Addr<TenantDirectory> {
    let store = Arc::new(OneCompany::default());
    let lock = TenantLock::new(store.clone(), Arc::new(Fixed), "me".into());
    let calcom = CalcomAccess {
        apis: Arc::new(SameCalendarApi(cal)),
        limiter: Arc::new(LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX))),
        policy: UpstreamPolicy::default(),
        retries: RetryBudget::default(),
    };
    let budget = RestartBudget::new(10, std::time::Duration::from_secs(60));
    TenantDirectory::new(
        store,
        calcom,
        crate::tenant::RetellAccess::unused(),
        lock,
        std::time::Duration::from_secs(1800),
        budget,
    )
    .start()
}
