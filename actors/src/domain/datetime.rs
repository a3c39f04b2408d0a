//! Reading the dates and times callers say, German first and English second ("übermorgen",
//! "nächsten Dienstag", "15. Juli"; "halb drei", "viertel vor vier", "2:30 pm").
//!
//! No crate reads German spoken-date phrases, so the phrase grammar is ours; chrono does the
//! calendar arithmetic and decides which days exist. The date grammar lives in
//! [`super::date_phrase`] and is re-exported here; this file holds the time grammar and the
//! word tables both share. Both parsers take the words the agent's
//! LLM passed on, so they tolerate fillers ("am", "den", "um", "gegen"), umlauts spelled out
//! ("uebermorgen") and trailing punctuation, but never guess: what they can't read is an error.

use super::service_match::fold_umlauts;
use super::tenant::{BusinessWindow, Locale};
use chrono::{NaiveTime, Weekday};

pub use super::date_phrase::{DateParseError, MAX_DATE_CHARS, parse_date};

/// Why [`parse_time`] refused an input. Variants carry the input as given (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeParseError {
    /// The input is blank.
    #[error("no time given")]
    Empty,
    /// No supported form matches, or the words contradict each other ("14 Uhr morgens").
    #[error("cannot read {0:?} as a time of day")]
    Unrecognized(String),
    /// The form was read but names no time of day ("25 Uhr", "14:75").
    #[error("{0:?} is not a time of day")]
    OutOfRange(String),
    /// The caller named more than one time ("um acht oder neun", "3 or 4"): the function
    /// asks which one is meant instead of guessing.
    #[error("{0:?} names more than one time; ask which is meant")]
    Ambiguous(String),
    /// The input is longer than [`MAX_TIME_CHARS`]; refused before any other work.
    #[error("a time of day is at most {max} characters")]
    TooLong {
        /// The bound, [`MAX_TIME_CHARS`].
        max: usize,
    },
}

/// The longest input [`parse_time`] reads, in characters (Unicode scalar values). A time of
/// day as spoken ("fünf Minuten vor halb vier am Nachmittag") is well under it; longer input
/// is refused before it is looked at, which keeps the parser's work linear and bounded.
pub const MAX_TIME_CHARS: usize = 200;

