//! The MCP tool list, generated from the method registry: one tool per JSON-RPC method, with
//! no MCP-specific code per method (DESIGN §12).
//!
//! - **Name**: the JSON-RPC name with every `.` as `_` (`calcom.getBookings` →
//!   `calcom_getBookings`), checked against `^[a-zA-Z0-9_-]{1,64}$`, the rule Claude, Codex and
//!   Copilot apply to every remote tool (reference/mcp.md §2.4); a name that breaks it or
//!   collides with another is refused when the catalog is built, at start.
//! - **title** and `_meta["dev.switchboard/jsonrpcMethod"]`: the JSON-RPC name.
//! - **inputSchema**: the method's params schema (JSON Schema 2020-12, bounds included).
//! - **outputSchema** / `structuredContent`: the schema of the method's `result.data`. MCP
//!   wants an object there; a method whose data is not an object (a list, say) is wrapped as
//!   `{"result": …}` in both.
//! - **annotations**: from the method's [`Kind`]: `readOnlyHint` for reads,
//!   `destructiveHint` for what cannot be undone, `idempotentHint` for reads and writes
//!   (writes are idempotent by design: idempotency keys, requeues); `openWorldHint` is false
//!   (a tool acts on this service's tenants and their Cal.com / Retell accounts only).
//! - **description**: the method's summary (written for a reader who sees nothing else),
//!   plus the token it needs and what it does to state.

use rmcp::model::{JsonObject, MetaObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_actors::records::TokenGrant;
use switchboard_actors::registry::{Kind, MethodSpec, Scope, authorize};

/// Longest tool name real clients accept (reference/mcp.md §2.4).
pub const MAX_TOOL_NAME: usize = 64;

/// The sentence of every description that names the time zone; a company token's
/// `tools/list` names the zone itself ([`ToolCatalog::tools_for`]).
const ZONE_SENTENCE: &str = "the company's time zone (its configuration resource says which)";

/// `_meta` key carrying a tool's JSON-RPC method name.
pub const META_METHOD: &str = "dev.switchboard/jsonrpcMethod";

/// Why the tool catalog could not be built: wiring bugs, found at start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    /// The mapped name breaks `^[a-zA-Z0-9_-]{1,64}$`.
    #[error("method {method} maps to tool name {name:?}, which breaks ^[a-zA-Z0-9_-]{{1,64}}$")]
    InvalidName {
        /// The JSON-RPC method.
        method: &'static str,
        /// The tool name it maps to.
        name: String,
    },
    /// Two methods map to the same tool name.
    #[error("methods {first} and {second} both map to tool name {name}")]
    Collision {
        /// The method listed first.
        first: &'static str,
        /// The method listed second.
        second: &'static str,
        /// The shared tool name.
        name: String,
    },
    /// A params schema is not a JSON object.
    #[error("the params schema of {0} is not a JSON object")]
    InputSchema(&'static str),
}

/// The tool name of a JSON-RPC method: every `.` becomes `_`.
pub fn tool_name(method: &str) -> String {
    method.replace('.', "_")
}

/// Whether `name` matches `^[a-zA-Z0-9_-]{1,64}$`.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// One tool and the method behind it.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    /// The JSON-RPC method it calls, e.g. `calcom.getBookings`.
    pub method: &'static str,
    /// Who may call it (and so who sees it in `tools/list`).
    pub scope: Scope,
    /// The MCP tool definition.
    pub tool: Tool,
    /// Whether the method's data is wrapped as `{"result": data}` (it is not an object).
    pub wraps_output: bool,
}

impl ToolEntry {
    /// The `structuredContent` of a successful call from the method's `result.data`.
    pub fn structured(&self, data: Value) -> Value {
        if self.wraps_output {
            json!({ "result": data })
        } else {
            data
        }
    }
}

/// Every tool, in method-name order, looked up by tool name.
#[derive(Debug, Clone)]
pub struct ToolCatalog {
    entries: Arc<[ToolEntry]>,
    by_name: Arc<HashMap<String, usize>>,
}

impl ToolCatalog {
    /// The catalog of `specs` (the router's, sorted by name).
    ///
    /// # Errors
    /// [`CatalogError`] for a name that breaks the rule, two methods with one tool name, or a
    /// params schema that is not an object.
    pub fn new(specs: &[MethodSpec]) -> Result<Self, CatalogError> {
        let mut entries = Vec::with_capacity(specs.len());
        let mut by_name: HashMap<String, usize> = HashMap::with_capacity(specs.len());
        for spec in specs {
            let name = tool_name(spec.name);
            if !is_valid_tool_name(&name) {
                return Err(CatalogError::InvalidName {
                    method: spec.name,
                    name,
                });
            }
            if let Some(&first) = by_name.get(&name) {
                let first: &ToolEntry = &entries[first];
                return Err(CatalogError::Collision {
                    first: first.method,
                    second: spec.name,
                    name,
                });
            }
            let entry = entry(spec, name.clone())?;
            by_name.insert(name, entries.len());
            entries.push(entry);
        }
        Ok(Self {
            entries: entries.into(),
            by_name: Arc::new(by_name),
        })
    }

