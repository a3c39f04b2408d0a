//! Tenants at run time.
//!
//! ## Layout
//! - [`route`]: resolving a dialled number to its company and branch ([`resolve_route`]).
//! - [`directory`]: the [`TenantDirectory`] actor, which spawns one [`TenantSession`] and one
//!   Cal.com [`Breaker`](crate::breaker::Breaker) per company on demand.
//! - [`session`]: the [`TenantSession`] actor, which serialises a company's slot-changing work
//!   and books exactly once per idempotency key (the decision is
//!   [`crate::domain::book_once`]).
//! - [`lock`]: [`TenantLock`], the cross-instance booking lock of a company (a lease row).
//! - [`services_cache`]: [`ServicesCache`], each company's services cached in-process,
//!   dropped when the company changes.

pub mod directory;
pub mod lock;
pub mod route;
pub mod services_cache;
pub mod session;

pub use crate::domain::book_once::BookOutcome;
pub use directory::{
    BreakerStatus, CalcomAccess, ForgetTenant, GetTenant, ListBreakers, RetellAccess,
    TenantDirectory, TenantError, TenantHandle,
};
pub use lock::{LOCK_LEASE, LOCK_POLL, LOCK_WAIT, TenantLock};
pub use route::{RouteError, resolve_route};
pub use services_cache::{ServicesCache, ServicesCachePolicy};
pub use session::{Book, Cancel, Reschedule, TenantSession};
