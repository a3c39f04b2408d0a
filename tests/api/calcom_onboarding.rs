//! The Cal.com side of onboarding (issue 11): `calcom.testConnection`,
//! `calcom.syncEventTypes`, a tenant's own Cal.com base URL, and sandbox provisioning of every
//! tenant into the simulator.

use crate::helpers::{TestApp, spawn_app};
use crate::tokens::create_token;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard::sim::calcom::CalcomSim;
use switchboard::sim::calcom::catalog::SANDBOX_CALCOM_API_KEY;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::domain::onboarding::{
    AuditRecord, RawTenant, TenantRef, TenantSpec, literal_secret,
};
use switchboard_actors::ports::TenantAdminStore as _;
use switchboard_actors::records::TokenKind;

/// A tenant with one branch (`phone`), the Cal.com `key` (and `base_url`), and `services`.
fn tenant(slug: &str, phone: &str, key: &str, base_url: Option<&str>, services: Value) -> Value {
    json!({
        "slug": slug,
        "name": format!("Tenant {slug}"),
        "locale": "en",
        "time_zone": "Europe/London",
        "retell": { "api_key": "key_test_0123456789" },
        "calcom": { "api_key": key, "base_url": base_url },
        "branches": [{ "slug": "main", "name": "Main", "phone_numbers": [phone],
                       "opening_hours": { "mon": "10:00-12:00", "tue": "09:00-17:00" } }],
        "services": services,
    })
}

/// Writes `raw` through the one tenant write path and returns its id.
async fn write(app: &TestApp, raw: Value) -> CompanyId {
    let raw: RawTenant = serde_json::from_value(raw).expect("tenant JSON");
    let spec = TenantSpec::from_raw(&raw, &literal_secret).expect("valid tenant");
    let audit = AuditRecord {
        actor: "test".into(),
        action: "test setup".into(),
        changes: Vec::new(),
    };
    app.store
        .write_tenant(&spec, &audit)
        .await
        .expect("tenant written")
}

/// The stored event type id of every service of `company`, in order.
async fn stored_ids(app: &TestApp, company: CompanyId) -> Vec<Option<i64>> {
    let state = app.store.tenant(&TenantRef::Id(company)).await.unwrap();
    let services = state.expect("tenant stored").spec.services;
    services
        .iter()
        .map(|s| s.event_type_id.map(|id| id.0))
        .collect()
}

