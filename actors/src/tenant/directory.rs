//! The `TenantDirectory` actor: spawns one [`TenantSession`] and one Cal.com [`Breaker`] per
//! company on first use, and lists the breakers' states.

use super::lock::TenantLock;
use super::session::TenantSession;
use crate::breaker::{Breaker, CalendarHandle, UpstreamPolicy};
use crate::domain::ids::CompanyId;
use crate::domain::tenant::CompanyProfile;
use crate::ports::{CalendarApi, StoreError, TenancyStore};
use crate::ratelimit::Limiter;
use crate::resilience::{BreakerState, RetryBudget};
use crate::supervision::{RestartBudget, catch, restart_after_panic};
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a company's session could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TenantError {
    /// No company has this id.
    #[error("company {0} not found")]
    NotFound(CompanyId),
    /// Loading the company failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A company's live handles.
#[derive(Clone)]
pub struct TenantHandle {
    /// The company as loaded at first use in this process; not reloaded, so edited credentials or
    /// zone need a restart.
    pub profile: CompanyProfile,
    /// Reads (event types, slots, bookings) go straight to the breaker.
    pub calendar: CalendarHandle,
    /// Slot-changing work goes through the session, one at a time per company.
    pub session: Addr<TenantSession>,
}

/// Message: the handles of a company, spawning its session and breaker on first use.
#[derive(Debug, Message)]
#[rtype(result = "Result<TenantHandle, TenantError>")]
pub struct GetTenant(pub CompanyId);

/// Owns the per-company sessions and breakers of this process.
pub struct TenantDirectory {
    store: Arc<dyn TenancyStore>,
    api: Arc<dyn CalendarApi>,
    /// Request budgets of the companies' Cal.com credentials, handed to every breaker.
    limiter: Arc<dyn Limiter>,
    policy: UpstreamPolicy,
    /// One retry budget for Cal.com, shared by every company's breaker.
    retries: RetryBudget,
    /// Cross-instance booking lock handed to every session.
    lock: TenantLock,
    tenants: HashMap<CompanyId, TenantHandle>,
    budget: RestartBudget,
}

impl TenantDirectory {
    /// An empty directory; sessions are created on demand.
    pub fn new(
        store: Arc<dyn TenancyStore>,
        api: Arc<dyn CalendarApi>,
        limiter: Arc<dyn Limiter>,
        policy: UpstreamPolicy,
        retries: RetryBudget,
        lock: TenantLock,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            api,
            limiter,
            policy,
            retries,
            lock,
            tenants: HashMap::new(),
            budget,
        }
    }
}

impl Actor for TenantDirectory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

impl Supervised for TenantDirectory {}

crate::guarded_actor!(TenantDirectory, "tenant_directory");

impl Handler<GetTenant> for TenantDirectory {
    type Result = ResponseActFuture<Self, Result<TenantHandle, TenantError>>;

    fn handle(&mut self, GetTenant(id): GetTenant, _ctx: &mut Self::Context) -> Self::Result {
        if let Some(handle) = self.tenants.get(&id) {
            let handle = handle.clone();
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
                    let profile = loaded?.ok_or(TenantError::NotFound(id))?;
                    // Another request may have created it while we were loading.
                    if let Some(handle) = act.tenants.get(&id) {
                        return Ok(handle.clone());
                    }
                    let breaker = Breaker::new(
                        Arc::clone(&act.api),
                        profile.calcom_api_key.clone(),
                        id,
                        Arc::clone(&act.limiter),
                        act.policy,
                        act.retries.clone(),
                        act.budget.clone(),
                    );
                    let circuit = breaker.circuit();
                    let calendar =
                        CalendarHandle::new(Supervisor::start(move |_| breaker), circuit);
                    let session = TenantSession::new(
                        id,
                        calendar.clone(),
                        act.lock.clone(),
                        act.budget.clone(),
                    );
                    let session = Supervisor::start(move |_| session);
                    let handle = TenantHandle {
                        profile,
                        calendar,
                        session,
                    };
                    act.tenants.insert(id, handle.clone());
                    Ok(handle)
                }),
        )
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
            .map(|(company, handle)| BreakerStatus {
                service: "calcom",
                company: *company,
                state: handle.calendar.state(),
            })
            .collect();
        list.sort_by_key(|b| b.company);
        list
    }
}
