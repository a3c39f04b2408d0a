//! Calls (reference/retell.md §1.3, §4.3, §4.5): `POST /v3/list-calls` and `GET
//! /v2/get-call/{call_id}`, and [`record`], through which `/__sim/calls` adds the calls our
//! sandbox made.
//!
//! `list-calls` body: `{filter_criteria?, limit? (default 50, at most 1000), pagination_key?
//! (opaque), skip?, sort_order? (by start_timestamp, default descending: newest first),
//! include_total?}`. The filters applied are the ones switchboard uses (§4.5):
//! `agent: [{agent_id, version?: [n]}]` (any of them), `call_status` and `direction`
//! (`{"op": "in", "type": "enum", "value": [...]}`), and `start_timestamp` (`{"op": "bt",
//! "type": "range", "value": [lo, hi]}` inclusive, or `{"op": eq|ne|gt|ge|lt|le, "type":
//! "number", "value": n}`); a malformed one is 400. Other filters are accepted and not
//! applied. List items lack `transcript`, `transcript_object` and
//! `transcript_with_tool_calls`; `get-call` has them.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Shared;
use super::super::errors::RetellError;
use super::super::store::{Account, MAX_CALLS, Object, page};
use super::{SortOrder, bearer, json_body, limit, typed};

/// Fields list items leave out (§4.5).
const TRANSCRIPTS: [&str; 3] = [
    "transcript",
    "transcript_object",
    "transcript_with_tool_calls",
];
/// Longest `call_id` `/__sim/calls` takes.
const MAX_CALL_ID: usize = 128;

/// Body of `list-calls`.
#[derive(Debug, Default, Deserialize)]
struct ListCalls {
    #[serde(default)]
    filter_criteria: Object,
    limit: Option<usize>,
    pagination_key: Option<String>,
    skip: Option<usize>,
    sort_order: Option<SortOrder>,
    #[serde(default)]
    include_total: bool,
}

/// `{agent_id, version?}` of the `agent` filter.
#[derive(Debug, Deserialize)]
struct AgentFilter {
    agent_id: String,
    version: Option<Vec<f64>>,
}

/// A typed predicate `{op, type, value}` (§4.5).
#[derive(Debug, Deserialize)]
struct Predicate {
    op: String,
    #[serde(rename = "type")]
    kind: String,
    value: Value,
}

/// The filters applied, parsed.
#[derive(Debug, Default)]
struct Filters {
    agents: Option<Vec<AgentFilter>>,
    statuses: Option<Vec<String>>,
    directions: Option<Vec<String>>,
    start: Option<Predicate>,
}

impl Filters {
    fn parse(criteria: &Object) -> Result<Self, RetellError> {
        let field = |name: &str| criteria.get(name).filter(|v| !v.is_null());
        let parse = |name: &str, v: &Value| {
            serde_json::from_value::<Predicate>(v.clone())
                .map_err(|e| RetellError::bad(format!("filter_criteria.{name}: {e}")))
        };
        let agents = field("agent")
            .map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|e| RetellError::bad(format!("filter_criteria.agent: {e}")))
            })
            .transpose()?;
        let mut enums = Vec::new();
        for name in ["call_status", "direction"] {
            enums.push(match field(name) {
                None => None,
                Some(v) => {
                    let p = parse(name, v)?;
                    let values: Option<Vec<String>> = serde_json::from_value(p.value).ok();
                    match (p.op.as_str(), p.kind.as_str(), values) {
                        ("in", "enum", Some(values)) => Some(values),
                        _ => {
                            return Err(RetellError::bad(format!(
                                "filter_criteria.{name} must be {{\"op\": \"in\", \"type\": \"enum\", \"value\": [...]}}"
                            )));
                        }
                    }
                }
            });
        }
        let start = field("start_timestamp")
            .map(|v| parse("start_timestamp", v))
            .transpose()?;
        if let Some(p) = &start {
            let ok = match (p.op.as_str(), p.kind.as_str()) {
                ("bt", "range") => range(&p.value).is_some(),
                ("eq" | "ne" | "gt" | "ge" | "lt" | "le", "number") => p.value.is_number(),
                _ => false,
            };
            if !ok {
                return Err(RetellError::bad(
                    "filter_criteria.start_timestamp must be a range (op bt) or a number filter",
                ));
            }
        }
        let directions = enums.pop().flatten();
        let statuses = enums.pop().flatten();
        Ok(Self {
            agents,
            statuses,
            directions,
            start,
        })
    }

    fn matches(&self, call: &Object) -> bool {
        let text = |name: &str| call.get(name).and_then(Value::as_str).unwrap_or_default();
        let agent_ok = self.agents.as_ref().is_none_or(|agents| {
            let version = call.get("agent_version").and_then(Value::as_f64);
            agents.iter().any(|a| {
                a.agent_id == text("agent_id")
                    && a.version
                        .as_ref()
                        .is_none_or(|vs| version.is_some_and(|v| vs.contains(&v)))
            })
        });
        let in_list = |list: &Option<Vec<String>>, name| {
            list.as_ref()
                .is_none_or(|l| l.iter().any(|v| v == text(name)))
        };
        agent_ok
            && in_list(&self.statuses, "call_status")
            && in_list(&self.directions, "direction")
            && self
                .start
                .as_ref()
                .is_none_or(|p| start_matches(p, start_of(call)))
    }
}

