//! Builds the application in named steps — upstream (simulator or Cal.com), store, demo tenant,
//! cache, sandbox provisioning of the simulator, core actors, HTTP server on a listener we bind
//! ourselves (so tests can use port 0 and read the port back) — and [`serve`]s it.

use crate::cache::{self, AnyCache};
use crate::calcom::{CalcomClient, CalcomClients};
use crate::config::{Settings, redact_url};
use crate::http::body_timeout::BodyReadTimeout;
use crate::http::{self, AppState};
use crate::notify::TwilioNotifiers;
use crate::retell::RetellClient;
use crate::sandbox;
use crate::secrets;
use crate::sim::calcom::{CalcomSim, provision};
use crate::sim::retell::RetellSim;
use crate::sim::sms::SmsSim;
use crate::store::AnyStore;
use crate::telemetry;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use secrecy::ExposeSecret;
use std::net::{IpAddr, TcpListener};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchboard_actors::call::hold::HoldPolicy;
use switchboard_actors::call::registry::CallLimits;
use switchboard_actors::jsonrpc::Limits;
use switchboard_actors::outbox::OutboxConfig;
use switchboard_actors::ports::{Clock, Store, SystemClock};
use switchboard_actors::retell::prefetch::PrefetchPolicy;
use switchboard_actors::servers::calcom::CacheTtl;
use switchboard_actors::servers::database::QueryLimits;
use switchboard_actors::supervision::{EXIT_RESTART_BUDGET, RestartBudget};
use switchboard_actors::system::{Core, CoreConfig, CoreDeps, RetellSetup};
use switchboard_actors::tenant::ServicesCachePolicy;

/// How the process talks to the outside world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In-process Cal.com simulator, demo tenant.
    Sandbox,
    /// Real upstream APIs.
    Production,
}

impl Mode {
    /// The mode `settings` ask for (`sandbox.enabled`).
    fn of(settings: &Settings) -> Self {
        if settings.sandbox.enabled {
            Self::Sandbox
        } else {
            Self::Production
        }
    }

    /// `sandbox` / `production`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Production => "production",
        }
    }
}

/// A built, not yet running application.
pub struct Application {
    port: u16,
    server: Server,
    sim: Option<Server>,
    /// Gateway admin token (sandbox mode).
    pub admin_token: Option<String>,
    /// URL of the in-process Cal.com simulator (sandbox mode).
    pub calcom_url: String,
    /// Addresses of the running core actors.
    pub core: Core,
    /// The store the application uses (SQLite or PostgreSQL, by `database.url`).
    pub store: AnyStore,
    /// Set to the process exit code when the app stops itself (restart budget exhausted).
    exit_code: Arc<AtomicI32>,
    /// Base URL of the SMS API tenants without their own use (the in-process simulator in
    /// sandbox mode).
    pub sms_url: String,
    /// The in-process SMS simulator (sandbox mode), for tests to read what was sent.
    pub sms_sim: Option<SmsSim>,
    sms_server: Option<Server>,
    /// Base URL of the Retell API in use: the simulator in sandbox mode (in-process, or
    /// `sandbox.retell_url`), else `retell.base_url`.
    pub retell_url: String,
    /// The in-process Retell simulator (sandbox mode without `sandbox.retell_url`), for tests
    /// to change its faults.
    pub retell_sim: Option<RetellSim>,
    retell_server: Option<Server>,
    /// The cache the core uses, for tests that check what was cached (the warmed
    /// availability of an inbound call).
    pub cache: AnyCache,
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(n.saturating_mul(60))
}

