//! Corrections inside a call (issue 17): "nein, nicht Dienstag, Mittwoch", "doch lieber um
//! vier", "Wednesday instead of Tuesday", "actually make it four". [`current`] takes the text
//! the agent passed for a date, a time or a service and returns the part the caller now
//! means, and whether they were correcting themselves; the field's own parser then reads
//! that part.
//!
//! The grammar, one pass over the words (German and English):
//! - lead-in markers at the start are dropped and mark a correction: "nein", "doch",
//!   "lieber", "eher", "besser", "ich meinte", "Korrektur", "no", "actually", "rather",
//!   "make it", "I meant", "change it to", …;
//! - "X statt/anstatt Y", "X instead of Y": the part before the marker;
//! - "nicht Y sondern X", "not Y but X", and "nicht Y, X" / "not Y — X": the part after the
//!   rejected value, which ends at "sondern"/"but", a comma, a semicolon or a dash;
//! - a negation that limits rather than rejects ("nicht vor zehn", "not after 5") is no
//!   correction, and is returned whole for the window reader.

/// Longest text read, in characters; longer text is refused before any work.
pub const MAX_CORRECTION_CHARS: usize = 200;

/// What the caller now means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading<'a> {
    /// The part of the input that names the value now meant, trimmed ("Mittwoch").
    pub value: &'a str,
    /// The caller was correcting an earlier value ("nein, nicht Dienstag, Mittwoch").
    pub corrected: bool,
}

/// Why no value could be taken from the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    /// Longer than [`MAX_CORRECTION_CHARS`] characters.
    #[error("longer than {MAX_CORRECTION_CHARS} characters")]
    TooLong,
    /// The caller only said what they do not want ("nicht Dienstag"): ask what they want.
    #[error("only what is not wanted")]
    OnlyRejected,
}

/// Lead-in words that mark a correction, as word sequences (lower case, umlauts as written).
const LEAD_INS: &[&[&str]] = &[
    &["ich", "meinte"],
    &["ich", "meine"],
    &["i", "meant"],
    &["i", "mean"],
    &["make", "it"],
    &["change", "it", "to"],
    &["change", "to"],
    &["let's", "say"],
    &["lets", "say"],
    &["ändern", "auf"],
    &["aendern", "auf"],
    &["nein"],
    &["doch"],
    &["lieber"],
    &["eher"],
    &["besser"],
    &["korrektur"],
    &["sorry"],
    &["no"],
    &["nope"],
    &["actually"],
    &["rather"],
    &["correction"],
];

/// Words that reject the value after them.
const NEGATIONS: &[&str] = &["nicht", "not", "kein", "keinen", "keine"];

/// Words after a negation that make it a limit, not a rejection ("nicht vor zehn").
const LIMITS: &[&str] = &[
    "vor", "nach", "später", "spaeter", "früher", "frueher", "before", "after", "later", "earlier",
    "so", "zu", "too",
];

/// Words that end the rejected value and start the wanted one.
const BUT: &[&str] = &["sondern", "but", "lieber", "rather"];

/// Words after which comes the value replaced ("Mittwoch statt Dienstag").
const INSTEAD: &[&str] = &["statt", "anstatt", "anstelle", "instead"];

/// A word of the input: its byte range, and whether a break (`,` `;` `—` `–` ` - `) precedes
/// it.
#[derive(Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    after_break: bool,
}

/// Returns the part of `input` the caller now means; see the module docs for the grammar.
/// Text with no correction in it is returned whole (trimmed), `corrected: false`.
///
/// # Errors
/// [`CorrectionError::TooLong`] (checked first); [`CorrectionError::OnlyRejected`] when the
/// text rejects a value and names none instead ("nicht Dienstag").
pub fn current(input: &str) -> Result<Reading<'_>, CorrectionError> {
    if input.chars().count() > MAX_CORRECTION_CHARS {
        return Err(CorrectionError::TooLong);
    }
    let words = words(input);
    let is = |w: &Word, list: &[&str]| {
        let text = &input[w.start..w.end];
        list.iter().any(|m| eq_caseless(text, m))
    };
    let mut first = 0;
    let mut corrected = false;
    'lead: while first < words.len() {
        for lead in LEAD_INS {
            let fits = lead.len() <= words.len() - first
                && lead
                    .iter()
                    .zip(&words[first..])
                    .all(|(m, w)| eq_caseless(&input[w.start..w.end], m));
            if fits {
                first += lead.len();
                corrected = true;
                continue 'lead;
            }
        }
        break;
    }
    let rest = &words[first..];
    // "Mittwoch statt Dienstag": the value is what comes before the marker.
    if let Some(i) = rest.iter().position(|w| is(w, INSTEAD))
        && i > 0
    {
        let value = input[rest[0].start..rest[i].start]
            .trim_end_matches(|c: char| c.is_whitespace() || ",;—–-".contains(c));
        return Ok(Reading {
            value,
            corrected: true,
        });
    }
    // "nicht Dienstag, Mittwoch" / "not Tuesday but Wednesday" / "statt Dienstag lieber …".
    let rejects = rest
        .first()
        .is_some_and(|w| is(w, NEGATIONS) || is(w, INSTEAD));
    if rejects && !rest.get(1).is_some_and(|w| is(w, LIMITS)) {
        let wanted = rest
            .iter()
            .enumerate()
            .skip(2)
            .find(|(_, w)| w.after_break || is(w, BUT))
            .map(|(i, w)| if is(w, BUT) { i + 1 } else { i });
        return match wanted {
            Some(i) if i < rest.len() => Ok(Reading {
                value: slice(input, &rest[i..]),
                corrected: true,
            }),
            _ => Err(CorrectionError::OnlyRejected),
        };
    }
    Ok(Reading {
        value: if rest.is_empty() {
            input.trim()
        } else {
            slice(input, rest)
        },
        corrected,
    })
}

