//! What the Retell endpoints share: resolving the business number of a call to its tenant,
//! verifying `X-Retell-Signature` with that tenant's Retell API key, and [`RetellError`], the
//! one mapping of their failures to HTTP.

use super::AppState;
use actix::MailboxError;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use secrecy::ExposeSecret;
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
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
    /// No branch owns the business number (404, `1003`).
    #[error(transparent)]
    NumberNotConfigured(RouteError),
    /// The tenant lookup failed (503, `3004`): Retell retries.
    #[error("database unavailable")]
    TenantLookup(#[source] StoreError),
    /// The signature is missing, malformed, stale or wrong (401, `unauthorized`).
    #[error(transparent)]
    Signature(#[from] SignatureError),
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
            Self::NumberNotConfigured(_) => "1003",
            Self::TenantLookup(_) | Self::WebhookNotStored(_) => "3004",
            Self::Signature(_) => "unauthorized",
            Self::UnknownFunction(_) => "unknown_function",
            Self::OtherTenant(_) => "-32002",
            Self::WebhookServerUnavailable(_) => "internal",
        }
    }
}

impl From<RouteError> for RetellError {
    fn from(e: RouteError) -> Self {
        match e {
            RouteError::NoNumber | RouteError::InvalidNumber(_) => Self::InvalidNumber(e),
            RouteError::NotConfigured(_) => Self::NumberNotConfigured(e),
            RouteError::Store(s) => Self::TenantLookup(s),
        }
    }
}

impl ResponseError for RetellError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Malformed(_) | Self::InvalidNumber(_) => StatusCode::BAD_REQUEST,
            Self::Signature(_) => StatusCode::UNAUTHORIZED,
            Self::OtherTenant(_) => StatusCode::FORBIDDEN,
            Self::NumberNotConfigured(_) | Self::UnknownFunction(_) => StatusCode::NOT_FOUND,
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

/// Resolves the tenant of `number` and checks the request's signature over `body`.
pub async fn authenticate_call(
    req: &HttpRequest,
    body: &[u8],
    number: Option<&str>,
    state: &AppState,
) -> Result<TenantRoute, RetellError> {
    let route = state.lookups.route(state.store.as_ref(), number).await?;
    let header = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    signature::verify(
        header,
        body,
        route.company.retell_api_key.expose_secret(),
        state.clock.now().timestamp_millis(),
        state.signature_tolerance_ms,
    )
    .inspect_err(|e| {
        tracing::warn!(company = %route.company.id, error = %e, "rejected Retell signature");
    })?;
    Ok(route)
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
                RouteError::NoNumber.into(),
                400,
                "4003",
                "the call object has no business phone number (to_number / from_number)",
            ),
            (
                RouteError::InvalidNumber("12".into()).into(),
                400,
                "4003",
                "\"12\" is not a valid E.164 phone number",
            ),
            (
                RouteError::NotConfigured("+4940123456789".into()).into(),
                404,
                "1003",
                "phone number +4940123456789 is not configured for any company",
            ),
            (
                RouteError::Store(corrupt.clone()).into(),
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
        let error = RetellError::from(RouteError::Store(StoreError::Corrupt {
            table: "companies",
            message: "secret detail".into(),
        }));
        assert!(!answered(&error).1.to_string().contains("secret detail"));
    }
}
