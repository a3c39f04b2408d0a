//! Slot holds end to end inside the core: `collect_appointment_data`, the call's context,
//! `call_ended` and the `book` job, against an in-memory Cal.com that keeps reservations the
//! way Cal.com does (one live holder per slot, holds lapse at `reservationUntil`).

use crate::breaker::UpstreamPolicy;
use crate::call::hold::HoldPolicy;
use crate::call::memory::ContextMap;
use crate::call::registry::{CallLimits, CallRegistry};
use crate::domain::appointment::SlotHold;
use crate::domain::book_once::tests::status;
use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, CalcomProfile, ErrorAnswer, EventType,
    ReservationRequest, Slot, SlotQuery, SlotReservation, UpstreamError,
};
use crate::domain::ids::{BookingUid, BranchId, CallId, CompanyId, EventTypeId};
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::{BusinessWindow, CompanyProfile, Locale, Service, TenantRoute};
use crate::functions::{FunctionDeps, Invocation, execute};
use crate::outbox::{JobDeps, OutboxConfig, OutboxWorker, Wake, WorkerIdentity};
use crate::ports::*;
use crate::ratelimit::{Lane, LocalLimiter, Quotas};
use crate::records::*;
use crate::resilience::RetryBudget;
use crate::retell::call::RetellCall;
use crate::servers::calcom::{AvailabilityFlights, FlightPolicy};
use crate::servers::webhook::{BookingPolicy, HandleWebhook, WebhookAck, WebhookServer};
use crate::supervision::RestartBudget;
use crate::tenant::{ServicesCache, ServicesCachePolicy, TenantDirectory, TenantLock};
use crate::test_clock::paused_system;
use actix::prelude::*;
use async_trait::async_trait;
use chrono::{DateTime, Duration as Minutes, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const COMPANY: CompanyId = CompanyId(1);
const EVENT_TYPE: EventTypeId = EventTypeId(1001);
const HOLD_MIN: u32 = 10;

/// Tuesday 16 July 2030, 14:00 in Berlin.
fn slot_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 7, 16, 12, 0, 0).unwrap()
}

/// A clock the test moves by hand.
struct HandClock(Mutex<DateTime<Utc>>);

impl HandClock {
    fn advance(&self, by: Minutes) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for HandClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// What the in-memory Cal.com was asked to do.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Reserve(ReservationRequest),
    Renew(String),
    Release(String),
    Book(Option<String>),
}

/// Cal.com with reservations: every 30 minutes 09:00–18:00 (Berlin) is a slot, minus the
/// booked ones. Its free-slot list does not hide holds, like a list read just before another
/// caller reserved: only the reservation itself learns of the other holder.
struct Calendar {
    clock: Arc<HandClock>,
    holds: Mutex<HashMap<String, SlotReservation>>,
    booked: Mutex<Vec<DateTime<Utc>>>,
    seen: Mutex<Vec<Seen>>,
    /// Answer reservations with 503.
    reservations_down: Mutex<bool>,
    /// How long the next reservations take to answer, one entry each (then at once): the
    /// reservation is made first, as a slow network would deliver Cal.com's answer late.
    reservation_delays: Mutex<Vec<Duration>>,
    next: Mutex<u32>,
}

