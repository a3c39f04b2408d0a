//! `collect_appointment_data`: validates and normalises what the caller said (German dates and
//! times, E.164 phone, service), stores it in the call's context, checks the slot when date,
//! time and service are known, and says what is still missing.

use super::args::{self, Arg};
use super::{
    CustomFunction, FunctionDeps, FunctionError, Invocation, SlotsError, free_times, nearest,
};
use crate::call::context::ContextError;
use crate::call::hold::{Secured, release_later, secure_by};
use crate::call::registry::{CollectFor, KeepHoldFor};
use crate::domain::appointment::{CollectedAppointment, SlotChoice, SlotHold};
use crate::domain::collect::{AppointmentArgs, CollectContext, normalize};
use crate::domain::phone::caller_region;
use crate::domain::tenant::Service;
use crate::domain::truthy::is_truthy;
use crate::notify;
use crate::speech::Catalog;
use crate::speech::booking::{BookingSay, Understood, Wanted};
use crate::speech::sms::SmsText;
use crate::tenant::GetTenant;
use chrono::NaiveTime;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};

/// `collect_appointment_data`: the details of the appointment, gathered over the call.
pub struct CollectAppointmentData;

impl CustomFunction for CollectAppointmentData {
    const NAME: &'static str = "collect_appointment_data";
    const DESCRIPTION: &'static str = "Store the appointment details the caller has given so far: \
        date, time, name, phone number and service, optionally email, preferred staff member and \
        notes, and whether the caller confirmed the booking. Call it whenever the caller gives or \
        corrects a detail, sending only what is known; earlier details are kept. The reply says \
        what is still missing, whether the time is free (with alternatives if not), and what to \
        say next in `message`.";
    type Args = AppointmentArgs;
    /// Must agree with the serde aliases of [`AppointmentArgs`] (tested below).
    const ARGS: &'static [Arg] = &[
        Arg {
            name: "datum",
            aliases: &["date"],
        },
        args::TIME,
        Arg {
            name: "name",
            aliases: &[],
        },
        Arg {
            name: "telefonnummer",
            aliases: &["phone", "phone_number"],
        },
        args::SERVICE,
        Arg {
            name: "email",
            aliases: &[],
        },
        Arg {
            name: "mitarbeiter_wunsch",
            aliases: &["staff"],
        },
        Arg {
            name: "notizen",
            aliases: &["notes"],
        },
        Arg {
            name: "bestaetigt",
            aliases: &["bestätigt", "confirmed"],
        },
    ];

    async fn apply(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
        run(deps, inv).await
    }
}

/// Whether the requested slot is free, by the calendar's free slots.
enum Availability {
    Free,
    Taken(Vec<NaiveTime>),
    Unknown,
}

/// Where a complete request stands after the calendar was asked.
#[derive(Debug, Clone, PartialEq)]
enum SlotState {
    /// Held for this call (a live Cal.com reservation).
    Held,
    /// Cal.com refused our reservation: someone else holds or booked it; free times that day.
    Taken(Vec<NaiveTime>),
    /// Not among the free slots; the nearest free times that day.
    NotFree(Vec<NaiveTime>),
    /// Free by the calendar, but not held.
    FreeNotHeld,
    /// The calendar could not be asked (in time).
    Unknown,
}

/// The data as the agent sees it (German arg names, local ISO date and HH:MM time).
fn collected_json(c: &CollectedAppointment) -> Value {
    json!({
        "datum": c.date.map(|d| d.to_string()),
        "uhrzeit": c.time.map(|t| t.format("%H:%M").to_string()),
        "name": c.name,
        "telefonnummer": c.phone.as_ref().map(|p| p.to_string()),
        "dienstleistung": c.service.as_ref().map(|s| s.name.clone()),
        "dauer_minuten": c.service.as_ref().map(|s| s.duration_min),
        "email": c.email,
        "mitarbeiter_wunsch": c.staff,
        "notizen": c.notes,
        "bestaetigt": c.confirmed,
    })
}

async fn availability(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
    c: &CollectedAppointment,
    services: &[Service],
) -> Availability {
    let (Some(choice), Some(date), Some(time)) = (&c.service, c.date, c.time) else {
        return Availability::Unknown;
    };
    let Some(service) = services.iter().find(|s| s.id == choice.service_id) else {
        return Availability::Unknown;
    };
    match free_times(deps, inv.lane, inv.route, service, date, date).await {
        Ok(free) if free.iter().any(|t| t.date() == date && t.time() == time) => Availability::Free,
        Ok(free) => Availability::Taken(nearest(&free, date, time, 3)),
        Err(SlotsError::Upstream(e)) => {
            tracing::warn!(error = %e, "availability check failed during collect");
            Availability::Unknown
        }
        Err(SlotsError::TimedOut | SlotsError::Tenant(_)) => Availability::Unknown,
    }
}

