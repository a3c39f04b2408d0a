//! What the `retell.*` methods read and write (issue 13): branch numbers, known calls, and
//! finished calls imported from Retell — once, never over a known call, never for another
//! company. Both backends, as the rest of the suite.

use super::*;
use switchboard_actors::ports::{ImportOutcome, ImportedCall, RetellRecordStore};

const OTHER_NUMBER: &str = "+494099887766";

/// A finished inbound call of `company` to `to`, as `retell.importCalls` hands it in.
fn finished(company: CompanyId, id: &str, to: &str) -> ImportedCall {
    ImportedCall {
        company_id: company,
        call_id: call_id(id),
        status: "ended".to_owned(),
        business_number: Some(to.to_owned()),
        from_number: Some(CALLER.to_owned()),
        to_number: Some(to.to_owned()),
        direction: Some("inbound".to_owned()),
        started_at: Some(t0()),
        ended_at: Some(t0() + TimeDelta::minutes(2)),
        duration_ms: Some(120_000),
        disconnection_reason: Some("user_hangup".to_owned()),
        summary: Some("asked for a cut".to_owned()),
        sentiment: Some("Positive".to_owned()),
        payload: serde_json::json!({"call_id": id, "call_status": "ended"}).to_string(),
        imported_at: t0() + TimeDelta::days(1),
    }
}

/// A second company with a branch owning [`OTHER_NUMBER`].
async fn other_with_number(fx: &Fixture) -> (CompanyId, BranchId) {
    let other = fx.other_company().await;
    let branch = fx
        .store
        .upsert_branch(other, "Hafen", hm(9, 0), hm(18, 0))
        .await
        .unwrap();
    fx.store
        .upsert_phone_number(&PhoneNumber::parse_default(OTHER_NUMBER).unwrap(), branch)
        .await
        .unwrap();
    (other, branch)
}

async fn import_calls_twice_imports_once(db: TestDb) {
    let fx = fixture(&db).await;
    let calls = [
        finished(fx.company, "call_imp_1", NUMBER),
        finished(fx.company, "call_imp_2", NUMBER),
    ];
    let first = fx.store.import_calls(&calls).await.unwrap();
    assert_eq!(first, [ImportOutcome::Imported, ImportOutcome::Imported]);
    let second = fx.store.import_calls(&calls).await.unwrap();
    assert_eq!(
        second,
        [ImportOutcome::AlreadyKnown, ImportOutcome::AlreadyKnown]
    );
    let stats = fx.store.webhook_stats(Some(fx.company)).await.unwrap();
    assert_eq!(stats.calls, 2);
    assert!(stats.jobs.is_empty(), "an imported call books nothing");
}

