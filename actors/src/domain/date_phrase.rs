//! Reading the dates callers say, German first and English second: "übermorgen", "nächste
//! Woche Mittwoch", "am fünfzehnten", "15. Dez.", "12/17/2026" (issue 17).
//!
//! No maintained crate reads German spoken-date phrases or German ordinal words ("fünfzehnter",
//! "einundzwanzigsten"): `text2num` reads cardinal and English ordinal words but brings its own
//! tokeniser and no inflected German ordinals, so the grammar is ours and reuses the number
//! tables of [`super::datetime`]; chrono does the calendar arithmetic and decides which days
//! exist.
//!
//! # Grammar
//! The input is split into words ([`super::datetime`]'s tokeniser: lower case, umlauts
//! folded), words that carry nothing are dropped wherever they stand ("am", "den", "der",
//! "the", "of", "bitte", "also", …), as are "st"/"nd"/"rd"/"th"/"ter"/"ten" after digits and a
//! part of the day at the end ("Freitag Nachmittag"). The remaining words are matched, in
//! this order, against: a day relative to today ("morgen", "in drei Tagen", "heute in einer
//! Woche"); a week relative to today, with a weekday or a part of the week ("nächste Woche
//! Mittwoch", "Anfang nächster Woche"); a weekday with its modifier ("übernächsten Freitag");
//! a calendar date ("15.12.", "fünfzehnter Dezember", "Jan 10", "12/17"). Each step is one
//! pass over at most [`MAX_DATE_CHARS`] characters, so the work is linear in the input.
//!
//! # Decisions
//! - **"nächsten Freitag" / "next Friday"** is ambiguous when that weekday is still ahead in
//!   the current week (Monday to Sunday): half of the speakers mean this week's, half the one
//!   in the following week (the well-known split for "nächsten" and for English "next", e.g.
//!   Zwiebelfisch, "Nächsten Freitag oder diesen Freitag?"; Language Log, "Next Friday"). We
//!   ask ([`DateParseError::Ambiguous`], both days). When the weekday has passed this week or
//!   is today ("nächsten Mittwoch" on a Wednesday), only the next week's day fits: 7 days on.
//!   "übernächsten" shifts both readings by a week and is ambiguous likewise.
//! - A bare weekday, "am Freitag", "kommenden Freitag", "coming Friday": the first such day
//!   strictly after today. "diesen Freitag" / "this Friday": the same, but today when it is
//!   that weekday.
//! - "nächste Woche Mittwoch", "Mittwoch nächste Woche", "next week Wednesday": the weekday
//!   in the calendar week after this one (never ambiguous). "Anfang / Mitte / Ende nächster
//!   Woche" and a bare "nächste Woche": the first day of that span (Monday, Wednesday,
//!   Friday), because the functions search forward from the day they get, so the caller hears
//!   the first free times of the span instead of a question.
//! - "in acht Tagen" is the German idiom for one week (Duden: "heute in acht Tagen"), so it
//!   counts 7 days; "in vierzehn Tagen" is 14, as said.
//! - A day without a month ("am 15.", "am zehnten") is the next such day on or after today,
//!   this month or a later one; a day and month without a year are this year's, or next year's
//!   once passed ("10. Januar" said in December is in the next year).
//! - Numbers with dots are German, always day then month ("05.06." is 5 June). Numbers with
//!   slashes are read by impossibility: "17/12" and "12/17" can only be 17 December; when both
//!   numbers could be the month ("05/06") the reading is ambiguous in either language and we
//!   ask. Numbers with dashes are ISO ("2026-12-15").

use super::datetime::{
    DAYPART_LINKS, DAYPARTS, digits, english_number, german_number, weekday_name, words,
};
use super::tenant::Locale;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// Longest input [`parse_date`] reads, in characters; longer input is refused before any
/// work ([`DateParseError::TooLong`]). A spoken date is a few words.
pub const MAX_DATE_CHARS: usize = 200;

