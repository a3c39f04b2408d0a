//! Tenant administration and tokens (issue 11): a tenant written whole reads back as written,
//! refusals write nothing, credentials stay sealed, the audit log never holds a secret, and
//! only live tokens of enabled tenants authenticate. Both backends, as the rest of the suite.

use super::*;
use switchboard_actors::domain::onboarding::{
    AuditRecord, CredentialUpdate, RawBranch, RawCalcom, RawRetell, RawService, RawSms, RawTenant,
    Slug, TenantRef, TenantSpec, TenantState, fingerprint, literal_secret, plan,
};
use switchboard_actors::ports::{TenantAdminStore, TokenAdminStore};
use switchboard_actors::records::{NewToken, TokenKind};

const WEBER_NUMBER: &str = "+494012345678";
const RETELL_KEY: &str = "key_weber_retell_s3cret";
const CALCOM_KEY: &str = "cal_live_weber_s3cret";
const WEBHOOK_SECRET: &str = "whsec_weber_s3cret";

/// A tenant as an operator would write it: two branches (the second without stated hours),
/// one service offered at both in an order of its own, one everywhere.
fn raw_weber() -> RawTenant {
    RawTenant {
        slug: "praxis-weber".into(),
        name: "Praxis Dr. Weber".into(),
        locale: "de".into(),
        time_zone: "Europe/Berlin".into(),
        retell: RawRetell {
            api_key: Some(RETELL_KEY.into()),
            agent_id: Some("agent_weber".into()),
        },
        calcom: RawCalcom {
            api_key: Some(CALCOM_KEY.into()),
            base_url: Some("https://api.cal.eu".into()),
            team_id: Some(42),
            webhook_secret: Some(WEBHOOK_SECRET.into()),
        },
        policy: Default::default(),
        branches: vec![
            RawBranch {
                slug: "altona".into(),
                name: "Altona".into(),
                phone_numbers: vec![WEBER_NUMBER.into(), "+494012345679".into()],
                opening_hours: Some(
                    [
                        ("mon", "08:00-12:00,14:00-18:00"),
                        ("tue", "07:30-18:00"),
                        ("sat", "closed"),
                    ]
                    .into_iter()
                    .map(|(d, h)| (d.to_owned(), h.to_owned()))
                    .collect(),
                ),
            },
            RawBranch {
                slug: "eppendorf".into(),
                name: "Eppendorf".into(),
                phone_numbers: vec!["+494087654321".into()],
                opening_hours: None,
            },
        ],
        services: vec![
            RawService {
                name: "Erstberatung".into(),
                aliases: vec!["Beratung".into(), "first consultation".into()],
                duration_min: 45,
                event_type_id: Some(2001),
                event_type_slug: Some("erstberatung".into()),
                branches: Some(vec!["eppendorf".into(), "altona".into()]),
                ..RawService::default()
            },
            RawService {
                name: "Kontrolle".into(),
                duration_min: 15,
                event_type_id: Some(2002),
                team_id: Some(7),
                ..RawService::default()
            },
        ],
        sms: None,
    }
}

fn spec(raw: &RawTenant) -> TenantSpec {
    TenantSpec::from_raw(raw, &literal_secret).unwrap()
}

fn audit(action: &str, changes: &[&str]) -> AuditRecord {
    AuditRecord {
        actor: "cli:test".into(),
        action: action.into(),
        changes: changes.iter().map(|c| (*c).to_owned()).collect(),
    }
}

async fn state(store: &AnyStore, slug: &str) -> Option<TenantState> {
    store
        .tenant(&TenantRef::Slug(Slug::parse(slug).unwrap()))
        .await
        .unwrap()
}

/// Writes `raw` with an audit record of its plan, as `tenant apply` does.
async fn apply(store: &AnyStore, raw: &RawTenant) -> Result<CompanyId, StoreError> {
    let spec = spec(raw);
    let current = state(store, &raw.slug).await;
    let lines = plan(current.as_ref(), &spec).texts();
    store
        .write_tenant(
            &spec,
            &AuditRecord {
                actor: "cli:test".into(),
                action: "tenant apply".into(),
                changes: lines,
            },
        )
        .await
}

async fn store_of(db: &TestDb) -> AnyStore {
    connect(&db.url, 4).await
}