fn core_config(s: &Settings, port: u16) -> CoreConfig {
    CoreConfig {
        calcom: s.resilience.calcom.policy(),
        retell: s.resilience.retell.policy(),
        retell_setup: RetellSetup {
            public_url: public_url(s, port),
            function_deadline: s.function_deadline(),
        },
        outbox: OutboxConfig {
            poll_interval: Duration::from_millis(s.outbox.poll_interval_ms),
            lease: Duration::from_secs(s.outbox.lease_s),
            batch: s.outbox.batch,
            backoff_base: Duration::from_millis(s.outbox.backoff_base_ms),
            backoff_max: Duration::from_millis(s.outbox.backoff_max_ms),
        },
        booking_max_attempts: s.outbox.max_attempts,
        rpc_deadline: Duration::from_millis(s.gateway.deadline_ms),
        function_calendar_timeout: Duration::from_millis(s.functions.calendar_timeout_ms),
        calls: CallLimits {
            idle_timeout: minutes(s.calls.idle_timeout_min),
            // Validated at load: at least 1.
            max_live: NonZeroUsize::new(s.calls.max_live).unwrap_or(NonZeroUsize::MIN),
        },
        tenant_idle_timeout: minutes(s.tenants.idle_timeout_min),
        tenant_profile_ttl: Duration::from_secs(s.cache.lookups_ttl_s),
        cache_ttl: CacheTtl {
            event_types: Duration::from_secs(s.cache.event_types_ttl_s),
            availability: Duration::from_secs(s.cache.availability_ttl_s),
        },
        prefetch: PrefetchPolicy {
            days: s.cache.prefetch_days,
            concurrency: s.cache.prefetch_concurrency,
            ..PrefetchPolicy::default()
        },
        availability_in_flight: s.cache.availability_in_flight,
        slot_hold: HoldPolicy {
            hold_min: s.calls.slot_hold_min,
        },
        queue_sample_interval: Duration::from_secs(s.metrics.queue_sample_interval_s),
        query: QueryLimits {
            max_rows: s.database.query.max_rows,
            timeout: Duration::from_millis(s.database.query.timeout_ms),
            max_sql_bytes: s.database.query.max_sql_bytes,
        },
        services_cache: ServicesCachePolicy {
            max_companies: s.cache.services_max_companies,
            ttl: Duration::from_secs(s.cache.lookups_ttl_s),
        },
    }
}

/// `switchboard serve`: loads the settings (defaults, `config`, environment), starts the logs,
/// builds the application and serves until stopped; returns the process exit code (see
/// [`Application::run_until_stopped`]). Prints the sandbox admin token when it was generated.
///
/// # Errors
/// Invalid settings, a failed build step, or the HTTP server failing.
pub async fn serve(config: Option<&Path>) -> anyhow::Result<i32> {
    let settings = Settings::load(config)?;
    let traces = telemetry::init(&settings.log, &settings.telemetry).context("traces")?;
    let served = build_and_run(settings).await;
    // After the last request and job of this process: their spans are exported too.
    if let Some(traces) = traces {
        traces.shutdown().await;
    }
    served
}

/// [`serve`] once the logs (and traces) are set up.
async fn build_and_run(settings: Settings) -> anyhow::Result<i32> {
    let generated =
        settings.sandbox.enabled && settings.sandbox.admin_token.expose_secret().is_empty();
    let app = Application::build(settings).await?;
    if let (true, Some(token)) = (generated, &app.admin_token) {
        println!(
            "sandbox admin token (set SWITCHBOARD__SANDBOX__ADMIN_TOKEN to choose one): {token}"
        );
    }
    app.run_until_stopped().await.context("HTTP server")
}

