//! `retell.healthCheck`: the company's Retell breaker and settings, and — only while the
//! breaker lets calls through — one read of its agent through the breaker.

use super::{CompanyParams, RetellDeps};
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::resilience::BreakerState;
use crate::retell::api::PageRequest;
use crate::server::require_company;
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::sync::Arc;
use tokio::time::Instant;

/// `retell.healthCheck`.
pub struct HealthCheck;

/// Overall verdict of `retell.healthCheck`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Key and agent configured, breaker closed, Retell answered.
    Healthy,
    /// Retell answered, but the breaker is half-open or no agent is configured.
    Degraded,
    /// No key, breaker open, or Retell did not answer.
    Unhealthy,
}

/// State of the company's Retell circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Circuit {
    /// Calls pass.
    Closed,
    /// Calls are refused at once (-32004) until `retry_after_s`.
    Open,
    /// Probe calls pass.
    HalfOpen,
}

/// The probe's outcome.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Probe {
    /// Whether Retell answered.
    pub ok: bool,
    /// Time the probe took, milliseconds.
    pub latency_ms: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// `result.data` of `retell.healthCheck`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RetellHealth {
    /// Overall verdict.
    pub status: Health,
    /// The company's Retell circuit breaker.
    pub breaker: Circuit,
    /// While open: seconds until it lets a probe through.
    pub retry_after_s: Option<u64>,
    /// Whether the company has a Retell API key.
    pub key_configured: bool,
    /// The company's agent (`retell.agent_id`); `None`: not configured.
    pub agent_id: Option<String>,
    /// One read of the agent (of the agent list when none is configured) through the
    /// breaker; `None` when no key is set or the breaker is open (nothing was sent).
    pub probe: Option<Probe>,
}

impl Method for HealthCheck {
    const NAME: &'static str = "retell.healthCheck";
    const SUMMARY: &'static str = "Health of the company's Retell connection: the state of its \
        Retell circuit breaker (closed, open with seconds until retry, half_open), whether a \
        key and an agent are configured, and — unless the breaker is open or no key is set, \
        when nothing is sent — one read of the agent through the breaker with its latency in \
        ms. `status` healthy, degraded or unhealthy.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = CompanyParams;
    type Output = RetellHealth;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<RetellHealth>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.handles(company).await?;
        let key_configured = !tenant.profile.retell_api_key.expose_secret().is_empty();
        let agent_id = tenant.profile.retell_agent_id.clone();
        let (breaker, retry_after_s) = match tenant.retell.state() {
            BreakerState::Closed => (Circuit::Closed, None),
            BreakerState::HalfOpen => (Circuit::HalfOpen, None),
            BreakerState::Open { retry_after } => (Circuit::Open, Some(retry_after.as_secs())),
        };
        let probe = if key_configured && breaker != Circuit::Open {
            let started = Instant::now();
            let answer = match &agent_id {
                Some(agent) => tenant.retell.get_agent(agent, None).await.map(drop),
                None => tenant
                    .retell
                    .list_agents(PageRequest::first(1))
                    .await
                    .map(drop),
            };
            Some(Probe {
                ok: answer.is_ok(),
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                error: answer.err().map(|e| e.to_string()),
            })
        } else {
            None
        };
        let status = match (&probe, breaker, &agent_id) {
            (Some(Probe { ok: true, .. }), Circuit::Closed, Some(_)) => Health::Healthy,
            (Some(Probe { ok: true, .. }), _, _) => Health::Degraded,
            _ => Health::Unhealthy,
        };
        Reply::fresh(RetellHealth {
            status,
            breaker,
            retry_after_s,
            key_configured,
            agent_id,
            probe,
        })
    }
}
