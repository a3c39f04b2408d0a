//! Collecting a new booking: slot free, held, taken, booked, queued, calendar down.
//!
//! Only [`BookingSay::BookedAfterCall`] tells a caller the slot is theirs, and
//! `collect_appointment_data` picks it only while a Cal.com hold of the slot is live.

use super::{Catalog, date, field_label, list, time, times};
use crate::domain::appointment::RequiredField;
use crate::domain::tenant::Locale;
use chrono::{NaiveDate, NaiveTime};

/// The appointment as the caller asked for it, spoken back to them. Date and time are local.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// The service's configured name.
    pub service: String,
    /// Local day.
    pub date: NaiveDate,
    /// Local start time.
    pub time: NaiveTime,
    /// The caller's name.
    pub name: String,
}

/// What `collect_appointment_data` tells the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookingSay {
    /// The arguments could not be read at all.
    Unreadable,
    /// Some values were not understood; `problems` are the parsers' sentences for them, in the
    /// company's language.
    Invalid {
        /// One sentence per value not understood.
        problems: Vec<String>,
    },
    /// Required details still missing, in the order to ask for them.
    Missing {
        /// The missing details.
        fields: Vec<RequiredField>,
    },
    /// The calendar shows the slot as not free.
    NotFree {
        /// Local day asked for.
        date: NaiveDate,
        /// Local time asked for.
        time: NaiveTime,
        /// The nearest free times that day (empty: the day is full).
        alternatives: Vec<NaiveTime>,
    },
    /// Another caller (or the booking page) took or holds the slot: Cal.com refused our
    /// reservation of it just now.
    JustTaken {
        /// Local day asked for.
        date: NaiveDate,
        /// Local time asked for.
        time: NaiveTime,
        /// Free times that day, recomputed after the refusal (empty: none known).
        alternatives: Vec<NaiveTime>,
    },
    /// The slot is held for this call; the caller has not confirmed yet.
    Held {
        /// What was asked for.
        wanted: Wanted,
    },
    /// The caller confirmed and the slot is held for them: it is theirs, booked after the call.
    BookedAfterCall {
        /// What was asked for.
        wanted: Wanted,
        /// A confirmation text message will be sent (`notify::confirmation` is `Some`).
        by_message: bool,
    },
    /// The calendar shows the slot free, but Cal.com did not hold it; not confirmed yet.
    FreeNotHeld {
        /// What was asked for.
        wanted: Wanted,
    },
    /// The calendar could not be asked; not confirmed yet.
    CalendarDown {
        /// What was asked for.
        wanted: Wanted,
    },
    /// The caller confirmed but the slot is not held (Cal.com error or timeout): noted, and
    /// booked after the call if it is still free.
    NotedUnconfirmed {
        /// What was asked for.
        wanted: Wanted,
        /// The outcome will be sent by text message (`notify::confirmation` is `Some`).
        by_message: bool,
    },
}

/// What is understood after the caller corrected a value ("nein, nicht Dienstag, Mittwoch"):
/// said before the reply so the caller hears the new reading. Only the parts known are said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Understood {
    /// The date now understood, in the company's zone.
    pub date: Option<NaiveDate>,
    /// The time now understood, local.
    pub time: Option<NaiveTime>,
    /// The service now understood, by its name.
    pub service: Option<String>,
}

impl Understood {
    fn parts(&self, locale: Locale) -> String {
        let mut parts = Vec::with_capacity(3);
        parts.extend(self.date.map(|d| date(d, locale)));
        parts.extend(self.time.map(|t| time(t, locale)));
        parts.extend(self.service.clone());
        parts.join(", ")
    }
}

impl Catalog for Understood {
    fn de(&self) -> String {
        format!("Verstanden: {}.", self.parts(Locale::De))
    }

    fn en(&self) -> String {
        format!("Understood: {}.", self.parts(Locale::En))
    }
}

