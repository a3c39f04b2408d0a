//! The text messages callers get after a booking, move or cancellation. Each fits one SMS
//! (160 characters of the GSM 7-bit alphabet, which has ä, ö, ü and ß) for company and
//! service names of usual length; longer ones are sent as a concatenated message.

use super::{Catalog, date, time};
use crate::domain::tenant::Locale;

/// A confirmation by text message; dates and times are local to the company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsText {
    /// A booking Cal.com accepted.
    Booked {
        /// Company name, e.g. `Demo Salon Berlin`.
        company: String,
        /// Service name.
        service: String,
        /// Local start.
        start: chrono::NaiveDateTime,
    },
    /// A move Cal.com confirmed.
    Moved {
        /// Company name.
        company: String,
        /// Service name.
        service: String,
        /// Local start of the new slot.
        start: chrono::NaiveDateTime,
    },
    /// A cancellation Cal.com confirmed.
    Cancelled {
        /// Company name.
        company: String,
        /// Service name.
        service: String,
        /// Local start of the cancelled appointment.
        start: chrono::NaiveDateTime,
    },
}

impl SmsText {
    /// Company, service, and the start's date and time worded in `locale`.
    fn facts(&self, locale: Locale) -> (&str, &str, String, String) {
        let (Self::Booked {
            company,
            service,
            start,
        }
        | Self::Moved {
            company,
            service,
            start,
        }
        | Self::Cancelled {
            company,
            service,
            start,
        }) = self;
        (
            company,
            service,
            date(start.date(), locale),
            time(start.time(), locale),
        )
    }
}

impl Catalog for SmsText {
    fn de(&self) -> String {
        let (company, service, day, at) = self.facts(Locale::De);
        match self {
            Self::Booked { .. } => {
                format!("{company}: Ihr Termin ({service}) am {day} um {at} ist gebucht. Bis bald!")
            }
            Self::Moved { .. } => {
                format!("{company}: Ihr Termin ({service}) ist verschoben auf {day} um {at}.")
            }
            Self::Cancelled { .. } => {
                format!("{company}: Ihr Termin ({service}) am {day} um {at} ist storniert.")
            }
        }
    }

    fn en(&self) -> String {
        let (company, service, day, at) = self.facts(Locale::En);
        match self {
            Self::Booked { .. } => format!(
                "{company}: your appointment ({service}) on {day} at {at} is booked. See you then!"
            ),
            Self::Moved { .. } => {
                format!("{company}: your appointment ({service}) has been moved to {day} at {at}.")
            }
            Self::Cancelled { .. } => format!(
                "{company}: your appointment ({service}) on {day} at {at} has been cancelled."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// The GSM 03.38 basic character set (without the escape table): text made of these
    /// travels 160 characters per SMS; any other character halves that (UCS-2).
    const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
        ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    fn start() -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(14, 30, 0)
            .unwrap()
    }

    fn all() -> [SmsText; 3] {
        let (company, service) = (
            "Demo Salon Berlin".to_owned(),
            "Herrenhaarschnitt".to_owned(),
        );
        [
            SmsText::Booked {
                company: company.clone(),
                service: service.clone(),
                start: start(),
            },
            SmsText::Moved {
                company: company.clone(),
                service: service.clone(),
                start: start(),
            },
            SmsText::Cancelled {
                company,
                service,
                start: start(),
            },
        ]
    }

    #[test]
    fn sms_sentences_are_pinned() {
        let [booked, moved, cancelled] = all();
        let pinned = [
            (
                booked.de(),
                "Demo Salon Berlin: Ihr Termin (Herrenhaarschnitt) am Dienstag, 24.11.2026 um \
                 14:30 Uhr ist gebucht. Bis bald!",
            ),
            (
                booked.en(),
                "Demo Salon Berlin: your appointment (Herrenhaarschnitt) on Tuesday, 24 November \
                 2026 at 2:30 pm is booked. See you then!",
            ),
            (
                moved.de(),
                "Demo Salon Berlin: Ihr Termin (Herrenhaarschnitt) ist verschoben auf Dienstag, \
                 24.11.2026 um 14:30 Uhr.",
            ),
            (
                moved.en(),
                "Demo Salon Berlin: your appointment (Herrenhaarschnitt) has been moved to \
                 Tuesday, 24 November 2026 at 2:30 pm.",
            ),
            (
                cancelled.de(),
                "Demo Salon Berlin: Ihr Termin (Herrenhaarschnitt) am Dienstag, 24.11.2026 um \
                 14:30 Uhr ist storniert.",
            ),
            (
                cancelled.en(),
                "Demo Salon Berlin: your appointment (Herrenhaarschnitt) on Tuesday, 24 November \
                 2026 at 2:30 pm has been cancelled.",
            ),
        ];
        for (said, expected) in pinned {
            assert_eq!(said, expected);
        }
    }

    #[test]
    fn confirmations_fit_one_gsm_sms() {
        for text in all() {
            for body in [text.de(), text.en()] {
                assert!(body.chars().count() <= 160, "{} chars: {body}", body.len());
                let outside: String = body.chars().filter(|c| !GSM_BASIC.contains(*c)).collect();
                assert!(outside.is_empty(), "not GSM 7-bit: {outside:?} in {body}");
            }
        }
    }
}
