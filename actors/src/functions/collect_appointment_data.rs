//! `collect_appointment_data`: validates and normalises what the caller said (German dates and
//! times, E.164 phone, service), stores it in the call's context, checks the slot when date,
//! time and service are known, and says what is still missing.

use super::args::{self, Arg};
use super::{
    CustomFunction, FunctionDeps, FunctionError, Invocation, SlotsError, free_times, nearest,
    speech,
};
use crate::call::context::ContextError;
use crate::call::registry::CollectFor;
use crate::domain::appointment::CollectedAppointment;
use crate::domain::collect::{AppointmentArgs, CollectContext, normalize};
use crate::domain::phone::caller_region;
use crate::domain::tenant::{Locale, Service};
use crate::domain::truthy::is_truthy;
use serde_json::{Value, json};

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

/// Whether the requested slot is free.
enum Availability {
    Free,
    Taken(Vec<chrono::NaiveTime>),
    Unknown,
}

fn summary(c: &CollectedAppointment, locale: Locale) -> String {
    let (Some(service), Some(date), Some(time), Some(name)) = (&c.service, c.date, c.time, &c.name)
    else {
        return String::new();
    };
    let (on, at, for_name) = match locale {
        Locale::De => ("am", "um", "für"),
        Locale::En => ("on", "at", "for"),
    };
    format!(
        "{} {on} {} {at} {} {for_name} {name}",
        service.name,
        speech::date(date, locale),
        speech::time(time, locale),
    )
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

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let locale = inv.route.company.locale;
    let services = inv.services(deps.store.as_ref()).await?;
    let args: AppointmentArgs = match serde_json::from_value(Value::Object(inv.args.clone())) {
        Ok(args) => args,
        // Never drop what the caller said silently: tell the agent which argument is wrong.
        Err(e) => {
            let message = match locale {
                Locale::De => {
                    "Entschuldigung, die Angaben kamen bei mir unvollständig an. Können Sie sie bitte wiederholen?"
                }
                Locale::En => {
                    "Sorry, your details didn't come through properly. Could you repeat them, please?"
                }
            };
            return Ok(
                json!({"success": false, "status": "invalid", "errors": [{"field": null, "message": e.to_string()}], "message": message}),
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

    let (status, available, alternatives, message) = if !normalized.errors.is_empty() {
        let mut text: Vec<String> = normalized
            .errors
            .iter()
            .map(|e| e.message(locale))
            .collect();
        text.push(match locale {
            Locale::De => "Können Sie mir das bitte noch einmal sagen?".to_owned(),
            Locale::En => "Could you tell me that again, please?".to_owned(),
        });
        ("invalid", Value::Null, vec![], text.join(" "))
    } else if !missing.is_empty() {
        let labels: Vec<String> = missing
            .iter()
            .map(|f| speech::field_label(*f, locale).to_owned())
            .collect();
        let text = match locale {
            Locale::De => format!(
                "Bitte nennen Sie mir noch {}.",
                speech::list(&labels, locale)
            ),
            Locale::En => format!("Please tell me {}.", speech::list(&labels, locale)),
        };
        ("incomplete", Value::Null, vec![], text)
    } else {
        match availability(deps, &inv, &merged, &services).await {
            Availability::Taken(alts) => {
                let day = speech::date(merged.date.expect("complete"), locale);
                let hour = speech::time(merged.time.expect("complete"), locale);
                let text = match (locale, alts.is_empty()) {
                    (Locale::De, false) => format!(
                        "Der Termin am {day} um {hour} ist leider nicht frei. Frei wäre um {}. Welche Uhrzeit passt Ihnen?",
                        speech::times(&alts, locale)
                    ),
                    (Locale::De, true) => format!(
                        "Am {day} ist leider nichts mehr frei. Möchten Sie einen anderen Tag?"
                    ),
                    (Locale::En, false) => format!(
                        "Sorry, {day} at {hour} is not available. I could offer {}. Which time suits you?",
                        speech::times(&alts, locale)
                    ),
                    (Locale::En, true) => {
                        format!("Sorry, {day} is fully booked. Would another day work?")
                    }
                };
                let alts: Vec<String> =
                    alts.iter().map(|t| t.format("%H:%M").to_string()).collect();
                ("unavailable", Value::Bool(false), alts, text)
            }
            free_or_unknown => {
                let available = match free_or_unknown {
                    Availability::Free => Value::Bool(true),
                    _ => Value::Null,
                };
                let what = summary(&merged, locale);
                let text = match (locale, merged.confirmed) {
                    (Locale::De, false) => {
                        format!("Ich habe: {what}. Soll ich den Termin so verbindlich buchen?")
                    }
                    (Locale::De, true) => format!(
                        "Vielen Dank. Ihr Termin {what} wird direkt nach unserem Gespräch gebucht; Sie erhalten eine Bestätigung."
                    ),
                    (Locale::En, false) => {
                        format!("I have: {what}. Shall I book this appointment for you?")
                    }
                    (Locale::En, true) => format!(
                        "Thank you. Your appointment, {what}, will be booked right after this call and you will receive a confirmation."
                    ),
                };
                let text = if matches!(available, Value::Null) {
                    format!(
                        "{text} {}",
                        match locale {
                            Locale::De => "Die Verfügbarkeit konnte ich gerade nicht prüfen.",
                            Locale::En => "I couldn't check availability just now.",
                        }
                    )
                } else {
                    text
                };
                ("complete", available, vec![], text)
            }
        }
    };
    Ok(json!({
        "success": status == "complete",
        "status": status,
        "collected": collected_json(&merged),
        "missing_fields": missing_names,
        "errors": errors,
        "available": available,
        "alternatives": alternatives,
        "confirmed": merged.confirmed,
        "message": message,
    }))
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
