//! Black-box isolation suite (issue 10, acceptance; issue 11: with onboarded tenants): two
//! tenants, each with its own number, Retell key and company token — A the sandbox's demo
//! tenant applied from its tenant file, B created with `company.create`. Tenant B tries every HTTP endpoint and every JSON-RPC method
//! (the list comes from `rpc.discover`, so a new method fails this suite until it has a case),
//! with its write token and, for the tenant administration methods, its admin token (issue
//! 11), against tenant A's calls, bookings, jobs, tokens and company id. Every attempt must be refused —
//! 401/403 on the Retell endpoints, -32002 for a named company, and for A's object ids the
//! very answer an id that does not exist gets — and the database must be byte for byte what
//! it was before (every table but the workers' heartbeats, which move on their own).

use crate::common::CALCOM_KEY;
use crate::helpers::{ADMIN_TOKEN, TestApp, call, ended, now_ms, spawn_app};
use crate::tokens::create_token;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard::sandbox::DEMO_PHONE;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::functions::NAMES as FUNCTIONS;
use switchboard_actors::ports::TenancyStore;
use switchboard_actors::records::TokenKind;

const B_RETELL_KEY: &str = "key_tenant_b_0123456789abcdef";
pub const B_NUMBER: &str = "+49301234567";
pub const A_TOKEN: &str = "tenant-a-company-token";
pub const B_TOKEN: &str = "tenant-b-company-token";
pub const WEBHOOK: &str = "/api/mcp/retell/webhook";
const FUNCTION: &str = "/api/mcp/retell/custom-function";

/// The running app with both tenants and A's history: a booked call, a live call with
/// collected data, and a dead letter.
pub struct Tenants {
    pub app: TestApp,
    raw: RawDb,
    pub a: CompanyId,
    pub b: CompanyId,
    /// A's call that ended and was booked.
    pub a_booked: &'static str,
    /// A's call still in progress, with the caller's data collected.
    pub a_live: &'static str,
    /// A's failed booking job (a dead letter B could re-queue if it were let).
    a_dead_letter: i64,
    /// An `admin` token of B: the tenant administration methods are B's to call.
    b_admin: String,
    /// A token of A (B must not revoke it).
    a_token_id: i64,
    /// The Cal.com booking uid of `a_booked` (B must not find, move or cancel it).
    pub a_booking_uid: String,
}

