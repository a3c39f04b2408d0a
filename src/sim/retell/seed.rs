//! The demo accounts: one per example tenant of sandbox mode ([`EXAMPLE_TENANTS`]), its
//! `retell.api_key` being the account's key, so the sandbox's tenants can manage their
//! agents through the simulator with the credentials they already have.
//!
//! Each account holds, as a tenant that set Retell up by hand before switchboard managed it:
//! - the tenant's agent (`retell.agent_id`) on a Retell LLM, version 0 published and version
//!   1 a draft made from it, speaking the tenant's language, without a webhook;
//! - its LLM, whose `general_tools` are stale: an old `check_availability` custom tool at a
//!   URL that is not ours and an `end_call` tool switchboard did not write;
//! - every branch number bound to the agent (`inbound_agents: [{agent_id, weight: 1}]`, no
//!   `inbound_webhook_url`), and one more Retell number the tenant file does not list;
//! - [`HISTORY_CALLS`] ended calls over the [`HISTORY_DAYS`] days before "now", the same
//!   calls for the same "now".

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use switchboard_actors::domain::onboarding::RawTenant;

use super::store::{Account, Agent, Object};
use crate::sandbox::EXAMPLE_TENANTS;

/// Ended calls seeded per account.
pub const HISTORY_CALLS: usize = 12;
/// Days the seeded calls span, ending at "now".
pub const HISTORY_DAYS: i64 = 7;
/// Voice of the seeded agents (one of Retell's stock voices).
const VOICE_ID: &str = "11labs-Adrian";
/// Model of the seeded LLMs.
const MODEL: &str = "gpt-4.1";
/// Where the stale custom tool points: a host that is not switchboard's.
const STALE_TOOL_URL: &str = "https://old-booking-bot.example.com/retell/check_availability";

/// The demo accounts by API key, as of `now`.
///
/// # Errors
/// An example tenant file that does not parse (a bug of this build).
pub(super) fn demo_accounts(
    now: DateTime<Utc>,
) -> Result<HashMap<String, Account>, toml::de::Error> {
    let mut accounts = HashMap::new();
    for (_, text) in EXAMPLE_TENANTS {
        let tenant: RawTenant = toml::from_str(text)?;
        let (Some(key), Some(agent_id)) = (
            tenant.retell.api_key.clone(),
            tenant.retell.agent_id.clone(),
        ) else {
            continue;
        };
        accounts.insert(key, account(&tenant, &agent_id, now.timestamp_millis()));
    }
    Ok(accounts)
}

fn account(tenant: &RawTenant, agent_id: &str, now_ms: i64) -> Account {
    let llm_id = format!("llm_{}", tenant.slug.replace('-', "_"));
    let numbers: Vec<String> = tenant
        .branches
        .iter()
        .flat_map(|b| b.phone_numbers.iter().cloned())
        .collect();
    let mut phone_numbers: Vec<Object> = tenant
        .branches
        .iter()
        .flat_map(|b| b.phone_numbers.iter().map(move |n| (b.name.as_str(), n)))
        .map(|(branch, n)| number(n, branch, agent_id, now_ms))
        .collect();
    if let Some(extra) = extra_number(&numbers) {
        phone_numbers.push(number(&extra, "Spare line", agent_id, now_ms));
    }
    let agent = seeded_agent(tenant, agent_id, &llm_id, now_ms);
    let calls = (0..HISTORY_CALLS)
        .map(|i| history_call(tenant, agent_id, &numbers, i, now_ms))
        .collect();
    Account {
        agents: vec![agent],
        llms: vec![llm(tenant, &llm_id, now_ms)],
        numbers: phone_numbers,
        calls,
    }
}

/// Retell's language code for the tenant: `de-DE`, `en-GB` for a tenant in Europe, else
/// `en-US`.
fn language(tenant: &RawTenant) -> &'static str {
    match (
        tenant.locale.as_str(),
        tenant.time_zone.starts_with("Europe/"),
    ) {
        ("de", _) => "de-DE",
        (_, true) => "en-GB",
        _ => "en-US",
    }
}

