//! [`RetellBreaker`]: fronts the Retell API for one company's API key, composed like the
//! Cal.com [`Breaker`](super::Breaker) (timeout inside the circuit, retries outside it, the
//! `[resilience.retell]` policy). State-changing operations (updates, publish) get one
//! attempt; reads are retried, and a 429's `Retry-After` sets the wait. [`RetellHandle`] is
//! its typed front.

use super::UpstreamPolicy;
use super::compose::{OpInfo, run_with_retries, through_circuit};
use super::metrics::TransitionMetrics;
use crate::domain::booking::UpstreamError;
use crate::domain::ids::CompanyId;
use crate::ports::RetellApi;
use crate::resilience::{BreakerState, CircuitBreaker, RetryBudget};
use crate::retell::api::{
    Agent, AgentSummary, AgentUpdate, AgentVersion, CallObject, CallQuery, LlmUpdate, Page,
    PageRequest, PhoneNumberUpdate, RetellLlm, RetellPhoneNumber,
};
use crate::supervision::{RestartBudget, guard};
use actix::prelude::*;
use secrecy::SecretString;
use std::sync::Arc;

/// Upstream label of Retell in errors and metrics.
pub const RETELL: &str = "retell";

/// One Retell API operation (reference/retell.md §4.3).
#[derive(Debug, Clone)]
pub enum RetellOp {
    /// `POST /v2/list-agents`.
    ListAgents(PageRequest),
    /// `GET /get-agent/{agent_id}?version=`.
    GetAgent(String, Option<i64>),
    /// `GET /list-agent-versions/{agent_id}`.
    ListAgentVersions(String, PageRequest),
    /// `PATCH /update-agent/{agent_id}`. One attempt.
    UpdateAgent(String, AgentUpdate),
    /// `POST /publish-agent-version/{agent_id}`. One attempt.
    PublishAgentVersion(String, i64),
    /// `GET /get-retell-llm/{llm_id}?version=`.
    GetLlm(String, Option<i64>),
    /// `PATCH /update-retell-llm/{llm_id}`. One attempt.
    UpdateLlm(String, LlmUpdate),
    /// `GET /v2/list-phone-numbers`.
    ListPhoneNumbers(PageRequest),
    /// `PATCH /update-phone-number/{phone_number}`. One attempt.
    UpdatePhoneNumber(String, PhoneNumberUpdate),
    /// `POST /v3/list-calls`.
    ListCalls(CallQuery),
    /// `GET /v2/get-call/{call_id}`.
    GetCall(String),
}

impl RetellOp {
    fn name(&self) -> &'static str {
        match self {
            Self::ListAgents(_) => "listAgents",
            Self::GetAgent(..) => "getAgent",
            Self::ListAgentVersions(..) => "listAgentVersions",
            Self::UpdateAgent(..) => "updateAgent",
            Self::PublishAgentVersion(..) => "publishAgentVersion",
            Self::GetLlm(..) => "getRetellLlm",
            Self::UpdateLlm(..) => "updateRetellLlm",
            Self::ListPhoneNumbers(_) => "listPhoneNumbers",
            Self::UpdatePhoneNumber(..) => "updatePhoneNumber",
            Self::ListCalls(_) => "listCalls",
            Self::GetCall(_) => "getCall",
        }
    }

    /// Whether repeating it after a lost answer could change more than once (updates are
    /// idempotent on Retell's side, but a retried update racing an operator's edit is not).
    fn changes_state(&self) -> bool {
        matches!(
            self,
            Self::UpdateAgent(..)
                | Self::PublishAgentVersion(..)
                | Self::UpdateLlm(..)
                | Self::UpdatePhoneNumber(..)
        )
    }
}

/// Result of a [`RetellOp`].
#[derive(Debug, Clone)]
pub enum RetellOut {
    /// [`RetellOp::ListAgents`].
    Agents(Page<AgentSummary>),
    /// [`RetellOp::GetAgent`], [`RetellOp::UpdateAgent`].
    Agent(Box<Agent>),
    /// [`RetellOp::ListAgentVersions`].
    Versions(Page<AgentVersion>),
    /// [`RetellOp::PublishAgentVersion`].
    Published,
    /// [`RetellOp::GetLlm`], [`RetellOp::UpdateLlm`].
    Llm(Box<RetellLlm>),
    /// [`RetellOp::ListPhoneNumbers`].
    PhoneNumbers(Page<RetellPhoneNumber>),
    /// [`RetellOp::UpdatePhoneNumber`].
    PhoneNumber(Box<RetellPhoneNumber>),
    /// [`RetellOp::ListCalls`].
    Calls(Page<CallObject>),
    /// [`RetellOp::GetCall`].
    Call(Box<CallObject>),
}

