//! Weekly opening hours of a branch: per weekday, up to [`MAX_RANGES_PER_DAY`] ranges of
//! local time (`"08:00-12:00,14:00-18:00"`), or `"closed"`.

use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Most ranges one day may have.
pub const MAX_RANGES_PER_DAY: usize = 4;

/// The seven weekdays in the order they are written and shown (Monday first), with their
/// short keys (`mon` … `sun`).
pub const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

/// One range of opening time on a day, local to the company; `opens < closes` (no range
/// runs past midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeRange {
    /// First minute open.
    pub opens: NaiveTime,
    /// First minute closed.
    pub closes: NaiveTime,
}

/// Opening hours of a week. A day without ranges is closed. Written as a map from `mon` …
/// `sun` to `"HH:MM-HH:MM[,HH:MM-HH:MM…]"` or `"closed"`; days left out are closed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpeningHours {
    /// Ranges per weekday, Monday first (index `Weekday::num_days_from_monday`), sorted, not
    /// overlapping.
    days: [Vec<TimeRange>; 7],
}

/// Why opening hours were refused; the message names the day and the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// A key that is not `mon` … `sun`.
    #[error("unknown day {0:?}: use mon, tue, wed, thu, fri, sat or sun")]
    UnknownDay(String),
    /// A range that does not read as `HH:MM-HH:MM` with opening before closing.
    #[error(
        "{day}: {text:?} is not a range like \"08:00-12:00\" (opening before closing, 24-hour clock) or \"closed\""
    )]
    BadRange {
        /// `mon` … `sun`.
        day: &'static str,
        /// The range as written.
        text: String,
    },
    /// Ranges of one day that overlap or touch.
    #[error("{day}: ranges overlap: {text:?}")]
    Overlap {
        /// `mon` … `sun`.
        day: &'static str,
        /// The day as written.
        text: String,
    },
    /// More ranges than [`MAX_RANGES_PER_DAY`] on one day.
    #[error("{day}: at most {MAX_RANGES_PER_DAY} ranges per day")]
    TooMany {
        /// `mon` … `sun`.
        day: &'static str,
    },
}

impl OpeningHours {
    /// Reads the written form: keys `mon` … `sun`, values as described on [`OpeningHours`].
    ///
    /// # Errors
    /// [`HoursError`] for an unknown day, a bad or overlapping range, or too many ranges.
    pub fn parse(written: &BTreeMap<String, String>) -> Result<Self, HoursError> {
        let mut hours = Self::default();
        for (key, text) in written {
            let (day, name) = DAYS
                .iter()
                .find(|(_, name)| key.eq_ignore_ascii_case(name))
                .ok_or_else(|| HoursError::UnknownDay(key.clone()))?;
            hours.days[day.num_days_from_monday() as usize] = parse_day(name, text)?;
        }
        Ok(hours)
    }

    /// The ranges of `day`, sorted; empty when closed.
    pub fn day(&self, day: Weekday) -> &[TimeRange] {
        &self.days[day.num_days_from_monday() as usize]
    }

    /// Whether no day has a range.
    pub fn is_always_closed(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Earliest opening and latest closing of the week, or `None` when always closed. The
    /// daily window that settles 12-hour readings ("halb drei" → 14:30).
    pub fn span(&self) -> Option<TimeRange> {
        let opens = self.days.iter().flatten().map(|r| r.opens).min()?;
        let closes = self.days.iter().flatten().map(|r| r.closes).max()?;
        Some(TimeRange { opens, closes })
    }

    /// The written form, every day present (`"closed"` for closed days): what is stored and
    /// shown. [`OpeningHours::parse`] reads it back to an equal value.
    pub fn to_written(&self) -> BTreeMap<String, String> {
        DAYS.iter()
            .map(|(day, name)| ((*name).to_owned(), day_text(self.day(*day))))
            .collect()
    }
}

fn day_text(ranges: &[TimeRange]) -> String {
    if ranges.is_empty() {
        return "closed".to_owned();
    }
    ranges
        .iter()
        .map(|r| format!("{}-{}", r.opens.format("%H:%M"), r.closes.format("%H:%M")))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_day(day: &'static str, text: &str) -> Result<Vec<TimeRange>, HoursError> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    let bad = || HoursError::BadRange {
        day,
        text: text.to_owned(),
    };
    let mut ranges = trimmed
        .split(',')
        .map(|part| {
            let (opens, closes) = part.trim().split_once('-').ok_or_else(bad)?;
            let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
            let range = TimeRange {
                opens: time(opens)?,
                closes: time(closes)?,
            };
            (range.opens < range.closes)
                .then_some(range)
                .ok_or_else(bad)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ranges.len() > MAX_RANGES_PER_DAY {
        return Err(HoursError::TooMany { day });
    }
    ranges.sort();
    if ranges.windows(2).any(|w| w[0].closes >= w[1].opens) {
        return Err(HoursError::Overlap {
            day,
            text: text.to_owned(),
        });
    }
    Ok(ranges)
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<String> = DAYS
            .iter()
            .map(|(day, name)| format!("{name} {}", day_text(self.day(*day))))
            .collect();
        f.write_str(&days.join("; "))
    }
}

impl Serialize for OpeningHours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_written().serialize(s)
    }
}

impl<'de> Deserialize<'de> for OpeningHours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let written = BTreeMap::<String, String>::deserialize(d)?;
        Self::parse(&written).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn split_days_closed_days_and_omitted_days_read_as_written() {
        let hours = OpeningHours::parse(&written(&[
            ("mon", "08:00-12:00,14:00-18:00"),
            ("tue", "08:00-18:00"),
            ("sat", "closed"),
        ]))
        .unwrap();
        assert_eq!(hours.day(Weekday::Mon).len(), 2);
        assert_eq!(hours.day(Weekday::Tue).len(), 1);
        assert!(hours.day(Weekday::Sat).is_empty());
        assert!(
            hours.day(Weekday::Wed).is_empty(),
            "omitted days are closed"
        );
        let span = hours.span().unwrap();
        assert_eq!(span.opens.format("%H:%M").to_string(), "08:00");
        assert_eq!(span.closes.format("%H:%M").to_string(), "18:00");
        assert_eq!(OpeningHours::parse(&hours.to_written()).unwrap(), hours);
    }

    #[test]
    fn bad_ranges_unknown_days_and_overlaps_are_refused_naming_the_day() {
        for (day, text) in [
            ("mon", "8-12"),
            ("mon", "18:00-08:00"),
            ("mon", "25:00-26:00"),
            ("mon", "08:00-12:00,11:00-13:00"),
            ("mon", "1:00-2:00,3:00-4:00,5:00-6:00,7:00-8:00,9:00-10:00"),
        ] {
            let e = OpeningHours::parse(&written(&[(day, text)])).unwrap_err();
            assert!(e.to_string().starts_with("mon"), "{e}");
        }
        let e = OpeningHours::parse(&written(&[("monday", "08:00-12:00")])).unwrap_err();
        assert_eq!(e, HoursError::UnknownDay("monday".into()));
    }
}
