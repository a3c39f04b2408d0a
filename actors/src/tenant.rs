//! Tenants at run time: resolving a dialled number to its company, the `TenantDirectory` that
//! spawns one [`TenantSession`] and one Cal.com [`Breaker`] per company on demand, and the
//! session that serialises a company's slot-changing work.

use crate::breaker::{Breaker, CalendarHandle, UpstreamPolicy};
use crate::domain::booking::{Booking, BookingQuery, BookingRequest, UpstreamError};
use crate::domain::ids::CompanyId;
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::{CompanyProfile, TenantRoute};
use crate::ports::{CalendarApi, Clock, Store, StoreError};
use crate::resilience::{BreakerState, RetryBudget};
use crate::supervision::{RestartBudget, catch, restart_after_panic};
use actix::prelude::*;
use chrono::Duration as ChronoDuration;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a dialled number does not lead to a tenant.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RouteError {
    /// The call object has no business number (`to_number`, or `from_number` on outbound calls),
    /// e.g. a web call.
    #[error("the call object has no business phone number (to_number / from_number)")]
    NoNumber,
    /// The business number is not a valid phone number.
    #[error("{0:?} is not a valid E.164 phone number")]
    InvalidNumber(String),
    /// No branch owns the number (DESIGN §5 code 1003); carries its E.164 form.
    #[error("phone number {0} is not configured for any company")]
    NotConfigured(String),
    /// The lookup in the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resolves the business number of a call to its company and branch.
pub async fn resolve_route(
    store: &dyn Store,
    number: Option<&str>,
) -> Result<TenantRoute, RouteError> {
    let raw = number.ok_or(RouteError::NoNumber)?;
    let phone =
        PhoneNumber::parse_default(raw).map_err(|_| RouteError::InvalidNumber(raw.to_owned()))?;
    store
        .tenant_by_phone(&phone)
        .await?
        .ok_or_else(|| RouteError::NotConfigured(phone.to_string()))
}

/// Why a company's session could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TenantError {
    /// No company has this id.
    #[error("company {0} not found")]
    NotFound(CompanyId),
    /// Loading the company failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A company's live handles.
#[derive(Clone)]
pub struct TenantHandle {
    /// The company as loaded at first use in this process; not reloaded, so edited credentials or
    /// zone need a restart.
    pub profile: CompanyProfile,
    /// Reads (event types, slots, bookings) go straight to the breaker.
    pub calendar: CalendarHandle,
    /// Slot-changing work goes through the session, one at a time per company.
    pub session: Addr<TenantSession>,
}

/// Message: the handles of a company, spawning its session and breaker on first use.
#[derive(Debug, Message)]
#[rtype(result = "Result<TenantHandle, TenantError>")]
pub struct GetTenant(pub CompanyId);

/// Owns the per-company sessions and breakers of this process.
pub struct TenantDirectory {
    store: Arc<dyn Store>,
    api: Arc<dyn CalendarApi>,
    policy: UpstreamPolicy,
    /// One retry budget for Cal.com, shared by every company's breaker.
    retries: RetryBudget,
    /// Cross-instance booking lock handed to every session.
    lock: TenantLock,
    tenants: HashMap<CompanyId, TenantHandle>,
    budget: RestartBudget,
}

impl TenantDirectory {
    /// An empty directory; sessions are created on demand.
    pub fn new(
        store: Arc<dyn Store>,
        api: Arc<dyn CalendarApi>,
        policy: UpstreamPolicy,
        retries: RetryBudget,
        lock: TenantLock,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            api,
            policy,
            retries,
            lock,
            tenants: HashMap::new(),
            budget,
        }
    }
}

impl Actor for TenantDirectory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

impl Supervised for TenantDirectory {}

crate::guarded_actor!(TenantDirectory, "tenant_directory");

impl Handler<GetTenant> for TenantDirectory {
    type Result = ResponseActFuture<Self, Result<TenantHandle, TenantError>>;