/// The input from the first word of `words` to the end of the last, trailing punctuation
/// other than the date's dot ("15.07.") left as said.
fn slice<'a>(input: &'a str, words: &[Word]) -> &'a str {
    match (words.first(), words.last()) {
        (Some(a), Some(b)) => {
            // Keep what follows the last word up to the next break: "15.07." keeps its dots.
            let tail = input[b.end..]
                .find([',', ';', '—', '–', '!', '?'])
                .map_or(input.len(), |i| b.end + i);
            input[a.start..tail].trim()
        }
        _ => "",
    }
}

/// ASCII-case-insensitive comparison that also folds the German capitals Ä/Ö/Ü.
fn eq_caseless(text: &str, marker: &str) -> bool {
    text.chars().count() == marker.chars().count()
        && text
            .chars()
            .zip(marker.chars())
            .all(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
}

/// The words of `input` (letters, digits, `'`, `.`, `:`), each with whether a break
/// precedes it.
fn words(input: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut pending_break = false;
    let mut prev_space = true;
    for (i, c) in input.char_indices() {
        let in_word = c.is_alphanumeric() || c == '\'' || c == '.' || c == ':' || c == '’';
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Word {
                    start: s,
                    end: i,
                    after_break: pending_break,
                });
                pending_break = false;
                start = None;
            }
            _ => {}
        }
        if !in_word && (matches!(c, ',' | ';' | '—' | '–') || (c == '-' && prev_space)) {
            pending_break = true;
        }
        prev_space = c.is_whitespace();
    }
    if let Some(s) = start {
        out.push(Word {
            start: s,
            end: input.len(),
            after_break: pending_break,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now_means(input: &str) -> (&str, bool) {
        let r = current(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        (r.value, r.corrected)
    }

    #[test]
    fn plain_values_pass_through_uncorrected() {
        assert_eq!(now_means("Mittwoch"), ("Mittwoch", false));
        assert_eq!(now_means(" 15.07. "), ("15.07.", false));
        assert_eq!(now_means("halb drei"), ("halb drei", false));
        assert_eq!(
            now_means("nächsten Dienstag um 14 Uhr"),
            ("nächsten Dienstag um 14 Uhr", false)
        );
    }

    #[test]
    fn rejected_value_then_wanted_value_keeps_the_wanted() {
        assert_eq!(
            now_means("nein, nicht Dienstag, Mittwoch"),
            ("Mittwoch", true)
        );
        assert_eq!(now_means("nicht um drei, um vier"), ("um vier", true));
        assert_eq!(
            now_means("no, not Tuesday — Wednesday"),
            ("Wednesday", true)
        );
        assert_eq!(
            now_means("nicht Dienstag sondern Mittwoch"),
            ("Mittwoch", true)
        );
        assert_eq!(now_means("not Tuesday but Wednesday"), ("Wednesday", true));
        assert_eq!(now_means("nicht am 15.07., am 16.07."), ("am 16.07.", true));
    }

    #[test]
    fn lead_in_markers_are_dropped_and_mark_a_correction() {
        assert_eq!(now_means("doch lieber um vier"), ("um vier", true));
        assert_eq!(now_means("actually make it four"), ("four", true));
        assert_eq!(now_means("Ich meinte Mittwoch"), ("Mittwoch", true));
        assert_eq!(
            now_means("lieber Damenhaarschnitt"),
            ("Damenhaarschnitt", true)
        );
        assert_eq!(now_means("Nein, Färben"), ("Färben", true));
    }

    #[test]
    fn instead_keeps_the_part_before_it() {
        assert_eq!(now_means("Mittwoch statt Dienstag"), ("Mittwoch", true));
        assert_eq!(
            now_means("Wednesday instead of Tuesday"),
            ("Wednesday", true)
        );
        assert_eq!(
            now_means("statt Dienstag lieber Mittwoch"),
            ("Mittwoch", true)
        );
    }

    #[test]
    fn negated_limit_is_not_a_correction() {
        assert_eq!(now_means("nicht vor zehn"), ("nicht vor zehn", false));
        assert_eq!(now_means("not after 5"), ("not after 5", false));
    }

    #[test]
    fn only_a_rejected_value_is_an_error_to_ask_about() {
        assert_eq!(
            current("nicht Dienstag"),
            Err(CorrectionError::OnlyRejected)
        );
        assert_eq!(
            current("no, not Tuesday"),
            Err(CorrectionError::OnlyRejected)
        );
    }

    #[test]
    fn text_longer_than_the_bound_is_refused() {
        let long = "Mittwoch ".repeat(MAX_CORRECTION_CHARS / 9 + 1);
        assert_eq!(current(&long), Err(CorrectionError::TooLong));
        let fits = "x".repeat(MAX_CORRECTION_CHARS);
        assert!(current(&fits).is_ok());
    }
}
