//! The local dates a request may name. Dates come from callers and API clients as text, and
//! chrono's date arithmetic panics on overflow near its limits (year ±262,143); every date is
//! checked against this window before any arithmetic is done on it, so no input can reach
//! an overflow.

use chrono::{Days, NaiveDate};

/// How far ahead (days from today, local) bookings and availability may be asked for at
/// most: five years. Callers are held to their tenant's shorter `policy.booking_horizon_days`
/// ([`DateWindow::within`]).
pub const HORIZON_DAYS: u64 = 1826;

/// A date outside [`DateWindow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{date} is outside the bookable dates {earliest} to {latest}")]
pub struct DateOutOfRange {
    /// The refused date.
    pub date: NaiveDate,
    /// First accepted date.
    pub earliest: NaiveDate,
    /// Last accepted date.
    pub latest: NaiveDate,
}

/// The accepted dates around a local "today": from yesterday (a client's today may still be
/// yesterday in the company's zone) to [`HORIZON_DAYS`] ahead, both inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateWindow {
    /// First accepted date.
    pub earliest: NaiveDate,
    /// Last accepted date.
    pub latest: NaiveDate,
}

impl DateWindow {
    /// The window around `today` (local to the company).
    pub fn around(today: NaiveDate) -> Self {
        Self {
            earliest: today.pred_opt().unwrap_or(today),
            latest: today
                .checked_add_days(Days::new(HORIZON_DAYS))
                .unwrap_or(NaiveDate::MAX),
        }
    }

    /// The window around `today` (local to the company) that ends `horizon_days` after it
    /// (at most [`HORIZON_DAYS`]): what a tenant's callers may ask for.
    pub fn within(today: NaiveDate, horizon_days: u32) -> Self {
        let days = u64::from(horizon_days).min(HORIZON_DAYS);
        Self {
            latest: today
                .checked_add_days(Days::new(days))
                .unwrap_or(NaiveDate::MAX),
            ..Self::around(today)
        }
    }

    /// `date` when it lies in the window.
    ///
    /// # Errors
    /// [`DateOutOfRange`] naming the window otherwise.
    pub fn check(&self, date: NaiveDate) -> Result<NaiveDate, DateOutOfRange> {
        if (self.earliest..=self.latest).contains(&date) {
            Ok(date)
        } else {
            Err(self.refuse(date))
        }
    }

    /// The last day of `days` days from `first` (`days` ≥ 1), when first and last both lie
    /// in the window.
    ///
    /// # Errors
    /// [`DateOutOfRange`] for the first date outside the window.
    pub fn check_span(&self, first: NaiveDate, days: u32) -> Result<NaiveDate, DateOutOfRange> {
        self.check(first)?;
        match first.checked_add_days(Days::new(u64::from(days.max(1)) - 1)) {
            Some(last) => self.check(last),
            // Past chrono's last date lies outside any window.
            None => Err(self.refuse(NaiveDate::MAX)),
        }
    }

    fn refuse(&self, date: NaiveDate) -> DateOutOfRange {
        DateOutOfRange {
            date,
            earliest: self.earliest,
            latest: self.latest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn window_runs_from_yesterday_to_five_years_ahead() {
        let w = DateWindow::around(d(2026, 12, 1));
        assert_eq!(w.earliest, d(2026, 11, 30));
        assert_eq!(w.latest, d(2031, 12, 1));
        assert!(w.check(d(2026, 11, 30)).is_ok());
        assert!(w.check(d(2031, 12, 1)).is_ok());
        assert!(w.check(d(2026, 11, 29)).is_err());
        assert!(w.check(d(2031, 12, 2)).is_err());
    }

    #[test]
    fn extreme_dates_are_refused_without_overflow() {
        let w = DateWindow::around(d(2026, 12, 1));
        for date in [NaiveDate::MAX, NaiveDate::MIN, d(262_142, 12, 31)] {
            let err = w.check_span(date, 31).unwrap_err();
            assert_eq!(err.date, date);
        }
        let near_max = DateWindow::around(NaiveDate::MAX);
        assert_eq!(near_max.latest, NaiveDate::MAX);
        assert!(near_max.check_span(NaiveDate::MAX, 31).is_err());
    }

    #[test]
    fn a_span_must_end_inside_the_window() {
        let w = DateWindow::around(d(2026, 12, 1));
        assert_eq!(w.check_span(d(2026, 12, 1), 1), Ok(d(2026, 12, 1)));
        assert_eq!(w.check_span(d(2031, 11, 2), 30), Ok(d(2031, 12, 1)));
        assert_eq!(
            w.check_span(d(2031, 11, 2), 31).unwrap_err().date,
            d(2031, 12, 2)
        );
    }
}
