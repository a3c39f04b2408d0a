//! Slugs: the stable, URL-safe ids operators give tenants and branches (`praxis-weber`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest slug, in bytes (ASCII).
pub const MAX_SLUG_LEN: usize = 63;

/// A slug: 1–63 of `a-z`, `0-9` and `-`, starting and ending with a letter or digit, no
/// `--`. Valid by construction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Slug(String);

/// A slug that breaks the rule of [`Slug`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a slug: use 1 to {MAX_SLUG_LEN} of a-z, 0-9 and single dashes, starting and \
     ending with a letter or digit"
)]
pub struct SlugError(pub String);

impl Slug {
    /// Checks `s` against the rule of [`Slug`].
    ///
    /// # Errors
    /// [`SlugError`] naming the text.
    pub fn parse(s: &str) -> Result<Self, SlugError> {
        let ok = !s.is_empty()
            && s.len() <= MAX_SLUG_LEN
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(SlugError(s.chars().take(80).collect()))
        }
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_letters_digits_and_single_inner_dashes() {
        for ok in ["praxis-weber", "a", "clinic-42", &"a".repeat(63)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Praxis",
            "-a",
            "a-",
            "a--b",
            "a_b",
            "ä",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
