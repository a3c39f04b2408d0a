//! `POST /api/mcp/retell/inbound`: Retell's inbound-call webhook (reference/retell.md §1.6).

use crate::helpers::{TestApp, now_ms, spawn_app};
use chrono::{Datelike, Duration, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use serde_json::{Value, json};
use switchboard::sandbox::{DEMO_PHONE, DEMO_RETELL_API_KEY};
use switchboard_actors::domain::ids::{BookingUid, CompanyId, EventTypeId};
use switchboard_actors::ports::{Cache, CallStore};
use switchboard_actors::records::NewAppointment;
use switchboard_actors::servers::calcom::availability_key;

const PATH: &str = "/api/mcp/retell/inbound";
const DEMO: CompanyId = CompanyId(1);
const CALLER: &str = "+4915112345678";
/// The sandbox's second tenant's Retell key (examples/tenants/thames-physio.toml).
const THAMES_KEY: &str = "key_sandbox_thames_7f3a9c2e5b1d4086";
/// Färben, the demo tenant's event type 1003.
const FAERBEN: EventTypeId = EventTypeId(1003);

fn inbound(from: &str, to: &str) -> Value {
    json!({"event": "call_inbound", "call_inbound": {
        "agent_id": "agent_bound_to_the_number", "from_number": from, "to_number": to}})
}

async fn post(app: &TestApp, body: &Value, key: Option<&str>) -> (u16, Value) {
    let res = app.post_signed(PATH, body, key, now_ms()).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn vars(answer: &Value) -> &serde_json::Map<String, Value> {
    answer["call_inbound"]["dynamic_variables"]
        .as_object()
        .unwrap_or_else(|| panic!("no dynamic_variables in {answer}"))
}

#[actix_web::test]
async fn demo_number_gets_the_demo_agent_and_its_variables() {
    let app = spawn_app().await;
    let (status, answer) = post(
        &app,
        &inbound("+4915199990000", DEMO_PHONE),
        Some(DEMO_RETELL_API_KEY),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let call = &answer["call_inbound"];
    assert_eq!(call["override_agent_id"], "agent_demo_salon_berlin");
    assert_eq!(call["metadata"]["company"], "demo-salon-berlin");
    let v = vars(&answer);
    assert!(v.values().all(Value::is_string), "{answer}");
    assert_eq!(v["business_name"], "Demo Salon Berlin");
    assert_eq!(v["branch_name"], "Mitte");
    assert_eq!(v["language"], "de");
    assert_eq!(
        v["services"],
        "Damenhaarschnitt (60 Minuten), Färben (90 Minuten), Herrenhaarschnitt (30 Minuten)"
    );
    assert_eq!(v["service_count"], "3");
    let today = Utc::now().with_timezone(&Berlin).date_naive();
    let hours = match today.weekday() {
        Weekday::Sun => "heute geschlossen",
        Weekday::Sat => "10 bis 14 Uhr",
        _ => "9 bis 18 Uhr",
    };
    assert_eq!(v["opening_hours_today"], hours);
    assert_eq!(v["today_date"], today.to_string());
    assert_eq!(v["caller_known"], "false");
    assert!(v.get("caller_name").is_none(), "{answer}");
}

#[actix_web::test]
async fn known_caller_gets_their_name_and_next_appointment() {
    let app = spawn_app().await;
    let day = Utc::now().date_naive() + Duration::days(3);
    let start = Utc.from_utc_datetime(&day.and_hms_opt(9, 0, 0).unwrap());
    app.store
        .insert_appointment(&NewAppointment {
            company_id: DEMO,
            branch_id: None,
            call_id: None,
            booking_uid: BookingUid::parse("uid_inbound_known").unwrap(),
            calcom_booking_id: 4711,
            event_type_id: FAERBEN,
            service_id: None,
            service_name: "Färben".into(),
            start,
            end: start + Duration::minutes(90),
            attendee_name: "Erika Musterfrau".into(),
            attendee_phone: Some(CALLER.into()),
            attendee_email: None,
            idempotency_key: "gateway:1:inbound-known".into(),
            source: "gateway".into(),
        })
        .await
        .unwrap();

    let (status, answer) = post(
        &app,
        &inbound(CALLER, DEMO_PHONE),
        Some(DEMO_RETELL_API_KEY),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let v = vars(&answer);
    let local = start.with_timezone(&Berlin);
    assert_eq!(v["caller_known"], "true");
    assert_eq!(v["caller_name"], "Erika Musterfrau");
    assert_eq!(v["next_appointment_service"], "Färben");
    assert_eq!(v["next_appointment_date"], local.date_naive().to_string());
    assert_eq!(
        v["next_appointment_time"],
        local.time().format("%H:%M").to_string()
    );
    assert!(
        v["next_appointment"]
            .as_str()
            .unwrap()
            .starts_with("Färben am "),
        "{answer}"
    );

    // A withheld number gets the business variables only.
    let (_, withheld) = post(
        &app,
        &inbound("anonymous", DEMO_PHONE),
        Some(DEMO_RETELL_API_KEY),
    )
    .await;
    for key in ["caller_known", "caller_name", "next_appointment"] {
        assert!(vars(&withheld).get(key).is_none(), "{withheld}");
    }
}

#[actix_web::test]
async fn unknown_number_is_refused_like_a_bad_signature() {
    let app = spawn_app().await;
    let (unknown, unknown_body) = post(
        &app,
        &inbound(CALLER, "+493000000001"),
        Some(DEMO_RETELL_API_KEY),
    )
    .await;
    let (wrong_key, wrong_body) = post(
        &app,
        &inbound(CALLER, DEMO_PHONE),
        Some("key_not_the_tenants_000000"),
    )
    .await;
    assert_eq!((unknown, wrong_key), (401, 401));
    assert_eq!(unknown_body, wrong_body);
    assert!(unknown_body.get("call_inbound").is_none(), "{unknown_body}");
}

#[actix_web::test]
async fn disabled_tenant_gets_an_empty_answer() {
    let app = spawn_app().await;
    let disabled = app
        .rpc("company.disable", json!({"company_id": DEMO.0}))
        .await;
    assert_eq!(disabled["result"]["success"], true, "{disabled}");
    let (status, answer) = post(
        &app,
        &inbound(CALLER, DEMO_PHONE),
        Some(DEMO_RETELL_API_KEY),
    )
    .await;
    assert_eq!((status, answer), (200, json!({"call_inbound": {}})));
}

#[actix_web::test]
async fn unsigned_stale_and_foreign_signatures_are_401() {
    let app = spawn_app().await;
    let body = inbound(CALLER, DEMO_PHONE);
    let (unsigned, _) = post(&app, &body, None).await;
    let stale = app
        .post_signed(PATH, &body, Some(DEMO_RETELL_API_KEY), now_ms() - 600_000)
        .await
        .status()
        .as_u16();
    let (thames, answer) = post(&app, &body, Some(THAMES_KEY)).await;
    assert_eq!((unsigned, stale, thames), (401, 401, 401), "{answer}");
    assert_eq!(answer["error"]["code"], "unauthorized");
}

#[actix_web::test]
async fn malformed_bodies_are_400_and_oversized_413() {
    let app = spawn_app().await;
    let key = Some(DEMO_RETELL_API_KEY);
    let not_json = app
        .post_raw(PATH, b"{not json".to_vec(), key, now_ms())
        .await;
    assert_eq!(not_json.status().as_u16(), 400);
    let other_event = json!({"event": "call_ended", "call_inbound": {"to_number": DEMO_PHONE}});
    let no_payload = json!({"event": "call_inbound"});
    let bad_number = inbound(CALLER, "12");
    for body in [other_event, no_payload, bad_number] {
        let (status, answer) = post(&app, &body, key).await;
        assert_eq!(status, 400, "{body} → {answer}");
    }
    let mut big = inbound(CALLER, DEMO_PHONE);
    big["call_inbound"]["padding"] = json!("x".repeat(20_000));
    let (status, _) = post(&app, &big, key).await;
    assert_eq!(status, 413);
}

#[actix_web::test]
async fn a_retried_inbound_webhook_gets_the_same_answer() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&inbound(CALLER, DEMO_PHONE)).unwrap();
    let ts = now_ms();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let res = app
            .post_raw(PATH, body.clone(), Some(DEMO_RETELL_API_KEY), ts)
            .await;
        assert_eq!(res.status().as_u16(), 200);
        answers.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(
        answers[0]["call_inbound"]["override_agent_id"],
        answers[1]["call_inbound"]["override_agent_id"]
    );
}

#[actix_web::test]
async fn inbound_call_warms_availability_for_the_first_check() {
    let app = spawn_app().await;
    let (status, _) = post(
        &app,
        &inbound(CALLER, DEMO_PHONE),
        Some(DEMO_RETELL_API_KEY),
    )
    .await;
    assert_eq!(status, 200);
    let today = Utc::now().with_timezone(&Berlin).date_naive();
    let key = availability_key(DEMO, FAERBEN, today);
    let mut warmed = false;
    for _ in 0..100 {
        if app.cache.get(&key).await.is_some() {
            warmed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(warmed, "{key} was not warmed after the inbound webhook");

    // Cal.com is down from now on: only the warm entry can answer.
    let res = app
        .client
        .post(format!("{}/__sim/faults", app.calcom_url))
        .json(&json!({"error_rate": 1.0, "error_status": 500}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let (status, reply) = app
        .function(
            "check_availability",
            "call_inbound_warm",
            json!({"dienstleistung": "Färben", "datum": today.to_string()}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["success"], true, "{reply}");
    assert!(reply.get("calendar_unreachable").is_none(), "{reply}");
}
