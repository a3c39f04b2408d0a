//! Finding, moving and cancelling an existing appointment by phone.

use super::{Catalog, date, list, time, times};
use crate::domain::tenant::Locale;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// One of the caller's appointments as it is read out (local date and time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Local day.
    pub date: NaiveDate,
    /// Local start time.
    pub time: NaiveTime,
    /// Service name as booked.
    pub service: String,
    /// Whether it lies beyond the company's change notice (`policy.change_notice_h`).
    pub can_modify: bool,
}

/// What `find_appointments`, `change_appointment` and `cancel_appointment` answer; dates and
/// times are local to the company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppointmentSay {
    /// The caller's upcoming appointments: `items` are read out, `more` are only counted.
    Found {
        /// The first few, earliest first.
        items: Vec<Listed>,
        /// How many more there are.
        more: usize,
    },
    /// Nothing found for this caller: also the answer to any identity mismatch, so it tells
    /// nothing about other people's appointments.
    NoneFound,
    /// The number is withheld (or another number was given): the booking phone number and
    /// the appointment's date are needed.
    AskIdentity,
    /// Several appointments match and the caller has not said which.
    WhichOne {
        /// The candidates, earliest first.
        items: Vec<Listed>,
    },
    /// A move without the new day or time.
    AskNewSlot,
    /// A date the parser could not read.
    DateNotUnderstood {
        /// As said.
        said: String,
    },
    /// A date that may mean more than one day: the question naming them.
    DateAmbiguous {
        /// The days meant, earliest first.
        candidates: Vec<NaiveDate>,
    },
    /// A time the parser could not read.
    TimeNotUnderstood {
        /// As said.
        said: String,
    },
    /// Inside the change notice: neither a move nor a cancellation by phone.
    NoticeRefused {
        /// `policy.change_notice_h`.
        hours: u32,
    },
    /// What a move would do; asks for confirmation.
    ConfirmMove {
        /// Service name.
        service: String,
        /// Current start.
        from: NaiveDateTime,
        /// New start.
        to: NaiveDateTime,
    },
    /// What a cancellation would do; asks for confirmation.
    ConfirmCancel {
        /// Service name.
        service: String,
        /// Start of the appointment.
        at: NaiveDateTime,
    },
    /// Cal.com confirmed the move.
    Moved {
        /// Service name.
        service: String,
        /// New start.
        to: NaiveDateTime,
        /// A confirmation by text message is on its way.
        sms: bool,
    },
    /// Cal.com confirmed the cancellation.
    Cancelled {
        /// Service name.
        service: String,
        /// Start of the cancelled appointment.
        at: NaiveDateTime,
        /// A confirmation by text message is on its way.
        sms: bool,
    },
    /// The new time is not free.
    SlotTaken {
        /// The time asked for.
        wanted: NaiveDateTime,
        /// Nearest free times that day.
        alternatives: Vec<NaiveTime>,
    },
    /// Cal.com did not answer in time: the move is in the outbox.
    MoveQueued {
        /// New start.
        to: NaiveDateTime,
        /// A confirmation by text message will follow.
        sms: bool,
    },
    /// Cal.com did not answer in time: the cancellation is in the outbox.
    CancelQueued {
        /// A confirmation by text message will follow.
        sms: bool,
    },
    /// Cal.com refused the change for good (e.g. the booking was changed in the meantime).
    NotChanged,
    /// The calendar could not be asked (availability before a move).
    CalendarDown,
}

fn item_de(l: &Listed) -> String {
    let note = if l.can_modify {
        ""
    } else {
        ", nicht mehr änderbar"
    };
    format!(
        "{} am {} um {}{note}",
        l.service,
        date(l.date, Locale::De),
        time(l.time, Locale::De)
    )
}

fn item_en(l: &Listed) -> String {
    let note = if l.can_modify {
        ""
    } else {
        ", which can no longer be changed"
    };
    format!(
        "{} on {} at {}{note}",
        l.service,
        date(l.date, Locale::En),
        time(l.time, Locale::En)
    )
}

fn at(t: NaiveDateTime, locale: Locale) -> (String, String) {
    (date(t.date(), locale), time(t.time(), locale))
}

