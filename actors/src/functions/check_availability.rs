//! `check_availability`: is a time free on a day (with the nearest alternatives), or which
//! times are free that day. Missing args are taken from what the call collected so far.

use super::args::{self, Arg};
use super::{
    CustomFunction, FunctionDeps, FunctionError, Invocation, SlotsError, free_times, nearest,
};
use crate::call::context::ContextError;
use crate::call::registry::SnapshotFor;
use crate::domain::date_window::DateWindow;
use crate::domain::datetime::{DateParseError, TimeParseError, parse_date, parse_time};
use crate::domain::service_match::{ServiceMatchError, match_service};
use crate::domain::tenant::{BusinessWindow, Locale, Service};
use crate::domain::text;
use crate::domain::time_window::{TimeWindow, WindowParseError, parse_window};
use crate::speech::Catalog;
use crate::speech::general::GeneralSay;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

/// The args of `check_availability` and `find_next_slot`, as the caller said them. Each is
/// optional: what is left out is taken from the details collected in this call.
#[derive(Debug, Default, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(
    description = "What to look up; send only what the caller said, the rest is known from the call."
)]
pub struct SlotArgs {
    /// The service wanted, by name or a usual alias, e.g. "Herrenhaarschnitt".
    pub dienstleistung: Option<String>,
    /// The day as the caller said it: "morgen", "nächsten Dienstag", "15.07.", "2026-07-15".
    /// For `find_next_slot`, the first day searched (default today).
    pub datum: Option<String>,
    /// The time as the caller said it: "14 Uhr", "halb drei", "14:30"; or a window, also
    /// with a day: "vormittags", "am Nachmittag", "nach 17 Uhr", "zwischen 14 und 16 Uhr",
    /// "egal wann am Donnerstag". For `find_next_slot`, a time is the earliest time on the
    /// first day and a window is searched on every day.
    pub uhrzeit: Option<String>,
}

impl SlotArgs {
    /// The args with their aliases, in the order of the fields.
    pub const ARGS: &'static [Arg] = &[args::SERVICE, args::DATE, args::TIME];

    /// Reads the args leniently ([`Arg::text`]), each cleaned as a [`text::PHRASE`].
    ///
    /// # Errors
    /// The [`text::excerpt`] of the first arg longer than a phrase.
    pub fn read(args: &Map<String, Value>) -> Result<Self, String> {
        let phrase = |arg: Arg| match arg.text(args) {
            None => Ok(None),
            Some(said) => match text::PHRASE.clean(&said) {
                Ok(clean) => Ok(Some(clean).filter(|c| !c.is_empty())),
                Err(_) => Err(text::excerpt(&said, text::QUOTE_CHARS)),
            },
        };
        Ok(Self {
            dienstleistung: phrase(args::SERVICE)?,
            datum: phrase(args::DATE)?,
            uhrzeit: phrase(args::TIME)?,
        })
    }
}

/// `check_availability`: free times of a service on one day.
pub struct CheckAvailability;

impl CustomFunction for CheckAvailability {
    const NAME: &'static str = "check_availability";
    const DESCRIPTION: &'static str = "Check whether a time is free for a service on a day, or \
        which times are free that day. The time may be a window as the caller said it \
        (\"vormittags\", \"nach 17 Uhr\", \"between 2 and 4\", \"any time Thursday\"): the \
        reply then offers the best two or three free times in it. Arguments left out are taken \
        from the details already collected in this call. The reply lists the free times and the \
        nearest alternatives, and says the answer in `message`.";
    type Args = SlotArgs;
    const ARGS: &'static [Arg] = SlotArgs::ARGS;

    async fn apply(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
        run(deps, inv).await
    }
}

/// What the caller asked about, after falling back on the call context.
pub(super) struct Ask {
    pub service: Option<Service>,
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
    /// The window asked for instead of a time (its day, if said, is in `date`).
    pub window: Option<TimeWindow>,
    /// Spoken problems with the args (unknown date, service, …).
    pub problems: Vec<String>,
}

