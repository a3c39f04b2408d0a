//! `calcom.getBookings`: the company's bookings in Cal.com, filtered.

use super::CalcomDeps;
use crate::domain::booking::{Booking, BookingQuery};
use crate::domain::ids::{CompanyId, EventTypeId};
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::upstream_error;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `calcom.getBookings`.
pub struct GetBookings;

/// Params of `calcom.getBookings` (Cal.com `GET /v2/bookings` filters).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetBookingsParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// Comma list of `upcoming,recurring,past,cancelled,unconfirmed`.
    pub status: Option<String>,
    /// Only bookings of this Cal.com event type.
    pub event_type_id: Option<EventTypeId>,
    /// Only bookings with this attendee email; a phone-only attendee is `<E.164 digits without
    /// +>@sms.cal.com`.
    pub attendee_email: Option<String>,
    /// UTC, RFC 3339.
    pub after_start: Option<DateTime<Utc>>,
    /// UTC, RFC 3339.
    pub before_end: Option<DateTime<Utc>>,
    /// 1–250 (default 100).
    #[schemars(range(min = 1, max = 250))]
    pub take: Option<u32>,
}

/// `result.data` of `calcom.getBookings`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Bookings {
    /// Bookings as Cal.com returns them (reference/calcom.md §4).
    pub bookings: Vec<Booking>,
}

impl Method for GetBookings {
    const NAME: &'static str = "calcom.getBookings";
    const SUMMARY: &'static str = "Lists the company's bookings in Cal.com, filtered by status \
        (comma list of upcoming, recurring, past, cancelled, unconfirmed), event type, attendee \
        email, start after / end before (UTC, RFC 3339); `take` 1–250 bookings (default 100). \
        Always read live from Cal.com.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = CalcomDeps;
    type Params = GetBookingsParams;
    type Output = Bookings;

    async fn apply(
        p: GetBookingsParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<Bookings>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let bookings = tenant
            .calendar
            .list_bookings(BookingQuery {
                status: p.status,
                event_type_id: p.event_type_id,
                attendee_email: p.attendee_email,
                after_start: p.after_start,
                before_end: p.before_end,
                take: p.take,
            })
            .await
            .map_err(|e| upstream_error(&e, ErrorCode::BookingCreationFailed))?;
        Reply::fresh(Bookings { bookings })
    }
}
