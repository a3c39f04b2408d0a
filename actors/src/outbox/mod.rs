//! The `OutboxWorker` actor: claims due jobs from the durable `jobs` table, books through the
//! company's [`TenantSession`](crate::tenant::TenantSession), stores the appointment, and
//! retries transient failures with exponential backoff until `max_attempts`, after which the
//! job is a dead letter (`failed`) carrying its last error.

use crate::domain::booking::UpstreamError;
use crate::domain::ids::CompanyId;
use crate::metric_names as m;
use crate::ports::{Cache, Clock, Notifiers, Store};
use crate::records::{Job, JobFailure, WorkerHeartbeat};
use crate::resilience::Backoff;
use crate::servers::calcom::AvailabilityFlights;
use crate::supervision::{RestartBudget, panic_message, restart_after_panic};
use crate::tenant::{GetTenant, TenantDirectory, TenantError, TenantHandle};
use crate::trace;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument as _;

mod book;
mod cancel;
mod reschedule;
mod sms;

/// Job kind of a booking job ([`BookingJobPayload`](crate::records::BookingJobPayload)).
pub const KIND_BOOK: &str = "book";
/// Job kind of a move ([`RescheduleJobPayload`](crate::records::RescheduleJobPayload)).
pub const KIND_RESCHEDULE: &str = "reschedule";
/// Job kind of a cancellation ([`CancelJobPayload`](crate::records::CancelJobPayload)).
pub const KIND_CANCEL: &str = "cancel";
/// Job kind of a text message ([`SmsJobPayload`](crate::records::SmsJobPayload)).
pub const KIND_SMS: &str = "sms";
/// Queue of text messages to callers.
pub const QUEUE_NOTIFICATIONS: &str = "notifications";
/// Queue of booking jobs.
pub const QUEUE_BOOKINGS: &str = "bookings";

/// Worker settings (`[outbox]` in config/default.toml).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutboxConfig {
    /// How often to look for due jobs when not woken.
    pub poll_interval: Duration,
    /// How long a claimed job is ours before another worker may take it.
    pub lease: Duration,
    /// Jobs claimed per poll.
    pub batch: u32,
    /// First retry delay; doubles per attempt.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(60),
            batch: 16,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}

/// Delay before attempt `attempts + 1`: `base · 2^(attempts−1)`, capped at `max`, never
/// shorter than what the upstream asked for (itself capped at `max`).
pub fn backoff_delay(
    cfg: &OutboxConfig,
    attempts: u32,
    upstream_hint: Option<Duration>,
) -> Duration {
    let delay = Backoff::exponential(cfg.backoff_base, cfg.backoff_max).step(attempts);
    upstream_hint.map_or(delay, |hint| delay.max(hint.min(cfg.backoff_max)))
}

/// Message: look for due jobs now (sent after a webhook enqueued one).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Wake;

/// How often a worker writes its heartbeat (`outbox_workers`, through
/// [`OutboxStore::heartbeat_worker`](crate::ports::OutboxStore::heartbeat_worker));
/// `queue.getWorkers` counts a worker alive while its last heartbeat is younger than
/// [`WORKER_ALIVE_FOR`].
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// A worker whose last heartbeat is older than this (three missed heartbeats) counts as gone.
pub const WORKER_ALIVE_FOR: Duration = Duration::from_secs(3 * HEARTBEAT_INTERVAL.as_secs());

/// Who a worker is, for its heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerIdentity {
    /// The instance id of the process (also its booking-lock holder name).
    pub worker_id: String,
    /// Host name of the machine.
    pub host: String,
}

/// The outbox worker of this process.
pub struct OutboxWorker {
    deps: JobDeps,
    identity: WorkerIdentity,
    /// When this worker started (UTC), reported with every heartbeat.
    started_at: DateTime<Utc>,
    cfg: OutboxConfig,
    /// A poll is in progress; another tick is skipped, a wake-up is remembered.
    busy: bool,
    woken_while_busy: bool,
    budget: RestartBudget,
}

