//! What to inject: [`FaultConfig`], the body of `POST /__sim/faults`, and its two checked
//! value types, [`Rate`] and [`ErrorStatus`].
//!
//! Values are valid by construction: JSON is checked field by field on the way in (so a 400
//! names the field), CLI flags through the types' `FromStr`, and Rust callers cannot build an
//! out-of-range rate or an unsupported status at all.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::str::FromStr;

/// A probability per request: a number from 0 to 1 inclusive. 0 never fires, 1 always does.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(into = "f64")]
pub struct Rate(f64);

impl Rate {
    /// `p` as a rate.
    ///
    /// # Errors
    /// [`InvalidFault::Rate`] when `p` is outside `0..=1` or NaN.
    pub fn new(p: f64) -> Result<Self, InvalidFault> {
        if (0.0..=1.0).contains(&p) {
            Ok(Self(p))
        } else {
            Err(InvalidFault::Rate(p))
        }
    }

    /// The probability, in `0..=1`.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl From<Rate> for f64 {
    fn from(rate: Rate) -> Self {
        rate.0
    }
}

impl FromStr for Rate {
    type Err = InvalidFault;

    /// A decimal number such as `0.25`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = s
            .trim()
            .parse::<f64>()
            .map_err(|_| InvalidFault::NotANumber(s.to_owned()))?;
        Self::new(p)
    }
}

/// The HTTP status an injected failure answers with. Only the three an upstream really
/// sends when it is unwell: a crash (500), an outage or overload (503) and throttling (429).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "u16")]
pub enum ErrorStatus {
    /// 500 Internal Server Error.
    InternalServerError,
    /// 503 Service Unavailable.
    ServiceUnavailable,
    /// 429 Too Many Requests; simulators add their vendor's rate-limit headers.
    TooManyRequests,
}

impl ErrorStatus {
    /// The status code: 500, 503 or 429.
    pub fn as_u16(self) -> u16 {
        match self {
            Self::InternalServerError => 500,
            Self::ServiceUnavailable => 503,
            Self::TooManyRequests => 429,
        }
    }
}

impl From<ErrorStatus> for u16 {
    fn from(status: ErrorStatus) -> Self {
        status.as_u16()
    }
}

impl TryFrom<u16> for ErrorStatus {
    type Error = InvalidFault;

    /// 500, 503 or 429.
    fn try_from(code: u16) -> Result<Self, Self::Error> {
        match code {
            500 => Ok(Self::InternalServerError),
            503 => Ok(Self::ServiceUnavailable),
            429 => Ok(Self::TooManyRequests),
            other => Err(InvalidFault::Status(other)),
        }
    }
}

impl FromStr for ErrorStatus {
    type Err = InvalidFault;

    /// `500`, `503` or `429`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s
            .trim()
            .parse::<u16>()
            .map_err(|_| InvalidFault::NotANumber(s.to_owned()))?;
        Self::try_from(code)
    }
}

/// Why a fault value was refused. The messages complete a sentence that starts with the
/// field or flag name ("error_rate must be …").
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidFault {
    /// A rate outside `0..=1`.
    #[error("must be a number from 0 to 1, got {0}")]
    Rate(f64),
    /// A status other than 500, 503 and 429.
    #[error("must be 500, 503 or 429, got {0}")]
    Status(u16),
    /// Text that is not a number (CLI flags only; JSON types are checked by serde).
    #[error("must be a number, got {0:?}")]
    NotANumber(String),
}

