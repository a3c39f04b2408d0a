//! The generated Retell set-up of one tenant (issue 13, "deploy is generated, not pasted"):
//! from the custom-function registry, the tenant and this service's public URL, the
//! **desired** state of the tenant's agent — the Retell LLM's `custom` tools, the agent's
//! webhook, each branch number's inbound binding — then the **diff** against what Retell has
//! and the **plan** of updates that closes it. Pure: no I/O; the `retell.config` server reads
//! Retell and applies the plan.
//!
//! Values are compared as JSON (numbers by value, objects by key, webhook events as a set),
//! and only the fields we set: what Retell adds on its own (defaults, ids) is not a change.
//! So an applied plan leaves nothing to do, and deploying twice changes nothing the second time.

use crate::domain::tenant::Locale;
use crate::functions::registry::{self, Definition};
use crate::retell::api::{
    Agent, AgentBinding, AgentUpdate, LlmUpdate, PhoneNumberUpdate, RetellLlm, RetellPhoneNumber,
};
use crate::speech::Catalog;
use crate::speech::tools::{Tool, ToolSay};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Route Retell posts custom-function calls to (`src/http/custom_function.rs`, body
/// `{name, call, args}`, so tools are declared with `args_at_root: false`).
pub const CUSTOM_FUNCTION_PATH: &str = "/api/mcp/retell/custom-function";
/// Route of the agent's webhook events (`src/http/webhook.rs`).
pub const WEBHOOK_PATH: &str = "/api/mcp/retell/webhook";
/// Route of the numbers' inbound-call webhook (reference/retell.md §1.6).
pub const INBOUND_PATH: &str = "/api/mcp/retell/inbound";

/// The events the deploy subscribes the agent to: the three we act on and the transfer
/// events we store on the call (issue 13, Deliver 6). `transcript_updated` is left out: it
/// comes at every turn and we keep nothing of it that `call_ended` does not repeat.
pub const WEBHOOK_EVENTS: [&str; 7] = [
    "call_started",
    "call_ended",
    "call_analyzed",
    "transfer_started",
    "transfer_bridged",
    "transfer_cancelled",
    "transfer_ended",
];

/// Events Retell posts when an agent sets none (reference/retell.md §1.1).
const RETELL_DEFAULT_EVENTS: [&str; 3] = ["call_started", "call_ended", "call_analyzed"];

/// The agent's webhook timeout, ms: Retell's own default (reference/retell.md §2.3).
pub const WEBHOOK_TIMEOUT_MS: u64 = 10_000;

/// Bounds of a tool's `timeout_ms` Retell accepts (reference/retell.md §3.1).
pub const TOOL_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1_000..=600_000;

/// Added to our function deadline for a tool's `timeout_ms`: our deadline answers with a
/// spoken fallback, and that answer must reach Retell before Retell gives up on the request.
pub const TOOL_TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// Functions that wait on Cal.com (availability, bookings): the agent speaks while they run.
const SLOW: [Tool; 5] = [
    Tool::CollectAppointmentData,
    Tool::CheckAvailability,
    Tool::FindNextSlot,
    Tool::ChangeAppointment,
    Tool::CancelAppointment,
];

/// A tenant's override of one function's deployable settings (`retell.config.
/// updateCustomFunction`, stored per company in `retell_custom_functions`); `None` fields keep
/// the generated value. The JSON Schema bounds are Retell's (reference/retell.md §3.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionOverride {
    /// The tool description the agent's LLM reads, in the tenant's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2000))]
    pub description: Option<String>,
    /// Whether the agent speaks while the function runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speak_during_execution: Option<bool>,
    /// What the agent says while it runs (verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 500))]
    pub execution_message: Option<String>,
    /// Whether the agent speaks again with the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speak_after_execution: Option<bool>,
    /// How long Retell waits for the function, ms (1000..=600000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1000, max = 600000))]
    pub timeout_ms: Option<u64>,
}