fn german(tenant: &RawTenant) -> bool {
    tenant.locale == "de"
}

fn seeded_agent(tenant: &RawTenant, agent_id: &str, llm_id: &str, now_ms: i64) -> Agent {
    let published = json!({
        "agent_id": agent_id,
        "version": 0,
        "is_published": true,
        "agent_name": format!("{} Reception", tenant.name),
        "channel": "voice",
        "response_engine": {"type": "retell-llm", "llm_id": llm_id, "version": 0},
        "voice_id": VOICE_ID,
        "language": language(tenant),
        "max_call_duration_ms": 3_600_000,
        "last_modification_timestamp": now_ms - 30 * DAY_MS,
    });
    let mut draft = published.clone();
    draft["version"] = json!(1);
    draft["is_published"] = json!(false);
    draft["base_version"] = json!(0);
    draft["last_modification_timestamp"] = json!(now_ms - 2 * DAY_MS);
    Agent {
        id: agent_id.to_owned(),
        versions: [published, draft]
            .into_iter()
            .filter_map(into_object)
            .collect(),
    }
}

fn llm(tenant: &RawTenant, llm_id: &str, now_ms: i64) -> Object {
    let (prompt, begin) = if german(tenant) {
        (
            format!(
                "Du bist die freundliche Telefonrezeption von {}. Hilf Anrufern, Termine zu buchen.",
                tenant.name
            ),
            format!("Guten Tag, {}, was kann ich für Sie tun?", tenant.name),
        )
    } else {
        (
            format!(
                "You are the friendly phone receptionist of {}. Help callers book appointments.",
                tenant.name
            ),
            format!("Hello, {}, how can I help you?", tenant.name),
        )
    };
    into_object(json!({
        "llm_id": llm_id,
        "version": 0,
        "is_published": false,
        "model": MODEL,
        "start_speaker": "agent",
        "general_prompt": prompt,
        "begin_message": begin,
        "general_tools": [
            {
                "type": "custom",
                "name": "check_availability",
                "description": "Check free appointment slots (old integration).",
                "url": STALE_TOOL_URL,
                "method": "POST",
                "parameters": {
                    "type": "object",
                    "properties": {"date": {"type": "string", "description": "YYYY-MM-DD"}},
                    "required": ["date"]
                },
                "speak_during_execution": true,
                "speak_after_execution": true,
                "timeout_ms": 120_000
            },
            {"type": "end_call", "name": "end_call", "description": "End the call when the caller says goodbye."}
        ],
        "last_modification_timestamp": now_ms - 30 * DAY_MS,
    }))
    .unwrap_or_default()
}

fn number(e164: &str, nickname: &str, agent_id: &str, now_ms: i64) -> Object {
    into_object(json!({
        "phone_number": e164,
        "phone_number_pretty": e164,
        "phone_number_type": "retell-twilio",
        "nickname": nickname,
        "inbound_agents": [{"agent_id": agent_id, "weight": 1}],
        "last_modification_timestamp": now_ms - 30 * DAY_MS,
    }))
    .unwrap_or_default()
}

