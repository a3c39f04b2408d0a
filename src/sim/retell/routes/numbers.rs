//! Phone numbers (reference/retell.md §4.3, §4.4): `GET /v2/list-phone-numbers`, `GET
//! /get-phone-number/{n}` and `PATCH /update-phone-number/{n}` (the number in E.164; a `+`
//! may be sent as `%2B`).
//!
//! An update's `inbound_agents` / `outbound_agents` replace the list and are checked: each
//! `{agent_id, agent_version?, weight}` with `0 < weight <= 1`, the weights summing to 1
//! (400 otherwise), every agent (and a numeric `agent_version`) existing under the key (422
//! otherwise). `null` removes a field, as for agents.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::super::Shared;
use super::super::errors::RetellError;
use super::super::store::{Account, page};
use super::{bearer, json_body, limit, list_query, merge, now_ms};

/// Fields `update-phone-number` never changes.
const READ_ONLY: [&str; 5] = [
    "phone_number",
    "phone_number_type",
    "phone_number_pretty",
    "area_code",
    "last_modification_timestamp",
];

/// How far from 1 the sum of weights may be (floating point).
const WEIGHT_TOLERANCE: f64 = 1e-6;

/// `GET /v2/list-phone-numbers?limit&pagination_key&sort_order`: `PhoneNumberResponse`s in
/// creation order (default descending: newest first).
pub(super) async fn list(
    req: HttpRequest,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let query = list_query(&req)?;
    let limit = limit(query.limit)?;
    let body = shared.accounts.with(&key, |account| {
        let ordered = query
            .sort_order
            .unwrap_or_default()
            .apply(account.numbers.clone());
        page(
            ordered,
            "phone_number",
            limit,
            query.pagination_key.as_deref(),
            0,
        )
    })?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /get-phone-number/{phone_number}`.
pub(super) async fn get(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let number = shared.accounts.with(&key, |account| {
        Account::find_mut(&mut account.numbers, "phone_number", &path).map(|n| n.clone())
    })?;
    Ok(HttpResponse::Ok().json(number))
}

/// `PATCH /update-phone-number/{phone_number}`: a partial `PhoneNumberRequest`; answers the
/// changed `PhoneNumberResponse`.
pub(super) async fn update(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let patch = json_body(payload).await?;
    let now = now_ms(&shared);
    let number = shared.accounts.with(&key, |account| {
        for field in ["inbound_agents", "outbound_agents"] {
            if let Some(list) = patch.get(field).filter(|v| !v.is_null()) {
                check_bindings(account, field, list)?;
            }
        }
        for text in ["inbound_webhook_url", "nickname"] {
            if patch
                .get(text)
                .is_some_and(|v| !v.is_null() && !v.is_string())
            {
                return Err(RetellError::bad(format!("{text} must be a string")));
            }
        }
        let number = Account::find_mut(&mut account.numbers, "phone_number", &path)?;
        merge(number, patch, &READ_ONLY);
        number.insert("last_modification_timestamp".into(), json!(now));
        Ok(number.clone())
    })?;
    Ok(HttpResponse::Ok().json(number))
}

/// Checks an agent list of a number (rules in the module docs).
fn check_bindings(account: &Account, field: &str, list: &Value) -> Result<(), RetellError> {
    let list = list
        .as_array()
        .ok_or_else(|| RetellError::bad(format!("{field} must be a list")))?;
    let mut sum = 0.0;
    for (i, binding) in list.iter().enumerate() {
        let at = |problem: &str| RetellError::bad(format!("{field}[{i}]: {problem}"));
        let agent_id = binding
            .get("agent_id")
            .and_then(Value::as_str)
            .ok_or_else(|| at("agent_id is required"))?;
        let weight = binding
            .get("weight")
            .and_then(Value::as_f64)
            .ok_or_else(|| at("weight is required"))?;
        if !(weight > 0.0 && weight <= 1.0) {
            return Err(at("weight must be greater than 0 and at most 1"));
        }
        sum += weight;
        let agent = account.agent(agent_id)?;
        match binding.get("agent_version") {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(Value::Number(n)) => {
                let exists = n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .is_some_and(|n| n < agent.versions.len());
                if !exists {
                    return Err(RetellError::NotFound);
                }
            }
            Some(_) => return Err(at("agent_version must be a number or a tag")),
        }
    }
    if !list.is_empty() && (sum - 1.0).abs() > WEIGHT_TOLERANCE {
        return Err(RetellError::bad(format!(
            "{field}: the weights must sum to 1, got {sum}"
        )));
    }
    Ok(())
}
