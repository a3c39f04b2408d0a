//! The per-credential limit inside the Cal.com [`Breaker`]: what a refusal sends, and what it
//! does to the circuit.

use super::{LocalLimiter, Quotas};
use crate::breaker::{Breaker, CalendarHandle, UpstreamPolicy};
use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, CalcomProfile, EventType, Slot, SlotQuery, UpstreamError,
};
use crate::domain::ids::{BookingUid, CompanyId};
use crate::ports::CalendarApi;
use crate::resilience::{BreakerState, RetryBudget};
use crate::supervision::RestartBudget;
use actix::Actor;
use async_trait::async_trait;
use secrecy::SecretString;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Cal.com that counts what reaches it and knows no event types.
#[derive(Default)]
struct Counting {
    requests: AtomicUsize,
}

#[async_trait]
impl CalendarApi for Counting {
    async fn event_types(&self, _: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        Ok(Vec::new())
    }
    async fn slots(&self, _: &SecretString, _: &SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
        unreachable!()
    }
    async fn create_booking(
        &self,
        _: &SecretString,
        _: &BookingRequest,
    ) -> Result<Booking, UpstreamError> {
        unreachable!()
    }
    async fn list_bookings(
        &self,
        _: &SecretString,
        _: &BookingQuery,
    ) -> Result<Vec<Booking>, UpstreamError> {
        unreachable!()
    }
    async fn get_booking(
        &self,
        _: &SecretString,
        _: &BookingUid,
    ) -> Result<Booking, UpstreamError> {
        unreachable!()
    }
    async fn me(&self, _: &SecretString) -> Result<CalcomProfile, UpstreamError> {
        unreachable!()
    }
    async fn team_event_types(
        &self,
        _: &SecretString,
        _: i64,
    ) -> Result<Vec<EventType>, UpstreamError> {
        unreachable!()
    }
}

/// A breaker whose credential allows 4 requests a minute, half of them kept for live calls.
fn calendar(api: Arc<Counting>) -> CalendarHandle {
    let quotas = Quotas {
        calcom_credential: NonZeroU32::new(4).unwrap(),
        calcom_live_reserve_percent: 50,
        ..Quotas::uniform(NonZeroU32::MAX)
    };
    let breaker = Breaker::new(
        api,
        SecretString::from("cal_test"),
        CompanyId(1),
        Arc::new(LocalLimiter::new(&quotas)),
        UpstreamPolicy::default(),
        RetryBudget::default(),
        RestartBudget::new(10, Duration::from_secs(60)),
    );
    let circuit = breaker.circuit();
    CalendarHandle::new(breaker.start(), circuit)
}

#[actix_rt::test]
async fn throttled_calcom_call_sends_nothing_and_leaves_the_breaker_closed() {
    let api = Arc::new(Counting::default());
    let background = calendar(Arc::clone(&api));
    background.event_types().await.unwrap();
    background.event_types().await.unwrap();
    // More refusals than the breaker's failure threshold (5).
    for _ in 0..8 {
        let refused = background.event_types().await.unwrap_err();
        let UpstreamError::Throttled { retry_after, .. } = refused else {
            panic!("expected Throttled, got {refused:?}");
        };
        assert!(retry_after > Duration::ZERO);
    }
    assert_eq!(api.requests.load(Ordering::SeqCst), 2);
    assert_eq!(background.state(), BreakerState::Closed);

    // The live reserve is still there.
    let live = background.live();
    live.event_types().await.unwrap();
    live.event_types().await.unwrap();
    assert!(matches!(
        live.event_types().await,
        Err(UpstreamError::Throttled { .. })
    ));
    assert_eq!(api.requests.load(Ordering::SeqCst), 4);
}
