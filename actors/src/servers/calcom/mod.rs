//! `CalcomServer`: the `calcom.*` JSON-RPC methods — event types (cached), availability
//! (cached, invalidated by our own bookings), bookings, and creating a booking through the
//! company's `TenantSession`; checking the company's Cal.com key (`testConnection`) and
//! matching its event types to its services (`syncEventTypes`). One file per method, listed
//! once in `method_list!` below.

use crate::breaker::CalendarHandle;
use crate::domain::booking::{SlotQuery, UpstreamError};
use crate::domain::date_window::{DateOutOfRange, DateWindow};
use crate::domain::ids::{CompanyId, EventTypeId};
use crate::domain::service_match::{ServiceMatchError, match_service};
use crate::domain::tenant::Service;
use crate::jsonrpc::{AppError, ErrorCode, RpcError, SharedJson};
use crate::ports::{
    AppointmentStore, Cache, CallStore, Clock, Store, TenancyStore, TenantAdminStore,
};
use crate::registry::{MethodSpec, MethodTable};
use crate::servers::{store_error, tenant_error};
use crate::supervision::RestartBudget;
use crate::tenant::{GetTenant, ServicesCache, TenantDirectory, TenantHandle};
use actix::prelude::*;
use chrono::NaiveDate;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Cache lifetimes (`[cache]` in config/default.toml).
#[derive(Debug, Clone, Copy)]
pub struct CacheTtl {
    /// Lifetime of a company's cached event types (`event_types_ttl_s`).
    pub event_types: Duration,
    /// Lifetime of one event type's cached free slots of one day (`availability_ttl_s`); our own
    /// bookings drop the entry at once.
    pub availability: Duration,
}

/// What the `calcom.*` methods need.
pub struct CalcomDeps {
    /// The companies' services (which event type backs which service).
    pub services: Arc<dyn TenancyStore>,
    /// Where a gateway booking is recorded as an appointment.
    pub appointments: Arc<dyn CallStore>,
    /// Per-company Cal.com breakers and booking sessions.
    pub tenants: Addr<TenantDirectory>,
    /// Cached event types and free slots.
    pub cache: Arc<dyn Cache>,
    /// One fetch at a time per (company, event type, day) of free slots; re-warms a day our
    /// booking changed.
    pub flights: Arc<AvailabilityFlights>,
    /// "Now", to refuse bookings in the past and dates outside the [`DateWindow`].
    pub clock: Arc<dyn Clock>,
    /// How long cached reads live.
    pub ttl: CacheTtl,
    /// The tenants as declared (team id, services), and the one path that writes them.
    pub admin: Arc<dyn TenantAdminStore>,
    /// Where staff moves and cancellations are recorded, and their SMS jobs enqueued.
    pub bookings: Arc<dyn AppointmentStore>,
    /// The companies' services as the custom functions read them: dropped when
    /// `calcom.syncEventTypes` rewrites a company's event type ids.
    pub services_cache: Arc<ServicesCache>,
}

pub mod cancel_booking;
pub mod check_availability;
pub use check_availability::Availability;
pub mod create_booking;
pub mod flights;
pub use flights::{AvailabilityFlights, FlightPolicy};
pub mod get_bookings;
pub mod get_event_types;
pub mod sync_event_types;
pub mod test_connection;
pub mod update_booking;

crate::method_list!(CalcomDeps:
    get_event_types::GetEventTypes,
    check_availability::CheckAvailability,
    get_bookings::GetBookings,
    create_booking::CreateBooking,
    test_connection::TestConnection,
    sync_event_types::SyncEventTypes,
    update_booking::UpdateBooking,
    cancel_booking::CancelBooking,
);

/// The `calcom` server actor.
pub struct CalcomServer {
    methods: MethodTable<CalcomDeps>,
    deps: Arc<CalcomDeps>,
    budget: RestartBudget,
}

/// The caches a `calcom` server reads and keeps fresh.
#[derive(Clone)]
pub struct CalcomCaches {
    /// Event types and free slots (in-process, or Redis shared by the instances).
    pub cache: Arc<dyn Cache>,
    /// One-day free-slot fetches in flight, filling `cache`.
    pub flights: Arc<AvailabilityFlights>,
    /// The companies' services, dropped when `calcom.syncEventTypes` rewrites their event
    /// type ids.
    pub services: Arc<ServicesCache>,
}