impl Catalog for AppointmentSay {
    fn de(&self) -> String {
        let l = Locale::De;
        let sms_de = |sms: bool| {
            if sms {
                " Sie bekommen eine Bestätigung per SMS."
            } else {
                ""
            }
        };
        match self {
            Self::Found { items, more } => {
                let spoken: Vec<String> = items.iter().map(item_de).collect();
                match (items.len(), more) {
                    (1, 0) => format!("Ich habe einen Termin gefunden: {}.", spoken[0]),
                    (_, 0) => format!("Ich habe {} Termine gefunden: {}.", items.len(), list(&spoken, l)),
                    (_, more) => format!(
                        "Ich habe {} Termine gefunden, die nächsten sind: {}.",
                        items.len() + more,
                        list(&spoken, l)
                    ),
                }
            }
            Self::NoneFound => {
                "Ich habe zu Ihrer Nummer keinen bevorstehenden Termin gefunden.".to_owned()
            }
            Self::AskIdentity => "Ich sehe Ihre Nummer leider nicht. Bitte nennen Sie mir die Telefonnummer, mit der Sie gebucht haben, und das Datum des Termins.".to_owned(),
            Self::WhichOne { items } => {
                let spoken: Vec<String> = items.iter().map(item_de).collect();
                format!("Sie haben mehrere Termine: {}. Welchen meinen Sie?", list(&spoken, l))
            }
            Self::AskNewSlot => {
                "Auf welchen Tag und welche Uhrzeit möchten Sie den Termin verschieben?".to_owned()
            }
            Self::DateNotUnderstood { said } => {
                format!("Das Datum „{said}“ habe ich nicht verstanden.")
            }
            Self::DateAmbiguous { candidates } => super::which_date(candidates, Locale::De),
            Self::TimeNotUnderstood { said } => {
                format!("Die Uhrzeit „{said}“ habe ich nicht verstanden.")
            }
            Self::NoticeRefused { hours } => format!(
                "Diesen Termin kann ich telefonisch nicht mehr ändern: Verschieben und Absagen geht nur bis {hours} Stunden vor dem Termin. Bitte wenden Sie sich direkt an unser Team."
            ),
            Self::ConfirmMove { service, from, to } => {
                let (fd, ft) = at(*from, l);
                let (td, tt) = at(*to, l);
                format!("Ich verschiebe Ihren Termin {service} vom {fd} um {ft} auf {td} um {tt}. Soll ich das so machen?")
            }
            Self::ConfirmCancel { service, at: when } => {
                let (d, t) = at(*when, l);
                format!("Ich sage Ihren Termin {service} am {d} um {t} ab. Soll ich das so machen?")
            }
            Self::Moved { service, to, sms } => {
                let (d, t) = at(*to, l);
                format!("Erledigt: Ihr Termin {service} ist jetzt am {d} um {t}.{}", sms_de(*sms))
            }
            Self::Cancelled { service, at: when, sms } => {
                let (d, t) = at(*when, l);
                format!("Erledigt: Ihr Termin {service} am {d} um {t} ist abgesagt.{}", sms_de(*sms))
            }
            Self::SlotTaken { wanted, alternatives } => {
                let (d, t) = at(*wanted, l);
                if alternatives.is_empty() {
                    format!("Am {d} ist leider nichts mehr frei.")
                } else {
                    format!("Um {t} ist am {d} leider nichts frei. Frei wäre um {}.", times(alternatives, l))
                }
            }
            Self::MoveQueued { to, sms } => {
                let (d, t) = at(*to, l);
                if *sms {
                    format!("Der Kalender antwortet gerade nicht. Ich habe die Verschiebung auf {d} um {t} notiert; sie wird gleich nach unserem Gespräch erledigt, und Sie bekommen dann eine Bestätigung per SMS.")
                } else {
                    format!("Der Kalender antwortet gerade nicht. Ich habe die Verschiebung auf {d} um {t} notiert; unser Team kümmert sich gleich nach unserem Gespräch darum.")
                }
            }
            Self::CancelQueued { sms } => {
                if *sms {
                    "Der Kalender antwortet gerade nicht. Ich habe die Absage notiert; sie wird gleich nach unserem Gespräch erledigt, und Sie bekommen dann eine Bestätigung per SMS.".to_owned()
                } else {
                    "Der Kalender antwortet gerade nicht. Ich habe die Absage notiert; unser Team kümmert sich gleich nach unserem Gespräch darum.".to_owned()
                }
            }
            Self::NotChanged => "Das hat leider nicht geklappt, der Termin bleibt unverändert. Bitte wenden Sie sich direkt an unser Team.".to_owned(),
            Self::CalendarDown => "Ich kann den Kalender gerade nicht erreichen. Bitte versuchen Sie es etwas später noch einmal.".to_owned(),
        }
    }

