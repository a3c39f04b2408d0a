//! Rate limits (issue 10): requests per minute per company and JSON-RPC server, per company for
//! live custom functions, and per company Cal.com credential, where live calls keep a reserve
//! that gateway and outbox traffic cannot take.
//!
//! Every limit is a GCRA ("generic cell rate algorithm") bucket of `n` requests per minute with
//! a burst of `n`: a quiet company may spend a whole minute's allowance at once, then gets one
//! request every `60 / n` seconds. A refused request carries how long until the next one would
//! pass ([`Denied::retry_after`]); nothing waits inside the limiter.
//!
//! # Layout
//! - this module: the [`Limiter`] port, the fixed set of [`Bucket`]s, the [`Quotas`] from
//!   configuration, and [`admit`] / [`admit_calcom`], the two entries that also count
//!   refusals in [`RATE_LIMITED_TOTAL`](crate::metric_names::RATE_LIMITED_TOTAL).
//! - `local`: [`LocalLimiter`], governor's keyed GCRA in this process (one node, or the
//!   fallback while a shared Redis is down). The Redis implementation lives in the shell.

mod local;

#[cfg(test)]
mod calcom_tests;

pub use local::LocalLimiter;

use crate::domain::ids::CompanyId;
use crate::metric_names as m;
use async_trait::async_trait;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

/// What a request is counted against. Names are a fixed set: a server name comes from the
/// method registry, never from a request, so keys `(company, bucket)` stay bounded by the
/// number of companies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// One JSON-RPC server (`calcom`, `retell.config`, …) of the gateway, per company.
    Server(&'static str),
    /// Live Retell custom functions (`/api/mcp/retell/custom-function`), per company.
    CustomFunction,
    /// Every outgoing Cal.com request made with the company's credential.
    CalcomCredential,
    /// The part of [`Bucket::CalcomCredential`] that gateway and outbox traffic may use; the
    /// rest is the live calls' reserve.
    CalcomBackground,
}

impl Bucket {
    /// The bucket's name in configuration, Redis keys and logs: the server name for
    /// [`Bucket::Server`], else `custom_function`, `calcom_credential`, `calcom_background`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Server(server) => server,
            Self::CustomFunction => "custom_function",
            Self::CalcomCredential => "calcom_credential",
            Self::CalcomBackground => "calcom_background",
        }
    }

    /// `{server, reason}` labels of [`RATE_LIMITED_TOTAL`](crate::metric_names::RATE_LIMITED_TOTAL).
    fn labels(self) -> (&'static str, &'static str) {
        match self {
            Self::Server(server) => (server, "company"),
            Self::CustomFunction => ("retell.function", "live_call"),
            Self::CalcomCredential => ("calcom", "credential"),
            Self::CalcomBackground => ("calcom", "live_reserve"),
        }
    }
}

/// Who an outgoing Cal.com request serves, which decides how much of the credential's budget it
/// may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lane {
    /// A caller is on the phone (custom functions): the whole credential budget.
    Live,
    /// Gateway and outbox work, which can wait: the budget minus the live reserve.
    #[default]
    Background,
}

/// A refused request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rate limit of {} reached; retry in {retry_after:?}", bucket.name())]
pub struct Denied {
    /// The bucket that refused.
    pub bucket: Bucket,
    /// Earliest time from now at which the same request would pass.
    pub retry_after: Duration,
}

impl Denied {
    /// [`Denied::retry_after`] in whole seconds, rounded up and at least 1: the unit of
    /// JSON-RPC `error.data.retry_after` and of HTTP `Retry-After` (RFC 9110 §10.2.3), where 0
    /// would invite an immediate retry that is refused again.
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

/// The limiter port: takes one request from a company's bucket, or says how long to wait.
/// Implementations keep one GCRA state per `(company, bucket)`; quotas come from [`Quotas`].
#[async_trait]
pub trait Limiter: Send + Sync + 'static {
    /// Counts one request of `company` against `bucket`.
    ///
    /// # Errors
    /// [`Denied`] when the bucket is empty; nothing was counted then.
    async fn acquire(&self, company: CompanyId, bucket: Bucket) -> Result<(), Denied>;
}