/// A token of `kind` (of `company`), as `token create` makes it; returns its id and digest.
async fn token(
    store: &AnyStore,
    company: Option<CompanyId>,
    kind: TokenKind,
    expires_at: Option<DateTime<Utc>>,
) -> (i64, String) {
    let name = format!("{} token", kind.as_str());
    make_token(store, company, kind, &name, expires_at).await
}

/// Counts rows of `table`.
async fn rows(store: &AnyStore, table: &str) -> i64 {
    count(store, &format!("SELECT COUNT(*) FROM {table}")).await
}

async fn written_tenant_reads_back_with_an_empty_plan(db: TestDb) {
    let store = store_of(&db).await;
    let raw = raw_weber();
    let id = apply(&store, &raw).await.unwrap();
    let stored = state(&store, "praxis-weber").await.unwrap();
    assert_eq!(stored.id, id);
    assert!(stored.disabled_at.is_none());
    let written = spec(&raw);
    let replanned = plan(Some(&stored), &written);
    assert!(replanned.is_empty(), "{replanned}");
    assert_eq!(stored.spec.to_raw(), written.to_raw());
    assert_eq!(
        stored.spec.services[0].branches,
        Some(vec![
            Slug::parse("eppendorf").unwrap(),
            Slug::parse("altona").unwrap()
        ]),
        "a service's branches read back in the order written"
    );

    // Writing it again changes no id and still plans nothing.
    assert_eq!(apply(&store, &raw).await.unwrap(), id);
    let again = state(&store, "praxis-weber").await.unwrap();
    assert!(plan(Some(&again), &written).is_empty());
    assert_eq!(
        store.tenant(&TenantRef::Id(id)).await.unwrap().unwrap().id,
        id
    );

    // Calls to its numbers find the branch, its hours and the span of its week.
    let route = store
        .tenant_by_phone(&PhoneNumber::parse_default(WEBER_NUMBER).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(route.company.slug, "praxis-weber");
    assert_eq!(route.branch_name, "Altona");
    assert_eq!(
        (route.window.opens, route.window.closes),
        (hm(7, 30), hm(18, 0))
    );
    assert_eq!(route.opening_hours, written.branches[0].opening_hours);
    let plain = store
        .tenant_by_phone(&PhoneNumber::parse_default("+494087654321").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (plain.window.opens, plain.window.closes),
        (hm(8, 0), hm(20, 0))
    );
    assert_eq!(plain.opening_hours, None);
    let services = store.services(id).await.unwrap();
    let everywhere = services.iter().find(|s| s.name == "Kontrolle").unwrap();
    assert!(everywhere.branch_ids.is_empty(), "no list: every branch");

    // A changed spec reads back as changed: a branch, a number and a service fewer.
    let mut changed = raw_weber();
    changed.branches.pop();
    changed.branches[0].phone_numbers.pop();
    changed.services.pop();
    changed.services[0].branches = None;
    apply(&store, &changed).await.unwrap();
    let stored = state(&store, "praxis-weber").await.unwrap();
    assert!(plan(Some(&stored), &spec(&changed)).is_empty());
    assert_eq!(stored.spec.branches.len(), 1);
    assert_eq!(rows(&store, "phone_numbers").await, 1);
    assert_eq!(rows(&store, "service_branches").await, 0);

    let list = store.list_tenants().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].branches, list[0].phone_numbers, list[0].services),
        (1, 1, 1)
    );
}