    fn handle(&mut self, GetTenant(id): GetTenant, _ctx: &mut Self::Context) -> Self::Result {
        if let Some(handle) = self.tenants.get(&id) {
            let handle = handle.clone();
            return Box::pin(async move { Ok(handle) }.into_actor(self));
        }
        let store = Arc::clone(&self.store);
        Box::pin(
            catch(async move { store.company(id).await })
                .into_actor(self)
                .map(move |loaded, act, ctx| {
                    let loaded = match loaded {
                        Ok(loaded) => loaded,
                        Err(panic) => {
                            restart_after_panic(act, ctx, &panic);
                            return Err(TenantError::Store(StoreError::backend(format!(
                                "tenant lookup failed: {panic}"
                            ))));
                        }
                    };
                    let profile = loaded?.ok_or(TenantError::NotFound(id))?;
                    // Another request may have created it while we were loading.
                    if let Some(handle) = act.tenants.get(&id) {
                        return Ok(handle.clone());
                    }
                    let breaker = Breaker::new(
                        Arc::clone(&act.api),
                        profile.calcom_api_key.clone(),
                        id,
                        act.policy,
                        act.retries.clone(),
                        act.budget.clone(),
                    );
                    let circuit = breaker.circuit();
                    let calendar =
                        CalendarHandle::new(Supervisor::start(move |_| breaker), circuit);
                    let session = TenantSession {
                        company: id,
                        calendar: calendar.clone(),
                        lock: act.lock.clone(),
                        budget: act.budget.clone(),
                    };
                    let session = Supervisor::start(move |_| session);
                    let handle = TenantHandle {
                        profile,
                        calendar,
                        session,
                    };
                    act.tenants.insert(id, handle.clone());
                    Ok(handle)
                }),
        )
    }
}

/// One company's Cal.com circuit breaker, for health and `circuit-status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerStatus {
    /// Upstream, `calcom`.
    pub service: &'static str,
    /// Company whose credential the breaker fronts.
    pub company: CompanyId,
    /// Current state.
    pub state: BreakerState,
}

/// Message: the state of every breaker started in this process, by company.
#[derive(Debug, Message)]
#[rtype(result = "Vec<BreakerStatus>")]
pub struct ListBreakers;

impl Handler<ListBreakers> for TenantDirectory {
    type Result = Vec<BreakerStatus>;

    fn handle(&mut self, _: ListBreakers, _ctx: &mut Self::Context) -> Vec<BreakerStatus> {
        let mut list: Vec<BreakerStatus> = self
            .tenants
            .iter()
            .map(|(company, handle)| BreakerStatus {
                service: "calcom",
                company: *company,
                state: handle.calendar.state(),
            })
            .collect();
        list.sort_by_key(|b| b.company);
        list
    }
}

/// How a booking request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum BookOutcome {
    /// Cal.com created it now.
    Created(Booking),
    /// An earlier attempt had already created it (found by our idempotency key).
    Found(Booking),
}

impl BookOutcome {
    /// The booking either way.
    pub fn booking(&self) -> &Booking {
        match self {
            Self::Created(b) | Self::Found(b) => b,
        }
    }
}

/// Message: book one slot for this company, exactly once per idempotency key.
#[derive(Debug, Message)]
#[rtype(result = "Result<BookOutcome, UpstreamError>")]
pub struct Book {
    /// Must carry `idempotency_key` in its metadata.
    pub request: BookingRequest,
    /// Our key for this booking, e.g. `retell:<call_id>:book`; a booking with it in its metadata is
    /// ours.
    pub idempotency_key: String,
    /// Minutes; bounds the search for an earlier booking.
    pub duration_min: u32,
    /// Look for our own booking before creating (a retry, whose first try may have
    /// succeeded at Cal.com without us hearing the answer).
    pub look_up_first: bool,
}

/// The per-company booking session: one slot-changing operation at a time, so two calls of
/// one company cannot race for one slot inside this process.
pub struct TenantSession {
    company: CompanyId,
    calendar: CalendarHandle,
    lock: TenantLock,
    budget: RestartBudget,
}

