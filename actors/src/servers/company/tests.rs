//! The administration servers through their actors, over a fake store holding one tenant
//! (company 1, `salon`) and a Cal.com with one event type.

use super::*;
use crate::breaker::UpstreamPolicy;
use crate::domain::book_once::tests::status;
use crate::domain::booking::{
    Booking, BookingQuery, BookingRequest, CalcomProfile, EventType, Slot, SlotQuery, UpstreamError,
};
use crate::domain::ids::{BookingUid, CompanyId, EventTypeId};
use crate::domain::onboarding::{
    AuditEntry, AuditRecord, CredentialStatus, CredentialUpdate, RawBranch, RawService, RawTenant,
    Slug, TenantRef, TenantSpec, TenantState, TenantSummary, fingerprint, literal_secret,
};
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::{CompanyProfile, Service, TenantRoute};
use crate::jsonrpc::RpcError;
use crate::ports::{
    Cache, CalendarApi, Clock, LockStore, SameCalendarApi, StoreError, TenancyStore,
};
use crate::ratelimit::{LocalLimiter, Quotas};
use crate::records::{NewToken, TokenGrant, TokenInfo, TokenScope};
use crate::resilience::RetryBudget;
use crate::server::ServerCall;
use crate::servers::{auth, branch, service};
use crate::tenant::directory::tests::OneCompany;
use crate::tenant::{CalcomAccess, TenantLock};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

const OTHER_NUMBER: &str = "+494099887766";
const OTHER_SLUG: &str = "praxis-geheim";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn salon() -> RawTenant {
    RawTenant {
        slug: "salon".into(),
        name: "Salon".into(),
        locale: "de".into(),
        time_zone: "Europe/Berlin".into(),
        branches: vec![RawBranch {
            slug: "mitte".into(),
            name: "Mitte".into(),
            phone_numbers: vec!["+493012345678".into()],
            opening_hours: None,
        }],
        services: vec![RawService {
            name: "Herrenschnitt".into(),
            duration_min: 30,
            event_type_id: Some(1001),
            ..RawService::default()
        }],
        ..RawTenant::default()
    }
}

/// One tenant (company 1), `OTHER_NUMBER` owned by `OTHER_SLUG`; records every write.
#[derive(Default)]
struct FakeStore {
    state: Mutex<Option<TenantState>>,
    writes: Mutex<Vec<AuditRecord>>,
    credentials: Mutex<Vec<CredentialUpdate>>,
    tokens: Mutex<Vec<NewToken>>,
    conflict: Option<String>,
}

impl FakeStore {
    fn new() -> Self {
        let spec = TenantSpec::from_raw(&salon(), &literal_secret).unwrap();
        Self {
            state: Mutex::new(Some(TenantState {
                id: CompanyId(1),
                spec,
                credentials: CredentialStatus {
                    calcom_api_key: Some(fingerprint(&SecretString::from("cal_old"))),
                    ..CredentialStatus::default()
                },
                disabled_at: None,
                created_at: t0(),
            })),
            ..Self::default()
        }
    }

    fn writes(&self) -> Vec<AuditRecord> {
        self.writes.lock().unwrap().clone()
    }

    fn spec(&self) -> TenantSpec {
        self.state.lock().unwrap().as_ref().unwrap().spec.clone()
    }
}

/// The services of the stored tenant, as the SQL store reads them (only what the cache needs).
#[async_trait]
impl TenancyStore for FakeStore {
    async fn tenant_by_phone(&self, _: &PhoneNumber) -> Result<Option<TenantRoute>, StoreError> {
        Ok(None)
    }
    async fn company(&self, _: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        Ok(None)
    }
    async fn services(&self, company: CompanyId) -> Result<Vec<Service>, StoreError> {
        let state = self.state.lock().unwrap().clone();
        Ok(state
            .filter(|s| s.id == company)
            .map(|s| s.spec.services)
            .unwrap_or_default()
            .into_iter()
            .zip(1..)
            .map(|(s, id)| Service {
                id,
                company_id: company,
                name: s.name,
                aliases: s.aliases,
                duration_min: s.duration_min,
                event_type_id: s.event_type_id.unwrap_or(EventTypeId(0)),
                team_id: s.team_id,
                branch_ids: vec![],
            })
            .collect())
    }
}