/// Reads a time of day a caller said. `window` settles the 12-hour readings.
///
/// Accepted, case-insensitive, with or without "um"/"gegen"/"at"/"around" in front:
/// - digits: "14 Uhr", "14:30", "14.30", "14h", "14:30 Uhr", "14 Uhr 30", "14:30:00";
/// - German words: "vierzehn Uhr", "drei Uhr", "vierzehn Uhr dreißig", "halb drei" (2:30),
///   "viertel nach drei" (3:15), "viertel vor vier" (3:45), the Berlin forms "viertel vier"
///   (3:15) and "dreiviertel vier" (3:45), "zehn nach drei", "fünf vor halb vier" (3:25);
/// - English: "2 pm", "2:30 pm", "10 a.m.", "three o'clock", "two thirty", "half past two",
///   "quarter past three", "quarter to four", "ten to four";
/// - "Mittag"/"noon"/"midday" (12:00);
/// - a part of the day after any of these fixes am/pm: "morgens", "vormittags" (am);
///   "nachmittags", "abends", "in the afternoon" (pm); "mittags" (around noon: "ein Uhr
///   mittags" is 13:00).
///
/// Number words run from zero to fifty-nine in both languages ("eins"/"ein", "zwölf"/"zwoelf",
/// "dreiundzwanzig", "forty-five").
///
/// - a part of the day before any of these does the same: "früh um sieben" (07:00), "abends
///   um acht" (20:00), "am Nachmittag um drei" (15:00);
/// - "Punkt", "genau", "pünktlich" in front and "bitte"/"please" at the end are ignored.
///
/// "kurz nach drei" and "kurz vor vier" are not points: they are windows
/// ([`super::time_window::parse_window`]: 15:00–15:30 and 15:30–16:00) and are refused here.
///
/// A 12-hour reading (hour 1–12 without am/pm, a part of the day or a leading zero) that lies
/// before `window.opens` is moved to the afternoon when that lands within
/// `[window.opens, window.closes]`: with 08:00–20:00 "halb drei" is 14:30 and "3 Uhr" 15:00,
/// while "9 Uhr" stays 09:00. "07:30", written with a leading zero, is taken as a 24-hour
/// time. Times outside the window are returned as read.
///
/// # Errors
/// [`TimeParseError::TooLong`] above [`MAX_TIME_CHARS`], [`TimeParseError::Empty`] for blank
/// input, [`TimeParseError::Ambiguous`] for "X oder Y", [`TimeParseError::OutOfRange`] for
/// "25 Uhr" or "14:75", [`TimeParseError::Unrecognized`] for anything else.
pub fn parse_time(input: &str, window: BusinessWindow) -> Result<NaiveTime, TimeParseError> {
    if input.chars().nth(MAX_TIME_CHARS).is_some() {
        return Err(TimeParseError::TooLong {
            max: MAX_TIME_CHARS,
        });
    }
    let unrecognized = || TimeParseError::Unrecognized(input.trim().to_owned());
    let prepared = fold_umlauts(input)
        .replace("a.m.", " am ")
        .replace("p.m.", " pm ")
        .replace("o'clock", " oclock ");
    let words = words(&prepared);
    if words.is_empty() {
        return Err(TimeParseError::Empty);
    }
    let mut w: Vec<&str> = words.iter().map(String::as_str).collect();
    if w.iter().any(|word| ["oder", "or"].contains(word)) {
        return Err(TimeParseError::Ambiguous(input.trim().to_owned()));
    }
    strip_leading(&mut w, TIME_FILLERS);
    while w.len() > 1 && w.last().is_some_and(|last| TIME_TRAILERS.contains(last)) {
        w.pop();
    }
    let mut meridiem = None;
    let links = w
        .iter()
        .take_while(|word| DAYPART_LINKS.contains(word))
        .count();
    if w.len() > links + 1
        && let Some(m) = w
            .get(links)
            .filter(|first| !["am", "pm"].contains(first))
            .and_then(|first| meridiem_from_word(first))
    {
        meridiem = Some(m);
        w.drain(..=links);
        strip_leading(&mut w, TIME_FILLERS);
    }
    if w.len() > 1
        && let Some(m) = w.last().and_then(|last| meridiem_from_word(last))
    {
        if meridiem.is_some_and(|before| before != m) {
            return Err(unrecognized());
        }
        meridiem = Some(m);
        w.pop();
        while w.len() > 1 && w.last().is_some_and(|last| DAYPART_LINKS.contains(last)) {
            w.pop();
        }
    }
    let reading = read_clock_words(&w).ok_or_else(unrecognized)?;
    let minute_of_day = reading
        .minute_of_day
        .ok_or_else(|| TimeParseError::OutOfRange(input.trim().to_owned()))?;
    let (hour, minute) = (minute_of_day / 60, minute_of_day % 60);
    let hour = match meridiem {
        Some(Meridiem::Am) if hour == 12 => 0,
        Some(Meridiem::Am) if hour > 12 => return Err(unrecognized()),
        Some(Meridiem::Pm) if hour < 12 => hour + 12,
        Some(Meridiem::Midday) if hour < 6 => hour + 12,
        _ => hour,
    };
    let time = NaiveTime::from_hms_opt(hour, minute, 0)
        .ok_or_else(|| TimeParseError::OutOfRange(input.trim().to_owned()))?;
    if meridiem.is_none() && reading.twelve_hour && time < window.opens {
        let afternoon = NaiveTime::from_hms_opt(hour + 12, minute, 0);
        if let Some(pm) = afternoon.filter(|pm| (window.opens..=window.closes).contains(pm)) {
            return Ok(pm);
        }
    }
    Ok(time)
}

/// The name of `day` in `locale` ("Dienstag", "Tuesday"), for spoken replies.
pub fn weekday_name(day: Weekday, locale: Locale) -> &'static str {
    let (de, en) = match day {
        Weekday::Mon => ("Montag", "Monday"),
        Weekday::Tue => ("Dienstag", "Tuesday"),
        Weekday::Wed => ("Mittwoch", "Wednesday"),
        Weekday::Thu => ("Donnerstag", "Thursday"),
        Weekday::Fri => ("Freitag", "Friday"),
        Weekday::Sat => ("Samstag", "Saturday"),
        Weekday::Sun => ("Sonntag", "Sunday"),
    };
    match locale {
        Locale::De => de,
        Locale::En => en,
    }
}

