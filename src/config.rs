//! Layered configuration: the compiled-in `config/default.toml`, then an optional file, then
//! environment variables `SWITCHBOARD__SECTION__KEY` (the `config` crate does the merging).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;
use switchboard_actors::breaker::UpstreamPolicy;
use switchboard_actors::ratelimit::Quotas;
use switchboard_actors::resilience::{BreakerPolicy, BudgetPolicy, RetryBudget, RetryPolicy};

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// `url` for logs and error messages: scheme, user, host, port and path (the database), never
/// the password, e.g. `postgres://app:secret@db:5432/switchboard` →
/// `postgres://app@db:5432/switchboard`. The query and fragment are dropped too: libpq-style
/// URLs may carry `?password=…` or `?sslpassword=…`. A URL that does not parse shows its
/// scheme only.
pub fn redact_url(url: &SecretString) -> String {
    let url = url.expose_secret();
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            // Fails only for URLs that cannot have credentials, which then have none to hide.
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => {
            let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
            format!("{scheme}:(unparsable URL)")
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or does not fit the settings' shape (unknown key, wrong type,
    /// missing `--config` file).
    #[error("configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    /// A value has the right type but is not allowed, e.g. a database URL that is neither
    /// `sqlite:` nor `postgres://`.
    #[error("configuration: {0}")]
    Value(String),
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    pub host: String,
    /// TCP port; 0 picks a free one (the log says which).
    pub port: u16,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Bytes.
    pub max_body_bytes: usize,
    /// Seconds.
    pub shutdown_timeout_s: u64,
    /// Milliseconds a new connection has to send its first request head; then 408.
    pub client_request_timeout_ms: u64,
    /// Milliseconds a request's body has to arrive once its head is read; then 408.
    pub body_read_timeout_ms: u64,
    /// Milliseconds an idle keep-alive connection is kept; 0 disables keep-alive.
    pub keep_alive_ms: u64,
    /// Milliseconds a closing connection gets to shut down cleanly before it is dropped.
    pub client_disconnect_timeout_ms: u64,
    /// Base URL Retell (and operators' browsers) reach this service at, e.g.
    /// `https://switchboard.example.com`; the Retell set-up writes it into each agent. Empty:
    /// `http://{host}:{port}` in sandbox mode, not configured otherwise.
    pub public_url: String,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// tracing filter in `RUST_LOG` syntax, e.g. `info,sqlx=warn`; the `RUST_LOG` variable wins
    /// when set.
    pub level: String,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (the embedded default; PATH relative to the working directory, the file
    /// and its directory are created) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`
    /// (production). A secret: it may carry a password, so it never prints (see
    /// [`redact_url`]).
    pub url: SecretString,
    /// Connections in the pool.
    pub max_connections: u32,
    /// `[database.query]`: limits of `database.query`.
    pub query: QuerySettings,
}

/// `[database.query]`: limits of the client SQL of `database.query`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySettings {
    /// Most rows one query returns, 1–1000.
    pub max_rows: u32,
    /// A query running longer is stopped (JSON-RPC -32005), in milliseconds; at least 1.
    pub timeout_ms: u64,
    /// Longest SQL text accepted, in bytes, 1–4096.
    pub max_sql_bytes: usize,
}

/// `[redis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://[USER:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://`), shared by every instance;
    /// empty = the in-process cache. A secret, like `database.url`.
    pub url: SecretString,
    /// Prepended to every cache key.
    pub key_prefix: String,
}

/// `[sandbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    /// In-process Cal.com simulator and seeded demo tenant instead of the real Cal.com; `false` in
    /// production.
    pub enabled: bool,
    /// Gateway admin token in sandbox mode; empty means one is generated and printed at start.
    pub admin_token: SecretString,
    /// Loopback port of the in-process Cal.com simulator; 0 picks a free one.
    pub calcom_port: u16,
    /// Base URL of an external simulator to use instead of the in-process one; empty = none.
    pub calcom_url: String,
    /// Loopback port of the in-process Retell simulator; 0 picks a free one.
    pub retell_port: u16,
    /// Base URL of an external Retell simulator (`switchboard sim retell`) to use instead of
    /// the in-process one; empty = none.
    pub retell_url: String,
}

