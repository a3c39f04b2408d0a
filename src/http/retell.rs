//! What the Retell endpoints share: resolving the business number of a call to its tenant,
//! verifying `X-Retell-Signature` with that tenant's Retell API key, and [`RetellError`], the
//! one mapping of their failures to HTTP.

use super::AppState;
use crate::cache::Delivery;
use actix::MailboxError;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use secrecy::ExposeSecret;
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_actors::domain::ids::CallId;
use switchboard_actors::domain::tenant::TenantRoute;
use switchboard_actors::ports::StoreError;
use switchboard_actors::retell::call::RetellCall;
use switchboard_actors::retell::signature::{self, SignatureError};
use switchboard_actors::servers::webhook::WebhookError;
use switchboard_actors::tenant::RouteError;

/// Header Retell signs with (reference/retell.md §2.1).
pub const SIGNATURE_HEADER: &str = "x-retell-signature";

/// Why a Retell request (webhook or custom function) was not served. Answered as
/// `{"error": {"code", "message"}}` with the status and code of each variant; `code` is one of
/// our DESIGN §5 codes where one fits, else a short name. `message` is this error's `Display`;
/// causes behind a 5xx go to the log, never to Retell.
#[derive(Debug, thiserror::Error)]
pub enum RetellError {
    /// The body is not the request the endpoint takes (400, `bad_request`).
    #[error("{0}")]
    Malformed(String),
    /// The call has no business number, or one that is not a phone number (400, `4003`).
    #[error(transparent)]
    InvalidNumber(RouteError),
    /// The tenant lookup failed (503, `3004`): Retell retries.
    #[error("database unavailable")]
    TenantLookup(#[source] StoreError),
    /// The signature is missing, malformed, stale or wrong (401, `unauthorized`). A business
    /// number that no branch owns is answered the same way, so numbers cannot be probed.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The signature was already used on another request (other path, function or query)
    /// within its window: a replay (401, `unauthorized`). Nothing is run or written.
    #[error("this signature was already used on another request")]
    Replayed,
    /// No custom function has this name (404, `unknown_function`).
    #[error("unknown custom function {0:?}")]
    UnknownFunction(String),
    /// The call's context belongs to another company (403, `-32002`).
    #[error("call {0} belongs to another company")]
    OtherTenant(CallId),
    /// The webhook could not be made durable (503, `3004`): Retell retries.
    #[error("webhook could not be stored; retry")]
    WebhookNotStored(#[source] WebhookError),
    /// The webhook server actor did not answer (503, `internal`): Retell retries.
    #[error("webhook server unavailable; retry")]
    WebhookServerUnavailable(#[source] MailboxError),
}

impl RetellError {
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "bad_request",
            Self::InvalidNumber(_) => "4003",
            Self::TenantLookup(_) | Self::WebhookNotStored(_) => "3004",
            Self::Signature(_) | Self::Replayed => "unauthorized",
            Self::UnknownFunction(_) => "unknown_function",
            Self::OtherTenant(_) => "-32002",
            Self::WebhookServerUnavailable(_) => "internal",
        }
    }
}

impl ResponseError for RetellError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Malformed(_) | Self::InvalidNumber(_) => StatusCode::BAD_REQUEST,
            Self::Signature(_) | Self::Replayed => StatusCode::UNAUTHORIZED,
            Self::OtherTenant(_) => StatusCode::FORBIDDEN,
            Self::UnknownFunction(_) => StatusCode::NOT_FOUND,
            Self::TenantLookup(_)
            | Self::WebhookNotStored(_)
            | Self::WebhookServerUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            let cause = std::error::Error::source(self).map(ToString::to_string);
            tracing::error!(error = %self, cause, "Retell request not served");
        }
        HttpResponse::build(status)
            .json(json!({"error": {"code": self.code(), "message": self.to_string()}}))
    }
}

/// The JSON body of a Retell request; `shape` names what was expected in the 400 answer,
/// e.g. `webhook {event, call}`.
pub fn parse_body<T: DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, RetellError> {
    serde_json::from_slice(body)
        .map_err(|e| RetellError::Malformed(format!("body is not a Retell {shape}: {e}")))
}

/// The Retell call object of a request (reference/retell.md §1.3), read from the raw value
/// without copying it (a `call_analyzed` call object carries the whole transcript).
///
/// # Errors
/// [`RetellError::Malformed`] naming what does not fit.
pub fn parse_call(call: &Value) -> Result<RetellCall, RetellError> {
    RetellCall::deserialize(call).map_err(|e| RetellError::Malformed(format!("call: {e}")))
}

/// Verified in place of a tenant's key when no branch owns the business number, so that an
/// unknown number costs the same HMAC and gets the same answer as a wrong signature. Whether
/// it matches does not matter: the request is refused either way.
const NO_TENANT_KEY: &str = "key_no_tenant_owns_this_number_000000";

