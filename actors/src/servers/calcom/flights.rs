//! [`AvailabilityFlights`]: at most one Cal.com request at a time per (company, event type,
//! day) of free slots in this process, shared by everyone who reads them — the call-start
//! prefetch, the custom functions, `calcom.checkAvailability` — and the re-warming of a day
//! after our own booking changed it.
//!
//! A lookup that misses the [`availability_key`] entry while its fetch is in flight waits for
//! that fetch (a *flight*) instead of sending a second request; one that finds nothing in
//! flight starts one. Every flight fills the entry through [`fetch_availability`]'s path (a
//! complete one-day answer, never one Cal.com gave before a booking change of that day), so
//! the next lookup of the day is warm. A flight is a task of its own: a caller that stops
//! waiting (its deadline passed) does not cancel it, and its answer still warms the entry.
//!
//! The map is behind an `Arc` and a short `Mutex`, never an actor's mailbox: a live call's
//! lookup never queues behind a warm-up.

use super::{
    Availability, availability_version, cached_availability, fetch_and_fill, fetch_availability,
    forget_availability, new_availability_version,
};
use crate::breaker::CalendarHandle;
use crate::domain::booking::UpstreamError;
use crate::domain::ids::{CompanyId, EventTypeId};
use crate::jsonrpc::SharedJson;
use crate::metric_names as m;
use crate::ports::Cache;
use crate::ratelimit::Lane;
use crate::resilience::BreakerState;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One cache entry of free slots: the company, the event type and the company's local day.
pub type Entry = (CompanyId, EventTypeId, NaiveDate);

/// The answer of a flight, awaited by every lookup that joined it.
pub type Landing = Shared<BoxFuture<'static, Result<Availability, UpstreamError>>>;

/// Bounds and switches of the flights (`[cache]` in config/default.toml).
#[derive(Debug, Clone, Copy)]
pub struct FlightPolicy {
    /// Lifetime of a filled entry (`cache.availability_ttl_s`).
    pub ttl: Duration,
    /// Most flights in this process (`cache.availability_in_flight`). Beyond it a warm-up
    /// skips the entry and a caller asks Cal.com without sharing its request.
    pub max_in_flight: usize,
    /// Whether our own booking changes re-fetch the day they changed in the background
    /// (on while `cache.prefetch_days` > 0, the prefetch switch). Off, a booking drops the
    /// entry and the next lookup of the day fetches it.
    pub rewarm: bool,
}

struct Flight {
    /// Tells this flight from the one that replaced it after a booking change.
    id: u64,
    /// The day's version when the flight started ([`availability_version`]).
    version: Option<SharedJson>,
    landing: Landing,
}

/// What a lookup found.
pub enum Boarding {
    /// The entry is cached.
    Warm(Availability),
    /// A fetch of the entry was in flight (started under the current version): its answer.
    Joined(Landing),
    /// This lookup started the fetch: its answer.
    Started(Landing),
    /// Nothing in flight and [`FlightPolicy::max_in_flight`] flights elsewhere.
    Full,
}

/// Where [`AvailabilityFlights::fetch`]'s answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The cached entry.
    Cache,
    /// A fetch another lookup had started.
    Joined,
    /// Cal.com, asked for this lookup.
    Fetched,
}

/// The shared flights of one process, over the shared cache.
pub struct AvailabilityFlights {
    cache: Arc<dyn Cache>,
    policy: FlightPolicy,
    /// Flights now, by entry (each key carries its company); at most
    /// `policy.max_in_flight`, an entry leaves when its fetch ends.
    flights: Mutex<HashMap<Entry, Flight>>,
    next_id: AtomicU64,
}

/// Takes flight `id` of `entry` out of the map when dropped, unless it was replaced.
struct Leave {
    flights: Arc<AvailabilityFlights>,
    entry: Entry,
    id: u64,
}

