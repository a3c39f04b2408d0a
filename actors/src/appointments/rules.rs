//! Who may see or change an appointment, which one a caller means, and whether it may still
//! be changed. Pure functions of what the caller said, the call and the stored rows.

use crate::domain::booking::Booking;
use crate::domain::datetime::{DateParseError, parse_date};
use crate::domain::phone::{PhoneNumber, caller_region};
use crate::records::AppointmentRecord;
use crate::speech::appointments::Listed;
use chrono::{DateTime, NaiveDate, Utc};

/// Most appointments of one caller read from the store (and returned by `find`); a caller
/// with more hears the count of the rest.
pub const MAX_LISTED: u32 = 20;
/// Appointments read out by `find_appointments`; the rest are only counted.
pub const MAX_SPOKEN: usize = 3;

/// Who is calling, as far as their appointments are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The number Retell shows (`call.from_number`): the appointments booked with it are theirs.
    Shown(PhoneNumber),
    /// A number the caller said (theirs is withheld, or they named another one): it proves
    /// nothing alone, so an appointment is theirs only when they also name its date.
    Claimed(PhoneNumber),
    /// No usable number at all: ask for the number and the date.
    Unknown,
}

impl Caller {
    /// From the call's `from_number` (E.164; absent or `anonymous` when withheld), the number
    /// the caller said (read in the region of the `dialled` number), if any.
    pub fn identify(from_number: Option<&str>, said: Option<&str>, dialled: Option<&str>) -> Self {
        let shown = from_number
            .filter(|n| !n.trim().eq_ignore_ascii_case("anonymous"))
            .and_then(|n| PhoneNumber::parse_default(n).ok());
        let said = said.and_then(|s| PhoneNumber::parse(s, caller_region(dialled)).ok());
        match (shown, said) {
            (Some(shown), Some(said)) if said != shown => Self::Claimed(said),
            (Some(shown), _) => Self::Shown(shown),
            (None, Some(said)) => Self::Claimed(said),
            (None, None) => Self::Unknown,
        }
    }

    /// The number whose appointments are looked up.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Shown(p) | Self::Claimed(p) => Some(p),
            Self::Unknown => None,
        }
    }
}

/// Which appointment the caller means (`termin`/`appointment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The n-th (1-based) of the list `find_appointments` read out.
    Index(usize),
    /// The one on this local day.
    Date(NaiveDate),
}

impl Which {
    /// A number from 1 to [`MAX_LISTED`] is an index, anything else a date as callers say
    /// them ("15.07.", "morgen", "2026-07-15"), read with [`parse_date`].
    ///
    /// # Errors
    /// The date parser's error.
    pub fn parse(said: &str, today: NaiveDate) -> Result<Self, DateParseError> {
        let trimmed = said.trim().trim_end_matches('.');
        match trimmed.parse::<usize>() {
            Ok(n) if (1..=MAX_LISTED as usize).contains(&n) => Ok(Self::Index(n)),
            _ => parse_date(said, today).map(Self::Date),
        }
    }
}

/// What the caller's words select among their upcoming appointments.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    /// Exactly one.
    One(Box<AppointmentRecord>),
    /// Several; the caller must say which.
    Several(Vec<AppointmentRecord>),
    /// None of theirs: answered like "nothing found", whatever the reason.
    None,
    /// The number and the appointment's date are needed first.
    NeedIdentity,
}

/// The appointments `caller` may see among `upcoming` (the scheduled appointments stored with
/// the caller's number, earliest first): all of them for a shown number; for a claimed
/// number only those on the day the caller named (`which` must be a date). `tz` is the
/// company's zone.
///
/// `None` when the caller has no number, or claims one without a date: ask for both.
pub fn visible(
    caller: &Caller,
    upcoming: Vec<AppointmentRecord>,
    which: Option<Which>,
    tz: chrono_tz::Tz,
) -> Option<Vec<AppointmentRecord>> {
    match (caller, which) {
        (Caller::Unknown, _) | (Caller::Claimed(_), None | Some(Which::Index(_))) => None,
        (Caller::Claimed(_), Some(Which::Date(day))) => Some(on_day(upcoming, day, tz)),
        (Caller::Shown(_), _) => Some(upcoming),
    }
}

