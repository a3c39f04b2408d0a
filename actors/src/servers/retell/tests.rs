//! The `retell.*` methods through their actor, against [`FakeRetell`] (one Retell account
//! shared by companies 1 and 2, the worst case for tenant isolation) and an in-memory record
//! store with the semantics of `src/store/retell.rs`.

use super::*;
use crate::breaker::UpstreamPolicy;
use crate::domain::booking::ErrorAnswer;
use crate::domain::ids::{BranchId, CallId};
use crate::domain::phone::PhoneNumber;
use crate::domain::tenant::{CompanyProfile, Service, TenantRoute};
use crate::ports::{
    BranchNumber, ImportOutcome, ImportedCall, LockStore, RetellApi, StoreError, TenancyStore,
};
use crate::records::{TokenGrant, TokenScope};
use crate::resilience::RetryBudget;
use crate::retell::api::{AgentBinding, AgentVersionRef, RetellPhoneNumber};
use crate::retell::fake::{FakeRetell, agent, llm};
use crate::server::ServerCall;
use crate::tenant::directory::tests::OneCompany;
use crate::tenant::{CalcomAccess, RetellAccess, TenantLock};
use crate::test_clock::paused_system;
use async_trait::async_trait;
use chrono::TimeZone;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

const KEY: &str = "key_test";
/// Company 1's agent.
const AGENT: &str = "agent_a";
/// Company 2's agent, in the same Retell account.
const OTHER_AGENT: &str = "agent_b";
const OUR_NUMBER: &str = "+493011111111";
const UNBOUND_NUMBER: &str = "+493022222222";
const MISSING_NUMBER: &str = "+493033333333";
const RETELL_ONLY_NUMBER: &str = "+493099999999";
const OTHER_COMPANY_NUMBER: &str = "+494044444444";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// Companies 1 and 2 share a Retell key (agents `agent_a`, `agent_b`); company 3 has no key,
/// company 4 no agent. The booking lock is [`OneCompany`]'s (always free).
struct Companies;

#[async_trait]
impl TenancyStore for Companies {
    async fn tenant_by_phone(&self, _: &PhoneNumber) -> Result<Option<TenantRoute>, StoreError> {
        Ok(None)
    }
    async fn company(&self, id: CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        let (key, agent) = match id.0 {
            1 => (KEY, Some(AGENT)),
            2 => (KEY, Some(OTHER_AGENT)),
            3 => ("", Some("agent_c")),
            4 => (KEY, None),
            _ => return Ok(None),
        };
        // The directory tests' company, with this test's Retell settings.
        let profile = OneCompany::default()
            .company(id)
            .await?
            .map(|p| CompanyProfile {
                retell_api_key: SecretString::from(key),
                retell_agent_id: agent.map(str::to_owned),
                ..p
            });
        Ok(profile)
    }
    async fn services(&self, _: CompanyId) -> Result<Vec<Service>, StoreError> {
        Ok(vec![])
    }
}

/// Our records: branch numbers per company and recorded calls with their owner.
#[derive(Default)]
struct Records {
    numbers: Vec<(CompanyId, BranchNumber)>,
    calls: Mutex<HashMap<CallId, ImportedCall>>,
}

impl Records {
    fn new() -> Self {
        let number = |company: i64, n: &str| {
            (
                CompanyId(company),
                BranchNumber {
                    phone_number: n.into(),
                    branch_id: BranchId(company * 10),
                    branch_name: format!("Branch of {company}"),
                },
            )
        };
        Self {
            numbers: vec![
                number(1, OUR_NUMBER),
                number(1, UNBOUND_NUMBER),
                number(1, MISSING_NUMBER),
                number(2, OTHER_COMPANY_NUMBER),
            ],
            calls: Mutex::default(),
        }
    }

    fn owner_of_number(&self, number: &str) -> Option<CompanyId> {
        self.numbers
            .iter()
            .find(|(_, n)| n.phone_number == number)
            .map(|(c, _)| *c)
    }
}

