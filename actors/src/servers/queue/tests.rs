//! The queue server's methods through its actor, over a fake [`QueueAdminStore`].

use super::*;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::ports::{Clock, QueueAdminStore, StoreError};
use crate::records::{
    FailedJob, JobStatus, JobSummary, JobView, QueueMetricsRows, QueueOverview, RecentJob,
    RetryOutcome, TokenGrant, WorkerView,
};
use crate::registry::Scope;
use crate::server::ServerCall;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// A store that answers the queue methods with canned values and records the scope and
/// arguments it was asked with.
#[derive(Default)]
struct FakeStore {
    retry: Mutex<Option<RetryOutcome>>,
    requeued: u64,
    failed: Vec<FailedJob>,
    broken: bool,
    calls: Mutex<Vec<String>>,
}

impl FakeStore {
    fn seen(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: String) -> Result<(), StoreError> {
        self.calls.lock().unwrap().push(call);
        if self.broken {
            Err(StoreError::backend("disk on fire"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl QueueAdminStore for FakeStore {
    async fn queue_overview(
        &self,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, StoreError> {
        self.record(format!("overview {company:?} {now}"))?;
        Ok(QueueOverview {
            as_of: now,
            queues: Vec::new(),
        })
    }

    async fn failed_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<FailedJob>, StoreError> {
        self.record(format!("failed {company:?} {limit} {before_id:?}"))?;
        Ok(self.failed.iter().take(limit as usize).cloned().collect())
    }

    async fn recent_jobs(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        status: Option<JobStatus>,
    ) -> Result<Vec<RecentJob>, StoreError> {
        self.record(format!("recent {company:?} {limit} {status:?}"))?;
        Ok(Vec::new())
    }

    async fn retry_job(
        &self,
        job_id: i64,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError> {
        self.record(format!("retry {job_id} {company:?} {now}"))?;
        Ok(self.retry.lock().unwrap().clone().expect("a retry outcome"))
    }

    async fn retry_failed(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.record(format!("retry_failed {company:?} {since} {now}"))?;
        Ok(self.requeued)
    }

    async fn queue_metrics(
        &self,
        company: Option<CompanyId>,
        since: DateTime<Utc>,
    ) -> Result<QueueMetricsRows, StoreError> {
        self.record(format!("metrics {company:?} {since}"))?;
        Ok(QueueMetricsRows::default())
    }

    async fn workers(&self, alive_since: DateTime<Utc>) -> Result<Vec<WorkerView>, StoreError> {
        self.record(format!("workers {alive_since}"))?;
        Ok(Vec::new())
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        t0()
    }
}

/// Stands in for the outbox worker: counts wake-ups.
#[derive(Default)]
struct WakeCounter(usize);

impl Actor for WakeCounter {
    type Context = Context<Self>;
}

impl Handler<Wake> for WakeCounter {
    type Result = ();

    fn handle(&mut self, _: Wake, _: &mut Self::Context) {
        self.0 += 1;
    }
}

/// Asks for the count; the mailbox is FIFO, so earlier wake-ups are counted.
#[derive(Message)]
#[rtype(result = "usize")]
struct Wakes;

impl Handler<Wakes> for WakeCounter {
    type Result = usize;

    fn handle(&mut self, _: Wakes, _: &mut Self::Context) -> usize {
        self.0
    }
}

struct Harness {
    store: Arc<FakeStore>,
    server: Addr<QueueServer>,
    wakes: Addr<WakeCounter>,
}

impl Harness {
    fn start(store: FakeStore) -> Self {
        let store = Arc::new(store);
        let wakes = WakeCounter::default().start();
        let server = QueueServer::new(
            Arc::clone(&store) as Arc<dyn QueueAdminStore>,
            wakes.clone().recipient(),
            Arc::new(FixedClock),
            RestartBudget::new(10, Duration::from_secs(60)),
        )
        .start();
        Self {
            store,
            server,
            wakes,
        }
    }

    async fn call(
        &self,
        method: &str,
        params: Value,
        company: Option<i64>,
    ) -> Result<Value, RpcError> {
        let call = ServerCall {
            method: method.to_owned(),
            params: Some(params),
            span: tracing::Span::none(),
            grant: match company {
                Some(id) => {
                    TokenGrant::company(CompanyId(id), crate::records::TokenScope::Admin, "test")
                }
                None => TokenGrant::admin("test"),
            },
        };
        self.server
            .send(call)
            .await
            .unwrap()
            .map(|out| out.data.to_value())
    }

    async fn wakes(&self) -> usize {
        self.wakes.send(Wakes).await.unwrap()
    }
}

fn job_view(status: JobStatus) -> JobView {
    JobView {
        id: 7,
        status,
        attempts: 0,
        max_attempts: 5,
        next_run_at: t0(),
        last_error: Some("time slot not available: taken".into()),
    }
}

fn failed_job(id: i64) -> FailedJob {
    FailedJob {
        id,
        queue: "bookings".into(),
        kind: "book".into(),
        company_id: CompanyId(1),
        call_id: Some(format!("call_{id}")),
        attempts: 5,
        max_attempts: 5,
        last_error: Some("gave up".into()),
        created_at: t0(),
        updated_at: t0(),
        summary: JobSummary {
            service_name: Some("Herrenschnitt".into()),
            start: Some(t0()),
            attendee_name: Some("Max".into()),
        },
    }
}

fn retrying(outcome: RetryOutcome) -> FakeStore {
    FakeStore {
        retry: Mutex::new(Some(outcome)),
        ..FakeStore::default()
    }
}

#[actix::test]
async fn retry_job_requeues_and_wakes_the_outbox() {
    let h = Harness::start(retrying(RetryOutcome::Requeued(job_view(
        JobStatus::Pending,
    ))));
    let data = h
        .call(
            "queue.retryJob",
            json!({"job_id": 7, "company_id": 1}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(data["status"], "pending");
    assert_eq!(data["attempts"], 0);
    assert_eq!(data["last_error"], "time slot not available: taken");
    assert_eq!(
        h.store.seen(),
        [format!("retry 7 Some(CompanyId(1)) {}", t0())]
    );
    assert_eq!(h.wakes().await, 1);
}

#[actix::test]
async fn retry_of_unknown_job_is_invalid_params_not_found() {
    let h = Harness::start(retrying(RetryOutcome::NotFound));
    let err = h
        .call("queue.retryJob", json!({"job_id": 404}), Some(1))
        .await
        .unwrap_err();
    assert_eq!(err.code, -32602);
    assert_eq!(err.data.as_ref().unwrap()["type"], "not_found");
    assert_eq!(err.data.unwrap()["details"], "no job with id 404");
    assert_eq!(h.wakes().await, 0);
}

#[actix::test]
async fn retry_of_job_that_is_not_failed_names_its_status() {
    let h = Harness::start(retrying(RetryOutcome::NotFailed(JobStatus::Running)));
    let err = h
        .call("queue.retryJob", json!({"job_id": 7}), Some(1))
        .await
        .unwrap_err();
    assert_eq!(err.code, -32602);
    let data = err.data.unwrap();
    assert_eq!(data["type"], "job_not_failed");
    assert_eq!(
        data["details"],
        "job 7 is running; only failed jobs (dead letters) can be retried"
    );
    assert_eq!(h.wakes().await, 0);
}

#[actix::test]
async fn company_token_acts_only_on_its_own_company() {
    let h = Harness::start(retrying(RetryOutcome::NotFound));
    h.call("queue.getOverview", json!({}), Some(3))
        .await
        .unwrap();
    h.call("queue.retryJob", json!({"job_id": 9}), Some(3))
        .await
        .unwrap_err();
    assert_eq!(
        h.store.seen(),
        [
            format!("overview Some(CompanyId(3)) {}", t0()),
            format!("retry 9 Some(CompanyId(3)) {}", t0()),
        ]
    );
}

#[actix::test]
async fn company_token_naming_another_company_is_forbidden() {
    let h = Harness::start(FakeStore::default());
    for (method, params) in [
        ("queue.getOverview", json!({"company_id": 2})),
        ("queue.getFailedJobs", json!({"company_id": 2})),
        ("queue.getRecentJobs", json!({"company_id": 2})),
        ("queue.retryJob", json!({"job_id": 1, "company_id": 2})),
        (
            "queue.retryFailed",
            json!({"since": "2026-03-01T00:00:00Z", "company_id": 2}),
        ),
        ("queue.getMetrics", json!({"company_id": 2})),
    ] {
        let err = h.call(method, params, Some(1)).await.unwrap_err();
        assert_eq!(err.code, -32002, "{method}");
    }
    assert!(h.store.seen().is_empty(), "the store was not asked");
}

#[actix::test]
async fn admin_token_without_company_sees_all_companies() {
    let h = Harness::start(FakeStore::default());
    h.call(
        "queue.getRecentJobs",
        json!({"status": "failed", "limit": 5}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(h.store.seen(), ["recent None 5 Some(Failed)"]);
}

#[actix::test]
async fn limit_defaults_to_50_and_must_be_1_to_500() {
    let h = Harness::start(FakeStore::default());
    h.call("queue.getFailedJobs", json!({}), None)
        .await
        .unwrap();
    h.call(
        "queue.getFailedJobs",
        json!({"limit": 500, "before_id": 12}),
        None,
    )
    .await
    .unwrap();
    for bad in [json!(0), json!(501), json!(-1), json!("ten")] {
        let err = h
            .call("queue.getFailedJobs", json!({ "limit": bad }), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, -32602, "limit {bad}");
        let err = h
            .call("queue.getRecentJobs", json!({ "limit": bad }), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, -32602, "limit {bad}");
    }
    assert_eq!(
        h.store.seen(),
        ["failed None 50 None", "failed None 500 Some(12)"]
    );
}

#[actix::test]
async fn out_of_range_limit_names_the_field_and_its_bounds() {
    let h = Harness::start(FakeStore::default());
    for method in ["queue.getFailedJobs", "queue.getRecentJobs"] {
        let err = h
            .call(method, json!({"limit": 501}), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, -32602, "{method}");
        assert_eq!(
            err.data.unwrap()["details"],
            "limit must be between 1 and 500, got 501",
            "{method}"
        );
    }
    assert!(h.store.seen().is_empty());
}

#[actix::test]
async fn full_page_of_failed_jobs_gives_the_next_cursor() {
    let h = Harness::start(FakeStore {
        failed: vec![failed_job(30), failed_job(20), failed_job(10)],
        ..FakeStore::default()
    });
    let page = h
        .call("queue.getFailedJobs", json!({"limit": 2}), None)
        .await
        .unwrap();
    assert_eq!(page["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(page["jobs"][0]["summary"]["service_name"], "Herrenschnitt");
    assert_eq!(page["next_before_id"], 20);
    let last = h
        .call("queue.getFailedJobs", json!({"limit": 4}), None)
        .await
        .unwrap();
    assert_eq!(last["next_before_id"], Value::Null);
}

#[actix::test]
async fn unknown_or_mistyped_params_are_invalid_params() {
    let h = Harness::start(FakeStore::default());
    for (method, params) in [
        ("queue.getOverview", json!({"company": 1})),
        ("queue.retryJob", json!({})),
        ("queue.retryJob", json!({"job_id": "seven"})),
        ("queue.retryFailed", json!({})),
        ("queue.retryFailed", json!({"since": "yesterday"})),
        ("queue.retryFailed", json!({"since": "2026-03-01"})),
        ("queue.getRecentJobs", json!({"status": "dead"})),
    ] {
        let err = h.call(method, params.clone(), None).await.unwrap_err();
        assert_eq!(err.code, -32602, "{method} {params}");
    }
    assert!(h.store.seen().is_empty());
}

#[actix::test]
async fn retry_failed_reads_any_offset_and_wakes_only_when_something_was_requeued() {
    let h = Harness::start(FakeStore {
        requeued: 2,
        ..FakeStore::default()
    });
    let data = h
        .call(
            "queue.retryFailed",
            json!({"since": "2026-03-02T10:00:00+01:00"}),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(
        data,
        json!({"requeued": 2, "since": "2026-03-02T09:00:00Z"})
    );
    assert_eq!(
        h.store.seen(),
        [format!("retry_failed Some(CompanyId(1)) {} {}", t0(), t0())]
    );
    assert_eq!(h.wakes().await, 1);

    let none = Harness::start(FakeStore::default());
    none.call(
        "queue.retryFailed",
        json!({"since": "2026-03-02T09:00:00Z"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(none.wakes().await, 0);
}

#[actix::test]
async fn store_failure_is_database_error() {
    let h = Harness::start(FakeStore {
        broken: true,
        ..FakeStore::default()
    });
    for (method, params) in [
        ("queue.getOverview", json!({})),
        ("queue.getFailedJobs", json!({})),
        ("queue.getRecentJobs", json!({})),
        ("queue.retryJob", json!({"job_id": 1})),
        (
            "queue.retryFailed",
            json!({"since": "2026-03-02T09:00:00Z"}),
        ),
        ("queue.getMetrics", json!({})),
    ] {
        let err = h.call(method, params, None).await.unwrap_err();
        assert_eq!(err.code, 3004, "{method}");
        assert_eq!(err.message, "database error", "no details leak");
    }
    assert_eq!(h.wakes().await, 0);
}

#[actix::test]
async fn unknown_method_is_method_not_found() {
    let h = Harness::start(FakeStore::default());
    let err = h.call("queue.purge", json!({}), None).await.unwrap_err();
    assert_eq!(err.code, -32601);
}

#[test]
fn every_method_is_company_scoped_and_documents_its_params() {
    let methods = QueueServer::methods();
    let names: Vec<_> = methods.iter().map(|m| m.name).collect();
    assert_eq!(
        names,
        [
            "queue.getOverview",
            "queue.getFailedJobs",
            "queue.getRecentJobs",
            "queue.retryJob",
            "queue.retryFailed",
            "queue.getMetrics",
            "queue.getWorkers",
        ]
    );
    // Workers are the platform's, not a tenant's: only admins see hosts and processes.
    for m in &methods {
        let expected = match m.name {
            "queue.getWorkers" => Scope::Platform,
            "queue.retryJob" | "queue.retryFailed" => Scope::Write,
            _ => Scope::Read,
        };
        assert_eq!(m.scope, expected, "{}", m.name);
    }
    let retry = serde_json::to_value(&methods[3].params).unwrap();
    assert_eq!(retry["required"], json!(["job_id"]));
    let failed = serde_json::to_value(&methods[1].params).unwrap();
    assert_eq!(failed["properties"]["limit"]["maximum"], 500);
}

#[actix::test]
async fn metrics_cover_the_last_hour_by_default_and_the_tokens_company() {
    let h = Harness::start(FakeStore::default());
    let data = h
        .call("queue.getMetrics", json!({}), Some(3))
        .await
        .unwrap();
    h.call("queue.getMetrics", json!({"minutes": 5}), None)
        .await
        .unwrap();
    let hour_ago = t0() - chrono::TimeDelta::minutes(60);
    let five_ago = t0() - chrono::TimeDelta::minutes(5);
    assert_eq!(
        h.store.seen(),
        [
            format!("metrics Some(CompanyId(3)) {hour_ago}"),
            format!("metrics None {five_ago}"),
        ]
    );
    assert_eq!(data["processed"], 0);
    assert_eq!(data["latency_ms"]["p50"], Value::Null);
    assert!(data["per_minute"].as_array().unwrap().len() >= 60);
}

#[actix::test]
async fn metrics_window_must_be_1_to_1440_minutes() {
    let h = Harness::start(FakeStore::default());
    for minutes in [0, 1441] {
        let err = h
            .call("queue.getMetrics", json!({"minutes": minutes}), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, -32602, "{minutes}");
        assert_eq!(
            err.data.unwrap()["details"],
            format!("minutes must be between 1 and 1440, got {minutes}")
        );
    }
    assert!(h.store.seen().is_empty(), "the store was not asked");
}

#[actix::test]
async fn workers_are_those_with_a_heartbeat_in_the_last_30_s() {
    let h = Harness::start(FakeStore::default());
    let data = h.call("queue.getWorkers", json!({}), None).await.unwrap();
    let alive_since = t0() - chrono::TimeDelta::seconds(30);
    assert_eq!(h.store.seen(), [format!("workers {alive_since}")]);
    assert_eq!(data["alive_for_s"], 30);
    assert_eq!(data["workers"], json!([]));
}