/// `id` of every item of the array at `items`.
fn ids(items: &Value) -> Vec<i64> {
    let items = items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"));
    items.iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

/// One JSON-RPC call with `token`.
async fn rpc_as(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    app.gateway_raw(&body.to_string(), Some(token)).await.1
}

/// The demo key's event types 1001 (30 min), 1002 (60), 1003 (90): one service matched by
/// id, one only by title (stored id 9002 is unknown, length differs), one by nothing.
fn demo_services() -> Value {
    json!([
        { "name": "Herrenhaarschnitt", "duration_min": 30, "event_type_id": 1001 },
        { "name": "damenhaarschnitt", "duration_min": 45, "event_type_id": 9002 },
        { "name": "Massage", "duration_min": 60, "event_type_id": 9003 },
    ])
}

#[actix_rt::test]
async fn test_connection_reports_user_and_latency() {
    let app = spawn_app().await;
    let reply = app
        .rpc("calcom.testConnection", json!({"company_id": 1}))
        .await;
    let data = &reply["result"]["data"];
    assert_eq!(data["user"]["username"], "demo-salon", "{reply}");
    assert_eq!(data["user"]["id"], 1);
    assert_eq!(data["user"]["email"], "demo-salon@example.com");
    assert_eq!(data["api_version"], "2024-06-14");
    assert!(data["latency_ms"].is_u64(), "{reply}");
    assert!(data["team"].is_null());
}

#[actix_rt::test]
async fn test_connection_with_a_wrong_key_is_2001() {
    let app = spawn_app().await;
    let company = write(
        &app,
        tenant(
            "wrong-key",
            "+442079460001",
            "cal_not_a_real_key",
            None,
            json!([]),
        ),
    )
    .await;
    let reply = app
        .rpc("calcom.testConnection", json!({"company_id": company}))
        .await;
    assert_eq!(reply["error"]["code"], 2001, "{reply}");
}

#[actix_rt::test]
async fn test_connection_to_an_unreachable_calcom_is_32004() {
    let app = spawn_app().await;
    let closed = format!("http://127.0.0.1:{}", crate::common::free_port());
    let company = write(
        &app,
        tenant(
            "down",
            "+442079460002",
            "cal_any_key",
            Some(&closed),
            json!([]),
        ),
    )
    .await;
    let reply = app
        .rpc("calcom.testConnection", json!({"company_id": company}))
        .await;
    assert_eq!(reply["error"]["code"], -32004, "{reply}");
}

#[actix_rt::test]
async fn sync_event_types_reports_unmapped_and_unused() {
    let app = spawn_app().await;
    let company = write(
        &app,
        tenant(
            "sync-report",
            "+442079460003",
            SANDBOX_CALCOM_API_KEY,
            None,
            demo_services(),
        ),
    )
    .await;
    let reply = app
        .rpc("calcom.syncEventTypes", json!({"company_id": company}))
        .await;
    let data = &reply["result"]["data"];
    assert_eq!(
        data["matched"],
        json!([
            {"service": "Herrenhaarschnitt", "event_type_id": 1001, "by": "id"},
            {"service": "damenhaarschnitt", "event_type_id": 1002, "by": "title"},
        ]),
        "{reply}"
    );
    assert_eq!(data["unmapped_services"], json!(["Massage"]));
    let unused = ids(&data["unused_event_types"]);
    assert_eq!(unused, [1003]);
    assert_eq!(
        data["duration_mismatches"],
        json!([{"service": "damenhaarschnitt", "duration_min": 45, "event_type_id": 1002, "length_in_minutes": 60}])
    );
    assert_eq!(data["applied"], false);
    assert_eq!(data["changes"].as_array().unwrap().len(), 1, "{reply}");
    // Read-only: the stored mapping is unchanged.
    assert_eq!(
        stored_ids(&app, company).await,
        [Some(1001), Some(9002), Some(9003)]
    );
}

#[actix_rt::test]
async fn sync_event_types_apply_writes_the_mapping_and_audits() {
    let app = spawn_app().await;
    let company = write(
        &app,
        tenant(
            "sync-apply",
            "+442079460004",
            SANDBOX_CALCOM_API_KEY,
            None,
            demo_services(),
        ),
    )
    .await;
    let reply = app
        .rpc(
            "calcom.syncEventTypes",
            json!({"company_id": company, "apply": true}),
        )
        .await;
    assert_eq!(reply["result"]["data"]["applied"], true, "{reply}");
    let changes = reply["result"]["data"]["changes"].clone();

    assert_eq!(
        stored_ids(&app, company).await,
        [Some(1001), Some(1002), Some(9003)]
    );
    let log = app.store.audit_log(Some(company), 10, None).await.unwrap();
    let entry = log
        .iter()
        .find(|e| e.action == "calcom.syncEventTypes")
        .expect("audited");
    assert_eq!(json!(entry.changes), changes);
    assert!(entry.actor.contains("token"), "{}", entry.actor);

    let again = app
        .rpc(
            "calcom.syncEventTypes",
            json!({"company_id": company, "apply": true}),
        )
        .await;
    assert_eq!(again["result"]["data"]["changes"], json!([]), "{again}");
    assert_eq!(again["result"]["data"]["applied"], false);
}

#[actix_rt::test]
async fn sync_apply_needs_an_admin_token() {
    let app = spawn_app().await;
    let company = write(
        &app,
        tenant(
            "sync-scope",
            "+442079460005",
            SANDBOX_CALCOM_API_KEY,
            None,
            demo_services(),
        ),
    )
    .await;
    let (write_token, _) =
        create_token(&app.store, Some(company), TokenKind::Write, "writer", None).await;
    let refused = rpc_as(
        &app,
        &write_token,
        "calcom.syncEventTypes",
        json!({"apply": true}),
    )
    .await;
    assert_eq!(refused["error"]["code"], -32002, "{refused}");
    assert_eq!(
        stored_ids(&app, company).await,
        [Some(1001), Some(9002), Some(9003)]
    );

    let report = rpc_as(&app, &write_token, "calcom.syncEventTypes", json!({})).await;
    assert_eq!(report["result"]["data"]["applied"], false, "{report}");
    let (admin_token, _) =
        create_token(&app.store, Some(company), TokenKind::Admin, "owner", None).await;
    let applied = rpc_as(
        &app,
        &admin_token,
        "calcom.syncEventTypes",
        json!({"apply": true}),
    )
    .await;
    assert_eq!(applied["result"]["data"]["applied"], true, "{applied}");
}

#[actix_rt::test]
async fn tenant_with_its_own_base_url_is_served_by_that_url() {
    let app = spawn_app().await;
    // A second simulator on a port of its own, with an account the sandbox one lacks.
    let own = CalcomSim::demo();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let own_url = format!("http://{}", listener.local_addr().unwrap());
    let server = own.serve(listener).unwrap();
    let handle = server.handle();
    actix_rt::spawn(server);
    let key = "cal_own_instance_key";
    let added = app
        .client
        .post(format!("{own_url}/__sim/accounts"))
        .json(&json!({
            "api_key": key,
            "user": {"username": "eu-clinic", "name": "EU Clinic", "email": "eu@clinic.example", "time_zone": "Europe/Dublin"},
            "event_types": [{"id": 7001, "title": "Consultation", "slug": "consultation", "length_min": 20}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let services = json!([{ "name": "Consultation", "duration_min": 20, "event_type_id": 7001 }]);
    let company = write(
        &app,
        tenant("own-url", "+442079460006", key, Some(&own_url), services),
    )
    .await;

    let me = app
        .rpc("calcom.testConnection", json!({"company_id": company}))
        .await;
    assert_eq!(
        me["result"]["data"]["user"]["username"], "eu-clinic",
        "{me}"
    );
    assert_eq!(me["result"]["data"]["base_url"], own_url);
    let types = app
        .rpc("calcom.getEventTypes", json!({"company_id": company}))
        .await;
    let ids = ids(&types["result"]["data"]["event_types"]);
    assert_eq!(ids, [7001], "{types}");
    // The sandbox simulator never heard of the key: provisioning leaves such tenants alone.
    let sandbox = app
        .client
        .get(format!("{}/v2/me", app.calcom_url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(sandbox.status(), 401);
    handle.stop(false).await;
}

#[actix_rt::test]
async fn sandbox_provisions_every_tenant_into_the_simulator() {
    let app = spawn_app().await;
    let key = "cal_provisioned_tenant_key";
    let services = json!([
        { "name": "First consultation", "duration_min": 45, "event_type_id": 5001 },
        { "name": "Check-up", "duration_min": 30, "event_type_id": 5002, "event_type_slug": "checkup" },
    ]);
    let company = write(
        &app,
        tenant("provisioned", "+442079460007", key, None, services),
    )
    .await;

    // Provisioning runs every 5 s; wait (bounded) for the account to appear.
    let mut account = Value::Null;
    for _ in 0..100 {
        let accounts: Value = app
            .client
            .get(format!("{}/__sim/accounts", app.calcom_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(found) = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["user"]["username"] == "provisioned")
        {
            account = found.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(account["user"]["time_zone"], "Europe/London", "{account}");
    assert_eq!(account["working_hours"]["mon"], "10:00-12:00");
    assert_eq!(account["working_hours"]["sun"], "closed");
    let types: Vec<(i64, String, i64)> = account["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["slug"].as_str().unwrap().to_owned(),
                t["length_min"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            (5001, "first-consultation".into(), 45),
            (5002, "checkup".into(), 30)
        ]
    );

    // The tenant now books against its own account through the gateway.
    let listed = app
        .rpc("calcom.getEventTypes", json!({"company_id": company}))
        .await;
    let ids = ids(&listed["result"]["data"]["event_types"]);
    assert_eq!(ids, [5001, 5002], "{listed}");
    let me = app
        .rpc("calcom.testConnection", json!({"company_id": company}))
        .await;
    assert_eq!(
        me["result"]["data"]["user"]["username"], "provisioned",
        "{me}"
    );
}
