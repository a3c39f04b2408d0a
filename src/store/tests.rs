//! One test per guarantee of the store. Every guarantee is one test body, run by
//! [`on_both_backends!`] on SQLite (a fresh file per test, always) and on PostgreSQL (a fresh
//! database per test on the server [`postgres_server`] names, dropped when the test ends,
//! pass or fail). Without a server the PostgreSQL twins say "skipped" on stderr and pass
//! locally, but fail in CI (`CI=true`), where a missing backend is a broken set-up. Tests
//! that only make sense for one backend say so in their name.

use super::sql::{Db, Record, Sql};
use super::{AnyStore, NewCompany, NewService, token_digest};
use crate::secrets::test_keyring;
use chrono::{DateTime, DurationRound, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use futures_util::FutureExt;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, Executor, PgConnection};
use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::domain::appointment::{CollectedAppointment, ServiceChoice};
use switchboard_actors::domain::booking::Attendee;
use switchboard_actors::domain::ids::{BookingUid, BranchId, CallId, CompanyId, EventTypeId};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::ports::{
    CallStore, LockStore, OutboxStore, QueueAdminStore, StoreError, TenancyStore, TokenAdminStore,
    TokenStore,
};
use switchboard_actors::records::{
    BookingJobPayload, CallContextRecord, CallEventRecord, ContextSave, EventOutcome,
    JOB_LATENCY_BUCKETS_MS, JobCounts, JobFailure, JobStatus, JobSummary, MinuteCounts,
    NewAppointment, NewCustomer, NewJob, NewToken, RetryOutcome, TokenKind, TokenScope,
    WebhookEvent, WorkerHeartbeat, WorkerView,
};
use tempfile::TempDir;
use tokio::sync::Barrier;

const NUMBER: &str = "+49301234567";
const CALLER: &str = "+491711234567";
const LEASE: Duration = Duration::from_secs(30);

/// Names the PostgreSQL server the suite also runs on.
const POSTGRES_URL_VAR: &str = "SWITCHBOARD_TEST_POSTGRES_URL";

/// The database of the app-level tests; the suite uses it when it is a PostgreSQL URL.
const DATABASE_URL_VAR: &str = "SWITCHBOARD_TEST_DATABASE_URL";

/// The PostgreSQL server of the suite: [`POSTGRES_URL_VAR`], else [`DATABASE_URL_VAR`]
/// when that is a `postgres://` (or `postgresql://`) URL. `None` when neither names one.
fn postgres_server() -> Option<String> {
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|url: &String| !url.is_empty())
    };
    var(POSTGRES_URL_VAR).or_else(|| {
        var(DATABASE_URL_VAR)
            .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    })
}

/// A fresh, empty database of one backend, owned by one test.
struct TestDb {
    /// What [`AnyStore::connect`] takes; every instance a test opens uses it.
    url: String,
    /// Keeps a SQLite file's directory until the test ends.
    _dir: Option<TempDir>,
}

impl TestDb {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            url: sqlite_url(&dir, "store.db"),
            _dir: Some(dir),
        }
    }
}

fn sqlite_url(dir: &TempDir, file: &str) -> String {
    format!("sqlite://{}", dir.path().join(file).display())
}

/// `server` (a `postgres://` URL) pointing at `database` instead, query options kept.
fn with_database(server: &str, database: &str) -> String {
    let (scheme, rest) = server.split_once("://").expect("a postgres:// URL");
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let options = rest.find('?').map_or("", |start| &rest[start..]);
    format!("{scheme}://{authority}/{database}{options}")
}

/// Runs `test` on a database of its own, `sb_<uuid>`, created on the server of
/// [`postgres_server`] and dropped afterwards (`WITH (FORCE)`, so the test's open pools do
/// not block it), also when the test panics. Without a server the test is skipped (it
/// passes and says so on stderr), except in CI (`CI=true`), where it fails.
async fn on_postgres<Fut>(name: &str, test: impl FnOnce(TestDb) -> Fut)
where
    Fut: Future<Output = ()>,
{
    let Some(server) = postgres_server() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "postgres::{name} needs a PostgreSQL server in CI: set {POSTGRES_URL_VAR} \
             (or a postgres:// {DATABASE_URL_VAR})"
        );
        eprintln!(
            "skipped postgres::{name}: neither {POSTGRES_URL_VAR} nor a postgres:// {DATABASE_URL_VAR} is set"
        );
        return;
    };
    let database = format!("sb_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&server).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .unwrap();
    let db = TestDb {
        url: with_database(&server, &database),
        _dir: None,
    };
    let outcome = AssertUnwindSafe(test(db)).catch_unwind().await;
    admin
        .execute(format!("DROP DATABASE {database} WITH (FORCE)").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Generates `mod sqlite` and `mod postgres`, each with one `#[tokio::test]` per listed
/// body `async fn name(db: TestDb)`, so both backends run the same assertions.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        /// The suite on SQLite, each test on a fresh file.
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::TestDb::sqlite()).await;
                }
            )*
        }

        /// The suite on PostgreSQL, each test on a fresh database.
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::on_postgres(stringify!($name), super::$name).await;
                }
            )*
        }
    };
}

/// The store at `url` with the crate's test key: every instance of a test reads what the
/// others sealed.
async fn connect(url: &str, max_connections: u32) -> AnyStore {
    AnyStore::connect(url, max_connections)
        .await
        .unwrap()
        .with_keyring(test_keyring())
}

/// Credentials at rest: sealed, bound to their row, rotated (issue 10, finding 7).
mod secrets;

/// Tenant administration and tokens (issue 11).
mod admin;

/// Appointments moved and cancelled, Cal.com's webhooks and jobs outside webhooks (issue 12).
mod appointments;

/// Branch numbers, known calls and calls imported from Retell (issue 13).
mod retell;
/// The deployed custom functions' per-company overrides (issue 13).
mod retell_config;

/// The one row `sql` returns for `$1 = id`: raw SQL for assertions, one text for both
/// dialects.
async fn row<T: Record>(store: &AnyStore, sql: &str, id: i64) -> T {
    store.db.fetch_one(Sql::new(sql).bind(id)).await.unwrap()
}

/// Runs `sql` with `$1 = id`, e.g. to plant a bad row behind the store's back.
async fn execute(store: &AnyStore, sql: &str, id: i64) {
    store.db.execute(Sql::new(sql).bind(id)).await.unwrap();
}

