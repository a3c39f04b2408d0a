//! Appointments after booking (issue 12): found by the caller's number, moved, cancelled,
//! Cal.com's webhooks applied once, jobs enqueued and completed — always within one company.
//! Both backends, as the rest of the suite.

use super::*;
use switchboard_actors::ports::AppointmentStore;
use switchboard_actors::records::{
    AppointmentRecord, AppointmentStatus, CalcomEventOutcome, CalcomEventRecord, CalcomTrigger,
};

/// An appointment of `company` for `phone` starting at `start` (30 min), booked by no call.
fn booked(
    company: CompanyId,
    uid: &str,
    phone: Option<&str>,
    start: DateTime<Utc>,
) -> NewAppointment {
    NewAppointment {
        company_id: company,
        branch_id: None,
        call_id: None,
        booking_uid: BookingUid::parse(uid).unwrap(),
        calcom_booking_id: 4711,
        event_type_id: EventTypeId(101),
        service_id: None,
        service_name: "Herrenschnitt".to_owned(),
        start,
        end: start + TimeDelta::minutes(30),
        attendee_name: "Max Mustermann".to_owned(),
        attendee_phone: phone.map(str::to_owned),
        attendee_email: None,
        idempotency_key: format!("test:{uid}"),
        source: "gateway".to_owned(),
    }
}

fn uid(uid: &str) -> BookingUid {
    BookingUid::parse(uid).unwrap()
}

/// 10 March 2026, `h`:00 UTC.
fn march_10(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, h, 0, 0).unwrap()
}

/// A verified Cal.com webhook of `company` about `booking` whose raw body was `body`.
fn calcom_event(
    company: CompanyId,
    trigger: CalcomTrigger,
    booking: &str,
    body: &str,
) -> CalcomEventRecord {
    CalcomEventRecord {
        company_id: company,
        trigger,
        dedupe_key: token_digest(body),
        booking_uid: uid(booking),
        from_uid: None,
        appointment: None,
        cancellation_reason: None,
        received_at: t0(),
    }
}

/// A booking Cal.com told us about (source `calcom`, key `calcom:<uid>`).
fn learned(company: CompanyId, booking: &str, start: DateTime<Utc>) -> NewAppointment {
    NewAppointment {
        idempotency_key: format!("calcom:{booking}"),
        source: "calcom".to_owned(),
        ..booked(company, booking, Some(CALLER), start)
    }
}

/// Stores [`booked`] for [`CALLER`]; returns its id.
async fn book(store: &AnyStore, company: CompanyId, booking: &str, start: DateTime<Utc>) -> i64 {
    store
        .insert_appointment(&booked(company, booking, Some(CALLER), start))
        .await
        .unwrap()
}

/// The stored appointment `booking` of `company`, which must exist.
async fn stored(store: &AnyStore, company: CompanyId, booking: &str) -> AppointmentRecord {
    store
        .appointment(company, &uid(booking))
        .await
        .unwrap()
        .unwrap()
}

async fn status_of(store: &AnyStore, company: CompanyId, booking: &str) -> AppointmentStatus {
    stored(store, company, booking).await.status
}

fn sms_job(company: CompanyId, key: &str) -> NewJob {
    NewJob {
        queue: "notifications".to_owned(),
        kind: "sms".to_owned(),
        company_id: company,
        call_id: None,
        idempotency_key: key.to_owned(),
        payload: serde_json::json!({ "to": CALLER }),
        max_attempts: 5,
        run_at: t0(),
    }
}

