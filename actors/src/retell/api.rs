//! The Retell REST API as the core uses it: agents and their versions, Retell LLMs with their
//! tools, phone numbers and calls (reference/retell.md §4). Field names are Retell's
//! (snake_case), so these types are also what the `retell.*` methods answer; the adapter
//! (`src/retell/`) maps the wire to them and back. Timestamps are milliseconds since the Unix
//! epoch (UTC), as Retell sends them.

use crate::retell::call::RetellCall;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The voice events an agent's `webhook_events` may list (reference/retell.md §1.1).
pub const WEBHOOK_EVENTS: [&str; 8] = [
    "call_started",
    "call_ended",
    "call_analyzed",
    "transcript_updated",
    "transfer_started",
    "transfer_bridged",
    "transfer_cancelled",
    "transfer_ended",
];

/// Largest page Retell's list endpoints serve (`limit` 1..=1000, reference/retell.md §4.3).
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// Which page of a list endpoint to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page, 1..=[`MAX_PAGE_LIMIT`].
    pub limit: u32,
    /// Cursor from the previous page's [`Page::next`]; `None`: the first page.
    pub pagination_key: Option<String>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        Self {
            limit: limit.clamp(1, MAX_PAGE_LIMIT),
            pagination_key: None,
        }
    }
}

/// One page of a list endpoint (`{"items": [...], "has_more": bool, "pagination_key"?: str}`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Page<T> {
    /// The items of this page, in Retell's order.
    pub items: Vec<T>,
    /// Cursor of the next page when `has_more` was true; `None`: this was the last page.
    pub next: Option<String>,
}

/// An agent as `POST /v2/list-agents` lists it (summary, not the full agent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentSummary {
    /// `agent_…`.
    pub agent_id: String,
    /// Display name.
    #[serde(default)]
    pub agent_name: Option<String>,
    /// `voice` or `chat`.
    #[serde(default)]
    pub channel: Option<String>,
    /// Whether Retell suspended the agent.
    #[serde(default)]
    pub is_suspended: Option<bool>,
    /// Last change by a user, ms since the epoch.
    #[serde(default)]
    pub user_modified_timestamp: Option<i64>,
}

/// What answers an agent's calls (`response_engine`, reference/retell.md §4.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
pub enum ResponseEngine {
    /// A Retell LLM, whose `general_tools` hold our custom functions.
    #[serde(rename = "retell-llm")]
    RetellLlm {
        /// `llm_…`.
        llm_id: String,
        /// LLM version the agent version uses; `None`: latest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
    },
    /// The customer's own LLM over a websocket.
    #[serde(rename = "custom-llm")]
    CustomLlm {
        /// `wss://…`.
        llm_websocket_url: String,
    },
    /// A conversation flow (tools sit on its nodes; deploying to it is not supported).
    #[serde(rename = "conversation-flow")]
    ConversationFlow {
        /// Flow id.
        conversation_flow_id: String,
        /// Flow version; `None`: latest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
    },
}

/// A full agent version (`GET /get-agent/{agent_id}`, `AgentResponse`, reference/retell.md
/// §4.4), with the fields we read or show; Retell's other fields are kept in [`Agent::extra`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Agent {
    /// `agent_…`.
    pub agent_id: String,
    /// Version number of this agent version.
    pub version: i64,
    /// Whether this version is published (a draft when false).
    #[serde(default)]
    pub is_published: bool,
    /// Display name.
    #[serde(default)]
    pub agent_name: Option<String>,
    /// What answers the calls.
    pub response_engine: ResponseEngine,
    /// Where Retell posts the agent's webhooks; `None`: the account's default.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Events posted to `webhook_url` (`call_started`, `call_ended`, `call_analyzed`, …);
    /// `None`: Retell's default set.
    #[serde(default)]
    pub webhook_events: Option<Vec<String>>,
    /// Webhook timeout, ms (Retell's default 10000).
    #[serde(default)]
    pub webhook_timeout_ms: Option<u64>,
    /// Language code, e.g. `de-DE`.
    #[serde(default)]
    pub language: Option<String>,
    /// Last change, ms since the epoch.
    pub last_modification_timestamp: i64,
    /// Every other field of the agent as Retell sent it.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// One version of an agent as `GET /list-agent-versions/{agent_id}` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentVersion {
    /// Version number.
    pub version: i64,
    /// Whether it is published.
    pub is_published: bool,
    /// Last change, ms since the epoch.
    pub last_modification_timestamp: i64,
    /// The version it was made from.
    #[serde(default)]
    pub base_version: Option<i64>,
    /// Title given when published.
    #[serde(default)]
    pub version_title: Option<String>,
}

