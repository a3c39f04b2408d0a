//! The Cal.com accounts the simulator hosts: per API key one user (the host of its bookings),
//! its event types, its working hours and optionally its team.
//!
//! The demo account of [`super::catalog`] is there from the start; `POST /__sim/accounts`
//! adds or replaces others ([`Accounts::upsert`]). Event type ids, user ids and usernames are
//! unique across accounts, as they are in one Cal.com instance, so a public request naming
//! only an event type (booking, slots) finds the one account that owns it.

use chrono_tz::Tz;
use serde::Deserialize;
use std::sync::{Arc, PoisonError, RwLock};
use switchboard_actors::domain::onboarding::OpeningHours;

use super::catalog;

/// Most accounts one simulator holds; `POST /__sim/accounts` refuses a new key beyond it.
pub const MAX_ACCOUNTS: usize = 1000;
/// Most event types one account may have.
pub const MAX_EVENT_TYPES: usize = 200;

/// A Cal.com user: the owner of an API key and the host of every booking of its event types
/// (`hosts[]`, `users[]`, `ownerId` in calcom.md §3–4, and `GET /v2/me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Cal.com user id.
    pub id: i64,
    /// Username, the first path segment of `bookingUrl`.
    pub username: String,
    /// Display name; also used in booking titles (`"<event> between <host> and <attendee>"`).
    pub name: String,
    /// Email shown in `hosts[].email` and used as `cancelledByEmail` for the key owner.
    pub email: String,
    /// Zone in which the account's working hours are read.
    pub time_zone: Tz,
}

/// One event type of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventType {
    /// Cal.com event type id, unique across accounts.
    pub id: i64,
    /// Title, e.g. "Färben".
    pub title: String,
    /// URL slug, e.g. "faerben".
    pub slug: String,
    /// Length in minutes (`lengthInMinutes`); also the slot step, as Cal.com uses the length
    /// when an event type has no `slotInterval`.
    pub minutes: u32,
    /// The team it belongs to (`GET /v2/teams/{teamId}/event-types`), if any.
    pub team_id: Option<i64>,
}

/// A Cal.com team an account's event types may belong to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Team id.
    pub id: i64,
    /// Team slug.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// When the host can be booked: weekly hours read in `zone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// IANA zone of the hours.
    pub zone: Tz,
    /// Weekly working hours.
    pub hours: OpeningHours,
}

/// One simulated Cal.com account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// API key (`cal_…`), sent as `Authorization: Bearer <key>`.
    pub key: String,
    /// The key's owner.
    pub host: Host,
    /// Event types in id order.
    pub event_types: Vec<EventType>,
    /// Working hours.
    pub schedule: Schedule,
    /// The team, when the account has one.
    pub team: Option<Team>,
}

/// The body of `POST /__sim/accounts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    /// Must start with `cal_` (Cal.com treats only such bearer tokens as API keys, §1).
    pub api_key: String,
    /// The key's owner; `id` is assigned when left out.
    pub user: UserInput,
    /// The event types; ids are assigned when left out.
    #[serde(default)]
    pub event_types: Vec<EventTypeInput>,
    /// `{"mon": "09:00-18:00", …}`; Mon–Fri 09:00–18:00 when left out.
    #[serde(default)]
    pub working_hours: Option<OpeningHours>,
    /// The account's team.
    #[serde(default)]
    pub team: Option<Team>,
}

/// `user` of [`AccountInput`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Cal.com user id; assigned when left out.
    #[serde(default)]
    pub id: Option<i64>,
    /// Unique username.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// IANA zone of the working hours.
    pub time_zone: String,
}

/// One of `event_types` of [`AccountInput`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTypeInput {
    /// Event type id; assigned when left out.
    #[serde(default)]
    pub id: Option<i64>,
    /// Title.
    pub title: String,
    /// Slug, unique within the account.
    pub slug: String,
    /// Length in minutes, 1 to 1440.
    pub length_min: u32,
    /// Team id; must be the account's team when set.
    #[serde(default)]
    pub team_id: Option<i64>,
}

/// Why `POST /__sim/accounts` refused an account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The body is not a valid account (400).
    #[error("{0}")]
    Invalid(String),
    /// An id or username another account owns (409).
    #[error("{0}")]
    Taken(String),
    /// [`MAX_ACCOUNTS`] reached (409 as well: the request is fine, the simulator is full).
    #[error("the simulator holds at most {MAX_ACCOUNTS} accounts")]
    Full,
}

/// Every account, shared by all workers.
#[derive(Debug)]
pub struct Accounts {
    /// A list, not a map: it is bounded by [`MAX_ACCOUNTS`] and looked up by key, username,
    /// user id and event type id alike, so one scan serves every lookup.
    inner: RwLock<Vec<Arc<Account>>>,
}

impl Default for Accounts {
    fn default() -> Self {
        Self {
            inner: RwLock::new(vec![Arc::new(catalog::demo_account())]),
        }
    }
}

impl Accounts {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Account>>> {
        // Writers validate before they change anything, so a poisoned list is still whole.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn find(&self, pred: impl Fn(&Account) -> bool) -> Option<Arc<Account>> {
        self.read().iter().find(|a| pred(a)).cloned()
    }

    /// The account of API key `key`.
    pub fn by_key(&self, key: &str) -> Option<Arc<Account>> {
        self.find(|a| a.key == key)
    }

    /// The account whose user is `username`.
    pub fn by_username(&self, username: &str) -> Option<Arc<Account>> {
        self.find(|a| a.host.username == username)
    }

