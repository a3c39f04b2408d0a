//! The SQL checker and rewriter of `database.query`: a client's SQL becomes a query that can
//! only read its own company's rows of the documented views, or a refusal that says what
//! was refused and why. Pure: parsing with `sqlparser` (Apache DataFusion's SQL parser), no
//! I/O; the store runs what [`check`] returns.
//!
//! What passes:
//! - exactly one statement, a query: `SELECT`, `VALUES`, set operations and `WITH … SELECT`;
//!   no `SELECT … INTO`, no `FOR UPDATE`/`FOR SHARE`, no `WITH RECURSIVE` (nor a common
//!   table expression that names itself or a later one), no `TABLE x`;
//! - relations: the [`VIEWS`] (by a one-part name, any case, quoted or not) and the common
//!   table expressions the query itself defines (never one named like a view); derived
//!   tables and joins of those. Table functions (`generate_series(…)`, `json_each(…)`,
//!   `pragma_table_info(…)`, `UNNEST`, …) and names with a schema (`pg_catalog.pg_tables`,
//!   `main.calls`, `information_schema.tables`) are refused, as is every other table
//!   (`api_tokens`, `companies`, `sqlite_master`, …);
//! - functions of [`FUNCTIONS`] only (one-part names), casts and typed literals
//!   (`DATE '…'`) of the plain types of [`CAST_TYPES`] only, column references of at most
//!   two parts (`alias.column`);
//! - parameters `$1…$n` with `n` the number of params given.
//!
//! How tenancy holds: every view reference is replaced in the AST by a derived table
//! `(SELECT <columns> FROM <table> WHERE company_id = <company>) AS <alias>`, the company
//! inlined as an integer literal taken from the token, never from the client. The client's
//! text is never run: the checked AST is rendered again, so comments and odd quoting are
//! gone; joins, subqueries and CTEs only ever see those derived tables.

use crate::domain::ids::CompanyId;
use crate::ports::StoreError;
use schemars::JsonSchema;
use serde::Serialize;
use sqlparser::ast::{
    DataType, Expr, Ident, ObjectName, Query, SetExpr, Statement, TableAlias, TableFactor, Value,
    ValueWithSpan, VisitMut, VisitorMut, visit_relations,
};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::time::Duration;

/// Deepest nesting of expressions and subqueries the parser accepts; deeper is a refusal.
const RECURSION_LIMIT: usize = 40;

/// The database a checked query is rendered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SqlDialect {
    /// SQLite (the embedded default); parameters rendered `?1…?n`.
    Sqlite,
    /// PostgreSQL; parameters rendered `$1…$n`.
    Postgres,
}

impl SqlDialect {
    fn parser_dialect(self) -> Box<dyn Dialect> {
        match self {
            SqlDialect::Sqlite => Box::new(SQLiteDialect {}),
            SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
        }
    }
}

/// A column of a [`View`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewColumn {
    /// Column name.
    pub name: &'static str,
    /// `integer`, `text`, `timestamp` (UTC; RFC 3339 text on SQLite, `timestamptz` on
    /// PostgreSQL) or `json` (JSON text).
    pub kind: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// A queryable view: the columns of one table a company may read, restricted to its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    /// Its name in queries (also the table it reads).
    pub name: &'static str,
    /// What one row is.
    pub description: &'static str,
    /// The columns it exposes; everything else of the table (credentials, token hashes,
    /// raw payloads, idempotency keys) is not reachable.
    pub columns: &'static [ViewColumn],
}

impl View {
    /// `SELECT <columns> FROM <name> WHERE company_id = <company>`.
    fn definition(&self, company: CompanyId) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        format!(
            "SELECT {} FROM {} WHERE company_id = {}",
            columns.join(", "),
            self.name,
            company.0
        )
    }
}

const fn col(name: &'static str, kind: &'static str, description: &'static str) -> ViewColumn {
    ViewColumn {
        name,
        kind,
        description,
    }
}

