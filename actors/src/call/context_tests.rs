//! The call context held by its actor: loaded once, served from memory while the stored
//! version says it is current, saved compare-and-set so two instances lose no field.

use super::context::{CallKey, ContextError, SAVE_ATTEMPTS};
use super::memory::ContextMap;
use super::registry::{CallLimits, CallRegistry, CollectFor, SnapshotFor};
use crate::domain::appointment::CollectedAppointment;
use crate::domain::ids::{BranchId, CallId, CompanyId};
use crate::ports::{CallStore, StoreError, SystemClock};
use crate::records::{
    CallContextRecord, CallEventRecord, CallView, ContextSave, EventOutcome, NewAppointment,
    WebhookStats,
};
use crate::supervision::RestartBudget;
use actix::prelude::*;
use async_trait::async_trait;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn key() -> CallKey {
    CallKey {
        call_id: CallId::parse("call_ctx".to_owned()).unwrap(),
        company_id: CompanyId(1),
        branch_id: BranchId(1),
        from_number: None,
        to_number: None,
    }
}

/// One instance's call registry on `store` (instances share only the store).
fn instance(store: Arc<dyn CallStore>) -> Addr<CallRegistry> {
    let limits = CallLimits {
        idle_timeout: Duration::from_secs(600),
        max_live: NonZeroUsize::new(10).unwrap(),
    };
    let budget = RestartBudget::new(10, Duration::from_secs(60));
    CallRegistry::new(store, Arc::new(SystemClock), limits, budget).start()
}

async fn collect(
    calls: &Addr<CallRegistry>,
    patch: CollectedAppointment,
) -> Result<CollectedAppointment, ContextError> {
    calls
        .send(CollectFor {
            key: key(),
            patch,
            confirmation: None,
        })
        .await
        .unwrap()
}

async fn snapshot(calls: &Addr<CallRegistry>) -> CollectedAppointment {
    calls.send(SnapshotFor(key())).await.unwrap().unwrap()
}

fn name(v: &str) -> CollectedAppointment {
    CollectedAppointment {
        name: Some(v.into()),
        ..CollectedAppointment::default()
    }
}

fn email(v: &str) -> CollectedAppointment {
    CollectedAppointment {
        email: Some(v.into()),
        ..CollectedAppointment::default()
    }
}

fn notes(v: &str) -> CollectedAppointment {
    CollectedAppointment {
        notes: Some(v.into()),
        ..CollectedAppointment::default()
    }
}

fn staff(v: &str) -> CollectedAppointment {
    CollectedAppointment {
        staff: Some(v.into()),
        ..CollectedAppointment::default()
    }
}

#[actix_rt::test]
async fn context_is_loaded_once_and_then_served_from_memory() {
    let store = Arc::new(ContextMap::default());
    let calls = instance(store.clone());
    collect(&calls, name("Jonas Becker")).await.unwrap();
    collect(&calls, email("jonas@example.com")).await.unwrap();
    for _ in 0..3 {
        let data = snapshot(&calls).await;
        assert_eq!(data.name.as_deref(), Some("Jonas Becker"));
        assert_eq!(data.email.as_deref(), Some("jonas@example.com"));
    }
    assert_eq!(
        store.loads.load(Ordering::SeqCst),
        1,
        "the context is read in full once, by the first function"
    );
    assert_eq!(
        store.version_reads.load(Ordering::SeqCst),
        3,
        "each read checks only the stored version"
    );
    assert_eq!(store.get(&key().call_id).unwrap().version, 2, "+1 per save");
}

#[actix_rt::test]
async fn context_changed_by_another_instance_is_detected_and_reloaded() {
    let store = Arc::new(ContextMap::default());
    let (a, b) = (instance(store.clone()), instance(store.clone()));
    collect(&a, name("Jonas Becker")).await.unwrap();
    // The call's next function lands on instance B.
    collect(&b, email("jonas@example.com")).await.unwrap();
    let seen_by_a = snapshot(&a).await;
    assert_eq!(
        seen_by_a.email.as_deref(),
        Some("jonas@example.com"),
        "A's copy in memory is older than the stored one: reloaded"
    );
    assert_eq!(seen_by_a.name.as_deref(), Some("Jonas Becker"));
    assert_eq!(store.loads.load(Ordering::SeqCst), 3, "A, B, A again");
}

