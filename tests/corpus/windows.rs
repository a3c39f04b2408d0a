//! The `windows` category (tests/corpus/windows.toml): [`parse_window`] with the default
//! business window (08:00–20:00) and the case's today must read `expect` ("HH:MM-HH:MM", or
//! "YYYY-MM-DD HH:MM-HH:MM" when a day is said); a `clarify` case must be refused with an
//! error that asks ([`WindowParseError::is_ambiguous`]).

use super::{Case, Outcome};
use switchboard_actors::domain::tenant::BusinessWindow;
use switchboard_actors::domain::time_window::{TimeWindow, parse_window};

fn show(w: &TimeWindow) -> String {
    let span = format!("{}-{}", w.from.format("%H:%M"), w.to.format("%H:%M"));
    match w.date {
        Some(date) => format!("{date} {span}"),
        None => span,
    }
}

/// Checks one case of `windows.toml`.
pub fn check(case: &Case) -> Outcome {
    let read = parse_window(&case.say, BusinessWindow::default(), case.today());
    match (&case.expect, read) {
        (Some(expect), Ok(window)) => {
            let got = show(&window);
            if &got == expect {
                Ok(())
            } else {
                Err(format!("read {got}, expected {expect}"))
            }
        }
        (Some(expect), Err(e)) => Err(format!("refused ({e}), expected {expect}")),
        (None, Err(e)) if e.is_ambiguous() => Ok(()),
        (None, Err(e)) => Err(format!("refused ({e}) instead of asking")),
        (None, Ok(window)) => Err(format!("guessed {} instead of asking", show(&window))),
    }
}