/// The views `database.query` accepts (and `database.getSchema` documents).
pub const VIEWS: &[View] = &[
    View {
        name: "calls",
        description: "One row per phone call we recorded (Retell webhooks and custom functions).",
        columns: &[
            col("call_id", "text", "Retell call id."),
            col("company_id", "integer", "The company."),
            col(
                "branch_id",
                "integer",
                "The branch that was called (branches.id).",
            ),
            col(
                "status",
                "text",
                "registered, ongoing, ended, error, not_connected or analyzed.",
            ),
            col("direction", "text", "inbound or outbound."),
            col(
                "from_number",
                "text",
                "Caller's number (E.164 on inbound calls).",
            ),
            col("to_number", "text", "Dialled business number (E.164)."),
            col("started_at", "timestamp", "Start of the call (UTC)."),
            col("ended_at", "timestamp", "End of the call (UTC)."),
            col(
                "duration_ms",
                "integer",
                "Length of the call in milliseconds.",
            ),
            col(
                "disconnection_reason",
                "text",
                "Why it ended, e.g. user_hangup.",
            ),
            col(
                "summary",
                "text",
                "Retell's call summary (after call_analyzed).",
            ),
            col(
                "sentiment",
                "text",
                "Retell's user sentiment (after call_analyzed).",
            ),
            col(
                "collected",
                "json",
                "Appointment data collected during the call: date, time, name, phone, \
                 email, service {service_id, name, duration_min, event_type_id}, staff, \
                 notes, confirmed.",
            ),
            col(
                "appointment_id",
                "integer",
                "The booked appointment (appointments.id).",
            ),
            col(
                "customer_id",
                "integer",
                "The caller as a customer (customers.id).",
            ),
            col(
                "created_at",
                "timestamp",
                "When the record was created (UTC).",
            ),
            col("updated_at", "timestamp", "When it last changed (UTC)."),
        ],
    },
    View {
        name: "appointments",
        description: "One row per Cal.com booking we made or learned of.",
        columns: &[
            col("id", "integer", "Appointment id."),
            col("company_id", "integer", "The company."),
            col("branch_id", "integer", "The branch (branches.id)."),
            col("call_id", "text", "The call it was booked from, if any."),
            col("customer_id", "integer", "The customer (customers.id)."),
            col("booking_uid", "text", "Cal.com booking uid."),
            col("event_type_id", "integer", "Cal.com event type."),
            col("service_id", "integer", "The service (services.id)."),
            col("service_name", "text", "Service name when booked."),
            col("start_at", "timestamp", "Start (UTC)."),
            col("end_at", "timestamp", "End (UTC)."),
            col("attendee_name", "text", "Attendee's name."),
            col("attendee_phone", "text", "Attendee's number (E.164)."),
            col("attendee_email", "text", "Attendee's email."),
            col("status", "text", "scheduled, rescheduled or cancelled."),
            col("source", "text", "phone, gateway or calcom."),
            col(
                "rescheduled_to_uid",
                "text",
                "The booking that replaced a rescheduled one.",
            ),
            col("cancellation_reason", "text", "Why it was cancelled."),
            col("created_at", "timestamp", "When it was stored (UTC)."),
            col("updated_at", "timestamp", "When it last changed (UTC)."),
        ],
    },
    View {
        name: "customers",
        description: "One row per caller of the company, by phone number.",
        columns: &[
            col("id", "integer", "Customer id."),
            col("company_id", "integer", "The company."),
            col("phone", "text", "Number (E.164)."),
            col("name", "text", "Name, if known."),
            col("email", "text", "Email, if known."),
            col("created_at", "timestamp", "First seen (UTC)."),
            col("updated_at", "timestamp", "Last changed (UTC)."),
        ],
    },
    View {
        name: "jobs",
        description: "One row per outbox job (bookings, reschedules, cancellations, SMS).",
        columns: &[
            col("id", "integer", "Job id (queue.retryJob takes it)."),
            col("company_id", "integer", "The company."),
            col("queue", "text", "Queue, e.g. bookings."),
            col("kind", "text", "book, reschedule, cancel, sms, …"),
            col("call_id", "text", "The call it came from, if any."),
            col(
                "status",
                "text",
                "pending, running, done or failed (dead letter).",
            ),
            col("attempts", "integer", "Attempts made."),
            col(
                "max_attempts",
                "integer",
                "Attempts before it becomes a dead letter.",
            ),
            col("next_run_at", "timestamp", "When it is due (UTC)."),
            col("last_error", "text", "Error of the last attempt."),
            col("created_at", "timestamp", "Enqueued (UTC)."),
            col("updated_at", "timestamp", "Last changed (UTC)."),
        ],
    },
    View {
        name: "branches",
        description: "One row per branch of the company.",
        columns: &[
            col("id", "integer", "Branch id."),
            col("company_id", "integer", "The company."),
            col("name", "text", "Name."),
            col("slug", "text", "Stable id in tenant files."),
            col("opens", "text", "Opening time, local HH:MM."),
            col("closes", "text", "Closing time, local HH:MM."),
            col("created_at", "timestamp", "Created (UTC)."),
        ],
    },
    View {
        name: "services",
        description: "One row per bookable service of the company.",
        columns: &[
            col("id", "integer", "Service id."),
            col("company_id", "integer", "The company."),
            col("name", "text", "Name."),
            col("duration_min", "integer", "Length in minutes."),
            col("event_type_id", "integer", "Cal.com event type."),
            col("team_id", "integer", "Cal.com team, if any."),
            col("created_at", "timestamp", "Created (UTC)."),
        ],
    },
    View {
        name: "call_events",
        description: "What transfer events and the post-call analysis added to a call.",
        columns: &[
            col("id", "integer", "Row id."),
            col("company_id", "integer", "The company."),
            col("call_id", "text", "The call."),
            col("event", "text", "Webhook event, e.g. call_analyzed."),
            col("received_at", "timestamp", "Received (UTC)."),
            col(
                "details",
                "json",
                "The event's fields (e.g. call_analysis).",
            ),
        ],
    },
];

