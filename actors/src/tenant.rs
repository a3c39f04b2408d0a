//! Tenants at run time: resolving a dialled number to its company, the `TenantDirectory` that
//! spawns one [`TenantSession`] and one Cal.com [`Breaker`] per company on demand, and the
//! session that serialises a company's slot-changing work.

use crate::breaker::{Breaker, BreakerPolicy, CalendarHandle};
use crate::domain::booking::{Booking, BookingQuery, BookingRequest, UpstreamError};
use crate::domain::ids::CompanyId;
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::{CompanyProfile, TenantRoute};
use crate::ports::{CalendarApi, Store, StoreError};
use actix::prelude::*;
use chrono::Duration as ChronoDuration;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a dialled number does not lead to a tenant.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RouteError {
    #[error("the call object has no business phone number (to_number / from_number)")]
    NoNumber,
    #[error("{0:?} is not a valid E.164 phone number")]
    InvalidNumber(String),
    #[error("phone number {0} is not configured for any company")]
    NotConfigured(String),
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
    #[error("company {0} not found")]
    NotFound(CompanyId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A company's live handles.
#[derive(Clone)]
pub struct TenantHandle {
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
    policy: BreakerPolicy,
    tenants: HashMap<CompanyId, TenantHandle>,
}

impl TenantDirectory {
    /// An empty directory; sessions are created on demand.
    pub fn new(store: Arc<dyn Store>, api: Arc<dyn CalendarApi>, policy: BreakerPolicy) -> Self {
        Self {
            store,
            api,
            policy,
            tenants: HashMap::new(),
        }
    }
}

impl Actor for TenantDirectory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

impl Handler<GetTenant> for TenantDirectory {
    type Result = ResponseActFuture<Self, Result<TenantHandle, TenantError>>;

    fn handle(&mut self, GetTenant(id): GetTenant, _ctx: &mut Self::Context) -> Self::Result {
        if let Some(handle) = self.tenants.get(&id) {
            let handle = handle.clone();
            return Box::pin(async move { Ok(handle) }.into_actor(self));
        }
        let store = Arc::clone(&self.store);
        Box::pin(async move { store.company(id).await }.into_actor(self).map(
            move |loaded, act, _ctx| {
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
                )
                .start();
                let calendar = CalendarHandle::new(breaker);
                let session = TenantSession {
                    calendar: calendar.clone(),
                }
                .start();
                let handle = TenantHandle {
                    profile,
                    calendar,
                    session,
                };
                act.tenants.insert(id, handle.clone());
                Ok(handle)
            },
        ))
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
    calendar: CalendarHandle,
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
    let bookings = calendar.list_bookings(query).await?;
    Ok(bookings
        .into_iter()
        .find(|b| b.idempotency_key() == Some(key) && b.status != "cancelled"))
}

impl Handler<Book> for TenantSession {
    type Result = AtomicResponse<Self, Result<BookOutcome, UpstreamError>>;

    fn handle(&mut self, msg: Book, _ctx: &mut Self::Context) -> Self::Result {
        let calendar = self.calendar.clone();
        AtomicResponse::new(Box::pin(
            async move {
                let Book {
                    request,
                    idempotency_key: key,
                    duration_min,
                    look_up_first,
                } = msg;
                if look_up_first
                    && let Some(found) = find_own(&calendar, &request, &key, duration_min).await?
                {
                    return Ok(BookOutcome::Found(found));
                }
                match calendar.create_booking(request.clone()).await {
                    Ok(booking) => Ok(BookOutcome::Created(booking)),
                    // A timeout may hide a success, and "slot taken" may be our own booking.
                    Err(e)
                        if e.is_slot_unavailable()
                            || matches!(e, UpstreamError::Transport { .. }) =>
                    {
                        match find_own(&calendar, &request, &key, duration_min).await {
                            Ok(Some(found)) => Ok(BookOutcome::Found(found)),
                            _ => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            .into_actor(self),
        ))
    }
}
