//! Starts every long-lived actor of the core and hands out their addresses. Called once in
//! `main` under the actix System, before the HTTP server, so HTTP workers share the actors.

use crate::breaker::UpstreamPolicy;
use crate::call::hold::HoldPolicy;
use crate::call::registry::{CallLimits, CallRegistry};
use crate::functions::FunctionDeps;
use crate::outbox::{JobDeps, OutboxConfig, OutboxWorker, WorkerIdentity};
use crate::plane::{Plane, PlaneParts, SharedServers};
use crate::ports::{Cache, CalendarApis, Clock, Notifiers, RetellApi, Store, WebhookProbe};
use crate::queue_depth::QueueDepthSampler;
use crate::ratelimit::Limiter;
use crate::registry::MethodSpec;
use crate::resilience::RetryBudget;
use crate::retell::prefetch::{AvailabilityPrefetcher, PrefetchPolicy};
use crate::router::Router;
use crate::servers::calcom::{AvailabilityFlights, CacheTtl, FlightPolicy};
use crate::servers::database::QueryLimits;
use crate::servers::retell_function::RetellFunctionServer;
use crate::servers::webhook::{BookingPolicy, WebhookServer};
use crate::supervision::RestartBudget;
use crate::tenant::{
    CalcomAccess, RetellAccess, ServicesCache, ServicesCachePolicy, TenantDirectory, TenantLock,
};
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// The ports the core needs.
#[derive(Clone)]
pub struct CoreDeps {
    /// Durable state: tenancy, calls, the outbox and appointments.
    pub store: Arc<dyn Store>,
    /// Cal.com API v2 clients by base URL; every company's breaker wraps the one for its
    /// base URL.
    pub calendar: Arc<dyn CalendarApis>,
    /// Short-lived cache of Cal.com reads.
    pub cache: Arc<dyn Cache>,
    /// Wall clock; a fake one in tests.
    pub clock: Arc<dyn Clock>,
    /// Restart budget shared by every actor (see [`crate::supervision`]).
    pub budget: RestartBudget,
    /// Unique id of this process among the instances sharing one database (lock holder,
    /// outbox worker id).
    pub instance_id: String,
    /// Host name of the machine, shown with the outbox worker (`queue.getWorkers`).
    pub host: String,
    /// Rate limits: per company and server (router), live custom functions (HTTP entry) and
    /// per Cal.com credential (breakers).
    pub limiter: Arc<dyn Limiter>,
    /// SMS senders per tenant settings (confirmations to callers).
    pub notifiers: Arc<dyn Notifiers>,
    /// The Retell API client (`retell.base_url`; the simulator in sandbox mode); every
    /// company's Retell breaker wraps it with the company's key.
    pub retell: Arc<dyn RetellApi>,
    /// Posts `retell.config.testWebhook`'s requests to our own public URL.
    pub probe: Arc<dyn WebhookProbe>,
}

/// Settings of the core (from config/default.toml).
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// Resilience of the Cal.com upstream (`[resilience.calcom]`).
    pub calcom: UpstreamPolicy,
    /// Resilience of the Retell upstream (`[resilience.retell]`).
    pub retell: UpstreamPolicy,
    /// What the Retell set-up writes into each tenant's agent.
    pub retell_setup: RetellSetup,
    /// Poll interval, lease, batch and backoff of the outbox worker.
    pub outbox: OutboxConfig,
    /// Attempts before a booking job is a dead letter.
    pub booking_max_attempts: u32,
    /// Deadline of one JSON-RPC call.
    pub rpc_deadline: Duration,
    /// Longest wait for Cal.com inside a custom function.
    pub function_calendar_timeout: Duration,
    /// Idle timeout and most live call contexts (their data stays in the store).
    pub calls: CallLimits,
    /// A company's session and breaker unused for this long leave memory (unless the breaker
    /// is not closed).
    pub tenant_idle_timeout: Duration,
    /// A company's profile (credentials, zone, policy, disabled) is read again when older
    /// than this, so changes made elsewhere apply within it (`cache.lookups_ttl_s`).
    pub tenant_profile_ttl: Duration,
    /// Lifetimes of cached event types and free slots.
    pub cache_ttl: CacheTtl,
    /// What a call-start warm-up fetches (`cache.prefetch_days`, `cache.prefetch_concurrency`);
    /// `days` 0 turns the prefetch and the re-warming after our booking changes off.
    pub prefetch: PrefetchPolicy,
    /// Most free-slot fetches in flight in this process (`cache.availability_in_flight`).
    pub availability_in_flight: usize,
    /// How long a caller's slot is held in Cal.com during the call (`calls.slot_hold_min`).
    pub slot_hold: HoldPolicy,
    /// How often `queue_depth` is read from the database (`metrics.queue_sample_interval_s`).
    pub queue_sample_interval: Duration,
    /// Row, time and length limits of `database.query` (`[database.query]`).
    pub query: QueryLimits,
    /// Most companies whose services are cached, and for how long
    /// (`cache.services_max_companies`, `cache.lookups_ttl_s`).
    pub services_cache: ServicesCachePolicy,
}