/// How long a company's booking lock is held at most before another instance may take it
/// (covers a look-up plus a create, each bounded by the call timeout).
pub const LOCK_LEASE: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a booking waits for another instance to release the company's lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The cross-instance booking lock of a company: a lease row in the store, so two instances
/// never run slot-changing work of one company at once, and a crashed holder's lease ends.
#[derive(Clone)]
pub struct TenantLock {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// This process (instance id).
    holder: String,
}

impl TenantLock {
    /// A lock handle for `holder` (unique per process).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, holder: String) -> Self {
        Self {
            store,
            clock,
            holder,
        }
    }

    /// Waits up to [`LOCK_WAIT`] for the lock; a busy or unreachable lock is a transient error,
    /// so the booking job retries later.
    async fn acquire(&self, company: CompanyId) -> Result<(), UpstreamError> {
        let deadline = tokio::time::Instant::now() + LOCK_WAIT;
        loop {
            match self
                .store
                .try_lock_tenant(company, &self.holder, self.clock.now(), LOCK_LEASE)
                .await
            {
                Ok(true) => return Ok(()),
                Ok(false) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                }
                Ok(false) => {
                    return Err(UpstreamError::Transport {
                        service: "booking-lock",
                        message: format!("company {company} is booking on another instance"),
                    });
                }
                Err(e) => {
                    return Err(UpstreamError::Transport {
                        service: "booking-lock",
                        message: format!("booking lock unavailable: {e}"),
                    });
                }
            }
        }
    }

    async fn release(&self, company: CompanyId) {
        if let Err(e) = self.store.unlock_tenant(company, &self.holder).await {
            // The lease ends by itself; only a delay for the next booking of this company.
            tracing::warn!(%company, error = %e, "releasing the booking lock failed");
        }
    }
}

impl Actor for TenantSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(256);
    }
}

/// Finds a live booking of ours by idempotency key around `request.start`.
async fn find_own(
    calendar: &CalendarHandle,
    request: &BookingRequest,
    key: &str,
    duration_min: u32,
) -> Result<Option<Booking>, UpstreamError> {
    let query = BookingQuery {
        event_type_id: Some(request.event_type_id),
        after_start: Some(request.start - ChronoDuration::minutes(1)),
        before_end: Some(request.start + ChronoDuration::minutes(i64::from(duration_min) + 1)),
        take: Some(100),
        ..BookingQuery::default()
    };
    let bookings = calendar.list_bookings_once(query).await?;
    Ok(bookings
        .into_iter()
        .find(|b| b.idempotency_key() == Some(key) && b.status != "cancelled"))
}

impl Supervised for TenantSession {}

crate::guarded_actor!(TenantSession, "tenant_session");

impl Handler<Book> for TenantSession {
    type Result = AtomicResponse<Self, Result<BookOutcome, UpstreamError>>;

    fn handle(&mut self, msg: Book, _ctx: &mut Self::Context) -> Self::Result {
        let calendar = self.calendar.clone();
        let lock = self.lock.clone();
        let company = self.company;
        let locked = async move {
            lock.acquire(company).await?;
            let result = book(calendar, msg).await;
            lock.release(company).await;
            result
        };
        AtomicResponse::new(Box::pin(catch(locked).into_actor(self).map(
            |result, act, ctx| match result {
                Ok(outcome) => outcome,
                Err(panic) => {
                    restart_after_panic(act, ctx, &panic);
                    Err(UpstreamError::Transport {
                        service: "calcom",
                        message: format!("booking session failed: {panic}"),
                    })
                }
            },
        )))
    }
}

