//! E.164 phone numbers, parsed and validated with `phonenumber` (libphonenumber metadata).

use super::spoken_digits::{SpokenError, read_digits};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// libphonenumber cannot read it as a phone number at all (letters, no digits).
    #[error("{0:?} is not a phone number")]
    Unparseable(String),
    /// It reads as a number but is not valid in its country (`phonenumber::is_valid`), e.g. too
    /// short.
    #[error("{0:?} is not a valid number in its country")]
    Invalid(String),
    /// Said in words we cannot read as digits ([`read_digits`]), e.g. a word among the
    /// digits, or longer than [`MAX_SPOKEN_CHARS`](super::spoken_digits::MAX_SPOKEN_CHARS).
    #[error("{input:?} cannot be read as digits: {why}")]
    Spoken {
        /// The phrase, trimmed.
        input: String,
        /// What stopped the reading.
        why: SpokenError,
    },
}

/// A valid phone number in E.164 form (`+493083793369`). Valid by construction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct PhoneNumber(String);

/// Country used for numbers written without `+`/`00` (e.g. `030 1234567`). Germany is our
/// default region (DESIGN §6).
pub const DEFAULT_REGION: phonenumber::country::Id = phonenumber::country::Id::DE;

impl PhoneNumber {
    /// Parses national (`030 123456`, read in `region`) and international (`+49…`, `0049…`)
    /// forms, and checks the number is valid for its country (`phonenumber::is_valid`).
    pub fn parse(input: &str, region: phonenumber::country::Id) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        let parsed = phonenumber::parse(Some(region), trimmed)
            .map_err(|_| PhoneError::Unparseable(trimmed.to_owned()))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneError::Invalid(trimmed.to_owned()));
        }
        Ok(Self(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// Reads a number as callers say it, in words, digits or both ("null eins fünf eins
    /// 12 34 56 78", "plus vier neun, doppel-null …", "my number is oh seven nine one one …";
    /// grammar in [`super::spoken_digits`]), then parses and validates it like [`Self::parse`]
    /// in `region`.
    ///
    /// # Errors
    /// [`PhoneError::Spoken`] when the words are not digits (checked first, including the
    /// length bound), else as [`Self::parse`].
    pub fn from_speech(input: &str, region: phonenumber::country::Id) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        let digits = read_digits(trimmed).map_err(|why| PhoneError::Spoken {
            input: trimmed.to_owned(),
            why,
        })?;
        Self::parse(&digits, region).map_err(|e| match e {
            PhoneError::Unparseable(_) => PhoneError::Unparseable(trimmed.to_owned()),
            PhoneError::Invalid(_) => PhoneError::Invalid(trimmed.to_owned()),
            spoken => spoken,
        })
    }

    /// Parses with the [`DEFAULT_REGION`].
    pub fn parse_default(input: &str) -> Result<Self, PhoneError> {
        Self::parse(input, DEFAULT_REGION)
    }

    /// The E.164 string, e.g. `+493083793369`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The region in which a caller's national number (`07911 123456`) is read: the country of
/// the business number they dialled, so callers of a London branch are read as British;
/// [`DEFAULT_REGION`] when that number is unknown or belongs to no single region.
pub fn caller_region(dialled: Option<&str>) -> phonenumber::country::Id {
    dialled
        .and_then(|n| phonenumber::parse(Some(DEFAULT_REGION), n.trim()).ok())
        .filter(phonenumber::is_valid)
        .and_then(|n| n.country().id())
        .unwrap_or(DEFAULT_REGION)
}

/// Whether `number` (E.164, or national in [`DEFAULT_REGION`]) reaches a mobile phone and can
/// take a text message: libphonenumber's type is `Mobile`, or `FixedLineOrMobile` where the
/// number plan does not tell them apart (USA, Canada). Landlines, toll-free, VoIP, withheld
/// and unreadable numbers are not.
pub fn is_mobile(number: &str) -> bool {
    phonenumber::parse(Some(DEFAULT_REGION), number.trim())
        .ok()
        .filter(phonenumber::is_valid)
        .is_some_and(|n| {
            matches!(
                n.number_type(&phonenumber::metadata::DATABASE),
                phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile
            )
        })
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_default(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_told_from_landlines() {
        assert!(is_mobile("+491711234567"));
        assert!(is_mobile("+447911123456"));
        assert!(
            is_mobile("+14155550123"),
            "US numbers may be either: texted"
        );
        assert!(!is_mobile("+493083793369"), "Berlin landline");
        assert!(!is_mobile("+442079460321"), "London landline");
        assert!(!is_mobile("+498001234567"), "toll-free");
        assert!(!is_mobile("anonymous"));
        assert!(!is_mobile(""));
    }

    #[test]
    fn national_numbers_are_read_in_the_country_of_the_dialled_number() {
        let uk = caller_region(Some("+442079460321"));
        assert_eq!(uk, phonenumber::country::Id::GB);
        assert_eq!(
            PhoneNumber::parse("07911 123456", uk).unwrap().as_str(),
            "+447911123456"
        );
        assert_eq!(caller_region(Some("+493083793369")), DEFAULT_REGION);
        assert_eq!(caller_region(None), DEFAULT_REGION);
        assert_eq!(caller_region(Some("not a number")), DEFAULT_REGION);
    }

    #[test]
    fn german_national_and_international_forms_normalise_to_e164() {
        for input in [
            "030 1234567",
            "+49 (0)30 1234567",
            "0049 30 1234567",
            "+4930-123 4567",
        ] {
            assert_eq!(
                PhoneNumber::parse_default(input).unwrap().as_str(),
                "+49301234567",
                "{input}"
            );
        }
        assert_eq!(
            PhoneNumber::parse_default("0171 1234567").unwrap().as_str(),
            "+491711234567"
        );
        assert_eq!(
            PhoneNumber::parse_default("+1 415 555 0123")
                .unwrap()
                .as_str(),
            "+14155550123"
        );
    }

    #[test]
    fn too_short_number_is_invalid_not_silently_accepted() {
        assert!(matches!(
            PhoneNumber::parse_default("12345"),
            Err(PhoneError::Invalid(_))
        ));
        assert!(matches!(
            PhoneNumber::parse_default("hello"),
            Err(PhoneError::Unparseable(_))
        ));
    }
}
