//! The `CallContext` actor: serialises the custom functions of one live call (read, merge,
//! write) so their changes never interleave. The data itself lives in the store — read fresh
//! for every message and written before it is acknowledged — so a restart loses nothing and a
//! call's next function may land on any instance.

use crate::domain::appointment::{CollectedAppointment, SlotChoice, SlotHold};
use crate::domain::ids::{BranchId, CallId, CompanyId};
use crate::ports::{CallStore, Clock, StoreError};
use crate::records::CallContextRecord;
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
}

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
}

/// What [`Collect`] and [`Snapshot`] answer: the call's data, worked out while the context
/// holds its mailbox.
type Answer = AtomicResponse<CallContext, Result<CollectedAppointment, ContextError>>;

impl CallContext {
    /// A context that loads its state from `store` on first use.
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
        }
    }

    /// Runs `work` (given the store and the call's key) as one
    /// atomic step: later messages wait until it is done, so a read never sees half a save. A
    /// panic in `work` restarts the context and answers [`ContextError::Unavailable`].
    fn atomic<T, F, Fut>(&mut self, work: F) -> AtomicResponse<Self, Result<T, ContextError>>
    where
        T: 'static,
        F: FnOnce(Arc<dyn CallStore>, CallKey) -> Fut,
        Fut: Future<Output = Result<T, ContextError>> + 'static,
    {
        let work = work(Arc::clone(&self.store), self.key.clone());
        AtomicResponse::new(Box::pin(catch(work).into_actor(self).map(
            |result, act, ctx| {
                result.unwrap_or_else(|panic| {
                    let reply = restart_after_panic(act, ctx, &panic);
                    Err(ContextError::Unavailable(format!(
                        "call context failed: {reply}"
                    )))
                })
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

/// The stored form of `key`'s call data, saved at `now`.
fn record(
    key: &CallKey,
    collected: CollectedAppointment,
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
    }
}

impl Supervised for CallContext {}

crate::guarded_actor!(CallContext, "call_context");

impl Handler<Collect> for CallContext {
    type Result = Answer;

    fn handle(&mut self, msg: Collect, _ctx: &mut Self::Context) -> Self::Result {
        let now = self.clock.now();
        self.atomic(|store, key| async move {
            // Always from the store: another instance may have taken the last call.
            let mut data = load(store.as_ref(), &key).await?;
            data.merge(msg.patch, msg.confirmation);
            store
                .save_call_context(&record(&key, data.clone(), now))
                .await?;
            Ok(data)
        })
    }
}

impl Handler<KeepHold> for CallContext {
    type Result = AtomicResponse<Self, Result<bool, ContextError>>;

    fn handle(&mut self, msg: KeepHold, _ctx: &mut Self::Context) -> Self::Result {
        let now = self.clock.now();
        self.atomic(|store, key| async move {
            let mut data = load(store.as_ref(), &key).await?;
            if data.slot() != msg.decided_for {
                return Ok(false);
            }
            let withdraw = msg.withdraw_confirmation && data.confirmed;
            if data.hold != msg.hold || withdraw {
                data.hold = msg.hold;
                data.confirmed &= !withdraw;
                store.save_call_context(&record(&key, data, now)).await?;
            }
            Ok(true)
        })
    }
}

impl Handler<Snapshot> for CallContext {
    type Result = Answer;

    fn handle(&mut self, _: Snapshot, _ctx: &mut Self::Context) -> Self::Result {
        self.atomic(|store, key| async move { load(store.as_ref(), &key).await })
    }
}