/// Message: run one Retell operation through the breaker.
#[derive(Debug, Message)]
#[rtype(result = "Result<RetellOut, UpstreamError>")]
pub struct RetellRequest(pub RetellOp);

/// Breaker for Retell with one company's API key.
pub struct RetellBreaker {
    api: Arc<dyn RetellApi>,
    key: SecretString,
    circuit: CircuitBreaker,
    policy: UpstreamPolicy,
    retries: RetryBudget,
    budget: RestartBudget,
}

impl RetellBreaker {
    /// A closed breaker for `company` using `key`; `retries` is Retell's budget shared by
    /// every company.
    pub fn new(
        api: Arc<dyn RetellApi>,
        key: SecretString,
        company: CompanyId,
        policy: UpstreamPolicy,
        retries: RetryBudget,
        budget: RestartBudget,
    ) -> Self {
        let observer = TransitionMetrics::closed(RETELL, company);
        Self {
            api,
            key,
            circuit: CircuitBreaker::with_observer(policy.breaker, Arc::new(observer)),
            policy,
            retries,
            budget,
        }
    }

    /// The circuit, for reading its state.
    pub fn circuit(&self) -> CircuitBreaker {
        self.circuit.clone()
    }
}

impl Actor for RetellBreaker {
    type Context = Context<Self>;
}

impl Supervised for RetellBreaker {}

crate::guarded_actor!(RetellBreaker, "retell_breaker");

async fn run(
    api: Arc<dyn RetellApi>,
    key: SecretString,
    op: RetellOp,
) -> Result<RetellOut, UpstreamError> {
    let key = &key;
    Ok(match op {
        RetellOp::ListAgents(p) => RetellOut::Agents(api.list_agents(key, &p).await?),
        RetellOp::GetAgent(id, v) => RetellOut::Agent(Box::new(api.get_agent(key, &id, v).await?)),
        RetellOp::ListAgentVersions(id, p) => {
            RetellOut::Versions(api.list_agent_versions(key, &id, &p).await?)
        }
        RetellOp::UpdateAgent(id, u) => {
            RetellOut::Agent(Box::new(api.update_agent(key, &id, &u).await?))
        }
        RetellOp::PublishAgentVersion(id, v) => {
            api.publish_agent_version(key, &id, v).await?;
            RetellOut::Published
        }
        RetellOp::GetLlm(id, v) => RetellOut::Llm(Box::new(api.get_llm(key, &id, v).await?)),
        RetellOp::UpdateLlm(id, u) => RetellOut::Llm(Box::new(api.update_llm(key, &id, &u).await?)),
        RetellOp::ListPhoneNumbers(p) => {
            RetellOut::PhoneNumbers(api.list_phone_numbers(key, &p).await?)
        }
        RetellOp::UpdatePhoneNumber(n, u) => {
            RetellOut::PhoneNumber(Box::new(api.update_phone_number(key, &n, &u).await?))
        }
        RetellOp::ListCalls(q) => RetellOut::Calls(api.list_calls(key, &q).await?),
        RetellOp::GetCall(id) => RetellOut::Call(Box::new(api.get_call(key, &id).await?)),
    })
}

impl Handler<RetellRequest> for RetellBreaker {
    type Result = ResponseFuture<Result<RetellOut, UpstreamError>>;

    fn handle(
        &mut self,
        RetellRequest(op): RetellRequest,
        ctx: &mut Self::Context,
    ) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let api = Arc::clone(&this.api);
                let key = this.key.clone();
                let circuit = this.circuit.clone();
                let policy = this.policy;
                let retries = this.retries.clone();
                async move {
                    let info = OpInfo {
                        service: RETELL,
                        name: op.name(),
                        retry: !op.changes_state(),
                    };
                    run_with_retries(info, &policy, &retries, || {
                        through_circuit(
                            RETELL,
                            &circuit,
                            policy.call_timeout,
                            run(Arc::clone(&api), key.clone(), op.clone()),
                        )
                    })
                    .await
                }
            },
            |m| {
                Err(UpstreamError::Transport {
                    service: RETELL,
                    message: format!("breaker failed: {m}"),
                })
            },
        )
    }
}