impl Calendar {
    fn new(clock: Arc<HandClock>) -> Self {
        Self {
            clock,
            holds: Mutex::default(),
            booked: Mutex::default(),
            seen: Mutex::default(),
            reservations_down: Mutex::new(false),
            reservation_delays: Mutex::default(),
            next: Mutex::new(0),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn note(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
    }

    fn reservation(&self, uid: String, r: &ReservationRequest) -> SlotReservation {
        SlotReservation {
            uid,
            event_type_id: r.event_type_id,
            slot_start: r.slot_start,
            slot_end: r.slot_start + Minutes::minutes(i64::from(r.slot_duration_min)),
            until: self.clock.now() + Minutes::minutes(i64::from(r.reservation_duration_min)),
        }
    }
}

fn not_found() -> UpstreamError {
    UpstreamError::NotFound {
        service: "calcom",
        answer: ErrorAnswer {
            status: 404,
            code: None,
            message: "reservation not found".into(),
        },
    }
}

#[async_trait]
impl CalendarApi for Calendar {
    async fn event_types(&self, _: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
        Ok(vec![])
    }
    async fn slots(&self, _: &SecretString, q: &SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
        let booked = self.booked.lock().unwrap().clone();
        let mut out = Vec::new();
        let mut day = q.from;
        while day <= q.to {
            for half_hours in 18..36 {
                let local = day.and_time(
                    NaiveTime::from_hms_opt(half_hours / 2, 30 * (half_hours % 2), 0).unwrap(),
                );
                let start = Berlin.from_local_datetime(&local).unwrap();
                if !booked.contains(&start.with_timezone(&Utc)) {
                    out.push(Slot {
                        start: start.fixed_offset(),
                        end: (start + Minutes::minutes(30)).fixed_offset(),
                    });
                }
            }
            day = day.succ_opt().unwrap();
        }
        Ok(out)
    }
    async fn create_booking(
        &self,
        _: &SecretString,
        r: &BookingRequest,
    ) -> Result<Booking, UpstreamError> {
        self.note(Seen::Book(r.reserved_slot_uid.clone()));
        let now = self.clock.now();
        let mut holds = self.holds.lock().unwrap();
        holds.retain(|_, h| h.until > now);
        let first = holds.values().find(|h| h.slot_start == r.start).cloned();
        match first {
            Some(h) if Some(&h.uid) != r.reserved_slot_uid.as_ref() => {
                return Err(UpstreamError::SlotTaken {
                    service: "calcom",
                    answer: ErrorAnswer {
                        status: 400,
                        code: None,
                        message: "Someone else reserved this slot before you.".into(),
                    },
                });
            }
            Some(h) => {
                holds.remove(&h.uid);
            }
            None => {}
        }
        self.booked.lock().unwrap().push(r.start);
        Ok(Booking {
            id: 1,
            uid: BookingUid::parse("booked_1".to_owned()).unwrap(),
            title: "Herrenhaarschnitt".into(),
            status: "accepted".into(),
            start: r.start,
            end: r.start + Minutes::minutes(30),
            event_type_id: r.event_type_id,
            attendees: vec![r.attendee.clone()],
            metadata: r.metadata.clone(),
        })
    }
    async fn list_bookings(
        &self,
        _: &SecretString,
        _: &BookingQuery,
    ) -> Result<Vec<Booking>, UpstreamError> {
        Ok(vec![])
    }
    async fn get_booking(
        &self,
        _: &SecretString,
        _: &BookingUid,
    ) -> Result<Booking, UpstreamError> {
        Err(not_found())
    }
    async fn me(&self, _: &SecretString) -> Result<CalcomProfile, UpstreamError> {
        Err(status(501, "unused"))
    }
    async fn team_event_types(
        &self,
        _: &SecretString,
        _: i64,
    ) -> Result<Vec<EventType>, UpstreamError> {
        Ok(vec![])
    }
    async fn reserve_slot(
        &self,
        _: &SecretString,
        r: &ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        self.note(Seen::Reserve(r.clone()));
        if *self.reservations_down.lock().unwrap() {
            return Err(status(503, "down"));
        }
        let reservation = {
            let now = self.clock.now();
            let mut holds = self.holds.lock().unwrap();
            holds.retain(|_, h| h.until > now);
            if holds.values().any(|h| h.slot_start == r.slot_start) {
                return Err(UpstreamError::SlotTaken {
                    service: "calcom",
                    answer: ErrorAnswer {
                        status: 422,
                        code: None,
                        message: "This time slot is already reserved by another user".into(),
                    },
                });
            }
            let mut next = self.next.lock().unwrap();
            *next += 1;
            let reservation = self.reservation(format!("hold_{next}"), r);
            holds.insert(reservation.uid.clone(), reservation.clone());
            reservation
        };
        let delay = {
            let mut delays = self.reservation_delays.lock().unwrap();
            (!delays.is_empty()).then(|| delays.remove(0))
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        Ok(reservation)
    }
    async fn renew_reservation(
        &self,
        _: &SecretString,
        uid: &str,
        r: &ReservationRequest,
    ) -> Result<SlotReservation, UpstreamError> {
        self.note(Seen::Renew(uid.to_owned()));
        let now = self.clock.now();
        let mut holds = self.holds.lock().unwrap();
        holds.retain(|_, h| h.until > now);
        if !holds.contains_key(uid) {
            return Err(not_found());
        }
        let renewed = self.reservation(uid.to_owned(), r);
        holds.insert(uid.to_owned(), renewed.clone());
        Ok(renewed)
    }
    async fn release_reservation(&self, _: &SecretString, uid: &str) -> Result<(), UpstreamError> {
        self.note(Seen::Release(uid.to_owned()));
        match self.holds.lock().unwrap().remove(uid) {
            Some(_) => Ok(()),
            None => Err(not_found()),
        }
    }
}

/// The store roles the subjects use, in memory; the rest refuse.
#[derive(Default)]
struct Memory {
    contexts: ContextMap,
    /// `call_ended` records, in order.
    events: Mutex<Vec<CallEventRecord>>,
    /// A hold that lands in the call's data just after `call_ended` read it (a function
    /// still running then).
    late: Mutex<Option<SlotHold>>,
    /// Jobs enqueued by `call_ended`, handed out once each.
    due: Mutex<Vec<Job>>,
    done: Mutex<Vec<i64>>,
    /// Fails every save of a context that carries a hold (the store down just when a
    /// function records the hold it took).
    refuse_holds: std::sync::atomic::AtomicBool,
}

fn unused() -> StoreError {
    StoreError::backend("not used by these tests")
}

fn profile() -> CompanyProfile {
    CompanyProfile {
        id: COMPANY,
        name: "Salon".into(),
        locale: Locale::De,
        time_zone: Berlin,
        retell_api_key: SecretString::from("key_test"),
        retell_agent_id: None,
        calcom_api_key: SecretString::from("cal_test"),
        slug: "salon".into(),
        calcom_base_url: None,
        policy: crate::domain::onboarding::BookingPolicy::default(),
        disabled: false,
        sms: None,
        calcom_webhook_secret: SecretString::from(""),
    }
}

fn service() -> Service {
    Service {
        id: 7,
        company_id: COMPANY,
        name: "Herrenhaarschnitt".into(),
        aliases: vec![],
        duration_min: 30,
        event_type_id: EVENT_TYPE,
        team_id: None,
        branch_ids: vec![],
    }
}

#[async_trait]
impl TenancyStore for Memory {
    async fn tenant_by_phone(&self, _: &PhoneNumber) -> Result<Option<TenantRoute>, StoreError> {
        Ok(None)
    }
    async fn company(&self, _: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        Ok(Some(profile()))
    }
    async fn services(&self, _: CompanyId) -> Result<Vec<Service>, StoreError> {
        Ok(vec![service()])
    }
}

#[async_trait]
impl CallStore for Memory {
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<ContextSave, StoreError> {
        if ctx.collected.hold.is_some()
            && self.refuse_holds.load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(StoreError::backend("store down"));
        }
        self.contexts.save(ctx)
    }
    async fn load_call_context(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError> {
        self.contexts.load(company, call_id)
    }
    async fn call_context_version(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<u64, StoreError> {
        self.contexts.version(company, call_id)
    }
    async fn record_call_event(&self, event: &CallEventRecord) -> Result<EventOutcome, StoreError> {
        let mut events = self.events.lock().unwrap();
        events.push(event.clone());
        if let Some(hold) = self.late.lock().unwrap().take() {
            self.contexts.update(&event.call_id, |context| {
                context.collected.hold = Some(hold)
            });
        }
        let job_id = event.booking_job.as_ref().map(|job| {
            let id = events.len() as i64;
            self.due.lock().unwrap().push(Job {
                id,
                queue: job.queue.clone(),
                kind: job.kind.clone(),
                company_id: job.company_id,
                call_id: job.call_id.clone(),
                idempotency_key: job.idempotency_key.clone(),
                payload: job.payload.clone(),
                attempts: 1,
                max_attempts: job.max_attempts,
                created_at: job.run_at,
                trace_parent: None,
            });
            id
        });
        Ok(EventOutcome::Recorded { job_id })
    }
    async fn get_call(
        &self,
        _: Option<CompanyId>,
        _: &CallId,
    ) -> Result<Option<CallView>, StoreError> {
        Err(unused())
    }
    async fn webhook_stats(&self, _: Option<CompanyId>) -> Result<WebhookStats, StoreError> {
        Err(unused())
    }
    async fn insert_appointment(&self, _: &NewAppointment) -> Result<i64, StoreError> {
        Err(unused())
    }
}

#[async_trait]
impl OutboxStore for Memory {
    async fn claim_due_jobs(
        &self,
        _: DateTime<Utc>,
        _: Duration,
        _: u32,
    ) -> Result<Vec<Job>, StoreError> {
        Ok(std::mem::take(&mut *self.due.lock().unwrap()))
    }
    async fn complete_booking_job(
        &self,
        job_id: i64,
        _: &NewAppointment,
        _: &[NewJob],
    ) -> Result<i64, StoreError> {
        self.done.lock().unwrap().push(job_id);
        Ok(job_id)
    }
    async fn fail_job(&self, _: i64, failure: &JobFailure) -> Result<(), StoreError> {
        panic!("no job may fail here: {failure:?}")
    }
    async fn heartbeat_worker(&self, _: &WorkerHeartbeat) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl LockStore for Memory {
    async fn try_lock_tenant(
        &self,
        _: CompanyId,
        _: &str,
        _: DateTime<Utc>,
        _: Duration,
    ) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn unlock_tenant(&self, _: CompanyId, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Implements the listed store roles with methods that all refuse ([`unused`]).
macro_rules! refusing {
    ($($trait:ident { $(fn $name:ident(&self $(, $arg:ty)*) -> $ret:ty;)* })*) => {
        $(
            #[async_trait]
            impl $trait for Memory {
                $(async fn $name(&self $(, _: $arg)*) -> Result<$ret, StoreError> {
                    Err(unused())
                })*
            }
        )*
    };
}

refusing! {
    QueueAdminStore {
        fn queue_overview(&self, Option<CompanyId>, DateTime<Utc>) -> QueueOverview;
        fn failed_jobs(&self, Option<CompanyId>, u32, Option<i64>) -> Vec<FailedJob>;
        fn recent_jobs(&self, Option<CompanyId>, u32, Option<JobStatus>) -> Vec<RecentJob>;
        fn queue_metrics(&self, Option<CompanyId>, DateTime<Utc>) -> QueueMetricsRows;
        fn workers(&self, DateTime<Utc>) -> Vec<WorkerView>;
        fn retry_job(&self, i64, Option<CompanyId>, DateTime<Utc>) -> RetryOutcome;
        fn retry_failed(&self, Option<CompanyId>, DateTime<Utc>, DateTime<Utc>) -> u64;
    }
    TokenStore {
        fn api_token(&self, &str) -> Option<TokenGrant>;
        fn metrics_access(&self, &str) -> bool;
    }
    TenantAdminStore {
        fn list_tenants(&self) -> Vec<crate::domain::onboarding::TenantSummary>;
        fn tenant(&self, &crate::domain::onboarding::TenantRef) -> Option<crate::domain::onboarding::TenantState>;
        fn phone_owners(&self, &[PhoneNumber]) -> Vec<(PhoneNumber, crate::domain::onboarding::Slug)>;
        fn write_tenant(&self, &crate::domain::onboarding::TenantSpec, &crate::domain::onboarding::AuditRecord) -> CompanyId;
        fn set_disabled(&self, CompanyId, bool, &crate::domain::onboarding::AuditRecord) -> bool;
        fn set_credentials(&self, CompanyId, &crate::domain::onboarding::CredentialUpdate, &crate::domain::onboarding::AuditRecord) -> bool;
        fn audit_log(&self, Option<CompanyId>, u32, Option<i64>) -> Vec<crate::domain::onboarding::AuditEntry>;
    }
    TokenAdminStore {
        fn create_token(&self, &NewToken, &crate::domain::onboarding::AuditRecord) -> (TokenInfo, SecretString);
        fn list_tokens(&self, Option<CompanyId>) -> Vec<TokenInfo>;
        fn revoke_token(&self, i64, Option<CompanyId>, DateTime<Utc>, &crate::domain::onboarding::AuditRecord) -> Option<TokenInfo>;
    }
    AppointmentStore {
        fn upcoming_appointments(&self, CompanyId, &str, DateTime<Utc>, u32) -> Vec<AppointmentRecord>;
        fn appointment(&self, CompanyId, &BookingUid) -> Option<AppointmentRecord>;
        fn customer_name(&self, CompanyId, &str) -> Option<String>;
        fn record_reschedule(&self, CompanyId, &BookingUid, &NewAppointment, DateTime<Utc>) -> i64;
        fn record_cancellation(&self, CompanyId, &BookingUid, Option<&str>, DateTime<Utc>) -> bool;
        fn record_calcom_event(&self, &CalcomEventRecord) -> CalcomEventOutcome;
        fn enqueue_job(&self, &NewJob) -> i64;
        fn complete_job(&self, i64, &[NewJob]) -> ();
    }
    RetellRecordStore {
        fn branch_numbers(&self, CompanyId) -> Vec<BranchNumber>;
        fn known_calls(&self, CompanyId, &[CallId]) -> Vec<CallId>;
        fn import_calls(&self, &[ImportedCall]) -> Vec<ImportOutcome>;
    }
    RetellConfigStore {
        fn function_overrides(&self, CompanyId) -> std::collections::BTreeMap<String, crate::retell::deploy::FunctionOverride>;
        fn set_function_override(&self, CompanyId, &str, &crate::retell::deploy::FunctionOverride, DateTime<Utc>) -> ();
    }
    AdminSessionStore {
        fn create_admin_session(&self, &NewAdminSession, u32) -> ();
        fn admin_session(&self, &str, DateTime<Utc>, Duration) -> Option<AdminSession>;
        fn delete_admin_session(&self, &str) -> ();
    }
}

#[async_trait]
impl crate::ports::ReportStore for Memory {
    fn sql_dialect(&self) -> crate::domain::sql_guard::SqlDialect {
        crate::domain::sql_guard::SqlDialect::Sqlite
    }
    async fn call_stats(
        &self,
        _: Option<CompanyId>,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
        _: crate::reports::StatsGrouping,
    ) -> Result<Vec<crate::reports::StatsRow>, StoreError> {
        Err(unused())
    }
    async fn failed_appointments(
        &self,
        _: Option<CompanyId>,
        _: u32,
    ) -> Result<Vec<crate::reports::FailedAppointment>, StoreError> {
        Err(unused())
    }
    async fn search(
        &self,
        _: Option<CompanyId>,
        _: &crate::reports::SearchTerms,
        _: u32,
    ) -> Result<crate::reports::SearchHits, StoreError> {
        Err(unused())
    }
    async fn run_query(
        &self,
        _: &crate::domain::sql_guard::CheckedQuery,
        _: &[crate::domain::sql_guard::QueryParam],
        _: crate::domain::sql_guard::RunLimits,
    ) -> Result<crate::domain::sql_guard::QueryOutput, crate::domain::sql_guard::QueryError> {
        Err(crate::domain::sql_guard::QueryError::Store(unused()))
    }
}

/// A cache that holds nothing.
struct NoCache;

#[async_trait]
impl Cache for NoCache {
    async fn get(&self, _: &str) -> Option<crate::jsonrpc::SharedJson> {
        None
    }
    async fn set(&self, _: &str, _: crate::jsonrpc::SharedJson, _: Duration) {}
    async fn remove(&self, _: &str) {}
}

/// The core's pieces a call touches, wired to the in-memory Cal.com and store.
struct Harness {
    clock: Arc<HandClock>,
    calendar: Arc<Calendar>,
    store: Arc<Memory>,
    deps: FunctionDeps,
    webhooks: Addr<WebhookServer>,
}

impl Harness {
    fn new() -> Self {
        // Monday 15 July 2030, 10:00 in Berlin.
        let clock = Arc::new(HandClock(Mutex::new(
            Utc.with_ymd_and_hms(2030, 7, 15, 8, 0, 0).unwrap(),
        )));
        let calendar = Arc::new(Calendar::new(Arc::clone(&clock)));
        let store = Arc::new(Memory::default());
        let budget = RestartBudget::new(10, Duration::from_secs(60));
        let lock = TenantLock::new(store.clone(), clock.clone(), "me".into());
        let calcom = crate::tenant::CalcomAccess {
            apis: Arc::new(SameCalendarApi(calendar.clone())),
            limiter: Arc::new(LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX))),
            policy: UpstreamPolicy::default(),
            retries: RetryBudget::default(),
        };
        let tenants = TenantDirectory::new(
            store.clone(),
            calcom,
            crate::tenant::RetellAccess::unused(),
            lock,
            Duration::from_secs(1800),
            budget.clone(),
        )
        .start();
        let limits = CallLimits {
            idle_timeout: Duration::from_secs(600),
            max_live: NonZeroUsize::new(100).unwrap(),
        };
        let calls = CallRegistry::new(store.clone(), clock.clone(), limits, budget.clone()).start();
        let cache: Arc<dyn Cache> = Arc::new(NoCache);
        let flights = Arc::new(AvailabilityFlights::new(
            Arc::clone(&cache),
            FlightPolicy {
                ttl: Duration::from_secs(300),
                max_in_flight: 256,
                rewarm: false,
            },
        ));
        let outbox = OutboxWorker::new(
            JobDeps {
                store: store.clone(),
                tenants: tenants.clone(),
                cache: Arc::clone(&cache),
                flights: Arc::clone(&flights),
                clock: clock.clone(),
                notifiers: Arc::new(NoNotifiers),
            },
            WorkerIdentity {
                worker_id: "me".into(),
                host: "test".into(),
            },
            OutboxConfig {
                poll_interval: Duration::from_millis(20),
                lease: Duration::from_secs(60),
                batch: 16,
                backoff_base: Duration::from_millis(10),
                backoff_max: Duration::from_millis(100),
            },
            budget.clone(),
        )
        .start();
        let webhooks = WebhookServer::new(
            store.clone(),
            calls.clone(),
            outbox.recipient::<Wake>(),
            tenants.clone(),
            clock.clone(),
            BookingPolicy { max_attempts: 3 },
            budget,
        )
        .start();
        let services = ServicesCache::new(
            store.clone(),
            ServicesCachePolicy {
                max_companies: 10,
                ttl: Duration::from_secs(10),
            },
        );
        let deps = FunctionDeps {
            store: store.clone(),
            services: Arc::new(services),
            calls,
            tenants,
            cache,
            flights,
            clock: clock.clone(),
            calendar_timeout: Duration::from_secs(2),
            hold: HoldPolicy { hold_min: HOLD_MIN },
        };
        Self {
            clock,
            calendar,
            store,
            deps,
            webhooks,
        }
    }

    fn route() -> TenantRoute {
        TenantRoute {
            company: profile(),
            branch_id: BranchId(1),
            branch_name: "Mitte".into(),
            window: BusinessWindow::default(),
            opening_hours: None,
        }
    }

    fn call(call_id: &str, status: &str) -> Value {
        json!({"call_id": call_id, "agent_id": "agent_test", "call_type": "phone_call",
               "direction": "inbound", "from_number": "+4915112345678",
               "to_number": "+493083793369", "call_status": status})
    }

    async fn collect(&self, call_id: &str, args: Value) -> Value {
        self.function("collect_appointment_data", Locale::De, call_id, args)
            .await
    }

    /// Runs the custom function `name` for a company speaking `locale`.
    async fn function(&self, name: &str, locale: Locale, call_id: &str, args: Value) -> Value {
        let call: RetellCall = serde_json::from_value(Self::call(call_id, "ongoing")).unwrap();
        let mut route = Self::route();
        route.company.locale = locale;
        let Value::Object(args) = args else {
            panic!("args are an object")
        };
        let inv = Invocation {
            route: &route,
            call: &call,
            args: &args,
            lane: Lane::Live,
        };
        execute(&self.deps, name, inv).await.unwrap()
    }

    /// All details of the 14:00 slot; `confirmed` as said.
    async fn collect_complete(&self, call_id: &str, confirmed: bool) -> Value {
        let args = json!({"dienstleistung": "Herrenhaarschnitt", "datum": "16.07.2030",
                          "uhrzeit": "14:00", "name": "Anna Schmidt",
                          "telefonnummer": "0151 12345678",
                          "bestaetigt": if confirmed { "ja" } else { "nein" }});
        self.collect(call_id, args).await
    }

    async fn end(&self, call_id: &str) -> WebhookAck {
        let raw = Self::call(call_id, "ended");
        self.webhooks
            .send(HandleWebhook {
                route: Self::route(),
                event: WebhookEvent::CallEnded,
                call: serde_json::from_value(raw.clone()).unwrap(),
                raw_call: raw,
                transfer: Default::default(),
                span: tracing::Span::none(),
            })
            .await
            .unwrap()
            .unwrap()
    }

    fn stored_hold(&self, call_id: &str) -> Option<SlotHold> {
        self.store
            .contexts
            .get(&CallId::parse(call_id.to_owned()).unwrap())
            .and_then(|c| c.collected.hold)
    }

    /// Waits (bounded; the tokio clock is paused, so the waits cost no real time) until the
    /// in-memory Cal.com has seen `what`: background work (a release, the outbox) runs on its
    /// own.
    async fn until_seen(&self, what: Seen) {
        for _ in 0..200 {
            if self.calendar.seen().contains(&what) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "Cal.com never saw {what:?}; it saw {:?}",
            self.calendar.seen()
        );
    }
}

fn reservations(seen: &[Seen]) -> usize {
    seen.iter()
        .filter(|s| matches!(s, Seen::Reserve(_)))
        .count()
}

#[test]
fn complete_available_slot_is_held_for_the_call() {
    paused_system().block_on(async {
        let h = Harness::new();
        let reply = h.collect_complete("call_hold_1", false).await;
        assert_eq!(reply["status"], "held", "{reply}");
        assert_eq!(reply["available"], true, "{reply}");
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .contains("Ich halte Ihnen den Termin während unseres Gesprächs frei"),
            "{reply}"
        );
        assert_eq!(
            h.calendar.seen(),
            vec![Seen::Reserve(ReservationRequest {
                event_type_id: EVENT_TYPE,
                slot_start: slot_start(),
                slot_duration_min: 30,
                reservation_duration_min: HOLD_MIN,
            })]
        );
        let hold = h
            .stored_hold("call_hold_1")
            .expect("the hold is kept with the call");
        assert_eq!(hold.uid, "hold_1");
        assert_eq!(hold.start, slot_start());
        assert_eq!(hold.until, h.clock.now() + Minutes::minutes(10));
    });
}

#[test]
fn changing_the_time_releases_the_old_hold() {
    paused_system().block_on(async {
        let h = Harness::new();
        assert_eq!(
            h.collect_complete("call_hold_2", false).await["status"],
            "held"
        );
        let reply = h.collect("call_hold_2", json!({"uhrzeit": "15:00"})).await;
        assert_eq!(reply["status"], "held", "{reply}");
        h.until_seen(Seen::Release("hold_1".into())).await;
        let hold = h.stored_hold("call_hold_2").unwrap();
        assert_eq!(hold.uid, "hold_2");
        assert_eq!(hold.start, slot_start() + Minutes::hours(1));
        assert!(
            !h.calendar.holds.lock().unwrap().contains_key("hold_1"),
            "14:00 is free again for other callers"
        );
    });
}

#[test]
fn corrected_time_replaces_the_old_withdraws_the_confirmation_and_is_repeated() {
    paused_system().block_on(async {
        let h = Harness::new();
        let confirmed = h.collect_complete("call_hold_corr", true).await;
        assert_eq!(confirmed["confirmed"], true, "{confirmed}");
        let reply = h
            .collect(
                "call_hold_corr",
                json!({"uhrzeit": "nein, nicht um 14 Uhr, um 15 Uhr"}),
            )
            .await;
        assert_eq!(reply["collected"]["uhrzeit"], "15:00", "{reply}");
        assert_eq!(reply["confirmed"], false, "the yes was for 14:00: {reply}");
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .starts_with("Verstanden: Dienstag, 16.07.2030, 15 Uhr, Herrenhaarschnitt."),
            "{reply}"
        );
    });
}

#[test]
fn value_without_correction_is_not_repeated_as_understood() {
    paused_system().block_on(async {
        let h = Harness::new();
        h.collect_complete("call_hold_plain", false).await;
        let reply = h
            .collect("call_hold_plain", json!({"uhrzeit": "15:00"}))
            .await;
        assert!(
            !reply["message"].as_str().unwrap().contains("Verstanden:"),
            "{reply}"
        );
    });
}

#[test]
fn slot_held_by_another_call_is_reported_taken_with_alternatives() {
    paused_system().block_on(async {
        let h = Harness::new();
        assert_eq!(
            h.collect_complete("call_first", true).await["status"],
            "booked_pending"
        );
        let reply = h.collect_complete("call_second", true).await;
        assert_eq!(reply["status"], "taken", "{reply}");
        assert_eq!(reply["available"], false);
        assert_eq!(reply["alternatives"], json!(["13:00", "13:30", "14:30"]));
        assert_eq!(
            reply["message"],
            "Der Termin am Dienstag, 16.07.2030 um 14 Uhr wurde leider gerade vergeben. Frei wäre \
         noch um 13 Uhr, 13:30 Uhr und 14:30 Uhr. Welche Uhrzeit passt Ihnen?"
        );
        assert!(h.stored_hold("call_second").is_none());
        assert_eq!(h.stored_hold("call_first").unwrap().uid, "hold_1");
    });
}

#[test]
fn call_ended_without_confirmation_releases_the_hold() {
    paused_system().block_on(async {
        let h = Harness::new();
        assert_eq!(
            h.collect_complete("call_hold_3", false).await["status"],
            "held"
        );
        let ack = h.end("call_hold_3").await;
        assert_eq!(ack, WebhookAck::Recorded { booking_job: None });
        h.until_seen(Seen::Release("hold_1".into())).await;
        assert!(h.calendar.holds.lock().unwrap().is_empty());
    });
}

#[test]
fn confirmed_call_books_against_its_hold() {
    paused_system().block_on(async {
        let h = Harness::new();
        let reply = h.collect_complete("call_hold_4", true).await;
        assert_eq!(reply["status"], "booked_pending", "{reply}");
        assert!(
            matches!(
                h.end("call_hold_4").await,
                WebhookAck::Recorded {
                    booking_job: Some(_)
                }
            ),
            "a booking job is enqueued"
        );
        let payload: BookingJobPayload = {
            let events = h.store.events.lock().unwrap();
            let job = events[0].booking_job.as_ref().unwrap();
            serde_json::from_value(job.payload.clone()).unwrap()
        };
        assert_eq!(payload.reserved_slot_uid.as_deref(), Some("hold_1"));
        h.until_seen(Seen::Book(Some("hold_1".into()))).await;
        assert!(
            !h.calendar
                .seen()
                .iter()
                .any(|s| matches!(s, Seen::Release(_))),
            "a hold booked against is not released"
        );
    });
}

#[test]
fn hold_is_renewed_when_the_call_runs_long() {
    paused_system().block_on(async {
        let h = Harness::new();
        assert_eq!(
            h.collect_complete("call_hold_5", false).await["status"],
            "held"
        );
        h.clock.advance(Minutes::minutes(3));
        let early = h
            .collect("call_hold_5", json!({"notizen": "Bitte kurz"}))
            .await;
        assert_eq!(early["status"], "held", "{early}");
        assert_eq!(
            h.calendar.seen().len(),
            1,
            "7 of 10 minutes left: nothing to renew"
        );

        h.clock.advance(Minutes::minutes(3));
        let late = h.collect("call_hold_5", json!({"bestaetigt": "ja"})).await;
        assert_eq!(late["status"], "booked_pending", "{late}");
        assert_eq!(h.calendar.seen()[1], Seen::Renew("hold_1".into()));
        let hold = h.stored_hold("call_hold_5").unwrap();
        assert_eq!(hold.uid, "hold_1");
        assert_eq!(
            hold.until,
            h.clock.now() + Minutes::minutes(10),
            "10 minutes from now"
        );

        // Quiet for longer than the hold: it lapsed, so the next function holds the slot anew.
        h.clock.advance(Minutes::minutes(11));
        let after = h
            .collect("call_hold_5", json!({"name": "Anna Schmidt"}))
            .await;
        assert_eq!(after["status"], "booked_pending", "{after}");
        assert_eq!(reservations(&h.calendar.seen()), 2);
        assert_eq!(h.stored_hold("call_hold_5").unwrap().uid, "hold_2");
    });
}

#[test]
fn no_hold_no_promise() {
    paused_system().block_on(async {
        let h = Harness::new();
        *h.calendar.reservations_down.lock().unwrap() = true;
        let asked = h.collect_complete("call_hold_6", false).await;
        assert_eq!(asked["status"], "free_unheld", "{asked}");
        let reply = h.collect("call_hold_6", json!({"bestaetigt": "ja"})).await;
        assert_eq!(reply["status"], "noted_unconfirmed", "{reply}");
        let message = reply["message"].as_str().unwrap();
        assert!(
            !message.contains("reserviert und") && !message.contains("gebucht."),
            "nothing is promised without a hold: {message}"
        );
        assert!(
            message.contains("konnte ihn gerade nicht fest reservieren"),
            "{message}"
        );
        assert!(
            !message.contains("SMS"),
            "no SMS settings, no promise of a message: {message}"
        );
        assert!(h.stored_hold("call_hold_6").is_none());
        // The confirmed wish is still booked after the call, without a reservation to redeem.
        assert!(matches!(
            h.end("call_hold_6").await,
            WebhookAck::Recorded {
                booking_job: Some(_)
            }
        ));
        h.until_seen(Seen::Book(None)).await;
    });
}

#[test]
fn caller_told_the_slot_is_taken_is_not_booked_at_call_end() {
    paused_system().block_on(async {
        let h = Harness::new();
        assert_eq!(
            h.collect_complete("call_holder", false).await["status"],
            "held"
        );
        let reply = h.collect_complete("call_too_late", true).await;
        assert_eq!(reply["status"], "taken", "{reply}");
        assert_eq!(reply["confirmed"], false, "the yes was to a slot now taken");
        assert_eq!(
            h.end("call_too_late").await,
            WebhookAck::Recorded { booking_job: None },
            "nobody books a slot the caller was told is taken"
        );
    });
}

#[test]
fn hold_stored_after_call_ended_read_the_call_is_still_booked_against() {
    paused_system().block_on(async {
        let h = Harness::new();
        let reply = h.collect_complete("call_late", true).await;
        assert_eq!(reply["status"], "booked_pending", "{reply}");
        // call_ended reads the call before the function's hold is stored.
        let hold = h
            .store
            .contexts
            .update(&CallId::parse("call_late".to_owned()).unwrap(), |context| {
                context.collected.hold.take()
            })
            .flatten()
            .unwrap();
        *h.store.late.lock().unwrap() = Some(hold);
        assert!(matches!(
            h.end("call_late").await,
            WebhookAck::Recorded {
                booking_job: Some(_)
            }
        ));
        h.until_seen(Seen::Book(Some("hold_1".into()))).await;
        assert_eq!(
            *h.store.done.lock().unwrap(),
            vec![1],
            "booked, not dead-lettered"
        );
    });
}

#[test]
fn a_hold_the_call_could_not_record_is_released() {
    paused_system().block_on(async {
        let h = Harness::new();
        h.store
            .refuse_holds
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let call = "call_unrecorded_hold";
        let call_value: RetellCall =
            serde_json::from_value(Harness::call(call, "ongoing")).unwrap();
        let route = Harness::route();
        let Value::Object(args) = json!({"dienstleistung": "Herrenhaarschnitt",
            "datum": "16.07.2030", "uhrzeit": "14:00", "name": "Anna Schmidt",
            "telefonnummer": "0151 12345678", "bestaetigt": "ja"})
        else {
            unreachable!()
        };
        let inv = Invocation {
            route: &route,
            call: &call_value,
            args: &args,
            lane: Lane::Live,
        };
        // The function fails (the store is down) …
        assert!(
            execute(&h.deps, "collect_appointment_data", inv)
                .await
                .is_err()
        );
        assert_eq!(reservations(&h.calendar.seen()), 1, "the slot was held");
        assert_eq!(h.stored_hold(call), None, "and the hold not recorded");
        // … so the hold it took is released, not left to keep the caller's own slot from
        // their booking until it lapses.
        h.until_seen(Seen::Release("hold_1".into())).await;
    });
}

#[test]
fn a_hold_granted_after_the_function_stopped_waiting_is_booked_against() {
    paused_system().block_on(async {
        let h = Harness::new();
        // Cal.com reserves the slot, but its answer comes after the function's 2 s deadline.
        *h.calendar.reservation_delays.lock().unwrap() = vec![Duration::from_secs(3)];
        let reply = h.collect_complete("call_slow_hold", true).await;
        assert_ne!(reply["status"], "booked_pending", "no hold yet: {reply}");
        for _ in 0..200 {
            if h.stored_hold("call_slow_hold").is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            h.stored_hold("call_slow_hold").map(|hold| hold.uid),
            Some("hold_1".to_owned()),
            "the late hold is recorded for the call"
        );
        assert!(matches!(
            h.end("call_slow_hold").await,
            WebhookAck::Recorded {
                booking_job: Some(_)
            }
        ));
        // Booked against it: without it, Cal.com refuses the call's own slot as reserved.
        h.until_seen(Seen::Book(Some("hold_1".into()))).await;
        assert_eq!(
            *h.store.done.lock().unwrap(),
            vec![1],
            "booked, not dead-lettered"
        );
    });
}

#[test]
fn a_late_hold_of_a_slot_the_caller_left_is_released() {
    paused_system().block_on(async {
        let h = Harness::new();
        *h.calendar.reservation_delays.lock().unwrap() = vec![Duration::from_secs(3)];
        let reply = h.collect_complete("call_slow_change", false).await;
        assert_ne!(reply["status"], "held", "no hold yet: {reply}");
        // Before the answer for 14:00 comes, the caller moves to 15:00 (held at once).
        let moved = h
            .collect("call_slow_change", json!({"uhrzeit": "15:00"}))
            .await;
        assert_eq!(moved["status"], "held", "{moved}");
        h.until_seen(Seen::Release("hold_1".into())).await;
        assert_eq!(h.stored_hold("call_slow_change").unwrap().uid, "hold_2");
        assert!(
            !h.calendar.holds.lock().unwrap().contains_key("hold_1"),
            "14:00 is free again for other callers"
        );
    });
}

// Time windows (issue 17) through `check_availability` and `find_next_slot`: the in-memory
// Cal.com has a slot every 30 minutes 09:00–17:30, and it is Monday 15 July 2030, 10:00.

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn window_in_check_availability_offers_earliest_middle_and_latest_free_time() {
    paused_system().block_on(async {
        let h = Harness::new();
        let args = json!({"dienstleistung": "Herrenhaarschnitt", "datum": "16.07.2030",
                          "uhrzeit": "nachmittags"});
        let reply = h
            .function("check_availability", Locale::De, "call_w1", args)
            .await;
        assert_eq!(reply["available"], true, "{reply}");
        assert_eq!(reply["zeitfenster"], "12:00-17:00", "{reply}");
        assert_eq!(
            strings(&reply["alternatives"]),
            ["12:00", "14:00", "16:30"],
            "{reply}"
        );
        assert_eq!(
            reply["message"],
            "Am Dienstag, 16.07.2030 zwischen 12 Uhr und 17 Uhr ist um 12 Uhr, 14 Uhr und \
             16:30 Uhr frei. Was passt Ihnen?"
        );
    });
}

#[test]
fn window_with_a_day_needs_no_date_arg_and_speaks_english() {
    paused_system().block_on(async {
        let h = Harness::new();
        let args = json!({"service": "Herrenhaarschnitt", "time": "any time Tuesday"});
        let reply = h
            .function("check_availability", Locale::En, "call_w2", args)
            .await;
        assert_eq!(reply["datum"], "2030-07-16", "{reply}");
        assert_eq!(
            strings(&reply["alternatives"]),
            ["09:00", "13:00", "17:30"],
            "{reply}"
        );
        assert_eq!(
            reply["message"],
            "On Tuesday, 16 July 2030 between 8 am and 8 pm I have 9 am, 1 pm and 5:30 pm \
             available. Which suits you?"
        );
    });
}

#[test]
fn full_window_offers_the_free_times_nearest_to_it() {
    paused_system().block_on(async {
        let h = Harness::new();
        // 09:00 and 09:30 Berlin (UTC+2) are booked.
        for minute in [0, 30] {
            let start = Utc.with_ymd_and_hms(2030, 7, 16, 7, minute, 0).unwrap();
            h.calendar.booked.lock().unwrap().push(start);
        }
        let args = json!({"dienstleistung": "Herrenhaarschnitt", "datum": "16.07.2030",
                          "uhrzeit": "vor zehn"});
        let reply = h
            .function("check_availability", Locale::De, "call_w3", args)
            .await;
        assert_eq!(reply["available"], false, "{reply}");
        assert_eq!(
            strings(&reply["alternatives"]),
            ["10:00", "10:30", "11:00"],
            "{reply}"
        );
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .contains("zwischen 8 Uhr und 10 Uhr ist leider nichts frei"),
            "{reply}"
        );
    });
}

#[test]
fn window_in_find_next_slot_is_searched_from_today() {
    paused_system().block_on(async {
        let h = Harness::new();
        let args = json!({"dienstleistung": "Herrenhaarschnitt", "uhrzeit": "abends"});
        let reply = h
            .function("find_next_slot", Locale::De, "call_w4", args)
            .await;
        assert_eq!(reply["found"], true, "{reply}");
        assert_eq!(reply["datum"], "2030-07-15", "{reply}");
        assert_eq!(reply["uhrzeit"], "17:00", "{reply}");
        assert_eq!(
            strings(&reply["alternativen"]),
            ["17:00", "17:30"],
            "{reply}"
        );
        assert_eq!(
            reply["message"],
            "Für Herrenhaarschnitt ist am Montag, 15.07.2030 um 17 Uhr und 17:30 Uhr frei. \
             Was passt Ihnen?"
        );
    });
}

#[test]
fn window_in_find_next_slot_skips_times_already_past() {
    paused_system().block_on(async {
        let h = Harness::new();
        let args = json!({"service": "Herrenhaarschnitt", "time": "before noon"});
        let reply = h
            .function("find_next_slot", Locale::En, "call_w5", args)
            .await;
        assert_eq!(reply["datum"], "2030-07-15", "{reply}");
        assert_eq!(
            strings(&reply["alternativen"]),
            ["10:30", "11:00", "11:30"],
            "{reply}"
        );
        assert_eq!(
            reply["message"],
            "For Herrenhaarschnitt I have 10:30 am, 11 am and 11:30 am on Monday, 15 July 2030. \
             Which suits you?"
        );
    });
}

#[test]
fn two_windows_offered_are_asked_about_not_guessed() {
    paused_system().block_on(async {
        let h = Harness::new();
        for (locale, said, asks) in [
            (
                Locale::De,
                "vormittags oder nachmittags",
                "Welche soll ich nehmen?",
            ),
            (Locale::En, "at 3 or 4", "Which one should I take?"),
        ] {
            let args = json!({"dienstleistung": "Herrenhaarschnitt", "datum": "16.07.2030",
                              "uhrzeit": said});
            let reply = h
                .function("check_availability", locale, "call_w6", args)
                .await;
            assert_eq!(reply["success"], false, "{reply}");
            assert!(
                reply["message"].as_str().unwrap().ends_with(asks),
                "{reply}"
            );
        }
    });
}
