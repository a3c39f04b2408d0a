//! `QueueServer`: the operator's window on the durable outbox (DESIGN §6 `queue`). It shows
//! the queues, lists dead letters and recent jobs, and puts dead letters back in the outbox,
//! waking the [`OutboxWorker`](crate::outbox::OutboxWorker) so a retried job runs at once.
//!
//! Every method but `queue.getWorkers` is company-scoped: a company token sees and retries
//! only its own company's jobs; an admin token sees all companies unless it names one.
//! `queue.getWorkers` lists the platform's processes and needs an admin token. One file per method, listed
//! once in `method_list!` below: adding a method is a new file, its `pub mod` line and one line in the list.

#[cfg(test)]
mod tests;

use crate::outbox::Wake;
use crate::ports::{Clock, QueueAdminStore};
use crate::registry::{MethodSpec, MethodTable};
use crate::supervision::RestartBudget;
use actix::prelude::*;
use std::sync::Arc;

/// Jobs per page when a listing names no `limit`.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest `limit` a listing accepts; more is -32602.
pub const MAX_LIMIT: u32 = 500;

/// What the `queue.*` methods need.
pub struct QueueDeps {
    /// The outbox as operators see it.
    pub store: Arc<dyn QueueAdminStore>,
    /// Woken after a retry so the requeued jobs run now rather than at the next poll.
    pub outbox: Recipient<Wake>,
    /// "Now" of overviews and retries.
    pub clock: Arc<dyn Clock>,
}

pub mod get_failed_jobs;
pub mod get_metrics;
pub mod get_overview;
pub mod get_recent_jobs;
pub mod get_workers;
pub mod retry_failed;
pub mod retry_job;

crate::method_list!(QueueDeps:
    get_overview::GetOverview,
    get_failed_jobs::GetFailedJobs,
    get_recent_jobs::GetRecentJobs,
    retry_job::RetryJob,
    retry_failed::RetryFailed,
    get_metrics::GetMetrics,
    get_workers::GetWorkers,
);

/// The `queue` server actor.
pub struct QueueServer {
    methods: MethodTable<QueueDeps>,
    deps: Arc<QueueDeps>,
    budget: RestartBudget,
}

impl QueueServer {
    /// A server over `store` that wakes `outbox` after a successful retry.
    pub fn new(
        store: Arc<dyn QueueAdminStore>,
        outbox: Recipient<Wake>,
        clock: Arc<dyn Clock>,
        budget: RestartBudget,
    ) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::new(QueueDeps {
                store,
                outbox,
                clock,
            }),
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for QueueServer {
    type Context = Context<Self>;
}

impl Supervised for QueueServer {}

crate::guarded_actor!(QueueServer, "queue");
crate::method_server!(QueueServer);