/// Parts of the day said after a date; the date is the same day ("morgen früh").
pub(super) const DAYPARTS: &[&str] = &[
    "morgen",
    "morgens",
    "frueh",
    "vormittag",
    "vormittags",
    "mittag",
    "mittags",
    "nachmittag",
    "nachmittags",
    "abend",
    "abends",
    "morning",
    "afternoon",
    "evening",
];
/// Words that join a part of the day to what precedes it ("am Nachmittag", "in the evening").
pub(super) const DAYPART_LINKS: &[&str] = &["am", "in", "the", "der", "des"];
/// Words before a time that add nothing ("um drei", "so gegen drei", "at a quarter past").
const TIME_FILLERS: &[&str] = &[
    "um",
    "gegen",
    "so",
    "etwa",
    "ca",
    "circa",
    "ungefaehr",
    "at",
    "around",
    "about",
    "a",
    "punkt",
    "genau",
    "puenktlich",
    "gerne",
    "lieber",
    "dann",
    "also",
    "exactly",
    "am",
    "besten",
    "liebsten",
    "vielleicht",
    "eventuell",
    "ja",
    "wie",
    "waere",
    "es",
    "mit",
    "maybe",
    "perhaps",
    "how",
];
/// Words after a time that add nothing ("um drei rum", "14 Uhr bitte").
const TIME_TRAILERS: &[&str] = &["rum", "herum", "bitte", "please", "sharp", "genau"];

/// Lower-cases, folds umlauts and splits `input` into words: whitespace and `,;!?"„“”()`
/// separate, a hyphen next to a letter separates ("forty-five"), and so does a change
/// between letters and digits ("14uhr", "15th", "2pm", "15.juli"). Dots at either end of a
/// word go ("15.", "Okt.", "Uhr."), dots inside stay ("15.07", "14.30").
pub(super) fn words(input: &str) -> Vec<String> {
    let is_letter = |c: char| c.is_alphabetic() || c == '\'';
    let mut out = Vec::new();
    let mut push = |word: &mut String| {
        let trimmed = word.trim_matches('.');
        if !trimmed.is_empty() {
            out.push(trimmed.to_owned());
        }
        word.clear();
    };
    let folded = fold_umlauts(input);
    for raw in folded.split(|c: char| c.is_whitespace() || ",;!?\"„“”()".contains(c)) {
        let chars: Vec<char> = raw.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            if c == '-' && (prev.is_some_and(is_letter) || next.is_some_and(is_letter)) {
                push(&mut word);
                continue;
            }
            if prev.is_some_and(|p| p != '-' && is_letter(p) != is_letter(c)) {
                push(&mut word);
            }
            word.push(c);
        }
        push(&mut word);
    }
    out
}

fn strip_leading(words: &mut Vec<&str>, fillers: &[&str]) {
    let n = words.iter().take_while(|w| fillers.contains(w)).count();
    words.drain(..n);
}

/// `word` as a number if it is `min..=max` ASCII digits.
pub(super) fn digits(word: &str, min: usize, max: usize) -> Option<u32> {
    let ok = (min..=max).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit());
    if ok { word.parse().ok() } else { None }
}

/// Am/pm as said after a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
    /// "mittags": around noon, so "ein Uhr mittags" is 13:00 and "zwölf Uhr mittags" 12:00.
    Midday,
}

fn meridiem_from_word(word: &str) -> Option<Meridiem> {
    match word {
        "am" | "morgens" | "frueh" | "vormittag" | "vormittags" | "morning" => Some(Meridiem::Am),
        "pm" | "nachmittag" | "nachmittags" | "abend" | "abends" | "afternoon" | "evening" => {
            Some(Meridiem::Pm)
        }
        "mittag" | "mittags" | "noon" | "midday" => Some(Meridiem::Midday),
        _ => None,
    }
}

/// A time as said, before am/pm is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reading {
    /// Minutes after midnight, `None` when the words name no time of day ("25 Uhr").
    minute_of_day: Option<u32>,
    /// Said on a 12-hour clock (hour 1–12, no leading zero), so it may mean the afternoon.
    twelve_hour: bool,
}

