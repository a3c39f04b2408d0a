//! A company's overrides of its deployed custom functions (issue 13): stored whole, replaced,
//! deleted when empty, and never seen by another company. Both backends, as the rest of the
//! suite.

use super::*;
use switchboard_actors::ports::RetellConfigStore;
use switchboard_actors::retell::deploy::FunctionOverride;

fn slower() -> FunctionOverride {
    FunctionOverride {
        description: Some("Prüft den Kalender.".into()),
        speak_during_execution: Some(true),
        execution_message: None,
        speak_after_execution: Some(false),
        timeout_ms: Some(9000),
    }
}

async fn function_override_reads_back_per_company_and_is_replaced_whole(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let store = &fx.store;
    store
        .set_function_override(fx.company, "check_availability", &slower(), t0())
        .await
        .unwrap();
    let ours = store.function_overrides(fx.company).await.unwrap();
    assert_eq!(ours.get("check_availability"), Some(&slower()));
    assert!(store.function_overrides(other).await.unwrap().is_empty());

    let shorter = FunctionOverride {
        timeout_ms: Some(3000),
        ..FunctionOverride::default()
    };
    store
        .set_function_override(fx.company, "check_availability", &shorter, t0())
        .await
        .unwrap();
    let ours = store.function_overrides(fx.company).await.unwrap();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours["check_availability"], shorter, "replaced, not merged");
}

async fn empty_function_override_deletes_the_row(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let store = &fx.store;
    store
        .set_function_override(fx.company, "find_next_slot", &slower(), t0())
        .await
        .unwrap();
    store
        .set_function_override(other, "find_next_slot", &slower(), t0())
        .await
        .unwrap();
    store
        .set_function_override(
            fx.company,
            "find_next_slot",
            &FunctionOverride::default(),
            t0(),
        )
        .await
        .unwrap();
    assert!(
        store
            .function_overrides(fx.company)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.function_overrides(other).await.unwrap().len(),
        1,
        "another company's override is untouched"
    );
}

async fn corrupt_function_override_is_reported_not_guessed(db: TestDb) {
    let fx = fixture(&db).await;
    execute(
        &fx.store,
        "INSERT INTO retell_custom_functions (company_id, name, config, created_at, updated_at) \
         VALUES ($1, 'check_availability', '{\"timeout_ms\": \"soon\"}', '2026-03-02T09:00:00Z', \
         '2026-03-02T09:00:00Z')",
        fx.company.0,
    )
    .await;
    let err = fx.store.function_overrides(fx.company).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

on_both_backends! {
    function_override_reads_back_per_company_and_is_replaced_whole,
    empty_function_override_deletes_the_row,
    corrupt_function_override_is_reported_not_guessed,
}
