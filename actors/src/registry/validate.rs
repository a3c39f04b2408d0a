//! Params validation against a method's generated JSON Schema (2020-12), with messages that
//! name the field and the rule: `limit must be between 1 and 500, got 501`.

use crate::jsonrpc::RpcError;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use schemars::Schema;
use serde_json::Value;

/// The compiled params schema of one method. `format` is not asserted (JSON Schema 2020-12
/// treats it as an annotation); the typed parse after validation reads dates and times.
#[derive(Debug)]
pub struct ParamsValidator {
    validator: Validator,
    /// The schema as JSON, to read a field's other bound when one is broken.
    schema: Value,
}

impl ParamsValidator {
    /// Compiles `schema`.
    ///
    /// # Errors
    /// The compiler's message when `schema` is not a valid JSON Schema (a bug in a `Params`
    /// type's attributes, found at start).
    pub fn new(schema: &Schema) -> Result<Self, String> {
        let schema = schema.as_value().clone();
        let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
        Ok(Self { validator, schema })
    }

    /// Checks by-name `params` against the schema.
    ///
    /// # Errors
    /// -32602 whose `data.details` lists every violation, each naming the field and the rule
    /// it breaks, separated by `; `.
    pub fn check(&self, params: &Value) -> Result<(), RpcError> {
        // The common case builds no error objects.
        if self.validator.is_valid(params) {
            return Ok(());
        }
        let violations: Vec<String> = self
            .validator
            .iter_errors(params)
            .map(|e| self.describe(&e))
            .collect();
        Err(RpcError::invalid_params(violations.join("; ")))
    }

    fn describe(&self, error: &ValidationError<'_>) -> String {
        let field = field_name(error.instance_path().as_str());
        let got = error.instance();
        match error.kind() {
            ValidationErrorKind::Minimum { .. }
            | ValidationErrorKind::Maximum { .. }
            | ValidationErrorKind::ExclusiveMinimum { .. }
            | ValidationErrorKind::ExclusiveMaximum { .. } => {
                let keyword = error.schema_path().as_str();
                let parent = keyword.rsplit_once('/').map_or("", |(parent, _)| parent);
                let rule = self
                    .schema
                    .pointer(parent)
                    .map_or_else(|| error.to_string(), |node| range_rule(&field, node));
                format!("{rule}, got {got}")
            }
            // The value is not quoted: it may be a credential (`company.setCredentials`) and
            // may be as long as the body allows.
            ValidationErrorKind::MaxLength { limit } => {
                format!("{}: longer than {limit} characters", named(&field))
            }
            ValidationErrorKind::MinLength { limit } => {
                format!("{}: shorter than {limit} characters", named(&field))
            }
            ValidationErrorKind::Pattern { pattern } => {
                format!("{}: does not match the pattern {pattern}", named(&field))
            }
            _ if field.is_empty() => quoted_at_most(&error.to_string()),
            _ => format!("{field}: {}", quoted_at_most(&error.to_string())),
        }
    }
}

/// The field, or `params` for the root.
fn named(field: &str) -> &str {
    if field.is_empty() { "params" } else { field }
}

/// A validator message cut to [`MAX_MESSAGE_CHARS`]: messages quote the offending value,
/// which can be as long as the request body.
fn quoted_at_most(message: &str) -> String {
    crate::domain::text::excerpt(message, MAX_MESSAGE_CHARS)
}

/// Longest message kept of one violation, in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// `/a/b` → `a.b`; the root is the empty string.
fn field_name(instance_path: &str) -> String {
    instance_path.trim_start_matches('/').replace('/', ".")
}

/// The numeric range of a schema node, said in words: "days must be between 1 and 31".
fn range_rule(field: &str, node: &Value) -> String {
    let bound = |key: &str| node.get(key).filter(|v| v.is_number());
    let field = if field.is_empty() { "params" } else { field };
    match (
        bound("minimum"),
        bound("maximum"),
        bound("exclusiveMinimum"),
        bound("exclusiveMaximum"),
    ) {
        (Some(min), Some(max), _, _) => format!("{field} must be between {min} and {max}"),
        (Some(min), None, _, _) => format!("{field} must be at least {min}"),
        (None, Some(max), _, _) => format!("{field} must be at most {max}"),
        (None, None, Some(min), _) => format!("{field} must be greater than {min}"),
        (None, None, None, Some(max)) => format!("{field} must be less than {max}"),
        (None, None, None, None) => format!("{field} is out of range"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::{JsonSchema, SchemaGenerator};
    use serde_json::json;

    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        #[schemars(range(min = 1, max = 31))]
        days: Option<u32>,
        #[schemars(range(min = 1))]
        count: Option<u32>,
        #[schemars(length(max = 8))]
        key: Option<String>,
    }

    fn validator() -> ParamsValidator {
        ParamsValidator::new(&SchemaGenerator::default().into_root_schema_for::<P>()).unwrap()
    }

    fn details(params: Value) -> String {
        let err = validator().check(&params).unwrap_err();
        assert_eq!(err.code, -32602);
        err.data.unwrap()["details"].as_str().unwrap().to_owned()
    }

    #[test]
    fn out_of_range_names_the_field_and_both_bounds() {
        assert_eq!(
            details(json!({"days": 32})),
            "days must be between 1 and 31, got 32"
        );
        assert_eq!(
            details(json!({"days": 0})),
            "days must be between 1 and 31, got 0"
        );
        assert_eq!(
            details(json!({"count": 0})),
            "count must be at least 1, got 0"
        );
    }

    #[test]
    fn wrong_type_and_unknown_field_are_named() {
        assert!(details(json!({"days": "ten"})).starts_with("days: "));
        assert!(details(json!({"dayz": 1})).contains("dayz"));
    }

    #[test]
    fn a_value_over_its_length_is_not_quoted_back() {
        let secret = "cal_live_s3cret_".repeat(1000);
        let said = details(json!({"key": secret}));
        assert_eq!(said, "key: longer than 8 characters");
    }

    #[test]
    fn other_messages_quote_at_most_200_characters() {
        let said = details(json!({"days": "x".repeat(10_000)}));
        assert!(said.chars().count() <= 210, "{said}");
    }

    #[test]
    fn every_violation_is_listed() {
        let all = details(json!({"days": 40, "count": 0}));
        assert!(all.contains("days must be"), "{all}");
        assert!(all.contains("count must be"), "{all}");
    }

    #[test]
    fn valid_params_and_absent_optionals_pass() {
        assert!(validator().check(&json!({})).is_ok());
        assert!(
            validator()
                .check(&json!({"days": 31, "count": null}))
                .is_ok()
        );
    }
}
