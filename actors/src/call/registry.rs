//! The `CallRegistry` actor: finds or spawns the [`CallContext`] of a call and stops contexts
//! that ended, went idle, or are the least recently used one over the configured maximum.

use super::context::{CallContext, CallKey, Collect, ContextError, KeepHold, Snapshot, load};
use crate::domain::appointment::{CollectedAppointment, SlotChoice, SlotHold};
use crate::domain::ids::{CallId, CompanyId};
use crate::metric_names as m;
use crate::ports::{CallStore, Clock};
use crate::supervision::{RestartBudget, guard};
use actix::prelude::*;
use hashlink::LruCache;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Message: merge `patch` and an explicit yes/no to the booking into the call's context.
#[derive(Debug, Message)]
#[rtype(result = "Result<CollectedAppointment, ContextError>")]
pub struct CollectFor {
    /// The call and the company and branch it belongs to; a context is spawned when none is live in
    /// this process.
    pub key: CallKey,
    /// Fields read in this function call; a `None` field leaves the stored value as it is.
    pub patch: CollectedAppointment,
    /// An explicit yes or no to the booking in this call, `None` when not said (see
    /// [`CollectedAppointment::merge`]).
    pub confirmation: Option<bool>,
}

/// Message: record the call's slot hold (see [`KeepHold`]); answers whether it was recorded.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, ContextError>")]
pub struct KeepHoldFor {
    /// The call.
    pub key: CallKey,
    /// The choice of slot the hold was decided for.
    pub decided_for: SlotChoice,
    /// The hold to keep; `None` forgets a released one.
    pub hold: Option<SlotHold>,
    /// The caller was told the slot is not free (see [`KeepHold::withdraw_confirmation`]).
    pub withdraw_confirmation: bool,
}

/// Message: the call's collected data (loaded from the store if no context is live here).
#[derive(Debug, Message)]
#[rtype(result = "Result<CollectedAppointment, ContextError>")]
pub struct SnapshotFor(pub CallKey);

/// Message: the call ended; stop its context (the one of this company).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct EndCall {
    /// The company whose call ended.
    pub company_id: CompanyId,
    /// The call.
    pub call_id: CallId,
}

/// Bounds of the live call contexts of one process. A context only serialises the functions of
/// one call (its data is in the store), so dropping one loses nothing: the next function of that
/// call starts a new one.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// A context no function used for this long is stopped (`calls.idle_timeout_min`).
    pub idle_timeout: Duration,
    /// Most live contexts (`calls.max_live`); starting one more stops the least recently used.
    pub max_live: NonZeroUsize,
}

/// A live context and when a message was last routed to it.
struct Live {
    addr: Addr<CallContext>,
    last_used: Instant,
}

/// Owns the live call contexts of this process.
pub struct CallRegistry {
    store: Arc<dyn CallStore>,
    clock: Arc<dyn Clock>,
    /// Keyed by company *and* call id: a context carries the key it was made for, so another
    /// company naming the same call id must get a context of its own (which then finds the
    /// stored call of the first company and is refused) instead of the first company's. In
    /// least-recently-used order, at most `limits.max_live` entries, so memory is bounded by
    /// configuration however many call ids clients send.
    contexts: LruCache<(CompanyId, CallId), Live>,
    limits: CallLimits,
    budget: RestartBudget,
}

impl CallRegistry {
    /// A registry within `limits`.
    pub fn new(
        store: Arc<dyn CallStore>,
        clock: Arc<dyn Clock>,
        limits: CallLimits,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            clock,
            contexts: LruCache::new(limits.max_live.get()),
            limits,
            budget,
        }
    }

    /// The live context of `key`, started when there is none; marks it used.
    fn context(&mut self, key: &CallKey) -> Addr<CallContext> {
        if let Some(addr) = self.live(key) {
            return addr;
        }
        let map_key = (key.company_id, key.call_id.clone());
        let now = Instant::now();
        let context = CallContext::new(
            key.clone(),
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
            self.budget.clone(),
        );
        let addr = Supervisor::start(move |_| context);
        // Over `max_live` this drops the least recently used context: its actor stops once
        // its mailbox is drained.
        self.contexts.insert(
            map_key,
            Live {
                addr: addr.clone(),
                last_used: now,
            },
        );
        self.report();
        addr
    }

    /// The live context of `key`, if any, marked used; never starts one.
    fn live(&mut self, key: &CallKey) -> Option<Addr<CallContext>> {
        let live = self
            .contexts
            .get_mut(&(key.company_id, key.call_id.clone()))
            .filter(|live| live.addr.connected())?;
        live.last_used = Instant::now();
        Some(live.addr.clone())
    }

    /// Stops the contexts idle for `limits.idle_timeout`. The map is in use order, so only the
    /// expired ones at its front are looked at.
    fn sweep(&mut self) {
        let limit = self.limits.idle_timeout;
        while self
            .contexts
            .iter()
            .next()
            .is_some_and(|(_, live)| live.last_used.elapsed() >= limit)
        {
            self.contexts.remove_lru();
        }
        self.report();
    }

    fn report(&self) {
        metrics::gauge!(m::CALL_CONTEXTS_LIVE).set(self.contexts.len() as f64);
    }
}

