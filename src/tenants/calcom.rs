//! Which Cal.com a tenant file talks to while it is applied (its own `calcom.base_url`, else
//! the configured one), to look up the event types its services name by slug and to check
//! its key.

use crate::calcom::CalcomClient;
use crate::config::Settings;
use secrecy::SecretString;
use std::time::Duration;
use switchboard_actors::domain::booking::{CalcomProfile, EventType, UpstreamError};
use switchboard_actors::domain::onboarding::TenantSpec;
use switchboard_actors::ports::CalendarApi as _;

/// The Cal.com of tenants being applied.
#[derive(Clone, Debug)]
pub struct CalcomAccess {
    /// Base URL of tenants that name none; `Err`: there is none to ask, and why.
    configured: Result<String, String>,
    /// Bound of each request.
    timeout: Duration,
}

/// Why a tenant's Cal.com could not be asked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CalcomAccessError {
    /// There is nothing to ask (no key in the file, or no Cal.com configured); the reason.
    #[error("{0}")]
    Unavailable(String),
    /// Cal.com answered with a refusal or did not answer.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl CalcomAccess {
    /// Tenants without a `calcom.base_url` use `base_url`; `timeout` bounds each request.
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        Self {
            configured: Ok(base_url.trim_end_matches('/').to_owned()),
            timeout,
        }
    }

    /// Only tenants that name their own `calcom.base_url` can be asked; for the others,
    /// `reason` says why not.
    pub fn without_default(reason: &str) -> Self {
        Self {
            configured: Err(reason.to_owned()),
            timeout: Duration::from_secs(5),
        }
    }

    /// From the settings: `calcom.base_url`; in sandbox mode the running simulator of
    /// `sandbox.calcom_url`, or none (the in-process simulator lives only while `serve`
    /// runs, on a port this command does not know).
    pub fn from_settings(settings: &Settings) -> Self {
        let timeout = Duration::from_millis(settings.resilience.calcom.timeout_ms);
        let sim = settings.sandbox.calcom_url.trim();
        if !settings.sandbox.enabled {
            Self::new(&settings.calcom.base_url, timeout)
        } else if !sim.is_empty() {
            Self::new(sim, timeout)
        } else {
            Self {
                timeout,
                ..Self::without_default(
                    "sandbox mode: the Cal.com simulator runs inside `switchboard serve`; set \
                     sandbox.calcom_url to a running `switchboard sim calcom` to reach it",
                )
            }
        }
    }

    /// The Cal.com base URL `spec` uses.
    ///
    /// # Errors
    /// [`CalcomAccessError::Unavailable`] when it names none and none is configured.
    pub fn base_url(&self, spec: &TenantSpec) -> Result<String, CalcomAccessError> {
        match (&spec.calcom.base_url, &self.configured) {
            (Some(own), _) => Ok(own.clone()),
            (None, Ok(configured)) => Ok(configured.clone()),
            (None, Err(why)) => Err(CalcomAccessError::Unavailable(why.clone())),
        }
    }

    /// The event types of `spec`'s Cal.com key (`GET /v2/event-types`).
    ///
    /// # Errors
    /// [`CalcomAccessError::Unavailable`] when the file has no `calcom.api_key` or there is no
    /// Cal.com to ask; [`CalcomAccessError::Upstream`] when Cal.com refuses or does not answer.
    pub async fn event_types(
        &self,
        spec: &TenantSpec,
    ) -> Result<Vec<EventType>, CalcomAccessError> {
        let key = self.key(spec)?;
        let base = self.base_url(spec)?;
        let client = CalcomClient::new(&base, self.timeout)
            .map_err(|e| CalcomAccessError::Unavailable(e.to_string()))?;
        Ok(client.event_types(key).await?)
    }

    /// The owner of `spec`'s Cal.com key (`GET /v2/me`), for the connection check.
    ///
    /// # Errors
    /// As [`CalcomAccess::event_types`].
    pub async fn me(&self, spec: &TenantSpec) -> Result<CalcomProfile, CalcomAccessError> {
        let key = self.key(spec)?;
        let base = self.base_url(spec)?;
        let client = CalcomClient::new(&base, self.timeout)
            .map_err(|e| CalcomAccessError::Unavailable(e.to_string()))?;
        Ok(client.me(key).await?)
    }

    fn key<'s>(&self, spec: &'s TenantSpec) -> Result<&'s SecretString, CalcomAccessError> {
        spec.calcom.api_key.as_ref().ok_or_else(|| {
            CalcomAccessError::Unavailable(
                "the file gives no calcom.api_key (a stored key is never read back)".into(),
            )
        })
    }
}
