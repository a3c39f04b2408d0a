//! [`ServicesCache`]: each company's services, read from the store at most once per
//! lifetime instead of on every custom function and inbound call.
//!
//! Keyed by company: two tenants naming a service alike never see each other's. Changes made
//! in this process drop the company's entry at once ([`ServicesCache::invalidate`], called by
//! the one path of tenant changes, `servers::company::edit::forget`); changes made by another
//! instance or by `switchboard tenant apply` take effect within the lifetime
//! (`cache.lookups_ttl_s`, the bound every tenant change already documents).

use crate::domain::ids::CompanyId;
use crate::domain::tenant::Service;
use crate::ports::{StoreError, TenancyStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Bounds of the [`ServicesCache`].
#[derive(Debug, Clone, Copy)]
pub struct ServicesCachePolicy {
    /// Most companies whose services are held (`cache.services_max_companies`); past it the
    /// least used are dropped (moka's TinyLFU), so memory is bounded by configuration.
    pub max_companies: u64,
    /// How long a company's services are served without reading the store
    /// (`cache.lookups_ttl_s`); zero reads the store every time.
    pub ttl: Duration,
}

/// A company's services as read at `read_at`.
#[derive(Clone)]
struct Entry {
    services: Arc<[Service]>,
    /// On tokio's clock (not moka's), so tests drive the lifetime with a paused clock; moka's
    /// own time-to-live only bounds how long a stale entry takes memory.
    read_at: Instant,
}

/// The companies' services, cached per company. Shared through an `Arc` by the custom
/// functions, the inbound-call webhook and the tenant administration (which invalidates).
pub struct ServicesCache {
    store: Arc<dyn TenancyStore>,
    entries: moka::future::Cache<CompanyId, Entry>,
    ttl: Duration,
    /// Bumped by every [`ServicesCache::invalidate`]: a read that overlapped one does not
    /// keep what it read, which may predate the change.
    invalidations: AtomicU64,
}

impl ServicesCache {
    /// A cache over `store` within `policy`.
    pub fn new(store: Arc<dyn TenancyStore>, policy: ServicesCachePolicy) -> Self {
        let mut entries = moka::future::Cache::builder().max_capacity(policy.max_companies);
        if !policy.ttl.is_zero() {
            entries = entries.time_to_live(policy.ttl);
        }
        Self {
            store,
            entries: entries.build(),
            ttl: policy.ttl,
            invalidations: AtomicU64::new(0),
        }
    }

    /// The services of `company`, ordered by name (as [`TenancyStore::services`]): from
    /// memory when read less than the lifetime ago, else from the store.
    ///
    /// # Errors
    /// The store's failure (nothing is cached then).
    pub async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError> {
        if self.ttl.is_zero() {
            return self.store.services(company).await;
        }
        if let Some(entry) = self.entries.get(&company).await
            && entry.read_at.elapsed() < self.ttl
        {
            return Ok(entry.services.to_vec());
        }
        let before = self.invalidations.load(Ordering::SeqCst);
        let read_at = Instant::now();
        let services = self.store.services(company).await?;
        let entry = Entry {
            services: services.clone().into(),
            read_at,
        };
        self.entries.insert(company, entry).await;
        // An invalidation since the read began may have come before the insert: drop what
        // may predate it (the next read goes to the store).
        if self.invalidations.load(Ordering::SeqCst) != before {
            self.entries.invalidate(&company).await;
        }
        Ok(services)
    }

    /// Drops `company`'s services: the next read goes to the store. Call it after every
    /// change of the company's services or branches (which services are offered where).
    pub async fn invalidate(&self, company: CompanyId) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(&company).await;
    }
}

