//! The `CallRegistry` actor: finds or spawns the [`CallContext`] of a call and stops contexts
//! that ended or went idle.

use super::context::{CallContext, CallKey, Collect, ContextError, IdleFor, Snapshot};
use crate::domain::appointment::CollectedAppointment;
use crate::domain::ids::CallId;
use crate::ports::{Clock, Store};
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Message: merge `patch` and an explicit yes/no to the booking into the call's context.
#[derive(Debug, Message)]
#[rtype(result = "Result<CollectedAppointment, ContextError>")]
pub struct CollectFor {
    pub key: CallKey,
    pub patch: CollectedAppointment,
    pub confirmation: Option<bool>,
}

/// Message: the call's collected data (loaded from the store if no context is live here).
#[derive(Debug, Message)]
#[rtype(result = "Result<CollectedAppointment, ContextError>")]
pub struct SnapshotFor(pub CallKey);

/// Message: the call ended; stop its context.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct EndCall(pub CallId);

/// Message: number of live contexts (health and tests).
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub struct LiveCalls;

/// Owns the live call contexts of this process.
pub struct CallRegistry {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    contexts: HashMap<CallId, Addr<CallContext>>,
    /// A context with no message for this long is stopped (its data is in the store).
    idle_timeout: Duration,
}

impl CallRegistry {
    /// A registry that expires contexts idle for `idle_timeout`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, idle_timeout: Duration) -> Self {
        Self {
            store,
            clock,
            contexts: HashMap::new(),
            idle_timeout,
        }
    }

    fn context(&mut self, key: &CallKey) -> Addr<CallContext> {
        if let Some(addr) = self.contexts.get(&key.call_id).filter(|a| a.connected()) {
            return addr.clone();
        }
        let addr = CallContext::new(
            key.clone(),
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
        )
        .start();
        self.contexts.insert(key.call_id.clone(), addr.clone());
        addr
    }

    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let limit = self.idle_timeout;
        for (call_id, addr) in self.contexts.clone() {
            addr.send(IdleFor(limit))
                .into_actor(self)
                .map(move |idle, act, _| {
                    if idle.unwrap_or(true) {
                        act.contexts.remove(&call_id);
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

impl Handler<CollectFor> for CallRegistry {
    type Result = ResponseFuture<Result<CollectedAppointment, ContextError>>;

    fn handle(&mut self, msg: CollectFor, _ctx: &mut Self::Context) -> Self::Result {
        let addr = self.context(&msg.key);
        Box::pin(async move {
            addr.send(Collect {
                patch: msg.patch,
                confirmation: msg.confirmation,
            })
            .await
            .map_err(unavailable)?
        })
    }
}

impl Handler<SnapshotFor> for CallRegistry {
    type Result = ResponseFuture<Result<CollectedAppointment, ContextError>>;

    fn handle(&mut self, SnapshotFor(key): SnapshotFor, _ctx: &mut Self::Context) -> Self::Result {
        let addr = self.context(&key);
        Box::pin(async move { addr.send(Snapshot).await.map_err(unavailable)? })
    }
}

impl Handler<EndCall> for CallRegistry {
    type Result = ();

    fn handle(&mut self, EndCall(call_id): EndCall, _ctx: &mut Self::Context) {
        // Dropping the last address stops the context once its mailbox is drained.
        self.contexts.remove(&call_id);
    }
}

impl Handler<LiveCalls> for CallRegistry {
    type Result = usize;

    fn handle(&mut self, _: LiveCalls, _ctx: &mut Self::Context) -> usize {
        self.contexts.len()
    }
}