/// `[lo, hi]` of a range filter.
fn range(value: &Value) -> Option<(f64, f64)> {
    match value.as_array()?.as_slice() {
        [lo, hi] => Some((lo.as_f64()?, hi.as_f64()?)),
        _ => None,
    }
}

fn start_of(call: &Object) -> i64 {
    call.get("start_timestamp")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

// The predicate was checked by `Filters::parse`; timestamps are far below 2^53, so the
// comparison in f64 is exact.
fn start_matches(p: &Predicate, start: i64) -> bool {
    let t = start as f64;
    let n = p.value.as_f64().unwrap_or(f64::NAN);
    match p.op.as_str() {
        "bt" => range(&p.value).is_some_and(|(lo, hi)| lo <= t && t <= hi),
        "eq" => t == n,
        "ne" => t != n,
        "gt" => t > n,
        "ge" => t >= n,
        "lt" => t < n,
        "le" => t <= n,
        _ => false,
    }
}

/// `POST /v3/list-calls`: `{"items": [call without transcripts], "has_more",
/// "pagination_key"?, "total"?}`.
pub(super) async fn list(
    req: HttpRequest,
    shared: web::Data<Shared>,
    payload: web::Payload,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let body: ListCalls = typed(&json_body(payload).await?)?;
    let limit = limit(body.limit)?;
    let filters = Filters::parse(&body.filter_criteria)?;
    let reply = shared.accounts.with(&key, |account| {
        let mut calls: Vec<Object> = account
            .calls
            .iter()
            .filter(|c| filters.matches(c))
            .map(|c| {
                let mut item = c.clone();
                for field in TRANSCRIPTS {
                    item.remove(field);
                }
                item
            })
            .collect();
        calls.sort_by(|a, b| {
            start_of(a).cmp(&start_of(b)).then_with(|| {
                a.get("call_id")
                    .map(Value::to_string)
                    .cmp(&b.get("call_id").map(Value::to_string))
            })
        });
        let total = calls.len();
        let ordered = body.sort_order.unwrap_or_default().apply(calls);
        let mut reply = page(
            ordered,
            "call_id",
            limit,
            body.pagination_key.as_deref(),
            body.skip.unwrap_or(0),
        )?;
        if body.include_total {
            reply.insert("total".into(), json!(total));
        }
        Ok(reply)
    })?;
    Ok(HttpResponse::Ok().json(reply))
}

/// `GET /v2/get-call/{call_id}`: the whole call object.
pub(super) async fn get(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<String>,
) -> Result<HttpResponse, RetellError> {
    let key = bearer(&req)?;
    let call = shared.accounts.with(&key, |account| {
        Account::find_mut(&mut account.calls, "call_id", &path).map(|c| c.clone())
    })?;
    Ok(HttpResponse::Ok().json(call))
}

/// Stores `call` (a call object, §1.3) under the account that owns its `to_number` (else its
/// `agent_id`), replacing an earlier object of the same `call_id`; returns the `call_id`.
///
/// # Errors
/// 400 without a `call_id` (1 to 128 characters); 422 when no account owns the number or
/// agent; 413 for a new call beyond [`MAX_CALLS`].
pub(in super::super) fn record(shared: &Shared, call: Object) -> Result<String, RetellError> {
    let call_id = call
        .get("call_id")
        .and_then(Value::as_str)
        .filter(|id| (1..=MAX_CALL_ID).contains(&id.len()))
        .ok_or_else(|| RetellError::bad(format!("call_id must be 1 to {MAX_CALL_ID} characters")))?
        .to_owned();
    let field = |name: &str| call.get(name).and_then(Value::as_str).map(str::to_owned);
    let (to, agent) = (field("to_number"), field("agent_id"));
    let owns_number = |a: &Account| {
        to.as_deref().is_some_and(|to| {
            a.numbers
                .iter()
                .any(|n| n.get("phone_number").and_then(Value::as_str) == Some(to))
        })
    };
    let owns_agent = |a: &Account| {
        agent
            .as_deref()
            .is_some_and(|id| a.agents.iter().any(|x| x.id == id))
    };
    let store = |account: &mut Account| {
        if let Ok(existing) = Account::find_mut(&mut account.calls, "call_id", &call_id) {
            *existing = call.clone();
            return Ok(());
        }
        if account.calls.len() >= MAX_CALLS {
            return Err(RetellError::TooLarge(format!(
                "an account keeps at most {MAX_CALLS} calls in the simulator"
            )));
        }
        account.calls.push(call.clone());
        Ok(())
    };
    shared
        .accounts
        .with_owner(owns_number, store)
        .or_else(|e| match e {
            RetellError::NotFound => shared.accounts.with_owner(owns_agent, store),
            other => Err(other),
        })?;
    Ok(call_id)
}
