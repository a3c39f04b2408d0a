//! Tenants' upstream credentials (the Retell and Cal.com API keys and the Cal.com webhook
//! secret in `companies`) encrypted at rest, and the keys that do it.
//!
//! # Stored form
//! `enc:v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>` — AES-256-GCM (RustCrypto
//! `aes-gcm`), a fresh random 96-bit nonce per value from the OS RNG, and as associated data
//! `switchboard:companies:<company id>:<column>`, so a value copied to another company or
//! column fails to decrypt. The key id ([`KeyId`]) says which key sealed it, so keys can
//! rotate: values sealed under a previous key stay readable until `switchboard secrets
//! rotate` re-seals them under the current one.
//!
//! # Layout
//! - `mod.rs` — [`Keyring`] (current and previous keys), sealing and opening one value,
//!   [`SecretsError`].
//! - `key.rs` — one key: base64 parsing, generation, its id; never printed.
//! - `source.rs` — where the keyring comes from (`[secrets]` settings, or the sandbox's
//!   generated key) and what start-up does about stored credentials ([`secure`]).

mod key;
mod source;

pub use key::{KEY_BYTES, KeyError, KeyId, SecretKey};
pub use source::{KeySource, Resolved, resolve, rotate, secure};

use aes_gcm::aead::{Aead, AeadCore, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::sync::Arc;
use switchboard_actors::domain::ids::CompanyId;

/// Prefix and version of the stored form.
const PREFIX: &str = "enc:v1:";

/// Bytes of the AES-GCM nonce (96 bits, the size GCM is specified for).
const NONCE_BYTES: usize = 12;

/// A credential column of `companies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// `retell_api_key`.
    RetellApiKey,
    /// `calcom_api_key`.
    CalcomApiKey,
    /// `calcom_webhook_secret`: the HMAC key of the tenant's Cal.com webhooks.
    CalcomWebhookSecret,
    /// `sms_auth_token`: the Twilio auth token of the tenant's `[sms]` account.
    SmsAuthToken,
}

impl Column {
    /// The column's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetellApiKey => "retell_api_key",
            Self::CalcomApiKey => "calcom_api_key",
            Self::CalcomWebhookSecret => "calcom_webhook_secret",
            Self::SmsAuthToken => "sms_auth_token",
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a credential could not be sealed or opened. Every message names the company and the
/// column, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No key is configured.
    #[error(
        "companies.{column} of company {company}: no secrets key configured (set \
         SWITCHBOARD__SECRETS__KEY or secrets.key_file)"
    )]
    NoKey {
        /// Owner of the value.
        company: CompanyId,
        /// Column of the value.
        column: Column,
    },
    /// The value predates encryption at rest.
    #[error(
        "companies.{column} of company {company} is stored in plaintext: run `switchboard \
         secrets rotate` to encrypt it"
    )]
    Plaintext {
        /// Owner of the value.
        company: CompanyId,
        /// Column of the value.
        column: Column,
    },
    /// Sealed under a key that is neither the current nor a previous one.
    #[error(
        "companies.{column} of company {company} is sealed with key {key}, which is neither \
         secrets.key nor one of secrets.previous_keys"
    )]
    UnknownKey {
        /// Owner of the value.
        company: CompanyId,
        /// Column of the value.
        column: Column,
        /// The id stored with the value.
        key: String,
    },
    /// The cipher refused the value (AES-GCM does only beyond 64 GiB).
    #[error("companies.{column} of company {company} cannot be sealed")]
    Unsealable {
        /// Owner of the value.
        company: CompanyId,
        /// Column of the value.
        column: Column,
    },
    /// Not in the stored form, or it does not authenticate: tampered with, or copied from
    /// another company or column.
    #[error(
        "companies.{column} of company {company} does not decrypt: tampered with, or copied \
         from another company or column"
    )]
    Undecryptable {
        /// Owner of the value.
        company: CompanyId,
        /// Column of the value.
        column: Column,
    },
}

/// Where a stored value stands against a keyring (see [`Keyring::open`]).
#[derive(Debug)]
pub enum Opened {
    /// Sealed with the current key.
    Current(SecretString),
    /// Sealed with a previous key: readable, due for re-sealing.
    Previous(SecretString),
    /// Stored before encryption at rest.
    Plaintext(SecretString),
}

/// The current key, which seals, and previous keys, which still open what they sealed. Cheap
/// to clone. The default keyring has no key: it seals and opens nothing.
#[derive(Clone, Default)]
pub struct Keyring {
    keys: Option<Arc<Keys>>,
}