/// Starts the app with tenant A (the sandbox's demo company) and tenant B; B's Cal.com key
/// is `b_calcom_key`.
pub async fn tenants_with(b_calcom_key: &str) -> Tenants {
    let app = spawn_app().await;
    let store = app.store.clone();
    let a = store
        .tenant_by_phone(&PhoneNumber::parse_default(DEMO_PHONE).unwrap())
        .await
        .unwrap()
        .unwrap()
        .company
        .id;
    // B is onboarded as an operator would: `company.create` with a tenant as written, the
    // same validation as a tenant file, audited. A is the demo tenant, applied by sandbox
    // mode from examples/tenants/demo-salon-berlin.toml.
    let created = app
        .rpc(
            "company.create",
            json!({
                "slug": "praxis-mond",
                "name": "Praxis Mond",
                "locale": "de",
                "time_zone": "Europe/Berlin",
                "retell": {"api_key": B_RETELL_KEY},
                "calcom": {"api_key": b_calcom_key},
                "branches": [{"slug": "nord", "name": "Nord", "phone_numbers": [B_NUMBER],
                    "opening_hours": {"mon": "08:00-20:00", "tue": "08:00-20:00",
                        "wed": "08:00-20:00", "thu": "08:00-20:00", "fri": "08:00-20:00",
                        "sat": "08:00-20:00", "sun": "08:00-20:00"}}],
                "services": [{"name": "Herrenschnitt", "duration_min": 30, "event_type_id": 1001}],
            }),
        )
        .await;
    let b = CompanyId(
        created["result"]["data"]["company_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("tenant B onboarded: {created}")),
    );
    for (token, company) in [(A_TOKEN, a), (B_TOKEN, b)] {
        crate::tokens::plant_token(&app.db_url, company, token).await;
    }

    let a_booked = "call_a_booked";
    app.collect_complete(a_booked, "10 Uhr", true).await;
    assert_eq!(app.webhook("call_started", call(a_booked)).await, 204);
    assert_eq!(app.webhook("call_ended", ended(a_booked)).await, 204);
    let view = app.wait_for_booking(a_booked).await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let a_booking_uid = view["appointment"]["booking_uid"]
        .as_str()
        .unwrap_or_else(|| panic!("A's booking uid: {view}"))
        .to_owned();
    let a_live = "call_a_live";
    app.collect_complete(a_live, "11 Uhr", false).await;

    let raw = RawDb::connect(&app.db_url).await;
    let a_dead_letter = raw.dead_letter(a).await;
    let (b_admin, _) = create_token(&store, Some(b), TokenKind::Admin, "b admin", None).await;
    let (_, a_token_id) = create_token(&store, Some(a), TokenKind::Read, "a desk", None).await;
    Tenants {
        app,
        raw,
        a,
        b,
        a_booked,
        a_live,
        a_dead_letter,
        b_admin,
        a_token_id,
        a_booking_uid,
    }
}

/// [`tenants_with`] B's own Cal.com key, which the simulator does not know: B's upstream
/// calls fail, for B alone.
pub async fn tenants() -> Tenants {
    tenants_with("cal_tenant_b").await
}

impl Tenants {
    /// One JSON-RPC call with `token`; the response object.
    pub async fn rpc_as(&self, token: &str, method: &str, params: Value) -> Value {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        self.app.gateway_raw(&body, Some(token)).await.1
    }

    /// A call object of `call_id` to `number` (the business number routes the tenant).
    pub fn call_to(call_id: &str, number: &str, ended: bool) -> Value {
        let mut object = if ended {
            crate::helpers::ended(call_id)
        } else {
            call(call_id)
        };
        object["to_number"] = json!(number);
        object
    }

    /// POSTs `body` to `path` signed with B's key; the status and the body text.
    pub async fn as_b(&self, path: &str, body: &Value) -> (u16, String) {
        let res = self
            .app
            .post_signed(path, body, Some(B_RETELL_KEY), now_ms())
            .await;
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// What A holds: every table of the database, and A's bookings at Cal.com.
    pub async fn a_state(&self) -> (BTreeMap<String, String>, Value) {
        let bookings = self
            .app
            .rpc("calcom.getBookings", json!({"company_id": self.a.0}))
            .await["result"]["data"]
            .clone();
        (self.raw.dump().await, bookings)
    }

    /// The Cal.com booking of a call `view` (`webhook.getCall` data) of A.
    pub async fn booking_of(&self, view: &Value) -> Value {
        let uid = &view["appointment"]["booking_uid"];
        self.app
            .calcom_bookings()
            .await
            .into_iter()
            .find(|b| b["uid"] == *uid)
            .unwrap_or_else(|| panic!("booking of {view} not at Cal.com"))
    }

    /// Asserts that A's collected data appears nowhere in `text`.
    fn assert_no_a_data(&self, text: &str) {
        for secret in [
            "Max Mustermann",
            "4915112345678",
            self.a_booked,
            self.a_live,
        ] {
            assert!(!text.contains(secret), "A's {secret:?} leaked: {text}");
        }
    }
}

#[actix_web::test]
async fn tenant_b_cannot_read_or_write_a_calls_via_webhooks() {
    let t = tenants().await;
    let before = t.a_state().await;

    for call_id in [t.a_booked, t.a_live] {
        for event in [
            "call_started",
            "call_ended",
            "call_analyzed",
            "transcript_updated",
        ] {
            // B signs with its own key for its own number but names A's call.
            let ended = event != "call_started";
            let body = json!({"event": event, "call": Tenants::call_to(call_id, B_NUMBER, ended)});
            let (status, text) = t.as_b(WEBHOOK, &body).await;
            assert_eq!(status, 403, "{event} {call_id}: {text}");
            t.assert_no_a_data(&text.replace(call_id, ""));
            // B signs with its own key for A's number: the signature is A's key's to check.
            let body =
                json!({"event": event, "call": Tenants::call_to(call_id, DEMO_PHONE, ended)});
            let (status, text) = t.as_b(WEBHOOK, &body).await;
            assert_eq!(status, 401, "{event} {call_id} to A's number: {text}");
        }
    }

    assert_eq!(t.a_state().await, before);
    // A's own webhook is not a duplicate of anything B sent.
    assert_eq!(t.app.webhook("call_analyzed", ended(t.a_booked)).await, 204);
    let stats = t
        .rpc_as(A_TOKEN, "webhook.getWebhookStats", json!({}))
        .await;
    assert_eq!(
        stats["result"]["data"]["events"]["call_analyzed"], 1,
        "{stats}"
    );
    assert_eq!(stats["result"]["data"]["duplicates"], 0, "{stats}");
}

#[actix_web::test]
async fn tenant_b_cannot_read_or_write_a_calls_via_custom_functions() {
    let t = tenants().await;
    let before = t.a_state().await;
    let args = json!({"name": "Mallory", "email": "m@evil.example", "datum": "morgen",
        "uhrzeit": "10 Uhr", "dienstleistung": "Herrenschnitt", "bestaetigt": "ja"});

    for call_id in [t.a_booked, t.a_live] {
        for name in FUNCTIONS {
            let on_b = Tenants::call_to(call_id, B_NUMBER, false);
            let on_a = Tenants::call_to(call_id, DEMO_PHONE, false);
            let attempts = [
                (
                    FUNCTION.to_owned(),
                    json!({"name": name, "call": on_b, "args": args}),
                ),
                (
                    format!("{FUNCTION}/{name}"),
                    json!({"name": name, "call": on_b, "args": args}),
                ),
                (
                    format!("{FUNCTION}/{name}?call_id={call_id}&to_number=%2B49301234567"),
                    args.clone(),
                ),
            ];
            for (path, body) in attempts {
                let (status, text) = t.as_b(&path, &body).await;
                // A function that touches the call's data is refused (403; 400/401 where the
                // request's routing itself is refused); one that does not (e.g.
                // calculate_duration) answers for B alone. None shows or changes A's data.
                assert!(
                    matches!(status, 200 | 400 | 401 | 403),
                    "{name} {path}: {status} {text}"
                );
                t.assert_no_a_data(&text.replace(call_id, ""));
            }
            let body = json!({"name": name, "call": on_a, "args": args});
            let (status, text) = t.as_b(FUNCTION, &body).await;
            assert_eq!(status, 401, "{name} to A's number: {text}");
        }
    }

    assert_eq!(t.a_state().await, before);
}

/// Params that make `method` valid apart from the tenant it targets; `None` for a method this
/// suite has no case for yet, which fails the suite.
fn base_params(method: &str, t: &Tenants) -> Option<Value> {
    let day = |days| (Utc::now() + Duration::days(days)).date_naive().to_string();
    Some(match method {
        "calcom.checkAvailability" => json!({"service": "Herrenschnitt", "date": day(1)}),
        "calcom.createBooking" => json!({"service": "Herrenschnitt", "date": day(8),
            "time": "15:00", "name": "Mallory", "phone": "+4915199999999",
            "idempotency_key": format!("retell:{}:{}:book", t.a.0, t.a_live)}),
        "queue.retryFailed" => json!({"since": "2000-01-01T00:00:00Z"}),
        "queue.retryJob" => json!({"job_id": t.a_dead_letter}),
        "webhook.getCall" => json!({"call_id": t.a_booked}),
        "webhook.listCalls" => json!({"since": "2000-01-01T00:00:00Z", "until": day(1)
            + "T00:00:00Z"}),
        "retell.getCallDetails" => json!({"call_id": t.a_booked}),
        "retell.updateAgent" => json!({"agent_name": "Mallory"}),
        "retell.config.updateWebhookSettings" => {
            json!({"webhook_url": "https://mallory.example.com/hook"})
        }
        "retell.config.updateCustomFunction" => {
            json!({"name": "check_availability", "settings": {"description": "Mallory"}})
        }
        "retell.config.deployCustomFunctions"
        | "retell.config.getCustomFunctions"
        | "retell.config.getWebhookConfiguration"
        | "retell.config.testWebhook" => json!({}),
        "retell.publishAgentVersion" => json!({"version": 0}),
        "retell.setPhoneNumberAgentVersion" => {
            json!({"phone_number": DEMO_PHONE, "agent_version": 0})
        }
        "retell.listAgents"
        | "retell.getAgent"
        | "retell.getAgentVersions"
        | "retell.getRecentCalls"
        | "retell.getCallStats"
        | "retell.importCalls"
        | "retell.syncPhoneNumbers"
        | "retell.testConnection"
        | "retell.healthCheck" => json!({}),
        "retell.function.execute" => json!({"name": "collect_appointment_data",
            "call": Tenants::call_to(t.a_live, B_NUMBER, false), "args": {"name": "Mallory"}}),
        "fault.panic" => json!({"actor": "webhook"}),
        "database.getCallStats" | "database.getTenantStats" => {
            json!({"from": day(-1), "to": day(1)})
        }
        "database.search" => json!({"q": "Mustermann"}),
        "database.query" => json!({"sql": "SELECT * FROM calls"}),
        "database.getFailedAppointments" | "database.getSchema" => json!({}),
        "calcom.syncEventTypes" => json!({"apply": true}),
        "calcom.testConnection" => json!({}),
        "appointments.find" => json!({"phone": "+4915112345678"}),
        "appointments.change" | "calcom.updateBooking" => json!({
            "booking_uid": t.a_booking_uid, "start": format!("{}T15:00:00+01:00", day(9))}),
        "appointments.cancel" | "calcom.cancelBooking" => json!({"booking_uid": t.a_booking_uid}),
        "calcom.getBookings"
        | "calcom.getEventTypes"
        | "queue.getFailedJobs"
        | "queue.getMetrics"
        | "queue.getOverview"
        | "queue.getRecentJobs"
        | "queue.getWorkers"
        | "webhook.getWebhookStats"
        | "test.echo" => json!({}),
        _ => return crate::admin::admin_params(method, t.a_token_id),
    })
}

fn error_code(response: &Value) -> i64 {
    assert!(response.get("result").is_none(), "not refused: {response}");
    response["error"]["code"].as_i64().unwrap()
}

#[actix_web::test]
async fn tenant_b_cannot_reach_a_through_any_gateway_method() {
    let t = tenants().await;
    let discover = t.rpc_as(B_TOKEN, "rpc.discover", json!({})).await;
    let methods = discover["result"]["methods"].as_array().unwrap().clone();
    assert!(methods.len() > 10, "{discover}");
    let before = t.a_state().await;

    // B's write token, and B's admin token for the tenant administration methods.
    for (token, write_only) in [(B_TOKEN, true), (t.b_admin.as_str(), false)] {
        for method in &methods {
            let name = method["name"].as_str().unwrap();
            let properties = &method["params"][0]["schema"]["properties"];
            let base = base_params(name, &t)
                .unwrap_or_else(|| panic!("add an isolation case for the new method {name}"));
            if write_only && matches!(method["x-scope"].as_str(), Some("admin" | "platform")) {
                // Above the token's scope: refused before anything is looked at.
                let response = t.rpc_as(token, name, base).await;
                assert_eq!(error_code(&response), -32002, "{name}: {response}");
                continue;
            }
            if name == "company.list" {
                // Names no company and no object: B's own listing, checked below.
                continue;
            }
            if name == "database.getSchema" {
                // Documentation of the views, the same for every caller: nothing of A.
                let response = t.rpc_as(token, name, base).await;
                t.assert_no_a_data(&response.to_string());
                continue;
            }
            try_to_reach_a(&t, token, name, properties, base).await;
        }
    }
    // B's own listings (no company named) show nothing of A.
    for name in [
        "queue.getRecentJobs",
        "queue.getFailedJobs",
        "webhook.getWebhookStats",
        "database.getFailedAppointments",
        "company.list",
        "company.getAuditLog",
        "auth.listTokens",
        "branch.list",
        "service.list",
    ] {
        let response = t.rpc_as(&t.b_admin, name, json!({})).await;
        t.assert_no_a_data(&response.to_string());
        assert!(
            !response
                .to_string()
                .contains(&format!("\"company_id\":{}", t.a.0)),
            "{name}: {response}"
        );
    }
    let listed = t.rpc_as(&t.b_admin, "company.list", json!({})).await;
    let companies = listed["result"]["data"]["companies"].as_array().unwrap();
    assert!(
        companies.iter().all(|c| c["id"] == t.b.0) && companies.len() == 1,
        "{listed}"
    );

    assert_eq!(t.a_state().await, before);
}

/// One gateway method tried by B's `token` against A: naming A's company (-32002), naming
/// A's object by id (answered as an id that does not exist), or, naming neither, refused as
/// a method of the operators alone.
async fn try_to_reach_a(t: &Tenants, token: &str, name: &str, properties: &Value, base: Value) {
    let mut tried = 0;
    if properties.get("company_id").is_some() {
        // Naming A's company is refused, whatever else the call asks.
        let mut params = base.clone();
        params["company_id"] = json!(t.a.0);
        let response = t.rpc_as(token, name, params).await;
        assert_eq!(error_code(&response), -32002, "{name}: {response}");
        tried += 1;
    }
    if ["call_id", "job_id", "call", "token_id", "booking_uid"]
        .iter()
        .any(|key| base.get(key).is_some())
    {
        // A's object by id, without naming A: answered as an id that does not exist.
        let response = t.rpc_as(token, name, base.clone()).await;
        assert_eq!(error_code(&response), -32602, "{name}: {response}");
        t.assert_no_a_data(
            &response
                .to_string()
                .replace(t.a_live, "")
                .replace(t.a_booked, ""),
        );
        tried += 1;
    }
    if tried == 0 {
        // Neither a company nor an object: only the operators' token may call it.
        let response = t.rpc_as(token, name, base).await;
        assert_eq!(error_code(&response), -32002, "{name}: {response}");
    }
}

#[actix_web::test]
async fn tenant_b_cannot_probe_a_call_ids_job_ids_or_numbers() {
    let t = tenants().await;
    let unknown_call = "call_nobody_has";
    // The answer for A's object, with its id swapped for the unknown one in the texts that
    // name it, is exactly the answer for the unknown id: same code, message and data.
    let same = |theirs: &Value, theirs_id: &str, unknown: &Value, unknown_id: &str| {
        let mut theirs = theirs.clone();
        for pointer in ["/error/message", "/error/data/details"] {
            if let Some(text) = theirs.pointer_mut(pointer)
                && let Some(named) = text.as_str()
            {
                *text = json!(named.replace(theirs_id, unknown_id));
            }
        }
        assert_eq!(
            &theirs, unknown,
            "A's object is distinguishable from a missing one"
        );
    };

    let theirs = t
        .rpc_as(B_TOKEN, "webhook.getCall", json!({"call_id": t.a_booked}))
        .await;
    let unknown = t
        .rpc_as(B_TOKEN, "webhook.getCall", json!({"call_id": unknown_call}))
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    same(&theirs, t.a_booked, &unknown, unknown_call);

    let missing_job = t.a_dead_letter + 1_000_000;
    let theirs = t
        .rpc_as(
            B_TOKEN,
            "queue.retryJob",
            json!({"job_id": t.a_dead_letter}),
        )
        .await;
    let unknown = t
        .rpc_as(B_TOKEN, "queue.retryJob", json!({"job_id": missing_job}))
        .await;
    same(
        &theirs,
        &t.a_dead_letter.to_string(),
        &unknown,
        &missing_job.to_string(),
    );

    // Revoking A's token answers as revoking one that does not exist.
    let missing_token = t.a_token_id + 1_000_000;
    let theirs = t
        .rpc_as(
            &t.b_admin,
            "auth.revokeToken",
            json!({"token_id": t.a_token_id}),
        )
        .await;
    let unknown = t
        .rpc_as(
            &t.b_admin,
            "auth.revokeToken",
            json!({"token_id": missing_token}),
        )
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    same(
        &theirs,
        &t.a_token_id.to_string(),
        &unknown,
        &missing_token.to_string(),
    );

    // Naming A's company answers as naming a company that does not exist.
    let missing_company = t.a.0 + t.b.0 + 1_000;
    let theirs = t
        .rpc_as(B_TOKEN, "queue.getOverview", json!({"company_id": t.a.0}))
        .await;
    let unknown = t
        .rpc_as(
            B_TOKEN,
            "queue.getOverview",
            json!({"company_id": missing_company}),
        )
        .await;
    assert_eq!(unknown["error"]["code"], -32002, "{unknown}");
    same(
        &theirs,
        &t.a.0.to_string(),
        &unknown,
        &missing_company.to_string(),
    );

    // retell.function.execute naming A's number answers as a number nobody configured.
    let nobody = "+493099999999";
    let execute = |number: &str| {
        json!({"name": "collect_appointment_data",
            "call": Tenants::call_to("call_probe", number, false), "args": {}})
    };
    let theirs = t
        .rpc_as(B_TOKEN, "retell.function.execute", execute(DEMO_PHONE))
        .await;
    let unknown = t
        .rpc_as(B_TOKEN, "retell.function.execute", execute(nobody))
        .await;
    assert_eq!(unknown["error"]["code"], 1003, "{unknown}");
    same(&theirs, DEMO_PHONE, &unknown, nobody);

    // ... and naming A's call on B's own number answers as getCall does for an unknown call.
    let theirs = t
        .rpc_as(
            B_TOKEN,
            "retell.function.execute",
            json!({"name": "collect_appointment_data",
                "call": Tenants::call_to(t.a_live, B_NUMBER, false), "args": {}}),
        )
        .await;
    let unknown = t
        .rpc_as(B_TOKEN, "webhook.getCall", json!({"call_id": unknown_call}))
        .await;
    same(&theirs, t.a_live, &unknown, unknown_call);
}

#[actix_web::test]
async fn tenant_b_cannot_pre_empt_a_call_booking_with_its_key() {
    // B shares A's Cal.com account here, so B's bookings really are made and a key clash
    // would show as A's call reusing B's booking.
    let t = tenants_with(CALCOM_KEY).await;
    let a_call = "call_a_later";
    let day = (Utc::now() + Duration::days(9)).date_naive().to_string();
    // B books first under every key A's booking of this call has had.
    for (time, key) in [
        ("16:00", format!("retell:{a_call}:book")),
        ("17:00", format!("retell:{}:{a_call}:book", t.a.0)),
    ] {
        let response = t
            .rpc_as(
                B_TOKEN,
                "calcom.createBooking",
                json!({"service": "Herrenschnitt", "date": day, "time": time,
                    "name": "Mallory", "phone": "+4915199999999", "idempotency_key": key}),
            )
            .await;
        assert!(
            response["result"]["data"]["booking"]["uid"].is_string(),
            "{response}"
        );
    }
    t.app.collect_complete(a_call, "12 Uhr", true).await;
    assert_eq!(t.app.webhook("call_ended", ended(a_call)).await, 204);
    let view = t.app.wait_for_booking(a_call).await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let booking = t.booking_of(&view).await;
    assert_eq!(
        booking["attendees"][0]["name"], "Max Mustermann",
        "{booking}"
    );
}

/// The app's database as SQL can see it, for snapshots and for rows the API cannot create.
enum RawDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl RawDb {
    async fn connect(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            RawDb::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            RawDb::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    /// Inserts a failed booking job of `company`; returns its id.
    async fn dead_letter(&self, company: CompanyId) -> i64 {
        let sql = "INSERT INTO jobs (queue, kind, company_id, call_id, idempotency_key, payload, \
                 status, attempts, max_attempts, next_run_at, last_error, created_at, updated_at) \
             VALUES ('bookings', 'book', $1, 'call_a_failed', 'retell:a:failed', '{}', 'failed', \
                 5, 5, $2, 'slot taken', $2, $2) RETURNING id";
        let now = Utc::now();
        match self {
            RawDb::Sqlite(pool) => sqlx::query_scalar(sql)
                .bind(company.0)
                .bind(now)
                .fetch_one(pool)
                .await
                .unwrap(),
            RawDb::Postgres(pool) => sqlx::query_scalar(sql)
                .bind(company.0)
                .bind(now)
                .fetch_one(pool)
                .await
                .unwrap(),
        }
    }

    /// Every row of every table but `outbox_workers` (heartbeats move on their own), as JSON
    /// text per table.
    async fn dump(&self) -> BTreeMap<String, String> {
        let mut dump = BTreeMap::new();
        match self {
            RawDb::Sqlite(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' \
                     AND name <> 'outbox_workers'",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                for table in tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                            .bind(&table)
                            .fetch_all(pool)
                            .await
                            .unwrap();
                    let sql = format!(
                        "SELECT COALESCE(json_group_array(json_array({})), '[]') \
                         FROM (SELECT * FROM {table} ORDER BY rowid)",
                        columns.join(", ")
                    );
                    let rows: String = sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap();
                    dump.insert(table, rows);
                }
            }
            RawDb::Postgres(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
                     AND tablename NOT LIKE '_sqlx%' AND tablename <> 'outbox_workers'",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                for table in tables {
                    let sql = format!(
                        "SELECT COALESCE(json_agg(t ORDER BY t::text)::text, '[]') FROM {table} t"
                    );
                    let rows: String = sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap();
                    dump.insert(table, rows);
                }
            }
        }
        dump
    }
}

#[actix_web::test]
async fn admin_still_reads_every_tenant() {
    let t = tenants().await;
    let view = t
        .rpc_as(
            ADMIN_TOKEN,
            "webhook.getCall",
            json!({"call_id": t.a_booked}),
        )
        .await;
    assert_eq!(view["result"]["data"]["company_id"], t.a.0, "{view}");
    let own = t
        .rpc_as(A_TOKEN, "webhook.getCall", json!({"call_id": t.a_booked}))
        .await;
    assert_eq!(own["result"]["data"], view["result"]["data"]);
    assert_ne!(t.a, t.b);
}
