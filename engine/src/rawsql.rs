//! Raw SQL requests: `{"action": "queryRaw" | "executeRaw", "args": {"query": "...", "parameters": [...]}}`
//! (no model). This module reads the request and its parameters (the tagged JSON encoding) and
//! hands the text to the scope stage ([`crate::scope::raw`]), which decides whether it runs as
//! given or rewritten; text that runs as given still gets the schema's table names qualified with
//! the engine's namespace, when there is one. [`crate::exec::run_raw`] runs it. `queryRaw` returns
//! the rows as objects decoded by the column types the driver reports, `executeRaw` the number of
//! rows affected.
//!
//! On MySQL (the schema's provider) the scoped statement is rendered here as MySQL text: names in
//! backticks, `?` placeholders with the parameters in the order they appear, and every string
//! literal written again from its value with MySQL's escapes ([`render_mysql`]).

use crate::error::{Error, Result, codes};
use crate::exec::Dialect;
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

/// Plans a raw request: as given, or through tenant scope, in the schema's dialect.
pub fn plan(schema: &Schema, namespace: Option<&str>, ctx: &TenantContext, req: RawRequest) -> Result<RawPlan> {
    let dialect = match schema.provider() {
        crate::schema::Provider::Mysql => Dialect::Mysql,
        _ => Dialect::Postgres,
    };
    plan_in(schema, namespace, ctx, req, dialect)
}

/// [`plan`] in a given dialect.
pub fn plan_in(schema: &Schema, namespace: Option<&str>, ctx: &TenantContext, req: RawRequest, dialect: Dialect) -> Result<RawPlan> {
    if dialect == Dialect::Mysql {
        return Ok(match raw::scope_raw(schema, namespace, ctx, &req.query, &req.params, dialect)? {
            // Text that runs as given keeps its `?` placeholders and its parameters' order, with the
            // schema's table names qualified with the namespace (the database) as on PostgreSQL.
            raw::Scoped::Verbatim => {
                let sql = match namespace.and_then(|ns| qualify(schema, ns, &req.query, dialect)) {
                    Some(ast) => {
                        let (text, params) = render_mysql(&ast, &req.params)?;
                        RawSql::Verbatim { text, params }
                    }
                    None => RawSql::Verbatim { text: req.query, params: req.params },
                };
                RawPlan { kind: req.kind, guards: vec![], sql }
            }
            raw::Scoped::Rewritten { stmt, guards } => {
                let (text, params) = render_mysql(&stmt.ast, &values_of(&stmt)?)?;
                RawPlan { kind: req.kind, guards, sql: RawSql::Verbatim { text, params } }
            }
        });
    }
    match raw::scope_raw(schema, namespace, ctx, &req.query, &req.params, dialect)? {
        raw::Scoped::Verbatim => {
            let sql = match namespace.and_then(|ns| qualify(schema, ns, &req.query, dialect)) {
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
fn qualify(schema: &Schema, namespace: &str, text: &str, dialect: Dialect) -> Option<sqlparser::ast::Statement> {
    use sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Query, TableFactor, VisitMut, VisitorMut};
    use std::ops::ControlFlow;

    /// A name as PostgreSQL reads it: quoted as written, unquoted folded to lower case. MySQL
    /// keeps table names as written.
    fn read(i: &Ident, dialect: Dialect) -> String {
        if i.quote_style.is_some() || dialect == Dialect::Mysql { i.value.clone() } else { i.value.to_lowercase() }
    }
    // One pass (each visitor type costs the module a copy of the tree walk): a query's WITH names
    // are seen before anything that could refer to them.
    struct Qualify<'a> {
        tables: Vec<&'a str>,
        ctes: Vec<String>,
        namespace: &'a str,
        dialect: Dialect,
        /// The next relation names a table function (`generate_series(...)`), not a table.
        function_next: bool,
        changed: bool,
    }
    impl VisitorMut for Qualify<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            let dialect = self.dialect;
            self.ctes.extend(q.with.iter().flat_map(|w| &w.cte_tables).map(|cte| read(&cte.alias.name, dialect)));
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
                let table = read(i, self.dialect);
                if self.tables.contains(&table.as_str()) && !self.ctes.contains(&table) {
                    name.0.insert(0, ObjectNamePart::Identifier(crate::sql::ident(self.namespace)));
                    self.changed = true;
                }
            }
            ControlFlow::Continue(())
        }
    }

    let mut ast = raw::parse_in(text, dialect, None).ok()?;
    let mut tables: Vec<&str> = schema.models.iter().map(|m| m.db_name.as_str()).collect();
    for m in &schema.models {
        for (_, _, r) in m.relation_fields() {
            if let crate::schema::RelationLink::JoinTable { table, .. } = &r.link {
                tables.push(table);
            }
        }
    }
    let mut q = Qualify { tables, ctes: Vec::new(), namespace, dialect, function_next: false, changed: false };
    let _ = VisitMut::visit(&mut ast, &mut q);
    q.changed.then_some(ast)
}

