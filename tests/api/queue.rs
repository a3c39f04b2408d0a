//! The `queue` server on dead letters: listing them, retrying one or all since a time, and
//! the overview. A dead letter is made the way production makes one: the caller's hold of the
//! slot they confirmed lapsed and someone else booked it before the outbox did.

use crate::helpers::{TestApp, ended, spawn_app};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// Makes the booking of `call_id` at `hour` o'clock a dead letter; returns its job view.
pub async fn dead_letter(app: &TestApp, call_id: &str, hour: u32) -> Value {
    app.collect_complete(call_id, &format!("{hour} Uhr"), true)
        .await;
    let date = app.get_call(call_id).await["collected"]["date"]
        .as_str()
        .unwrap()
        .to_owned();
    app.lapse_hold(call_id).await;
    let taken = app
        .rpc(
            "calcom.createBooking",
            json!({"company_id": 1, "service": "Herrenhaarschnitt", "date": date,
                   "time": format!("{hour:02}:00"), "name": "Erika", "phone": "+4917612345678"}),
        )
        .await;
    assert_eq!(taken["result"]["success"], true, "{taken}");
    assert_eq!(app.webhook("call_ended", ended(call_id)).await, 204);
    let view = app.wait_for_booking(call_id).await;
    assert_eq!(view["booking_job"]["status"], "failed", "{view}");
    view["booking_job"].clone()
}

/// A booking that goes through; returns its job view.
async fn done_booking(app: &TestApp, call_id: &str, hour: u32) -> Value {
    app.collect_complete(call_id, &format!("{hour} Uhr"), true)
        .await;
    assert_eq!(app.webhook("call_ended", ended(call_id)).await, 204);
    let view = app.wait_for_booking(call_id).await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    view["booking_job"].clone()
}

/// `result.data` of a call that must succeed.
async fn data(app: &TestApp, method: &str, params: Value) -> Value {
    let res = app.rpc(method, params).await;
    assert_eq!(res["result"]["success"], true, "{method}: {res}");
    res["result"]["data"].clone()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// The dead letter `job_id` as `queue.getFailedJobs` lists it.
async fn listed(app: &TestApp, job_id: &Value) -> Option<Value> {
    let page = data(app, "queue.getFailedJobs", json!({})).await;
    page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| &j["id"] == job_id)
        .cloned()
}

