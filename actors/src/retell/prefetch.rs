//! [`AvailabilityPrefetcher`]: after the inbound-call webhook answered, warms the free slots
//! of the dialled branch's services for the next days into the cache entries the call's
//! `check_availability` reads ([`crate::servers::calcom::availability_key`]), so its first
//! lookup is answered without Cal.com.
//!
//! Off the response path (the webhook sends [`Prefetch`] and does not wait), through the
//! company's Cal.com breaker in the background lane (the live calls' reserve of the Cal.com
//! budget stays theirs), one request after another, and only while the circuit is closed:
//! warming must never add failures that open it for live calls. Each (company, event type,
//! day) is fetched once at a time in this process: a burst of calls to one business does
//! not stampede Cal.com, and an entry already cached is left alone.

use crate::domain::ids::{CompanyId, EventTypeId};
use crate::metric_names as m;
use crate::ports::Cache;
use crate::resilience::BreakerState;
use crate::servers::calcom::{cached_availability, fetch_availability};
use crate::tenant::{GetTenant, TenantDirectory};
use actix::prelude::*;
use chrono::{Days, NaiveDate};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// How much one warm-up may fetch, and how long the entries live.
#[derive(Debug, Clone, Copy)]
pub struct PrefetchPolicy {
    /// Days warmed from the caller's local today (3: today and the next two). 0 turns the
    /// prefetch off.
    pub days: u32,
    /// Most event types warmed per call (the branch's first services by name).
    pub max_event_types: usize,
    /// Most (company, event type, day) fetches in flight in this process; beyond it a warm-up
    /// is dropped, never queued.
    pub max_in_flight: usize,
    /// Lifetime of a warmed entry (`cache.availability_ttl_s`, as for
    /// `calcom.checkAvailability`).
    pub ttl: Duration,
}

impl PrefetchPolicy {
    /// Today and the next two days, ten event types, 256 fetches in flight, entries living
    /// `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            days: 3,
            max_event_types: 10,
            max_in_flight: 256,
            ttl,
        }
    }
}

/// Message: warm `company`'s free slots of `event_types` from `today` (the company's local
/// date, zone `time_zone`). Answered once every day was fetched, found warm or skipped.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Prefetch {
    /// The company whose Cal.com credential and cache entries are used.
    pub company: CompanyId,
    /// The company's zone: the days and the slots' offsets are in it.
    pub time_zone: chrono_tz::Tz,
    /// Event types of the services offered at the dialled branch, in order.
    pub event_types: Vec<EventTypeId>,
    /// The first day warmed.
    pub today: NaiveDate,
}

/// One cache entry being warmed.
type Entry = (CompanyId, EventTypeId, NaiveDate);

/// The prefetch actor (one per process).
pub struct AvailabilityPrefetcher {
    tenants: Addr<TenantDirectory>,
    cache: Arc<dyn Cache>,
    policy: PrefetchPolicy,
    /// Entries being fetched now; bounded by `policy.max_in_flight`, each carries its company.
    in_flight: HashSet<Entry>,
}

impl AvailabilityPrefetcher {
    /// A prefetcher reading each company's Cal.com through `tenants` into `cache`.
    pub fn new(
        tenants: Addr<TenantDirectory>,
        cache: Arc<dyn Cache>,
        policy: PrefetchPolicy,
    ) -> Self {
        Self {
            tenants,
            cache,
            policy,
            in_flight: HashSet::new(),
        }
    }

    /// The entries of `msg` this warm-up takes over: not in flight elsewhere, within the
    /// bounds; the others are counted as `busy`.
    fn claim(&mut self, msg: &Prefetch) -> Vec<Entry> {
        let mut event_types: Vec<EventTypeId> = Vec::new();
        for event_type in &msg.event_types {
            if !event_types.contains(event_type) && event_types.len() < self.policy.max_event_types
            {
                event_types.push(*event_type);
            }
        }
        let days =
            (0..self.policy.days).filter_map(|d| msg.today.checked_add_days(Days::new(d.into())));
        let wanted: Vec<Entry> = days
            .flat_map(|day| event_types.iter().map(move |et| (msg.company, *et, day)))
            .collect();
        let mut claimed = Vec::new();
        for entry in wanted {
            if self.in_flight.len() < self.policy.max_in_flight && self.in_flight.insert(entry) {
                claimed.push(entry);
            } else {
                count("busy");
            }
        }
        claimed
    }
}

fn count(outcome: &'static str) {
    metrics::counter!(m::INBOUND_PREFETCH_TOTAL, "outcome" => outcome).increment(1);
}

impl Actor for AvailabilityPrefetcher {
    type Context = Context<Self>;
}

impl Supervised for AvailabilityPrefetcher {}