/// Typed front of a [`RetellBreaker`] address, with a read-only view of its circuit.
#[derive(Clone)]
pub struct RetellHandle {
    addr: Addr<RetellBreaker>,
    circuit: CircuitBreaker,
}

macro_rules! expect_out {
    ($out:expr, $variant:ident) => {
        match $out {
            RetellOut::$variant(v) => Ok(v),
            other => unreachable!(
                "retell breaker answered {other:?} to a {} call",
                stringify!($variant)
            ),
        }
    };
}

impl RetellHandle {
    /// Wraps the address of a running breaker.
    pub fn new(addr: Addr<RetellBreaker>, circuit: CircuitBreaker) -> Self {
        Self { addr, circuit }
    }

    /// The circuit breaker's current state (never changes it).
    pub fn state(&self) -> BreakerState {
        self.circuit.state()
    }

    async fn call(&self, op: RetellOp) -> Result<RetellOut, UpstreamError> {
        self.addr
            .send(RetellRequest(op))
            .await
            .map_err(|e| UpstreamError::Transport {
                service: RETELL,
                message: format!("breaker actor unavailable: {e}"),
            })?
    }

    /// One page of the key's agents.
    pub async fn list_agents(
        &self,
        page: PageRequest,
    ) -> Result<Page<AgentSummary>, UpstreamError> {
        expect_out!(self.call(RetellOp::ListAgents(page)).await?, Agents)
    }

    /// One agent version (`None`: the latest).
    pub async fn get_agent(
        &self,
        agent_id: &str,
        version: Option<i64>,
    ) -> Result<Agent, UpstreamError> {
        expect_out!(
            self.call(RetellOp::GetAgent(agent_id.to_owned(), version))
                .await?,
            Agent
        )
        .map(|a| *a)
    }

    /// One page of an agent's versions.
    pub async fn list_agent_versions(
        &self,
        agent_id: &str,
        page: PageRequest,
    ) -> Result<Page<AgentVersion>, UpstreamError> {
        expect_out!(
            self.call(RetellOp::ListAgentVersions(agent_id.to_owned(), page))
                .await?,
            Versions
        )
    }

    /// Changes the agent's latest draft (one attempt).
    pub async fn update_agent(
        &self,
        agent_id: &str,
        update: AgentUpdate,
    ) -> Result<Agent, UpstreamError> {
        expect_out!(
            self.call(RetellOp::UpdateAgent(agent_id.to_owned(), update))
                .await?,
            Agent
        )
        .map(|a| *a)
    }

    /// Publishes draft `version` (one attempt).
    pub async fn publish_agent_version(
        &self,
        agent_id: &str,
        version: i64,
    ) -> Result<(), UpstreamError> {
        match self
            .call(RetellOp::PublishAgentVersion(agent_id.to_owned(), version))
            .await?
        {
            RetellOut::Published => Ok(()),
            other => unreachable!("retell breaker answered {other:?} to a publish call"),
        }
    }

    /// One LLM version (`None`: the latest).
    pub async fn get_llm(
        &self,
        llm_id: &str,
        version: Option<i64>,
    ) -> Result<RetellLlm, UpstreamError> {
        expect_out!(
            self.call(RetellOp::GetLlm(llm_id.to_owned(), version))
                .await?,
            Llm
        )
        .map(|l| *l)
    }

    /// Changes the LLM (one attempt).
    pub async fn update_llm(
        &self,
        llm_id: &str,
        update: LlmUpdate,
    ) -> Result<RetellLlm, UpstreamError> {
        expect_out!(
            self.call(RetellOp::UpdateLlm(llm_id.to_owned(), update))
                .await?,
            Llm
        )
        .map(|l| *l)
    }

    /// One page of the account's numbers.
    pub async fn list_phone_numbers(
        &self,
        page: PageRequest,
    ) -> Result<Page<RetellPhoneNumber>, UpstreamError> {
        expect_out!(
            self.call(RetellOp::ListPhoneNumbers(page)).await?,
            PhoneNumbers
        )
    }