/// The agent fields `retell.updateAgent` and the deploy may change (`PATCH
/// /update-agent/{agent_id}`, applied to the latest draft). `None` fields are left as they
/// are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentUpdate {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Webhook URL (https, or http on loopback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Events posted to the webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_events: Option<Vec<String>>,
    /// Webhook timeout, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_timeout_ms: Option<u64>,
    /// Language code, e.g. `de-DE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A Retell LLM (`GET /get-retell-llm/{llm_id}`, reference/retell.md §3.3): its tools, with
/// the other fields kept in [`RetellLlm::extra`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RetellLlm {
    /// `llm_…`.
    pub llm_id: String,
    /// LLM version.
    #[serde(default)]
    pub version: Option<i64>,
    /// Whether this version is published.
    #[serde(default)]
    pub is_published: Option<bool>,
    /// Tools the LLM may call in every state, as Retell holds them (`type: "custom"` tools:
    /// reference/retell.md §3.3; other types are kept as they are).
    #[serde(default)]
    pub general_tools: Vec<Value>,
    /// Last change, ms since the epoch.
    #[serde(default)]
    pub last_modification_timestamp: Option<i64>,
    /// Every other field of the LLM as Retell sent it (prompt, model, states, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// The LLM fields the deploy changes (`PATCH /update-retell-llm/{llm_id}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LlmUpdate {
    /// The whole new tool list (Retell replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general_tools: Option<Vec<Value>>,
}

/// Which version of an agent a phone number routes to (`agent_version`: a number,
/// `"latest"`, `"latest_published"` or a tag; left out: latest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AgentVersionRef {
    /// A version number.
    Number(i64),
    /// `latest`, `latest_published` or a version tag.
    Tag(String),
}

/// One agent a number routes to (`inbound_agents[]`, weights sum to 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentBinding {
    /// `agent_…`.
    pub agent_id: String,
    /// The version; `None`: latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<AgentVersionRef>,
    /// Share of calls, 0 < weight <= 1.
    pub weight: f64,
}

/// A phone number of the Retell account (`PhoneNumberResponse`, reference/retell.md §4.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RetellPhoneNumber {
    /// E.164.
    pub phone_number: String,
    /// `retell-twilio`, `retell-telnyx` or `custom`.
    #[serde(default)]
    pub phone_number_type: Option<String>,
    /// Nickname in Retell's dashboard.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Agents that answer inbound calls.
    #[serde(default)]
    pub inbound_agents: Vec<AgentBinding>,
    /// Inbound-call webhook (reference/retell.md §1.6).
    #[serde(default)]
    pub inbound_webhook_url: Option<String>,
    /// Last change, ms since the epoch.
    pub last_modification_timestamp: i64,
}

/// The number fields `setPhoneNumberAgentVersion` and the deploy change (`PATCH
/// /update-phone-number/{phone_number}`). `None` fields are left as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PhoneNumberUpdate {
    /// Agents that answer inbound calls (replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_agents: Option<Vec<AgentBinding>>,
    /// Inbound-call webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_webhook_url: Option<String>,
}

/// Filters of `POST /v3/list-calls` that we use (reference/retell.md §4.5).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallQuery {
    /// Only calls of these agents; empty: every agent of the key.
    pub agent_ids: Vec<String>,
    /// Only calls that started at or after this, ms since the epoch.
    pub start_after_ms: Option<i64>,
    /// Only calls that started at or before this, ms since the epoch.
    pub start_before_ms: Option<i64>,
    /// Page size and cursor; newest first.
    pub page: Option<PageRequest>,
}

/// A call as Retell returns it: the typed fields we act on and the whole object as sent
/// (list items lack the transcripts, reference/retell.md §4.5).
#[derive(Clone, Debug, PartialEq)]
pub struct CallObject {
    /// Typed view (reference/retell.md §1.3).
    pub call: RetellCall,
    /// The object as Retell sent it.
    pub raw: Value,
}
