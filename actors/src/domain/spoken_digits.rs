//! Reading a phone number as callers say it ("null eins fünf eins, zwo mal die drei …",
//! "plus four nine, double five …") into the digits they mean, for
//! [`PhoneNumber::from_speech`](super::phone::PhoneNumber::from_speech).
//!
//! The grammar, one pass over the words:
//! - digits as written (`0151`, `12`), `+`, and `(`/`)` (the "(0)" of `+49 (0)30`) are kept;
//!   other punctuation separates;
//! - digit words, German and English (`null`, `zwo`, `fünf`, `oh`, `zero`, …), and pairs said
//!   as one number (`zehn` … `neunundneunzig`, `twelve`, `thirty four`): German callers group
//!   "null dreißig, zwölf vierunddreißig", and a number word from 10 to 99 names exactly
//!   two digits, so the reading is unambiguous;
//! - repeats: `doppel`/`doppelt`/`double` (twice), `tripel`/`dreifach`/`triple` (three
//!   times) and "`zwei` mal (die) `drei`" / "zweimal die drei" before a digit;
//! - `plus` is `+`; lead-in words before the first digit ("meine Nummer ist", "my number
//!   is") and hesitations between digits ("äh", "also", "und") are skipped;
//! - any other word after the first digit refuses the whole phrase ([`SpokenError::Word`]):
//!   a word we do not know may be a digit we would otherwise lose.

/// Longest phrase read, in characters; longer ones are refused before any work, which bounds
/// the time the one pass takes. A spoken 15-digit number with a lead-in and hesitations fits
/// ("meine Handynummer ist plus vier neun, eins fünf eins, …" is about 120).
pub const MAX_SPOKEN_CHARS: usize = 200;

/// Why a phrase could not be read as digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpokenError {
    /// Longer than [`MAX_SPOKEN_CHARS`] characters.
    #[error("longer than {MAX_SPOKEN_CHARS} characters")]
    TooLong,
    /// No digit at all.
    #[error("no digits")]
    NoDigits,
    /// A word after the first digit that is neither a number nor a hesitation.
    #[error("{0:?} is not a digit")]
    Word(String),
    /// A repeat ("doppel", "zweimal die") not followed by a digit.
    #[error("a repeat without its digit")]
    DanglingRepeat,
}

/// Words skipped between digits: hesitations and joiners.
const HESITATIONS: &[&str] = &[
    "aeh",
    "aehm",
    "ehm",
    "hm",
    "also",
    "und",
    "dann",
    "noch",
    "genau",
    "ja",
    "bitte",
    "danke",
    "die",
    "der",
    "strich",
    "schraegstrich",
    "leerzeichen",
    "uh",
    "um",
    "erm",
    "and",
    "then",
    "yes",
    "yeah",
    "so",
    "okay",
    "ok",
    "dash",
    "slash",
    "thanks",
    "please",
];

/// A one-digit word's value. "ein"/"eine" are not digits: callers say "eins", and "eine
/// neue Nummer" is a lead-in.
fn unit(word: &str) -> Option<u8> {
    Some(match word {
        "null" | "zero" | "oh" | "o" | "nought" => 0,
        "eins" | "one" => 1,
        "zwei" | "zwo" | "two" => 2,
        "drei" | "three" => 3,
        "vier" | "four" => 4,
        "fuenf" | "five" => 5,
        "sechs" | "six" => 6,
        "sieben" | "seven" => 7,
        "acht" | "eight" => 8,
        "neun" | "nine" => 9,
        _ => return None,
    })
}

/// A tens word's value (20, 30, … 90).
fn tens(word: &str) -> Option<u8> {
    Some(match word {
        "zwanzig" | "twenty" => 20,
        "dreissig" | "thirty" => 30,
        "vierzig" | "forty" => 40,
        "fuenfzig" | "fifty" => 50,
        "sechzig" | "sixty" => 60,
        "siebzig" | "seventy" => 70,
        "achtzig" | "eighty" => 80,
        "neunzig" | "ninety" => 90,
        _ => return None,
    })
}

