//! The simulator's accounts and the messages each has sent, bounded per account.

use crate::notify::wire::MessageResource;
use secrecy::{ExposeSecret, SecretString};
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Most accounts one simulator holds; `POST /__sim/accounts` beyond it is refused.
pub const MAX_ACCOUNTS: usize = 10_000;

/// Why an account was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The sid is not `AC` + 32 hex digits, or the token is empty.
    #[error("{0}")]
    Invalid(String),
    /// [`MAX_ACCOUNTS`] reached.
    #[error("the simulator holds {MAX_ACCOUNTS} accounts already")]
    Full,
}

/// One account: its auth token and its latest messages, oldest first.
struct Account {
    auth_token: SecretString,
    messages: VecDeque<MessageResource>,
}

/// Accounts by sid.
pub struct Accounts {
    by_sid: Mutex<HashMap<String, Account>>,
    /// Messages kept per account; older ones are dropped.
    max_messages: usize,
}

/// Whether `sid` is a Twilio Account SID: `AC` and 32 hex digits (twilio-oai: pattern
/// `^AC[0-9a-fA-F]{32}$`).
pub fn is_account_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("AC") && sid.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
}

impl Accounts {
    /// No accounts; each will keep its last `max_messages` messages (at least one).
    pub fn new(max_messages: usize) -> Self {
        Self {
            by_sid: Mutex::new(HashMap::new()),
            max_messages: max_messages.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Account>> {
        self.by_sid.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds account `sid` with `auth_token`, or replaces its token (its messages are kept).
    ///
    /// # Errors
    /// [`AccountError::Invalid`] for a malformed sid or an empty token,
    /// [`AccountError::Full`] for a new account beyond [`MAX_ACCOUNTS`].
    pub fn upsert(&self, sid: &str, auth_token: SecretString) -> Result<(), AccountError> {
        if !is_account_sid(sid) {
            return Err(AccountError::Invalid(
                "account_sid must be AC followed by 32 hex digits".into(),
            ));
        }
        if auth_token.expose_secret().is_empty() {
            return Err(AccountError::Invalid("auth_token must not be empty".into()));
        }
        let mut accounts = self.lock();
        if let Some(account) = accounts.get_mut(sid) {
            account.auth_token = auth_token;
            return Ok(());
        }
        if accounts.len() >= MAX_ACCOUNTS {
            return Err(AccountError::Full);
        }
        accounts.insert(
            sid.to_owned(),
            Account {
                auth_token,
                messages: VecDeque::new(),
            },
        );
        Ok(())
    }

    /// Whether `sid` exists and `token` is its auth token.
    pub fn authenticates(&self, sid: &str, token: &str) -> bool {
        self.lock()
            .get(sid)
            .is_some_and(|a| a.auth_token.expose_secret() == token)
    }

    /// Stores `message` under its account (dropping the oldest beyond the bound).
    pub fn record(&self, message: MessageResource) {
        let max = self.max_messages;
        if let Some(account) = self.lock().get_mut(&message.account_sid) {
            if account.messages.len() >= max {
                account.messages.pop_front();
            }
            account.messages.push_back(message);
        }
    }

    /// The messages of `sid`, newest first (Twilio's list order).
    pub fn messages(&self, sid: &str) -> Vec<MessageResource> {
        self.lock()
            .get(sid)
            .map(|a| a.messages.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// Every account's messages, oldest first across accounts by creation order of the
    /// simulator (for tests: `GET /__sim/messages`).
    pub fn all_messages(&self) -> Vec<MessageResource> {
        let mut all: Vec<MessageResource> = self
            .lock()
            .values()
            .flat_map(|a| a.messages.iter().cloned())
            .collect();
        all.sort_by(|a, b| a.sid.cmp(&b.sid));
        all
    }
}