async fn number_of_another_tenant_is_a_conflict_and_writes_nothing(db: TestDb) {
    let store = store_of(&db).await;
    apply(&store, &raw_weber()).await.unwrap();
    let mut other = RawTenant {
        slug: "salon-sonne".into(),
        name: "Salon Sonne".into(),
        ..raw_weber()
    };
    other.branches[0].phone_numbers = vec!["+493011111111".into(), WEBER_NUMBER.into()];
    other.branches.truncate(1);
    other.services[0].branches = None;
    let audits = rows(&store, "audit_log").await;

    let error = apply(&store, &other).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("conflict: {WEBER_NUMBER} belongs to tenant praxis-weber")
    );
    assert!(state(&store, "salon-sonne").await.is_none());
    for (table, before) in [("companies", 1), ("branches", 2), ("services", 2)] {
        assert_eq!(rows(&store, table).await, before, "{table}");
    }
    assert_eq!(
        rows(&store, "phone_numbers").await,
        3,
        "the new number is not routed"
    );
    assert_eq!(rows(&store, "audit_log").await, audits);
    let owners = store
        .phone_owners(&[
            PhoneNumber::parse_default("+493011111111").unwrap(),
            PhoneNumber::parse_default(WEBER_NUMBER).unwrap(),
        ])
        .await
        .unwrap();
    assert_eq!(
        owners,
        [(
            PhoneNumber::parse_default(WEBER_NUMBER).unwrap(),
            Slug::parse("praxis-weber").unwrap()
        )]
    );

    // Without the number the other tenant is created, and numbers move between one
    // tenant's own branches freely.
    other.branches[0].phone_numbers.pop();
    apply(&store, &other).await.unwrap();
    let mut moved = raw_weber();
    let number = moved.branches[0].phone_numbers.remove(0);
    moved.branches[1].phone_numbers.push(number);
    apply(&store, &moved).await.unwrap();
    let stored = state(&store, "praxis-weber").await.unwrap();
    assert!(plan(Some(&stored), &spec(&moved)).is_empty());
}

async fn branch_with_history_cannot_be_deleted(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let eppendorf = state(&store, "praxis-weber").await.unwrap();
    assert_eq!(eppendorf.spec.branches[1].slug.as_str(), "eppendorf");
    let (branch,): (i64,) = row(
        &store,
        "SELECT id FROM branches WHERE company_id = $1 AND slug = 'eppendorf'",
        id.0,
    )
    .await;
    insert_call(&store, id, branch, "call_history").await;

    let mut without = raw_weber();
    without.name = "Praxis Weber (renamed)".into();
    without.branches.pop();
    without.services[0].branches = None;
    let error = apply(&store, &without).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "conflict: branch eppendorf has calls or appointments; keep it (its numbers can be \
         removed)"
    );
    let unchanged = state(&store, "praxis-weber").await.unwrap();
    assert_eq!(unchanged.spec.name, "Praxis Dr. Weber", "nothing written");
    assert_eq!(unchanged.spec.branches.len(), 2);

    // Kept without its numbers, it is accepted.
    let mut silenced = raw_weber();
    silenced.branches[1].phone_numbers.clear();
    apply(&store, &silenced).await.unwrap();
    let stored = state(&store, "praxis-weber").await.unwrap();
    assert!(stored.spec.branches[1].phone_numbers.is_empty());
}

async fn removing_a_service_keeps_appointments_names(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let services = store.services(id).await.unwrap();
    let kontrolle = services.iter().find(|s| s.name == "Kontrolle").unwrap();
    let appointment = NewAppointment {
        company_id: id,
        branch_id: None,
        call_id: None,
        booking_uid: BookingUid::parse("uid_kontrolle").unwrap(),
        calcom_booking_id: 7,
        event_type_id: EventTypeId(2002),
        service_id: Some(kontrolle.id),
        service_name: "Kontrolle".into(),
        start: t0(),
        end: t0() + TimeDelta::minutes(15),
        attendee_name: "Max".into(),
        attendee_phone: None,
        attendee_email: None,
        idempotency_key: "gateway:kontrolle".into(),
        source: "gateway".into(),
    };
    let appointment_id = store.insert_appointment(&appointment).await.unwrap();

    let mut without = raw_weber();
    without.services.pop();
    apply(&store, &without).await.unwrap();
    let (service_id, name): (Option<i64>, String) = row(
        &store,
        "SELECT service_id, service_name FROM appointments WHERE id = $1",
        appointment_id,
    )
    .await;
    assert_eq!((service_id, name.as_str()), (None, "Kontrolle"));
    assert_eq!(store.services(id).await.unwrap().len(), 1);
}