/// A scoped statement as MySQL text and its parameters in the order of their `?`s.
///
/// The tree's PostgreSQL-style text is not MySQL's: names may be in double quotes, placeholders
/// are `$n`, and sqlparser writes string literals with `''` for a quote but leaves a backslash as
/// it is, which MySQL reads as an escape. So every string literal of the tree is first replaced
/// by a marker, the tree is written out, and the text is then read token by token: `"name"` and
/// `` `name` `` become `` `name` ``, `$n` becomes `?`, and each marker becomes its string written
/// with `\\` and `''` (which ends the literal at the same place whether or not the session has
/// NO_BACKSLASH_ESCAPES). A quoted string that is not a marker (one in a place the tree's
/// visitor does not reach) is refused unless it is only hex digits (`X'..'`, `B'..'`); comments
/// are refused (the writer emits none).
pub fn render_mysql(ast: &sqlparser::ast::Statement, params: &[Value]) -> Result<(String, Vec<Value>)> {
    use sqlparser::ast::{Value as SqlValue, ValueWithSpan, VisitMut, VisitorMut};
    use std::ops::ControlFlow;
    struct Strings(Vec<String>);
    impl VisitorMut for Strings {
        type Break = ();
        fn pre_visit_value(&mut self, v: &mut ValueWithSpan) -> ControlFlow<()> {
            if let SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) | SqlValue::NationalStringLiteral(s) = &mut v.value {
                let value = std::mem::take(s);
                v.value = SqlValue::SingleQuotedString(format!("{MARKER}{}", self.0.len()));
                self.0.push(value);
            }
            ControlFlow::Continue(())
        }
    }
    const MARKER: &str = "quarry_string_";
    let refused = |what: &str| Error::new(codes::RAW_SQL_REFUSED, format!("the statement could not be written as MySQL ({what})"));
    let mut ast = ast.clone();
    let mut strings = Strings(Vec::new());
    let _ = VisitMut::visit(&mut ast, &mut strings);
    let text = ast.to_string();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut ordered = Vec::with_capacity(params.len());
    let ident_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '@' || !c.is_ascii();
    // The contents of a quoted run starting at `i` (the quote), with doubled quotes undone, and the
    // index after its closing quote.
    let quoted = |i: usize| -> Option<(String, usize)> {
        let q = chars[i];
        let mut j = i + 1;
        let mut s = String::new();
        while j < chars.len() {
            if chars[j] == q {
                if chars.get(j + 1) == Some(&q) {
                    s.push(q);
                    j += 2;
                    continue;
                }
                return Some((s, j + 1));
            }
            s.push(chars[j]);
            j += 1;
        }
        None
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                let (s, next) = quoted(i).ok_or_else(|| refused("an unterminated string"))?;
                let value = match s.strip_prefix(MARKER).and_then(|n| n.parse::<usize>().ok()).and_then(|n| strings.0.get(n)) {
                    Some(v) => v.as_str(),
                    None if s.chars().all(|c| c.is_ascii_hexdigit()) => s.as_str(),
                    None => return Err(refused("a string literal in a place that is not supported")),
                };
                out.push('\'');
                for ch in value.chars() {
                    match ch {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("''"),
                        _ => out.push(ch),
                    }
                }
                out.push('\'');
                i = next;
            }
            '"' | '`' => {
                let (s, next) = quoted(i).ok_or_else(|| refused("an unterminated name"))?;
                out.push('`');
                out.push_str(&s.replace('`', "``"));
                out.push('`');
                i = next;
            }
            '$' if chars.get(i + 1).is_some_and(char::is_ascii_digit) && (i == 0 || !ident_char(chars[i - 1])) => {
                let mut j = i + 1;
                let mut n = 0usize;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    n = n.saturating_mul(10).saturating_add(chars[j] as usize - '0' as usize);
                    j += 1;
                }
                let v = n.checked_sub(1).and_then(|k| params.get(k)).ok_or_else(|| Error::internal("a raw statement's placeholder has no parameter"))?;
                out.push('?');
                ordered.push(v.clone());
                i = j;
            }
            '#' => return Err(refused("a # outside a literal")),
            '-' if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_none_or(|c| c.is_whitespace()) => {
                return Err(refused("a -- comment"));
            }
            '/' if chars.get(i + 1) == Some(&'*') => return Err(refused("a /* comment")),
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok((out, ordered))
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
    use crate::scope::TenantContext;

    #[test]
    fn raw_sql_as_given_names_the_schema_tables_in_the_namespace() {
        let schema = Schema::parse(
            "model Post {\n  id Int @id\n  tags Tag[]\n}\nmodel Tag {\n  id Int @id\n  posts Post[]\n}\nmodel lower {\n  id Int @id\n}",
        )
        .unwrap();
        let q = |sql: &str| qualify(&schema, "app", sql, Dialect::Postgres).map(|s| s.to_string());
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

    #[test]
    fn mysql_raw_sql_as_given_names_the_schema_tables_in_the_database() {
        let schema = Schema::parse("model Post {\n  id Int @id\n  title String\n}").unwrap();
        let req = |sql: &str| RawRequest { kind: RawKind::Query, query: sql.to_owned(), params: vec![Value::Int(1), Value::String("a\\".into())] };
        let text = |sql: &str| match plan_in(&schema, Some("app"), &TenantContext::Unscoped, req(sql), Dialect::Mysql).unwrap().sql {
            RawSql::Verbatim { text, params } => (text, params),
            RawSql::Scoped(_) => panic!("MySQL raw SQL is rendered when planned"),
        };
        let (t, p) = text("SELECT * FROM Post WHERE id = ? AND title = ?");
        assert_eq!(t, "SELECT * FROM `app`.Post WHERE id = ? AND title = ?");
        assert_eq!(p, vec![Value::Int(1), Value::String("a\\".into())]);
        // Table names keep their case in MySQL: `post` is not the schema's table; other text runs as written.
        assert_eq!(text("SELECT * FROM post WHERE id = ?").0, "SELECT * FROM post WHERE id = ?");
        assert_eq!(text("SHOW TABLES").0, "SHOW TABLES");
    }
}