impl Actor for CallRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
        let every = (self.limits.idle_timeout / 4).clamp(Duration::from_secs(1), SWEEP_AT_LEAST);
        ctx.run_interval(every, |act, _| act.sweep());
    }
}

/// The longest time between two sweeps for idle contexts.
const SWEEP_AT_LEAST: Duration = Duration::from_secs(60);

fn unavailable(e: MailboxError) -> ContextError {
    ContextError::Unavailable(e.to_string())
}

impl Supervised for CallRegistry {}

crate::guarded_actor!(CallRegistry, "call_registry");

impl CallRegistry {
    /// Sends `msg` to the context of `key` (started when none is live) and answers its reply;
    /// a panic here restarts the registry and answers [`ContextError::Unavailable`].
    fn forward<M, T>(
        &mut self,
        ctx: &mut Context<Self>,
        key: &CallKey,
        msg: M,
    ) -> ResponseFuture<Result<T, ContextError>>
    where
        M: Message<Result = Result<T, ContextError>> + Send + 'static,
        T: Send + 'static,
        CallContext: Handler<M>,
    {
        guard(
            self,
            ctx,
            |this, _| {
                let addr = this.context(key);
                async move { addr.send(msg).await.map_err(unavailable)? }
            },
            |m| {
                Err(ContextError::Unavailable(format!(
                    "call registry failed: {m}"
                )))
            },
        )
    }
}

impl Handler<CollectFor> for CallRegistry {
    type Result = ResponseFuture<Result<CollectedAppointment, ContextError>>;

    fn handle(&mut self, msg: CollectFor, ctx: &mut Self::Context) -> Self::Result {
        let collect = Collect {
            patch: msg.patch,
            confirmation: msg.confirmation,
        };
        self.forward(ctx, &msg.key, collect)
    }
}

impl Handler<KeepHoldFor> for CallRegistry {
    type Result = ResponseFuture<Result<bool, ContextError>>;

    fn handle(&mut self, msg: KeepHoldFor, ctx: &mut Self::Context) -> Self::Result {
        let keep = KeepHold {
            decided_for: msg.decided_for,
            hold: msg.hold,
            withdraw_confirmation: msg.withdraw_confirmation,
        };
        self.forward(ctx, &msg.key, keep)
    }
}

impl Handler<SnapshotFor> for CallRegistry {
    type Result = ResponseFuture<Result<CollectedAppointment, ContextError>>;

    fn handle(&mut self, SnapshotFor(key): SnapshotFor, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let live = this.live(&key);
                let store = Arc::clone(&this.store);
                async move {
                    match live {
                        // A live context may be merging a function's data right now.
                        Some(addr) => addr.send(Snapshot).await.map_err(unavailable)?,
                        // Reading needs no context: only functions that store data start one.
                        None => load(store.as_ref(), &key).await,
                    }
                }
            },
            |m| {
                Err(ContextError::Unavailable(format!(
                    "call registry failed: {m}"
                )))
            },
        )
    }
}

impl Handler<EndCall> for CallRegistry {
    type Result = ();