async fn tenant_credentials_are_sealed_and_shown_only_as_fingerprints(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let (retell, calcom, webhook): (String, String, String) = row(
        &store,
        "SELECT retell_api_key, calcom_api_key, calcom_webhook_secret FROM companies \
         WHERE id = $1",
        id.0,
    )
    .await;
    for stored in [&retell, &calcom, &webhook] {
        assert!(stored.starts_with("enc:v1:"), "{stored}");
        assert!(!stored.contains("s3cret"), "{stored}");
    }
    let shown = state(&store, "praxis-weber").await.unwrap();
    let print = |s: &str| Some(fingerprint(&SecretString::from(s)));
    assert_eq!(shown.credentials.retell_api_key, print(RETELL_KEY));
    assert_eq!(shown.credentials.calcom_api_key, print(CALCOM_KEY));
    assert_eq!(
        shown.credentials.calcom_webhook_secret,
        print(WEBHOOK_SECRET)
    );
    assert!(shown.spec.retell.api_key.is_none() && shown.spec.calcom.webhook_secret.is_none());
    let profile = store.company(id).await.unwrap().unwrap();
    assert_eq!(profile.calcom_api_key.expose_secret(), CALCOM_KEY);

    // A spec without credentials leaves them as they are.
    let mut keyless = raw_weber();
    keyless.retell.api_key = None;
    keyless.calcom.api_key = None;
    keyless.calcom.webhook_secret = None;
    apply(&store, &keyless).await.unwrap();
    let (again,): (String,) = row(
        &store,
        "SELECT calcom_api_key FROM companies WHERE id = $1",
        id.0,
    )
    .await;
    assert_eq!(again, calcom);

    // setCredentials writes only what it is given, sealed.
    let update = CredentialUpdate {
        calcom_webhook_secret: Some(SecretString::from("whsec_rotated")),
        ..CredentialUpdate::default()
    };
    assert!(
        store
            .set_credentials(
                id,
                &update,
                &audit(
                    "company.setCredentials",
                    &["calcom.webhook_secret: replaced"]
                )
            )
            .await
            .unwrap()
    );
    let shown = state(&store, "praxis-weber").await.unwrap();
    assert_eq!(
        shown.credentials.calcom_webhook_secret,
        print("whsec_rotated")
    );
    assert_eq!(shown.credentials.calcom_api_key, print(CALCOM_KEY));
    assert!(
        !store
            .set_credentials(CompanyId(9999), &update, &audit("x", &[]))
            .await
            .unwrap()
    );

    // A tenant created without credentials shows none, and re-sealing skips them.
    let mut bare = raw_weber();
    bare.slug = "bare".into();
    bare.name = "Bare".into();
    bare.retell.api_key = None;
    bare.calcom = RawCalcom::default();
    bare.branches.clear();
    bare.services.clear();
    apply(&store, &bare).await.unwrap();
    let shown = state(&store, "bare").await.unwrap();
    assert_eq!(shown.credentials, Default::default());
    let census = store.reseal_credentials(false).await.unwrap();
    assert_eq!((census.plaintext, census.current), (0, 3));

    // A value that does not open is a corrupt row, quoting no credential.
    execute(
        &store,
        "UPDATE companies SET calcom_webhook_secret = retell_api_key WHERE id = $1",
        id.0,
    )
    .await;
    let error = store.tenant(&TenantRef::Id(id)).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    assert!(
        error.to_string().contains("calcom_webhook_secret"),
        "{error}"
    );
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

async fn legacy_company_is_adopted_by_slug(db: TestDb) {
    let store = store_of(&db).await;
    let legacy = store
        .upsert_company(&company("Praxis Dr. Weber"))
        .await
        .unwrap();
    execute(
        &store,
        "UPDATE companies SET slug = 'company-' || id WHERE id = $1",
        legacy.0,
    )
    .await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    assert_eq!(id, legacy, "adopted, not duplicated");
    assert_eq!(rows(&store, "companies").await, 1);
    let stored = state(&store, "praxis-weber").await.unwrap();
    assert_eq!(stored.id, legacy);

    // A name another tenant (with a slug of its own) uses is a conflict.
    let sonne = store.upsert_company(&company("Salon Sonne")).await.unwrap();
    let taken = RawTenant {
        slug: "sonne-zwei".into(),
        name: "Salon Sonne".into(),
        branches: Vec::new(),
        services: Vec::new(),
        ..raw_weber()
    };
    let error = apply(&store, &taken).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "conflict: name \"Salon Sonne\" is already used by tenant salon-sonne"
    );
    assert!(store.company(sonne).await.unwrap().is_some());
    assert_eq!(rows(&store, "companies").await, 2);
}