impl std::fmt::Debug for ServicesCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicesCache")
            .field("companies", &self.entries.entry_count())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::EventTypeId;
    use crate::domain::phone::PhoneNumber;
    use crate::domain::tenant::{CompanyProfile, TenantRoute};
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Services per company, counting the reads per company.
    #[derive(Default)]
    struct Catalog {
        services: Mutex<HashMap<CompanyId, Vec<Service>>>,
        reads: Mutex<HashMap<CompanyId, usize>>,
    }

    impl Catalog {
        fn reads(&self, company: CompanyId) -> usize {
            self.reads
                .lock()
                .unwrap()
                .get(&company)
                .copied()
                .unwrap_or(0)
        }
        fn set(&self, company: CompanyId, services: Vec<Service>) {
            self.services.lock().unwrap().insert(company, services);
        }
    }

    #[async_trait::async_trait]
    impl TenancyStore for Catalog {
        async fn tenant_by_phone(
            &self,
            _: &PhoneNumber,
        ) -> Result<Option<TenantRoute>, StoreError> {
            Ok(None)
        }
        async fn company(&self, _: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
            Ok(None)
        }
        async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError> {
            *self.reads.lock().unwrap().entry(company).or_default() += 1;
            Ok(self
                .services
                .lock()
                .unwrap()
                .get(&company)
                .cloned()
                .unwrap_or_default())
        }
    }

    fn service(company: i64, id: i64, name: &str, duration_min: u32) -> Service {
        Service {
            id,
            company_id: CompanyId(company),
            name: name.into(),
            aliases: vec![],
            duration_min,
            event_type_id: EventTypeId(id * 100),
            team_id: None,
            branch_ids: vec![],
        }
    }

    const TTL: Duration = Duration::from_secs(10);

    fn cache(catalog: &Arc<Catalog>) -> ServicesCache {
        let store: Arc<dyn TenancyStore> = catalog.clone();
        ServicesCache::new(
            store,
            ServicesCachePolicy {
                max_companies: 100,
                ttl: TTL,
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn services_are_read_from_the_store_once_per_ttl() {
        let catalog = Arc::new(Catalog::default());
        let salon = CompanyId(1);
        catalog.set(salon, vec![service(1, 1, "Herrenhaarschnitt", 30)]);
        let services = cache(&catalog);
        for _ in 0..5 {
            assert_eq!(services.services(salon).await.unwrap()[0].duration_min, 30);
        }
        assert_eq!(catalog.reads(salon), 1);
        // Another instance changes the service: seen once the lifetime is over, not before.
        catalog.set(salon, vec![service(1, 1, "Herrenhaarschnitt", 45)]);
        tokio::time::advance(TTL - Duration::from_millis(1)).await;
        assert_eq!(services.services(salon).await.unwrap()[0].duration_min, 30);
        assert_eq!(catalog.reads(salon), 1);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(services.services(salon).await.unwrap()[0].duration_min, 45);
        assert_eq!(catalog.reads(salon), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn services_cache_keys_carry_the_company() {
        let catalog = Arc::new(Catalog::default());
        let (salon, physio) = (CompanyId(1), CompanyId(2));
        // The same names at two tenants, with their own lengths and event types.
        catalog.set(salon, vec![service(1, 1, "Beratung", 30)]);
        catalog.set(physio, vec![service(2, 2, "Beratung", 60)]);
        let services = cache(&catalog);
        for _ in 0..2 {
            let ours = services.services(salon).await.unwrap();
            let theirs = services.services(physio).await.unwrap();
            assert_eq!((ours[0].company_id, ours[0].duration_min), (salon, 30));
            assert_eq!((theirs[0].company_id, theirs[0].duration_min), (physio, 60));
        }
        assert_eq!((catalog.reads(salon), catalog.reads(physio)), (1, 1));
        // Dropping one company's services keeps the other's.
        services.invalidate(salon).await;
        services.services(salon).await.unwrap();
        services.services(physio).await.unwrap();
        assert_eq!((catalog.reads(salon), catalog.reads(physio)), (2, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn an_invalidated_company_is_read_again_at_once() {
        let catalog = Arc::new(Catalog::default());
        let salon = CompanyId(1);
        catalog.set(salon, vec![service(1, 1, "Herrenhaarschnitt", 30)]);
        let services = cache(&catalog);
        services.services(salon).await.unwrap();
        catalog.set(salon, vec![]);
        services.invalidate(salon).await;
        assert!(services.services(salon).await.unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn zero_ttl_reads_the_store_every_time() {
        let catalog = Arc::new(Catalog::default());
        let store: Arc<dyn TenancyStore> = catalog.clone();
        let services = ServicesCache::new(
            store,
            ServicesCachePolicy {
                max_companies: 100,
                ttl: Duration::ZERO,
            },
        );
        for _ in 0..3 {
            services.services(CompanyId(1)).await.unwrap();
        }
        assert_eq!(catalog.reads(CompanyId(1)), 3);
    }
}