/// Waits (bounded) until the job has failed again after `since`; returns its listing.
async fn failed_again(app: &TestApp, job_id: &Value, since: DateTime<Utc>) -> Value {
    for _ in 0..200 {
        if let Some(job) = listed(app, job_id).await
            && time(&job["updated_at"]) >= since
        {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("job {job_id} was not tried again");
}

#[actix_web::test]
async fn dead_letter_is_listed_with_its_error() {
    let app = spawn_app().await;
    let job = dead_letter(&app, "call_q_dead", 16).await;

    let page = data(&app, "queue.getFailedJobs", json!({"company_id": 1})).await;
    let jobs = page["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{page}");
    let listed = &jobs[0];
    assert_eq!(listed["id"], job["id"]);
    assert_eq!(listed["queue"], "bookings");
    assert_eq!(listed["kind"], "book");
    assert_eq!(listed["company_id"], 1);
    assert_eq!(listed["call_id"], "call_q_dead");
    assert_eq!(listed["attempts"], 1);
    let error = listed["last_error"].as_str().unwrap();
    assert!(error.contains("time slot not available"), "{error}");
    assert!(listed["summary"]["service_name"].is_string(), "{listed}");
    assert_eq!(listed["summary"]["attendee_name"], "Max Mustermann");
    assert!(listed["summary"]["start"].is_string(), "{listed}");
    assert_eq!(page["next_before_id"], Value::Null);
    // The caller's phone number is not shown.
    assert!(!page.to_string().contains("+4915112345678"), "{page}");
}

#[actix_web::test]
async fn failed_jobs_limit_outside_1_to_500_is_invalid_params() {
    let app = spawn_app().await;
    for limit in [0, 501] {
        let res = app
            .rpc("queue.getFailedJobs", json!({ "limit": limit }))
            .await;
        assert_eq!(res["error"]["code"], -32602, "{res}");
        assert!(
            res["error"]["data"]["details"]
                .as_str()
                .unwrap()
                .contains("between 1 and 500"),
            "{res}"
        );
    }
}

#[actix_web::test]
async fn retry_job_runs_the_booking_again() {
    let app = spawn_app().await;
    let job = dead_letter(&app, "call_q_retry", 15).await;
    let before = listed(&app, &job["id"]).await.unwrap();
    let error = before["last_error"].as_str().unwrap().to_owned();

    let requeued = data(&app, "queue.retryJob", json!({"job_id": job["id"]})).await;
    assert_eq!(requeued["id"], job["id"]);
    assert_eq!(requeued["status"], "pending");
    assert_eq!(requeued["attempts"], 0);
    assert_eq!(
        requeued["last_error"],
        error.as_str(),
        "kept until the next attempt"
    );
    let retried_at = time(&requeued["next_run_at"]);
    assert!(retried_at > time(&before["updated_at"]));

    // The outbox runs it at once: attempts go 0 → 1 and it fails again for the same reason.
    let again = failed_again(&app, &job["id"], retried_at).await;
    assert_eq!(again["attempts"], 1, "{again}");
    assert_eq!(again["last_error"], error.as_str());
    let view = app.get_call("call_q_retry").await;
    assert_eq!(view["booking_job"]["status"], "failed");
    assert!(view["appointment"].is_null());
    assert_eq!(app.calcom_bookings().await.len(), 1, "no double booking");
}

#[actix_web::test]
async fn retry_failed_since_before_the_failure_runs_it_again() {
    let app = spawn_app().await;
    let job = dead_letter(&app, "call_q_since", 11).await;
    let since = time(&listed(&app, &job["id"]).await.unwrap()["updated_at"]);

    let result = data(
        &app,
        "queue.retryFailed",
        json!({"since": (since - Duration::minutes(1)).to_rfc3339()}),
    )
    .await;
    assert_eq!(result["requeued"], 1, "{result}");
    let again = failed_again(&app, &job["id"], since + Duration::milliseconds(1)).await;
    assert!(
        again["last_error"]
            .as_str()
            .unwrap()
            .contains("time slot not available"),
        "{again}"
    );
}

#[actix_web::test]
async fn retry_failed_since_in_the_future_retries_nothing() {
    let app = spawn_app().await;
    let job = dead_letter(&app, "call_q_future", 12).await;
    let before = listed(&app, &job["id"]).await.unwrap();

    let since = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let result = data(&app, "queue.retryFailed", json!({ "since": since })).await;
    assert_eq!(result["requeued"], 0, "{result}");
    assert_eq!(listed(&app, &job["id"]).await.unwrap(), before, "untouched");
    assert_eq!(
        app.get_call("call_q_future").await["booking_job"]["status"],
        "failed"
    );
}

#[actix_web::test]
async fn retry_failed_with_a_malformed_since_is_invalid_params() {
    let app = spawn_app().await;
    for since in [json!("yesterday"), json!("2026-03-01"), json!(null)] {
        let res = app
            .rpc("queue.retryFailed", json!({ "since": since }))
            .await;
        assert_eq!(res["error"]["code"], -32602, "{since}: {res}");
    }
}

#[actix_web::test]
async fn overview_reports_done_and_failed() {
    let app = spawn_app().await;
    // The booking queue alone: no text confirmation job beside it.
    data(
        &app,
        "company.update",
        json!({"company_id": 1, "clear": ["sms"]}),
    )
    .await;
    done_booking(&app, "call_q_ok", 10).await;
    dead_letter(&app, "call_q_bad", 14).await;

    let overview = data(&app, "queue.getOverview", json!({})).await;
    assert!(overview["as_of"].is_string(), "{overview}");
    let queues = overview["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 1, "{overview}");
    let bookings = &queues[0];
    assert_eq!(bookings["queue"], "bookings");
    assert_eq!(
        bookings["counts"],
        json!({"pending": 0, "running": 0, "done": 1, "failed": 1})
    );
    assert_eq!(bookings["due"], 0);
    assert_eq!(bookings["oldest_due_age_s"], Value::Null);
    assert_eq!(bookings["expired_leases"], 0);
    assert_eq!(bookings["next_due_at"], Value::Null);
    let scoped = data(&app, "queue.getOverview", json!({"company_id": 1})).await;
    assert_eq!(scoped["queues"], overview["queues"]);
}

#[actix_web::test]
async fn retry_unknown_job_is_invalid_params() {
    let app = spawn_app().await;
    let res = app.rpc("queue.retryJob", json!({"job_id": 424_242})).await;
    assert_eq!(res["error"]["code"], -32602, "{res}");
    assert_eq!(res["error"]["data"]["type"], "not_found");
    assert_eq!(res["error"]["data"]["details"], "no job with id 424242");
}

#[actix_web::test]
async fn retry_of_a_done_job_is_invalid_params_naming_its_status() {
    let app = spawn_app().await;
    let job = done_booking(&app, "call_q_done", 9).await;
    let res = app
        .rpc("queue.retryJob", json!({"job_id": job["id"]}))
        .await;
    assert_eq!(res["error"]["code"], -32602, "{res}");
    assert_eq!(res["error"]["data"]["type"], "job_not_failed");
    let details = res["error"]["data"]["details"].as_str().unwrap();
    assert!(details.contains("is done"), "{details}");
    assert_eq!(app.calcom_bookings().await.len(), 1, "not booked again");
}

#[actix_web::test]
async fn queue_methods_appear_in_rpc_discover() {
    let app = spawn_app().await;
    let doc = app.rpc("rpc.discover", json!({})).await["result"].clone();
    let methods = doc["methods"].as_array().unwrap();
    let method = |name: &str| {
        methods
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from rpc.discover"))
            .clone()
    };
    for (name, scope) in [
        ("queue.getOverview", "read"),
        ("queue.getFailedJobs", "read"),
        ("queue.getRecentJobs", "read"),
        ("queue.retryJob", "write"),
        ("queue.retryFailed", "write"),
    ] {
        let m = method(name);
        assert_eq!(m["x-server"], "queue", "{m}");
        assert_eq!(m["x-scope"], scope, "{m}");
    }
    let schema = |name: &str| method(name)["params"][0]["schema"].clone();
    assert_eq!(schema("queue.retryJob")["required"], json!(["job_id"]));
    assert_eq!(schema("queue.retryFailed")["required"], json!(["since"]));
    assert_eq!(
        schema("queue.getFailedJobs")["properties"]["limit"]["maximum"],
        500
    );
    assert!(schema("queue.getRecentJobs")["properties"]["status"].is_object());
    assert_eq!(schema("queue.getOverview")["additionalProperties"], false);
}

#[actix_web::test]
async fn metrics_count_processed_and_dead_letters_of_the_last_hour() {
    let app = spawn_app().await;
    // The booking queue alone: no text confirmation job beside it.
    data(
        &app,
        "company.update",
        json!({"company_id": 1, "clear": ["sms"]}),
    )
    .await;
    done_booking(&app, "call_q_metrics_ok", 10).await;
    dead_letter(&app, "call_q_metrics_bad", 14).await;

    let metrics = data(&app, "queue.getMetrics", json!({})).await;
    assert_eq!(metrics["processed"], 1, "{metrics}");
    assert_eq!(metrics["failed"], 1, "{metrics}");
    assert_eq!(metrics["latency_ms"]["samples"], 1, "{metrics}");
    assert!(metrics["latency_ms"]["p95"].is_u64(), "{metrics}");
    let minutes = metrics["per_minute"].as_array().unwrap();
    assert!((60..=61).contains(&minutes.len()), "{metrics}");
    let other = data(&app, "queue.getMetrics", json!({"company_id": 2})).await;
    assert_eq!(other["processed"], 0, "another company's jobs do not count");
}

#[actix_web::test]
async fn workers_list_this_instance_and_need_an_admin_token() {
    let app = spawn_app().await;
    let mut workers = Value::Null;
    // The worker writes its first heartbeat as it starts; wait (bounded) for it.
    for _ in 0..200 {
        workers = data(&app, "queue.getWorkers", json!({})).await;
        if !workers["workers"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let listed = workers["workers"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{workers}");
    assert_eq!(listed[0]["pid"], std::process::id(), "{workers}");
    assert!(time(&listed[0]["last_heartbeat_at"]) >= time(&listed[0]["started_at"]));

    let doc = app.rpc("rpc.discover", json!({})).await["result"].clone();
    let spec = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "queue.getWorkers")
        .cloned()
        .unwrap();
    assert_eq!(spec["x-scope"], "platform", "{spec}");
}