/// What `retell.config.deployCustomFunctions` and the inbound webhook need to know about this
/// service.
#[derive(Clone, Debug)]
pub struct RetellSetup {
    /// Base URL Retell reaches this service at (`server.public_url`, e.g.
    /// `https://switchboard.example.com`, no trailing slash); `None`: not configured, and a
    /// deploy is refused with the key to set.
    pub public_url: Option<String>,
    /// Deadline of one custom function (`functions.deadline_ms`): the deployed tools' timeout
    /// is derived from it.
    pub function_deadline: Duration,
}

/// Addresses of the running core.
#[derive(Clone)]
pub struct Core {
    /// The router of the plane started on the current arbiter by [`Core::start`]: `/mcp`
    /// and the health check use it; each HTTP worker replaces it in its copy of the app state
    /// with the router of its own plane ([`Plane::start`]), which the gateway sends to.
    pub router: Addr<Router>,
    /// Takes verified Retell webhooks ([`HandleWebhook`](crate::servers::webhook::HandleWebhook)).
    pub webhooks: Addr<WebhookServer>,
    /// Runs Retell custom functions
    /// ([`ExecuteFunction`](crate::servers::retell_function::ExecuteFunction)).
    pub functions: Addr<RetellFunctionServer>,
    /// Finds or spawns the context of a live call.
    pub calls: Addr<CallRegistry>,
    /// Per-company booking sessions and Cal.com breakers.
    pub tenants: Addr<TenantDirectory>,
    /// The booking outbox worker; [`Wake`](crate::outbox::Wake) makes it poll at once.
    pub outbox: Addr<OutboxWorker>,
    /// The rate limits of [`CoreDeps::limiter`], for entries outside the router (custom
    /// functions).
    pub limiter: Arc<dyn Limiter>,
    /// Warms a tenant's free slots when a call starts (the inbound-call and `call_started`
    /// webhooks, [`Prefetch`](crate::retell::prefetch::Prefetch)).
    pub prefetch: Addr<AvailabilityPrefetcher>,
    /// The free-slot fetches in flight, shared by the prefetch, the functions and the
    /// booking paths; Cal.com's webhooks re-warm the days they change through it.
    pub flights: Arc<AvailabilityFlights>,
    /// Every method the router routes, sorted by name (the same specs `rpc.discover`
    /// documents): the MCP endpoint's tool list.
    pub methods: Arc<[MethodSpec]>,
    /// Sets `queue_depth{queue,status}` from the database on its own timer.
    pub queue_depth: Addr<QueueDepthSampler>,
    /// Starts more JSON-RPC planes like the one behind [`Core::router`]: each HTTP worker
    /// starts its own on its thread ([`Plane::start`]).
    pub plane: Plane,
    /// The companies' services, cached per company (the inbound-call webhook reads them;
    /// tenant changes drop them).
    pub services: Arc<ServicesCache>,
    /// Stops the custom functions' arbiter when the last copy of the core is dropped.
    _functions_arbiter: Arc<StopOnDrop>,
}