/// Faults a simulator injects into its API requests. Every field is optional; absent means
/// "no such fault". Serialized with every field present (`null` when unset), so
/// `GET /__sim/faults` shows every knob there is.
///
/// Deserializing takes only an object (serde would otherwise read an array positionally)
/// and refuses unknown fields, rates outside `0..=1` and statuses other than 500, 503 and
/// 429, with a message naming the field.
///
/// It is also the `--fault-*` flags of every simulator command (flatten it into the
/// command's arguments): `switchboard sim calcom --fault-error-rate 0.2` starts as
/// `POST /__sim/faults {"error_rate":0.2}` would. Flag values are checked while parsing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(try_from = "Map<String, Value>")]
pub struct FaultConfig {
    /// Milliseconds added before every API answer (also before failures).
    #[arg(long = "fault-latency-ms", value_name = "MS")]
    pub latency_ms: Option<u64>,
    /// Up to this many milliseconds more, drawn uniformly per request from `0..=jitter_ms`.
    #[arg(long = "fault-jitter-ms", value_name = "MS")]
    pub jitter_ms: Option<u64>,
    /// Share of API requests (0..1) answered with the error status instead of being handled.
    #[arg(long = "fault-error-rate", value_name = "RATE")]
    pub error_rate: Option<Rate>,
    /// Status of injected failures: 500, 503 or 429. Default: 500 for the error rate, 503
    /// during an outage.
    #[arg(long = "fault-error-status", value_name = "STATUS")]
    pub error_status: Option<ErrorStatus>,
    /// Share of API requests (0..1) that are accepted and never answered; only the client's timeout
    /// ends them.
    #[arg(long = "fault-timeout-rate", value_name = "RATE")]
    pub timeout_rate: Option<Rate>,
    /// Every API request fails with the error status for this many seconds from the moment
    /// the config is set (from start, for the flag) (at most a year; longer values count as a year). 0 means none.
    #[arg(long = "fault-outage-s", value_name = "SECONDS")]
    pub outage_s: Option<u64>,
    /// Share of commits (0..1; for Cal.com: `POST /v2/bookings`) that are carried out but whose
    /// answer is replaced by a 500 or a dropped connection. Other requests never get this.
    #[arg(long = "fault-commit-then-fail-rate", value_name = "RATE")]
    pub commit_then_fail_rate: Option<Rate>,
    /// Seed of the random draws. Same seed and same request order give the same decisions;
    /// without it every config starts from a fresh random seed.
    #[arg(long = "fault-seed", value_name = "N")]
    pub seed: Option<u64>,
}

/// The wire form of [`FaultConfig`], checked field by field into it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaultConfig {
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    error_rate: Option<f64>,
    error_status: Option<u16>,
    timeout_rate: Option<f64>,
    outage_s: Option<u64>,
    commit_then_fail_rate: Option<f64>,
    seed: Option<u64>,
}

/// `value` checked by `check`; a refusal names `field`.
fn checked<T, U>(
    field: &'static str,
    value: Option<T>,
    check: impl FnOnce(T) -> Result<U, InvalidFault>,
) -> Result<Option<U>, String> {
    value
        .map(check)
        .transpose()
        .map_err(|error| format!("{field} {error}"))
}

/// The checks of deserialization, on an already parsed JSON object.
impl TryFrom<Map<String, Value>> for FaultConfig {
    /// What is wrong, naming the field, e.g. "error_rate must be a number from 0 to 1, got
    /// 1.5" or "unknown field `latency`, expected one of …".
    type Error = String;

