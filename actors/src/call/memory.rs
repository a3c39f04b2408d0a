//! Test double of the call-context part of [`CallStore`](crate::ports::CallStore): records in
//! a map with the store's compare-and-set on the version and its refusal of another
//! company's call, counting what is read.

use crate::domain::ids::{CallId, CompanyId};
use crate::ports::{CallStore, StoreError};
use crate::records::{
    CallContextRecord, CallEventRecord, CallView, ContextSave, EventOutcome, NewAppointment,
    WebhookStats,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Call contexts by call id, as the SQL store keeps them (one owner per call id).
#[derive(Default)]
pub(crate) struct ContextMap {
    records: Mutex<HashMap<CallId, CallContextRecord>>,
    /// Full loads ([`ContextMap::load`]).
    pub loads: AtomicUsize,
    /// Version-only reads ([`ContextMap::version`]).
    pub version_reads: AtomicUsize,
    /// Saves, stored or stale.
    pub saves: AtomicUsize,
}

impl ContextMap {
    /// `CallStore::save_call_context`.
    pub fn save(&self, ctx: &CallContextRecord) -> Result<ContextSave, StoreError> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        let mut records = self.records.lock().unwrap();
        match records.get(&ctx.call_id) {
            Some(stored) if stored.company_id != ctx.company_id => {
                Err(StoreError::ForeignCall(ctx.call_id.clone()))
            }
            Some(stored) if stored.version + 1 != ctx.version => Ok(ContextSave::Stale),
            None if ctx.version != 1 => Ok(ContextSave::Stale),
            _ => {
                records.insert(ctx.call_id.clone(), ctx.clone());
                Ok(ContextSave::Saved)
            }
        }
    }

    /// `CallStore::load_call_context`.
    pub fn load(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        match self.records.lock().unwrap().get(call_id) {
            Some(record) if record.company_id != company => {
                Err(StoreError::ForeignCall(call_id.clone()))
            }
            found => Ok(found.cloned()),
        }
    }

    /// `CallStore::call_context_version`.
    pub fn version(&self, company: CompanyId, call_id: &CallId) -> Result<u64, StoreError> {
        self.version_reads.fetch_add(1, Ordering::SeqCst);
        match self.records.lock().unwrap().get(call_id) {
            Some(record) if record.company_id != company => {
                Err(StoreError::ForeignCall(call_id.clone()))
            }
            found => Ok(found.map_or(0, |r| r.version)),
        }
    }

    /// The stored record of `call_id`, counted as no read.
    pub fn get(&self, call_id: &CallId) -> Option<CallContextRecord> {
        self.records.lock().unwrap().get(call_id).cloned()
    }

    /// Changes the stored record of `call_id` as another instance would (a new version);
    /// answers what `change` returned, `None` when nothing is stored.
    pub fn update<T>(
        &self,
        call_id: &CallId,
        change: impl FnOnce(&mut CallContextRecord) -> T,
    ) -> Option<T> {
        let mut records = self.records.lock().unwrap();
        let record = records.get_mut(call_id)?;
        record.version += 1;
        Some(change(record))
    }

    /// How many calls have stored data.
    pub fn len(&self) -> usize {
        self.records.lock().unwrap().len()
    }
}

fn unused() -> StoreError {
    StoreError::backend("not used by the call contexts")
}

/// The contexts alone as a [`CallStore`]; the other call records refuse.
#[async_trait]
impl CallStore for ContextMap {
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<ContextSave, StoreError> {
        self.save(ctx)
    }
    async fn load_call_context(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError> {
        self.load(company, call_id)
    }
    async fn call_context_version(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<u64, StoreError> {
        self.version(company, call_id)
    }
    async fn record_call_event(&self, _: &CallEventRecord) -> Result<EventOutcome, StoreError> {
        Err(unused())
    }
    async fn get_call(
        &self,
        _: Option<CompanyId>,
        _: &CallId,
    ) -> Result<Option<CallView>, StoreError> {
        Err(unused())
    }
    async fn webhook_stats(&self, _: Option<CompanyId>) -> Result<WebhookStats, StoreError> {
        Err(unused())
    }
    async fn insert_appointment(&self, _: &NewAppointment) -> Result<i64, StoreError> {
        Err(unused())
    }
}
