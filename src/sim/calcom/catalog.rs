//! The demo tenant the simulator serves: one hair salon in Berlin, one host, three services.
//!
//! Everything is fixed (ids, slugs, hours) so sandbox seed data and tests can refer to it
//! without asking the simulator first.

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;

/// The only API key the simulator accepts, sent as `Authorization: Bearer <key>`.
///
/// It starts with `cal_` like Cal.com's own test keys, so a wrong key of the same form is
/// refused by the throttler guard, as the real service does (calcom.md §1).
pub const SANDBOX_CALCOM_API_KEY: &str = "cal_sandbox_0123456789abcdef";

/// Demo event types as `(id, title, slug, length in minutes)`, all owned by [`DEMO_HOST`].
///
/// Ids are fixed because sandbox seed data maps services to them.
pub const DEMO_EVENT_TYPES: &[(i64, &str, &str, u32)] = &[
    (1001, "Herrenhaarschnitt", "herrenhaarschnitt", 30),
    (1002, "Damenhaarschnitt", "damenhaarschnitt", 60),
    (1003, "Färben", "faerben", 90),
];

/// A Cal.com user as the simulator knows it: the owner of the API key and the host of every
/// booking (`hosts[]`, `users[]`, `ownerId` in calcom.md §3–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoHost {
    /// Cal.com user id.
    pub id: i64,
    /// Username, the first path segment of `bookingUrl`.
    pub username: &'static str,
    /// Display name; also used in booking titles (`"<event> between <host> and <attendee>"`).
    pub name: &'static str,
    /// Email shown in `hosts[].email` and used as `cancelledByEmail` for the key owner.
    pub email: &'static str,
    /// Zone in which [`working_hours`] are read.
    pub time_zone: Tz,
}

/// The single host of the demo salon.
pub const DEMO_HOST: DemoHost = DemoHost {
    id: 1,
    username: "demo-salon",
    name: "Demo Salon Berlin",
    email: "demo-salon@example.com",
    time_zone: chrono_tz::Europe::Berlin,
};

/// One demo event type, the typed form of a [`DEMO_EVENT_TYPES`] row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoEventType {
    /// Cal.com event type id.
    pub id: i64,
    /// Title, e.g. "Färben".
    pub title: &'static str,
    /// URL slug, e.g. "faerben".
    pub slug: &'static str,
    /// Length in minutes (`lengthInMinutes`); also the slot step, as Cal.com uses the length
    /// when an event type has no `slotInterval`.
    pub minutes: u32,
}

/// All demo event types in id order.
pub fn event_types() -> impl Iterator<Item = DemoEventType> {
    DEMO_EVENT_TYPES
        .iter()
        .map(|&(id, title, slug, minutes)| DemoEventType {
            id,
            title,
            slug,
            minutes,
        })
}

/// The demo event type with this id.
pub fn event_type(id: i64) -> Option<DemoEventType> {
    event_types().find(|e| e.id == id)
}

/// The demo event type with this slug owned by `username`.
pub fn event_type_by_slug(username: &str, slug: &str) -> Option<DemoEventType> {
    if username != DEMO_HOST.username {
        return None;
    }
    event_types().find(|e| e.slug == slug)
}

/// Opening hours of the host on `day`, in [`DemoHost::time_zone`]: `(open, close)`, or `None`
/// when closed. Mon–Fri 09:00–18:00, Sat 10:00–14:00, Sunday closed.
pub fn working_hours(day: Weekday) -> Option<(NaiveTime, NaiveTime)> {
    let at = |h| NaiveTime::from_hms_opt(h, 0, 0);
    match day {
        Weekday::Sun => None,
        Weekday::Sat => Some((at(10)?, at(14)?)),
        _ => Some((at(9)?, at(18)?)),
    }
}
