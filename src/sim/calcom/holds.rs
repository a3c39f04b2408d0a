//! Slot reservations (calcom.md §2 "Slot holds"): while a hold is live (until its
//! `reservationUntil`), its slot is gone from `GET /v2/slots`, another reservation of it is
//! refused, and only a booking or reschedule naming the first live hold may take it.
//!
//! The holds live inside the bookings [`super::store::Store`]'s lock, so "is it held?" and
//! the booking it allows are one step. An expired hold is dropped the next time its account's
//! holds are looked at: lapsing needs no timer, only the simulator's clock.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

use super::slots::Busy;

/// Live holds one account may have at once; more are refused with 429. Bounds the memory a
/// client can make the simulator hold, whatever it sends.
pub const MAX_LIVE_HOLDS_PER_ACCOUNT: usize = 10_000;

/// Minutes a hold lasts when the request does not say (Cal.com's default).
pub(super) const DEFAULT_HOLD_MINUTES: u32 = 5;

/// One live reservation.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Hold {
    /// `reservationUid`: a v4 UUID, like Cal.com's.
    pub(super) uid: String,
    pub(super) event_type_id: i64,
    /// The held slot, `[start, end)` UTC.
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    /// `reservationDuration`, minutes.
    pub(super) hold_minutes: u32,
    /// `reservationUntil`.
    pub(super) until: DateTime<Utc>,
    /// Creation order: of several holds of one slot, the earliest is first in line.
    seq: u64,
}

impl Hold {
    fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.start < end && start < self.end
    }
}

/// The slot and hold length a reservation asks for.
#[derive(Debug, Clone, Copy)]
pub(super) struct HoldRequest {
    pub(super) event_type_id: i64,
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    pub(super) hold_minutes: u32,
}

/// Why a hold was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HoldRefusal {
    /// Another live hold covers part of the slot.
    Held,
    /// The account has [`MAX_LIVE_HOLDS_PER_ACCOUNT`] live holds.
    Full,
}

/// Holds of every account, by the account's user id.
#[derive(Debug, Default)]
pub(super) struct Holds {
    last_seq: u64,
    by_host: HashMap<i64, Vec<Hold>>,
}

impl Holds {
    /// The live holds of `host`, expired ones dropped.
    fn live(&mut self, host: i64, now: DateTime<Utc>) -> &mut Vec<Hold> {
        let holds = self.by_host.entry(host).or_default();
        holds.retain(|h| h.until > now);
        holds
    }

    /// Busy times of `host` that come from live holds.
    pub(super) fn busy(&mut self, host: i64, now: DateTime<Utc>) -> Vec<Busy> {
        self.live(host, now)
            .iter()
            .map(|h| (h.start, h.end))
            .collect()
    }

    /// The first live hold in line for `[start, end)` of `host`, leaving out `except`.
    pub(super) fn first_over(
        &mut self,
        host: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<Hold> {
        self.live(host, now)
            .iter()
            .filter(|h| h.overlaps(start, end))
            .min_by_key(|h| h.seq)
            .cloned()
    }

    /// Holds `request` for `host` unless another live hold (other than `except`) covers it.
    /// With `except`, that hold is moved and renewed instead of a new one made.
    pub(super) fn hold(
        &mut self,
        host: i64,
        request: HoldRequest,
        except: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Hold, HoldRefusal> {
        self.last_seq += 1;
        let seq = self.last_seq;
        let holds = self.live(host, now);
        if holds
            .iter()
            .any(|h| Some(h.uid.as_str()) != except && h.overlaps(request.start, request.end))
        {
            return Err(HoldRefusal::Held);
        }
        let until = now + Duration::minutes(i64::from(request.hold_minutes));
        if let Some(existing) = except.and_then(|uid| holds.iter_mut().find(|h| h.uid == uid)) {
            existing.event_type_id = request.event_type_id;
            existing.start = request.start;
            existing.end = request.end;
            existing.hold_minutes = request.hold_minutes;
            existing.until = until;
            return Ok(existing.clone());
        }
        if holds.len() >= MAX_LIVE_HOLDS_PER_ACCOUNT {
            return Err(HoldRefusal::Full);
        }
        let hold = Hold {
            uid: uuid::Uuid::new_v4().to_string(),
            event_type_id: request.event_type_id,
            start: request.start,
            end: request.end,
            hold_minutes: request.hold_minutes,
            until,
            seq,
        };
        holds.push(hold.clone());
        Ok(hold)
    }

    /// The live hold `uid` and its account's user id.
    pub(super) fn get(&mut self, uid: &str, now: DateTime<Utc>) -> Option<(i64, Hold)> {
        let host = self
            .by_host
            .iter()
            .find(|(_, holds)| holds.iter().any(|h| h.uid == uid))
            .map(|(host, _)| *host)?;
        let hold = self.live(host, now).iter().find(|h| h.uid == uid).cloned();
        hold.map(|h| (host, h))
    }

    /// Removes hold `uid`; whether a live one was there.
    pub(super) fn remove(&mut self, uid: &str, now: DateTime<Utc>) -> bool {
        let Some((host, _)) = self.get(uid, now) else {
            return false;
        };
        let holds = self.live(host, now);
        holds.retain(|h| h.uid != uid);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn request(start: DateTime<Utc>) -> HoldRequest {
        HoldRequest {
            event_type_id: 1,
            start,
            end: start + Duration::minutes(1),
            hold_minutes: 5,
        }
    }

    #[test]
    fn live_holds_per_account_are_bounded_and_lapsed_ones_make_room() {
        let now = Utc.with_ymd_and_hms(2050, 9, 1, 8, 0, 0).unwrap();
        let mut holds = Holds::default();
        let minute = |i: usize| now + Duration::minutes(i64::try_from(i).unwrap());
        for i in 0..MAX_LIVE_HOLDS_PER_ACCOUNT {
            holds.hold(7, request(minute(i)), None, now).unwrap();
        }
        let over = request(minute(MAX_LIVE_HOLDS_PER_ACCOUNT));
        assert_eq!(holds.hold(7, over, None, now), Err(HoldRefusal::Full));
        assert!(holds.hold(8, over, None, now).is_ok(), "other accounts");
        let later = now + Duration::minutes(5);
        assert!(holds.hold(7, over, None, later).is_ok());
        assert_eq!(holds.by_host[&7].len(), 1);
    }
}
