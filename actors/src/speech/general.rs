//! What is not about one appointment: free slots and durations asked about, what the caller
//! said that could not be read, and the replies of the HTTP layer (line not in service, busy,
//! failed).

use super::{Catalog, date, list, or_list, time, times};
use crate::domain::appointment::RequiredField;
use crate::domain::collect::{FieldError, FieldErrorKind};
use crate::domain::tenant::Locale;
use chrono::{Datelike, NaiveDate, NaiveTime};

/// A sentence of `check_availability`, `find_next_slot`, `calculate_duration` or the HTTP
/// layer. Dates and times are local to the company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GeneralSay {
    /// An argument longer than its limit; `quote` is its cut excerpt.
    TooLong {
        /// The start of what was said.
        quote: String,
        /// Limit in characters.
        max: usize,
    },
    /// The service asked about is not offered here.
    ServiceNotOffered {
        /// The service as said.
        asked: String,
        /// The services offered, in order.
        offered: Vec<String>,
    },
    /// The service as said matches several equally well: which one?
    WhichService {
        /// The names of the services that match, in the order configured.
        candidates: Vec<String>,
    },
    /// Several services asked about are not offered here (durations).
    ServicesNotOffered {
        /// The services as said.
        asked: Vec<String>,
        /// The services offered, in order.
        offered: Vec<String>,
    },
    /// A date before the first day callers may ask about.
    DateInPast {
        /// The date as said.
        said: String,
    },
    /// A date after the company's booking horizon.
    DateTooFar {
        /// The date as said.
        said: String,
        /// The last day callers may ask about.
        latest: NaiveDate,
    },
    /// A date that may mean more than one day: the question naming them.
    DateAmbiguous {
        /// The days meant, earliest first.
        candidates: Vec<NaiveDate>,
    },
    /// A date the parser could not read.
    DateNotUnderstood {
        /// The date as said.
        said: String,
    },
    /// A time the parser could not read.
    TimeNotUnderstood {
        /// The time as said.
        said: String,
    },
    /// More than one time or window was offered ("um acht oder neun"): which is meant?
    WhichTimeMeant {
        /// The time as said.
        said: String,
    },
    /// The window said lies outside the opening hours ("nach 21 Uhr").
    WindowClosed {
        /// The window as said.
        said: String,
    },
    /// Free times inside the window asked for (`from`..`to`, local), the best two or three.
    WindowHasFreeTimes {
        /// The day.
        date: NaiveDate,
        /// Earliest start of the window.
        from: NaiveTime,
        /// End of the window (exclusive).
        to: NaiveTime,
        /// The free times offered, ascending.
        times: Vec<NaiveTime>,
    },
    /// Nothing is free inside the window; `alternatives` are the free times nearest to it
    /// that day.
    WindowFull {
        /// The day.
        date: NaiveDate,
        /// Earliest start of the window.
        from: NaiveTime,
        /// End of the window (exclusive).
        to: NaiveTime,
        /// Nearest free times outside the window; empty when the day is full.
        alternatives: Vec<NaiveTime>,
    },
    /// The first day with free times inside a window, and the best two or three of them.
    NextFreeInWindow {
        /// Service name.
        service: String,
        /// The day.
        date: NaiveDate,
        /// The free times offered, ascending.
        times: Vec<NaiveTime>,
    },
    /// Free times were asked for without a service.
    WhichServiceToCheck,
    /// Free times were asked for without a day.
    WhichDayToCheck,
    /// The time asked for is free.
    SlotFree {
        /// The day.
        date: NaiveDate,
        /// The time.
        time: NaiveTime,
    },
    /// The time asked for is taken; `alternatives` are the nearest free times that day.
    SlotTaken {
        /// The day.
        date: NaiveDate,
        /// The time asked for.
        time: NaiveTime,
        /// Nearest free times; empty when the day is full.
        alternatives: Vec<NaiveTime>,
    },
    /// Nothing is free on the day.
    DayFull {
        /// The day.
        date: NaiveDate,
    },
    /// Some free times of the day (no time was asked for).
    DayHasFreeTimes {
        /// The day.
        date: NaiveDate,
        /// The first few free times.
        times: Vec<NaiveTime>,
    },
    /// The next free time of a service.
    NextFree {
        /// Service name.
        service: String,
        /// The day.
        date: NaiveDate,
        /// The time.
        time: NaiveTime,
    },
    /// Nothing free within the days searched.
    NothingFreeWithin {
        /// Service name.
        service: String,
        /// Days searched.
        days: i64,
    },
    /// A duration was asked for without a service.
    WhichServiceForDuration,
    /// The length of the services asked about, and when they end if a start was given.
    Duration {
        /// Services, in the order asked.
        services: Vec<String>,
        /// Total minutes.
        total_min: u32,
        /// Start and end, when a start time was given.
        span: Option<(NaiveTime, NaiveTime)>,
    },
    /// The calendar could not be asked. Nothing is promised.
    CalendarUnreachable,
    /// The function did not answer within Retell's deadline, or failed. Nothing is promised:
    /// the caller is asked to try again.
    FunctionFailed {
        /// Ran out of time (rather than failed).
        timeout: bool,
    },
    /// The tenant is disabled: its line takes no appointments.
    NotInService,
    /// The company's rate limit refused the request: the agent tries again shortly.
    HoldOn,
}