#[async_trait]
impl TenantAdminStore for FakeStore {
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, StoreError> {
        let summary = |id, slug: &str| TenantSummary {
            id: CompanyId(id),
            slug: slug.into(),
            name: slug.into(),
            locale: "de".into(),
            time_zone: "Europe/Berlin".into(),
            branches: 1,
            phone_numbers: 1,
            services: 1,
            disabled_at: None,
        };
        Ok(vec![summary(2, OTHER_SLUG), summary(1, "salon")])
    }
    async fn tenant(&self, tenant: &TenantRef) -> Result<Option<TenantState>, StoreError> {
        let state = self.state.lock().unwrap().clone();
        Ok(state.filter(|s| match tenant {
            TenantRef::Id(id) => s.id == *id,
            TenantRef::Slug(slug) => s.spec.slug == *slug,
        }))
    }
    async fn phone_owners(
        &self,
        numbers: &[PhoneNumber],
    ) -> Result<Vec<(PhoneNumber, Slug)>, StoreError> {
        let state = self.state.lock().unwrap().clone().unwrap();
        Ok(numbers
            .iter()
            .filter_map(|n| {
                if n.to_string() == OTHER_NUMBER {
                    Some((n.clone(), Slug::parse(OTHER_SLUG).unwrap()))
                } else {
                    state
                        .spec
                        .branches
                        .iter()
                        .any(|b| b.phone_numbers.contains(n))
                        .then(|| (n.clone(), state.spec.slug.clone()))
                }
            })
            .collect())
    }
    async fn write_tenant(
        &self,
        spec: &TenantSpec,
        audit: &AuditRecord,
    ) -> Result<CompanyId, StoreError> {
        if let Some(conflict) = &self.conflict {
            return Err(StoreError::Conflict(conflict.clone()));
        }
        assert!(
            spec.services.iter().all(|s| s.event_type_id.is_some()),
            "every service reaches the store with its event type id"
        );
        self.writes.lock().unwrap().push(audit.clone());
        let mut state = self.state.lock().unwrap();
        state.as_mut().unwrap().spec = spec.clone();
        Ok(CompanyId(1))
    }
    async fn set_disabled(
        &self,
        _: CompanyId,
        disabled: bool,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        self.writes.lock().unwrap().push(audit.clone());
        let mut state = self.state.lock().unwrap();
        let state = state.as_mut().unwrap();
        let changed = state.disabled_at.is_some() != disabled;
        state.disabled_at = disabled.then(t0);
        Ok(changed)
    }
    async fn set_credentials(
        &self,
        company: CompanyId,
        credentials: &CredentialUpdate,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        self.writes.lock().unwrap().push(audit.clone());
        self.credentials.lock().unwrap().push(credentials.clone());
        let mut state = self.state.lock().unwrap();
        let stored = &mut state.as_mut().unwrap().credentials;
        let print = |s: &Option<SecretString>| s.as_ref().map(fingerprint);
        stored.retell_api_key = print(&credentials.retell_api_key).or(stored.retell_api_key.take());
        stored.calcom_api_key = print(&credentials.calcom_api_key).or(stored.calcom_api_key.take());
        Ok(company == CompanyId(1))
    }
    async fn audit_log(
        &self,
        company: Option<CompanyId>,
        limit: u32,
        _: Option<i64>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok((0..limit)
            .map(|i| AuditEntry {
                id: 100 - i64::from(i),
                company_id: company,
                at: t0(),
                actor: "sandbox".into(),
                action: "tenant apply".into(),
                changes: vec![],
            })
            .collect())
    }
}

