//! Reading the spans of time callers offer instead of a point: "vormittags", "am Nachmittag",
//! "so gegen Mittag", "nach 17 Uhr", "zwischen 14 und 16 Uhr", "any time Thursday".
//!
//! A [`TimeWindow`] is a span of start times on the company's local clock, optionally on a
//! day said with it. The functions search it and offer the best free slots inside.
//!
//! # The bounds (fixed here, clipped to the branch's [`BusinessWindow`])
//! | said | window |
//! |---|---|
//! | "früh", "morgens früh", "gleich morgens", "early", "first thing" | opening – 10:00 |
//! | "vormittags", "am Vormittag", "morgens", "in the morning" | opening – 12:00 |
//! | "am späten Vormittag", "late morning" | 10:00 – 12:00 |
//! | "mittags", "so gegen Mittag", "über Mittag", "around noon", "at lunchtime" | 11:30 – 13:30 |
//! | "nachmittags", "am Nachmittag", "in the afternoon" | 12:00 – 17:00 |
//! | "am frühen Nachmittag", "early afternoon" | 12:00 – 15:00 |
//! | "am späten Nachmittag", "late afternoon" | 15:00 – 17:00 |
//! | "abends", "am Abend", "in the evening", "nach der Arbeit", "after work" | 17:00 – closing |
//! | "nach dem Mittagessen", "after lunch" | 13:00 – closing |
//! | "vor dem Mittag", "before lunch" | opening – 12:00 |
//! | "nach X", "ab X", "after X", "not before X" | X – closing |
//! | "vor X", "bis X", "before X", "until X", "spätestens X" | opening – X |
//! | "zwischen X und Y", "von X bis Y", "X bis Y", "X-Y", "between X and Y", "from X to Y" | X – Y |
//! | "kurz nach X" / "kurz vor X" | X – X+30 min / X−30 min – X |
//! | "egal wann", "den ganzen Tag", "jederzeit", "any time", "all day", "whenever" | opening – closing |
//!
//! X and Y are read by [`parse_time`], so "nach 5" is 17:00 with the usual 08:00–20:00
//! window, like "5 Uhr" alone. "Mittag" alone, "um drei" and every other point of time are
//! not windows ([`WindowParseError::NotAWindow`]): "kurz nach drei" is a window because no
//! caller means 15:05 sharp, while "so gegen drei" stays the point 15:00.
//!
//! A day said before or after the window ("Donnerstag nachmittags", "egal wann am
//! Donnerstag", "morgen früh") is read by [`parse_date`]; its errors pass through, so an
//! ambiguous day is asked about, not guessed.
//!
//! Linear time by construction: input longer than [`MAX_WINDOW_CHARS`] is refused before any
//! work; the words are scanned once for the window's start, the window's grammar reads each
//! word at most a bounded number of times (a time is at most [`MAX_TIME_WORDS`] words), and
//! the words left over are read once by [`parse_date`].

use super::datetime::{DateParseError, TimeParseError, parse_date, parse_time, words};
use super::tenant::BusinessWindow;
use chrono::{NaiveDate, NaiveTime, TimeDelta};

/// The longest input [`parse_window`] reads, in characters; longer input is refused first.
pub const MAX_WINDOW_CHARS: usize = 200;

/// The most words a time inside a window may have ("fünf vor halb vier Uhr nachmittags").
pub const MAX_TIME_WORDS: usize = 6;

/// A span of start times on one day or on any day, local to the company.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// The day said with the window; `None`: the window applies to the day asked otherwise.
    pub date: Option<NaiveDate>,
    /// Earliest start, inclusive.
    pub from: NaiveTime,
    /// Latest start, exclusive; equal to the closing time for "until closing".
    pub to: NaiveTime,
}

impl TimeWindow {
    /// Whether a slot starting at `start` lies in the window (`from <= start < to`).
    pub fn contains(&self, start: NaiveTime) -> bool {
        self.from <= start && start < self.to
    }

