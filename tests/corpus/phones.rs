//! The `phones` category (tests/corpus/phones.toml): the number the functions store for what
//! the caller said, read by [`PhoneNumber::from_speech`] as `collect_appointment_data` reads
//! `telefonnummer`.
//!
//! `expect` is the E.164 form, or `"refused"` for a phrase that must not be accepted (the
//! agent then asks again). A national number is read in the region of the tenant the caller
//! dialled; the corpus has no dialled number, so German cases are read in DE and English ones
//! in GB (the English demo tenant is in London).

use super::{Case, Lang, Outcome};
use switchboard_actors::domain::phone::{DEFAULT_REGION, PhoneNumber, caller_region};

/// A London number, whose region English cases are read in.
const LONDON: &str = "+442079460321";

/// What `expect` says for a phrase that must be refused.
const REFUSED: &str = "refused";

/// Checks one case of `phones.toml`.
pub fn check(case: &Case) -> Outcome {
    let region = match case.lang {
        Lang::De => DEFAULT_REGION,
        Lang::En => caller_region(Some(LONDON)),
    };
    let expect = case.expect.as_deref().ok_or("phones cases need `expect`")?;
    match (PhoneNumber::from_speech(&case.say, region), expect) {
        (Err(_), REFUSED) => Ok(()),
        (Ok(got), REFUSED) => Err(format!("accepted as {got}, must be refused")),
        (Ok(got), want) if got.as_str() == want => Ok(()),
        (Ok(got), want) => Err(format!("read as {got}, expected {want}")),
        (Err(e), want) => Err(format!("refused ({e}), expected {want}")),
    }
}
