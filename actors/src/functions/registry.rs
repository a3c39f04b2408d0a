//! The custom-function registry (DESIGN §12): every function is one [`CustomFunction`], and
//! [`REGISTRY`] is the one list of them. Dispatch ([`execute`](super::execute)), the names in
//! the "unknown function" error ([`NAMES`]) and the tool [`definitions`] are derived from it.

use super::args::Arg;
use super::{FunctionDeps, FunctionError, Invocation};
use super::{
    calculate_duration::CalculateDuration, check_availability::CheckAvailability,
    collect_appointment_data::CollectAppointmentData, find_next_slot::FindNextSlot,
};
use super::{
    cancel_appointment::CancelAppointment, change_appointment::ChangeAppointment,
    find_appointments::FindAppointments,
};
use futures_util::future::LocalBoxFuture;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde_json::{Value, json};
use std::future::Future;

/// One Retell custom function: what the agent's LLM is told about it, and what it does.
pub trait CustomFunction: 'static {
    /// Retell tool name: `[a-zA-Z0-9_-]`, at most 64 characters (reference/retell.md §3.3).
    const NAME: &'static str;
    /// What the function does and when to call it, written for the agent's LLM.
    const DESCRIPTION: &'static str;
    /// The args' shape. Its derived JSON Schema, with the field docs as descriptions, is the
    /// tool's `parameters`.
    type Args: JsonSchema;
    /// The args by German name with the aliases also read; each name is a property of the
    /// schema of [`Self::Args`].
    const ARGS: &'static [Arg];

    /// Runs the function for one call; the reply is JSON with a spoken `message`.
    fn apply(
        deps: &FunctionDeps,
        inv: Invocation<'_>,
    ) -> impl Future<Output = Result<Value, FunctionError>>;
}

/// A [`CustomFunction`] with its types erased, so that one list holds them all.
pub struct Entry {
    /// [`CustomFunction::NAME`].
    pub name: &'static str,
    /// [`CustomFunction::DESCRIPTION`].
    pub description: &'static str,
    /// [`CustomFunction::ARGS`].
    pub args: &'static [Arg],
    parameters: fn() -> Value,
    apply: for<'a> fn(
        &'a FunctionDeps,
        Invocation<'a>,
    ) -> LocalBoxFuture<'a, Result<Value, FunctionError>>,
}

impl Entry {
    /// The entry of `F`.
    pub const fn of<F: CustomFunction>() -> Self {
        Self {
            name: F::NAME,
            description: F::DESCRIPTION,
            args: F::ARGS,
            parameters: parameters::<F>,
            apply: apply::<F>,
        }
    }

    /// Runs the function (see [`CustomFunction::apply`]).
    ///
    /// # Errors
    /// The function's [`FunctionError`].
    pub async fn apply(
        &self,
        deps: &FunctionDeps,
        inv: Invocation<'_>,
    ) -> Result<Value, FunctionError> {
        (self.apply)(deps, inv).await
    }

    /// The tool definition: name, description and the JSON Schema of the args.
    pub fn definition(&self) -> Definition {
        Definition {
            name: self.name,
            description: self.description,
            parameters: (self.parameters)(),
        }
    }
}

fn apply<'a, F: CustomFunction>(
    deps: &'a FunctionDeps,
    inv: Invocation<'a>,
) -> LocalBoxFuture<'a, Result<Value, FunctionError>> {
    Box::pin(F::apply(deps, inv))
}

/// The schema of `F::Args` as Retell takes `parameters` (an object schema, no `$schema`), each
/// property carrying its aliases as `x-aliases`. The aliases are for people and tools reading
/// the definition; the LLM is meant to use the German names.
fn parameters<F: CustomFunction>() -> Value {
    let mut schema = SchemaSettings::draft2020_12()
        .with(|s| s.meta_schema = None)
        .into_generator()
        .into_root_schema_for::<F::Args>();
    schema.remove("title");
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for arg in F::ARGS.iter().filter(|a| !a.aliases.is_empty()) {
            if let Some(property) = properties.get_mut(arg.name).and_then(Value::as_object_mut) {
                property.insert("x-aliases".to_owned(), json!(arg.aliases));
            }
        }
    }
    schema.to_value()
}

