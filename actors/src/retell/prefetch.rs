//! [`AvailabilityPrefetcher`]: when a call starts (Retell's inbound-call webhook, then its
//! `call_started` webhook), warms the free slots of the dialled branch's services for the next
//! days into the cache entries the call's `check_availability` reads
//! ([`crate::servers::calcom::availability_key`]), so its first lookup is answered without
//! Cal.com — or waits for the fetch already in flight instead of asking again.
//!
//! Off the response path (the webhooks send [`Prefetch`] and do not wait), through the
//! company's Cal.com breaker in the background lane (the live calls' reserve of the Cal.com
//! budget stays theirs), and only while the circuit is closed: warming must never add
//! failures that open it for live calls: the first request of a warm-up goes alone and a failure
//! ends the warm-up. Today first, then the following days; after the first request, at most
//! [`PrefetchPolicy::concurrency`] at once per warm-up. Each (company, event type,
//! day) is fetched once at a time in this process ([`AvailabilityFlights`], shared with the
//! custom functions): the second webhook of a call, or a burst of calls to one business,
//! finds the entries warm or in flight and does not stampede Cal.com.

use crate::domain::ids::{CompanyId, EventTypeId};
use crate::domain::tenant::{Service, TenantRoute};
use crate::metric_names as m;
use crate::resilience::BreakerState;
use crate::servers::calcom::AvailabilityFlights;
use crate::servers::calcom::flights::{Boarding, Entry};
use crate::tenant::{GetTenant, TenantDirectory};
use actix::prelude::*;
use chrono::{DateTime, Days, NaiveDate, Utc};
use futures_util::StreamExt as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How much one warm-up may fetch (`[cache]` in config/default.toml).
#[derive(Debug, Clone, Copy)]
pub struct PrefetchPolicy {
    /// Days warmed from the caller's local today (`cache.prefetch_days`, 3: today and the
    /// next two). 0 turns the prefetch off.
    pub days: u32,
    /// Most event types warmed per call (the branch's first services by name).
    pub max_event_types: usize,
    /// Most Cal.com requests of one warm-up at once (`cache.prefetch_concurrency`, at least
    /// 1). The process-wide bound is the flights' (`cache.availability_in_flight`).
    pub concurrency: usize,
}

impl Default for PrefetchPolicy {
    /// Today and the next two days, ten event types, four requests at once.
    fn default() -> Self {
        Self {
            days: 3,
            max_event_types: 10,
            concurrency: 4,
        }
    }
}

/// Message: warm `company`'s free slots of `event_types` from `today` (the company's local
/// date, zone `time_zone`). Answered once every day was fetched, found warm or in flight, or
/// skipped.
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

impl Prefetch {
    /// The warm-up of a call to `route`'s branch at `now` (UTC): `services` of the company
    /// offered at that branch, from the company's local today.
    pub fn for_call(route: &TenantRoute, services: &[Service], now: DateTime<Utc>) -> Self {
        let tz = route.company.time_zone;
        Self {
            company: route.company.id,
            time_zone: tz,
            event_types: services
                .iter()
                .filter(|s| s.offered_at(route.branch_id))
                .map(|s| s.event_type_id)
                .collect(),
            today: now.with_timezone(&tz).date_naive(),
        }
    }
}

/// The prefetch actor (one per process).
pub struct AvailabilityPrefetcher {
    tenants: Addr<TenantDirectory>,
    /// Shared with the custom functions: one fetch per entry at a time.
    flights: Arc<AvailabilityFlights>,
    policy: PrefetchPolicy,
}

impl AvailabilityPrefetcher {
    /// A prefetcher reading each company's Cal.com through `tenants` into `flights`' cache.
    pub fn new(
        tenants: Addr<TenantDirectory>,
        flights: Arc<AvailabilityFlights>,
        policy: PrefetchPolicy,
    ) -> Self {
        Self {
            tenants,
            flights,
            policy,
        }
    }

