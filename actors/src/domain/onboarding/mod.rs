//! Onboarding: a tenant as operators declare it (file or JSON-RPC), validated once.
//!
//! - `slug`: [`Slug`], the stable ids of tenants and branches.
//! - `hours`: [`OpeningHours`] of a branch.
//! - `state`: a tenant as stored ([`TenantState`]), the list and the audit log.
//! - `spec`: [`RawTenant`] (as written) → [`TenantSpec`] (validated), with key paths in
//!   every refusal ([`SpecError`]); credential fingerprints.

pub mod hours;
pub mod plan;
pub mod slug;
pub mod spec;

pub use hours::{OpeningHours, TimeRange};
pub use plan::{Op, PlanLine, TenantPlan, plan};
pub use slug::Slug;
pub use spec::{
    BookingPolicy, BranchSpec, CalcomSettings, KeyPart, KeyPath, RawBranch, RawCalcom, RawPolicy,
    RawRetell, RawService, RawSms, RawTenant, RetellSettings, ServiceSpec, SmsSpec, SpecError,
    TenantSpec, fingerprint, literal_secret,
};
pub mod state;

pub use state::{
    AuditEntry, AuditRecord, CredentialStatus, CredentialUpdate, TenantRef, TenantState,
    TenantSummary,
};
