//! Where the keyring comes from, and what start-up and `switchboard secrets rotate` do with
//! the stored credentials.
//!
//! Keys, in order: `secrets.key` (`SWITCHBOARD__SECRETS__KEY`, base64 of 32 bytes) or
//! `secrets.key_file` (one base64 key per line: the first seals, the others are previous
//! keys), plus `secrets.previous_keys` (base64 keys separated by commas or white space),
//! which only open. Without any, sandbox mode generates a key: beside a SQLite file
//! (`<database file>.key`, mode 0600, reused on every restart), in memory otherwise;
//! production has none, and refuses to start when companies have stored credentials.

use super::{KeyError, Keyring, SecretKey};
use crate::config::{SecretsSettings, Settings};
use crate::store::{AnyStore, ResealReport};
use anyhow::Context as _;
use secrecy::ExposeSecret;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where the keyring came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `secrets.key` or `secrets.key_file`.
    Configured,
    /// Sandbox mode: the key file beside the SQLite database (created on first start).
    SandboxFile(PathBuf),
    /// Sandbox mode on a database without a file: a key for this process only.
    SandboxMemory,
}

/// A keyring and where it came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The keys.
    pub keyring: Keyring,
    /// Their origin.
    pub source: KeySource,
}

/// The keyring `settings` give: the configured keys, else in sandbox mode a generated one;
/// `None` in production without keys.
///
/// # Errors
/// A key that is not base64 of 32 bytes, a key file that cannot be read (or, in sandbox
/// mode, written), both `secrets.key` and `secrets.key_file` set, or previous keys without
/// a current one. Messages name the setting or file, never a key.
pub fn resolve(settings: &Settings) -> Result<Option<Resolved>, KeyError> {
    if let Some(keyring) = configured(&settings.secrets)? {
        return Ok(Some(Resolved {
            keyring,
            source: KeySource::Configured,
        }));
    }
    if !settings.sandbox.enabled {
        return Ok(None);
    }
    let resolved = match sqlite_file(settings.database.url.expose_secret()) {
        Some(database) => {
            let mut path = database.into_os_string();
            path.push(".key");
            let path = PathBuf::from(path);
            Resolved {
                keyring: load_or_create(&path)?,
                source: KeySource::SandboxFile(path),
            }
        }
        None => Resolved {
            keyring: Keyring::new(
                SecretKey::from_base64(&SecretKey::generate_base64(), "generated key")?,
                Vec::new(),
            ),
            source: KeySource::SandboxMemory,
        },
    };
    Ok(Some(resolved))
}

/// The keyring of the `[secrets]` settings; `None` when they name no key.
fn configured(s: &SecretsSettings) -> Result<Option<Keyring>, KeyError> {
    let (key, file) = (s.key.expose_secret().trim(), s.key_file.trim());
    let mut keys = match (key.is_empty(), file.is_empty()) {
        (false, false) => {
            return Err(KeyError::Settings(
                "set secrets.key or secrets.key_file, not both".into(),
            ));
        }
        (false, true) => vec![SecretKey::from_base64(key, "secrets.key")?],
        (true, false) => read_key_file(Path::new(file))?,
        (true, true) => Vec::new(),
    };
    let previous = s
        .previous_keys
        .expose_secret()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|k| !k.is_empty())
        .enumerate()
        .map(|(i, k)| SecretKey::from_base64(k, &format!("secrets.previous_keys[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        if previous.is_empty() {
            return Ok(None);
        }
        return Err(KeyError::Settings(
            "secrets.previous_keys only open old values: set secrets.key or \
             secrets.key_file too (the key that seals)"
                .into(),
        ));
    }
    let current = keys.remove(0);
    keys.extend(previous);
    Ok(Some(Keyring::new(current, keys)))
}

/// The keys of a key file: one base64 key per line, blank lines and `#` comments skipped.
fn read_key_file(path: &Path) -> Result<Vec<SecretKey>, KeyError> {
    let file_error = |source| KeyError::File {
        path: path.display().to_string(),
        source,
    };
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(file_error)?);
    let keys = text
        .lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            SecretKey::from_base64(line, &format!("{} line {}", path.display(), i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(KeyError::Settings(format!(
            "secrets key file {}: no key in it",
            path.display()
        )));
    }
    Ok(keys)
}

/// The sandbox's key file at `path`, created (readable by the owner only) with a new key
/// when missing. Two sandboxes starting on one file at once agree: only one creates it.
fn load_or_create(path: &Path) -> Result<Keyring, KeyError> {
    let file_error = |source| KeyError::File {
        path: path.display().to_string(),
        source,
    };
    if !path.exists() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(file_error)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                let key = SecretKey::generate_base64();
                file.write_all(format!("{}\n", key.as_str()).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(file_error)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(file_error(e)),
        }
    }
    let mut keys = read_key_file(path)?;
    let current = keys.remove(0);
    Ok(Keyring::new(current, keys))
}

