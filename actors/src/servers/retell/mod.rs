//! `RetellServer`: the `retell.*` JSON-RPC methods — the company's Retell agent (read, change,
//! publish, versions), its calls (recent, one, statistics, import into our records), its phone
//! numbers compared with our branches and bound to an agent version, and checks of the
//! connection. One file per method, listed once in `method_list!` below.
//!
//! Every method acts on one company (`require_company`) through that company's own Retell key,
//! and only on what is the company's: its agent (`retell.agent_id`; another agent id is
//! -32002), calls of that agent (another call is not found, like an unknown one), and its
//! branch numbers. Calls go through the company's Retell breaker, except `testConnection`,
//! whose failures must not open it. Upstream failures map to DESIGN §5 codes in
//! [`retell_error`].

use crate::breaker::RetellHandle;
use crate::domain::booking::UpstreamError;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::ports::{Clock, RetellRecordStore, Store};
use crate::registry::{MethodSpec, MethodTable};
use crate::retell::api::{CallObject, CallQuery, PageRequest, WEBHOOK_EVENTS};
use crate::servers::tenant_error;
use crate::supervision::RestartBudget;
use crate::tenant::{GetTenant, TenantDirectory, TenantHandle};
use actix::prelude::*;
use chrono::{DateTime, Duration as Days, Utc};
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::sync::Arc;
use url::{Host, Url};

pub mod get_agent;
pub mod get_agent_versions;
pub mod get_call_details;
pub mod get_call_stats;
pub mod get_recent_calls;
pub mod health_check;
pub mod import_calls;
pub mod list_agents;
pub mod publish_agent_version;
pub mod set_phone_number_agent_version;
pub mod sync_phone_numbers;
pub mod test_connection;
pub mod update_agent;

#[cfg(test)]
mod tests;

crate::method_list!(RetellDeps:
    get_agent::GetAgent,
    list_agents::ListAgents,
    get_agent_versions::GetAgentVersions,
    update_agent::UpdateAgent,
    publish_agent_version::PublishAgentVersion,
    get_call_stats::GetCallStats,
    get_recent_calls::GetRecentCalls,
    get_call_details::GetCallDetails,
    import_calls::ImportCalls,
    sync_phone_numbers::SyncPhoneNumbers,
    set_phone_number_agent_version::SetPhoneNumberAgentVersion,
    test_connection::TestConnection,
    health_check::HealthCheck,
);

/// Most items one `retell.*` list method answers per page.
pub const MAX_PAGE: u32 = 100;

/// Items asked of Retell per page when a method scans calls or numbers.
const SCAN_PAGE: u32 = 100;

/// Most pages one scan reads (statistics, import, number sync): with [`SCAN_PAGE`], at most
/// 2000 calls or numbers per method call, whatever window a client asks for. A scan that
/// stops here says `truncated`.
const MAX_SCAN_PAGES: u32 = 20;

/// Window of `getCallStats` and `importCalls` when `since` is left out: the last 7 days.
const DEFAULT_WINDOW_DAYS: i64 = 7;

/// What the `retell.*` methods need.
pub struct RetellDeps {
    /// Per-company Retell breakers, keys and agent ids.
    pub tenants: Addr<TenantDirectory>,
    /// Branch numbers, known calls, imported calls.
    pub records: Arc<dyn RetellRecordStore>,
    /// "Now", for the default window of statistics and imports.
    pub clock: Arc<dyn Clock>,
}

/// The `retell` server actor.
pub struct RetellServer {
    methods: MethodTable<RetellDeps>,
    deps: Arc<RetellDeps>,
    budget: RestartBudget,
}

impl RetellServer {
    /// A server calling Retell through `tenants`' breakers and recording into `store`.
    pub fn new(
        store: Arc<dyn Store>,
        tenants: Addr<TenantDirectory>,
        clock: Arc<dyn Clock>,
        budget: RestartBudget,
    ) -> Self {
        Self::with_deps(
            RetellDeps {
                records: store,
                tenants,
                clock,
            },
            budget,
        )
    }