#[async_trait]
impl TokenAdminStore for FakeStore {
    async fn create_token(
        &self,
        new: &NewToken,
        _: &AuditRecord,
    ) -> Result<(TokenInfo, SecretString), StoreError> {
        self.tokens.lock().unwrap().push(new.clone());
        let info = TokenInfo {
            id: 9,
            company_id: new.company_id,
            scope: new.kind.as_str().into(),
            name: new.name.clone(),
            created_at: t0(),
            expires_at: new.expires_at,
            revoked_at: None,
        };
        Ok((info, SecretString::from("sb_fresh_token")))
    }
    async fn list_tokens(&self, _: Option<CompanyId>) -> Result<Vec<TokenInfo>, StoreError> {
        Ok(vec![])
    }
    async fn revoke_token(
        &self,
        _: i64,
        _: Option<CompanyId>,
        _: DateTime<Utc>,
        _: &AuditRecord,
    ) -> Result<Option<TokenInfo>, StoreError> {
        Ok(None)
    }
}

/// A Cal.com account with one event type, `erstberatung` (2001).
struct OneEventType;

#[async_trait]
impl CalendarApi for OneEventType {
    async fn event_types(&self, _: &SecretString) -> Result<Vec<EventType>, UpstreamError> {
        Ok(vec![EventType {
            id: EventTypeId(2001),
            title: "Erstberatung".into(),
            slug: "erstberatung".into(),
            length_in_minutes: 45,
        }])
    }
    async fn slots(&self, _: &SecretString, _: &SlotQuery) -> Result<Vec<Slot>, UpstreamError> {
        Err(status(503, "not here"))
    }
    async fn create_booking(
        &self,
        _: &SecretString,
        _: &BookingRequest,
    ) -> Result<Booking, UpstreamError> {
        Err(status(503, "not here"))
    }
    async fn list_bookings(
        &self,
        _: &SecretString,
        _: &BookingQuery,
    ) -> Result<Vec<Booking>, UpstreamError> {
        Err(status(503, "not here"))
    }
    async fn get_booking(
        &self,
        _: &SecretString,
        _: &BookingUid,
    ) -> Result<Booking, UpstreamError> {
        Err(status(503, "not here"))
    }
    async fn me(&self, _: &SecretString) -> Result<CalcomProfile, UpstreamError> {
        Err(status(503, "not here"))
    }
    async fn team_event_types(
        &self,
        _: &SecretString,
        _: i64,
    ) -> Result<Vec<EventType>, UpstreamError> {
        Err(status(503, "not here"))
    }
}

/// A cache that holds nothing and records the keys it is told to drop.
#[derive(Default)]
struct DroppedKeys(std::sync::Mutex<Vec<String>>);

#[async_trait]
impl Cache for DroppedKeys {
    async fn get(&self, _: &str) -> Option<crate::jsonrpc::SharedJson> {
        None
    }
    async fn set(&self, _: &str, _: crate::jsonrpc::SharedJson, _: Duration) {}
    async fn remove(&self, key: &str) {
        self.0.lock().unwrap().push(key.to_owned());
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        t0()
    }
}

struct Harness {
    store: Arc<FakeStore>,
    cache: Arc<DroppedKeys>,
    /// The company's services as the custom functions read them (cached for an hour).
    services: Arc<ServicesCache>,
    /// The directory's store: counts how often the company is loaded.
    loaded: Arc<OneCompany>,
    servers: Vec<Addr<AdminServer>>,
}