/// "„x“" / "“x”": a caller's words quoted the way each language does.
fn quoted(said: &str, locale: Locale) -> String {
    match locale {
        Locale::De => format!("„{said}“"),
        Locale::En => format!("“{said}”"),
    }
}

/// "15.07.2027" / "July 15, 2027": a short date, for limits.
fn short_date(d: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::De => d.format("%d.%m.%Y").to_string(),
        Locale::En => d.format("%B %-d, %Y").to_string(),
    }
}

impl Catalog for GeneralSay {
    fn de(&self) -> String {
        let l = Locale::De;
        match self {
            Self::TooLong { quote, max } => {
                format!("{} ist zu lang, höchstens {max} Zeichen.", quoted(quote, l))
            }
            Self::ServiceNotOffered { asked, offered } => format!(
                "{} bieten wir nicht an. Wir bieten {}.",
                quoted(asked, l),
                list(offered, l)
            ),
            Self::WhichService { candidates } => {
                format!("Meinen Sie {}?", or_list(candidates, l))
            }
            Self::ServicesNotOffered { asked, offered } => format!(
                "{} bieten wir nicht an. Wir bieten {}.",
                list(asked, l),
                list(offered, l)
            ),
            Self::DateInPast { said } => {
                format!("Das Datum {} liegt in der Vergangenheit.", quoted(said, l))
            }
            Self::DateTooFar { said, latest } => format!(
                "Das Datum {} liegt zu weit in der Zukunft; ich kann bis zum {} nachsehen.",
                quoted(said, l),
                short_date(*latest, l)
            ),
            Self::DateAmbiguous { candidates } => super::which_date(candidates, l),
            Self::DateNotUnderstood { said } => {
                format!("Das Datum {} habe ich nicht verstanden.", quoted(said, l))
            }
            Self::TimeNotUnderstood { said } => {
                format!("Die Uhrzeit {} habe ich nicht verstanden.", quoted(said, l))
            }
            Self::WhichTimeMeant { said } => format!(
                "Sie haben mehr als eine Zeit genannt ({}). Welche soll ich nehmen?",
                quoted(said, l)
            ),
            Self::WindowClosed { said } => format!(
                "{} haben wir leider nicht geöffnet. Passt Ihnen eine andere Zeit?",
                quoted(said, l)
            ),
            Self::WindowHasFreeTimes {
                date: d,
                from,
                to,
                times: t,
            } => format!(
                "Am {} zwischen {} und {} ist um {} frei. Was passt Ihnen?",
                date(*d, l),
                time(*from, l),
                time(*to, l),
                times(t, l)
            ),
            Self::WindowFull {
                date: d,
                from,
                to,
                alternatives,
            } if !alternatives.is_empty() => format!(
                "Am {} zwischen {} und {} ist leider nichts frei. Frei wäre um {}.",
                date(*d, l),
                time(*from, l),
                time(*to, l),
                times(alternatives, l)
            ),
            Self::WindowFull { date: d, .. } => {
                format!("Am {} ist leider nichts mehr frei.", date(*d, l))
            }
            Self::NextFreeInWindow {
                service,
                date: d,
                times: t,
            } => format!(
                "Für {service} ist am {} um {} frei. Was passt Ihnen?",
                date(*d, l),
                times(t, l)
            ),
            Self::WhichServiceToCheck => "Für welche Dienstleistung soll ich nachsehen?".into(),
            Self::WhichDayToCheck => "Für welchen Tag soll ich nachsehen?".into(),
            Self::SlotFree { date: d, time: t } => {
                format!("Am {} um {} ist noch frei.", date(*d, l), time(*t, l))
            }
            Self::SlotTaken {
                date: d,
                time: t,
                alternatives,
            } if !alternatives.is_empty() => format!(
                "Um {} ist am {} leider nichts frei. Frei wäre um {}.",
                time(*t, l),
                date(*d, l),
                times(alternatives, l)
            ),
            Self::SlotTaken { date: d, .. } | Self::DayFull { date: d } => {
                format!("Am {} ist leider nichts mehr frei.", date(*d, l))
            }
            Self::DayHasFreeTimes { date: d, times: t } => format!(
                "Am {} ist zum Beispiel um {} frei.",
                date(*d, l),
                times(t, l)
            ),
            Self::NextFree {
                service,
                date: d,
                time: t,
            } => format!(
                "Der nächste freie Termin für {service} ist am {} um {}.",
                date(*d, l),
                time(*t, l)
            ),
            Self::NothingFreeWithin { service, days } => {
                format!("In den nächsten {days} Tagen ist für {service} leider nichts frei.")
            }
            Self::WhichServiceForDuration => {
                "Für welche Dienstleistung möchten Sie die Dauer wissen?".into()
            }
            Self::Duration {
                services,
                total_min,
                span,
            } => {
                let mut text = match services.as_slice() {
                    [one] => format!("{one} dauert {total_min} Minuten."),
                    several => format!(
                        "{} dauern zusammen {total_min} Minuten.",
                        list(several, l)
                    ),
                };
                if let Some((start, end)) = span {
                    text.push_str(&format!(
                        " Bei Beginn um {} sind Sie gegen {} fertig.",
                        time(*start, l),
                        time(*end, l)
                    ));
                }
                text
            }
            Self::CalendarUnreachable => {
                "Ich kann den Kalender gerade nicht erreichen. Bitte versuchen Sie es in ein paar Minuten noch einmal.".into()
            }
            Self::FunctionFailed { timeout: true } => {
                "Das dauert gerade länger als sonst. Darf ich es gleich noch einmal versuchen?".into()
            }
            Self::FunctionFailed { timeout: false } => {
                "Entschuldigung, da ist bei mir etwas schiefgelaufen. Können Sie das bitte noch einmal sagen?".into()
            }
            Self::NotInService => {
                "Es tut mir leid, unter dieser Nummer können derzeit keine Termine vereinbart werden. Bitte wenden Sie sich direkt an die Praxis oder das Geschäft.".into()
            }
            Self::HoldOn => {
                "Einen kleinen Moment bitte, ich habe gerade sehr viele Anfragen. Versuchen wir es gleich noch einmal.".into()
            }
        }
    }

