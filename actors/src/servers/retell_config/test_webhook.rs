//! `retell.config.testWebhook`: checks from outside, through `server.public_url`, that Retell
//! can reach our endpoints and that they verify signatures made with the tenant's key — without
//! writing anything into the tenant's records.
//!
//! Two requests, each refused or answered before anything is stored:
//! 1. `webhook_reachable`: a `call_started` event for the tenant's first number to
//!    `/api/mcp/retell/webhook` **without** a signature. Expected 401: the route is reachable
//!    and refuses unsigned events (a signed one would be recorded, so none is sent).
//! 2. `signature_verified`: a custom-function request for the tenant's number, signed with the
//!    tenant's key exactly as Retell signs (reference/retell.md §2.1), to
//!    `/api/mcp/retell/custom-function` naming a function that does not exist. Expected 404
//!    `unknown_function`, which the route only answers after the signature passed (a wrong key
//!    is 401); an unknown function runs nothing and writes nothing. The webhook route verifies
//!    with the same code and key.

use super::RetellConfigDeps;
use crate::domain::ids::CompanyId;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::deploy::{CUSTOM_FUNCTION_PATH, WEBHOOK_PATH};
use crate::retell::signature;
use crate::server::require_company;
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use tokio::time::Instant;

/// `retell.config.testWebhook`.
pub struct TestWebhook;

/// Params of `retell.config.testWebhook`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestParams {
    /// Defaults to the token's company; required with an admin token.
    pub company_id: Option<CompanyId>,
}

/// Name of the function the signed probe asks for: no function has it.
pub const PROBE_FUNCTION: &str = "switchboard_signature_test";
/// `call_id` of the probes' call object: no call has it, and nothing is stored under it.
pub const PROBE_CALL_ID: &str = "switchboard_webhook_test";

/// One request of the check.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeResult {
    /// `webhook_reachable` or `signature_verified`.
    pub name: &'static str,
    /// The URL posted to.
    pub url: String,
    /// The status expected.
    pub expected_status: u16,
    /// The status answered; `None` when no answer came.
    pub status: Option<u16>,
    /// Whether it was the expected one.
    pub ok: bool,
    /// Time to the answer, ms.
    pub latency_ms: u64,
    /// Why no answer came.
    pub error: Option<String>,
}

/// `result.data` of `retell.config.testWebhook`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookTest {
    /// Whether every request answered as expected.
    pub ok: bool,
    /// The business number the requests named.
    pub phone_number: String,
    /// Each request.
    pub checks: Vec<ProbeResult>,
}

impl Method for TestWebhook {
    const NAME: &'static str = "retell.config.testWebhook";
    const SUMMARY: &'static str = "Checks through server.public_url that Retell can reach us and \
        that we verify signatures made with the tenant's Retell key, writing nothing: an \
        unsigned call_started to the webhook route must be refused (401), and a custom-function \
        request signed with the tenant's key naming no function must pass the signature and be \
        answered 404. Reports each status and latency in ms. Refused without server.public_url \
        (1004), a Retell key (1001) or a branch number (1003).";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Read;
    type Deps = RetellConfigDeps;
    type Params = TestParams;
    type Output = WebhookTest;

    async fn apply(
        p: TestParams,
        grant: TokenGrant,
        deps: Arc<RetellConfigDeps>,
    ) -> Result<Reply<WebhookTest>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let public_url = deps.public_url()?;
        let handle = deps.handle(company).await?;
        let key = handle.profile.retell_api_key.expose_secret().to_owned();
        if key.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRetellKey,
                format!("company {company} has no Retell API key (retell.api_key)"),
            )
            .into());
        }
        let Some(number) = deps.branch_numbers(company).await?.into_iter().next() else {
            return Err(AppError::new(
                ErrorCode::PhoneNumberNotConfigured,
                format!("company {company} has no branch number: the webhook routes by it"),
            )
            .into());
        };
        let base = public_url.trim_end_matches('/');
        let call = json!({"call_id": PROBE_CALL_ID, "direction": "inbound", "to_number": number});
        let unsigned = json!({"event": "call_started", "call": call}).to_string();
        let reachable = probe(
            &deps,
            "webhook_reachable",
            format!("{base}{WEBHOOK_PATH}"),
            401,
            Vec::new(),
            unsigned.into_bytes(),
        )
        .await;
        let signed = json!({"name": PROBE_FUNCTION, "call": call, "args": {}}).to_string();
        let header = signature::sign(signed.as_bytes(), &key, deps.clock.now().timestamp_millis());
        let verified = probe(
            &deps,
            "signature_verified",
            format!("{base}{CUSTOM_FUNCTION_PATH}"),
            404,
            vec![("x-retell-signature", header)],
            signed.into_bytes(),
        )
        .await;
        let checks = vec![reachable, verified];
        Reply::fresh(WebhookTest {
            ok: checks.iter().all(|c| c.ok),
            phone_number: number,
            checks,
        })
    }
}

async fn probe(
    deps: &RetellConfigDeps,
    name: &'static str,
    url: String,
    expected_status: u16,
    mut headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
) -> ProbeResult {
    headers.push(("content-type", "application/json".into()));
    let started = Instant::now();
    let answer = deps.probe.post(&url, &headers, body).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status, error) = match answer {
        Ok(status) => (Some(status), None),
        Err(e) => (None, Some(e.to_string())),
    };
    ProbeResult {
        name,
        url,
        expected_status,
        ok: status == Some(expected_status),
        status,
        latency_ms,
        error,
    }
}
