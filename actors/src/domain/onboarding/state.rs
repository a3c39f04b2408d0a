//! A tenant as stored, for administration: what `switchboard tenant show`, `company.get` and
//! the apply plan read ([`TenantState`]), the list ([`TenantSummary`]) and the audit log
//! ([`AuditRecord`] in, [`AuditEntry`] out).

use super::slug::Slug;
use super::spec::TenantSpec;
use crate::domain::ids::CompanyId;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Serialize;

/// How a tenant is named in a request: by id or by slug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantRef {
    /// `companies.id`.
    Id(CompanyId),
    /// `companies.slug`.
    Slug(Slug),
}

/// Whether each credential is set, as its [`fingerprint`](super::fingerprint) (`None`: not
/// set). The values themselves are never read back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CredentialStatus {
    /// Retell API key.
    pub retell_api_key: Option<String>,
    /// Cal.com API key.
    pub calcom_api_key: Option<String>,
    /// Cal.com webhook secret.
    pub calcom_webhook_secret: Option<String>,
    /// Twilio auth token of `[sms]`.
    #[serde(default)]
    pub sms_auth_token: Option<String>,
}

/// One tenant as stored: its declaration (credentials left out of `spec`, see
/// `credentials`) and its lifecycle.
#[derive(Clone, Debug)]
pub struct TenantState {
    /// `companies.id`.
    pub id: CompanyId,
    /// Everything a tenant file declares, as stored; `spec.*.api_key` and
    /// `spec.calcom.webhook_secret` are `None` (see `credentials`); every service has its
    /// `event_type_id`.
    pub spec: TenantSpec,
    /// Fingerprints of the stored credentials.
    pub credentials: CredentialStatus,
    /// When it was disabled (UTC); `None` while active.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
}

/// One line of `switchboard tenant list` / `company.list`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TenantSummary {
    /// `companies.id`.
    pub id: CompanyId,
    /// Stable id.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `de` or `en`.
    pub locale: String,
    /// IANA zone.
    pub time_zone: String,
    /// Number of branches.
    pub branches: u32,
    /// Number of phone numbers over all branches.
    pub phone_numbers: u32,
    /// Number of services.
    pub services: u32,
    /// When it was disabled (UTC); `None` while active.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// New credentials of a tenant (`company.setCredentials`); `None` leaves one as it is.
#[derive(Clone, Debug, Default)]
pub struct CredentialUpdate {
    /// Retell API key.
    pub retell_api_key: Option<SecretString>,
    /// Cal.com API key.
    pub calcom_api_key: Option<SecretString>,
    /// Cal.com webhook secret.
    pub calcom_webhook_secret: Option<SecretString>,
    /// Twilio auth token of `[sms]`.
    pub sms_auth_token: Option<SecretString>,
}

/// What to write to the audit log with a change: who, what, and the changes in words (the
/// plan's lines). Never a secret: credentials appear only as "set" or by fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Who: `token:<id> (<label>)` for JSON-RPC, `cli:<user>` for the command line,
    /// `sandbox` for the demo seeding.
    pub actor: String,
    /// What: the method (`company.update`) or command (`tenant apply`).
    pub action: String,
    /// The changes, one line each, e.g. `branch altona: + phone number +494012345678`.
    pub changes: Vec<String>,
}

/// One entry of `company.getAuditLog`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AuditEntry {
    /// Entry id, increasing.
    pub id: i64,
    /// The tenant changed; `None` for changes of no single tenant (e.g. an admin token).
    pub company_id: Option<CompanyId>,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Who ([`AuditRecord::actor`]).
    pub actor: String,
    /// What ([`AuditRecord::action`]).
    pub action: String,
    /// The changes in words.
    pub changes: Vec<String>,
}
