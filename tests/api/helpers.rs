//! `spawn_app()` and request helpers shared by the black-box tests.

use serde_json::{Value, json};
use std::time::Duration;
use switchboard::config::Settings;
use switchboard::sandbox::{DEMO_PHONE, DEMO_RETELL_API_KEY};
use switchboard::startup::Application;
use switchboard::store::AnyStore;
use switchboard_actors::retell::signature::sign;

/// The admin token every test app is started with.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running application.
pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub calcom_url: String,
    /// The app's own store, for tests that set up rows the API cannot create yet (a second
    /// tenant). It holds the app's credentials key, so a company written through it is one
    /// the app can read; a store freshly connected to the database has no key.
    pub store: AnyStore,
    /// The database URL, for tests that read or write raw rows (no credentials key: use
    /// `store` for companies).
    pub db_url: String,
    /// The server task; resolves to the process exit code when the app stops.
    pub stopped: Option<actix_rt::task::JoinHandle<std::io::Result<i32>>>,
    _dir: tempfile::TempDir,
    /// Base URL of the in-process SMS simulator (`/__sim/messages`, `/__sim/faults`).
    pub sms_url: String,
    /// Base URL of the Retell API the app uses: the in-process simulator unless
    /// `SWITCHBOARD__SANDBOX__RETELL_URL` names another.
    pub retell_url: String,
    /// The app's cache, for tests that check what was cached.
    pub cache: switchboard::cache::AnyCache,
}

/// Starts the app on 127.0.0.1:0 with a fresh database in a temp dir.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra `SWITCHBOARD__…` settings.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = crate::common::database_url(dir.path()).await;
    let mut env: Vec<(String, String)> = vec![
        ("SWITCHBOARD__SERVER__PORT".into(), "0".into()),
        ("SWITCHBOARD__SERVER__WORKERS".into(), "2".into()),
        ("SWITCHBOARD__DATABASE__URL".into(), db.clone()),
        (
            "SWITCHBOARD__SANDBOX__ADMIN_TOKEN".into(),
            ADMIN_TOKEN.into(),
        ),
        ("SWITCHBOARD__OUTBOX__POLL_INTERVAL_MS".into(), "50".into()),
        ("SWITCHBOARD__OUTBOX__BACKOFF_BASE_MS".into(), "50".into()),
        // One key for every app of a test: two instances on one database must read each
        // other's sealed credentials (a sandbox on PostgreSQL would keep a key of its own).
        (
            "SWITCHBOARD__SECRETS__KEY".into(),
            crate::common::SECRETS_KEY.into(),
        ),
    ];
    if let Ok(redis) = std::env::var("SWITCHBOARD_TEST_REDIS_URL") {
        env.push(("SWITCHBOARD__REDIS__URL".into(), redis));
        let prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
        env.push(("SWITCHBOARD__REDIS__KEY_PREFIX".into(), prefix));
    }
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::load_from(None, env).expect("settings");
    let app = Application::build(settings).await.expect("app builds");
    let url = format!("http://127.0.0.1:{}", app.port());
    let calcom_url = app.calcom_url.clone();
    let sms_url = app.sms_url.clone();
    let retell_url = app.retell_url.clone();
    let store = app.store.clone();
    let cache = app.cache.clone();
    let stopped = Some(actix_rt::spawn(app.run_until_stopped()));
    TestApp {
        url,
        client: reqwest::Client::new(),
        calcom_url,
        store,
        db_url: db,
        stopped,
        _dir: dir,
        sms_url,
        retell_url,
        cache,
    }
}

/// Now in ms since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An inbound call object to the demo number (reference/retell.md §1.3).
pub fn call(call_id: &str) -> Value {
    json!({
        "call_id": call_id,
        "agent_id": "agent_test",
        "agent_version": 1,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": "+4915112345678",
        "to_number": DEMO_PHONE,
        "call_status": "ongoing",
        "start_timestamp": now_ms(),
    })
}

/// The call object as `call_ended` carries it.
pub fn ended(call_id: &str) -> Value {
    let mut c = call(call_id);
    c["call_status"] = json!("ended");
    c["end_timestamp"] = json!(now_ms());
    c["duration_ms"] = json!(90_000);
    c["disconnection_reason"] = json!("user_hangup");
    c
}