    fn with_deps(deps: RetellDeps, budget: RestartBudget) -> Self {
        Self {
            methods: list().compile(),
            deps: Arc::new(deps),
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        list().specs()
    }
}

impl Actor for RetellServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
    }
}

impl Supervised for RetellServer {}

crate::guarded_actor!(RetellServer, "retell");
crate::method_server!(RetellServer);

/// Params of the methods that need nothing but the company.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
}

/// The Retell page a list method asks for: `limit` items (default 50, at most
/// [`MAX_PAGE`]) from `cursor` (`None`: the first page).
fn page_request(limit: Option<u32>, cursor: Option<String>) -> PageRequest {
    PageRequest {
        limit: limit.unwrap_or(50).clamp(1, MAX_PAGE),
        pagination_key: cursor,
    }
}

/// A window of call start times, UTC.
#[derive(Debug, Clone, Copy, serde::Serialize, JsonSchema)]
pub struct Window {
    /// First start time counted (UTC).
    pub since: DateTime<Utc>,
    /// Last start time counted (UTC).
    pub until: DateTime<Utc>,
}

/// The window of call start times from `since` and `until`, `until` defaulting to `now` and
/// `since` to 7 days before `until`.
///
/// # Errors
/// -32602 when `since` is after `until`.
fn window(
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Window, RpcError> {
    let until = until.unwrap_or(now);
    let since = since.unwrap_or(until - Days::days(DEFAULT_WINDOW_DAYS));
    if since > until {
        return Err(RpcError::invalid_params("since must not be after until"));
    }
    Ok(Window { since, until })
}

impl RetellDeps {
    /// The company's handles, whatever its Retell settings.
    async fn handles(&self, company: CompanyId) -> Result<TenantHandle, RpcError> {
        self.tenants
            .send(GetTenant(company))
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|e| tenant_error(&e))
    }

    /// The company's handles, its Retell key checked: 1001 naming where to set it when the
    /// company has none.
    async fn tenant(&self, company: CompanyId) -> Result<TenantHandle, RpcError> {
        let tenant = self.handles(company).await?;
        if tenant.profile.retell_api_key.expose_secret().is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRetellKey,
                format!(
                    "company {company} has no Retell API key: set it with \
                     company.setCredentials (retell_api_key) or in the tenant file \
                     (retell.api_key)"
                ),
            )
            .into());
        }
        Ok(tenant)
    }
}

/// The company's Retell agent: 1002 naming the setting when it has none.
fn agent_of(tenant: &TenantHandle) -> Result<String, RpcError> {
    tenant.profile.retell_agent_id.clone().ok_or_else(|| {
        AppError::new(
            ErrorCode::AgentNotFound,
            format!(
                "company {} has no Retell agent: set retell.agent_id in its tenant file",
                tenant.profile.id
            ),
        )
        .into()
    })
}

/// The agent a call names, defaulting to the company's: any other agent id is -32002, even
/// one the company's key could read, because the company's configuration names one agent.
fn own_agent(tenant: &TenantHandle, requested: Option<String>) -> Result<String, RpcError> {
    let agent = agent_of(tenant)?;
    match requested {
        Some(asked) if asked != agent => Err(AppError::new(
            ErrorCode::Forbidden,
            format!(
                "agent {asked:?} is not the Retell agent of company {}",
                tenant.profile.id
            ),
        )
        .into()),
        _ => Ok(agent),
    }
}

