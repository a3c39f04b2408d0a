//! The `CallRegistry` actor: finds or spawns the [`CallContext`] of a call and stops contexts
//! that ended or went idle.

use super::context::{CallContext, CallKey, Collect, ContextError, IdleFor, Snapshot};
use crate::domain::appointment::CollectedAppointment;
use crate::domain::ids::{CallId, CompanyId};
use crate::ports::{Clock, Store};
use crate::supervision::{RestartBudget, guard};
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

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

/// Owns the live call contexts of this process.
pub struct CallRegistry {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Keyed by company *and* call id: a context carries the key it was made for, so another
    /// company naming the same call id must get a context of its own (which then finds the
    /// stored call of the first company and is refused) instead of the first company's.
    contexts: HashMap<(CompanyId, CallId), Addr<CallContext>>,
    /// A context with no message for this long is stopped (its data is in the store).
    idle_timeout: Duration,
    budget: RestartBudget,
}

impl CallRegistry {
    /// A registry that expires contexts idle for `idle_timeout`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        idle_timeout: Duration,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            clock,
            contexts: HashMap::new(),
            idle_timeout,
            budget,
        }
    }

    fn context(&mut self, key: &CallKey) -> Addr<CallContext> {
        let map_key = (key.company_id, key.call_id.clone());
        if let Some(addr) = self.contexts.get(&map_key).filter(|a| a.connected()) {
            return addr.clone();
        }
        let context = CallContext::new(
            key.clone(),
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
            self.budget.clone(),
        );
        let addr = Supervisor::start(move |_| context);
        self.contexts.insert(map_key, addr.clone());
        addr
    }

    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let limit = self.idle_timeout;
        for (key, addr) in self.contexts.clone() {
            addr.send(IdleFor(limit))
                .into_actor(self)
                .map(move |idle, act, _| {
                    if idle.unwrap_or(true) {
                        act.contexts.remove(&key);
                    }
                })
                .spawn(ctx);
        }
    }
}

impl Actor for CallRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
        let every = (self.idle_timeout / 4).max(Duration::from_secs(1));
        ctx.run_interval(every, |act, ctx| act.sweep(ctx));
    }
}

fn unavailable(e: MailboxError) -> ContextError {
    ContextError::Unavailable(e.to_string())
}

impl Supervised for CallRegistry {}

crate::guarded_actor!(CallRegistry, "call_registry");

impl Handler<CollectFor> for CallRegistry {
    type Result = ResponseFuture<Result<CollectedAppointment, ContextError>>;

    fn handle(&mut self, msg: CollectFor, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let addr = this.context(&msg.key);
                async move {
                    addr.send(Collect {
                        patch: msg.patch,
                        confirmation: msg.confirmation,
                    })
                    .await
                    .map_err(unavailable)?
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

impl Handler<SnapshotFor> for CallRegistry {
    type Result = ResponseFuture<Result<CollectedAppointment, ContextError>>;

    fn handle(&mut self, SnapshotFor(key): SnapshotFor, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let addr = this.context(&key);
                async move { addr.send(Snapshot).await.map_err(unavailable)? }
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
    }
}
