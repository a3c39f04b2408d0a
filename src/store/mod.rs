//! Durable state: the sqlx adapter of the core's [`Store`] port, one implementation for
//! SQLite (the embedded default) and PostgreSQL (production), chosen at run time by the
//! database URL.
//!
//! # Layout
//! - `mod.rs` — [`AnyStore`] (connect by URL scheme), the backend-neutral inputs of the
//!   admin/seed methods ([`NewCompany`], [`NewService`]) and the token digest shared with
//!   the auth layer.
//! - `sql.rs` — how a statement runs: backend-neutral SQL text with `$N` parameters and its
//!   typed arguments, handed to the driver in use; transactions; the one retry loop for
//!   transient conflicts; driver errors into [`StoreError`].
//! - `dialect.rs` — everything that differs between SQLite and PostgreSQL (transaction
//!   begin modes, the claim's row locking, JSON and time expressions, which errors are
//!   transient, connect options, migrations) and the concurrency model of each.
//! - `tenancy.rs`, `calls.rs`, `outbox.rs`, `queue.rs`, `tokens.rs`, `locks.rs` — one file per
//!   role trait of the port ([`TenancyStore`], [`CallStore`], [`OutboxStore`],
//!   [`QueueAdminStore`], [`TokenStore`], [`LockStore`]), with the admin/seed writes of
//!   that role.
//!   `appointments.rs` is [`AppointmentStore`]: appointments found by number, moved and
//!   cancelled, Cal.com's webhooks applied, and jobs enqueued and completed outside webhooks.
//!   `retell_config.rs` is [`RetellConfigStore`]: the per-company overrides of the deployed
//!   custom functions (`retell.config.updateCustomFunction`).
//!   `tenancy.rs` also seals and opens the companies' credentials with the store's
//!   [`Keyring`] and re-seals them on rotation ([`AnyStore::reseal_credentials`]).
//! - `retell.rs` — [`RetellRecordStore`]: branch numbers, known calls and calls imported
//!   from Retell's history (`retell.importCalls`).
//! - `admin/` — [`TenantAdminStore`] and [`TokenAdminStore`]: tenants read and written whole
//!   (`tenants.rs`), tokens created, listed and revoked (`tokens.rs`), and the audit row
//!   each of those writes adds in its own transaction (`audit.rs`).
//! - `admin_sessions.rs` — [`AdminSessionStore`]: the dashboard's sessions (`/admin`),
//!   checked against their token on every lookup.
//! - `reports.rs` — [`ReportStore`]: the `database.*` reports (call counts by booking state,
//!   aggregated in SQL; dead-lettered bookings with their call; search); `query.rs` runs
//!   the client SQL of `database.query` read-only with row and time limits.
//! - `rows.rs` — rows as both drivers decode them and their conversion into domain
//!   values (a bad stored value becomes [`StoreError::Corrupt`]), and the values a webhook
//!   writes, derived once for both.
//! - `tests.rs` (and `tests/`) — one suite, run on SQLite always and on PostgreSQL when
//!   `SWITCHBOARD_TEST_POSTGRES_URL` (or a `postgres://` `SWITCHBOARD_TEST_DATABASE_URL`)
//!   names a server.
//!
//! Schema: `migrations/sqlite/` and its twin `migrations/postgres/` (DESIGN §7), the same
//! tables, columns and constraints in each dialect.
//!
//! [`Store`]: switchboard_actors::ports::Store
//! [`TenancyStore`]: switchboard_actors::ports::TenancyStore
//! [`CallStore`]: switchboard_actors::ports::CallStore
//! [`OutboxStore`]: switchboard_actors::ports::OutboxStore
//! [`QueueAdminStore`]: switchboard_actors::ports::QueueAdminStore
//! [`TokenStore`]: switchboard_actors::ports::TokenStore
//! [`LockStore`]: switchboard_actors::ports::LockStore
//! [`TenantAdminStore`]: switchboard_actors::ports::TenantAdminStore
//! [`TokenAdminStore`]: switchboard_actors::ports::TokenAdminStore
//! [`AppointmentStore`]: switchboard_actors::ports::AppointmentStore
//! [`RetellRecordStore`]: switchboard_actors::ports::RetellRecordStore
//! [`RetellConfigStore`]: switchboard_actors::ports::RetellConfigStore
//! [`AdminSessionStore`]: switchboard_actors::ports::AdminSessionStore
//! [`ReportStore`]: switchboard_actors::ports::ReportStore
//! [`StoreError::Corrupt`]: switchboard_actors::ports::StoreError::Corrupt

mod admin;
mod admin_sessions;
mod appointments;
mod calls;
mod dialect;
mod locks;
mod outbox;
mod query;
mod queue;
mod reports;
mod retell;
mod retell_config;
mod rows;
mod sql;
mod tenancy;
#[cfg(test)]
mod tests;
mod tokens;

