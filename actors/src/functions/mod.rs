//! Retell custom functions (reference/retell.md §3; DESIGN §6): each takes the tool args of a
//! live call and answers JSON with a `message` the agent can speak in the company's language.
//! Calendar trouble never makes a function fail: the reply says so in words.
//!
//! One file per function, each a [`CustomFunction`]; [`registry`] lists them and derives
//! dispatch, the known names and the tool definitions from that one list.

pub mod args;
pub mod calculate_duration;
pub mod cancel_appointment;
pub mod change_appointment;
pub mod check_availability;
pub mod collect_appointment_data;
pub mod find_appointments;
pub mod find_next_slot;
pub mod registry;
pub use crate::speech;

pub use registry::{CustomFunction, Definition, NAMES, definitions};

use crate::call::context::{CallKey, ContextError};
use crate::call::hold::HoldPolicy;
use crate::call::registry::CallRegistry;
use crate::domain::booking::{SlotQuery, UpstreamError};
use crate::domain::date_window::DateWindow;
use crate::domain::tenant::{Service, TenantRoute};
use crate::metric_names as m;
use crate::ports::{Cache, Clock, Store, StoreError};
use crate::ratelimit::Lane;
use crate::retell::call::RetellCall;
use crate::servers::calcom::flights::Source;
use crate::servers::calcom::{AvailabilityFlights, cached_availability};
use crate::tenant::{GetTenant, ServicesCache, TenantDirectory, TenantError};
use actix::Addr;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// What the functions need.
#[derive(Clone)]
pub struct FunctionDeps {
    /// The number → tenant lookup of `retell.function.execute`, and the appointments the
    /// functions find, move and cancel.
    pub store: Arc<dyn Store>,
    /// The companies' services, cached per company.
    pub services: Arc<ServicesCache>,
    /// The live call contexts the collected data goes into.
    pub calls: Addr<CallRegistry>,
    /// Per-company handles: the Cal.com breaker that free slots are read through.
    pub tenants: Addr<TenantDirectory>,
    /// Cached free slots, dropped at once when a function changes a booking.
    pub cache: Arc<dyn Cache>,
    /// One fetch at a time per (company, event type, day) of free slots, shared with the
    /// prefetch: a one-day lookup waits for the fetch in flight instead of asking again.
    pub flights: Arc<AvailabilityFlights>,
    /// "Now" for relative dates ("morgen") and the past check, read in the company's zone.
    pub clock: Arc<dyn Clock>,
    /// Longest wait for Cal.com inside a function before answering without it.
    pub calendar_timeout: Duration,
    /// How long a caller's complete, free slot is held for the call (`calls.slot_hold_min`).
    pub hold: HoldPolicy,
}

/// One call of a function.
pub struct Invocation<'a> {
    /// Company and branch of the dialled number.
    pub route: &'a TenantRoute,
    /// The Retell call object of the request (reference/retell.md §3.1 `call`).
    pub call: &'a RetellCall,
    /// The tool's args as the LLM sent them (reference/retell.md §3.1 `args`).
    pub args: &'a Map<String, Value>,
    /// Share of the company's Cal.com budget its lookups count in: [`Lane::Live`] for Retell's
    /// signed requests during a call, [`Lane::Background`] for `retell.function.execute` from
    /// the gateway, which must not spend what is reserved for live calls.
    pub lane: Lane,
}

impl Invocation<'_> {
    /// The call's context key.
    pub fn key(&self) -> CallKey {
        CallKey {
            call_id: self.call.call_id.clone(),
            company_id: self.route.company.id,
            branch_id: self.route.branch_id,
            from_number: self.call.from_number.clone(),
            to_number: self.call.to_number.clone(),
        }
    }

    /// The services callers of the dialled branch may book: the company's services offered
    /// at that branch ([`Service::offered_at`]), ordered by name, from `services` (the
    /// store is read at most once per `cache.lookups_ttl_s`).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn services(&self, services: &ServicesCache) -> Result<Vec<Service>, StoreError> {
        let mut services = services.services(self.route.company.id).await?;
        services.retain(|s| s.offered_at(self.route.branch_id));
        Ok(services)
    }

    /// The dates callers of this company may ask for: from yesterday to the company's
    /// booking horizon (`policy.booking_horizon_days`) after `today`.
    pub fn date_window(&self, today: NaiveDate) -> DateWindow {
        DateWindow::within(today, self.route.company.policy.booking_horizon_days)
    }

    /// Now, in the company's zone.
    pub fn now_local(&self, clock: &dyn Clock) -> NaiveDateTime {
        clock
            .now()
            .with_timezone(&self.route.company.time_zone)
            .naive_local()
    }
}