/// Why [`parse_date`] refused an input. Variants carry the input as given (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateParseError {
    /// The input is blank.
    #[error("no date given")]
    Empty,
    /// The input is longer than `max` ([`MAX_DATE_CHARS`]) characters.
    #[error("a date is at most {max} characters")]
    TooLong {
        /// The bound, in characters.
        max: usize,
    },
    /// No supported form matches.
    #[error("cannot read {0:?} as a date")]
    Unrecognized(String),
    /// A day and month were read that no calendar has ("31.02.", "32.13."); never adjusted to
    /// a nearby day.
    #[error("{0:?} is not a day of the calendar")]
    Impossible(String),
    /// A weekday and a date were both given and disagree ("Dienstag, 15.07.2026" when that is
    /// a Wednesday).
    #[error("{input:?}: {date} is not a {said}")]
    WeekdayMismatch {
        /// The input as given, trimmed.
        input: String,
        /// The date read.
        date: NaiveDate,
        /// The weekday the caller named.
        said: Weekday,
    },
    /// The phrase names more than one day ("nächsten Freitag" on a Thursday, "05/06"): the
    /// caller must be asked which one, never guessed for.
    #[error("{input:?} may mean any of {candidates:?}")]
    Ambiguous {
        /// The input as given, trimmed.
        input: String,
        /// The days it may mean, earliest first (two or more).
        candidates: Vec<NaiveDate>,
    },
}

/// Reads a date a caller said, relative to `today` (the company's local date).
///
/// Accepted, case-insensitive, with fillers ("am", "den", "the", "bitte") anywhere, a part of
/// the day after ("morgen früh", "Dienstag Nachmittag") and trailing punctuation:
/// - "heute"/"today", "morgen"/"tomorrow", "übermorgen"/"day after tomorrow";
///   "morgen" always means tomorrow, never "morning";
/// - "in 3 Tagen", "in zwei Wochen", "in einer Woche", "heute in einer Woche", "morgen in
///   acht Tagen", "in a week", "two weeks from today";
/// - a weekday, German or English, alone or after "kommenden"/"diesen"/"nächsten"/
///   "übernächsten"/"coming"/"this"/"next" (see the module's decisions);
/// - a week: "nächste Woche Mittwoch", "Mittwoch nächster Woche", "übernächste Woche",
///   "Anfang/Mitte/Ende nächster Woche", "next week Wednesday", "end of next week";
/// - a day of the month: "am 15.", "am fünfzehnten", "der zehnte", "the 21st", "the
///   twenty-first";
/// - numeric: "15.12.", "15.12.2026", "15.12.26", ISO "2026-12-15", "12/17/2026", "17/12",
///   "2026/12/15";
/// - a day and a month name or abbreviation, in either order, with an optional year: "15.
///   Dez.", "fünfzehnter Dezember", "10. Jänner", "3. Maerz", "Jan 10", "December fifteenth",
///   "July 15th, 2026"; and German "am fünfzehnten Zwölften";
/// - a weekday followed by a date ("Freitag, den 11. Dezember", "Freitag, der elfte"): the
///   date, checked against the weekday.
///
/// Without a year the date is on or after `today`; with one it is returned as read, and the
/// caller decides whether a past date is an error.
///
/// # Errors
/// [`DateParseError::Empty`] for blank input, [`DateParseError::TooLong`] over
/// [`MAX_DATE_CHARS`] characters, [`DateParseError::Impossible`] for a day that doesn't exist,
/// [`DateParseError::WeekdayMismatch`] when weekday and date disagree,
/// [`DateParseError::Ambiguous`] when the phrase names two days (ask the caller), and
/// [`DateParseError::Unrecognized`] for anything else.
pub fn parse_date(input: &str, today: NaiveDate) -> Result<NaiveDate, DateParseError> {
    if input.chars().nth(MAX_DATE_CHARS).is_some() {
        return Err(DateParseError::TooLong {
            max: MAX_DATE_CHARS,
        });
    }
    let words = words(input);
    if words.is_empty() {
        return Err(DateParseError::Empty);
    }
    let w = significant(&words);
    let p = Phrase { input, today };
    let forms: [Form; 4] = [relative_day, relative_week, weekday_phrase, calendar_date];
    forms
        .into_iter()
        .find_map(|form| form(&p, &w))
        .unwrap_or_else(|| Err(p.unrecognized()))
}

/// One form of the grammar: `None` when the words are not of this form, else what they mean.
type Form = fn(&Phrase, &[&str]) -> Option<Result<NaiveDate, DateParseError>>;

