//! [`TwilioNotifiers`]: one [`TwilioClient`] per distinct SMS API base URL, the shell's
//! implementation of the core's [`Notifiers`] port.

use super::{TwilioClient, TwilioNotifier};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use switchboard_actors::domain::tenant::SmsSettings;
use switchboard_actors::ports::{Notifier, Notifiers};

/// Most base URLs with a client of their own; beyond it a base URL still gets a client, built
/// for the send and not kept. Each tenant names at most one, so tenants bound the map, and
/// this cap bounds it when their URLs keep changing.
pub const MAX_BASE_URLS: usize = 1024;

/// The configured API plus one client per tenant base URL. Clients are keyed by base URL
/// alone, not by account: the credentials travel with each request, so a tenant's replaced
/// auth token is used at once and all tenants of one URL share a connection pool.
pub struct TwilioNotifiers {
    default_base: String,
    timeout: Duration,
    /// Keyed by the base URL as configured or written in the tenant's settings.
    by_url: Mutex<HashMap<String, Arc<TwilioClient>>>,
}

impl TwilioNotifiers {
    /// Serves tenants without a base URL of their own from `default_base` (`sms.base_url`,
    /// or the simulator in sandbox mode); every client gets `timeout`.
    pub fn new(default_base: &str, timeout: Duration) -> Self {
        Self {
            default_base: default_base.trim_end_matches('/').to_owned(),
            timeout,
            by_url: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, url: &str) -> Result<Arc<TwilioClient>, String> {
        // A map lookup and, once per URL, building a reqwest client: short enough to hold
        // the lock, and it keeps two first users of one URL from building two pools.
        let mut by_url = self.by_url.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = by_url.get(url) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(TwilioClient::new(url, self.timeout).map_err(|e| e.to_string())?);
        if by_url.len() < MAX_BASE_URLS {
            by_url.insert(url.to_owned(), Arc::clone(&client));
        } else {
            tracing::warn!(
                max = MAX_BASE_URLS,
                "too many SMS API base URLs to keep a client for each; this one is not kept"
            );
        }
        Ok(client)
    }
}

impl Notifiers for TwilioNotifiers {
    fn for_settings(&self, settings: &SmsSettings) -> Result<Arc<dyn Notifier>, String> {
        let url = settings.base_url.as_deref().unwrap_or(&self.default_base);
        let client = self.client(url)?;
        Ok(Arc::new(TwilioNotifier::new(client, settings.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn settings(base_url: Option<&str>) -> SmsSettings {
        SmsSettings {
            account_sid: format!("AC{}", "a".repeat(32)),
            auth_token: SecretString::from("token"),
            from: "+15005550006".into(),
            base_url: base_url.map(str::to_owned),
        }
    }

    #[test]
    fn one_client_per_base_url_however_many_accounts() {
        let notifiers = TwilioNotifiers::new("http://127.0.0.1:9", Duration::from_secs(1));
        notifiers.for_settings(&settings(None)).unwrap();
        notifiers.for_settings(&settings(None)).unwrap();
        notifiers
            .for_settings(&settings(Some("http://127.0.0.1:1")))
            .unwrap();
        assert_eq!(notifiers.by_url.lock().unwrap().len(), 2);
    }

    #[test]
    fn unusable_base_url_is_refused_with_the_reason() {
        let notifiers = TwilioNotifiers::new("http://127.0.0.1:9", Duration::from_secs(1));
        let error = notifiers
            .for_settings(&settings(Some("ftp://sms.example")))
            .err()
            .unwrap();
        assert!(error.contains("http"), "{error}");
    }
}