impl Handler<Prefetch> for AvailabilityPrefetcher {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: Prefetch, _: &mut Self::Context) -> Self::Result {
        let entries = self.claim(&msg);
        let tenants = self.tenants.clone();
        let cache = Arc::clone(&self.cache);
        let ttl = self.policy.ttl;
        let tz = msg.time_zone;
        let claimed = entries.clone();
        let warm = async move {
            let tenant = match tenants.send(GetTenant(msg.company)).await {
                Ok(Ok(tenant)) => Some(tenant),
                Ok(Err(e)) => {
                    tracing::warn!(company = %msg.company, error = %e, "availability prefetch: no tenant handles");
                    None
                }
                Err(e) => {
                    tracing::warn!(company = %msg.company, error = %e, "availability prefetch: tenant directory unavailable");
                    None
                }
            };
            let mut give_up = tenant.is_none();
            for (company, event_type, day) in entries {
                if cached_availability(cache.as_ref(), company, event_type, day)
                    .await
                    .is_some()
                {
                    count("warm");
                    continue;
                }
                let Some(tenant) = tenant
                    .as_ref()
                    .filter(|t| !give_up && t.calendar.state() == BreakerState::Closed)
                else {
                    count("skipped");
                    continue;
                };
                let fetched = fetch_availability(
                    cache.as_ref(),
                    &tenant.calendar,
                    company,
                    event_type,
                    day,
                    tz,
                    ttl,
                )
                .await;
                match fetched {
                    Ok(_) => count("fetched"),
                    Err(e) => {
                        tracing::info!(%company, %event_type, %day, error = %e, "availability prefetch failed; the call asks Cal.com itself");
                        count("failed");
                        give_up = true;
                    }
                }
            }
        };
        Box::pin(warm.into_actor(self).map(move |(), act, _| {
            for entry in &claimed {
                act.in_flight.remove(entry);
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{COMPANY, EVENT_TYPE, FakeCal, Memory, directory};
    use crate::servers::calcom::availability_key;
    use std::sync::atomic::Ordering;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn prefetch(event_types: Vec<EventTypeId>) -> Prefetch {
        Prefetch {
            company: COMPANY,
            time_zone: chrono_tz::Europe::Berlin,
            event_types,
            today: day(23),
        }
    }

    fn start(
        cal: &Arc<FakeCal>,
        cache: &Arc<Memory>,
        policy: PrefetchPolicy,
    ) -> Addr<AvailabilityPrefetcher> {
        let cache: Arc<dyn Cache> = cache.clone();
        AvailabilityPrefetcher::new(directory(Arc::clone(cal)), cache, policy).start()
    }

    fn requests(cal: &FakeCal) -> usize {
        cal.slot_requests.load(Ordering::SeqCst)
    }

    const TTL: Duration = Duration::from_secs(300);

    #[actix_rt::test]
    async fn prefetch_warms_the_entries_check_availability_reads() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        let prefetcher = start(&cal, &cache, PrefetchPolicy::new(TTL));
        prefetcher.send(prefetch(vec![EVENT_TYPE])).await.unwrap();
        for d in [23, 24, 25] {
            let warm = cached_availability(cache.as_ref(), COMPANY, EVENT_TYPE, day(d)).await;
            assert!(warm.is_some(), "day {d} warmed");
        }
        let key = availability_key(COMPANY, EVENT_TYPE, day(26));
        assert!(cache.get(&key).await.is_none(), "three days only");
        assert_eq!(requests(&cal), 3);
    }

    #[actix_rt::test]
    async fn a_second_inbound_call_does_not_fetch_again() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        let prefetcher = start(&cal, &cache, PrefetchPolicy::new(TTL));
        prefetcher.send(prefetch(vec![EVENT_TYPE])).await.unwrap();
        prefetcher
            .send(prefetch(vec![EVENT_TYPE, EVENT_TYPE]))
            .await
            .unwrap();
        assert_eq!(requests(&cal), 3);
    }

    #[actix_rt::test]
    async fn a_burst_of_inbound_calls_fetches_each_day_once() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        let prefetcher = start(&cal, &cache, PrefetchPolicy::new(TTL));
        let burst: Vec<_> = (0..20)
            .map(|_| prefetcher.send(prefetch(vec![EVENT_TYPE])))
            .collect();
        for sent in burst {
            sent.await.unwrap();
        }
        assert_eq!(requests(&cal), 3);
    }

    #[actix_rt::test]
    async fn warm_up_is_bounded_by_the_policy() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        let policy = PrefetchPolicy {
            days: 2,
            max_event_types: 1,
            max_in_flight: 256,
            ttl: TTL,
        };
        let prefetcher = start(&cal, &cache, policy);
        let many = (0..50).map(EventTypeId).collect();
        prefetcher.send(prefetch(many)).await.unwrap();
        assert_eq!(requests(&cal), 2);
    }

    #[actix_rt::test]
    async fn a_refusing_calendar_is_asked_once_per_warm_up() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        cal.fail_slots.store(true, Ordering::SeqCst);
        let prefetcher = start(&cal, &cache, PrefetchPolicy::new(TTL));
        prefetcher.send(prefetch(vec![EVENT_TYPE])).await.unwrap();
        let key = availability_key(COMPANY, EVENT_TYPE, day(23));
        assert!(cache.get(&key).await.is_none(), "nothing cached");
        assert_eq!(requests(&cal), 1);
    }
}
