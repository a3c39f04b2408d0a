//! Retell custom functions over HTTP: signatures, errors, German parsing through the endpoint.

use crate::helpers::{call, now_ms, spawn_app};
use serde_json::{Value, json};
use switchboard::sandbox::DEMO_RETELL_API_KEY;

const PATH: &str = "/api/mcp/retell/custom-function";

#[actix_web::test]
async fn unsigned_or_wrongly_signed_function_call_is_401() {
    let app = spawn_app().await;
    let body =
        json!({"name": "calculate_duration", "call": call("c1"), "args": {"service": "Färben"}});
    assert_eq!(
        app.post_signed(PATH, &body, None, now_ms())
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        app.post_signed(PATH, &body, Some("key_wrong"), now_ms())
            .await
            .status()
            .as_u16(),
        401
    );
    let stale = now_ms() - 301_000;
    assert_eq!(
        app.post_signed(PATH, &body, Some(DEMO_RETELL_API_KEY), stale)
            .await
            .status()
            .as_u16(),
        401
    );
}

#[actix_web::test]
async fn unknown_function_is_404() {
    let app = spawn_app().await;
    let (status, reply) = app.function("order_pizza", "c2", json!({})).await;
    assert_eq!(status, 404);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("order_pizza")
    );
}

#[actix_web::test]
async fn unknown_phone_number_is_404_with_clear_error() {
    let app = spawn_app().await;
    let mut c = call("c3");
    c["to_number"] = json!("+4940123456789");
    let body = json!({"name": "calculate_duration", "call": c, "args": {}});
    let res = app
        .post_signed(PATH, &body, Some(DEMO_RETELL_API_KEY), now_ms())
        .await;
    assert_eq!(res.status().as_u16(), 404);
    let reply: Value = res.json().await.unwrap();
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not configured"),
        "{reply}"
    );
}

#[actix_web::test]
async fn missing_name_is_400() {
    let app = spawn_app().await;
    let body = json!({"call": call("c4"), "args": {}});
    assert_eq!(
        app.post_signed(PATH, &body, Some(DEMO_RETELL_API_KEY), now_ms())
            .await
            .status()
            .as_u16(),
        400
    );
}

/// German (and English) phrases through the live endpoint, against today in Berlin.
#[actix_web::test]
async fn german_parsing_table_through_the_endpoint() {
    use chrono::{Datelike, Duration, Weekday};
    let app = spawn_app().await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive();
    let mut tuesday = today + Duration::days(1);
    while tuesday.weekday() != Weekday::Tue {
        tuesday += Duration::days(1);
    }
    let dates = [
        ("morgen", today + Duration::days(1)),
        ("übermorgen", today + Duration::days(2)),
        ("Dienstag", tuesday),
        ("nächsten Dienstag", tuesday),
        ("next Tuesday", tuesday),
        (
            "2030-07-15",
            chrono::NaiveDate::from_ymd_opt(2030, 7, 15).unwrap(),
        ),
        (
            "15.07.2030",
            chrono::NaiveDate::from_ymd_opt(2030, 7, 15).unwrap(),
        ),
    ];
    for (i, (said, expected)) in dates.iter().enumerate() {
        let (_, reply) = app
            .function(
                "collect_appointment_data",
                &format!("c_date_{i}"),
                json!({"datum": said}),
            )
            .await;
        assert_eq!(
            reply["collected"]["datum"],
            expected.to_string(),
            "{said}: {reply}"
        );
    }
    let times = [
        ("14 Uhr", "14:00"),
        ("14:30", "14:30"),
        ("halb drei", "14:30"),
        ("viertel nach zehn", "10:15"),
        ("3 pm", "15:00"),
    ];
    for (i, (said, expected)) in times.iter().enumerate() {
        let (_, reply) = app
            .function(
                "collect_appointment_data",
                &format!("c_time_{i}"),
                json!({"uhrzeit": said}),
            )
            .await;
        assert_eq!(reply["collected"]["uhrzeit"], *expected, "{said}: {reply}");
    }
    let (_, reply) = app
        .function(
            "collect_appointment_data",
            "c_bad",
            json!({"datum": "31.02.2030", "telefonnummer": "12345"}),
        )
        .await;
    assert_eq!(reply["status"], "invalid", "{reply}");
    assert_eq!(reply["errors"].as_array().unwrap().len(), 2, "{reply}");
    assert!(reply["collected"]["datum"].is_null());
}