impl Wanted {
    fn de(&self) -> String {
        format!(
            "{} am {} um {} für {}",
            self.service,
            date(self.date, Locale::De),
            time(self.time, Locale::De),
            self.name
        )
    }

    fn en(&self) -> String {
        format!(
            "{} on {} at {} for {}",
            self.service,
            date(self.date, Locale::En),
            time(self.time, Locale::En),
            self.name
        )
    }
}

fn labels(fields: &[RequiredField], locale: Locale) -> String {
    let labels: Vec<String> = fields
        .iter()
        .map(|f| field_label(*f, locale).to_owned())
        .collect();
    list(&labels, locale)
}

impl Catalog for BookingSay {
    fn de(&self) -> String {
        const DE: Locale = Locale::De;
        match self {
            Self::Unreadable => "Entschuldigung, die Angaben kamen bei mir unvollständig an. Können Sie sie bitte wiederholen?".to_owned(),
            Self::Invalid { problems } => format!("{} Können Sie mir das bitte noch einmal sagen?", problems.join(" ")),
            Self::Missing { fields } => format!("Bitte nennen Sie mir noch {}.", labels(fields, DE)),
            Self::NotFree { date: d, alternatives, .. } if alternatives.is_empty() => format!("Am {} ist leider nichts mehr frei. Möchten Sie einen anderen Tag?", date(*d, DE)),
            Self::NotFree { date: d, time: t, alternatives } => format!("Der Termin am {} um {} ist leider nicht frei. Frei wäre um {}. Welche Uhrzeit passt Ihnen?", date(*d, DE), time(*t, DE), times(alternatives, DE)),
            Self::JustTaken { date: d, time: t, alternatives } if alternatives.is_empty() => format!("Der Termin am {} um {} wurde leider gerade vergeben. Möchten Sie eine andere Uhrzeit oder einen anderen Tag?", date(*d, DE), time(*t, DE)),
            Self::JustTaken { date: d, time: t, alternatives } => format!("Der Termin am {} um {} wurde leider gerade vergeben. Frei wäre noch um {}. Welche Uhrzeit passt Ihnen?", date(*d, DE), time(*t, DE), times(alternatives, DE)),
            Self::Held { wanted } => format!("Ich habe: {}. Ich halte Ihnen den Termin während unseres Gesprächs frei. Soll ich den Termin so verbindlich buchen?", wanted.de()),
            Self::BookedAfterCall { wanted, by_message } => format!(
                "Vielen Dank. Der Termin {} ist für Sie reserviert und wird direkt nach unserem Gespräch gebucht.{}",
                wanted.de(),
                if *by_message { " Sie erhalten eine Bestätigung per SMS." } else { "" }
            ),
            Self::FreeNotHeld { wanted } => format!("Ich habe: {}. Der Termin ist im Moment frei. Soll ich den Termin so verbindlich buchen?", wanted.de()),
            Self::CalendarDown { wanted } => format!("Ich habe: {}. Die Verfügbarkeit konnte ich gerade nicht prüfen. Soll ich den Termin so verbindlich buchen?", wanted.de()),
            Self::NotedUnconfirmed { wanted, by_message } => format!(
                "Vielen Dank, ich habe Ihren Terminwunsch {} notiert. Ich konnte ihn gerade nicht fest reservieren; wir versuchen, ihn direkt nach unserem Gespräch zu buchen{}",
                wanted.de(),
                if *by_message { ", und Sie erhalten per SMS Bescheid." } else { "." }
            ),
        }
    }