#[async_trait]
impl RetellRecordStore for Records {
    async fn branch_numbers(&self, company: CompanyId) -> Result<Vec<BranchNumber>, StoreError> {
        Ok(self
            .numbers
            .iter()
            .filter(|(c, _)| *c == company)
            .map(|(_, n)| n.clone())
            .collect())
    }
    async fn known_calls(
        &self,
        company: CompanyId,
        call_ids: &[CallId],
    ) -> Result<Vec<CallId>, StoreError> {
        let calls = self.calls.lock().unwrap();
        Ok(call_ids
            .iter()
            .filter(|id| calls.get(*id).is_some_and(|c| c.company_id == company))
            .cloned()
            .collect())
    }
    async fn import_calls(&self, calls: &[ImportedCall]) -> Result<Vec<ImportOutcome>, StoreError> {
        let mut stored = self.calls.lock().unwrap();
        Ok(calls
            .iter()
            .map(|call| {
                let number_owner = call
                    .business_number
                    .as_deref()
                    .and_then(|n| self.owner_of_number(n));
                match stored.get(&call.call_id) {
                    Some(known) if known.company_id == call.company_id => {
                        ImportOutcome::AlreadyKnown
                    }
                    Some(_) => ImportOutcome::Foreign,
                    None if number_owner.is_some_and(|o| o != call.company_id) => {
                        ImportOutcome::Foreign
                    }
                    None => {
                        stored.insert(call.call_id.clone(), call.clone());
                        ImportOutcome::Imported
                    }
                }
            })
            .collect())
    }
}

/// A call of `agent` that started `minutes_ago` before [`now`], to `to`.
fn call(id: &str, agent: &str, status: &str, minutes_ago: i64, to: &str) -> CallObject {
    let start = (now() - chrono::Duration::minutes(minutes_ago)).timestamp_millis();
    let raw = json!({
        "call_id": id,
        "agent_id": agent,
        "call_type": "phone_call",
        "call_status": status,
        "direction": "inbound",
        "from_number": "+4915112345678",
        "to_number": to,
        "start_timestamp": start,
        "end_timestamp": start + 90_000,
        "duration_ms": 90_000,
        "disconnection_reason": "user_hangup",
        "call_analysis": {"call_summary": "booked a cut", "user_sentiment": "Positive",
            "call_successful": true},
    });
    CallObject {
        call: serde_json::from_value(raw.clone()).unwrap(),
        raw,
    }
}

fn number(phone: &str, agent: Option<&str>) -> RetellPhoneNumber {
    RetellPhoneNumber {
        phone_number: phone.into(),
        phone_number_type: Some("retell-twilio".into()),
        nickname: None,
        inbound_agents: agent
            .map(|a| AgentBinding {
                agent_id: a.into(),
                agent_version: None,
                weight: 1.0,
            })
            .into_iter()
            .collect(),
        inbound_webhook_url: None,
        last_modification_timestamp: 1_764_000_000_000,
    }
}

/// The shared account: agents a, b and x, numbers (ours bound, ours unbound, Retell-only,
/// company 2's), and calls of both agents.
fn account() -> Arc<FakeRetell> {
    let fake = Arc::new(FakeRetell::new(KEY));
    {
        let mut account = fake.account.lock().unwrap();
        account.agents = vec![
            agent(AGENT, "llm_a"),
            agent(OTHER_AGENT, "llm_b"),
            agent("agent_x", "llm_x"),
        ];
        account.llms = vec![llm("llm_a"), llm("llm_b"), llm("llm_x")];
        account.numbers = vec![
            number(OUR_NUMBER, Some(AGENT)),
            number(UNBOUND_NUMBER, Some(OTHER_AGENT)),
            number(RETELL_ONLY_NUMBER, None),
            number(OTHER_COMPANY_NUMBER, Some(OTHER_AGENT)),
        ];
        account.calls = vec![
            call("call_1", AGENT, "ended", 10, OUR_NUMBER),
            call("call_2", AGENT, "ongoing", 20, OUR_NUMBER),
            call("call_3", OTHER_AGENT, "ended", 30, OTHER_COMPANY_NUMBER),
            call("call_4", AGENT, "not_connected", 40, UNBOUND_NUMBER),
            call("call_old", AGENT, "ended", 60 * 24 * 30, OUR_NUMBER),
        ];
    }
    fake
}