/// A number next to the tenant's first one that the tenant file does not list: its last
/// three digits replaced by the first of 999, 998, … not taken.
fn extra_number(numbers: &[String]) -> Option<String> {
    let first = numbers.first()?;
    let stem = first.get(..first.len().checked_sub(3)?)?;
    (0..1000)
        .rev()
        .map(|tail| format!("{stem}{tail:03}"))
        .find(|candidate| !numbers.contains(candidate))
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The `i`-th seeded call, `i` from 0 (the newest): spread over [`HISTORY_DAYS`] before
/// `now_ms`, 45 s to 5 min long, inbound to the tenant's numbers in turn.
fn history_call(
    tenant: &RawTenant,
    agent_id: &str,
    numbers: &[String],
    i: usize,
    now_ms: i64,
) -> Object {
    let n = i64::try_from(i).unwrap_or_default();
    let spacing = HISTORY_DAYS * DAY_MS / i64::try_from(HISTORY_CALLS).unwrap_or(1);
    let start = now_ms - (n + 1) * spacing + (n * 7 % 5) * 17 * MINUTE_MS;
    let duration = 45_000 + (n * 37 % 240) * 1000;
    let end = start + duration;
    let call_id = call_id(agent_id, i);
    let to = numbers
        .get(i % numbers.len().max(1))
        .cloned()
        .unwrap_or_default();
    let from = if german(tenant) {
        format!("+4915112{:06}", 340_000 + n * 1_117)
    } else {
        format!("+447700900{:03}", 100 + n * 31)
    };
    let booked = i % 4 != 3;
    let (agent_line, user_line, summary) = match (german(tenant), booked) {
        (true, true) => (
            "Guten Tag, was kann ich für Sie tun?",
            "Ich hätte gern einen Termin am Donnerstag.",
            "Der Anrufer hat einen Termin gebucht.",
        ),
        (true, false) => (
            "Guten Tag, was kann ich für Sie tun?",
            "Haben Sie sonntags geöffnet?",
            "Der Anrufer fragte nach den Öffnungszeiten.",
        ),
        (false, true) => (
            "Hello, how can I help you?",
            "I'd like to book an appointment on Thursday.",
            "The caller booked an appointment.",
        ),
        (false, false) => (
            "Hello, how can I help you?",
            "Are you open on Sundays?",
            "The caller asked about opening hours.",
        ),
    };
    let words = |text: &str, from_s: f64| {
        text.split_whitespace()
            .zip(0u32..)
            .map(|(w, k)| {
                let at = from_s + f64::from(k) * 0.3;
                json!({"word": w, "start": at, "end": at + 0.25})
            })
            .collect::<Vec<Value>>()
    };
    let transcript_object = json!([
        {"role": "agent", "content": agent_line, "words": words(agent_line, 0.5)},
        {"role": "user", "content": user_line, "words": words(user_line, 4.0)},
    ]);
    into_object(json!({
        "call_id": call_id,
        "call_type": "phone_call",
        "agent_id": agent_id,
        "agent_name": format!("{} Reception", tenant.name),
        "agent_version": 0,
        "call_status": "ended",
        "direction": "inbound",
        "from_number": from,
        "to_number": to,
        "start_timestamp": start,
        "end_timestamp": end,
        "duration_ms": duration,
        "disconnection_reason": if i.is_multiple_of(2) { "user_hangup" } else { "agent_hangup" },
        "transcript": format!("Agent: {agent_line}\nUser: {user_line}\n"),
        "transcript_object": transcript_object,
        "transcript_with_tool_calls": transcript_object,
        "recording_url": format!("https://retell-sim.invalid/{call_id}/recording.wav"),
        "public_log_url": format!("https://retell-sim.invalid/{call_id}/public.log"),
        "telephony_identifier": {"twilio_call_sid": format!("CA{}", &call_id[5..])},
        "data_storage_setting": "everything",
        "opt_in_signed_url": false,
        "call_analysis": {
            "call_summary": summary,
            "user_sentiment": if booked { "Positive" } else { "Neutral" },
            "call_successful": booked,
            "in_voicemail": false,
        },
        "call_cost": {
            "product_costs": [{"product": "retell_platform", "unit_price": 0.117, "cost": duration / 1000}],
            "total_duration_seconds": duration / 1000,
            "total_duration_unit_price": 0.117,
            "combined_cost": duration / 1000,
        },
        "latency": {"e2e": {"p50": 820, "p90": 1100, "p95": 1240, "p99": 1400, "max": 1450, "min": 610, "num": 2, "values": [610, 1030]}},
    }))
    .unwrap_or_default()
}

/// A Retell-looking call id (`call_` and 28 hex digits), the same for the same agent and `i`.
fn call_id(agent_id: &str, i: usize) -> String {
    let seed = agent_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
        .wrapping_add(i as u64);
    let bits = fastrand::Rng::with_seed(seed).u128(..) >> 16;
    format!("call_{bits:028x}")
}

fn into_object(value: Value) -> Option<Object> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}