async fn upcoming_finds_only_this_companys_scheduled_appointments_of_the_number(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let store = &fx.store;
    for appointment in [
        booked(fx.company, "uid_late", Some(CALLER), march_10(15)),
        booked(fx.company, "uid_early", Some(CALLER), march_10(9)),
        booked(fx.company, "uid_cancelled", Some(CALLER), march_10(10)),
        booked(fx.company, "uid_past", Some(CALLER), march_10(6)),
        booked(
            fx.company,
            "uid_other_number",
            Some("+491709999999"),
            march_10(11),
        ),
        booked(fx.company, "uid_no_number", None, march_10(12)),
        booked(other, "uid_other_company", Some(CALLER), march_10(13)),
    ] {
        store.insert_appointment(&appointment).await.unwrap();
    }
    store
        .record_cancellation(fx.company, &uid("uid_cancelled"), None, t0())
        .await
        .unwrap();
    // The 6:00 appointment ended at 6:30; one still running at `after` is upcoming.
    let after = march_10(7);

    let found = store
        .upcoming_appointments(fx.company, CALLER, after, 10)
        .await
        .unwrap();
    let uids: Vec<&str> = found.iter().map(|a| a.booking_uid.as_str()).collect();
    assert_eq!(uids, ["uid_early", "uid_late"]);
    assert!(found.iter().all(|a| a.company_id == fx.company
        && a.status == AppointmentStatus::Scheduled
        && a.attendee_phone.as_deref() == Some(CALLER)));

    let first = store
        .upcoming_appointments(fx.company, CALLER, after, 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].booking_uid.as_str(), "uid_early");
    let theirs = store
        .upcoming_appointments(other, CALLER, after, 10)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].booking_uid.as_str(), "uid_other_company");
}

async fn appointment_reads_back_whole_and_never_for_another_company(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let booking = appointment(&fx, "call_read", "uid_read", "book:call_read");
    let id = fx.store.insert_appointment(&booking).await.unwrap();

    let read = stored(&fx.store, fx.company, "uid_read").await;
    assert_eq!(read.id, id);
    assert_eq!(read.company_id, fx.company);
    assert_eq!(read.branch_id, Some(fx.branch));
    assert_eq!(read.call_id, Some(call_id("call_read")));
    assert_eq!(read.calcom_booking_id, 4711);
    assert_eq!(read.event_type_id, EventTypeId(101));
    assert_eq!(read.service_id, Some(fx.service_id));
    assert_eq!(read.service_name, "Herrenschnitt");
    assert_eq!((read.start, read.end), (booking.start, booking.end));
    assert_eq!(read.attendee_name, "Max Mustermann");
    assert_eq!(read.attendee_phone.as_deref(), Some(CALLER));
    assert_eq!(read.attendee_email.as_deref(), Some("max@example.org"));
    assert_eq!(read.status, AppointmentStatus::Scheduled);
    assert_eq!(read.source, "phone");
    assert_eq!(
        (read.rescheduled_to_uid, read.cancellation_reason),
        (None, None)
    );

    assert_eq!(
        fx.store.appointment(other, &uid("uid_read")).await.unwrap(),
        None
    );
    assert_eq!(
        fx.store
            .appointment(fx.company, &uid("uid_unknown"))
            .await
            .unwrap(),
        None
    );
}

async fn reschedule_marks_the_old_and_inserts_the_new_once(db: TestDb) {
    let fx = fixture(&db).await;
    let old = booked(fx.company, "uid_old", Some(CALLER), march_10(9));
    fx.store.insert_appointment(&old).await.unwrap();
    let new = NewAppointment {
        idempotency_key: "reschedule:uid_old".to_owned(),
        ..booked(fx.company, "uid_new", Some(CALLER), march_10(11))
    };
    let at = t0() + TimeDelta::minutes(1);

    let first = fx
        .store
        .record_reschedule(fx.company, &uid("uid_old"), &new, at)
        .await
        .unwrap();
    let again = fx
        .store
        .record_reschedule(
            fx.company,
            &uid("uid_old"),
            &new,
            at + TimeDelta::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(again, first);

    let moved = stored(&fx.store, fx.company, "uid_old").await;
    assert_eq!(moved.status, AppointmentStatus::Rescheduled);
    assert_eq!(moved.rescheduled_to_uid, Some(uid("uid_new")));
    assert_eq!(moved.updated_at, at);
    let standing = stored(&fx.store, fx.company, "uid_new").await;
    assert_eq!(standing.id, first);
    assert_eq!(standing.status, AppointmentStatus::Scheduled);
    assert_eq!(standing.start, march_10(11));
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM appointments").await,
        2
    );
}

