//! The `CallContext` actor: serialises the custom functions of one live call (read, merge,
//! write) so their changes never interleave, and holds the call's data between them.
//!
//! The data is loaded from the store once and kept in memory with its version
//! ([`CallContextRecord::version`]); every change is written through before it is answered,
//! so a restart loses nothing. A call's next function may land on another instance (several
//! share one PostgreSQL database), so the copy in memory is never trusted blindly:
//! - a change is saved compare-and-set on the version; when another instance saved in
//!   between, the data is reloaded, the change applied again and saved again (at most
//!   [`SAVE_ATTEMPTS`] times, then [`ContextError::Contended`]);
//! - a read first reads the stored version (one integer by the call id's unique key) and
//!   reloads the data only when it moved.
//!
//! The read check is made on SQLite too: nothing stops two processes from opening one
//! SQLite file (the README only calls SQLite the embedded default), and the check costs one
//! indexed read, where the context was read in full before every message.

use crate::domain::appointment::{CollectedAppointment, SlotChoice, SlotHold};
use crate::domain::ids::{BranchId, CallId, CompanyId};
use crate::ports::{CallStore, Clock, StoreError};
use crate::records::{CallContextRecord, ContextSave};
use crate::supervision::{RestartBudget, catch, restart_after_panic};
use actix::prelude::*;
use std::sync::Arc;

/// Identity of a call: which company and branch it belongs to, and its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct CallKey {
    /// Retell `call.call_id`.
    pub call_id: CallId,
    /// Company that owns the dialled number. A stored context of another company is refused with
    /// [`ContextError::CrossTenant`].
    pub company_id: CompanyId,
    /// Branch that owns the dialled number.
    pub branch_id: BranchId,
    /// Retell `call.from_number` as sent (E.164 expected, not validated); `None` when absent, e.g.
    /// on web calls.
    pub from_number: Option<String>,
    /// Retell `call.to_number` as sent (E.164 expected, not validated); `None` when absent, e.g. on
    /// web calls.
    pub to_number: Option<String>,
}

/// Why a call context could not be read or changed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ContextError {
    /// Loading or saving the context in the store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The call id is already recorded for another company.
    #[error("call {0} belongs to another company")]
    CrossTenant(CallId),
    /// The call's actor could not be reached (actix mailbox error; the text says which).
    #[error("call context actor unavailable: {0}")]
    Unavailable(String),
    /// Another instance saved the call's data between every reload and save, at each of
    /// [`SAVE_ATTEMPTS`] attempts; nothing of this change was stored.
    #[error("call {0} kept changing on another instance; not saved")]
    Contended(CallId),
}

/// Most attempts to save one change: the first, and one after each reload that found the
/// data changed by another instance. A call's functions come one at a time, so a second
/// conflict in a row is already unusual.
pub const SAVE_ATTEMPTS: usize = 3;

/// The store's [`StoreError::ForeignCall`] is [`ContextError::CrossTenant`]: the store checks
/// the owner in the transaction that reads or writes, so no context of another company is
/// ever loaded or overwritten.
impl From<StoreError> for ContextError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ForeignCall(call_id) => Self::CrossTenant(call_id),
            other => Self::Store(other),
        }
    }
}

/// Message: merge newly collected fields and an explicit yes/no to the booking (see
/// [`CollectedAppointment::merge`]); answers the merged data once it is stored.
#[derive(Debug, Message)]
#[rtype(result = "Result<CollectedAppointment, ContextError>")]
pub struct Collect {
    /// Fields read in this function call; a `None` field leaves the stored value as it is.
    pub patch: CollectedAppointment,
    /// An explicit yes (`Some(true)`) or no (`Some(false)`) from `bestaetigt` in this call; `None`
    /// when not said, which keeps an earlier yes only while date, time and service stay the same.
    pub confirmation: Option<bool>,
}