/// A function as declared to Retell and, later, as an MCP tool: the `name`, `description` and
/// `parameters` of a `type: "custom"` tool (reference/retell.md §3.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    /// Tool name.
    pub name: &'static str,
    /// What the function does, for the agent's LLM.
    pub description: &'static str,
    /// JSON Schema (draft 2020-12) of the args, with `x-aliases` per property.
    pub parameters: Value,
}

/// Every custom function we serve, in the order they are listed to agents.
pub const REGISTRY: &[Entry] = &[
    Entry::of::<CollectAppointmentData>(),
    Entry::of::<CheckAvailability>(),
    Entry::of::<FindNextSlot>(),
    Entry::of::<CalculateDuration>(),
    Entry::of::<FindAppointments>(),
    Entry::of::<ChangeAppointment>(),
    Entry::of::<CancelAppointment>(),
];

/// The names of [`REGISTRY`], in its order.
pub const NAMES: &[&str] = &names();

const fn names() -> [&'static str; REGISTRY.len()] {
    let mut names = [""; REGISTRY.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = REGISTRY[i].name;
        i += 1;
    }
    names
}

/// The function registered under `name`.
pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|f| f.name == name)
}

/// The definitions of every function, in [`REGISTRY`] order.
pub fn definitions() -> Vec<Definition> {
    REGISTRY.iter().map(Entry::definition).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn registry_lists_every_function_exactly_once() {
        let unique: BTreeSet<&str> = NAMES.iter().copied().collect();
        assert_eq!(unique.len(), REGISTRY.len(), "{NAMES:?}");
        assert_eq!(
            NAMES,
            [
                "collect_appointment_data",
                "check_availability",
                "find_next_slot",
                "calculate_duration",
                "find_appointments",
                "change_appointment",
                "cancel_appointment"
            ]
        );
        for name in NAMES {
            assert_eq!(find(name).map(|f| f.name), Some(*name));
            let fits_retell = name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            assert!(fits_retell, "{name}");
        }
        assert!(find("order_pizza").is_none());
    }

    #[test]
    fn each_schema_names_the_german_args_and_their_aliases() {
        for (entry, definition) in REGISTRY.iter().zip(definitions()) {
            let name = definition.name;
            assert_eq!(definition.parameters["type"], "object", "{name}");
            assert!(definition.parameters.get("$schema").is_none(), "{name}");
            let properties = definition.parameters["properties"].as_object().unwrap();
            let declared: BTreeSet<&str> = entry.args.iter().map(|a| a.name).collect();
            let in_schema: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
            assert_eq!(
                declared, in_schema,
                "{name}: ARGS and the Args struct disagree"
            );
            for arg in entry.args {
                let aliases = &properties[arg.name]["x-aliases"];
                if arg.aliases.is_empty() {
                    assert!(aliases.is_null(), "{name}.{}", arg.name);
                } else {
                    assert_eq!(*aliases, json!(arg.aliases), "{name}.{}", arg.name);
                }
                assert!(
                    properties[arg.name]["description"].is_string(),
                    "{name}.{} needs a description for the LLM",
                    arg.name
                );
            }
            assert!(!definition.description.is_empty(), "{name}");
        }
    }

    #[test]
    fn english_aliases_are_in_the_schemas() {
        let definitions = definitions();
        let aliases = |function: &str, arg: &str| {
            let d = definitions.iter().find(|d| d.name == function).unwrap();
            d.parameters["properties"][arg]["x-aliases"].clone()
        };
        assert_eq!(
            aliases("collect_appointment_data", "datum"),
            json!(["date"])
        );
        assert_eq!(
            aliases("collect_appointment_data", "telefonnummer"),
            json!(["phone", "phone_number"])
        );
        assert_eq!(
            aliases("check_availability", "dienstleistung"),
            json!(["service"])
        );
        assert_eq!(aliases("find_next_slot", "uhrzeit"), json!(["time"]));
        assert_eq!(
            aliases("calculate_duration", "dienstleistungen"),
            json!(["services"])
        );
    }

    #[test]
    fn unknown_function_error_names_every_function() {
        assert_eq!(
            FunctionError::Unknown("order_pizza".into()).to_string(),
            "unknown custom function \"order_pizza\"; known: collect_appointment_data, \
             check_availability, find_next_slot, calculate_duration, find_appointments, \
             change_appointment, cancel_appointment"
        );
    }
}
