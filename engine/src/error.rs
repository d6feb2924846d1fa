//! The engine's one error type: a stable code, a message and a JSON `meta` object; and warnings,
//! which have the same shape but are logged, not raised.
//!
//! Codes are never reused. Where Prisma has a code with the same meaning we use it (P2002 unique
//! violation, P2025 record not found, ...) so existing error handling keeps working; everything
//! specific to Quarry uses a `Q` code, warnings a `W` code. Messages never contain bound parameter
//! values or data read from the database, so an error can be logged or returned to a client
//! without leaking a row.

use serde_json::{Map, Value as Json};
use std::fmt;

/// Stable error codes. Each constant documents its meaning; the message is built where the error
/// is raised, from the schema and the request only.
pub mod codes {
    // Schema.
    /// The schema text does not parse (syntax). `meta.line`, `meta.column`.
    pub const SCHEMA_SYNTAX: &str = "Q1001";
    /// The schema parses but is not valid (unknown type, broken relation, ...).
    pub const SCHEMA_INVALID: &str = "Q1002";
    /// The schema's tenancy is misdeclared: a tenant field that matches no model, a model that
    /// refers to the tenant model without being scoped or declared global, an undeclared optional
    /// tenant field, a contradictory declaration. `meta.line`, `meta.column`.
    pub const TENANCY_INVALID: &str = "Q1003";
    /// The schema is valid Prisma but uses something Quarry does not support: another database
    /// provider, `view` or `type` blocks, `@@schema` / multiple schemas. `meta.line`, `meta.column`.
    pub const SCHEMA_UNSUPPORTED: &str = "Q1004";

    // Request validation. `meta.path` holds the JSON path of the mistake.
    /// The request is not valid JSON or not a JSON object where one is required.
    pub const REQUEST_MALFORMED: &str = "Q2001";
    /// Unknown model.
    pub const UNKNOWN_MODEL: &str = "Q2002";
    /// Unknown action.
    pub const UNKNOWN_ACTION: &str = "Q2003";
    /// Unknown argument, field or operator.
    pub const UNKNOWN_ARGUMENT: &str = "Q2004";
    /// A value has the wrong type for its field or argument.
    pub const INVALID_VALUE: &str = "Q2005";
    /// A required argument or value is missing.
    pub const MISSING_ARGUMENT: &str = "Q2006";
    /// Nesting deeper than the configured limit.
    pub const TOO_DEEP: &str = "Q2007";
    /// A number argument out of its allowed range (`take` above the limit, negative `skip`, ...).
    pub const OUT_OF_RANGE: &str = "Q2008";
    /// Arguments that cannot be used together (`select` with `include`, ...).
    pub const CONFLICTING_ARGUMENTS: &str = "Q2009";
    /// A feature the current database or mode does not support.
    pub const UNSUPPORTED: &str = "Q2010";
    /// A request larger than the engine takes: its JSON text beyond 32 MiB, or a list beyond its
    /// limit (10,000 conditions in one `AND` / `OR` / `NOT`). `meta.limit`.
    pub const TOO_LARGE: &str = "Q2011";

    // Tenant scope.
    /// A tenant-scoped model was used without a tenant context (strict mode).
    pub const TENANT_REQUIRED: &str = "Q3001";
    /// Data names a tenant other than the current one.
    pub const TENANT_MISMATCH: &str = "Q3002";
    /// A write would move a row between tenants or change a shared row.
    pub const TENANT_WRITE_REFUSED: &str = "Q3003";
    /// Raw SQL that cannot be proven to stay inside the tenant's rows.
    pub const RAW_SQL_REFUSED: &str = "Q3004";
    /// The tenant id given is not a valid value for the tenant field.
    pub const TENANT_INVALID: &str = "Q3005";
    /// A tenant context on a schema where no model is tenant-scoped (the tenant field is probably
    /// misnamed): there would be nothing to scope.
    pub const NO_TENANT_SCOPE: &str = "Q3006";

    // Execution and drivers.
    /// The database driver failed without a more specific mapping (`meta.sqlstate` if known).
    pub const DRIVER: &str = "Q4001";
    /// The client was disconnected (`$disconnect()`): nothing starts on it any more.
    pub const CLIENT_CLOSED: &str = "Q4002";
    /// A transaction was used after it ended, or timed out and was rolled back.
    pub const TRANSACTION_CLOSED: &str = "P2028";
    /// Timed out waiting for a connection from the pool.
    pub const POOL_TIMEOUT: &str = "P2024";
    /// An internal invariant failed; a bug in Quarry, never caused by data.
    pub const INTERNAL: &str = "Q9001";

    // Database errors, with Prisma's meanings.
    /// The provided value for the column is too long.
    pub const VALUE_TOO_LONG: &str = "P2000";
    /// Unique constraint failed; `meta.target` lists the fields.
    pub const UNIQUE_VIOLATION: &str = "P2002";
    /// Foreign key constraint failed; `meta.field_name`.
    pub const FOREIGN_KEY_VIOLATION: &str = "P2003";
    /// Null constraint violation; `meta.constraint`.
    pub const NULL_VIOLATION: &str = "P2011";
    /// A required relation would be violated by the change; `meta.relation_name`,
    /// `meta.model_a_name`, `meta.model_b_name`.
    pub const RELATION_VIOLATION: &str = "P2014";
    /// A nested delete names a child that is not connected to the parent (to-many relations);
    /// `meta.relation_name`, `meta.parent_name`, `meta.child_name`.
    pub const RECORDS_NOT_CONNECTED: &str = "P2017";
    /// Value out of range for the type.
    pub const OUT_OF_RANGE_VALUE: &str = "P2020";
    /// A record required by the operation was not found; `meta.cause` says which (names only).
    pub const RECORD_NOT_FOUND: &str = "P2025";
    /// Write conflict or deadlock; retry the transaction.
    pub const SERIALIZATION_FAILURE: &str = "P2034";