/// Free times that day nearest the one just taken, read again after Cal.com refused our
/// reservation (the list read before did not know of the other holder); empty when the
/// calendar does not answer.
async fn alternatives(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
    c: &CollectedAppointment,
    services: &[Service],
) -> Vec<NaiveTime> {
    let (Some(choice), Some(date), Some(time)) = (&c.service, c.date, c.time) else {
        return vec![];
    };
    let Some(service) = services.iter().find(|s| s.id == choice.service_id) else {
        return vec![];
    };
    match free_times(deps, inv.lane, inv.route, service, date, date).await {
        Ok(mut free) => {
            free.retain(|t| !(t.date() == date && t.time() == time));
            nearest(&free, date, time, 3)
        }
        Err(_) => vec![],
    }
}

/// Asks the calendar about the complete request `c` and holds its slot when it is free, all
/// within the function's calendar deadline. `held` is the call's live hold of this very slot,
/// if any: proof enough that the slot is free (Cal.com hides held slots from the free list,
/// from their holder too), so only its renewal is due. Answers the state and the hold to keep.
async fn secure_slot(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
    c: &CollectedAppointment,
    services: &[Service],
    held: Option<&SlotHold>,
) -> (SlotState, Option<SlotHold>) {
    let deadline = Instant::now() + deps.calendar_timeout;
    let now = deps.clock.now();
    let still_live = || held.filter(|h| h.is_live(now)).cloned();
    if held.is_none() {
        match timeout_at(deadline, availability(deps, inv, c, services)).await {
            Ok(Availability::Free) => {}
            Ok(Availability::Taken(alts)) => return (SlotState::NotFree(alts), None),
            Ok(Availability::Unknown) | Err(_) => return (SlotState::Unknown, None),
        }
    }
    let Some(wanted) = c.wanted_slot(inv.route.company.time_zone) else {
        return (SlotState::Unknown, None);
    };
    let calendar =
        match timeout_at(deadline, deps.tenants.send(GetTenant(inv.route.company.id))).await {
            Ok(Ok(Ok(tenant))) => tenant.calendar.in_lane(inv.lane),
            _ => {
                return match still_live() {
                    Some(hold) => (SlotState::Held, Some(hold)),
                    None => (SlotState::Unknown, None),
                };
            }
        };
    let late = adopt_late_hold(deps, inv, c.slot());
    let secured = secure_by(
        deadline,
        calendar,
        held.cloned(),
        wanted,
        deps.hold,
        now,
        late,
    );
    match secured.await {
        Some(Secured::Held(hold)) => (SlotState::Held, Some(hold)),
        Some(Secured::Taken) => {
            let alts = timeout_at(deadline, alternatives(deps, inv, c, services))
                .await
                .unwrap_or_default();
            (SlotState::Taken(alts), None)
        }
        Some(Secured::Unheld) | None => match still_live() {
            Some(hold) => (SlotState::Held, Some(hold)),
            None if held.is_some() => (SlotState::Unknown, None),
            None => (SlotState::FreeNotHeld, None),
        },
    }
}

/// What becomes of a hold Cal.com granted after the function stopped waiting for it
/// ([`secure_by`]): recorded as the call's hold while the call still wants the slot `decided_for`
/// (so the booking at `call_ended` redeems it, also when the call has ended meanwhile: the
/// booking job reads holds stored late), released otherwise.
fn adopt_late_hold(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
    decided_for: SlotChoice,
) -> impl FnOnce(SlotHold) + 'static {
    let (calls, tenants) = (deps.calls.clone(), deps.tenants.clone());
    let (key, company, lane) = (inv.key(), inv.route.company.id, inv.lane);
    move |hold| {
        actix::spawn(async move {
            let kept = calls
                .send(KeepHoldFor {
                    key,
                    decided_for,
                    hold: Some(hold.clone()),
                    withdraw_confirmation: false,
                })
                .await;
            if !matches!(kept, Ok(Ok(true))) {
                release_later(tenants, company, lane, hold);
            }
        });
    }
}

