//! `calcom.cancelBooking`: cancels a booking for staff (no change notice), through the
//! company's booking session, and records it like a cancellation by phone.

use super::CalcomDeps;
use crate::appointments::ops::{self, OpDeps};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use crate::servers::appointments::{ChangeResult, not_found, op_error};
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `calcom.cancelBooking`.
pub struct CancelBooking;

/// Params of `calcom.cancelBooking`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBookingParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The Cal.com booking to cancel.
    pub booking_uid: BookingUid,
    /// Why, sent as `cancellationReason` and stored.
    #[schemars(length(max = 500))]
    pub reason: Option<String>,
}

impl Method for CancelBooking {
    const NAME: &'static str = "calcom.cancelBooking";
    const SUMMARY: &'static str = "Cancels a booking of the company (`booking_uid`, stored \
        here: made through switchboard or learned from Cal.com's webhooks) for staff: no \
        change notice applies; one Cal.com already shows cancelled counts as done. The answer \
        is waited for (`status: done` with the cancelled booking). The appointment becomes \
        `cancelled`, its slot shows as free at once, and the attendee gets an SMS where the \
        company sends them. An unknown uid (or another company's) is -32602 `not_found`.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Destructive;
    type Deps = CalcomDeps;
    type Params = CancelBookingParams;
    type Output = ChangeResult;

    async fn apply(
        p: CancelBookingParams,
        grant: TokenGrant,
        deps: Arc<CalcomDeps>,
    ) -> Result<Reply<ChangeResult>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
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
        let changed = ops::cancel(op, &tenant, &row, p.reason, None)
            .await
            .map_err(|e| op_error(&e, ErrorCode::BookingCreationFailed))?;
        Reply::fresh(ChangeResult::of(changed))
    }
}