#[cfg(test)]
mod mysql_tests {
    //! Raw SQL under a tenant with the MySQL dialect, without a database: what is refused and
    //! what the rewritten text looks like. `tests/runners/raw_mysql.rs` runs the accepted forms on
    //! MariaDB.
    use super::*;
    use crate::scope::TenantContext;

    pub(super) const SCHEMA: &str = "model Tenant {\n  id Int @id\n  users User[]\n  posts Post[]\n}\n\
        model User {\n  id Int @id\n  tenantId Int\n  tenant Tenant @relation(fields: [tenantId], references: [id])\n  email String\n  posts Post[]\n}\n\
        model Post {\n  id Int @id\n  tenantId Int\n  tenant Tenant @relation(fields: [tenantId], references: [id])\n  authorId Int\n  author User @relation(fields: [authorId], references: [id])\n  title String\n}\n\
        model Tag {\n  id Int @id\n  name String\n}";

    fn run(sql: &str, params: Vec<Value>) -> Result<(String, Vec<Value>)> {
        let schema = Schema::parse(SCHEMA).unwrap();
        let req = RawRequest { kind: RawKind::Query, query: sql.to_owned(), params };
        let plan = plan_in(&schema, None, &TenantContext::Tenant(Value::Int(1)), req, Dialect::Mysql)?;
        match plan.sql {
            RawSql::Verbatim { text, params } => Ok((text, params)),
            RawSql::Scoped(_) => panic!("MySQL raw SQL is rendered when planned"),
        }
    }

    fn refused(sql: &str) -> Error {
        match run(sql, vec![Value::Int(5)]) {
            Ok((text, _)) => panic!("{sql}\nwas accepted as\n{text}"),
            Err(e) => e,
        }
    }

    #[track_caller]
    fn assert_refused(sql: &str) {
        let e = refused(sql);
        assert_eq!(e.code(), codes::RAW_SQL_REFUSED, "{sql}: {e:?}");
    }

    #[test]
    fn postgresql_literals_with_a_backslash_before_a_quote_are_refused() {
        // sqlparser writes the value `a\'` back as 'a\'' (the quote after a backslash is not
        // doubled), which PostgreSQL reads as a literal that runs on into the rest of the text.
        let schema = Schema::parse(SCHEMA).unwrap();
        for sql in [r#"SELECT 'a\''' AS x, id FROM "Post""#, r#"SELECT 1 AS "a\""", id FROM "Post""#] {
            let req = RawRequest { kind: RawKind::Query, query: sql.to_owned(), params: vec![] };
            let e = plan_in(&schema, None, &TenantContext::Tenant(Value::Int(1)), req, Dialect::Postgres).unwrap_err();
            assert_eq!(e.code(), codes::RAW_SQL_REFUSED, "{sql}");
        }
    }

