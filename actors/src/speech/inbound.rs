//! The words of the inbound-call webhook's dynamic variables (reference/retell.md §1.6): what
//! the agent's prompt reads about the business and the caller before it says hello. Each is a
//! phrase the agent can speak as it stands ("9 bis 18 Uhr", "Färben am Dienstag, 24.11.2026
//! um 14 Uhr"), not a sentence of its own. Dates and times are local to the company.

use super::{Catalog, date, list, time};
use crate::domain::onboarding::TimeRange;
use crate::domain::tenant::Locale;
use chrono::{NaiveDate, NaiveTime};

/// One dynamic variable's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundSay {
    /// Today's opening hours; no ranges: closed today.
    HoursToday {
        /// Today's ranges, in order.
        ranges: Vec<TimeRange>,
    },
    /// The branch has no opening hours on file.
    HoursNotStated,
    /// The services a caller of the branch may book, each with its length.
    Services {
        /// Name and length in minutes, in the order offered.
        services: Vec<(String, u32)>,
    },
    /// The caller's next appointment.
    NextAppointment {
        /// Service name as booked.
        service: String,
        /// Local day.
        date: NaiveDate,
        /// Local start.
        time: NaiveTime,
    },
}

impl InboundSay {
    fn ranges(ranges: &[TimeRange], locale: Locale, to: &str) -> String {
        let spans: Vec<String> = ranges
            .iter()
            .map(|r| format!("{} {to} {}", hour(r.opens, locale), time(r.closes, locale)))
            .collect();
        list(&spans, locale)
    }

    fn services(services: &[(String, u32)], minutes: &str) -> Vec<String> {
        services
            .iter()
            .map(|(name, min)| format!("{name} ({min} {minutes})"))
            .collect()
    }
}

/// The opening of a range as said before "bis"/"to": "9" rather than "9 Uhr bis 18 Uhr" in
/// German, "9 am" in English (both ends keep their am/pm).
fn hour(t: NaiveTime, locale: Locale) -> String {
    match locale {
        Locale::De => time(t, locale).trim_end_matches(" Uhr").to_owned(),
        Locale::En => time(t, locale),
    }
}

impl Catalog for InboundSay {
    fn de(&self) -> String {
        let l = Locale::De;
        match self {
            Self::HoursToday { ranges } if ranges.is_empty() => "heute geschlossen".into(),
            Self::HoursToday { ranges } => Self::ranges(ranges, l, "bis"),
            Self::HoursNotStated => "nicht hinterlegt".into(),
            Self::Services { services } if services.is_empty() => "keine".into(),
            Self::Services { services } => Self::services(services, "Minuten").join(", "),
            Self::NextAppointment {
                service,
                date: d,
                time: t,
            } => format!("{service} am {} um {}", date(*d, l), time(*t, l)),
        }
    }

    fn en(&self) -> String {
        let l = Locale::En;
        match self {
            Self::HoursToday { ranges } if ranges.is_empty() => "closed today".into(),
            Self::HoursToday { ranges } => Self::ranges(ranges, l, "to"),
            Self::HoursNotStated => "not stated".into(),
            Self::Services { services } if services.is_empty() => "none".into(),
            Self::Services { services } => Self::services(services, "minutes").join(", "),
            Self::NextAppointment {
                service,
                date: d,
                time: t,
            } => format!("{service} on {} at {}", date(*d, l), time(*t, l)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn inbound_phrases_are_pinned() {
        let split = vec![
            TimeRange {
                opens: t(9, 0),
                closes: t(12, 30),
            },
            TimeRange {
                opens: t(14, 0),
                closes: t(18, 0),
            },
        ];
        let table: Vec<(InboundSay, &str, &str)> = vec![
            (
                InboundSay::HoursToday { ranges: split },
                "9 bis 12:30 Uhr und 14 bis 18 Uhr",
                "9 am to 12:30 pm and 2 pm to 6 pm",
            ),
            (
                InboundSay::HoursToday { ranges: vec![] },
                "heute geschlossen",
                "closed today",
            ),
            (InboundSay::HoursNotStated, "nicht hinterlegt", "not stated"),
            (
                InboundSay::Services {
                    services: vec![("Herrenhaarschnitt".into(), 30), ("Färben".into(), 90)],
                },
                "Herrenhaarschnitt (30 Minuten), Färben (90 Minuten)",
                "Herrenhaarschnitt (30 minutes), Färben (90 minutes)",
            ),
            (InboundSay::Services { services: vec![] }, "keine", "none"),
            (
                InboundSay::NextAppointment {
                    service: "Färben".into(),
                    date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
                    time: t(14, 0),
                },
                "Färben am Dienstag, 24.11.2026 um 14 Uhr",
                "Färben on Tuesday, 24 November 2026 at 2 pm",
            ),
        ];
        for (say, de, en) in table {
            assert_eq!(say.say(Locale::De), de, "{say:?}");
            assert_eq!(say.say(Locale::En), en, "{say:?}");
        }
    }
}