/// An ended call `call_id` of `company` at `branch`: history that keeps the branch.
async fn insert_call(store: &AnyStore, company: CompanyId, branch: i64, call_id: &str) {
    store
        .db
        .execute(
            Sql::new(
                "INSERT INTO calls (call_id, company_id, branch_id, status, created_at, \
                     updated_at) \
                 VALUES ($1, $2, $3, 'ended', $4, $4)",
            )
            .bind(call_id)
            .bind(company.0)
            .bind(branch)
            .bind(t0()),
        )
        .await
        .unwrap();
}

async fn legacy_branch_with_calls_is_adopted_by_name(db: TestDb) {
    let store = store_of(&db).await;
    let legacy = store
        .upsert_company(&company("Praxis Dr. Weber"))
        .await
        .unwrap();
    let hm = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let branch = store
        .upsert_branch(legacy, "Altona", hm(8), hm(18))
        .await
        .unwrap();
    execute(
        &store,
        "UPDATE companies SET slug = 'company-' || id WHERE id = $1",
        legacy.0,
    )
    .await;
    execute(
        &store,
        "UPDATE branches SET slug = 'branch-' || id WHERE company_id = $1",
        legacy.0,
    )
    .await;
    insert_call(&store, legacy, branch.0, "call_before_slugs").await;
    apply(&store, &raw_weber())
        .await
        .expect("the branch with calls is adopted, not deleted");
    let (adopted,): (i64,) = row(
        &store,
        "SELECT id FROM branches WHERE company_id = $1 AND slug = 'altona'",
        legacy.0,
    )
    .await;
    assert_eq!(adopted, branch.0);
}

async fn a_tenant_holds_at_most_100_active_tokens(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let mut first = None;
    for _ in 0..100 {
        let (token_id, _) = token(&store, Some(id), TokenKind::Read, None).await;
        first.get_or_insert(token_id);
    }
    let new = NewToken {
        company_id: Some(id),
        kind: TokenKind::Read,
        name: "one too many".into(),
        expires_at: None,
    };
    let error = store
        .create_token(&new, &audit("auth.createToken", &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict(m) if m.contains("revoke one first")),
        "{error}"
    );
    assert_eq!(rows(&store, "api_tokens").await, 100);
    store
        .revoke_token(
            first.unwrap(),
            Some(id),
            Utc::now(),
            &audit("auth.revokeToken", &[]),
        )
        .await
        .unwrap();
    store
        .create_token(&new, &audit("auth.createToken", &[]))
        .await
        .expect("room again after a revocation");
    // Operators' tokens of no company are not counted against any tenant.
    token(&store, None, TokenKind::Admin, None).await;
}

async fn disabled_tenants_tokens_do_not_authenticate(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let (_, tenant) = token(&store, Some(id), TokenKind::Read, None).await;
    let (_, admin) = token(&store, None, TokenKind::Admin, None).await;
    let grant = store.api_token(&tenant).await.unwrap().unwrap();
    assert_eq!(
        (grant.company_id, grant.scope),
        (Some(id), TokenScope::Read)
    );

    assert!(
        store
            .set_disabled(id, true, &audit("tenant disable", &[]))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_disabled(id, true, &audit("tenant disable", &[]))
            .await
            .unwrap(),
        "already disabled"
    );
    assert_eq!(store.api_token(&tenant).await.unwrap(), None);
    assert!(
        store.api_token(&admin).await.unwrap().is_some(),
        "admin tokens belong to no tenant"
    );
    assert!(store.company(id).await.unwrap().unwrap().disabled);
    assert!(
        state(&store, "praxis-weber")
            .await
            .unwrap()
            .disabled_at
            .is_some()
    );
    assert!(store.list_tenants().await.unwrap()[0].disabled_at.is_some());

    // Applying the tenant again does not enable it; enabling does, and the token works.
    apply(&store, &raw_weber()).await.unwrap();
    assert!(
        state(&store, "praxis-weber")
            .await
            .unwrap()
            .disabled_at
            .is_some()
    );
    assert_eq!(store.api_token(&tenant).await.unwrap(), None);
    assert!(
        store
            .set_disabled(id, false, &audit("tenant enable", &[]))
            .await
            .unwrap()
    );
    assert!(store.api_token(&tenant).await.unwrap().is_some());
    assert!(
        !store
            .set_disabled(CompanyId(9999), true, &audit("x", &[]))
            .await
            .unwrap()
    );
}

