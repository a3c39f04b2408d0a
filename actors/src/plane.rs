//! A JSON-RPC plane: one [`Router`] and its own instances of the stateless server actors
//! (`calcom`, `queue`, `appointments`, `retell`, `retell.config`, `database` and the
//! administration servers), started together on the current arbiter (thread).
//!
//! Each HTTP worker starts a plane of its own when it starts ([`Plane::start`]), so a gateway
//! call — above all a cached read — is routed, checked and answered on the worker's thread:
//! the router's and the server's futures run where the request is, with no wake-up of another
//! thread on the way there or back (issue 16: a quarter of the gateway's time went to such
//! wake-ups). The actors stay the unit of supervision: every instance runs under its own
//! `Supervisor` and restarts on a guarded panic. The servers that hold or order shared state
//! — `webhook` (call contexts, the outbox) and `retell.function` (its own arbiter, see
//! [`crate::system::Core::start`]) — stay one per process; every plane routes to the same
//! instance. Plane servers share their dependencies (store, cache, tenant directory, rate
//! limiter) through `Arc`s and addresses, so a cache entry or a rate-limit count is the
//! process's, never a worker's.

use crate::outbox::OutboxWorker;
use crate::registry::MethodSpec;
use crate::router::{Router, RouterBuilder};
use crate::servers::appointments::AppointmentServer;
use crate::servers::calcom::{AvailabilityFlights, CalcomCaches, CalcomServer};
use crate::servers::company::{AdminDeps, AdminServer};
use crate::servers::database::{DatabaseDeps, DatabaseServer};
use crate::servers::queue::QueueServer;
use crate::servers::retell::RetellServer;
use crate::servers::retell_config::RetellConfigServer;
use crate::servers::retell_function::RetellFunctionServer;
use crate::servers::webhook::WebhookServer;
use crate::servers::{auth, branch, company, service};
use crate::supervision::RestartBudget;
use crate::system::{CoreConfig, CoreDeps};
use crate::tenant::{ServicesCache, TenantDirectory};
use actix::prelude::*;
use std::sync::Arc;

/// The process-wide server actors every plane routes to.
#[derive(Clone)]
pub struct SharedServers {
    /// `webhook.*` and the Retell webhooks.
    pub webhooks: Addr<WebhookServer>,
    /// `retell.function.*` and the custom functions.
    pub functions: Addr<RetellFunctionServer>,
    /// Fault target `call_registry` (feature `fault-injection`).
    #[cfg(feature = "fault-injection")]
    pub calls: Addr<crate::call::registry::CallRegistry>,
}

/// What a plane's servers are built from: the core's ports and settings and the
/// process-wide actors.
#[derive(Clone)]
pub struct PlaneParts {
    /// The core's ports.
    pub deps: CoreDeps,
    /// The core's settings.
    pub cfg: CoreConfig,
    /// Per-company handles (Cal.com and Retell breakers, booking sessions).
    pub tenants: Addr<TenantDirectory>,
    /// The outbox worker (`queue.*` wakes it).
    pub outbox: Addr<OutboxWorker>,
    /// The process's Cal.com availability fetches in flight (one per company, event type and
    /// day), shared by every plane's `calcom` server.
    pub flights: Arc<AvailabilityFlights>,
    /// The companies' services, cached per company (tenant writes drop them).
    pub services: Arc<ServicesCache>,
    /// The servers that stay one per process.
    pub shared: SharedServers,
}

/// Starts planes (cheap to clone; `Send`, so an HTTP worker's factory can hold it).
#[derive(Clone)]
pub struct Plane {
    parts: Arc<PlaneParts>,
}

impl Plane {
    /// A plane factory over `parts`.
    pub fn new(parts: PlaneParts) -> Self {
        Self {
            parts: Arc::new(parts),
        }
    }

    /// Every method a plane routes, sorted by name (what `rpc.discover` documents).
    pub fn specs(&self) -> Vec<MethodSpec> {
        let mut specs: Vec<MethodSpec> = [
            CalcomServer::methods(),
            QueueServer::methods(),
            WebhookServer::methods(),
            RetellFunctionServer::methods(),
            company::methods(),
            branch::methods(),
            service::methods(),
            auth::methods(),
            AppointmentServer::methods(),
            RetellServer::methods(),
            RetellConfigServer::methods(),
            crate::servers::database::DatabaseServer::methods(),
        ]
        .into_iter()
        .flatten()
        .collect();
        #[cfg(feature = "fault-injection")]
        specs.extend(crate::servers::fault::FaultServer::methods());
        specs.sort_by_key(|s| s.name);
        specs
    }