struct Harness {
    fake: Arc<FakeRetell>,
    records: Arc<Records>,
    server: Addr<RetellServer>,
}

impl Harness {
    fn start(fake: Arc<FakeRetell>) -> Self {
        let records = Arc::new(Records::new());
        let companies = Arc::new(Companies);
        let budget = RestartBudget::new(10, Duration::from_secs(60));
        let tenants = TenantDirectory::new(
            Arc::clone(&companies) as Arc<dyn TenancyStore>,
            CalcomAccess {
                apis: Arc::new(crate::ports::SameCalendarApi(Arc::new(
                    crate::appointments::testing::FakeCal::default(),
                ))),
                limiter: Arc::new(crate::ratelimit::LocalLimiter::new(
                    &crate::ratelimit::Quotas::uniform(std::num::NonZeroU32::MAX),
                )),
                policy: UpstreamPolicy::default(),
                retries: RetryBudget::default(),
            },
            RetellAccess {
                api: Arc::clone(&fake) as Arc<dyn RetellApi>,
                policy: UpstreamPolicy::default(),
                retries: RetryBudget::default(),
            },
            TenantLock::new(
                Arc::new(OneCompany::default()) as Arc<dyn LockStore>,
                Arc::new(FixedClock),
                "me".into(),
            ),
            Duration::from_secs(1800),
            budget.clone(),
        )
        .start();
        let server = RetellServer::with_deps(
            RetellDeps {
                tenants,
                records: Arc::clone(&records) as Arc<dyn RetellRecordStore>,
                clock: Arc::new(FixedClock),
            },
            budget,
        )
        .start();
        Self {
            fake,
            records,
            server,
        }
    }

    async fn call(
        &self,
        method: &str,
        params: Value,
        grant: TokenGrant,
    ) -> Result<Value, RpcError> {
        self.server
            .send(ServerCall {
                method: method.to_owned(),
                params: Some(params),
                span: tracing::Span::none(),
                grant,
            })
            .await
            .unwrap()
            .map(|out| out.data.to_value())
    }

    fn writes(&self) -> usize {
        self.fake.account.lock().unwrap().writes
    }

    fn requests(&self) -> usize {
        self.fake.account.lock().unwrap().requests
    }
}

fn admin_of(company: i64) -> TokenGrant {
    TokenGrant::company(CompanyId(company), TokenScope::Admin, "admin")
}

fn reader() -> TokenGrant {
    TokenGrant::company(CompanyId(1), TokenScope::Read, "reader")
}

fn server_error() -> UpstreamError {
    UpstreamError::ServerError {
        service: "retell",
        answer: ErrorAnswer {
            status: 500,
            code: None,
            message: "An unexpected server error occurred.".into(),
        },
        retry_after: None,
    }
}

fn retry_after(e: &RpcError) -> Option<u64> {
    e.data.as_ref()?.get("retry_after")?.as_u64()
}

#[test]
fn list_agents_answers_the_tenant_key_page() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let first = h
            .call("retell.listAgents", json!({"limit": 2}), reader())
            .await
            .unwrap();
        let ids: Vec<_> = first["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["agent_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [AGENT, OTHER_AGENT]);
        let cursor = first["next"].as_str().unwrap();
        let second = h
            .call("retell.listAgents", json!({"cursor": cursor}), reader())
            .await
            .unwrap();
        assert_eq!(second["items"][0]["agent_id"], "agent_x");
        assert!(second["next"].is_null());
        let e = h
            .call("retell.listAgents", json!({"limit": 101}), reader())
            .await
            .unwrap_err();
        assert_eq!(e.code, -32602, "the page limit is 100");
    });
}

#[test]
fn get_agent_defaults_to_the_tenant_agent() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let agent = h
            .call("retell.getAgent", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(agent["agent_id"], AGENT);
        assert_eq!(agent["response_engine"]["llm_id"], "llm_a");
        let e = h
            .call("retell.getAgent", json!({"version": 7}), reader())
            .await
            .unwrap_err();
        assert_eq!(e.code, 1002, "a version Retell does not have");
    });
}

