//! Translates the corpus's PostgreSQL seeds (the one source of the seed data) into MySQL: each
//! `INSERT ... VALUES` becomes a bound insert whose values are read by the schema's column types
//! (bytea hex, array literals as JSON arrays, timestamps with offsets in UTC, booleans as 1 / 0),
//! and `setval(pg_get_serial_sequence(...), n)` becomes `ALTER TABLE ... AUTO_INCREMENT = n + 1`.
//! Also creates a database for a schema: its tables from the engine's MySQL DDL, then the seed;
//! or, for tests that write their own tables, a fresh database and its statements.
//! Needs the `mysql_driver` module beside it.

use mysql_async::prelude::Queryable as _;
use quarry_engine::schema::{ScalarType, Schema};
use quarry_engine::value::{Value, parse_datetime};
use sqlparser::ast::{Expr, SetExpr, Statement, UnaryOperator, Value as SqlValue};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn table(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{}.{}", quote(ns), quote(name)),
        None => quote(name),
    }
}

/// The type of `column` in `table`, with whether it is a list (`None`: a join table's key).
fn column_type(schema: &Schema, table: &str, column: &str) -> Option<(ScalarType, bool)> {
    let m = schema.models.iter().find(|m| m.db_name == table)?;
    m.fields.iter().find_map(|f| f.as_scalar().filter(|s| s.db_name == column).map(|s| (s.ty.clone(), f.is_list())))
}

fn literal(e: &Expr) -> Result<(String, bool), String> {
    match e {
        Expr::Value(v) => match &v.value {
            SqlValue::Number(n, _) => Ok((n.clone(), true)),
            SqlValue::SingleQuotedString(s) | SqlValue::EscapedStringLiteral(s) => Ok((s.clone(), false)),
            SqlValue::Boolean(b) => Ok((b.to_string(), true)),
            SqlValue::Null => Ok(("NULL".into(), true)),
            other => Err(format!("seed value {other} is not translated")),
        },
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => literal(expr).map(|(s, n)| (format!("-{s}"), n)),
        Expr::Cast { expr, .. } => literal(expr),
        other => Err(format!("seed expression {other} is not translated")),
    }
}

/// A PostgreSQL array literal's elements (`{a,"b c",3}`).
fn array_items(s: &str) -> Vec<String> {
    let inner = s.trim().trim_start_matches('{').trim_end_matches('}');
    if inner.is_empty() {
        return vec![];
    }
    inner.split(',').map(|i| i.trim().trim_matches('"').to_owned()).collect()
}

fn value(ty: Option<&(ScalarType, bool)>, text: &str, bare: bool) -> Result<Value, String> {
    if bare && text == "NULL" {
        return Ok(Value::Null);
    }
    let bad = || format!("seed value {text:?} does not fit its column");
    Ok(match ty {
        None => match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::String(text.to_owned()),
        },
        Some((t, true)) => {
            let items: Vec<serde_json::Value> = array_items(text)
                .into_iter()
                .map(|i| match t {
                    ScalarType::Int | ScalarType::BigInt | ScalarType::Float => serde_json::from_str(&i).unwrap_or(serde_json::Value::String(i)),
                    _ => serde_json::Value::String(i),
                })
                .collect();
            Value::Json(serde_json::Value::Array(items).to_string())
        }
        Some((t, false)) => match t {
            ScalarType::Int | ScalarType::BigInt => Value::Int(text.parse().map_err(|_| bad())?),
            ScalarType::Float => Value::Float(text.parse().map_err(|_| bad())?),
            ScalarType::Boolean => Value::Boolean(matches!(text, "true" | "t" | "1")),
            ScalarType::DateTime => Value::DateTime(parse_datetime(text).ok_or_else(bad)?),
            ScalarType::Bytes => {
                let hex = text.strip_prefix("\\x").ok_or_else(bad)?;
                Value::Bytes((0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16)).collect::<Result<_, _>>().map_err(|_| bad())?)
            }
            ScalarType::Json => Value::Json(text.to_owned()),
            _ => Value::String(text.to_owned()),
        },
    })
}