/// Message: record the call's slot hold — a new one, a renewed one, or none (`hold: None`
/// after the old one was released) — unless the caller's choice of slot changed since it was
/// decided (another function of the call ran in between). Answers whether it was recorded; a
/// hold not recorded is the sender's to release.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, ContextError>")]
pub struct KeepHold {
    /// The choice of slot the hold was decided for ([`CollectedAppointment::slot`]).
    pub decided_for: SlotChoice,
    /// The hold to keep.
    pub hold: Option<SlotHold>,
    /// The caller was just told this slot is not free: a yes to it no longer stands, so it is
    /// never booked at `call_ended` behind the caller's back (a new yes, to this or another
    /// slot, confirms again).
    pub withdraw_confirmation: bool,
}

/// Message: the data collected so far.
#[derive(Debug, Message)]
#[rtype(result = "Result<CollectedAppointment, ContextError>")]
pub struct Snapshot;

/// The actor for one live call.
pub struct CallContext {
    key: CallKey,
    store: Arc<dyn CallStore>,
    clock: Arc<dyn Clock>,
    budget: RestartBudget,
    /// The call's data as last loaded or saved here; `None` before the first message and
    /// after a panic. Taken by each message's future and put back when it is done (the
    /// mailbox waits meanwhile, see [`CallContext::atomic`]).
    held: Option<Held>,
}

/// The call's data and the stored version it is.
#[derive(Debug, Clone)]
struct Held {
    data: CollectedAppointment,
    version: u64,
}

/// What one message works with: the store, the call, and the data held in memory.
struct Session {
    store: Arc<dyn CallStore>,
    key: CallKey,
    held: Option<Held>,
}

impl Session {
    /// The data held, loaded on first use.
    async fn loaded(&mut self) -> Result<&Held, ContextError> {
        let held = match self.held.take() {
            Some(held) => held,
            None => self.load().await?,
        };
        Ok(self.held.insert(held))
    }

    /// The data held, checked against the stored version and reloaded when another
    /// instance saved since.
    async fn current(&mut self) -> Result<&Held, ContextError> {
        if let Some(held) = &self.held {
            let stored = self
                .store
                .call_context_version(self.key.company_id, &self.key.call_id)
                .await?;
            if stored != held.version {
                tracing::debug!(
                    call_id = %self.key.call_id,
                    held = held.version,
                    stored,
                    "call context changed on another instance; reloading"
                );
                self.held = None;
            }
        }
        self.loaded().await
    }

    async fn load(&self) -> Result<Held, ContextError> {
        let record = self
            .store
            .load_call_context(self.key.company_id, &self.key.call_id)
            .await?;
        Ok(record.map_or_else(
            || Held {
                data: CollectedAppointment::default(),
                version: 0,
            },
            |r| Held {
                data: r.collected,
                version: r.version,
            },
        ))
    }

    /// Applies `change` to the data and, when it says so (`(answer, true)`), saves the result
    /// before answering. A save refused as stale reloads and applies `change` again.
    ///
    /// # Errors
    /// The store's; [`ContextError::Contended`] after [`SAVE_ATTEMPTS`] stale saves.
    async fn change<T>(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
        mut change: impl FnMut(&mut CollectedAppointment) -> (T, bool),
    ) -> Result<T, ContextError> {
        for _ in 0..SAVE_ATTEMPTS {
            let held = self.loaded().await?;
            let mut data = held.data.clone();
            let version = held.version + 1;
            let (answer, write) = change(&mut data);
            if !write {
                return Ok(answer);
            }
            let record = record(&self.key, data.clone(), version, now);
            match self.store.save_call_context(&record).await? {
                ContextSave::Saved => {
                    self.held = Some(Held { data, version });
                    return Ok(answer);
                }
                ContextSave::Stale => {
                    tracing::debug!(
                        call_id = %self.key.call_id,
                        version,
                        "call context saved by another instance meanwhile; reloading"
                    );
                    self.held = None;
                }
            }
        }
        Err(ContextError::Contended(self.key.call_id.clone()))
    }
}

/// What [`Collect`] and [`Snapshot`] answer: the call's data, worked out while the context
/// holds its mailbox.
type Answer = AtomicResponse<CallContext, Result<CollectedAppointment, ContextError>>;

