//! The `QueueDepthSampler` actor: every `interval` it reads the outbox state of all companies
//! ([`QueueAdminStore::queue_overview`]) and sets `queue_depth{queue,status}` and
//! `queue_oldest_pending_age_seconds{queue}`.
//!
//! The figures are the shared database's, so every instance reports the same value: alerts and
//! dashboards aggregate them with `max` (a `sum` would multiply them by the instance count).
//! Labels come from fixed sets ([`QUEUES`]; `status` is `pending`, `running` or `failed` =
//! dead letters); a queue of the database outside [`QUEUES`] is not reported. A failed read
//! keeps the previous figures and logs a warning.

use crate::metric_names as m;
use crate::outbox::{QUEUE_BOOKINGS, QUEUE_NOTIFICATIONS};
use crate::ports::{Clock, QueueAdminStore};
use crate::records::QueueOverview;
use crate::supervision::{RestartBudget, panic_message, restart_after_panic};
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// The queues reported: every queue the outbox writes to.
pub const QUEUES: [&str; 2] = [QUEUE_BOOKINGS, QUEUE_NOTIFICATIONS];

/// Samples the outbox depth of all companies on a timer.
pub struct QueueDepthSampler {
    store: Arc<dyn QueueAdminStore>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    /// A read is in progress: the next tick is skipped rather than queued, so a slow database
    /// never has more than one of these reads from this process.
    busy: bool,
    budget: RestartBudget,
}

impl QueueDepthSampler {
    /// A sampler reading `store` every `interval` (and once when started).
    pub fn new(
        store: Arc<dyn QueueAdminStore>,
        clock: Arc<dyn Clock>,
        interval: Duration,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            clock,
            interval,
            busy: false,
            budget,
        }
    }

    fn sample(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let store = Arc::clone(&self.store);
        let now = self.clock.now();
        // A runtime task, not a future of the context: a pooled connection must not be dropped
        // outside tokio when the arbiter stops (see `outbox::off_context`).
        let read = tokio::spawn(async move { store.queue_overview(None, now).await });
        read.into_actor(self)
            .map(|result, act, ctx| {
                act.busy = false;
                match result {
                    Ok(Ok(overview)) => record(&overview),
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "queue depth: reading the outbox state failed");
                    }
                    // The runtime is shutting down.
                    Err(join) if join.is_cancelled() => {}
                    Err(join) => {
                        restart_after_panic(act, ctx, &panic_message(join.into_panic().as_ref()));
                    }
                }
            })
            .spawn(ctx);
    }
}

/// Sets the gauges from one overview: every (queue, status) of the fixed sets, 0 for a queue
/// without jobs, so a drained queue reads 0 rather than its last figure.
pub fn record(overview: &QueueOverview) {
    for queue in QUEUES {
        let summary = overview.queues.iter().find(|s| s.queue == queue);
        let counts = summary.map(|s| s.counts).unwrap_or_default();
        // `done` is no depth (it only grows; `mcp_booking_total` and `sms_total` count it).
        for (status, n) in [
            ("pending", counts.pending),
            ("running", counts.running),
            ("failed", counts.failed),
        ] {
            metrics::gauge!(m::QUEUE_DEPTH, "queue" => queue, "status" => status).set(n as f64);
        }
        let age = summary.and_then(|s| s.oldest_due_age_s).unwrap_or(0);
        metrics::gauge!(m::QUEUE_OLDEST_PENDING_AGE_SECONDS, "queue" => queue).set(age as f64);
    }
}

impl Actor for QueueDepthSampler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.interval, |act, ctx| act.sample(ctx));
        self.sample(ctx);
    }
}

impl Supervised for QueueDepthSampler {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.busy = false;
    }
}

crate::guarded_actor!(QueueDepthSampler, "queue_depth", self_driven);

#[cfg(test)]
mod tests;