/// The seed as MySQL statements with their parameters.
pub fn translate(schema: &Schema, namespace: Option<&str>, seed: &str) -> Result<Vec<(String, Vec<Value>)>, String> {
    let mut out = Vec::new();
    for text in quarry_conformance::split_sql(seed) {
        let stmts = Parser::parse_sql(&PostgreSqlDialect {}, &text).map_err(|e| format!("seed: {e}\n{text}"))?;
        for stmt in stmts {
            match stmt {
                Statement::Insert(insert) => {
                    let name = insert.table.to_string();
                    let name = name.trim_matches('"').to_owned();
                    let columns: Vec<String> = insert.columns.iter().map(|c| c.to_string().trim_matches('"').to_owned()).collect();
                    let types: Vec<Option<(ScalarType, bool)>> = columns.iter().map(|c| column_type(schema, &name, c)).collect();
                    let Some(SetExpr::Values(values)) = insert.source.as_ref().map(|q| q.body.as_ref()) else {
                        return Err(format!("seed insert without VALUES: {text}"));
                    };
                    let mut params = Vec::new();
                    let mut rows = Vec::new();
                    for row in &values.rows {
                        for (e, ty) in row.content.iter().zip(&types) {
                            let (lit, bare) = literal(e)?;
                            params.push(value(ty.as_ref(), &lit, bare)?);
                        }
                        rows.push(format!("({})", vec!["?"; row.content.len()].join(", ")));
                    }
                    let cols = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
                    out.push((format!("INSERT INTO {} ({cols}) VALUES {}", table(namespace, &name), rows.join(", ")), params));
                }
                Statement::Query(q) => {
                    // `SELECT setval(pg_get_serial_sequence('"T"', 'id'), n)`.
                    let s = q.to_string();
                    let t = s.split("'\"").nth(1).and_then(|r| r.split("\"'").next()).ok_or_else(|| format!("seed query not translated: {s}"))?;
                    let n: i64 = s.rsplit(", ").next().and_then(|r| r.trim_end_matches(')').trim().parse().ok()).ok_or_else(|| format!("seed query not translated: {s}"))?;
                    out.push((format!("ALTER TABLE {} AUTO_INCREMENT = {}", table(namespace, t), n + 1), vec![]));
                }
                other => return Err(format!("seed statement not translated: {other}")),
            }
        }
    }
    Ok(out)
}

/// The server in `MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`).
pub fn url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
}

/// Makes the database `name` afresh on the server in [`url`] (with the server's default character
/// set), runs `statements` in it, and returns a connection to it.
pub async fn fresh_database(name: &str, statements: &[&str]) -> mysql_async::Conn {
    let opts = mysql_async::Opts::from_url(&url()).unwrap_or_else(|e| panic!("bad MYSQL_URL {}: {e}", url()));
    let mut admin = mysql_async::Conn::new(opts.clone()).await.expect("connect to MariaDB");
    admin.query_drop(format!("DROP DATABASE IF EXISTS {}", quote(name))).await.unwrap();
    admin.query_drop(format!("CREATE DATABASE {}", quote(name))).await.unwrap();
    drop(admin);
    let mut conn = mysql_async::Conn::new(mysql_async::OptsBuilder::from_opts(opts).db_name(Some(name))).await.unwrap();
    for s in statements {
        conn.query_drop(*s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    conn
}

/// Creates `database` afresh (utf8mb4 with a binary collation, so text compares as on
/// PostgreSQL), its tables from the engine's MySQL DDL, and loads `seed` (the corpus's
/// PostgreSQL seed text) into them.
pub async fn create_database(conn: &mut mysql_async::Conn, schema: &Schema, database: &str, seed: Option<&str>) -> Result<(), String> {
    let q = quote(database);
    conn.query_drop(format!("DROP DATABASE IF EXISTS {q}")).await.map_err(|e| e.to_string())?;
    conn.query_drop(format!("CREATE DATABASE {q} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")).await.map_err(|e| e.to_string())?;
    for stmt in quarry_engine::ddl::create_statements(schema, Some(database)) {
        conn.query_drop(&stmt).await.map_err(|e| format!("DDL failed: {e}\n{stmt}"))?;
    }
    match seed {
        Some(text) => load(conn, schema, database, text).await,
        None => Ok(()),
    }
}

/// Loads a seed into `database`'s tables, foreign keys unchecked while it runs (the seeds insert
/// in table order, not dependency order).
pub async fn load(conn: &mut mysql_async::Conn, schema: &Schema, database: &str, seed: &str) -> Result<(), String> {
    let statements = translate(schema, Some(database), seed)?;
    conn.query_drop("SET FOREIGN_KEY_CHECKS = 0").await.map_err(|e| e.to_string())?;
    let mut result = Ok(());
    for (sql, params) in statements {
        let params: Vec<mysql_async::Value> = params.iter().map(super::mysql_driver::param).collect();
        if let Err(e) = conn.exec_drop(&sql, mysql_async::Params::Positional(params)).await {
            result = Err(format!("seed failed: {e}\n{sql}"));
            break;
        }
    }
    conn.query_drop("SET FOREIGN_KEY_CHECKS = 1").await.map_err(|e| e.to_string())?;
    result
}

pub async fn drop_database(conn: &mut mysql_async::Conn, database: &str) {
    let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS {}", quote(database))).await;
}