#[actix_web::test]
async fn check_availability_and_find_next_slot_speak_german() {
    let app = spawn_app().await;
    let (status, reply) = app
        .function(
            "check_availability",
            "c5",
            json!({"dienstleistung": "Färben", "datum": "nächsten Dienstag", "uhrzeit": "10:30"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["available"], true, "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("ist noch frei"));
    let (_, reply) = app
        .function(
            "find_next_slot",
            "c5",
            json!({"dienstleistung": "Damenhaarschnitt"}),
        )
        .await;
    assert_eq!(reply["found"], true, "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .starts_with("Der nächste freie Termin")
    );
}

#[actix_web::test]
async fn args_at_root_route_takes_the_call_from_the_query() {
    let app = spawn_app().await;
    let path = "/api/mcp/retell/custom-function/calculate_duration?call_id=c_root&to_number=%2B493083793369";
    let res = app
        .post_signed(
            path,
            &json!({"dienstleistung": "Färben"}),
            Some(DEMO_RETELL_API_KEY),
            now_ms(),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["dauer_minuten"], 90);
}

#[actix_web::test]
async fn conflicting_arg_aliases_are_reported_not_dropped() {
    let app = spawn_app().await;
    let (status, reply) = app
        .function(
            "collect_appointment_data",
            "c6",
            json!({"datum": "morgen", "date": "tomorrow"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["status"], "invalid", "{reply}");
    assert!(
        reply["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate"),
        "{reply}"
    );
}

/// Issue 10, finding 2: live call contexts were keyed by `call_id` alone, so another company,
/// signing with its own key for its own number, reached a live call of the demo company
/// through the in-memory context: it read the caller's data and could overwrite it.
#[actix_web::test]
async fn other_company_cannot_read_or_change_a_live_call() {
    use switchboard::store::NewCompany;
    use switchboard_actors::domain::phone::PhoneNumber;
    use switchboard_actors::domain::tenant::Locale;

    let app = spawn_app().await;
    let (status, _) = app
        .function(
            "collect_appointment_data",
            "call_shared_id",
            json!({"name": "Jonas Becker", "email": "jonas@example.de"}),
        )
        .await;
    assert_eq!(status, 200);

    // A second tenant with its own Retell key and number.
    const OTHER_KEY: &str = "key_other_tenant_0123456789";
    const OTHER_NUMBER: &str = "+49301234567";
    let store = &app.store;
    let other = store
        .upsert_company(&NewCompany {
            name: "Praxis Mond".into(),
            locale: Locale::De,
            time_zone: chrono_tz::Europe::Berlin,
            retell_api_key: OTHER_KEY.to_owned().into(),
            calcom_api_key: "cal_other".to_owned().into(),
        })
        .await
        .unwrap();
    let hm = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let branch = store
        .upsert_branch(other, "Mitte", hm(9), hm(18))
        .await
        .unwrap();
    store
        .upsert_phone_number(&PhoneNumber::parse_default(OTHER_NUMBER).unwrap(), branch)
        .await
        .unwrap();

    let mut hostile_call = call("call_shared_id");
    hostile_call["to_number"] = json!(OTHER_NUMBER);
    for args in [
        json!({}),
        json!({"name": "Mallory", "email": "m@evil.example"}),
    ] {
        let body = json!({"name": "collect_appointment_data", "call": hostile_call, "args": args});
        let res = app
            .post_signed(PATH, &body, Some(OTHER_KEY), now_ms())
            .await;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(status, 403, "{text}");
        assert!(
            !text.contains("Jonas") && !text.contains("jonas@"),
            "{text}"
        );
    }
    let view = app.get_call("call_shared_id").await;
    assert_eq!(view["collected"]["name"], "Jonas Becker", "{view}");
    assert_eq!(view["collected"]["email"], "jonas@example.de", "{view}");
}
