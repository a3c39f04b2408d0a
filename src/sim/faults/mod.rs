//! # Fault injection, shared by every simulator
//!
//! A simulator takes faults at start (a [`FaultConfig`] as `--fault-*` flags) and at run time
//! through `POST /__sim/faults` (a [`FaultConfig`] as JSON; it replaces the faults in force),
//! `GET /__sim/faults` (the [`FaultState`]) and `DELETE /__sim/faults` (no faults). The
//! endpoints are the same for every simulator and are never faulted themselves.
//!
//! Per API request the simulator asks [`Faults::decide`] for a [`Decision`] — how long to
//! wait, then whether to pass, fail with a status, hang, or commit and then fail — and
//! renders it in its vendor's shapes (error bodies, rate-limit headers).
//!
//! Time is tokio's ([`tokio::time::Instant`]), so a test on a paused clock controls latency
//! and outages; randomness is one [`fastrand::Rng`] per simulator, seeded from
//! [`FaultConfig::seed`] when given, so a seeded run repeats exactly.
//!
//! ## Layout
//! - `config`: [`FaultConfig`] (also the CLI flags) and its checked values [`Rate`] and
//!   [`ErrorStatus`].
//! - `endpoints`: the `/__sim/faults` resource ([`Faults::resource`]).
//! - `broken`: the answer whose connection breaks halfway ([`FailMode::Drop`]).

mod broken;
mod config;
mod endpoints;

pub use broken::broken;
pub use config::{ErrorStatus, FaultConfig, InvalidFault, Rate};
pub use endpoints::FAULTS_PATH;

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Longest outage [`Faults::set`] starts, so the end time cannot overflow.
const MAX_OUTAGE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The faults in force: the config and, when it asked for one, the outage it started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultState {
    /// The config as last set (all `None` after [`Faults::clear`]).
    pub config: FaultConfig,
    /// The outage `config.outage_s` started; `None` when it asked for none. It stays here
    /// (with `remaining_s: 0`) after it has ended, until the config is replaced.
    pub outage: Option<Outage>,
}

/// An outage in progress or over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outage {
    /// When it ends on tokio's clock; requests at or after this instant are not failed by it.
    #[serde(skip)]
    pub until: Instant,
    /// The same end on the wall clock, for people reading `GET /__sim/faults` (RFC 3339).
    pub ends_at: DateTime<Utc>,
    /// Whole seconds left, rounded up; 0 once it is over.
    pub remaining_s: u64,
}

/// What kind of request a decision is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Any request that does not commit anything.
    Plain,
    /// A request whose effect the client must not repeat blindly (Cal.com: `POST
    /// /v2/bookings`). Only these can get [`Action::CommitThenFail`].
    Commit,
}

/// What to do with one request: wait `delay`, then `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// `latency_ms` plus this request's jitter draw; applies whatever the action.
    pub delay: Duration,
    /// How the request ends.
    pub action: Action,
}

/// How a request ends, after its [`Decision::delay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Handle it normally.
    Pass,
    /// Do not handle it; answer with this status in the vendor's error shape.
    Fail(ErrorStatus),
    /// Accept it and never answer.
    Hang,
    /// Handle it (the commit happens), then fail the answer this way.
    CommitThenFail(FailMode),
}

/// How a committed request's answer is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// The answer is replaced by a 500 in the vendor's error shape.
    Status500,
    /// The connection breaks while the answer's body is being sent.
    Drop,
}

/// The faults of one simulator and the random draws that apply them. Cheap to clone: clones
/// share one state, so every worker and the `/__sim/faults` endpoints see the same faults.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// One lock for config, outage and generator: a decision reads all three and advances
    /// the generator, and seeded runs repeat only if decisions are taken one at a time.
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    config: FaultConfig,
    outage: Option<(Instant, DateTime<Utc>)>,
    rng: fastrand::Rng,
}

impl Faults {
    /// Faults starting with `config` (see [`Faults::set`]).
    pub fn new(config: FaultConfig) -> Self {
        let faults = Self::default();
        faults.set(config);
        faults
    }

    /// Replaces the faults in force with `config` and returns the new state. An
    /// `outage_s` starts now; a `seed` restarts the random draws from it (otherwise they
    /// restart from a random seed).
    pub fn set(&self, config: FaultConfig) -> FaultState {
        let now = Instant::now();
        let outage = config
            .outage_s
            .filter(|&s| s > 0)
            .map(|s| Duration::from_secs(s).min(MAX_OUTAGE))
            .map(|length| {
                let wall = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
                (now + length, Utc::now() + wall)
            });
        let rng = config
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        tracing::info!(?config, "simulator faults set");
        let mut inner = self.lock();
        *inner = Inner {
            config,
            outage,
            rng,
        };
        inner.state(now)
    }

    /// The faults in force, with the outage's time left as of now.
    pub fn get(&self) -> FaultState {
        self.lock().state(Instant::now())
    }

    /// Removes every fault.
    pub fn clear(&self) {
        tracing::info!("simulator faults cleared");
        *self.lock() = Inner::default();
    }

