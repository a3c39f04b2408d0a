//! The `TenantDirectory` actor: spawns one [`TenantSession`] and one Cal.com [`Breaker`] per
//! company on first use, and lists the breakers' states.

use super::lock::TenantLock;
use super::session::TenantSession;
use crate::breaker::retell::RETELL;
use crate::breaker::{Breaker, CalendarHandle, RetellBreaker, RetellHandle, UpstreamPolicy};
use crate::domain::ids::CompanyId;
use crate::domain::tenant::CompanyProfile;
use crate::ports::{CalendarApi, CalendarApis, NoRetellApi, RetellApi, StoreError, TenancyStore};
use crate::ratelimit::Limiter;
use crate::resilience::{BreakerState, RetryBudget};
use crate::supervision::{RestartBudget, catch, restart_after_panic};
use actix::prelude::*;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Why a company's session could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TenantError {
    /// No company has this id.
    #[error("company {0} not found")]
    NotFound(CompanyId),
    /// Loading the company failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No Cal.com client can be built for the company's base URL.
    #[error("company {0}: {1}")]
    Calendar(CompanyId, String),
}

/// A company's live handles.
#[derive(Clone)]
pub struct TenantHandle {
    /// The company as last loaded: reloaded when older than the directory's profile TTL
    /// (`cache.lookups_ttl_s`), so a change made on another instance or with
    /// `switchboard tenant apply` applies within it; a changed Cal.com key or base URL gets
    /// fresh handles.
    pub profile: CompanyProfile,
    /// Reads (event types, slots, bookings) go straight to the breaker.
    pub calendar: CalendarHandle,
    /// The Cal.com API at the company's base URL, without the breaker: for checks an
    /// operator runs (`calcom.testConnection`), whose failures must not open the circuit of
    /// live calls.
    pub api: Arc<dyn CalendarApi>,
    /// Slot-changing work goes through the session, one at a time per company.
    pub session: Addr<TenantSession>,
    /// The Retell API with the company's key, behind the company's Retell circuit breaker.
    pub retell: RetellHandle,
    /// The Retell API without the breaker: for checks an operator runs
    /// (`retell.testConnection`), whose failures must not open the circuit.
    pub retell_api: Arc<dyn RetellApi>,
}

/// Message: the handles of a company, spawning its session and breaker on first use.
#[derive(Debug, Message)]
#[rtype(result = "Result<TenantHandle, TenantError>")]
pub struct GetTenant(pub CompanyId);

/// What every company's Cal.com breaker is built from.
#[derive(Clone)]
pub struct CalcomAccess {
    /// The Cal.com API clients, by the company's base URL.
    pub apis: Arc<dyn CalendarApis>,
    /// Request budgets of the companies' Cal.com credentials.
    pub limiter: Arc<dyn Limiter>,
    /// Breaker, retry and timeout policy (`[resilience.calcom]`).
    pub policy: UpstreamPolicy,
    /// One retry budget for Cal.com, shared by every company's breaker.
    pub retries: RetryBudget,
}

/// What every company's Retell breaker is built from.
#[derive(Clone)]
pub struct RetellAccess {
    /// The Retell API client (`retell.base_url`).
    pub api: Arc<dyn RetellApi>,
    /// Breaker, retry and timeout policy (`[resilience.retell]`).
    pub policy: UpstreamPolicy,
    /// One retry budget for Retell, shared by every company's breaker.
    pub retries: RetryBudget,
}

impl RetellAccess {
    /// Access that refuses every Retell call ([`NoRetellApi`]): for tests that never call
    /// Retell.
    pub fn unused() -> Self {
        Self {
            api: Arc::new(NoRetellApi),
            policy: UpstreamPolicy::default(),
            retries: RetryBudget::default(),
        }
    }
}

/// Owns the per-company sessions and breakers of this process.
pub struct TenantDirectory {
    store: Arc<dyn TenancyStore>,
    calcom: CalcomAccess,
    retell: RetellAccess,
    /// Cross-instance booking lock handed to every session.
    lock: TenantLock,
    tenants: HashMap<CompanyId, Entry>,
    /// A company unused for this long leaves memory unless its breaker is not closed.
    idle_timeout: Duration,
    /// A profile older than this is read again before it is handed out.
    profile_ttl: Duration,
    budget: RestartBudget,
}