impl Harness {
    fn start(store: FakeStore) -> Self {
        let store = Arc::new(store);
        let loaded = Arc::new(OneCompany::default());
        let budget = RestartBudget::new(10, Duration::from_secs(60));
        let directory = TenantDirectory::new(
            Arc::clone(&loaded) as Arc<dyn TenancyStore>,
            CalcomAccess {
                apis: Arc::new(SameCalendarApi(Arc::new(OneEventType))),
                limiter: Arc::new(LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX))),
                policy: UpstreamPolicy::default(),
                retries: RetryBudget::default(),
            },
            crate::tenant::RetellAccess::unused(),
            TenantLock::new(
                Arc::clone(&loaded) as Arc<dyn LockStore>,
                Arc::new(FixedClock),
                "me".into(),
            ),
            Duration::from_secs(1800),
            budget.clone(),
        )
        .start();
        let cache = Arc::new(DroppedKeys::default());
        let services = Arc::new(ServicesCache::new(
            Arc::clone(&store) as Arc<dyn TenancyStore>,
            crate::tenant::ServicesCachePolicy {
                max_companies: 10,
                ttl: Duration::from_secs(3600),
            },
        ));
        let deps = Arc::new(AdminDeps {
            tenants: Arc::clone(&store) as Arc<dyn TenantAdminStore>,
            tokens: Arc::clone(&store) as Arc<dyn TokenAdminStore>,
            directory,
            clock: Arc::new(FixedClock),
            cache: Arc::clone(&cache) as Arc<dyn Cache>,
            services: Arc::clone(&services),
        });
        let servers = [server, branch::server, service::server, auth::server]
            .into_iter()
            .map(|make| make(Arc::clone(&deps), budget.clone()).start())
            .collect();
        Self {
            store,
            cache,
            services,
            loaded,
            servers,
        }
    }

    async fn call(
        &self,
        method: &str,
        params: Value,
        grant: TokenGrant,
    ) -> Result<Value, RpcError> {
        let server = match method.split('.').next() {
            Some("company") => 0,
            Some("branch") => 1,
            Some("service") => 2,
            _ => 3,
        };
        let call = ServerCall {
            method: method.to_owned(),
            params: Some(params),
            span: tracing::Span::none(),
            grant,
        };
        self.servers[server]
            .send(call)
            .await
            .unwrap()
            .map(|out| out.data.to_value())
    }
}

fn own_admin() -> TokenGrant {
    TokenGrant::company(CompanyId(1), TokenScope::Admin, "salon admin")
}

fn operators() -> TokenGrant {
    TokenGrant::admin("operators")
}