#[test]
fn company_token_cannot_read_another_agent() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        for (method, params) in [
            ("retell.getAgent", json!({"agent_id": OTHER_AGENT})),
            ("retell.getAgentVersions", json!({"agent_id": OTHER_AGENT})),
            (
                "retell.updateAgent",
                json!({"agent_id": OTHER_AGENT, "agent_name": "mine now"}),
            ),
            (
                "retell.publishAgentVersion",
                json!({"agent_id": OTHER_AGENT, "version": 0}),
            ),
            ("retell.getAgent", json!({"company_id": 2})),
        ] {
            let e = h.call(method, params, admin_of(1)).await.unwrap_err();
            assert_eq!(e.code, -32002, "{method}: {}", e.message);
        }
        assert_eq!(h.requests(), 0, "nothing was asked of Retell");
        assert_eq!(h.writes(), 0);
    });
}

#[test]
fn tenant_without_retell_key_gets_1001_naming_where_to_set_it() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let e = h
            .call("retell.getAgent", json!({}), admin_of(3))
            .await
            .unwrap_err();
        assert_eq!(e.code, 1001);
        assert!(
            e.message.contains("company.setCredentials"),
            "{}",
            e.message
        );
        assert_eq!(h.requests(), 0);
    });
}

#[test]
fn tenant_without_agent_gets_1002_naming_retell_agent_id() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        for method in [
            "retell.getAgent",
            "retell.getRecentCalls",
            "retell.importCalls",
            "retell.syncPhoneNumbers",
        ] {
            let e = h.call(method, json!({}), admin_of(4)).await.unwrap_err();
            assert_eq!(e.code, 1002, "{method}");
            assert!(e.message.contains("retell.agent_id"), "{}", e.message);
        }
    });
}

#[test]
fn update_agent_refuses_bad_values_and_changes_nothing() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        for params in [
            json!({"webhook_url": "http://switchboard.example.com/api/mcp/retell/webhook"}),
            json!({"webhook_url": "https://user:pw@switchboard.example.com/hook"}),
            json!({"webhook_events": ["call_ended", "call_exploded"]}),
            json!({"webhook_timeout_ms": 10}),
            json!({"voice_id": "11labs-Adrian"}),
            json!({}),
        ] {
            let e = h
                .call("retell.updateAgent", params.clone(), admin_of(1))
                .await
                .unwrap_err();
            let value_refused =
                params.get("webhook_url").is_some() || params.get("webhook_events").is_some();
            let expected = if value_refused { 4004 } else { -32602 };
            assert_eq!(e.code, expected, "{params}");
        }
        assert_eq!(h.writes(), 0, "no refused update reached Retell");
    });
}

#[test]
fn update_agent_changes_the_draft_once() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let agent = h
            .call(
                "retell.updateAgent",
                json!({
                    "webhook_url": "https://switchboard.example.com/api/mcp/retell/webhook",
                    "webhook_events": ["call_started", "call_ended", "call_analyzed"],
                    "webhook_timeout_ms": 8000,
                }),
                admin_of(1),
            )
            .await
            .unwrap();
        assert_eq!(
            agent["webhook_url"],
            "https://switchboard.example.com/api/mcp/retell/webhook"
        );
        assert_eq!(agent["webhook_timeout_ms"], 8000);
        assert_eq!(h.writes(), 1);
    });
}

#[test]
fn publish_agent_version_publishes_the_draft() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let out = h
            .call(
                "retell.publishAgentVersion",
                json!({"version": 0}),
                admin_of(1),
            )
            .await
            .unwrap();
        assert_eq!(out, json!({"agent_id": AGENT, "version": 0}));
        let versions = h
            .call("retell.getAgentVersions", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(versions["items"][0]["is_published"], true);
        assert_eq!(versions["items"].as_array().unwrap().len(), 2);
        let e = h
            .call(
                "retell.publishAgentVersion",
                json!({"version": 9}),
                admin_of(1),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, 1002);
    });
}