struct Keys {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.keys {
            None => f.write_str("Keyring(none)"),
            Some(keys) => f
                .debug_struct("Keyring")
                .field("current", keys.current.id())
                .field(
                    "previous",
                    &keys.previous.iter().map(SecretKey::id).collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

impl Keyring {
    /// Seals with `current`; opens what `current` or any of `previous` sealed.
    pub fn new(current: SecretKey, previous: Vec<SecretKey>) -> Self {
        Self {
            keys: Some(Arc::new(Keys { current, previous })),
        }
    }

    /// The id of the key that seals; `None` without a key.
    pub fn current_id(&self) -> Option<&KeyId> {
        self.keys.as_ref().map(|k| k.current.id())
    }

    /// `plaintext` sealed for `column` of `company`, in the stored form.
    ///
    /// # Errors
    /// [`SecretsError::NoKey`] without a key.
    pub fn seal(
        &self,
        company: CompanyId,
        column: Column,
        plaintext: &SecretString,
    ) -> Result<String, SecretsError> {
        let keys = self
            .keys
            .as_ref()
            .ok_or(SecretsError::NoKey { company, column })?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(company, column);
        let sealed = keys
            .current
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Unsealable { company, column })?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}:{}",
            keys.current.id(),
            STANDARD.encode(blob)
        ))
    }

    /// The plaintext of `stored`, the value of `column` of `company`, and which key opened it.
    /// A value without the `enc:` prefix is a legacy plaintext and comes back as
    /// [`Opened::Plaintext`]; callers decide whether to accept it.
    ///
    /// # Errors
    /// [`SecretsError::NoKey`], [`SecretsError::UnknownKey`] or
    /// [`SecretsError::Undecryptable`].
    pub fn open(
        &self,
        company: CompanyId,
        column: Column,
        stored: &str,
    ) -> Result<Opened, SecretsError> {
        if !stored.starts_with("enc:") {
            return Ok(Opened::Plaintext(SecretString::from(stored)));
        }
        let keys = self
            .keys
            .as_ref()
            .ok_or(SecretsError::NoKey { company, column })?;
        let undecryptable = || SecretsError::Undecryptable { company, column };
        let (kid, body) = stored
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .ok_or_else(undecryptable)?;
        let (key, current) = if keys.current.id().as_str() == kid {
            (&keys.current, true)
        } else {
            let previous = keys.previous.iter().find(|k| k.id().as_str() == kid);
            let key = previous.ok_or_else(|| SecretsError::UnknownKey {
                company,
                column,
                key: kid.chars().take(16).collect(),
            })?;
            (key, false)
        };
        let blob = STANDARD.decode(body).map_err(|_| undecryptable())?;
        if blob.len() < NONCE_BYTES {
            return Err(undecryptable());
        }
        let (nonce, sealed) = blob.split_at(NONCE_BYTES);
        let aad = associated_data(company, column);
        let plain = key
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| undecryptable())?;
        let plain = String::from_utf8(plain).map_err(|_| undecryptable())?;
        let secret = SecretString::from(plain);
        Ok(if current {
            Opened::Current(secret)
        } else {
            Opened::Previous(secret)
        })
    }

    /// Like [`Keyring::open`], for reading at request time: a legacy plaintext is refused.
    ///
    /// # Errors
    /// As [`Keyring::open`], and [`SecretsError::Plaintext`].
    pub fn reveal(
        &self,
        company: CompanyId,
        column: Column,
        stored: &str,
    ) -> Result<SecretString, SecretsError> {
        match self.open(company, column, stored)? {
            Opened::Current(secret) | Opened::Previous(secret) => Ok(secret),
            Opened::Plaintext(_) => Err(SecretsError::Plaintext { company, column }),
        }
    }
}

/// A keyring with one fixed key, for the crate's unit tests: every store a test opens on one
/// database reads what the others wrote.
#[cfg(test)]
pub(crate) fn test_keyring() -> Keyring {
    let key = STANDARD.encode([42u8; KEY_BYTES]);
    Keyring::new(
        SecretKey::from_base64(&key, "test key").expect("a valid key"),
        Vec::new(),
    )
}