    fn en(&self) -> String {
        let l = Locale::En;
        let sms_en = |sms: bool| {
            if sms {
                " You'll get a confirmation by text message."
            } else {
                ""
            }
        };
        match self {
            Self::Found { items, more } => {
                let spoken: Vec<String> = items.iter().map(item_en).collect();
                match (items.len(), more) {
                    (1, 0) => format!("I found one appointment: {}.", spoken[0]),
                    (_, 0) => format!("I found {} appointments: {}.", items.len(), list(&spoken, l)),
                    (_, more) => format!(
                        "I found {} appointments; the next ones are {}.",
                        items.len() + more,
                        list(&spoken, l)
                    ),
                }
            }
            Self::NoneFound => "I couldn't find an upcoming appointment for your number.".to_owned(),
            Self::AskIdentity => "I can't see your number. Please tell me the phone number you booked with and the date of the appointment.".to_owned(),
            Self::WhichOne { items } => {
                let spoken: Vec<String> = items.iter().map(item_en).collect();
                format!("You have several appointments: {}. Which one do you mean?", list(&spoken, l))
            }
            Self::AskNewSlot => "Which day and time would you like to move the appointment to?".to_owned(),
            Self::DateNotUnderstood { said } => format!("I didn't understand the date \"{said}\"."),
            Self::DateAmbiguous { candidates } => super::which_date(candidates, Locale::En),
            Self::TimeNotUnderstood { said } => format!("I didn't understand the time \"{said}\"."),
            Self::NoticeRefused { hours } => format!(
                "I can't change this appointment by phone any more: moving or cancelling is only possible up to {hours} hours before it. Please contact our team directly."
            ),
            Self::ConfirmMove { service, from, to } => {
                let (fd, ft) = at(*from, l);
                let (td, tt) = at(*to, l);
                format!("I'll move your {service} appointment from {fd} at {ft} to {td} at {tt}. Shall I go ahead?")
            }
            Self::ConfirmCancel { service, at: when } => {
                let (d, t) = at(*when, l);
                format!("I'll cancel your {service} appointment on {d} at {t}. Shall I go ahead?")
            }
            Self::Moved { service, to, sms } => {
                let (d, t) = at(*to, l);
                format!("Done: your {service} appointment is now on {d} at {t}.{}", sms_en(*sms))
            }
            Self::Cancelled { service, at: when, sms } => {
                let (d, t) = at(*when, l);
                format!("Done: your {service} appointment on {d} at {t} is cancelled.{}", sms_en(*sms))
            }
            Self::SlotTaken { wanted, alternatives } => {
                let (d, t) = at(*wanted, l);
                if alternatives.is_empty() {
                    format!("{d} is fully booked.")
                } else {
                    format!("{t} on {d} is not available. I could offer {}.", times(alternatives, l))
                }
            }
            Self::MoveQueued { to, sms } => {
                let (d, t) = at(*to, l);
                if *sms {
                    format!("The calendar isn't answering right now. I've noted the move to {d} at {t}; it will be done right after our call, and you'll then get a confirmation by text message.")
                } else {
                    format!("The calendar isn't answering right now. I've noted the move to {d} at {t}; our team will take care of it right after our call.")
                }
            }
            Self::CancelQueued { sms } => {
                if *sms {
                    "The calendar isn't answering right now. I've noted the cancellation; it will be done right after our call, and you'll then get a confirmation by text message.".to_owned()
                } else {
                    "The calendar isn't answering right now. I've noted the cancellation; our team will take care of it right after our call.".to_owned()
                }
            }
            Self::NotChanged => "Sorry, that didn't work; the appointment stays as it was. Please contact our team directly.".to_owned(),
            Self::CalendarDown => "I can't reach the calendar right now. Please try again a little later.".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn listed(d: u32, h: u32, can_modify: bool) -> Listed {
        Listed {
            date: dt(d, h).date(),
            time: dt(d, h).time(),
            service: "Herrenhaarschnitt".into(),
            can_modify,
        }
    }

    #[test]
    fn appointments_sentences_are_pinned() {
        let cut = || "Herrenhaarschnitt".to_owned();
        let nine_thirty = NaiveTime::from_hms_opt(9, 30, 0).unwrap();
        let table: Vec<(AppointmentSay, &str, &str)> = vec![
            (
                AppointmentSay::Found {
                    items: vec![listed(24, 14, true)],
                    more: 0,
                },
                "Ich habe einen Termin gefunden: Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr.",
                "I found one appointment: Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm.",
            ),
            (
                AppointmentSay::Found {
                    items: vec![listed(24, 14, false), listed(26, 9, true)],
                    more: 0,
                },
                "Ich habe 2 Termine gefunden: Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr, nicht mehr änderbar und Herrenhaarschnitt am Donnerstag, 26.11.2026 um 9 Uhr.",
                "I found 2 appointments: Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm, which can no longer be changed and Herrenhaarschnitt on Thursday, 26 November 2026 at 9 am.",
            ),
            (
                AppointmentSay::Found {
                    items: vec![listed(24, 14, true), listed(26, 9, true)],
                    more: 2,
                },
                "Ich habe 4 Termine gefunden, die nächsten sind: Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr und Herrenhaarschnitt am Donnerstag, 26.11.2026 um 9 Uhr.",
                "I found 4 appointments; the next ones are Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm and Herrenhaarschnitt on Thursday, 26 November 2026 at 9 am.",
            ),
            (
                AppointmentSay::NoneFound,
                "Ich habe zu Ihrer Nummer keinen bevorstehenden Termin gefunden.",
                "I couldn't find an upcoming appointment for your number.",
            ),
            (
                AppointmentSay::AskIdentity,
                "Ich sehe Ihre Nummer leider nicht. Bitte nennen Sie mir die Telefonnummer, mit der Sie gebucht haben, und das Datum des Termins.",
                "I can't see your number. Please tell me the phone number you booked with and the date of the appointment.",
            ),
            (
                AppointmentSay::WhichOne {
                    items: vec![listed(24, 14, true), listed(26, 9, true)],
                },
                "Sie haben mehrere Termine: Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr und Herrenhaarschnitt am Donnerstag, 26.11.2026 um 9 Uhr. Welchen meinen Sie?",
                "You have several appointments: Herrenhaarschnitt on Tuesday, 24 November 2026 at 2 pm and Herrenhaarschnitt on Thursday, 26 November 2026 at 9 am. Which one do you mean?",
            ),
            (
                AppointmentSay::AskNewSlot,
                "Auf welchen Tag und welche Uhrzeit möchten Sie den Termin verschieben?",
                "Which day and time would you like to move the appointment to?",
            ),
            (
                AppointmentSay::DateAmbiguous {
                    candidates: vec![
                        NaiveDate::from_ymd_opt(2027, 5, 6).unwrap(),
                        NaiveDate::from_ymd_opt(2027, 6, 5).unwrap(),
                    ],
                },
                "Meinen Sie Donnerstag, den 6. Mai, oder Samstag, den 5. Juni?",
                "Do you mean Thursday, May 6, or Saturday, June 5?",
            ),
            (
                AppointmentSay::DateNotUnderstood {
                    said: "irgendwann".into(),
                },
                "Das Datum „irgendwann“ habe ich nicht verstanden.",
                "I didn't understand the date \"irgendwann\".",
            ),
            (
                AppointmentSay::TimeNotUnderstood {
                    said: "bald".into(),
                },
                "Die Uhrzeit „bald“ habe ich nicht verstanden.",
                "I didn't understand the time \"bald\".",
            ),
            (
                AppointmentSay::NoticeRefused { hours: 24 },
                "Diesen Termin kann ich telefonisch nicht mehr ändern: Verschieben und Absagen geht nur bis 24 Stunden vor dem Termin. Bitte wenden Sie sich direkt an unser Team.",
                "I can't change this appointment by phone any more: moving or cancelling is only possible up to 24 hours before it. Please contact our team directly.",
            ),
            (
                AppointmentSay::ConfirmMove {
                    service: cut(),
                    from: dt(24, 14),
                    to: dt(26, 9),
                },
                "Ich verschiebe Ihren Termin Herrenhaarschnitt vom Dienstag, 24.11.2026 um 14 Uhr auf Donnerstag, 26.11.2026 um 9 Uhr. Soll ich das so machen?",
                "I'll move your Herrenhaarschnitt appointment from Tuesday, 24 November 2026 at 2 pm to Thursday, 26 November 2026 at 9 am. Shall I go ahead?",
            ),
            (
                AppointmentSay::ConfirmCancel {
                    service: cut(),
                    at: dt(24, 14),
                },
                "Ich sage Ihren Termin Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr ab. Soll ich das so machen?",
                "I'll cancel your Herrenhaarschnitt appointment on Tuesday, 24 November 2026 at 2 pm. Shall I go ahead?",
            ),
            (
                AppointmentSay::Moved {
                    service: cut(),
                    to: dt(26, 9),
                    sms: true,
                },
                "Erledigt: Ihr Termin Herrenhaarschnitt ist jetzt am Donnerstag, 26.11.2026 um 9 Uhr. Sie bekommen eine Bestätigung per SMS.",
                "Done: your Herrenhaarschnitt appointment is now on Thursday, 26 November 2026 at 9 am. You'll get a confirmation by text message.",
            ),
            (
                AppointmentSay::Moved {
                    service: cut(),
                    to: dt(26, 9),
                    sms: false,
                },
                "Erledigt: Ihr Termin Herrenhaarschnitt ist jetzt am Donnerstag, 26.11.2026 um 9 Uhr.",
                "Done: your Herrenhaarschnitt appointment is now on Thursday, 26 November 2026 at 9 am.",
            ),
            (
                AppointmentSay::Cancelled {
                    service: cut(),
                    at: dt(24, 14),
                    sms: true,
                },
                "Erledigt: Ihr Termin Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr ist abgesagt. Sie bekommen eine Bestätigung per SMS.",
                "Done: your Herrenhaarschnitt appointment on Tuesday, 24 November 2026 at 2 pm is cancelled. You'll get a confirmation by text message.",
            ),
            (
                AppointmentSay::Cancelled {
                    service: cut(),
                    at: dt(24, 14),
                    sms: false,
                },
                "Erledigt: Ihr Termin Herrenhaarschnitt am Dienstag, 24.11.2026 um 14 Uhr ist abgesagt.",
                "Done: your Herrenhaarschnitt appointment on Tuesday, 24 November 2026 at 2 pm is cancelled.",
            ),
            (
                AppointmentSay::SlotTaken {
                    wanted: dt(26, 9),
                    alternatives: vec![nine_thirty],
                },
                "Um 9 Uhr ist am Donnerstag, 26.11.2026 leider nichts frei. Frei wäre um 9:30 Uhr.",
                "9 am on Thursday, 26 November 2026 is not available. I could offer 9:30 am.",
            ),
            (
                AppointmentSay::SlotTaken {
                    wanted: dt(26, 9),
                    alternatives: vec![],
                },
                "Am Donnerstag, 26.11.2026 ist leider nichts mehr frei.",
                "Thursday, 26 November 2026 is fully booked.",
            ),
            (
                AppointmentSay::MoveQueued {
                    to: dt(26, 9),
                    sms: true,
                },
                "Der Kalender antwortet gerade nicht. Ich habe die Verschiebung auf Donnerstag, 26.11.2026 um 9 Uhr notiert; sie wird gleich nach unserem Gespräch erledigt, und Sie bekommen dann eine Bestätigung per SMS.",
                "The calendar isn't answering right now. I've noted the move to Thursday, 26 November 2026 at 9 am; it will be done right after our call, and you'll then get a confirmation by text message.",
            ),
            (
                AppointmentSay::MoveQueued {
                    to: dt(26, 9),
                    sms: false,
                },
                "Der Kalender antwortet gerade nicht. Ich habe die Verschiebung auf Donnerstag, 26.11.2026 um 9 Uhr notiert; unser Team kümmert sich gleich nach unserem Gespräch darum.",
                "The calendar isn't answering right now. I've noted the move to Thursday, 26 November 2026 at 9 am; our team will take care of it right after our call.",
            ),
            (
                AppointmentSay::CancelQueued { sms: true },
                "Der Kalender antwortet gerade nicht. Ich habe die Absage notiert; sie wird gleich nach unserem Gespräch erledigt, und Sie bekommen dann eine Bestätigung per SMS.",
                "The calendar isn't answering right now. I've noted the cancellation; it will be done right after our call, and you'll then get a confirmation by text message.",
            ),
            (
                AppointmentSay::CancelQueued { sms: false },
                "Der Kalender antwortet gerade nicht. Ich habe die Absage notiert; unser Team kümmert sich gleich nach unserem Gespräch darum.",
                "The calendar isn't answering right now. I've noted the cancellation; our team will take care of it right after our call.",
            ),
            (
                AppointmentSay::NotChanged,
                "Das hat leider nicht geklappt, der Termin bleibt unverändert. Bitte wenden Sie sich direkt an unser Team.",
                "Sorry, that didn't work; the appointment stays as it was. Please contact our team directly.",
            ),
            (
                AppointmentSay::CalendarDown,
                "Ich kann den Kalender gerade nicht erreichen. Bitte versuchen Sie es etwas später noch einmal.",
                "I can't reach the calendar right now. Please try again a little later.",
            ),
        ];
        for (say, de, en) in table {
            assert_eq!(say.say(Locale::De), de, "{say:?}");
            assert_eq!(say.say(Locale::En), en, "{say:?}");
        }
    }
}
