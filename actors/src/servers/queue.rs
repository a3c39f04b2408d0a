//! `QueueServer`: the operator's window on the durable outbox (DESIGN §6 `queue`). It shows
//! the queues, lists dead letters and recent jobs, and puts dead letters back in the outbox,
//! waking the [`OutboxWorker`](crate::outbox::OutboxWorker) so a retried job runs at once.
//!
//! Every method is company-scoped: a company token sees and retries only its own company's
//! jobs; an admin token sees all companies unless it names one. Each call is parsed into a
//! [`QueueRequest`] first (params → typed request, scope applied), then applied to the store.

use crate::domain::ids::CompanyId;
use crate::jsonrpc::RpcError;
use crate::outbox::Wake;
use crate::ports::{Clock, Store};
use crate::records::{
    FailedJob, JobStatus, JobView, QueueOverview, RecentJob, RetryOutcome, TokenGrant,
};
use crate::registry::{MethodSpec, Scope, parse_params};
use crate::server::{MethodOutput, ServerCall, optional_company};
use crate::servers::store_error;
use crate::supervision::{RestartBudget, guard};
use actix::prelude::*;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// Jobs per page when a listing names no `limit`.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest `limit` a listing accepts; more is -32602.
pub const MAX_LIMIT: u32 = 500;

/// The `queue` server actor.
pub struct QueueServer {
    store: Arc<dyn Store>,
    /// Woken after a retry so the requeued jobs run now rather than at the next poll.
    outbox: Recipient<Wake>,
    clock: Arc<dyn Clock>,
    budget: RestartBudget,
}

impl QueueServer {
    /// A server over `store` that wakes `outbox` after a successful retry.
    pub fn new(
        store: Arc<dyn Store>,
        outbox: Recipient<Wake>,
        clock: Arc<dyn Clock>,
        budget: RestartBudget,
    ) -> Self {
        Self {
            store,
            outbox,
            clock,
            budget,
        }
    }

    /// The JSON-RPC methods of this server.
    pub fn methods() -> Vec<MethodSpec> {
        vec![
            MethodSpec::new::<OverviewParams>(
                "queue.getOverview",
                "Outbox state per queue: jobs by status, due jobs, age of the oldest due job, \
                 expired leases, next due time.",
                "QueueOverview: as_of (UTC), queues [{queue, counts {pending, running, done, \
                 failed}, due, oldest_due_age_s, expired_leases, next_due_at}]",
                Scope::Company,
            ),
            MethodSpec::new::<FailedJobsParams>(
                "queue.getFailedJobs",
                "Dead letters (failed jobs), newest first, with their last error and a payload \
                 summary; page with before_id.",
                "FailedJobsPage: jobs [{id, queue, kind, company_id, call_id, attempts, \
                 max_attempts, last_error, created_at, updated_at, summary {service_name, \
                 start, attendee_name}}], next_before_id",
                Scope::Company,
            ),
            MethodSpec::new::<RecentJobsParams>(
                "queue.getRecentJobs",
                "The newest outbox jobs in any status, or only in one.",
                "RecentJobs: jobs [{id, queue, kind, company_id, call_id, status, attempts, \
                 max_attempts, next_run_at, locked_until, last_error, created_at, updated_at, \
                 summary}]",
                Scope::Company,
            ),
            MethodSpec::new::<RetryJobParams>(
                "queue.retryJob",
                "Puts one dead letter back in the outbox (pending, due now, attempts 0) and \
                 runs it at once. Only failed jobs can be retried.",
                "JobView of the requeued job: id, status, attempts, max_attempts, next_run_at, \
                 last_error (the error that made it a dead letter)",
                Scope::Company,
            ),
            MethodSpec::new::<RetryFailedParams>(
                "queue.retryFailed",
                "Puts every dead letter that failed at or after `since` back in the outbox and \
                 runs them at once.",
                "RetryFailedResult: requeued (count), since",
                Scope::Company,
            ),
        ]
    }
}

impl Actor for QueueServer {
    type Context = Context<Self>;
}

impl Supervised for QueueServer {}

crate::guarded_actor!(QueueServer, "queue");

/// Params of `queue.getOverview`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverviewParams {
    /// Company to show; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
}

