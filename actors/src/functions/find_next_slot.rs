//! `find_next_slot`: the first free time for a service from a day on (default today, within
//! 14 days), not earlier than a preferred time on that first day; or, when the time is a
//! window ("vormittags"), the first day with free times in it and the best two or three.

use super::args::Arg;
use super::check_availability::{SlotArgs, ask_for_service, calendar_down};
use super::{CustomFunction, FunctionDeps, FunctionError, Invocation, free_times};
use crate::domain::tenant::Locale;
use crate::domain::time_window::TimeWindow;
use crate::speech::Catalog;
use crate::speech::general::GeneralSay;
use chrono::{Duration, NaiveDateTime, NaiveTime};
use serde_json::{Value, json};

/// Days searched from the start day.
pub const SEARCH_DAYS: i64 = 14;

/// `find_next_slot`: the first free time of a service.
pub struct FindNextSlot;

impl CustomFunction for FindNextSlot {
    const NAME: &'static str = "find_next_slot";
    const DESCRIPTION: &'static str = "Find the next free time for a service, from a day on \
        (default today, up to 14 days ahead) and not earlier than a preferred time on that first \
        day. The time may be a window as the caller said it (\"vormittags\", \"abends\", \
        \"nach 17 Uhr\", \"before noon\"): the reply then names the first day with free times \
        in it and offers the best two or three. Arguments left out are taken from the details already collected in this call. The \
        reply has the date and time found and says it in `message`.";
    type Args = SlotArgs;
    const ARGS: &'static [Arg] = SlotArgs::ARGS;

    async fn apply(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
        run(deps, inv).await
    }
}

async fn run(deps: &FunctionDeps, inv: Invocation<'_>) -> Result<Value, FunctionError> {
    let locale = inv.route.company.locale;
    let (service, ask) = match ask_for_service(deps, &inv).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let now = inv.now_local(deps.clock.as_ref());
    let from = ask.date.unwrap_or(now.date()).max(now.date());
    // A caller's date has a four-digit year, far from chrono's limits; saturate anyway.
    let to = from
        .checked_add_signed(Duration::days(SEARCH_DAYS - 1))
        .unwrap_or(from);
    let free = match free_times(deps, inv.lane, inv.route, &service, from, to).await {
        Ok(free) => free,
        Err(e) => return Ok(calendar_down(&e, locale)),
    };
    if let Some(w) = ask.window {
        return Ok(in_window(&free, now, &w, &service.name, locale));
    }
    let not_before = ask.time.map(|t| from.and_time(t));
    let next = free
        .iter()
        .find(|t| **t > now && not_before.is_none_or(|nb| t.date() > from || **t >= nb));
    Ok(match next {
        Some(t) => json!({
            "success": true,
            "found": true,
            "datum": t.date().to_string(),
            "uhrzeit": t.time().format("%H:%M").to_string(),
            "dienstleistung": service.name,
            "message": GeneralSay::NextFree {
                service: service.name.clone(),
                date: t.date(),
                time: t.time(),
            }
            .say(locale),
        }),
        None => json!({
            "success": true,
            "found": false,
            "dienstleistung": service.name,
            "message": GeneralSay::NothingFreeWithin {
                service: service.name.clone(),
                days: SEARCH_DAYS,
            }
            .say(locale),
        }),
    })
}

/// The reply for a window: the first day (from the search's start) with free times inside
/// the window's span, and the best two or three of them ([`TimeWindow::best`]).
fn in_window(
    free: &[NaiveDateTime],
    now: NaiveDateTime,
    window: &TimeWindow,
    service: &str,
    locale: Locale,
) -> Value {
    let mut inside = free
        .iter()
        .filter(|t| **t > now && window.contains(t.time()));
    let Some(first) = inside.next() else {
        return json!({
            "success": true,
            "found": false,
            "dienstleistung": service,
            "zeitfenster": span(window),
            "message": GeneralSay::NothingFreeWithin {
                service: service.to_owned(),
                days: SEARCH_DAYS,
            }
            .say(locale),
        });
    };
    let date = first.date();
    let day: Vec<NaiveTime> = std::iter::once(first)
        .chain(inside.take_while(|t| t.date() == date))
        .map(|t| t.time())
        .collect();
    let times = window.best(&day, 3);
    json!({
        "success": true,
        "found": true,
        "datum": date.to_string(),
        "uhrzeit": first.time().format("%H:%M").to_string(),
        "alternativen": times.iter().map(|t| t.format("%H:%M").to_string()).collect::<Vec<_>>(),
        "dienstleistung": service,
        "zeitfenster": span(window),
        "message": GeneralSay::NextFreeInWindow {
            service: service.to_owned(),
            date,
            times,
        }
        .say(locale),
    })
}

/// "HH:MM-HH:MM".
fn span(window: &TimeWindow) -> String {
    format!(
        "{}-{}",
        window.from.format("%H:%M"),
        window.to.format("%H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_states_the_search_window() {
        assert!(FindNextSlot::DESCRIPTION.contains(&format!("up to {SEARCH_DAYS} days ahead")));
    }
}
