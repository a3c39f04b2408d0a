//! [`FakeRetell`]: an in-memory [`RetellApi`] for core tests — one account with agents (with
//! versions), Retell LLMs, phone numbers and calls, a switch that makes every call fail, and
//! counters of the changes made. Pagination is by index: `pagination_key` is the index of the
//! next item.

use crate::domain::booking::{ErrorAnswer, UpstreamError};
use crate::ports::RetellApi;
use crate::retell::api::{
    Agent, AgentSummary, AgentUpdate, AgentVersion, CallObject, CallQuery, LlmUpdate, Page,
    PageRequest, PhoneNumberUpdate, ResponseEngine, RetellLlm, RetellPhoneNumber,
};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Mutex;

/// The account's state.
#[derive(Default)]
pub(crate) struct Account {
    /// Every version of every agent, in creation order; the last of an agent is its latest.
    pub agents: Vec<Agent>,
    pub llms: Vec<RetellLlm>,
    pub numbers: Vec<RetellPhoneNumber>,
    /// Newest first, as `list-calls` answers.
    pub calls: Vec<CallObject>,
    /// Changes made: agent, LLM and number updates, publishes.
    pub writes: usize,
    /// When set, every call fails with it.
    pub failure: Option<UpstreamError>,
    /// Requests received, failed ones included.
    pub requests: usize,
    /// When set, number updates fail with it (everything else answers): a write failing
    /// part-way through a deploy.
    pub number_update_failure: Option<UpstreamError>,
}

/// An in-memory Retell account; only `key` is accepted.
pub(crate) struct FakeRetell {
    pub key: String,
    pub account: Mutex<Account>,
}

/// A `retell-llm` agent `agent_id` (version 0, draft) on LLM `llm_id`.
pub(crate) fn agent(agent_id: &str, llm_id: &str) -> Agent {
    Agent {
        agent_id: agent_id.into(),
        version: 0,
        is_published: false,
        agent_name: Some(format!("{agent_id} name")),
        response_engine: ResponseEngine::RetellLlm {
            llm_id: llm_id.into(),
            version: None,
        },
        webhook_url: None,
        webhook_events: None,
        webhook_timeout_ms: None,
        language: Some("de-DE".into()),
        last_modification_timestamp: 1_764_000_000_000,
        extra: serde_json::Map::new(),
    }
}

/// An LLM `llm_id` without tools.
pub(crate) fn llm(llm_id: &str) -> RetellLlm {
    RetellLlm {
        llm_id: llm_id.into(),
        version: Some(0),
        is_published: Some(false),
        general_tools: Vec::new(),
        last_modification_timestamp: Some(1_764_000_000_000),
        extra: serde_json::Map::new(),
    }
}

fn not_found(what: &str) -> UpstreamError {
    UpstreamError::NotFound {
        service: "retell",
        answer: ErrorAnswer {
            status: 422,
            code: None,
            message: format!("Cannot find requested asset under given api key: {what}"),
        },
    }
}

fn page<T: Clone>(items: &[T], page: &PageRequest) -> Page<T> {
    let start: usize = page
        .pagination_key
        .as_deref()
        .and_then(|k| k.parse().ok())
        .unwrap_or(0);
    let end = start.saturating_add(page.limit as usize).min(items.len());
    Page {
        items: items.get(start..end).unwrap_or_default().to_vec(),
        next: (end < items.len()).then(|| end.to_string()),
    }
}

impl FakeRetell {
    /// An empty account answering to `key`.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.into(),
            account: Mutex::new(Account::default()),
        }
    }

    fn open(
        &self,
        key: &SecretString,
    ) -> Result<std::sync::MutexGuard<'_, Account>, UpstreamError> {
        let mut account = self.account.lock().unwrap();
        account.requests += 1;
        if let Some(e) = &account.failure {
            return Err(e.clone());
        }
        if key.expose_secret() != self.key {
            return Err(UpstreamError::Unauthorized {
                service: "retell",
                answer: ErrorAnswer {
                    status: 401,
                    code: None,
                    message: "API key is missing or invalid.".into(),
                },
            });
        }
        Ok(account)
    }
}

fn latest<'a>(account: &'a Account, agent_id: &str) -> Option<&'a Agent> {
    account.agents.iter().rev().find(|a| a.agent_id == agent_id)
}

#[async_trait]
impl RetellApi for FakeRetell {
    async fn list_agents(
        &self,
        key: &SecretString,
        request: &PageRequest,
    ) -> Result<Page<AgentSummary>, UpstreamError> {
        let account = self.open(key)?;
        let mut summaries: Vec<AgentSummary> = Vec::new();
        for a in &account.agents {
            if !summaries.iter().any(|s| s.agent_id == a.agent_id) {
                summaries.push(AgentSummary {
                    agent_id: a.agent_id.clone(),
                    agent_name: a.agent_name.clone(),
                    channel: Some("voice".into()),
                    is_suspended: Some(false),
                    user_modified_timestamp: Some(a.last_modification_timestamp),
                });
            }
        }
        Ok(page(&summaries, request))
    }

    async fn get_agent(
        &self,
        key: &SecretString,
        agent_id: &str,
        version: Option<i64>,
    ) -> Result<Agent, UpstreamError> {
        let account = self.open(key)?;
        let found = match version {
            None => latest(&account, agent_id),
            Some(v) => account
                .agents
                .iter()
                .find(|a| a.agent_id == agent_id && a.version == v),
        };
        found.cloned().ok_or_else(|| not_found(agent_id))
    }