/// Stops an arbiter (thread) when dropped. The System stops its arbiters at a normal
/// shutdown, but an arbiter keeps a handle to itself, so one whose System just ends without a
/// stop (an app in a test, whose runtime is dropped) would run until the process exits and
/// keep everything its actors hold: the store's pool with its open database connections.
struct StopOnDrop(ArbiterHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

impl Core {
    /// Starts all actors, each under an actix `Supervisor` so a guarded panic restarts it (see
    /// [`crate::supervision`]). The custom-function server runs on an [`Arbiter`] (thread) of
    /// its own, the other process-wide actors on the current one: a handler's future runs on
    /// its actor's arbiter, and the functions' work (store reads, parsing, replies) would
    /// otherwise share one thread with the call contexts and the outbox (benches/README.md,
    /// "What the figures changed"). One JSON-RPC plane ([`Plane`]) starts here for `/mcp` and
    /// the health check; each HTTP worker starts its own.
    pub fn start(deps: CoreDeps, cfg: CoreConfig) -> Self {
        let budget = deps.budget.clone();
        let flights = Arc::new(AvailabilityFlights::new(
            Arc::clone(&deps.cache),
            FlightPolicy {
                ttl: cfg.cache_ttl.availability,
                max_in_flight: cfg.availability_in_flight,
                rewarm: cfg.prefetch.days > 0,
            },
        ));
        let services = Arc::new(ServicesCache::new(deps.store.clone(), cfg.services_cache));
        let tenants = {
            let calcom = CalcomAccess {
                apis: Arc::clone(&deps.calendar),
                limiter: Arc::clone(&deps.limiter),
                policy: cfg.calcom,
                // Validated when the configuration was loaded.
                retries: RetryBudget::new(cfg.calcom.budget).unwrap_or_default(),
            };
            let retell = RetellAccess {
                api: Arc::clone(&deps.retell),
                policy: cfg.retell,
                retries: RetryBudget::new(cfg.retell.budget).unwrap_or_default(),
            };
            let actor = TenantDirectory::new(
                deps.store.clone(),
                calcom,
                retell,
                TenantLock::new(
                    deps.store.clone(),
                    Arc::clone(&deps.clock),
                    deps.instance_id.clone(),
                ),
                cfg.tenant_idle_timeout,
                budget.clone(),
            )
            .with_profile_ttl(cfg.tenant_profile_ttl);
            Supervisor::start(move |_| actor)
        };
        let calls = {
            let actor = CallRegistry::new(
                deps.store.clone(),
                Arc::clone(&deps.clock),
                cfg.calls,
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let outbox = {
            let identity = WorkerIdentity {
                worker_id: deps.instance_id.clone(),
                host: deps.host.clone(),
            };
            let actor = OutboxWorker::new(
                JobDeps {
                    store: Arc::clone(&deps.store),
                    tenants: tenants.clone(),
                    cache: Arc::clone(&deps.cache),
                    flights: Arc::clone(&flights),
                    clock: Arc::clone(&deps.clock),
                    notifiers: Arc::clone(&deps.notifiers),
                },
                identity,
                cfg.outbox,
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let webhooks = {
            let actor = WebhookServer::new(
                deps.store.clone(),
                calls.clone(),
                outbox.clone().recipient(),
                tenants.clone(),
                Arc::clone(&deps.clock),
                BookingPolicy {
                    max_attempts: cfg.booking_max_attempts,
                },
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let functions = {
            let actor = RetellFunctionServer::new(
                FunctionDeps {
                    store: Arc::clone(&deps.store),
                    services: Arc::clone(&services),
                    calls: calls.clone(),
                    tenants: tenants.clone(),
                    cache: Arc::clone(&deps.cache),
                    flights: Arc::clone(&flights),
                    clock: Arc::clone(&deps.clock),
                    calendar_timeout: cfg.function_calendar_timeout,
                    hold: cfg.slot_hold,
                },
                budget.clone(),
            );
            let arbiter = Arbiter::new().handle();
            let addr = Supervisor::start_in_arbiter(&arbiter, move |_| actor);
            (addr, Arc::new(StopOnDrop(arbiter)))
        };
        let (functions, functions_arbiter) = functions;
        let plane = Plane::new(PlaneParts {
            deps: deps.clone(),
            cfg: cfg.clone(),
            tenants: tenants.clone(),
            outbox: outbox.clone(),
            flights: Arc::clone(&flights),
            services: Arc::clone(&services),
            shared: SharedServers {
                webhooks: webhooks.clone(),
                functions: functions.clone(),
                #[cfg(feature = "fault-injection")]
                calls: calls.clone(),
            },
        });
        let methods: Arc<[MethodSpec]> = plane.specs().into();
        let router = plane.start();
        let prefetch = {
            let flights = Arc::clone(&flights);
            let policy = cfg.prefetch;
            let tenants = tenants.clone();
            Supervisor::start(move |_| AvailabilityPrefetcher::new(tenants, flights, policy))
        };
        let queue_depth = {
            let actor = QueueDepthSampler::new(
                deps.store.clone(),
                Arc::clone(&deps.clock),
                cfg.queue_sample_interval,
                deps.budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        Self {
            router,
            webhooks,
            functions,
            calls,
            tenants,
            outbox,
            limiter: deps.limiter,
            prefetch,
            flights,
            methods,
            queue_depth,
            plane,
            services,
            _functions_arbiter: functions_arbiter,
        }
    }
}
