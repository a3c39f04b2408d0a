//! The `times` category (tests/corpus/times.toml): [`parse_time`] with the default business
//! window (08:00–20:00) must read `expect` ("HH:MM"); a `clarify` case must be refused with
//! [`TimeParseError::Ambiguous`], the error the functions turn into "which time do you mean?".

use super::{Case, Outcome};
use switchboard_actors::domain::datetime::{TimeParseError, parse_time};
use switchboard_actors::domain::tenant::BusinessWindow;

/// Checks one case of `times.toml`.
pub fn check(case: &Case) -> Outcome {
    let read = parse_time(&case.say, BusinessWindow::default());
    match (&case.expect, read) {
        (Some(expect), Ok(time)) => {
            let got = time.format("%H:%M").to_string();
            if &got == expect {
                Ok(())
            } else {
                Err(format!("read {got}, expected {expect}"))
            }
        }
        (Some(expect), Err(e)) => Err(format!("refused ({e}), expected {expect}")),
        (None, Err(TimeParseError::Ambiguous(_))) => Ok(()),
        (None, Err(e)) => Err(format!("refused ({e}) instead of asking")),
        (None, Ok(time)) => Err(format!("guessed {time} instead of asking")),
    }
}
