//! Slot holds of a live call (reference/calcom.md §2 "Slot holds"): once a caller's slot is
//! complete and free, `collect_appointment_data` reserves it in Cal.com so nobody else can
//! take it while the caller decides; the booking at `call_ended` redeems the reservation.
//!
//! Renewal is lazy, on the call's next function: a hold with less than half its length left
//! is renewed then. A timer in the call's context would not survive the context's eviction,
//! a restart, or the call's next function landing on another instance — the hold lives in the
//! stored call data, and every function reads that. A call quiet for the whole hold loses it,
//! which is what a lapsed hold is for: the next function reserves again (or learns that the
//! slot was taken meanwhile).

use crate::breaker::CalendarHandle;
use crate::domain::appointment::{SlotHold, WantedSlot};
use crate::domain::booking::{ReservationRequest, UpstreamError};
use crate::domain::ids::CompanyId;
use crate::ratelimit::Lane;
use crate::tenant::{GetTenant, TenantDirectory};
use actix::Addr;
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tokio::time::{Instant, timeout_at};

/// How long a call holds its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldPolicy {
    /// Length of a hold and of each renewal, minutes (`calls.slot_hold_min`; Cal.com's own
    /// default is 5).
    pub hold_min: u32,
}

impl HoldPolicy {
    /// A hold with less than this left is renewed on the call's next function: half its
    /// length, so a caller who answers within that never sees the hold lapse.
    fn renew_within(self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.hold_min) * 60 / 2)
    }

    fn request(self, slot: WantedSlot) -> ReservationRequest {
        ReservationRequest {
            event_type_id: slot.event_type_id,
            slot_start: slot.start,
            slot_duration_min: slot.duration_min,
            reservation_duration_min: self.hold_min,
        }
    }
}

/// What [`secure`] achieved for the wanted slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secured {
    /// The slot is held for this call until `SlotHold::until` (new, renewed, or still live).
    Held(SlotHold),
    /// Another holder has the slot, or it was booked meanwhile
    /// ([`UpstreamError::SlotTaken`]).
    Taken,
    /// Cal.com did not reserve it (error, open breaker): the slot is not held, so nothing may
    /// be promised.
    Unheld,
}

/// Holds `slot` for the call: keeps `held` when it is of this slot and far from lapsing,
/// renews it when it lapses soon, and reserves afresh when there is none (or it is gone).
/// One attempt per Cal.com call; the caller bounds the whole with its deadline.
pub async fn secure(
    calendar: &CalendarHandle,
    held: Option<&SlotHold>,
    slot: WantedSlot,
    policy: HoldPolicy,
    now: DateTime<Utc>,
) -> Secured {
    let request = policy.request(slot);
    if let Some(hold) = held.filter(|h| h.covers(slot.event_type_id, slot.start)) {
        if hold.until - now > policy.renew_within() {
            return Secured::Held(hold.clone());
        }
        match calendar
            .renew_reservation(hold.uid.clone(), request.clone())
            .await
        {
            Ok(renewed) => return Secured::Held(renewed.into()),
            // Cal.com no longer knows it (lapsed, or released): reserve afresh below.
            Err(UpstreamError::NotFound { .. }) => {}
            // Still live by its own terms: keep it; the next function tries again.
            Err(e) if hold.is_live(now) => {
                tracing::warn!(error = %e, uid = %hold.uid, "renewing a slot hold failed; it is still live");
                return Secured::Held(hold.clone());
            }
            Err(e) => {
                tracing::warn!(error = %e, uid = %hold.uid, "renewing a lapsed slot hold failed")
            }
        }
    }
    match calendar.reserve_slot(request).await {
        Ok(reservation) => Secured::Held(reservation.into()),
        Err(UpstreamError::SlotTaken { .. } | UpstreamError::SlotReserved { .. }) => Secured::Taken,
        Err(e) => {
            tracing::warn!(error = %e, "reserving the caller's slot failed");
            Secured::Unheld
        }
    }
}

/// [`secure`] seen through to its end: it runs in its own task, and the caller waits for it
/// until `deadline` (then `None`). A reservation asked for is never dropped halfway: Cal.com may
/// grant it after the caller stopped waiting, and a hold nobody knows would keep the caller's
/// own slot from their booking until it lapses. A hold granted (or renewed) too late for the
/// caller is handed to `late`, which records it for the call or releases it.
#[allow(clippy::too_many_arguments)]
pub async fn secure_by(
    deadline: Instant,
    calendar: CalendarHandle,
    held: Option<SlotHold>,
    slot: WantedSlot,
    policy: HoldPolicy,
    now: DateTime<Utc>,
    late: impl FnOnce(SlotHold) + 'static,
) -> Option<Secured> {
    let (answer, mut waiting) = oneshot::channel();
    actix::spawn(async move {
        let secured = secure(&calendar, held.as_ref(), slot, policy, now).await;
        if let Err(Secured::Held(hold)) = answer.send(secured) {
            tracing::warn!(uid = %hold.uid, until = %hold.until, "a slot hold was granted after the function stopped waiting for it");
            late(hold);
        }
    });
    match timeout_at(deadline, &mut waiting).await {
        Ok(secured) => secured.ok(),
        Err(_) => {
            // From here on the task's answer goes to `late`; one sent just now is still ours.
            waiting.close();
            waiting.try_recv().ok()
        }
    }
}

/// Releases `company`'s `hold` in the background (its Cal.com requests counted in `lane`):
/// best-effort, so no reply and no webhook acknowledgement waits for it; a failure is logged,
/// and the hold lapses by itself at `until`.
pub fn release_later(
    tenants: Addr<TenantDirectory>,
    company: CompanyId,
    lane: Lane,
    hold: SlotHold,
) {
    actix::spawn(async move {
        let calendar = match tenants.send(GetTenant(company)).await {
            Ok(Ok(tenant)) => tenant.calendar.in_lane(lane),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, uid = %hold.uid, "slot hold not released: company unavailable");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, uid = %hold.uid, "slot hold not released: tenant directory unavailable");
                return;
            }
        };
        match calendar.release_reservation(hold.uid.clone()).await {
            // Lapsed already, or redeemed: nothing is held.
            Ok(()) | Err(UpstreamError::NotFound { .. }) => {
                tracing::debug!(uid = %hold.uid, "slot hold released");
            }
            Err(e) => {
                tracing::warn!(error = %e, uid = %hold.uid, until = %hold.until, "releasing a slot hold failed; it lapses by itself");
            }
        }
    });
}