/// A company's handles, when its profile was loaded and when a request last asked for them.
struct Entry {
    handle: TenantHandle,
    loaded_at: Instant,
    last_used: Instant,
}

/// How long a loaded profile is handed out before it is read again, unless set with
/// [`TenantDirectory::with_profile_ttl`].
pub const DEFAULT_PROFILE_TTL: Duration = Duration::from_secs(10);

impl TenantDirectory {
    /// An empty directory; sessions are created on demand.
    pub fn new(
        store: Arc<dyn TenancyStore>,
        calcom: CalcomAccess,
        retell: RetellAccess,
        lock: TenantLock,
        idle_timeout: Duration,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            calcom,
            retell,
            lock,
            tenants: HashMap::new(),
            idle_timeout,
            profile_ttl: DEFAULT_PROFILE_TTL,
            budget,
        }
    }

    /// This directory reading a company's profile again once it is older than `ttl`.
    #[must_use]
    pub fn with_profile_ttl(self, ttl: Duration) -> Self {
        Self {
            profile_ttl: ttl,
            ..self
        }
    }

    /// The handles of `id` if live and its profile fresh, marked used.
    fn live(&mut self, id: CompanyId) -> Option<TenantHandle> {
        let entry = self.tenants.get_mut(&id)?;
        if entry.loaded_at.elapsed() >= self.profile_ttl {
            return None;
        }
        entry.last_used = Instant::now();
        Some(entry.handle.clone())
    }

    /// The handles for `profile`: the live ones with the profile replaced when its Cal.com
    /// key and base URL are what they were, else new ones (new session and breaker).
    fn handles_for(&mut self, profile: CompanyProfile) -> Result<TenantHandle, TenantError> {
        let id = profile.id;
        let now = Instant::now();
        if let Some(entry) = self.tenants.get_mut(&id)
            && same_upstreams(&entry.handle.profile, &profile)
        {
            entry.handle.profile = profile;
            entry.loaded_at = now;
            entry.last_used = now;
            return Ok(entry.handle.clone());
        }
        let handle = self.spawn(profile)?;
        self.tenants.insert(
            id,
            Entry {
                handle: handle.clone(),
                loaded_at: now,
                last_used: now,
            },
        );
        Ok(handle)
    }

    /// A session and a breaker for `profile`.
    fn spawn(&self, profile: CompanyProfile) -> Result<TenantHandle, TenantError> {
        let id = profile.id;
        let api = self
            .calcom
            .apis
            .for_base_url(profile.calcom_base_url.as_deref())
            .map_err(|e| TenantError::Calendar(id, e))?;
        let breaker = Breaker::new(
            Arc::clone(&api),
            profile.calcom_api_key.clone(),
            id,
            Arc::clone(&self.calcom.limiter),
            self.calcom.policy,
            self.calcom.retries.clone(),
            self.budget.clone(),
        );
        let circuit = breaker.circuit();
        let calendar = CalendarHandle::new(Supervisor::start(move |_| breaker), circuit);
        let session =
            TenantSession::new(id, calendar.clone(), self.lock.clone(), self.budget.clone());
        let session = Supervisor::start(move |_| session);
        let retell = RetellBreaker::new(
            Arc::clone(&self.retell.api),
            profile.retell_api_key.clone(),
            id,
            self.retell.policy,
            self.retell.retries.clone(),
            self.budget.clone(),
        );
        let retell_circuit = retell.circuit();
        let retell = RetellHandle::new(Supervisor::start(move |_| retell), retell_circuit);
        Ok(TenantHandle {
            profile,
            calendar,
            api,
            session,
            retell,
            retell_api: Arc::clone(&self.retell.api),
        })
    }

    /// Drops the companies unused for `idle_timeout` whose breaker is closed: their actors stop
    /// once no request holds a handle, and the next request loads the company afresh (with its
    /// current credentials). An open or half-open breaker stays, so a failing Cal.com is not
    /// hit again by a fresh breaker.
    fn sweep(&mut self) {
        let limit = self.idle_timeout;
        self.tenants.retain(|_, entry| {
            entry.last_used.elapsed() < limit
                || entry.handle.calendar.state() != BreakerState::Closed
                || entry.handle.retell.state() != BreakerState::Closed
        });
    }
}