async fn imported_call_keeps_its_fields_and_gets_the_branch_of_its_number(db: TestDb) {
    let fx = fixture(&db).await;
    fx.store
        .import_calls(&[
            finished(fx.company, "call_imp_1", NUMBER),
            finished(fx.company, "call_imp_2", "+4930999999"),
        ])
        .await
        .unwrap();
    let view = fx
        .store
        .get_call(Some(fx.company), &call_id("call_imp_1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.branch_id, Some(fx.branch));
    assert_eq!(view.status, "ended");
    assert_eq!(view.to_number.as_deref(), Some(NUMBER));
    assert_eq!(view.started_at, Some(t0()));
    assert_eq!(view.duration_ms, Some(120_000));
    assert_eq!(view.disconnection_reason.as_deref(), Some("user_hangup"));
    assert_eq!(view.summary.as_deref(), Some("asked for a cut"));
    assert_eq!(view.sentiment.as_deref(), Some("Positive"));
    assert!(view.booking_job.is_none());
    let unknown_number = fx
        .store
        .get_call(Some(fx.company), &call_id("call_imp_2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        unknown_number.branch_id, None,
        "no branch of the company has it"
    );
}

async fn import_never_touches_a_call_of_another_company(db: TestDb) {
    let fx = fixture(&db).await;
    let (other, _) = other_with_number(&fx).await;
    fx.store
        .record_call_event(&event(&fx, WebhookEvent::CallStarted, "call_theirs", t0()))
        .await
        .unwrap();
    let before = fx
        .store
        .get_call(Some(fx.company), &call_id("call_theirs"))
        .await
        .unwrap();
    let outcome = fx
        .store
        .import_calls(&[finished(other, "call_theirs", OTHER_NUMBER)])
        .await
        .unwrap();
    assert_eq!(outcome, [ImportOutcome::Foreign]);
    let after = fx
        .store
        .get_call(Some(fx.company), &call_id("call_theirs"))
        .await
        .unwrap();
    assert_eq!(before, after, "the owner's record is unchanged");
    assert_eq!(after.unwrap().status, "ongoing");
    assert!(
        fx.store
            .get_call(Some(other), &call_id("call_theirs"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn import_leaves_a_known_call_as_it_was(db: TestDb) {
    let fx = fixture(&db).await;
    fx.store
        .record_call_event(&event(&fx, WebhookEvent::CallStarted, "call_known", t0()))
        .await
        .unwrap();
    let outcome = fx
        .store
        .import_calls(&[finished(fx.company, "call_known", NUMBER)])
        .await
        .unwrap();
    assert_eq!(outcome, [ImportOutcome::AlreadyKnown]);
    let view = fx
        .store
        .get_call(Some(fx.company), &call_id("call_known"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        view.status, "ongoing",
        "the webhooks own a call they recorded"
    );
    assert_eq!(view.summary, None);
}

async fn import_skips_a_call_to_another_companys_number(db: TestDb) {
    let fx = fixture(&db).await;
    let (other, _) = other_with_number(&fx).await;
    let outcome = fx
        .store
        .import_calls(&[
            finished(fx.company, "call_to_them", OTHER_NUMBER),
            finished(other, "call_to_them_too", OTHER_NUMBER),
        ])
        .await
        .unwrap();
    assert_eq!(outcome, [ImportOutcome::Foreign, ImportOutcome::Imported]);
    for (company, id) in [(fx.company, "call_to_them"), (other, "call_to_them")] {
        assert!(
            fx.store
                .get_call(Some(company), &call_id(id))
                .await
                .unwrap()
                .is_none()
        );
    }
}

async fn known_calls_are_only_the_companys(db: TestDb) {
    let fx = fixture(&db).await;
    let (other, _) = other_with_number(&fx).await;
    fx.store
        .import_calls(&[
            finished(fx.company, "call_ours", NUMBER),
            finished(other, "call_theirs", OTHER_NUMBER),
        ])
        .await
        .unwrap();
    let asked = [
        call_id("call_ours"),
        call_id("call_theirs"),
        call_id("call_nobodys"),
    ];
    assert_eq!(
        fx.store.known_calls(fx.company, &asked).await.unwrap(),
        [call_id("call_ours")]
    );
    assert_eq!(
        fx.store.known_calls(other, &asked).await.unwrap(),
        [call_id("call_theirs")]
    );
    assert!(
        fx.store
            .known_calls(fx.company, &[])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn branch_numbers_are_only_the_companys(db: TestDb) {
    let fx = fixture(&db).await;
    let (other, other_branch) = other_with_number(&fx).await;
    let ours = fx.store.branch_numbers(fx.company).await.unwrap();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        (
            ours[0].phone_number.as_str(),
            ours[0].branch_id,
            ours[0].branch_name.as_str()
        ),
        (NUMBER, fx.branch, "Mitte")
    );
    let theirs = fx.store.branch_numbers(other).await.unwrap();
    assert_eq!(
        (theirs[0].phone_number.as_str(), theirs[0].branch_id),
        (OTHER_NUMBER, other_branch)
    );
}

on_both_backends! {
    import_calls_twice_imports_once,
    imported_call_keeps_its_fields_and_gets_the_branch_of_its_number,
    import_never_touches_a_call_of_another_company,
    import_leaves_a_known_call_as_it_was,
    import_skips_a_call_to_another_companys_number,
    known_calls_are_only_the_companys,
    branch_numbers_are_only_the_companys,
}