/// The reply's `status`, what is said, `available` and `alternatives` for a complete request.
fn outcome(
    inv: &Invocation<'_>,
    c: &CollectedAppointment,
    state: SlotState,
) -> (&'static str, BookingSay, Value, Vec<NaiveTime>) {
    let (Some(service), Some(date), Some(time), Some(name), Some(phone)) =
        (&c.service, c.date, c.time, &c.name, &c.phone)
    else {
        return (
            "incomplete",
            BookingSay::Missing {
                fields: c.missing_fields(),
            },
            Value::Null,
            vec![],
        );
    };
    let wanted = Wanted {
        service: service.name.clone(),
        date,
        time,
        name: name.clone(),
    };
    let company = &inv.route.company;
    let by_message = || {
        let text = SmsText::Booked {
            company: company.name.clone(),
            service: service.name.clone(),
            start: date.and_time(time),
        };
        notify::confirmation(company, &phone.to_string(), &text).is_some()
    };
    match (state, c.confirmed) {
        (SlotState::Taken(alternatives), _) => (
            "taken",
            BookingSay::JustTaken {
                date,
                time,
                alternatives: alternatives.clone(),
            },
            Value::Bool(false),
            alternatives,
        ),
        (SlotState::NotFree(alternatives), _) => (
            "unavailable",
            BookingSay::NotFree {
                date,
                time,
                alternatives: alternatives.clone(),
            },
            Value::Bool(false),
            alternatives,
        ),
        (SlotState::Held, false) => (
            "held",
            BookingSay::Held { wanted },
            Value::Bool(true),
            vec![],
        ),
        (SlotState::Held, true) => (
            "booked_pending",
            BookingSay::BookedAfterCall {
                wanted,
                by_message: by_message(),
            },
            Value::Bool(true),
            vec![],
        ),
        (SlotState::FreeNotHeld, false) => (
            "free_unheld",
            BookingSay::FreeNotHeld { wanted },
            Value::Bool(true),
            vec![],
        ),
        (SlotState::Unknown, false) => (
            "calendar_unreachable",
            BookingSay::CalendarDown { wanted },
            Value::Null,
            vec![],
        ),
        (free_or_unknown, true) => (
            "noted_unconfirmed",
            BookingSay::NotedUnconfirmed {
                wanted,
                by_message: by_message(),
            },
            match free_or_unknown {
                SlotState::FreeNotHeld => Value::Bool(true),
                _ => Value::Null,
            },
            vec![],
        ),
    }
}

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let locale = inv.route.company.locale;
    let tz = inv.route.company.time_zone;
    let services = inv.services(&deps.services).await?;
    let args: AppointmentArgs = match serde_json::from_value(Value::Object(inv.args.clone())) {
        Ok(args) => args,
        // Never drop what the caller said silently: tell the agent which argument is wrong.
        Err(e) => {
            return Ok(
                json!({"success": false, "status": "invalid", "errors": [{"field": null, "message": e.to_string()}], "message": BookingSay::Unreadable.say(locale)}),
            );
        }
    };
    let now_local = inv.now_local(deps.clock.as_ref());
    let ctx = CollectContext {
        today: now_local.date(),
        now_local,
        window: inv.route.window,
        services: &services,
        region: caller_region(inv.call.business_number()),
        horizon_days: inv.route.company.policy.booking_horizon_days,
    };
    let normalized = normalize(&args, &ctx);
    let merged = deps
        .calls
        .send(CollectFor {
            key: inv.key(),
            patch: normalized.patch,
            confirmation: args.bestaetigt.as_ref().map(|v| is_truthy(&v.to_json())),
        })
        .await
        .map_err(|e| ContextError::Unavailable(e.to_string()))??;

    let errors: Vec<Value> = normalized
        .errors
        .iter()
        .map(|e| json!({"field": e.field, "message": e.message(locale)}))
        .collect();
    let missing = merged.missing_fields();
    let missing_names: Vec<&str> = missing.iter().map(|f| f.arg_name()).collect();

    let hold = merged.hold_of_wanted_slot(tz).cloned();
    // The caller changed date, time or service: the old slot is free again for others.
    if let Some(old) = merged.hold.clone().filter(|_| hold.is_none()) {
        release_later(deps.tenants.clone(), inv.route.company.id, inv.lane, old);
    }
    let complete = normalized.errors.is_empty() && missing.is_empty();
    if !complete && hold != merged.hold {
        keep(deps, &inv, &merged, &hold, false).await?;
    }
    let mut told = merged.clone();
    let (status, say, available, alternatives) = if !normalized.errors.is_empty() {
        let problems = normalized
            .errors
            .iter()
            .map(|e| e.message(locale))
            .collect();
        (
            "invalid",
            BookingSay::Invalid { problems },
            Value::Null,
            vec![],
        )
    } else if !missing.is_empty() {
        let say = BookingSay::Missing { fields: missing };
        ("incomplete", say, Value::Null, vec![])
    } else {
        let (state, secured) = secure_slot(deps, &inv, &merged, &services, hold.as_ref()).await;
        let withdraw =
            merged.confirmed && matches!(state, SlotState::Taken(_) | SlotState::NotFree(_));
        let kept = (secured == merged.hold && !withdraw)
            || keep(deps, &inv, &merged, &secured, withdraw).await?;
        told.confirmed &= !(withdraw && kept);
        // Not kept: another function of this call changed the slot meanwhile; its reply counts.
        outcome(&inv, &told, if kept { state } else { SlotState::Unknown })
    };
    // A correction ("nein, nicht Dienstag, Mittwoch") is answered with what is now understood.
    let message = if normalized.corrected {
        let understood = Understood {
            date: told.date,
            time: told.time,
            service: told.service.as_ref().map(|s| s.name.clone()),
        };
        format!("{} {}", understood.say(locale), say.say(locale))
    } else {
        say.say(locale)
    };
    Ok(json!({
        "success": matches!(status, "held" | "booked_pending" | "free_unheld" | "calendar_unreachable" | "noted_unconfirmed"),
        "status": status,
        "collected": collected_json(&told),
        "missing_fields": missing_names,
        "errors": errors,
        "available": available,
        "alternatives": alternatives.iter().map(|t| t.format("%H:%M").to_string()).collect::<Vec<_>>(),
        "confirmed": told.confirmed,
        "message": message,
    }))
}