impl Application {
    /// Builds everything, step by step: upstream (simulator or real Cal.com), store, demo
    /// tenant, cache, core actors, HTTP server. Must run inside an actix System (actors start
    /// on its arbiter).
    ///
    /// # Errors
    /// The first step that fails, naming what it was doing (a database or Redis URL by host,
    /// port and database, never with its password).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        refuse_public_sandbox(&settings)?;
        let prometheus = telemetry::prometheus();
        let mode = Mode::of(&settings);
        let (calcom_url, sim) = start_calcom(&settings)?;
        let (sms_url, sms) = start_sms(&settings)?;
        let (sms_server, sms_sim) = sms.unzip();
        let (retell_url, retell) = start_retell(&settings)?;
        let (retell_server, retell_sim) = retell.unzip();
        let store = open_store(&settings).await?;
        let store = secrets::secure(&settings, store).await?;
        let admin_token = seed_sandbox(&settings, &store).await?;
        let cache = open_cache(&settings)?;
        let exit_code = Arc::new(AtomicI32::new(0));
        let http_handle: Arc<OnceLock<ServerHandle>> = Arc::default();
        let budget = restart_budget(&settings, &exit_code, &http_handle);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store_port: Arc<dyn Store> = Arc::new(store.clone());
        let (port, listener) = bind_http(&settings)?;
        let urls = UpstreamUrls {
            calcom: &calcom_url,
            sms: &sms_url,
            retell: &retell_url,
        };
        let core = start_core(
            &settings,
            port,
            &urls,
            Arc::clone(&store_port),
            cache.clone(),
            Arc::clone(&clock),
            budget,
        )?;
        let state = AppState {
            core: core.clone(),
            store: Arc::clone(&store_port),
            lookups: http::lookups::Lookups::new(Duration::from_secs(settings.cache.lookups_ttl_s)),
            clock,
            prometheus,
            rpc_limits: Limits {
                max_batch: settings.gateway.max_batch,
            },
            signature_tolerance_ms: settings.retell.signature_tolerance_ms,
            function_deadline: settings.function_deadline(),
            mode,
            calcom_base_url: redact_url(&calcom_url.as_str().into()),
            retell_base_url: redact_url(&urls.retell.into()),
            replay: crate::cache::ReplayGuard::new(&cache, settings.retell.replay_max_entries),
            cache: cache.clone(),
        };
        let mcp = mcp_mount(&settings, port, &core, &store_port, &cache)?;
        let server = serve_http(&settings, listener, state, mcp)?;
        let _ = http_handle.set(server.handle());
        if settings.sandbox.enabled {
            // After binding: the simulator's webhooks go to the port we listen on.
            let our_url = format!("http://{}:{port}", settings.server.host);
            provision::spawn(store_port, calcom_url.clone(), our_url);
        }
        tracing::info!(
            address = %format!("{}:{port}", settings.server.host),
            mode = mode.as_str(),
            calcom = %redact_url(&calcom_url.as_str().into()),
            retell = %redact_url(&urls.retell.into()),
            database = store.backend(),
            cache = if settings.redis.url.expose_secret().is_empty() { "memory" } else { "redis" },
            "switchboard listening"
        );
        Ok(Self {
            port,
            server,
            sim,
            admin_token,
            calcom_url,
            core,
            store,
            exit_code,
            sms_url,
            sms_sim,
            sms_server,
            retell_url,
            retell_sim,
            retell_server,
            cache,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT (or [`ServerHandle::stop`]): stops accepting, lets in-flight
    /// requests finish, then stops the simulator. Queued jobs stay in the database.
    /// Returns the exit code for the process: 0 after a normal stop, or
    /// [`EXIT_RESTART_BUDGET`] when actors kept failing.
    pub async fn run_until_stopped(self) -> std::io::Result<i32> {
        let sim_handle = self.sim.as_ref().map(Server::handle);
        if let Some(sim) = self.sim {
            actix_rt::spawn(sim);
        }
        let sms_handle = self.sms_server.as_ref().map(Server::handle);
        if let Some(sms) = self.sms_server {
            actix_rt::spawn(sms);
        }
        let retell_handle = self.retell_server.as_ref().map(Server::handle);
        if let Some(retell) = self.retell_server {
            actix_rt::spawn(retell);
        }
        let result = self.server.await;
        if let Some(h) = sim_handle {
            h.stop(true).await;
        }
        if let Some(h) = sms_handle {
            h.stop(true).await;
        }
        if let Some(h) = retell_handle {
            h.stop(true).await;
        }
        let code = self.exit_code.load(Ordering::SeqCst);
        tracing::info!(exit_code = code, "switchboard stopped");
        result.map(|()| code)
    }
}

/// The Cal.com base URL to use, and the in-process simulator when sandbox mode runs one (an
/// external simulator's URL, or the real Cal.com outside sandbox mode, needs none).
fn start_calcom(settings: &Settings) -> anyhow::Result<(String, Option<Server>)> {
    let external_sim = settings
        .sandbox
        .calcom_url
        .trim()
        .trim_end_matches('/')
        .to_owned();
    if !settings.sandbox.enabled {
        let url = settings.calcom.base_url.trim_end_matches('/').to_owned();
        return Ok((url, None));
    }
    if !external_sim.is_empty() {
        return Ok((external_sim, None));
    }
    let port = settings.sandbox.calcom_port;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("binding the Cal.com simulator to 127.0.0.1:{port}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = CalcomSim::demo().serve(listener)?;
    Ok((url, Some(server)))
}

/// The SMS API base URL for tenants without their own, and in sandbox mode the in-process
/// simulator serving it, with the example tenants' accounts.
fn start_sms(settings: &Settings) -> anyhow::Result<(String, Option<(Server, SmsSim)>)> {
    if !settings.sandbox.enabled {
        let url = settings.sms.base_url.trim_end_matches('/').to_owned();
        return Ok((url, None));
    }
    let sim = SmsSim::new(settings.sms.sim_max_messages);
    for (sid, token) in sandbox::sms_accounts().context("reading the example tenants")? {
        sim.add_account(&sid, token)
            .with_context(|| format!("sandbox SMS account {sid}"))?;
    }
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("binding the SMS simulator")?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = sim.serve(listener)?;
    Ok((url, Some((server, sim))))
}

/// The Retell API base URL, and in sandbox mode the in-process simulator serving it (on
/// `sandbox.retell_port`) unless `sandbox.retell_url` names an external one; outside sandbox
/// mode `retell.base_url`.
fn start_retell(settings: &Settings) -> anyhow::Result<(String, Option<(Server, RetellSim)>)> {
    if !settings.sandbox.enabled {
        let url = settings.retell.base_url.trim_end_matches('/').to_owned();
        return Ok((url, None));
    }
    let external_sim = settings.sandbox.retell_url.trim().trim_end_matches('/');
    if !external_sim.is_empty() {
        return Ok((external_sim.to_owned(), None));
    }
    let port = settings.sandbox.retell_port;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("binding the Retell simulator to 127.0.0.1:{port}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let sim = RetellSim::demo().context("seeding the Retell simulator")?;
    let server = sim.serve(listener)?;
    Ok((url, Some((server, sim))))
}

/// Connects to `database.url` and migrates it.
pub(crate) async fn open_store(settings: &Settings) -> anyhow::Result<AnyStore> {
    let url = &settings.database.url;
    AnyStore::connect(url.expose_secret(), settings.database.max_connections)
        .await
        .with_context(|| format!("opening database {}", redact_url(url)))
}

/// Sandbox mode accepts webhooks signed with the public demo key and seeds a known tenant, so
/// it serves loopback only: a `server.host` other than a loopback address or `localhost` is
/// refused before anything starts.
///
/// # Errors
/// Names the two keys that fix it.
fn refuse_public_sandbox(settings: &Settings) -> anyhow::Result<()> {
    let host = settings.server.host.trim();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !settings.sandbox.enabled || loopback {
        return Ok(());
    }
    anyhow::bail!(
        "sandbox mode accepts webhooks signed with the public demo key, so it serves loopback \
         only, but server.host is {host:?}: set SWITCHBOARD__SERVER__HOST=127.0.0.1, or turn \
         sandbox mode off (SWITCHBOARD__SANDBOX__ENABLED=false) to serve real tenants"
    )
}

/// In sandbox mode, seeds the demo tenant and returns the gateway admin token (the
/// configured one, else a fresh one).
async fn seed_sandbox(settings: &Settings, store: &AnyStore) -> anyhow::Result<Option<String>> {
    if !settings.sandbox.enabled {
        return Ok(None);
    }
    let configured = settings.sandbox.admin_token.expose_secret().trim();
    let token = if configured.is_empty() {
        uuid::Uuid::new_v4().simple().to_string()
    } else {
        configured.to_owned()
    };
    let demo = sandbox::seed(store, &token)
        .await
        .context("seeding the demo tenant")?;
    tracing::info!(company_id = %demo.company_id, phone = sandbox::DEMO_PHONE, "demo tenant ready");
    Ok(Some(token))
}

/// The cache of `redis.url` (see [`cache::open`]).
fn open_cache(settings: &Settings) -> anyhow::Result<AnyCache> {
    let url = &settings.redis.url;
    cache::open(settings).with_context(|| format!("configuring the cache at {}", redact_url(url)))
}

/// The actors' shared restart budget. When actors keep failing, the process stops serving
/// and exits non-zero rather than restart in a loop: `exit_code` gets
/// [`EXIT_RESTART_BUDGET`] and the HTTP server, whose handle is known only once it is built
/// (hence the cell), is stopped.
fn restart_budget(
    settings: &Settings,
    exit_code: &Arc<AtomicI32>,
    http_handle: &Arc<OnceLock<ServerHandle>>,
) -> RestartBudget {
    let exit_code = Arc::clone(exit_code);
    let http_handle = Arc::clone(http_handle);
    RestartBudget::new(
        settings.supervision.max_restarts,
        Duration::from_secs(settings.supervision.window_s),
    )
    .on_exhausted(move |actor| {
        tracing::error!(
            actor,
            exit_code = EXIT_RESTART_BUDGET,
            "restart budget exhausted: actors keep failing; shutting down instead of restarting in a loop"
        );
        exit_code.store(EXIT_RESTART_BUDGET, Ordering::SeqCst);
        if let Some(handle) = http_handle.get() {
            // The stop command is sent now; awaiting it is not needed.
            drop(handle.stop(true));
        }
    })
}

/// How long `retell.config.testWebhook` waits for each answer from our own public URL.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the upstream APIs are: the real ones, or the simulators in sandbox mode.
struct UpstreamUrls<'a> {
    /// Cal.com API base URL.
    calcom: &'a str,
    /// SMS API base URL for tenants without their own.
    sms: &'a str,
    /// Retell API base URL.
    retell: &'a str,
}

/// Starts the core's actors on the upstream clients for `urls`; `port` is the bound HTTP port.
fn start_core(
    settings: &Settings,
    port: u16,
    urls: &UpstreamUrls<'_>,
    store: Arc<dyn Store>,
    cache: AnyCache,
    clock: Arc<dyn Clock>,
    budget: RestartBudget,
) -> anyhow::Result<Core> {
    let (calcom_url, sms_url) = (urls.calcom, urls.sms);
    // The breaker's own timeout fires first; this one only bounds a stuck connection.
    let timeout = Duration::from_millis(settings.resilience.calcom.timeout_ms.saturating_add(1000));
    let calendar = CalcomClient::new(calcom_url, timeout).context("building the Cal.com client")?;
    let calendar = CalcomClients::new(calendar, timeout);
    let host = host_name();
    let limiter = crate::ratelimit::open(settings, &cache);
    let deps = CoreDeps {
        store,
        calendar: Arc::new(calendar),
        cache: Arc::new(cache),
        clock,
        budget,
        instance_id: instance_id(&host),
        host,
        limiter,
        notifiers: Arc::new(TwilioNotifiers::new(
            sms_url,
            Duration::from_millis(settings.sms.timeout_ms),
        )),
        retell: Arc::new(retell_client(settings, urls.retell)?),
        probe: Arc::new(
            crate::webhook_probe::HttpProbe::new(PROBE_TIMEOUT)
                .context("building the webhook probe")?,
        ),
    };
    Ok(Core::start(deps, core_config(settings, port)))
}

/// The Retell client for `url`, with the Cal.com client's timeout rule: the breaker's own
/// timeout (`[resilience.retell].timeout_ms`) fires first; this one only bounds a stuck
/// connection.
fn retell_client(settings: &Settings, url: &str) -> anyhow::Result<RetellClient> {
    let timeout = Duration::from_millis(settings.resilience.retell.timeout_ms.saturating_add(1000));
    RetellClient::new(url, timeout).context("building the Retell client")
}

/// Names this process among the instances sharing one database (booking lock holder,
/// outbox worker id): `<host>-<uuid>`.
fn instance_id(host: &str) -> String {
    format!("{host}-{}", uuid::Uuid::new_v4().simple())
}

/// The machine's host name (lossy UTF-8), for operators reading `queue.getWorkers`.
fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Binds `server.host:server.port` ourselves (port 0 picks a free one, so tests can read it
/// back) and starts the HTTP server on it; returns the bound port and the running server.
/// Binds `server.host:server.port` (before the core starts, so an ephemeral port is known to
/// the public URL).
fn bind_http(settings: &Settings) -> anyhow::Result<(u16, TcpListener)> {
    let (host, port) = (settings.server.host.as_str(), settings.server.port);
    let listener =
        TcpListener::bind((host, port)).with_context(|| format!("binding {host}:{port}"))?;
    Ok((listener.local_addr()?.port(), listener))
}

/// The base URL Retell reaches us at: `server.public_url`, else in sandbox mode the bound
/// loopback address.
fn public_url(settings: &Settings, port: u16) -> Option<String> {
    let configured = settings.server.public_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return Some(configured.to_owned());
    }
    settings
        .sandbox
        .enabled
        .then(|| format!("http://{}:{port}", settings.server.host))
}

/// The `/mcp` endpoint over the core's registry (`None` with `mcp.enabled = false`).
///
/// # Errors
/// When the registry maps two methods to one tool name, or to one no client accepts.
fn mcp_mount(
    settings: &Settings,
    port: u16,
    core: &Core,
    store: &Arc<dyn Store>,
    cache: &AnyCache,
) -> anyhow::Result<Option<crate::mcp::McpMount>> {
    if !settings.mcp.enabled {
        return Ok(None);
    }
    let catalog = crate::mcp::tools::ToolCatalog::new(&core.methods).context("MCP tool list")?;
    let server =
        crate::mcp::handler::McpServer::new(catalog, core.router.clone(), Arc::clone(store));
    let access = crate::mcp::McpAccess::new(settings, public_url(settings, port));
    let redis = match cache {
        AnyCache::Redis(redis) => Some(redis.clone()),
        AnyCache::Moka(_) => None,
    };
    Ok(Some(crate::mcp::McpMount::new(server, access, redis)))
}

fn serve_http(
    settings: &Settings,
    listener: TcpListener,
    state: AppState,
    mcp: Option<crate::mcp::McpMount>,
) -> anyhow::Result<Server> {
    let max_body = settings.server.max_body_bytes;
    let body_timeout = BodyReadTimeout(Duration::from_millis(settings.server.body_read_timeout_ms));
    let keep_alive = match settings.server.keep_alive_ms {
        0 => KeepAlive::Disabled,
        ms => KeepAlive::Timeout(Duration::from_millis(ms)),
    };
    let admin = settings.admin.clone();
    let mut server = HttpServer::new(move || {
        // Called on each worker's thread as it starts: the worker gets a JSON-RPC plane of its
        // own (router and stateless servers on this thread, switchboard_actors::plane), so a
        // gateway call never waits for another thread to wake.
        let mut state = state.clone();
        state.core.router = state.core.plane.start();
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(body_timeout)
            .wrap(from_fn(http::body_timeout::middleware))
            .wrap(from_fn(http::metrics::middleware))
            .wrap(from_fn(http::request_id::middleware))
            .configure(http::routes)
            .configure(|cfg| {
                if let Some(mcp) = &mcp {
                    mcp.configure(cfg);
                }
            })
            .configure(|cfg| crate::admin::configure(cfg, &state, &admin))
    })
    // Streamed answers (the SSE of an MCP session) go out in several small writes; with
    // Nagle's algorithm against the client's delayed ACK each took ~40 ms on loopback.
    .on_connect(|conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>()
            && let Err(e) = tcp.set_nodelay(true)
        {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    })
    .client_request_timeout(Duration::from_millis(
        settings.server.client_request_timeout_ms,
    ))
    .client_disconnect_timeout(Duration::from_millis(
        settings.server.client_disconnect_timeout_ms,
    ))
    .keep_alive(keep_alive)
    .listen(listener)?
    .shutdown_timeout(settings.server.shutdown_timeout_s);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let env: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load_from(None, env).unwrap()
    }

    /// Issue 10, finding 5: sandbox mode served the public demo key on any address.
    #[test]
    fn sandbox_refuses_a_public_bind_address() {
        for host in ["0.0.0.0", "10.0.0.1", "::", "example.com"] {
            let err = refuse_public_sandbox(&settings(&[("SWITCHBOARD__SERVER__HOST", host)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("SWITCHBOARD__SERVER__HOST=127.0.0.1"),
                "{host}: {err}"
            );
            assert!(
                err.contains("SWITCHBOARD__SANDBOX__ENABLED=false"),
                "{host}: {err}"
            );
        }
    }

    #[test]
    fn sandbox_serves_loopback_and_production_any_address() {
        for host in ["127.0.0.1", "127.0.0.2", "::1", "localhost"] {
            assert!(
                refuse_public_sandbox(&settings(&[("SWITCHBOARD__SERVER__HOST", host)])).is_ok(),
                "{host}"
            );
        }
        let production = settings(&[
            ("SWITCHBOARD__SERVER__HOST", "0.0.0.0"),
            ("SWITCHBOARD__SANDBOX__ENABLED", "false"),
        ]);
        assert!(refuse_public_sandbox(&production).is_ok());
    }
}