/// Makes a token as `switchboard token create` does; returns its id and its digest.
async fn make_token(
    store: &AnyStore,
    company: Option<CompanyId>,
    kind: TokenKind,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> (i64, String) {
    let audit = switchboard_actors::domain::onboarding::AuditRecord {
        actor: "cli:test".into(),
        action: "token create".into(),
        changes: Vec::new(),
    };
    let new = NewToken {
        company_id: company,
        kind,
        name: name.to_owned(),
        expires_at,
    };
    let (info, token) = store.create_token(&new, &audit).await.unwrap();
    (info.id, token_digest(token.expose_secret()))
}

/// A fixture's store with one seeded tenant.
struct Fixture {
    /// The database's URL, for a second instance.
    url: String,
    store: AnyStore,
    company: CompanyId,
    branch: BranchId,
    service_id: i64,
}

impl Fixture {
    /// Adds a second tenant with nothing in it, to show what a company scope hides.
    async fn other_company(&self) -> CompanyId {
        self.store
            .upsert_company(&company("Praxis Mond"))
            .await
            .unwrap()
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn company(name: &str) -> NewCompany {
    NewCompany {
        name: name.to_owned(),
        locale: Locale::De,
        time_zone: chrono_tz::Europe::Berlin,
        retell_api_key: SecretString::from("key_retell_secret"),
        calcom_api_key: SecretString::from("cal_live_secret"),
    }
}

fn service(company: CompanyId, name: &str) -> NewService {
    NewService {
        company_id: company,
        name: name.to_owned(),
        aliases: vec!["Herrenhaarschnitt".to_owned(), "men's haircut".to_owned()],
        duration_min: 30,
        event_type_id: EventTypeId(101),
        team_id: None,
    }
}

/// Seeds the demo tenant; safe to run any number of times.
async fn seed(store: &AnyStore) -> (CompanyId, BranchId, i64) {
    let company = store.upsert_company(&company("Salon Sonne")).await.unwrap();
    let branch = store
        .upsert_branch(company, "Mitte", hm(9, 0), hm(18, 30))
        .await
        .unwrap();
    store
        .upsert_phone_number(&PhoneNumber::parse_default(NUMBER).unwrap(), branch)
        .await
        .unwrap();
    let service_id = store
        .upsert_service(&service(company, "Herrenschnitt"))
        .await
        .unwrap();
    (company, branch, service_id)
}

async fn fixture(db: &TestDb) -> Fixture {
    let store = connect(&db.url, 4).await;
    let (company, branch, service_id) = seed(&store).await;
    Fixture {
        url: db.url.clone(),
        store,
        company,
        branch,
        service_id,
    }
}

fn call_id(id: &str) -> CallId {
    CallId::parse(id).unwrap()
}

fn collected(fx: &Fixture) -> CollectedAppointment {
    CollectedAppointment {
        date: NaiveDate::from_ymd_opt(2026, 3, 10),
        time: Some(hm(14, 30)),
        name: Some("Max Mustermann".to_owned()),
        phone: Some(PhoneNumber::parse_default(CALLER).unwrap()),
        email: Some("max@example.org".to_owned()),
        service: Some(ServiceChoice {
            service_id: fx.service_id,
            name: "Herrenschnitt".to_owned(),
            duration_min: 30,
            event_type_id: EventTypeId(101),
        }),
        staff: None,
        notes: Some("bitte pünktlich".to_owned()),
        confirmed: true,
        hold: None,
    }
}

fn event(fx: &Fixture, kind: WebhookEvent, call: &str, at: DateTime<Utc>) -> CallEventRecord {
    CallEventRecord {
        event: kind,
        call_id: call_id(call),
        company_id: fx.company,
        branch_id: fx.branch,
        call: serde_json::json!({ "call_id": call, "call_status": "ongoing" }),
        call_status: Some("ongoing".to_owned()),
        direction: Some("inbound".to_owned()),
        from_number: Some(CALLER.to_owned()),
        to_number: Some(NUMBER.to_owned()),
        started_at: Some(t0()),
        ended_at: None,
        duration_ms: None,
        disconnection_reason: None,
        summary: None,
        sentiment: None,
        collected: None,
        customer: None,
        booking_job: None,
        received_at: at,
    }
}

/// A `call_ended` that carries a confirmed booking, as the webhook server builds it.
fn call_ended(fx: &Fixture, call: &str) -> CallEventRecord {
    CallEventRecord {
        call: serde_json::json!({ "call_id": call, "call_status": "ended" }),
        call_status: Some("ended".to_owned()),
        ended_at: Some(t0() + TimeDelta::minutes(3)),
        duration_ms: Some(180_000),
        disconnection_reason: Some("user_hangup".to_owned()),
        collected: Some(collected(fx)),
        customer: Some(NewCustomer {
            name: Some("Max Mustermann".to_owned()),
            phone: CALLER.to_owned(),
            email: None,
        }),
        booking_job: Some(NewJob {
            queue: "bookings".to_owned(),
            kind: "book".to_owned(),
            company_id: fx.company,
            call_id: Some(call_id(call)),
            idempotency_key: format!("book:{call}"),
            payload: serde_json::json!({ "call_id": call, "service_id": fx.service_id }),
            max_attempts: 3,
            run_at: t0(),
        }),
        ..event(
            fx,
            WebhookEvent::CallEnded,
            call,
            t0() + TimeDelta::minutes(3),
        )
    }
}

fn call_analyzed(fx: &Fixture, call: &str) -> CallEventRecord {
    CallEventRecord {
        call: serde_json::json!({ "call_id": call, "call_status": "ended",
            "call_analysis": { "call_summary": "Termin gebucht" } }),
        call_status: Some("ended".to_owned()),
        summary: Some("Termin gebucht".to_owned()),
        sentiment: Some("Positive".to_owned()),
        ..event(
            fx,
            WebhookEvent::CallAnalyzed,
            call,
            t0() + TimeDelta::minutes(5),
        )
    }
}

fn appointment(fx: &Fixture, call: &str, uid: &str, key: &str) -> NewAppointment {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 13, 30, 0).unwrap();
    NewAppointment {
        company_id: fx.company,
        branch_id: Some(fx.branch),
        call_id: Some(call_id(call)),
        booking_uid: BookingUid::parse(uid).unwrap(),
        calcom_booking_id: 4711,
        event_type_id: EventTypeId(101),
        service_id: Some(fx.service_id),
        service_name: "Herrenschnitt".to_owned(),
        start,
        end: start + TimeDelta::minutes(30),
        attendee_name: "Max Mustermann".to_owned(),
        attendee_phone: Some(CALLER.to_owned()),
        attendee_email: Some("max@example.org".to_owned()),
        idempotency_key: key.to_owned(),
        source: "phone".to_owned(),
    }
}

/// Records the call's `call_ended` and returns the id of its booking job.
async fn enqueue_booking(fx: &Fixture, call: &str) -> i64 {
    match fx
        .store
        .record_call_event(&call_ended(fx, call))
        .await
        .unwrap()
    {
        EventOutcome::Recorded { job_id: Some(id) } => id,
        other => panic!("expected a booking job, got {other:?}"),
    }
}

/// Asserts job `id` is `done` with no lease and no error left.
async fn assert_done_and_released(store: &AnyStore, id: i64) {
    let (status, locked_until, last_error): (String, Option<DateTime<Utc>>, Option<String>) = row(
        store,
        "SELECT status, locked_until, last_error FROM jobs WHERE id = $1",
        id,
    )
    .await;
    assert_eq!(
        (status.as_str(), locked_until, last_error),
        ("done", None, None)
    );
}

async fn count(store: &AnyStore, sql: &str) -> i64 {
    let (count,): (i64,) = store.db.fetch_one(Sql::new(sql)).await.unwrap();
    count
}

/// The current instant at the precision both backends store (microseconds).
fn now_us() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .unwrap()
}

/// The migration versions (file names without `.sql`) of `migrations/<backend>/`, sorted.
fn migration_versions(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.strip_suffix(".sql").map(str::to_owned))
        .collect();
    versions.sort();
    versions
}

/// The user tables of the store's database, sorted by name (migration bookkeeping excluded).
async fn tables(store: &AnyStore) -> Vec<String> {
    let sql = match store.backend() {
        "sqlite" => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
        }
        _ => {
            "SELECT tablename::text FROM pg_tables \
             WHERE schemaname = current_schema() AND tablename NOT LIKE '_sqlx%'"
        }
    };
    let rows: Vec<(String,)> = store.db.fetch_all(Sql::new(sql)).await.unwrap();
    let mut tables: Vec<String> = rows.into_iter().map(|(table,)| table).collect();
    tables.sort();
    tables
}

#[test]
fn both_backends_have_the_same_migration_versions() {
    let sqlite = migration_versions("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(migration_versions("postgres"), sqlite);
}

async fn migrations_apply_on_fresh_database(db: TestDb) {
    let store = connect(&db.url, 2).await;
    store.ping().await.unwrap();
    assert_eq!(
        tables(&store).await,
        [
            "admin_sessions",
            "api_tokens",
            "appointments",
            "audit_log",
            "branches",
            "calcom_webhook_events",
            "call_events",
            "calls",
            "companies",
            "customers",
            "jobs",
            "outbox_workers",
            "phone_numbers",
            "retell_configurations",
            "retell_custom_functions",
            "service_branches",
            "services",
            "staff",
            "tenant_locks",
            "webhook_events",
        ]
    );
    let migrations = migration_versions(store.backend()).len();
    let applied = count(
        &store,
        "SELECT COUNT(*) FROM _sqlx_migrations WHERE success",
    )
    .await;
    assert_eq!(usize::try_from(applied).unwrap(), migrations);
    let (company, _, _) = seed(&store).await;
    match &store.db {
        Db::Sqlite(pool) => pool.close().await,
        Db::Postgres(pool) => pool.close().await,
    }

    // Reopening applies nothing new and keeps the data.
    let again = connect(&db.url, 2).await;
    assert_eq!(
        count(&again, "SELECT COUNT(*) FROM _sqlx_migrations").await,
        applied
    );
    assert!(again.company(company).await.unwrap().is_some());
}

#[tokio::test]
async fn sqlite_file_is_created_with_wal_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "nested/deeper/switchboard.db");
    let store = connect(&url, 2).await;
    assert!(dir.path().join("nested/deeper/switchboard.db").is_file());
    let (journal,): (String,) = store
        .db
        .fetch_one(Sql::new("PRAGMA journal_mode"))
        .await
        .unwrap();
    assert_eq!(journal, "wal");
    let (foreign_keys,): (i64,) = store
        .db
        .fetch_one(Sql::new("PRAGMA foreign_keys"))
        .await
        .unwrap();
    assert_eq!(foreign_keys, 1);
}

async fn concurrent_starts_migrate_once(db: TestDb) {
    let (a, b, c) = tokio::join!(
        AnyStore::connect(&db.url, 2),
        AnyStore::connect(&db.url, 2),
        AnyStore::connect(&db.url, 2),
    );
    let a = a.unwrap();
    b.unwrap();
    c.unwrap();
    let migrations = migration_versions(a.backend()).len();
    let applied = count(&a, "SELECT COUNT(*) FROM _sqlx_migrations").await;
    assert_eq!(usize::try_from(applied).unwrap(), migrations);
}

async fn tenant_resolves_by_e164_number(db: TestDb) {
    let fx = fixture(&db).await;
    // The core normalises what Retell sends; any spelling of the number finds the branch.
    let dialled = PhoneNumber::parse_default("030 1234567").unwrap();
    let route = fx.store.tenant_by_phone(&dialled).await.unwrap().unwrap();
    assert_eq!(route.company.id, fx.company);
    assert_eq!(route.company.name, "Salon Sonne");
    assert_eq!(route.company.locale, Locale::De);
    assert_eq!(route.company.time_zone, chrono_tz::Europe::Berlin);
    assert_eq!(
        route.company.retell_api_key.expose_secret(),
        "key_retell_secret"
    );
    assert_eq!(
        route.company.calcom_api_key.expose_secret(),
        "cal_live_secret"
    );
    assert_eq!(route.branch_id, fx.branch);
    assert_eq!(route.branch_name, "Mitte");
    assert_eq!(
        (route.window.opens, route.window.closes),
        (hm(9, 0), hm(18, 30))
    );

    let profile = fx.store.company(fx.company).await.unwrap().unwrap();
    assert_eq!(profile.name, "Salon Sonne");
    assert!(fx.store.company(CompanyId(999)).await.unwrap().is_none());
}

async fn unknown_number_resolves_to_none(db: TestDb) {
    let fx = fixture(&db).await;
    let other = PhoneNumber::parse_default("+49 30 7654321").unwrap();
    assert!(fx.store.tenant_by_phone(&other).await.unwrap().is_none());
}

async fn corrupt_time_zone_is_reported_as_corrupt(db: TestDb) {
    let fx = fixture(&db).await;
    execute(
        &fx.store,
        "UPDATE companies SET time_zone = 'Mars/Olympus' WHERE id = $1",
        fx.company.0,
    )
    .await;
    let number = PhoneNumber::parse_default(NUMBER).unwrap();
    let error = fx.store.tenant_by_phone(&number).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Corrupt {
                table: "companies",
                ..
            }
        ),
        "{error:?}"
    );
}

async fn services_are_listed_by_name_with_aliases(db: TestDb) {
    let fx = fixture(&db).await;
    fx.store
        .upsert_service(&NewService {
            team_id: Some(7),
            ..service(fx.company, "Damenschnitt")
        })
        .await
        .unwrap();
    let services = fx.store.services(fx.company).await.unwrap();
    let names: Vec<_> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Damenschnitt", "Herrenschnitt"]);
    assert_eq!(services[0].team_id, Some(7));
    assert_eq!(services[1].id, fx.service_id);
    assert_eq!(services[1].aliases, ["Herrenhaarschnitt", "men's haircut"]);
    assert_eq!(services[1].duration_min, 30);
    assert_eq!(services[1].event_type_id, EventTypeId(101));
}