/// Words that carry nothing for a date, wherever they stand.
const FILLERS: &[&str] = &[
    "am",
    "an",
    "den",
    "dem",
    "der",
    "die",
    "das",
    "zum",
    "fuer",
    "bitte",
    "also",
    "dann",
    "vielleicht",
    "lieber",
    "liebsten",
    "noch",
    "gerne",
    "gern",
    "ja",
    "aeh",
    "aehm",
    "hm",
    "on",
    "the",
    "of",
    "for",
    "please",
    "maybe",
    "uh",
    "um",
];

/// What follows a day written in digits ("15th", "15ter", "15ten").
const ORDINAL_SUFFIXES: &[&str] = &["st", "nd", "rd", "th", "ter", "ten", "te"];

/// The words that say something: without fillers, ordinal suffixes after digits and a part of
/// the day at the end.
fn significant(words: &[String]) -> Vec<&str> {
    let mut w: Vec<&str> = Vec::with_capacity(words.len());
    for word in words {
        let word = word.as_str();
        let suffix = ORDINAL_SUFFIXES.contains(&word)
            && w.last().is_some_and(|prev| digits(prev, 1, 2).is_some());
        if !suffix && !FILLERS.contains(&word) {
            w.push(word);
        }
    }
    while w.len() > 1 && w.last().is_some_and(|last| DAYPARTS.contains(last)) {
        w.pop();
        while w.len() > 1 && w.last().is_some_and(|last| DAYPART_LINKS.contains(last)) {
            w.pop();
        }
    }
    w
}

/// The input and the day it is read on.
struct Phrase<'a> {
    input: &'a str,
    today: NaiveDate,
}

impl Phrase<'_> {
    fn unrecognized(&self) -> DateParseError {
        DateParseError::Unrecognized(self.input.trim().to_owned())
    }

    fn impossible(&self) -> DateParseError {
        DateParseError::Impossible(self.input.trim().to_owned())
    }

    /// Today plus `days`; past chrono's last date the phrase is unreadable, not a panic.
    fn plus(&self, days: i64) -> Result<NaiveDate, DateParseError> {
        let d = u64::try_from(days).map_err(|_| self.unrecognized())?;
        self.today
            .checked_add_days(Days::new(d))
            .ok_or_else(|| self.unrecognized())
    }

    /// Asks between `days` (offsets from today).
    fn ambiguous(&self, days: [i64; 2]) -> Result<NaiveDate, DateParseError> {
        Err(DateParseError::Ambiguous {
            input: self.input.trim().to_owned(),
            candidates: vec![self.plus(days[0])?, self.plus(days[1])?],
        })
    }
}

/// "heute", "morgen", "übermorgen", "in 3 Tagen", "heute in einer Woche", "a week from today".
fn relative_day(p: &Phrase, w: &[&str]) -> Option<Result<NaiveDate, DateParseError>> {
    let base = |word: &str| match word {
        "heute" | "today" => Some(0),
        "morgen" | "tomorrow" => Some(1),
        "uebermorgen" => Some(2),
        _ => None,
    };
    let days = match w {
        [day] => base(day)?,
        ["day", "after", "tomorrow"] => 2,
        ["in", span @ ..] => span_days(span)?,
        [day, "in", span @ ..] => base(day)? + span_days(span)?,
        [span @ .., "from", "today" | "now"] => span_days(span)?,
        [span @ .., "from", "tomorrow"] => 1 + span_days(span)?,
        _ => return None,
    };
    Some(p.plus(days))
}

/// "drei Tagen", "einer Woche", "2 weeks", "a week": the days they span. "acht Tage" is the
/// German idiom for a week.
fn span_days(w: &[&str]) -> Option<i64> {
    let (n, unit) = match w {
        [unit] => (1, *unit),
        [n, unit] => (count(n)?, *unit),
        _ => return None,
    };
    match unit {
        "tag" | "tage" | "tagen" | "day" | "days" if n == 8 => Some(7),
        "tag" | "tage" | "tagen" | "day" | "days" => Some(n),
        "woche" | "wochen" | "week" | "weeks" => Some(7 * n),
        _ => None,
    }
}

