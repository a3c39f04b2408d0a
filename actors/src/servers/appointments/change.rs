//! `appointments.change`: moves an appointment under the phone rules (change notice, Cal.com
//! through the tenant session, the outbox when Cal.com cannot answer in time).

use super::{AppointmentDeps, ChangeResult, changeable, future_start, op_error};
use crate::appointments::ops;
use crate::domain::ids::{BookingUid, CompanyId};
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `appointments.change`.
pub struct Change;

/// Params of `appointments.change`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The appointment to move (`booking_uid` from `appointments.find`).
    pub booking_uid: BookingUid,
    /// New start, RFC 3339 with offset, e.g. `2030-01-08T15:00:00+01:00` (UTC with `Z`); must
    /// lie in the future.
    pub start: DateTime<FixedOffset>,
    /// Why, sent to Cal.com as `reschedulingReason`.
    #[schemars(length(max = 500))]
    pub reason: Option<String>,
}

impl Method for Change {
    const NAME: &'static str = "appointments.change";
    const SUMMARY: &'static str = "Moves a scheduled appointment (`booking_uid`) to `start` \
        (RFC 3339 with offset) under the rules callers have: refused with -32602 \
        `change_notice` within the company's change notice (admin tokens too; use \
        calcom.updateBooking to override), `not_scheduled` when already moved or cancelled, \
        `not_found` for an unknown uid; a taken slot is 2003. Cal.com's confirmation is \
        waited for briefly: `status: done` with the new booking, else `status: queued` with \
        the outbox job that does it. The local record follows, cached availability is \
        dropped, and the attendee gets an SMS where the company sends them.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Write;
    type Deps = AppointmentDeps;
    type Params = ChangeParams;
    type Output = ChangeResult;

    async fn apply(
        p: ChangeParams,
        grant: TokenGrant,
        deps: Arc<AppointmentDeps>,
    ) -> Result<Reply<ChangeResult>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let start = future_start(p.start, deps.clock.now())?;
        let notice = tenant.profile.policy.change_notice_h;
        let row = changeable(&deps, company, &p.booking_uid, notice).await?;
        let changed = ops::reschedule(
            deps.op(),
            &tenant,
            &row,
            start,
            p.reason,
            Some(deps.calendar_timeout),
        )
        .await
        .map_err(|e| op_error(&e, ErrorCode::BookingCreationFailed))?;
        Reply::fresh(ChangeResult::of(changed))
    }
}