/// Functions a query may call (lower case). Aggregates, window functions, string, math,
/// date/time and JSON helpers of SQLite and PostgreSQL; a function of the other backend
/// fails in the database (3004). Nothing that sleeps, reads files, changes settings,
/// sequences or extensions, or builds large values from small input (`repeat`, `lpad`,
/// `printf`, `randomblob`, `zeroblob`, …).
pub const FUNCTIONS: &[&str] = &[
    // aggregates
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "total",
    "group_concat",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    // window functions
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    // conditionals
    "coalesce",
    "nullif",
    "ifnull",
    "iif",
    "greatest",
    "least",
    // strings
    "lower",
    "upper",
    "length",
    "char_length",
    "trim",
    "ltrim",
    "rtrim",
    "substr",
    "substring",
    // No `replace`: nested, each call multiplies a text's length (12 levels built a 67 MB
    // string in this process), an allocation the time limit cannot interrupt.
    "instr",
    "strpos",
    "concat",
    "concat_ws",
    "left",
    "right",
    // math
    "abs",
    "round",
    "ceil",
    "ceiling",
    "floor",
    "sign",
    "mod",
    "sqrt",
    "power",
    // date and time
    "date",
    "time",
    "datetime",
    "julianday",
    "strftime",
    "unixepoch",
    "date_trunc",
    "date_part",
    "to_char",
    "now",
    "timezone",
    "current_date",
    "current_time",
    "current_timestamp",
    // JSON
    "json_extract",
    "json_type",
    "json_array_length",
    "json_valid",
    "json_typeof",
    "json_extract_path_text",
];

/// Types a `CAST` (or PostgreSQL `::`) may name (first word, lower case).
pub const CAST_TYPES: &[&str] = &[
    "int",
    "integer",
    "bigint",
    "smallint",
    "int2",
    "int4",
    "int8",
    "text",
    "varchar",
    "char",
    "character",
    "real",
    "double",
    "float",
    "float4",
    "float8",
    "numeric",
    "decimal",
    "boolean",
    "bool",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "json",
    "jsonb",
];

/// A client's SQL, checked and rewritten for one company and dialect ([`check`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedQuery {
    /// The SQL to run, rendered from the checked AST.
    pub sql: String,
    /// The dialect it was rendered for.
    pub dialect: SqlDialect,
}

/// One bound parameter of `database.query` (a JSON scalar).
#[derive(Clone, Debug, PartialEq)]
pub enum QueryParam {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Real(f64),
    /// A string.
    Text(String),
}

/// The limits one run of a checked query stays within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// Rows returned at most; one more is read to tell whether there were more.
    pub max_rows: u32,
    /// The query is stopped after this long.
    pub timeout: Duration,
}

/// A result column of `database.query`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct QueryColumn {
    /// Its name (the label the query gave it).
    pub name: String,
    /// The database's name of its type, lower case (e.g. `int8`, `text`, `timestamptz`; on
    /// SQLite the declared type, or `null` for expressions).
    #[serde(rename = "type")]
    pub kind: String,
}