impl CalcomServer {
    /// A server reading through `tenants`' breakers and caching in `caches`.
    pub fn new(
        store: Arc<dyn Store>,
        tenants: Addr<TenantDirectory>,
        caches: CalcomCaches,
        clock: Arc<dyn Clock>,
        ttl: CacheTtl,
        budget: RestartBudget,
    ) -> Self {
        let CalcomCaches {
            cache,
            flights,
            services: services_cache,
        } = caches;
        Self {
            methods: list().compile(),
            deps: Arc::new(CalcomDeps {
                services: Arc::clone(&store) as Arc<dyn TenancyStore>,
                admin: Arc::clone(&store) as Arc<dyn TenantAdminStore>,
                bookings: Arc::clone(&store) as Arc<dyn AppointmentStore>,
                appointments: store,
                tenants,
                cache,
                flights,
                clock,
                ttl,
                services_cache,
            }),
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for CalcomServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

impl Supervised for CalcomServer {}

crate::guarded_actor!(CalcomServer, "calcom");
crate::method_server!(CalcomServer);

/// The dates a request may name, around today in `tz`.
/// Cache key of a company's event types as `calcom.getEventTypes` shows them (with the service
/// each backs): `mcp:calcom:event_types:{company}`.
pub fn event_types_key(company: CompanyId) -> String {
    format!("mcp:calcom:event_types:{company}")
}

fn date_window(deps: &CalcomDeps, tz: chrono_tz::Tz) -> DateWindow {
    DateWindow::around(deps.clock.now().with_timezone(&tz).date_naive())
}

/// 4002 for a date outside the window, naming the accepted range.
fn date_out_of_range(e: DateOutOfRange) -> RpcError {
    AppError::new(ErrorCode::InvalidDateFormat, e.to_string()).into()
}

/// Cache key of one company's free slots of one event type on one local day. The company is
/// part of the key: a token may name any `event_type_id`, and another tenant's cached slots
/// must never answer it.
pub fn availability_key(company: CompanyId, event_type: EventTypeId, date: NaiveDate) -> String {
    format!("mcp:calcom:availability:{company}:{event_type}:{date}")
}

/// `company`'s cached free slots of `event_type` on its local day `date`, as
/// [`fetch_availability`] stored them; `None` when not cached (or the entry does not read).
pub async fn cached_availability(
    cache: &dyn Cache,
    company: CompanyId,
    event_type: EventTypeId,
    date: NaiveDate,
) -> Option<Availability> {
    let hit = cache
        .get(&availability_key(company, event_type, date))
        .await?;
    hit.read().ok()
}

/// Cache key of the version of `company`'s free slots of `event_type` on `date`: every booking
/// change writes a fresh value ([`forget_availability`], [`AvailabilityFlights::booked`]), and
/// a fetch that started under another value does not fill [`availability_key`], so an answer
/// Cal.com gave before the change is never cached after it (by any instance sharing the
/// cache).
fn availability_version_key(
    company: CompanyId,
    event_type: EventTypeId,
    date: NaiveDate,
) -> String {
    format!("mcp:calcom:availability_version:{company}:{event_type}:{date}")
}

/// Lifetime of a version entry: far longer than any Cal.com request (the breaker's timeout
/// and retries), so a fetch never outlives the version it started under.
const VERSION_TTL: Duration = Duration::from_secs(3600);

/// The current version of the day's free slots; `None` when no change was seen lately (or the
/// cache failed: then nothing is filled only if the version appears meanwhile).
async fn availability_version(
    cache: &dyn Cache,
    company: CompanyId,
    event_type: EventTypeId,
    date: NaiveDate,
) -> Option<SharedJson> {
    cache
        .get(&availability_version_key(company, event_type, date))
        .await
}

/// Writes a fresh version of the day's free slots: fetches in flight do not fill them.
async fn new_availability_version(
    cache: &dyn Cache,
    company: CompanyId,
    event_type: EventTypeId,
    date: NaiveDate,
) {
    let version = SharedJson::from(serde_json::Value::String(uuid::Uuid::new_v4().to_string()));
    cache
        .set(
            &availability_version_key(company, event_type, date),
            version,
            VERSION_TTL,
        )
        .await;
}

/// The one path that fills an [`availability_key`] entry: the free slots of `event_type` on
/// `company`'s local day `date` (zone `tz`), read from Cal.com through `calendar` (its breaker
/// and lane) and cached for `ttl`. Shared by `calcom.checkAvailability`, the custom functions
/// and the prefetch (through [`AvailabilityFlights`]), so a warmed entry is exactly what the
/// method would have stored: a complete one-day answer. Not cached when a booking changed the
/// day while Cal.com was asked (its version moved): that answer may still offer the slot.
///
/// # Errors
/// The breaker's [`UpstreamError`]; nothing is cached then.
pub async fn fetch_availability(
    cache: &dyn Cache,
    calendar: &CalendarHandle,
    company: CompanyId,
    event_type: EventTypeId,
    date: NaiveDate,
    tz: chrono_tz::Tz,
    ttl: Duration,
) -> Result<Availability, UpstreamError> {
    let version = availability_version(cache, company, event_type, date).await;
    let entry = (company, event_type, date);
    fetch_and_fill(cache, calendar, entry, tz, ttl, version).await
}

/// [`fetch_availability`] for a fetch that read `version` before it started.
async fn fetch_and_fill(
    cache: &dyn Cache,
    calendar: &CalendarHandle,
    (company, event_type, date): (CompanyId, EventTypeId, NaiveDate),
    tz: chrono_tz::Tz,
    ttl: Duration,
    version: Option<SharedJson>,
) -> Result<Availability, UpstreamError> {
    let slots = calendar
        .slots(SlotQuery {
            event_type_id: event_type,
            from: date,
            to: date,
            time_zone: tz,
            duration_min: None,
        })
        .await?;
    let availability = Availability {
        event_type_id: event_type,
        time_zone: tz.name().to_owned(),
        slots,
    };
    if availability_version(cache, company, event_type, date).await != version {
        tracing::debug!(%company, %event_type, %date, "free slots changed while Cal.com was asked; answer not cached");
        return Ok(availability);
    }
    if let Ok(value) = SharedJson::of(&availability) {
        cache
            .set(&availability_key(company, event_type, date), value, ttl)
            .await;
    }
    Ok(availability)
}

/// Drops the cached free slots of `event_type` on each of `days` (local dates of the company)
/// and moves their version, so no fetch already in flight fills them again: called at once
/// after every booking change that is not ours to patch ([`AvailabilityFlights::booked`]) —
/// a move (its old and its new day), a cancellation, Cal.com's webhooks — so no caller is
/// offered a slot that was just taken or denied one just freed. The next lookup of the day
/// fetches it once ([`AvailabilityFlights`]).
pub async fn forget_availability(
    cache: &dyn Cache,
    company: CompanyId,
    event_type: EventTypeId,
    days: &[NaiveDate],
) {
    for day in days {
        new_availability_version(cache, company, event_type, *day).await;
        cache
            .remove(&availability_key(company, event_type, *day))
            .await;
    }
}

impl CalcomDeps {
    async fn tenant(&self, company: CompanyId) -> Result<TenantHandle, RpcError> {
        self.tenants
            .send(GetTenant(company))
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|e| tenant_error(&e))
    }

    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, RpcError> {
        self.services
            .services(company)
            .await
            .map_err(|e| store_error(&e))
    }

    /// The event type of `service` (name or alias, matched like a caller's words), else
    /// `event_type` with the service it backs, if any.
    async fn event_type_of(
        &self,
        company: CompanyId,
        service: Option<&str>,
        event_type: Option<EventTypeId>,
    ) -> Result<(EventTypeId, Option<Service>), RpcError> {
        let services = self.services(company).await?;
        match (service, event_type) {
            (Some(name), _) => {
                let s =
                    match_service(name, &services).cloned().map_err(|e| {
                        match e {
                    ServiceMatchError::Ambiguous { candidates } => AppError::new(
                        ErrorCode::ServiceNotMapped,
                        format!(
                            "service {name:?} is ambiguous for company {company}: {}",
                            candidates.join(", ")
                        ),
                    )
                    .with_details(json!({"candidates": candidates})),
                    ServiceMatchError::NoMatch | ServiceMatchError::TooLong => AppError::new(
                        ErrorCode::ServiceNotMapped,
                        format!("no service {name:?} for company {company}"),
                    )
                    .with_details(
                        json!({"services": services.iter().map(|s| &s.name).collect::<Vec<_>>()}),
                    ),
                }
                    })?;
                Ok((s.event_type_id, Some(s)))
            }
            (None, Some(id)) => Ok((id, services.into_iter().find(|s| s.event_type_id == id))),
            (None, None) => Err(RpcError::invalid_params("give service or event_type_id")),
        }
    }
}