/// `[calcom]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalcomSettings {
    /// Cal.com API base URL without `/v2`, e.g. `https://api.cal.com` or `https://api.cal.eu`;
    /// ignored in sandbox mode.
    pub base_url: String,
}

/// `[retell]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetellSettings {
    /// Retell API base URL, e.g. `https://api.retellai.com`; ignored in sandbox mode (the
    /// simulator).
    pub base_url: String,
    /// Largest distance between the `X-Retell-Signature` timestamp and our clock, milliseconds,
    /// either way (Retell's SDKs use 300000).
    pub signature_tolerance_ms: i64,
    /// Most signatures the in-process replay guard remembers (without Redis, or while Redis is
    /// down); each lives until its signature goes stale. See `cache::ReplayGuard`.
    pub replay_max_entries: u64,
}

/// `[resilience.<upstream>]`: circuit breaker, timeout, retries and retry budget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// Seconds the breaker stays open.
    pub open_s: u64,
    /// Probe calls admitted while half-open.
    pub half_open_probes: u32,
    /// Successful probes that close the breaker.
    pub close_after: u32,
    /// Milliseconds after which a call counts as a failure.
    pub slow_call_ms: u64,
    /// Timeout of one call, milliseconds.
    pub timeout_ms: u64,
    /// Attempts in total, first try included.
    pub retry_max_attempts: u32,
    /// First retry delay, milliseconds.
    pub retry_min_delay_ms: u64,
    /// Longest retry delay, milliseconds.
    pub retry_max_delay_ms: u64,
    /// Retries as a percentage of recent requests (0–100).
    pub retry_budget_percent: f32,
    /// Retries per second always allowed.
    pub retry_budget_min_per_s: u32,
}

impl UpstreamSettings {
    /// The core's policy for this upstream.
    pub fn policy(&self) -> UpstreamPolicy {
        UpstreamPolicy {
            breaker: BreakerPolicy {
                failure_threshold: self.failure_threshold,
                open_for: Duration::from_secs(self.open_s),
                half_open_probes: self.half_open_probes,
                close_after: self.close_after,
                slow_call: Duration::from_millis(self.slow_call_ms),
            },
            retry: RetryPolicy {
                min_delay: Duration::from_millis(self.retry_min_delay_ms),
                max_delay: Duration::from_millis(self.retry_max_delay_ms),
                max_attempts: self.retry_max_attempts,
                ..RetryPolicy::default()
            },
            budget: BudgetPolicy {
                retry_ratio: self.retry_budget_percent / 100.0,
                min_per_sec: self.retry_budget_min_per_s,
                ..BudgetPolicy::default()
            },
            call_timeout: Duration::from_millis(self.timeout_ms),
        }
    }

    fn validate(&self, name: &str) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Value(format!("resilience.{name}: {m}")));
        if self.failure_threshold == 0 || self.half_open_probes == 0 || self.close_after == 0 {
            return bad(
                "failure_threshold, half_open_probes and close_after must be at least 1".into(),
            );
        }
        if self.close_after > self.half_open_probes {
            return bad("close_after cannot exceed half_open_probes".into());
        }
        if self.retry_max_attempts == 0 || self.timeout_ms == 0 {
            return bad("retry_max_attempts and timeout_ms must be at least 1".into());
        }
        if !(0.0..=100.0).contains(&self.retry_budget_percent) {
            return bad("retry_budget_percent must be 0 to 100".into());
        }
        if let Err(e) = RetryBudget::new(self.policy().budget) {
            return bad(e.to_string());
        }
        Ok(())
    }
}

/// `[resilience]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilienceSettings {
    /// Cal.com API.
    pub calcom: UpstreamSettings,
    /// Retell API.
    pub retell: UpstreamSettings,
}

/// `[gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Deadline of one JSON-RPC call in milliseconds; after it the caller gets -32005.
    pub deadline_ms: u64,
    /// Most elements in one JSON-RPC batch; a longer batch is refused whole with -32600.
    pub max_batch: usize,
}