/// A small count: digits, or a number word ("drei", "einer", "a").
fn count(word: &str) -> Option<i64> {
    let n = match word {
        "einer" | "einem" | "einen" | "a" | "an" => 1,
        _ => digits(word, 1, 3)
            .or_else(|| german_number(word))
            .or_else(|| english_number(word))?,
    };
    Some(i64::from(n))
}

/// Which week, counted from this one (0), a phrase names: "nächste Woche" is 1.
fn week_offset(w: &[&str]) -> Option<(u32, usize)> {
    let offset = match w {
        [
            "naechste" | "naechster" | "naechsten" | "kommende" | "kommender" | "kommenden",
            "woche",
            ..,
        ]
        | ["next" | "coming", "week", ..] => (1, 2),
        [
            "uebernaechste" | "uebernaechster" | "uebernaechsten",
            "woche",
            ..,
        ] => (2, 2),
        ["week", "after", "next", ..] => (2, 3),
        ["diese" | "dieser" | "diesen", "woche", ..] | ["this", "week", ..] => (0, 2),
        _ => return None,
    };
    Some(offset)
}

/// "nächste Woche Mittwoch", "Mittwoch nächste Woche", "in der nächsten Woche am Mittwoch",
/// "Anfang nächster Woche", "end of next week", "übernächste Woche".
fn relative_week(p: &Phrase, w: &[&str]) -> Option<Result<NaiveDate, DateParseError>> {
    let w = w.strip_prefix(&["in"]).unwrap_or(w);
    let (before, weeks, after) = (0..w.len()).find_map(|i| {
        let (weeks, len) = week_offset(&w[i..])?;
        Some((&w[..i], weeks, &w[i + len..]))
    })?;
    let said = match (before, after) {
        ([], []) => Weekday::Mon,
        ([day] | [day, "in"], []) | ([], [day]) => {
            weekday_from_word(day).or_else(|| part_of_week(day))?
        }
        _ => return None,
    };
    let monday = i64::from(p.today.weekday().num_days_from_monday());
    let ahead = 7 * i64::from(weeks) + i64::from(said.num_days_from_monday()) - monday;
    Some(if ahead < 0 {
        p.today
            .checked_sub_days(Days::new(ahead.unsigned_abs()))
            .ok_or_else(|| p.unrecognized())
    } else {
        p.plus(ahead)
    })
}

/// The first day of a part of a week: "Anfang" Monday, "Mitte" Wednesday, "Ende" Friday.
fn part_of_week(word: &str) -> Option<Weekday> {
    match word {
        "anfang" | "beginning" | "early" | "start" => Some(Weekday::Mon),
        "mitte" | "mid" | "middle" => Some(Weekday::Wed),
        "ende" | "end" | "late" => Some(Weekday::Fri),
        _ => None,
    }
}

/// How a weekday was qualified.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    /// Bare, "kommenden", "coming": the first such day after today.
    Coming,
    /// "diesen", "this": today if it is that day, else the coming one.
    This,
    /// "nächsten", "next": see the module's decisions.
    Next,
    /// "übernächsten", "the … after next": a week after [`Which::Next`].
    AfterNext,
}

/// "Freitag", "kommenden Freitag", "nächsten Freitag", "übernächsten Freitag", "this Friday",
/// "the Friday after next", and a weekday followed by a date ("Freitag, 11.12.", "nächsten
/// Freitag, den 11.").
fn weekday_phrase(p: &Phrase, w: &[&str]) -> Option<Result<NaiveDate, DateParseError>> {
    let (which, w) = match w {
        ["kommenden" | "kommender" | "kommende" | "coming", rest @ ..]
        | ["this", "coming", rest @ ..] => (Which::Coming, rest),
        ["diesen" | "dieser" | "diese" | "diesem" | "this", rest @ ..] => (Which::This, rest),
        [
            "naechsten" | "naechster" | "naechste" | "naechstem" | "next",
            rest @ ..,
        ] => (Which::Next, rest),
        [
            "uebernaechsten" | "uebernaechster" | "uebernaechste",
            rest @ ..,
        ] => (Which::AfterNext, rest),
        [day, "after", "next"] => (Which::AfterNext, std::slice::from_ref(day)),
        _ => (Which::Coming, w),
    };
    let (first, rest) = w.split_first()?;
    let said = weekday_from_word(first)?;
    if !rest.is_empty() {
        // The date settles what the modifier left open ("nächsten Freitag, den 11.").
        return Some(calendar_date(p, rest)?.and_then(|date| {
            if date.weekday() == said {
                Ok(date)
            } else {
                Err(DateParseError::WeekdayMismatch {
                    input: p.input.trim().to_owned(),
                    date,
                    said,
                })
            }
        }));
    }
    let delta = i64::from(said.num_days_from_monday())
        - i64::from(p.today.weekday().num_days_from_monday());
    let first_after = if delta > 0 { delta } else { delta + 7 };
    Some(match which {
        Which::Coming => p.plus(first_after),
        Which::This if delta == 0 => p.plus(0),
        Which::This => p.plus(first_after),
        Which::Next if delta > 0 => p.ambiguous([delta, delta + 7]),
        Which::Next => p.plus(delta + 7),
        Which::AfterNext if delta > 0 => p.ambiguous([delta + 7, delta + 14]),
        Which::AfterNext => p.plus(delta + 14),
    })
}

