//! A Retell call id belongs to the company that first recorded it; webhook dedup and
//! idempotency keys are scoped by company (issue 10, finding 3). Both backends, as the rest of
//! the suite.

use super::*;
use sqlx::migrate::Migrator;
use switchboard_actors::records::CallView;

/// A second tenant with a branch of its own, as a hostile company would have.
async fn company_b(fx: &Fixture) -> (CompanyId, BranchId) {
    let company = fx.other_company().await;
    let branch = fx
        .store
        .upsert_branch(company, "Nord", hm(8, 0), hm(20, 0))
        .await
        .unwrap();
    (company, branch)
}

/// `event` as company B would send it for the same call id.
fn as_b(event: CallEventRecord, (company, branch): (CompanyId, BranchId)) -> CallEventRecord {
    let booking_job = event.booking_job.map(|job| NewJob {
        company_id: company,
        ..job
    });
    CallEventRecord {
        company_id: company,
        branch_id: branch,
        from_number: Some("+491609999999".to_owned()),
        booking_job,
        ..event
    }
}

/// Row counts of every table a call id reaches, and A's call row, for before/after checks.
async fn snapshot(
    store: &AnyStore,
    call: &str,
) -> (Vec<i64>, Option<(i64, String, Option<String>)>) {
    let mut counts = Vec::new();
    for table in [
        "calls",
        "webhook_events",
        "jobs",
        "customers",
        "appointments",
    ] {
        counts.push(count(store, &format!("SELECT COUNT(*) FROM {table}")).await);
    }
    let call_row = store
        .db
        .fetch_optional(
            Sql::new("SELECT company_id, status, from_number FROM calls WHERE call_id = $1")
                .bind(call),
        )
        .await
        .unwrap();
    (counts, call_row)
}

async fn foreign_call_event_is_refused_and_writes_nothing(db: TestDb) {
    let fx = fixture(&db).await;
    let b = company_b(&fx).await;
    fx.store
        .record_call_event(&event(&fx, WebhookEvent::CallStarted, "call_x", t0()))
        .await
        .unwrap();
    let before = snapshot(&fx.store, "call_x").await;

    for hostile in [
        as_b(call_ended(&fx, "call_x"), b),
        as_b(call_analyzed(&fx, "call_x"), b),
        as_b(event(&fx, WebhookEvent::CallStarted, "call_x", t0()), b),
    ] {
        let error = fx.store.record_call_event(&hostile).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::ForeignCall(id) if id.as_str() == "call_x"),
            "{error:?}"
        );
    }
    assert_eq!(snapshot(&fx.store, "call_x").await, before);
}

async fn owner_event_still_records_after_foreign_attempt(db: TestDb) {
    let fx = fixture(&db).await;
    let b = company_b(&fx).await;
    fx.store
        .record_call_event(&event(&fx, WebhookEvent::CallStarted, "call_y", t0()))
        .await
        .unwrap();
    fx.store
        .record_call_event(&as_b(call_ended(&fx, "call_y"), b))
        .await
        .unwrap_err();

    // Before 0004 B's row made A's genuine call_ended a duplicate.
    let job = enqueue_booking(&fx, "call_y").await;
    let (company,): (i64,) = row(&fx.store, "SELECT company_id FROM jobs WHERE id = $1", job).await;
    assert_eq!(company, fx.company.0);
    let stats = fx.store.webhook_stats(Some(fx.company)).await.unwrap();
    assert_eq!(
        (stats.events.get("call_ended"), stats.duplicates),
        (Some(&1), 0)
    );
}

