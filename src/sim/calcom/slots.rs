//! The slot grid: which start times a host can be booked at (calcom.md §2), from the
//! [`Schedule`] of its account.
//!
//! Slots start at each opening time and step by the slot length (Cal.com's default when an event
//! type has no `slotInterval`), must end by that range's closing time, must not overlap any accepted
//! booking of the host (any event type) and must not start in the past
//! (`minimumBookingNotice` is 0). One function decides this for both `GET /v2/slots` and
//! `POST /v2/bookings`, so a slot that is offered can be booked and nothing else can.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::accounts::Schedule;

/// A busy time of the host, `[start, end)` in UTC.
pub(super) type Busy = (DateTime<Utc>, DateTime<Utc>);

/// Grid starts of the host's local `day` for slots of `length`, free or not.
fn day_grid(day: NaiveDate, length: Duration, schedule: &Schedule) -> Vec<DateTime<Utc>> {
    let mut starts = Vec::new();
    if length <= Duration::zero() {
        return starts;
    }
    for range in schedule.hours.day(chrono::Datelike::weekday(&day)) {
        let mut at = range.opens;
        // Compared as a difference: `NaiveTime + Duration` wraps past midnight.
        while range.closes.signed_duration_since(at) >= length {
            // A start in a DST gap does not exist; `earliest` keeps the code total.
            if let Some(start) = day
                .and_time(at)
                .and_local_timezone(schedule.zone)
                .earliest()
            {
                starts.push(start.with_timezone(&Utc));
            }
            at += length;
        }
    }
    starts
}

fn is_free(start: DateTime<Utc>, length: Duration, busy: &[Busy], now: DateTime<Utc>) -> bool {
    let end = start + length;
    start >= now
        && busy
            .iter()
            .all(|&(b_start, b_end)| end <= b_start || start >= b_end)
}

/// Free slot starts of `length` minutes that start within `[from, to]`, in time order.
pub(super) fn free_starts(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    length: Duration,
    busy: &[Busy],
    now: DateTime<Utc>,
    schedule: &Schedule,
) -> Vec<DateTime<Utc>> {
    let tz = schedule.zone;
    let first = from.with_timezone(&tz).date_naive();
    let last = to.with_timezone(&tz).date_naive();
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .flat_map(|day| day_grid(day, length, schedule))
        .filter(|start| (from..=to).contains(start) && is_free(*start, length, busy, now))
        .collect()
}

/// Whether a booking of `length` may start at `start`: on the grid of its day and free.
pub(super) fn is_bookable(
    start: DateTime<Utc>,
    length: Duration,
    busy: &[Busy],
    now: DateTime<Utc>,
    schedule: &Schedule,
) -> bool {
    let day = start.with_timezone(&schedule.zone).date_naive();
    day_grid(day, length, schedule).contains(&start) && is_free(start, length, busy, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::calcom::catalog::demo_account;
    use chrono::TimeZone;

    fn demo() -> Schedule {
        demo_account().schedule
    }

    fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2050, 9, d, h, m, 0).unwrap()
    }

    #[test]
    fn monday_grid_is_nine_to_six_berlin_in_length_steps() {
        let starts = free_starts(
            utc(5, 0, 0),
            utc(5, 23, 59),
            Duration::minutes(90),
            &[],
            utc(1, 0, 0),
            &demo(),
        );
        // 09:00, 10:30, 12:00, 13:30, 15:00, 16:30 Berlin (UTC+2); 18:00 would end at 19:30.
        let hours: Vec<_> = starts
            .iter()
            .map(|s| s.format("%H:%M").to_string())
            .collect();
        assert_eq!(
            hours,
            ["07:00", "08:30", "10:00", "11:30", "13:00", "14:30"]
        );
    }

    #[test]
    fn sunday_is_closed_and_saturday_is_short() {
        let sunday = free_starts(
            utc(11, 0, 0),
            utc(11, 23, 59),
            Duration::minutes(30),
            &[],
            utc(1, 0, 0),
            &demo(),
        );
        assert!(sunday.is_empty());
        let saturday = free_starts(
            utc(10, 0, 0),
            utc(10, 23, 59),
            Duration::minutes(60),
            &[],
            utc(1, 0, 0),
            &demo(),
        );
        assert_eq!(
            saturday,
            [utc(10, 8, 0), utc(10, 9, 0), utc(10, 10, 0), utc(10, 11, 0)]
        );
    }

    #[test]
    fn busy_time_and_the_past_remove_overlapping_slots() {
        let busy = [(utc(5, 7, 15), utc(5, 7, 45))];
        let starts = free_starts(
            utc(5, 7, 0),
            utc(5, 8, 30),
            Duration::minutes(30),
            &busy,
            utc(5, 6, 0),
            &demo(),
        );
        assert_eq!(starts, [utc(5, 8, 0), utc(5, 8, 30)]);
        let later = free_starts(
            utc(5, 7, 0),
            utc(5, 8, 30),
            Duration::minutes(30),
            &[],
            utc(5, 7, 1),
            &demo(),
        );
        assert_eq!(later, [utc(5, 7, 30), utc(5, 8, 0), utc(5, 8, 30)]);
    }

    #[test]
    fn off_grid_start_is_not_bookable() {
        let now = utc(1, 0, 0);
        assert!(is_bookable(
            utc(5, 7, 30),
            Duration::minutes(30),
            &[],
            now,
            &demo()
        ));
        assert!(!is_bookable(
            utc(5, 7, 10),
            Duration::minutes(30),
            &[],
            now,
            &demo()
        ));
        assert!(
            !is_bookable(utc(5, 15, 30), Duration::minutes(60), &[], now, &demo()),
            "ends after 18:00"
        );
    }
}