    /// Every tool, whoever may call it.
    pub fn all(&self) -> &[ToolEntry] {
        &self.entries
    }

    /// The tools `grant` may call, in name order: what `tools/list` shows it.
    pub fn visible<'a>(&'a self, grant: &'a TokenGrant) -> impl Iterator<Item = &'a ToolEntry> {
        self.entries
            .iter()
            .filter(move |e| authorize(grant, e.scope).is_ok())
    }

    /// The tools `grant` may call, as `tools/list` shows them: with `time_zone` (the IANA
    /// zone of the grant's company, when it has one) named in each description.
    pub fn tools_for(&self, grant: &TokenGrant, time_zone: Option<&str>) -> Vec<Tool> {
        self.visible(grant)
            .map(|e| {
                let mut tool = e.tool.clone();
                if let (Some(zone), Some(text)) = (time_zone, tool.description.as_mut()) {
                    *text = text
                        .replace(ZONE_SENTENCE, &format!("the company's time zone, {zone}"))
                        .into();
                }
                tool
            })
            .collect()
    }

    /// The tool called `name` if `grant` may call it; a tool it may not call is as unknown
    /// to it as one that does not exist.
    pub fn get(&self, name: &str, grant: &TokenGrant) -> Option<&ToolEntry> {
        let entry = &self.entries[*self.by_name.get(name)?];
        authorize(grant, entry.scope).is_ok().then_some(entry)
    }
}

fn entry(spec: &MethodSpec, name: String) -> Result<ToolEntry, CatalogError> {
    let input = match spec.params.as_value() {
        Value::Object(o) => input_schema(o.clone()),
        _ => return Err(CatalogError::InputSchema(spec.name)),
    };
    let (output, wraps_output) = output_schema(spec.result.as_value());
    let mut meta = MetaObject::new();
    meta.0
        .insert(META_METHOD.to_owned(), Value::from(spec.name));
    let tool = Tool::new(name, description(spec), Arc::new(input))
        .with_title(spec.name)
        .with_raw_output_schema(Arc::new(output))
        .with_annotations(annotations(spec.kind, spec.name))
        .with_meta(meta);
    Ok(ToolEntry {
        method: spec.name,
        scope: spec.scope,
        tool,
        wraps_output,
    })
}

/// The params schema as MCP wants it: an object schema (a method without params gets
/// `{"type":"object","additionalProperties":false}` from its empty params struct already).
fn input_schema(mut schema: JsonObject) -> JsonObject {
    schema
        .entry("type")
        .or_insert_with(|| Value::from("object"));
    schema
}

/// The output schema and whether it wraps the data as `{"result": …}`.
fn output_schema(schema: &Value) -> (JsonObject, bool) {
    if let Value::Object(o) = schema
        && o.get("type") == Some(&Value::from("object"))
    {
        return (o.clone(), false);
    }
    let mut inner = match schema {
        Value::Object(o) => o.clone(),
        // `true` (anything) as a schema.
        other => {
            let mut m = Map::new();
            if other == &Value::Bool(false) {
                m.insert("not".into(), json!({}));
            }
            m
        }
    };
    let mut outer = Map::new();
    for key in ["$schema", "$defs", "definitions"] {
        if let Some(v) = inner.remove(key) {
            outer.insert(key.to_owned(), v);
        }
    }
    let title = inner.remove("title");
    outer.insert("type".into(), Value::from("object"));
    if let Some(title) = title {
        outer.insert("title".into(), title);
    }
    outer.insert(
        "properties".into(),
        json!({ "result": Value::Object(inner) }),
    );
    outer.insert("required".into(), json!(["result"]));
    outer.insert("additionalProperties".into(), Value::Bool(false));
    (outer, true)
}

fn annotations(kind: Kind, method: &str) -> ToolAnnotations {
    let hints = ToolAnnotations::with_title(method).open_world(false);
    match kind {
        Kind::Read => hints.read_only(true).destructive(false).idempotent(true),
        Kind::Write => hints.read_only(false).destructive(false).idempotent(true),
        Kind::Destructive => hints.read_only(false).destructive(true).idempotent(false),
    }
}

