//! Black-box tests of the simulator through its HTTP surface, one test per guarantee, on a
//! pinned clock: "now" is Thursday 2050-09-01 08:00 UTC unless a test moves it.

mod accounts;
mod auth_and_routing;
mod bookings;
mod event_types;
mod faults;
mod list;
mod reservations;
mod serve;
mod slots;
mod webhooks;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{App, test};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use switchboard_actors::ports::Clock;

use super::CalcomSim;
use super::catalog::SANDBOX_CALCOM_API_KEY;

const BOOKINGS: &str = "2024-08-13";
const SLOTS: &str = "2024-09-04";
const EVENT_TYPES: &str = "2024-06-14";

/// A clock tests can move.
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// A fresh demo simulator at the default "now" and the handle to move its clock.
fn sim() -> (CalcomSim, Arc<TestClock>) {
    let clock = Arc::new(TestClock(Mutex::new(utc(2050, 9, 1, 8, 0))));
    (CalcomSim::demo().with_clock(clock.clone()), clock)
}

/// Starts `sim` on an ephemeral loopback port; returns its address and stop handle.
fn start(sim: &CalcomSim) -> (SocketAddr, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = sim.serve(listener).unwrap();
    let handle = server.handle();
    actix_rt::spawn(server);
    (addr, handle)
}

/// What a test looks at in a reply.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    /// `error.message` of the envelope.
    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// Asserts the envelope shape of §5 with `status`, `code` and `message`.
    fn assert_envelope(&self, status: StatusCode, code: &str, message: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["status"], "error", "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert_eq!(self.message(), message, "{}", self.body);
        assert!(
            self.body["timestamp"].is_string() && self.body["path"].is_string(),
            "{}",
            self.body
        );
    }
}

/// Sends `req` to an app mounting `sim` (apps are cheap; state lives in `sim`).
async fn send(sim: &CalcomSim, req: test::TestRequest) -> Reply {
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

fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {SANDBOX_CALCOM_API_KEY}"))
}

/// An authenticated GET with `cal-api-version: version`.
fn get(uri: &str, version: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri(uri)
        .insert_header(("cal-api-version", version))
        .insert_header(bearer())
}

/// An authenticated POST of `body` with `cal-api-version: version`.
fn post(uri: &str, version: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("cal-api-version", version))
        .insert_header(bearer())
        .set_json(body)
}

/// A valid create body for the 30-minute event type 1001 at `start`.
fn booking_body(start: &str) -> Value {
    json!({
        "start": start,
        "eventTypeId": 1001,
        "attendee": { "name": "Alice Müller", "timeZone": "Europe/Berlin", "email": "alice@example.com", "language": "de" },
    })
}

/// Creates a booking from `body`, asserting 201, and returns its `data`.
async fn book(sim: &CalcomSim, body: &Value) -> Value {
    let reply = send(sim, post("/v2/bookings", BOOKINGS, body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["data"].clone()
}

/// The `start`s of a slots reply for `day`.
fn starts(reply: &Reply, day: &str) -> Vec<String> {
    reply.data()[day]
        .as_array()
        .map(|slots| {
            slots
                .iter()
                .filter_map(|s| s["start"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