async fn rescheduled_appointment_keeps_its_customer(db: TestDb) {
    let fx = fixture(&db).await;
    let old = booked(fx.company, "uid_old", Some(CALLER), march_10(9));
    let old_id = fx.store.insert_appointment(&old).await.unwrap();
    let new = booked(fx.company, "uid_new", None, march_10(11));

    let new_id = fx
        .store
        .record_reschedule(fx.company, &uid("uid_old"), &new, t0())
        .await
        .unwrap();

    let (old_customer,): (Option<i64>,) = row(
        &fx.store,
        "SELECT customer_id FROM appointments WHERE id = $1",
        old_id,
    )
    .await;
    let (new_customer,): (Option<i64>,) = row(
        &fx.store,
        "SELECT customer_id FROM appointments WHERE id = $1",
        new_id,
    )
    .await;
    assert!(old_customer.is_some());
    assert_eq!(new_customer, old_customer);
    assert_eq!(count(&fx.store, "SELECT COUNT(*) FROM customers").await, 1);
}

async fn reschedule_onto_another_companys_uid_is_a_conflict_and_changes_nothing(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    book(&fx.store, fx.company, "uid_mine", march_10(9)).await;
    book(&fx.store, other, "uid_theirs", march_10(11)).await;

    let onto_theirs = booked(fx.company, "uid_theirs", Some(CALLER), march_10(11));
    let error = fx
        .store
        .record_reschedule(fx.company, &uid("uid_mine"), &onto_theirs, t0())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    // Nor may another company move ours.
    let theirs_onto_new = booked(other, "uid_fresh", Some(CALLER), march_10(12));
    fx.store
        .record_reschedule(other, &uid("uid_mine"), &theirs_onto_new, t0())
        .await
        .unwrap();

    assert_eq!(
        status_of(&fx.store, fx.company, "uid_mine").await,
        AppointmentStatus::Scheduled
    );
    assert_eq!(
        status_of(&fx.store, other, "uid_theirs").await,
        AppointmentStatus::Scheduled
    );
    let mine = stored(&fx.store, fx.company, "uid_mine").await;
    assert_eq!(mine.rescheduled_to_uid, None);
}

async fn cancellation_is_recorded_once_with_its_reason(db: TestDb) {
    let fx = fixture(&db).await;
    book(&fx.store, fx.company, "uid_cancel", march_10(9)).await;

    let first = fx
        .store
        .record_cancellation(fx.company, &uid("uid_cancel"), Some("krank"), t0())
        .await
        .unwrap();
    let again = fx
        .store
        .record_cancellation(fx.company, &uid("uid_cancel"), Some("anders"), t0())
        .await
        .unwrap();
    let unknown = fx
        .store
        .record_cancellation(fx.company, &uid("uid_unknown"), None, t0())
        .await
        .unwrap();
    assert_eq!((first, again, unknown), (true, false, false));

    let cancelled = stored(&fx.store, fx.company, "uid_cancel").await;
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    assert_eq!(cancelled.cancellation_reason.as_deref(), Some("krank"));
    assert_eq!(cancelled.updated_at, t0());
}

async fn cancellation_reason_is_cut_to_500_characters(db: TestDb) {
    let fx = fixture(&db).await;
    book(&fx.store, fx.company, "uid_long", march_10(9)).await;
    let reason = "ä".repeat(600);

    let changed = fx
        .store
        .record_cancellation(fx.company, &uid("uid_long"), Some(&reason), t0())
        .await
        .unwrap();

    assert!(changed);
    let stored = stored(&fx.store, fx.company, "uid_long")
        .await
        .cancellation_reason
        .unwrap();
    assert_eq!(stored, "ä".repeat(500));
}