/// A word naming a number from 10 to 99 on its own ("zwölf", "vierunddreißig", "twelve").
fn pair(word: &str) -> Option<u8> {
    let teen = match word {
        "zehn" | "ten" => Some(10),
        "elf" | "eleven" => Some(11),
        "zwoelf" | "twelve" => Some(12),
        "dreizehn" | "thirteen" => Some(13),
        "vierzehn" | "fourteen" => Some(14),
        "fuenfzehn" | "fifteen" => Some(15),
        "sechzehn" | "sixteen" => Some(16),
        "siebzehn" | "seventeen" => Some(17),
        "achtzehn" | "eighteen" => Some(18),
        "neunzehn" | "nineteen" => Some(19),
        _ => None,
    };
    teen.or_else(|| tens(word)).or_else(|| {
        // German compounds: "vierunddreißig" = vier + und + dreißig.
        let (u, t) = word.split_once("und")?;
        let u = if u == "ein" { 1 } else { unit(u)? };
        (u > 0).then_some(())?;
        Some(tens(t)? + u)
    })
}

/// How many times a repeat word says the next digit ("doppel" → 2).
fn repeat(word: &str) -> Option<usize> {
    match word {
        "doppel" | "doppelt" | "double" => Some(2),
        "tripel" | "dreifach" | "triple" | "treble" => Some(3),
        _ => None,
    }
}

/// Reads `input` into the characters a phone parser takes: ASCII digits, `+`, `(`, `)` and
/// single spaces between groups (e.g. "plus vier neun (0) dreißig 123" → `"+49 (0) 30 123"`).
/// Umlauts may be written either way ("fünf", "fuenf"); case does not matter.
///
/// # Errors
/// [`SpokenError`]: too long (checked first), a word that is not a digit after the first
/// digit, a repeat without its digit, or no digit at all.
pub fn read_digits(input: &str) -> Result<String, SpokenError> {
    if input.chars().count() > MAX_SPOKEN_CHARS {
        return Err(SpokenError::TooLong);
    }
    let folded = super::service_match::fold_umlauts(input);
    let mut out = String::with_capacity(24);
    let mut digits = 0usize;
    // A pending repeat: how many times the next digit is said.
    let mut times: Option<usize> = None;
    // A count word ("zwei") that may start "zwei mal die drei".
    let mut count: Option<u8> = None;
    let mut last_tens = false;
    let mut rest = folded.as_str();
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() || c == '+' || c == '(' || c == ')' {
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '+' || c == '(' || c == ')'))
                .unwrap_or(rest.len());
            let group = &rest[..end];
            flush_count(&mut out, &mut count, &mut digits);
            if times.is_some() {
                return Err(SpokenError::DanglingRepeat);
            }
            out.push(' ');
            out.push_str(group);
            digits += group.bytes().filter(u8::is_ascii_digit).count();
            last_tens = false;
            rest = &rest[end..];
            continue;
        }
        if !c.is_alphabetic() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let end = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        // "thirty four": an English tens word takes the unit after it.
        if last_tens
            && matches!(
                word,
                "one" | "two" | "three" | "four" | "five" | "six" | "seven" | "eight" | "nine"
            )
        {
            let u = unit(word).unwrap_or(0);
            out.pop();
            out.push(char::from(b'0' + u));
            last_tens = false;
            continue;
        }
        last_tens = false;
        let (word, compound_times) = split_compound(word);
        if let Some(n) = compound_times {
            flush_count(&mut out, &mut count, &mut digits);
            times = Some(n);
            if word.is_empty() {
                continue;
            }
        }
        if word == "mal" || word == "times" {
            let Some(n) = count.take() else {
                return Err(SpokenError::Word(word.to_owned()));
            };
            times = Some(usize::from(n));
            continue;
        }
        if matches!(word, "die" | "der" | "the") && times.is_some() {
            continue;
        }
        if let Some(n) = repeat(word) {
            flush_count(&mut out, &mut count, &mut digits);
            times = Some(n);
            continue;
        }
        if let Some(u) = unit(word) {
            if let Some(n) = times.take() {
                for _ in 0..n {
                    push_digit(&mut out, u, &mut digits);
                }
                continue;
            }
            flush_count(&mut out, &mut count, &mut digits);
            // "zwei"/"drei" may be the count of "zwei mal die drei": hold it one word.
            if (2..=3).contains(&u) {
                count = Some(u);
            } else {
                push_digit(&mut out, u, &mut digits);
            }
            continue;
        }
        if let Some(p) = pair(word) {
            flush_count(&mut out, &mut count, &mut digits);
            if times.is_some() {
                return Err(SpokenError::DanglingRepeat);
            }
            out.push(' ');
            out.push(char::from(b'0' + p / 10));
            out.push(char::from(b'0' + p % 10));
            digits += 2;
            last_tens = p % 10 == 0 && p >= 20;
            continue;
        }
        if word == "plus" {
            flush_count(&mut out, &mut count, &mut digits);
            out.push_str(" +");
            continue;
        }
        if digits == 0 && count.is_none() && !out.contains('+') || HESITATIONS.contains(&word) {
            continue;
        }
        return Err(SpokenError::Word(word.to_owned()));
    }
    flush_count(&mut out, &mut count, &mut digits);
    if times.is_some() {
        return Err(SpokenError::DanglingRepeat);
    }
    if digits == 0 {
        return Err(SpokenError::NoDigits);
    }
    Ok(out.trim_start().to_owned())
}