#[test]
fn call_details_of_another_agent_are_answered_like_an_unknown_call() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let own = h
            .call(
                "retell.getCallDetails",
                json!({"call_id": "call_1"}),
                reader(),
            )
            .await
            .unwrap();
        assert_eq!(own["call_id"], "call_1");
        let foreign = h
            .call(
                "retell.getCallDetails",
                json!({"call_id": "call_3"}),
                reader(),
            )
            .await
            .unwrap_err();
        let unknown = h
            .call(
                "retell.getCallDetails",
                json!({"call_id": "call_nope"}),
                reader(),
            )
            .await
            .unwrap_err();
        assert_eq!(foreign.code, -32602);
        assert_eq!(foreign.data.as_ref().unwrap()["type"], "not_found");
        assert_eq!(
            (foreign.code, foreign.message.replace("call_3", "X")),
            (unknown.code, unknown.message.replace("call_nope", "X"))
        );
    });
}

#[test]
fn call_details_of_a_company_without_agent_are_not_found_for_any_call() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        for id in ["call_1", "call_nope"] {
            let e = h
                .call("retell.getCallDetails", json!({"call_id": id}), admin_of(4))
                .await
                .unwrap_err();
            assert_eq!(e.data.as_ref().unwrap()["type"], "not_found", "{id}");
        }
        assert_eq!(h.requests(), 0);
    });
}

#[test]
fn recent_calls_are_only_the_tenant_agent_calls() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let since = (now() - chrono::Duration::days(1)).to_rfc3339();
        let out = h
            .call("retell.getRecentCalls", json!({"since": since}), reader())
            .await
            .unwrap();
        let ids: Vec<_> = out["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["call_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["call_1", "call_2", "call_4"]);
        let e = h
            .call(
                "retell.getRecentCalls",
                json!({"since": "yesterday"}),
                reader(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, -32602);
    });
}

#[test]
fn call_stats_count_the_window_by_status_reason_and_duration() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        h.records.calls.lock().unwrap().insert(
            CallId::parse("call_1").unwrap(),
            imported_record(CompanyId(1), "call_1"),
        );
        let stats = h
            .call("retell.getCallStats", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(stats["calls"], 3, "the last 7 days of agent_a: {stats}");
        assert_eq!(
            stats["by_status"],
            json!({"ended": 1, "ongoing": 1, "not_connected": 1})
        );
        assert_eq!(stats["by_disconnection_reason"], json!({"user_hangup": 3}));
        assert_eq!(stats["by_sentiment"], json!({"Positive": 3}));
        assert_eq!(stats["by_success"], json!({"true": 3}));
        assert_eq!(stats["total_duration_ms"], 270_000);
        assert_eq!(stats["average_duration_ms"], 90_000);
        assert_eq!(stats["recorded_locally"], 1);
        assert_eq!(stats["truncated"], false);
        let e = h
            .call(
                "retell.getCallStats",
                json!({"since": "2026-11-23T10:00:00Z", "until": "2026-11-22T10:00:00Z"}),
                reader(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, -32602, "since after until");
    });
}

#[test]
fn call_stats_stop_at_the_page_cap_and_say_truncated() {
    paused_system().block_on(async {
        let fake = account();
        fake.account.lock().unwrap().calls = (0..2_050)
            .map(|i| call(&format!("call_many_{i}"), AGENT, "ended", 1, OUR_NUMBER))
            .collect();
        let h = Harness::start(fake);
        let stats = h
            .call("retell.getCallStats", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(stats["pages"], 20);
        assert_eq!(stats["calls"], 2_000);
        assert_eq!(stats["truncated"], true);
    });
}

fn imported_record(company: CompanyId, id: &str) -> ImportedCall {
    ImportedCall {
        company_id: company,
        call_id: CallId::parse(id).unwrap(),
        status: "ended".into(),
        business_number: None,
        from_number: None,
        to_number: None,
        direction: None,
        started_at: None,
        ended_at: None,
        duration_ms: None,
        disconnection_reason: None,
        summary: None,
        sentiment: None,
        payload: "{}".into(),
        imported_at: now(),
    }
}

#[test]
fn import_calls_twice_imports_once() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let first = h
            .call("retell.importCalls", json!({}), admin_of(1))
            .await
            .unwrap();
        assert_eq!(
            (
                &first["scanned"],
                &first["imported"],
                &first["already_known"],
                &first["not_ended"]
            ),
            (&json!(3), &json!(2), &json!(0), &json!(1)),
            "{first}"
        );
        let second = h
            .call("retell.importCalls", json!({}), admin_of(1))
            .await
            .unwrap();
        assert_eq!(second["imported"], 0);
        assert_eq!(second["already_known"], 2);
        assert_eq!(h.records.calls.lock().unwrap().len(), 2);
    });
}