impl FunctionOverride {
    /// Whether it overrides nothing (the generated settings apply).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What the desired state is computed from.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// Base URL Retell reaches us at (`server.public_url`), no trailing slash.
    pub public_url: &'a str,
    /// The tenant's language: tool descriptions and execution messages.
    pub locale: Locale,
    /// The tenant's agent (`retell.agent_id`).
    pub agent_id: &'a str,
    /// The tenant's branch numbers, E.164.
    pub numbers: &'a [String],
    /// Deadline of one custom function (`functions.deadline_ms`).
    pub function_deadline: Duration,
    /// The tenant's overrides by function name.
    pub overrides: &'a BTreeMap<String, FunctionOverride>,
}

/// The agent's webhook settings.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct WebhookSettings {
    /// `{public_url}/api/mcp/retell/webhook`.
    pub webhook_url: String,
    /// Events posted to it.
    pub webhook_events: Vec<String>,
    /// Retell's wait for our answer, ms.
    pub webhook_timeout_ms: u64,
}

/// How one branch number should route inbound calls.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct NumberBinding {
    /// E.164.
    pub phone_number: String,
    /// The tenant's agent, weight 1, no version (latest).
    pub inbound_agents: Vec<AgentBinding>,
    /// `{public_url}/api/mcp/retell/inbound`.
    pub inbound_webhook_url: String,
}

/// The tenant's Retell set-up as we generate it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Desired {
    /// One `type: "custom"` tool per custom function, in registry order (reference/retell.md
    /// §3.3).
    pub tools: Vec<Value>,
    /// The agent's webhook.
    pub webhook: WebhookSettings,
    /// Each branch number's binding.
    pub numbers: Vec<NumberBinding>,
}

/// The tool's `timeout_ms`: our deadline plus [`TOOL_TIMEOUT_MARGIN`], within Retell's bounds.
pub fn tool_timeout_ms(function_deadline: Duration) -> u64 {
    let ms = function_deadline
        .saturating_add(TOOL_TIMEOUT_MARGIN)
        .as_millis();
    u64::try_from(ms)
        .unwrap_or(u64::MAX)
        .clamp(*TOOL_TIMEOUT_MS.start(), *TOOL_TIMEOUT_MS.end())
}

/// The desired state of `target`.
pub fn desired(target: &Target<'_>) -> Desired {
    let base = target.public_url.trim_end_matches('/');
    Desired {
        tools: registry::definitions()
            .iter()
            .map(|d| tool(target, d))
            .collect(),
        webhook: WebhookSettings {
            webhook_url: format!("{base}{WEBHOOK_PATH}"),
            webhook_events: WEBHOOK_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
            webhook_timeout_ms: WEBHOOK_TIMEOUT_MS,
        },
        numbers: target
            .numbers
            .iter()
            .map(|n| NumberBinding {
                phone_number: n.clone(),
                inbound_agents: vec![AgentBinding {
                    agent_id: target.agent_id.to_owned(),
                    agent_version: None,
                    weight: 1.0,
                }],
                inbound_webhook_url: format!("{base}{INBOUND_PATH}"),
            })
            .collect(),
    }
}

/// One function's `custom` tool (reference/retell.md §3.3), with the tenant's override.
fn tool(target: &Target<'_>, definition: &Definition) -> Value {
    let name = definition.name;
    let known = Tool::named(name);
    let o = target.overrides.get(name).cloned().unwrap_or_default();
    let description = o.description.unwrap_or_else(|| match known {
        Some(t) => ToolSay::Describe(t).say(target.locale),
        None => definition.description.to_owned(),
    });
    let slow = known.is_some_and(|t| SLOW.contains(&t));
    let speak_during = o.speak_during_execution.unwrap_or(slow);
    let base = target.public_url.trim_end_matches('/');
    let mut tool = json!({
        "type": "custom",
        "name": name,
        "description": description,
        "url": format!("{base}{CUSTOM_FUNCTION_PATH}"),
        "method": "POST",
        "args_at_root": false,
        "parameters": definition.parameters,
        "speak_during_execution": speak_during,
        "speak_after_execution": o.speak_after_execution.unwrap_or(true),
        "timeout_ms": o.timeout_ms.unwrap_or_else(|| tool_timeout_ms(target.function_deadline)),
        // Retell would repeat a request our deadline already answered; a booking must not
        // be attempted twice by a retry (reference/retell.md §3.1).
        "max_retry": 0,
    });
    let message = o
        .execution_message
        .or_else(|| known.map(|t| ToolSay::Wait(t).say(target.locale)));
    if let (true, Some(message), Some(obj)) = (speak_during, message, tool.as_object_mut()) {
        obj.insert("execution_message_description".into(), json!(message));
        obj.insert("execution_message_type".into(), json!("static_text"));
    }
    tool
}