/// Params of `queue.getFailedJobs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedJobsParams {
    /// Company to list; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
    /// Jobs per page, 1–500; default 50.
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
    /// Only jobs with a smaller id: the `next_before_id` of the previous page.
    pub before_id: Option<i64>,
}

/// Params of `queue.getRecentJobs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecentJobsParams {
    /// Company to list; defaults to the token's company. Admin tokens may omit it for all
    /// companies.
    pub company_id: Option<CompanyId>,
    /// Jobs to return, 1–500; default 50.
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
    /// Only jobs in this status: `pending`, `running`, `done` or `failed`.
    pub status: Option<JobStatus>,
}

/// Params of `queue.retryJob`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryJobParams {
    /// The dead letter to retry (`id` from `queue.getFailedJobs`).
    pub job_id: i64,
    /// Defaults to the token's company. A job of another company is reported as not found.
    pub company_id: Option<CompanyId>,
}

/// Params of `queue.retryFailed`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryFailedParams {
    /// RFC 3339 instant (any offset); dead letters that failed at or after it are retried.
    pub since: DateTime<Utc>,
    /// Defaults to the token's company. Admin tokens may omit it to retry the dead letters
    /// of all companies.
    pub company_id: Option<CompanyId>,
}

/// `result.data` of `queue.getFailedJobs`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FailedJobsPage {
    /// Dead letters, newest (highest id) first.
    pub jobs: Vec<FailedJob>,
    /// Pass as `before_id` for the next page; `None` when this page was the last.
    pub next_before_id: Option<i64>,
}

/// `result.data` of `queue.getRecentJobs`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RecentJobs {
    /// Jobs, newest (highest id) first.
    pub jobs: Vec<RecentJob>,
}

/// `result.data` of `queue.retryFailed`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RetryFailedResult {
    /// Dead letters put back in the outbox.
    pub requeued: u64,
    /// The `since` that was applied, in UTC.
    pub since: DateTime<Utc>,
}

/// One `queue.*` call after parsing: typed params with the token's company scope applied
/// (`company: None` only for an admin token that named no company).
#[derive(Debug, Clone, PartialEq)]
pub enum QueueRequest {
    /// `queue.getOverview`.
    Overview {
        /// Scope of the overview.
        company: Option<CompanyId>,
    },
    /// `queue.getFailedJobs`.
    FailedJobs {
        /// Scope of the listing.
        company: Option<CompanyId>,
        /// Page size, 1–[`MAX_LIMIT`].
        limit: u32,
        /// Paging cursor.
        before_id: Option<i64>,
    },
    /// `queue.getRecentJobs`.
    RecentJobs {
        /// Scope of the listing.
        company: Option<CompanyId>,
        /// Page size, 1–[`MAX_LIMIT`].
        limit: u32,
        /// Status filter.
        status: Option<JobStatus>,
    },
    /// `queue.retryJob`.
    RetryJob {
        /// The dead letter.
        job_id: i64,
        /// A job outside this company is not found.
        company: Option<CompanyId>,
    },
    /// `queue.retryFailed`.
    RetryFailed {
        /// Scope of the retry.
        company: Option<CompanyId>,
        /// Dead letters that failed at or after this instant.
        since: DateTime<Utc>,
    },
}

impl QueueRequest {
    /// Parses the params of `method` for `grant`.
    ///
    /// # Errors
    /// -32601 for a method this server does not have; -32602 for params that are not an
    /// object, unknown or mistyped fields, a `limit` outside 1–500 or a `since` that is not
    /// RFC 3339; -32002 when a company token names another company.
    pub fn parse(
        method: &str,
        params: Option<Value>,
        grant: &TokenGrant,
    ) -> Result<Self, RpcError> {
        Ok(match method {
            "queue.getOverview" => {
                let p: OverviewParams = parse_params(params)?;
                Self::Overview {
                    company: optional_company(grant, p.company_id)?,
                }
            }
            "queue.getFailedJobs" => {
                let p: FailedJobsParams = parse_params(params)?;
                Self::FailedJobs {
                    limit: limit(p.limit)?,
                    company: optional_company(grant, p.company_id)?,
                    before_id: p.before_id,
                }
            }
            "queue.getRecentJobs" => {
                let p: RecentJobsParams = parse_params(params)?;
                Self::RecentJobs {
                    limit: limit(p.limit)?,
                    company: optional_company(grant, p.company_id)?,
                    status: p.status,
                }
            }
            "queue.retryJob" => {
                let p: RetryJobParams = parse_params(params)?;
                Self::RetryJob {
                    job_id: p.job_id,
                    company: optional_company(grant, p.company_id)?,
                }
            }
            "queue.retryFailed" => {
                let p: RetryFailedParams = parse_params(params)?;
                Self::RetryFailed {
                    company: optional_company(grant, p.company_id)?,
                    since: p.since,
                }
            }
            other => return Err(RpcError::method_not_found(other)),
        })
    }