    /// The decision for one request of `kind` arriving at `now` (callers pass
    /// [`Instant::now`]). Draws from the generator in a fixed order — jitter, timeout,
    /// error, commit-then-fail, fail mode — each only when its fault is configured, so the
    /// same seed, config and request sequence give the same decisions.
    ///
    /// An outage in progress fails every request with `error_status` (default 503). Then a
    /// timeout draw hangs the request, an error draw fails it with `error_status` (default
    /// 500), and for [`RequestKind::Commit`] a commit-then-fail draw picks one of the two
    /// [`FailMode`]s with equal odds.
    pub fn decide(&self, kind: RequestKind, now: Instant) -> Decision {
        let mut inner = self.lock();
        let Inner {
            config,
            outage,
            rng,
        } = &mut *inner;
        let jitter = config.jitter_ms.map_or(0, |max| rng.u64(0..=max));
        let delay = Duration::from_millis(config.latency_ms.unwrap_or(0).saturating_add(jitter));
        let mut fires = |rate: Option<Rate>| rate.is_some_and(|rate| rng.f64() < rate.get());
        let action = if outage.is_some_and(|(until, _)| now < until) {
            Action::Fail(
                config
                    .error_status
                    .unwrap_or(ErrorStatus::ServiceUnavailable),
            )
        } else if fires(config.timeout_rate) {
            Action::Hang
        } else if fires(config.error_rate) {
            Action::Fail(
                config
                    .error_status
                    .unwrap_or(ErrorStatus::InternalServerError),
            )
        } else if kind == RequestKind::Commit && fires(config.commit_then_fail_rate) {
            Action::CommitThenFail(if rng.bool() {
                FailMode::Status500
            } else {
                FailMode::Drop
            })
        } else {
            Action::Pass
        };
        Decision { delay, action }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn state(&self, now: Instant) -> FaultState {
        FaultState {
            config: self.config.clone(),
            outage: self.outage.map(|(until, ends_at)| {
                let left = until.saturating_duration_since(now);
                Outage {
                    until,
                    ends_at,
                    remaining_s: left.as_secs() + u64::from(left.subsec_nanos() > 0),
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(p: f64) -> Option<Rate> {
        Some(Rate::new(p).unwrap())
    }

    fn decisions(faults: &Faults, kind: RequestKind, n: usize) -> Vec<Decision> {
        let now = Instant::now();
        (0..n).map(|_| faults.decide(kind, now)).collect()
    }

    #[test]
    fn without_faults_every_request_passes_at_once() {
        let faults = Faults::default();
        for kind in [RequestKind::Plain, RequestKind::Commit] {
            assert!(decisions(&faults, kind, 100).iter().all(|d| *d
                == Decision {
                    delay: Duration::ZERO,
                    action: Action::Pass
                }));
        }
    }

    #[test]
    fn delay_is_latency_plus_jitter_within_bounds() {
        let faults = Faults::new(FaultConfig {
            latency_ms: Some(100),
            jitter_ms: Some(50),
            seed: Some(1),
            ..FaultConfig::default()
        });
        let delays: Vec<_> = decisions(&faults, RequestKind::Plain, 500)
            .into_iter()
            .map(|d| d.delay)
            .collect();
        let (min, max) = (Duration::from_millis(100), Duration::from_millis(150));
        assert!(delays.iter().all(|d| (min..=max).contains(d)), "{delays:?}");
        assert!(delays.contains(&min) && delays.contains(&max), "{delays:?}");
    }

    #[test]
    fn outage_fails_before_its_end_and_passes_from_it() {
        let faults = Faults::new(FaultConfig {
            outage_s: Some(30),
            ..FaultConfig::default()
        });
        let until = faults.get().outage.unwrap().until;
        let decide = |at| faults.decide(RequestKind::Plain, at).action;
        assert_eq!(
            decide(until - Duration::from_nanos(1)),
            Action::Fail(ErrorStatus::ServiceUnavailable)
        );
        assert_eq!(decide(until), Action::Pass);
    }

    #[test]
    fn timeout_wins_over_error_and_error_over_commit_then_fail() {
        let all = FaultConfig {
            timeout_rate: rate(1.0),
            error_rate: rate(1.0),
            commit_then_fail_rate: rate(1.0),
            ..FaultConfig::default()
        };
        let action = |config: &FaultConfig| {
            Faults::new(config.clone())
                .decide(RequestKind::Commit, Instant::now())
                .action
        };
        assert_eq!(action(&all), Action::Hang);
        let errors = FaultConfig {
            timeout_rate: None,
            ..all.clone()
        };
        assert_eq!(
            action(&errors),
            Action::Fail(ErrorStatus::InternalServerError)
        );
    }

    #[test]
    fn commit_then_fail_only_applies_to_commits_and_uses_both_modes() {
        let faults = Faults::new(FaultConfig {
            commit_then_fail_rate: rate(1.0),
            seed: Some(3),
            ..FaultConfig::default()
        });
        assert!(
            decisions(&faults, RequestKind::Plain, 50)
                .iter()
                .all(|d| d.action == Action::Pass)
        );
        let commits = decisions(&faults, RequestKind::Commit, 50);
        for mode in [FailMode::Status500, FailMode::Drop] {
            assert!(
                commits
                    .iter()
                    .any(|d| d.action == Action::CommitThenFail(mode)),
                "{commits:?}"
            );
        }
    }

    #[test]
    fn rates_fire_about_as_often_as_asked() {
        let faults = Faults::new(FaultConfig {
            error_rate: rate(0.25),
            seed: Some(11),
            ..FaultConfig::default()
        });
        let failed = decisions(&faults, RequestKind::Plain, 4000)
            .iter()
            .filter(|d| d.action != Action::Pass)
            .count();
        assert!((800..1200).contains(&failed), "{failed}");
    }

    #[test]
    fn clear_removes_faults_and_outage() {
        let faults = Faults::new(FaultConfig {
            error_rate: rate(1.0),
            outage_s: Some(60),
            ..FaultConfig::default()
        });
        faults.clear();
        assert_eq!(
            faults.get(),
            FaultState {
                config: FaultConfig::default(),
                outage: None
            }
        );
        assert_eq!(
            faults.decide(RequestKind::Plain, Instant::now()).action,
            Action::Pass
        );
    }
}