#[test]
fn import_calls_records_the_call_fields() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        h.call("retell.importCalls", json!({}), admin_of(1))
            .await
            .unwrap();
        let calls = h.records.calls.lock().unwrap();
        let c = &calls[&CallId::parse("call_1").unwrap()];
        assert_eq!(c.company_id, CompanyId(1));
        assert_eq!(c.status, "ended");
        assert_eq!(c.business_number.as_deref(), Some(OUR_NUMBER));
        assert_eq!(c.duration_ms, Some(90_000));
        assert_eq!(c.disconnection_reason.as_deref(), Some("user_hangup"));
        assert_eq!(c.summary.as_deref(), Some("booked a cut"));
        assert_eq!(c.sentiment.as_deref(), Some("Positive"));
        assert_eq!(c.started_at, Some(now() - chrono::Duration::minutes(10)));
        let payload: Value = serde_json::from_str(&c.payload).unwrap();
        assert_eq!(payload["call_id"], "call_1");
        assert!(
            !calls.contains_key(&CallId::parse("call_2").unwrap()),
            "an ongoing call is left to its webhooks"
        );
    });
}

#[test]
fn import_calls_never_touches_a_call_of_another_company() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let theirs = ImportedCall {
            summary: Some("company 2's own record".into()),
            ..imported_record(CompanyId(2), "call_1")
        };
        h.records
            .calls
            .lock()
            .unwrap()
            .insert(theirs.call_id.clone(), theirs.clone());
        let out = h
            .call("retell.importCalls", json!({}), admin_of(1))
            .await
            .unwrap();
        assert_eq!(out["skipped_foreign"], 1);
        assert_eq!(out["imported"], 1);
        assert_eq!(
            h.records.calls.lock().unwrap()[&theirs.call_id],
            theirs,
            "company 2's record is unchanged"
        );
    });
}

#[test]
fn import_calls_skips_a_call_to_another_company_number() {
    paused_system().block_on(async {
        let fake = account();
        fake.account.lock().unwrap().calls.push(call(
            "call_5",
            AGENT,
            "ended",
            5,
            OTHER_COMPANY_NUMBER,
        ));
        let h = Harness::start(fake);
        let out = h
            .call("retell.importCalls", json!({}), admin_of(1))
            .await
            .unwrap();
        assert_eq!(out["skipped_foreign"], 1);
        assert!(
            !h.records
                .calls
                .lock()
                .unwrap()
                .contains_key(&CallId::parse("call_5").unwrap())
        );
    });
}

#[test]
fn sync_phone_numbers_reports_a_number_missing_on_each_side() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let sync = h
            .call("retell.syncPhoneNumbers", json!({}), reader())
            .await
            .unwrap();
        let both: Vec<_> = sync["in_both"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["phone_number"].as_str().unwrap(),
                    n["bound_to_agent"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(both, [(OUR_NUMBER, true), (UNBOUND_NUMBER, false)]);
        assert_eq!(
            sync["only_in_retell"],
            json!([RETELL_ONLY_NUMBER, OTHER_COMPANY_NUMBER])
        );
        assert_eq!(sync["only_ours"][0]["phone_number"], MISSING_NUMBER);
        assert_eq!(sync["only_ours"].as_array().unwrap().len(), 1);
        assert_eq!(sync["not_bound"], json!([UNBOUND_NUMBER]));
        assert_eq!(h.writes(), 0, "read-only");
    });
}

