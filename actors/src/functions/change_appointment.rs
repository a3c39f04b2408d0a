//! `change_appointment`: moves one of the caller's appointments to a new free time — after
//! the change notice check, the availability check and the caller's confirmation — during
//! the call, through the company's tenant session; "moved" is said only after Cal.com
//! confirmed, and a move Cal.com cannot confirm in time goes to the outbox and is said so.

use super::args::{self, Arg};
use super::find_appointments::{APPOINTMENT, CONFIRMED, lookup, not_one, reply, said};
use super::{CustomFunction, FunctionDeps, FunctionError, Invocation, free_times, nearest};
use crate::appointments::ops::{self, Changed, OpDeps, OpError};
use crate::appointments::rules;
use crate::domain::datetime::{DateParseError, parse_date, parse_time};
use crate::domain::tenant::Service;
use crate::domain::truthy::is_truthy;
use crate::records::AppointmentRecord;
use crate::speech::appointments::AppointmentSay;
use crate::tenant::{GetTenant, TenantHandle};
use chrono::{NaiveDateTime, TimeZone};
use schemars::JsonSchema;
use serde_json::{Value, json};

/// The new day.
const NEW_DATE: Arg = Arg {
    name: "datum",
    aliases: &["date"],
};

/// Sent to Cal.com as `reschedulingReason`.
const REASON: &str = "Caller asked by phone";

/// Args of `change_appointment`.
#[derive(Debug, Default, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(
    description = "The new day and time, which appointment (when the caller has several), and whether the caller confirmed."
)]
pub struct ChangeArgs {
    /// The new day as said: "morgen", "nächsten Dienstag", "15.07.", "2026-07-15".
    pub datum: Option<String>,
    /// The new time as said: "14 Uhr", "halb drei", "14:30".
    pub uhrzeit: Option<String>,
    /// Which appointment: its current date as said ("15.07.") or its index in the list
    /// `find_appointments` gave. Needed when the caller has several, and always when their
    /// number is withheld (then with `telefonnummer`).
    pub termin: Option<String>,
    /// The phone number the caller booked with; only when their number is withheld.
    pub telefonnummer: Option<String>,
    /// `true` once the caller confirmed the move read back to them; without it nothing is
    /// changed.
    pub bestaetigt: Option<bool>,
}

/// `change_appointment`: moves an appointment.
pub struct ChangeAppointment;

impl CustomFunction for ChangeAppointment {
    const NAME: &'static str = "change_appointment";
    const DESCRIPTION: &'static str = "Move one of the caller's appointments to a new day and \
        time. First call it without `bestaetigt`: the reply says what would happen (or why it \
        cannot: too short notice, time taken with alternatives offered). Read it to the caller \
        and call again with `bestaetigt: true` once they agree. Say `message` to the caller.";
    type Args = ChangeArgs;
    const ARGS: &'static [Arg] = &[
        NEW_DATE,
        args::TIME,
        APPOINTMENT,
        super::find_appointments::PHONE,
        CONFIRMED,
    ];

    async fn apply(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
        run(deps, inv).await
    }
}

/// The appointment the caller means, if they may change it; else the reply.
pub(super) async fn chosen(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
) -> Result<Result<AppointmentRecord, Value>, FunctionError> {
    let company = &inv.route.company;
    let found = match lookup(deps, inv).await? {
        Ok(found) => found,
        Err(reply) => return Ok(Err(reply)),
    };
    let selection = rules::select(
        &found.caller,
        found.upcoming,
        found.which,
        company.time_zone,
    );
    let row = match not_one(selection, deps, inv) {
        Ok(row) => row,
        Err(reply) => return Ok(Err(reply)),
    };
    let hours = company.policy.change_notice_h;
    if !rules::can_modify(row.start, deps.clock.now(), hours) {
        return Ok(Err(reply(
            false,
            "notice",
            &AppointmentSay::NoticeRefused { hours },
            inv,
        )));
    }
    Ok(Ok(row))
}

/// The company's handles; `None` when they cannot be had (the calendar counts as down).
pub(super) async fn tenant(deps: &FunctionDeps, inv: &Invocation<'_>) -> Option<TenantHandle> {
    match deps.tenants.send(GetTenant(inv.route.company.id)).await {
        Ok(Ok(tenant)) => Some(tenant),
        _ => None,
    }
}

/// The functions' ports as the appointment operations take them.
pub(super) fn op_deps(deps: &FunctionDeps) -> OpDeps<'_> {
    OpDeps {
        store: deps.store.as_ref(),
        cache: deps.cache.as_ref(),
        clock: deps.clock.as_ref(),
    }
}

/// Whether the caller confirmed.
pub(super) fn confirmed(inv: &Invocation<'_>) -> bool {
    CONFIRMED
        .text(inv.args)
        .is_some_and(|t| is_truthy(&Value::String(t)))
}