/// Records `hold` as the call's hold for the slot `merged` chose, and withdraws the caller's
/// yes to a slot they were just told is not free (`withdraw`); a new hold that could not be
/// recorded (the choice changed meanwhile) is released at once. Answers whether it was
/// recorded.
async fn keep(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
    merged: &CollectedAppointment,
    hold: &Option<SlotHold>,
    withdraw: bool,
) -> Result<bool, FunctionError> {
    let recorded = deps
        .calls
        .send(KeepHoldFor {
            key: inv.key(),
            decided_for: merged.slot(),
            hold: hold.clone(),
            withdraw_confirmation: withdraw,
        })
        .await
        .map_err(|e| ContextError::Unavailable(e.to_string()))
        .and_then(|kept| kept);
    let new = hold.clone().filter(|h| merged.hold.as_ref() != Some(h));
    match recorded {
        Ok(true) => Ok(true),
        Ok(false) => {
            if let Some(new) = new {
                release_later(deps.tenants.clone(), inv.route.company.id, inv.lane, new);
            }
            Ok(false)
        }
        Err(e) => {
            // Not recorded, so nothing would ever book against the new hold or release it:
            // it would keep the caller's own slot from their booking until it lapses.
            if let Some(new) = new {
                release_later(deps.tenants.clone(), inv.route.company.id, inv.lane, new);
            }
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde::de::{self, Deserializer, Visitor};
    use std::collections::BTreeSet;

    /// Captures the `fields` serde_derive passes to `deserialize_struct`: every name it reads,
    /// aliases included.
    struct FieldNames(BTreeSet<&'static str>);

    impl<'de> Deserializer<'de> for &mut FieldNames {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only the field names are wanted"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend(fields);
            self.deserialize_any(visitor)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    #[test]
    fn args_table_agrees_with_the_serde_aliases() {
        let mut serde_names = FieldNames(BTreeSet::new());
        let _ = AppointmentArgs::deserialize(&mut serde_names);
        let table: BTreeSet<&str> = CollectAppointmentData::ARGS
            .iter()
            .flat_map(Arg::names)
            .collect();
        assert_eq!(table, serde_names.0);
        for arg in CollectAppointmentData::ARGS {
            let by_name: AppointmentArgs = serde_json::from_value(json!({arg.name: "x"})).unwrap();
            assert_ne!(by_name, AppointmentArgs::default(), "{}", arg.name);
            for alias in arg.aliases {
                let by_alias: AppointmentArgs =
                    serde_json::from_value(json!({*alias: "x"})).unwrap();
                assert_eq!(by_alias, by_name, "{alias} is read as {}", arg.name);
            }
        }
    }
}