    fn en(&self) -> String {
        const EN: Locale = Locale::En;
        match self {
            Self::Unreadable => {
                "Sorry, your details didn't come through properly. Could you repeat them, please?"
                    .to_owned()
            }
            Self::Invalid { problems } => format!(
                "{} Could you tell me that again, please?",
                problems.join(" ")
            ),
            Self::Missing { fields } => format!("Please tell me {}.", labels(fields, EN)),
            Self::NotFree {
                date: d,
                alternatives,
                ..
            } if alternatives.is_empty() => format!(
                "Sorry, {} is fully booked. Would another day work?",
                date(*d, EN)
            ),
            Self::NotFree {
                date: d,
                time: t,
                alternatives,
            } => format!(
                "Sorry, {} at {} is not available. I could offer {}. Which time suits you?",
                date(*d, EN),
                time(*t, EN),
                times(alternatives, EN)
            ),
            Self::JustTaken {
                date: d,
                time: t,
                alternatives,
            } if alternatives.is_empty() => format!(
                "Sorry, {} at {} was just taken. Would another time or day work?",
                date(*d, EN),
                time(*t, EN)
            ),
            Self::JustTaken {
                date: d,
                time: t,
                alternatives,
            } => format!(
                "Sorry, {} at {} was just taken. I could still offer {}. Which time suits you?",
                date(*d, EN),
                time(*t, EN),
                times(alternatives, EN)
            ),
            Self::Held { wanted } => format!(
                "I have: {}. I'm holding this time for you while we talk. Shall I book this appointment for you?",
                wanted.en()
            ),
            Self::BookedAfterCall { wanted, by_message } => format!(
                "Thank you. Your appointment, {}, is reserved for you and will be booked right after this call.{}",
                wanted.en(),
                if *by_message {
                    " You will receive a confirmation by text message."
                } else {
                    ""
                }
            ),
            Self::FreeNotHeld { wanted } => format!(
                "I have: {}. That time is free at the moment. Shall I book this appointment for you?",
                wanted.en()
            ),
            Self::CalendarDown { wanted } => format!(
                "I have: {}. I couldn't check availability just now. Shall I book this appointment for you?",
                wanted.en()
            ),
            Self::NotedUnconfirmed { wanted, by_message } => format!(
                "Thank you, I have noted {}. I couldn't reserve it just now; we will try to book it right after this call{}",
                wanted.en(),
                if *by_message {
                    " and let you know by text message."
                } else {
                    "."
                }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> Wanted {
        Wanted {
            service: "Herrenhaarschnitt".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            time: NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
            name: "Anna Schmidt".into(),
        }
    }

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn booking_sentences_are_pinned() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let alts = vec![at(13, 30), at(14, 30)];
        let table: Vec<(BookingSay, &str, &str)> = vec![
            (
                BookingSay::Unreadable,
                "Entschuldigung, die Angaben kamen bei mir unvollständig an. Können Sie sie bitte wiederholen?",
                "Sorry, your details didn't come through properly. Could you repeat them, please?",
            ),
            (
                BookingSay::Invalid {
                    problems: vec!["X.".into()],
                },
                "X. Können Sie mir das bitte noch einmal sagen?",
                "X. Could you tell me that again, please?",
            ),
            (
                BookingSay::Missing {
                    fields: vec![RequiredField::Name, RequiredField::Telefonnummer],
                },
                "Bitte nennen Sie mir noch Ihren Namen und Ihre Telefonnummer.",
                "Please tell me your name and your phone number.",
            ),
            (
                BookingSay::NotFree {
                    date: day,
                    time: at(14, 0),
                    alternatives: alts.clone(),
                },
                "Der Termin am Dienstag, 24.11.2026 um 14 Uhr ist leider nicht frei. Frei wäre um 13:30 Uhr und 14:30 Uhr. Welche Uhrzeit passt Ihnen?",
                "Sorry, Tuesday, 24 November 2026 at 2 pm is not available. I could offer 1:30 pm and 2:30 pm. Which time suits you?",
            ),
            (
                BookingSay::NotFree {
                    date: day,
                    time: at(14, 0),
                    alternatives: vec![],
                },
                "Am Dienstag, 24.11.2026 ist leider nichts mehr frei. Möchten Sie einen anderen Tag?",
                "Sorry, Tuesday, 24 November 2026 is fully booked. Would another day work?",
            ),
            (
                BookingSay::JustTaken {
                    date: day,
                    time: at(14, 0),
                    alternatives: alts,
                },
                "Der Termin am Dienstag, 24.11.2026 um 14 Uhr wurde leider gerade vergeben. Frei wäre noch um 13:30 Uhr und 14:30 Uhr. Welche Uhrzeit passt Ihnen?",
                "Sorry, Tuesday, 24 November 2026 at 2 pm was just taken. I could still offer 1:30 pm and 2:30 pm. Which time suits you?",
            ),
            (
                BookingSay::JustTaken {
                    date: day,
                    time: at(14, 0),
                    alternatives: vec![],
                },
                "Der Termin am Dienstag, 24.11.2026 um 14 Uhr wurde leider gerade vergeben. Möchten Sie eine andere Uhrzeit oder einen anderen Tag?",
                "Sorry, Tuesday, 24 November 2026 at 2 pm was just taken. Would another time or day work?",
            ),
            (
                BookingSay::Held { wanted: wanted() },
                "Ich habe: Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr für Anna Schmidt. Ich halte Ihnen den Termin während unseres Gesprächs frei. Soll ich den Termin so verbindlich buchen?",
                "I have: Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm for Anna Schmidt. I'm holding this time for you while we talk. Shall I book this appointment for you?",
            ),
            (
                BookingSay::BookedAfterCall {
                    wanted: wanted(),
                    by_message: true,
                },
                "Vielen Dank. Der Termin Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr für Anna Schmidt ist für Sie reserviert und wird direkt nach unserem Gespräch gebucht. Sie erhalten eine Bestätigung per SMS.",
                "Thank you. Your appointment, Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm for Anna Schmidt, is reserved for you and will be booked right after this call. You will receive a confirmation by text message.",
            ),
            (
                BookingSay::BookedAfterCall {
                    wanted: wanted(),
                    by_message: false,
                },
                "Vielen Dank. Der Termin Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr für Anna Schmidt ist für Sie reserviert und wird direkt nach unserem Gespräch gebucht.",
                "Thank you. Your appointment, Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm for Anna Schmidt, is reserved for you and will be booked right after this call.",
            ),
            (
                BookingSay::FreeNotHeld { wanted: wanted() },
                "Ich habe: Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr für Anna Schmidt. Der Termin ist im Moment frei. Soll ich den Termin so verbindlich buchen?",
                "I have: Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm for Anna Schmidt. That time is free at the moment. Shall I book this appointment for you?",
            ),
            (
                BookingSay::CalendarDown { wanted: wanted() },
                "Ich habe: Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr für Anna Schmidt. Die Verfügbarkeit konnte ich gerade nicht prüfen. Soll ich den Termin so verbindlich buchen?",
                "I have: Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm for Anna Schmidt. I couldn't check availability just now. Shall I book this appointment for you?",
            ),
            (
                BookingSay::NotedUnconfirmed {
                    wanted: wanted(),
                    by_message: true,
                },
                "Vielen Dank, ich habe Ihren Terminwunsch Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr für Anna Schmidt notiert. Ich konnte ihn gerade nicht fest reservieren; wir versuchen, ihn direkt nach unserem Gespräch zu buchen, und Sie erhalten per SMS Bescheid.",
                "Thank you, I have noted Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm for Anna Schmidt. I couldn't reserve it just now; we will try to book it right after this call and let you know by text message.",
            ),
            (
                BookingSay::NotedUnconfirmed {
                    wanted: wanted(),
                    by_message: false,
                },
                "Vielen Dank, ich habe Ihren Terminwunsch Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr für Anna Schmidt notiert. Ich konnte ihn gerade nicht fest reservieren; wir versuchen, ihn direkt nach unserem Gespräch zu buchen.",
                "Thank you, I have noted Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm for Anna Schmidt. I couldn't reserve it just now; we will try to book it right after this call.",
            ),
        ];
        for (say, de, en) in table {
            assert_eq!(say.say(Locale::De), de, "{say:?}");
            assert_eq!(say.say(Locale::En), en, "{say:?}");
        }
    }
}