fn description(spec: &MethodSpec) -> String {
    let who = match spec.scope {
        Scope::Read => "any token of the company (read, write or admin)",
        Scope::Write => "a write or admin token",
        Scope::Admin => "an admin token",
        Scope::Platform => "the operators' admin token (of no company)",
    };
    let effect = match spec.kind {
        Kind::Read => "It changes nothing and is safe to repeat.",
        Kind::Write => {
            "It changes state; repeating it with the same arguments does no further harm."
        }
        Kind::Destructive => {
            "It changes state in a way that cannot be undone: confirm with the user first."
        }
    };
    format!(
        "{}\n\n{effect} Needs {who}. Times without an offset are local to {ZONE_SENTENCE}; \
         durations are in the units their field names give. JSON-RPC method: {}.",
        spec.summary.trim_end(),
        spec.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_actors::domain::ids::CompanyId;
    use switchboard_actors::records::TokenScope;

    fn spec(name: &'static str) -> MethodSpec {
        let mut spec = catalog_specs()[0].clone();
        spec.name = name;
        spec
    }

    fn catalog_specs() -> Vec<MethodSpec> {
        switchboard_actors::servers::queue::QueueServer::methods()
    }

    #[test]
    fn dotted_methods_become_underscored_tool_names() {
        assert_eq!(tool_name("calcom.getBookings"), "calcom_getBookings");
        assert_eq!(
            tool_name("retell.config.getWebhookConfiguration"),
            "retell_config_getWebhookConfiguration"
        );
    }

    #[test]
    fn tool_name_rule_is_the_one_clients_apply() {
        assert!(is_valid_tool_name("calcom_getBookings"));
        assert!(is_valid_tool_name(&"a".repeat(64)));
        assert!(!is_valid_tool_name(&"a".repeat(65)));
        assert!(!is_valid_tool_name(""));
        assert!(!is_valid_tool_name("calcom.getBookings"));
        assert!(!is_valid_tool_name("kalender_büro"));
    }

    #[test]
    fn two_methods_with_one_tool_name_are_refused() {
        let err = ToolCatalog::new(&[spec("a.b_c"), spec("a_b.c")]).unwrap_err();
        assert!(matches!(err, CatalogError::Collision { .. }), "{err}");
    }

    #[test]
    fn an_overlong_name_is_refused() {
        let long: &'static str = Box::leak(format!("x.{}", "y".repeat(63)).into_boxed_str());
        let err = ToolCatalog::new(&[spec(long)]).unwrap_err();
        assert!(matches!(err, CatalogError::InvalidName { .. }), "{err}");
    }

    #[test]
    fn a_company_read_token_sees_no_write_or_platform_tool() {
        let catalog = ToolCatalog::new(&catalog_specs()).unwrap();
        let read = TokenGrant::company(CompanyId(1), TokenScope::Read, "t");
        let visible: Vec<_> = catalog.visible(&read).map(|e| e.method).collect();
        assert!(visible.contains(&"queue.getFailedJobs"), "{visible:?}");
        assert!(!visible.contains(&"queue.retryJob"), "{visible:?}");
        assert!(!visible.contains(&"queue.getWorkers"), "{visible:?}");
        assert!(catalog.get("queue_retryJob", &read).is_none());
        let admin = TokenGrant::admin("t");
        assert!(catalog.get("queue_retryJob", &admin).is_some());
    }

    #[test]
    fn annotations_follow_the_methods_kind() {
        let catalog = ToolCatalog::new(&catalog_specs()).unwrap();
        let admin = TokenGrant::admin("t");
        let read = catalog.get("queue_getFailedJobs", &admin).unwrap();
        let hints = read.tool.annotations.as_ref().unwrap();
        assert_eq!(hints.read_only_hint, Some(true));
        assert_eq!(hints.destructive_hint, Some(false));
        let write = catalog.get("queue_retryJob", &admin).unwrap();
        let hints = write.tool.annotations.as_ref().unwrap();
        assert_eq!(hints.read_only_hint, Some(false));
        assert_eq!(hints.idempotent_hint, Some(true));
    }

    #[test]
    fn a_non_object_output_is_wrapped_as_result() {
        let (schema, wraps) = output_schema(
            &json!({"type": "array", "items": {"$ref": "#/$defs/X"},
            "$defs": {"X": {"type": "string"}}, "$schema": "https://json-schema.org/draft/2020-12/schema"}),
        );
        assert!(wraps);
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["properties"]["result"]["type"], "array");
        assert!(schema["$defs"]["X"].is_object(), "defs stay at the root");
        let (schema, wraps) = output_schema(&json!({"type": "object", "properties": {}}));
        assert!(!wraps);
        assert_eq!(schema["type"], "object");
    }

    #[test]
    fn a_company_tokens_descriptions_name_its_time_zone() {
        let catalog = ToolCatalog::new(&catalog_specs()).unwrap();
        let read = TokenGrant::company(CompanyId(1), TokenScope::Read, "t");
        for tool in catalog.tools_for(&read, Some("Europe/Berlin")) {
            let text = tool.description.unwrap();
            assert!(text.contains("time zone, Europe/Berlin"), "{text}");
        }
        let admin = TokenGrant::admin("t");
        for tool in catalog.tools_for(&admin, None) {
            assert!(tool.description.unwrap().contains(ZONE_SENTENCE));
        }
    }

    #[test]
    fn every_tool_names_its_method_in_title_and_meta() {
        let catalog = ToolCatalog::new(&catalog_specs()).unwrap();
        for entry in catalog.all() {
            assert_eq!(entry.tool.title.as_deref(), Some(entry.method));
            let meta = entry.tool.meta.as_ref().unwrap();
            assert_eq!(meta.0.get(META_METHOD), Some(&Value::from(entry.method)));
            assert!(
                entry
                    .tool
                    .description
                    .as_deref()
                    .unwrap()
                    .contains(entry.method)
            );
        }
    }
}