/// `[mcp]`: the Model Context Protocol endpoint `/mcp` (issue 14).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSettings {
    /// Serve `/mcp` and its protected-resource metadata; false answers them 404.
    pub enabled: bool,
    /// OAuth 2.1 authorization servers (issuer URLs) that issue tokens for `/mcp`, listed in
    /// the RFC 9728 metadata at `/.well-known/oauth-protected-resource`. Empty: tokens are the
    /// gateway's own (`switchboard token create`) and the metadata names none.
    pub authorization_servers: Vec<String>,
    /// Browser origins (scheme://host[:port], `:*` for any port) allowed to call `/mcp`, besides
    /// the origin of `server.public_url` (and loopback origins when bound to loopback). A
    /// request with any other `Origin` gets 403 (DNS-rebinding protection).
    pub allowed_origins: Vec<String>,
    /// Host names (or host:port) accepted in `Host`, besides the host of `server.public_url`
    /// (and loopback names when bound to loopback); any other gets 403.
    pub allowed_hosts: Vec<String>,
    /// Most live MCP sessions (2025-11-25 handshake) in this process; an `initialize` beyond
    /// it is refused until one ends or idles out. Stateless (2026-07-28) requests need none.
    pub max_sessions: usize,
    /// Seconds an MCP session may stay idle before it is closed (and its entry in Redis, when
    /// configured, expires).
    pub session_idle_s: u64,
}

/// `[telemetry]`: traces over OTLP/HTTP (issue 15; see `telemetry` and the README's
/// "Traces").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Base URL of an OTLP/HTTP receiver (an OpenTelemetry collector), e.g.
    /// `http://localhost:4318`; spans are posted to `{otlp_endpoint}/v1/traces` as protobuf.
    /// Empty: the standard variable `OTEL_EXPORTER_OTLP_ENDPOINT` when set, else traces are
    /// off (no exporter, no background thread). A secret: it may carry credentials, so it
    /// is logged redacted.
    pub otlp_endpoint: SecretString,
    /// `service.name` of the exported resource.
    pub service_name: String,
    /// Share of calls (and other traces) exported, 0.0 to 1.0; decided by trace id, so a
    /// call's spans are kept or dropped together on every instance.
    pub sample_ratio: f64,
    /// Milliseconds one export request may take before it is given up (the spans are lost).
    pub export_timeout_ms: u64,
}

impl TelemetrySettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let endpoint = self.otlp_endpoint.expose_secret().trim();
        let bad = |m: &str| Err(ConfigError::Value(m.to_owned()));
        if !endpoint.is_empty()
            && !endpoint.starts_with("http://")
            && !endpoint.starts_with("https://")
        {
            return bad("telemetry.otlp_endpoint must be empty or http(s)://HOST:PORT");
        }
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return bad("telemetry.sample_ratio must be 0.0 to 1.0");
        }
        if self.service_name.trim().is_empty() || self.export_timeout_ms == 0 {
            return bad(
                "telemetry.service_name must not be empty and telemetry.export_timeout_ms at least 1",
            );
        }
        Ok(())
    }
}

/// `[functions]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSettings {
    /// Milliseconds within which a custom function answers, with a spoken fallback if need be.
    pub deadline_ms: u64,
    /// Longest wait for Cal.com inside a custom function, milliseconds, before answering without
    /// it.
    pub calendar_timeout_ms: u64,
}

/// `[outbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// Milliseconds between polls for due jobs; a webhook that enqueues one also wakes the worker.
    pub poll_interval_ms: u64,
    /// Seconds a claimed job stays locked to this worker before another may take it.
    pub lease_s: u64,
    /// Jobs claimed per poll.
    pub batch: u32,
    /// Attempts before a booking job becomes a dead letter (`failed`); at least 1.
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles per attempt up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    /// Longest retry delay in milliseconds; also caps a longer `Retry-After` from Cal.com.
    pub backoff_max_ms: u64,
}

/// `[supervision]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionSettings {
    /// Restarts of self-driven actors (the outbox worker) allowed within `window_s`; panics caused
    /// by requests restart their actor without counting here.
    pub max_restarts: u32,
    /// Seconds.
    pub window_s: u64,
}