    fn en(&self) -> String {
        let l = Locale::En;
        match self {
            Self::TooLong { quote, max } => {
                format!("{} is too long, at most {max} characters.", quoted(quote, l))
            }
            Self::ServiceNotOffered { asked, offered } => format!(
                "We don't offer {}. We offer {}.",
                quoted(asked, l),
                list(offered, l)
            ),
            Self::WhichService { candidates } => {
                format!("Do you mean {}?", or_list(candidates, l))
            }
            Self::ServicesNotOffered { asked, offered } => format!(
                "We don't offer {}. We offer {}.",
                list(asked, l),
                list(offered, l)
            ),
            Self::DateInPast { said } => format!("The date {} is in the past.", quoted(said, l)),
            Self::DateTooFar { said, latest } => format!(
                "The date {} is too far ahead; I can check until {}.",
                quoted(said, l),
                short_date(*latest, l)
            ),
            Self::DateAmbiguous { candidates } => super::which_date(candidates, l),
            Self::DateNotUnderstood { said } => {
                format!("I didn't understand the date {}.", quoted(said, l))
            }
            Self::TimeNotUnderstood { said } => {
                format!("I didn't understand the time {}.", quoted(said, l))
            }
            Self::WhichTimeMeant { said } => format!(
                "You mentioned more than one time ({}). Which one should I take?",
                quoted(said, l)
            ),
            Self::WindowClosed { said } => format!(
                "We're not open {}. Would another time suit you?",
                quoted(said, l)
            ),
            Self::WindowHasFreeTimes {
                date: d,
                from,
                to,
                times: t,
            } => format!(
                "On {} between {} and {} I have {} available. Which suits you?",
                date(*d, l),
                time(*from, l),
                time(*to, l),
                times(t, l)
            ),
            Self::WindowFull {
                date: d,
                from,
                to,
                alternatives,
            } if !alternatives.is_empty() => format!(
                "On {} nothing is free between {} and {}. I could offer {}.",
                date(*d, l),
                time(*from, l),
                time(*to, l),
                times(alternatives, l)
            ),
            Self::WindowFull { date: d, .. } => format!("{} is fully booked.", date(*d, l)),
            Self::NextFreeInWindow {
                service,
                date: d,
                times: t,
            } => format!(
                "For {service} I have {} on {}. Which suits you?",
                times(t, l),
                date(*d, l)
            ),
            Self::WhichServiceToCheck => "Which service should I look up?".into(),
            Self::WhichDayToCheck => "Which day should I check?".into(),
            Self::SlotFree { date: d, time: t } => {
                format!("{} at {} is available.", date(*d, l), time(*t, l))
            }
            Self::SlotTaken {
                date: d,
                time: t,
                alternatives,
            } if !alternatives.is_empty() => format!(
                "{} on {} is not available. I could offer {}.",
                time(*t, l),
                date(*d, l),
                times(alternatives, l)
            ),
            Self::SlotTaken { date: d, .. } | Self::DayFull { date: d } => {
                format!("{} is fully booked.", date(*d, l))
            }
            Self::DayHasFreeTimes { date: d, times: t } => {
                format!("On {} I have {} available.", date(*d, l), times(t, l))
            }
            Self::NextFree {
                service,
                date: d,
                time: t,
            } => format!(
                "The next free time for {service} is {} at {}.",
                date(*d, l),
                time(*t, l)
            ),
            Self::NothingFreeWithin { service, days } => {
                format!("There is nothing free for {service} in the next {days} days.")
            }
            Self::WhichServiceForDuration => "Which service would you like the duration for?".into(),
            Self::Duration {
                services,
                total_min,
                span,
            } => {
                let mut text = match services.as_slice() {
                    [one] => format!("{one} takes {total_min} minutes."),
                    several => format!("{} take {total_min} minutes together.", list(several, l)),
                };
                if let Some((start, end)) = span {
                    text.push_str(&format!(
                        " Starting at {}, you'll be done around {}.",
                        time(*start, l),
                        time(*end, l)
                    ));
                }
                text
            }
            Self::CalendarUnreachable => {
                "I can't reach the calendar right now. Please try again in a few minutes.".into()
            }
            Self::FunctionFailed { timeout: true } => {
                "This is taking longer than usual. May I try that again in a moment?".into()
            }
            Self::FunctionFailed { timeout: false } => {
                "Sorry, something went wrong on my side. Could you say that again, please?".into()
            }
            Self::NotInService => {
                "I'm sorry, this number is not taking appointments at the moment. Please contact the business directly.".into()
            }
            Self::HoldOn => {
                "One moment please, I'm handling a lot of requests right now. Let's try that again in a moment.".into()
            }
        }
    }
}

