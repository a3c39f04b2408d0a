//! Secrets as tenant files write them (the file form of
//! [`ResolveSecret`](switchboard_actors::domain::onboarding::spec::ResolveSecret)):
//! `env:NAME` reads the environment, `file:PATH` a file beside the tenant file, anything else
//! is the value itself. Messages name the variable or path, never the value.

use secrecy::SecretString;
use std::path::{Path, PathBuf};
use switchboard_actors::domain::onboarding::spec::MAX_SECRET_LEN;

/// Largest secret file read: a credential and a little whitespace; anything bigger is not one
/// (and is not read into memory).
const MAX_SECRET_FILE_BYTES: u64 = 4096;

/// Resolves the secrets of one tenant file.
#[derive(Clone, Debug)]
pub struct FileSecrets {
    /// Directory of the tenant file: `file:` paths are relative to it.
    dir: PathBuf,
}

impl FileSecrets {
    /// The resolver of a tenant file in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    /// `env:NAME` → the variable's value; `file:PATH` → the file's text (relative to the
    /// tenant file's directory; trailing newlines trimmed); else `written` itself.
    ///
    /// # Errors
    /// A message naming the variable (unset, empty, not Unicode) or the path (unreadable,
    /// not UTF-8, larger than a credential); the masked form `tenant show` prints.
    pub fn resolve(&self, written: &str) -> Result<SecretString, String> {
        if written == "not set" || written.starts_with("set (sha256:") {
            return Err(format!(
                "{written:?} is how `tenant show` masks a credential, not a credential: write the \
                 value, env:NAME or file:PATH, or leave the key out to keep the stored one"
            ));
        }
        if let Some(name) = written.strip_prefix("env:") {
            return match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value)),
                Ok(_) => Err(format!("environment variable {name} is empty")),
                Err(std::env::VarError::NotPresent) => {
                    Err(format!("environment variable {name} is not set"))
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(format!("environment variable {name} is not Unicode text"))
                }
            };
        }
        if let Some(path) = written.strip_prefix("file:") {
            let full = self.dir.join(path);
            let size = std::fs::metadata(&full)
                .map_err(|e| format!("cannot read secret file {}: {e}", full.display()))?
                .len();
            if size > MAX_SECRET_FILE_BYTES {
                return Err(format!(
                    "secret file {} is {size} bytes; a credential is at most {MAX_SECRET_LEN}",
                    full.display()
                ));
            }
            let text = std::fs::read_to_string(&full)
                .map_err(|e| format!("cannot read secret file {}: {e}", full.display()))?;
            return Ok(SecretString::from(
                text.trim_end_matches(['\n', '\r']).to_owned(),
            ));
        }
        Ok(SecretString::from(written.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_secret_is_read_beside_the_tenant_file_without_its_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cal.key"), "cal_live_abc\r\n").unwrap();
        let secret = FileSecrets::new(dir.path())
            .resolve("file:cal.key")
            .unwrap();
        assert_eq!(secret.expose_secret(), "cal_live_abc");
    }

    #[test]
    fn unreadable_secret_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = FileSecrets::new(dir.path())
            .resolve("file:missing.key")
            .unwrap_err();
        assert!(err.contains("missing.key"), "{err}");
    }

    #[test]
    fn secret_file_larger_than_a_credential_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.key"), "x".repeat(10_000)).unwrap();
        let err = FileSecrets::new(dir.path())
            .resolve("file:big.key")
            .unwrap_err();
        assert!(
            err.contains("big.key") && err.contains("10000 bytes"),
            "{err}"
        );
        assert!(!err.contains("xxx"), "{err}");
    }

    #[test]
    fn unset_variable_is_named_in_the_error() {
        let err = FileSecrets::new(Path::new("."))
            .resolve("env:SWITCHBOARD_TEST_SURELY_UNSET_4711")
            .unwrap_err();
        assert_eq!(
            err,
            "environment variable SWITCHBOARD_TEST_SURELY_UNSET_4711 is not set"
        );
    }

    #[test]
    fn masked_form_of_tenant_show_is_refused() {
        let secrets = FileSecrets::new(Path::new("."));
        for masked in ["set (sha256:0123456789ab)", "not set"] {
            let err = secrets.resolve(masked).unwrap_err();
            assert!(err.contains("tenant show"), "{err}");
        }
    }

    #[test]
    fn other_text_is_the_secret_itself() {
        let secret = FileSecrets::new(Path::new("."))
            .resolve("cal_live_literal")
            .unwrap();
        assert_eq!(secret.expose_secret(), "cal_live_literal");
    }
}