    /// Changes a number (one attempt).
    pub async fn update_phone_number(
        &self,
        phone_number: &str,
        update: PhoneNumberUpdate,
    ) -> Result<RetellPhoneNumber, UpstreamError> {
        expect_out!(
            self.call(RetellOp::UpdatePhoneNumber(phone_number.to_owned(), update))
                .await?,
            PhoneNumber
        )
        .map(|n| *n)
    }

    /// One page of calls, newest first.
    pub async fn list_calls(&self, query: CallQuery) -> Result<Page<CallObject>, UpstreamError> {
        expect_out!(self.call(RetellOp::ListCalls(query)).await?, Calls)
    }

    /// One call with its transcripts.
    pub async fn get_call(&self, call_id: &str) -> Result<CallObject, UpstreamError> {
        expect_out!(
            self.call(RetellOp::GetCall(call_id.to_owned())).await?,
            Call
        )
        .map(|c| *c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::ErrorAnswer;
    use crate::retell::fake::{FakeRetell, agent, llm};
    use crate::test_clock::paused_system;

    const KEY: &str = "key_test";

    fn handle(fake: &Arc<FakeRetell>, key: &str) -> RetellHandle {
        let breaker = RetellBreaker::new(
            Arc::clone(fake) as Arc<dyn RetellApi>,
            SecretString::from(key),
            CompanyId(1),
            UpstreamPolicy::default(),
            RetryBudget::default(),
            RestartBudget::new(10, std::time::Duration::from_secs(60)),
        );
        let circuit = breaker.circuit();
        RetellHandle::new(breaker.start(), circuit)
    }

    fn server_error() -> UpstreamError {
        UpstreamError::ServerError {
            service: RETELL,
            answer: ErrorAnswer {
                status: 500,
                code: None,
                message: "An unexpected server error occurred.".into(),
            },
            retry_after: None,
        }
    }

    fn account() -> Arc<FakeRetell> {
        let fake = Arc::new(FakeRetell::new(KEY));
        {
            let mut account = fake.account.lock().unwrap();
            account.agents.push(agent("agent_a", "llm_a"));
            account.llms.push(llm("llm_a"));
        }
        fake
    }

    #[test]
    fn retell_breaker_opens_after_consecutive_failures_and_then_sends_nothing() {
        paused_system().block_on(async {
            let fake = account();
            fake.account.lock().unwrap().failure = Some(server_error());
            let retell = handle(&fake, KEY);
            for _ in 0..20 {
                if retell.state() != BreakerState::Closed {
                    break;
                }
                let _ = retell.get_agent("agent_a", None).await;
            }
            assert!(matches!(retell.state(), BreakerState::Open { .. }));
            fake.account.lock().unwrap().failure = None;
            let refused = retell.get_agent("agent_a", None).await.unwrap_err();
            assert!(
                matches!(
                    refused,
                    UpstreamError::CircuitOpen {
                        service: RETELL,
                        ..
                    }
                ),
                "{refused:?}"
            );
        });
    }

    #[test]
    fn retell_refusal_of_the_key_does_not_open_the_breaker() {
        paused_system().block_on(async {
            let fake = account();
            let retell = handle(&fake, "key_wrong");
            for _ in 0..10 {
                let refused = retell.get_agent("agent_a", None).await.unwrap_err();
                assert!(matches!(refused, UpstreamError::Unauthorized { .. }));
            }
            assert_eq!(retell.state(), BreakerState::Closed);
        });
    }

    #[test]
    fn retell_updates_go_through_once_and_answer_the_new_state() {
        paused_system().block_on(async {
            let fake = account();
            let retell = handle(&fake, KEY);
            let update = AgentUpdate {
                webhook_url: Some("https://example.test/api/mcp/retell/webhook".into()),
                ..AgentUpdate::default()
            };
            let agent = retell.update_agent("agent_a", update).await.unwrap();
            assert_eq!(
                agent.webhook_url.as_deref(),
                Some("https://example.test/api/mcp/retell/webhook")
            );
            retell.publish_agent_version("agent_a", 0).await.unwrap();
            let versions = retell
                .list_agent_versions("agent_a", PageRequest::first(10))
                .await
                .unwrap();
            assert_eq!(versions.items.len(), 2, "publishing made a new draft");
            assert_eq!(fake.account.lock().unwrap().writes, 2);
        });
    }
}
