//! `find_appointments`: the caller's upcoming appointments, found by the number they call
//! from (or, when it is withheld, by the number and the date they name), each with whether
//! it can still be changed. Also the lookup `change_appointment` and `cancel_appointment`
//! start from: nobody hears about an appointment that is not theirs.

use super::args::Arg;
use super::{CustomFunction, FunctionDeps, FunctionError, Invocation};
use crate::appointments::rules::{self, Caller, MAX_LISTED, MAX_SPOKEN, Selection, Which};
use crate::domain::datetime::DateParseError;
use crate::domain::text;
use crate::records::AppointmentRecord;
use crate::speech::Catalog;
use crate::speech::appointments::AppointmentSay;
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

/// The number the caller booked with.
pub(super) const PHONE: Arg = Arg {
    name: "telefonnummer",
    aliases: &["phone", "phone_number"],
};
/// Which existing appointment: its date or its index in the list read out.
pub(super) const APPOINTMENT: Arg = Arg {
    name: "termin",
    aliases: &["appointment"],
};
/// The caller said yes to what was read back.
pub(super) const CONFIRMED: Arg = Arg {
    name: "bestaetigt",
    aliases: &["confirmed"],
};

/// Args of `find_appointments`.
#[derive(Debug, Default, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(
    description = "Send nothing when the caller's number is shown; otherwise the number they booked with and the date of the appointment."
)]
pub struct FindArgs {
    /// The phone number the caller booked with, as said ("0151 12345678"); only when their
    /// number is withheld or they booked with another one.
    pub telefonnummer: Option<String>,
    /// The date of the appointment as said ("15.07.", "morgen"); needed together with
    /// `telefonnummer`.
    pub termin: Option<String>,
}

/// `find_appointments`: the caller's upcoming appointments.
pub struct FindAppointments;

impl CustomFunction for FindAppointments {
    const NAME: &'static str = "find_appointments";
    const DESCRIPTION: &'static str = "Find the caller's upcoming appointments by the number \
        they call from. If their number is withheld, first ask for the phone number they \
        booked with and the date of the appointment and send both. The reply lists each \
        appointment (index, date, time, service, whether it can still be changed) and says \
        them in `message`.";
    type Args = FindArgs;
    const ARGS: &'static [Arg] = &[PHONE, APPOINTMENT];

    async fn apply(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
        run(deps, inv).await
    }
}

/// What the caller said for `arg`, cleaned as a [`text::PHRASE`]; an overlong value counts as
/// not said.
pub(super) fn said(arg: Arg, args: &Map<String, Value>) -> Option<String> {
    arg.text(args)
        .and_then(|s| text::PHRASE.clean(&s).ok())
        .filter(|s| !s.is_empty())
}

/// The reply: `status` names the outcome for the agent, `message` is what it says.
pub(super) fn reply(
    success: bool,
    status: &str,
    say: &AppointmentSay,
    inv: &Invocation<'_>,
) -> Value {
    json!({
        "success": success,
        "status": status,
        "message": say.say(inv.route.company.locale),
    })
}

/// The caller, what they said about which appointment, and the upcoming appointments stored
/// with their number; `Err` is the reply when the `termin` is not understood.
pub(super) struct Lookup {
    /// Who is calling.
    pub caller: Caller,
    /// Which appointment they named, if any.
    pub which: Option<Which>,
    /// Scheduled appointments of the caller's number, earliest first.
    pub upcoming: Vec<AppointmentRecord>,
}

/// Reads the caller and `termin` and the upcoming appointments of the caller's number.
pub(super) async fn lookup(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
) -> Result<Result<Lookup, Value>, FunctionError> {
    let caller = Caller::identify(
        inv.call.from_number.as_deref(),
        said(PHONE, inv.args).as_deref(),
        inv.call.to_number.as_deref(),
    );
    let today = inv.now_local(deps.clock.as_ref()).date();
    // An unreadable `termin` is said back, never dropped: without it a caller with one
    // appointment would change that one, whichever they meant.
    let which = match APPOINTMENT.text(inv.args) {
        None => None,
        Some(raw) => match text::PHRASE.clean(&raw).map(|s| Which::parse(&s, today)) {
            Ok(Ok(w)) => Some(w),
            Ok(Err(DateParseError::Ambiguous { candidates, .. })) => {
                let say = AppointmentSay::DateAmbiguous { candidates };
                return Ok(Err(reply(false, "date_ambiguous", &say, inv)));
            }
            _ => {
                let said = text::excerpt(&raw, text::QUOTE_CHARS);
                let say = AppointmentSay::DateNotUnderstood { said };
                return Ok(Err(reply(false, "date_not_understood", &say, inv)));
            }
        },
    };
    let upcoming = match caller.phone() {
        Some(phone) => {
            deps.store
                .upcoming_appointments(
                    inv.route.company.id,
                    phone.as_str(),
                    deps.clock.now(),
                    MAX_LISTED,
                )
                .await?
        }
        None => Vec::new(),
    };
    Ok(Ok(Lookup {
        caller,
        which,
        upcoming,
    }))
}

/// The reply for a [`Selection`] that is not exactly one appointment.
pub(super) fn not_one(
    selection: Selection,
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
) -> Result<AppointmentRecord, Value> {
    let company = &inv.route.company;
    match selection {
        Selection::One(row) => Ok(*row),
        Selection::None => Err(reply(true, "none_found", &AppointmentSay::NoneFound, inv)),
        Selection::NeedIdentity => Err(reply(
            false,
            "need_identity",
            &AppointmentSay::AskIdentity,
            inv,
        )),
        Selection::Several(rows) => {
            let now = deps.clock.now();
            let items = rows
                .iter()
                .take(MAX_SPOKEN)
                .map(|a| rules::listed(a, now, company.policy.change_notice_h, company.time_zone))
                .collect();
            Err(reply(
                false,
                "which_one",
                &AppointmentSay::WhichOne { items },
                inv,
            ))
        }
    }
}

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let company = &inv.route.company;
    let found = match lookup(deps, &inv).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let Some(visible) = rules::visible(
        &found.caller,
        found.upcoming,
        found.which,
        company.time_zone,
    ) else {
        return Ok(reply(
            false,
            "need_identity",
            &AppointmentSay::AskIdentity,
            &inv,
        ));
    };
    if visible.is_empty() {
        let mut none = reply(true, "none_found", &AppointmentSay::NoneFound, &inv);
        none["appointments"] = json!([]);
        return Ok(none);
    }
    let now = deps.clock.now();
    let listed: Vec<_> = visible
        .iter()
        .map(|a| rules::listed(a, now, company.policy.change_notice_h, company.time_zone))
        .collect();
    let json_list: Vec<Value> = listed
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "index": i + 1,
                "date": l.date.to_string(),
                "time": l.time.format("%H:%M").to_string(),
                "service": l.service,
                "can_modify": l.can_modify,
            })
        })
        .collect();
    let more = listed.len().saturating_sub(MAX_SPOKEN);
    let items = listed.into_iter().take(MAX_SPOKEN).collect();
    let mut found = reply(true, "found", &AppointmentSay::Found { items, more }, &inv);
    found["appointments"] = Value::Array(json_list);
    Ok(found)
}
