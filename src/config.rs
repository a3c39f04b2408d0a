//! Layered configuration: the compiled-in `config/default.toml`, then an optional file, then
//! environment variables `SWITCHBOARD__SECTION__KEY` (the `config` crate does the merging).

use secrecy::SecretString;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("configuration: {0}")]
    Value(String),
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    /// Bytes.
    pub max_body_bytes: usize,
    /// Seconds.
    pub shutdown_timeout_s: u64,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    pub level: String,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

/// `[sandbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    pub enabled: bool,
    pub admin_token: SecretString,
    pub calcom_port: u16,
}

/// `[calcom]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalcomSettings {
    pub base_url: String,
    pub timeout_ms: u64,
}

/// `[retell]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetellSettings {
    pub signature_tolerance_ms: i64,
}

/// `[breaker.<upstream>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    pub failure_threshold: u32,
    /// Seconds.
    pub open_s: u64,
}

/// `[breaker]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakersSettings {
    pub calcom: BreakerSettings,
}

/// `[gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    pub deadline_ms: u64,
    pub max_batch: usize,
}

/// `[functions]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSettings {
    pub deadline_ms: u64,
    pub calendar_timeout_ms: u64,
}

/// `[outbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    pub poll_interval_ms: u64,
    pub lease_s: u64,
    pub batch: u32,
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
}

/// `[calls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSettings {
    pub idle_timeout_s: u64,
}

/// `[cache]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    pub event_types_ttl_s: u64,
    pub availability_ttl_s: u64,
    pub max_entries: u64,
}

/// All settings (see config/default.toml for every key and its meaning).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub log: LogSettings,
    pub database: DatabaseSettings,
    pub sandbox: SandboxSettings,
    pub calcom: CalcomSettings,
    pub retell: RetellSettings,
    pub breaker: BreakersSettings,
    pub gateway: GatewaySettings,
    pub functions: FunctionSettings,
    pub outbox: OutboxSettings,
    pub calls: CallSettings,
    pub cache: CacheSettings,
}

impl Settings {
    /// Defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Like [`Settings::load`] with an explicit environment (tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("SWITCHBOARD__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("SWITCHBOARD")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(env)),
        );
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Value(m.to_owned()));
        if !self.database.url.starts_with("sqlite:") {
            return bad("database.url must be sqlite://PATH in this release");
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return bad("log.format must be \"pretty\" or \"json\"");
        }
        if self.server.max_body_bytes < 1024 {
            return bad("server.max_body_bytes must be at least 1024");
        }
        if self.outbox.max_attempts == 0 || self.breaker.calcom.failure_threshold == 0 {
            return bad(
                "outbox.max_attempts and breaker.calcom.failure_threshold must be at least 1",
            );
        }
        Ok(())
    }

    /// `[functions] deadline_ms` as a duration.
    pub fn function_deadline(&self) -> Duration {
        Duration::from_millis(self.functions.deadline_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn compiled_defaults_load_without_any_file() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.database.url, "sqlite://data/switchboard.db");
        assert!(s.sandbox.enabled);
        assert_eq!(s.breaker.calcom.failure_threshold, 5);
    }

    #[test]
    fn env_overrides_nested_keys() {
        let s = Settings::load_from(
            None,
            env(&[
                ("SWITCHBOARD__SERVER__PORT", "9001"),
                ("SWITCHBOARD__SERVER__HOST", "0.0.0.0"),
                ("SWITCHBOARD__DATABASE__URL", "sqlite://x/y.db"),
                ("SWITCHBOARD__SANDBOX__ADMIN_TOKEN", "tok"),
                ("SWITCHBOARD__BREAKER__CALCOM__OPEN_S", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9001);
        assert_eq!(s.server.host, "0.0.0.0");
        assert_eq!(s.database.url, "sqlite://x/y.db");
        assert_eq!(s.sandbox.admin_token.expose_secret(), "tok");
        assert_eq!(s.breaker.calcom.open_s, 7);
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nport = 7000\nhost = \"10.0.0.1\"\n").unwrap();
        let s = Settings::load_from(Some(&path), env(&[("SWITCHBOARD__SERVER__PORT", "7001")]))
            .unwrap();
        assert_eq!(s.server.host, "10.0.0.1");
        assert_eq!(s.server.port, 7001);
    }

    #[test]
    fn unknown_key_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nprot = 1\n").unwrap();
        assert!(Settings::load_from(Some(&path), env(&[])).is_err());
        assert!(Settings::load_from(None, env(&[("SWITCHBOARD__SERVER__PORT", "x")])).is_err());
        assert!(
            Settings::load_from(None, env(&[("SWITCHBOARD__DATABASE__URL", "mysql://x")])).is_err()
        );
        assert!(Settings::load_from(Some(Path::new("/nonexistent.toml")), env(&[])).is_err());
    }
}
