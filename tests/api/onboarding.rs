//! Acceptance of onboarding (issue 11): the example tenants that sandbox mode applies from
//! `examples/tenants/` book calls end to end through their own numbers and Retell keys, in
//! their own language and time zone, each in its own Cal.com account; a service offered at
//! one branch only is not offered to callers of another; a disabled tenant's callers hear
//! "not in service" and nothing is recorded.

use crate::helpers::{ADMIN_TOKEN, TestApp, now_ms, spawn_app, spawn_app_with};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard::devtools::replay;
use switchboard::sandbox::{DEMO_PHONE, DEMO_RETELL_API_KEY};
use switchboard::tenants::CalcomAccess;
use switchboard::tenants::cli::apply_files;

/// A tenant of the examples, as a caller reaches it.
struct Line {
    /// The number dialled.
    number: &'static str,
    /// The tenant's Retell key (signs its requests).
    key: &'static str,
    /// The caller's number.
    caller: &'static str,
}

const BERLIN: Line = Line {
    number: DEMO_PHONE,
    key: DEMO_RETELL_API_KEY,
    caller: "+4915112345678",
};
/// examples/tenants/thames-physio.toml, branch Southwark.
const SOUTHWARK: Line = Line {
    number: "+442079460321",
    key: "key_sandbox_thames_7f3a9c2e5b1d4086",
    caller: "+447700900461",
};
/// examples/tenants/thames-physio.toml, branch Chelsea (no massage room).
const CHELSEA: Line = Line {
    number: "+442079460654",
    key: "key_sandbox_thames_7f3a9c2e5b1d4086",
    caller: "+447700900462",
};

impl Line {
    fn call(&self, call_id: &str, status: &str) -> Value {
        let mut call = json!({
            "call_id": call_id,
            "agent_id": "agent_test",
            "call_type": "phone_call",
            "direction": "inbound",
            "from_number": self.caller,
            "to_number": self.number,
            "call_status": status,
            "start_timestamp": now_ms() - 60_000,
        });
        if status == "ended" {
            call["end_timestamp"] = json!(now_ms());
            call["duration_ms"] = json!(60_000);
            call["disconnection_reason"] = json!("user_hangup");
        }
        call
    }

    async fn function(&self, app: &TestApp, name: &str, call_id: &str, args: Value) -> Value {
        let body = json!({"name": name, "call": self.call(call_id, "ongoing"), "args": args});
        let res = app
            .post_signed(
                "/api/mcp/retell/custom-function",
                &body,
                Some(self.key),
                now_ms(),
            )
            .await;
        assert_eq!(res.status().as_u16(), 200);
        res.json().await.unwrap()
    }

    async fn webhook(&self, app: &TestApp, event: &str, call_id: &str) -> u16 {
        let status = if event == "call_started" {
            "ongoing"
        } else {
            "ended"
        };
        let body = json!({"event": event, "call": self.call(call_id, status)});
        app.post_signed("/api/mcp/retell/webhook", &body, Some(self.key), now_ms())
            .await
            .status()
            .as_u16()
    }
}

/// Waits (bounded) until sandbox provisioning has given the simulator an account for the
/// London tenant's key.
async fn wait_for_thames_account(app: &TestApp) {
    wait_for_account(app, "thames-physio").await;
}