/// `[calls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSettings {
    /// Minutes without a custom function after which a call context leaves memory; its data
    /// stays stored. At least 1.
    pub idle_timeout_min: u64,
    /// Most call contexts live in memory at once; starting one more stops the least recently
    /// used. At least 1.
    pub max_live: usize,
    /// Minutes a caller's complete, free slot is held in Cal.com (a slot reservation) while
    /// the caller decides; renewed on the call's next function when half of it has passed.
    /// 1 to 60.
    pub slot_hold_min: u32,
}

/// `[tenants]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Minutes without a request after which a company's booking session and Cal.com breaker
    /// leave memory (a breaker that is not closed stays, so its state is not forgotten). The
    /// next request loads the company afresh. At least 1.
    pub idle_timeout_min: u64,
}

/// `[cache]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Lifetime of cached Cal.com event types, seconds.
    pub event_types_ttl_s: u64,
    /// Lifetime of the cached free slots of one event type and day, seconds; our own bookings
    /// invalidate them at once.
    pub availability_ttl_s: u64,
    /// Most entries in the in-process cache.
    pub max_entries: u64,
    /// Days of free slots warmed when a call starts (the inbound-call and `call_started`
    /// webhooks), from the caller's local today: 3 = today and the next two; 0 turns the
    /// prefetch off, and with it the background re-fetch of a day our own booking changed
    /// (the entry is dropped instead). 0 to 31.
    pub prefetch_days: u32,
    /// Most Cal.com requests one call-start warm-up sends at once (today's services first).
    /// 1 to 32.
    pub prefetch_concurrency: usize,
    /// Most free-slot fetches (company, event type, day) in flight in this process, shared by
    /// the prefetch and the calls' lookups: a lookup waits for the fetch in flight instead of
    /// asking Cal.com again. Beyond it a warm-up skips the day and a lookup asks alone.
    /// 1 to 100000.
    pub availability_in_flight: usize,
    /// Lifetime of the in-process memo of token and business-number lookups, seconds
    /// (`http::lookups`), and of each company's cached services; 0 turns both off.
    pub lookups_ttl_s: u64,
    /// Most companies whose services are cached in this process (least used dropped first);
    /// at least 1.
    pub services_max_companies: u64,
}

/// `[secrets]`: the keys that encrypt tenants' credentials at rest (see [`crate::secrets`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    /// Base64 (standard, padded) of 32 random bytes: the AES-256 key that seals credentials;
    /// empty = none. Never printed.
    pub key: SecretString,
    /// A file holding keys instead, one base64 key per line: the first seals, later lines
    /// still open what they sealed (rotation); empty = none. Not with `key`.
    pub key_file: String,
    /// Earlier keys, base64, separated by commas or white space: they open what they sealed
    /// until `switchboard secrets rotate` re-seals it under the current key. Never printed.
    pub previous_keys: SecretString,
}

/// `[rate_limit]`: requests per minute per company (GCRA, burst of one minute's allowance).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// JSON-RPC servers not listed in `servers`, per company token.
    pub default_per_minute: NonZeroU32,
    /// Live Retell custom functions of one company.
    pub custom_function_per_minute: NonZeroU32,
    /// Outgoing Cal.com requests per company credential (Cal.com allows 120 per API key).
    pub calcom_per_credential_per_minute: NonZeroU32,
    /// Percent of the Cal.com budget only live calls may use, 0–99.
    pub calcom_live_reserve_percent: u8,
    /// Per JSON-RPC server, with `_` for the `.` of its name (`retell_config` is the server
    /// `retell.config`), so every entry can be set from the environment.
    pub servers: HashMap<String, NonZeroU32>,
}

impl RateLimitSettings {
    /// The core's quotas: server names with their dots back.
    pub fn quotas(&self) -> Quotas {
        Quotas {
            servers: self
                .servers
                .iter()
                .map(|(name, n)| (name.replace('_', "."), *n))
                .collect(),
            default_server: self.default_per_minute,
            custom_function: self.custom_function_per_minute,
            calcom_credential: self.calcom_per_credential_per_minute,
            calcom_live_reserve_percent: self.calcom_live_reserve_percent,
        }
    }
}