impl Reading {
    /// `offset` minutes from the full hour `hour` ("halb drei" = three, −30).
    fn from_hour(hour: Number, offset: i64) -> Self {
        let minutes = i64::from(hour.value) * 60 + offset;
        Self {
            minute_of_day: u32::try_from(minutes).ok().filter(|m| *m < 24 * 60),
            twelve_hour: (1..=12).contains(&hour.value) && !hour.zero_padded,
        }
    }

    /// `hour:minute` as written ("14:30", "vierzehn Uhr dreißig").
    fn clock(hour: Number, minute: u32) -> Self {
        let mut reading = Self::from_hour(hour, i64::from(minute));
        if hour.value > 23 || minute > 59 {
            reading.minute_of_day = None;
        }
        reading
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Number {
    value: u32,
    /// Written with a leading zero ("07"), which marks a 24-hour time.
    zero_padded: bool,
}

/// Reads the words of a time, without fillers and am/pm, trying each form in turn.
fn read_clock_words(words: &[&str]) -> Option<Reading> {
    let forms: [fn(&mut Cursor) -> Option<Reading>; 4] =
        [noon, relative_to_hour, digital_clock, hour_then_minutes];
    forms.into_iter().find_map(|form| {
        let mut cursor = Cursor { words };
        let reading = form(&mut cursor)?;
        cursor.words.is_empty().then_some(reading)
    })
}

fn noon(c: &mut Cursor) -> Option<Reading> {
    c.eat_any(&["mittag", "mittags", "noon", "midday"])
        .then_some(Reading {
            minute_of_day: Some(12 * 60),
            twelve_hour: false,
        })
}

/// "halb drei", "viertel nach drei", "dreiviertel vier", "fünf vor halb vier", "half past
/// two", "quarter to four", "ten past three".
fn relative_to_hour(c: &mut Cursor) -> Option<Reading> {
    const AFTER: &[&str] = &["nach", "past", "after"];
    const BEFORE: &[&str] = &["vor", "to", "before", "of"];
    if c.eat("halb") {
        return Some(Reading::from_hour(c.hour()?, -30));
    }
    if c.eat("half") {
        c.eat("past");
        return Some(Reading::from_hour(c.hour()?, 30));
    }
    if c.eat("dreiviertel") || c.eat_all(&["drei", "viertel"]) {
        return Some(Reading::from_hour(c.hour()?, -15));
    }
    if c.eat("viertel") {
        let offset = if c.eat_any(AFTER) {
            15
        } else if c.eat_any(BEFORE) {
            -15
        } else {
            -45
        };
        return Some(Reading::from_hour(c.hour()?, offset));
    }
    if c.eat("quarter") {
        let offset = if c.eat_any(AFTER) {
            15
        } else if c.eat_any(BEFORE) {
            -15
        } else {
            return None;
        };
        return Some(Reading::from_hour(c.hour()?, offset));
    }
    let minutes = c.number()?.value;
    c.eat_any(&["minuten", "minute", "minutes", "min"]);
    let sign = if c.eat_any(AFTER) {
        1
    } else if c.eat_any(BEFORE) {
        -1
    } else {
        return None;
    };
    let from_half = if c.eat("halb") { -30 } else { 0 };
    if !(1..=59).contains(&minutes) {
        return None;
    }
    Some(Reading::from_hour(
        c.hour()?,
        sign * i64::from(minutes) + from_half,
    ))
}

/// "14:30", "14.30", "14:30:00", each optionally followed by "Uhr" or "h".
fn digital_clock(c: &mut Cursor) -> Option<Reading> {
    let word = c.take_word()?;
    let parts: Vec<&str> = word.split([':', '.']).collect();
    let (hour, minute) = match parts.as_slice() {
        [h, m] | [h, m, "00"] => (*h, *m),
        _ => return None,
    };
    let value = digits(hour, 1, 2)?;
    let minute = digits(minute, 2, 2)?;
    c.eat_any(&["uhr", "h"]);
    let hour = Number {
        value,
        zero_padded: hour.len() == 2 && hour.starts_with('0'),
    };
    Some(Reading::clock(hour, minute))
}

/// "14", "14 Uhr", "14h", "drei Uhr", "14 Uhr 30", "vierzehn Uhr dreißig", "two thirty".
fn hour_then_minutes(c: &mut Cursor) -> Option<Reading> {
    let hour = c.number()?;
    c.eat_any(&["uhr", "h", "oclock"]);
    let minute = match c.number() {
        Some(m) => m.value,
        None => 0,
    };
    Some(Reading::clock(hour, minute))
}

/// The words still to read.
struct Cursor<'a> {
    words: &'a [&'a str],
}

