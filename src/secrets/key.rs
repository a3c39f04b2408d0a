//! One AES-256 key: parsed from its base64 setting or generated, named by a key id, never
//! printed.

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore as _;
use aes_gcm::{Aes256Gcm, Key, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::fmt::{self, Write as _};
use zeroize::Zeroizing;

/// Bytes of an AES-256 key.
pub const KEY_BYTES: usize = 32;

/// Why a configured key could not be used. Names the setting or file, never the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The value is not standard base64 (RFC 4648 §4, with padding).
    #[error("{setting}: not base64 (expected base64 of {KEY_BYTES} random bytes)")]
    NotBase64 {
        /// The setting or file that held it, e.g. `secrets.key`.
        setting: String,
    },
    /// The value decodes to the wrong number of bytes.
    #[error("{setting}: decodes to {len} bytes, expected {KEY_BYTES}")]
    WrongLength {
        /// The setting or file that held it.
        setting: String,
        /// Decoded length.
        len: usize,
    },
    /// A key file could not be read or written.
    #[error("secrets key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The settings contradict each other or are incomplete.
    #[error("{0}")]
    Settings(String),
}

/// The id stored with every value sealed under a key: the first 8 lower-case hex digits of
/// the SHA-256 of the key bytes, so the same key always has the same id on every instance
/// and a rotation is visible in the stored values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    fn of(key: &[u8]) -> Self {
        let digest = Sha256::digest(key);
        let hex = digest[..4]
            .iter()
            .fold(String::with_capacity(8), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            });
        Self(hex)
    }

    /// The id as stored, e.g. `3fa9c01e`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AES-256-GCM key ready to seal and open; its `Debug` shows the key id only. The key
/// schedule is wiped on drop (`aes-gcm`'s `zeroize` feature).
#[derive(Clone)]
pub struct SecretKey {
    id: KeyId,
    cipher: Aes256Gcm,
}

impl SecretKey {
    /// Parses base64 (standard alphabet, padded; surrounding white space ignored) of
    /// [`KEY_BYTES`] bytes. `setting` names where it came from, for the error.
    ///
    /// # Errors
    /// [`KeyError::NotBase64`] or [`KeyError::WrongLength`], without the value.
    pub fn from_base64(text: &str, setting: &str) -> Result<Self, KeyError> {
        let bytes =
            Zeroizing::new(
                STANDARD
                    .decode(text.trim())
                    .map_err(|_| KeyError::NotBase64 {
                        setting: setting.to_owned(),
                    })?,
            );
        if bytes.len() != KEY_BYTES {
            return Err(KeyError::WrongLength {
                setting: setting.to_owned(),
                len: bytes.len(),
            });
        }
        Ok(Self {
            id: KeyId::of(&bytes),
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
        })
    }

    /// A new random key from the operating system's RNG, as base64 (the form
    /// [`SecretKey::from_base64`] reads and `secrets.key` takes).
    pub fn generate_base64() -> Zeroizing<String> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        OsRng.fill_bytes(key.as_mut_slice());
        Zeroizing::new(STANDARD.encode(key.as_slice()))
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    pub(super) fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_parses_and_its_id_is_stable() {
        let text = SecretKey::generate_base64();
        let (a, b) = (
            SecretKey::from_base64(&text, "t").unwrap(),
            SecretKey::from_base64(&format!(" {}\n", text.as_str()), "t").unwrap(),
        );
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().as_str().len(), 8);
        let other = SecretKey::from_base64(&SecretKey::generate_base64(), "t").unwrap();
        assert_ne!(a.id(), other.id());
    }

    #[test]
    fn bad_key_errors_name_the_setting_and_never_the_value() {
        let short = STANDARD.encode([7u8; 16]);
        for (value, expected) in [
            ("not base64 !!", "secrets.key: not base64"),
            (
                short.as_str(),
                "secrets.key: decodes to 16 bytes, expected 32",
            ),
        ] {
            let err = SecretKey::from_base64(value, "secrets.key")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains(value.trim()), "{err}");
        }
    }

    #[test]
    fn key_debug_shows_its_id_and_not_the_key() {
        let text = SecretKey::generate_base64();
        let key = SecretKey::from_base64(&text, "t").unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(key.id().as_str()), "{debug}");
        assert!(!debug.contains(text.as_str()), "{debug}");
    }
}