    // Schema migrations (`db push`, `migrate dev`, `migrate deploy`).
    /// A change would lose data and data loss was not accepted; `meta.risks` lists what.
    pub const MIGRATION_DATA_LOSS: &str = "Q5001";
    /// A change cannot run on the data in the database; `meta.risks` lists what.
    pub const MIGRATION_UNEXECUTABLE: &str = "Q5002";
    /// The database differs from what its migrations create (drift); `meta.differences`.
    pub const MIGRATION_DRIFT: &str = "Q5003";
    /// A statement failed while migrating; `meta.sqlstate`, `meta.migration`, `meta.statement`.
    pub const MIGRATION_FAILED: &str = "Q5004";
    /// The migration history in the database and the migration files disagree.
    pub const MIGRATION_HISTORY: &str = "Q5005";

    // Warnings (never errors: a host logs them, see [`super::Warning`]).
    /// Row-level security mode is on but the connected role is a superuser (RLS never applies).
    pub const RLS_SUPERUSER: &str = "W3001";
    /// Row-level security mode is on but the connected role has BYPASSRLS.
    pub const RLS_BYPASS: &str = "W3002";
    /// No model is tenant-scoped, yet the schema looks multi-tenant (several models refer to one
    /// model through a field that is not the tenant field).
    pub const TENANCY_UNDECLARED: &str = "W3003";
}

/// A name or text from a request as a message quotes it: whole up to 64 characters, else its
/// first 64 and an ellipsis, so a megabyte key makes a short message.
pub fn excerpt(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(64) {
        None => std::borrow::Cow::Borrowed(s),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &s[..end])),
    }
}

/// An engine error. Create one with [`Error::new`] and add context with [`Error::with_meta`].
#[derive(Clone, PartialEq)]
pub struct Error {
    code: &'static str,
    message: String,
    meta: Map<String, Json>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), meta: Map::new() }
    }

    /// A request validation error at a JSON path (`args.where.email`).
    pub fn at(code: &'static str, path: &str, message: impl fmt::Display) -> Self {
        let message = if path.is_empty() { message.to_string() } else { format!("{path}: {message}") };
        Error::new(code, message).with_meta("path", path)
    }

    /// `P2025` as Prisma words it: `cause` (names only, never values) says what was missing.
    pub fn record_not_found(cause: &str) -> Self {
        Error::new(
            codes::RECORD_NOT_FOUND,
            format!("An operation failed because it depends on one or more records that were required but not found. {cause}"),
        )
        .with_meta("cause", cause)
    }

    /// `P2014`: the change would leave a required side of `relation` without its row. The two
    /// models in the order Prisma names them (alphabetical).
    pub fn relation_violation(relation: &str, model: &str, other: &str) -> Self {
        let (a, b) = if model <= other { (model, other) } else { (other, model) };
        Error::new(
            codes::RELATION_VIOLATION,
            format!("The change you are trying to make would violate the required relation '{relation}' between the `{a}` and `{b}` models."),
        )
        .with_meta("relation_name", relation)
        .with_meta("model_a_name", a)
        .with_meta("model_b_name", b)
    }

    /// `P2017`: a nested write names a child that is not connected to the parent.
    pub fn records_not_connected(relation: &str, parent: &str, child: &str) -> Self {
        Error::new(
            codes::RECORDS_NOT_CONNECTED,
            format!("The records for relation `{relation}` between the `{parent}` and `{child}` models are not connected."),
        )
        .with_meta("relation_name", relation)
        .with_meta("parent_name", parent)
        .with_meta("child_name", child)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(codes::INTERNAL, message)
    }

    pub fn with_meta(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.meta.insert(key.to_owned(), value.into());
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn meta(&self) -> &Map<String, Json> {
        &self.meta
    }

    /// The `{ code, message, meta }` shape every binding hands to JavaScript.
    pub fn to_json(&self) -> Json {
        serde_json::json!({ "code": self.code, "message": self.message, "meta": self.meta })
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.message)?;
        if !self.meta.is_empty() {
            write!(f, " {}", Json::Object(self.meta.clone()))?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Something a host should log (the bindings turn these into `warn` logs); never an error. Same
/// stable-code and no-values rules as [`Error`].
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
    pub meta: Map<String, Json>,
}

impl Warning {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Warning { code, message: message.into(), meta: Map::new() }
    }

    pub fn with_meta(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.meta.insert(key.to_owned(), value.into());
        self
    }

    /// `{ code, message, meta }`, the shape errors have too.
    pub fn to_json(&self) -> Json {
        serde_json::json!({ "code": self.code, "message": self.message, "meta": self.meta })
    }
}