fn details(e: &RpcError) -> Vec<(String, String)> {
    e.data.as_ref().unwrap()["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix::test]
async fn update_is_validated_like_the_file_and_writes_nothing() {
    let h = Harness::start(FakeStore::new());
    let e = h
        .call(
            "company.update",
            json!({"time_zone": "Europe/Atlantis", "locale": "fr"}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602, "{e:?}");
    let paths: Vec<String> = details(&e).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["locale", "time_zone"]);
    assert!(e.message.contains("locale"), "{}", e.message);
    assert!(h.store.writes().is_empty());
}

#[actix::test]
async fn update_writes_its_plan_to_the_audit_log_as_the_caller() {
    let h = Harness::start(FakeStore::new());
    let out = h
        .call(
            "company.update",
            json!({"name": "Salon Nord", "policy": {"change_notice_h": 48}}),
            own_admin(),
        )
        .await
        .unwrap();
    assert_eq!(out["company_id"], 1);
    let changes = out["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{out}");
    assert_eq!(
        h.store.writes(),
        [AuditRecord {
            actor: "token (salon admin)".into(),
            action: "company.update".into(),
            changes: vec![
                "~ name: \"Salon\" → \"Salon Nord\"".into(),
                "~ policy.change_notice_h: 24 → 48".into(),
            ],
        }]
    );
    assert_eq!(
        h.store.spec().policy.booking_horizon_days,
        90,
        "left as it was"
    );
}

#[actix::test]
async fn update_that_changes_nothing_writes_nothing() {
    let h = Harness::start(FakeStore::new());
    let out = h
        .call("company.update", json!({"name": "Salon"}), own_admin())
        .await
        .unwrap();
    assert_eq!(out["changes"], json!([]));
    assert!(h.store.writes().is_empty());
}

#[actix::test]
async fn company_admin_cannot_set_the_calcom_base_url() {
    let h = Harness::start(FakeStore::new());
    let params = json!({"calcom": {"base_url": "http://169.254.169.254"}});
    let e = h
        .call("company.update", params.clone(), own_admin())
        .await
        .unwrap_err();
    assert_eq!(e.code, -32002);
    assert!(h.store.writes().is_empty());
    let mut params = params;
    params["company_id"] = json!(1);
    h.call("company.update", params, operators()).await.unwrap();
    assert_eq!(
        h.store.spec().calcom.base_url.as_deref(),
        Some("http://169.254.169.254")
    );
}

#[actix::test]
async fn update_clears_optional_settings_and_only_operators_clear_the_base_url() {
    let h = Harness::start(FakeStore::new());
    h.call(
        "company.update",
        json!({"retell": {"agent_id": "agent_1"}, "calcom": {"team_id": 42}}),
        own_admin(),
    )
    .await
    .unwrap();
    assert_eq!(h.store.spec().calcom.team_id, Some(42));
    let out = h
        .call(
            "company.update",
            json!({"clear": ["retell.agent_id", "calcom.team_id"]}),
            own_admin(),
        )
        .await
        .unwrap();
    let spec = h.store.spec();
    assert_eq!(spec.retell.agent_id, None, "{out}");
    assert_eq!(spec.calcom.team_id, None, "{out}");
    let writes = h.store.writes().len();
    let e = h
        .call(
            "company.update",
            json!({"clear": ["calcom.base_url"]}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32002);
    assert_eq!(h.store.writes().len(), writes, "nothing written");
    let e = h
        .call("company.update", json!({"clear": ["name"]}), own_admin())
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602, "only optional settings can be cleared");
}

#[actix::test]
async fn company_token_naming_another_company_is_forbidden_and_writes_nothing() {
    let h = Harness::start(FakeStore::new());
    let calls = [
        ("company.get", json!({"company_id": 2})),
        ("company.update", json!({"company_id": 2, "name": "X"})),
        (
            "company.setCredentials",
            json!({"company_id": 2, "calcom_api_key": "cal_x"}),
        ),
        ("company.getAuditLog", json!({"company_id": 2})),
        ("branch.list", json!({"company_id": 2})),
        (
            "branch.create",
            json!({"company_id": 2, "slug": "x", "name": "X"}),
        ),
        ("branch.delete", json!({"company_id": 2, "branch": "mitte"})),
        (
            "service.create",
            json!({"company_id": 2, "name": "X", "duration_min": 5,
            "event_type_id": 5}),
        ),
        (
            "auth.createToken",
            json!({"company_id": 2, "scope": "read", "name": "x"}),
        ),
        ("auth.listTokens", json!({"company_id": 2})),
    ];
    for (method, params) in calls {
        let e = h.call(method, params, own_admin()).await.unwrap_err();
        assert_eq!(e.code, -32002, "{method}: {e:?}");
    }
    assert!(h.store.writes().is_empty());
    assert!(h.store.tokens.lock().unwrap().is_empty());
}

#[actix::test]
async fn company_list_shows_a_company_token_only_its_own_company() {
    let h = Harness::start(FakeStore::new());
    let own = h
        .call("company.list", json!({}), own_admin())
        .await
        .unwrap();
    assert_eq!(own["companies"].as_array().unwrap().len(), 1, "{own}");
    assert!(!own.to_string().contains(OTHER_SLUG));
    let all = h
        .call("company.list", json!({}), operators())
        .await
        .unwrap();
    assert_eq!(all["companies"].as_array().unwrap().len(), 2);
}

#[actix::test]
async fn number_owned_by_another_tenant_is_refused_naming_it_only_to_operators() {
    let h = Harness::start(FakeStore::new());
    let params = json!({"company_id": 1, "branch": "mitte", "phone_number": OTHER_NUMBER});
    // A tenant may not add numbers at all, so it learns nothing of their owners.
    let e = h
        .call("branch.addPhoneNumber", params.clone(), own_admin())
        .await
        .unwrap_err();
    assert_eq!(e.code, -32002);
    assert!(
        !serde_json::to_string(&e).unwrap().contains(OTHER_SLUG),
        "another tenant's slug leaked: {e:?}"
    );
    let e = h
        .call("branch.addPhoneNumber", params, operators())
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
    let (path, message) = details(&e).remove(0);
    assert_eq!(path, "branches[0].phone_numbers[1]");
    assert!(message.contains(OTHER_NUMBER), "{message}");
    assert!(message.contains(OTHER_SLUG), "{e:?}");
    assert!(h.store.writes().is_empty());
}

#[actix::test]
async fn number_not_in_e164_is_refused_with_its_key_path() {
    let h = Harness::start(FakeStore::new());
    let e = h
        .call(
            "branch.create",
            json!({"slug": "altona", "name": "Altona", "phone_numbers": ["+494012345678", "040 1234"]}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(details(&e)[0].0, "branches[1].phone_numbers[1]", "{e:?}");
    assert!(h.store.writes().is_empty());
}

#[actix::test]
async fn branches_and_numbers_are_added_updated_and_removed() {
    let h = Harness::start(FakeStore::new());
    let out = h
        .call(
            "branch.create",
            json!({"company_id": 1, "slug": "altona", "name": "Altona",
                "phone_numbers": ["+494012345678"], "opening_hours": {"mon": "08:00-18:00"}}),
            operators(),
        )
        .await
        .unwrap();
    assert!(
        out["changes"][0]
            .as_str()
            .unwrap()
            .starts_with("+ branch altona"),
        "{out}"
    );
    h.call(
        "branch.update",
        json!({"branch": "altona", "name": "Hamburg-Altona"}),
        own_admin(),
    )
    .await
    .unwrap();
    h.call(
        "branch.removePhoneNumber",
        json!({"branch": "altona", "phone_number": "+49 40 12345678"}),
        own_admin(),
    )
    .await
    .unwrap();
    let spec = h.store.spec();
    assert_eq!(spec.branches[1].name, "Hamburg-Altona");
    assert!(spec.branches[1].phone_numbers.is_empty());
    let e = h
        .call(
            "branch.removePhoneNumber",
            json!({"branch": "altona", "phone_number": "+494012345678"}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.data.unwrap()["type"], "not_found");
    h.call("branch.delete", json!({"branch": "altona"}), own_admin())
        .await
        .unwrap();
    assert_eq!(h.store.spec().branches.len(), 1);
    let e = h
        .call("branch.update", json!({"branch": "nowhere"}), own_admin())
        .await
        .unwrap_err();
    assert_eq!(e.data.unwrap()["type"], "not_found");
    assert_eq!(h.store.writes().len(), 4);
}

#[actix::test]
async fn event_type_slug_is_resolved_through_the_tenants_cal_com_account() {
    let h = Harness::start(FakeStore::new());
    h.call(
        "service.create",
        json!({"name": "Erstberatung", "duration_min": 45, "event_type_slug": "erstberatung",
            "aliases": ["Beratung"]}),
        own_admin(),
    )
    .await
    .unwrap();
    let spec = h.store.spec();
    assert_eq!(spec.services[1].event_type_id, Some(EventTypeId(2001)));
    let e = h
        .call(
            "service.update",
            json!({"service": "erstberatung", "event_type_slug": "gibt-es-nicht"}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 2002, "{e:?}");
    assert!(e.message.contains("gibt-es-nicht"), "{}", e.message);
    assert_eq!(
        h.loaded.loads.load(Ordering::SeqCst),
        2,
        "the write made the directory forget the company"
    );
    assert_eq!(h.store.writes().len(), 1);
}

#[actix::test]
async fn services_are_updated_and_deleted_by_name() {
    let h = Harness::start(FakeStore::new());
    let out = h
        .call(
            "service.update",
            json!({"service": "herrenschnitt", "duration_min": 45, "aliases": ["Haarschnitt"]}),
            own_admin(),
        )
        .await
        .unwrap();
    assert_eq!(out["changes"].as_array().unwrap().len(), 2, "{out}");
    h.call(
        "service.update",
        json!({"service": "Herrenschnitt", "branches": ["mitte"]}),
        own_admin(),
    )
    .await
    .unwrap();
    assert!(h.store.spec().services[0].branches.is_some());
    h.call(
        "service.update",
        json!({"service": "Herrenschnitt", "branches": []}),
        own_admin(),
    )
    .await
    .unwrap();
    assert_eq!(
        h.store.spec().services[0].branches,
        None,
        "an empty list offers it at every branch again"
    );
    let e = h
        .call("service.delete", json!({"service": "Färben"}), own_admin())
        .await
        .unwrap_err();
    assert_eq!(e.data.unwrap()["type"], "not_found");
    h.call(
        "service.delete",
        json!({"service": "Herrenschnitt"}),
        own_admin(),
    )
    .await
    .unwrap();
    assert!(h.store.spec().services.is_empty());
    assert!(
        h.cache
            .0
            .lock()
            .unwrap()
            .contains(&"mcp:calcom:event_types:1".to_owned()),
        "the cached event types, which name the services, are dropped"
    );
}

#[actix::test]
async fn changing_a_service_invalidates_the_companys_services_at_once() {
    let h = Harness::start(FakeStore::new());
    let durations = || async {
        let services = h.services.services(CompanyId(1)).await.unwrap();
        let mut durations: Vec<_> = services.iter().map(|s| s.duration_min).collect();
        durations.sort_unstable();
        durations
    };
    assert_eq!(durations().await, vec![30]);
    h.call(
        "service.update",
        json!({"service": "Herrenschnitt", "duration_min": 45}),
        own_admin(),
    )
    .await
    .unwrap();
    assert_eq!(durations().await, vec![45], "not the hour-old copy");
    h.call(
        "service.create",
        json!({"name": "Färben", "duration_min": 90, "event_type_id": 1002}),
        own_admin(),
    )
    .await
    .unwrap();
    assert_eq!(durations().await, vec![45, 90]);
    h.call(
        "service.delete",
        json!({"service": "Herrenschnitt"}),
        own_admin(),
    )
    .await
    .unwrap();
    assert_eq!(durations().await, vec![90]);
}

#[actix::test]
async fn create_refuses_an_existing_slug_and_unresolved_services() {
    let h = Harness::start(FakeStore::new());
    let mut raw = serde_json::to_value(salon()).unwrap();
    let e = h
        .call("company.create", raw.clone(), operators())
        .await
        .unwrap_err();
    assert_eq!(details(&e)[0].0, "slug");
    raw["slug"] = json!("neu");
    raw["branches"] = json!([]);
    raw["services"][0]["event_type_id"] = Value::Null;
    raw["services"][0]["event_type_slug"] = json!("erstberatung");
    let e = h
        .call("company.create", raw, operators())
        .await
        .unwrap_err();
    assert_eq!(details(&e)[0].0, "services[0].event_type_slug");
    assert!(h.store.writes().is_empty());
}

#[actix::test]
async fn store_conflict_is_4004_and_names_the_value_only_to_operators() {
    let h = Harness::start(FakeStore {
        conflict: Some(format!(
            "name \"Salon Nord\" belongs to tenant {OTHER_SLUG}"
        )),
        ..FakeStore::new()
    });
    let e = h
        .call("company.update", json!({"name": "Salon Nord"}), own_admin())
        .await
        .unwrap_err();
    assert_eq!(e.code, 4004);
    assert!(!e.message.contains(OTHER_SLUG), "{}", e.message);
    let e = h
        .call(
            "company.update",
            json!({"company_id": 1, "name": "Salon Nord"}),
            operators(),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("Salon Nord"), "{}", e.message);
}

#[actix::test]
async fn set_credentials_answers_and_audits_only_fingerprints() {
    let h = Harness::start(FakeStore::new());
    let key = "cal_live_new_secret_key";
    let out = h
        .call(
            "company.setCredentials",
            json!({"calcom_api_key": key}),
            own_admin(),
        )
        .await
        .unwrap();
    let print = fingerprint(&SecretString::from(key));
    assert_eq!(out["credentials"]["calcom_api_key"], print.as_str());
    assert!(!out.to_string().contains(key));
    let audit = h.store.writes();
    assert!(!format!("{audit:?}").contains(key));
    assert!(audit[0].changes[0].contains(&print), "{audit:?}");
    let e = h
        .call(
            "company.setCredentials",
            json!({"calcom_api_key": "sk_wrong"}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(details(&e)[0].0, "calcom.api_key");
    let e = h
        .call(
            "company.setCredentials",
            json!({"retell_api_key": "env:HOME"}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        details(&e)[0].0,
        "retell.api_key",
        "env: is not read over JSON-RPC"
    );
    assert_eq!(h.store.credentials.lock().unwrap().len(), 1);
}

#[actix::test]
async fn sms_auth_token_is_set_write_only_and_only_with_sms_settings() {
    let h = Harness::start(FakeStore::new());
    let token = "twilio_token_0123456789abcdef";
    let e = h
        .call(
            "company.setCredentials",
            json!({"sms_auth_token": token}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("no SMS settings"), "{e:?}");
    assert!(h.store.credentials.lock().unwrap().is_empty());
    h.call(
        "company.update",
        json!({"sms": {"account_sid": format!("AC{}", "0".repeat(32)), "from": "+4915735998877", "auth_token": "first_token"}}),
        own_admin(),
    )
    .await
    .unwrap();
    let out = h
        .call(
            "company.setCredentials",
            json!({"sms_auth_token": token}),
            own_admin(),
        )
        .await
        .unwrap();
    assert!(!out.to_string().contains(token));
    let written = h.store.credentials.lock().unwrap().clone();
    let last = written.last().expect("the token was written");
    assert_eq!(
        last.sms_auth_token
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret),
        Some(token)
    );
    assert!(!format!("{:?}", h.store.writes()).contains(token));
}

#[actix::test]
async fn disable_and_enable_say_whether_they_changed_anything() {
    let h = Harness::start(FakeStore::new());
    let first = h
        .call("company.disable", json!({"company_id": 1}), operators())
        .await
        .unwrap();
    let again = h
        .call("company.disable", json!({"company_id": 1}), operators())
        .await
        .unwrap();
    assert_eq!(
        (first["changed"].clone(), again["changed"].clone()),
        (json!(true), json!(false))
    );
    let e = h
        .call("company.enable", json!({"company_id": 5}), operators())
        .await
        .unwrap_err();
    assert_eq!(e.code, 3001);
}

#[actix::test]
async fn company_admin_cannot_mint_metrics_tokens_and_write_token_not_admin_ones() {
    let h = Harness::start(FakeStore::new());
    let e = h
        .call(
            "auth.createToken",
            json!({"scope": "metrics", "name": "prom"}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32002);
    let write = TokenGrant::company(CompanyId(1), TokenScope::Write, "w");
    let e = h
        .call(
            "auth.createToken",
            json!({"scope": "admin", "name": "x"}),
            write,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32002);
    assert!(h.store.tokens.lock().unwrap().is_empty());
    let out = h
        .call(
            "auth.createToken",
            json!({"scope": "read", "name": "dashboard", "expires_in_days": 90}),
            own_admin(),
        )
        .await
        .unwrap();
    assert_eq!(out["token"], "sb_fresh_token");
    let made = h.store.tokens.lock().unwrap().clone();
    assert_eq!(
        made[0].company_id,
        Some(CompanyId(1)),
        "defaults to its own company"
    );
    assert_eq!(made[0].expires_at, Some(t0() + chrono::Duration::days(90)));
    let e = h
        .call(
            "auth.createToken",
            json!({"scope": "read", "name": "x", "expires_in_days": 3651}),
            own_admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
}

#[actix::test]
async fn revoking_a_token_of_no_one_or_another_company_is_not_found() {
    let h = Harness::start(FakeStore::new());
    let e = h
        .call("auth.revokeToken", json!({"token_id": 77}), own_admin())
        .await
        .unwrap_err();
    assert_eq!(
        (e.code, e.data.unwrap()["type"].clone()),
        (-32602, json!("not_found"))
    );
}

#[actix::test]
async fn audit_log_pages_by_id() {
    let h = Harness::start(FakeStore::new());
    let page = h
        .call("company.getAuditLog", json!({"limit": 2}), own_admin())
        .await
        .unwrap();
    assert_eq!(page["next_before_id"], 99);
    assert_eq!(page["entries"][0]["company_id"], 1);
    let e = h
        .call("company.getAuditLog", json!({"limit": 501}), own_admin())
        .await
        .unwrap_err();
    assert_eq!(e.code, -32602);
}
