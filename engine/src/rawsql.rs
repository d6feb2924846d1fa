//! Raw SQL requests: `{"action": "queryRaw" | "executeRaw", "args": {"query": "...", "parameters": [...]}}`
//! (no model). This module reads the request and its parameters (the tagged JSON encoding) and
//! hands the text to the scope stage ([`crate::scope::raw`]), which decides whether it runs as
//! given or rewritten; text that runs as given still gets the schema's table names qualified with
//! the engine's namespace, when there is one. [`crate::exec::run_raw`] runs it. `queryRaw` returns
//! the rows as objects decoded by the column types the driver reports, `executeRaw` the number of
//! rows affected.

use crate::error::{Error, Result, codes};
use crate::plan::Step;
use crate::query::path::Path;
use crate::scope::{TenantContext, raw};
use crate::schema::Schema;
use crate::sql::{Param, Stmt};
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
        raw::Scoped::Verbatim => {
            let sql = match namespace.and_then(|ns| qualify(schema, ns, &req.query)) {
                Some(ast) => RawSql::Scoped(Box::new(Stmt { ast, params: req.params.into_iter().map(Param::Value).collect() })),
                None => RawSql::Verbatim { text: req.query, params: req.params },
            };
            Ok(RawPlan { kind: req.kind, guards: vec![], sql })
        }
        raw::Scoped::Rewritten { stmt, guards } => Ok(RawPlan { kind: req.kind, guards, sql: RawSql::Scoped(stmt) }),
    }
}

/// Raw SQL that runs as given still means the engine's namespace by the schema's table names, as
/// generated SQL and scoped raw SQL do: `SELECT * FROM "Post"` reads `"ns"."Post"` whatever the
/// connection's search path. The statement, when it is one SELECT, INSERT, UPDATE or DELETE naming
/// a table of the schema (or an implicit many-to-many table) without a schema, comes back with
/// those names qualified; anything else (other statements, names the schema does not have, names
/// a `WITH` query defines anywhere in the statement) is left to the search path, and `None` means
/// the text runs unchanged.
fn qualify(schema: &Schema, namespace: &str, text: &str) -> Option<sqlparser::ast::Statement> {
    use sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Query, TableFactor, VisitMut, VisitorMut};
    use std::ops::ControlFlow;

    /// A name as PostgreSQL reads it: quoted as written, unquoted folded to lower case.
    fn read(i: &Ident) -> String {
        if i.quote_style.is_some() { i.value.clone() } else { i.value.to_lowercase() }
    }
    // One pass (each visitor type costs the module a copy of the tree walk): a query's WITH names
    // are seen before anything that could refer to them.
    struct Qualify<'a> {
        tables: Vec<&'a str>,
        ctes: Vec<String>,
        namespace: &'a str,
        /// The next relation names a table function (`generate_series(...)`), not a table.
        function_next: bool,
        changed: bool,
    }
    impl VisitorMut for Qualify<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            self.ctes.extend(q.with.iter().flat_map(|w| &w.cte_tables).map(|cte| read(&cte.alias.name)));
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { args: Some(_), .. } = t {
                self.function_next = true;
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
            if std::mem::take(&mut self.function_next) {
                return ControlFlow::Continue(());
            }
            if let [ObjectNamePart::Identifier(i)] = name.0.as_slice() {
                let table = read(i);
                if self.tables.contains(&table.as_str()) && !self.ctes.contains(&table) {
                    name.0.insert(0, ObjectNamePart::Identifier(crate::sql::ident(self.namespace)));
                    self.changed = true;
                }
            }
            ControlFlow::Continue(())
        }
    }

    let mut ast = raw::parse_one(text).ok()?;
    let mut tables: Vec<&str> = schema.models.iter().map(|m| m.db_name.as_str()).collect();
    for m in &schema.models {
        for (_, _, r) in m.relation_fields() {
            if let crate::schema::RelationLink::JoinTable { table, .. } = &r.link {
                tables.push(table);
            }
        }
    }
    let mut q = Qualify { tables, ctes: Vec::new(), namespace, function_next: false, changed: false };
    let _ = VisitMut::visit(&mut ast, &mut q);
    q.changed.then_some(ast)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_sql_as_given_names_the_schema_tables_in_the_namespace() {
        let schema = Schema::parse(
            "model Post {\n  id Int @id\n  tags Tag[]\n}\nmodel Tag {\n  id Int @id\n  posts Post[]\n}\nmodel lower {\n  id Int @id\n}",
        )
        .unwrap();
        let q = |sql: &str| qualify(&schema, "app", sql).map(|s| s.to_string());
        assert_eq!(q(r#"SELECT * FROM "Post" p JOIN "_PostToTag" j ON j."A" = p.id"#).as_deref(), Some(r#"SELECT * FROM "app"."Post" p JOIN "app"."_PostToTag" j ON j."A" = p.id"#));
        assert_eq!(q(r#"UPDATE "Tag" SET id = $1"#).as_deref(), Some(r#"UPDATE "app"."Tag" SET id = $1"#));
        assert_eq!(q(r#"INSERT INTO "Tag" (id) VALUES ($1)"#).as_deref(), Some(r#"INSERT INTO "app"."Tag" (id) VALUES ($1)"#));
        assert_eq!(q(r#"DELETE FROM lower"#).as_deref(), Some(r#"DELETE FROM "app".lower"#));
        // Unquoted names fold to lower case, as in PostgreSQL: `Post` is `post`, not the schema's table.
        assert_eq!(q("SELECT * FROM Post"), None);
        // Qualified names, other tables, table functions and WITH queries stay as they are.
        assert_eq!(q(r#"SELECT * FROM public."Post""#), None);
        assert_eq!(q("SELECT * FROM other"), None);
        assert_eq!(q("SELECT * FROM generate_series(1, 3)"), None);
        assert_eq!(q(r#"WITH "Post" AS (SELECT 1) SELECT * FROM "Post""#), None);
        // Anything else runs as written.
        assert_eq!(q(r#"CREATE INDEX i ON "Post" (id)"#), None);
        assert_eq!(q("SELECT 1; SELECT 2"), None);
    }
}
