//! The cross-instance booking lock of a company: a lease row in the store.

use crate::domain::booking::UpstreamError;
use crate::domain::ids::CompanyId;
use crate::ports::{Clock, LockStore, StoreError};
use crate::resilience::{Backoff, retry_while};
use std::sync::Arc;

/// How long a company's booking lock is held at most before another instance may take it
/// (covers a look-up plus a create, each bounded by the call timeout).
pub const LOCK_LEASE: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a booking waits for another instance to release the company's lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often a waiting booking asks for the lock again.
pub const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(25);

/// Why the lock was not had on one try.
enum Busy {
    /// Another instance holds it.
    Elsewhere,
    /// The store could not be asked.
    Unavailable(StoreError),
}

/// The cross-instance booking lock of a company: a lease row in the store, so two instances
/// never run slot-changing work of one company at once, and a crashed holder's lease ends.
#[derive(Clone)]
pub struct TenantLock {
    store: Arc<dyn LockStore>,
    clock: Arc<dyn Clock>,
    /// This process (instance id).
    holder: String,
}

impl TenantLock {
    /// A lock handle for `holder` (unique per process).
    pub fn new(store: Arc<dyn LockStore>, clock: Arc<dyn Clock>, holder: String) -> Self {
        Self {
            store,
            clock,
            holder,
        }
    }

    /// Waits up to [`LOCK_WAIT`] for the lock, asking again every [`LOCK_POLL`]; a busy or
    /// unreachable lock is a transient error, so the booking job retries later.
    pub(super) async fn acquire(&self, company: CompanyId) -> Result<(), UpstreamError> {
        let polling = Backoff::constant(LOCK_POLL).with_give_up_after(LOCK_WAIT);
        let try_lock = || async {
            match self
                .store
                .try_lock_tenant(company, &self.holder, self.clock.now(), LOCK_LEASE)
                .await
            {
                Ok(true) => Ok(()),
                Ok(false) => Err(Busy::Elsewhere),
                Err(e) => Err(Busy::Unavailable(e)),
            }
        };
        retry_while(&polling, try_lock, |busy| matches!(busy, Busy::Elsewhere))
            .await
            .map_err(|busy| UpstreamError::Transport {
                service: "booking-lock",
                message: match busy {
                    Busy::Elsewhere => format!("company {company} is booking on another instance"),
                    Busy::Unavailable(e) => format!("booking lock unavailable: {e}"),
                },
            })
    }

    pub(super) async fn release(&self, company: CompanyId) {
        if let Err(e) = self.store.unlock_tenant(company, &self.holder).await {
            // The lease ends by itself; only a delay for the next booking of this company.
            tracing::warn!(%company, error = %e, "releasing the booking lock failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SystemClock;
    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use std::sync::Mutex;
    use std::time::Duration;
    use tokio::time::Instant;

    /// A lock held by another instance for `busy_for` from the test's start; records when it
    /// was asked.
    struct HeldElsewhere {
        start: Instant,
        busy_for: Duration,
        asked: Mutex<Vec<Duration>>,
    }

    #[async_trait]
    impl LockStore for HeldElsewhere {
        async fn try_lock_tenant(
            &self,
            _: CompanyId,
            _: &str,
            _: DateTime<Utc>,
            _: Duration,
        ) -> Result<bool, StoreError> {
            let elapsed = self.start.elapsed();
            self.asked.lock().unwrap().push(elapsed);
            Ok(elapsed >= self.busy_for)
        }
        async fn unlock_tenant(&self, _: CompanyId, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
        async fn ping(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn lock(busy_for: Duration) -> (TenantLock, Arc<HeldElsewhere>) {
        let store = Arc::new(HeldElsewhere {
            start: Instant::now(),
            busy_for,
            asked: Mutex::default(),
        });
        let lock = TenantLock::new(store.clone(), Arc::new(SystemClock), "me".into());
        (lock, store)
    }

    #[tokio::test(start_paused = true)]
    async fn lock_is_taken_once_the_other_instance_releases_it() {
        let (lock, store) = lock(Duration::from_millis(60));
        lock.acquire(CompanyId(1)).await.unwrap();
        let asked = store.asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 4, "polled every 25 ms: {asked:?}");
        assert_eq!(asked[3], Duration::from_millis(75));
    }

    #[tokio::test(start_paused = true)]
    async fn lock_held_elsewhere_past_the_wait_is_a_transient_error() {
        let (lock, store) = lock(Duration::MAX);
        let err = lock.acquire(CompanyId(1)).await.unwrap_err();
        assert!(err.is_transient(), "the booking job retries later: {err}");
        let last = *store.asked.lock().unwrap().last().unwrap();
        assert_eq!(last, LOCK_WAIT, "asked until the wait was over");
    }
}
