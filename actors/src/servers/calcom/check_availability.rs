//! `calcom.checkAvailability`: free slots of a service on one or more days (one day cached).

use super::{CalcomDeps, availability_key, date_out_of_range, date_window};
use crate::domain::booking::{Slot, SlotQuery, UpstreamError};
use crate::domain::ids::{CompanyId, EventTypeId};
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::metric_names as m;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::upstream_error;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `calcom.checkAvailability`.
pub struct CheckAvailability;

/// Params of `calcom.checkAvailability`. Give `service` (name or alias) or `event_type_id`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Service name or alias, matched like a caller's words; wins over `event_type_id`.
    pub service: Option<String>,
    /// Cal.com event type id, used when no `service` is given.
    pub event_type_id: Option<EventTypeId>,
    /// First day, `YYYY-MM-DD`, local to the company; from yesterday to five years ahead
    /// (the last day of the span too), else error 4002.
    pub date: NaiveDate,
    /// Days from `date`, 1–31 (default 1).
    #[schemars(range(min = 1, max = 31))]
    pub days: Option<u32>,
}

/// `result.data` of `calcom.checkAvailability`, and the value of a one-day
/// [`availability_key`] cache entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Availability {
    /// The event type whose slots these are.
    pub event_type_id: EventTypeId,
    /// The company's IANA time zone, e.g. `Europe/Berlin`; slot times carry its offset.
    pub time_zone: String,
    /// Free slots in time order.
    pub slots: Vec<Slot>,
}

impl Method for CheckAvailability {
    const NAME: &'static str = "calcom.checkAvailability";
    const SUMMARY: &'static str = "Lists the free slots of a service (name or alias, or a \
        Cal.com event type id) from `date` (YYYY-MM-DD, the company's local day) for `days` \
        days (1–31, default 1). Slot start and end are ISO 8601 with the offset of the \
        company's time zone, which is returned too. A one-day answer may come from a short \
        cache (`metadata.cached`); our own bookings clear it.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = CalcomDeps;
    type Params = AvailabilityParams;
    type Output = Availability;

    async fn apply(
        p: AvailabilityParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<Availability>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let days = p.days.unwrap_or(1);
        let (event_type_id, _) = deps
            .event_type_of(company, p.service.as_deref(), p.event_type_id)
            .await?;
        let tenant = deps.tenant(company).await?;
        let tz = tenant.profile.time_zone;
        let last = date_window(&deps, tz)
            .check_span(p.date, days)
            .map_err(date_out_of_range)?;
        if days == 1
            && let Some(hit) = deps
                .cache
                .get(&availability_key(company, event_type_id, p.date))
                .await
        {
            metrics::counter!(m::CACHE_HITS_TOTAL, "cache" => "availability").increment(1);
            return Ok(Reply::cached(hit));
        }
        let refused = |e: UpstreamError| upstream_error(&e, ErrorCode::EventTypeNotFound);
        if days == 1 {
            // Waits for the day's fetch in flight, or fetches and fills the entry.
            let entry = (company, event_type_id, p.date);
            let (day, _) = deps
                .flights
                .fetch(&tenant.calendar, entry, tz)
                .await
                .map_err(refused)?;
            return Reply::fresh(day);
        }
        let slots = tenant
            .calendar
            .slots(SlotQuery {
                event_type_id,
                from: p.date,
                to: last,
                time_zone: tz,
                duration_min: None,
            })
            .await
            .map_err(refused)?;
        Reply::fresh(Availability {
            event_type_id,
            time_zone: tz.name().to_owned(),
            slots,
        })
    }
}