#[test]
fn set_agent_version_refuses_a_number_of_another_tenant() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        for number in [OTHER_COMPANY_NUMBER, RETELL_ONLY_NUMBER] {
            let e = h
                .call(
                    "retell.setPhoneNumberAgentVersion",
                    json!({"phone_number": number, "agent_version": 0}),
                    admin_of(1),
                )
                .await
                .unwrap_err();
            assert_eq!(e.code, 1003, "{number}");
        }
        assert_eq!(h.requests(), 0, "refused before Retell was asked");
        for number in [UNBOUND_NUMBER, MISSING_NUMBER] {
            let e = h
                .call(
                    "retell.setPhoneNumberAgentVersion",
                    json!({"phone_number": number, "agent_version": 0}),
                    admin_of(1),
                )
                .await
                .unwrap_err();
            assert_eq!(
                e.code, 1003,
                "{number}: not bound to the agent / not in Retell"
            );
        }
        assert_eq!(h.writes(), 0);
    });
}

#[test]
fn set_agent_version_binds_the_tenant_number_to_that_version() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let e = h
            .call(
                "retell.setPhoneNumberAgentVersion",
                json!({"phone_number": OUR_NUMBER, "agent_version": 4}),
                admin_of(1),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, 1002, "a version the agent does not have");
        let number = h
            .call(
                "retell.setPhoneNumberAgentVersion",
                json!({"phone_number": OUR_NUMBER, "agent_version": 0}),
                admin_of(1),
            )
            .await
            .unwrap();
        assert_eq!(
            number["inbound_agents"],
            json!([{"agent_id": AGENT, "agent_version": 0, "weight": 1.0}])
        );
        let stored = h.fake.account.lock().unwrap().numbers[0]
            .inbound_agents
            .clone();
        assert_eq!(stored[0].agent_version, Some(AgentVersionRef::Number(0)));
        assert_eq!(h.writes(), 1);
    });
}

/// Fails Retell until company 1's breaker is open.
async fn open_the_breaker(h: &Harness) {
    h.fake.account.lock().unwrap().failure = Some(server_error());
    for _ in 0..50 {
        let health = h
            .call("retell.healthCheck", json!({}), reader())
            .await
            .unwrap();
        if health["breaker"] == "open" {
            return;
        }
        let e = h
            .call("retell.getAgent", json!({}), reader())
            .await
            .unwrap_err();
        assert_eq!(e.code, -32004, "a failing Retell is upstream unavailable");
    }
    panic!("the breaker never opened");
}

#[test]
fn open_breaker_answers_minus_32004_with_retry_after_without_calling_retell() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        open_the_breaker(&h).await;
        h.fake.account.lock().unwrap().failure = None;
        let before = h.requests();
        for method in [
            "retell.getAgent",
            "retell.listAgents",
            "retell.getRecentCalls",
            "retell.importCalls",
            "retell.syncPhoneNumbers",
        ] {
            let e = h.call(method, json!({}), reader()).await.unwrap_err();
            assert_eq!(e.code, -32004, "{method}");
            assert!(retry_after(&e).is_some_and(|s| s >= 1), "{method}: {e:?}");
        }
        let health = h
            .call("retell.healthCheck", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(health["status"], "unhealthy");
        assert!(health["probe"].is_null());
        assert!(health["retry_after_s"].as_u64().is_some());
        assert_eq!(h.requests(), before, "nothing reached Retell while open");
        assert_eq!(
            h.records.calls.lock().unwrap().len(),
            0,
            "nothing imported while open"
        );
    });
}

#[test]
fn test_connection_bypasses_the_open_breaker() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        open_the_breaker(&h).await;
        h.fake.account.lock().unwrap().failure = None;
        let out = h
            .call("retell.testConnection", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(out["key_valid"], true);
        assert_eq!(out["agent_found"], true);
        assert_eq!(out["response_engine"]["type"], "retell-llm");
        let health = h
            .call("retell.healthCheck", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(
            health["breaker"], "open",
            "the check did not touch the breaker"
        );
    });
}