/// Requests per minute of every bucket (`[rate_limit]` in config/default.toml).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Per server name (`retell.config`, `appointments`, …); a server not listed gets
    /// [`Quotas::default_server`].
    pub servers: HashMap<String, NonZeroU32>,
    /// Servers not in [`Quotas::servers`].
    pub default_server: NonZeroU32,
    /// Live custom functions of one company.
    pub custom_function: NonZeroU32,
    /// Cal.com requests per company credential (Cal.com allows 120 per minute per API key,
    /// reference/calcom.md).
    pub calcom_credential: NonZeroU32,
    /// Percent of [`Quotas::calcom_credential`] only live calls may use, 0–99.
    pub calcom_live_reserve_percent: u8,
}

impl Quotas {
    /// `per_minute` for every bucket and no live reserve: for tests and benches that must not
    /// be throttled, or that throttle everything alike.
    pub fn uniform(per_minute: NonZeroU32) -> Self {
        Self {
            servers: HashMap::new(),
            default_server: per_minute,
            custom_function: per_minute,
            calcom_credential: per_minute,
            calcom_live_reserve_percent: 0,
        }
    }

    /// Requests per minute of `bucket`. The background share of the Cal.com budget is rounded
    /// down and at least 1.
    pub fn per_minute(&self, bucket: Bucket) -> NonZeroU32 {
        match bucket {
            Bucket::Server(server) => self
                .servers
                .get(server)
                .copied()
                .unwrap_or(self.default_server),
            Bucket::CustomFunction => self.custom_function,
            Bucket::CalcomCredential => self.calcom_credential,
            Bucket::CalcomBackground => {
                let share = 100 - u64::from(self.calcom_live_reserve_percent.min(99));
                let n = u64::from(self.calcom_credential.get()) * share / 100;
                NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN)
            }
        }
    }
}

/// [`Limiter::acquire`], counting a refusal in `rate_limited_total{server, reason}`.
///
/// # Errors
/// [`Denied`] from the limiter.
pub async fn admit(
    limiter: &dyn Limiter,
    company: CompanyId,
    bucket: Bucket,
) -> Result<(), Denied> {
    let result = limiter.acquire(company, bucket).await;
    if let Err(denied) = &result {
        let (server, reason) = denied.bucket.labels();
        metrics::counter!(m::RATE_LIMITED_TOTAL, "server" => server, "reason" => reason)
            .increment(1);
    }
    result
}

/// Admits one outgoing Cal.com request of `company`'s credential. A live request needs a cell
/// of the whole budget; a background one first needs a cell of the background share, so it can
/// never use the live reserve. A background request refused by the whole budget has spent its
/// background cell: that errs on the side of the live calls.
///
/// # Errors
/// [`Denied`] naming the bucket that refused.
pub async fn admit_calcom(
    limiter: &dyn Limiter,
    company: CompanyId,
    lane: Lane,
) -> Result<(), Denied> {
    if lane == Lane::Background {
        admit(limiter, company, Bucket::CalcomBackground).await?;
    }
    admit(limiter, company, Bucket::CalcomCredential).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    fn quotas() -> Quotas {
        Quotas {
            servers: HashMap::from([("retell.config".to_owned(), n(60))]),
            default_server: n(600),
            custom_function: n(1000),
            calcom_credential: n(120),
            calcom_live_reserve_percent: 20,
        }
    }

    #[test]
    fn listed_server_has_its_quota_and_others_the_default() {
        let q = quotas();
        assert_eq!(q.per_minute(Bucket::Server("retell.config")), n(60));
        assert_eq!(q.per_minute(Bucket::Server("queue")), n(600));
    }

    #[test]
    fn background_share_leaves_the_live_reserve() {
        let mut q = quotas();
        assert_eq!(q.per_minute(Bucket::CalcomBackground), n(96));
        q.calcom_credential = n(1);
        assert_eq!(q.per_minute(Bucket::CalcomBackground), n(1));
        q.calcom_credential = n(120);
        q.calcom_live_reserve_percent = 200;
        assert_eq!(q.per_minute(Bucket::CalcomBackground), n(1));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        let d = |ms| Denied {
            bucket: Bucket::CustomFunction,
            retry_after: Duration::from_millis(ms),
        };
        assert_eq!(d(0).retry_after_secs(), 1);
        assert_eq!(d(1).retry_after_secs(), 1);
        assert_eq!(d(1000).retry_after_secs(), 1);
        assert_eq!(d(1001).retry_after_secs(), 2);
    }
}
