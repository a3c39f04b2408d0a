//! `calcom.updateBooking`: moves a booking of the company for staff (no change notice),
//! through the company's booking session, and records it like a move by phone.

use super::CalcomDeps;
use crate::appointments::ops::{self, OpDeps};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::appointments::{ChangeResult, future_start, not_found, op_error};
use crate::servers::store_error;
use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `calcom.updateBooking`.
pub struct UpdateBooking;

/// Params of `calcom.updateBooking`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBookingParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The Cal.com booking to move.
    pub booking_uid: BookingUid,
    /// New start, RFC 3339 with offset, e.g. `2030-01-08T15:00:00+01:00`; must lie in the
    /// future.
    pub start: DateTime<FixedOffset>,
    /// Why, sent as `reschedulingReason`.
    #[schemars(length(max = 500))]
    pub reason: Option<String>,
}

impl Method for UpdateBooking {
    const NAME: &'static str = "calcom.updateBooking";
    const SUMMARY: &'static str = "Reschedules a booking of the company (`booking_uid`, \
        stored here: made through switchboard or learned from Cal.com's webhooks) to `start` \
        (RFC 3339 with offset) for staff: no change notice applies. Cal.com makes a new \
        booking with a new uid and cancels the old one; the answer is waited for (`status: \
        done` with the new booking). The old appointment becomes `rescheduled`, the new one is \
        stored, cached availability of both days is dropped, and the attendee gets an SMS \
        where the company sends them. An unknown uid (or another company's) is -32602 \
        `not_found`; a taken slot 2003; a cancelled or already moved booking 2004.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Write;
    type Deps = CalcomDeps;
    type Params = UpdateBookingParams;
    type Output = ChangeResult;

    async fn apply(
        p: UpdateBookingParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<ChangeResult>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let start = future_start(p.start, deps.clock.now())?;
        let row = deps
            .bookings
            .appointment(company, &p.booking_uid)
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| not_found(&p.booking_uid))?;
        let op = OpDeps {
            store: deps.bookings.as_ref(),
            cache: deps.cache.as_ref(),
            clock: deps.clock.as_ref(),
        };
        let changed = ops::reschedule(op, &tenant, &row, start, p.reason, None)
            .await
            .map_err(|e| op_error(&e, ErrorCode::BookingCreationFailed))?;
        Reply::fresh(ChangeResult::of(changed))
    }
}