impl<'a> Cursor<'a> {
    fn take_word(&mut self) -> Option<&'a str> {
        let (first, rest) = self.words.split_first()?;
        self.words = rest;
        Some(first)
    }

    fn eat(&mut self, word: &str) -> bool {
        self.eat_all(&[word])
    }

    fn eat_any(&mut self, words: &[&str]) -> bool {
        words.iter().any(|w| self.eat(w))
    }

    /// Consumes `seq` only if the words start with all of it.
    fn eat_all(&mut self, seq: &[&str]) -> bool {
        let found = self.words.starts_with(seq);
        if found {
            self.words = &self.words[seq.len()..];
        }
        found
    }

    /// An hour of a relative form, optionally followed by "Uhr"/"o'clock".
    fn hour(&mut self) -> Option<Number> {
        let hour = self.number()?;
        self.eat_any(&["uhr", "oclock"]);
        Some(hour)
    }

    /// One or two digits, a German number word up to 59, or an English one (two words for
    /// "forty five").
    fn number(&mut self) -> Option<Number> {
        let first = *self.words.first()?;
        if let Some(value) = digits(first, 1, 2) {
            self.take_word();
            return Some(Number {
                value,
                zero_padded: first.len() == 2 && first.starts_with('0'),
            });
        }
        let value = german_number(first).or_else(|| english_number(first))?;
        self.take_word();
        let english_tens = value % 10 == 0 && value >= 20 && english_number(first).is_some();
        let unit = self
            .words
            .first()
            .and_then(|w| english_number(w))
            .filter(|u| (1..=9).contains(u));
        let value = match unit {
            Some(u) if english_tens => {
                self.take_word();
                value + u
            }
            _ => value,
        };
        Some(Number {
            value,
            zero_padded: false,
        })
    }
}

/// German number words 0–59, umlauts folded: "drei", "zwoelf", "dreiundzwanzig".
pub(super) fn german_number(word: &str) -> Option<u32> {
    const WORDS: &[(&str, u32)] = &[
        ("null", 0),
        ("eins", 1),
        ("ein", 1),
        ("eine", 1),
        ("zwei", 2),
        ("zwo", 2),
        ("drei", 3),
        ("vier", 4),
        ("fuenf", 5),
        ("sechs", 6),
        ("sieben", 7),
        ("acht", 8),
        ("neun", 9),
        ("zehn", 10),
        ("elf", 11),
        ("zwoelf", 12),
        ("dreizehn", 13),
        ("vierzehn", 14),
        ("fuenfzehn", 15),
        ("sechzehn", 16),
        ("siebzehn", 17),
        ("achtzehn", 18),
        ("neunzehn", 19),
        ("zwanzig", 20),
        ("dreissig", 30),
        ("vierzig", 40),
        ("fuenfzig", 50),
    ];
    let lookup = |w: &str| WORDS.iter().find(|(name, _)| *name == w).map(|&(_, n)| n);
    lookup(word).or_else(|| {
        let (unit, tens) = word.split_once("und")?;
        let unit = lookup(unit).filter(|u| (1..=9).contains(u))?;
        let tens = lookup(tens).filter(|t| t % 10 == 0 && *t >= 20)?;
        Some(tens + unit)
    })
}

