//! The connection check after `tenant apply`: does the tenant's Cal.com key work? A failed
//! check is a warning, not an error: the tenant is written either way (Cal.com may be down
//! for a minute; the key may be fixed next).
//!
//! The check asks Cal.com who owns the key (`GET /v2/me`, auth required): one small call
//! that only a working key answers, as `calcom.testConnection` does.

use super::calcom::{CalcomAccess, CalcomAccessError};
use switchboard_actors::domain::booking::UpstreamError;
use switchboard_actors::domain::onboarding::TenantSpec;

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionCheck {
    /// The key works.
    Passed,
    /// Not checked, and why (no key in the file, no Cal.com to ask).
    Skipped(String),
    /// The key does not work or Cal.com did not answer: the warning to print.
    Failed(String),
}

/// Checks `spec`'s Cal.com key against its Cal.com.
pub async fn check_connection(access: &CalcomAccess, spec: &TenantSpec) -> ConnectionCheck {
    match access.me(spec).await {
        Ok(_) => ConnectionCheck::Passed,
        Err(CalcomAccessError::Unavailable(why)) => ConnectionCheck::Skipped(why),
        Err(CalcomAccessError::Upstream(e)) => ConnectionCheck::Failed(describe(&e)),
    }
}

impl ConnectionCheck {
    /// The line to print for tenant `slug`, e.g. `warning: praxis-weber: Cal.com key refused
    /// (401)`; `None` when the check passed.
    pub fn line(&self, slug: &str) -> Option<String> {
        match self {
            Self::Passed => None,
            Self::Skipped(why) => Some(format!(
                "note: {slug}: Cal.com connection not checked: {why}"
            )),
            Self::Failed(what) => Some(format!("warning: {slug}: {what}")),
        }
    }
}

fn describe(e: &UpstreamError) -> String {
    match e {
        UpstreamError::Unauthorized { answer, .. } => {
            format!("Cal.com key refused ({})", answer.status)
        }
        UpstreamError::Transport { message, .. } => format!("Cal.com unreachable: {message}"),
        other => format!("Cal.com check failed: {other}"),
    }
}