/// `[sms]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// Twilio API base URL for tenants without their own, e.g. `https://api.twilio.com`;
    /// ignored in sandbox mode (the in-process simulator).
    pub base_url: String,
    /// Timeout of one send, milliseconds.
    pub timeout_ms: u64,
    /// Messages each account of the in-process simulator keeps.
    pub sim_max_messages: usize,
}

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Seconds between reads of `queue_depth` from the database (one aggregate over the jobs
    /// table per instance); at least 1.
    pub queue_sample_interval_s: u64,
}

/// `[admin]`: the operators' dashboard at `/admin` (issue 15).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Serve the dashboard; `false` answers 404 under `/admin`.
    pub enabled: bool,
    /// Seconds a session lives without a request (sliding); 60 s – 30 days.
    pub session_ttl_s: u64,
    /// Sessions one token may hold at once; signing in again drops the oldest. At least 1.
    pub max_sessions_per_token: u32,
    /// Failed sign-ins one client address may make per minute; then 429 until the minute is
    /// over. At least 1.
    pub max_failed_sign_ins_per_minute: u32,
    /// Client addresses whose failed sign-ins are counted at once (memory bound); the least
    /// recently seen are forgotten first.
    pub max_tracked_addresses: u64,
    /// Web address of Cal.com for links to a booking (`{calcom_web_url}/booking/{uid}`) of a
    /// tenant whose API base URL does not start with `api.` (for `https://api.cal.eu` the
    /// link goes to `https://app.cal.eu`).
    pub calcom_web_url: String,
}

