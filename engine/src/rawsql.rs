//! Raw SQL requests: `{"action": "queryRaw" | "executeRaw", "args": {"query": "...", "parameters": [...]}}`
//! (no model). This module reads the request and its parameters (the tagged JSON encoding) and
//! hands the text to the scope stage ([`crate::scope::raw`]), which decides whether it runs as
//! given or rewritten; [`crate::exec::run_raw`] runs it. `queryRaw` returns the rows as objects
//! decoded by the column types the driver reports, `executeRaw` the number of rows affected.

use crate::error::{Error, Result, codes};
use crate::plan::Step;
use crate::query::path::Path;
use crate::scope::{TenantContext, raw};
use crate::schema::Schema;
use crate::sql::Stmt;
use crate::value::{Value, as_tagged, canonical_decimal, parse_datetime};
use base64::Engine as _;
use serde_json::Value as Json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    /// Rows as objects.
    Query,
    /// The affected row count.
    Execute,
}

/// A raw request as read from JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRequest {
    pub kind: RawKind,
    pub query: String,
    pub params: Vec<Value>,
}

/// What a raw request runs.
#[derive(Debug)]
pub struct RawPlan {
    pub kind: RawKind,
    /// Checks that run first (foreign keys written under a tenant); each must return no row.
    pub guards: Vec<Step>,
    pub sql: RawSql,
}

#[derive(Debug)]
pub enum RawSql {
    /// The text as given, with its parameters.
    Verbatim { text: String, params: Vec<Value> },
    /// The parsed, scoped statement.
    Scoped(Box<Stmt>),
}

impl RawPlan {
    pub fn needs_transaction(&self) -> bool {
        !self.guards.is_empty()
    }
}

/// The raw request in `doc`, or `None` when it is a model request.
pub fn parse_request(doc: &Json) -> Result<Option<RawRequest>> {
    let Some(obj) = doc.as_object() else { return Ok(None) };
    let kind = match obj.get("action").and_then(Json::as_str) {
        Some("queryRaw") => RawKind::Query,
        Some("executeRaw") => RawKind::Execute,
        _ => return Ok(None),
    };
    let root = Path::root("request");
    for key in obj.keys() {
        if !matches!(key.as_str(), "action" | "args") {
            return Err(root.key(key).unknown("key", key, "", &["action", "args"]));
        }
    }
    let args_path = Path::root("args");
    let args = obj
        .get("args")
        .and_then(Json::as_object)
        .ok_or_else(|| args_path.error(codes::MISSING_ARGUMENT, "expected { query, parameters }"))?;
    for key in args.keys() {
        if !matches!(key.as_str(), "query" | "parameters") {
            return Err(args_path.key(key).unknown("argument", key, "", &["query", "parameters"]));
        }
    }
    let query = match args.get("query") {
        Some(Json::String(s)) => s.clone(),
        Some(_) => return Err(args_path.key("query").error(codes::INVALID_VALUE, "expected the SQL text as a string")),
        None => return Err(args_path.key("query").error(codes::MISSING_ARGUMENT, "expected the SQL text")),
    };
    let params = match args.get("parameters") {
        None | Some(Json::Null) => vec![],
        Some(Json::Array(items)) => {
            let path = args_path.key("parameters");
            items.iter().enumerate().map(|(i, v)| param(v, &path.index(i))).collect::<Result<Vec<_>>>()?
        }
        Some(_) => return Err(args_path.key("parameters").error(codes::INVALID_VALUE, "expected a list of parameters")),
    };
    Ok(Some(RawRequest { kind, query, params }))
}

/// A parameter in the tagged encoding. Untagged objects are JSON, lists are arrays.
fn param(v: &Json, path: &Path) -> Result<Value> {
    let bad = |what: &str| path.error(codes::INVALID_VALUE, format!("expected {what}"));
    if let Some((ty, value)) = as_tagged(v) {
        let text = value.as_str();
        return Ok(match ty {
            "DateTime" => Value::DateTime(text.and_then(parse_datetime).ok_or_else(|| bad("an ISO 8601 date-time"))?),
            "BigInt" => Value::BigInt(text.and_then(|s| s.parse().ok()).ok_or_else(|| bad("a BigInt as decimal text"))?),
            "Decimal" => Value::Decimal(text.and_then(canonical_decimal).ok_or_else(|| bad("a Decimal as decimal text"))?),
            "Bytes" => Value::Bytes(
                text.and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok()).ok_or_else(|| bad("base64 bytes"))?,
            ),
            "Json" => Value::Json(value.to_string()),
            "Float" => Value::Float(match text {
                Some("NaN") => f64::NAN,
                Some("Infinity") => f64::INFINITY,
                Some("-Infinity") => f64::NEG_INFINITY,
                _ => return Err(bad("NaN, Infinity or -Infinity")),
            }),
            _ => Value::Json(v.to_string()),
        });
    }
    Ok(match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().ok_or_else(|| bad("a number"))?),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => {
            Value::List(items.iter().enumerate().map(|(i, item)| param(item, &path.index(i))).collect::<Result<Vec<_>>>()?)
        }
        Json::Object(_) => Value::Json(v.to_string()),
    })
}

/// Plans a raw request: as given, or through tenant scope.
pub fn plan(schema: &Schema, namespace: Option<&str>, ctx: &TenantContext, req: RawRequest) -> Result<RawPlan> {
    match raw::scope_raw(schema, namespace, ctx, &req.query, &req.params)? {
        raw::Scoped::Verbatim => Ok(RawPlan { kind: req.kind, guards: vec![], sql: RawSql::Verbatim { text: req.query, params: req.params } }),
        raw::Scoped::Rewritten { stmt, guards } => Ok(RawPlan { kind: req.kind, guards, sql: RawSql::Scoped(stmt) }),
    }
}

/// Internal: a raw plan never carries references to other statements' rows.
pub(crate) fn values_of(stmt: &Stmt) -> Result<Vec<Value>> {
    stmt.params
        .iter()
        .map(|p| match p {
            crate::sql::Param::Value(v) => Ok(v.clone()),
            _ => Err(Error::internal("a raw statement has a parameter that is not a value")),
        })
        .collect()
}
