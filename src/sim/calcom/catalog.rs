//! The demo account the simulator serves from the start: one hair salon in Berlin, one host,
//! three services.
//!
//! Everything is fixed (ids, slugs, hours) so sandbox seed data and tests can refer to it
//! without asking the simulator first.

use std::collections::BTreeMap;
use switchboard_actors::domain::onboarding::OpeningHours;

use super::accounts::{Account, EventType, Host, Schedule};

/// The demo account's API key, sent as `Authorization: Bearer <key>`.
///
/// It starts with `cal_` like Cal.com's own test keys, so a wrong key of the same form is
/// refused by the throttler guard, as the real service does (calcom.md §1).
pub const SANDBOX_CALCOM_API_KEY: &str = "cal_sandbox_0123456789abcdef";

/// Demo event types as `(id, title, slug, length in minutes)`, all owned by the [`demo_account`].
///
/// Ids are fixed because sandbox seed data maps services to them.
pub const DEMO_EVENT_TYPES: &[(i64, &str, &str, u32)] = &[
    (1001, "Herrenhaarschnitt", "herrenhaarschnitt", 30),
    (1002, "Damenhaarschnitt", "damenhaarschnitt", 60),
    (1003, "Färben", "faerben", 90),
];

/// The demo account: user 1 `demo-salon` in Berlin, the [`DEMO_EVENT_TYPES`], open Mon–Fri
/// 09:00–18:00 and Sat 10:00–14:00, Sunday closed.
pub fn demo_account() -> Account {
    let time_zone = chrono_tz::Europe::Berlin;
    let mut hours = written_weekdays("09:00-18:00");
    hours.insert("sat".into(), "10:00-14:00".into());
    Account {
        key: SANDBOX_CALCOM_API_KEY.to_owned(),
        host: Host {
            id: 1,
            username: "demo-salon".into(),
            name: "Demo Salon Berlin".into(),
            email: "demo-salon@example.com".into(),
            time_zone,
        },
        event_types: DEMO_EVENT_TYPES
            .iter()
            .map(|&(id, title, slug, minutes)| EventType {
                id,
                title: title.into(),
                slug: slug.into(),
                minutes,
                team_id: None,
            })
            .collect(),
        schedule: Schedule {
            zone: time_zone,
            hours: OpeningHours::parse(&hours).unwrap_or_default(),
        },
        team: None,
    }
}

/// Mon–Fri 09:00–18:00: the working hours of an account that states none (Cal.com's default
/// schedule).
pub fn weekday_hours() -> OpeningHours {
    OpeningHours::parse(&written_weekdays("09:00-18:00")).unwrap_or_default()
}

fn written_weekdays(range: &str) -> BTreeMap<String, String> {
    ["mon", "tue", "wed", "thu", "fri"]
        .into_iter()
        .map(|d| (d.to_owned(), range.to_owned()))
        .collect()
}
