//! The `retell.config` methods through their actor, against [`FakeRetell`] and an in-memory
//! store: what a deploy writes, what it keeps, that it is idempotent, and every refusal
//! writing nothing.

use super::*;
use crate::appointments::testing::FakeCal;
use crate::breaker::UpstreamPolicy;
use crate::domain::booking::ErrorAnswer;
use crate::domain::onboarding::{
    AuditEntry, AuditRecord, CredentialStatus, CredentialUpdate, RawBranch, RawTenant, Slug,
    TenantSpec, TenantState, TenantSummary, literal_secret,
};
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::{CompanyProfile, Locale, Service, TenantRoute};
use crate::ports::{
    LockStore, ProbeError, SameCalendarApi, StoreError, TenancyStore, TenantAdminStore,
};
use crate::ratelimit::{LocalLimiter, Quotas};
use crate::records::{TokenGrant, TokenScope};
use crate::resilience::RetryBudget;
use crate::retell::api::ResponseEngine;
use crate::retell::fake::{FakeRetell, agent, llm};
use crate::retell::signature;
use crate::server::ServerCall;
use crate::tenant::{CalcomAccess, RetellAccess, TenantLock};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

const URL: &str = "https://switchboard.example.com";
const KEY: &str = "key_salon";
const AGENT: &str = "agent_salon";
const LLM: &str = "llm_salon";
const NUMBER: &str = "+493012345678";
/// A branch number the Retell account does not have.
const UNBOUGHT: &str = "+493087654321";
const SALON: CompanyId = CompanyId(1);
const OTHER: CompanyId = CompanyId(2);
const NO_AGENT: CompanyId = CompanyId(3);
const NO_KEY: CompanyId = CompanyId(4);
const ENGLISH: CompanyId = CompanyId(5);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        t0()
    }
}

/// The tenants and their overrides, in memory.
#[derive(Default)]
struct Tenants {
    overrides: Mutex<BTreeMap<(CompanyId, String), FunctionOverride>>,
}

fn profile(id: CompanyId) -> CompanyProfile {
    let (key, agent, locale) = match id {
        SALON => (KEY, Some(AGENT), Locale::De),
        NO_AGENT => (KEY, None, Locale::De),
        NO_KEY => ("", Some(AGENT), Locale::De),
        ENGLISH => (KEY, Some(AGENT), Locale::En),
        _ => ("key_other", Some("agent_other"), Locale::De),
    };
    CompanyProfile {
        id,
        name: format!("Company {id}"),
        locale,
        time_zone: chrono_tz::Europe::Berlin,
        retell_api_key: SecretString::from(key),
        retell_agent_id: agent.map(str::to_owned),
        calcom_api_key: SecretString::from("cal_test"),
        slug: format!("company-{id}"),
        calcom_base_url: None,
        policy: crate::domain::onboarding::BookingPolicy::default(),
        disabled: false,
        sms: None,
        calcom_webhook_secret: SecretString::from(""),
    }
}

fn unused() -> StoreError {
    StoreError::backend("not used by retell.config")
}

#[async_trait]
impl TenancyStore for Tenants {
    async fn tenant_by_phone(&self, _: &PhoneNumber) -> Result<Option<TenantRoute>, StoreError> {
        Ok(None)
    }
    async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        Ok((id.0 <= 5).then(|| profile(id)))
    }
    async fn services(&self, _: CompanyId) -> Result<Vec<Service>, StoreError> {
        Ok(Vec::new())
    }
}

