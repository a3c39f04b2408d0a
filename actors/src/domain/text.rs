//! Free text from callers and API clients, made safe to store and to pass on to Cal.com: one
//! sanitiser for every text field, used by the custom functions and the gateway alike.
//!
//! Control characters (Unicode category Cc: C0, DEL, C1) and the bidirectional formatting
//! characters are removed, never refused: a caller cannot say them, so they only ever come
//! from a confused LLM or a hostile client, and removing them changes no visible letter.
//! PostgreSQL refuses NUL in `TEXT`, and a bidi override makes what staff read in the
//! calendar differ from what was stored. Length is bounded per field and *refused* when
//! exceeded: cutting a name or a note short silently would store something nobody said.

/// The Unicode `Bidi_Control` characters (PropList.txt; UAX #9 §2, Table 1): ALM, LRM, RLM,
/// the embeddings and overrides LRE–RLO with PDF, and the isolates LRI–PDI. A fixed list of
/// twelve, so no crate is needed; `unicode-bidi` classifies characters but has no lookup of
/// this property.
const BIDI_CONTROLS: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// Whether `c` is removed from every text field: a control character (`char::is_control`,
/// category Cc) or a bidi control.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || BIDI_CONTROLS.contains(&c)
}

/// A text field that did not pass its [`Limit`], or an email address that is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Longer than `max` characters after cleaning.
    #[error("longer than {max} characters")]
    TooLong {
        /// The limit of the field, in characters (Unicode scalar values).
        max: usize,
    },
    /// Not shaped like an email address (see [`email`]).
    #[error("not an email address")]
    NotAnEmail,
}

/// How one field is cleaned ([`Limit::clean`]) and how long it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Most characters (Unicode scalar values) after cleaning.
    pub max_chars: usize,
    /// Line breaks and tabs are kept (notes); otherwise every run of whitespace becomes one
    /// space.
    pub multiline: bool,
}

/// A person's name: one line, 100 characters.
pub const NAME: Limit = Limit::line(100);
/// An email address: one line, 254 characters (RFC 5321 §4.5.3.1.3 path limit less the
/// brackets; [`email`] also bounds the bytes).
pub const EMAIL: Limit = Limit::line(254);
/// The staff member a caller prefers: one line, 100 characters.
pub const STAFF: Limit = Limit::line(100);
/// Notes for the appointment: line breaks and tabs kept, 1000 characters.
pub const NOTES: Limit = Limit::lines(1000);
/// What a caller says for a date, a time, a phone number or a service ("nächsten Dienstag um
/// halb drei"): one line, 100 characters; nothing longer is one of those.
pub const PHRASE: Limit = Limit::line(100);

impl Limit {
    /// A one-line field of at most `max_chars` characters.
    pub const fn line(max_chars: usize) -> Self {
        Self {
            max_chars,
            multiline: false,
        }
    }

    /// A field of at most `max_chars` characters that keeps line breaks (`\n`) and tabs.
    pub const fn lines(max_chars: usize) -> Self {
        Self {
            max_chars,
            multiline: true,
        }
    }