async fn cancellation_of_another_companys_uid_changes_nothing(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    book(&fx.store, fx.company, "uid_mine", march_10(9)).await;

    let changed = fx
        .store
        .record_cancellation(other, &uid("uid_mine"), Some("nope"), t0())
        .await
        .unwrap();

    assert!(!changed);
    let mine = stored(&fx.store, fx.company, "uid_mine").await;
    assert_eq!(mine.status, AppointmentStatus::Scheduled);
    assert_eq!(mine.cancellation_reason, None);
}

async fn calcom_event_is_applied_once(db: TestDb) {
    let fx = fixture(&db).await;
    book(&fx.store, fx.company, "uid_cal", march_10(9)).await;
    let event = CalcomEventRecord {
        cancellation_reason: Some("staff".to_owned()),
        ..calcom_event(
            fx.company,
            CalcomTrigger::BookingCancelled,
            "uid_cal",
            "body-1",
        )
    };

    let first = fx.store.record_calcom_event(&event).await.unwrap();
    // Staff restore it by hand; the retried delivery must not cancel it again.
    execute(
        &fx.store,
        "UPDATE appointments SET status = 'scheduled' WHERE id = $1",
        stored(&fx.store, fx.company, "uid_cal").await.id,
    )
    .await;
    let again = fx.store.record_calcom_event(&event).await.unwrap();

    assert_eq!(first, CalcomEventOutcome::Applied { changed: true });
    assert_eq!(again, CalcomEventOutcome::Duplicate);
    assert_eq!(
        status_of(&fx.store, fx.company, "uid_cal").await,
        AppointmentStatus::Scheduled
    );
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM calcom_webhook_events").await,
        1
    );
}

async fn calcom_created_event_inserts_a_booking_made_in_calcom_and_skips_ours(db: TestDb) {
    let fx = fixture(&db).await;
    let ours = appointment(&fx, "call_ours", "uid_ours", "book:call_ours");
    fx.store.insert_appointment(&ours).await.unwrap();
    let made_in_calcom = CalcomEventRecord {
        appointment: Some(learned(fx.company, "uid_staff", march_10(14))),
        ..calcom_event(
            fx.company,
            CalcomTrigger::BookingCreated,
            "uid_staff",
            "created-1",
        )
    };
    let ours_back = CalcomEventRecord {
        appointment: Some(learned(fx.company, "uid_ours", ours.start)),
        ..calcom_event(
            fx.company,
            CalcomTrigger::BookingCreated,
            "uid_ours",
            "created-2",
        )
    };

    let staff = fx.store.record_calcom_event(&made_in_calcom).await.unwrap();
    let back = fx.store.record_calcom_event(&ours_back).await.unwrap();

    assert_eq!(staff, CalcomEventOutcome::Applied { changed: true });
    assert_eq!(back, CalcomEventOutcome::Applied { changed: false });
    let inserted = stored(&fx.store, fx.company, "uid_staff").await;
    assert_eq!(inserted.source, "calcom");
    assert_eq!(inserted.status, AppointmentStatus::Scheduled);
    let kept = stored(&fx.store, fx.company, "uid_ours").await;
    assert_eq!(
        (kept.source.as_str(), kept.call_id),
        ("phone", Some(call_id("call_ours")))
    );
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM appointments").await,
        2
    );
}

async fn booking_job_completes_the_row_calcom_told_us_of_first(db: TestDb) {
    let fx = fixture(&db).await;
    let job_id = enqueue_booking(&fx, "call_race").await;
    fx.store.claim_due_jobs(t0(), LEASE, 1).await.unwrap();
    let ours = appointment(&fx, "call_race", "uid_race", "book:call_race");
    let early = CalcomEventRecord {
        appointment: Some(learned(fx.company, "uid_race", ours.start)),
        ..calcom_event(
            fx.company,
            CalcomTrigger::BookingCreated,
            "uid_race",
            "race",
        )
    };
    fx.store.record_calcom_event(&early).await.unwrap();

    let id = fx
        .store
        .complete_booking_job(job_id, &ours, &[])
        .await
        .unwrap();

    let row = stored(&fx.store, fx.company, "uid_race").await;
    assert_eq!(row.id, id);
    assert_eq!(row.source, "phone");
    assert_eq!(row.call_id, Some(call_id("call_race")));
    assert_eq!(row.service_id, Some(fx.service_id));
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM appointments").await,
        1
    );
    let view = fx
        .store
        .get_call(Some(fx.company), &call_id("call_race"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.appointment.unwrap().id, id);
}

