//! Command line: `serve`, `sim calcom|sms|retell`, `replay`, `secrets`, `token create|list|revoke`,
//! `retell deploy`, `mcp`.

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use std::path::PathBuf;

/// switchboard — Retell voice agents booking Cal.com appointments, exactly once.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (sandbox mode by default: Cal.com simulator + demo tenant).
    Serve {
        /// TOML file with overrides of config/default.toml.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Manage API tokens in the configured database.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage the shared (Redis) cache.
    Cache {
        /// What to do.
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Print the circuit breakers of a running service (from its /api/mcp/health).
    CircuitStatus {
        /// Base URL of the service.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Admin or metrics-scope token (the detailed health needs one).
        #[arg(long, env = "SWITCHBOARD__SANDBOX__ADMIN_TOKEN")]
        token: Option<SecretString>,
    },
    /// Run a simulator of an external API standalone.
    Sim {
        /// Which API to simulate.
        #[command(subcommand)]
        api: SimApi,
    },
    /// Play call scripts (examples/calls/*.json) against a running service, signed like Retell.
    Replay {
        /// Call script files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Base URL of the service.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Retell API key to sign with (default: the script's, else the sandbox demo key).
        #[arg(long)]
        key: Option<SecretString>,
        /// Gateway token used to wait for and print the booking (admin or company token).
        #[arg(long, env = "SWITCHBOARD__SANDBOX__ADMIN_TOKEN")]
        token: Option<SecretString>,
        /// Seconds to wait for the booking after call_ended.
        #[arg(long, default_value_t = 15)]
        wait_s: u64,
        /// Retell simulator to tell about each played call (POST /__sim/calls), so its
        /// list-calls and get-call know them; default: the service's Retell base URL when its
        /// health (read with --token) says sandbox mode.
        #[arg(long)]
        retell_sim_url: Option<String>,
    },
    /// Tenants' credentials at rest: re-seal them under the current key, or make a key.
    Secrets {
        /// What to do.
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Tenants as TOML files (examples/tenants/): apply, list, show, disable, enable.
    Tenant {
        /// What to do.
        #[command(subcommand)]
        action: TenantAction,
        /// TOML file with overrides of config/default.toml (for database.url).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Set up tenants' Retell agents on a running service (`retell.config.*`).
    Retell {
        /// What to do.
        #[command(subcommand)]
        action: RetellAction,
    },
    /// Speak MCP over stdin/stdout for desktop clients that start a command (Claude Desktop,
    /// Cursor, the MCP Inspector's stdio mode), relaying every message to a running service's
    /// `/mcp`. The gateway token comes from env SWITCHBOARD_TOKEN only (a flag would show in
    /// `ps`); exits 2 without it, 0 when stdin ends, 1 when the service forgot the session.
    Mcp {
        /// Base URL of the service (`/mcp` is appended).
        #[arg(long, env = "SWITCHBOARD_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Longest message accepted on stdin, bytes (match the service's
        /// `server.max_body_bytes`); a longer line gets a JSON-RPC error.
        #[arg(long, default_value = "1048576")]
        max_message_bytes: std::num::NonZeroUsize,
        /// Largest answer read for one request, bytes.
        #[arg(long, default_value = "16777216")]
        max_response_bytes: std::num::NonZeroUsize,
        /// Requests relayed at the same time; stdin is read on when one finishes.
        #[arg(long, default_value = "16")]
        max_in_flight: std::num::NonZeroUsize,
    },
}

/// Retell set-up actions.
#[derive(Debug, Subcommand)]
pub enum RetellAction {
    /// Write the generated custom tools, webhook and number bindings into the tenant's agent
    /// (`retell.config.deployCustomFunctions`) and print the diff; running it twice changes
    /// nothing the second time.
    Deploy {
        /// The tenant's slug.
        slug: String,
        /// Only show the diff against what Retell has; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Base URL of the service.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Admin gateway token.
        #[arg(long, env = "SWITCHBOARD__SANDBOX__ADMIN_TOKEN")]
        token: Option<SecretString>,
    },
}

/// Token actions. Each is recorded in the audit log as `cli:<$USER>`.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token: prints a one-line summary, then the token alone on the last line (shown
    /// only this once: only its SHA-256 digest is stored), e.g.
    /// `switchboard token create --company praxis-weber --scope read --expires 90d`.
    Create {
        /// The tenant (slug or id) the token belongs to; without it the token is for every
        /// tenant (an operators' admin token) or a `metrics` token.
        #[arg(long)]
        company: Option<String>,
        /// What it may do: `read`, `write` (also book and retry jobs), `admin` (also
        /// administer the tenant) or `metrics` (only GET /api/metrics and the detailed
        /// health; no company). Default: `write` with --company, else `admin`.
        #[arg(long, value_enum)]
        scope: Option<TokenScopeArg>,
        /// Lifetime, e.g. `90d`, `12h`, `1w 2d`; never expires when left out.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<std::time::Duration>,
        /// What the token is for (shown by `token list`), 1–100 characters; default: the
        /// scope and the tenant.
        #[arg(long)]
        name: Option<String>,
        /// TOML file with overrides of config/default.toml (for database.url).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// List tokens, newest first (never the tokens themselves): id, tenant, scope, name,
    /// created, expires, revoked.
    List {
        /// Only the tokens of this tenant (slug or id).
        #[arg(long)]
        company: Option<String>,
        /// TOML file with overrides of config/default.toml (for database.url).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Revoke a token by its id (from `token list`); it stops working within the token
    /// lookup memo's lifetime (`cache.lookups_ttl_s`). Revoking twice keeps the first time.
    Revoke {
        /// The token's id.
        id: i64,
        /// TOML file with overrides of config/default.toml (for database.url).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// `--scope` of `token create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenScopeArg {
    /// Methods that change nothing.
    Read,
    /// Also book, move, cancel, retry jobs.
    Write,
    /// Also administer the tenant (or, without --company, every tenant).
    Admin,
    /// Only the metrics and the detailed health.
    Metrics,
}

/// Simulated APIs.
#[derive(Debug, Subcommand)]
pub enum SimApi {
    /// Cal.com API v2 simulator with the demo catalog.
    Calcom {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 5555)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Faults from the start (also settable at run time: POST /__sim/faults).
        #[command(flatten)]
        faults: crate::sim::faults::FaultConfig,
    },
    /// Twilio Messages API simulator (SMS confirmations); accounts are added with
    /// POST /__sim/accounts, sent messages listed at GET /__sim/messages.
    Sms {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 5556)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Account `AC…:token` to start with (repeatable).
        #[arg(long = "account", value_name = "SID:TOKEN")]
        accounts: Vec<String>,
        /// Messages each account keeps.
        #[arg(long, default_value_t = crate::sim::sms::DEFAULT_MAX_MESSAGES)]
        max_messages: usize,
        /// Faults from the start (also settable at run time: POST /__sim/faults).
        #[command(flatten)]
        faults: crate::sim::faults::FaultConfig,
    },
    /// Retell API simulator with one account per sandbox example tenant (its Retell API key):
    /// the agent, its Retell LLM, its phone numbers and a week of calls; calls are added with
    /// POST /__sim/calls.
    Retell {
        /// Port on 127.0.0.1 (0 picks a free one, printed at start).
        #[arg(long, default_value_t = 5557)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Faults from the start (also settable at run time: POST /__sim/faults).
        #[command(flatten)]
        faults: crate::sim::faults::FaultConfig,
    },
}

/// Cache actions.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Delete cached entries (`redis.url` from the configuration): all of ours, or one tag's.
    Clear {
        /// `calcom`, `retell` or `phone`; all `mcp:*` keys when absent.
        #[arg(long)]
        tag: Option<String>,
        /// TOML file with overrides of config/default.toml.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Actions on the credentials at rest (see `[secrets]` in config/default.toml).
#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Re-seal every stored credential under the current key (`secrets.key` or the first key
    /// of `secrets.key_file`), opening it with the current or a previous key; plaintext ones
    /// are encrypted. Idempotent; prints the counts; exits non-zero when a value cannot be
    /// opened (those rows are left alone).
    Rotate {
        /// TOML file with overrides of config/default.toml.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only count what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a new random key (base64 of 32 bytes) for `SWITCHBOARD__SECRETS__KEY`.
    GenerateKey,
}

/// Tenant actions; each exits 0 when done, 1 with the message on stderr otherwise.
#[derive(Debug, Subcommand)]
pub enum TenantAction {
    /// Create or update tenants from their files: all files are checked first, nothing is
    /// written when any has an error (each shown as file:line:column: key: message); prints
    /// each tenant's plan, writes it, then checks its Cal.com key (a warning when refused).
    Apply {
        /// Tenant files, e.g. examples/tenants/*.toml.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the plans; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// One line per tenant: slug, name, locale, zone, counts, whether disabled.
    List,
    /// A tenant as a tenant file; credentials only as `set (sha256:…)` or `not set`.
    Show {
        /// The tenant's slug.
        slug: String,
    },
    /// Disable a tenant: its numbers answer "not in service", its tokens stop working;
    /// nothing is deleted.
    Disable {
        /// The tenant's slug.
        slug: String,
    },
    /// Enable a disabled tenant again.
    Enable {
        /// The tenant's slug.
        slug: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_the_command_line_shows_no_key_or_token() {
        let cli = Cli::try_parse_from([
            "switchboard",
            "replay",
            "call.json",
            "--key",
            "key_cli_s3cret",
            "--token",
            "tok_cli_s3cret",
        ])
        .unwrap();
        let debug = format!("{cli:?}");
        assert!(!debug.contains("cli_s3cret"), "{debug}");
    }

    #[test]
    fn mcp_takes_its_token_from_the_environment_never_from_a_flag() {
        let refused = Cli::try_parse_from(["switchboard", "mcp", "--token", "tok_mcp_s3cret"]);
        assert!(refused.is_err());
        let cli =
            Cli::try_parse_from(["switchboard", "mcp", "--url", "http://127.0.0.1:9"]).unwrap();
        assert!(matches!(cli.command, Command::Mcp { ref url, .. } if url == "http://127.0.0.1:9"));
    }

    #[test]
    fn debug_of_circuit_status_shows_no_token() {
        let cli =
            Cli::try_parse_from(["switchboard", "circuit-status", "--token", "tok_cs_s3cret"])
                .unwrap();
        let debug = format!("{cli:?}");
        assert!(!debug.contains("cs_s3cret"), "{debug}");
    }
}