impl CallContext {
    /// A context that loads the call's data from `store` on first use.
    pub fn new(
        key: CallKey,
        store: Arc<dyn CallStore>,
        clock: Arc<dyn Clock>,
        budget: RestartBudget,
    ) -> Self {
        Self {
            key,
            store,
            clock,
            budget,
            held: None,
        }
    }

    /// Runs `work` on a [`Session`] holding the data held here as one atomic step: later
    /// messages wait until it is done, so a read never sees half a save, and the session's
    /// data is held again afterwards. A panic in `work` restarts the context without data
    /// (the next message loads it) and answers [`ContextError::Unavailable`].
    fn atomic<T, F, Fut>(&mut self, work: F) -> AtomicResponse<Self, Result<T, ContextError>>
    where
        T: 'static,
        F: FnOnce(Session) -> Fut,
        Fut: Future<Output = (Session, Result<T, ContextError>)> + 'static,
    {
        let session = Session {
            store: Arc::clone(&self.store),
            key: self.key.clone(),
            held: self.held.take(),
        };
        AtomicResponse::new(Box::pin(catch(work(session)).into_actor(self).map(
            |result, act, ctx| match result {
                Ok((session, answer)) => {
                    act.held = session.held;
                    answer
                }
                Err(panic) => {
                    let reply = restart_after_panic(act, ctx, &panic);
                    Err(ContextError::Unavailable(format!(
                        "call context failed: {reply}"
                    )))
                }
            },
        )))
    }
}

impl Actor for CallContext {
    type Context = Context<Self>;
}

/// The collected data of `key`'s call from the store (empty when none is stored); refused with
/// [`ContextError::CrossTenant`] when the stored call belongs to another company.
pub(crate) async fn load(
    store: &dyn CallStore,
    key: &CallKey,
) -> Result<CollectedAppointment, ContextError> {
    Ok(store
        .load_call_context(key.company_id, &key.call_id)
        .await?
        .map(|record| record.collected)
        .unwrap_or_default())
}

/// The stored form of `key`'s call data as `version`, saved at `now`.
fn record(
    key: &CallKey,
    collected: CollectedAppointment,
    version: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> CallContextRecord {
    CallContextRecord {
        call_id: key.call_id.clone(),
        company_id: key.company_id,
        branch_id: key.branch_id,
        from_number: key.from_number.clone(),
        to_number: key.to_number.clone(),
        collected,
        updated_at: now,
        version,
    }
}

impl Supervised for CallContext {}

crate::guarded_actor!(CallContext, "call_context");

impl Handler<Collect> for CallContext {
    type Result = Answer;

    fn handle(&mut self, msg: Collect, _ctx: &mut Self::Context) -> Self::Result {
        let now = self.clock.now();
        self.atomic(|mut session| async move {
            // No version check first: the save is one, and a stale copy is reloaded and
            // merged again.
            let answer = session
                .change(now, |data| {
                    data.merge(msg.patch.clone(), msg.confirmation);
                    (data.clone(), true)
                })
                .await;
            (session, answer)
        })
    }
}

impl Handler<KeepHold> for CallContext {
    type Result = AtomicResponse<Self, Result<bool, ContextError>>;

    fn handle(&mut self, msg: KeepHold, _ctx: &mut Self::Context) -> Self::Result {
        let now = self.clock.now();
        self.atomic(|mut session| async move {
            // Checked first: the decision may be to write nothing, which no save would verify.
            let answer = match session.current().await {
                Ok(_) => {
                    session
                        .change(now, |data| {
                            if data.slot() != msg.decided_for {
                                return (false, false);
                            }
                            let withdraw = msg.withdraw_confirmation && data.confirmed;
                            let write = data.hold != msg.hold || withdraw;
                            data.hold.clone_from(&msg.hold);
                            data.confirmed &= !withdraw;
                            (true, write)
                        })
                        .await
                }
                Err(e) => Err(e),
            };
            (session, answer)
        })
    }
}

impl Handler<Snapshot> for CallContext {
    type Result = Answer;

    fn handle(&mut self, _: Snapshot, _ctx: &mut Self::Context) -> Self::Result {
        self.atomic(|mut session| async move {
            let answer = session.current().await.map(|held| held.data.clone());
            (session, answer)
        })
    }
}