    /// Runs the request against `store` at `now`; wakes `outbox` when jobs were requeued.
    ///
    /// # Errors
    /// 3004 when the store fails; -32602 with `data.type = "not_found"` for a job that does
    /// not exist (or belongs to another company), and with `data.type = "job_not_failed"`
    /// naming the status for a job that is not a dead letter.
    pub async fn apply(
        self,
        store: &dyn Store,
        outbox: &Recipient<Wake>,
        now: DateTime<Utc>,
    ) -> Result<MethodOutput, RpcError> {
        match self {
            Self::Overview { company } => {
                let overview: QueueOverview = store
                    .queue_overview(company, now)
                    .await
                    .map_err(|e| store_error(&e))?;
                MethodOutput::fresh(overview)
            }
            Self::FailedJobs {
                company,
                limit,
                before_id,
            } => {
                let jobs = store
                    .failed_jobs(company, limit, before_id)
                    .await
                    .map_err(|e| store_error(&e))?;
                // A short page is the last one; a full page may have more behind it.
                let next_before_id = if jobs.len() == limit as usize {
                    jobs.last().map(|job| job.id)
                } else {
                    None
                };
                MethodOutput::fresh(FailedJobsPage {
                    jobs,
                    next_before_id,
                })
            }
            Self::RecentJobs {
                company,
                limit,
                status,
            } => {
                let jobs = store
                    .recent_jobs(company, limit, status)
                    .await
                    .map_err(|e| store_error(&e))?;
                MethodOutput::fresh(RecentJobs { jobs })
            }
            Self::RetryJob { job_id, company } => {
                let outcome = store
                    .retry_job(job_id, company, now)
                    .await
                    .map_err(|e| store_error(&e))?;
                let job: JobView = match outcome {
                    RetryOutcome::Requeued(job) => job,
                    RetryOutcome::NotFound => return Err(job_not_found(job_id)),
                    RetryOutcome::NotFailed(status) => return Err(job_not_failed(job_id, status)),
                };
                outbox.do_send(Wake);
                MethodOutput::fresh(job)
            }
            Self::RetryFailed { company, since } => {
                let requeued = store
                    .retry_failed(company, since, now)
                    .await
                    .map_err(|e| store_error(&e))?;
                if requeued > 0 {
                    outbox.do_send(Wake);
                }
                MethodOutput::fresh(RetryFailedResult { requeued, since })
            }
        }
    }
}

/// The page size: [`DEFAULT_LIMIT`] when absent, else 1–[`MAX_LIMIT`].
fn limit(requested: Option<u32>) -> Result<u32, RpcError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(RpcError::invalid_params(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {n}"
        ))),
    }
}

/// -32602 with its own `data.type`, so clients can tell "no such job" from bad params.
fn invalid_params_of(kind: &str, details: String) -> RpcError {
    RpcError {
        data: Some(json!({ "type": kind, "details": details })),
        ..RpcError::invalid_params("")
    }
}

fn job_not_found(job_id: i64) -> RpcError {
    invalid_params_of("not_found", format!("no job with id {job_id}"))
}

fn job_not_failed(job_id: i64, status: JobStatus) -> RpcError {
    invalid_params_of(
        "job_not_failed",
        format!(
            "job {job_id} is {}; only failed jobs (dead letters) can be retried",
            status.as_str()
        ),
    )
}

impl Handler<ServerCall> for QueueServer {
    type Result = ResponseFuture<Result<MethodOutput, RpcError>>;

