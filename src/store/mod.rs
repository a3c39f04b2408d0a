//! Durable state: the sqlx adapters of the core's [`Store`] port.
//!
//! # Layout
//! - `mod.rs` — backend-neutral inputs of the admin/seed methods ([`NewCompany`],
//!   [`NewService`]) and the token digest shared with the auth layer.
//! - `any.rs` — [`AnyStore`]: the backend chosen by the URL scheme, delegating to one of:
//! - `sqlite.rs` — [`SqliteStore`]: the embedded default (a file under `data/`), its
//!   connection settings, migrations and every [`Store`] method.
//! - `postgres.rs` — [`PgStore`]: the production backend, with the same behaviour; where
//!   the dialect or the concurrency model differs it says how the meaning is kept.
//! - `rows.rs` — rows as both drivers decode them and their conversion into domain
//!   values (a bad stored value becomes [`StoreError::Corrupt`]), and the values a webhook
//!   writes, derived once for both.
//! - `tests.rs` — one suite, run on SQLite always and on PostgreSQL when
//!   `SWITCHBOARD_TEST_DATABASE_URL` is set.
//!
//! Schema: `migrations/sqlite/` and its twin `migrations/postgres/` (DESIGN §7), the same
//! tables, columns and constraints in each dialect.
//!
//! [`Store`]: switchboard_actors::ports::Store
//! [`StoreError::Corrupt`]: switchboard_actors::ports::StoreError::Corrupt

mod any;
mod postgres;
mod rows;
mod sqlite;
#[cfg(test)]
mod tests;

pub use any::AnyStore;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use switchboard_actors::domain::ids::{CompanyId, EventTypeId};
use switchboard_actors::domain::tenant::Locale;

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
/// and [`Store::api_token`](switchboard_actors::ports::Store::api_token) looks up, so a
/// database leak does not leak usable tokens.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}