/// A function could not answer at all (the HTTP layer maps it to a status).
#[derive(Debug, Clone, thiserror::Error)]
pub enum FunctionError {
    /// No function has this name (HTTP 404; JSON-RPC -32602).
    #[error("unknown custom function {0:?}; known: {known}", known = NAMES.join(", "))]
    Unknown(String),
    /// The call's context could not be read or stored, or belongs to another company.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// The store failed, e.g. reading the company's services.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The company's handles could not be had (company gone, or the store failed).
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The function panicked; the server actor was restarted.
    #[error("custom function failed: {0}")]
    Panicked(String),
}

/// Runs the function registered as `name`.
///
/// # Errors
/// [`FunctionError::Unknown`] when no function has this name, else the function's error.
pub async fn execute(
    deps: &FunctionDeps,
    name: &str,
    inv: Invocation<'_>,
) -> Result<Value, FunctionError> {
    match registry::find(name) {
        Some(function) => function.apply(deps, inv).await,
        None => Err(FunctionError::Unknown(name.to_owned())),
    }
}

/// Why free times could not be read.
#[derive(Debug)]
pub enum SlotsError {
    /// Cal.com or its breaker refused or failed, or the tenant directory did not answer.
    Upstream(UpstreamError),
    /// No answer within [`FunctionDeps::calendar_timeout`].
    TimedOut,
    /// The company's handles could not be had.
    Tenant(TenantError),
}

/// Free start times (local) of `service` between `from` and `to` inclusive, in order, within
/// [`FunctionDeps::calendar_timeout`]. A one-day lookup goes through
/// [`FunctionDeps::flights`]: a warm [`availability_key`] entry answers it; else it waits for
/// the fetch of that entry in flight (the call-start prefetch's, another call's) instead of
/// asking Cal.com again; else it fetches the day itself and fills the entry, so the next
/// lookup of the day is warm. Only complete one-day answers fill it, and never one Cal.com
/// gave before a booking change of the day ([`fetch_availability`]). A span of days asks
/// Cal.com and fills nothing (its answer is not one entry).
///
/// [`availability_key`]: crate::servers::calcom::availability_key
/// [`fetch_availability`]: crate::servers::calcom::fetch_availability
pub async fn free_times(
    deps: &FunctionDeps,
    lane: Lane,
    route: &TenantRoute,
    service: &Service,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<NaiveDateTime>, SlotsError> {
    let tz = route.company.time_zone;
    let company = route.company.id;
    let event_type = service.event_type_id;
    let local = |slots: Vec<crate::domain::booking::Slot>| {
        slots
            .into_iter()
            .map(|s| s.start.with_timezone(&tz).naive_local())
            .collect()
    };
    let cache = deps.flights.cache();
    if from == to
        && let Some(warm) = cached_availability(cache, company, event_type, from).await
    {
        metrics::counter!(m::CACHE_HITS_TOTAL, "cache" => "availability").increment(1);
        return Ok(local(warm.slots));
    }
    let lookup = async {
        let tenant = deps
            .tenants
            .send(GetTenant(company))
            .await
            .map_err(|e| {
                SlotsError::Upstream(UpstreamError::Transport {
                    service: "calcom",
                    message: e.to_string(),
                })
            })?
            .map_err(SlotsError::Tenant)?;
        let calendar = tenant.calendar.in_lane(lane);
        if from == to {
            let (day, source) = deps
                .flights
                .fetch(&calendar, (company, event_type, from), tz)
                .await
                .map_err(SlotsError::Upstream)?;
            if source == Source::Cache {
                metrics::counter!(m::CACHE_HITS_TOTAL, "cache" => "availability").increment(1);
            }
            return Ok(local(day.slots));
        }
        let slots = calendar
            .slots(SlotQuery {
                event_type_id: event_type,
                from,
                to,
                time_zone: tz,
                duration_min: None,
            })
            .await
            .map_err(SlotsError::Upstream)?;
        Ok(local(slots))
    };
    tokio::time::timeout(deps.calendar_timeout, lookup)
        .await
        .unwrap_or(Err(SlotsError::TimedOut))
}

/// Free times on `date` closest to `wanted`, at most `n`, in time order.
pub fn nearest(
    free: &[NaiveDateTime],
    date: NaiveDate,
    wanted: NaiveTime,
    n: usize,
) -> Vec<NaiveTime> {
    nearest_by(free, date, n, |t| (*t - wanted).num_seconds().abs())
}

/// Free times on `date` with the smallest `distance` (seconds, ≥ 0), at most `n`, in time
/// order.
pub fn nearest_by(
    free: &[NaiveDateTime],
    date: NaiveDate,
    n: usize,
    distance: impl Fn(&NaiveTime) -> i64,
) -> Vec<NaiveTime> {
    let mut same_day: Vec<NaiveTime> = free
        .iter()
        .filter(|t| t.date() == date)
        .map(|t| t.time())
        .collect();
    same_day.sort_by_key(distance);
    same_day.truncate(n);
    same_day.sort();
    same_day
}