/// What Retell has for the tenant.
#[derive(Clone, Copy, Debug)]
pub struct Current<'a> {
    /// The agent's Retell LLM.
    pub llm: &'a RetellLlm,
    /// The agent (latest version).
    pub agent: &'a Agent,
    /// The account's numbers.
    pub numbers: &'a [RetellPhoneNumber],
}

/// How one of our tools compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolStatus {
    /// Retell does not have it: added.
    Added,
    /// Retell has it with other values: replaced.
    Changed,
    /// A tool of ours (our URL) for a function we no longer serve: removed.
    Removed,
    /// As desired.
    Unchanged,
}

/// One of our tools in the diff.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ToolDiff {
    /// Tool name.
    pub name: String,
    /// How it compares.
    pub status: ToolStatus,
    /// The fields that differ (`changed` only), e.g. `url`, `parameters`.
    pub fields: Vec<String>,
}

/// One field that differs: what Retell has and what we want.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FieldDiff {
    /// Field name, e.g. `webhook_url`.
    pub field: String,
    /// Retell's value (`null`: not set).
    pub from: Value,
    /// Ours.
    pub to: Value,
}

/// How one branch number compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NumberStatus {
    /// Bound to the tenant's agent with our inbound webhook.
    Ok,
    /// Bound otherwise: updated.
    Changed,
    /// Not a number of the Retell account: reported, not created (numbers are bought in
    /// Retell).
    Missing,
}

/// One branch number in the diff.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct NumberDiff {
    /// E.164.
    pub phone_number: String,
    /// How it compares.
    pub status: NumberStatus,
    /// The fields that differ (`changed` only).
    pub fields: Vec<FieldDiff>,
}

/// The desired state against Retell's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct Diff {
    /// Our tools, in the order of the resulting list, then removed ones.
    pub tools: Vec<ToolDiff>,
    /// Names (or types, when unnamed) of the LLM's other tools, kept untouched and in place.
    pub kept_tools: Vec<String>,
    /// Agent fields that differ.
    pub agent: Vec<FieldDiff>,
    /// Each branch number.
    pub numbers: Vec<NumberDiff>,
}

impl Diff {
    /// Whether nothing would be written (missing numbers are reported, not written).
    pub fn is_empty(&self) -> bool {
        self.tools.iter().all(|t| t.status == ToolStatus::Unchanged)
            && self.agent.is_empty()
            && self
                .numbers
                .iter()
                .all(|n| n.status != NumberStatus::Changed)
    }
}

/// The updates that make Retell's state the desired one, in the order they are applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The LLM's whole new tool list (Retell replaces the list).
    pub llm: Option<LlmUpdate>,
    /// The agent's changed fields.
    pub agent: Option<AgentUpdate>,
    /// Each changed number with its changed fields.
    pub numbers: Vec<(String, PhoneNumberUpdate)>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.llm.is_none() && self.agent.is_none() && self.numbers.is_empty()
    }
}

/// Whether `tool` is ours: a `custom` tool with one of our function names or a URL under
/// our public URL. Every other tool belongs to whoever set up the agent and is kept.
fn is_ours(tool: &Value, public_url: &str, names: &BTreeSet<&str>) -> bool {
    if tool.get("type").and_then(Value::as_str) != Some("custom") {
        return false;
    }
    let named_ours = tool
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| names.contains(n));
    let base = format!("{}/", public_url.trim_end_matches('/'));
    let at_our_url = tool
        .get("url")
        .and_then(Value::as_str)
        .is_some_and(|u| u.starts_with(&base));
    named_ours || at_our_url
}