impl Drop for Leave {
    fn drop(&mut self) {
        let mut flights = self.flights.lock();
        if flights.get(&self.entry).is_some_and(|f| f.id == self.id) {
            flights.remove(&self.entry);
        }
    }
}

fn count(outcome: &'static str) {
    metrics::counter!(m::INBOUND_PREFETCH_TOTAL, "outcome" => outcome).increment(1);
}

impl AvailabilityFlights {
    /// Flights filling `cache` under `policy`.
    pub fn new(cache: Arc<dyn Cache>, policy: FlightPolicy) -> Self {
        Self {
            cache,
            policy,
            flights: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// The cache the flights fill.
    pub fn cache(&self) -> &dyn Cache {
        self.cache.as_ref()
    }

    /// Flights now in this process.
    pub fn in_flight(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Entry, Flight>> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The flight of `entry` started under `version`, if any.
    fn current(&self, entry: Entry, version: &Option<SharedJson>) -> Option<Landing> {
        self.lock()
            .get(&entry)
            .filter(|f| &f.version == version)
            .map(|f| f.landing.clone())
    }

    /// Finds `entry` cached or in flight, else starts its fetch through `calendar` (zone
    /// `tz`). `refetch`: start a fetch even though the entry is cached (after a booking
    /// change). A flight started before the day's last booking change is not joined: it is
    /// replaced, and its answer is not cached.
    pub async fn board(
        self: &Arc<Self>,
        calendar: &CalendarHandle,
        entry: Entry,
        tz: chrono_tz::Tz,
        refetch: bool,
    ) -> Boarding {
        let (company, event_type, day) = entry;
        let cache = self.cache.as_ref();
        let version = availability_version(cache, company, event_type, day).await;
        if let Some(landing) = self.current(entry, &version) {
            return Boarding::Joined(landing);
        }
        // Read after the map: a flight that ended meanwhile filled the entry before it left.
        if !refetch && let Some(warm) = cached_availability(cache, company, event_type, day).await {
            return Boarding::Warm(warm);
        }
        let mut flights = self.lock();
        if let Some(flight) = flights.get(&entry).filter(|f| f.version == version) {
            return Boarding::Joined(flight.landing.clone());
        }
        if !flights.contains_key(&entry) && flights.len() >= self.policy.max_in_flight {
            return Boarding::Full;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let landing: Landing = rx
            .map(|answer| {
                answer.unwrap_or_else(|_| {
                    Err(UpstreamError::Transport {
                        service: "calcom",
                        message: "the free-slot fetch ended without an answer".to_owned(),
                    })
                })
            })
            .boxed()
            .shared();
        flights.insert(
            entry,
            Flight {
                id,
                version: version.clone(),
                landing: landing.clone(),
            },
        );
        drop(flights);
        let this = Arc::clone(self);
        let calendar = calendar.clone();
        let ttl = self.policy.ttl;
        // tokio, not actix: callers run inside and outside the arbiters' `LocalSet` (the
        // outbox runs its jobs on plain tokio tasks).
        tokio::spawn(async move {
            let leave = Leave {
                flights: this,
                entry,
                id,
            };
            let cache = leave.flights.cache();
            let answer = fetch_and_fill(cache, &calendar, entry, tz, ttl, version).await;
            // Out of the map before the answer is handed out (and even if the fetch panicked).
            drop(leave);
            // Nobody waiting is no error: the entry is filled either way.
            let _ = tx.send(answer);
        });
        Boarding::Started(landing)
    }

    /// `entry`'s free slots for a caller: cached, else the answer of the fetch in flight,
    /// else of a fetch this call starts through `calendar` (its lane); each fills the entry.
    /// A joined fetch that failed (another lane's budget, say) is tried once more through
    /// `calendar`. Wrap it in the caller's deadline: a flight outlives a caller that stopped
    /// waiting.
    ///
    /// # Errors
    /// Cal.com's or the breaker's [`UpstreamError`].
    pub async fn fetch(
        self: &Arc<Self>,
        calendar: &CalendarHandle,
        entry: Entry,
        tz: chrono_tz::Tz,
    ) -> Result<(Availability, Source), UpstreamError> {
        match self.board(calendar, entry, tz, false).await {
            Boarding::Warm(warm) => Ok((warm, Source::Cache)),
            Boarding::Started(landing) => Ok((landing.await?, Source::Fetched)),
            Boarding::Joined(landing) => {
                count("joined");
                match landing.await {
                    Ok(answer) => Ok((answer, Source::Joined)),
                    Err(e) => {
                        tracing::debug!(error = %e, "joined free-slot fetch failed; asking once more");
                        self.fetch_alone(calendar, entry, tz).await
                    }
                }
            }
            Boarding::Full => self.fetch_alone(calendar, entry, tz).await,
        }
    }

    async fn fetch_alone(
        &self,
        calendar: &CalendarHandle,
        entry: Entry,
        tz: chrono_tz::Tz,
    ) -> Result<(Availability, Source), UpstreamError> {
        let (company, event_type, day) = entry;
        let ttl = self.policy.ttl;
        let answer =
            fetch_availability(self.cache(), calendar, company, event_type, day, tz, ttl).await?;
        Ok((answer, Source::Fetched))
    }

    /// Starts a background fetch of `entry` when re-warming is on and `calendar`'s circuit is
    /// closed; does not wait for it.
    async fn rewarm(self: &Arc<Self>, calendar: &CalendarHandle, entry: Entry, tz: chrono_tz::Tz) {
        if !self.policy.rewarm || calendar.state() != BreakerState::Closed {
            return;
        }
        let background = calendar.in_lane(Lane::Background);
        if let Boarding::Full = self.board(&background, entry, tz, true).await {
            count("busy");
        }
    }

    /// After our own booking of `event_type` from `start` to `end` (UTC) at `company` (zone
    /// `tz`) succeeded: the day's version moves (no fetch in flight fills it), the cached free
    /// slots lose every slot overlapping the booking — readers never see it free and the day
    /// stays warm — and the day is fetched again in the background ([`FlightPolicy::rewarm`];
    /// Cal.com's answer also accounts for buffers and other event types). With re-warming
    /// off, the entry is dropped instead (a patched entry would outlive its TTL).
    pub async fn booked(
        self: &Arc<Self>,
        calendar: &CalendarHandle,
        company: CompanyId,
        event_type: EventTypeId,
        tz: chrono_tz::Tz,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) {
        let day = start.with_timezone(&tz).date_naive();
        if !self.policy.rewarm {
            forget_availability(self.cache(), company, event_type, &[day]).await;
            return;
        }
        let cache = self.cache();
        new_availability_version(cache, company, event_type, day).await;
        if let Some(mut warm) = cached_availability(cache, company, event_type, day).await {
            warm.slots.retain(|s| s.end <= start || s.start >= end);
            match SharedJson::of(&warm) {
                Ok(value) => {
                    let key = super::availability_key(company, event_type, day);
                    cache.set(&key, value, self.policy.ttl).await;
                }
                Err(_) => forget_availability(cache, company, event_type, &[day]).await,
            }
        }
        self.rewarm(calendar, (company, event_type, day), tz).await;
    }

    /// After a change of `company`'s bookings of `event_type` on `days` that we cannot patch
    /// (a move, a cancellation, Cal.com's webhook): drops the days' entries
    /// ([`forget_availability`]) and fetches them again in the background
    /// ([`FlightPolicy::rewarm`]).
    pub async fn changed(
        self: &Arc<Self>,
        calendar: &CalendarHandle,
        company: CompanyId,
        event_type: EventTypeId,
        tz: chrono_tz::Tz,
        days: &[NaiveDate],
    ) {
        forget_availability(self.cache(), company, event_type, days).await;
        for day in days {
            self.rewarm(calendar, (company, event_type, *day), tz).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::testing::{COMPANY, EVENT_TYPE, FakeCal, Memory, tenant};
    use crate::domain::booking::Slot;
    use crate::servers::calcom::availability_key;
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    const TZ: chrono_tz::Tz = Berlin;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    const ENTRY: fn() -> Entry = || (COMPANY, EVENT_TYPE, day());

    /// The 30-minute slot at `hour`:00 Berlin time on [`day`].
    fn slot(hour: u32) -> Slot {
        let start = TZ
            .with_ymd_and_hms(2026, 11, 23, hour, 0, 0)
            .unwrap()
            .fixed_offset();
        Slot {
            start,
            end: start + chrono::Duration::minutes(30),
        }
    }

    fn utc(s: &Slot) -> (DateTime<Utc>, DateTime<Utc>) {
        (s.start.with_timezone(&Utc), s.end.with_timezone(&Utc))
    }

    fn flights(
        cache: &Arc<Memory>,
        max_in_flight: usize,
        rewarm: bool,
    ) -> Arc<AvailabilityFlights> {
        let cache: Arc<dyn Cache> = cache.clone();
        Arc::new(AvailabilityFlights::new(
            cache,
            FlightPolicy {
                ttl: Duration::from_secs(300),
                max_in_flight,
                rewarm,
            },
        ))
    }

    /// Cal.com answering `free` after 300 ms, a cache, and the company's handles.
    async fn setup(free: Vec<Slot>) -> (Arc<FakeCal>, Arc<Memory>, CalendarHandle) {
        tokio::time::pause();
        let cal = Arc::new(FakeCal::default());
        *cal.free.lock().unwrap() = free;
        cal.slot_latency_ms.store(300, Ordering::SeqCst);
        let calendar = tenant(Arc::clone(&cal)).await.calendar.live();
        (cal, Arc::new(Memory::default()), calendar)
    }

    fn requests(cal: &FakeCal) -> usize {
        cal.slot_requests.load(Ordering::SeqCst)
    }

    async fn cached(cache: &Memory) -> Option<Vec<Slot>> {
        cached_availability(cache, COMPANY, EVENT_TYPE, day())
            .await
            .map(|a| a.slots)
    }

    #[actix_rt::test]
    async fn lookups_of_one_day_at_once_ask_calcom_once() {
        let (cal, cache, calendar) = setup(vec![slot(9)]).await;
        let flights = flights(&cache, 256, true);
        let lookups: Vec<_> = (0..10)
            .map(|_| flights.fetch(&calendar, ENTRY(), TZ))
            .collect();
        for answer in futures_util::future::join_all(lookups).await {
            assert_eq!(answer.unwrap().0.slots, vec![slot(9)]);
        }
        assert_eq!(requests(&cal), 1);
        assert_eq!(
            flights.in_flight(),
            0,
            "the flight left when its fetch ended"
        );
    }

    #[actix_rt::test]
    async fn a_lookup_with_nothing_in_flight_fills_the_entry_for_the_next_call() {
        let (cal, cache, calendar) = setup(vec![slot(9)]).await;
        let flights = flights(&cache, 256, true);
        let (_, source) = flights.fetch(&calendar, ENTRY(), TZ).await.unwrap();
        assert_eq!(source, Source::Fetched);
        assert_eq!(cached(&cache).await, Some(vec![slot(9)]));
        let (_, source) = flights.fetch(&calendar, ENTRY(), TZ).await.unwrap();
        assert_eq!(source, Source::Cache);
        assert_eq!(requests(&cal), 1);
    }

    #[actix_rt::test]
    async fn a_caller_that_stops_waiting_does_not_cancel_the_fetch() {
        let (cal, cache, calendar) = setup(vec![slot(9)]).await;
        let flights = flights(&cache, 256, true);
        let waited = tokio::time::timeout(
            Duration::from_millis(100),
            flights.fetch(&calendar, ENTRY(), TZ),
        )
        .await;
        assert!(waited.is_err(), "the caller's deadline passed");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            cached(&cache).await,
            Some(vec![slot(9)]),
            "warm for the next lookup"
        );
        assert_eq!(requests(&cal), 1);
    }

    #[actix_rt::test]
    async fn beyond_the_in_flight_bound_a_lookup_asks_alone() {
        let (cal, cache, calendar) = setup(vec![slot(9)]).await;
        let flights = flights(&cache, 1, true);
        let other = (COMPANY, EventTypeId(99), day());
        let Boarding::Started(first) = flights.board(&calendar, other, TZ, false).await else {
            panic!("the first flight starts");
        };
        assert!(matches!(
            flights.board(&calendar, ENTRY(), TZ, false).await,
            Boarding::Full
        ));
        let (answer, source) = flights.fetch(&calendar, ENTRY(), TZ).await.unwrap();
        assert_eq!((answer.slots, source), (vec![slot(9)], Source::Fetched));
        first.await.unwrap();
        assert_eq!(flights.in_flight(), 0);
        assert_eq!(requests(&cal), 2);
    }

    #[actix_rt::test]
    async fn booking_a_slot_keeps_the_day_warm_without_the_booked_slot() {
        let (cal, cache, calendar) = setup(vec![slot(9), slot(10), slot(11)]).await;
        let flights = flights(&cache, 256, true);
        flights.fetch(&calendar, ENTRY(), TZ).await.unwrap();
        // Cal.com books 10:00.
        cal.free.lock().unwrap().retain(|s| s != &slot(10));
        let (start, end) = utc(&slot(10));
        flights
            .booked(&calendar, COMPANY, EVENT_TYPE, TZ, start, end)
            .await;
        assert_eq!(
            cached(&cache).await,
            Some(vec![slot(9), slot(11)]),
            "warm at once, without the booked slot"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            requests(&cal),
            2,
            "the day was fetched again in the background"
        );
        assert_eq!(cached(&cache).await, Some(vec![slot(9), slot(11)]));
    }

    #[actix_rt::test]
    async fn an_answer_calcom_gave_before_a_booking_is_never_cached_after_it() {
        let (cal, cache, calendar) = setup(vec![slot(9), slot(10)]).await;
        let flights = flights(&cache, 256, false);
        let Boarding::Started(before) = flights.board(&calendar, ENTRY(), TZ, false).await else {
            panic!("the fetch starts");
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        cal.free.lock().unwrap().retain(|s| s != &slot(10));
        let (start, end) = utc(&slot(10));
        flights
            .booked(&calendar, COMPANY, EVENT_TYPE, TZ, start, end)
            .await;
        assert_eq!(before.await.unwrap().slots, vec![slot(9), slot(10)]);
        assert_eq!(
            cached(&cache).await,
            None,
            "the older answer was not cached"
        );
        let key = availability_key(COMPANY, EVENT_TYPE, day());
        assert!(cache.get(&key).await.is_none());
    }

    #[actix_rt::test]
    async fn a_lookup_after_a_booking_does_not_join_the_fetch_that_began_before_it() {
        let (cal, cache, calendar) = setup(vec![slot(9), slot(10)]).await;
        let flights = flights(&cache, 256, false);
        let Boarding::Started(before) = flights.board(&calendar, ENTRY(), TZ, false).await else {
            panic!("the fetch starts");
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        cal.free.lock().unwrap().retain(|s| s != &slot(10));
        let (start, end) = utc(&slot(10));
        flights
            .booked(&calendar, COMPANY, EVENT_TYPE, TZ, start, end)
            .await;
        let (answer, source) = flights.fetch(&calendar, ENTRY(), TZ).await.unwrap();
        assert_eq!((answer.slots, source), (vec![slot(9)], Source::Fetched));
        before.await.unwrap();
        assert_eq!(cached(&cache).await, Some(vec![slot(9)]));
        assert_eq!(requests(&cal), 2);
    }
}
