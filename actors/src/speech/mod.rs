//! The message catalog: every sentence the agent speaks (and every text we send) about an
//! appointment, in each language we speak, and nowhere else. Functions pick an outcome (a
//! variant of a catalog enum) and its facts; the catalog words it. Dates and times are local.
//!
//! Each topic is one enum implementing [`Catalog`], in its own file, with all its German
//! sentences in one `de` function and all its English ones in one `en` function, so a
//! translator reads one place per language, and the compiler refuses a sentence missing in
//! one of them. The helpers below format dates, times and lists for both.

pub mod appointments;
pub mod booking;
pub mod general;
pub mod inbound;
pub mod sms;
pub mod tools;

/// One catalog topic: an outcome and its facts, worded per language.
pub trait Catalog {
    /// The German sentence(s).
    fn de(&self) -> String;
    /// The English sentence(s).
    fn en(&self) -> String;
    /// The sentence(s) in `locale`: the one place that picks a language.
    fn say(&self, locale: Locale) -> String {
        match locale {
            Locale::De => self.de(),
            Locale::En => self.en(),
        }
    }
}

use crate::domain::appointment::RequiredField;
use crate::domain::tenant::Locale;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

const WEEKDAYS_DE: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "Dienstag" / "Tuesday".
pub fn weekday(day: chrono::Weekday, locale: Locale) -> &'static str {
    let i = day.num_days_from_monday() as usize;
    match locale {
        Locale::De => WEEKDAYS_DE[i],
        Locale::En => WEEKDAYS_EN[i],
    }
}

/// "Dienstag, 24.11.2026" / "Tuesday, 24 November 2026".
pub fn date(d: NaiveDate, locale: Locale) -> String {
    let wd = d.weekday().num_days_from_monday() as usize;
    match locale {
        Locale::De => format!("{}, {}", WEEKDAYS_DE[wd], d.format("%d.%m.%Y")),
        Locale::En => format!(
            "{}, {} {} {}",
            WEEKDAYS_EN[wd],
            d.day(),
            MONTHS_EN[d.month0() as usize],
            d.year()
        ),
    }
}

/// "14 Uhr", "14:30 Uhr" / "2 pm", "2:30 pm".
pub fn time(t: NaiveTime, locale: Locale) -> String {
    match locale {
        Locale::De if t.minute() == 0 => format!("{} Uhr", t.hour()),
        Locale::De => format!("{}:{:02} Uhr", t.hour(), t.minute()),
        Locale::En => {
            let (pm, h12) = t.hour12();
            let suffix = if pm { "pm" } else { "am" };
            if t.minute() == 0 {
                format!("{h12} {suffix}")
            } else {
                format!("{h12}:{:02} {suffix}", t.minute())
            }
        }
    }
}

const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// The question that settles an ambiguous date ([`DateParseError::Ambiguous`]), naming each
/// candidate: "Meinen Sie Freitag, den 4. Dezember, oder Freitag, den 11. Dezember?" /
/// "Do you mean Friday, December 4, or Friday, December 11?".
///
/// [`DateParseError::Ambiguous`]: crate::domain::datetime::DateParseError::Ambiguous
pub fn which_date(candidates: &[NaiveDate], locale: Locale) -> String {
    let named: Vec<String> = candidates
        .iter()
        .map(|d| {
            let (wd, m) = (
                d.weekday().num_days_from_monday() as usize,
                d.month0() as usize,
            );
            match locale {
                Locale::De => format!("{}, den {}. {}", WEEKDAYS_DE[wd], d.day(), MONTHS_DE[m]),
                Locale::En => format!("{}, {} {}", WEEKDAYS_EN[wd], MONTHS_EN[m], d.day()),
            }
        })
        .collect();
    let (ask, or) = match locale {
        Locale::De => ("Meinen Sie", "oder"),
        Locale::En => ("Do you mean", "or"),
    };
    match named.as_slice() {
        [init @ .., last] if !init.is_empty() => {
            format!("{ask} {}, {or} {last}?", init.join(", "))
        }
        _ => format!("{ask} {}?", named.join("")),
    }
}

/// "a, b und c" / "a, b and c".
pub fn list(items: &[String], locale: Locale) -> String {
    let and = match locale {
        Locale::De => "und",
        Locale::En => "and",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

/// `items` joined as a spoken choice: "A, B oder C" / "A, B or C".
pub fn or_list(items: &[String], locale: Locale) -> String {
    let or = match locale {
        Locale::De => "oder",
        Locale::En => "or",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {or} {last}", init.join(", ")),
    }
}

/// How the agent asks for a missing field.
pub fn field_label(field: RequiredField, locale: Locale) -> &'static str {
    match (locale, field) {
        (Locale::De, RequiredField::Datum) => "das Datum",
        (Locale::De, RequiredField::Uhrzeit) => "die Uhrzeit",
        (Locale::De, RequiredField::Name) => "Ihren Namen",
        (Locale::De, RequiredField::Telefonnummer) => "Ihre Telefonnummer",
        (Locale::De, RequiredField::Dienstleistung) => "die gewünschte Dienstleistung",
        (Locale::En, RequiredField::Datum) => "the date",
        (Locale::En, RequiredField::Uhrzeit) => "the time",
        (Locale::En, RequiredField::Name) => "your name",
        (Locale::En, RequiredField::Telefonnummer) => "your phone number",
        (Locale::En, RequiredField::Dienstleistung) => "the service you would like",
    }
}

/// Free times as a spoken list ("9 Uhr, 9:30 Uhr und 10 Uhr").
pub fn times(list_of: &[NaiveTime], locale: Locale) -> String {
    list(
        &list_of.iter().map(|t| time(*t, locale)).collect::<Vec<_>>(),
        locale,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_and_english_dates_and_times_read_naturally() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(date(d, Locale::De), "Dienstag, 24.11.2026");
        assert_eq!(date(d, Locale::En), "Tuesday, 24 November 2026");
        let t = NaiveTime::from_hms_opt(14, 30, 0).unwrap();
        assert_eq!(time(t, Locale::De), "14:30 Uhr");
        assert_eq!(time(t, Locale::En), "2:30 pm");
        assert_eq!(
            list(&["a".into(), "b".into(), "c".into()], Locale::De),
            "a, b und c"
        );
    }
}