    #[test]
    fn backticks_question_marks_and_the_tenant_as_the_last_parameter() {
        let (text, params) = run("SELECT `id`, title FROM `Post` WHERE id = ? AND title <> ?", vec![Value::Int(7), Value::String("x".into())]).unwrap();
        assert_eq!(
            text,
            "SELECT `id`, title FROM (SELECT * FROM `Post` AS `Post` WHERE `Post`.`tenantId` = ? AND id = ? AND title <> ? LIMIT 18446744073709551615) AS `Post` WHERE id = ? AND title <> ?"
        );
        assert_eq!(params, vec![Value::Int(1), Value::Int(7), Value::String("x".into()), Value::Int(7), Value::String("x".into())]);
    }

    #[test]
    fn executable_comments_are_refused() {
        // sqlparser reads the contents of /*! */ as part of the statement and skips /*M! */.
        assert_refused("SELECT id FROM Post /*! UNION SELECT id FROM User */");
        assert_refused("SELECT id FROM Post /*!80000 WHERE 1 = 1 */");
        assert_refused("SELECT id FROM Post /*M!100100 UNION SELECT 1 */");
        assert_refused("/*!SELECT 1*/ SELECT id FROM Post");
        // Plain comments are dropped: the text runs without them.
        let (text, _) = run("SELECT id /* a comment */ FROM Post # to the end of the line\n WHERE id = 1 -- and this", vec![]).unwrap();
        assert!(!text.contains("comment") && !text.contains('#') && !text.contains("--"), "{text}");
        assert!(text.ends_with("WHERE id = 1"), "{text}");
    }

