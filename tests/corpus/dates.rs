//! The `dates` category (tests/corpus/dates.toml): `expect` is the day as `YYYY-MM-DD`, read
//! by [`parse_date`] on the case's "today"; a `clarify` case must be refused as
//! [`DateParseError::Ambiguous`] with at least two candidates, which the functions turn into
//! a question naming them.

use super::{Case, Outcome};
use chrono::NaiveDate;
use switchboard_actors::domain::datetime::{DateParseError, parse_date};

/// Checks one case of `dates.toml`.
pub fn check(case: &Case) -> Outcome {
    let read = parse_date(&case.say, case.today());
    match (&case.expect, read) {
        (Some(expect), read) => {
            let expect = NaiveDate::parse_from_str(expect, "%Y-%m-%d")
                .map_err(|e| format!("expect {expect:?} is not YYYY-MM-DD: {e}"))?;
            match read {
                Ok(date) if date == expect => Ok(()),
                Ok(date) => Err(format!("read {date}, expected {expect}")),
                Err(e) => Err(format!("refused ({e}), expected {expect}")),
            }
        }
        (None, Err(DateParseError::Ambiguous { candidates, .. })) if candidates.len() >= 2 => {
            Ok(())
        }
        (None, read) => Err(format!("expected a clarifying question, got {read:?}")),
    }
}
