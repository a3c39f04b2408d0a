//! Identifier newtypes. Each is valid by construction where a rule exists.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

int_id!(
    /// Primary key of a company (tenant) in our database.
    CompanyId
);
int_id!(
    /// Primary key of a branch of a company.
    BranchId
);
int_id!(
    /// Cal.com event type id (reference/calcom.md §3), the Cal.com side of a service.
    EventTypeId
);

/// Error for an identifier that breaks its rule. It quotes at most the first
/// [`QUOTED_CHARS`] characters of what was given: the message goes back to the client and into
/// the logs, and an id can arrive as a megabyte of text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{kind} must be 1 to 128 printable ASCII characters, got {got:?}")]
pub struct InvalidId {
    kind: &'static str,
    got: String,
}

/// Characters of a refused id quoted in [`InvalidId`].
pub const QUOTED_CHARS: usize = 140;

impl InvalidId {
    fn new(kind: &'static str, given: String) -> Self {
        let got = match given.char_indices().nth(QUOTED_CHARS) {
            Some((cut, _)) => format!("{}… ({} bytes)", &given[..cut], given.len()),
            None => given,
        };
        Self { kind, got }
    }
}

macro_rules! str_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Accepts 1–128 printable ASCII characters (ids are opaque strings upstream).
            pub fn parse(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                if !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()) {
                    Ok(Self(s))
                } else {
                    Err(InvalidId::new($kind, s))
                }
            }

            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

str_id!(
    /// Retell call id (`call.call_id`, reference/retell.md §1.3), e.g. `call_8f2c1d0e…`. Opaque.
    CallId,
    "call_id"
);
str_id!(
    /// Cal.com booking uid (`data.uid`, reference/calcom.md §4.1), e.g. `bFJeNb2uX8ANpT3JL5EfXw`.
    BookingUid,
    "booking uid"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_id_is_quoted_at_most_in_part() {
        let message = CallId::parse("a".repeat(100_000)).unwrap_err().to_string();
        assert!(message.len() < 300, "{}", message.len());
        assert!(message.contains("(100000 bytes)"), "{message}");
        let short = CallId::parse("call 1").unwrap_err().to_string();
        assert!(short.ends_with("got \"call 1\""), "{short}");
    }

    #[test]
    fn call_id_rejects_empty_and_spaces() {
        assert!(CallId::parse("").is_err());
        assert!(CallId::parse("call 1").is_err());
        assert!(CallId::parse("x".repeat(129)).is_err());
        assert_eq!(CallId::parse("call_abc").unwrap().as_str(), "call_abc");
    }
}