    /// The entries of `msg` within the policy's bounds: today's of every event type first,
    /// then the next day's, and so on.
    fn entries(&self, msg: &Prefetch) -> Vec<(CompanyId, EventTypeId, NaiveDate)> {
        let mut event_types: Vec<EventTypeId> = Vec::new();
        for event_type in &msg.event_types {
            if !event_types.contains(event_type) && event_types.len() < self.policy.max_event_types
            {
                event_types.push(*event_type);
            }
        }
        (0..self.policy.days)
            .filter_map(|d| msg.today.checked_add_days(Days::new(d.into())))
            .flat_map(|day| {
                event_types
                    .iter()
                    .map(move |et| (msg.company, *et, day))
                    .collect::<Vec<_>>()
            })
            .collect()
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
    type Result = ResponseFuture<()>;

    fn handle(&mut self, msg: Prefetch, _: &mut Self::Context) -> Self::Result {
        let entries = self.entries(&msg);
        let tenants = self.tenants.clone();
        let flights = Arc::clone(&self.flights);
        let concurrency = self.policy.concurrency.max(1);
        let tz = msg.time_zone;
        Box::pin(async move {
            if entries.is_empty() {
                return;
            }
            let tenant = match tenants.send(GetTenant(msg.company)).await {
                Ok(Ok(tenant)) => tenant,
                Ok(Err(e)) => {
                    tracing::warn!(company = %msg.company, error = %e, "availability prefetch: no tenant handles");
                    return;
                }
                Err(e) => {
                    tracing::warn!(company = %msg.company, error = %e, "availability prefetch: tenant directory unavailable");
                    return;
                }
            };
            let calendar = &tenant.calendar;
            let give_up = AtomicBool::new(false);
            let (give_up, flights) = (&give_up, &flights);
            let warm = |entry: Entry| async move {
                if give_up.load(Ordering::Relaxed) || calendar.state() != BreakerState::Closed {
                    count("skipped");
                    return;
                }
                match flights.board(calendar, entry, tz, false).await {
                    Boarding::Warm(_) => count("warm"),
                    Boarding::Joined(_) | Boarding::Full => count("busy"),
                    Boarding::Started(landing) => match landing.await {
                        Ok(_) => count("fetched"),
                        Err(e) => {
                            let (company, event_type, day) = entry;
                            tracing::info!(%company, %event_type, %day, error = %e, "availability prefetch failed; the call asks Cal.com itself");
                            count("failed");
                            give_up.store(true, Ordering::Relaxed);
                        }
                    },
                }
            };
            // The first entry alone: a Cal.com that refuses costs one failure per warm-up,
            // not `concurrency` (failures that could open the circuit for live calls).
            let mut entries = entries.into_iter();
            if let Some(first) = entries.next() {
                warm(first).await;
            }
            futures_util::stream::iter(entries)
                .map(warm)
                .buffered(concurrency)
                .collect::<()>()
                .await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{COMPANY, EVENT_TYPE, FakeCal, Memory, directory};
    use crate::ports::Cache;
    use crate::servers::calcom::flights::Source;
    use crate::servers::calcom::{FlightPolicy, availability_key, cached_availability};
    use std::time::Duration;

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

    fn flights(cache: &Arc<Memory>) -> Arc<AvailabilityFlights> {
        let cache: Arc<dyn Cache> = cache.clone();
        Arc::new(AvailabilityFlights::new(
            cache,
            FlightPolicy {
                ttl: Duration::from_secs(300),
                max_in_flight: 256,
                rewarm: true,
            },
        ))
    }

    fn start(
        cal: &Arc<FakeCal>,
        cache: &Arc<Memory>,
        policy: PrefetchPolicy,
    ) -> Addr<AvailabilityPrefetcher> {
        AvailabilityPrefetcher::new(directory(Arc::clone(cal)), flights(cache), policy).start()
    }

    fn requests(cal: &FakeCal) -> usize {
        cal.slot_requests.load(Ordering::SeqCst)
    }

    #[actix_rt::test]
    async fn prefetch_warms_the_entries_check_availability_reads() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        let prefetcher = start(&cal, &cache, PrefetchPolicy::default());
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
        let prefetcher = start(&cal, &cache, PrefetchPolicy::default());
        prefetcher.send(prefetch(vec![EVENT_TYPE])).await.unwrap();
        prefetcher
            .send(prefetch(vec![EVENT_TYPE, EVENT_TYPE]))
            .await
            .unwrap();
        assert_eq!(requests(&cal), 3);
    }

    #[actix_rt::test]
    async fn a_burst_of_inbound_calls_fetches_each_day_once() {
        tokio::time::pause();
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        cal.slot_latency_ms.store(300, Ordering::SeqCst);
        let prefetcher = start(&cal, &cache, PrefetchPolicy::default());
        let burst: Vec<_> = (0..20)
            .map(|_| prefetcher.send(prefetch(vec![EVENT_TYPE])))
            .collect();
        for sent in burst {
            sent.await.unwrap();
        }
        // The warm-ups that found the days in flight answered before those fetches ended.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(requests(&cal), 3);
    }

    #[actix_rt::test]
    async fn the_inbound_and_the_call_started_warm_up_of_one_call_fetch_each_day_once() {
        tokio::time::pause();
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        cal.slot_latency_ms.store(300, Ordering::SeqCst);
        let prefetcher = start(&cal, &cache, PrefetchPolicy::default());
        let inbound = prefetcher.send(prefetch(vec![EVENT_TYPE]));
        // call_started follows the inbound webhook while its fetches are in flight.
        tokio::time::sleep(Duration::from_millis(50)).await;
        prefetcher.send(prefetch(vec![EVENT_TYPE])).await.unwrap();
        inbound.await.unwrap();
        assert_eq!(requests(&cal), 3);
        for d in [23, 24, 25] {
            let warm = cached_availability(cache.as_ref(), COMPANY, EVENT_TYPE, day(d)).await;
            assert!(warm.is_some(), "day {d} warmed");
        }
    }

    #[actix_rt::test]
    async fn function_waits_for_the_in_flight_prefetch_instead_of_asking_calcom_again() {
        tokio::time::pause();
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        cal.slot_latency_ms.store(300, Ordering::SeqCst);
        let flights = flights(&cache);
        let tenants = directory(Arc::clone(&cal));
        let prefetcher = AvailabilityPrefetcher::new(
            tenants.clone(),
            Arc::clone(&flights),
            PrefetchPolicy::default(),
        )
        .start();
        let warm_up = prefetcher.send(prefetch(vec![EVENT_TYPE]));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            requests(&cal),
            1,
            "the prefetch's request of today is in flight"
        );
        // The call's first check_availability, through the live lane.
        let calendar = tenants
            .send(GetTenant(COMPANY))
            .await
            .unwrap()
            .unwrap()
            .calendar;
        let tz = chrono_tz::Europe::Berlin;
        let (_, source) = flights
            .fetch(&calendar.live(), (COMPANY, EVENT_TYPE, day(23)), tz)
            .await
            .unwrap();
        assert_eq!(source, Source::Joined);
        warm_up.await.unwrap();
        assert_eq!(requests(&cal), 3, "no request of its own");
    }

    #[actix_rt::test]
    async fn prefetch_fetches_today_first_and_in_parallel() {
        tokio::time::pause();
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        cal.slot_latency_ms.store(300, Ordering::SeqCst);
        let policy = PrefetchPolicy {
            days: 3,
            max_event_types: 10,
            concurrency: 4,
        };
        let prefetcher = start(&cal, &cache, policy);
        let services = vec![EventTypeId(1), EventTypeId(2), EventTypeId(3)];
        let began = tokio::time::Instant::now();
        prefetcher.send(prefetch(services)).await.unwrap();
        let took = began.elapsed();
        assert_eq!(requests(&cal), 9);
        let days = cal.slot_days.lock().unwrap().clone();
        assert_eq!(
            &days[..3],
            &[day(23); 3],
            "today's services first: {days:?}"
        );
        assert!(
            days.windows(2).all(|w| w[0] <= w[1]),
            "then day by day: {days:?}"
        );
        assert_eq!(cal.slots_peak.load(Ordering::SeqCst), 4, "four at once");
        // 9 requests of 300 ms: the first alone, then 4 at once: three rounds, not nine.
        assert!(took < Duration::from_millis(1000), "took {took:?}");
    }

    #[actix_rt::test]
    async fn warm_up_is_bounded_by_the_policy() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        let policy = PrefetchPolicy {
            days: 2,
            max_event_types: 1,
            concurrency: 4,
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
        let prefetcher = start(&cal, &cache, PrefetchPolicy::default());
        let services = (1..=5).map(EventTypeId).collect();
        prefetcher.send(prefetch(services)).await.unwrap();
        let key = availability_key(COMPANY, EventTypeId(1), day(23));
        assert!(cache.get(&key).await.is_none(), "nothing cached");
        assert_eq!(requests(&cal), 1, "15 entries, none after the first failed");
    }

    #[actix_rt::test]
    async fn prefetch_off_leaves_the_cache_cold() {
        let (cal, cache) = (Arc::new(FakeCal::default()), Arc::new(Memory::default()));
        let policy = PrefetchPolicy {
            days: 0,
            ..PrefetchPolicy::default()
        };
        let prefetcher = start(&cal, &cache, policy);
        prefetcher.send(prefetch(vec![EVENT_TYPE])).await.unwrap();
        assert_eq!(requests(&cal), 0);
        assert!(cache.0.lock().unwrap().is_empty(), "nothing cached");
    }
}
