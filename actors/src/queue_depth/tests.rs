//! The sampler over a scripted [`QueueAdminStore`], with the paused clock.

use super::*;
use crate::domain::ids::CompanyId;
use crate::ports::StoreError;
use crate::records::{
    FailedJob, JobCounts, JobStatus, QueueMetricsRows, QueueSummary, RecentJob, RetryOutcome,
    WorkerView,
};
use crate::test_clock::paused_system;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::collections::VecDeque;
use std::sync::Mutex;

const INTERVAL: Duration = Duration::from_secs(15);

/// Answers `queue_overview` from a script (the last answer repeats) and counts the reads.
#[derive(Default)]
struct ScriptedStore {
    answers: Mutex<VecDeque<Result<Vec<QueueSummary>, StoreError>>>,
    reads: Mutex<Vec<Option<CompanyId>>>,
}

impl ScriptedStore {
    fn new(answers: Vec<Result<Vec<QueueSummary>, StoreError>>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into()),
            reads: Mutex::default(),
        })
    }

    fn reads(&self) -> usize {
        self.reads.lock().unwrap().len()
    }
}

fn unused<T>() -> Result<T, StoreError> {
    Err(StoreError::backend("not used by the sampler"))
}

#[async_trait]
impl QueueAdminStore for ScriptedStore {
    async fn queue_overview(
        &self,
        company: Option<CompanyId>,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, StoreError> {
        self.reads.lock().unwrap().push(company);
        let mut answers = self.answers.lock().unwrap();
        let answer = if answers.len() > 1 {
            answers.pop_front()
        } else {
            answers.front().map(|a| match a {
                Ok(q) => Ok(q.clone()),
                Err(_) => Err(StoreError::backend("down")),
            })
        };
        answer
            .unwrap_or_else(|| Ok(Vec::new()))
            .map(|queues| QueueOverview { as_of: now, queues })
    }

    async fn failed_jobs(
        &self,
        _: Option<CompanyId>,
        _: u32,
        _: Option<i64>,
    ) -> Result<Vec<FailedJob>, StoreError> {
        unused()
    }

    async fn recent_jobs(
        &self,
        _: Option<CompanyId>,
        _: u32,
        _: Option<JobStatus>,
    ) -> Result<Vec<RecentJob>, StoreError> {
        unused()
    }

    async fn retry_job(
        &self,
        _: i64,
        _: Option<CompanyId>,
        _: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError> {
        unused()
    }

    async fn retry_failed(
        &self,
        _: Option<CompanyId>,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        unused()
    }

    async fn queue_metrics(
        &self,
        _: Option<CompanyId>,
        _: DateTime<Utc>,
    ) -> Result<QueueMetricsRows, StoreError> {
        unused()
    }

    async fn workers(&self, _: DateTime<Utc>) -> Result<Vec<WorkerView>, StoreError> {
        unused()
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }
}

fn summary(queue: &str, counts: JobCounts, oldest_due_age_s: Option<u64>) -> QueueSummary {
    QueueSummary {
        queue: queue.to_owned(),
        counts,
        due: counts.pending,
        oldest_due_age_s,
        expired_leases: 0,
        next_due_at: None,
    }
}

fn counts(pending: u64, running: u64, failed: u64) -> JobCounts {
    JobCounts {
        pending,
        running,
        done: 99,
        failed,
    }
}

fn start(store: &Arc<ScriptedStore>) -> Addr<QueueDepthSampler> {
    let sampler = QueueDepthSampler::new(
        Arc::clone(store) as Arc<dyn QueueAdminStore>,
        Arc::new(FixedClock),
        INTERVAL,
        RestartBudget::new(3, Duration::from_secs(60)),
    );
    Supervisor::start(move |_| sampler)
}

/// The gauges set since the last snapshot (taking one resets them: the debugging recorder
/// drains), by name and sorted labels.
struct Gauges(Vec<(String, Labels, f64)>);

type Labels = Vec<(String, String)>;

impl Gauges {
    fn take(snapshotter: &Snapshotter) -> Self {
        Self(
            snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .filter_map(|(key, _, _, value)| {
                    let DebugValue::Gauge(v) = value else {
                        return None;
                    };
                    let key = key.key();
                    let mut labels: Vec<_> = key
                        .labels()
                        .map(|l| (l.key().to_owned(), l.value().to_owned()))
                        .collect();
                    labels.sort();
                    Some((key.name().to_owned(), labels, v.into_inner()))
                })
                .collect(),
        )
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0.iter().find_map(|(n, l, v)| {
            let same = n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, val)| l.contains(&((*k).into(), (*val).into())));
            same.then_some(*v)
        })
    }