    /// Up to `n` of `free` (start times, sorted ascending) inside the window, chosen as the
    /// caller is best served: all of them when there are at most `n`, otherwise the earliest,
    /// the latest and, between them, those spread evenly over the rest (for `n` = 3: first,
    /// middle, last). Returned sorted.
    pub fn best(&self, free: &[NaiveTime], n: usize) -> Vec<NaiveTime> {
        let inside: Vec<NaiveTime> = free.iter().copied().filter(|t| self.contains(*t)).collect();
        if inside.len() <= n || n < 2 {
            return inside.into_iter().take(n).collect();
        }
        let last = inside.len() - 1;
        (0..n).map(|i| inside[i * last / (n - 1)]).collect()
    }
}

/// Why [`parse_window`] refused an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowParseError {
    /// The input is longer than [`MAX_WINDOW_CHARS`]; nothing else was looked at.
    #[error("a time window is at most {max} characters")]
    TooLong {
        /// The bound, [`MAX_WINDOW_CHARS`].
        max: usize,
    },
    /// The input is blank.
    #[error("no time window given")]
    Empty,
    /// The input is a point of time ("14 Uhr", "Mittag") or names no window at all; the
    /// caller reads it with [`parse_time`] instead.
    #[error("{0:?} is not a time window")]
    NotAWindow(String),
    /// Two windows or times were offered ("vormittags oder nachmittags"): ask which.
    #[error("{0:?} offers more than one window; ask which is meant")]
    Ambiguous(String),
    /// The window lies outside the business hours once clipped ("nach 21 Uhr" when the
    /// branch closes at 20:00), or ends before it starts ("zwischen 16 und 14 Uhr").
    #[error("{0:?} leaves no time within the business hours")]
    OutsideHours(String),
    /// A bound of the window is not a time of day ("nach 25 Uhr").
    #[error(transparent)]
    Time(#[from] TimeParseError),
    /// The day said with the window could not be read or is ambiguous.
    #[error(transparent)]
    Date(#[from] DateParseError),
}

impl WindowParseError {
    /// Whether the caller should be asked which day or window is meant, rather than told it
    /// was not understood.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Ambiguous(_))
    }
}

/// Reads a time window a caller said, with an optional day, relative to `today` (local).
///
/// `window` is the branch's business window: it gives "opening" and "closing" in the table
/// of the module docs, settles 12-hour bounds like [`parse_time`] and clips every window.
///
/// # Errors
/// [`WindowParseError::TooLong`] above [`MAX_WINDOW_CHARS`] (checked first),
/// [`WindowParseError::Empty`] for blank input, [`WindowParseError::NotAWindow`] for a point
/// of time or anything without a window, [`WindowParseError::Ambiguous`] for "X oder Y",
/// [`WindowParseError::OutsideHours`] when nothing of the window is within business hours,
/// [`WindowParseError::Time`] / [`WindowParseError::Date`] for a bound or day that cannot be
/// read.
pub fn parse_window(
    input: &str,
    window: BusinessWindow,
    today: NaiveDate,
) -> Result<TimeWindow, WindowParseError> {
    if input.chars().nth(MAX_WINDOW_CHARS).is_some() {
        return Err(WindowParseError::TooLong {
            max: MAX_WINDOW_CHARS,
        });
    }
    let said = || input.trim().to_owned();
    let words = words(input);
    if words.is_empty() {
        return Err(WindowParseError::Empty);
    }
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    if w.iter().any(|word| ["oder", "or"].contains(word)) {
        return Err(WindowParseError::Ambiguous(said()));
    }
    let start = window_start(&w).ok_or_else(|| WindowParseError::NotAWindow(said()))?;
    let mut cursor = Cursor {
        words: &w[start..],
        window,
        roughly: false,
        noon: false,
    };
    let (from, to) = cursor
        .window()?
        .ok_or_else(|| WindowParseError::NotAWindow(said()))?;
    let rest: Vec<&str> = w[..start]
        .iter()
        .chain(cursor.words.iter())
        .copied()
        .filter(|word| !DAY_FILLERS.contains(word))
        .collect();
    let date = if rest.is_empty() {
        Ok(None)
    } else if rest == ["this"] {
        // "this afternoon"
        Ok(Some(today))
    } else {
        parse_date(&rest.join(" "), today).map(Some)
    };
    // "drei Uhr nachmittags" and "früh um sieben" name a part of the day, but only to settle
    // a point; only "so gegen Mittag" (with at most a day) widens what parse_time reads as a
    // point into a window.
    if !(cursor.noon && date.is_ok()) && parse_time(input, window).is_ok() {
        return Err(WindowParseError::NotAWindow(said()));
    }
    let date = date?;
    let from = from.max(window.opens);
    let to = to.min(window.closes);
    if from >= to {
        return Err(WindowParseError::OutsideHours(said()));
    }
    Ok(TimeWindow { date, from, to })
}

