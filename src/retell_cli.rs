//! `switchboard retell deploy SLUG [--dry-run]`: runs `retell.config.deployCustomFunctions`
//! for one tenant on a running instance through its JSON-RPC gateway (admin token) and prints
//! the diff, one line per change:
//!
//! ```text
//! + tool check_availability
//! ~ tool find_next_slot: url, timeout_ms
//! - tool book_appointment_v1
//! = 5 tools unchanged, kept: end_call
//! ~ agent.webhook_url: null → "https://switchboard.example.com/api/mcp/retell/webhook"
//! ~ number +493012345678: inbound_webhook_url null → "https://…/api/mcp/retell/inbound"
//! ! number +493099999999 is not in the Retell account (not created)
//! ```
//!
//! Exits 0 when applied or when there was nothing to do; any refusal or failure is an error
//! (non-zero exit) with the gateway's code, message and details.

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::Duration;

/// Path of the JSON-RPC gateway (DESIGN §4).
const GATEWAY_PATH: &str = "/api/mcp/gateway";

/// A deploy writes to Retell through the breaker; this bounds a stuck connection only.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Deploys (or, with `dry_run`, compares) the Retell set-up of tenant `slug` on the instance
/// at `url`; prints the diff.
///
/// # Errors
/// No token, the instance unreachable, no tenant `slug`, or the method's refusal (its code,
/// message and details).
pub async fn deploy(
    slug: &str,
    url: &str,
    token: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let token = token.ok_or_else(|| {
        anyhow!("no gateway token: pass --token or set SWITCHBOARD__SANDBOX__ADMIN_TOKEN")
    })?;
    let gateway = Gateway {
        http: reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("building the HTTP client")?,
        url: format!("{}{GATEWAY_PATH}", url.trim_end_matches('/')),
        token: token.to_owned(),
    };
    let companies = gateway.call("company.list", json!({})).await?;
    let company_id = companies["companies"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["slug"] == slug)
        .map(|c| c["id"].clone())
        .ok_or_else(|| anyhow!("no tenant {slug:?} on {url}"))?;
    let report = gateway
        .call(
            "retell.config.deployCustomFunctions",
            json!({"company_id": company_id, "dry_run": dry_run}),
        )
        .await?;
    print!("{}", render(&report));
    Ok(())
}

struct Gateway {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Gateway {
    /// `result.data` of `method`, or the JSON-RPC error as an error.
    async fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("calling {method} at {}", self.url))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .with_context(|| format!("{method}: HTTP {status} without a JSON-RPC answer"))?;
        if let Some(error) = answer.get("error") {
            let mut message = format!(
                "{method} failed: {} (code {})",
                error["message"].as_str().unwrap_or("no message"),
                error["code"]
            );
            if let Some(details) = error.get("data").and_then(|d| d.get("details")) {
                let _ = write!(message, "\ndetails: {details}");
            }
            bail!(message);
        }
        Ok(answer["result"]["data"].clone())
    }
}

/// The report of `retell.config.deployCustomFunctions` as lines a person reads.
pub fn render(report: &Value) -> String {
    let mut out = String::new();
    let agent = report["agent_id"].as_str().unwrap_or("?");
    let llm = report["llm_id"].as_str().unwrap_or("?");
    let diff = &report["diff"];
    let heading = match (report["dry_run"].as_bool(), report["applied"].as_bool()) {
        (Some(true), _) => "dry run, nothing written",
        (_, Some(true)) => "applied",
        _ => "nothing to do",
    };
    let _ = writeln!(out, "agent {agent} (llm {llm}): {heading}");
    let mut unchanged = 0;
    for tool in list(&diff["tools"]) {
        let name = tool["name"].as_str().unwrap_or("?");
        match tool["status"].as_str() {
            Some("added") => {
                let _ = writeln!(out, "+ tool {name}");
            }
            Some("changed") => {
                let fields: Vec<&str> = list(&tool["fields"]).filter_map(Value::as_str).collect();
                let _ = writeln!(out, "~ tool {name}: {}", fields.join(", "));
            }
            Some("removed") => {
                let _ = writeln!(out, "- tool {name}");
            }
            _ => unchanged += 1,
        }
    }
    let kept: Vec<&str> = list(&diff["kept_tools"])
        .filter_map(Value::as_str)
        .collect();
    let _ = write!(out, "= {unchanged} tools unchanged");
    if !kept.is_empty() {
        let _ = write!(out, ", kept: {}", kept.join(", "));
    }
    out.push('\n');
    for field in list(&diff["agent"]) {
        let _ = writeln!(
            out,
            "~ agent.{}: {} → {}",
            field["field"].as_str().unwrap_or("?"),
            field["from"],
            field["to"]
        );
    }
    let mut numbers_ok = 0;
    for number in list(&diff["numbers"]) {
        let phone = number["phone_number"].as_str().unwrap_or("?");
        match number["status"].as_str() {
            Some("changed") => {
                for field in list(&number["fields"]) {
                    let _ = writeln!(
                        out,
                        "~ number {phone}: {} {} → {}",
                        field["field"].as_str().unwrap_or("?"),
                        field["from"],
                        field["to"]
                    );
                }
            }
            Some("missing") => {
                let _ = writeln!(
                    out,
                    "! number {phone} is not in the Retell account (not created)"
                );
            }
            _ => numbers_ok += 1,
        }
    }
    let _ = writeln!(out, "= {numbers_ok} numbers unchanged");
    out
}

fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_report_renders_one_line_per_change() {
        let report = json!({
            "agent_id": "agent_demo", "llm_id": "llm_demo", "dry_run": true, "applied": false,
            "diff": {
                "tools": [
                    {"name": "check_availability", "status": "added", "fields": []},
                    {"name": "find_next_slot", "status": "changed", "fields": ["url", "timeout_ms"]},
                    {"name": "calculate_duration", "status": "unchanged", "fields": []},
                    {"name": "book_v1", "status": "removed", "fields": []}
                ],
                "kept_tools": ["end_call"],
                "agent": [{"field": "webhook_url", "from": null, "to": "https://x/api/mcp/retell/webhook"}],
                "numbers": [
                    {"phone_number": "+4930", "status": "ok", "fields": []},
                    {"phone_number": "+4931", "status": "missing", "fields": []}
                ]
            }
        });
        assert_eq!(
            render(&report),
            "agent agent_demo (llm llm_demo): dry run, nothing written\n\
             + tool check_availability\n\
             ~ tool find_next_slot: url, timeout_ms\n\
             - tool book_v1\n\
             = 1 tools unchanged, kept: end_call\n\
             ~ agent.webhook_url: null → \"https://x/api/mcp/retell/webhook\"\n\
             ! number +4931 is not in the Retell account (not created)\n\
             = 1 numbers unchanged\n"
        );
    }
}
