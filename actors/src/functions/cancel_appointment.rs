//! `cancel_appointment`: cancels one of the caller's appointments — after the change notice
//! check and the caller's confirmation — during the call, through the company's tenant
//! session; "cancelled" is said only after Cal.com confirmed, and a cancellation Cal.com
//! cannot confirm in time goes to the outbox and is said so.

use super::args::Arg;
use super::change_appointment::{chosen, confirmed, op_deps, tenant};
use super::find_appointments::{APPOINTMENT, CONFIRMED, PHONE, reply, said};
use super::{CustomFunction, FunctionDeps, FunctionError, Invocation};
use crate::appointments::ops::{self, Changed, OpError};
use crate::speech::appointments::AppointmentSay;
use schemars::JsonSchema;
use serde_json::Value;

/// Why the caller cancels.
const REASON: Arg = Arg {
    name: "grund",
    aliases: &["reason"],
};

/// Sent to Cal.com as `cancellationReason` when the caller gave none.
const DEFAULT_REASON: &str = "Caller cancelled by phone";

/// Args of `cancel_appointment`.
#[derive(Debug, Default, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(
    description = "Which appointment (when the caller has several), why, and whether the caller confirmed."
)]
pub struct CancelArgs {
    /// Which appointment: its date as said ("15.07.") or its index in the list
    /// `find_appointments` gave. Needed when the caller has several, and always when their
    /// number is withheld (then with `telefonnummer`).
    pub termin: Option<String>,
    /// Why the caller cancels, in their words (optional).
    pub grund: Option<String>,
    /// The phone number the caller booked with; only when their number is withheld.
    pub telefonnummer: Option<String>,
    /// `true` once the caller confirmed the cancellation read back to them; without it
    /// nothing is changed.
    pub bestaetigt: Option<bool>,
}

/// `cancel_appointment`: cancels an appointment.
pub struct CancelAppointment;

impl CustomFunction for CancelAppointment {
    const NAME: &'static str = "cancel_appointment";
    const DESCRIPTION: &'static str = "Cancel one of the caller's appointments. First call it \
        without `bestaetigt`: the reply says which appointment would be cancelled (or why it \
        cannot be: too short notice). Read it to the caller and call again with \
        `bestaetigt: true` once they agree. Say `message` to the caller.";
    type Args = CancelArgs;
    const ARGS: &'static [Arg] = &[APPOINTMENT, REASON, PHONE, CONFIRMED];

    async fn apply(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
        run(deps, inv).await
    }
}

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let company = &inv.route.company;
    let tz = company.time_zone;
    let row = match chosen(deps, &inv).await? {
        Ok(row) => row,
        Err(reply) => return Ok(reply),
    };
    let at = row.start.with_timezone(&tz).naive_local();
    let service = row.service_name.clone();
    if !confirmed(&inv) {
        let mut r = reply(
            true,
            "confirm",
            &AppointmentSay::ConfirmCancel { service, at },
            &inv,
        );
        r["needs_confirmation"] = Value::Bool(true);
        return Ok(r);
    }
    let Some(tenant) = tenant(deps, &inv).await else {
        return Ok(reply(
            false,
            "calendar_unreachable",
            &AppointmentSay::CalendarDown,
            &inv,
        ));
    };
    let reason = said(REASON, inv.args).unwrap_or_else(|| DEFAULT_REASON.to_owned());
    Ok(
        match ops::cancel(
            op_deps(deps),
            &tenant,
            &row,
            Some(reason),
            Some(deps.calendar_timeout),
        )
        .await
        {
            Ok(Changed::Done { sms, .. }) => reply(
                true,
                "cancelled",
                &AppointmentSay::Cancelled { service, at, sms },
                &inv,
            ),
            Ok(Changed::Queued { sms, .. }) => {
                reply(true, "queued", &AppointmentSay::CancelQueued { sms }, &inv)
            }
            Err(OpError::Store(e)) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(company = %company.id, booking_uid = %row.booking_uid, error = %e, "cancellation refused");
                reply(false, "not_changed", &AppointmentSay::NotChanged, &inv)
            }
        },
    )
}