fn weekday_from_word(word: &str) -> Option<Weekday> {
    if word == "sonnabend" {
        return Some(Weekday::Sat);
    }
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    days.into_iter().find(|&day| {
        [Locale::De, Locale::En].into_iter().any(|locale| {
            let name = weekday_name(day, locale);
            name.eq_ignore_ascii_case(word)
                || (locale == Locale::En && word.len() == 3 && name[..3].eq_ignore_ascii_case(word))
        })
    })
}

/// Month names and their usual abbreviations, German (with Austrian "Jänner", "Feber") and
/// English, umlauts folded.
fn month_from_word(word: &str) -> Option<u32> {
    const MONTHS: &[(&str, u32)] = &[
        ("januar", 1),
        ("jaenner", 1),
        ("january", 1),
        ("jan", 1),
        ("februar", 2),
        ("feber", 2),
        ("february", 2),
        ("feb", 2),
        ("maerz", 3),
        ("marz", 3),
        ("march", 3),
        ("mrz", 3),
        ("mar", 3),
        ("april", 4),
        ("apr", 4),
        ("mai", 5),
        ("may", 5),
        ("juni", 6),
        ("june", 6),
        ("jun", 6),
        ("juli", 7),
        ("july", 7),
        ("jul", 7),
        ("august", 8),
        ("aug", 8),
        ("september", 9),
        ("sept", 9),
        ("sep", 9),
        ("oktober", 10),
        ("october", 10),
        ("okt", 10),
        ("oct", 10),
        ("november", 11),
        ("nov", 11),
        ("dezember", 12),
        ("december", 12),
        ("dez", 12),
        ("dec", 12),
    ];
    MONTHS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|&(_, m)| m)
}

/// A German ordinal word, any ending: "erste", "zehnten", "fünfzehnter", "einundzwanzigsten".
fn german_ordinal(word: &str) -> Option<u32> {
    const ENDINGS: &[&str] = &["", "n", "r", "s", "m"];
    let number = |stem: &str| match stem {
        "er" => Some(1),
        "drit" => Some(3),
        "sieb" | "sieben" => Some(7),
        "ach" => Some(8),
        _ => german_number(stem).filter(|n| *n >= 2),
    };
    ENDINGS.iter().find_map(|ending| {
        let base = word.strip_suffix(ending)?;
        ["ste", "te"]
            .into_iter()
            .find_map(|cut| base.strip_suffix(cut).and_then(number))
    })
}