/// What the caller said that could not be read ([`FieldError`] of `collect_appointment_data`
/// and the other functions' args): one short sentence naming the value.
impl Catalog for FieldError {
    fn de(&self) -> String {
        let l = Locale::De;
        let said = quoted(&self.input, l);
        match &self.kind {
            FieldErrorKind::UnknownDate => format!("Das Datum {said} habe ich nicht verstanden."),
            FieldErrorKind::NoSuchDate => format!("Das Datum {said} gibt es nicht."),
            FieldErrorKind::WeekdayMismatch { date, said: day } => format!(
                "Der {} ist ein {}, kein {}.",
                date.format("%d.%m.%Y"),
                super::weekday(date.weekday(), l),
                super::weekday(*day, l)
            ),
            FieldErrorKind::AmbiguousDate { candidates } => super::which_date(candidates, l),
            FieldErrorKind::UnknownTime => format!("Die Uhrzeit {said} habe ich nicht verstanden."),
            FieldErrorKind::AmbiguousTime => {
                format!("Sie haben mehr als eine Zeit genannt ({said}). Welche soll ich nehmen?")
            }
            FieldErrorKind::InPast if self.field == RequiredField::Uhrzeit.arg_name() => {
                format!("Die Uhrzeit {said} ist heute schon vorbei.")
            }
            FieldErrorKind::InPast => format!("Das Datum {said} liegt in der Vergangenheit."),
            FieldErrorKind::TooFarAhead { latest } => format!(
                "Das Datum {said} liegt zu weit in der Zukunft; Termine gibt es bis zum {}.",
                short_date(*latest, l)
            ),
            FieldErrorKind::InvalidPhone => format!("Die Telefonnummer {said} ist nicht gültig."),
            FieldErrorKind::UnknownService { offered } if offered.is_empty() => {
                "Diese Dienstleistung bieten wir nicht an.".into()
            }
            FieldErrorKind::UnknownService { offered } => format!(
                "Diese Dienstleistung bieten wir nicht an. Wir bieten: {}.",
                offered.join(", ")
            ),
            FieldErrorKind::AmbiguousService { candidates } => {
                format!("Meinen Sie {}?", or_list(candidates, Locale::De))
            }
            FieldErrorKind::InvalidEmail => format!("Die E-Mail-Adresse {said} ist nicht gültig."),
            FieldErrorKind::TooLong { max } => {
                let what = match self.field {
                    "name" => "Der Name ist".to_owned(),
                    "notizen" => "Die Notiz ist".to_owned(),
                    _ => format!("{said} ist"),
                };
                format!("{what} zu lang, höchstens {max} Zeichen.")
            }
        }
    }