impl OutboxWorker {
    /// A worker; it starts polling when started.
    pub fn new(
        deps: JobDeps,
        identity: WorkerIdentity,
        cfg: OutboxConfig,
        budget: RestartBudget,
    ) -> Self {
        Self {
            started_at: deps.clock.now(),
            deps,
            identity,
            cfg,
            busy: false,
            woken_while_busy: false,
            budget,
        }
    }

    /// Writes this worker's heartbeat; a failure is logged and the next interval tries again.
    fn heartbeat(&self) {
        let store = Arc::clone(&self.deps.store);
        let heartbeat = WorkerHeartbeat {
            worker_id: self.identity.worker_id.clone(),
            host: self.identity.host.clone(),
            pid: std::process::id(),
            started_at: self.started_at,
            at: self.deps.clock.now(),
        };
        // A runtime task, not a future of the actor's context: see `off_context`.
        tokio::spawn(async move {
            if let Err(e) = store.heartbeat_worker(&heartbeat).await {
                tracing::warn!(error = %e, "outbox: writing the worker heartbeat failed");
            }
        });
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            self.woken_while_busy = true;
            return;
        }
        self.busy = true;
        let deps = self.deps.clone();
        let cfg = self.cfg;
        off_context(async move {
            let jobs = match deps
                .store
                .claim_due_jobs(deps.clock.now(), cfg.lease, cfg.batch)
                .await
            {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: claiming jobs failed");
                    return 0;
                }
            };
            let n = jobs.len();
            let runs = jobs.into_iter().map(|job| run_job(deps.clone(), cfg, job));
            futures_util::future::join_all(runs).await;
            n
        })
        .into_actor(self)
        .map(|claimed, act, ctx| {
            act.busy = false;
            // Claimed jobs keep their lease; after it expires they are claimed again.
            let claimed = match claimed {
                Ok(Some(n)) => n,
                // The runtime is shutting down: nothing to restart.
                Ok(None) => return,
                Err(panic) => {
                    restart_after_panic(act, ctx, &panic);
                    return;
                }
            };
            // A full batch or a wake-up during the run: there may be more due right now.
            if claimed as u32 >= act.cfg.batch || std::mem::take(&mut act.woken_while_busy) {
                act.poll(ctx);
            }
        })
        .spawn(ctx);
    }
}

/// Runs `work` as a task of the runtime rather than as a future of the actor's context, and
/// waits for it. The worker is always busy with the database, and a future of the context
/// still holding a pooled connection when the arbiter stops is dropped outside any tokio
/// context (actix drops its `LocalSet` first), where sqlx's connection drop panics and aborts
/// the process. A runtime task is dropped inside the runtime instead.
///
/// `Ok(None)`: the runtime cancelled the task (shutdown). `Err(text)`: it panicked.
async fn off_context<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<Option<T>, String> {
    match tokio::spawn(work).await {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_panic() => Err(panic_message(e.into_panic().as_ref())),
        Err(_) => Ok(None),
    }
}

impl Actor for OutboxWorker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.cfg.poll_interval, |act, ctx| act.poll(ctx));
        ctx.run_interval(HEARTBEAT_INTERVAL, |act, _| act.heartbeat());
        self.heartbeat();
        self.poll(ctx);
    }
}

impl Supervised for OutboxWorker {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.busy = false;
        self.woken_while_busy = false;
    }
}

crate::guarded_actor!(OutboxWorker, "outbox", self_driven);

impl Handler<Wake> for OutboxWorker {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Self::Context) {
        self.poll(ctx);
    }
}

/// What to do with a failed attempt.
pub(crate) enum Failure {
    Retry(String, Option<Duration>),
    Permanent(String),
}

pub(crate) fn classify(e: &UpstreamError) -> Failure {
    if let Some(freed_in) = e.reserved_for() {
        // Another holder's reservation lapses, and the slot is free again unless they book it
        // (then the next attempt is refused for good): try again once it is due to lapse.
        Failure::Retry(
            format!("time slot reserved by another holder: {e}"),
            freed_in,
        )
    } else if e.is_slot_unavailable() {
        Failure::Permanent(format!("time slot not available: {e}"))
    } else if e.is_transient() {
        Failure::Retry(e.to_string(), e.retry_after())
    } else {
        Failure::Permanent(e.to_string())
    }
}