    /// Starts a router and the plane's own server instances on the current arbiter, each
    /// under a `Supervisor`; answers the router's address. Must run inside an actix arbiter
    /// (the System's, or an HTTP worker's).
    pub fn start(&self) -> Addr<Router> {
        let PlaneParts {
            deps,
            cfg,
            tenants,
            outbox,
            flights,
            services,
            shared,
        } = self.parts.as_ref();
        let budget = deps.budget.clone();
        let calcom = {
            let actor = CalcomServer::new(
                Arc::clone(&deps.store),
                tenants.clone(),
                CalcomCaches {
                    cache: Arc::clone(&deps.cache),
                    flights: Arc::clone(flights),
                    services: Arc::clone(services),
                },
                Arc::clone(&deps.clock),
                cfg.cache_ttl,
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let queue = {
            let actor = QueueServer::new(
                deps.store.clone(),
                outbox.clone().recipient(),
                Arc::clone(&deps.clock),
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let appointments = {
            let actor = AppointmentServer::new(
                deps.store.clone(),
                tenants.clone(),
                Arc::clone(&deps.cache),
                Arc::clone(&deps.clock),
                cfg.function_calendar_timeout,
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let retell = {
            let actor = RetellServer::new(
                Arc::clone(&deps.store),
                tenants.clone(),
                Arc::clone(&deps.clock),
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let retell_config = {
            let actor = RetellConfigServer::new(
                deps.store.clone(),
                tenants.clone(),
                Arc::clone(&deps.clock),
                cfg.retell_setup.clone(),
                Arc::clone(&deps.probe),
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let database = {
            let actor = DatabaseServer::new(
                DatabaseDeps {
                    reports: deps.store.clone(),
                    tenancy: deps.store.clone(),
                    tenants: deps.store.clone(),
                    limits: cfg.query,
                },
                budget.clone(),
            );
            Supervisor::start(move |_| actor)
        };
        let admin = Arc::new(AdminDeps {
            tenants: deps.store.clone(),
            tokens: deps.store.clone(),
            directory: tenants.clone(),
            clock: Arc::clone(&deps.clock),
            cache: Arc::clone(&deps.cache),
            services: Arc::clone(services),
        });
        let admin_server = |server: fn(Arc<AdminDeps>, RestartBudget) -> AdminServer| {
            let actor = server(Arc::clone(&admin), budget.clone());
            Supervisor::start(move |_| actor).recipient()
        };
        let builder = RouterBuilder::default()
            .server(CalcomServer::methods(), calcom.clone().recipient())
            .server(QueueServer::methods(), queue.recipient())
            .server(
                WebhookServer::methods(),
                shared.webhooks.clone().recipient(),
            )
            .server(
                RetellFunctionServer::methods(),
                shared.functions.clone().recipient(),
            )
            .server(company::methods(), admin_server(company::server))
            .server(branch::methods(), admin_server(branch::server))
            .server(service::methods(), admin_server(service::server))
            .server(auth::methods(), admin_server(auth::server))
            .server(AppointmentServer::methods(), appointments.recipient())
            .server(RetellServer::methods(), retell.recipient())
            .server(RetellConfigServer::methods(), retell_config.recipient())
            .server(DatabaseServer::methods(), database.recipient());
        #[cfg(feature = "fault-injection")]
        let builder = {
            use crate::servers::fault::FaultServer;
            // The plane's own calcom server, the process's others.
            let fault = FaultServer::new(budget.clone())
                .target("calcom", calcom.clone().recipient())
                .target("webhook", shared.webhooks.clone().recipient())
                .target("retell.function", shared.functions.clone().recipient())
                .target("call_registry", shared.calls.clone().recipient())
                .target("tenant_directory", tenants.clone().recipient())
                .target("outbox", outbox.clone().recipient());
            let fault = Supervisor::start(move |_| fault);
            builder.server(FaultServer::methods(), fault.recipient())
        };
        debug_assert_eq!(
            builder.specs().iter().map(|s| s.name).collect::<Vec<_>>(),
            self.specs().iter().map(|s| s.name).collect::<Vec<_>>(),
            "Plane::specs lists what a plane routes"
        );
        let router = builder.build(cfg.rpc_deadline, budget, Arc::clone(&deps.limiter));
        Supervisor::start(move |_| router)
    }
}