/// Whether two profiles of a company reach Cal.com (key and base URL) and Retell (key) the
/// same way, so the live breakers and session can serve the newer one.
fn same_upstreams(old: &CompanyProfile, new: &CompanyProfile) -> bool {
    old.calcom_base_url == new.calcom_base_url
        && old.calcom_api_key.expose_secret() == new.calcom_api_key.expose_secret()
        && old.retell_api_key.expose_secret() == new.retell_api_key.expose_secret()
}

/// The longest time between two sweeps for idle companies.
const SWEEP_AT_LEAST: Duration = Duration::from_secs(60);

impl Actor for TenantDirectory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
        let every = (self.idle_timeout / 4).clamp(Duration::from_secs(1), SWEEP_AT_LEAST);
        ctx.run_interval(every, |act, _| act.sweep());
    }
}

impl Supervised for TenantDirectory {}

crate::guarded_actor!(TenantDirectory, "tenant_directory");

impl Handler<GetTenant> for TenantDirectory {
    type Result = ResponseActFuture<Self, Result<TenantHandle, TenantError>>;

    fn handle(&mut self, GetTenant(id): GetTenant, _ctx: &mut Self::Context) -> Self::Result {
        if let Some(handle) = self.live(id) {
            return Box::pin(async move { Ok(handle) }.into_actor(self));
        }
        let store = Arc::clone(&self.store);
        Box::pin(
            catch(async move { store.company(id).await })
                .into_actor(self)
                .map(move |loaded, act, ctx| {
                    let loaded = match loaded {
                        Ok(loaded) => loaded,
                        Err(panic) => {
                            let reply = restart_after_panic(act, ctx, &panic);
                            return Err(TenantError::Store(StoreError::backend(format!(
                                "tenant lookup failed: {reply}"
                            ))));
                        }
                    };
                    let Some(profile) = loaded? else {
                        act.tenants.remove(&id);
                        return Err(TenantError::NotFound(id));
                    };
                    // Another request may have refreshed it while we were loading.
                    if let Some(handle) = act.live(id) {
                        return Ok(handle);
                    }
                    act.handles_for(profile)
                }),
        )
    }
}

/// Message: forget the cached handles of a company after its tenant was changed
/// (`company.*`, `branch.*`, `service.*`), so the next request loads it afresh. A breaker that
/// is not closed is kept, as the idle sweep keeps it: a fresh one would hit a failing Cal.com
/// again at once; the company is reloaded once its breaker has closed and it sat idle.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ForgetTenant(pub CompanyId);

impl Handler<ForgetTenant> for TenantDirectory {
    type Result = ();

    fn handle(&mut self, ForgetTenant(id): ForgetTenant, _ctx: &mut Self::Context) {
        if self
            .tenants
            .get(&id)
            .is_some_and(|e| e.handle.calendar.state() == BreakerState::Closed)
        {
            self.tenants.remove(&id);
        }
    }
}

/// One company's Cal.com circuit breaker, for health and `circuit-status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerStatus {
    /// Upstream, `calcom`.
    pub service: &'static str,
    /// Company whose credential the breaker fronts.
    pub company: CompanyId,
    /// Current state.
    pub state: BreakerState,
}

/// Message: the state of every breaker started in this process, by company.
#[derive(Debug, Message)]
#[rtype(result = "Vec<BreakerStatus>")]
pub struct ListBreakers;

impl Handler<ListBreakers> for TenantDirectory {
    type Result = Vec<BreakerStatus>;