    async fn list_agent_versions(
        &self,
        key: &SecretString,
        agent_id: &str,
        request: &PageRequest,
    ) -> Result<Page<AgentVersion>, UpstreamError> {
        let account = self.open(key)?;
        let versions: Vec<AgentVersion> = account
            .agents
            .iter()
            .filter(|a| a.agent_id == agent_id)
            .map(|a| AgentVersion {
                version: a.version,
                is_published: a.is_published,
                last_modification_timestamp: a.last_modification_timestamp,
                base_version: None,
                version_title: None,
            })
            .collect();
        if versions.is_empty() {
            return Err(not_found(agent_id));
        }
        Ok(page(&versions, request))
    }

    async fn update_agent(
        &self,
        key: &SecretString,
        agent_id: &str,
        update: &AgentUpdate,
    ) -> Result<Agent, UpstreamError> {
        let mut account = self.open(key)?;
        let draft = account
            .agents
            .iter_mut()
            .rev()
            .find(|a| a.agent_id == agent_id)
            .ok_or_else(|| not_found(agent_id))?;
        if let Some(v) = &update.agent_name {
            draft.agent_name = Some(v.clone());
        }
        if let Some(v) = &update.webhook_url {
            draft.webhook_url = Some(v.clone());
        }
        if let Some(v) = &update.webhook_events {
            draft.webhook_events = Some(v.clone());
        }
        if let Some(v) = update.webhook_timeout_ms {
            draft.webhook_timeout_ms = Some(v);
        }
        if let Some(v) = &update.language {
            draft.language = Some(v.clone());
        }
        let agent = draft.clone();
        account.writes += 1;
        Ok(agent)
    }

    async fn publish_agent_version(
        &self,
        key: &SecretString,
        agent_id: &str,
        version: i64,
    ) -> Result<(), UpstreamError> {
        let mut account = self.open(key)?;
        let agent = account
            .agents
            .iter_mut()
            .find(|a| a.agent_id == agent_id && a.version == version)
            .ok_or_else(|| not_found(agent_id))?;
        agent.is_published = true;
        let mut draft = agent.clone();
        draft.version += 1;
        draft.is_published = false;
        account.agents.push(draft);
        account.writes += 1;
        Ok(())
    }

    async fn get_llm(
        &self,
        key: &SecretString,
        llm_id: &str,
        _version: Option<i64>,
    ) -> Result<RetellLlm, UpstreamError> {
        let account = self.open(key)?;
        account
            .llms
            .iter()
            .find(|l| l.llm_id == llm_id)
            .cloned()
            .ok_or_else(|| not_found(llm_id))
    }

    async fn update_llm(
        &self,
        key: &SecretString,
        llm_id: &str,
        update: &LlmUpdate,
    ) -> Result<RetellLlm, UpstreamError> {
        let mut account = self.open(key)?;
        let llm = account
            .llms
            .iter_mut()
            .find(|l| l.llm_id == llm_id)
            .ok_or_else(|| not_found(llm_id))?;
        if let Some(tools) = &update.general_tools {
            llm.general_tools = tools.clone();
        }
        let llm = llm.clone();
        account.writes += 1;
        Ok(llm)
    }

    async fn list_phone_numbers(
        &self,
        key: &SecretString,
        request: &PageRequest,
    ) -> Result<Page<RetellPhoneNumber>, UpstreamError> {
        let account = self.open(key)?;
        Ok(page(&account.numbers, request))
    }

    async fn update_phone_number(
        &self,
        key: &SecretString,
        phone_number: &str,
        update: &PhoneNumberUpdate,
    ) -> Result<RetellPhoneNumber, UpstreamError> {
        let mut account = self.open(key)?;
        if let Some(e) = &account.number_update_failure {
            return Err(e.clone());
        }
        let number = account
            .numbers
            .iter_mut()
            .find(|n| n.phone_number == phone_number)
            .ok_or_else(|| not_found(phone_number))?;
        if let Some(agents) = &update.inbound_agents {
            number.inbound_agents = agents.clone();
        }
        if let Some(url) = &update.inbound_webhook_url {
            number.inbound_webhook_url = Some(url.clone());
        }
        let number = number.clone();
        account.writes += 1;
        Ok(number)
    }

    async fn list_calls(
        &self,
        key: &SecretString,
        query: &CallQuery,
    ) -> Result<Page<CallObject>, UpstreamError> {
        let account = self.open(key)?;
        let calls: Vec<CallObject> = account
            .calls
            .iter()
            .filter(|c| {
                query.agent_ids.is_empty()
                    || c.call
                        .agent_id
                        .as_ref()
                        .is_some_and(|a| query.agent_ids.contains(a))
            })
            .filter(|c| {
                let start = c.call.start_timestamp.unwrap_or(0);
                query.start_after_ms.is_none_or(|t| start >= t)
                    && query.start_before_ms.is_none_or(|t| start <= t)
            })
            .cloned()
            .collect();
        let request = query.page.clone().unwrap_or_else(|| PageRequest::first(50));
        Ok(page(&calls, &request))
    }

    async fn get_call(
        &self,
        key: &SecretString,
        call_id: &str,
    ) -> Result<CallObject, UpstreamError> {
        let account = self.open(key)?;
        account
            .calls
            .iter()
            .find(|c| c.call.call_id.as_str() == call_id)
            .cloned()
            .ok_or_else(|| not_found(call_id))
    }
}
