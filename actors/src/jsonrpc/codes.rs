//! Application error codes of DESIGN §5 and their mapping onto the JSON-RPC error object.

use serde_json::{Map, Value};

use super::error::RpcError;

/// An application error code (DESIGN §5), sent as `error.code`.
///
/// Ranges: 1xxx Retell, 2xxx Cal.com, 3xxx internal, 4xxx validation, -32001…-32005 gateway.
/// The gateway codes sit in JSON-RPC's implementation-defined "Server error" range
/// (-32000…-32099), which DESIGN §5 fixed before MCP reserved parts of it; they are only sent
/// on our JSON-RPC endpoint, never on `/mcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1001: Retell rejected the company's API key.
    InvalidRetellKey,
    /// 1002: no such Retell agent.
    AgentNotFound,
    /// 1003: the called number belongs to no branch.
    PhoneNumberNotConfigured,
    /// 1004: Retell refused the webhook registration.
    WebhookRegistrationFailed,
    /// 2001: Cal.com rejected the company's API key.
    InvalidCalcomKey,
    /// 2002: no such Cal.com event type.
    EventTypeNotFound,
    /// 2003: the requested time slot is taken or outside the schedule.
    SlotNotAvailable,
    /// 2004: Cal.com did not create the booking.
    BookingCreationFailed,
    /// 3001: no such company.
    CompanyNotFound,
    /// 3002: the call could not be tied to a branch.
    BranchNotResolved,
    /// 3003: the requested service has no Cal.com event type.
    ServiceNotMapped,
    /// 3004: the store failed.
    DatabaseError,
    /// 4001: a required field is missing.
    MissingRequiredField,
    /// 4002: a date or time could not be read.
    InvalidDateFormat,
    /// 4003: a phone number is not valid E.164 (after normalisation).
    InvalidPhoneNumber,
    /// 4004: params do not match the method's JSON Schema.
    SchemaValidationFailed,
    /// -32001: missing or unknown token.
    Unauthorized,
    /// -32002: the token belongs to another tenant.
    Forbidden,
    /// -32003: the caller is over its rate limit.
    RateLimited,
    /// -32004: an upstream breaker is open; `retry_after` says when to try again.
    UpstreamUnavailable,
    /// -32005: the call ran past its deadline.
    Timeout,
}

impl ErrorCode {
    /// Every code, in DESIGN §5 order: for catalogues (`rpc.discover`) and exhaustive tests.
    pub const ALL: [ErrorCode; 21] = [
        Self::InvalidRetellKey,
        Self::AgentNotFound,
        Self::PhoneNumberNotConfigured,
        Self::WebhookRegistrationFailed,
        Self::InvalidCalcomKey,
        Self::EventTypeNotFound,
        Self::SlotNotAvailable,
        Self::BookingCreationFailed,
        Self::CompanyNotFound,
        Self::BranchNotResolved,
        Self::ServiceNotMapped,
        Self::DatabaseError,
        Self::MissingRequiredField,
        Self::InvalidDateFormat,
        Self::InvalidPhoneNumber,
        Self::SchemaValidationFailed,
        Self::Unauthorized,
        Self::Forbidden,
        Self::RateLimited,
        Self::UpstreamUnavailable,
        Self::Timeout,
    ];

    /// The numeric `error.code` (DESIGN §5).
    pub fn code(self) -> i64 {
        match self {
            Self::InvalidRetellKey => 1001,
            Self::AgentNotFound => 1002,
            Self::PhoneNumberNotConfigured => 1003,
            Self::WebhookRegistrationFailed => 1004,
            Self::InvalidCalcomKey => 2001,
            Self::EventTypeNotFound => 2002,
            Self::SlotNotAvailable => 2003,
            Self::BookingCreationFailed => 2004,
            Self::CompanyNotFound => 3001,
            Self::BranchNotResolved => 3002,
            Self::ServiceNotMapped => 3003,
            Self::DatabaseError => 3004,
            Self::MissingRequiredField => 4001,
            Self::InvalidDateFormat => 4002,
            Self::InvalidPhoneNumber => 4003,
            Self::SchemaValidationFailed => 4004,
            Self::Unauthorized => -32001,
            Self::Forbidden => -32002,
            Self::RateLimited => -32003,
            Self::UpstreamUnavailable => -32004,
            Self::Timeout => -32005,
        }
    }