async fn duplicate_call_ended_records_once(db: TestDb) {
    let fx = fixture(&db).await;
    let deliveries: Vec<_> = (0..4)
        .map(|_| {
            let store = fx.store.clone();
            let event = call_ended(&fx, "call_dup");
            tokio::spawn(async move { store.record_call_event(&event).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for delivery in deliveries {
        outcomes.push(delivery.await.unwrap().unwrap());
    }

    let recorded: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, EventOutcome::Recorded { job_id: Some(_) }))
        .collect();
    let duplicates = outcomes
        .iter()
        .filter(|o| **o == EventOutcome::Duplicate)
        .count();
    assert_eq!((recorded.len(), duplicates), (1, 3), "{outcomes:?}");
    assert_eq!(count(&fx.store, "SELECT COUNT(*) FROM jobs").await, 1);
    assert_eq!(count(&fx.store, "SELECT COUNT(*) FROM calls").await, 1);
    assert_eq!(count(&fx.store, "SELECT COUNT(*) FROM customers").await, 1);

    let stats = fx.store.webhook_stats(Some(fx.company)).await.unwrap();
    assert_eq!(stats.events.get("call_ended"), Some(&1));
    assert_eq!(stats.duplicates, 3);
    assert_eq!(stats.calls, 1);
    assert_eq!(stats.jobs.get("pending"), Some(&1));
    assert_eq!(stats.appointments, 0);
}

async fn webhook_stats_are_scoped_to_a_company(db: TestDb) {
    let fx = fixture(&db).await;
    enqueue_booking(&fx, "call_a").await;
    let other = fx.other_company().await;
    let stats = fx.store.webhook_stats(Some(other)).await.unwrap();
    assert_eq!(stats, Default::default());
    let all = fx.store.webhook_stats(None).await.unwrap();
    assert_eq!((all.calls, all.events.len()), (1, 1));
}

async fn job_claim_sets_lease_and_attempts(db: TestDb) {
    let fx = fixture(&db).await;
    let job_id = enqueue_booking(&fx, "call_claim").await;

    // Not due yet.
    let early = t0() - TimeDelta::seconds(1);
    assert!(
        fx.store
            .claim_due_jobs(early, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let now = t0() + TimeDelta::seconds(5);
    let jobs = fx.store.claim_due_jobs(now, LEASE, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.id, job_id);
    assert_eq!(
        (job.queue.as_str(), job.kind.as_str()),
        ("bookings", "book")
    );
    assert_eq!(job.company_id, fx.company);
    assert_eq!(job.call_id, Some(call_id("call_claim")));
    assert_eq!(job.idempotency_key, "book:call_claim");
    assert_eq!(job.payload["service_id"], fx.service_id);
    assert_eq!((job.attempts, job.max_attempts), (1, 3));

    let (status, locked_until): (String, DateTime<Utc>) = row(
        &fx.store,
        "SELECT status, locked_until FROM jobs WHERE id = $1",
        job_id,
    )
    .await;
    assert_eq!(status, "running");
    assert_eq!(locked_until, now + TimeDelta::seconds(30));
}

async fn claimed_job_is_not_claimed_twice_until_lease_expires(db: TestDb) {
    let fx = fixture(&db).await;
    let job_id = enqueue_booking(&fx, "call_lease").await;
    let now = t0();
    assert_eq!(
        fx.store.claim_due_jobs(now, LEASE, 10).await.unwrap().len(),
        1
    );

    let during = now + TimeDelta::seconds(29);
    assert!(
        fx.store
            .claim_due_jobs(during, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The worker died: once the lease is over, another one takes the job.
    let after = now + TimeDelta::seconds(31);
    let jobs = fx.store.claim_due_jobs(after, LEASE, 10).await.unwrap();
    assert_eq!(
        jobs.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(),
        [(job_id, 2)]
    );
}

async fn claim_respects_the_limit(db: TestDb) {
    let fx = fixture(&db).await;
    for call in ["call_1", "call_2", "call_3"] {
        enqueue_booking(&fx, call).await;
    }
    let first = fx.store.claim_due_jobs(t0(), LEASE, 2).await.unwrap();
    let second = fx.store.claim_due_jobs(t0(), LEASE, 2).await.unwrap();
    assert_eq!((first.len(), second.len()), (2, 1));
    assert!(first.iter().all(|a| second.iter().all(|b| a.id != b.id)));
}

async fn failed_job_becomes_dead_letter(db: TestDb) {
    let fx = fixture(&db).await;
    let job_id = enqueue_booking(&fx, "call_fail").await;
    fx.store.claim_due_jobs(t0(), LEASE, 1).await.unwrap();

    // A retryable failure: back to pending, invisible until retry_at.
    let retry_at = t0() + TimeDelta::seconds(60);
    let failure = JobFailure {
        error: "calcom timeout".to_owned(),
        retry_at: Some(retry_at),
    };
    fx.store.fail_job(job_id, &failure).await.unwrap();
    let before = retry_at - TimeDelta::seconds(1);
    assert!(
        fx.store
            .claim_due_jobs(before, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    let again = fx.store.claim_due_jobs(retry_at, LEASE, 1).await.unwrap();
    assert_eq!(again[0].attempts, 2);

    // The last failure: dead letter, never claimed again.
    let last = JobFailure {
        error: "slot taken".to_owned(),
        retry_at: None,
    };
    fx.store.fail_job(job_id, &last).await.unwrap();
    let much_later = t0() + TimeDelta::days(1);
    assert!(
        fx.store
            .claim_due_jobs(much_later, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let view = fx
        .store
        .get_call(None, &call_id("call_fail"))
        .await
        .unwrap()
        .unwrap();
    let job = view.booking_job.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.last_error.as_deref(), Some("slot taken"));
    assert_eq!(job.attempts, 2);
    let stats = fx.store.webhook_stats(None).await.unwrap();
    assert_eq!(stats.jobs.get("failed"), Some(&1));

    let missing = fx.store.fail_job(9_999, &last).await.unwrap_err();
    assert!(matches!(missing, StoreError::Backend { .. }), "{missing:?}");
}

async fn late_failure_does_not_reopen_a_done_job(db: TestDb) {
    let fx = fixture(&db).await;
    let job_id = enqueue_booking(&fx, "call_late").await;
    fx.store.claim_due_jobs(t0(), LEASE, 1).await.unwrap();
    fx.store
        .complete_booking_job(
            job_id,
            &appointment(&fx, "call_late", "uid_late", "book:call_late"),
            &[],
        )
        .await
        .unwrap();
    let late = JobFailure {
        error: "timeout".to_owned(),
        retry_at: Some(t0()),
    };
    fx.store.fail_job(job_id, &late).await.unwrap();
    let view = fx
        .store
        .get_call(None, &call_id("call_late"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.booking_job.unwrap().status, JobStatus::Done);
}

async fn complete_booking_is_idempotent_on_key(db: TestDb) {
    let fx = fixture(&db).await;
    let job_id = enqueue_booking(&fx, "call_book").await;
    fx.store.claim_due_jobs(t0(), LEASE, 1).await.unwrap();
    let booked = appointment(&fx, "call_book", "uid_book_1", "book:call_book");

    let first = fx
        .store
        .complete_booking_job(job_id, &booked, &[])
        .await
        .unwrap();
    let second = fx
        .store
        .complete_booking_job(job_id, &booked, &[])
        .await
        .unwrap();
    let via_gateway = fx.store.insert_appointment(&booked).await.unwrap();
    assert_eq!((first, second, via_gateway), (first, first, first));
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM appointments").await,
        1
    );
    // The attendee is the caller the webhook already created.
    assert_eq!(count(&fx.store, "SELECT COUNT(*) FROM customers").await, 1);

    assert_done_and_released(&fx.store, job_id).await;

    // Another key may not claim a booking uid that is already stored.
    let stolen = appointment(&fx, "call_book", "uid_book_1", "another-key");
    let error = fx.store.insert_appointment(&stolen).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");

    let missing = fx
        .store
        .complete_booking_job(9_999, &booked, &[])
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::Backend { .. }), "{missing:?}");
}

async fn call_view_shows_job_and_appointment(db: TestDb) {
    let fx = fixture(&db).await;
    let job_id = enqueue_booking(&fx, "call_view").await;

    let pending = fx
        .store
        .get_call(None, &call_id("call_view"))
        .await
        .unwrap()
        .unwrap();
    let job = pending.booking_job.clone().unwrap();
    assert_eq!(
        (job.id, job.status, job.attempts),
        (job_id, JobStatus::Pending, 0)
    );
    assert_eq!(job.next_run_at, t0());
    assert!(pending.appointment.is_none());

    fx.store.claim_due_jobs(t0(), LEASE, 1).await.unwrap();
    let booked = appointment(&fx, "call_view", "uid_view", "book:call_view");
    let appointment_id = fx
        .store
        .complete_booking_job(job_id, &booked, &[])
        .await
        .unwrap();

    let view = fx
        .store
        .get_call(None, &call_id("call_view"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.call_id, "call_view");
    assert_eq!(view.company_id, fx.company);
    assert_eq!(view.branch_id, Some(fx.branch));
    assert_eq!(view.status, "ended");
    assert_eq!(view.from_number.as_deref(), Some(CALLER));
    assert_eq!(view.to_number.as_deref(), Some(NUMBER));
    assert_eq!(view.direction.as_deref(), Some("inbound"));
    assert_eq!(view.started_at, Some(t0()));
    assert_eq!(view.ended_at, Some(t0() + TimeDelta::minutes(3)));
    assert_eq!(view.duration_ms, Some(180_000));
    assert_eq!(view.disconnection_reason.as_deref(), Some("user_hangup"));
    assert_eq!(view.collected, Some(collected(&fx)));
    let job = view.booking_job.unwrap();
    assert_eq!(
        (job.status, job.attempts, job.max_attempts),
        (JobStatus::Done, 1, 3)
    );
    let shown = view.appointment.unwrap();
    assert_eq!(shown.id, appointment_id);
    assert_eq!(shown.booking_uid, "uid_view");
    assert_eq!(shown.service_name, "Herrenschnitt");
    assert_eq!((shown.start, shown.end), (booked.start, booked.end));
    assert_eq!(shown.status, "scheduled");

    assert!(
        fx.store
            .get_call(None, &call_id("call_unknown"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn seeding_twice_is_idempotent(db: TestDb) {
    let fx = fixture(&db).await;
    // Two instances seed the same database again, at the same time.
    let second = connect(&fx.url, 2).await;
    let (a, b) = tokio::join!(seed(&fx.store), seed(&second));
    assert_eq!(a, (fx.company, fx.branch, fx.service_id));
    assert_eq!(b, a);
    for table in ["companies", "branches", "phone_numbers", "services"] {
        let rows = count(&fx.store, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(rows, 1, "{table}");
    }
}

async fn reseeding_updates_the_tenant(db: TestDb) {
    let fx = fixture(&db).await;
    let renewed = NewCompany {
        locale: Locale::En,
        calcom_api_key: SecretString::from("cal_live_rotated"),
        ..company("Salon Sonne")
    };
    assert_eq!(fx.store.upsert_company(&renewed).await.unwrap(), fx.company);
    let branch = fx
        .store
        .upsert_branch(fx.company, "Mitte", hm(8, 0), hm(20, 0))
        .await
        .unwrap();
    assert_eq!(branch, fx.branch);
    let number = PhoneNumber::parse_default(NUMBER).unwrap();
    let route = fx.store.tenant_by_phone(&number).await.unwrap().unwrap();
    assert_eq!(route.company.locale, Locale::En);
    assert_eq!(
        route.company.calcom_api_key.expose_secret(),
        "cal_live_rotated"
    );
    assert_eq!(
        (route.window.opens, route.window.closes),
        (hm(8, 0), hm(20, 0))
    );

    let inverted = fx
        .store
        .upsert_branch(fx.company, "Nacht", hm(20, 0), hm(8, 0))
        .await;
    assert!(
        matches!(inverted, Err(StoreError::Backend { .. })),
        "{inverted:?}"
    );
}

/// Issue 10, finding 5: a changed sandbox admin token left the old one valid.
async fn replaced_admin_token_revokes_the_previous_one(db: TestDb) {
    let fx = fixture(&db).await;
    let old = token_digest("old-sandbox-token");
    let new = token_digest("new-sandbox-token");
    let (_, other_admin) = make_token(&fx.store, None, TokenKind::Admin, "ops", None).await;
    let (_, tenant) = make_token(
        &fx.store,
        Some(fx.company),
        TokenKind::Write,
        "sandbox admin",
        None,
    )
    .await;
    fx.store
        .replace_admin_token(&old, "sandbox admin")
        .await
        .unwrap();
    fx.store
        .replace_admin_token(&new, "sandbox admin")
        .await
        .unwrap();
    fx.store
        .replace_admin_token(&new, "sandbox admin")
        .await
        .unwrap();

    assert!(fx.store.api_token(&old).await.unwrap().is_none());
    let grant = fx.store.api_token(&new).await.unwrap().unwrap();
    assert_eq!(grant.company_id, None);
    assert!(fx.store.api_token(&other_admin).await.unwrap().is_some());
    assert!(
        fx.store.api_token(&tenant).await.unwrap().is_some(),
        "company tokens are never replaced"
    );
}

async fn api_token_grants_company_or_admin(db: TestDb) {
    let fx = fixture(&db).await;
    let (_, tenant) = make_token(
        &fx.store,
        Some(fx.company),
        TokenKind::Write,
        "tenant",
        None,
    )
    .await;
    let (_, admin) = make_token(&fx.store, None, TokenKind::Admin, "admin", None).await;

    let grant = fx.store.api_token(&tenant).await.unwrap().unwrap();
    assert_eq!(
        (grant.company_id, grant.label.as_str(), grant.scope),
        (Some(fx.company), "tenant", TokenScope::Write)
    );
    let grant = fx
        .store
        .api_token(&admin.to_uppercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (grant.company_id, grant.label.as_str(), grant.scope),
        (None, "admin", TokenScope::Admin)
    );
    let unknown = token_digest("nope");
    assert!(fx.store.api_token(&unknown).await.unwrap().is_none());
}

/// Issue 10, finding 7: a `metrics` token reads the operator surfaces and nothing else; it is
/// invisible to the gateway's lookup and survives the sandbox admin-token replacement.
async fn metrics_tokens_grant_the_operator_surfaces_only(db: TestDb) {
    let fx = fixture(&db).await;
    let (_, metrics) = make_token(&fx.store, None, TokenKind::Metrics, "sandbox admin", None).await;
    let (_, admin) = make_token(&fx.store, None, TokenKind::Admin, "ops", None).await;
    let (_, tenant) = make_token(
        &fx.store,
        Some(fx.company),
        TokenKind::Admin,
        "tenant",
        None,
    )
    .await;
    fx.store
        .replace_admin_token(&token_digest("sandbox"), "sandbox admin")
        .await
        .unwrap();

    assert_eq!(fx.store.api_token(&metrics).await.unwrap(), None);
    assert!(fx.store.metrics_access(&metrics).await.unwrap());
    assert!(fx.store.metrics_access(&admin).await.unwrap());
    assert!(!fx.store.metrics_access(&tenant).await.unwrap());
    assert!(
        !fx.store
            .metrics_access(&token_digest("nope"))
            .await
            .unwrap()
    );
}

async fn call_context_roundtrips(db: TestDb) {
    let fx = fixture(&db).await;
    let id = call_id("call_ctx");
    assert!(
        fx.store
            .load_call_context(fx.company, &id)
            .await
            .unwrap()
            .is_none()
    );

    let mut ctx = CallContextRecord {
        call_id: id.clone(),
        company_id: fx.company,
        branch_id: fx.branch,
        from_number: Some(CALLER.to_owned()),
        to_number: Some(NUMBER.to_owned()),
        collected: CollectedAppointment {
            time: None,
            ..collected(&fx)
        },
        // Both backends keep microseconds (PostgreSQL's TIMESTAMPTZ precision).
        updated_at: t0() + TimeDelta::microseconds(123_456),
        version: 1,
    };
    assert_eq!(
        fx.store.save_call_context(&ctx).await.unwrap(),
        ContextSave::Saved
    );
    assert_eq!(
        fx.store.load_call_context(fx.company, &id).await.unwrap(),
        Some(ctx.clone())
    );

    // A later collect replaces the data; the call stays ongoing.
    ctx.collected = collected(&fx);
    ctx.updated_at = t0() + TimeDelta::seconds(20);
    ctx.version = 2;
    assert_eq!(
        fx.store.save_call_context(&ctx).await.unwrap(),
        ContextSave::Saved
    );
    assert_eq!(
        fx.store.load_call_context(fx.company, &id).await.unwrap(),
        Some(ctx)
    );
    let view = fx.store.get_call(None, &id).await.unwrap().unwrap();
    assert_eq!(view.status, "ongoing");
}

async fn call_context_saves_compare_and_set_on_the_version(db: TestDb) {
    let fx = fixture(&db).await;
    let id = call_id("call_cas");
    let version = || fx.store.call_context_version(fx.company, &id);
    assert_eq!(version().await.unwrap(), 0, "nothing stored");
    // A webhook first: the call's row exists, without data, so still version 0.
    let started = event(&fx, WebhookEvent::CallStarted, "call_cas", t0());
    fx.store.record_call_event(&started).await.unwrap();
    assert_eq!(version().await.unwrap(), 0);

    let first = CallContextRecord {
        call_id: id.clone(),
        company_id: fx.company,
        branch_id: fx.branch,
        from_number: Some(CALLER.to_owned()),
        to_number: Some(NUMBER.to_owned()),
        collected: CollectedAppointment {
            name: Some("Erste Instanz".into()),
            ..CollectedAppointment::default()
        },
        updated_at: t0(),
        version: 1,
    };
    // Over nothing stored only version 1 is written: a copy of data that was there is stale.
    let unknown = CallContextRecord {
        call_id: call_id("call_cas_gone"),
        version: 2,
        ..first.clone()
    };
    assert_eq!(
        fx.store.save_call_context(&unknown).await.unwrap(),
        ContextSave::Stale
    );
    assert_eq!(
        fx.store
            .load_call_context(fx.company, &unknown.call_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        fx.store.save_call_context(&first).await.unwrap(),
        ContextSave::Saved
    );
    assert_eq!(version().await.unwrap(), 1);

    // Another instance that also read version 0 (or skips one) writes nothing.
    for version in [1, 3] {
        let stale = CallContextRecord {
            collected: CollectedAppointment {
                name: Some("Zweite Instanz".into()),
                ..CollectedAppointment::default()
            },
            version,
            ..first.clone()
        };
        assert_eq!(
            fx.store.save_call_context(&stale).await.unwrap(),
            ContextSave::Stale,
            "version {version} over stored version 1"
        );
    }
    assert_eq!(
        fx.store.load_call_context(fx.company, &id).await.unwrap(),
        Some(first.clone())
    );

    let second = CallContextRecord {
        collected: collected(&fx),
        updated_at: t0() + TimeDelta::seconds(5),
        version: 2,
        ..first
    };
    assert_eq!(
        fx.store.save_call_context(&second).await.unwrap(),
        ContextSave::Saved
    );
    assert_eq!(version().await.unwrap(), 2);
    let loaded = fx.store.load_call_context(fx.company, &id).await.unwrap();
    assert_eq!(loaded.map(|r| r.version), Some(2));
    // A webhook that carries no data leaves the version alone; one that does is a new one.
    let analyzed = event(&fx, WebhookEvent::CallAnalyzed, "call_cas", t0());
    fx.store.record_call_event(&analyzed).await.unwrap();
    assert_eq!(version().await.unwrap(), 2);
    fx.store
        .record_call_event(&call_ended(&fx, "call_cas"))
        .await
        .unwrap();
    assert_eq!(version().await.unwrap(), 3);
}

async fn analyzed_does_not_regress_status(db: TestDb) {
    let fx = fixture(&db).await;
    let id = call_id("call_order");
    // Retell delivers out of order: analysis first, then the end, then the start.
    let analyzed = fx
        .store
        .record_call_event(&call_analyzed(&fx, "call_order"))
        .await;
    assert_eq!(analyzed.unwrap(), EventOutcome::Recorded { job_id: None });
    enqueue_booking(&fx, "call_order").await;
    let started = event(&fx, WebhookEvent::CallStarted, "call_order", t0());
    fx.store.record_call_event(&started).await.unwrap();

    let view = fx.store.get_call(None, &id).await.unwrap().unwrap();
    assert_eq!(view.status, "analyzed");
    assert_eq!(view.summary.as_deref(), Some("Termin gebucht"));
    assert_eq!(view.sentiment.as_deref(), Some("Positive"));
    // Facts only the end event carried are still merged in.
    assert_eq!(view.duration_ms, Some(180_000));
    assert!(view.booking_job.is_some());
    let (payload,): (String,) = fx
        .store
        .db
        .fetch_one(Sql::new("SELECT payload FROM calls WHERE call_id = $1").bind(id.as_str()))
        .await
        .unwrap();
    assert!(payload.contains("call_analysis"), "{payload}");

    // A context saved after the end does not reopen the call either.
    let ctx = CallContextRecord {
        call_id: id.clone(),
        company_id: fx.company,
        branch_id: fx.branch,
        from_number: None,
        to_number: None,
        collected: collected(&fx),
        updated_at: t0() + TimeDelta::minutes(6),
        // The end carried the data: version 1.
        version: 2,
    };
    assert_eq!(
        fx.store.save_call_context(&ctx).await.unwrap(),
        ContextSave::Saved
    );
    assert_eq!(
        fx.store.get_call(None, &id).await.unwrap().unwrap().status,
        "analyzed"
    );

    // In order, the end moves an ongoing call to ended.
    let started = event(&fx, WebhookEvent::CallStarted, "call_inorder", t0());
    fx.store.record_call_event(&started).await.unwrap();
    let inorder = call_id("call_inorder");
    assert_eq!(
        fx.store
            .get_call(None, &inorder)
            .await
            .unwrap()
            .unwrap()
            .status,
        "ongoing"
    );
    enqueue_booking(&fx, "call_inorder").await;
    assert_eq!(
        fx.store
            .get_call(None, &inorder)
            .await
            .unwrap()
            .unwrap()
            .status,
        "ended"
    );
}

async fn undecodable_job_is_dead_lettered_not_returned(db: TestDb) {
    let fx = fixture(&db).await;
    let good = enqueue_booking(&fx, "call_good").await;
    let bad = enqueue_booking(&fx, "call_bad").await;
    execute(
        &fx.store,
        "UPDATE jobs SET call_id = 'has space' WHERE id = $1",
        bad,
    )
    .await;
    let jobs = fx.store.claim_due_jobs(t0(), LEASE, 10).await.unwrap();
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [good]);
    assert_eq!(job_status(&fx.store, bad).await, "failed");
}

// ---- The operator's view of the outbox (`queue.*`) ----

const CALLER_EMAIL: &str = "max@example.org";

/// A `call_ended` whose job carries a real booking payload, as the webhook server builds
/// it, received at `received_at` (the job's `created_at`) and put in `queue`.
fn booking_call_ended(
    fx: &Fixture,
    call: &str,
    received_at: DateTime<Utc>,
    queue: &str,
) -> CallEventRecord {
    let payload = BookingJobPayload {
        company_id: fx.company,
        branch_id: fx.branch,
        call_id: Some(call_id(call)),
        service_id: fx.service_id,
        service_name: "Herrenschnitt".to_owned(),
        event_type_id: EventTypeId(101),
        duration_min: 30,
        start: Utc.with_ymd_and_hms(2026, 3, 10, 13, 30, 0).unwrap(),
        attendee: Attendee {
            name: "Max Mustermann".to_owned(),
            time_zone: "Europe/Berlin".to_owned(),
            email: Some(CALLER_EMAIL.to_owned()),
            phone_number: Some(CALLER.to_owned()),
            language: Some("de".to_owned()),
        },
        notes: Some("bitte pünktlich".to_owned()),
        idempotency_key: format!("book:{call}"),
        reserved_slot_uid: None,
    };
    let mut event = call_ended(fx, call);
    event.received_at = received_at;
    let job = event.booking_job.as_mut().unwrap();
    job.queue = queue.to_owned();
    job.payload = serde_json::to_value(&payload).unwrap();
    event
}

/// Enqueues the booking of `call` (created at t0 + 3 min, due at t0) and returns its job id.
async fn enqueue_payload_booking(fx: &Fixture, call: &str) -> i64 {
    let event = booking_call_ended(fx, call, t0() + TimeDelta::minutes(3), "bookings");
    match fx.store.record_call_event(&event).await.unwrap() {
        EventOutcome::Recorded { job_id: Some(id) } => id,
        other => panic!("expected a booking job, got {other:?}"),
    }
}

/// Enqueues the booking of `call`, runs its one attempt and makes it a dead letter with
/// `error`. No other job may be due when this is called.
async fn dead_letter(fx: &Fixture, call: &str, error: &str) -> i64 {
    let id = enqueue_payload_booking(fx, call).await;
    let claimed = fx.store.claim_due_jobs(t0(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    let failure = JobFailure {
        error: error.to_owned(),
        retry_at: None,
    };
    fx.store.fail_job(id, &failure).await.unwrap();
    id
}

async fn job_status(store: &AnyStore, id: i64) -> String {
    let (status,): (String,) = row(store, "SELECT status FROM jobs WHERE id = $1", id).await;
    status
}

async fn failed_jobs_lists_dead_letters_newest_first(db: TestDb) {
    let fx = fixture(&db).await;
    let older = dead_letter(&fx, "call_dead_1", "time slot not available: taken").await;
    let done = enqueue_payload_booking(&fx, "call_done").await;
    fx.store.claim_due_jobs(t0(), LEASE, 10).await.unwrap();
    fx.store
        .complete_booking_job(
            done,
            &appointment(&fx, "call_done", "uid_done", "book:call_done"),
            &[],
        )
        .await
        .unwrap();
    let newer = dead_letter(&fx, "call_dead_2", "gave up after 1 attempts: timeout").await;
    enqueue_payload_booking(&fx, "call_pending").await;

    let jobs = fx.store.failed_jobs(None, 50, None).await.unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        [newer, older]
    );
    let job = &jobs[0];
    assert_eq!(
        (job.queue.as_str(), job.kind.as_str()),
        ("bookings", "book")
    );
    assert_eq!(job.company_id, fx.company);
    assert_eq!(job.call_id.as_deref(), Some("call_dead_2"));
    assert_eq!((job.attempts, job.max_attempts), (1, 3));
    assert_eq!(
        job.last_error.as_deref(),
        Some("gave up after 1 attempts: timeout")
    );
    assert_eq!(job.created_at, t0() + TimeDelta::minutes(3));
    assert!(job.updated_at > job.created_at, "updated when it failed");
    assert_eq!(job.summary.service_name.as_deref(), Some("Herrenschnitt"));
    assert_eq!(
        job.summary.start,
        Some(Utc.with_ymd_and_hms(2026, 3, 10, 13, 30, 0).unwrap())
    );
    assert_eq!(job.summary.attendee_name.as_deref(), Some("Max Mustermann"));
    // The caller's contact data stays in the payload.
    let shown = serde_json::to_string(&jobs).unwrap();
    assert!(
        !shown.contains(CALLER) && !shown.contains(CALLER_EMAIL),
        "{shown}"
    );

    // Paging: the limit cuts, before_id continues below the last id seen.
    let first = fx.store.failed_jobs(None, 1, None).await.unwrap();
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), [newer]);
    let second = fx.store.failed_jobs(None, 1, Some(newer)).await.unwrap();
    assert_eq!(second.iter().map(|j| j.id).collect::<Vec<_>>(), [older]);
    assert!(
        fx.store
            .failed_jobs(None, 1, Some(older))
            .await
            .unwrap()
            .is_empty()
    );

    // Company scope.
    assert_eq!(
        fx.store
            .failed_jobs(Some(fx.company), 50, None)
            .await
            .unwrap(),
        jobs
    );
    let other = fx.other_company().await;
    assert!(
        fx.store
            .failed_jobs(Some(other), 50, None)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn failed_jobs_show_undecodable_jobs_with_an_empty_summary(db: TestDb) {
    let fx = fixture(&db).await;
    let bad = enqueue_booking(&fx, "call_bad_row").await;
    execute(
        &fx.store,
        "UPDATE jobs SET call_id = 'has space', \
             payload = '{\"start\": \"next tuesday\", \"attendee\": \"Max\", \"service_name\": 7}' \
         WHERE id = $1",
        bad,
    )
    .await;
    // The claim dead-letters the row it cannot decode.
    assert!(
        fx.store
            .claim_due_jobs(t0(), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let jobs = fx.store.failed_jobs(None, 50, None).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].id, bad);
    assert_eq!(jobs[0].call_id.as_deref(), Some("has space"));
    assert!(
        jobs[0].last_error.as_deref().unwrap().contains("call_id"),
        "{jobs:?}"
    );
    assert_eq!(jobs[0].summary, JobSummary::default());
    let recent = fx.store.recent_jobs(None, 50, None).await.unwrap();
    assert_eq!(recent[0].summary, JobSummary::default());
}

async fn recent_jobs_lists_newest_first_filtered_by_status(db: TestDb) {
    let fx = fixture(&db).await;
    let dead = dead_letter(&fx, "call_r1", "time slot not available").await;
    let running = enqueue_payload_booking(&fx, "call_r2").await;
    fx.store.claim_due_jobs(t0(), LEASE, 10).await.unwrap();
    let pending = enqueue_payload_booking(&fx, "call_r3").await;

    let all = fx.store.recent_jobs(None, 50, None).await.unwrap();
    assert_eq!(
        all.iter().map(|j| (j.id, j.status)).collect::<Vec<_>>(),
        [
            (pending, JobStatus::Pending),
            (running, JobStatus::Running),
            (dead, JobStatus::Failed),
        ]
    );
    assert_eq!(all[1].locked_until, Some(t0() + TimeDelta::seconds(30)));
    assert_eq!(all[1].attempts, 1);
    assert_eq!((all[0].locked_until, all[0].next_run_at), (None, t0()));
    assert_eq!(
        all[2].last_error.as_deref(),
        Some("time slot not available")
    );
    assert_eq!(
        all[0].summary.attendee_name.as_deref(),
        Some("Max Mustermann")
    );

    let limited = fx.store.recent_jobs(None, 2, None).await.unwrap();
    assert_eq!(
        limited.iter().map(|j| j.id).collect::<Vec<_>>(),
        [pending, running]
    );
    let failed = fx
        .store
        .recent_jobs(Some(fx.company), 50, Some(JobStatus::Failed))
        .await
        .unwrap();
    assert_eq!(failed.iter().map(|j| j.id).collect::<Vec<_>>(), [dead]);
    assert!(
        fx.store
            .recent_jobs(None, 50, Some(JobStatus::Done))
            .await
            .unwrap()
            .is_empty()
    );
    let other = fx.other_company().await;
    assert!(
        fx.store
            .recent_jobs(Some(other), 50, None)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn retry_job_requeues_only_failed_jobs(db: TestDb) {
    let fx = fixture(&db).await;
    let dead = dead_letter(&fx, "call_retry", "time slot not available: taken").await;
    let later = t0() + TimeDelta::hours(1);

    let outcome = fx
        .store
        .retry_job(dead, Some(fx.company), later)
        .await
        .unwrap();
    let RetryOutcome::Requeued(job) = outcome else {
        panic!("expected a requeue, got {outcome:?}");
    };
    assert_eq!(job.id, dead);
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!((job.attempts, job.max_attempts), (0, 3));
    assert_eq!(job.next_run_at, later);
    // The error that made it a dead letter stays until the next attempt replaces it.
    assert_eq!(
        job.last_error.as_deref(),
        Some("time slot not available: taken")
    );
    let (locked_until, updated_at): (Option<DateTime<Utc>>, DateTime<Utc>) = row(
        &fx.store,
        "SELECT locked_until, updated_at FROM jobs WHERE id = $1",
        dead,
    )
    .await;
    assert_eq!((locked_until, updated_at), (None, later));
    assert!(
        fx.store
            .failed_jobs(None, 50, None)
            .await
            .unwrap()
            .is_empty()
    );

    // Due at once: the next claim runs it as a first attempt.
    let claimed = fx.store.claim_due_jobs(later, LEASE, 10).await.unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|j| (j.id, j.attempts))
            .collect::<Vec<_>>(),
        [(dead, 1)]
    );

    // Not a dead letter (any more): left alone, its status named.
    assert_eq!(
        fx.store.retry_job(dead, None, later).await.unwrap(),
        RetryOutcome::NotFailed(JobStatus::Running)
    );
    let pending = enqueue_payload_booking(&fx, "call_still_pending").await;
    assert_eq!(
        fx.store.retry_job(pending, None, later).await.unwrap(),
        RetryOutcome::NotFailed(JobStatus::Pending)
    );
    fx.store
        .complete_booking_job(
            dead,
            &appointment(&fx, "call_retry", "uid_retry", "book:call_retry"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        fx.store.retry_job(dead, None, later).await.unwrap(),
        RetryOutcome::NotFailed(JobStatus::Done)
    );
    assert_eq!(job_status(&fx.store, dead).await, "done");
    assert_eq!(job_status(&fx.store, pending).await, "pending");

    assert_eq!(
        fx.store.retry_job(9_999, None, later).await.unwrap(),
        RetryOutcome::NotFound
    );
}

async fn retry_job_of_another_company_is_not_found(db: TestDb) {
    let fx = fixture(&db).await;
    let dead = dead_letter(&fx, "call_theirs", "time slot not available").await;
    let other = fx.other_company().await;

    // The same answer as for an id that does not exist: nothing about the job leaks.
    assert_eq!(
        fx.store.retry_job(dead, Some(other), t0()).await.unwrap(),
        RetryOutcome::NotFound
    );
    assert_eq!(job_status(&fx.store, dead).await, "failed");
    // Also for a job of theirs that is not failed.
    let pending = enqueue_payload_booking(&fx, "call_theirs_pending").await;
    assert_eq!(
        fx.store
            .retry_job(pending, Some(other), t0())
            .await
            .unwrap(),
        RetryOutcome::NotFound
    );
    // Their own company (or an admin) may.
    assert!(matches!(
        fx.store
            .retry_job(dead, Some(fx.company), t0())
            .await
            .unwrap(),
        RetryOutcome::Requeued(_)
    ));
}

async fn retry_failed_since_requeues_only_newer_dead_letters(db: TestDb) {
    let fx = fixture(&db).await;
    let old = dead_letter(&fx, "call_old", "time slot not available").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let new = dead_letter(&fx, "call_new", "time slot not available").await;
    let failed = fx.store.failed_jobs(None, 50, None).await.unwrap();
    let failed_at = |id: i64| failed.iter().find(|j| j.id == id).unwrap().updated_at;
    let since = failed_at(new);
    assert!(failed_at(old) < since);
    // Another company's newer dead letter is out of this company's reach.
    let other = fx.other_company().await;
    let theirs = dead_letter(&fx, "call_other_company", "time slot not available").await;
    move_job(&fx.store, theirs, other).await;

    let now = now_us() + TimeDelta::seconds(1);
    // `since` in the future retries nothing.
    let future = now + TimeDelta::hours(1);
    assert_eq!(
        fx.store
            .retry_failed(Some(fx.company), future, now)
            .await
            .unwrap(),
        0
    );
    // At or after `since`: exactly the dead letter that failed at `since`.
    assert_eq!(
        fx.store
            .retry_failed(Some(fx.company), since, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(job_status(&fx.store, new).await, "pending");
    assert_eq!(job_status(&fx.store, old).await, "failed");
    assert_eq!(job_status(&fx.store, theirs).await, "failed");
    let requeued = fx
        .store
        .recent_jobs(None, 1, Some(JobStatus::Pending))
        .await;
    let requeued = requeued.unwrap();
    assert_eq!(
        (
            requeued[0].id,
            requeued[0].attempts,
            requeued[0].next_run_at
        ),
        (new, 0, now)
    );

    // All companies: the other company's newer one; the old one stays a dead letter.
    assert_eq!(fx.store.retry_failed(None, since, now).await.unwrap(), 1);
    assert_eq!(job_status(&fx.store, theirs).await, "pending");
    assert_eq!(job_status(&fx.store, old).await, "failed");
}

async fn overview_counts_by_status_and_oldest_due_age(db: TestDb) {
    let fx = fixture(&db).await;
    // Created at t0 + 3 min, due at t0; all claimed at t0 with a 30 s lease.
    let running = enqueue_payload_booking(&fx, "call_running").await;
    let failed = enqueue_payload_booking(&fx, "call_failed").await;
    let done = enqueue_payload_booking(&fx, "call_done").await;
    let waiting = enqueue_payload_booking(&fx, "call_waiting").await;
    assert_eq!(
        fx.store
            .claim_due_jobs(t0(), LEASE, 10)
            .await
            .unwrap()
            .len(),
        4
    );
    let permanent = JobFailure {
        error: "time slot not available".to_owned(),
        retry_at: None,
    };
    fx.store.fail_job(failed, &permanent).await.unwrap();
    fx.store
        .complete_booking_job(
            done,
            &appointment(&fx, "call_done", "uid_ov", "book:call_done"),
            &[],
        )
        .await
        .unwrap();
    let backoff_until = t0() + TimeDelta::hours(2);
    let retry = JobFailure {
        error: "calcom 503".to_owned(),
        retry_at: Some(backoff_until),
    };
    fx.store.fail_job(waiting, &retry).await.unwrap();
    // Two due pending jobs; the older one (t0 + 3 min) sets the age.
    for (call, created) in [("call_due_old", 3), ("call_due_young", 10)] {
        let event = booking_call_ended(&fx, call, t0() + TimeDelta::minutes(created), "bookings");
        fx.store.record_call_event(&event).await.unwrap();
    }
    let reminder = booking_call_ended(
        &fx,
        "call_reminder",
        t0() + TimeDelta::minutes(30),
        "reminders",
    );
    fx.store.record_call_event(&reminder).await.unwrap();

    let now = t0() + TimeDelta::hours(1);
    let overview = fx.store.queue_overview(None, now).await.unwrap();
    assert_eq!(overview.as_of, now);
    let queues: Vec<_> = overview.queues.iter().map(|q| q.queue.as_str()).collect();
    assert_eq!(queues, ["bookings", "reminders"]);
    let bookings = &overview.queues[0];
    assert_eq!(
        bookings.counts,
        JobCounts {
            pending: 3,
            running: 1,
            done: 1,
            failed: 1,
        }
    );
    assert_eq!(bookings.due, 2);
    assert_eq!(bookings.oldest_due_age_s, Some(57 * 60));
    assert_eq!(bookings.expired_leases, 1, "job {running} lost its worker");
    assert_eq!(bookings.next_due_at, Some(backoff_until));
    let reminders = &overview.queues[1];
    assert_eq!(
        reminders.counts,
        JobCounts {
            pending: 1,
            ..JobCounts::default()
        }
    );
    assert_eq!(
        (
            reminders.due,
            reminders.oldest_due_age_s,
            reminders.expired_leases
        ),
        (1, Some(30 * 60), 0)
    );
    assert_eq!(reminders.next_due_at, None);

    // Before the lease ends and before anything is due: no lag is reported.
    let early = t0() + TimeDelta::seconds(10) - TimeDelta::minutes(1);
    let calm = fx.store.queue_overview(None, early).await.unwrap();
    assert_eq!(
        (
            calm.queues[0].due,
            calm.queues[0].oldest_due_age_s,
            calm.queues[0].expired_leases,
            calm.queues[0].next_due_at,
        ),
        (0, None, 0, Some(t0()))
    );

    // Company scope.
    assert_eq!(
        fx.store
            .queue_overview(Some(fx.company), now)
            .await
            .unwrap(),
        overview
    );
    let other = fx.other_company().await;
    assert!(
        fx.store
            .queue_overview(Some(other), now)
            .await
            .unwrap()
            .queues
            .is_empty()
    );
}

// ---- Several instances on one database ----

async fn two_workers_never_claim_the_same_job(db: TestDb) {
    let fx = fixture(&db).await;
    let other = connect(&fx.url, 4).await;
    // A double claim is a race, so the race is run several times: each round enqueues 20
    // jobs and releases eight claimers on two instances (two pools) together, each taking
    // small batches until nothing is left. A claimer may come back empty while the rest is
    // held by others' claims in flight; those claims return them. Earlier rounds' jobs are
    // leased past the claim time and stay out.
    for round in 0..5 {
        let mut enqueued = BTreeSet::new();
        for n in 0..20 {
            enqueued.insert(enqueue_booking(&fx, &format!("call_r{round}_{n}")).await);
        }
        let start = Arc::new(Barrier::new(8));
        let workers: Vec<_> = (0..8)
            .map(|n| {
                let store = if n % 2 == 0 {
                    fx.store.clone()
                } else {
                    other.clone()
                };
                let start = Arc::clone(&start);
                tokio::spawn(async move {
                    start.wait().await;
                    let mut claimed = Vec::new();
                    loop {
                        let batch = store.claim_due_jobs(t0(), LEASE, 3).await.unwrap();
                        if batch.is_empty() {
                            break claimed;
                        }
                        claimed.extend(batch.into_iter().map(|job| job.id));
                    }
                })
            })
            .collect();
        let mut claimed = Vec::new();
        for worker in workers {
            claimed.extend(worker.await.unwrap());
        }
        let distinct: BTreeSet<i64> = claimed.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            claimed.len(),
            "round {round}, claimed twice: {claimed:?}"
        );
        assert_eq!(distinct, enqueued, "round {round}");
    }
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM jobs WHERE attempts = 1").await,
        100
    );
}

async fn concurrent_seeding_from_two_instances_is_idempotent(db: TestDb) {
    // Nothing is seeded yet: every seeder races to create the same rows.
    let (a, b) = tokio::join!(AnyStore::connect(&db.url, 4), AnyStore::connect(&db.url, 4));
    let (a, b) = (
        a.unwrap().with_keyring(test_keyring()),
        b.unwrap().with_keyring(test_keyring()),
    );
    let instances = [a.clone(), b.clone()];
    let seeders: Vec<_> = (0..8)
        .map(|n| {
            let store = instances[n % 2].clone();
            tokio::spawn(async move { seed(&store).await })
        })
        .collect();
    let mut seeded = Vec::new();
    for seeder in seeders {
        seeded.push(seeder.await.unwrap());
    }
    assert!(seeded.iter().all(|ids| *ids == seeded[0]), "{seeded:?}");
    for table in ["companies", "branches", "phone_numbers", "services"] {
        let rows = count(&a, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(rows, 1, "{table}");
    }

    let token = token_digest("sb_seed_token");
    let inserts: Vec<_> = (0..4)
        .map(|n| {
            let (store, token) = (instances[n % 2].clone(), token.clone());
            tokio::spawn(async move { store.replace_admin_token(&token, "sandbox admin").await })
        })
        .collect();
    for insert in inserts {
        insert.await.unwrap().unwrap();
    }
    assert_eq!(count(&b, "SELECT COUNT(*) FROM api_tokens").await, 1);
    assert!(b.api_token(&token).await.unwrap().is_some());
}

async fn tenant_lock_excludes_a_second_holder_until_the_lease_ends(db: TestDb) {
    let fx = fixture(&db).await;
    let (a, b) = (&fx.store, &connect(&fx.url, 2).await);
    let salon = fx.company;
    let at = |s: i64| t0() + TimeDelta::seconds(s);

    assert!(a.try_lock_tenant(salon, "a", at(0), LEASE).await.unwrap());
    assert!(!b.try_lock_tenant(salon, "b", at(10), LEASE).await.unwrap());
    // Taking it again extends the holder's lease (to 40 s).
    assert!(a.try_lock_tenant(salon, "a", at(10), LEASE).await.unwrap());
    assert!(!b.try_lock_tenant(salon, "b", at(35), LEASE).await.unwrap());
    // The lease runs up to and including its end.
    assert!(!b.try_lock_tenant(salon, "b", at(40), LEASE).await.unwrap());
    // Another company's lock is independent.
    let other = a.upsert_company(&company("Praxis Mond")).await.unwrap();
    assert!(b.try_lock_tenant(other, "b", at(35), LEASE).await.unwrap());

    // "a" died: once its lease is over, "b" takes the lock, and a late release by "a" does
    // not free it.
    assert!(b.try_lock_tenant(salon, "b", at(41), LEASE).await.unwrap());
    a.unlock_tenant(salon, "a").await.unwrap();
    assert!(!a.try_lock_tenant(salon, "a", at(42), LEASE).await.unwrap());
    // The holder's release frees it at once.
    b.unlock_tenant(salon, "b").await.unwrap();
    assert!(a.try_lock_tenant(salon, "a", at(42), LEASE).await.unwrap());
    a.unlock_tenant(salon, "a").await.unwrap();

    // Racing for the free lock from both instances: exactly one holder wins.
    let racers: Vec<_> = (0..8)
        .map(|n| {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                store
                    .try_lock_tenant(salon, &format!("racer {n}"), at(50), LEASE)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn job_listing_survives_a_nul_escape_in_the_payload(db: TestDb) {
    let fx = fixture(&db).await;
    let mut event = booking_call_ended(&fx, "call_nul", t0() + TimeDelta::minutes(3), "bookings");
    let job = event.booking_job.as_mut().unwrap();
    // serde_json writes U+0000 as the escape `\u0000`.
    job.payload["notes"] = serde_json::json!("a\u{0}b");
    let EventOutcome::Recorded { job_id: Some(id) } =
        fx.store.record_call_event(&event).await.unwrap()
    else {
        panic!("expected a booking job");
    };

    let listed = fx.store.recent_jobs(None, 10, None).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    assert_eq!(
        listed[0].summary.service_name.as_deref(),
        Some("Herrenschnitt")
    );
    assert_eq!(
        listed[0].summary.attendee_name.as_deref(),
        Some("Max Mustermann")
    );
    let claimed = fx.store.claim_due_jobs(t0(), LEASE, 10).await.unwrap();
    assert_eq!(claimed[0].payload["notes"], "a\u{0}b");
}

// ---- Queue metrics and workers ----

/// Puts job `id` in `status`, created at `created` and last changed at `updated`: a job
/// that finished at a chosen time, which the store's own writes stamp with the wall clock.
async fn finish_at(
    store: &AnyStore,
    id: i64,
    status: &str,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
) {
    store
        .db
        .execute(
            Sql::new(
                "UPDATE jobs SET status = $1, locked_until = NULL, created_at = $2, \
                     updated_at = $3 WHERE id = $4",
            )
            .bind(status)
            .bind(created)
            .bind(updated)
            .bind(id),
        )
        .await
        .unwrap();
}

/// Gives job `id` to `company`, behind the store's back.
async fn move_job(store: &AnyStore, id: i64, company: CompanyId) {
    store
        .db
        .execute(
            Sql::new("UPDATE jobs SET company_id = $1 WHERE id = $2")
                .bind(company.0)
                .bind(id),
        )
        .await
        .unwrap();
}

/// `t0() + ms` milliseconds.
fn t0_ms(ms: i64) -> DateTime<Utc> {
    t0() + TimeDelta::milliseconds(ms)
}

async fn queue_metrics_counts_done_and_failed_per_minute(db: TestDb) {
    let fx = fixture(&db).await;
    let finished = [
        ("call_m1", "done", t0() + TimeDelta::seconds(10)),
        ("call_m2", "failed", t0() + TimeDelta::seconds(30)),
        ("call_m3", "done", t0() + TimeDelta::seconds(59)),
        ("call_m4", "done", t0() + TimeDelta::seconds(125)),
        // Before the window.
        ("call_m5", "done", t0() - TimeDelta::seconds(1)),
    ];
    for (call, status, at) in finished {
        let id = enqueue_booking(&fx, call).await;
        finish_at(&fx.store, id, status, t0() - TimeDelta::minutes(5), at).await;
    }
    // Unfinished jobs are not counted, whenever they changed.
    let pending = enqueue_booking(&fx, "call_m6").await;
    finish_at(&fx.store, pending, "pending", t0(), t0_ms(1)).await;

    let metrics = fx.store.queue_metrics(None, t0()).await.unwrap();
    assert_eq!(
        metrics.minutes,
        [
            MinuteCounts {
                minute: t0(),
                processed: 2,
                failed: 1,
            },
            MinuteCounts {
                minute: t0() + TimeDelta::minutes(2),
                processed: 1,
                failed: 0,
            },
        ],
        "empty minutes are absent, the minute before the window too"
    );
}

async fn queue_metrics_latency_histogram_buckets(db: TestDb) {
    let fx = fixture(&db).await;
    // Latencies in ms; bounds are inclusive: 10 is in the first bucket, 11 in the second.
    let done = [
        ("call_l1", 5),
        ("call_l2", 10),
        ("call_l3", 11),
        ("call_l4", 1_000),
        ("call_l5", 2 * 3_600_000),
    ];
    for (call, latency) in done {
        let id = enqueue_booking(&fx, call).await;
        finish_at(&fx.store, id, "done", t0(), t0_ms(latency)).await;
    }
    // A dead letter has no latency to speak of.
    let failed = enqueue_booking(&fx, "call_l6").await;
    finish_at(&fx.store, failed, "failed", t0(), t0_ms(20)).await;

    let metrics = fx.store.queue_metrics(None, t0()).await.unwrap();
    let mut expected = vec![0; JOB_LATENCY_BUCKETS_MS.len() + 1];
    expected[0] = 2;
    expected[1] = 1;
    expected[6] = 1; // ≤ 1 000 ms
    expected[JOB_LATENCY_BUCKETS_MS.len()] = 1; // slower than the last bound
    assert_eq!(metrics.latency_buckets, expected);

    let empty = fx
        .store
        .queue_metrics(None, t0() + TimeDelta::days(1))
        .await
        .unwrap();
    assert!(empty.minutes.is_empty());
    assert_eq!(
        empty.latency_buckets,
        vec![0; JOB_LATENCY_BUCKETS_MS.len() + 1]
    );
}

async fn queue_metrics_is_company_scoped(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let ours = enqueue_booking(&fx, "call_ours").await;
    finish_at(&fx.store, ours, "done", t0(), t0_ms(100)).await;
    let theirs = enqueue_booking(&fx, "call_theirs").await;
    finish_at(&fx.store, theirs, "failed", t0(), t0_ms(200)).await;
    move_job(&fx.store, theirs, other).await;

    let mine = fx
        .store
        .queue_metrics(Some(fx.company), t0())
        .await
        .unwrap();
    assert_eq!(
        mine.minutes,
        [MinuteCounts {
            minute: t0(),
            processed: 1,
            failed: 0,
        }]
    );
    assert_eq!(mine.latency_buckets.iter().sum::<u64>(), 1);
    let all = fx.store.queue_metrics(None, t0()).await.unwrap();
    assert_eq!(
        all.minutes,
        [MinuteCounts {
            minute: t0(),
            processed: 1,
            failed: 1,
        }]
    );
}

fn heartbeat(worker: &str, pid: u32, at: DateTime<Utc>) -> WorkerHeartbeat {
    WorkerHeartbeat {
        worker_id: worker.to_owned(),
        host: format!("host-{pid}"),
        pid,
        started_at: t0() - TimeDelta::hours(1),
        at,
    }
}

/// Every process start is a new worker id; rows of workers silent for a day are deleted.
async fn heartbeat_deletes_rows_silent_for_a_day(db: TestDb) {
    let fx = fixture(&db).await;
    let old = t0() - TimeDelta::days(1) - TimeDelta::seconds(1);
    let recent = t0() - TimeDelta::hours(23);
    fx.store
        .heartbeat_worker(&heartbeat("instance-gone", 1, old))
        .await
        .unwrap();
    fx.store
        .heartbeat_worker(&heartbeat("instance-quiet", 2, recent))
        .await
        .unwrap();
    fx.store
        .heartbeat_worker(&heartbeat("instance-live", 3, t0()))
        .await
        .unwrap();
    let ids: Vec<String> = fx
        .store
        .workers(old - TimeDelta::days(1))
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.worker_id)
        .collect();
    assert_eq!(ids, ["instance-live", "instance-quiet"]);
}

async fn heartbeat_upserts_one_row_per_worker(db: TestDb) {
    let fx = fixture(&db).await;
    fx.store
        .heartbeat_worker(&heartbeat("instance-a", 100, t0()))
        .await
        .unwrap();
    fx.store
        .heartbeat_worker(&heartbeat("instance-b", 200, t0()))
        .await
        .unwrap();
    // A restarted process under the same id: the row follows it.
    let later = t0() + TimeDelta::seconds(5);
    fx.store
        .heartbeat_worker(&heartbeat("instance-a", 101, later))
        .await
        .unwrap();

    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM outbox_workers").await,
        2
    );
    let workers = fx.store.workers(t0()).await.unwrap();
    assert_eq!(
        workers,
        [
            WorkerView {
                worker_id: "instance-a".to_owned(),
                host: "host-101".to_owned(),
                pid: 101,
                started_at: t0() - TimeDelta::hours(1),
                last_heartbeat_at: later,
            },
            WorkerView {
                worker_id: "instance-b".to_owned(),
                host: "host-200".to_owned(),
                pid: 200,
                started_at: t0() - TimeDelta::hours(1),
                last_heartbeat_at: t0(),
            },
        ]
    );
}

async fn workers_lists_only_recent_heartbeats(db: TestDb) {
    let fx = fixture(&db).await;
    for (worker, at) in [
        ("instance-stale", t0() - TimeDelta::milliseconds(1)),
        ("instance-edge", t0()),
        ("instance-fresh", t0() + TimeDelta::seconds(30)),
    ] {
        fx.store
            .heartbeat_worker(&heartbeat(worker, 1, at))
            .await
            .unwrap();
    }
    let alive: Vec<String> = fx
        .store
        .workers(t0())
        .await
        .unwrap()
        .into_iter()
        .map(|worker| worker.worker_id)
        .collect();
    assert_eq!(
        alive,
        ["instance-fresh", "instance-edge"],
        "most recent first"
    );
    assert!(
        fx.store
            .workers(t0() + TimeDelta::minutes(1))
            .await
            .unwrap()
            .is_empty()
    );
}

// ---- Statements and errors ----

async fn numbered_parameters_bind_by_number(db: TestDb) {
    let store = connect(&db.url, 1).await;
    // Out of order and repeated: `$N` is the N-th bound value on both backends.
    let (text,): (String,) = store
        .db
        .fetch_one(
            Sql::new("SELECT CAST($2 AS TEXT) || CAST($1 AS TEXT) || CAST($2 AS TEXT)")
                .bind("a")
                .bind("b"),
        )
        .await
        .unwrap();
    assert_eq!(text, "bab");
}

async fn backend_error_keeps_its_source_but_logs_no_row_values(db: TestDb) {
    let fx = fixture(&db).await;
    // A CHECK violation: PostgreSQL's DETAIL line would quote the whole failing row.
    let mut bad = service(fx.company, "hunter2-service");
    bad.duration_min = 0;
    let error = fx.store.upsert_service(&bad).await.unwrap_err();
    assert!(matches!(error, StoreError::Backend { .. }), "{error:?}");
    let source = std::error::Error::source(&error).expect("the driver error is the source");
    for logged in [error.to_string(), format!("{error:?}"), source.to_string()] {
        assert!(!logged.contains("hunter2"), "{logged}");
    }
    assert!(error.to_string().contains("duration_min"), "{error}");
}

// ---- Choosing the backend ----

#[tokio::test]
async fn any_store_rejects_an_unknown_scheme() {
    let error = AnyStore::connect("mysql://root:hunter2@127.0.0.1/switchboard", 1)
        .await
        .unwrap_err();
    let StoreError::Backend { message, .. } = error else {
        panic!("expected a backend error, got {error:?}");
    };
    assert!(message.contains("\"mysql\""), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn unreachable_postgres_is_a_backend_error_without_the_password() {
    let error = AnyStore::connect("postgres://switchboard:hunter2@127.0.0.1:1/switchboard", 1)
        .await
        .unwrap_err();
    let StoreError::Backend { message, .. } = error else {
        panic!("expected a backend error, got {error:?}");
    };
    assert!(!message.contains("hunter2"), "{message}");
}

on_both_backends! {
    replaced_admin_token_revokes_the_previous_one,
    heartbeat_deletes_rows_silent_for_a_day,
    migrations_apply_on_fresh_database,
    concurrent_starts_migrate_once,
    tenant_resolves_by_e164_number,
    unknown_number_resolves_to_none,
    corrupt_time_zone_is_reported_as_corrupt,
    services_are_listed_by_name_with_aliases,
    duplicate_call_ended_records_once,
    webhook_stats_are_scoped_to_a_company,
    job_claim_sets_lease_and_attempts,
    claimed_job_is_not_claimed_twice_until_lease_expires,
    claim_respects_the_limit,
    failed_job_becomes_dead_letter,
    late_failure_does_not_reopen_a_done_job,
    complete_booking_is_idempotent_on_key,
    call_view_shows_job_and_appointment,
    seeding_twice_is_idempotent,
    reseeding_updates_the_tenant,
    api_token_grants_company_or_admin,
    call_context_roundtrips,
    call_context_saves_compare_and_set_on_the_version,
    analyzed_does_not_regress_status,
    undecodable_job_is_dead_lettered_not_returned,
    failed_jobs_lists_dead_letters_newest_first,
    failed_jobs_show_undecodable_jobs_with_an_empty_summary,
    recent_jobs_lists_newest_first_filtered_by_status,
    retry_job_requeues_only_failed_jobs,
    retry_job_of_another_company_is_not_found,
    retry_failed_since_requeues_only_newer_dead_letters,
    overview_counts_by_status_and_oldest_due_age,
    two_workers_never_claim_the_same_job,
    concurrent_seeding_from_two_instances_is_idempotent,
    tenant_lock_excludes_a_second_holder_until_the_lease_ends,
    job_listing_survives_a_nul_escape_in_the_payload,
    queue_metrics_counts_done_and_failed_per_minute,
    queue_metrics_latency_histogram_buckets,
    queue_metrics_is_company_scoped,
    heartbeat_upserts_one_row_per_worker,
    workers_lists_only_recent_heartbeats,
    numbered_parameters_bind_by_number,
    backend_error_keeps_its_source_but_logs_no_row_values,
    metrics_tokens_grant_the_operator_surfaces_only,
}

mod tenant_keys;

/// A statement or transaction whose future outlives its runtime (actix drops an arbiter's
/// tasks after leaving the runtime when the system stops) is dropped without the panic that
/// would abort the process ("this functionality requires a Tokio context").
#[test]
fn a_connection_dropped_after_its_runtime_stopped_does_not_panic_sqlite() {
    let db = TestDb::sqlite();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store: &'static AnyStore = Box::leak(Box::new(
        rt.block_on(AnyStore::connect(&db.url, 2)).unwrap(),
    ));
    let (statement, tx) = rt.block_on(async {
        let mut statement = Box::pin(store.db.execute(Sql::new(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) \
             SELECT count(*) FROM c",
        )));
        assert!(
            (&mut statement).now_or_never().is_none(),
            "the statement is still running, holding its connection"
        );
        let tx = store.db.begin_write().await.unwrap();
        (statement, tx)
    });
    drop(rt);
    drop(statement);
    drop(tx);
}

/// Sessions of the operators' dashboard (issue 15).
mod admin_sessions;
