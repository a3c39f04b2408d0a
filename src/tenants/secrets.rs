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
    /// not UTF-8).
    pub fn resolve(&self, written: &str) -> Result<SecretString, String> {
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