async fn calcom_rescheduled_event_moves_the_booking(db: TestDb) {
    let fx = fixture(&db).await;
    book(&fx.store, fx.company, "uid_before", march_10(9)).await;
    let event = CalcomEventRecord {
        from_uid: Some(uid("uid_before")),
        appointment: Some(learned(fx.company, "uid_after", march_10(16))),
        ..calcom_event(
            fx.company,
            CalcomTrigger::BookingRescheduled,
            "uid_after",
            "moved",
        )
    };

    let outcome = fx.store.record_calcom_event(&event).await.unwrap();

    assert_eq!(outcome, CalcomEventOutcome::Applied { changed: true });
    let before = stored(&fx.store, fx.company, "uid_before").await;
    assert_eq!(before.status, AppointmentStatus::Rescheduled);
    assert_eq!(before.rescheduled_to_uid, Some(uid("uid_after")));
    let found = fx
        .store
        .upcoming_appointments(fx.company, CALLER, march_10(7), 10)
        .await
        .unwrap();
    let uids: Vec<&str> = found.iter().map(|a| a.booking_uid.as_str()).collect();
    assert_eq!(uids, ["uid_after"]);
}

async fn calcom_event_about_another_companys_uid_changes_nothing(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    book(&fx.store, fx.company, "uid_mine", march_10(9)).await;
    let cancel = calcom_event(
        other,
        CalcomTrigger::BookingCancelled,
        "uid_mine",
        "x-cancel",
    );
    let create = CalcomEventRecord {
        appointment: Some(learned(other, "uid_mine", march_10(12))),
        ..calcom_event(other, CalcomTrigger::BookingCreated, "uid_mine", "x-create")
    };
    let reschedule = CalcomEventRecord {
        from_uid: Some(uid("uid_mine")),
        appointment: Some(learned(other, "uid_moved", march_10(12))),
        ..calcom_event(
            other,
            CalcomTrigger::BookingRescheduled,
            "uid_moved",
            "x-move",
        )
    };

    for event in [&cancel, &create] {
        assert_eq!(
            fx.store.record_calcom_event(event).await.unwrap(),
            CalcomEventOutcome::Applied { changed: false }
        );
    }
    fx.store.record_calcom_event(&reschedule).await.unwrap();

    let mine = stored(&fx.store, fx.company, "uid_mine").await;
    assert_eq!(mine.status, AppointmentStatus::Scheduled);
    assert_eq!(mine.company_id, fx.company);
    assert_eq!((mine.rescheduled_to_uid, mine.start), (None, march_10(9)));
}

async fn same_body_for_two_companies_is_applied_for_each(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let mine = calcom_event(fx.company, CalcomTrigger::BookingCancelled, "uid_a", "same");
    let theirs = calcom_event(other, CalcomTrigger::BookingCancelled, "uid_a", "same");

    let first = fx.store.record_calcom_event(&mine).await.unwrap();
    let second = fx.store.record_calcom_event(&theirs).await.unwrap();

    assert_eq!(first, CalcomEventOutcome::Applied { changed: false });
    assert_eq!(second, CalcomEventOutcome::Applied { changed: false });
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM calcom_webhook_events").await,
        2
    );
}