/// The file of a `sqlite:` URL; `None` for an in-memory database or another scheme.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.contains(":memory:") || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Start-up: gives `store` the keyring of `settings` and checks the stored credentials.
/// - Production without a key refuses to start when any company exists (naming
///   `SWITCHBOARD__SECRETS__KEY`); with none it starts, and adding a company fails until a
///   key is set.
/// - Plaintext credentials (stored before encryption at rest) stop production with the
///   advice to run `switchboard secrets rotate`; sandbox mode encrypts them at once.
/// - Values no configured key opens are logged by company and column; only that company's
///   requests fail.
///
/// # Errors
/// The refusals above, a bad key setting, or the database failing.
pub async fn secure(settings: &Settings, store: AnyStore) -> anyhow::Result<AnyStore> {
    let Some(resolved) = resolve(settings)? else {
        let census = store.reseal_credentials(false).await?;
        anyhow::ensure!(
            census.companies == 0,
            "{} companies have stored credentials, but no secrets key is configured: set \
             SWITCHBOARD__SECRETS__KEY (base64 of 32 bytes; `switchboard secrets \
             generate-key` makes one) or secrets.key_file to the key they were stored with",
            census.companies
        );
        tracing::warn!(
            "no secrets key configured (SWITCHBOARD__SECRETS__KEY): companies cannot be added \
             until one is"
        );
        return Ok(store);
    };
    let key = resolved.keyring.current_id().map(ToString::to_string);
    match &resolved.source {
        KeySource::Configured => tracing::info!(key, "credentials key configured"),
        KeySource::SandboxFile(path) => {
            tracing::info!(key, file = %path.display(), "sandbox credentials key");
        }
        KeySource::SandboxMemory => tracing::warn!(
            key,
            "sandbox credentials key generated for this process only: set \
             SWITCHBOARD__SECRETS__KEY so restarts and other instances read what it stores"
        ),
    }
    let store = store.with_keyring(resolved.keyring);
    let census = store.reseal_credentials(false).await?;
    if census.plaintext > 0 {
        anyhow::ensure!(
            settings.sandbox.enabled,
            "{} stored credentials are in plaintext (stored before encryption at rest): run \
             `switchboard secrets rotate` with this configuration to encrypt them, then start \
             again",
            census.plaintext
        );
        let done = store.reseal_credentials(true).await?;
        tracing::info!(%done, "sandbox: plaintext credentials encrypted");
    }
    for problem in &census.unreadable {
        tracing::error!(
            problem = problem.as_str(),
            "stored credential cannot be read; that company's requests fail until its key is \
             configured or the credential stored again"
        );
    }
    if census.previous > 0 {
        tracing::info!(
            count = census.previous,
            "credentials sealed with a previous key: `switchboard secrets rotate` re-seals them"
        );
    }
    Ok(store)
}

/// `switchboard secrets rotate`: re-seals every stored credential under the current key
/// (opening it with the current or a previous key; plaintext ones are encrypted). Values
/// already under the current key are left as they are, so a second run changes nothing.
/// With `dry_run` nothing is written; the report says what would be.
///
/// # Errors
/// No configured key (sandbox mode's per-process key does not count: what it seals would
/// be lost), a bad key setting, or the database failing.
pub async fn rotate(settings: &Settings, dry_run: bool) -> anyhow::Result<ResealReport> {
    let store = crate::startup::open_store(settings).await?;
    let resolved = resolve(settings)?.context(
        "no secrets key configured: set SWITCHBOARD__SECRETS__KEY (base64 of 32 bytes; \
         `switchboard secrets generate-key` makes one) or secrets.key_file",
    )?;
    anyhow::ensure!(
        resolved.source != KeySource::SandboxMemory,
        "this database has no key file and no key is configured: set \
         SWITCHBOARD__SECRETS__KEY, or the values rotated would be lost with this command"
    );
    Ok(store
        .with_keyring(resolved.keyring)
        .reseal_credentials(!dry_run)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn secrets(key: &str, key_file: &str, previous: &str) -> SecretsSettings {
        SecretsSettings {
            key: SecretString::from(key),
            key_file: key_file.to_owned(),
            previous_keys: SecretString::from(previous),
        }
    }

    #[test]
    fn key_file_lines_are_current_then_previous_and_previous_keys_add_to_them() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            SecretKey::generate_base64(),
            SecretKey::generate_base64(),
            SecretKey::generate_base64(),
        );
        let file = dir.path().join("keys");
        std::fs::write(&file, format!("# current first\n{}\n\n{}\n", *a, *b)).unwrap();
        let ring = configured(&secrets("", file.to_str().unwrap(), &c))
            .unwrap()
            .unwrap();
        let id = |k: &str| SecretKey::from_base64(k, "t").unwrap().id().clone();
        assert_eq!(ring.current_id(), Some(&id(&a)));
        let debug = format!("{ring:?}");
        assert!(debug.contains(id(&b).as_str()) && debug.contains(id(&c).as_str()));
    }

    #[test]
    fn contradicting_or_incomplete_key_settings_are_refused() {
        let key = SecretKey::generate_base64();
        let both = configured(&secrets(&key, "/some/file", "")).unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        let only_previous = configured(&secrets("", "", &key)).unwrap_err();
        assert!(
            only_previous.to_string().contains("secrets.key"),
            "{only_previous}"
        );
        assert!(configured(&secrets("", "", "")).unwrap().is_none());
        let missing = configured(&secrets("", "/nonexistent/keys", "")).unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/keys"),
            "{missing}"
        );
    }

    #[test]
    fn sqlite_key_file_is_created_once_owner_only_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("sb.db.key");
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert_eq!(first.current_id(), again.current_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn only_file_databases_get_a_key_file() {
        let file = |url| sqlite_file(url).map(|p| p.display().to_string());
        assert_eq!(file("sqlite://data/sb.db").as_deref(), Some("data/sb.db"));
        assert_eq!(
            file("sqlite:///tmp/x/sb.db?mode=rwc").as_deref(),
            Some("/tmp/x/sb.db")
        );
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://file.db?mode=memory"), None);
        assert_eq!(file("postgres://u@h/db"), None);
    }
}