/// Words that begin a window, possibly after [`LINKS`].
const ANCHORS: &[&str] = &[
    "zwischen",
    "between",
    "von",
    "from",
    "nach",
    "after",
    "ab",
    "vor",
    "before",
    "bis",
    "until",
    "till",
    "til",
    "spaetestens",
    "fruehestens",
    "kurz",
    "frueh",
    "fruehmorgens",
    "morgens",
    "vormittag",
    "vormittags",
    "spaetvormittags",
    "mittag",
    "mittags",
    "mittagszeit",
    "mittagspause",
    "nachmittag",
    "nachmittags",
    "spaetnachmittags",
    "abend",
    "abends",
    "fruehen",
    "spaeten",
    "frueher",
    "spaeter",
    "egal",
    "jederzeit",
    "ganztags",
    "ganzen",
    "ganzer",
    "any",
    "anytime",
    "whenever",
    "all",
    "whole",
    "early",
    "late",
    "first",
    "morning",
    "afternoon",
    "evening",
    "noon",
    "midday",
    "lunch",
    "lunchtime",
    "not",
    "no",
    "nicht",
    "later",
    "earlier",
];

/// Words that may stand before a window and belong to it ("am Nachmittag", "so gegen
/// Mittag", "in the morning", "irgendwann am Vormittag").
const LINKS: &[&str] = &[
    "am",
    "im",
    "in",
    "the",
    "der",
    "des",
    "so",
    "gegen",
    "um",
    "at",
    "around",
    "about",
    "eher",
    "lieber",
    "gerne",
    "gern",
    "irgendwann",
    "sometime",
    "gleich",
    "ganz",
    "den",
    "zur",
    "ueber",
    "die",
    "liebsten",
    "besten",
];

/// Links that make a point rough ("so gegen Mittag", "around noon", "über Mittag").
const ROUGHLY: &[&str] = &["so", "gegen", "around", "about", "ueber", "ganz"];

/// Words left around the day that add nothing once the window is taken out ("egal wann am
/// Donnerstag": "am").
const DAY_FILLERS: &[&str] = &[
    "am",
    "on",
    "the",
    "den",
    "an",
    "at",
    "dem",
    "so",
    "bitte",
    "please",
    "irgendwann",
    "liebsten",
    "besten",
    "lieber",
    "gerne",
];

/// Words before "nach"/"vor"/"past"/"to" that make them part of a clock time ("zehn nach
/// drei", "quarter to four"), not the start of a window.
fn is_minutes_word(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_digit())
        || [
            "viertel", "quarter", "minuten", "minutes", "min", "halb", "half", "eins", "ein",
            "zwei", "drei", "vier", "fuenf", "zehn", "zwanzig", "five", "ten", "twenty",
        ]
        .contains(&word)
}

/// "14-16", "9:30–11": two clock numbers joined by a dash.
fn is_dash_range(word: &str) -> bool {
    word.split_once(['-', '–']).is_some_and(|(a, b)| {
        let clock = |s: &str| {
            s.starts_with(|c: char| c.is_ascii_digit())
                && s.chars()
                    .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
        };
        clock(a) && clock(b)
    })
}