fn on_day(
    list: Vec<AppointmentRecord>,
    day: NaiveDate,
    tz: chrono_tz::Tz,
) -> Vec<AppointmentRecord> {
    list.into_iter()
        .filter(|a| a.start.with_timezone(&tz).date_naive() == day)
        .collect()
}

/// The appointment the caller means among those [`visible`] to them.
pub fn select(
    caller: &Caller,
    upcoming: Vec<AppointmentRecord>,
    which: Option<Which>,
    tz: chrono_tz::Tz,
) -> Selection {
    let Some(visible) = visible(caller, upcoming, which, tz) else {
        return Selection::NeedIdentity;
    };
    let mut chosen = match which {
        Some(Which::Index(n)) => visible.into_iter().nth(n - 1).into_iter().collect(),
        Some(Which::Date(day)) => on_day(visible, day, tz),
        None => visible,
    };
    match chosen.len() {
        0 => Selection::None,
        1 => Selection::One(Box::new(chosen.remove(0))),
        _ => Selection::Several(chosen),
    }
}

/// Whether an appointment starting at `start` may still be moved or cancelled at `now`:
/// more than `notice_h` hours ahead (`policy.change_notice_h`).
pub fn can_modify(start: DateTime<Utc>, now: DateTime<Utc>, notice_h: u32) -> bool {
    start - now > chrono::Duration::hours(i64::from(notice_h))
}

/// An appointment as it is read out, in the company's zone.
pub fn listed(
    a: &AppointmentRecord,
    now: DateTime<Utc>,
    notice_h: u32,
    tz: chrono_tz::Tz,
) -> Listed {
    let local = a.start.with_timezone(&tz).naive_local();
    Listed {
        date: local.date(),
        time: local.time(),
        service: a.service_name.clone(),
        can_modify: can_modify(a.start, now, notice_h),
    }
}