/// Maps a Retell failure to the JSON-RPC error of DESIGN §5: a refused key 1001; a missing
/// object `missing` (1002 for an agent, 1003 for a number); Retell unreachable, failing,
/// rate-limiting us, or its breaker open -32004 with `retry_after` (seconds, at least 1);
/// our own rate limit -32003; any other refusal -32602 with Retell's message.
pub fn retell_error(e: &UpstreamError, missing: ErrorCode) -> RpcError {
    let code = match e {
        UpstreamError::Unauthorized { .. } => ErrorCode::InvalidRetellKey,
        UpstreamError::NotFound { .. } => missing,
        UpstreamError::Transport { .. }
        | UpstreamError::RateLimited { .. }
        | UpstreamError::ServerError { .. }
        | UpstreamError::CircuitOpen { .. }
        | UpstreamError::Decode { .. } => ErrorCode::UpstreamUnavailable,
        UpstreamError::Throttled { .. } => ErrorCode::RateLimited,
        UpstreamError::SlotTaken { .. }
        | UpstreamError::SlotReserved { .. }
        | UpstreamError::Rejected { .. } => {
            return RpcError::invalid_params(e.to_string());
        }
    };
    let mut err = AppError::new(code, e.to_string());
    if matches!(
        code,
        ErrorCode::UpstreamUnavailable | ErrorCode::RateLimited
    ) {
        let after = e.retry_after().map_or(1, |d| d.as_secs().max(1));
        err = err.with_retry_after(after);
    }
    err.into()
}

/// 4004 unless `url` (when given) is an https URL, or an http URL of a loopback host, without
/// credentials, and every one of `events` (when given) is one of Retell's voice webhook events
/// ([`WEBHOOK_EVENTS`]). The check of `retell.updateAgent` and
/// `retell.config.updateWebhookSettings`.
pub fn check_webhook_settings(
    url: Option<&str>,
    events: Option<&[String]>,
) -> Result<(), RpcError> {
    let refuse = |message: String| -> RpcError {
        AppError::new(ErrorCode::SchemaValidationFailed, message).into()
    };
    if let Some(raw) = url {
        let bad = |why: &str| refuse(format!("webhook_url {raw:?}: {why}"));
        let parsed = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad("must not contain a user or password"));
        }
        let loopback = match parsed.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(bad("has no host")),
        };
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(bad("must be https (http only on a loopback host)")),
        }
    }
    let unknown: Vec<&str> = events
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .filter(|e| !WEBHOOK_EVENTS.contains(e))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::SchemaValidationFailed,
        format!(
            "unknown webhook events {unknown:?}; Retell's are {}",
            WEBHOOK_EVENTS.join(", ")
        ),
    )
    .with_details(serde_json::json!({"known": WEBHOOK_EVENTS}))
    .into())
}

/// Reads the calls of one agent in a window page by page, at most [`MAX_SCAN_PAGES`] pages,
/// through the company's breaker. Calls of any other agent (should Retell's filter let one
/// through) are dropped.
struct CallScan {
    agent: String,
    query: CallQuery,
    pages: u32,
    more: bool,
}

impl CallScan {
    fn new(agent: String, window: Window) -> Self {
        Self {
            query: CallQuery {
                agent_ids: vec![agent.clone()],
                start_after_ms: Some(window.since.timestamp_millis()),
                start_before_ms: Some(window.until.timestamp_millis()),
                page: Some(PageRequest::first(SCAN_PAGE)),
            },
            agent,
            pages: 0,
            more: true,
        }
    }

    /// The next page's calls of the agent; `None` after the last page or the cap.
    async fn next(&mut self, retell: &RetellHandle) -> Result<Option<Vec<CallObject>>, RpcError> {
        if !self.more || self.pages >= MAX_SCAN_PAGES {
            return Ok(None);
        }
        let page = retell
            .list_calls(self.query.clone())
            .await
            .map_err(|e| retell_error(&e, ErrorCode::AgentNotFound))?;
        self.pages += 1;
        self.more = page.next.is_some();
        self.query.page = Some(PageRequest {
            limit: SCAN_PAGE,
            pagination_key: page.next,
        });
        let agent = &self.agent;
        Ok(Some(
            page.items
                .into_iter()
                .filter(|c| c.call.agent_id.as_deref() == Some(agent))
                .collect(),
        ))
    }

    /// Whether the cap stopped the scan before Retell's last page.
    fn truncated(&self) -> bool {
        self.more
    }
}
