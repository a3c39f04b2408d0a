//! `appointments.cancel`: cancels an appointment under the phone rules (change notice, Cal.com
//! through the tenant session, the outbox when Cal.com cannot answer in time).

use super::{AppointmentDeps, ChangeResult, changeable, op_error};
use crate::appointments::ops;
use crate::domain::ids::{BookingUid, CompanyId};
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::server::require_company;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `appointments.cancel`.
pub struct CancelAppointment;

/// Params of `appointments.cancel`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
    /// The appointment to cancel (`booking_uid` from `appointments.find`).
    pub booking_uid: BookingUid,
    /// Why, sent to Cal.com as `cancellationReason` and stored.
    #[schemars(length(max = 500))]
    pub reason: Option<String>,
}

impl Method for CancelAppointment {
    const NAME: &'static str = "appointments.cancel";
    const SUMMARY: &'static str = "Cancels a scheduled appointment (`booking_uid`) under the \
        rules callers have: refused with -32602 `change_notice` within the company's change \
        notice (admin tokens too; use calcom.cancelBooking to override), `not_scheduled` when \
        already moved or cancelled, `not_found` for an unknown uid. Cal.com's confirmation is \
        waited for briefly: `status: done` with the cancelled booking, else `status: queued` \
        with the outbox job that does it. The slot shows as free at once.";
    const SCOPE: Scope = Scope::Write;
    const KIND: Kind = Kind::Destructive;
    type Deps = AppointmentDeps;
    type Params = CancelParams;
    type Output = ChangeResult;

    async fn apply(
        p: CancelParams,
        grant: TokenGrant,
        deps: Arc<AppointmentDeps>,
    ) -> Result<Reply<ChangeResult>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let notice = tenant.profile.policy.change_notice_h;
        let row = changeable(&deps, company, &p.booking_uid, notice).await?;
        let changed = ops::cancel(
            deps.op(),
            &tenant,
            &row,
            p.reason,
            Some(deps.calendar_timeout),
        )
        .await
        .map_err(|e| op_error(&e, ErrorCode::BookingCreationFailed))?;
        Reply::fresh(ChangeResult::of(changed))
    }
}
