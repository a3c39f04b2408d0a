//! The desired state, the diff and the plan, on plain values.

use super::*;
use crate::retell::api::AgentVersionRef;
use crate::retell::fake::{agent, llm};

const URL: &str = "https://switchboard.example.com";
const AGENT: &str = "agent_demo";
const NUMBER: &str = "+493012345678";

fn numbers() -> Vec<String> {
    vec![NUMBER.to_owned()]
}

fn target<'a>(
    numbers: &'a [String],
    overrides: &'a BTreeMap<String, FunctionOverride>,
) -> Target<'a> {
    Target {
        public_url: URL,
        locale: Locale::De,
        agent_id: AGENT,
        numbers,
        function_deadline: Duration::from_millis(2500),
        overrides,
    }
}

/// The desired state of the German test tenant without overrides.
fn generated() -> Desired {
    desired(&target(&numbers(), &BTreeMap::new()))
}

fn number(phone: &str) -> RetellPhoneNumber {
    RetellPhoneNumber {
        phone_number: phone.into(),
        phone_number_type: Some("retell-twilio".into()),
        nickname: None,
        inbound_agents: Vec::new(),
        inbound_webhook_url: None,
        last_modification_timestamp: 1,
    }
}

fn foreign_tool() -> Value {
    json!({"type": "end_call", "name": "end_call", "description": "Hang up."})
}

/// Applies `plan` to the values as Retell would.
fn apply(plan: &Plan, llm: &mut RetellLlm, agent: &mut Agent, nums: &mut [RetellPhoneNumber]) {
    if let Some(tools) = plan.llm.as_ref().and_then(|u| u.general_tools.clone()) {
        llm.general_tools = tools;
    }
    if let Some(u) = &plan.agent {
        if let Some(url) = &u.webhook_url {
            agent.webhook_url = Some(url.clone());
        }
        if let Some(events) = &u.webhook_events {
            agent.webhook_events = Some(events.clone());
        }
        if let Some(t) = u.webhook_timeout_ms {
            agent.webhook_timeout_ms = Some(t);
        }
    }
    for (phone, u) in &plan.numbers {
        let n = nums.iter_mut().find(|n| &n.phone_number == phone).unwrap();
        if let Some(a) = &u.inbound_agents {
            n.inbound_agents = a.clone();
        }
        if let Some(w) = &u.inbound_webhook_url {
            n.inbound_webhook_url = Some(w.clone());
        }
    }
}

#[test]
fn desired_tools_are_one_custom_tool_per_function_with_our_url_and_schema() {
    let d = generated();
    assert_eq!(d.tools.len(), registry::REGISTRY.len());
    for (tool, def) in d.tools.iter().zip(registry::definitions()) {
        assert_eq!(tool["type"], "custom");
        assert_eq!(tool["name"], def.name);
        assert_eq!(tool["url"], format!("{URL}/api/mcp/retell/custom-function"));
        assert_eq!(tool["method"], "POST");
        assert_eq!(tool["args_at_root"], false);
        assert_eq!(tool["parameters"], def.parameters);
        assert_eq!(tool["speak_after_execution"], true);
        assert_eq!(tool["timeout_ms"], 4500);
        assert_eq!(tool["max_retry"], 0);
    }
    let check = &d.tools[1];
    assert_eq!(check["speak_during_execution"], true);
    assert_eq!(
        check["execution_message_description"],
        "Einen Moment bitte, ich schaue im Kalender nach."
    );
    let duration = d
        .tools
        .iter()
        .find(|t| t["name"] == "calculate_duration")
        .unwrap();
    assert_eq!(
        duration["speak_during_execution"], false,
        "a local computation needs no filler"
    );
    assert!(duration.get("execution_message_description").is_none());
    assert_eq!(
        d.webhook.webhook_url,
        format!("{URL}/api/mcp/retell/webhook")
    );
    assert_eq!(d.webhook.webhook_events.len(), 7);
    assert_eq!(d.webhook.webhook_timeout_ms, 10_000);
    assert_eq!(
        d.numbers[0].inbound_webhook_url,
        format!("{URL}/api/mcp/retell/inbound")
    );
    assert_eq!(d.numbers[0].inbound_agents[0].agent_id, AGENT);
    assert_eq!(d.numbers[0].inbound_agents[0].agent_version, None);
}

#[test]
fn tool_timeout_is_the_deadline_plus_margin_within_retells_bounds() {
    assert_eq!(tool_timeout_ms(Duration::from_millis(2500)), 4500);
    assert_eq!(tool_timeout_ms(Duration::ZERO), 2000);
    assert_eq!(tool_timeout_ms(Duration::from_secs(3600)), 600_000);
}

#[test]
fn english_tenants_get_the_registry_descriptions() {
    let overrides = BTreeMap::new();
    let nums = numbers();
    let t = Target {
        locale: Locale::En,
        ..target(&nums, &overrides)
    };
    let d = desired(&t);
    for (tool, def) in d.tools.iter().zip(registry::definitions()) {
        assert_eq!(tool["description"], def.description);
    }
    assert_eq!(
        d.tools[1]["execution_message_description"],
        "One moment, I'm checking the calendar."
    );
}

#[test]
fn overrides_replace_the_generated_settings() {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "calculate_duration".to_owned(),
        FunctionOverride {
            description: Some("Dauer berechnen.".into()),
            speak_during_execution: Some(true),
            execution_message: Some("Moment.".into()),
            speak_after_execution: Some(false),
            timeout_ms: Some(8000),
        },
    );
    let nums = numbers();
    let d = desired(&target(&nums, &overrides));
    let t = d
        .tools
        .iter()
        .find(|t| t["name"] == "calculate_duration")
        .unwrap();
    assert_eq!(t["description"], "Dauer berechnen.");
    assert_eq!(t["speak_during_execution"], true);
    assert_eq!(t["execution_message_description"], "Moment.");
    assert_eq!(t["speak_after_execution"], false);
    assert_eq!(t["timeout_ms"], 8000);
}