    /// The account whose user has id `user_id`.
    pub fn by_user_id(&self, user_id: i64) -> Option<Arc<Account>> {
        self.find(|a| a.host.id == user_id)
    }

    /// The event type with id `id` and the account that owns it.
    pub fn event_type(&self, id: i64) -> Option<(EventType, Arc<Account>)> {
        let owner = self.find(|a| a.event_types.iter().any(|e| e.id == id))?;
        let event_type = owner.event_types.iter().find(|e| e.id == id)?.clone();
        Some((event_type, owner))
    }

    /// Every account, in the order they were first added.
    pub fn all(&self) -> Vec<Arc<Account>> {
        self.read().clone()
    }

    /// Adds the account of `input.api_key`, or replaces its user, event types, hours and
    /// team when the key is known (its bookings stay: they live in the bookings store).
    ///
    /// # Errors
    /// [`AccountError::Invalid`] for a malformed account, [`AccountError::Taken`] for an id or
    /// username of another account, [`AccountError::Full`] beyond [`MAX_ACCOUNTS`].
    pub fn upsert(&self, input: AccountInput) -> Result<Arc<Account>, AccountError> {
        let mut list = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let existing = list.iter().position(|a| a.key == input.api_key);
        if existing.is_none() && list.len() >= MAX_ACCOUNTS {
            return Err(AccountError::Full);
        }
        let others: Vec<&Arc<Account>> = list.iter().filter(|a| a.key != input.api_key).collect();
        let account = build(input, existing.map(|i| &*list[i]), &others, &list)?;
        let account = Arc::new(account);
        match existing {
            Some(i) => list[i] = Arc::clone(&account),
            None => list.push(Arc::clone(&account)),
        }
        Ok(account)
    }
}

/// Validates `input` against the other accounts and assigns missing ids: a known key keeps
/// its user id, a known slug keeps its event type id, new ones get the next free id.
fn build(
    input: AccountInput,
    previous: Option<&Account>,
    others: &[&Arc<Account>],
    all: &[Arc<Account>],
) -> Result<Account, AccountError> {
    let invalid = |m: String| Err(AccountError::Invalid(m));
    if !input.api_key.starts_with("cal_") || input.api_key.len() < 5 {
        return invalid("api_key must start with \"cal_\"".into());
    }
    let user = input.user;
    if user.username.is_empty()
        || !user
            .username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid(format!(
            "user.username {:?} must be letters, digits, - or _",
            user.username
        ));
    }
    let Ok(time_zone) = user.time_zone.parse::<Tz>() else {
        return invalid(format!(
            "user.time_zone {:?} is not an IANA time zone",
            user.time_zone
        ));
    };
    if input.event_types.len() > MAX_EVENT_TYPES {
        return invalid(format!("at most {MAX_EVENT_TYPES} event_types per account"));
    }
    if others.iter().any(|a| a.host.username == user.username) {
        return Err(AccountError::Taken(format!(
            "username {:?} belongs to another account",
            user.username
        )));
    }
    let user_id = match (user.id, previous) {
        (Some(id), _) => id,
        (None, Some(p)) => p.host.id,
        (None, None) => all.iter().map(|a| a.host.id).max().unwrap_or(0) + 1,
    };
    if others.iter().any(|a| a.host.id == user_id) {
        return Err(AccountError::Taken(format!(
            "user id {user_id} belongs to another account"
        )));
    }
    let team_id = input.team.as_ref().map(|t| t.id);
    let mut next_id = all
        .iter()
        .flat_map(|a| a.event_types.iter().map(|e| e.id))
        .chain(input.event_types.iter().filter_map(|e| e.id))
        .max()
        .unwrap_or(0);
    let mut event_types: Vec<EventType> = Vec::with_capacity(input.event_types.len());
    for (i, e) in input.event_types.into_iter().enumerate() {
        if e.title.trim().is_empty() || e.slug.is_empty() {
            return invalid(format!(
                "event_types[{i}]: title and slug must not be empty"
            ));
        }
        if !(1..=24 * 60).contains(&e.length_min) {
            return invalid(format!("event_types[{i}].length_min must be 1 to 1440"));
        }
        if e.team_id.is_some() && e.team_id != team_id {
            return invalid(format!(
                "event_types[{i}].team_id must be the account's team id"
            ));
        }
        let kept = previous.and_then(|p| p.event_types.iter().find(|old| old.slug == e.slug));
        let id = match (e.id, kept) {
            (Some(id), _) => id,
            (None, Some(old)) => old.id,
            (None, None) => {
                next_id += 1;
                next_id
            }
        };
        if others
            .iter()
            .any(|a| a.event_types.iter().any(|o| o.id == id))
        {
            return Err(AccountError::Taken(format!(
                "event type id {id} belongs to another account"
            )));
        }
        if event_types.iter().any(|o| o.id == id || o.slug == e.slug) {
            return invalid(format!(
                "event_types[{i}]: id {id} or slug {:?} appears twice",
                e.slug
            ));
        }
        event_types.push(EventType {
            id,
            title: e.title,
            slug: e.slug,
            minutes: e.length_min,
            team_id: e.team_id,
        });
    }
    event_types.sort_by_key(|e| e.id);
    Ok(Account {
        key: input.api_key,
        host: Host {
            id: user_id,
            username: user.username,
            name: user.name,
            email: user.email,
            time_zone,
        },
        event_types,
        schedule: Schedule {
            zone: time_zone,
            hours: input.working_hours.unwrap_or_else(catalog::weekday_hours),
        },
        team: input.team,
    })
}