/// Waits (bounded: the provisioning tick is 5 s) until the simulator has an account for
/// tenant `slug`.
async fn wait_for_account(app: &TestApp, slug: &str) {
    for _ in 0..300 {
        let accounts: Value = app
            .client
            .get(format!("{}/__sim/accounts", app.calcom_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null);
        if accounts.to_string().contains(slug) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the simulator never got the {slug} account");
}

/// The README's walk-through: a business onboarded from its tenant file into a running
/// sandbox service books its first call, and so does the London example tenant — through
/// `switchboard replay`'s code and the shipped scripts.
#[actix_web::test]
async fn readme_walkthrough_onboards_a_business_whose_callers_then_book() {
    let app = spawn_app().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let calcom = CalcomAccess::new(&app.calcom_url, Duration::from_secs(5));
    let mut out = Vec::new();
    apply_files(
        &app.store,
        &calcom,
        &[root.join("examples/onboarding/praxis-weber.toml")],
        false,
        &mut out,
    )
    .await
    .unwrap();
    let printed = String::from_utf8(out).unwrap();
    assert!(
        printed.starts_with("tenant praxis-weber: create\n"),
        "{printed}"
    );
    assert!(
        printed.contains("+ branch altona: phone number +494012345678"),
        "{printed}"
    );
    wait_for_account(&app, "praxis-weber").await;
    wait_for_account(&app, "thames-physio").await;
    let scripts = ["de_praxis_weber.json", "en_thames_booking.json"]
        .map(|name| root.join("examples/calls").join(name));
    replay::run(&scripts, &app.url, None, Some(ADMIN_TOKEN), 15, None)
        .await
        .expect("both scripts book as they expect");
}

/// The company id of `slug` (admin token).
async fn company_id(app: &TestApp, slug: &str) -> i64 {
    let list = app.rpc("company.list", json!({})).await;
    list["result"]["data"]
        .as_array()
        .or_else(|| list["result"]["data"]["companies"].as_array())
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .find(|c| c["slug"] == slug)
        .unwrap_or_else(|| panic!("no {slug} in {list}"))["id"]
        .as_i64()
        .unwrap()
}

/// The booking's start in `zone`, as `HH:MM`.
fn local_start(view: &Value, zone: chrono_tz::Tz) -> String {
    let start = view["appointment"]["start"]
        .as_str()
        .unwrap_or_else(|| panic!("no appointment: {view}"));
    start
        .parse::<DateTime<Utc>>()
        .unwrap()
        .with_timezone(&zone)
        .format("%H:%M")
        .to_string()
}

#[actix_web::test]
async fn both_example_tenants_book_through_their_own_numbers_in_their_language_and_zone() {
    let app = spawn_app().await;
    wait_for_thames_account(&app).await;

    let berlin = BERLIN
        .function(
            &app,
            "collect_appointment_data",
            "call_onboard_berlin",
            json!({
                "dienstleistung": "Herrenschnitt",
                "datum": "kommenden Dienstag",
                "uhrzeit": "halb drei",
                "name": "Jonas Becker",
                "telefonnummer": "0151 23456789",
                "bestaetigt": "ja",
            }),
        )
        .await;
    assert_eq!(berlin["status"], "booked_pending", "{berlin}");
    assert!(
        berlin["message"]
            .as_str()
            .unwrap()
            .contains("wird direkt nach unserem Gespräch gebucht"),
        "German: {berlin}"
    );

    let london = SOUTHWARK
        .function(
            &app,
            "collect_appointment_data",
            "call_onboard_london",
            json!({
                "service": "initial assessment",
                "date": "next Tuesday",
                "time": "2 pm",
                "name": "Oliver Bennett",
                "phone": "07911 123456",
                "confirmed": "yes",
            }),
        )
        .await;
    assert_eq!(london["status"], "booked_pending", "{london}");
    assert_eq!(
        london["collected"]["telefonnummer"], "+447911123456",
        "a national number is read in the dialled number's country: {london}"
    );
    assert!(
        london["message"].as_str().unwrap().starts_with("Thank you"),
        "English: {london}"
    );

    assert_eq!(
        BERLIN
            .webhook(&app, "call_ended", "call_onboard_berlin")
            .await,
        204
    );
    assert_eq!(
        SOUTHWARK
            .webhook(&app, "call_ended", "call_onboard_london")
            .await,
        204
    );
    let berlin = app.wait_for_booking("call_onboard_berlin").await;
    let london = app.wait_for_booking("call_onboard_london").await;
    assert_eq!(berlin["booking_job"]["status"], "done", "{berlin}");
    assert_eq!(london["booking_job"]["status"], "done", "{london}");
    assert_eq!(local_start(&berlin, chrono_tz::Europe::Berlin), "14:30");
    assert_eq!(local_start(&london, chrono_tz::Europe::London), "14:00");

    // Each booking is in its own tenant's Cal.com account, and only there.
    for (slug, own, other) in [
        ("demo-salon-berlin", &berlin, &london),
        ("thames-physio", &london, &berlin),
    ] {
        let id = company_id(&app, slug).await;
        let bookings = app
            .rpc("calcom.getBookings", json!({"company_id": id}))
            .await;
        let uids: Vec<&str> = bookings["result"]["data"]["bookings"]
            .as_array()
            .unwrap_or_else(|| panic!("{bookings}"))
            .iter()
            .filter_map(|b| b["uid"].as_str())
            .collect();
        let uid = |v: &Value| v["appointment"]["booking_uid"].as_str().unwrap().to_owned();
        assert!(uids.contains(&uid(own).as_str()), "{slug}: {bookings}");
        assert!(!uids.contains(&uid(other).as_str()), "{slug}: {bookings}");
    }
}

#[actix_web::test]
async fn a_service_of_one_branch_is_not_offered_to_callers_of_another() {
    let app = spawn_app().await;
    let args = json!({"service": "sports massage"});
    let southwark = SOUTHWARK
        .function(
            &app,
            "collect_appointment_data",
            "call_massage_sw",
            args.clone(),
        )
        .await;
    assert_eq!(
        southwark["collected"]["dienstleistung"], "Sports massage",
        "{southwark}"
    );
    let chelsea = CHELSEA
        .function(&app, "collect_appointment_data", "call_massage_ch", args)
        .await;
    assert!(
        chelsea["collected"]["dienstleistung"].is_null(),
        "{chelsea}"
    );
}

#[actix_web::test]
async fn disabled_tenants_callers_hear_not_in_service_and_nothing_is_recorded() {
    let app = spawn_app_with(&[("SWITCHBOARD__CACHE__LOOKUPS_TTL_S", "0")]).await;
    let id = company_id(&app, "thames-physio").await;
    let disabled = app.rpc("company.disable", json!({"company_id": id})).await;
    assert!(
        disabled["result"]["success"].as_bool().unwrap_or(false),
        "{disabled}"
    );

    let reply = SOUTHWARK
        .function(
            &app,
            "collect_appointment_data",
            "call_disabled",
            json!({"service": "initial assessment", "confirmed": "yes"}),
        )
        .await;
    assert_eq!(reply["not_in_service"], true, "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("not taking appointments"),
        "{reply}"
    );
    assert_eq!(
        SOUTHWARK.webhook(&app, "call_ended", "call_disabled").await,
        204
    );
    let view = app
        .rpc("webhook.getCall", json!({"call_id": "call_disabled"}))
        .await;
    assert!(view["error"].is_object(), "nothing recorded: {view}");

    // The other tenant is untouched.
    let berlin = BERLIN
        .function(
            &app,
            "collect_appointment_data",
            "call_still_open",
            json!({}),
        )
        .await;
    assert!(berlin.get("not_in_service").is_none(), "{berlin}");
}