    fn depth(&self, queue: &str, status: &str) -> Option<f64> {
        self.get(m::QUEUE_DEPTH, &[("queue", queue), ("status", status)])
    }

    fn oldest(&self, queue: &str) -> Option<f64> {
        self.get(m::QUEUE_OLDEST_PENDING_AGE_SECONDS, &[("queue", queue)])
    }
}

/// Runs `test` on a paused actix System with a local debugging recorder.
fn with_recorder(test: impl AsyncFnOnce(&Snapshotter)) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    paused_system().block_on(test(&snapshotter));
}

#[test]
fn sampler_sets_depth_per_queue_and_status_and_the_oldest_due_age() {
    with_recorder(async |s| {
        let store = ScriptedStore::new(vec![Ok(vec![summary(
            QUEUE_BOOKINGS,
            counts(3, 1, 2),
            Some(42),
        )])]);
        let _sampler = start(&store);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let g = Gauges::take(s);
        assert_eq!(g.depth(QUEUE_BOOKINGS, "pending"), Some(3.0));
        assert_eq!(g.depth(QUEUE_BOOKINGS, "running"), Some(1.0));
        assert_eq!(g.depth(QUEUE_BOOKINGS, "failed"), Some(2.0));
        assert_eq!(g.depth(QUEUE_BOOKINGS, "done"), None, "done is no depth");
        assert_eq!(g.oldest(QUEUE_BOOKINGS), Some(42.0));
        assert_eq!(
            g.depth(QUEUE_NOTIFICATIONS, "pending"),
            Some(0.0),
            "a queue without jobs reads 0"
        );
        assert_eq!(g.oldest(QUEUE_NOTIFICATIONS), Some(0.0));
        assert_eq!(
            store.reads.lock().unwrap().as_slice(),
            [None],
            "one read, of all companies"
        );
    });
}

#[test]
fn sampler_reads_once_per_interval() {
    with_recorder(async |_| {
        let store = ScriptedStore::new(vec![Ok(Vec::new())]);
        let _sampler = start(&store);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(store.reads(), 1, "read when started");
        tokio::time::sleep(INTERVAL).await;
        assert_eq!(store.reads(), 2);
        tokio::time::sleep(INTERVAL * 4).await;
        assert_eq!(store.reads(), 6);
    });
}

// One snapshot per test below, after the reads: the debugging recorder zeroes gauges it
// reports, so a value of 0 read after an earlier snapshot would prove nothing.

#[test]
fn a_drained_queue_reads_zero_not_its_last_figure() {
    with_recorder(async |s| {
        let store = ScriptedStore::new(vec![
            Ok(vec![summary(QUEUE_BOOKINGS, counts(4, 1, 2), Some(30))]),
            Ok(Vec::new()),
        ]);
        let _sampler = start(&store);
        tokio::time::sleep(Duration::from_millis(10) + INTERVAL).await;
        assert_eq!(store.reads(), 2);
        let g = Gauges::take(s);
        for status in ["pending", "running", "failed"] {
            assert_eq!(g.depth(QUEUE_BOOKINGS, status), Some(0.0), "{status}");
        }
        assert_eq!(g.oldest(QUEUE_BOOKINGS), Some(0.0));
    });
}

#[test]
fn a_failed_read_keeps_the_last_figures_and_the_sampler_goes_on() {
    with_recorder(async |s| {
        let store = ScriptedStore::new(vec![
            Ok(vec![summary(QUEUE_BOOKINGS, counts(5, 0, 1), Some(7))]),
            Err(StoreError::backend("down")),
            Ok(Vec::new()),
        ]);
        let _sampler = start(&store);
        tokio::time::sleep(Duration::from_millis(10) + INTERVAL).await;
        assert_eq!(store.reads(), 2, "the second read failed");
        let g = Gauges::take(s);
        assert_eq!(g.depth(QUEUE_BOOKINGS, "pending"), Some(5.0));
        assert_eq!(g.depth(QUEUE_BOOKINGS, "failed"), Some(1.0));
        assert_eq!(g.oldest(QUEUE_BOOKINGS), Some(7.0));
        tokio::time::sleep(INTERVAL).await;
        assert_eq!(store.reads(), 3, "still sampling after the failure");
    });
}

#[test]
fn queues_outside_the_fixed_set_are_not_reported() {
    with_recorder(async |s| {
        let store = ScriptedStore::new(vec![Ok(vec![summary("imports", counts(4, 0, 0), None)])]);
        let _sampler = start(&store);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let g = Gauges::take(s);
        assert_eq!(g.depth("imports", "pending"), None);
        assert_eq!(g.depth(QUEUE_BOOKINGS, "pending"), Some(0.0));
    });
}