async fn enqueue_job_twice_keeps_one_job(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let job = sms_job(fx.company, "sms:booked:uid_1");

    let first = fx.store.enqueue_job(&job).await.unwrap();
    let again = fx.store.enqueue_job(&job).await.unwrap();
    // The key is the company's own: another company's job with it is another job.
    let theirs = fx
        .store
        .enqueue_job(&sms_job(other, "sms:booked:uid_1"))
        .await
        .unwrap();

    assert_eq!(again, first);
    assert_ne!(theirs, first);
    assert_eq!(count(&fx.store, "SELECT COUNT(*) FROM jobs").await, 2);
    let (status, kind, queue): (String, String, String) = row(
        &fx.store,
        "SELECT status, kind, queue FROM jobs WHERE id = $1",
        first,
    )
    .await;
    assert_eq!(
        (status.as_str(), kind.as_str(), queue.as_str()),
        ("pending", "sms", "notifications")
    );
}

async fn complete_job_marks_done_and_enqueues_follow_ups_once(db: TestDb) {
    let fx = fixture(&db).await;
    let cancel = NewJob {
        queue: "bookings".to_owned(),
        kind: "cancel".to_owned(),
        ..sms_job(fx.company, "cancel:uid_1")
    };
    let job_id = fx.store.enqueue_job(&cancel).await.unwrap();
    fx.store.claim_due_jobs(t0(), LEASE, 1).await.unwrap();
    let follow_up = [sms_job(fx.company, "sms:cancelled:uid_1")];

    fx.store.complete_job(job_id, &follow_up).await.unwrap();
    fx.store.complete_job(job_id, &follow_up).await.unwrap();

    assert_done_and_released(&fx.store, job_id).await;
    assert_eq!(
        count(
            &fx.store,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'sms' AND status = 'pending'"
        )
        .await,
        1
    );
}

async fn complete_job_refuses_book_jobs_and_foreign_follow_ups_writing_nothing(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let book_id = enqueue_booking(&fx, "call_book").await;
    let cancel = NewJob {
        kind: "cancel".to_owned(),
        ..sms_job(fx.company, "cancel:uid_1")
    };
    let cancel_id = fx.store.enqueue_job(&cancel).await.unwrap();

    let book = fx.store.complete_job(book_id, &[]).await.unwrap_err();
    let foreign = fx
        .store
        .complete_job(cancel_id, &[sms_job(other, "sms:cancelled:uid_1")])
        .await
        .unwrap_err();
    let missing = fx.store.complete_job(9_999, &[]).await.unwrap_err();

    assert!(matches!(book, StoreError::Backend { .. }), "{book:?}");
    assert!(matches!(foreign, StoreError::Conflict(_)), "{foreign:?}");
    assert!(matches!(missing, StoreError::Backend { .. }), "{missing:?}");
    assert_eq!(job_status(&fx.store, book_id).await, "pending");
    assert_eq!(job_status(&fx.store, cancel_id).await, "pending");
    assert_eq!(count(&fx.store, "SELECT COUNT(*) FROM jobs").await, 2);
}

on_both_backends! {
    upcoming_finds_only_this_companys_scheduled_appointments_of_the_number,
    appointment_reads_back_whole_and_never_for_another_company,
    reschedule_marks_the_old_and_inserts_the_new_once,
    rescheduled_appointment_keeps_its_customer,
    reschedule_onto_another_companys_uid_is_a_conflict_and_changes_nothing,
    cancellation_is_recorded_once_with_its_reason,
    cancellation_reason_is_cut_to_500_characters,
    cancellation_of_another_companys_uid_changes_nothing,
    calcom_event_is_applied_once,
    calcom_created_event_inserts_a_booking_made_in_calcom_and_skips_ours,
    booking_job_completes_the_row_calcom_told_us_of_first,
    calcom_rescheduled_event_moves_the_booking,
    calcom_event_about_another_companys_uid_changes_nothing,
    same_body_for_two_companies_is_applied_for_each,
    enqueue_job_twice_keeps_one_job,
    complete_job_marks_done_and_enqueues_follow_ups_once,
    complete_job_refuses_book_jobs_and_foreign_follow_ups_writing_nothing,
}