/// The booking Cal.com made when it moved `old` to `start`, among `candidates` (bookings
/// listed around `start`): not `old` itself, not cancelled, starting at `start`, with one of
/// `old`'s attendees (same phone or email). Finds a move whose answer was lost.
pub fn moved_to(old: &Booking, candidates: Vec<Booking>, start: DateTime<Utc>) -> Option<Booking> {
    let same_person = |b: &Booking| {
        b.attendees.iter().any(|a| {
            old.attendees.iter().any(|o| {
                (a.phone_number.is_some() && a.phone_number == o.phone_number)
                    || (a.email.is_some() && a.email == o.email)
            })
        })
    };
    candidates
        .into_iter()
        .find(|b| b.uid != old.uid && b.start == start && b.status != "cancelled" && same_person(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{CALLER, now, row};
    use crate::domain::tenant::Locale;
    use crate::speech::Catalog;
    use crate::speech::appointments::AppointmentSay;
    use chrono::Duration;

    const TZ: chrono_tz::Tz = chrono_tz::Europe::Berlin;
    const DIALLED: Option<&str> = Some("+493012345678");

    fn day_of(a: &AppointmentRecord) -> NaiveDate {
        a.start.with_timezone(&TZ).date_naive()
    }

    #[test]
    fn withheld_number_needs_phone_and_date() {
        let mine = row("mine", CALLER, now() + Duration::days(3));
        for withheld in [None, Some("anonymous"), Some("Anonymous")] {
            let caller = Caller::identify(withheld, None, DIALLED);
            assert_eq!(caller, Caller::Unknown);
            assert_eq!(
                select(&caller, vec![mine.clone()], None, TZ),
                Selection::NeedIdentity
            );
        }
        let claimed = Caller::identify(Some("anonymous"), Some("0151 12345678"), DIALLED);
        assert_eq!(
            claimed,
            Caller::Claimed(PhoneNumber::parse_default(CALLER).unwrap())
        );
        assert_eq!(
            select(&claimed, vec![mine.clone()], None, TZ),
            Selection::NeedIdentity,
            "a number alone is not enough"
        );
        assert_eq!(
            select(&claimed, vec![mine.clone()], Some(Which::Index(1)), TZ),
            Selection::NeedIdentity,
            "an index is not the appointment's date"
        );
        assert_eq!(
            select(
                &claimed,
                vec![mine.clone()],
                Some(Which::Date(day_of(&mine))),
                TZ
            ),
            Selection::One(Box::new(mine))
        );
    }

    #[test]
    fn another_callers_number_is_answered_like_not_found() {
        let theirs = row("theirs", CALLER, now() + Duration::days(3));
        // Someone calling from another number names the attendee's number: it is only a claim.
        let caller = Caller::identify(Some("+4915199999999"), Some(CALLER), DIALLED);
        assert!(matches!(caller, Caller::Claimed(_)));
        let wrong_day = Which::Date(day_of(&theirs) + Duration::days(1));
        let nothing_stored = select(&caller, vec![], Some(wrong_day), TZ);
        assert_eq!(nothing_stored, Selection::None);
        assert_eq!(
            select(&caller, vec![theirs.clone()], Some(wrong_day), TZ),
            nothing_stored,
            "a wrong date is answered exactly like no appointment at all"
        );
        assert_eq!(
            visible(&caller, vec![theirs], Some(wrong_day), TZ),
            Some(vec![])
        );
    }

    #[test]
    fn shown_number_sees_all_its_appointments_and_picks_by_index_or_date() {
        let caller = Caller::identify(Some(CALLER), None, DIALLED);
        let first = row("first", CALLER, now() + Duration::days(2));
        let second = row("second", CALLER, now() + Duration::days(5));
        let both = vec![first.clone(), second.clone()];
        assert_eq!(
            select(&caller, both.clone(), None, TZ),
            Selection::Several(both.clone())
        );
        assert_eq!(
            select(&caller, both.clone(), Some(Which::Index(2)), TZ),
            Selection::One(Box::new(second.clone()))
        );
        assert_eq!(
            select(&caller, both.clone(), Some(Which::Index(3)), TZ),
            Selection::None
        );
        assert_eq!(
            select(&caller, both, Some(Which::Date(day_of(&first))), TZ),
            Selection::One(Box::new(first))
        );
        let today = now().date_naive();
        assert_eq!(Which::parse("2", today), Ok(Which::Index(2)));
        assert_eq!(
            Which::parse("morgen", today),
            Ok(Which::Date(today + Duration::days(1)))
        );
    }

    #[test]
    fn change_inside_the_notice_window_is_refused_in_words() {
        let start = now() + Duration::hours(24);
        assert!(!can_modify(start, now(), 24), "exactly the notice: refused");
        assert!(can_modify(start + Duration::seconds(1), now(), 24));
        assert!(!can_modify(now() - Duration::hours(1), now(), 0), "past");
        let listed = listed(&row("a", CALLER, start), now(), 24, TZ);
        assert!(!listed.can_modify);
        let said = AppointmentSay::NoticeRefused { hours: 24 };
        assert!(
            said.say(Locale::De)
                .contains("bis 24 Stunden vor dem Termin")
        );
        assert!(said.say(Locale::En).contains("up to 24 hours before it"));
    }

    #[test]
    fn a_move_is_found_by_start_and_attendee_not_by_uid() {
        use crate::appointments::testing::booking;
        let start = now() + Duration::days(4);
        let mut old = booking("old", CALLER, now() + Duration::days(2));
        old.status = "cancelled".into();
        let stranger = booking("stranger", "+4915199999999", start);
        let moved = booking("new", CALLER, start);
        assert_eq!(
            moved_to(&old, vec![stranger.clone(), moved.clone()], start),
            Some(moved)
        );
        assert_eq!(moved_to(&old, vec![stranger], start), None);
    }
}