    fn handle(&mut self, _: ListBreakers, _ctx: &mut Self::Context) -> Vec<BreakerStatus> {
        let mut list: Vec<BreakerStatus> = self
            .tenants
            .iter()
            .flat_map(|(company, entry)| {
                [
                    BreakerStatus {
                        service: "calcom",
                        company: *company,
                        state: entry.handle.calendar.state(),
                    },
                    BreakerStatus {
                        service: RETELL,
                        company: *company,
                        state: entry.handle.retell.state(),
                    },
                ]
            })
            .collect();
        list.sort_by_key(|b| (b.company, b.service));
        list
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::book_once::tests::status;
    use crate::domain::booking::{
        Booking, BookingQuery, BookingRequest, CalcomProfile, EventType, Slot, SlotQuery,
        UpstreamError,
    };
    use crate::domain::ids::BookingUid;
    use crate::domain::phone::PhoneNumber;
    use crate::domain::tenant::{Locale, Service, TenantRoute};
    use crate::ports::{LockStore, SameCalendarApi, SystemClock};
    use crate::ratelimit::{LocalLimiter, Quotas};
    use crate::test_clock::paused_system;
    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use secrecy::SecretString;
    use std::num::NonZeroU32;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// One company (id 1); counts how often it is loaded. Also the directory's store in
    /// the administration servers' tests.
    #[derive(Default)]
    pub(crate) struct OneCompany {
        pub(crate) loads: AtomicUsize,
        /// Bumped to give the company a new Cal.com key.
        pub(crate) key_version: AtomicUsize,
    }

    #[async_trait]
    impl TenancyStore for OneCompany {
        async fn tenant_by_phone(
            &self,
            _: &PhoneNumber,
        ) -> Result<Option<TenantRoute>, StoreError> {
            Ok(None)
        }
        async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            Ok(Some(CompanyProfile {
                id,
                name: "Salon".into(),
                locale: Locale::De,
                time_zone: chrono_tz::Europe::Berlin,
                retell_api_key: SecretString::from("key_test"),
                retell_agent_id: None,
                calcom_api_key: SecretString::from(format!(
                    "cal_test_{}",
                    self.key_version.load(Ordering::SeqCst)
                )),
                slug: "salon".into(),
                calcom_base_url: None,
                policy: crate::domain::onboarding::BookingPolicy::default(),
                disabled: false,
                sms: None,
                calcom_webhook_secret: SecretString::from(""),
            }))
        }
        async fn services(&self, _: CompanyId) -> Result<Vec<Service>, StoreError> {
            Ok(vec![])
        }
    }

    #[async_trait]
    impl LockStore for OneCompany {
        async fn try_lock_tenant(
            &self,
            _: CompanyId,
            _: &str,
            _: DateTime<Utc>,
            _: Duration,
        ) -> Result<bool, StoreError> {
            Ok(true)
        }
        async fn unlock_tenant(&self, _: CompanyId, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
        async fn ping(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    /// Cal.com answering every call with 503.
    struct Down;

    #[async_trait]
    impl CalendarApi for Down {
        async fn event_types(&self, _: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
            Err(status(503, "down"))
        }
        async fn slots(&self, _: &SecretString, _: &SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
            Err(status(503, "down"))
        }
        async fn create_booking(
            &self,
            _: &SecretString,
            _: &BookingRequest,
        ) -> Result<Booking, UpstreamError> {
            Err(status(503, "down"))
        }
        async fn list_bookings(
            &self,
            _: &SecretString,
            _: &BookingQuery,
        ) -> Result<Vec<Booking>, UpstreamError> {
            Err(status(503, "down"))
        }
        async fn get_booking(
            &self,
            _: &SecretString,
            _: &BookingUid,
        ) -> Result<Booking, UpstreamError> {
            Err(status(503, "down"))
        }
        async fn me(&self, _: &SecretString) -> Result<CalcomProfile, UpstreamError> {
            Err(status(503, "down"))
        }
        async fn team_event_types(
            &self,
            _: &SecretString,
            _: i64,
        ) -> Result<Vec<EventType>, UpstreamError> {
            Err(status(503, "down"))
        }
    }

    const IDLE: Duration = Duration::from_secs(30 * 60);

    fn directory(store: &Arc<OneCompany>) -> Addr<TenantDirectory> {
        let budget = RestartBudget::new(10, Duration::from_secs(60));
        let lock = TenantLock::new(store.clone(), Arc::new(SystemClock), "me".into());
        let calcom = CalcomAccess {
            apis: Arc::new(SameCalendarApi(Arc::new(Down))),
            limiter: Arc::new(LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX))),
            policy: UpstreamPolicy::default(),
            retries: RetryBudget::default(),
        };
        TenantDirectory::new(
            store.clone(),
            calcom,
            RetellAccess::unused(),
            lock,
            IDLE,
            budget,
        )
        .with_profile_ttl(PROFILE_TTL)
        .start()
    }