/// An English ordinal word: "first" … "thirty-first" (the tens come as their own word).
fn english_ordinal(word: &str) -> Option<u32> {
    const WORDS: &[&str] = &[
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    if let Some(i) = WORDS.iter().position(|w| *w == word) {
        return u32::try_from(i + 1).ok();
    }
    match word {
        "twentieth" => Some(20),
        "thirtieth" => Some(30),
        _ => None,
    }
}

/// A day of the month at the start of `w`, and how many words it took: digits, an ordinal
/// word, a number word, or "twenty first" / "einundzwanzigsten".
fn day_at(w: &[&str]) -> Option<(u32, usize)> {
    let first = *w.first()?;
    if let Some(d) = digits(first, 1, 2) {
        return Some((d, 1));
    }
    if let Some(d) = german_ordinal(first).or_else(|| english_ordinal(first)) {
        return Some((d, 1));
    }
    let n = german_number(first).or_else(|| english_number(first))?;
    let unit = w.get(1).and_then(|second| {
        english_ordinal(second)
            .or_else(|| english_number(second))
            .filter(|u| (1..=9).contains(u))
    });
    match unit {
        Some(u) if n % 10 == 0 && n >= 20 && english_number(first).is_some() => Some((n + u, 2)),
        _ => Some((n, 1)),
    }
}

/// A month at the start of `w`: a name, or (German, "am zehnten Ersten") an ordinal.
fn month_at(w: &[&str], after_ordinal: bool) -> Option<u32> {
    let first = *w.first()?;
    month_from_word(first).or_else(|| {
        after_ordinal
            .then(|| german_ordinal(first))
            .flatten()
            .filter(|m| (1..=12).contains(m))
    })
}

/// A year as written: four digits, or two meaning 20xx.
fn year(word: &str) -> Option<i32> {
    match word.len() {
        4 => digits(word, 4, 4).and_then(|y| i32::try_from(y).ok()),
        2 => digits(word, 2, 2).and_then(|y| i32::try_from(2000 + y).ok()),
        _ => None,
    }
}

/// The calendar forms: numeric, a day (and month and year) in digits or words.
fn calendar_date(p: &Phrase, w: &[&str]) -> Option<Result<NaiveDate, DateParseError>> {
    if let [word] = w
        && word.contains(['.', '-', '/'])
    {
        return Some(numeric_date(p, word));
    }
    let year_of = |rest: &[&str]| -> Option<Option<i32>> {
        match rest {
            [] => Some(None),
            [y] => year(y).map(Some),
            _ => None,
        }
    };
    // Day first: "15. Dezember 2026", "fünfzehnter Zwölfter", "am zehnten".
    if let Some((day, n)) = day_at(w) {
        let rest = &w[n..];
        if rest.is_empty() {
            return Some(resolve_day(p, day));
        }
        let ordinal = digits(w[0], 1, 2).is_none();
        if let Some(month) = month_at(rest, ordinal) {
            let year = year_of(&rest[1..])?;
            return Some(resolve(p, year, month, day));
        }
        return None;
    }
    // Month first: "Jan 10", "December fifteenth", "July 15, 2026".
    let (first, rest) = w.split_first()?;
    let month = month_from_word(first)?;
    let (day, n) = day_at(rest)?;
    let year = year_of(&rest[n..])?;
    Some(resolve(p, year, month, day))
}

/// "15.12.2026", "15.12.26", "15.12", ISO "2026-12-15", "12/17/2026", "17/12", "2026/12/15".
fn numeric_date(p: &Phrase, word: &str) -> Result<NaiveDate, DateParseError> {
    let separator = ['.', '-', '/']
        .into_iter()
        .find(|s| word.contains(*s))
        .ok_or_else(|| p.unrecognized())?;
    let parts: Vec<&str> = word.split(separator).collect();
    let num = |s: &str| digits(s, 1, 2).ok_or_else(|| p.unrecognized());
    if let [y, m, d] = parts.as_slice()
        && y.len() == 4
        && separator != '.'
    {
        let y = year(y).ok_or_else(|| p.unrecognized())?;
        return resolve(p, Some(y), num(m)?, num(d)?);
    }
    let (a, b, y) = match parts.as_slice() {
        [a, b] => (num(a)?, num(b)?, None),
        [a, b, y] => (
            num(a)?,
            num(b)?,
            Some(year(y).ok_or_else(|| p.unrecognized())?),
        ),
        _ => return Err(p.unrecognized()),
    };
    match separator {
        '.' => resolve(p, y, b, a),
        '/' => match (a, b) {
            (a, b) if a > 12 && b <= 12 => resolve(p, y, b, a),
            (a, b) if b > 12 && a <= 12 => resolve(p, y, a, b),
            (a, b) if a == b || a > 12 => resolve(p, y, b, a),
            (a, b) => {
                let mut candidates = vec![resolve(p, y, b, a)?, resolve(p, y, a, b)?];
                candidates.sort();
                Err(DateParseError::Ambiguous {
                    input: p.input.trim().to_owned(),
                    candidates,
                })
            }
        },
        _ => Err(p.unrecognized()),
    }
}

/// Builds the date; without a year, this year's day unless it has passed, then next year's.
fn resolve(
    p: &Phrase,
    year: Option<i32>,
    month: u32,
    day: u32,
) -> Result<NaiveDate, DateParseError> {
    let date = match year {
        Some(y) => NaiveDate::from_ymd_opt(y, month, day),
        None => NaiveDate::from_ymd_opt(p.today.year(), month, day)
            .filter(|d| *d >= p.today)
            .or_else(|| NaiveDate::from_ymd_opt(p.today.year() + 1, month, day)),
    };
    date.ok_or_else(|| p.impossible())
}

/// A day of the month without a month: the first such day on or after today.
fn resolve_day(p: &Phrase, day: u32) -> Result<NaiveDate, DateParseError> {
    if !(1..=31).contains(&day) {
        return Err(p.impossible());
    }
    let first = p.today.with_day(1).ok_or_else(|| p.unrecognized())?;
    (0..=2)
        .filter_map(|k| first.checked_add_months(Months::new(k)))
        .filter_map(|month| month.with_day(day))
        .find(|d| *d >= p.today)
        .ok_or_else(|| p.unrecognized())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wednesday, 2 December 2026.
    fn today() -> NaiveDate {
        d(2026, 12, 2)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn read(input: &str) -> Result<NaiveDate, DateParseError> {
        parse_date(input, today())
    }

    fn ambiguous(input: &str, candidates: &[NaiveDate]) -> Result<NaiveDate, DateParseError> {
        Err(DateParseError::Ambiguous {
            input: input.into(),
            candidates: candidates.to_vec(),
        })
    }

    #[test]
    fn next_weekday_still_ahead_this_week_is_ambiguous() {
        let friday = [d(2026, 12, 4), d(2026, 12, 11)];
        assert_eq!(
            read("nächsten Freitag"),
            ambiguous("nächsten Freitag", &friday)
        );
        assert_eq!(read("next Friday"), ambiguous("next Friday", &friday));
        let thursday = d(2026, 12, 3);
        assert_eq!(
            parse_date("nächsten Freitag", thursday),
            ambiguous("nächsten Freitag", &friday)
        );
        assert_eq!(
            read("übernächsten Freitag"),
            ambiguous("übernächsten Freitag", &[d(2026, 12, 11), d(2026, 12, 18)])
        );
    }

    #[test]
    fn next_weekday_passed_or_today_is_next_weeks() {
        assert_eq!(read("nächsten Mittwoch"), Ok(d(2026, 12, 9)));
        assert_eq!(read("nächsten Montag"), Ok(d(2026, 12, 7)));
        assert_eq!(read("übernächsten Montag"), Ok(d(2026, 12, 14)));
        assert_eq!(
            parse_date("nächsten Freitag", d(2026, 12, 5)),
            Ok(d(2026, 12, 11))
        );
    }

    #[test]
    fn coming_and_bare_weekdays_are_the_first_after_today() {
        assert_eq!(read("kommenden Freitag"), Ok(d(2026, 12, 4)));
        assert_eq!(read("Mittwoch"), Ok(d(2026, 12, 9)));
        assert_eq!(read("diesen Mittwoch"), Ok(today()));
    }

    #[test]
    fn weekday_of_a_named_week_is_never_ambiguous() {
        for input in [
            "nächste Woche Mittwoch",
            "Mittwoch nächste Woche",
            "next week Wednesday",
            "Wednesday next week",
            "Mittwoch in der nächsten Woche",
        ] {
            assert_eq!(read(input), Ok(d(2026, 12, 9)), "{input}");
        }
        assert_eq!(read("Dienstag übernächste Woche"), Ok(d(2026, 12, 15)));
        assert_eq!(read("diese Woche Freitag"), Ok(d(2026, 12, 4)));
    }

    #[test]
    fn part_of_a_week_is_its_first_day() {
        assert_eq!(read("Anfang nächster Woche"), Ok(d(2026, 12, 7)));
        assert_eq!(read("Mitte nächster Woche"), Ok(d(2026, 12, 9)));
        assert_eq!(read("Ende nächster Woche"), Ok(d(2026, 12, 11)));
        assert_eq!(read("nächste Woche"), Ok(d(2026, 12, 7)));
    }

    #[test]
    fn counted_days_and_weeks_from_today() {
        assert_eq!(read("in 3 Tagen"), Ok(d(2026, 12, 5)));
        assert_eq!(read("in zwei Wochen"), Ok(d(2026, 12, 16)));
        assert_eq!(read("heute in einer Woche"), Ok(d(2026, 12, 9)));
        assert_eq!(read("heute in acht Tagen"), Ok(d(2026, 12, 9)));
        assert_eq!(read("morgen in einer Woche"), Ok(d(2026, 12, 10)));
        assert_eq!(read("two weeks from today"), Ok(d(2026, 12, 16)));
    }

    #[test]
    fn german_ordinal_words_in_every_ending() {
        for (word, n) in [
            ("erste", 1),
            ("ersten", 1),
            ("erster", 1),
            ("zweiten", 2),
            ("dritten", 3),
            ("siebten", 7),
            ("siebenten", 7),
            ("achte", 8),
            ("sechsten", 6),
            ("zehnter", 10),
            ("zwoelften", 12),
            ("fuenfzehnten", 15),
            ("zwanzigsten", 20),
            ("einundzwanzigste", 21),
            ("dreissigsten", 30),
            ("einunddreissigster", 31),
        ] {
            assert_eq!(german_ordinal(word), Some(n), "{word}");
        }
        for word in ["heute", "mitte", "naechste", "letzte", "ein", "einte"] {
            assert_eq!(german_ordinal(word), None, "{word}");
        }
    }

    #[test]
    fn day_of_month_alone_is_the_next_such_day() {
        assert_eq!(read("am fünfzehnten"), Ok(d(2026, 12, 15)));
        assert_eq!(read("am 15."), Ok(d(2026, 12, 15)));
        assert_eq!(read("am ersten"), Ok(d(2027, 1, 1)));
        assert_eq!(read("the twenty-first"), Ok(d(2026, 12, 21)));
        assert_eq!(
            read("am 32."),
            Err(DateParseError::Impossible("am 32.".into()))
        );
    }

    #[test]
    fn month_names_roll_into_next_year_once_passed() {
        assert_eq!(read("10. Jänner"), Ok(d(2027, 1, 10)));
        assert_eq!(read("am zehnten Januar"), Ok(d(2027, 1, 10)));
        assert_eq!(read("fünfzehnter Dezember"), Ok(d(2026, 12, 15)));
        assert_eq!(read("December fifteenth"), Ok(d(2026, 12, 15)));
        assert_eq!(read("am fünfzehnten Zwölften"), Ok(d(2026, 12, 15)));
    }

    #[test]
    fn slash_dates_read_by_impossibility_else_asked() {
        assert_eq!(read("12/17/2026"), Ok(d(2026, 12, 17)));
        assert_eq!(read("17/12/2026"), Ok(d(2026, 12, 17)));
        assert_eq!(read("12/17"), Ok(d(2026, 12, 17)));
        assert_eq!(read("06/06"), Ok(d(2027, 6, 6)));
        assert_eq!(
            read("05/06"),
            ambiguous("05/06", &[d(2027, 5, 6), d(2027, 6, 5)])
        );
        assert_eq!(
            read("13/13"),
            Err(DateParseError::Impossible("13/13".into()))
        );
        // Dots are German: day, then month.
        assert_eq!(read("05.06."), Ok(d(2027, 6, 5)));
    }

    #[test]
    fn input_over_the_bound_is_refused_before_reading() {
        let at_bound = format!("{}morgen", " ".repeat(MAX_DATE_CHARS - 6));
        assert_eq!(read(&at_bound), Ok(d(2026, 12, 3)));
        let over = format!("{}morgen", " ".repeat(MAX_DATE_CHARS - 5));
        assert_eq!(
            read(&over),
            Err(DateParseError::TooLong {
                max: MAX_DATE_CHARS
            })
        );
        assert_eq!(
            read(&"ä".repeat(MAX_DATE_CHARS + 1)),
            Err(DateParseError::TooLong {
                max: MAX_DATE_CHARS
            })
        );
    }
}