/// A value a query takes as a parameter or returns in a cell, as its JSON Schema says (a
/// schema for the `serde_json::Value`s that carry them, which alone would be the bare `true`
/// MCP clients refuse).
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum SqlScalar {
    /// SQL `NULL`.
    Null(()),
    /// A boolean.
    Bool(bool),
    /// An integer or a real.
    Number(f64),
    /// Text (times as RFC 3339).
    Text(String),
}

/// `result.data` of `database.query`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct QueryOutput {
    /// The result's columns, in order.
    pub columns: Vec<QueryColumn>,
    /// The rows, each a list of values in column order: integers, reals, text, booleans,
    /// null; times as RFC 3339 text; PostgreSQL NUMERIC as a JSON number.
    #[schemars(with = "Vec<Vec<SqlScalar>>")]
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows were there than `limit`.
    pub truncated: bool,
    /// How long the database took, in milliseconds.
    pub elapsed_ms: u64,
}

/// Why a query was not answered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The SQL is not a single read of the views (JSON-RPC -32602); the message names what
    /// was refused and why.
    #[error("{0}")]
    Refused(String),
    /// The time limit stopped it (JSON-RPC -32005).
    #[error("the query was stopped after its time limit of {} ms", .0.as_millis())]
    Timeout(Duration),
    /// A value the result cannot carry as JSON (JSON-RPC -32602), e.g. an interval.
    #[error("{0}")]
    Unsupported(String),
    /// The database refused or failed it (JSON-RPC 3004).
    #[error(transparent)]
    Store(StoreError),
}

/// Checks `sql` (one statement of `dialect`, with `params` parameters `$1…$n`) and rewrites
/// it to read only `company`'s rows of the [`VIEWS`].
///
/// # Errors
/// [`QueryError::Refused`] naming the first thing that is not allowed (see the module docs),
/// or the parser's message when the SQL does not parse.
pub fn check(
    sql: &str,
    dialect: SqlDialect,
    company: CompanyId,
    params: usize,
) -> Result<CheckedQuery, QueryError> {
    let parser_dialect = dialect.parser_dialect();
    let refused = QueryError::Refused;
    let mut statements = Parser::new(parser_dialect.as_ref())
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| refused(format!("the SQL does not parse: {e}")))?;
    let mut statement = match statements.len() {
        1 => statements.remove(0),
        0 => return Err(refused("the SQL holds no statement".to_owned())),
        n => {
            return Err(refused(format!(
                "only a single SELECT is allowed; found {n} statements"
            )));
        }
    };
    if !matches!(statement, Statement::Query(_)) {
        return Err(refused(format!(
            "only a single SELECT is allowed; found {}",
            statement_keyword(&statement)
        )));
    }
    let mut guard = Guard {
        dialect,
        company,
        params,
        scopes: Vec::new(),
    };
    if let ControlFlow::Break(message) = statement.visit(&mut guard) {
        return Err(refused(message));
    }
    Ok(CheckedQuery {
        sql: statement.to_string(),
        dialect,
    })
}

/// `DELETE`, `UPDATE`, `ATTACH DATABASE`, …: the statement's kind from its AST variant.
fn statement_keyword(statement: &Statement) -> String {
    let debug = format!("{statement:?}");
    let variant: String = debug
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let mut keyword = String::new();
    for (i, c) in variant.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            keyword.push(' ');
        }
        keyword.push(c.to_ascii_uppercase());
    }
    keyword
}

/// The one-part, lower-case name of a relation or function; `None` when it has a schema or
/// is not a plain identifier.
fn simple_name(name: &ObjectName) -> Option<String> {
    match name.0.as_slice() {
        [part] => part.as_ident().map(|ident| ident.value.to_lowercase()),
        _ => None,
    }
}

/// Walks the statement: refuses what is not allowed, replaces view references and renders
/// parameters for the dialect.
struct Guard {
    dialect: SqlDialect,
    company: CompanyId,
    params: usize,
    /// The common table expressions visible at this point, innermost query last.
    scopes: Vec<BTreeSet<String>>,
}

impl Guard {
    fn is_cte(&self, name: &str) -> bool {
        self.scopes.iter().any(|scope| scope.contains(name))
    }