    /// The snake_case name sent as `error.data.type`, e.g. `"slot_not_available"`; stable, so
    /// clients can match on it instead of on the message.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::InvalidRetellKey => "invalid_retell_key",
            Self::AgentNotFound => "agent_not_found",
            Self::PhoneNumberNotConfigured => "phone_number_not_configured",
            Self::WebhookRegistrationFailed => "webhook_registration_failed",
            Self::InvalidCalcomKey => "invalid_calcom_key",
            Self::EventTypeNotFound => "event_type_not_found",
            Self::SlotNotAvailable => "slot_not_available",
            Self::BookingCreationFailed => "booking_creation_failed",
            Self::CompanyNotFound => "company_not_found",
            Self::BranchNotResolved => "branch_not_resolved",
            Self::ServiceNotMapped => "service_not_mapped",
            Self::DatabaseError => "database_error",
            Self::MissingRequiredField => "missing_required_field",
            Self::InvalidDateFormat => "invalid_date_format",
            Self::InvalidPhoneNumber => "invalid_phone_number",
            Self::SchemaValidationFailed => "schema_validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate_limited",
            Self::UpstreamUnavailable => "upstream_unavailable",
            Self::Timeout => "timeout",
        }
    }
}

/// An application error (DESIGN §5). On the wire (via `From<AppError> for RpcError`):
/// `error.code` = [`ErrorCode::code`], `error.message` = `message`, and
/// `error.data = {"type": <type_name>, "retry_after"?: <seconds>, "details"?: <any>}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} ({})", code.type_name())]
pub struct AppError {
    /// Decides `error.code` and `error.data.type`.
    pub code: ErrorCode,
    /// One sentence for humans; sent as `error.message`.
    pub message: String,
    /// Seconds until a retry can succeed (open breaker, rate limit); `data.retry_after`.
    pub retry_after_s: Option<u64>,
    /// Anything machine-readable that helps the caller fix the call; `data.details`.
    pub details: Option<Value>,
}

impl AppError {
    /// An error with no `retry_after` and no `details`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_s: None,
            details: None,
        }
    }

    /// Sets `data.retry_after` (seconds).
    pub fn with_retry_after(self, secs: u64) -> Self {
        Self {
            retry_after_s: Some(secs),
            ..self
        }
    }

    /// Sets `data.details`.
    pub fn with_details(self, d: Value) -> Self {
        Self {
            details: Some(d),
            ..self
        }
    }
}

impl From<AppError> for RpcError {
    fn from(err: AppError) -> Self {
        let mut data = Map::new();
        data.insert("type".into(), err.code.type_name().into());
        if let Some(secs) = err.retry_after_s {
            data.insert("retry_after".into(), secs.into());
        }
        if let Some(details) = err.details {
            data.insert("details".into(), details);
        }
        RpcError {
            code: err.code.code(),
            message: err.message,
            data: Some(Value::Object(data)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::*;

    #[test]
    fn codes_match_design_table() {
        let expected = [
            1001, 1002, 1003, 1004, 2001, 2002, 2003, 2004, 3001, 3002, 3003, 3004, 4001, 4002,
            4003, 4004, -32001, -32002, -32003, -32004, -32005,
        ];
        let codes: Vec<i64> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn type_names_are_unique_snake_case() {
        let names: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.type_name()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
        assert_eq!(
            ErrorCode::SlotNotAvailable.type_name(),
            "slot_not_available"
        );
    }

    #[test]
    fn app_error_maps_to_code_message_and_data() {
        let err = AppError::new(ErrorCode::UpstreamUnavailable, "Cal.com is unavailable")
            .with_retry_after(30)
            .with_details(json!({"breaker": "calcom"}));
        let rpc = RpcError::app(err);
        assert_eq!(rpc.code, -32004);
        assert_eq!(rpc.message, "Cal.com is unavailable");
        assert_eq!(
            rpc.data,
            Some(json!({
                "type": "upstream_unavailable",
                "retry_after": 30,
                "details": {"breaker": "calcom"}
            }))
        );
    }

    #[test]
    fn app_error_data_omits_absent_optionals() {
        let rpc = RpcError::from(AppError::new(ErrorCode::SlotNotAvailable, "Slot taken"));
        assert_eq!(rpc.code, 2003);
        assert_eq!(rpc.data, Some(json!({"type": "slot_not_available"})));
    }
}
