//! The simulator's accounts by API key, each with its agents (and their versions), Retell
//! LLMs, phone numbers and calls. Objects are kept as the JSON Retell answers with
//! (reference/retell.md §1.3, §4.4), so a field a client sets is read back as it was set.
//!
//! State is bounded by the constants below, never by what clients send: a change beyond a
//! cap is refused (413) and nothing is stored.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::errors::RetellError;

/// Versions one agent keeps; a change that would make one more is refused.
pub const MAX_VERSIONS: usize = 100;
/// Calls one account keeps (seeded history and those posted to `/__sim/calls`).
pub const MAX_CALLS: usize = 10_000;
/// Tools one Retell LLM's `general_tools` may hold.
pub const MAX_TOOLS: usize = 64;

/// A JSON object as Retell answers it.
pub(super) type Object = Map<String, Value>;

/// One agent: its versions, `versions[n]` being version `n` (versions are never deleted).
#[derive(Debug, Clone)]
pub(super) struct Agent {
    pub id: String,
    pub versions: Vec<Object>,
}

/// One Retell account (one API key).
#[derive(Debug, Clone, Default)]
pub(super) struct Account {
    /// In creation order.
    pub agents: Vec<Agent>,
    /// `LlmResponse` objects, in creation order.
    pub llms: Vec<Object>,
    /// `PhoneNumberResponse` objects, in creation order.
    pub numbers: Vec<Object>,
    /// Full call objects (transcripts included), in the order they arrived.
    pub calls: Vec<Object>,
}

impl Account {
    /// The agent `id`, or 422.
    pub fn agent(&self, id: &str) -> Result<&Agent, RetellError> {
        self.agents
            .iter()
            .find(|a| a.id == id)
            .ok_or(RetellError::NotFound)
    }

    /// The agent `id` for a change, or 422.
    pub fn agent_mut(&mut self, id: &str) -> Result<&mut Agent, RetellError> {
        self.agents
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(RetellError::NotFound)
    }

    /// The object of `items` whose `field` is `id`, or 422.
    pub fn find_mut<'a>(
        items: &'a mut [Object],
        field: &str,
        id: &str,
    ) -> Result<&'a mut Object, RetellError> {
        items
            .iter_mut()
            .find(|o| o.get(field).and_then(Value::as_str) == Some(id))
            .ok_or(RetellError::NotFound)
    }
}

/// Every account, by API key.
#[derive(Debug, Default)]
pub(super) struct Accounts {
    by_key: Mutex<HashMap<String, Account>>,
}

impl Accounts {
    /// These accounts.
    pub fn new(accounts: HashMap<String, Account>) -> Self {
        Self {
            by_key: Mutex::new(accounts),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Account>> {
        self.by_key.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the account of `key`; 401 when no account has it.
    pub fn with<T>(
        &self,
        key: &str,
        f: impl FnOnce(&mut Account) -> Result<T, RetellError>,
    ) -> Result<T, RetellError> {
        let mut accounts = self.lock();
        let account = accounts.get_mut(key).ok_or(RetellError::Unauthorized)?;
        f(account)
    }

    /// Runs `f` on the first account for which `owns` holds; 422 when none does.
    pub fn with_owner<T>(
        &self,
        owns: impl Fn(&Account) -> bool,
        f: impl FnOnce(&mut Account) -> Result<T, RetellError>,
    ) -> Result<T, RetellError> {
        let mut accounts = self.lock();
        let account = accounts
            .values_mut()
            .find(|a| owns(a))
            .ok_or(RetellError::NotFound)?;
        f(account)
    }
}

/// One page of `items` (already in the order asked for) as Retell's list endpoints answer:
/// `{"items": [...], "has_more": bool, "pagination_key"?: str}`. The key is opaque to
/// clients; here it is the `id_field` of the page's last item, and the next page starts after
/// that item. `skip` items are left out after the cursor.
///
/// # Errors
/// 400 when `after` names no item.
pub(super) fn page(
    items: Vec<Object>,
    id_field: &str,
    limit: usize,
    after: Option<&str>,
    skip: usize,
) -> Result<Object, RetellError> {
    let id = |o: &Object| o.get(id_field).map(id_text).unwrap_or_default();
    let start = match after {
        None => 0,
        Some(key) => {
            items
                .iter()
                .position(|o| id(o) == key)
                .ok_or_else(|| RetellError::bad("pagination_key does not name an item"))?
                + 1
        }
    };
    let start = start.saturating_add(skip).min(items.len());
    let end = start.saturating_add(limit).min(items.len());
    let has_more = end < items.len();
    let mut taken: Vec<Object> = items.into_iter().skip(start).take(end - start).collect();
    let next = if has_more { taken.last().map(id) } else { None };
    let mut out = Object::new();
    out.insert(
        "items".into(),
        Value::Array(taken.drain(..).map(Value::Object).collect()),
    );
    out.insert("has_more".into(), Value::Bool(has_more));
    if let Some(next) = next {
        out.insert("pagination_key".into(), Value::String(next));
    }
    Ok(out)
}

/// An id as text: strings as they are, numbers (agent versions) in decimal.
fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
