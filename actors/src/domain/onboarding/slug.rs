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

    /// The slug a name gives: its ASCII letters and digits in lower case, every other run of
    /// characters one dash, at most [`MAX_SLUG_LEN`] (`Demo Salon Berlin` →
    /// `demo-salon-berlin`); `fallback` when the name has no ASCII letter or digit.
    pub fn from_name(name: &str, fallback: &str) -> Self {
        let mut slug = String::with_capacity(name.len());
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let cut: String = slug.chars().take(MAX_SLUG_LEN).collect();
        Self::parse(cut.trim_end_matches('-'))
            .or_else(|_| Self::parse(fallback))
            .unwrap_or_else(|_| Self("x".to_owned()))
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
    fn names_give_slugs_of_their_ascii_letters_and_digits() {
        assert_eq!(
            Slug::from_name("Demo Salon Berlin", "c").as_str(),
            "demo-salon-berlin"
        );
        assert_eq!(
            Slug::from_name("First consultation (45')", "c").as_str(),
            "first-consultation-45"
        );
        assert_eq!(Slug::from_name("Färben", "c").as_str(), "f-rben");
        assert_eq!(Slug::from_name("äöü", "company").as_str(), "company");
        assert_eq!(Slug::from_name(&"ab ".repeat(40), "c").as_str().len(), 62);
    }

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