/// The service `row` was booked for (its event type is what availability is read for).
async fn service_of(
    deps: &FunctionDeps,
    row: &AppointmentRecord,
) -> Result<Service, FunctionError> {
    let services = deps.services.services(row.company_id).await?;
    Ok(services
        .into_iter()
        .find(|s| Some(s.id) == row.service_id || s.event_type_id == row.event_type_id)
        .unwrap_or_else(|| Service {
            id: 0,
            company_id: row.company_id,
            name: row.service_name.clone(),
            aliases: Vec::new(),
            duration_min: u32::try_from((row.end - row.start).num_minutes()).unwrap_or(0),
            event_type_id: row.event_type_id,
            team_id: None,
            branch_ids: Vec::new(),
        }))
}

/// The new local start the caller asked for, or the reply asking for it.
fn new_start(deps: &FunctionDeps, inv: &Invocation<'_>) -> Result<NaiveDateTime, Value> {
    let today = inv.now_local(deps.clock.as_ref()).date();
    let (Some(day), Some(at)) = (said(NEW_DATE, inv.args), said(args::TIME, inv.args)) else {
        return Err(reply(false, "need_slot", &AppointmentSay::AskNewSlot, inv));
    };
    let date = parse_date(&day, today).map_err(|e| match e {
        DateParseError::Ambiguous { candidates, .. } => reply(
            false,
            "date_ambiguous",
            &AppointmentSay::DateAmbiguous { candidates },
            inv,
        ),
        _ => reply(
            false,
            "date_not_understood",
            &AppointmentSay::DateNotUnderstood { said: day },
            inv,
        ),
    })?;
    let time = parse_time(&at, inv.route.window).map_err(|_| {
        reply(
            false,
            "time_not_understood",
            &AppointmentSay::TimeNotUnderstood { said: at },
            inv,
        )
    })?;
    Ok(date.and_time(time))
}

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    // Reading the free times and moving share one calendar budget, so the reply stays within
    // the function deadline: a move that gets too little of it is queued, and said so.
    let started = tokio::time::Instant::now();
    let company = &inv.route.company;
    let tz = company.time_zone;
    let row = match chosen(deps, &inv).await? {
        Ok(row) => row,
        Err(reply) => return Ok(reply),
    };
    let wanted = match new_start(deps, &inv) {
        Ok(w) => w,
        Err(reply) => return Ok(reply),
    };
    let service = service_of(deps, &row).await?;
    let day = wanted.date();
    let free = match free_times(deps, inv.lane, inv.route, &service, day, day).await {
        Ok(free) => free,
        Err(_) => {
            return Ok(reply(
                false,
                "calendar_unreachable",
                &AppointmentSay::CalendarDown,
                &inv,
            ));
        }
    };
    let taken = |free: &[NaiveDateTime]| {
        let alternatives = nearest(free, day, wanted.time(), 3);
        let mut r = reply(
            false,
            "slot_taken",
            &AppointmentSay::SlotTaken {
                wanted,
                alternatives: alternatives.clone(),
            },
            &inv,
        );
        r["alternatives"] = json!(
            alternatives
                .iter()
                .map(|t| t.format("%H:%M").to_string())
                .collect::<Vec<_>>()
        );
        r
    };
    let start = match tz.from_local_datetime(&wanted).earliest() {
        Some(start) if free.contains(&wanted) => start.to_utc(),
        _ => return Ok(taken(&free)),
    };
    let from = row.start.with_timezone(&tz).naive_local();
    if !confirmed(&inv) {
        let say = AppointmentSay::ConfirmMove {
            service: row.service_name.clone(),
            from,
            to: wanted,
        };
        let mut r = reply(true, "confirm", &say, &inv);
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
    let op = op_deps(deps);
    let outcome = ops::reschedule(
        op,
        &tenant,
        &row,
        start,
        Some(REASON.to_owned()),
        Some(deps.calendar_timeout.saturating_sub(started.elapsed())),
    )
    .await;
    Ok(match outcome {
        Ok(Changed::Done { booking, sms }) => {
            let to = booking.start.with_timezone(&tz).naive_local();
            reply(
                true,
                "moved",
                &AppointmentSay::Moved {
                    service: row.service_name.clone(),
                    to,
                    sms,
                },
                &inv,
            )
        }
        Ok(Changed::Queued { sms, .. }) => reply(
            true,
            "queued",
            &AppointmentSay::MoveQueued { to: wanted, sms },
            &inv,
        ),
        Err(OpError::Upstream(e)) if e.is_slot_unavailable() => {
            let others: Vec<NaiveDateTime> = free.into_iter().filter(|t| *t != wanted).collect();
            taken(&others)
        }
        Err(OpError::Store(e)) => return Err(e.into()),
        Err(e) => {
            tracing::warn!(company = %company.id, booking_uid = %row.booking_uid, error = %e, "move refused");
            reply(false, "not_changed", &AppointmentSay::NotChanged, &inv)
        }
    })
}