#[actix_rt::test]
async fn concurrent_saves_from_two_instances_lose_no_field() {
    let store = Arc::new(ContextMap::default());
    let (a, b) = (instance(store.clone()), instance(store.clone()));
    collect(&a, name("Jonas Becker")).await.unwrap();
    // A holds version 1 when B saves version 2: A's save of its version 2 is stale.
    collect(&b, email("jonas@example.com")).await.unwrap();
    let merged_by_a = collect(&a, notes("Allergie")).await.unwrap();
    assert_eq!(merged_by_a.email.as_deref(), Some("jonas@example.com"));
    assert_eq!(merged_by_a.name.as_deref(), Some("Jonas Becker"));
    // And at once, from both sides.
    let (x, y) = futures_util::join!(collect(&a, staff("Anna")), collect(&b, name("J. Becker")));
    x.unwrap();
    y.unwrap();
    let stored = store.get(&key().call_id).unwrap();
    let data = stored.collected;
    assert_eq!(data.name.as_deref(), Some("J. Becker"));
    assert_eq!(data.email.as_deref(), Some("jonas@example.com"));
    assert_eq!(data.notes.as_deref(), Some("Allergie"));
    assert_eq!(data.staff.as_deref(), Some("Anna"));
    assert_eq!(stored.version, 5, "five changes, five versions");
    assert_eq!(snapshot(&a).await, snapshot(&b).await);
}

/// Contexts whose every save finds that another instance saved first.
#[derive(Default)]
struct Contested(ContextMap);

#[async_trait]
impl CallStore for Contested {
    async fn save_call_context(&self, ctx: &CallContextRecord) -> Result<ContextSave, StoreError> {
        self.0.update(&ctx.call_id, |_| ());
        self.0.save(ctx)
    }
    async fn load_call_context(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<Option<CallContextRecord>, StoreError> {
        self.0.load(company, call_id)
    }
    async fn call_context_version(
        &self,
        company: CompanyId,
        call_id: &CallId,
    ) -> Result<u64, StoreError> {
        self.0.version(company, call_id)
    }
    async fn record_call_event(&self, e: &CallEventRecord) -> Result<EventOutcome, StoreError> {
        self.0.record_call_event(e).await
    }
    async fn get_call(
        &self,
        company: Option<CompanyId>,
        call_id: &CallId,
    ) -> Result<Option<CallView>, StoreError> {
        self.0.get_call(company, call_id).await
    }
    async fn webhook_stats(&self, company: Option<CompanyId>) -> Result<WebhookStats, StoreError> {
        self.0.webhook_stats(company).await
    }
    async fn insert_appointment(&self, a: &NewAppointment) -> Result<i64, StoreError> {
        self.0.insert_appointment(a).await
    }
}

#[actix_rt::test]
async fn a_save_stale_at_every_attempt_is_an_error_and_stores_nothing() {
    let store = Arc::new(Contested::default());
    let calls = instance(store.clone());
    // Nothing stored yet: nobody can have saved first.
    collect(&calls, name("Jonas Becker")).await.unwrap();
    let saves = store.0.saves.load(Ordering::SeqCst);
    let error = collect(&calls, email("jonas@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ContextError::Contended(ref id) if *id == key().call_id),
        "{error:?}"
    );
    assert_eq!(
        store.0.saves.load(Ordering::SeqCst) - saves,
        SAVE_ATTEMPTS,
        "bounded"
    );
    let stored = store.0.get(&key().call_id).unwrap().collected;
    assert_eq!(stored.email, None, "the change was not stored");
    assert_eq!(stored.name.as_deref(), Some("Jonas Becker"));
}