    const PROFILE_TTL: Duration = Duration::from_secs(10);

    #[test]
    fn a_profile_older_than_its_ttl_is_read_again_and_a_new_key_gets_new_handles() {
        paused_system().block_on(async {
            let store = Arc::new(OneCompany::default());
            let tenants = directory(&store);
            let get = || async {
                tenants
                    .send(GetTenant(CompanyId(1)))
                    .await
                    .unwrap()
                    .unwrap()
            };
            let first = get().await;
            assert_eq!(get().await.session, first.session);
            assert_eq!(
                store.loads.load(Ordering::SeqCst),
                1,
                "fresh: not read again"
            );
            tokio::time::sleep(PROFILE_TTL).await;
            let same_key = get().await;
            assert_eq!(store.loads.load(Ordering::SeqCst), 2, "stale: read again");
            assert_eq!(same_key.session, first.session, "same key: same handles");
            store.key_version.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(PROFILE_TTL).await;
            let new_key = get().await;
            assert_ne!(new_key.session, first.session, "new key: new handles");
            assert_eq!(new_key.profile.calcom_api_key.expose_secret(), "cal_test_1");
        });
    }

    #[test]
    fn idle_company_leaves_memory_and_is_loaded_afresh_on_next_use() {
        paused_system().block_on(async {
            let store = Arc::new(OneCompany::default());
            let tenants = directory(&store);
            tenants
                .send(GetTenant(CompanyId(1)))
                .await
                .unwrap()
                .unwrap();
            tokio::time::sleep(IDLE / 2).await;
            tenants
                .send(GetTenant(CompanyId(1)))
                .await
                .unwrap()
                .unwrap();
            let loads_in_use = store.loads.load(Ordering::SeqCst);
            let services: Vec<_> = tenants
                .send(ListBreakers)
                .await
                .unwrap()
                .iter()
                .map(|b| b.service)
                .collect();
            assert_eq!(services, ["calcom", "retell"], "one breaker per upstream");
            tokio::time::sleep(IDLE + Duration::from_secs(120)).await;
            assert!(
                tenants.send(ListBreakers).await.unwrap().is_empty(),
                "idle session and breaker stopped"
            );
            tenants
                .send(GetTenant(CompanyId(1)))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                store.loads.load(Ordering::SeqCst),
                loads_in_use + 1,
                "loaded afresh"
            );
        });
    }

    #[test]
    fn forgotten_company_is_loaded_afresh_on_next_use() {
        paused_system().block_on(async {
            let store = Arc::new(OneCompany::default());
            let tenants = directory(&store);
            tenants
                .send(GetTenant(CompanyId(1)))
                .await
                .unwrap()
                .unwrap();
            tenants.send(ForgetTenant(CompanyId(1))).await.unwrap();
            tenants.send(ForgetTenant(CompanyId(2))).await.unwrap();
            tenants
                .send(GetTenant(CompanyId(1)))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(store.loads.load(Ordering::SeqCst), 2, "loaded afresh");
        });
    }

    #[test]
    fn idle_company_with_an_open_breaker_is_kept() {
        paused_system().block_on(async {
            let store = Arc::new(OneCompany::default());
            let tenants = directory(&store);
            let handle = tenants
                .send(GetTenant(CompanyId(1)))
                .await
                .unwrap()
                .unwrap();
            for _ in 0..50 {
                if handle.calendar.state() != BreakerState::Closed {
                    break;
                }
                let _ = handle.calendar.event_types().await;
            }
            assert_ne!(handle.calendar.state(), BreakerState::Closed);
            drop(handle);
            tokio::time::sleep(IDLE + Duration::from_secs(120)).await;
            let kept = tenants.send(ListBreakers).await.unwrap();
            assert_eq!(
                kept.len(),
                2,
                "an open breaker's state must not be forgotten"
            );
            assert_eq!(store.loads.load(Ordering::SeqCst), 1);
        });
    }
}