/// Reads service, date and time from the args, else from the call's collected data.
async fn read_ask(deps: &FunctionDeps, inv: &Invocation<'_>) -> Result<Ask, FunctionError> {
    let locale = inv.route.company.locale;
    let services = inv.services(&deps.services).await?;
    let collected = deps
        .calls
        .send(SnapshotFor(inv.key()))
        .await
        .map_err(|e| ContextError::Unavailable(e.to_string()))??;
    let today = inv.now_local(deps.clock.as_ref()).date();
    let window = inv.date_window(today);
    let mut problems = Vec::new();
    let asked = match SlotArgs::read(inv.args) {
        Ok(asked) => asked,
        Err(quote) => {
            problems.push(
                GeneralSay::TooLong {
                    quote,
                    max: text::PHRASE.max_chars,
                }
                .say(locale),
            );
            SlotArgs::default()
        }
    };

    let service = match asked.dienstleistung {
        Some(text) => match match_service(&text, &services) {
            Ok(found) => Some(found.clone()),
            Err(ServiceMatchError::Ambiguous { candidates }) => {
                problems.push(GeneralSay::WhichService { candidates }.say(locale));
                None
            }
            Err(ServiceMatchError::NoMatch | ServiceMatchError::TooLong) => {
                let offered: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
                problems.push(
                    GeneralSay::ServiceNotOffered {
                        asked: text,
                        offered,
                    }
                    .say(locale),
                );
                None
            }
        },
        None => collected
            .service
            .as_ref()
            .and_then(|c| services.iter().find(|s| s.id == c.service_id).cloned()),
    };
    let has_date_arg = asked.datum.is_some();
    let mut date = match asked.datum {
        Some(text) => match parse_date(&text, today) {
            Ok(d) => bookable(d, text, window, locale, &mut problems),
            Err(DateParseError::Ambiguous { candidates, .. }) => {
                problems.push(GeneralSay::DateAmbiguous { candidates }.say(locale));
                None
            }
            Err(_) => {
                problems.push(GeneralSay::DateNotUnderstood { said: text }.say(locale));
                None
            }
        },
        None => collected.date,
    };
    let (mut time, mut span) = (None, None);
    match asked.uhrzeit {
        Some(text) => match read_time(&text, inv.route.window, today) {
            Ok(TimeAsked::Point(t)) => time = Some(t),
            Ok(TimeAsked::Window(w)) => {
                if let Some(d) = w.date.filter(|_| !has_date_arg) {
                    date = bookable(d, text, window, locale, &mut problems);
                }
                span = Some(w);
            }
            Err(say) => problems.push(say.say(locale)),
        },
        None => time = collected.time,
    }
    Ok(Ask {
        service,
        date,
        time,
        window: span,
        problems,
    })
}

/// `date` when callers may ask about it, else the spoken problem is noted.
fn bookable(
    date: NaiveDate,
    said: String,
    window: DateWindow,
    locale: Locale,
    problems: &mut Vec<String>,
) -> Option<NaiveDate> {
    if date < window.earliest {
        problems.push(GeneralSay::DateInPast { said }.say(locale));
        None
    } else if date > window.latest {
        problems.push(
            GeneralSay::DateTooFar {
                said,
                latest: window.latest,
            }
            .say(locale),
        );
        None
    } else {
        Some(date)
    }
}

/// The time arg read as a point or as a window.
enum TimeAsked {
    Point(NaiveTime),
    Window(TimeWindow),
}

/// Reads the time arg: a window when [`parse_window`] reads one ("vormittags", "nach 17
/// Uhr", "egal wann am Donnerstag"), else a point ([`parse_time`]). Two times or windows
/// offered are asked about, not guessed.
fn read_time(said: &str, hours: BusinessWindow, today: NaiveDate) -> Result<TimeAsked, GeneralSay> {
    let said_owned = || said.to_owned();
    match parse_window(said, hours, today) {
        Ok(w) => return Ok(TimeAsked::Window(w)),
        Err(e) if e.is_ambiguous() => {
            return Err(GeneralSay::WhichTimeMeant { said: said_owned() });
        }
        Err(WindowParseError::OutsideHours(_)) => {
            return Err(GeneralSay::WindowClosed { said: said_owned() });
        }
        Err(_) => {}
    }
    match parse_time(said, hours) {
        Ok(t) => Ok(TimeAsked::Point(t)),
        Err(TimeParseError::Ambiguous(_)) => Err(GeneralSay::WhichTimeMeant { said: said_owned() }),
        Err(_) => Err(GeneralSay::TimeNotUnderstood { said: said_owned() }),
    }
}