impl TestApp {
    /// POSTs `body` signed with `key` at `ts_ms` (or unsigned when `key` is `None`).
    pub async fn post_signed(
        &self,
        path: &str,
        body: &Value,
        key: Option<&str>,
        ts_ms: i64,
    ) -> reqwest::Response {
        let bytes = serde_json::to_vec(body).unwrap();
        self.post_raw(path, bytes, key, ts_ms).await
    }

    /// POSTs raw bytes, signed over exactly those bytes when `key` is given.
    pub async fn post_raw(
        &self,
        path: &str,
        bytes: Vec<u8>,
        key: Option<&str>,
        ts_ms: i64,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json");
        if let Some(key) = key {
            req = req.header("X-Retell-Signature", sign(&bytes, key, ts_ms));
        }
        req.body(bytes).send().await.expect("request sent")
    }

    /// A signed custom-function call; returns (status, reply).
    pub async fn function(&self, name: &str, call_id: &str, args: Value) -> (u16, Value) {
        let body = json!({"name": name, "call": call(call_id), "args": args});
        let res = self
            .post_signed(
                "/api/mcp/retell/custom-function",
                &body,
                Some(DEMO_RETELL_API_KEY),
                now_ms(),
            )
            .await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A signed webhook; returns the status.
    pub async fn webhook(&self, event: &str, call: Value) -> u16 {
        let body = json!({"event": event, "call": call});
        self.post_signed(
            "/api/mcp/retell/webhook",
            &body,
            Some(DEMO_RETELL_API_KEY),
            now_ms(),
        )
        .await
        .status()
        .as_u16()
    }

    /// POSTs a raw gateway body with the admin token; returns (status, body or Null).
    pub async fn gateway_raw(&self, body: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/api/mcp/gateway", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// One JSON-RPC call with the admin token; returns the whole response object.
    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        self.gateway_raw(&body, Some(ADMIN_TOKEN)).await.1
    }

    /// `webhook.getCall` data.
    pub async fn get_call(&self, call_id: &str) -> Value {
        self.rpc("webhook.getCall", json!({"call_id": call_id}))
            .await["result"]["data"]
            .clone()
    }

    /// Waits (bounded) until the call's booking job is `done` or `failed`; returns the call view.
    pub async fn wait_for_booking(&self, call_id: &str) -> Value {
        for _ in 0..200 {
            let view = self.get_call(call_id).await;
            if matches!(
                view["booking_job"]["status"].as_str(),
                Some("done" | "failed")
            ) {
                return view;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "booking of {call_id} did not finish: {}",
            self.get_call(call_id).await
        );
    }

    /// Bookings in the simulator (all, via the gateway).
    pub async fn calcom_bookings(&self) -> Vec<Value> {
        let res = self
            .rpc("calcom.getBookings", json!({"company_id": 1}))
            .await;
        res["result"]["data"]["bookings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Ends the Cal.com hold `call_id` keeps on its slot, as its lapse would (the caller was
    /// quiet past `calls.slot_hold_min`): the slot is open to others again while the call's
    /// data stays confirmed.
    pub async fn lapse_hold(&self, call_id: &str) {
        let view = self.get_call(call_id).await;
        let uid = view["collected"]["hold"]["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("{call_id} holds no slot: {view}"));
        let res = self
            .client
            .delete(format!("{}/v2/slots/reservations/{uid}", self.calcom_url))
            .header("cal-api-version", "2024-09-04")
            .bearer_auth(crate::common::CALCOM_KEY)
            .send()
            .await
            .expect("simulator reachable");
        assert!(res.status().is_success(), "{}", res.status());
    }

    /// Collects complete, confirmed data for a Herrenhaarschnitt next Tuesday at `time`.
    pub async fn collect_complete(&self, call_id: &str, time: &str, confirmed: bool) -> Value {
        let (status, reply) = self
            .function(
                "collect_appointment_data",
                call_id,
                json!({
                    "dienstleistung": "Herrenschnitt",
                    "datum": "kommenden Dienstag",
                    "uhrzeit": time,
                    "name": "Max Mustermann",
                    "telefonnummer": "0151 12345678",
                    "bestaetigt": if confirmed { "ja" } else { "nein" },
                }),
            )
            .await;
        assert_eq!(status, 200, "{reply}");
        reply
    }
}