/// Resolves the tenant of `number`, checks the request's signature over `body` with the
/// tenant's Retell key, and refuses a signature already used on another request
/// ([`ReplayGuard`](crate::cache::ReplayGuard)).
///
/// The signature is judged before anything about the number is told: an unknown number gets
/// exactly the answer of a wrong signature (401 `unauthorized`, same message), after an
/// equivalent HMAC verification, so numbers cannot be enumerated by status, body or time.
///
/// # Errors
/// [`RetellError::InvalidNumber`] (400) when the call has no business number or one that is
/// not a phone number; [`RetellError::TenantLookup`] (503) when the lookup failed;
/// [`RetellError::Signature`] (401) for a missing, malformed, stale or wrong signature and
/// for a number no branch owns; [`RetellError::Replayed`] (401) for a replay.
pub async fn authenticate_call(
    req: &HttpRequest,
    body: &[u8],
    number: Option<&str>,
    state: &AppState,
) -> Result<TenantRoute, RetellError> {
    let header = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now_ms = state.clock.now().timestamp_millis();
    let tolerance_ms = state.signature_tolerance_ms;
    let route = match state.lookups.route(state.store.as_ref(), number).await {
        Ok(route) => route,
        Err(e @ (RouteError::NoNumber | RouteError::InvalidNumber(_))) => {
            return Err(RetellError::InvalidNumber(e));
        }
        Err(RouteError::Store(e)) => return Err(RetellError::TenantLookup(e)),
        Err(RouteError::NotConfigured(number)) => {
            let refusal = signature::verify(header, body, NO_TENANT_KEY, now_ms, tolerance_ms)
                .err()
                .unwrap_or(SignatureError::Mismatch);
            tracing::warn!(%number, error = %refusal, "refused Retell request for an unconfigured number");
            return Err(refusal.into());
        }
    };
    let company = route.company.id;
    signature::verify(
        header,
        body,
        route.company.retell_api_key.expose_secret(),
        now_ms,
        tolerance_ms,
    )
    .inspect_err(|e| {
        tracing::warn!(%company, error = %e, "rejected Retell signature");
    })?;
    // `verify` accepted the header, so it is `v=<ms>,d=<hex>`.
    let (signed_at_ms, digest) = header
        .and_then(|h| h.trim().strip_prefix("v="))
        .and_then(|rest| rest.split_once(",d="))
        .and_then(|(ts, digest)| Some((ts.parse::<i64>().ok()?, digest)))
        .ok_or(SignatureError::Malformed)?;
    // The signature stays acceptable until its timestamp plus the tolerance.
    let valid_for_ms = signed_at_ms
        .saturating_add(tolerance_ms)
        .saturating_sub(now_ms)
        .max(1);
    let valid_for = Duration::from_millis(u64::try_from(valid_for_ms).unwrap_or(1));
    let request = format!("{} {}", req.method(), req.uri());
    match state
        .replay
        .check(company, digest, &request, valid_for)
        .await
    {
        Delivery::First | Delivery::Retry => Ok(route),
        Delivery::Replayed => {
            // The path only: the query may hold callers' phone numbers.
            let path = req.path();
            tracing::warn!(%company, path, "refused a Retell signature replayed on another request");
            Err(RetellError::Replayed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn answered(e: &RetellError) -> (u16, Value) {
        let response = e.error_response();
        let status = response.status().as_u16();
        let body = response.into_body().try_into_bytes().unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn each_refusal_has_its_status_code_and_message() {
        let corrupt = StoreError::Corrupt {
            table: "phone_numbers",
            message: "bad zone".into(),
        };
        let cases = [
            (
                RetellError::Malformed("call: x".into()),
                400,
                "bad_request",
                "call: x",
            ),
            (
                RetellError::InvalidNumber(RouteError::NoNumber),
                400,
                "4003",
                "the call object has no business phone number (to_number / from_number)",
            ),
            (
                RetellError::InvalidNumber(RouteError::InvalidNumber("12".into())),
                400,
                "4003",
                "\"12\" is not a valid E.164 phone number",
            ),
            (
                RetellError::Replayed,
                401,
                "unauthorized",
                "this signature was already used on another request",
            ),
            (
                RetellError::TenantLookup(corrupt.clone()),
                503,
                "3004",
                "database unavailable",
            ),
            (
                SignatureError::Missing.into(),
                401,
                "unauthorized",
                "missing X-Retell-Signature header",
            ),
            (
                RetellError::UnknownFunction("order_pizza".into()),
                404,
                "unknown_function",
                "unknown custom function \"order_pizza\"",
            ),
            (
                RetellError::OtherTenant(CallId::parse("c1").unwrap()),
                403,
                "-32002",
                "call c1 belongs to another company",
            ),
            (
                RetellError::WebhookNotStored(WebhookError::Store(corrupt)),
                503,
                "3004",
                "webhook could not be stored; retry",
            ),
            (
                RetellError::WebhookServerUnavailable(MailboxError::Closed),
                503,
                "internal",
                "webhook server unavailable; retry",
            ),
        ];
        for (error, status, code, message) in cases {
            assert_eq!(
                answered(&error),
                (status, json!({"error": {"code": code, "message": message}})),
                "{error:?}"
            );
        }
    }

    #[test]
    fn causes_of_a_5xx_stay_out_of_the_body() {
        let error = RetellError::TenantLookup(StoreError::Corrupt {
            table: "companies",
            message: "secret detail".into(),
        });
        assert!(!answered(&error).1.to_string().contains("secret detail"));
    }
}
