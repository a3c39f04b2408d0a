//! Retell custom functions over HTTP: signatures, errors, German parsing through the endpoint.

use crate::helpers::{call, now_ms, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use switchboard::sandbox::{DEMO_PHONE, DEMO_RETELL_API_KEY};
use switchboard_actors::retell::signature::sign;

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

/// Issue 10, finding 7: an unknown number answered 404 before the signature was checked (the
/// numbers could be enumerated). On both custom-function endpoints it now gets exactly the
/// answer of a wrong signature.
#[actix_web::test]
async fn unknown_number_is_answered_like_a_bad_signature() {
    let app = spawn_app().await;
    let mut unknown_call = call("c3");
    unknown_call["to_number"] = json!("+4940123456789");
    let requests = [
        (
            PATH.to_owned(),
            json!({"name": "calculate_duration", "call": unknown_call, "args": {}}),
            json!({"name": "calculate_duration", "call": call("c3"), "args": {}}),
        ),
        (
            format!("{PATH}/calculate_duration"),
            json!({"call_id": "c3", "to_number": "+4940123456789"}),
            json!({"call_id": "c3", "to_number": DEMO_PHONE}),
        ),
    ];
    for (path, unknown, known) in requests {
        let ts = now_ms();
        let unknown = app
            .post_signed(&path, &unknown, Some(DEMO_RETELL_API_KEY), ts)
            .await;
        let wrong_key = app.post_signed(&path, &known, Some("key_wrong"), ts).await;
        assert_eq!(unknown.status().as_u16(), 401, "{path}");
        assert_eq!(wrong_key.status().as_u16(), 401, "{path}");
        let unknown: Value = unknown.json().await.unwrap();
        assert_eq!(unknown, wrong_key.json::<Value>().await.unwrap(), "{path}");
        assert!(!unknown.to_string().contains("4940123456789"), "{unknown}");
    }
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
    // Within the demo tenant's booking horizon (90 days).
    let absolute = today + Duration::days(60);
    let iso = absolute.format("%Y-%m-%d").to_string();
    let german = absolute.format("%d.%m.%Y").to_string();
    let dates = [
        ("morgen", today + Duration::days(1)),
        ("übermorgen", today + Duration::days(2)),
        ("Dienstag", tuesday),
        ("kommenden Dienstag", tuesday),
        ("this coming Tuesday", tuesday),
        (iso.as_str(), absolute),
        (german.as_str(), absolute),
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

/// "05/06" is 5 June or 6 May whatever the day: the functions ask which, naming both, and
/// keep no date.
#[actix_web::test]
async fn ambiguous_date_is_asked_back_naming_both_days() {
    let app = spawn_app().await;
    let (_, reply) = app
        .function(
            "collect_appointment_data",
            "c_amb",
            json!({"datum": "05/06", "uhrzeit": "10 Uhr"}),
        )
        .await;
    assert!(reply["collected"]["datum"].is_null(), "{reply}");
    let asked = reply["errors"][0]["message"].as_str().unwrap_or_default();
    for part in ["Meinen Sie", "den 6. Mai, oder", "den 5. Juni?"] {
        assert!(asked.contains(part), "{part}: {reply}");
    }
    let (_, reply) = app
        .function(
            "check_availability",
            "c_amb",
            json!({"dienstleistung": "Färben", "datum": "05/06", "uhrzeit": "10:30"}),
        )
        .await;
    assert!(reply["available"].is_null(), "{reply}");
    let asked = reply["message"].as_str().unwrap_or_default();
    for part in ["Meinen Sie", "den 6. Mai, oder", "den 5. Juni?"] {
        assert!(asked.contains(part), "{part}: {reply}");
    }
}

#[actix_web::test]
async fn check_availability_and_find_next_slot_speak_german() {
    let app = spawn_app().await;
    let (status, reply) = app
        .function(
            "check_availability",
            "c5",
            json!({"dienstleistung": "Färben", "datum": "kommenden Dienstag", "uhrzeit": "10:30"}),
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

const ROOT_PATH: &str = "/api/mcp/retell/custom-function/calculate_duration";

/// Args at root: the call is named in the signed body; the query may repeat it.
#[actix_web::test]
async fn args_at_root_takes_the_call_from_the_signed_body() {
    let app = spawn_app().await;
    let body = json!({"call_id": "c_root", "to_number": DEMO_PHONE, "dienstleistung": "Färben"});
    for path in [
        ROOT_PATH.to_owned(),
        format!("{ROOT_PATH}?call_id=c_root&to_number=%2B493083793369"),
    ] {
        let res = app
            .post_signed(&path, &body, Some(DEMO_RETELL_API_KEY), now_ms())
            .await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let reply: Value = res.json().await.unwrap();
        assert_eq!(reply["dauer_minuten"], 90, "{reply}");
    }
}

/// Issue 10, finding 6: the call of an args-at-root request came from the unsigned query, so
/// one signed body could be pointed at any call. A body without the call is now refused, and a
/// query naming another call than the body is refused, with nothing run or written.
#[actix_web::test]
async fn args_at_root_routing_outside_the_signature_is_refused() {
    let app = spawn_app().await;
    let collect = "/api/mcp/retell/custom-function/collect_appointment_data";
    let cases = [
        (
            format!("{collect}?call_id=c_victim&to_number=%2B493083793369"),
            json!({"name": "Mallory"}),
            "signed body",
        ),
        (
            format!("{collect}?call_id=c_victim"),
            json!({"call_id": "c_attacker", "to_number": DEMO_PHONE, "name": "Mallory"}),
            "differs from the signed body",
        ),
        (
            collect.to_owned(),
            json!({"call_id": 7, "to_number": DEMO_PHONE, "name": "Mallory"}),
            "must be a string",
        ),
    ];
    for (path, body, part) in cases {
        let res = app
            .post_signed(&path, &body, Some(DEMO_RETELL_API_KEY), now_ms())
            .await;
        assert_eq!(res.status().as_u16(), 400, "{path}");
        let reply: Value = res.json().await.unwrap();
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(part), "{reply}");
    }
    for call_id in ["c_victim", "c_attacker"] {
        let view = app.get_call(call_id).await;
        assert!(view["collected"]["name"].is_null(), "{call_id}: {view}");
    }
}

/// Signs `body` once and posts the same bytes and header to `path`.
async fn post_with(
    app: &crate::helpers::TestApp,
    path: &str,
    body: &[u8],
    header: &str,
) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/json")
        .header("X-Retell-Signature", header)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// Issue 10, finding 6: a signed custom-function request could be replayed against another
/// function (the path is not signed) within the ±5 min window. The second use of a signature
/// on another request is refused, and nothing is written.
#[actix_web::test]
async fn replayed_signature_with_other_body_is_refused() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(
        &json!({"call_id": "c_replayed", "to_number": DEMO_PHONE, "name": "Mallory"}),
    )
    .unwrap();
    let header = sign(&body, DEMO_RETELL_API_KEY, now_ms());
    let first = post_with(
        &app,
        "/api/mcp/retell/custom-function/calculate_duration",
        &body,
        &header,
    )
    .await;
    assert_eq!(first.status().as_u16(), 200);
    let replay = post_with(
        &app,
        "/api/mcp/retell/custom-function/collect_appointment_data",
        &body,
        &header,
    )
    .await;
    assert_eq!(replay.status().as_u16(), 401);
    let reply: Value = replay.json().await.unwrap();
    assert_eq!(
        reply["error"]["message"],
        "this signature was already used on another request"
    );
    let view = app.get_call("c_replayed").await;
    assert!(view["collected"]["name"].is_null(), "{view}");
}

/// Retell retries a custom function with the identical request: each retry is served and gets
/// the same answer.
#[actix_web::test]
async fn retell_retry_of_identical_request_is_answered() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&json!({
        "name": "collect_appointment_data",
        "call": call("c_retried"),
        "args": {"name": "Jonas Becker"},
    }))
    .unwrap();
    let header = sign(&body, DEMO_RETELL_API_KEY, now_ms());
    let mut replies = Vec::new();
    for _ in 0..3 {
        let res = post_with(&app, PATH, &body, &header).await;
        assert_eq!(res.status().as_u16(), 200);
        replies.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[1], replies[2]);
    assert_eq!(
        app.get_call("c_retried").await["collected"]["name"],
        "Jonas Becker"
    );
}

/// The replay guard holds across instances sharing Redis: a signature used on one instance is
/// refused on another for another request, while the identical retry passes there.
#[actix_web::test]
async fn replay_is_refused_across_instances_sharing_redis() {
    let Some(redis) = crate::common::redis_server_url() else {
        crate::common::backend_missing(
            "replay_is_refused_across_instances_sharing_redis",
            "neither SWITCHBOARD_TEST_REDIS_SERVER_URL nor SWITCHBOARD_TEST_REDIS_URL is set",
        );
        return;
    };
    let prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
    let shared = [
        ("SWITCHBOARD__REDIS__URL", redis.as_str()),
        ("SWITCHBOARD__REDIS__KEY_PREFIX", prefix.as_str()),
    ];
    let one = spawn_app_with(&shared).await;
    let other = spawn_app_with(&shared).await;
    let body = serde_json::to_vec(&json!({"call_id": "c_multi", "to_number": DEMO_PHONE})).unwrap();
    let header = sign(&body, DEMO_RETELL_API_KEY, now_ms());
    let duration = "/api/mcp/retell/custom-function/calculate_duration";
    assert_eq!(
        post_with(&one, duration, &body, &header).await.status(),
        200
    );
    assert_eq!(
        post_with(&other, duration, &body, &header).await.status(),
        200
    );
    let replay = post_with(
        &other,
        "/api/mcp/retell/custom-function/find_next_slot",
        &body,
        &header,
    )
    .await;
    assert_eq!(replay.status(), 401);
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