/// What a job runner needs: every job kind gets the same deps.
#[derive(Clone)]
pub struct JobDeps {
    /// The outbox and the records jobs write.
    pub store: Arc<dyn Store>,
    /// Per-company handles: tenant session and Cal.com breaker.
    pub tenants: Addr<TenantDirectory>,
    /// Cached free slots: a booking change drops the affected entries at once.
    pub cache: Arc<dyn Cache>,
    /// Free-slot fetches in flight: a booking patches the day's entry and re-warms it.
    pub flights: Arc<AvailabilityFlights>,
    /// "Now", UTC.
    pub clock: Arc<dyn Clock>,
    /// SMS senders per tenant settings (the `sms` jobs).
    pub notifiers: Arc<dyn Notifiers>,
}

/// Runs one attempt of `job` by its kind; an unknown kind is a dead letter at once.
async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    match job.kind.as_str() {
        KIND_BOOK => book::attempt(deps, job).await,
        KIND_RESCHEDULE => reschedule::attempt(deps, job).await,
        KIND_CANCEL => cancel::attempt(deps, job).await,
        KIND_SMS => sms::attempt(deps, job).await,
        other => Err(Failure::Permanent(format!("unknown job kind {other:?}"))),
    }
}

/// The company's handles for a job: a company that no longer exists is a dead letter, any
/// other failure is retried.
pub(crate) async fn tenant_of(
    tenants: &Addr<TenantDirectory>,
    company: CompanyId,
) -> Result<TenantHandle, Failure> {
    match tenants.send(GetTenant(company)).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(TenantError::NotFound(id))) => {
            Err(Failure::Permanent(format!("company {id} no longer exists")))
        }
        Ok(Err(e)) => Err(Failure::Retry(e.to_string(), None)),
        Err(e) => Err(Failure::Retry(
            format!("tenant directory unavailable: {e}"),
            None,
        )),
    }
}

/// The span of one attempt of `job`, named and attributed after the OpenTelemetry messaging
/// conventions (`process {queue}`, a consumer span) with our `company_id`, `call_id` and job
/// fields. A call's job is in the call's trace ([`trace::join_call`]), any other job starts
/// its own; either way it links to the span that enqueued it, when that was recorded.
fn job_span(job: &Job) -> tracing::Span {
    let span = tracing::info_span!(
        "job",
        otel.name = %format_args!("process {}", job.queue),
        otel.kind = "consumer",
        otel.status_code = tracing::field::Empty,
        messaging.system = "switchboard",
        messaging.operation.type = "process",
        messaging.destination.name = %job.queue,
        messaging.message.id = job.id,
        switchboard.job.kind = %job.kind,
        // An integer attribute: the OpenTelemetry layer exports unsigned values as text.
        switchboard.job.attempt = i64::from(job.attempts),
        company_id = tracing::field::Empty,
        call_id = tracing::field::Empty,
    );
    match &job.call_id {
        Some(call) => trace::join_call(&span, job.company_id, call),
        None => {
            span.record("company_id", job.company_id.0);
        }
    }
    if let Some(parent) = &job.trace_parent {
        trace::link_to(&span, parent);
    }
    span
}

async fn run_job(deps: JobDeps, cfg: OutboxConfig, job: Job) {
    let span = job_span(&job);
    run_attempt(deps, cfg, job).instrument(span).await;
}