/// What a sealed value is bound to.
fn associated_data(company: CompanyId, column: Column) -> String {
    format!("switchboard:companies:{}:{}", company.0, column.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_base64(&SecretKey::generate_base64(), "test").unwrap()
    }

    fn secret() -> SecretString {
        SecretString::from("cal_live_plain_4711")
    }

    fn opened(o: Opened) -> (&'static str, String) {
        match o {
            Opened::Current(s) => ("current", s.expose_secret().to_owned()),
            Opened::Previous(s) => ("previous", s.expose_secret().to_owned()),
            Opened::Plaintext(s) => ("plaintext", s.expose_secret().to_owned()),
        }
    }

    #[test]
    fn sealed_value_opens_for_its_owner_and_column_only() {
        let ring = Keyring::new(key(), vec![]);
        let (a, b) = (CompanyId(1), CompanyId(2));
        let sealed = ring.seal(a, Column::CalcomApiKey, &secret()).unwrap();
        assert!(sealed.starts_with(&format!("enc:v1:{}:", ring.current_id().unwrap())));
        assert!(!sealed.contains("cal_live_plain_4711"));
        let back = ring.open(a, Column::CalcomApiKey, &sealed).unwrap();
        assert_eq!(opened(back), ("current", "cal_live_plain_4711".to_owned()));
        for (company, column) in [(b, Column::CalcomApiKey), (a, Column::RetellApiKey)] {
            let err = ring.open(company, column, &sealed).unwrap_err();
            assert!(matches!(err, SecretsError::Undecryptable { .. }), "{err}");
        }
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let ring = Keyring::new(key(), vec![]);
        let one = ring.seal(CompanyId(1), Column::RetellApiKey, &secret());
        let two = ring.seal(CompanyId(1), Column::RetellApiKey, &secret());
        assert_ne!(one.unwrap(), two.unwrap());
    }

    #[test]
    fn tampered_or_malformed_values_are_refused_naming_company_and_column() {
        let ring = Keyring::new(key(), vec![]);
        let company = CompanyId(7);
        let sealed = ring.seal(company, Column::RetellApiKey, &secret()).unwrap();
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let kid = ring.current_id().unwrap().to_string();
        for bad in [
            flipped.as_str(),
            "enc:v1:",
            "enc:v2:abc:def",
            &format!("enc:v1:{kid}:!!!"),
            &format!("enc:v1:{kid}:AAAA"),
        ] {
            let err = ring.open(company, Column::RetellApiKey, bad).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("companies.retell_api_key of company 7"),
                "{bad}: {text}"
            );
        }
    }

    #[test]
    fn previous_keys_open_and_unknown_keys_are_named() {
        let (old, new) = (key(), key());
        let before = Keyring::new(old.clone(), vec![]);
        let sealed = before
            .seal(CompanyId(3), Column::CalcomApiKey, &secret())
            .unwrap();
        let rotated = Keyring::new(new.clone(), vec![old.clone()]);
        let back = rotated.open(CompanyId(3), Column::CalcomApiKey, &sealed);
        assert_eq!(opened(back.unwrap()).0, "previous");
        let forgot = Keyring::new(new, vec![]);
        let err = forgot
            .open(CompanyId(3), Column::CalcomApiKey, &sealed)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("sealed with key {}", old.id())),
            "{err}"
        );
        let none = Keyring::default()
            .open(CompanyId(3), Column::CalcomApiKey, &sealed)
            .unwrap_err();
        assert!(matches!(none, SecretsError::NoKey { .. }), "{none}");
    }

    #[test]
    fn plaintext_is_reported_as_such_and_refused_by_reveal() {
        let ring = Keyring::new(key(), vec![]);
        let legacy = ring.open(CompanyId(1), Column::CalcomApiKey, "cal_legacy");
        assert_eq!(
            opened(legacy.unwrap()),
            ("plaintext", "cal_legacy".to_owned())
        );
        let err = ring
            .reveal(CompanyId(1), Column::CalcomApiKey, "cal_legacy")
            .unwrap_err()
            .to_string();
        assert!(err.contains("switchboard secrets rotate"), "{err}");
        assert!(!err.contains("cal_legacy"), "{err}");
    }

    #[test]
    fn keyring_debug_shows_key_ids_only() {
        let text = SecretKey::generate_base64();
        let ring = Keyring::new(SecretKey::from_base64(&text, "t").unwrap(), vec![key()]);
        let debug = format!("{ring:?}");
        assert!(
            debug.contains(ring.current_id().unwrap().as_str()),
            "{debug}"
        );
        assert!(!debug.contains(text.as_str()), "{debug}");
    }
}