/// Equal as JSON values, numbers by value (`4500` and `4500.0` are the same timeout).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|other| same(v, other)))
        }
        _ => a == b,
    }
}

/// The fields of `desired` that `current` lacks or holds otherwise; fields only `current`
/// has (Retell's defaults) are not differences.
fn changed_fields(desired: &Map<String, Value>, current: &Value) -> Vec<String> {
    desired
        .iter()
        .filter(|(k, v)| !current.get(*k).is_some_and(|c| same(v, c)))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Compares `desired` with `current` and plans the updates; `public_url` tells our tools
/// from others'.
pub fn compare(desired: &Desired, current: &Current<'_>, public_url: &str) -> (Diff, Plan) {
    let mut diff = Diff::default();
    let mut plan = Plan::default();
    let (tools, tool_diffs, kept) = merge_tools(desired, current.llm, public_url);
    if tool_diffs.iter().any(|t| t.status != ToolStatus::Unchanged) {
        plan.llm = Some(LlmUpdate {
            general_tools: Some(tools),
        });
    }
    diff.tools = tool_diffs;
    diff.kept_tools = kept;
    let (agent_diffs, agent_update) = compare_webhook(&desired.webhook, current.agent);
    diff.agent = agent_diffs;
    plan.agent = agent_update;
    for want in &desired.numbers {
        let (number_diff, update) = compare_number(want, current.numbers);
        if let Some(update) = update {
            plan.numbers.push((want.phone_number.clone(), update));
        }
        diff.numbers.push(number_diff);
    }
    (diff, plan)
}

/// The LLM's new tool list: foreign tools kept in place, ours replaced in place when they
/// differ, stale ones of ours dropped, missing ones appended in registry order.
fn merge_tools(
    desired: &Desired,
    llm: &RetellLlm,
    public_url: &str,
) -> (Vec<Value>, Vec<ToolDiff>, Vec<String>) {
    let wanted: BTreeMap<&str, &Value> = desired
        .tools
        .iter()
        .filter_map(|t| Some((t.get("name")?.as_str()?, t)))
        .collect();
    let names: BTreeSet<&str> = wanted.keys().copied().collect();
    let mut tools = Vec::with_capacity(llm.general_tools.len().max(desired.tools.len()));
    let mut diffs = Vec::new();
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    let mut placed = BTreeSet::new();
    for existing in &llm.general_tools {
        let name = existing.get("name").and_then(Value::as_str);
        if !is_ours(existing, public_url, &names) {
            let label = name.or_else(|| existing.get("type").and_then(Value::as_str));
            kept.push(label.unwrap_or("unnamed").to_owned());
            tools.push(existing.clone());
            continue;
        }
        let name = name.unwrap_or_default();
        match wanted.get(name) {
            Some(want) if placed.insert(name) => {
                let fields = want
                    .as_object()
                    .map(|w| changed_fields(w, existing))
                    .unwrap_or_default();
                let status = if fields.is_empty() {
                    tools.push(existing.clone());
                    ToolStatus::Unchanged
                } else {
                    tools.push((*want).clone());
                    ToolStatus::Changed
                };
                diffs.push(ToolDiff {
                    name: name.to_owned(),
                    status,
                    fields,
                });
            }
            _ => removed.push(ToolDiff {
                name: name.to_owned(),
                status: ToolStatus::Removed,
                fields: Vec::new(),
            }),
        }
    }
    for want in &desired.tools {
        let name = want.get("name").and_then(Value::as_str).unwrap_or_default();
        if !placed.contains(name) {
            tools.push(want.clone());
            diffs.push(ToolDiff {
                name: name.to_owned(),
                status: ToolStatus::Added,
                fields: Vec::new(),
            });
        }
    }
    diffs.extend(removed);
    (tools, diffs, kept)
}

/// The agent's webhook as Retell applies it: unset events and timeout are Retell's defaults.
fn effective_webhook(agent: &Agent) -> (Option<&str>, BTreeSet<&str>, u64) {
    let events = match &agent.webhook_events {
        Some(events) => events.iter().map(String::as_str).collect(),
        None => RETELL_DEFAULT_EVENTS.into_iter().collect(),
    };
    (
        agent.webhook_url.as_deref(),
        events,
        agent.webhook_timeout_ms.unwrap_or(WEBHOOK_TIMEOUT_MS),
    )
}

/// The agent's webhook against `want`: the fields that differ and the update that sets them.
pub fn compare_webhook(
    want: &WebhookSettings,
    agent: &Agent,
) -> (Vec<FieldDiff>, Option<AgentUpdate>) {
    let (url, events, timeout) = effective_webhook(agent);
    let mut diffs = Vec::new();
    let mut update = AgentUpdate::default();
    if url != Some(want.webhook_url.as_str()) {
        diffs.push(FieldDiff {
            field: "webhook_url".into(),
            from: json!(agent.webhook_url),
            to: json!(want.webhook_url),
        });
        update.webhook_url = Some(want.webhook_url.clone());
    }
    let wanted: BTreeSet<&str> = want.webhook_events.iter().map(String::as_str).collect();
    if events != wanted {
        diffs.push(FieldDiff {
            field: "webhook_events".into(),
            from: json!(agent.webhook_events),
            to: json!(want.webhook_events),
        });
        update.webhook_events = Some(want.webhook_events.clone());
    }
    if timeout != want.webhook_timeout_ms {
        diffs.push(FieldDiff {
            field: "webhook_timeout_ms".into(),
            from: json!(agent.webhook_timeout_ms),
            to: json!(want.webhook_timeout_ms),
        });
        update.webhook_timeout_ms = Some(want.webhook_timeout_ms);
    }
    let update = (!diffs.is_empty()).then_some(update);
    (diffs, update)
}

/// A number routes as wanted when its only inbound agent is the tenant's (any version: a
/// version pinned with `retell.setPhoneNumberAgentVersion` is kept) and its inbound webhook
/// is ours.
pub fn compare_number(
    want: &NumberBinding,
    numbers: &[RetellPhoneNumber],
) -> (NumberDiff, Option<PhoneNumberUpdate>) {
    let Some(have) = numbers.iter().find(|n| n.phone_number == want.phone_number) else {
        return (
            NumberDiff {
                phone_number: want.phone_number.clone(),
                status: NumberStatus::Missing,
                fields: Vec::new(),
            },
            None,
        );
    };
    let mut fields = Vec::new();
    let mut update = PhoneNumberUpdate::default();
    let routes_to_ours = matches!(
        have.inbound_agents.as_slice(),
        [only] if want.inbound_agents.first().is_some_and(|w| w.agent_id == only.agent_id)
    );
    if !routes_to_ours {
        fields.push(FieldDiff {
            field: "inbound_agents".into(),
            from: json!(have.inbound_agents),
            to: json!(want.inbound_agents),
        });
        update.inbound_agents = Some(want.inbound_agents.clone());
    }
    if have.inbound_webhook_url.as_deref() != Some(want.inbound_webhook_url.as_str()) {
        fields.push(FieldDiff {
            field: "inbound_webhook_url".into(),
            from: json!(have.inbound_webhook_url),
            to: json!(want.inbound_webhook_url),
        });
        update.inbound_webhook_url = Some(want.inbound_webhook_url.clone());
    }
    let status = if fields.is_empty() {
        NumberStatus::Ok
    } else {
        NumberStatus::Changed
    };
    let update = (status == NumberStatus::Changed).then_some(update);
    (
        NumberDiff {
            phone_number: want.phone_number.clone(),
            status,
            fields,
        },
        update,
    )
}

#[cfg(test)]
mod tests;
