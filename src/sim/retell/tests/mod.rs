//! Black-box tests of the simulator through its HTTP surface, one test per guarantee, on a
//! pinned clock: "now" is 2050-09-01 08:00 UTC.

mod agents;
mod auth;
mod calls;
mod faults;
mod llms;
mod numbers;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{App, test};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use std::sync::Arc;
use switchboard_actors::ports::Clock;

use super::RetellSim;

/// The demo salon's Retell key, agent and LLM (examples/tenants/demo-salon-berlin.toml).
const DEMO_KEY: &str = "key_sandbox_0123456789abcdef";
const DEMO_AGENT: &str = "agent_demo_salon_berlin";
const DEMO_LLM: &str = "llm_demo_salon_berlin";
const DEMO_NUMBER: &str = "+493083793369";
/// Thames Physio's (examples/tenants/thames-physio.toml).
const THAMES_KEY: &str = "key_sandbox_thames_7f3a9c2e5b1d4086";
const THAMES_AGENT: &str = "agent_thames_physio_reception";

/// A clock stopped at one instant.
struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2050, 9, 1, 8, 0, 0).unwrap()
}

fn now_ms() -> i64 {
    now().timestamp_millis()
}

/// A fresh demo simulator at the pinned "now".
fn sim() -> RetellSim {
    RetellSim::demo_on(Arc::new(FixedClock(now()))).unwrap()
}

/// What a test looks at in a reply.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    /// Asserts Retell's error body (reference/retell.md §4.2) with `status`; returns the
    /// message.
    fn assert_error(&self, status: StatusCode) -> &str {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["status"], "error", "{}", self.body);
        let keys: Vec<&String> = self.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["message", "status"], "{}", self.body);
        self.body["message"].as_str().unwrap()
    }

    fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        &self.body
    }
}

/// Sends `req` to an app mounting `sim` (apps are cheap; state lives in `sim`).
async fn send(sim: &RetellSim, req: test::TestRequest) -> Reply {
    let app = test::init_service(App::new().configure(|cfg| sim.configure(cfg))).await;
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

fn auth(req: test::TestRequest, key: &str) -> test::TestRequest {
    req.insert_header(("Authorization", format!("Bearer {key}")))
}

/// A GET of `uri` with the demo key.
fn get(uri: &str) -> test::TestRequest {
    auth(test::TestRequest::get().uri(uri), DEMO_KEY)
}

/// A POST of `body` to `uri` with the demo key.
fn post(uri: &str, body: &Value) -> test::TestRequest {
    auth(test::TestRequest::post().uri(uri), DEMO_KEY).set_json(body)
}

/// A PATCH of `body` to `uri` with the demo key.
fn patch(uri: &str, body: &Value) -> test::TestRequest {
    auth(test::TestRequest::patch().uri(uri), DEMO_KEY).set_json(body)
}

/// Reads every page of a list, `limit` at a time; returns the items in order and the pages
/// read. `next` builds the request for a cursor (`None`: the first page).
async fn all_pages(
    sim: &RetellSim,
    next: impl Fn(Option<&str>) -> test::TestRequest,
) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for pages in 1..100 {
        let reply = send(sim, next(cursor.as_deref())).await;
        let body = reply.ok();
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        if body["has_more"] == false {
            assert!(body.get("pagination_key").is_none(), "{body}");
            return (items, pages);
        }
        cursor = Some(body["pagination_key"].as_str().unwrap().to_owned());
    }
    panic!("more than 100 pages");
}