    fn try_from(object: Map<String, Value>) -> Result<Self, Self::Error> {
        let raw = RawFaultConfig::deserialize(Value::Object(object)).map_err(|e| e.to_string())?;
        Ok(Self {
            latency_ms: raw.latency_ms,
            jitter_ms: raw.jitter_ms,
            error_rate: checked("error_rate", raw.error_rate, Rate::new)?,
            error_status: checked("error_status", raw.error_status, ErrorStatus::try_from)?,
            timeout_rate: checked("timeout_rate", raw.timeout_rate, Rate::new)?,
            outage_s: raw.outage_s,
            commit_then_fail_rate: checked(
                "commit_then_fail_rate",
                raw.commit_then_fail_rate,
                Rate::new,
            )?,
            seed: raw.seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: &str) -> Result<FaultConfig, String> {
        serde_json::from_str(body).map_err(|e| e.to_string())
    }

    #[test]
    fn every_field_is_optional() {
        assert_eq!(parse("{}"), Ok(FaultConfig::default()));
        assert_eq!(parse(r#"{"latency_ms":null}"#), Ok(FaultConfig::default()));
    }

    #[test]
    fn out_of_range_values_are_refused_naming_the_field() {
        let error = parse(r#"{"error_rate":1.5}"#).unwrap_err();
        assert!(
            error.starts_with("error_rate must be a number from 0 to 1, got 1.5"),
            "{error}"
        );
        let error = parse(r#"{"timeout_rate":-0.1}"#).unwrap_err();
        assert!(error.starts_with("timeout_rate must be"), "{error}");
        let error = parse(r#"{"error_status":404}"#).unwrap_err();
        assert!(
            error.starts_with("error_status must be 500, 503 or 429, got 404"),
            "{error}"
        );
    }

    #[test]
    fn only_an_object_is_a_config() {
        for body in ["[10]", "null", "1"] {
            let error = parse(body).unwrap_err();
            assert!(error.contains("expected a map"), "{body}: {error}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_listing_the_known_ones() {
        let error = parse(r#"{"latency":5}"#).unwrap_err();
        assert!(error.starts_with("unknown field `latency`"), "{error}");
        assert!(error.contains("`latency_ms`"), "{error}");
    }

    #[test]
    fn serializes_every_field_with_statuses_and_rates_as_numbers() {
        let config = FaultConfig {
            error_rate: Some(Rate::new(0.5).unwrap()),
            error_status: Some(ErrorStatus::TooManyRequests),
            ..FaultConfig::default()
        };
        assert_eq!(
            serde_json::to_value(&config).unwrap(),
            json!({"latency_ms":null,"jitter_ms":null,"error_rate":0.5,"error_status":429,
                   "timeout_rate":null,"outage_s":null,"commit_then_fail_rate":null,"seed":null})
        );
    }

    #[test]
    fn text_parses_like_json() {
        assert_eq!("0.25".parse::<Rate>().map(Rate::get), Ok(0.25));
        assert_eq!("1".parse::<Rate>().map(Rate::get), Ok(1.0));
        assert_eq!("1.01".parse::<Rate>(), Err(InvalidFault::Rate(1.01)));
        assert!(matches!(
            "NaN".parse::<Rate>(),
            Err(InvalidFault::Rate(p)) if p.is_nan()
        ));
        assert_eq!("503".parse(), Ok(ErrorStatus::ServiceUnavailable));
        assert_eq!("502".parse::<ErrorStatus>(), Err(InvalidFault::Status(502)));
        assert_eq!(
            "x".parse::<ErrorStatus>(),
            Err(InvalidFault::NotANumber("x".into()))
        );
    }
}

#[cfg(test)]
mod flag_tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        faults: FaultConfig,
    }

    fn parse(args: &[&str]) -> Result<FaultConfig, clap::Error> {
        Command::try_parse_from(std::iter::once("sim").chain(args.iter().copied()))
            .map(|command| command.faults)
    }

    #[test]
    fn no_flags_is_no_faults() {
        assert_eq!(parse(&[]).unwrap(), FaultConfig::default());
    }

    #[test]
    fn every_field_has_its_flag() {
        let config = parse(&[
            "--fault-latency-ms=10",
            "--fault-jitter-ms=5",
            "--fault-error-rate=0.5",
            "--fault-error-status=429",
            "--fault-timeout-rate=0.1",
            "--fault-outage-s=30",
            "--fault-commit-then-fail-rate=1",
            "--fault-seed=7",
        ])
        .unwrap();
        assert_eq!(
            config,
            FaultConfig {
                latency_ms: Some(10),
                jitter_ms: Some(5),
                error_rate: Some(Rate::new(0.5).unwrap()),
                error_status: Some(ErrorStatus::TooManyRequests),
                timeout_rate: Some(Rate::new(0.1).unwrap()),
                outage_s: Some(30),
                commit_then_fail_rate: Some(Rate::new(1.0).unwrap()),
                seed: Some(7),
            }
        );
    }

    #[test]
    fn bad_values_are_refused_at_parse_time() {
        for bad in [
            "--fault-error-rate=1.5",
            "--fault-error-status=502",
            "--fault-timeout-rate=often",
            "--fault-latency-ms=-1",
        ] {
            let error = parse(&[bad]).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}: {error}"
            );
        }
    }
}