async fn first_company_to_record_a_call_owns_it_under_concurrency(db: TestDb) {
    let fx = fixture(&db).await;
    let b = company_b(&fx).await;
    for round in 0..8 {
        let call = format!("call_race_{round}");
        let a_event = event(&fx, WebhookEvent::CallStarted, &call, t0());
        let b_event = as_b(a_event.clone(), b);
        let barrier = Arc::new(Barrier::new(2));
        let deliveries: Vec<_> = [a_event, b_event]
            .into_iter()
            .map(|event| {
                let store = fx.store.clone();
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.record_call_event(&event).await
                })
            })
            .collect();
        let mut refused = 0;
        for delivery in deliveries {
            match delivery.await.unwrap() {
                Ok(EventOutcome::Recorded { .. }) => {}
                Err(StoreError::ForeignCall(_)) => refused += 1,
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!(refused, 1, "{call}");
        let rows: Vec<(i64, i64)> = fx
            .store
            .db
            .fetch_all(
                Sql::new(
                    "SELECT c.company_id, w.company_id FROM calls c \
                     JOIN webhook_events w ON w.call_id = c.call_id WHERE c.call_id = $1",
                )
                .bind(call.as_str()),
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{call}: one webhook row, the owner's");
        assert_eq!(rows[0].0, rows[0].1, "{call}: dedup row of the owner");
    }
}

async fn foreign_call_context_is_refused_and_writes_nothing(db: TestDb) {
    let fx = fixture(&db).await;
    let (b, b_branch) = company_b(&fx).await;
    let id = call_id("call_ctx_a");
    let ours = CallContextRecord {
        call_id: id.clone(),
        company_id: fx.company,
        branch_id: fx.branch,
        from_number: Some(CALLER.to_owned()),
        to_number: Some(NUMBER.to_owned()),
        collected: collected(&fx),
        updated_at: t0(),
        version: 1,
    };
    fx.store.save_call_context(&ours).await.unwrap();
    let theirs = CallContextRecord {
        company_id: b,
        branch_id: b_branch,
        collected: CollectedAppointment::default(),
        updated_at: t0() + TimeDelta::seconds(5),
        ..ours.clone()
    };

    let error = fx.store.save_call_context(&theirs).await.unwrap_err();
    assert!(matches!(error, StoreError::ForeignCall(_)), "{error:?}");
    let error = fx.store.load_call_context(b, &id).await.unwrap_err();
    assert!(matches!(error, StoreError::ForeignCall(_)), "{error:?}");
    let error = fx.store.call_context_version(b, &id).await.unwrap_err();
    assert!(matches!(error, StoreError::ForeignCall(_)), "{error:?}");
    // Not even as the next version of ours.
    let next = CallContextRecord {
        version: 2,
        ..theirs
    };
    let error = fx.store.save_call_context(&next).await.unwrap_err();
    assert!(matches!(error, StoreError::ForeignCall(_)), "{error:?}");
    assert_eq!(
        fx.store.load_call_context(fx.company, &id).await.unwrap(),
        Some(ours)
    );
}

async fn get_call_shows_only_the_owners_call(db: TestDb) {
    let fx = fixture(&db).await;
    let (b, _) = company_b(&fx).await;
    enqueue_booking(&fx, "call_view_a").await;
    let id = call_id("call_view_a");

    assert_eq!(fx.store.get_call(Some(b), &id).await.unwrap(), None);
    let own = fx
        .store
        .get_call(Some(fx.company), &id)
        .await
        .unwrap()
        .unwrap();
    assert!(own.booking_job.is_some());
    assert_eq!(fx.store.get_call(None, &id).await.unwrap(), Some(own));
}

async fn list_calls_shows_only_the_companys_calls_started_in_the_range(db: TestDb) {
    let fx = fixture(&db).await;
    let b = company_b(&fx).await;
    enqueue_booking(&fx, "call_list_a").await;
    fx.store
        .record_call_event(&as_b(call_ended(&fx, "call_list_b"), b))
        .await
        .unwrap();
    let (since, until) = (t0() - TimeDelta::hours(1), t0() + TimeDelta::hours(1));
    let ids =
        |calls: Vec<CallView>| -> Vec<String> { calls.into_iter().map(|c| c.call_id).collect() };

    let own = fx
        .store
        .list_calls(Some(fx.company), since, until, 10)
        .await
        .unwrap();
    assert!(own[0].booking_job.is_some(), "{own:?}");
    assert_eq!(ids(own), ["call_list_a"]);
    let theirs = fx
        .store
        .list_calls(Some(b.0), since, until, 10)
        .await
        .unwrap();
    assert_eq!(ids(theirs), ["call_list_b"]);
    let all = fx.store.list_calls(None, since, until, 10).await.unwrap();
    assert_eq!(ids(all), ["call_list_a", "call_list_b"]);
    assert_eq!(
        fx.store
            .list_calls(None, since, until, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    // The range is [since, until): a call starting at `until` is the next range's.
    let before = fx
        .store
        .list_calls(Some(fx.company), since, t0(), 10)
        .await
        .unwrap();
    assert!(before.is_empty(), "{before:?}");
}

async fn idempotency_keys_are_unique_per_company(db: TestDb) {
    let fx = fixture(&db).await;
    let b = company_b(&fx).await;
    // The same key in two companies: two jobs, two appointments; neither pre-empts the other.
    let a_job = enqueue_booking(&fx, "call_key_a").await;
    let mut b_event = as_b(call_ended(&fx, "call_key_b"), b);
    if let Some(job) = b_event.booking_job.as_mut() {
        job.idempotency_key = "book:call_key_a".to_owned();
    }
    let b_job = match fx.store.record_call_event(&b_event).await.unwrap() {
        EventOutcome::Recorded { job_id: Some(id) } => id,
        other => panic!("expected B's own job, got {other:?}"),
    };
    assert_ne!(a_job, b_job);

    let a_appointment = appointment(&fx, "call_key_a", "uid_key_a", "shared-key");
    let b_appointment = NewAppointment {
        company_id: b.0,
        branch_id: Some(b.1),
        call_id: Some(call_id("call_key_b")),
        booking_uid: BookingUid::parse("uid_key_b").unwrap(),
        ..a_appointment.clone()
    };
    let a_id = fx.store.insert_appointment(&a_appointment).await.unwrap();
    let b_id = fx.store.insert_appointment(&b_appointment).await.unwrap();
    assert_ne!(a_id, b_id);
    // Within a company the key still books once.
    assert_eq!(
        fx.store.insert_appointment(&a_appointment).await.unwrap(),
        a_id
    );
}

async fn appointment_for_a_foreign_call_is_refused_and_writes_nothing(db: TestDb) {
    let fx = fixture(&db).await;
    let (b, _) = company_b(&fx).await;
    enqueue_booking(&fx, "call_link_a").await;
    let before = snapshot(&fx.store, "call_link_a").await;
    let hostile = NewAppointment {
        company_id: b,
        ..appointment(&fx, "call_link_a", "uid_link_b", "gateway:b:1")
    };

    let error = fx.store.insert_appointment(&hostile).await.unwrap_err();
    assert!(matches!(error, StoreError::ForeignCall(_)), "{error:?}");
    assert_eq!(snapshot(&fx.store, "call_link_a").await, before);
    let (linked,): (Option<i64>,) = fx
        .store
        .db
        .fetch_one(Sql::new(
            "SELECT appointment_id FROM calls WHERE call_id = 'call_link_a'",
        ))
        .await
        .unwrap();
    assert_eq!(linked, None);
}

/// Applies the migrations before 0004 only, as a database of the previous release has them.
async fn migrate_to_0003(db: &TestDb, backend: &str) {
    let old = tempfile::tempdir().unwrap();
    for version in migration_versions(backend)
        .into_iter()
        .filter(|v| v.as_str() < "0004")
    {
        let file = format!("{version}.sql");
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend)
                .join(&file),
            old.path().join(&file),
        )
        .unwrap();
    }
    let migrator = Migrator::new(old.path()).await.unwrap();
    if backend == "sqlite" {
        let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
            .await
            .unwrap();
        migrator.run(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        migrator.run(&pool).await.unwrap();
        pool.close().await;
    }
}

/// The demo tenant written as the schema of migration 0003 has it, in plain SQL: today's
/// upserts write columns added later.
async fn seed_at_0003(db: &Db) -> (CompanyId, BranchId, i64) {
    let now = t0();
    let (company,): (i64,) = db
        .fetch_one(
            Sql::new(
                "INSERT INTO companies (name, locale, time_zone, retell_api_key, \
                     calcom_api_key, created_at) \
                 VALUES ('Salon Sonne', 'de', 'Europe/Berlin', '', '', $1) RETURNING id",
            )
            .bind(now),
        )
        .await
        .unwrap();
    let (branch,): (i64,) = db
        .fetch_one(
            Sql::new(
                "INSERT INTO branches (company_id, name, opens, closes, created_at) \
                 VALUES ($1, 'Mitte', '09:00', '18:30', $2) RETURNING id",
            )
            .bind(company)
            .bind(now),
        )
        .await
        .unwrap();
    db.execute(
        Sql::new("INSERT INTO phone_numbers (number, branch_id, created_at) VALUES ($1, $2, $3)")
            .bind(NUMBER)
            .bind(branch)
            .bind(now),
    )
    .await
    .unwrap();
    let (service,): (i64,) = db
        .fetch_one(
            Sql::new(
                "INSERT INTO services (company_id, name, aliases, duration_min, \
                     event_type_id, created_at) \
                 VALUES ($1, 'Herrenschnitt', '[\"Herrenhaarschnitt\"]', 30, 101, $2) \
                 RETURNING id",
            )
            .bind(company)
            .bind(now),
        )
        .await
        .unwrap();
    (CompanyId(company), BranchId(branch), service)
}

async fn migration_rewrites_call_booking_keys(db: TestDb) {
    let backend = if db.url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    migrate_to_0003(&db, backend).await;
    let old = AnyStore {
        db: match backend {
            "sqlite" => Db::Sqlite(sqlx::SqlitePool::connect(&db.url).await.unwrap()),
            _ => Db::Postgres(sqlx::PgPool::connect(&db.url).await.unwrap()),
        },
        keyring: test_keyring(),
    };
    let (company, branch, service_id) = seed_at_0003(&old.db).await;
    let now = t0();
    let long_name = "x".repeat(500);
    let statements = [
        // An appointment booked from a call, and a deleted one whose id must not come back.
        Sql::new(
            "INSERT INTO appointments (company_id, call_id, booking_uid, calcom_booking_id, \
                 event_type_id, service_name, start_at, end_at, attendee_name, \
                 idempotency_key, source, created_at, updated_at) \
             VALUES ($1, 'call_old', 'uid_old', 1, 101, 'Herrenschnitt', $2, $2, 'Max', \
                 'retell:call_old:book', 'phone', $2, $2), \
                 ($1, NULL, 'uid_gone', 2, 101, 'Herrenschnitt', $2, $2, 'Max', \
                 'gateway:1:gone', 'gateway', $2, $2)",
        )
        .bind(company.0)
        .bind(now),
        Sql::new("DELETE FROM appointments WHERE booking_uid = 'uid_gone'"),
        Sql::new(
            "INSERT INTO calls (call_id, company_id, status, appointment_id, created_at, \
                 updated_at) \
             VALUES ('call_old', $1, 'ended', 1, $2, $2)",
        )
        .bind(company.0)
        .bind(now),
        // A job still in flight, and one whose key is not a call's booking key.
        Sql::new(
            "INSERT INTO jobs (queue, kind, company_id, call_id, idempotency_key, payload, \
                 status, attempts, max_attempts, next_run_at, created_at, updated_at) \
             VALUES ('bookings', 'book', $1, 'call_old', 'retell:call_old:book', \
                 '{\"idempotency_key\":\"retell:call_old:book\"}', 'pending', 1, 5, $2, $2, $2), \
                 ('bookings', 'book', $1, 'call_odd', 'custom-key', '{}', 'pending', 0, 5, \
                 $2, $2, $2)",
        )
        .bind(company.0)
        .bind(now),
        // A 500-character event name and a second unknown one for the same call.
        Sql::new(
            "INSERT INTO webhook_events (event, call_id, company_id, received_at, \
                 duplicate_count) \
             VALUES ('call_ended', 'call_old', $1, $2, 2), ($3, 'call_old', $1, $2, 0), \
                 ('made_up', 'call_old', $1, $2, 0)",
        )
        .bind(company.0)
        .bind(now)
        .bind(long_name.as_str()),
    ];
    for sql in statements {
        old.db.execute(sql).await.unwrap();
    }
    match &old.db {
        Db::Sqlite(pool) => pool.close().await,
        Db::Postgres(pool) => pool.close().await,
    }

    let store = AnyStore::connect(&db.url, 2).await.unwrap();
    let new_key = format!("retell:{}:call_old:book", company.0);
    let keys: Vec<(String,)> = store
        .db
        .fetch_all(Sql::new("SELECT idempotency_key FROM jobs ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(keys, [(new_key.clone(),), ("custom-key".to_owned(),)]);
    let (key, linked): (String, Option<i64>) = row(
        &store,
        "SELECT a.idempotency_key, c.appointment_id FROM appointments a \
         JOIN calls c ON c.call_id = a.call_id WHERE a.id = $1",
        1,
    )
    .await;
    assert_eq!((key, linked), (new_key.clone(), Some(1)));
    // The payload keeps the key a Cal.com booking of an earlier attempt carries.
    let (payload,): (String,) = row(&store, "SELECT payload FROM jobs WHERE id = $1", 1).await;
    assert!(payload.contains("retell:call_old:book"), "{payload}");

    let events: Vec<(String, i64)> = store
        .db
        .fetch_all(Sql::new(
            "SELECT event, duplicate_count FROM webhook_events ORDER BY event",
        ))
        .await
        .unwrap();
    assert_eq!(
        events,
        [("call_ended".to_owned(), 2), ("other".to_owned(), 1)]
    );

    // A retried call_ended after the upgrade finds the job it queued, not a second one.
    let fx = Fixture {
        url: db.url.clone(),
        store: store.clone(),
        company,
        branch,
        service_id,
    };
    let mut retried = call_ended(&fx, "call_old");
    retried.event = WebhookEvent::CallAnalyzed;
    if let Some(job) = retried.booking_job.as_mut() {
        job.idempotency_key = new_key;
    }
    assert_eq!(
        store.record_call_event(&retried).await.unwrap(),
        EventOutcome::Recorded { job_id: Some(1) }
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM jobs").await, 2);

    // Ids are never handed out twice.
    let next = store
        .insert_appointment(&appointment(&fx, "call_new", "uid_new", "k-new"))
        .await
        .unwrap();
    assert_eq!(
        next, 3,
        "the deleted appointment's id 2 is not handed out again"
    );
}

on_both_backends! {
    foreign_call_event_is_refused_and_writes_nothing,
    owner_event_still_records_after_foreign_attempt,
    first_company_to_record_a_call_owns_it_under_concurrency,
    foreign_call_context_is_refused_and_writes_nothing,
    get_call_shows_only_the_owners_call,
    list_calls_shows_only_the_companys_calls_started_in_the_range,
    idempotency_keys_are_unique_per_company,
    appointment_for_a_foreign_call_is_refused_and_writes_nothing,
    migration_rewrites_call_booking_keys,
}