    fn handle(&mut self, msg: EndCall, _ctx: &mut Self::Context) {
        // Dropping the last address stops the context once its mailbox is drained.
        self.contexts.remove(&(msg.company_id, msg.call_id));
        self.report();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::memory::ContextMap;
    use crate::domain::ids::BranchId;
    use crate::ports::SystemClock;
    use crate::test_clock::paused_system;

    /// Call contexts in a map; the other call records are not used by the registry.
    type Contexts = ContextMap;

    /// Message (tests): how many contexts are live.
    #[derive(Message)]
    #[rtype(result = "usize")]
    struct LiveCount;

    impl Handler<LiveCount> for CallRegistry {
        type Result = usize;

        fn handle(&mut self, _: LiveCount, _: &mut Self::Context) -> usize {
            self.contexts.len()
        }
    }

    fn key(n: usize) -> CallKey {
        CallKey {
            call_id: CallId::parse(format!("call_{n}")).unwrap(),
            company_id: CompanyId(1),
            branch_id: BranchId(1),
            from_number: None,
            to_number: None,
        }
    }

    fn named(n: usize) -> CollectedAppointment {
        CollectedAppointment {
            name: Some(format!("Caller {n}")),
            ..CollectedAppointment::default()
        }
    }

    fn registry(
        store: &Arc<Contexts>,
        idle_timeout: Duration,
        max_live: usize,
    ) -> Addr<CallRegistry> {
        let store: Arc<dyn CallStore> = store.clone();
        let limits = CallLimits {
            idle_timeout,
            max_live: NonZeroUsize::new(max_live).unwrap(),
        };
        let budget = RestartBudget::new(10, Duration::from_secs(60));
        CallRegistry::new(store, Arc::new(SystemClock), limits, budget).start()
    }

    async fn collect(calls: &Addr<CallRegistry>, n: usize) {
        calls
            .send(CollectFor {
                key: key(n),
                patch: named(n),
                confirmation: None,
            })
            .await
            .unwrap()
            .unwrap();
    }

    #[actix_rt::test]
    async fn live_contexts_stay_bounded_over_100k_distinct_calls_and_lose_nothing() {
        const CALLS: usize = 100_000;
        const MAX_LIVE: usize = 1_000;
        let store = Arc::new(Contexts::default());
        let calls = registry(&store, Duration::from_secs(600), MAX_LIVE);
        let mut most = 0;
        for chunk in (0..CALLS).collect::<Vec<_>>().chunks(MAX_LIVE) {
            futures_util::future::join_all(chunk.iter().map(|&n| collect(&calls, n))).await;
            most = most.max(calls.send(LiveCount).await.unwrap());
        }
        assert_eq!(most, MAX_LIVE, "never more live contexts than max_live");
        assert_eq!(store.len(), CALLS, "every call's data stored");
        // The first call's context was evicted long ago; its data is still read back.
        let first = calls.send(SnapshotFor(key(0))).await.unwrap().unwrap();
        assert_eq!(first.name.as_deref(), Some("Caller 0"));
    }

    #[actix_rt::test]
    async fn reading_a_call_without_a_context_starts_none() {
        let store = Arc::new(Contexts::default());
        let calls = registry(&store, Duration::from_secs(600), 10);
        for n in 0..100 {
            let data = calls.send(SnapshotFor(key(n))).await.unwrap().unwrap();
            assert_eq!(data, CollectedAppointment::default());
        }
        assert_eq!(calls.send(LiveCount).await.unwrap(), 0);
    }

    #[test]
    fn idle_context_leaves_memory_after_the_idle_timeout() {
        paused_system().block_on(async {
            let store = Arc::new(Contexts::default());
            let calls = registry(&store, Duration::from_secs(10 * 60), 10);
            collect(&calls, 1).await;
            tokio::time::sleep(Duration::from_secs(9 * 60)).await;
            assert_eq!(
                calls.send(LiveCount).await.unwrap(),
                1,
                "not idle long enough"
            );
            collect(&calls, 2).await;
            tokio::time::sleep(Duration::from_secs(2 * 60)).await;
            assert_eq!(
                calls.send(LiveCount).await.unwrap(),
                1,
                "call 1 idle for 11 minutes is gone, call 2 (2 minutes) stays"
            );
            tokio::time::sleep(Duration::from_secs(10 * 60)).await;
            assert_eq!(calls.send(LiveCount).await.unwrap(), 0);
        });
    }

    #[actix_rt::test]
    async fn a_used_context_is_not_the_one_evicted() {
        let store = Arc::new(Contexts::default());
        let calls = registry(&store, Duration::from_secs(600), 2);
        collect(&calls, 1).await;
        collect(&calls, 2).await;
        collect(&calls, 1).await;
        collect(&calls, 3).await;
        let registry_has = |n| {
            let calls = calls.clone();
            async move { calls.send(HasLive(key(n))).await.unwrap() }
        };
        assert!(registry_has(1).await, "recently used call 1 stays");
        assert!(
            !registry_has(2).await,
            "least recently used call 2 was stopped"
        );
        assert!(registry_has(3).await);
    }

    /// Message (tests): is a context of this call live?
    #[derive(Message)]
    #[rtype(result = "bool")]
    struct HasLive(CallKey);

    impl Handler<HasLive> for CallRegistry {
        type Result = bool;

        fn handle(&mut self, HasLive(key): HasLive, _: &mut Self::Context) -> bool {
            self.contexts.peek(&(key.company_id, key.call_id)).is_some()
        }
    }
}