#[test]
fn foreign_tools_are_kept_in_place_and_ours_are_added() {
    let d = generated();
    let other_url =
        json!({"type": "custom", "name": "crm_lookup", "url": "https://crm.example.com/x"});
    let mut l = llm("llm_1");
    l.general_tools = vec![foreign_tool(), other_url.clone()];
    let a = agent(AGENT, "llm_1");
    let nums_retell = vec![number(NUMBER)];
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &nums_retell,
        },
        URL,
    );
    let tools = plan.llm.unwrap().general_tools.unwrap();
    assert_eq!(tools[0], foreign_tool());
    assert_eq!(tools[1], other_url);
    assert_eq!(&tools[2..], d.tools.as_slice());
    assert_eq!(diff.kept_tools, ["end_call", "crm_lookup"]);
    assert!(diff.tools.iter().all(|t| t.status == ToolStatus::Added));
    assert_eq!(diff.numbers[0].status, NumberStatus::Changed);
}

#[test]
fn applying_the_plan_leaves_nothing_to_do() {
    let d = generated();
    let mut l = llm("llm_1");
    l.general_tools = vec![foreign_tool()];
    let mut a = agent(AGENT, "llm_1");
    let mut n = vec![number(NUMBER), number("+4930999")];
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &n,
        },
        URL,
    );
    assert!(!diff.is_empty() && !plan.is_empty());
    apply(&plan, &mut l, &mut a, &mut n);
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &n,
        },
        URL,
    );
    assert!(diff.is_empty(), "{diff:?}");
    assert!(plan.is_empty());
    assert!(diff.tools.iter().all(|t| t.status == ToolStatus::Unchanged));
    assert_eq!(
        n[1].inbound_agents,
        Vec::new(),
        "numbers that are not the tenant's are left alone"
    );
}

#[test]
fn fields_retell_adds_on_its_own_are_not_differences() {
    let d = generated();
    let mut l = llm("llm_1");
    l.general_tools = d
        .tools
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t["timeout_ms"] = json!(4500.0);
            t["tool_id"] = json!("tool_abc");
            t["headers"] = json!({});
            t
        })
        .collect();
    let mut a = agent(AGENT, "llm_1");
    a.webhook_url = Some(d.webhook.webhook_url.clone());
    let mut events = d.webhook.webhook_events.clone();
    events.reverse();
    a.webhook_events = Some(events);
    a.webhook_timeout_ms = None;
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &[],
        },
        URL,
    );
    assert!(diff.is_empty(), "{diff:?}");
    assert!(plan.is_empty());
}

#[test]
fn a_changed_tool_names_the_fields_that_differ() {
    let d = generated();
    let mut l = llm("llm_1");
    l.general_tools = d.tools.clone();
    l.general_tools[1]["url"] = json!("https://old.example.com/api/mcp/retell/custom-function");
    l.general_tools[1]["parameters"] = json!({"type": "object", "properties": {}});
    let a = agent(AGENT, "llm_1");
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &[],
        },
        URL,
    );
    let changed: Vec<_> = diff
        .tools
        .iter()
        .filter(|t| t.status == ToolStatus::Changed)
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].name, "check_availability");
    assert_eq!(changed[0].fields, ["parameters", "url"]);
    assert_eq!(plan.llm.unwrap().general_tools.unwrap()[1], d.tools[1]);
}

#[test]
fn stale_tools_at_our_url_are_removed() {
    let d = generated();
    let mut l = llm("llm_1");
    l.general_tools = vec![json!({
        "type": "custom",
        "name": "book_appointment_v1",
        "url": format!("{URL}/api/mcp/retell/custom-function"),
    })];
    let a = agent(AGENT, "llm_1");
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &[],
        },
        URL,
    );
    let removed = diff.tools.last().unwrap();
    assert_eq!(
        (removed.name.as_str(), removed.status),
        ("book_appointment_v1", ToolStatus::Removed)
    );
    assert_eq!(plan.llm.unwrap().general_tools.unwrap(), d.tools);
}

#[test]
fn branch_numbers_missing_in_retell_are_reported_not_planned() {
    let overrides = BTreeMap::new();
    let nums = vec![NUMBER.to_owned(), "+493000000000".to_owned()];
    let d = desired(&target(&nums, &overrides));
    let l = llm("llm_1");
    let a = agent(AGENT, "llm_1");
    let have = vec![number(NUMBER)];
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &have,
        },
        URL,
    );
    assert_eq!(diff.numbers[1].status, NumberStatus::Missing);
    assert_eq!(plan.numbers.len(), 1);
    assert_eq!(plan.numbers[0].0, NUMBER);
}

#[test]
fn a_version_pinned_on_the_tenants_agent_is_kept() {
    let d = generated();
    let mut n = number(NUMBER);
    n.inbound_agents = vec![AgentBinding {
        agent_id: AGENT.into(),
        agent_version: Some(AgentVersionRef::Number(3)),
        weight: 1.0,
    }];
    n.inbound_webhook_url = Some(format!("{URL}/api/mcp/retell/inbound"));
    let l = llm("llm_1");
    let a = agent(AGENT, "llm_1");
    let (diff, plan) = compare(
        &d,
        &Current {
            llm: &l,
            agent: &a,
            numbers: &[n],
        },
        URL,
    );
    assert_eq!(diff.numbers[0].status, NumberStatus::Ok);
    assert!(plan.numbers.is_empty());
}
