//! Tenants as files (DESIGN §11): operators keep each tenant in a TOML file and apply it with
//! `switchboard tenant apply`; sandbox mode applies the shipped examples.
//!
//! # Layout
//! - `load` — [`TenantFile`]: a file read and parsed, every refusal at `file:line:column`
//!   with its key ([`FileError`]).
//! - `secrets` — [`FileSecrets`]: `env:NAME`, `file:PATH` or the value.
//! - `calcom` — [`CalcomAccess`]: which Cal.com a tenant file talks to while applied.
//! - `apply` — [`apply`]: check all files, then plan and write each tenant.
//! - `check` — [`check_connection`]: does the tenant's Cal.com key work (a warning if not).
//! - `cli` — the `switchboard tenant …` commands.

mod apply;
mod calcom;
mod check;
pub mod cli;
mod load;
mod secrets;

pub use apply::{Applied, ApplyError, ApplyOptions, apply};
pub use calcom::{CalcomAccess, CalcomAccessError};
pub use check::{ConnectionCheck, check_connection};
pub use load::{FileError, FileErrors, MAX_FILE_BYTES, TenantFile};
pub use secrets::FileSecrets;