/// One attempt of `job`, inside its span ([`job_span`]): a failed attempt is retried later or
/// becomes a dead letter.
async fn run_attempt(deps: JobDeps, cfg: OutboxConfig, job: Job) {
    let Err(failure) = attempt(&deps, &job).await else {
        return;
    };
    tracing::Span::current().record("otel.status_code", "error");
    let store = &deps.store;
    let now: DateTime<Utc> = deps.clock.now();
    // `mcp_booking_total` counts bookings; the other kinds count themselves (e.g. `sms_total`).
    let booking = job.kind == KIND_BOOK;
    let (error, retry_at) = match failure {
        Failure::Retry(error, hint) if job.attempts < job.max_attempts => {
            let delay = backoff_delay(&cfg, job.attempts, hint);
            if booking {
                metrics::counter!(m::BOOKING_TOTAL, "status" => "retry").increment(1);
            }
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, delay_ms = delay.as_millis() as u64, "job attempt failed; will retry");
            (
                error,
                Some(now + chrono::Duration::from_std(delay).unwrap_or_default()),
            )
        }
        Failure::Retry(error, _) => (
            format!("gave up after {} attempts: {error}", job.attempts),
            None,
        ),
        Failure::Permanent(error) => (error, None),
    };
    if retry_at.is_none() {
        if booking {
            metrics::counter!(m::BOOKING_TOTAL, "status" => "dead_letter").increment(1);
        }
        tracing::error!(job = job.id, kind = %job.kind, %error, "job is a dead letter");
    }
    if let Err(e) = store
        .fail_job(job.id, &JobFailure { error, retry_at })
        .await
    {
        // The lease expires and the job is claimed again; nothing is lost.
        tracing::error!(job = job.id, error = %e, "outbox: recording the failure failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::ErrorAnswer;

    #[test]
    fn backoff_doubles_and_caps() {
        let cfg = OutboxConfig {
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(10),
            ..OutboxConfig::default()
        };
        let d: Vec<u64> = (1..=6)
            .map(|a| backoff_delay(&cfg, a, None).as_secs())
            .collect();
        assert_eq!(d, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn backoff_honours_upstream_retry_after_up_to_the_cap() {
        let cfg = OutboxConfig {
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            ..OutboxConfig::default()
        };
        assert_eq!(
            backoff_delay(&cfg, 1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            backoff_delay(&cfg, 1, Some(Duration::from_secs(99))),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn slot_taken_is_permanent_and_5xx_is_retried() {
        let taken = UpstreamError::SlotTaken {
            service: "calcom",
            answer: ErrorAnswer {
                status: 400,
                code: Some("BadRequestException".into()),
                message: "User either already has booking at this time or is not available".into(),
            },
        };
        assert!(matches!(classify(&taken), Failure::Permanent(_)));
        let down = UpstreamError::ServerError {
            service: "calcom",
            answer: ErrorAnswer {
                status: 503,
                code: None,
                message: "unavailable".into(),
            },
            retry_after: None,
        };
        assert!(matches!(classify(&down), Failure::Retry(..)));
        let bad = UpstreamError::Rejected {
            service: "calcom",
            answer: ErrorAnswer {
                status: 400,
                code: None,
                message: "attendee property is wrong".into(),
            },
        };
        assert!(matches!(classify(&bad), Failure::Permanent(_)));
    }

    #[test]
    fn slot_reserved_by_another_holder_is_retried_once_the_reservation_lapses() {
        let reserved = UpstreamError::SlotReserved {
            service: "calcom",
            answer: ErrorAnswer {
                status: 400,
                code: None,
                message: "Someone else reserved this slot before you. This slot will be freed \
                          up in 540 seconds."
                    .into(),
            },
            freed_in: Some(Duration::from_secs(540)),
        };
        let Failure::Retry(_, after) = classify(&reserved) else {
            panic!("a reservation lapses: the booking must be tried again, not dead-lettered");
        };
        assert_eq!(after, Some(Duration::from_secs(540)));
    }

    #[test]
    fn throttled_booking_is_retried_after_the_limiters_wait_not_dead_lettered() {
        let throttled = UpstreamError::Throttled {
            service: "calcom",
            retry_after: Duration::from_secs(3),
        };
        let Failure::Retry(_, after) = classify(&throttled) else {
            panic!("a throttled booking must be retried");
        };
        assert_eq!(after, Some(Duration::from_secs(3)));
    }
}