#[async_trait]
impl LockStore for Tenants {
    async fn try_lock_tenant(
        &self,
        _: CompanyId,
        _: &str,
        _: DateTime<Utc>,
        _: Duration,
    ) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn unlock_tenant(&self, _: CompanyId, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl TenantAdminStore for Tenants {
    async fn list_tenants(&self) -> Result<Vec<TenantSummary>, StoreError> {
        Err(unused())
    }
    async fn tenant(&self, tenant: &TenantRef) -> Result<Option<TenantState>, StoreError> {
        let TenantRef::Id(id) = tenant else {
            return Err(unused());
        };
        let raw = RawTenant {
            slug: format!("company-{id}"),
            name: format!("Company {id}"),
            locale: "de".into(),
            time_zone: "Europe/Berlin".into(),
            branches: vec![RawBranch {
                slug: "mitte".into(),
                name: "Mitte".into(),
                phone_numbers: if *id == SALON || *id == ENGLISH {
                    vec![NUMBER.into(), UNBOUGHT.into()]
                } else {
                    vec![format!("+4930555000{}", id.0)]
                },
                opening_hours: None,
            }],
            ..RawTenant::default()
        };
        Ok(Some(TenantState {
            id: *id,
            spec: TenantSpec::from_raw(&raw, &literal_secret).unwrap(),
            credentials: CredentialStatus::default(),
            disabled_at: None,
            created_at: t0(),
        }))
    }
    async fn phone_owners(
        &self,
        _: &[PhoneNumber],
    ) -> Result<Vec<(PhoneNumber, Slug)>, StoreError> {
        Err(unused())
    }
    async fn write_tenant(&self, _: &TenantSpec, _: &AuditRecord) -> Result<CompanyId, StoreError> {
        Err(unused())
    }
    async fn set_disabled(
        &self,
        _: CompanyId,
        _: bool,
        _: &AuditRecord,
    ) -> Result<bool, StoreError> {
        Err(unused())
    }
    async fn set_credentials(
        &self,
        _: CompanyId,
        _: &CredentialUpdate,
        _: &AuditRecord,
    ) -> Result<bool, StoreError> {
        Err(unused())
    }
    async fn audit_log(
        &self,
        _: Option<CompanyId>,
        _: u32,
        _: Option<i64>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Err(unused())
    }
}

#[async_trait]
impl RetellConfigStore for Tenants {
    async fn function_overrides(
        &self,
        company: CompanyId,
    ) -> Result<BTreeMap<String, FunctionOverride>, StoreError> {
        Ok(self
            .overrides
            .lock()
            .unwrap()
            .iter()
            .filter(|((c, _), _)| *c == company)
            .map(|((_, name), o)| (name.clone(), o.clone()))
            .collect())
    }
    async fn set_function_override(
        &self,
        company: CompanyId,
        name: &str,
        value: &FunctionOverride,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut overrides = self.overrides.lock().unwrap();
        if value.is_empty() {
            overrides.remove(&(company, name.to_owned()));
        } else {
            overrides.insert((company, name.to_owned()), value.clone());
        }
        Ok(())
    }
}

/// One request a probe posted: URL, headers, body.
type Sent = (String, Vec<(&'static str, String)>, Vec<u8>);

/// Answers each URL with a fixed status and records what was posted.
#[derive(Default)]
struct Probe {
    sent: Mutex<Vec<Sent>>,
}

#[async_trait]
impl WebhookProbe for Probe {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<u16, ProbeError> {
        self.sent
            .lock()
            .unwrap()
            .push((url.to_owned(), headers.to_vec(), body));
        Ok(if url.ends_with("/webhook") { 401 } else { 404 })
    }
}

/// A Retell account with the salon's agent on a Retell LLM that has one tool of someone
/// else's, and the salon's first number (unbound).
fn account() -> Arc<FakeRetell> {
    let retell = FakeRetell::new(KEY);
    {
        let mut a = retell.account.lock().unwrap();
        a.agents.push(agent(AGENT, LLM));
        let mut l = llm(LLM);
        l.general_tools = vec![
            json!({"type": "end_call", "name": "end_call", "description": "Hang up."}),
            json!({"type": "custom", "name": "crm_lookup", "url": "https://crm.example.com/lookup"}),
        ];
        a.llms.push(l);
        a.numbers.push(crate::retell::api::RetellPhoneNumber {
            phone_number: NUMBER.into(),
            phone_number_type: Some("retell-twilio".into()),
            nickname: None,
            inbound_agents: Vec::new(),
            inbound_webhook_url: None,
            last_modification_timestamp: 1,
        });
    }
    Arc::new(retell)
}

struct Harness {
    retell: Arc<FakeRetell>,
    store: Arc<Tenants>,
    probe: Arc<Probe>,
    server: Addr<RetellConfigServer>,
}

impl Harness {
    fn start(public_url: Option<&str>) -> Self {
        let retell = account();
        let store = Arc::new(Tenants::default());
        let probe = Arc::new(Probe::default());
        let budget = RestartBudget::new(10, Duration::from_secs(60));
        let clock: Arc<dyn Clock> = Arc::new(FixedClock);
        let calcom = CalcomAccess {
            apis: Arc::new(SameCalendarApi(FakeCal::with(Vec::new()))),
            limiter: Arc::new(LocalLimiter::new(&Quotas::uniform(NonZeroU32::MAX))),
            policy: UpstreamPolicy::default(),
            retries: RetryBudget::default(),
        };
        let retell_access = RetellAccess {
            api: Arc::clone(&retell) as Arc<dyn crate::ports::RetellApi>,
            policy: UpstreamPolicy::default(),
            retries: RetryBudget::default(),
        };
        let lock = TenantLock::new(store.clone(), Arc::clone(&clock), "me".into());
        let tenants = TenantDirectory::new(
            store.clone(),
            calcom,
            retell_access,
            lock,
            Duration::from_secs(1800),
            budget.clone(),
        )
        .start();
        let deps = RetellConfigDeps {
            tenants,
            admin: store.clone(),
            config: store.clone(),
            clock,
            setup: RetellSetup {
                public_url: public_url.map(str::to_owned),
                function_deadline: Duration::from_millis(2500),
            },
            probe: probe.clone(),
        };
        let server = RetellConfigServer::from_deps(deps, budget).start();
        Self {
            retell,
            store,
            probe,
            server,
        }
    }

    async fn call_as(
        &self,
        grant: TokenGrant,
        method: &str,
        params: Value,
    ) -> Result<Value, RpcError> {
        let call = ServerCall {
            method: format!("retell.config.{method}"),
            params: Some(params),
            span: tracing::Span::none(),
            grant,
        };
        self.server
            .send(call)
            .await
            .unwrap()
            .map(|out| out.data.to_value())
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.call_as(TokenGrant::admin("test"), method, params)
            .await
    }

    fn tools(&self) -> Vec<Value> {
        self.retell.account.lock().unwrap().llms[0]
            .general_tools
            .clone()
    }

    fn writes(&self) -> usize {
        self.retell.account.lock().unwrap().writes
    }
}

fn ours(tools: &[Value]) -> Vec<&Value> {
    tools
        .iter()
        .filter(|t| t["url"] == format!("{URL}/api/mcp/retell/custom-function"))
        .collect()
}

#[actix::test]
async fn deploy_writes_one_custom_tool_per_function_with_our_url_and_schema() {
    let h = Harness::start(Some(URL));
    let report = h
        .call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap();
    assert_eq!(report["applied"], true);
    assert_eq!(
        report["steps"],
        json!(["llm", "agent", format!("number {NUMBER}")])
    );
    let tools = h.tools();
    let ours = ours(&tools);
    assert_eq!(ours.len(), crate::functions::registry::REGISTRY.len());
    for (tool, def) in ours.iter().zip(crate::functions::registry::definitions()) {
        assert_eq!(tool["type"], "custom");
        assert_eq!(tool["name"], def.name);
        assert_eq!(tool["parameters"], def.parameters);
        assert_eq!(tool["args_at_root"], false);
        assert_eq!(tool["timeout_ms"], 4500);
    }
    let account = h.retell.account.lock().unwrap();
    let agent = &account.agents[0];
    assert_eq!(
        agent.webhook_url.as_deref(),
        Some("https://switchboard.example.com/api/mcp/retell/webhook")
    );
    assert_eq!(
        agent.webhook_timeout_ms, None,
        "Retell's default of 10000 ms is already ours: not written"
    );
    assert!(
        agent
            .webhook_events
            .as_ref()
            .unwrap()
            .contains(&"transfer_started".to_owned())
    );
    let number = &account.numbers[0];
    assert_eq!(number.inbound_agents.len(), 1);
    assert_eq!(number.inbound_agents[0].agent_id, AGENT);
    assert_eq!(number.inbound_agents[0].agent_version, None);
    assert_eq!(
        number.inbound_webhook_url.as_deref(),
        Some("https://switchboard.example.com/api/mcp/retell/inbound")
    );
    let unbought = &report["diff"]["numbers"][1];
    assert_eq!(unbought["phone_number"], UNBOUGHT);
    assert_eq!(unbought["status"], "missing", "reported, not created");
    assert_eq!(account.numbers.len(), 1);
}

#[actix::test]
async fn deploy_keeps_tools_that_are_not_ours() {
    let h = Harness::start(Some(URL));
    let before = h.tools();
    h.call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap();
    let after = h.tools();
    assert_eq!(
        &after[..2],
        &before[..],
        "foreign tools untouched and in place"
    );
    assert_eq!(after.len(), 2 + crate::functions::registry::REGISTRY.len());
}

#[actix::test]
async fn second_deploy_changes_nothing() {
    let h = Harness::start(Some(URL));
    h.call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap();
    let writes = h.writes();
    let tools = h.tools();
    let again = h
        .call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap();
    assert_eq!(again["applied"], false);
    assert_eq!(again["steps"], json!([]));
    assert!(again["diff"]["agent"].as_array().unwrap().is_empty());
    for tool in again["diff"]["tools"].as_array().unwrap() {
        assert_eq!(tool["status"], "unchanged", "{tool}");
    }
    assert_eq!(h.writes(), writes);
    assert_eq!(h.tools(), tools);
}

#[actix::test]
async fn dry_run_changes_nothing_and_shows_the_diff() {
    let h = Harness::start(Some(URL));
    let before = h.tools();
    let report = h
        .call(
            "deployCustomFunctions",
            json!({"company_id": 1, "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        (report["dry_run"].clone(), report["applied"].clone()),
        (json!(true), json!(false))
    );
    let added: Vec<&str> = report["diff"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "added")
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(added, crate::functions::registry::NAMES);
    assert_eq!(
        report["diff"]["kept_tools"],
        json!(["end_call", "crm_lookup"])
    );
    assert_eq!(report["diff"]["agent"][0]["field"], "webhook_url");
    assert_eq!(report["diff"]["numbers"][0]["status"], "changed");
    assert_eq!(h.writes(), 0);
    assert_eq!(h.tools(), before);
}

#[actix::test]
async fn deploy_without_public_url_is_refused() {
    let h = Harness::start(None);
    let err = h
        .call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.code, 1004);
    assert!(
        err.message.contains("SWITCHBOARD__SERVER__PUBLIC_URL"),
        "{}",
        err.message
    );
    assert_eq!(h.writes(), 0);
}

#[actix::test]
async fn deploy_without_a_retell_key_or_agent_is_refused() {
    let h = Harness::start(Some(URL));
    let no_key = h
        .call("deployCustomFunctions", json!({"company_id": NO_KEY.0}))
        .await
        .unwrap_err();
    let no_agent = h
        .call("deployCustomFunctions", json!({"company_id": NO_AGENT.0}))
        .await
        .unwrap_err();
    assert_eq!((no_key.code, no_agent.code), (1001, 1002));
    assert_eq!(h.writes(), 0);
}

#[actix::test]
async fn deploy_to_an_agent_without_a_retell_llm_is_refused() {
    let h = Harness::start(Some(URL));
    h.retell.account.lock().unwrap().agents[0].response_engine = ResponseEngine::CustomLlm {
        llm_websocket_url: "wss://llm.example.com".into(),
    };
    let err = h
        .call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.code, 1004);
    assert!(err.message.contains("Retell LLM"), "{}", err.message);
    assert_eq!(h.writes(), 0);
}

#[actix::test]
async fn deploy_for_another_company_is_forbidden_and_writes_nothing() {
    let h = Harness::start(Some(URL));
    let other = TokenGrant::company(OTHER, TokenScope::Admin, "other");
    let deploy = h
        .call_as(
            other.clone(),
            "deployCustomFunctions",
            json!({"company_id": 1}),
        )
        .await
        .unwrap_err();
    let update = h
        .call_as(
            other,
            "updateCustomFunction",
            json!({"company_id": 1, "name": "check_availability", "settings": {"timeout_ms": 9000}}),
        )
        .await
        .unwrap_err();
    assert_eq!((deploy.code, update.code), (-32002, -32002));
    assert_eq!(h.writes(), 0);
    assert!(h.store.overrides.lock().unwrap().is_empty());
}

#[actix::test]
async fn deploy_failing_part_way_answers_what_was_applied_and_what_not() {
    let h = Harness::start(Some(URL));
    h.retell.account.lock().unwrap().number_update_failure = Some(UpstreamError::ServerError {
        service: "retell",
        answer: ErrorAnswer {
            status: 500,
            code: None,
            message: "An unexpected server error occurred.".into(),
        },
        retry_after: None,
    });
    let err = h
        .call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.code, -32004, "Retell's failure keeps its code");
    let details = &err.data.as_ref().unwrap()["details"];
    assert_eq!(details["applied"], json!(["llm", "agent"]));
    assert_eq!(details["failed"], format!("number {NUMBER}"));
    assert_eq!(details["not_applied"], json!([]));
    assert_eq!(h.writes(), 2);
}

#[actix::test]
async fn deploy_during_a_retell_outage_answers_upstream_unavailable() {
    // Reads are retried with backoff: the paused clock skips the waits.
    tokio::time::pause();
    let h = Harness::start(Some(URL));
    h.retell.account.lock().unwrap().failure = Some(UpstreamError::ServerError {
        service: "retell",
        answer: ErrorAnswer {
            status: 503,
            code: None,
            message: "down".into(),
        },
        retry_after: None,
    });
    let err = h
        .call(
            "deployCustomFunctions",
            json!({"company_id": 1, "dry_run": true}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, -32004);
}

#[actix::test]
async fn update_custom_function_refuses_an_unknown_function() {
    let h = Harness::start(Some(URL));
    let err = h
        .call(
            "updateCustomFunction",
            json!({"company_id": 1, "name": "order_pizza", "settings": {"timeout_ms": 9000}}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, 4004);
    assert!(
        err.message.contains("check_availability"),
        "names the known ones: {}",
        err.message
    );
    assert!(h.store.overrides.lock().unwrap().is_empty());
}

#[actix::test]
async fn update_custom_function_settings_are_validated_against_their_schema() {
    let h = Harness::start(Some(URL));
    for settings in [
        json!({"timeout_ms": 5}),
        json!({"timeout_ms": 600_001}),
        json!({"description": ""}),
        json!({"speak_during_execution": "yes"}),
        json!({"url": "https://evil.example.com"}),
    ] {
        let err = h
            .call(
                "updateCustomFunction",
                json!({"company_id": 1, "name": "check_availability", "settings": settings}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code, -32602, "{settings}");
    }
    assert!(h.store.overrides.lock().unwrap().is_empty());
}

#[actix::test]
async fn update_custom_function_is_used_by_the_next_deploy() {
    let h = Harness::start(Some(URL));
    h.call(
        "updateCustomFunction",
        json!({"company_id": 1, "name": "calculate_duration",
               "settings": {"timeout_ms": 8000, "description": "Rechnet die Dauer aus."}}),
    )
    .await
    .unwrap();
    h.call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap();
    let tools = h.tools();
    let tool = tools
        .iter()
        .find(|t| t["name"] == "calculate_duration")
        .unwrap();
    assert_eq!(tool["timeout_ms"], 8000);
    assert_eq!(tool["description"], "Rechnet die Dauer aus.");
    let view = h
        .call("getCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap();
    let function = view["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "calculate_duration")
        .unwrap();
    assert_eq!(function["status"], "unchanged");
    assert_eq!(function["override"]["timeout_ms"], 8000);
}

#[actix::test]
async fn tool_descriptions_follow_the_tenant_language() {
    let h = Harness::start(Some(URL));
    let german = h
        .call("getCustomFunctions", json!({"company_id": SALON.0}))
        .await
        .unwrap();
    let english = h
        .call("getCustomFunctions", json!({"company_id": ENGLISH.0}))
        .await
        .unwrap();
    let check = |view: &Value| view["functions"][1]["desired"].clone();
    assert!(
        check(&german)["description"]
            .as_str()
            .unwrap()
            .starts_with("Prüft, ob eine Uhrzeit")
    );
    assert_eq!(
        check(&german)["execution_message_description"],
        "Einen Moment bitte, ich schaue im Kalender nach."
    );
    assert_eq!(
        check(&english)["description"],
        crate::functions::registry::find("check_availability")
            .unwrap()
            .description
    );
    assert_eq!(
        check(&english)["execution_message_description"],
        "One moment, I'm checking the calendar."
    );
}

#[actix::test]
async fn get_webhook_configuration_compares_each_setting() {
    let h = Harness::start(Some(URL));
    let before = h
        .call("getWebhookConfiguration", json!({"company_id": 1}))
        .await
        .unwrap();
    let statuses = |v: &Value| -> Vec<String> {
        v["agent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{}={}",
                    s["field"].as_str().unwrap(),
                    s["status"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        statuses(&before),
        [
            "webhook_url=missing",
            "webhook_events=missing",
            "webhook_timeout_ms=ok"
        ]
    );
    assert_eq!(before["numbers"][0]["status"], "differs");
    assert_eq!(before["numbers"][1]["status"], "missing");
    h.call("deployCustomFunctions", json!({"company_id": 1}))
        .await
        .unwrap();
    let after = h
        .call("getWebhookConfiguration", json!({"company_id": 1}))
        .await
        .unwrap();
    assert_eq!(
        statuses(&after),
        [
            "webhook_url=ok",
            "webhook_events=ok",
            "webhook_timeout_ms=ok"
        ]
    );
    assert_eq!(after["numbers"][0]["status"], "ok");
}

#[actix::test]
async fn update_webhook_settings_writes_the_agent() {
    let h = Harness::start(Some(URL));
    let answer = h
        .call(
            "updateWebhookSettings",
            json!({"company_id": 1, "webhook_url": "http://127.0.0.1:8080/api/mcp/retell/webhook",
                   "webhook_events": ["call_ended"], "webhook_timeout_ms": 5000}),
        )
        .await
        .unwrap();
    assert_eq!(
        answer["webhook_url"],
        "http://127.0.0.1:8080/api/mcp/retell/webhook"
    );
    let account = h.retell.account.lock().unwrap();
    assert_eq!(
        account.agents[0].webhook_events,
        Some(vec!["call_ended".to_owned()])
    );
    assert_eq!(account.agents[0].webhook_timeout_ms, Some(5000));
}

#[actix::test]
async fn update_webhook_settings_refuses_bad_urls_and_events_writing_nothing() {
    let h = Harness::start(Some(URL));
    for (params, code) in [
        (
            json!({"webhook_url": "http://switchboard.example.com/hook"}),
            4004,
        ),
        (
            json!({"webhook_url": "ftp://switchboard.example.com/hook"}),
            4004,
        ),
        (json!({"webhook_url": "not a url"}), 4004),
        (
            json!({"webhook_url": "https://x.example.com", "webhook_events": ["call_exploded"]}),
            4004,
        ),
        (
            json!({"webhook_url": "https://x.example.com", "webhook_timeout_ms": 10}),
            -32602,
        ),
    ] {
        let mut params = params;
        params["company_id"] = json!(1);
        let err = h
            .call("updateWebhookSettings", params.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code, code, "{params}");
    }
    assert_eq!(h.writes(), 0);
}

#[actix::test]
async fn test_webhook_probes_unsigned_then_signed_with_the_tenants_key() {
    let h = Harness::start(Some(URL));
    let report = h
        .call("testWebhook", json!({"company_id": 1}))
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let sent = h.probe.sent.lock().unwrap();
    let (webhook_url, webhook_headers, _) = &sent[0];
    assert_eq!(
        webhook_url,
        "https://switchboard.example.com/api/mcp/retell/webhook"
    );
    assert!(
        webhook_headers
            .iter()
            .all(|(name, _)| *name != "x-retell-signature")
    );
    let (function_url, headers, body) = &sent[1];
    assert_eq!(
        function_url,
        "https://switchboard.example.com/api/mcp/retell/custom-function"
    );
    let header = headers
        .iter()
        .find(|(name, _)| *name == "x-retell-signature")
        .map(|(_, v)| v.as_str());
    signature::verify(header, body, KEY, t0().timestamp_millis(), 0).unwrap();
    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["name"], test_webhook::PROBE_FUNCTION);
    assert_eq!(body["call"]["to_number"], NUMBER);
    assert_eq!(h.writes(), 0);
}