    /// `input` with hidden characters ([`is_hidden`]) removed and trimmed. One-line fields
    /// have each whitespace run (line breaks included) collapsed to one space; multi-line
    /// fields keep `\n` (a `\r\n` or lone `\r` becomes `\n`) and tabs, and lose trailing
    /// spaces on each line. The result may be empty.
    ///
    /// # Errors
    /// [`TextError::TooLong`] when the cleaned text has more than `max_chars` characters.
    pub fn clean(&self, input: &str) -> Result<String, TextError> {
        let cleaned = if self.multiline {
            input
                .lines()
                .flat_map(|l| l.split('\r'))
                .map(|l| {
                    l.chars()
                        .filter(|c| *c == '\t' || !is_hidden(*c))
                        .collect::<String>()
                        .trim_end()
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_owned()
        } else {
            input
                .split_whitespace()
                .map(|word| word.chars().filter(|c| !is_hidden(*c)).collect::<String>())
                .filter(|word| !word.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        if cleaned.chars().count() > self.max_chars {
            Err(TextError::TooLong {
                max: self.max_chars,
            })
        } else {
            Ok(cleaned)
        }
    }
}

/// A cleaned ([`EMAIL`]) email address, checked lightly: one `@` with text before it, a
/// domain of non-empty dot-separated labels, no whitespace, at most 254 bytes. Callers spell
/// addresses out loud, so catching a missing `@` or domain matters; full RFC 5322 validation
/// would refuse nothing more a caller says.
///
/// # Errors
/// [`TextError::TooLong`] over the limit, [`TextError::NotAnEmail`] when not so shaped.
pub fn email(input: &str) -> Result<String, TextError> {
    let address = EMAIL.clean(input)?;
    let (local, domain) = address.split_once('@').ok_or(TextError::NotAnEmail)?;
    let ok = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !address.contains(' ')
        && address.len() <= EMAIL.max_chars;
    if ok {
        Ok(address)
    } else {
        Err(TextError::NotAnEmail)
    }
}

/// How much of an over-long value an error quotes back, in characters ([`excerpt`]).
pub const QUOTE_CHARS: usize = 40;

/// At most `max` characters of `input`, cleaned to one line, with `…` when cut: for quoting
/// what a caller said back in an error, where the whole of an oversized value is not wanted.
pub fn excerpt(input: &str, max: usize) -> String {
    let mut words = input
        .split_whitespace()
        .map(|word| word.chars().filter(|c| !is_hidden(*c)).collect::<String>())
        .filter(|word| !word.is_empty());
    let mut out = words.next().unwrap_or_default();
    for word in words {
        out.push(' ');
        out.push_str(&word);
        if out.chars().count() > max {
            break;
        }
    }
    if out.chars().count() > max {
        out = out.chars().take(max).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_removed_from_a_line() {
        let hostile = "Ma\u{0}x\u{202E} \u{7}Mu\u{2066}ster\u{85}mann\u{9F}\u{200F}";
        assert_eq!(NAME.clean(hostile), Ok("Max Muster mann".to_owned()));
        for c in BIDI_CONTROLS {
            assert!(is_hidden(c), "{c:?}");
        }
        assert!(!is_hidden('ä') && !is_hidden(' ') && !is_hidden('\u{200D}'));
    }

    #[test]
    fn notes_keep_line_breaks_and_tabs_but_nothing_else_hidden() {
        let notes = " Erste Zeile\r\n\tzweite\u{0} Zeile  \rdritte\u{202D}\u{1B}[31m ";
        assert_eq!(
            NOTES.clean(notes),
            Ok("Erste Zeile\n\tzweite Zeile\ndritte[31m".to_owned())
        );
    }

    #[test]
    fn over_long_text_is_refused_not_cut() {
        assert_eq!(
            NOTES.clean(&"x".repeat(900_000)),
            Err(TextError::TooLong { max: 1000 })
        );
        assert_eq!(NAME.clean(&"ä".repeat(100)), Ok("ä".repeat(100)));
        assert_eq!(
            NAME.clean(&"ä".repeat(101)),
            Err(TextError::TooLong { max: 100 })
        );
        // Hidden characters do not count towards the limit.
        assert!(NAME.clean(&"a\u{0}".repeat(100)).is_ok());
    }

    #[test]
    fn email_is_cleaned_then_checked() {
        assert_eq!(
            email("max@example.de\u{0}"),
            Ok("max@example.de".to_owned())
        );
        for bad in [
            "max",
            "@example.de",
            "max@example",
            "a@b@c.de",
            "a b@c.de",
            "max@.de",
        ] {
            assert_eq!(email(bad), Err(TextError::NotAnEmail), "{bad}");
        }
        let long = format!("{}@example.de", "a".repeat(250));
        assert_eq!(email(&long), Err(TextError::TooLong { max: 254 }));
        // 125 two-byte letters fit in characters but not in the 254 bytes of RFC 5321.
        assert_eq!(
            email(&format!("{}@example.de", "ä".repeat(125))),
            Err(TextError::NotAnEmail)
        );
    }

    #[test]
    fn excerpt_quotes_a_bounded_cleaned_prefix() {
        assert_eq!(excerpt("morgen\u{0}  früh", 40), "morgen früh");
        let quoted = excerpt(&"x ".repeat(100_000), 40);
        assert_eq!(quoted.chars().count(), 41);
        assert!(quoted.ends_with('…'));
    }
}