async fn expired_and_revoked_tokens_do_not_authenticate(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let other = store.upsert_company(&company("Salon Sonne")).await.unwrap();
    let now = Utc::now();
    let (_, expired) = token(
        &store,
        Some(id),
        TokenKind::Write,
        Some(now - TimeDelta::seconds(1)),
    )
    .await;
    let (_, current) = token(
        &store,
        Some(id),
        TokenKind::Write,
        Some(now + TimeDelta::days(90)),
    )
    .await;
    let (revoked_id, revoked) = token(&store, Some(id), TokenKind::Admin, None).await;
    assert_eq!(store.api_token(&expired).await.unwrap(), None);
    assert!(store.api_token(&current).await.unwrap().is_some());
    assert!(store.api_token(&revoked).await.unwrap().is_some());

    // Another company cannot revoke it; its own company can, once.
    let foreign = store
        .revoke_token(
            revoked_id,
            Some(other),
            now,
            &audit("auth.revokeToken", &[]),
        )
        .await
        .unwrap();
    assert_eq!(foreign, None);
    assert!(store.api_token(&revoked).await.unwrap().is_some());
    let first = store
        .revoke_token(revoked_id, Some(id), now, &audit("auth.revokeToken", &[]))
        .await
        .unwrap()
        .unwrap();
    assert!(first.revoked_at.is_some());
    assert_eq!(store.api_token(&revoked).await.unwrap(), None);
    let second = store
        .revoke_token(
            revoked_id,
            None,
            now + TimeDelta::hours(1),
            &audit("token revoke", &[]),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.revoked_at, first.revoked_at,
        "revoking twice keeps the first time"
    );
    assert_eq!(
        store
            .revoke_token(9999, None, now, &audit("token revoke", &[]))
            .await
            .unwrap(),
        None
    );

    let listed = store.list_tokens(Some(id)).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        [revoked_id, revoked_id - 1, revoked_id - 2],
        "newest first"
    );
    assert_eq!(listed[0].revoked_at, first.revoked_at);
    assert!(listed[2].expires_at.is_some());
    assert!(store.list_tokens(Some(other)).await.unwrap().is_empty());
    assert_eq!(store.list_tokens(None).await.unwrap().len(), 3);

    // Tokens are made only for companies that exist, with a name.
    let bad = |company, name: &str| NewToken {
        company_id: company,
        kind: TokenKind::Write,
        name: name.to_owned(),
        expires_at: None,
    };
    for (new, says) in [
        (
            bad(Some(CompanyId(9999)), "x"),
            "company 9999 does not exist",
        ),
        (bad(Some(id), "  "), "must not be empty"),
        (bad(Some(id), &"n".repeat(101)), "token name"),
    ] {
        let error = store
            .create_token(&new, &audit("token create", &[]))
            .await
            .unwrap_err();
        assert!(error.to_string().contains(says), "{error}");
    }
    assert_eq!(store.list_tokens(None).await.unwrap().len(), 3);
}

async fn audit_log_records_changes_without_secrets(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let entries = store.audit_log(Some(id), 10, None).await.unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(
        (
            entry.company_id,
            entry.actor.as_str(),
            entry.action.as_str()
        ),
        (Some(id), "cli:test", "tenant apply")
    );
    assert!(
        entry.changes.iter().any(|c| c.contains("branch altona")),
        "{:?}",
        entry.changes
    );
    let fingerprint_line = format!(
        "calcom.api_key: set ({})",
        fingerprint(&SecretString::from(CALCOM_KEY))
    );
    assert!(
        entry.changes.iter().any(|c| c.contains(&fingerprint_line)),
        "{:?}",
        entry.changes
    );

    let update = CredentialUpdate {
        retell_api_key: Some(SecretString::from("key_new_s3cret")),
        ..CredentialUpdate::default()
    };
    store
        .set_credentials(
            id,
            &update,
            &audit("company.setCredentials", &["retell.api_key: replaced"]),
        )
        .await
        .unwrap();
    token(&store, Some(id), TokenKind::Read, None).await;
    let all: Vec<(String, Option<String>)> = store
        .db
        .fetch_all(Sql::new(
            "SELECT changes, company_slug FROM audit_log ORDER BY id",
        ))
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    for (changes, slug) in &all {
        assert!(
            !changes.contains("s3cret") && !changes.contains("enc:v1"),
            "{changes}"
        );
        assert_eq!(slug.as_deref(), Some("praxis-weber"));
    }
}