/// Splits "doppelnull" into ("null", Some(2)) and "zweimal" into ("", Some(2)); other words
/// are returned whole.
fn split_compound(word: &str) -> (&str, Option<usize>) {
    for (prefix, n) in [
        ("doppelt", 2),
        ("doppel", 2),
        ("dreifach", 3),
        ("tripel", 3),
        ("zweimal", 2),
        ("dreimal", 3),
    ] {
        if let Some(rest) = word.strip_prefix(prefix)
            && (rest.is_empty() || unit(rest).is_some())
        {
            return (rest, Some(n));
        }
    }
    (word, None)
}

fn push_digit(out: &mut String, d: u8, digits: &mut usize) {
    out.push(char::from(b'0' + d));
    *digits += 1;
}

/// A held count word that was not followed by "mal" is a digit after all.
fn flush_count(out: &mut String, count: &mut Option<u8>, digits: &mut usize) {
    if let Some(d) = count.take() {
        push_digit(out, d, digits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_words_pairs_and_repeats_are_read() {
        assert_eq!(
            read_digits("null eins fünf eins doppel-null zwo mal die drei").unwrap(),
            "01510033"
        );
        assert_eq!(read_digits("null dreißig zwölf").unwrap(), "0 30 12");
        assert_eq!(read_digits("plus forty four").unwrap(), "+ 44");
    }

    #[test]
    fn a_word_among_the_digits_refuses_the_number() {
        assert_eq!(
            read_digits("null eins Katze"),
            Err(SpokenError::Word("katze".into()))
        );
        assert_eq!(read_digits("doppel"), Err(SpokenError::DanglingRepeat));
        assert_eq!(read_digits("hallo"), Err(SpokenError::NoDigits));
    }

    #[test]
    fn text_longer_than_the_bound_is_refused_before_reading() {
        let long = "1".repeat(MAX_SPOKEN_CHARS + 1);
        assert_eq!(read_digits(&long), Err(SpokenError::TooLong));
        assert!(read_digits(&"1".repeat(MAX_SPOKEN_CHARS)).is_ok());
    }
}