/// Books once per idempotency key: looks for an earlier booking of ours first when asked,
/// and again when the create failed in a way that may hide a success.
async fn book(calendar: CalendarHandle, msg: Book) -> Result<BookOutcome, UpstreamError> {
    let Book {
        request,
        idempotency_key: key,
        duration_min,
        look_up_first,
    } = msg;
    if look_up_first && let Some(found) = find_own(&calendar, &request, &key, duration_min).await? {
        return Ok(BookOutcome::Found(found));
    }
    match calendar.create_booking(request.clone()).await {
        Ok(booking) => Ok(BookOutcome::Created(booking)),
        // A timeout, a dropped line or a 5xx may hide a success ("commit then fail"), and
        // "slot taken" may be our own booking from an attempt whose answer we never got.
        Err(e) if e.is_slot_unavailable() || e.is_transient() => {
            match find_own(&calendar, &request, &key, duration_min).await {
                Ok(Some(found)) => Ok(BookOutcome::Found(found)),
                // We could not check: never turn "maybe ours" into a permanent "slot taken".
                Err(lookup) if lookup.is_transient() => Err(lookup),
                Ok(None) | Err(_) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::{Attendee, ErrorAnswer, EventType, Slot, SlotQuery};
    use crate::domain::ids::{BookingUid, EventTypeId};
    use crate::resilience::RetryBudget;
    use async_trait::async_trait;
    use chrono::TimeZone;
    use secrecy::SecretString;
    use std::collections::BTreeMap;

    /// Cal.com whose create says "slot taken" and whose list answers `list_status`.
    struct Refusing {
        list_status: u16,
    }

    fn status(status: u16, message: &str) -> UpstreamError {
        let answer = ErrorAnswer {
            status,
            code: None,
            message: message.into(),
        };
        UpstreamError::from_status("calcom", answer, None)
    }

    #[async_trait]
    impl CalendarApi for Refusing {
        async fn event_types(&self, _: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
            unreachable!()
        }
        async fn slots(&self, _: &SecretString, _: &SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
            unreachable!()
        }
        async fn create_booking(
            &self,
            _: &SecretString,
            _: &BookingRequest,
        ) -> Result<Booking, UpstreamError> {
            Err(UpstreamError::SlotTaken {
                service: "calcom",
                answer: ErrorAnswer {
                    status: 400,
                    code: None,
                    message: "User either already has booking at this time or is not available"
                        .into(),
                },
            })
        }
        async fn list_bookings(
            &self,
            _: &SecretString,
            _: &BookingQuery,
        ) -> Result<Vec<Booking>, UpstreamError> {
            match self.list_status {
                200 => Ok(vec![]),
                s => Err(status(s, "unavailable")),
            }
        }
        async fn get_booking(
            &self,
            _: &SecretString,
            _: &BookingUid,
        ) -> Result<Booking, UpstreamError> {
            unreachable!()
        }
    }

    fn calendar(list_status: u16) -> CalendarHandle {
        let breaker = Breaker::new(
            Arc::new(Refusing { list_status }),
            SecretString::from("cal_test"),
            CompanyId(1),
            UpstreamPolicy::default(),
            RetryBudget::default(),
            RestartBudget::new(10, std::time::Duration::from_secs(60)),
        );
        let circuit = breaker.circuit();
        CalendarHandle::new(breaker.start(), circuit)
    }

    fn request() -> Book {
        Book {
            request: BookingRequest {
                event_type_id: EventTypeId(1001),
                start: chrono::Utc.with_ymd_and_hms(2030, 7, 16, 12, 0, 0).unwrap(),
                attendee: Attendee {
                    name: "A".into(),
                    time_zone: "Europe/Berlin".into(),
                    email: None,
                    phone_number: Some("+4915112345678".into()),
                    language: None,
                },
                metadata: BTreeMap::new(),
                length_in_minutes: None,
            },
            idempotency_key: "k".into(),
            duration_min: 30,
            look_up_first: false,
        }
    }

    #[actix_rt::test]
    async fn slot_taken_with_a_failed_look_up_is_retryable_not_a_dead_letter() {
        let err = book(calendar(503), request()).await.unwrap_err();
        assert!(err.is_transient(), "must be retried, got {err}");
        assert!(!err.is_slot_unavailable());
    }

    #[actix_rt::test]
    async fn slot_taken_by_someone_else_stays_slot_taken() {
        let err = book(calendar(200), request()).await.unwrap_err();
        assert!(err.is_slot_unavailable(), "{err}");
    }
}