async fn audit_log_pages_newest_first(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let other = apply(
        &store,
        &RawTenant {
            slug: "salon-sonne".into(),
            name: "Salon Sonne".into(),
            branches: Vec::new(),
            services: Vec::new(),
            ..raw_weber()
        },
    )
    .await
    .unwrap();
    for n in 0..4 {
        store
            .set_disabled(id, n % 2 == 0, &audit(&format!("toggle {n}"), &[]))
            .await
            .unwrap();
    }
    token(&store, None, TokenKind::Metrics, None).await;

    let everything = store.audit_log(None, 100, None).await.unwrap();
    assert_eq!(everything.len(), 7);
    assert!(
        everything.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    assert_eq!(everything[0].company_id, None, "a token of no company");

    // Pages of two, each after the last id of the one before.
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = store.audit_log(Some(id), 2, before).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        pages.push(page.iter().map(|e| e.action.clone()).collect::<Vec<_>>());
    }
    assert_eq!(
        pages,
        [
            vec!["toggle 3", "toggle 2"],
            vec!["toggle 1", "toggle 0"],
            vec!["tenant apply"]
        ]
    );
    let others = store.audit_log(Some(other), 100, None).await.unwrap();
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].company_id, Some(other));
    assert_eq!(store.audit_log(None, 0, None).await.unwrap().len(), 0);
}

async fn metrics_tokens_are_never_gateway_grants(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let now = Utc::now();
    let (metrics_id, metrics) = token(&store, None, TokenKind::Metrics, None).await;
    let (_, expired) = token(
        &store,
        None,
        TokenKind::Metrics,
        Some(now - TimeDelta::seconds(1)),
    )
    .await;
    let (_, admin) = token(&store, None, TokenKind::Admin, None).await;
    let (_, company_admin) = token(&store, Some(id), TokenKind::Admin, None).await;
    assert_eq!(store.api_token(&metrics).await.unwrap(), None);
    assert!(store.metrics_access(&metrics).await.unwrap());
    assert!(!store.metrics_access(&expired).await.unwrap());
    assert!(store.metrics_access(&admin).await.unwrap());
    assert!(
        !store.metrics_access(&company_admin).await.unwrap(),
        "a tenant's admin is no operator"
    );

    let with_company = store
        .create_token(
            &NewToken {
                company_id: Some(id),
                kind: TokenKind::Metrics,
                name: "prometheus".into(),
                expires_at: None,
            },
            &audit("token create", &[]),
        )
        .await
        .unwrap_err();
    assert!(
        with_company.to_string().contains("belongs to no company"),
        "{with_company}"
    );

    store
        .revoke_token(metrics_id, None, now, &audit("token revoke", &[]))
        .await
        .unwrap();
    assert!(!store.metrics_access(&metrics).await.unwrap());
}

