//! Headers every reply carries: a fresh `X-Request-Id` (uuid v4) and the throttler's
//! `X-RateLimit-{Limit,Remaining,Reset}-Default` (calcom.md §1 and §5 "Rate limits").
//!
//! Requests are counted per tracker in fixed 60 s windows like `@nestjs/throttler`, so the
//! headers move as they do in production; the simulator refuses nothing on its own. A 429 is
//! only ever injected by the fault layer, which stamps an [`Quota::exhausted`] quota.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Requests per window for API keys and anonymous callers alike (Cal.com's defaults).
const LIMIT: u32 = 120;

/// Window length (`RATE_LIMIT_DEFAULT_TTL_MS` = 60 000).
fn window() -> Duration {
    Duration::seconds(60)
}

/// How long a throttled client is blocked (`RATE_LIMIT_DEFAULT_BLOCK_MS` = 60 000), in seconds.
const BLOCK_SECONDS: i64 = 60;

/// Where a tracker stands after one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Quota {
    remaining: u32,
    /// Seconds until the window resets (the throttler storage's `timeToExpire`).
    reset_seconds: i64,
}

impl Quota {
    /// A throttled tracker: nothing left, blocked for the block duration (§5).
    pub(super) fn exhausted() -> Self {
        Self {
            remaining: 0,
            reset_seconds: BLOCK_SECONDS,
        }
    }
}

/// Request counters per tracker.
#[derive(Debug, Default)]
pub(super) struct RateWindows {
    /// Tracker → (window start, requests in it). Expired windows are dropped whenever a new
    /// tracker arrives, so the map holds at most the trackers of the last minute.
    windows: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl RateWindows {
    /// Counts one request of `tracker` at `now`.
    pub(super) fn hit(&self, tracker: &str, now: DateTime<Utc>) -> Quota {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if !windows.contains_key(tracker) {
            windows.retain(|_, (started, _)| now - *started < window());
        }
        let entry = windows.entry(tracker.to_owned()).or_insert((now, 0));
        if now - entry.0 >= window() {
            *entry = (now, 0);
        }
        entry.1 += 1;
        Quota {
            remaining: LIMIT.saturating_sub(entry.1),
            reset_seconds: (entry.0 + window() - now).num_seconds().max(0),
        }
    }
}

/// The throttler's tracker: the bearer token, else the OAuth client id, else the client IP
/// (`cf-connecting-ip` first, as behind Cloudflare).
pub(super) fn tracker(req: &ServiceRequest) -> String {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(token) = super::auth::bearer(req.request()) {
        return format!("token:{token}");
    }
    if let Some(client) = header("x-cal-client-id") {
        return format!("oauth_client:{client}");
    }
    let ip = header("cf-connecting-ip")
        .or_else(|| req.peer_addr().map(|addr| addr.ip().to_string()))
        .unwrap_or_default();
    format!("ip:{ip}")
}

/// Sets the request id and the rate-limit headers on a reply. A reply that already carries
/// rate-limit headers (a throttled 429) keeps its own.
pub(super) fn stamp(headers: &mut HeaderMap, quota: Quota) {
    let throttled = headers.contains_key("x-ratelimit-remaining-default");
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("x-request-id", uuid::Uuid::new_v4().to_string());
    if throttled {
        return;
    }
    set("x-ratelimit-limit-default", LIMIT.to_string());
    set("x-ratelimit-remaining-default", quota.remaining.to_string());
    set("x-ratelimit-reset-default", quota.reset_seconds.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stamp_keeps_the_headers_of_a_throttled_reply() {
        let mut headers = HeaderMap::new();
        stamp(&mut headers, Quota::exhausted());
        stamp(
            &mut headers,
            Quota {
                remaining: 100,
                reset_seconds: 5,
            },
        );
        let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(value("x-ratelimit-remaining-default"), Some("0"));
        assert_eq!(value("x-ratelimit-reset-default"), Some("60"));
        assert_eq!(value("x-ratelimit-limit-default"), Some("120"));
        assert!(value("x-request-id").is_some());
    }

    #[test]
    fn window_counts_down_and_resets_after_a_minute() {
        let rate = RateWindows::default();
        let t0 = Utc.with_ymd_and_hms(2050, 9, 1, 8, 0, 0).unwrap();
        assert_eq!(
            rate.hit("a", t0),
            Quota {
                remaining: 119,
                reset_seconds: 60
            }
        );
        assert_eq!(
            rate.hit("a", t0 + Duration::seconds(15)),
            Quota {
                remaining: 118,
                reset_seconds: 45
            }
        );
        assert_eq!(rate.hit("b", t0 + Duration::seconds(15)).remaining, 119);
        assert_eq!(
            rate.hit("a", t0 + Duration::seconds(61)),
            Quota {
                remaining: 119,
                reset_seconds: 60
            }
        );
    }
}
