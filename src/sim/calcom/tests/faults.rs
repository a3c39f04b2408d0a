//! Fault injection: `/__sim/faults` and the fault layer on `/v2/…` (calcom.md §5 shapes).
//!
//! Tokio's `test-util` feature (and with it the paused clock) is not enabled for this crate,
//! so time is never waited out here: a delay or hang shows as a request that stays pending
//! while the runtime keeps polling it, and the end of an outage is checked by asking
//! [`Faults::decide`] at the outage's own end instant.

use super::*;
use crate::sim::faults::{Action, ErrorStatus, FAULTS_PATH, RequestKind};
use actix_web::dev::ServiceResponse;
use futures_util::FutureExt;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

const THROTTLED: &str = "CustomThrottlerGuard - Too many requests. Please try again later.";

/// `POST /__sim/faults` with `body`, without credentials or `cal-api-version`.
async fn set_faults(sim: &CalcomSim, body: &Value) -> Reply {
    send(
        sim,
        test::TestRequest::post().uri(FAULTS_PATH).set_json(body),
    )
    .await
}

async fn faults_state(sim: &CalcomSim) -> Value {
    let reply = send(sim, test::TestRequest::get().uri(FAULTS_PATH)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

fn no_faults() -> Value {
    json!({
        "config": {"latency_ms":null,"jitter_ms":null,"error_rate":null,"error_status":null,
                   "timeout_rate":null,"outage_s":null,"commit_then_fail_rate":null,"seed":null},
        "outage": null,
    })
}

fn event_types() -> test::TestRequest {
    get("/v2/event-types", EVENT_TYPES)
}

/// Polls `future` as the runtime would for a while: `true` if it never completed.
async fn stays_pending(future: impl Future) -> bool {
    let mut future = std::pin::pin!(future);
    for _ in 0..100 {
        if future.as_mut().now_or_never().is_some() {
            return false;
        }
        tokio::task::yield_now().await;
    }
    true
}

/// The `error.code`, status and `start`s of what `GET /v2/bookings` lists.
async fn booked_starts(sim: &CalcomSim) -> Vec<String> {
    let reply = send(sim, get("/v2/bookings", BOOKINGS)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut starts: Vec<String> = reply
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap().to_owned())
        .collect();
    starts.sort();
    starts
}

#[actix_web::test]
async fn no_faults_by_default() {
    let (sim, _) = sim();
    assert_eq!(faults_state(&sim).await, no_faults());
    for _ in 0..20 {
        assert_eq!(send(&sim, event_types()).await.status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn post_get_delete_faults_roundtrip() {
    let (sim, _) = sim();
    let config = json!({"latency_ms":0,"jitter_ms":0,"error_rate":0.25,"error_status":503,
                        "timeout_rate":0.0,"outage_s":3600,"commit_then_fail_rate":0.5,"seed":7});
    let set = set_faults(&sim, &config).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["config"], config);
    let remaining = set.body["outage"]["remaining_s"].as_u64().unwrap();
    assert!((3599..=3600).contains(&remaining), "{}", set.body);
    let ends_at = set.body["outage"]["ends_at"].as_str().unwrap();
    assert!(
        DateTime::parse_from_rfc3339(ends_at).unwrap() > Utc::now(),
        "{ends_at}"
    );

    assert_eq!(faults_state(&sim).await["config"], config);

    let cleared = send(&sim, test::TestRequest::delete().uri(FAULTS_PATH)).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body, no_faults());
    assert_eq!(faults_state(&sim).await, no_faults());
    assert_eq!(send(&sim, event_types()).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn invalid_fault_values_are_400() {
    let (sim, _) = sim();
    let before = set_faults(&sim, &json!({"error_rate":0.5})).await.body;
    let cases = [
        (
            r#"{"error_rate":1.5}"#,
            "error_rate must be a number from 0 to 1, got 1.5",
        ),
        (
            r#"{"timeout_rate":-0.1}"#,
            "timeout_rate must be a number from 0 to 1",
        ),
        (
            r#"{"commit_then_fail_rate":2}"#,
            "commit_then_fail_rate must be a number from 0 to 1",
        ),
        (
            r#"{"error_status":404}"#,
            "error_status must be 500, 503 or 429, got 404",
        ),
        (
            r#"{"latency":100}"#,
            "unknown field `latency`, expected one of `latency_ms`",
        ),
        (
            r#"{"latency_ms":-1}"#,
            "invalid value: integer `-1`, expected u64",
        ),
        (
            r#"{"error_rate":"often"}"#,
            "invalid type: string \"often\", expected f64",
        ),
        (r#"[0.5]"#, "invalid type: sequence, expected a map"),
        ("error_rate=1", "expected value"),
    ];
    for (body, message) in cases {
        let reply = send(
            &sim,
            test::TestRequest::post()
                .uri(FAULTS_PATH)
                .insert_header(("content-type", "application/json"))
                .set_payload(body),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        let error = reply.body["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with(&format!("invalid faults: {message}")),
            "{body}: {error}"
        );
    }
    assert_eq!(faults_state(&sim).await, before);
}

#[actix_web::test]
async fn error_rate_one_fails_every_request_with_chosen_status() {
    let cases = [
        (
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerErrorException",
            "Internal Server Error",
        ),
        (
            Some(500),
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerErrorException",
            "Internal Server Error",
        ),
        (
            Some(503),
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            "Service Unavailable",
        ),
    ];
    for (error_status, status, code, message) in cases {
        let (sim, _) = sim();
        set_faults(
            &sim,
            &json!({"error_rate": 1, "error_status": error_status}),
        )
        .await;
        let requests = [
            event_types(),
            get(
                "/v2/slots?eventTypeId=1001&start=2050-09-05&end=2050-09-06",
                SLOTS,
            ),
            get("/v2/bookings", BOOKINGS),
            post(
                "/v2/bookings",
                BOOKINGS,
                &booking_body("2050-09-05T07:00:00Z"),
            ),
        ];
        for request in requests {
            let reply = send(&sim, request).await;
            reply.assert_envelope(status, code, message);
            assert_eq!(
                reply.body["error"]["details"],
                json!({"message": message, "statusCode": status.as_u16()})
            );
            assert!(reply.headers.contains_key("x-request-id"));
        }
        send(&sim, test::TestRequest::delete().uri(FAULTS_PATH)).await;
        assert_eq!(booked_starts(&sim).await, Vec::<String>::new());
    }
}

#[actix_web::test]
async fn rate_429_carries_calcom_rate_limit_headers() {
    let (sim, _) = sim();
    set_faults(&sim, &json!({"error_rate": 1, "error_status": 429})).await;
    let reply = send(&sim, event_types()).await;

    reply.assert_envelope(
        StatusCode::TOO_MANY_REQUESTS,
        "ThrottlerException",
        THROTTLED,
    );
    assert_eq!(reply.body["error"]["details"], THROTTLED);
    assert_eq!(reply.body["path"], "/v2/event-types");
    let header = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("x-ratelimit-limit-default"), Some("120"));
    assert_eq!(header("x-ratelimit-remaining-default"), Some("0"));
    assert_eq!(header("x-ratelimit-reset-default"), Some("60"));
    assert_eq!(
        header("retry-after"),
        None,
        "Cal.com never sends Retry-After"
    );
}

#[actix_web::test]
async fn outage_fails_until_it_ends() {
    let (sim, _) = sim();
    let set = set_faults(&sim, &json!({"outage_s": 30})).await;
    let remaining = set.body["outage"]["remaining_s"].as_u64().unwrap();
    assert!((29..=30).contains(&remaining), "{}", set.body);
    for request in [
        event_types(),
        post(
            "/v2/bookings",
            BOOKINGS,
            &booking_body("2050-09-05T07:00:00Z"),
        ),
    ] {
        send(&sim, request).await.assert_envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            "Service Unavailable",
        );
    }

    let until = sim.faults().get().outage.unwrap().until;
    let at = |instant| sim.faults().decide(RequestKind::Plain, instant).action;
    assert_eq!(
        at(until - Duration::from_millis(1)),
        Action::Fail(ErrorStatus::ServiceUnavailable)
    );
    assert_eq!(at(until), Action::Pass);
    assert_eq!(at(until + Duration::from_secs(3600)), Action::Pass);

    // The outage fails with `error_status` when one is given.
    set_faults(&sim, &json!({"outage_s": 30, "error_status": 429})).await;
    assert_eq!(
        send(&sim, event_types()).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn latency_delays_the_answer() {
    let (sim, _) = sim();
    let app = test::init_service(App::new().configure(|cfg| sim.configure(cfg))).await;
    let answered_at_once = test::call_service(&app, event_types().to_request())
        .now_or_never()
        .map(|res| res.status());
    assert_eq!(answered_at_once, Some(StatusCode::OK));

    sim.faults().set(crate::sim::faults::FaultConfig {
        latency_ms: Some(60_000),
        ..Default::default()
    });
    assert!(stays_pending(test::call_service(&app, event_types().to_request())).await);
    assert_eq!(
        sim.faults()
            .decide(RequestKind::Plain, Instant::now())
            .delay,
        Duration::from_secs(60)
    );
}

#[actix_web::test]
async fn timeout_rate_never_answers() {
    let (sim, _) = sim();
    set_faults(&sim, &json!({"timeout_rate": 1})).await;
    let app = test::init_service(App::new().configure(|cfg| sim.configure(cfg))).await;
    assert!(stays_pending(test::call_service(&app, event_types().to_request())).await);

    // Over a real connection the client's own timeout is what ends the request.
    let (addr, handle) = start(&sim);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = client
        .get(format!("http://{addr}/v2/event-types"))
        .header("cal-api-version", EVENT_TYPES)
        .send()
        .await
        .unwrap_err();
    handle.stop(false).await;
    assert!(error.is_timeout(), "{error:?}");
}

#[actix_web::test]
async fn commit_then_fail_stores_the_booking() {
    let (sim, _) = sim();
    set_faults(&sim, &json!({"commit_then_fail_rate": 1, "seed": 1})).await;
    let (addr, handle) = start(&sim);
    let client = reqwest::Client::new();
    let starts = [
        "2050-09-05T07:00:00.000Z",
        "2050-09-05T07:30:00.000Z",
        "2050-09-05T08:00:00.000Z",
        "2050-09-05T08:30:00.000Z",
    ];
    let (mut status_500, mut dropped) = (0, 0);
    for start in starts {
        let response = client
            .post(format!("http://{addr}/v2/bookings"))
            .header("cal-api-version", BOOKINGS)
            .bearer_auth(SANDBOX_CALCOM_API_KEY)
            .json(&booking_body(start))
            .send()
            .await
            .expect("the answer starts");
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(body) => {
                assert_eq!(status, 500);
                let body: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(body["error"]["code"], "InternalServerErrorException");
                status_500 += 1;
            }
            Err(error) => {
                // The head (the real 201) arrived; the body broke off with the connection.
                assert_eq!(status, 201);
                assert!(
                    error.is_decode(),
                    "reqwest labels body read errors: {error:?}"
                );
                let cause = std::error::Error::source(&error).map(ToString::to_string);
                assert_eq!(
                    cause.as_deref(),
                    Some("error reading a body from connection")
                );
                dropped += 1;
            }
        }
    }
    handle.stop(false).await;

    assert!(
        status_500 > 0 && dropped > 0,
        "{status_500} 500s, {dropped} drops"
    );
    assert_eq!(booked_starts(&sim).await, starts);
}

#[actix_web::test]
async fn same_seed_same_decisions() {
    let config = json!({"error_rate": 0.5, "error_status": 503, "seed": 42});
    async fn statuses(sim: &CalcomSim) -> Vec<u16> {
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(send(sim, event_types()).await.status.as_u16());
        }
        statuses
    }
    let (first, _) = sim();
    let (second, _) = sim();
    set_faults(&first, &config).await;
    set_faults(&second, &config).await;
    let sequence = statuses(&first).await;
    assert_eq!(statuses(&second).await, sequence);
    assert!(
        sequence.contains(&200) && sequence.contains(&503),
        "{sequence:?}"
    );

    set_faults(&first, &config).await;
    assert_eq!(
        statuses(&first).await,
        sequence,
        "setting the seed again restarts it"
    );
    let mut other = config.clone();
    other["seed"] = json!(43);
    set_faults(&first, &other).await;
    assert_ne!(statuses(&first).await, sequence);
}

#[actix_web::test]
async fn faults_endpoints_are_not_faulted() {
    let (sim, _) = sim();
    let worst = json!({"latency_ms": 60_000, "timeout_rate": 1, "error_rate": 1, "outage_s": 3600});
    set_faults(&sim, &worst).await;
    let app = test::init_service(App::new().configure(|cfg| sim.configure(cfg))).await;
    let at_once = |req: test::TestRequest| {
        test::call_service(&app, req.to_request())
            .now_or_never()
            .as_ref()
            .map(ServiceResponse::status)
    };

    assert_eq!(
        at_once(test::TestRequest::get().uri(FAULTS_PATH)),
        Some(StatusCode::OK)
    );
    assert_eq!(
        at_once(test::TestRequest::post().uri(FAULTS_PATH).set_json(&worst)),
        Some(StatusCode::OK)
    );
    // Outside /v2 the simulator answers as usual: its 404 page.
    assert_eq!(
        at_once(test::TestRequest::get().uri("/v1/bookings")),
        Some(StatusCode::NOT_FOUND)
    );
    assert_eq!(
        at_once(test::TestRequest::delete().uri(FAULTS_PATH)),
        Some(StatusCode::OK)
    );
    assert_eq!(at_once(event_types()), Some(StatusCode::OK));
}