/// Up to `n` free times of `date` nearest to `window` (by distance to its span), ascending.
fn nearest_to_window(
    free: &[NaiveDateTime],
    date: NaiveDate,
    window: &TimeWindow,
    n: usize,
) -> Vec<NaiveTime> {
    let distance = |t: &NaiveTime| {
        if *t < window.from {
            (window.from - *t).num_seconds()
        } else if *t >= window.to {
            (*t - window.to).num_seconds()
        } else {
            0
        }
    };
    super::nearest_by(free, date, n, distance)
}

/// What the caller asked about ([`read_ask`]) with the service to look up taken out of it;
/// `Ok(Err(reply))` is the spoken reply when the args do not say which service (or say
/// something we did not understand).
pub(super) async fn ask_for_service(
    deps: &FunctionDeps,
    inv: &Invocation<'_>,
) -> Result<Result<(Service, Ask), Value>, FunctionError> {
    let mut ask = read_ask(deps, inv).await?;
    Ok(service_or_reply(&mut ask, inv.route.company.locale).map(|service| (service, ask)))
}

/// The service to look up, or the spoken reply when the args do not say which (or say
/// something we did not understand).
fn service_or_reply(ask: &mut Ask, locale: Locale) -> Result<Service, Value> {
    let mut text = ask.problems.clone();
    if ask.service.is_none() && text.is_empty() {
        text.push(GeneralSay::WhichServiceToCheck.say(locale));
    }
    match ask.service.take() {
        Some(service) if text.is_empty() => Ok(service),
        _ => Err(json!({"success": false, "available": null, "message": text.join(" ")})),
    }
}

/// Reply when the calendar did not answer.
pub(super) fn calendar_down(e: &SlotsError, locale: Locale) -> Value {
    if let SlotsError::Upstream(err) = e {
        tracing::warn!(error = %err, "calendar lookup failed in a custom function");
    }
    json!({"success": false, "available": null, "calendar_unreachable": true, "message": GeneralSay::CalendarUnreachable.say(locale)})
}

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let locale = inv.route.company.locale;
    let (service, ask) = match ask_for_service(deps, &inv).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let Some(date) = ask.date else {
        let text = GeneralSay::WhichDayToCheck.say(locale);
        return Ok(json!({"success": false, "available": null, "message": text}));
    };
    let free = match free_times(deps, inv.lane, inv.route, &service, date, date).await {
        Ok(free) => free,
        Err(e) => return Ok(calendar_down(&e, locale)),
    };
    let day: Vec<NaiveTime> = free
        .iter()
        .filter(|t| t.date() == date)
        .map(|t| t.time())
        .collect();
    let base = json!({
        "success": true,
        "datum": date.to_string(),
        "dienstleistung": service.name,
        "freie_zeiten": day.iter().map(|t| t.format("%H:%M").to_string()).collect::<Vec<_>>(),
    });
    let (available, alternatives, say) = match (ask.window, ask.time) {
        (Some(w), _) => {
            let best = w.best(&day, 3);
            if best.is_empty() {
                let alternatives = nearest_to_window(&free, date, &w, 3);
                (
                    false,
                    alternatives.clone(),
                    GeneralSay::WindowFull {
                        date,
                        from: w.from,
                        to: w.to,
                        alternatives,
                    },
                )
            } else {
                (
                    true,
                    best.clone(),
                    GeneralSay::WindowHasFreeTimes {
                        date,
                        from: w.from,
                        to: w.to,
                        times: best,
                    },
                )
            }
        }
        (None, time) => match time {
            Some(time) if day.contains(&time) => {
                (true, vec![], GeneralSay::SlotFree { date, time })
            }
            Some(time) => {
                let alternatives = nearest(&free, date, time, 3);
                (
                    false,
                    alternatives.clone(),
                    GeneralSay::SlotTaken {
                        date,
                        time,
                        alternatives,
                    },
                )
            }
            None if day.is_empty() => (false, vec![], GeneralSay::DayFull { date }),
            None => {
                let times = day.iter().take(6).copied().collect();
                (true, vec![], GeneralSay::DayHasFreeTimes { date, times })
            }
        },
    };
    let (available, message) = (Value::Bool(available), say.say(locale));
    let mut reply = base;
    reply["available"] = available;
    reply["alternatives"] = json!(
        alternatives
            .iter()
            .map(|t| t.format("%H:%M").to_string())
            .collect::<Vec<_>>()
    );
    if let Some(w) = ask.window {
        reply["zeitfenster"] = json!(format!(
            "{}-{}",
            w.from.format("%H:%M"),
            w.to.format("%H:%M")
        ));
    }
    reply["message"] = Value::String(message);
    Ok(reply)
}
