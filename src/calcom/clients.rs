//! [`CalcomClients`]: one [`CalcomClient`] per distinct Cal.com base URL, the shell's
//! implementation of the core's [`CalendarApis`] port.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use switchboard_actors::ports::{CalendarApi, CalendarApis};

use super::CalcomClient;

/// Most base URLs with a client of their own. Each tenant names at most one, so the map is
/// bounded by the number of tenants; this cap also bounds it when tenants' URLs keep
/// changing. Beyond it a base URL still gets a client, built for the call and not kept.
pub const MAX_BASE_URLS: usize = 1024;

/// The configured client plus one per tenant base URL, built on first use and kept, so every
/// company of one base URL shares a connection pool.
pub struct CalcomClients {
    default: Arc<CalcomClient>,
    timeout: Duration,
    /// Keyed by the base URL as the tenant wrote it (validated by the tenant spec).
    by_url: Mutex<HashMap<String, Arc<CalcomClient>>>,
}

impl CalcomClients {
    /// Serves `default` to companies without a base URL of their own; others get a client
    /// with the same `timeout`.
    pub fn new(default: CalcomClient, timeout: Duration) -> Self {
        Self {
            default: Arc::new(default),
            timeout,
            by_url: Mutex::new(HashMap::new()),
        }
    }
}

impl CalendarApis for CalcomClients {
    fn for_base_url(&self, base_url: Option<&str>) -> Result<Arc<dyn CalendarApi>, String> {
        let Some(url) = base_url else {
            return Ok(Arc::clone(&self.default) as Arc<dyn CalendarApi>);
        };
        // A map lookup and, once per URL, building a reqwest client: short enough to hold
        // the lock, and it keeps two first users of one URL from building two pools.
        let mut by_url = self.by_url.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = by_url.get(url) {
            return Ok(Arc::clone(client) as Arc<dyn CalendarApi>);
        }
        let client = Arc::new(CalcomClient::new(url, self.timeout).map_err(|e| e.to_string())?);
        if by_url.len() < MAX_BASE_URLS {
            by_url.insert(url.to_owned(), Arc::clone(&client));
        } else {
            tracing::warn!(
                max = MAX_BASE_URLS,
                "too many Cal.com base URLs to keep a client for each; this one is not kept"
            );
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> CalcomClients {
        let timeout = Duration::from_secs(1);
        CalcomClients::new(
            CalcomClient::new("http://127.0.0.1:9", timeout).unwrap(),
            timeout,
        )
    }

    #[test]
    fn one_client_per_base_url() {
        let clients = clients();
        let a = clients.for_base_url(Some("http://127.0.0.1:1")).unwrap();
        let b = clients.for_base_url(Some("http://127.0.0.1:1")).unwrap();
        let other = clients.for_base_url(Some("http://127.0.0.1:2")).unwrap();
        let default = clients.for_base_url(None).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &other));
        assert!(!Arc::ptr_eq(&a, &default));
        assert_eq!(clients.by_url.lock().unwrap().len(), 2);
    }

    #[test]
    fn unusable_base_url_is_refused_with_the_reason() {
        let error = clients()
            .for_base_url(Some("ftp://cal.example"))
            .err()
            .unwrap();
        assert!(error.contains("http"), "{error}");
    }
}
