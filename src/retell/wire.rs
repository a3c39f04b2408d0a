//! Serde shapes of Retell's list envelopes and the list-calls request (reference/retell.md
//! §4.3, §4.5), and their conversion to the core's `retell::api` types. Single agents, LLMs
//! and numbers need no wire type: the core's types carry Retell's field names and keep unknown
//! fields in their `extra` maps.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_actors::retell::api::{CallObject, CallQuery, MAX_PAGE_LIMIT, Page, PageRequest};

/// Upper bound sent for an open end of the start-time range: 2^53 − 1 ms (year ~287 000),
/// the largest integer a JavaScript or Python float holds exactly, so a server parsing JSON
/// numbers as doubles reads the same bound we sent (`i64::MAX` would not survive that).
pub(super) const OPEN_RANGE_END_MS: i64 = (1 << 53) - 1;

/// `{"items": [...], "has_more": bool, "pagination_key"?: str}` of every current list
/// endpoint (§4.3: `/v2/list-agents`, `/list-agent-versions`, `/v2/list-phone-numbers`,
/// `/v3/list-calls`). Other fields (`total`) are ignored.
#[derive(Deserialize)]
pub(super) struct WirePage<T> {
    items: Vec<T>,
    has_more: bool,
    #[serde(default)]
    pagination_key: Option<String>,
}

impl<T> WirePage<T> {
    /// The page, with `next` only when Retell says there is more.
    ///
    /// # Errors
    /// `has_more` without a `pagination_key`: following it is impossible, and answering
    /// `next: None` would pass a truncated list off as complete.
    pub(super) fn into_page(self) -> Result<Page<T>, String> {
        let next = if self.has_more {
            Some(
                self.pagination_key
                    .ok_or("has_more is true but pagination_key is missing")?,
            )
        } else {
            None
        };
        Ok(Page {
            items: self.items,
            next,
        })
    }
}

/// A call object as sent (`GET /v2/get-call`, a `/v3/list-calls` item) with its typed view.
///
/// # Errors
/// When the object lacks what [`RetellCall`](switchboard_actors::retell::call::RetellCall)
/// requires (a `call_id`).
pub(super) fn call_object(raw: Value) -> Result<CallObject, serde_json::Error> {
    Ok(CallObject {
        call: serde_json::from_value(raw.clone())?,
        raw,
    })
}

/// `limit` (clamped to 1..=1000) and `pagination_key` query parameters of a page.
pub(super) fn page_params(page: &PageRequest) -> Vec<(&'static str, String)> {
    let mut params = vec![("limit", page.limit.clamp(1, MAX_PAGE_LIMIT).to_string())];
    if let Some(key) = &page.pagination_key {
        params.push(("pagination_key", key.clone()));
    }
    params
}

/// `POST /v3/list-calls` body (§4.5 current): typed predicates, newest first.
#[derive(Debug, Serialize)]
pub(super) struct ListCallsBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_criteria: Option<CallFilter<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination_key: Option<&'a str>,
    sort_order: &'static str,
}

#[derive(Debug, Serialize)]
struct CallFilter<'a> {
    /// `[{agent_id}]`: calls of any of these agents, any version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    agent: Vec<AgentFilter<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_timestamp: Option<RangeFilter>,
}

#[derive(Debug, Serialize)]
struct AgentFilter<'a> {
    agent_id: &'a str,
}

/// `{"op":"bt","type":"range","value":[lo,hi]}`, inclusive bounds in ms.
#[derive(Debug, Serialize)]
struct RangeFilter {
    op: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    value: [i64; 2],
}

impl<'a> From<&'a CallQuery> for ListCallsBody<'a> {
    /// An open side of the start-time range is filled (0, [`OPEN_RANGE_END_MS`]) rather than
    /// sent as a `ge`/`le` predicate: §4.5 documents `start_timestamp` only as a `range` with
    /// `bt`, and number ops on a range field are not known to be accepted.
    fn from(query: &'a CallQuery) -> Self {
        let start_timestamp = (query.start_after_ms.is_some() || query.start_before_ms.is_some())
            .then(|| RangeFilter {
                op: "bt",
                kind: "range",
                value: [
                    query.start_after_ms.unwrap_or(0),
                    query.start_before_ms.unwrap_or(OPEN_RANGE_END_MS),
                ],
            });
        let agent: Vec<AgentFilter<'a>> = query
            .agent_ids
            .iter()
            .map(|id| AgentFilter { agent_id: id })
            .collect();
        let filter_criteria =
            (!agent.is_empty() || start_timestamp.is_some()).then_some(CallFilter {
                agent,
                start_timestamp,
            });
        let page = query.page.as_ref();
        Self {
            filter_criteria,
            limit: page.map(|p| p.limit.clamp(1, MAX_PAGE_LIMIT)),
            pagination_key: page.and_then(|p| p.pagination_key.as_deref()),
            sort_order: "descending",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(query: &CallQuery) -> Value {
        serde_json::to_value(ListCallsBody::from(query)).unwrap()
    }

    #[test]
    fn list_calls_without_filters_sends_only_the_order() {
        assert_eq!(
            body(&CallQuery::default()),
            json!({"sort_order": "descending"})
        );
    }

    #[test]
    fn list_calls_filters_agents_and_start_range() {
        let query = CallQuery {
            agent_ids: vec!["agent_a".into(), "agent_b".into()],
            start_after_ms: Some(1_000),
            start_before_ms: Some(2_000),
            page: Some(PageRequest {
                limit: 5000,
                pagination_key: Some("call_9".into()),
            }),
        };
        assert_eq!(
            body(&query),
            json!({
                "filter_criteria": {
                    "agent": [{"agent_id": "agent_a"}, {"agent_id": "agent_b"}],
                    "start_timestamp": {"op": "bt", "type": "range", "value": [1000, 2000]}
                },
                "limit": 1000, "pagination_key": "call_9", "sort_order": "descending"
            })
        );
    }

    #[test]
    fn open_start_range_sides_are_filled() {
        let after = CallQuery {
            start_after_ms: Some(7),
            ..CallQuery::default()
        };
        assert_eq!(
            body(&after)["filter_criteria"]["start_timestamp"]["value"],
            json!([7, OPEN_RANGE_END_MS])
        );
        let before = CallQuery {
            start_before_ms: Some(9),
            ..CallQuery::default()
        };
        assert_eq!(
            body(&before)["filter_criteria"],
            json!({"start_timestamp": {"op": "bt", "type": "range", "value": [0, 9]}})
        );
    }

    #[test]
    fn page_without_more_has_no_next_even_with_a_key() {
        let page: WirePage<i32> =
            serde_json::from_value(json!({"items": [1], "has_more": false, "pagination_key": "k"}))
                .unwrap();
        assert_eq!(page.into_page().unwrap().next, None);
    }

    #[test]
    fn more_without_a_key_is_refused() {
        let page: WirePage<i32> =
            serde_json::from_value(json!({"items": [1], "has_more": true})).unwrap();
        assert!(page.into_page().is_err());
    }
}