    fn en(&self) -> String {
        let l = Locale::En;
        let said = quoted(&self.input, l);
        match &self.kind {
            FieldErrorKind::UnknownDate => format!("I didn't understand the date {said}."),
            FieldErrorKind::NoSuchDate => format!("The date {said} does not exist."),
            FieldErrorKind::WeekdayMismatch { date, said: day } => format!(
                "{} is a {}, not a {}.",
                short_date(*date, l),
                super::weekday(date.weekday(), l),
                super::weekday(*day, l)
            ),
            FieldErrorKind::AmbiguousDate { candidates } => super::which_date(candidates, l),
            FieldErrorKind::UnknownTime => format!("I didn't understand the time {said}."),
            FieldErrorKind::AmbiguousTime => {
                format!("You mentioned more than one time ({said}). Which one should I take?")
            }
            FieldErrorKind::InPast if self.field == RequiredField::Uhrzeit.arg_name() => {
                format!("The time {said} has already passed today.")
            }
            FieldErrorKind::InPast => format!("The date {said} is in the past."),
            FieldErrorKind::TooFarAhead { latest } => format!(
                "The date {said} is too far ahead; appointments can be made until {}.",
                short_date(*latest, l)
            ),
            FieldErrorKind::InvalidPhone => format!("The phone number {said} is not valid."),
            FieldErrorKind::UnknownService { offered } if offered.is_empty() => {
                "We don't offer that service.".into()
            }
            FieldErrorKind::UnknownService { offered } => format!(
                "We don't offer that service. We offer: {}.",
                offered.join(", ")
            ),
            FieldErrorKind::AmbiguousService { candidates } => {
                format!("Do you mean {}?", or_list(candidates, Locale::En))
            }
            FieldErrorKind::InvalidEmail => format!("The email address {said} is not valid."),
            FieldErrorKind::TooLong { max } => {
                let what = match self.field {
                    "name" => "The name is".to_owned(),
                    "notizen" => "The note is".to_owned(),
                    _ => format!("{said} is"),
                };
                format!("{what} too long, at most {max} characters.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn general_sentences_are_pinned() {
        let day = d(2026, 11, 24);
        let table: Vec<(GeneralSay, &str, &str)> = vec![
            (
                GeneralSay::DateAmbiguous {
                    candidates: vec![d(2026, 12, 4), d(2026, 12, 11)],
                },
                "Meinen Sie Freitag, den 4. Dezember, oder Freitag, den 11. Dezember?",
                "Do you mean Friday, December 4, or Friday, December 11?",
            ),
            (
                GeneralSay::SlotFree {
                    date: day,
                    time: t(14, 0),
                },
                "Am Dienstag, 24.11.2026 um 14 Uhr ist noch frei.",
                "Tuesday, 24 November 2026 at 2 pm is available.",
            ),
            (
                GeneralSay::SlotTaken {
                    date: day,
                    time: t(14, 0),
                    alternatives: vec![t(13, 30), t(15, 0)],
                },
                "Um 14 Uhr ist am Dienstag, 24.11.2026 leider nichts frei. Frei wäre um 13:30 Uhr und 15 Uhr.",
                "2 pm on Tuesday, 24 November 2026 is not available. I could offer 1:30 pm and 3 pm.",
            ),
            (
                GeneralSay::DayFull { date: day },
                "Am Dienstag, 24.11.2026 ist leider nichts mehr frei.",
                "Tuesday, 24 November 2026 is fully booked.",
            ),
            (
                GeneralSay::NextFree {
                    service: "Färben".into(),
                    date: day,
                    time: t(9, 30),
                },
                "Der nächste freie Termin für Färben ist am Dienstag, 24.11.2026 um 9:30 Uhr.",
                "The next free time for Färben is Tuesday, 24 November 2026 at 9:30 am.",
            ),
            (
                GeneralSay::Duration {
                    services: vec!["Färben".into()],
                    total_min: 90,
                    span: Some((t(14, 0), t(15, 30))),
                },
                "Färben dauert 90 Minuten. Bei Beginn um 14 Uhr sind Sie gegen 15:30 Uhr fertig.",
                "Färben takes 90 minutes. Starting at 2 pm, you'll be done around 3:30 pm.",
            ),
            (
                GeneralSay::CalendarUnreachable,
                "Ich kann den Kalender gerade nicht erreichen. Bitte versuchen Sie es in ein paar Minuten noch einmal.",
                "I can't reach the calendar right now. Please try again in a few minutes.",
            ),
            (
                GeneralSay::FunctionFailed { timeout: true },
                "Das dauert gerade länger als sonst. Darf ich es gleich noch einmal versuchen?",
                "This is taking longer than usual. May I try that again in a moment?",
            ),
            (
                GeneralSay::NotInService,
                "Es tut mir leid, unter dieser Nummer können derzeit keine Termine vereinbart werden. Bitte wenden Sie sich direkt an die Praxis oder das Geschäft.",
                "I'm sorry, this number is not taking appointments at the moment. Please contact the business directly.",
            ),
        ];
        for (say, de, en) in table {
            assert_eq!(say.say(Locale::De), de, "{say:?}");
            assert_eq!(say.say(Locale::En), en, "{say:?}");
        }
    }

    /// A reply that cannot reach the calendar or finish in time must not promise a booking,
    /// a call back or a confirmation: nothing was noted.
    #[test]
    fn failure_replies_promise_nothing() {
        for say in [
            GeneralSay::CalendarUnreachable,
            GeneralSay::FunctionFailed { timeout: true },
            GeneralSay::FunctionFailed { timeout: false },
        ] {
            for locale in [Locale::De, Locale::En] {
                let text = say.say(locale).to_lowercase();
                for promise in [
                    "bestätig",
                    "confirm",
                    "notiere",
                    "note",
                    "melden",
                    "get back",
                ] {
                    assert!(
                        !text.contains(promise),
                        "{say:?} promises {promise:?}: {text}"
                    );
                }
            }
        }
    }
}