    #[test]
    fn backslash_escapes_are_read_as_mysql_reads_them_and_written_safely() {
        // As MySQL reads it: one literal `it's`, and the rest is SQL, not string contents.
        let (text, _) = run(r"SELECT 'it\'s' AS a, id FROM Post", vec![]).unwrap();
        assert!(text.starts_with("SELECT 'it''s' AS a, id FROM (SELECT * FROM `Post`"), "{text}");
        // A literal ending in a backslash cannot swallow the text after it.
        let (text, _) = run(r"SELECT 'x\\' AS a, ' OR 1 = 1' AS b, id FROM Post", vec![]).unwrap();
        assert!(text.starts_with(r"SELECT 'x\\' AS a, ' OR 1 = 1' AS b, id FROM (SELECT"), "{text}");
        // A quote after a backslash in the value, and double-quoted strings (strings in MySQL).
        let (text, _) = run(r#"SELECT 'a\\\'b' AS a, "q\"r" AS b, id FROM Post WHERE title = "t""#, vec![]).unwrap();
        assert!(text.starts_with(r#"SELECT 'a\\''b' AS a, 'q"r' AS b, id FROM (SELECT"#), "{text}");
        assert!(text.ends_with("WHERE title = 't'"), "{text}");
    }

    #[test]
    fn literals_the_tree_writes_back_or_refuses() {
        // Adjacent strings are one literal in MySQL; hex and bit literals are written as given.
        let (text, _) = run("SELECT X'41' AS a, B'01' AS b, N'x\\'y' AS c, id FROM Post WHERE title = 'a' 'b'", vec![]).unwrap();
        assert!(text.starts_with("SELECT X'41' AS a, B'01' AS b, 'x''y' AS c, id FROM (SELECT"), "{text}");
        assert!(text.ends_with("WHERE title = 'ab'"), "{text}");
        // Introduced strings are written again from their values too.
        let (text, _) = run(r"SELECT _utf8mb4'x''y\\' AS a, id FROM Post", vec![]).unwrap();
        assert!(text.starts_with(r"SELECT _utf8mb4 'x''y\\' AS a, id FROM (SELECT"), "{text}");
        // A string alias: not a value the writer knows, refused rather than written raw.
        assert_refused("SELECT 1 AS \"x\", id FROM Post");
    }

    #[test]
    fn session_and_file_statements_are_refused() {
        for sql in [
            "SET @v = 1",
            "SET SESSION sql_mode = ''",
            "LOAD DATA INFILE '/etc/passwd' INTO TABLE Post",
            "HANDLER Post OPEN",
            "LOCK TABLES Post READ",
            "UNLOCK TABLES",
            "CALL p()",
            "PREPARE s FROM 'SELECT 1'",
            "EXECUTE s",
            "SHOW TABLES",
            "SHOW GRANTS",
            "DO SLEEP(1)",
            "REPLACE INTO Post (id, tenantId, authorId, title) VALUES (1, 1, 1, 'x')",
            "USE mysql",
            "SELECT id FROM Post; SELECT id FROM User",
            "SELECT id FROM Post; DELETE FROM Post",
        ] {
            assert_refused(sql);
        }
    }

    #[test]
    fn variables_into_and_duplicate_key_updates_are_refused() {
        for sql in [
            "SELECT @v",
            "SELECT @@version",
            "SELECT id INTO @v FROM Post",
            "SELECT id FROM Post INTO @v",
            "SELECT id FROM Post INTO OUTFILE '/tmp/x'",
            "SELECT id FROM Post INTO DUMPFILE '/tmp/x'",
            "SELECT @v := id FROM Post",
            "SELECT id FROM Post WHERE (@v := id) > 0",
            "INSERT INTO Post (id, tenantId, authorId, title) VALUES (9, 1, 1, 'x') ON DUPLICATE KEY UPDATE title = 'y'",
            "INSERT INTO Post SET id = 9, tenantId = 1, authorId = 1, title = 'x'",
            "INSERT IGNORE INTO Post (id, tenantId, authorId, title) VALUES (9, 1, 1, 'x')",
        ] {
            assert_refused(sql);
        }
    }

    #[test]
    fn other_databases_and_functions_that_read_outside_the_scope_are_refused() {
        for sql in [
            "SELECT * FROM information_schema.tables",
            "SELECT id FROM Post WHERE id IN (SELECT 1 FROM performance_schema.threads)",
            "SELECT * FROM mysql.user",
            "SELECT * FROM other.Post",
            "SELECT LOAD_FILE('/etc/passwd') FROM Post",
            "SELECT load_file('/etc/passwd')",
            "SELECT SLEEP(1) FROM Post",
            "SELECT BENCHMARK(1000, MD5('a'))",
            "SELECT GET_LOCK('a', 1)",
            "SELECT DATABASE()",
            "SELECT LAST_INSERT_ID(5)",
            "SELECT `load_file`('/etc/passwd')",
            "SELECT id FROM post",
        ] {
            assert_refused(sql);
        }
    }

    #[test]
    fn placeholders_must_be_question_marks_and_counted() {
        let e = refused("SELECT id FROM Post WHERE id = $1");
        assert_eq!(e.code(), codes::INVALID_VALUE);
        let e = run("SELECT id FROM Post WHERE id = ? OR id = ?", vec![Value::Int(1)]).unwrap_err();
        assert_eq!(e.code(), codes::INVALID_VALUE);
    }

    #[test]
    fn column_names_in_another_case_are_the_schema_columns() {
        // MySQL compares column names without case: this moves a row to another tenant.
        let e = refused("UPDATE Post SET TENANTID = 2 WHERE id = 1");
        assert_ne!(e.code(), "", "{e:?}");
        let e = refused("UPDATE Post SET `tenantid` = 2 WHERE id = 1");
        assert_ne!(e.code(), "", "{e:?}");
        // Non-ASCII names: MySQL's case and accent folding is its own (by version and collation).
        assert_refused("UPDATE Post SET poſtId = 1 WHERE id = 1");
        assert_refused("UPDATE Post SET `TENANTİD` = 2 WHERE id = 1");
        assert_refused("SELECT id AS café FROM Post");
        let (text, _) = run("UPDATE Post SET TITLE = 'x' WHERE ID = 1", vec![]).unwrap();
        assert!(text.contains("SET `title` = 'x'") || text.contains("SET title = 'x'"), "{text}");
        assert!(text.contains("`Post`.`tenantId` = ?"), "{text}");
    }

    #[test]
    fn writes_are_scoped() {
        let (text, params) = run("DELETE FROM Post WHERE title = ?", vec![Value::String("a".into())]).unwrap();
        assert!(text.starts_with("DELETE FROM `Post` WHERE `Post`.`tenantId` = ?"), "{text}");
        assert_eq!(params.first(), Some(&Value::Int(1)));
        let e = refused("INSERT INTO Post (id, tenantId, authorId, title) VALUES (9, 2, 1, 'x')");
        assert_ne!(e.code(), "");
        // Global rows are read-only under a tenant.
        assert_ne!(refused("INSERT INTO Tag (id, name) VALUES (9, 'x')").code(), "");
    }
}