async fn concurrent_writes_of_one_new_tenant_create_it_once(db: TestDb) {
    let instances = [store_of(&db).await, connect(&db.url, 4).await];
    let writers: Vec<_> = (0..6)
        .map(|n| {
            let store = instances[n % 2].clone();
            tokio::spawn(async move { apply(&store, &raw_weber()).await })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for writer in writers {
        ids.insert(writer.await.unwrap().unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    for (table, expected) in [
        ("companies", 1),
        ("branches", 2),
        ("phone_numbers", 3),
        ("services", 2),
    ] {
        assert_eq!(rows(&instances[0], table).await, expected, "{table}");
    }
    let stored = state(&instances[1], "praxis-weber").await.unwrap();
    assert!(plan(Some(&stored), &spec(&raw_weber())).is_empty());
}

const SMS_TOKEN: &str = "twilio_weber_s3cret";

fn weber_with_sms(token: Option<&str>) -> RawTenant {
    RawTenant {
        sms: Some(RawSms {
            account_sid: format!("AC{}", "ab".repeat(16)),
            auth_token: token.map(str::to_owned),
            from: "+4915735998877".into(),
            base_url: Some("http://127.0.0.1:5556".into()),
        }),
        ..raw_weber()
    }
}

async fn sms_settings_are_stored_sealed_and_reach_the_profile(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &weber_with_sms(Some(SMS_TOKEN)))
        .await
        .unwrap();
    let (sealed,): (String,) = row(
        &store,
        "SELECT sms_auth_token FROM companies WHERE id = $1",
        id.0,
    )
    .await;
    assert!(
        sealed.starts_with("enc:v1:") && !sealed.contains("s3cret"),
        "{sealed}"
    );
    let shown = state(&store, "praxis-weber").await.unwrap();
    assert_eq!(
        shown.credentials.sms_auth_token,
        Some(fingerprint(&SecretString::from(SMS_TOKEN)))
    );
    assert!(
        plan(Some(&shown), &spec(&weber_with_sms(Some(SMS_TOKEN)))).is_empty(),
        "written settings read back with an empty plan"
    );
    let sms = store.company(id).await.unwrap().unwrap().sms.expect("sms");
    assert_eq!(sms.account_sid, format!("AC{}", "ab".repeat(16)));
    assert_eq!(sms.auth_token.expose_secret(), SMS_TOKEN);
    assert_eq!(sms.from, "+4915735998877");
    assert_eq!(sms.base_url.as_deref(), Some("http://127.0.0.1:5556"));

    // Written again without the token: the stored one stays.
    apply(&store, &weber_with_sms(None)).await.unwrap();
    let kept = store.company(id).await.unwrap().unwrap().sms.expect("sms");
    assert_eq!(kept.auth_token.expose_secret(), SMS_TOKEN);

    // The section removed: no settings and no token, also after writing it back tokenless.
    apply(&store, &raw_weber()).await.unwrap();
    assert!(store.company(id).await.unwrap().unwrap().sms.is_none());
    assert_eq!(
        state(&store, "praxis-weber")
            .await
            .unwrap()
            .credentials
            .sms_auth_token,
        None
    );
    apply(&store, &weber_with_sms(None)).await.unwrap();
    assert!(
        store.company(id).await.unwrap().unwrap().sms.is_none(),
        "an account without its token sends nothing"
    );
}

async fn company_by_slug_opens_its_webhook_secret(db: TestDb) {
    let store = store_of(&db).await;
    let id = apply(&store, &raw_weber()).await.unwrap();
    let legacy = store.upsert_company(&company("Salon Sonne")).await.unwrap();
    let legacy_slug = store.company(legacy).await.unwrap().unwrap().slug;

    let weber = store
        .company_by_slug("praxis-weber")
        .await
        .unwrap()
        .unwrap();
    let without = store.company_by_slug(&legacy_slug).await.unwrap().unwrap();

    assert_eq!(weber.id, id);
    assert_eq!(weber.calcom_webhook_secret.expose_secret(), WEBHOOK_SECRET);
    assert_eq!(without.id, legacy);
    assert_eq!(without.calcom_webhook_secret.expose_secret(), "");
    assert!(
        store
            .company_by_slug("praxis-nobody")
            .await
            .unwrap()
            .is_none()
    );
}

on_both_backends! {
    sms_settings_are_stored_sealed_and_reach_the_profile,
    company_by_slug_opens_its_webhook_secret,
    concurrent_writes_of_one_new_tenant_create_it_once,
    written_tenant_reads_back_with_an_empty_plan,
    number_of_another_tenant_is_a_conflict_and_writes_nothing,
    branch_with_history_cannot_be_deleted,
    removing_a_service_keeps_appointments_names,
    tenant_credentials_are_sealed_and_shown_only_as_fingerprints,
    legacy_company_is_adopted_by_slug,
    legacy_branch_with_calls_is_adopted_by_name,
    a_tenant_holds_at_most_100_active_tokens,
    disabled_tenants_tokens_do_not_authenticate,
    expired_and_revoked_tokens_do_not_authenticate,
    audit_log_records_changes_without_secrets,
    audit_log_pages_newest_first,
    metrics_tokens_are_never_gateway_grants,
}