    fn check_query(&mut self, query: &Query) -> ControlFlow<String> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(
                "FOR UPDATE / FOR SHARE is not allowed: queries only read".to_owned(),
            );
        }
        if query.for_clause.is_some()
            || query.settings.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty()
        {
            return ControlFlow::Break(
                "FOR, SETTINGS, FORMAT and pipe clauses are not allowed".to_owned(),
            );
        }
        let mut scope = BTreeSet::new();
        if let Some(with) = &query.with {
            if with.recursive {
                return ControlFlow::Break("WITH RECURSIVE is not allowed".to_owned());
            }
            let names: Vec<String> = with
                .cte_tables
                .iter()
                .map(|cte| cte.alias.name.value.to_lowercase())
                .collect();
            for (i, cte) in with.cte_tables.iter().enumerate() {
                let name = &names[i];
                if VIEWS.iter().any(|v| v.name == name) {
                    return ControlFlow::Break(format!(
                        "the common table expression `{name}` has the name of a view; \
                         choose another name"
                    ));
                }
                // A CTE naming itself or a later one is recursion (SQLite needs no
                // RECURSIVE keyword for it) or, on PostgreSQL, a table of that name.
                let later = &names[i..];
                visit_relations(&cte.query, |relation| match simple_name(relation) {
                    Some(referenced) if later.contains(&referenced) => ControlFlow::Break(format!(
                        "the common table expression `{name}` refers to `{referenced}`, \
                             itself or one defined after it: recursive queries are not allowed"
                    )),
                    _ => ControlFlow::Continue(()),
                })?;
                scope.insert(name.clone());
            }
        }
        self.scopes.push(scope);
        match query.body.as_ref() {
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                ControlFlow::Break(format!(
                    "only a single SELECT is allowed; found {}",
                    statement_keyword(s)
                ))
            }
            SetExpr::Table(_) => {
                ControlFlow::Break("TABLE … is not allowed; write SELECT * FROM …".to_owned())
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn check_table(&self, factor: &TableFactor) -> ControlFlow<String> {
        match factor {
            TableFactor::Table {
                name,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                index_directives,
                ..
            } => {
                if args.is_some() || *with_ordinality {
                    return ControlFlow::Break(format!(
                        "table functions are not allowed: `{name}(…)`"
                    ));
                }
                if !with_hints.is_empty()
                    || version.is_some()
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || !index_directives.is_empty()
                {
                    return ControlFlow::Break(format!(
                        "table hints, versions and partitions are not allowed: `{name}`"
                    ));
                }
                let Some(simple) = simple_name(name) else {
                    return ControlFlow::Break(format!(
                        "relation `{name}` names a schema; only the views of \
                         database.getSchema are queryable"
                    ));
                };
                if VIEWS.iter().any(|v| v.name == simple) || self.is_cte(&simple) {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(format!(
                        "relation `{name}` is not a queryable view; see database.getSchema"
                    ))
                }
            }
            TableFactor::Derived { .. } | TableFactor::NestedJoin { .. } => {
                ControlFlow::Continue(())
            }
            other => {
                let text = other.to_string();
                let head: String = text.chars().take(40).collect();
                ControlFlow::Break(format!(
                    "only views, subqueries and joins may appear in FROM; found `{head}`"
                ))
            }
        }
    }

    /// The derived table replacing a reference to view `view`, keeping the reference's alias
    /// (or the view's name as the alias).
    fn derived(&self, view: &View, alias: Option<TableAlias>) -> ControlFlow<String, TableFactor> {
        let definition = view.definition(self.company);
        let dialect = self.dialect.parser_dialect();
        let subquery = match Parser::new(dialect.as_ref())
            .try_with_sql(&definition)
            .and_then(|mut p| p.parse_query())
        {
            Ok(query) => query,
            Err(e) => return ControlFlow::Break(format!("view {} is broken: {e}", view.name)),
        };
        let alias = alias.unwrap_or_else(|| TableAlias {
            explicit: true,
            name: Ident::new(view.name),
            columns: Vec::new(),
            at: None,
        });
        ControlFlow::Continue(TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(alias),
            sample: None,
        })
    }

    fn check_expr(&self, expr: &Expr) -> ControlFlow<String> {
        match expr {
            Expr::Function(function) => {
                let allowed = simple_name(&function.name)
                    .is_some_and(|name| FUNCTIONS.contains(&name.as_str()));
                if allowed {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(format!(
                        "function `{}` is not allowed; see database.getSchema for the list",
                        function.name
                    ))
                }
            }
            Expr::Cast { data_type, .. } => check_cast(data_type),
            // `DATE '…'`, and PostgreSQL's `regclass '…'`: a cast by another name.
            Expr::TypedString(typed) => check_cast(&typed.data_type),
            Expr::CompoundIdentifier(parts) if parts.len() > 2 => {
                let name: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
                ControlFlow::Break(format!(
                    "`{}` names a schema; refer to columns as column or alias.column",
                    name.join(".")
                ))
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn check_value(&self, value: &mut ValueWithSpan) -> ControlFlow<String> {
        let Value::Placeholder(text) = &value.value else {
            return ControlFlow::Continue(());
        };
        let number = text
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=self.params).contains(n));
        let Some(number) = number else {
            return ControlFlow::Break(format!(
                "parameter `{text}` is not one of $1…${} (the params given)",
                self.params
            ));
        };
        value.value = Value::Placeholder(match self.dialect {
            SqlDialect::Sqlite => format!("?{number}"),
            SqlDialect::Postgres => format!("${number}"),
        });
        ControlFlow::Continue(())
    }
}