/// English number words 0–19 and the tens to fifty; "forty five" is joined by the caller.
pub(super) fn english_number(word: &str) -> Option<u32> {
    const WORDS: &[&str] = &[
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    if let Some(n) = WORDS.iter().position(|w| *w == word) {
        return u32::try_from(n).ok();
    }
    match word {
        "twenty" => Some(20),
        "thirty" => Some(30),
        "forty" => Some(40),
        "fifty" => Some(50),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// Wednesday.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn window(opens: u32, closes: u32) -> BusinessWindow {
        BusinessWindow {
            opens: t(opens, 0),
            closes: t(closes, 0),
        }
    }

    fn date_ok(input: &str) -> NaiveDate {
        parse_date(input, today()).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    fn time_ok(input: &str, window: BusinessWindow) -> NaiveTime {
        parse_time(input, window).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    #[test]
    fn german_parsing_table() {
        let dates: &[(&str, Result<NaiveDate, DateParseError>)] = &[
            ("heute", Ok(d(2026, 7, 1))),
            ("today", Ok(d(2026, 7, 1))),
            ("morgen", Ok(d(2026, 7, 2))),
            ("Morgen", Ok(d(2026, 7, 2))),
            ("tomorrow", Ok(d(2026, 7, 2))),
            ("morgen früh", Ok(d(2026, 7, 2))),
            ("übermorgen", Ok(d(2026, 7, 3))),
            ("uebermorgen", Ok(d(2026, 7, 3))),
            ("Übermorgen.", Ok(d(2026, 7, 3))),
            ("day after tomorrow", Ok(d(2026, 7, 3))),
            ("the day after tomorrow", Ok(d(2026, 7, 3))),
            ("Dienstag", Ok(d(2026, 7, 7))),
            ("am Dienstag", Ok(d(2026, 7, 7))),
            ("nächsten Dienstag", Ok(d(2026, 7, 7))),
            ("naechsten Dienstag", Ok(d(2026, 7, 7))),
            ("Dienstag Nachmittag", Ok(d(2026, 7, 7))),
            ("next Tuesday", Ok(d(2026, 7, 7))),
            ("tuesday", Ok(d(2026, 7, 7))),
            ("Mittwoch", Ok(d(2026, 7, 8))),
            ("Donnerstag", Ok(d(2026, 7, 2))),
            ("Sonnabend", Ok(d(2026, 7, 4))),
            ("Sonntag", Ok(d(2026, 7, 5))),
            ("15.07.", Ok(d(2026, 7, 15))),
            ("15.7.", Ok(d(2026, 7, 15))),
            ("am 15.07.", Ok(d(2026, 7, 15))),
            ("den 15.7", Ok(d(2026, 7, 15))),
            ("15.07.2026", Ok(d(2026, 7, 15))),
            ("15.7.26", Ok(d(2026, 7, 15))),
            ("2026-07-15", Ok(d(2026, 7, 15))),
            ("15. Juli", Ok(d(2026, 7, 15))),
            ("15.Juli", Ok(d(2026, 7, 15))),
            ("15. Juli 2026", Ok(d(2026, 7, 15))),
            ("1. Okt.", Ok(d(2026, 10, 1))),
            ("3. März", Ok(d(2027, 3, 3))),
            ("3. Maerz", Ok(d(2027, 3, 3))),
            ("15 July", Ok(d(2026, 7, 15))),
            ("the 15th of July", Ok(d(2026, 7, 15))),
            ("July 15", Ok(d(2026, 7, 15))),
            ("July 15, 2026", Ok(d(2026, 7, 15))),
            ("July 15th, 2026", Ok(d(2026, 7, 15))),
            ("01.07.", Ok(d(2026, 7, 1))),
            ("30.06.", Ok(d(2027, 6, 30))),
            ("Mittwoch, den 15.07.2026", Ok(d(2026, 7, 15))),
            ("", Err(DateParseError::Empty)),
            ("  ", Err(DateParseError::Empty)),
            ("31.02.", Err(DateParseError::Impossible("31.02.".into()))),
            ("32.13.", Err(DateParseError::Impossible("32.13.".into()))),
            (
                "31. Juni 2026",
                Err(DateParseError::Impossible("31. Juni 2026".into())),
            ),
            (
                "irgendwann",
                Err(DateParseError::Unrecognized("irgendwann".into())),
            ),
            ("15/07", Ok(d(2026, 7, 15))),
            (
                "15. Juno",
                Err(DateParseError::Unrecognized("15. Juno".into())),
            ),
            (
                "Dienstag, 15.07.2026",
                Err(DateParseError::WeekdayMismatch {
                    input: "Dienstag, 15.07.2026".into(),
                    date: d(2026, 7, 15),
                    said: Weekday::Tue,
                }),
            ),
        ];
        for (input, expected) in dates {
            assert_eq!(&parse_date(input, today()), expected, "date {input:?}");
        }

        let w = window(9, 18);
        let times: &[(&str, Result<NaiveTime, TimeParseError>)] = &[
            ("14 Uhr", Ok(t(14, 0))),
            ("14Uhr", Ok(t(14, 0))),
            ("um 14 Uhr", Ok(t(14, 0))),
            ("14:30", Ok(t(14, 30))),
            ("14.30", Ok(t(14, 30))),
            ("14:30:00", Ok(t(14, 30))),
            ("14h", Ok(t(14, 0))),
            ("14:30 Uhr", Ok(t(14, 30))),
            ("14:30 Uhr.", Ok(t(14, 30))),
            ("14 Uhr 30", Ok(t(14, 30))),
            ("vierzehn Uhr", Ok(t(14, 0))),
            ("vierzehn Uhr dreißig", Ok(t(14, 30))),
            ("drei Uhr", Ok(t(15, 0))),
            ("so gegen drei", Ok(t(15, 0))),
            ("ein Uhr", Ok(t(13, 0))),
            ("eins", Ok(t(13, 0))),
            ("elf Uhr", Ok(t(11, 0))),
            ("zwölf Uhr", Ok(t(12, 0))),
            ("zwoelf Uhr", Ok(t(12, 0))),
            ("9 Uhr", Ok(t(9, 0))),
            ("8 Uhr", Ok(t(8, 0))),
            ("07:30", Ok(t(7, 30))),
            ("halb drei", Ok(t(14, 30))),
            ("halb 3", Ok(t(14, 30))),
            ("halb zwölf", Ok(t(11, 30))),
            ("halb eins", Ok(t(12, 30))),
            ("viertel nach drei", Ok(t(15, 15))),
            ("viertel vor vier", Ok(t(15, 45))),
            ("viertel vier", Ok(t(15, 15))),
            ("dreiviertel vier", Ok(t(15, 45))),
            ("zehn nach drei", Ok(t(15, 10))),
            ("fünf vor halb vier", Ok(t(15, 25))),
            ("fünf nach halb vier", Ok(t(15, 35))),
            ("drei Uhr nachmittags", Ok(t(15, 0))),
            ("halb drei am Nachmittag", Ok(t(14, 30))),
            ("ein Uhr mittags", Ok(t(13, 0))),
            ("Mittag", Ok(t(12, 0))),
            ("noon", Ok(t(12, 0))),
            ("2 pm", Ok(t(14, 0))),
            ("2pm", Ok(t(14, 0))),
            ("2:30 pm", Ok(t(14, 30))),
            ("6 p.m.", Ok(t(18, 0))),
            ("10 am", Ok(t(10, 0))),
            ("10 a.m.", Ok(t(10, 0))),
            ("12 am", Ok(t(0, 0))),
            ("three o'clock", Ok(t(15, 0))),
            ("two thirty", Ok(t(14, 30))),
            ("two forty-five", Ok(t(14, 45))),
            ("half past two", Ok(t(14, 30))),
            ("at a quarter past three", Ok(t(15, 15))),
            ("quarter to four", Ok(t(15, 45))),
            ("ten to four", Ok(t(15, 50))),
            ("", Err(TimeParseError::Empty)),
            ("25 Uhr", Err(TimeParseError::OutOfRange("25 Uhr".into()))),
            ("14:75", Err(TimeParseError::OutOfRange("14:75".into()))),
            (
                "irgendwann",
                Err(TimeParseError::Unrecognized("irgendwann".into())),
            ),
            (
                "viertel nach",
                Err(TimeParseError::Unrecognized("viertel nach".into())),
            ),
            (
                "14 Uhr morgens",
                Err(TimeParseError::Unrecognized("14 Uhr morgens".into())),
            ),
            ("1430", Err(TimeParseError::Unrecognized("1430".into()))),
        ];
        for (input, expected) in times {
            assert_eq!(&parse_time(input, w), expected, "time {input:?}");
        }
    }

    #[test]
    fn relative_german_dates() {
        assert_eq!(date_ok("heute"), d(2026, 7, 1));
        assert_eq!(date_ok("morgen"), d(2026, 7, 2));
        assert_eq!(date_ok("übermorgen"), d(2026, 7, 3));
    }

    #[test]
    fn morgen_means_tomorrow_even_capitalised_or_with_am() {
        for input in ["Morgen", "MORGEN", "am Morgen", "morgen Vormittag"] {
            assert_eq!(date_ok(input), d(2026, 7, 2), "{input}");
        }
    }

    #[test]
    fn weekday_means_next_occurrence_after_today() {
        // Today is a Wednesday: its own name is a week ahead, never today.
        assert_eq!(date_ok("Mittwoch"), d(2026, 7, 8));
        assert_eq!(date_ok("nächsten Mittwoch"), d(2026, 7, 8));
        assert_eq!(date_ok("Donnerstag"), d(2026, 7, 2));
        assert_eq!(date_ok("next Tuesday"), d(2026, 7, 7));
    }

    #[test]
    fn dotted_date_without_year_rolls_to_next_year_when_past() {
        assert_eq!(date_ok("30.06."), d(2027, 6, 30));
        assert_eq!(date_ok("01.07."), d(2026, 7, 1));
        assert_eq!(date_ok("2.7."), d(2026, 7, 2));
    }

    #[test]
    fn explicit_year_is_kept_even_in_the_past() {
        assert_eq!(date_ok("30.06.2026"), d(2026, 6, 30));
    }

    #[test]
    fn impossible_date_is_an_error_not_adjusted() {
        for input in ["31.02.", "29.02.2026", "2026-02-30", "0.7.", "15.00."] {
            assert_eq!(
                parse_date(input, today()),
                Err(DateParseError::Impossible(input.into())),
                "{input}"
            );
        }
        assert_eq!(date_ok("29.02.2028"), d(2028, 2, 29));
    }

    #[test]
    fn weekday_and_date_must_agree() {
        assert_eq!(date_ok("Mittwoch, 15.07."), d(2026, 7, 15));
        assert!(matches!(
            parse_date("Freitag, den 15. Juli", today()),
            Err(DateParseError::WeekdayMismatch {
                said: Weekday::Fri,
                ..
            })
        ));
    }

    #[test]
    fn halb_drei_is_half_past_two_pm_in_business_hours() {
        assert_eq!(time_ok("halb drei", window(9, 18)), t(14, 30));
        assert_eq!(time_ok("halb drei", BusinessWindow::default()), t(14, 30));
    }

    #[test]
    fn ambiguous_hour_reads_as_afternoon_only_when_morning_is_before_opening() {
        let w = BusinessWindow::default(); // 08:00–20:00
        assert_eq!(time_ok("3 Uhr", w), t(15, 0));
        assert_eq!(time_ok("9 Uhr", w), t(9, 0));
        assert_eq!(time_ok("7 Uhr", w), t(19, 0));
        // 21:00 is after closing, so the morning reading stands.
        assert_eq!(time_ok("9 Uhr", window(10, 18)), t(9, 0));
    }

    #[test]
    fn am_pm_and_parts_of_day_override_the_window() {
        let w = window(9, 18);
        assert_eq!(time_ok("3 Uhr morgens", w), t(3, 0));
        assert_eq!(time_ok("3 am", w), t(3, 0));
        assert_eq!(time_ok("8 Uhr abends", w), t(20, 0));
    }

    #[test]
    fn twenty_four_hour_times_are_never_moved() {
        let w = window(9, 18);
        assert_eq!(time_ok("13 Uhr", w), t(13, 0));
        assert_eq!(time_ok("08:00", w), t(8, 0));
        assert_eq!(time_ok("0:30", w), t(0, 30));
    }

    #[test]
    fn number_words_in_both_languages() {
        let w = window(0, 23);
        for (word, n) in [
            ("eins", 1),
            ("zwei", 2),
            ("drei", 3),
            ("vier", 4),
            ("fünf", 5),
            ("sechs", 6),
            ("sieben", 7),
            ("acht", 8),
            ("neun", 9),
            ("zehn", 10),
            ("elf", 11),
            ("zwölf", 12),
            ("one", 1),
            ("seven", 7),
            ("twelve", 12),
            ("dreiundzwanzig", 23),
        ] {
            assert_eq!(time_ok(&format!("{word} Uhr"), w), t(n, 0), "{word}");
        }
    }

    #[test]
    fn errors_name_the_input() {
        let err = parse_time("um Viertel nach Zwanzig vor", window(9, 18)).unwrap_err();
        assert!(
            err.to_string().contains("um Viertel nach Zwanzig vor"),
            "{err}"
        );
        let err = parse_date(" nie ", today()).unwrap_err();
        assert_eq!(err.to_string(), "cannot read \"nie\" as a date");
    }

    #[test]
    fn a_weekday_past_the_last_date_is_refused_not_a_panic() {
        assert!(parse_date("montag", NaiveDate::MAX).is_err());
        assert!(parse_date("nächsten Dienstag", NaiveDate::MAX).is_err());
    }
}