#[test]
fn test_connection_reports_a_refused_key_as_1001_and_a_missing_agent() {
    paused_system().block_on(async {
        let fake = account();
        fake.account
            .lock()
            .unwrap()
            .agents
            .retain(|a| a.agent_id != AGENT);
        let h = Harness::start(fake);
        let out = h
            .call("retell.testConnection", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(out["agent_found"], false);
        let refused = Harness::start(Arc::new(FakeRetell::new("key_other")));
        let e = refused
            .call("retell.testConnection", json!({}), reader())
            .await
            .unwrap_err();
        assert_eq!(e.code, 1001);
    });
}

#[test]
fn health_check_is_healthy_with_key_agent_and_an_answer() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let health = h
            .call("retell.healthCheck", json!({}), reader())
            .await
            .unwrap();
        assert_eq!(health["status"], "healthy");
        assert_eq!(health["breaker"], "closed");
        assert_eq!(health["probe"]["ok"], true);
        let unset = h
            .call("retell.healthCheck", json!({}), admin_of(3))
            .await
            .unwrap();
        assert_eq!(unset["key_configured"], false);
        assert_eq!(unset["status"], "unhealthy");
        assert!(unset["probe"].is_null());
    });
}

#[test]
fn retell_failures_map_to_the_design_codes() {
    let answer = ErrorAnswer {
        status: 401,
        code: None,
        message: "API key is missing or invalid.".into(),
    };
    let unauthorized = UpstreamError::Unauthorized {
        service: "retell",
        answer: answer.clone(),
    };
    assert_eq!(
        retell_error(&unauthorized, ErrorCode::AgentNotFound).code,
        1001
    );
    let missing = UpstreamError::NotFound {
        service: "retell",
        answer: answer.clone(),
    };
    assert_eq!(
        retell_error(&missing, ErrorCode::PhoneNumberNotConfigured).code,
        1003
    );
    let limited = UpstreamError::RateLimited {
        service: "retell",
        answer: answer.clone(),
        retry_after: Some(Duration::from_secs(30)),
    };
    let e = retell_error(&limited, ErrorCode::AgentNotFound);
    assert_eq!((e.code, retry_after(&e)), (-32004, Some(30)));
    let down = UpstreamError::Transport {
        service: "retell",
        message: "connection refused".into(),
    };
    let e = retell_error(&down, ErrorCode::AgentNotFound);
    assert_eq!((e.code, retry_after(&e)), (-32004, Some(1)));
    let refused = UpstreamError::Rejected {
        service: "retell",
        answer,
    };
    assert_eq!(
        retell_error(&refused, ErrorCode::AgentNotFound).code,
        -32602
    );
}

#[test]
fn webhook_url_must_be_https_or_loopback_http() {
    use super::check_webhook_settings;
    for ok in [
        "https://switchboard.example.com/api/mcp/retell/webhook",
        "http://127.0.0.1:8080/api/mcp/retell/webhook",
        "http://localhost/api/mcp/retell/webhook",
        "http://[::1]:9000/hook",
    ] {
        assert!(check_webhook_settings(Some(ok), None).is_ok(), "{ok}");
    }
    for bad in [
        "http://switchboard.example.com/hook",
        "http://10.0.0.1/hook",
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
        "not a url",
    ] {
        let e = check_webhook_settings(Some(bad), None).unwrap_err();
        assert_eq!(e.code, 4004, "{bad}");
    }
}

#[test]
fn update_agent_refuses_a_name_with_hidden_characters() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        for name in ["\u{202e}evil", "a\u{0}b", "   "] {
            let e = h
                .call(
                    "retell.updateAgent",
                    json!({"agent_name": name}),
                    admin_of(1),
                )
                .await
                .unwrap_err();
            assert_eq!(e.code, 4004, "{name:?}");
        }
        assert_eq!(h.writes(), 0);
    });
}

#[test]
fn recent_calls_refuse_since_after_until() {
    paused_system().block_on(async {
        let h = Harness::start(account());
        let e = h
            .call(
                "retell.getRecentCalls",
                json!({"since": "2026-12-05T00:00:00Z", "until": "2026-12-01T00:00:00Z"}),
                admin_of(1),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, -32602);
    });
}