fn check_cast(data_type: &DataType) -> ControlFlow<String> {
    let text = data_type.to_string().to_lowercase();
    let head: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if CAST_TYPES.contains(&head.as_str()) {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(format!("casts to `{text}` are not allowed"))
    }
}

impl VisitorMut for Guard {
    type Break = String;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<String> {
        self.check_query(query)
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<String> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut sqlparser::ast::Select) -> ControlFlow<String> {
        if select.into.is_some() {
            return ControlFlow::Break(
                "SELECT … INTO is not allowed: queries only read".to_owned(),
            );
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<String> {
        self.check_table(factor)
    }

    // After the walk into the reference (so the view's own definition is never walked).
    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<String> {
        let TableFactor::Table { name, alias, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let Some(simple) = simple_name(name) else {
            return ControlFlow::Continue(());
        };
        if self.is_cte(&simple) {
            return ControlFlow::Continue(());
        }
        let Some(view) = VIEWS.iter().find(|v| v.name == simple) else {
            return ControlFlow::Continue(());
        };
        *factor = self.derived(view, alias.take())?;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<String> {
        self.check_expr(expr)
    }

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<String> {
        self.check_value(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: CompanyId = CompanyId(7);

    fn ok(sql: &str, dialect: SqlDialect) -> String {
        check(sql, dialect, ME, 2)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .sql
    }

    fn refusal(sql: &str) -> String {
        match check(sql, SqlDialect::Postgres, ME, 1) {
            Err(QueryError::Refused(message)) => message,
            other => panic!("{sql}: not refused: {other:?}"),
        }
    }

    #[test]
    fn a_view_becomes_a_derived_table_of_the_company() {
        let sql = ok("SELECT call_id FROM calls", SqlDialect::Postgres);
        assert!(
            sql.contains("FROM (SELECT call_id, company_id,")
                && sql.contains("FROM calls WHERE company_id = 7) AS calls"),
            "{sql}"
        );
    }

    #[test]
    fn aliases_joins_and_subqueries_keep_the_scoping() {
        let sql = ok(
            "SELECT c.call_id FROM calls c JOIN appointments a ON a.call_id = c.call_id \
             WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.call_id = c.call_id)",
            SqlDialect::Postgres,
        );
        assert_eq!(sql.matches("WHERE company_id = 7)").count(), 3, "{sql}");
        assert!(sql.contains(") c JOIN"), "{sql}");
    }

    #[test]
    fn a_cte_over_a_view_is_scoped_too() {
        let sql = ok(
            "WITH mine AS (SELECT * FROM customers) SELECT count(*) FROM mine",
            SqlDialect::Sqlite,
        );
        assert!(sql.contains("WHERE company_id = 7) AS customers"), "{sql}");
    }

    #[test]
    fn placeholders_are_rendered_for_the_backend() {
        let sqlite = ok("SELECT * FROM calls WHERE call_id = $2", SqlDialect::Sqlite);
        assert!(sqlite.ends_with("call_id = ?2"), "{sqlite}");
        let pg = ok(
            "SELECT * FROM calls WHERE call_id = $2",
            SqlDialect::Postgres,
        );
        assert!(pg.ends_with("call_id = $2"), "{pg}");
    }

    #[test]
    fn comments_are_not_run() {
        let sql = ok(
            "SELECT 1 /* ; DELETE FROM calls */ -- x",
            SqlDialect::Sqlite,
        );
        assert_eq!(sql, "SELECT 1");
    }

    #[test]
    fn only_a_single_select_passes() {
        assert_eq!(
            refusal("DELETE FROM calls"),
            "only a single SELECT is allowed; found DELETE"
        );
        assert_eq!(
            refusal("SELECT 1; DELETE FROM calls"),
            "only a single SELECT is allowed; found 2 statements"
        );
        for (sql, word) in [
            ("UPDATE calls SET status = 'x'", "UPDATE"),
            ("DROP TABLE calls", "DROP"),
            ("INSERT INTO calls SELECT * FROM calls", "INSERT"),
            ("SET statement_timeout = 0", "SET"),
            ("EXPLAIN SELECT 1", "EXPLAIN"),
        ] {
            let message = refusal(sql);
            assert!(
                message.starts_with("only a single SELECT is allowed; found "),
                "{message}"
            );
            assert!(message.contains(word), "{sql}: {message}");
        }
        assert!(matches!(
            check("PRAGMA query_only = 0", SqlDialect::Sqlite, ME, 0),
            Err(QueryError::Refused(m)) if m.contains("PRAGMA")
        ));
        assert!(matches!(
            check("ATTACH DATABASE 'x.db' AS x", SqlDialect::Sqlite, ME, 0),
            Err(QueryError::Refused(m)) if m.contains("ATTACH")
        ));
    }

    #[test]
    fn tables_outside_the_views_are_refused() {
        for sql in [
            "SELECT * FROM api_tokens",
            "SELECT * FROM \"api_tokens\"",
            "SELECT * FROM companies",
            "SELECT * FROM calls WHERE call_id IN (SELECT label FROM /* calls */ api_tokens)",
            "SELECT * FROM sqlite_master",
        ] {
            assert!(refusal(sql).contains("is not a queryable view"), "{sql}");
        }
        for sql in [
            "SELECT * FROM pg_catalog.pg_tables",
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM main.calls",
        ] {
            assert!(refusal(sql).contains("names a schema"), "{sql}");
        }
    }

    #[test]
    fn ctes_cannot_shadow_views_or_recurse() {
        assert!(refusal("WITH calls AS (SELECT 1) SELECT * FROM calls").contains("name of a view"));
        assert!(
            refusal(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r"
            )
            .contains("RECURSIVE")
        );
        let sqlite = check(
            "WITH r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
            SqlDialect::Sqlite,
            ME,
            0,
        );
        assert!(matches!(sqlite, Err(QueryError::Refused(m)) if m.contains("recursive")));
        assert!(
            refusal(
                "SELECT * FROM (WITH api_tokens AS (SELECT 1) SELECT * FROM api_tokens) a, api_tokens"
            )
            .contains("`api_tokens` is not a queryable view")
        );
    }

    #[test]
    fn functions_and_casts_outside_the_lists_are_refused() {
        for sql in [
            "SELECT pg_sleep(10)",
            "SELECT randomblob(1000000000)",
            "SELECT pg_catalog.count(*) FROM calls",
            "SELECT set_config('statement_timeout', '0', false)",
            "SELECT nextval('x')",
        ] {
            assert!(refusal(sql).starts_with("function "), "{sql}");
        }
        assert!(refusal("SELECT 'api_tokens'::regclass").contains("casts to `regclass`"));
        assert!(refusal("SELECT regclass 'api_tokens'").contains("casts to `regclass`"));
        assert!(ok("SELECT DATE '2026-12-01'", SqlDialect::Postgres).contains("DATE"));
        assert!(
            ok(
                "SELECT CAST(duration_ms AS TEXT) FROM calls",
                SqlDialect::Sqlite
            )
            .contains("CAST")
        );
    }

    #[test]
    fn table_functions_and_locks_are_refused() {
        assert!(refusal("SELECT * FROM generate_series(1, 10)").contains("table functions"));
        assert!(refusal("SELECT * FROM calls FOR UPDATE").contains("FOR UPDATE"));
        assert!(refusal("SELECT * INTO copy FROM calls").contains("INTO"));
    }

    #[test]
    fn parameters_must_be_numbered_and_given() {
        assert!(refusal("SELECT $2").contains("$1…$1"));
        assert!(refusal("SELECT $0").contains("not one of"));
        assert!(matches!(
            check("SELECT :name", SqlDialect::Sqlite, ME, 1),
            Err(QueryError::Refused(m)) if m.contains("not one of")
        ));
    }

    #[test]
    fn deep_nesting_is_a_refusal_not_a_crash() {
        let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(refusal(&sql).contains("does not parse"));
    }
}