/// All settings (see config/default.toml for every key and its meaning).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[server]`: bind address, workers, body limit, shutdown grace.
    pub server: ServerSettings,
    /// `[log]`: format and filter.
    pub log: LogSettings,
    /// `[database]`: SQLite or PostgreSQL URL and pool size.
    pub database: DatabaseSettings,
    /// `[redis]`: the shared cache (optional).
    pub redis: RedisSettings,
    /// `[sandbox]`: simulator and demo tenant.
    pub sandbox: SandboxSettings,
    /// `[calcom]`: API base URL.
    pub calcom: CalcomSettings,
    /// `[retell]`: signature timestamp tolerance.
    pub retell: RetellSettings,
    /// `[resilience.*]`: breakers, timeouts, retries per upstream.
    pub resilience: ResilienceSettings,
    /// `[gateway]`: JSON-RPC deadline and batch limit.
    pub gateway: GatewaySettings,
    /// `[functions]`: custom-function deadlines.
    pub functions: FunctionSettings,
    /// `[outbox]`: the booking job worker.
    pub outbox: OutboxSettings,
    /// `[supervision]`: restart budget of the actors.
    pub supervision: SupervisionSettings,
    /// `[calls]`: live call contexts.
    pub calls: CallSettings,
    /// `[tenants]`: per-company sessions and breakers in memory.
    pub tenants: TenantSettings,
    /// `[cache]`: lifetimes of cached upstream reads, size of the in-process cache.
    pub cache: CacheSettings,
    /// `[secrets]`: keys of the credentials at rest.
    pub secrets: SecretsSettings,
    /// `[rate_limit]`: per company and server, live calls, and Cal.com credential.
    pub rate_limit: RateLimitSettings,
    /// `[sms]`: the SMS API (Twilio) for confirmations.
    pub sms: SmsSettings,
    /// `[mcp]`: the Model Context Protocol endpoint.
    pub mcp: McpSettings,
    /// `[metrics]`: what the Prometheus scrape samples.
    pub metrics: MetricsSettings,
    /// `[admin]`: the operators' dashboard.
    pub admin: AdminSettings,
    /// `[telemetry]`: traces over OTLP.
    pub telemetry: TelemetrySettings,
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
                // The list settings, comma-separated in the environment
                // (SWITCHBOARD__MCP__ALLOWED_ORIGINS="https://a.example,https://b.example").
                .list_separator(",")
                .with_list_parse_key("mcp.authorization_servers")
                .with_list_parse_key("mcp.allowed_origins")
                .with_list_parse_key("mcp.allowed_hosts")
                .source(Some(env)),
        );
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Value(m.to_owned()));
        let db = self.database.url.expose_secret();
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| db.starts_with(p))
        {
            return bad("database.url must be sqlite://PATH or postgres://USER@HOST/DB");
        }
        let redis = self.redis.url.expose_secret();
        if !redis.is_empty() && !redis.starts_with("redis://") && !redis.starts_with("rediss://") {
            return bad("redis.url must be empty or redis://HOST:PORT");
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return bad("log.format must be \"pretty\" or \"json\"");
        }
        if self.server.max_body_bytes < 1024 {
            return bad("server.max_body_bytes must be at least 1024");
        }
        if self.server.client_request_timeout_ms == 0 || self.server.body_read_timeout_ms == 0 {
            return bad(
                "server.client_request_timeout_ms and server.body_read_timeout_ms must be at least 1",
            );
        }
        if self.outbox.max_attempts == 0 {
            return bad("outbox.max_attempts must be at least 1");
        }
        if self.calls.idle_timeout_min == 0 || self.calls.max_live == 0 {
            return bad("calls.idle_timeout_min and calls.max_live must be at least 1");
        }
        if self.mcp.max_sessions == 0 || self.mcp.session_idle_s == 0 {
            return bad("mcp.max_sessions and mcp.session_idle_s must be at least 1");
        }
        if !(1..=60).contains(&self.calls.slot_hold_min) {
            return bad("calls.slot_hold_min must be 1 to 60");
        }
        if self.cache.prefetch_days > 31
            || !(1..=32).contains(&self.cache.prefetch_concurrency)
            || !(1..=100_000).contains(&self.cache.availability_in_flight)
        {
            return bad(
                "cache: prefetch_days must be 0 to 31, prefetch_concurrency 1 to 32, \
                 availability_in_flight 1 to 100000",
            );
        }
        if self.tenants.idle_timeout_min == 0 {
            return bad("tenants.idle_timeout_min must be at least 1");
        }
        if self.cache.services_max_companies == 0 {
            return bad("cache.services_max_companies must be at least 1");
        }
        self.resilience.calcom.validate("calcom")?;
        self.resilience.retell.validate("retell")?;
        if self.rate_limit.calcom_live_reserve_percent > 99 {
            return bad("rate_limit.calcom_live_reserve_percent must be 0 to 99");
        }
        if self.sms.timeout_ms == 0 || self.sms.sim_max_messages == 0 {
            return bad("sms.timeout_ms and sms.sim_max_messages must be at least 1");
        }
        if self.metrics.queue_sample_interval_s == 0 {
            return bad("metrics.queue_sample_interval_s must be at least 1");
        }
        if !(60..=30 * 24 * 3600).contains(&self.admin.session_ttl_s) {
            return bad("admin.session_ttl_s must be 60 to 2592000 (30 days)");
        }
        if self.admin.max_sessions_per_token == 0
            || self.admin.max_failed_sign_ins_per_minute == 0
            || self.admin.max_tracked_addresses == 0
        {
            return bad(
                "admin.max_sessions_per_token, admin.max_failed_sign_ins_per_minute and \
                 admin.max_tracked_addresses must be at least 1",
            );
        }
        let query = &self.database.query;
        if !(1..=1000).contains(&query.max_rows)
            || query.timeout_ms == 0
            || !(1..=4096).contains(&query.max_sql_bytes)
        {
            return bad(
                "database.query: max_rows must be 1 to 1000, timeout_ms at least 1, \
                 max_sql_bytes 1 to 4096",
            );
        }
        self.telemetry.validate()?;
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
        assert_eq!(
            s.database.url.expose_secret(),
            "sqlite://data/switchboard.db"
        );
        assert!(s.sandbox.enabled);
        assert_eq!(s.resilience.calcom.failure_threshold, 5);
        assert_eq!(s.resilience.calcom.half_open_probes, 3);
    }

    #[test]
    fn list_settings_are_comma_separated_in_the_environment() {
        let s = Settings::load_from(
            None,
            env(&[
                (
                    "SWITCHBOARD__MCP__ALLOWED_ORIGINS",
                    "https://a.example,https://b.example:8443",
                ),
                (
                    "SWITCHBOARD__MCP__AUTHORIZATION_SERVERS",
                    "https://auth.example",
                ),
                ("SWITCHBOARD__SERVER__HOST", "127.0.0.1"),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.mcp.allowed_origins,
            ["https://a.example", "https://b.example:8443"]
        );
        assert_eq!(s.mcp.authorization_servers, ["https://auth.example"]);
        assert!(s.mcp.allowed_hosts.is_empty());
        assert_eq!(s.server.host, "127.0.0.1", "other strings stay strings");
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
                ("SWITCHBOARD__RESILIENCE__CALCOM__OPEN_S", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9001);
        assert_eq!(s.server.host, "0.0.0.0");
        assert_eq!(s.database.url.expose_secret(), "sqlite://x/y.db");
        assert_eq!(s.sandbox.admin_token.expose_secret(), "tok");
        assert_eq!(s.resilience.calcom.open_s, 7);
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
        assert!(
            Settings::load_from(None, env(&[("SWITCHBOARD__REDIS__URL", "http://x")])).is_err()
        );
        let pg = env(&[("SWITCHBOARD__DATABASE__URL", "postgres://u@127.0.0.1/db")]);
        assert!(Settings::load_from(None, pg).is_ok());
        let too_many = env(&[("SWITCHBOARD__RESILIENCE__CALCOM__CLOSE_AFTER", "4")]);
        assert!(
            Settings::load_from(None, too_many).is_err(),
            "close_after > half_open_probes"
        );
        let ratio = env(&[(
            "SWITCHBOARD__RESILIENCE__RETELL__RETRY_BUDGET_PERCENT",
            "250",
        )]);
        assert!(
            Settings::load_from(None, ratio).is_err(),
            "budget ratio over 100 %"
        );
    }

    #[test]
    fn settings_debug_shows_no_database_or_redis_password() {
        let s = Settings::load_from(
            None,
            env(&[
                (
                    "SWITCHBOARD__DATABASE__URL",
                    "postgres://app:pg-s3cret@db:5432/sb",
                ),
                (
                    "SWITCHBOARD__REDIS__URL",
                    "redis://:redis-s3cret@cache:6379/0",
                ),
            ]),
        )
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("pg-s3cret"), "{debug}");
        assert!(!debug.contains("redis-s3cret"), "{debug}");
    }

    #[test]
    fn settings_debug_shows_no_secrets_key() {
        let s = Settings::load_from(
            None,
            env(&[
                ("SWITCHBOARD__SECRETS__KEY", "current-key-s3cret"),
                ("SWITCHBOARD__SECRETS__PREVIOUS_KEYS", "old-key-s3cret"),
            ]),
        )
        .unwrap();
        assert_eq!(s.secrets.key.expose_secret(), "current-key-s3cret");
        let debug = format!("{s:?}");
        assert!(!debug.contains("key-s3cret"), "{debug}");
    }

    #[test]
    fn redacted_url_names_host_port_and_database_but_not_the_password() {
        let url = |s: &str| redact_url(&SecretString::from(s));
        assert_eq!(
            url("postgres://app:pg-s3cret@db.internal:5432/switchboard"),
            "postgres://app@db.internal:5432/switchboard"
        );
        assert_eq!(url("redis://:s3cret@cache:6379/0"), "redis://cache:6379/0");
        assert_eq!(
            url("postgres://app@db/sb?sslmode=require&password=q-s3cret#x"),
            "postgres://app@db/sb"
        );
        assert_eq!(
            url("sqlite://data/switchboard.db"),
            "sqlite://data/switchboard.db"
        );
        assert_eq!(
            url("postgres://app:s3cret@[db/sb"),
            "postgres:(unparsable URL)"
        );
    }

    #[test]
    fn request_timeouts_default_to_actix_values_and_must_not_be_zero() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.client_request_timeout_ms, 5000);
        assert_eq!(s.server.body_read_timeout_ms, 10_000);
        assert_eq!(s.server.keep_alive_ms, 5000);
        assert_eq!(s.server.client_disconnect_timeout_ms, 1000);
        for key in [
            "SWITCHBOARD__SERVER__CLIENT_REQUEST_TIMEOUT_MS",
            "SWITCHBOARD__SERVER__BODY_READ_TIMEOUT_MS",
        ] {
            let err = Settings::load_from(None, env(&[(key, "0")])).unwrap_err();
            assert!(err.to_string().contains("at least 1"), "{key}: {err}");
        }
        assert!(
            Settings::load_from(None, env(&[("SWITCHBOARD__SERVER__KEEP_ALIVE_MS", "0")])).is_ok()
        );
    }

    #[test]
    fn rate_limit_defaults_follow_the_seed_spec_and_env_sets_a_server() {
        use switchboard_actors::ratelimit::Bucket;
        let per_minute = |s: &Settings, b| s.rate_limit.quotas().per_minute(b).get();
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(per_minute(&s, Bucket::Server("retell.config")), 60);
        assert_eq!(per_minute(&s, Bucket::Server("retell.function")), 1000);
        assert_eq!(per_minute(&s, Bucket::Server("appointments")), 30);
        assert_eq!(per_minute(&s, Bucket::CalcomCredential), 120);
        assert_eq!(per_minute(&s, Bucket::CalcomBackground), 96);
        let s = Settings::load_from(
            None,
            env(&[
                ("SWITCHBOARD__RATE_LIMIT__SERVERS__RETELL_CONFIG", "5"),
                ("SWITCHBOARD__RATE_LIMIT__SERVERS__QUEUE", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(per_minute(&s, Bucket::Server("retell.config")), 5);
        assert_eq!(per_minute(&s, Bucket::Server("queue")), 7);
        assert_eq!(per_minute(&s, Bucket::Server("appointments")), 30);
    }

    #[test]
    fn zero_rate_limit_or_full_live_reserve_is_refused() {
        for (key, value) in [
            ("SWITCHBOARD__RATE_LIMIT__DEFAULT_PER_MINUTE", "0"),
            ("SWITCHBOARD__RATE_LIMIT__SERVERS__QUEUE", "0"),
            (
                "SWITCHBOARD__RATE_LIMIT__CALCOM_LIVE_RESERVE_PERCENT",
                "100",
            ),
        ] {
            assert!(
                Settings::load_from(None, env(&[(key, value)])).is_err(),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn queue_sample_interval_defaults_to_15_s_and_zero_is_refused() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.metrics.queue_sample_interval_s, 15);
        let zero = env(&[("SWITCHBOARD__METRICS__QUEUE_SAMPLE_INTERVAL_S", "0")]);
        assert!(Settings::load_from(None, zero).is_err());
    }

    #[test]
    fn prefetch_is_on_by_default_and_switched_off_from_the_environment() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(
            (
                s.cache.prefetch_days,
                s.cache.prefetch_concurrency,
                s.cache.availability_in_flight
            ),
            (3, 4, 256)
        );
        let off = env(&[("SWITCHBOARD__CACHE__PREFETCH_DAYS", "0")]);
        assert_eq!(
            Settings::load_from(None, off).unwrap().cache.prefetch_days,
            0
        );
        for (key, value) in [
            ("SWITCHBOARD__CACHE__PREFETCH_DAYS", "32"),
            ("SWITCHBOARD__CACHE__PREFETCH_CONCURRENCY", "0"),
            ("SWITCHBOARD__CACHE__AVAILABILITY_IN_FLIGHT", "0"),
        ] {
            assert!(
                Settings::load_from(None, env(&[(key, value)])).is_err(),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn services_cache_defaults_to_10000_companies_and_zero_is_refused() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.cache.services_max_companies, 10_000);
        let zero = env(&[("SWITCHBOARD__CACHE__SERVICES_MAX_COMPANIES", "0")]);
        let err = Settings::load_from(None, zero).unwrap_err();
        assert!(err.to_string().contains("services_max_companies"), "{err}");
    }
}