/// Index of the first word of the window phrase: the first anchor, with the links before it.
fn window_start(w: &[&str]) -> Option<usize> {
    let anchor = w.iter().enumerate().position(|(i, word)| {
        (ANCHORS.contains(word) || is_dash_range(word))
            && !(["nach", "vor", "after", "before"].contains(word)
                && i > 0
                && is_minutes_word(w[i - 1]))
    })?;
    let links = w[..anchor]
        .iter()
        .rev()
        .take_while(|word| LINKS.contains(word))
        .count();
    Some(anchor - links)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// The words of the window still to read.
struct Cursor<'a> {
    words: &'a [&'a str],
    window: BusinessWindow,
    /// An approximation came before the window ("so gegen", "around", "über").
    roughly: bool,
    /// The window is the span around noon said roughly ("so gegen Mittag"), which
    /// [`parse_time`] alone would read as 12:00.
    noon: bool,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, word: &str) -> bool {
        self.eat_all(&[word])
    }

    fn eat_any(&mut self, words: &[&str]) -> bool {
        words.iter().any(|w| self.eat(w))
    }

    fn eat_all(&mut self, seq: &[&str]) -> bool {
        let found = self.words.starts_with(seq);
        if found {
            self.words = &self.words[seq.len()..];
        }
        found
    }

    fn peek_any(&self, words: &[&str]) -> bool {
        self.words.first().is_some_and(|w| words.contains(w))
    }

    /// The longest run of at most [`MAX_TIME_WORDS`] words, stopping before any of `stop`,
    /// that [`parse_time`] reads. The error of the longest run is kept when none reads.
    fn time(&mut self, stop: &[&str]) -> Result<Option<NaiveTime>, TimeParseError> {
        let limit = self
            .words
            .iter()
            .take(MAX_TIME_WORDS)
            .take_while(|w| !stop.contains(w))
            .count();
        let mut first_error = None;
        for n in (1..=limit).rev() {
            match parse_time(&self.words[..n].join(" "), self.window) {
                Ok(t) => {
                    self.words = &self.words[n..];
                    return Ok(Some(t));
                }
                Err(e @ TimeParseError::OutOfRange(_)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {}
            }
        }
        first_error.map_or(Ok(None), Err)
    }

    /// A named time used as a bound: "(nach dem) Mittagessen" 13:00, "(vor dem) Mittag"
    /// 12:00, "(after) lunch"; "(nach der) Arbeit", "(after) work" 17:00, only `after`.
    fn named_bound(&mut self, after: bool) -> Option<NaiveTime> {
        let rest = self.words;
        self.eat_any(&["dem", "der", "the", "my", "meiner"]);
        if self.eat_any(&[
            "mittagessen",
            "mittag",
            "mittagspause",
            "lunch",
            "noon",
            "midday",
        ]) {
            return Some(if after { hm(13, 0) } else { hm(12, 0) });
        }
        if after && self.eat_any(&["arbeit", "work"]) {
            return Some(hm(17, 0));
        }
        self.words = rest;
        None
    }

    /// Reads the window's words; `None` when they are not a window.
    fn window(&mut self) -> Result<Option<(NaiveTime, NaiveTime)>, WindowParseError> {
        let (opens, closes) = (self.window.opens, self.window.closes);
        while let Some(link) = self.words.first().filter(|w| LINKS.contains(w)) {
            self.roughly |= ROUGHLY.contains(link);
            self.words = &self.words[1..];
        }
        // Ranges: "zwischen 14 und 16 Uhr", "von 9 bis 11", "between 2 and 4", "14-16 Uhr".
        if self.eat_any(&["zwischen", "between", "von", "from"]) {
            let joiners = ["und", "and", "bis", "to", "till", "until", "til"];
            let Some(from) = self.time(&joiners)? else {
                return Ok(None);
            };
            if !self.eat_any(&joiners) {
                if self.eat_all(&["on"]) || self.words.is_empty() {
                    // "from 3 on"
                    return Ok(Some((from, closes)));
                }
                return Ok(None);
            }
            let Some(to) = self.time(&[])? else {
                return Ok(None);
            };
            self.eat_any(&["on", "onwards"]);
            return Ok(Some((from, to)));
        }
        if let Some(range) = self.dash_range()? {
            return Ok(Some(range));
        }
        if self.eat("kurz") {
            let after = if self.eat_any(&["nach", "after"]) {
                true
            } else if self.eat_any(&["vor", "before"]) {
                false
            } else {
                return Ok(None);
            };
            let Some(t) = self.time(&[])? else {
                return Ok(None);
            };
            let half = TimeDelta::minutes(30);
            return Ok(Some(if after {
                (t, t.overflowing_add_signed(half).0.max(t))
            } else {
                (t.overflowing_sub_signed(half).0.min(t), t)
            }));
        }
        if self.eat_any(&["nach", "after", "ab", "fruehestens"])
            || self.eat_all(&["nicht", "vor"])
            || self.eat_all(&["not", "before"])
            || self.eat_all(&["no", "earlier", "than"])
            || self.eat_all(&["later", "than"])
        {
            self.eat_any(&["um", "at"]);
            if let Some(t) = self.named_bound(true) {
                return Ok(Some((t, closes)));
            }
            let Some(t) = self.time(&[])? else {
                return Ok(None);
            };
            self.eat_any(&["on", "onwards"]);
            return Ok(Some((t, closes)));
        }
        if self.eat_any(&[
            "vor",
            "before",
            "bis",
            "until",
            "till",
            "til",
            "spaetestens",
        ]) || self.eat_all(&["nicht", "nach"])
            || self.eat_all(&["not", "after"])
            || self.eat_all(&["no", "later", "than"])
            || self.eat_all(&["earlier", "than"])
        {
            self.eat_any(&["spaetestens", "um", "at"]);
            if let Some(t) = self.named_bound(false) {
                return Ok(Some((opens, t)));
            }
            let Some(t) = self.time(&[])? else {
                return Ok(None);
            };
            return Ok(Some((opens, t)));
        }
        let Some((from, to)) = self.part_of_day() else {
            return Ok(None);
        };
        // "nachmittags ab drei", "vormittags bis elf": a bound narrows the part of the day.
        if self.eat_any(&["ab", "nach", "after", "from"]) {
            if let Some(t) = self.time(&[])? {
                return Ok(Some((from.max(t), to)));
            }
        } else if self.eat_any(&["bis", "vor", "before", "until", "till"]) {
            self.eat("spaetestens");
            if let Some(t) = self.time(&[])? {
                return Ok(Some((from, to.min(t))));
            }
        }
        Ok(Some((from, to)))
    }

    /// "14-16", "14-16 Uhr", "9-11 am": one word with a dash between two numbers.
    fn dash_range(&mut self) -> Result<Option<(NaiveTime, NaiveTime)>, WindowParseError> {
        let Some((first, rest)) = self.words.split_first() else {
            return Ok(None);
        };
        if !is_dash_range(first) {
            return Ok(None);
        }
        let Some((a, b)) = first.split_once(['-', '–']) else {
            return Ok(None);
        };
        let tail: Vec<&str> = rest.iter().take(2).copied().collect();
        let from = parse_time(a, self.window)?;
        let with_tail = std::iter::once(b)
            .chain(tail.iter().copied())
            .collect::<Vec<_>>();
        for n in (0..=tail.len()).rev() {
            if let Ok(to) = parse_time(&with_tail[..=n].join(" "), self.window) {
                self.words = &rest[n..];
                return Ok(Some((from, to)));
            }
        }
        Ok(None)
    }

    /// The named parts of the day and the whole day (see the module's table).
    fn part_of_day(&mut self) -> Option<(NaiveTime, NaiveTime)> {
        let (opens, closes) = (self.window.opens, self.window.closes);
        let early = self.eat_any(&["fruehen", "frueher", "early"]);
        let late = !early && self.eat_any(&["spaeten", "spaeter", "late"]);
        if early || late {
            self.eat_any(&["am", "in", "the"]);
            self.eat("the");
        }
        let span = if self.eat_any(&["nachmittag", "nachmittags", "afternoon"]) {
            match (early, late) {
                (true, _) => (hm(12, 0), hm(15, 0)),
                (_, true) => (hm(15, 0), hm(17, 0)),
                _ => (hm(12, 0), hm(17, 0)),
            }
        } else if self.eat_any(&["vormittag", "vormittags", "morning"]) {
            if late {
                (hm(10, 0), hm(12, 0))
            } else if early {
                (opens, hm(10, 0))
            } else {
                (opens, hm(12, 0))
            }
        } else if self.eat("spaetvormittags") {
            (hm(10, 0), hm(12, 0))
        } else if self.eat("spaetnachmittags") {
            (hm(15, 0), hm(17, 0))
        } else if self.eat_any(&["abend", "abends", "evening"]) {
            if early {
                (hm(17, 0), hm(19, 0))
            } else {
                (hm(17, 0), closes)
            }
        } else if self.eat_any(&["morgens", "fruehmorgens"]) {
            if self.eat("frueh") || early {
                (opens, hm(10, 0))
            } else {
                (opens, hm(12, 0))
            }
        } else if self.eat("frueh") || (early && self.words.is_empty()) {
            self.eat("morgens");
            (opens, hm(10, 0))
        } else if self.eat_all(&["first", "thing"]) {
            self.eat_all(&["in", "the", "morning"]);
            (opens, hm(10, 0))
        } else if self.eat_any(&["mittags", "mittagszeit", "mittagspause", "lunchtime"])
            || self.eat_all(&["lunch", "time"])
            || self.eat("lunch")
            || (self.roughly && self.eat_any(&["mittag", "noon", "midday"]))
        {
            self.noon = true;
            (hm(11, 30), hm(13, 30))
        } else if self.eat_all(&["egal", "wann"])
            || self.eat("egal")
            || self.eat_any(&["jederzeit", "ganztags", "anytime", "whenever"])
            || self.eat_all(&["ganzen", "tag"])
            || self.eat_all(&["ganzer", "tag"])
            || self.eat_all(&["any", "time"])
            || self.eat_all(&["all", "day"])
            || self.eat_all(&["whole", "day"])
        {
            self.eat_all(&["long"]);
            self.eat_all(&["ueber"]);
            (opens, closes)
        } else {
            return None;
        };
        while self.peek_any(&["rum", "herum", "bitte", "please"]) {
            self.words = &self.words[1..];
        }
        Some(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    }

    fn w(input: &str) -> Result<TimeWindow, WindowParseError> {
        parse_window(input, BusinessWindow::default(), today())
    }

    fn span(input: &str) -> (NaiveTime, NaiveTime) {
        let found = w(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        (found.from, found.to)
    }

    #[test]
    fn times_window_parts_of_day_have_the_documented_bounds() {
        assert_eq!(span("vormittags"), (hm(8, 0), hm(12, 0)));
        assert_eq!(span("am Nachmittag"), (hm(12, 0), hm(17, 0)));
        assert_eq!(span("abends"), (hm(17, 0), hm(20, 0)));
        assert_eq!(span("so gegen Mittag"), (hm(11, 30), hm(13, 30)));
        assert_eq!(span("früh"), (hm(8, 0), hm(10, 0)));
        assert_eq!(span("egal wann"), (hm(8, 0), hm(20, 0)));
    }

    #[test]
    fn times_window_bounds_read_like_times() {
        assert_eq!(span("nach 17 Uhr"), (hm(17, 0), hm(20, 0)));
        assert_eq!(span("after 5"), (hm(17, 0), hm(20, 0)));
        assert_eq!(span("vor zehn"), (hm(8, 0), hm(10, 0)));
        assert_eq!(span("zwischen 14 und 16 Uhr"), (hm(14, 0), hm(16, 0)));
        assert_eq!(span("between 2 and 4"), (hm(14, 0), hm(16, 0)));
        assert_eq!(span("kurz nach drei"), (hm(15, 0), hm(15, 30)));
    }

    #[test]
    fn times_window_is_clipped_to_business_hours() {
        let short = BusinessWindow {
            opens: hm(9, 0),
            closes: hm(16, 0),
        };
        let found = parse_window("abends", BusinessWindow::default(), today()).unwrap();
        assert_eq!(found.to, hm(20, 0));
        assert_eq!(
            parse_window("nachmittags", short, today()).unwrap().to,
            hm(16, 0)
        );
        assert!(matches!(
            parse_window("abends", short, today()),
            Err(WindowParseError::OutsideHours(_))
        ));
    }

    #[test]
    fn times_window_with_a_day_carries_the_date() {
        let thursday = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(w("egal wann am Donnerstag").unwrap().date, Some(thursday));
        assert_eq!(w("any time Thursday").unwrap().date, Some(thursday));
        assert_eq!(w("Donnerstag nachmittags").unwrap().date, Some(thursday));
        assert_eq!(w("nachmittags").unwrap().date, None);
    }

    #[test]
    fn times_window_refuses_points() {
        for point in [
            "14 Uhr",
            "Mittag",
            "zehn nach drei",
            "viertel vor vier",
            "halb drei",
        ] {
            assert!(
                matches!(w(point), Err(WindowParseError::NotAWindow(_))),
                "{point}: {:?}",
                w(point)
            );
        }
    }

    #[test]
    fn times_window_two_offers_are_asked_about() {
        assert!(w("vormittags oder nachmittags").unwrap_err().is_ambiguous());
    }

    #[test]
    fn times_window_best_is_earliest_middle_latest() {
        let found = w("nachmittags").unwrap();
        let free: Vec<NaiveTime> = (9..18).map(|h| hm(h, 0)).collect();
        assert_eq!(found.best(&free, 3), vec![hm(12, 0), hm(14, 0), hm(16, 0)]);
        assert_eq!(found.best(&free[..5], 3), vec![hm(12, 0), hm(13, 0)]);
    }

    #[test]
    fn times_window_input_over_the_bound_is_refused_before_reading() {
        let at_bound = format!("{}nachmittags", " ".repeat(MAX_WINDOW_CHARS - 11));
        assert!(w(&at_bound).is_ok());
        let over = format!(" {at_bound}");
        assert_eq!(
            w(&over),
            Err(WindowParseError::TooLong {
                max: MAX_WINDOW_CHARS
            })
        );
    }

    #[test]
    fn times_parse_time_input_over_the_bound_is_refused_before_reading() {
        use crate::domain::datetime::MAX_TIME_CHARS;
        let window = BusinessWindow::default();
        let at_bound = format!("{}14 Uhr", " ".repeat(MAX_TIME_CHARS - 6));
        assert_eq!(parse_time(&at_bound, window), Ok(hm(14, 0)));
        assert_eq!(
            parse_time(&format!(" {at_bound}"), window),
            Err(TimeParseError::TooLong {
                max: MAX_TIME_CHARS
            })
        );
    }

    proptest! {
        #[test]
        fn times_parsers_never_panic_on_random_unicode(input in "\\PC{0,300}") {
            let _ = parse_time(&input, BusinessWindow::default());
            let _ = w(&input);
        }

        #[test]
        fn times_parsers_never_panic_on_mixed_scripts(
            parts in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec![
                        "halb", "drei", "nach", "zwischen", "und", "14-16", "Uhr", "vor",
                        "kurz", "am", "Nachmittag", "Donnerstag", "午後", "три", "ثلاثة", "-",
                        "12:", "99", ":", "à", "oder",
                    ]).prop_map(str::to_owned),
                    "\\PC{0,4}",
                ],
                0..60,
            )
        ) {
            let input = parts.join(" ");
            let _ = parse_time(&input, BusinessWindow::default());
            let _ = w(&input);
        }

        #[test]
        fn times_parsers_refuse_long_input(input in "\\PC{201,400}") {
            prop_assume!(input.chars().count() > MAX_WINDOW_CHARS);
            prop_assert_eq!(w(&input), Err(WindowParseError::TooLong { max: MAX_WINDOW_CHARS }));
            prop_assert_eq!(
                parse_time(&input, BusinessWindow::default()),
                Err(TimeParseError::TooLong { max: crate::domain::datetime::MAX_TIME_CHARS })
            );
        }
    }
}