    fn handle(&mut self, msg: ServerCall, ctx: &mut Self::Context) -> Self::Result {
        guard(
            self,
            ctx,
            |this, _| {
                let store = Arc::clone(&this.store);
                let outbox = this.outbox.clone();
                let now = this.clock.now();
                async move {
                    QueueRequest::parse(&msg.method, msg.params, &msg.grant)?
                        .apply(store.as_ref(), &outbox, now)
                        .await
                }
            },
            |m| Err(RpcError::internal(format!("queue server failed: {m}"))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::PhoneNumber;
    use crate::domain::tenant::{CompanyProfile, Service, TenantRoute};
    use crate::ports::{
        CallStore, LockStore, OutboxStore, QueueAdminStore, StoreError, TenancyStore, TokenStore,
    };
    use crate::records::{
        CallContextRecord, CallEventRecord, CallId, CallView, EventOutcome, Job, JobFailure,
        JobSummary, NewAppointment, QueueMetricsRows, WebhookStats, WorkerHeartbeat, WorkerView,
    };
    use async_trait::async_trait;
    use chrono::TimeZone;
    use std::sync::Mutex;
    use std::time::Duration;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    /// A store that answers the queue methods with canned values and records the scope and
    /// arguments it was asked with. The other methods are not the queue server's business.
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
    impl TenancyStore for FakeStore {
        async fn tenant_by_phone(
            &self,
            _: &PhoneNumber,
        ) -> Result<Option<TenantRoute>, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn company(&self, _: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn services(&self, _: CompanyId) -> Result<Vec<Service>, StoreError> {
            unreachable!("not used by the queue server")
        }
    }

    #[async_trait]
    impl CallStore for FakeStore {
        async fn save_call_context(&self, _: &CallContextRecord) -> Result<(), StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn load_call_context(
            &self,
            _: &CallId,
        ) -> Result<Option<CallContextRecord>, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn record_call_event(&self, _: &CallEventRecord) -> Result<EventOutcome, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn get_call(&self, _: &CallId) -> Result<Option<CallView>, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn webhook_stats(&self, _: Option<CompanyId>) -> Result<WebhookStats, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn insert_appointment(&self, _: &NewAppointment) -> Result<i64, StoreError> {
            unreachable!("not used by the queue server")
        }
    }

    #[async_trait]
    impl OutboxStore for FakeStore {
        async fn claim_due_jobs(
            &self,
            _: DateTime<Utc>,
            _: Duration,
            _: u32,
        ) -> Result<Vec<Job>, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn complete_booking_job(
            &self,
            _: i64,
            _: &NewAppointment,
        ) -> Result<i64, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn fail_job(&self, _: i64, _: &JobFailure) -> Result<(), StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn heartbeat_worker(&self, _: &WorkerHeartbeat) -> Result<(), StoreError> {
            unreachable!("not used by the queue server")
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
            _: Option<CompanyId>,
            _: DateTime<Utc>,
        ) -> Result<QueueMetricsRows, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn workers(&self, _: DateTime<Utc>) -> Result<Vec<WorkerView>, StoreError> {
            unreachable!("not used by the queue server")
        }
    }

    #[async_trait]
    impl TokenStore for FakeStore {
        async fn api_token(&self, _: &str) -> Result<Option<TokenGrant>, StoreError> {
            unreachable!("not used by the queue server")
        }
    }

    #[async_trait]
    impl LockStore for FakeStore {
        async fn ping(&self) -> Result<(), StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn try_lock_tenant(
            &self,
            _: CompanyId,
            _: &str,
            _: DateTime<Utc>,
            _: std::time::Duration,
        ) -> Result<bool, StoreError> {
            unreachable!("not used by the queue server")
        }

        async fn unlock_tenant(&self, _: CompanyId, _: &str) -> Result<(), StoreError> {
            unreachable!("not used by the queue server")
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
                Arc::clone(&store) as Arc<dyn Store>,
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
                grant: TokenGrant {
                    company_id: company.map(CompanyId),
                    label: "test".into(),
                },
            };
            self.server.send(call).await.unwrap().map(|out| out.data)
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
            ]
        );
        assert!(methods.iter().all(|m| m.scope == Scope::Company));
        let retry = serde_json::to_value(&methods[3].params).unwrap();
        assert_eq!(retry["required"], json!(["job_id"]));
        let failed = serde_json::to_value(&methods[1].params).unwrap();
        assert_eq!(failed["properties"]["limit"]["maximum"], 500);
    }
}
