//! Retell LLMs (reference/retell.md §3.3): `GET /get-retell-llm/{llm_id}` and `PATCH
//! /update-retell-llm/{llm_id}`. An update's `general_tools` replaces the list and is checked
//! as Retell checks it when saving: every tool an object with a `type` and a `name` of
//! `[a-zA-Z0-9_-]{1,64}`, names unique; a `custom` tool with a `url` and, when it has
//! `parameters`, a JSON Schema object whose top-level `type` is `object` with `properties`
//! (the most common save error, §3.3); `timeout_ms` 1000..=600000 (§3.1). A bad tool is a 400
//! and nothing changes. At most [`MAX_TOOLS`] tools.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::collections::HashSet;

use super::super::Shared;
use super::super::errors::RetellError;
use super::super::store::{Account, MAX_TOOLS};
use super::{bearer, json_body, merge, now_ms};

/// Fields `update-retell-llm` never changes.
const READ_ONLY: [&str; 4] = [
    "llm_id",
    "version",
    "is_published",
    "last_modification_timestamp",
];

/// Longest tool name (§3.3).
const MAX_NAME: usize = 64;
/// Bounds of a custom tool's `timeout_ms` (§3.1).
const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1000..=600_000;
/// Methods a custom tool may use (§3.1).
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// `GET /get-retell-llm/{llm_id}`: the `LlmResponse`.
pub(super) async fn get(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let llm = shared.accounts.with(&key, |account| {
        Account::find_mut(&mut account.llms, "llm_id", &path).map(|l| l.clone())
    })?;
    Ok(HttpResponse::Ok().json(llm))
}

/// `PATCH /update-retell-llm/{llm_id}`: a partial `LlmRequest`; answers the changed
/// `LlmResponse`.
pub(super) async fn update(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let patch = json_body(payload).await?;
    let now = now_ms(&shared);
    let llm = shared.accounts.with(&key, |account| {
        let llm = Account::find_mut(&mut account.llms, "llm_id", &path)?;
        if let Some(tools) = patch.get("general_tools").filter(|t| !t.is_null()) {
            check_tools(tools)?;
        }
        merge(llm, patch, &READ_ONLY);
        llm.insert("last_modification_timestamp".into(), json!(now));
        Ok(llm.clone())
    })?;
    Ok(HttpResponse::Ok().json(llm))
}

/// Checks a `general_tools` list (rules in the module docs).
fn check_tools(tools: &Value) -> Result<(), RetellError> {
    let tools = tools
        .as_array()
        .ok_or_else(|| RetellError::bad("general_tools must be a list"))?;
    if tools.len() > MAX_TOOLS {
        return Err(RetellError::bad(format!(
            "general_tools holds at most {MAX_TOOLS} tools in the simulator"
        )));
    }
    let mut names = HashSet::new();
    for (i, tool) in tools.iter().enumerate() {
        let field = |name: &str| tool.get(name).and_then(Value::as_str);
        let at = |problem: &str| RetellError::bad(format!("general_tools[{i}]: {problem}"));
        if !tool.is_object() {
            return Err(at("must be an object"));
        }
        let kind = field("type").ok_or_else(|| at("type is required"))?;
        let name = field("name").ok_or_else(|| at("name is required"))?;
        if !valid_name(name) {
            return Err(at(&format!(
                "name {name:?} must be 1 to {MAX_NAME} of a-z, A-Z, 0-9, _ and -"
            )));
        }
        if !names.insert(name) {
            return Err(at(&format!("name {name:?} is used by another tool")));
        }
        if kind == "custom" {
            check_custom(tool).map_err(|problem| at(&problem))?;
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The checks of a `custom` tool; the problem as text.
fn check_custom(tool: &Value) -> Result<(), String> {
    let url = tool.get("url").and_then(Value::as_str).unwrap_or_default();
    if url.trim().is_empty() {
        return Err("url is required for a custom tool".into());
    }
    if let Some(parameters) = tool.get("parameters").filter(|p| !p.is_null()) {
        if parameters.get("type").and_then(Value::as_str) != Some("object") {
            return Err(
                "parameters must be a JSON Schema with top-level \"type\": \"object\"".into(),
            );
        }
        if !parameters.get("properties").is_some_and(Value::is_object) {
            return Err("parameters.properties must be an object".into());
        }
    }
    if let Some(timeout) = tool.get("timeout_ms").filter(|t| !t.is_null())
        && !timeout.as_u64().is_some_and(|t| TIMEOUT_MS.contains(&t))
    {
        return Err(format!(
            "timeout_ms must be from {} to {}",
            TIMEOUT_MS.start(),
            TIMEOUT_MS.end()
        ));
    }
    if let Some(method) = tool.get("method").filter(|m| !m.is_null())
        && !method.as_str().is_some_and(|m| METHODS.contains(&m))
    {
        return Err(format!("method must be one of {}", METHODS.join(", ")));
    }
    Ok(())
}