pub use tenancy::ResealReport;

use crate::secrets::Keyring;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use sql::Db;
use switchboard_actors::domain::ids::{CompanyId, EventTypeId};
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::ports::StoreError;

/// The configured [`Store`](switchboard_actors::ports::Store): SQLite (embedded default) or
/// PostgreSQL (production), the same statements on either. Cheap to clone: clones share
/// one connection pool.
#[derive(Clone, Debug)]
pub struct AnyStore {
    db: Db,
    /// Seals and opens the credentials in `companies`; without a key the store refuses to
    /// write or read them ([`AnyStore::with_keyring`]).
    keyring: Keyring,
}

impl AnyStore {
    /// Connects to the database at `url` with at most `max_connections` (at least 1) pooled
    /// connections and applies that backend's embedded migrations. The scheme chooses the
    /// backend (lower case, as sqlx parses them):
    /// - `sqlite:` — a file, e.g. `sqlite://data/switchboard.db` (relative to the working
    ///   directory), created with its parent directory when missing. Several processes may
    ///   open one file at once: migrations run under the write lock, so exactly one of them
    ///   applies each migration.
    /// - `postgres://` or `postgresql://` — libpq's URL form. Several instances may start
    ///   together: the migrator's advisory lock makes the later ones wait and then find
    ///   every migration applied.
    ///
    /// # Errors
    /// [`StoreError::Backend`] for any other scheme (the message names the scheme, never
    /// the rest of the URL, which may hold a password), when the URL does not parse, the
    /// directory cannot be created, the database cannot be opened or reached or refuses the
    /// login, or a migration fails (including a changed checksum of an already applied
    /// migration). The message never contains the URL.
    ///
    /// The store has no credentials key yet: it neither writes nor reads companies'
    /// credentials until given one with [`AnyStore::with_keyring`].
    pub async fn connect(url: &str, max_connections: u32) -> Result<AnyStore, StoreError> {
        let db = if url.starts_with("sqlite:") {
            dialect::connect_sqlite(url, max_connections).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            dialect::connect_postgres(url, max_connections).await?
        } else {
            let scheme = url.split_once(':').map_or("(none)", |(scheme, _)| scheme);
            return Err(StoreError::backend(format!(
                "unsupported database URL scheme {scheme:?}: expected sqlite:, postgres:// \
                 or postgresql://"
            )));
        };
        Ok(AnyStore {
            db,
            keyring: Keyring::default(),
        })
    }

    /// This store sealing and opening credentials with `keyring` (see [`crate::secrets`]).
    #[must_use]
    pub fn with_keyring(self, keyring: Keyring) -> Self {
        Self { keyring, ..self }
    }

    /// The backend in use: `"sqlite"` or `"postgres"` (for logs and the readiness report).
    pub fn backend(&self) -> &'static str {
        self.db.dialect().name()
    }
}

/// A company to create or update, keyed by its unique `name`
/// ([`AnyStore::upsert_company`]). Credentials stay secret in `Debug` output.
#[derive(Clone, Debug)]
pub struct NewCompany {
    /// Unique across companies; the upsert key.
    pub name: String,
    /// Language of the agent's spoken replies.
    pub locale: Locale,
    /// IANA zone in which callers' local dates and times are read.
    pub time_zone: chrono_tz::Tz,
    /// Retell API key (the webhook-badged one).
    pub retell_api_key: SecretString,
    /// Cal.com API key (`cal_…`).
    pub calcom_api_key: SecretString,
}

/// A service to create or update, keyed by (`company_id`, `name`)
/// ([`AnyStore::upsert_service`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NewService {
    /// The owning company; must exist.
    pub company_id: CompanyId,
    /// Unique within the company; the upsert key.
    pub name: String,
    /// Other names callers use, matched case-insensitively by the core.
    pub aliases: Vec<String>,
    /// Length of the appointment in minutes; must be > 0.
    pub duration_min: u32,
    /// The Cal.com event type bookings of this service are made against.
    pub event_type_id: EventTypeId,
    /// Cal.com team id when the event type belongs to a team.
    pub team_id: Option<i64>,
}

/// The lower-case hex SHA-256 of a bearer token: the form `api_tokens.token_sha256` stores
/// and [`TokenStore::api_token`](switchboard_actors::ports::TokenStore::api_token) looks up, so a
/// database leak does not leak usable tokens.
pub fn token_digest(token: &str) -> String {
    lower_hex(&Sha256::digest(token.as_bytes()))
}

/// `bytes` as lower-case hex, two digits per byte.
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    // The `hex` crate's table lookup: a `write!` per byte was 3 % of a gateway call (every
    // request hashes its bearer token for the lookup memo).
    hex::encode(bytes)
}
