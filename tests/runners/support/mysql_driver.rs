//! A test-only MySQL / MariaDB driver over `mysql_async`, implementing the engine's driver traits
//! and producing exactly the cells a JavaScript MySQL adapter produces through the Wasm binding
//! (the contract written down in `quarry_engine::exec::driver`): PostgreSQL type OIDs of the
//! nearest type, numbers for ints that fit and floats, text for BIGINT, DECIMAL, DATETIME
//! (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC), JSON and text, bytes for binary. Sessions run with
//! `time_zone = '+00:00'` and a `group_concat_max_len` that holds any nested relation list.

use mysql_async::consts::{ColumnFlags, ColumnType as My};
use mysql_async::prelude::Queryable as _;
use quarry_engine::exec::{Column, ColumnType, DbValue, Dialect, Driver, DriverError, DriverResult, IsolationLevel, Queryable, ResultSet, Transaction};
use quarry_engine::value::Value;

pub const SESSION_SETUP: [&str; 2] = ["SET time_zone = '+00:00'", "SET SESSION group_concat_max_len = 4294967295"];

pub struct MyDriver {
    pool: mysql_async::Pool,
}

pub struct MyTransaction {
    conn: tokio::sync::Mutex<Option<mysql_async::Conn>>,
}

impl MyDriver {
    /// A pool on `url` (`mysql://user@host:port/database`).
    pub fn new(url: &str) -> Result<MyDriver, String> {
        let opts = mysql_async::Opts::from_url(url).map_err(|e| e.to_string())?;
        let opts = mysql_async::OptsBuilder::from_opts(opts)
            .init(SESSION_SETUP.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .pool_opts(mysql_async::PoolOpts::default().with_constraints(mysql_async::PoolConstraints::new(0, 8).expect("pool size")));
        Ok(MyDriver { pool: mysql_async::Pool::new(opts) })
    }

    pub async fn conn(&self) -> DriverResult<mysql_async::Conn> {
        self.pool.get_conn().await.map_err(|e| DriverError::Connection(e.to_string()))
    }
}

/// The OID-coded column type a JavaScript adapter reports for a MySQL column.
pub fn oid_of(c: &mysql_async::Column) -> u32 {
    let binary = c.character_set() == 63;
    match c.column_type() {
        My::MYSQL_TYPE_TINY if c.column_length() == 1 => 16,
        My::MYSQL_TYPE_TINY | My::MYSQL_TYPE_SHORT | My::MYSQL_TYPE_INT24 | My::MYSQL_TYPE_YEAR => 23,
        My::MYSQL_TYPE_LONG if c.flags().contains(ColumnFlags::UNSIGNED_FLAG) => 20,
        My::MYSQL_TYPE_LONG => 23,
        My::MYSQL_TYPE_LONGLONG => 20,
        My::MYSQL_TYPE_FLOAT => 700,
        My::MYSQL_TYPE_DOUBLE => 701,
        My::MYSQL_TYPE_DECIMAL | My::MYSQL_TYPE_NEWDECIMAL => 1700,
        My::MYSQL_TYPE_DATETIME | My::MYSQL_TYPE_TIMESTAMP | My::MYSQL_TYPE_DATETIME2 | My::MYSQL_TYPE_TIMESTAMP2 => 1114,
        My::MYSQL_TYPE_DATE | My::MYSQL_TYPE_NEWDATE => 1082,
        My::MYSQL_TYPE_TIME | My::MYSQL_TYPE_TIME2 => 1083,
        My::MYSQL_TYPE_JSON => 114,
        My::MYSQL_TYPE_BIT => 17,
        My::MYSQL_TYPE_TINY_BLOB | My::MYSQL_TYPE_MEDIUM_BLOB | My::MYSQL_TYPE_LONG_BLOB | My::MYSQL_TYPE_BLOB
        | My::MYSQL_TYPE_STRING | My::MYSQL_TYPE_VAR_STRING | My::MYSQL_TYPE_VARCHAR
            if binary =>
        {
            17
        }
        _ => 25,
    }
}

/// A cell as the contract gives it, by the reported OID.
fn cell(oid: u32, v: mysql_async::Value) -> DbValue {
    use mysql_async::Value as V;
    let text = |b: Vec<u8>| DbValue::Text(String::from_utf8_lossy(&b).into_owned());
    match (oid, v) {
        (_, V::NULL) => DbValue::Null,
        (17, V::Bytes(b)) => DbValue::Bytes(b),
        (20, V::Int(i)) => DbValue::Text(i.to_string()),
        (20, V::UInt(u)) => DbValue::Text(u.to_string()),
        (16 | 23, V::Int(i)) => DbValue::Int(i),
        (16 | 23, V::UInt(u)) => DbValue::Int(u as i64),
        // A JavaScript number with no fraction reaches the engine as an integer (the Wasm binding).
        (_, V::Float(f)) => js_number(f as f64),
        (_, V::Double(f)) => js_number(f),
        (_, V::Int(i)) => DbValue::Int(i),
        (_, V::UInt(u)) => DbValue::Text(u.to_string()),
        (_, V::Date(y, mo, d, h, mi, s, us)) => {
            if oid == 1082 {
                DbValue::Text(format!("{y:04}-{mo:02}-{d:02}"))
            } else {
                DbValue::Text(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}"))
            }
        }
        (_, V::Time(neg, days, h, mi, s, us)) => {
            let h = days * 24 + h as u32;
            DbValue::Text(format!("{}{h:02}:{mi:02}:{s:02}.{us:06}", if neg { "-" } else { "" }))
        }
        (_, V::Bytes(b)) => text(b),
    }
}

fn js_number(f: f64) -> DbValue {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 { DbValue::Int(f as i64) } else { DbValue::Float(f) }
}

/// A parameter as a JavaScript adapter binds it: DateTime as `YYYY-MM-DD HH:MM:SS.fff` (UTC),
/// booleans as 1 / 0, decimals and BigInts exactly, lists as JSON text.
pub fn param(v: &Value) -> mysql_async::Value {
    use mysql_async::Value as V;
    match v {
        Value::Null => V::NULL,
        Value::Boolean(b) => V::Int(*b as i64),
        Value::Int(i) | Value::BigInt(i) => V::Int(*i),
        Value::Float(f) => V::Double(*f),
        Value::Decimal(s) | Value::String(s) | Value::Enum(s) | Value::Json(s) => V::Bytes(s.as_bytes().to_vec()),
        Value::DateTime(dt) => V::Bytes(dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string().into_bytes()),
        Value::Bytes(b) => V::Bytes(b.clone()),
        Value::List(_) => V::Bytes(v.to_json().to_string().into_bytes()),
    }
}

/// A server error as the engine reads it: MySQL's error numbers under the PostgreSQL SQLSTATE of
/// the same condition (what the engine maps to P2002, P2003, ...), with the constraint named.
pub fn error(e: mysql_async::Error) -> DriverError {
    match e {
        mysql_async::Error::Server(s) => {
            let (sqlstate, constraint) = match s.code {
                1062 | 1586 => ("23505", between(&s.message, "for key '", "'").map(|k| k.rsplit('.').next().unwrap_or(k).to_owned())),
                1451 | 1452 | 1216 | 1217 => ("23503", between(&s.message, "CONSTRAINT `", "`").map(str::to_owned)),
                1048 | 1364 => ("23502", None),
                1406 => ("22001", None),
                1264 | 1690 => ("22003", None),
                1213 => ("40P01", None),
                1205 => ("55P03", None),
                1146 => ("42P01", None),
                1054 => ("42703", None),
                _ => ("42000", None),
            };
            // The column a NOT NULL, length or range error names (`Field 'x'`, `column 'x'`).
            let column = ["Field '", "Column '", "column '"].iter().find_map(|p| between(&s.message, p, "'")).map(str::to_owned);
            DriverError::Database {
                sqlstate: sqlstate.into(),
                message: format!("{} ({}): {}", s.code, s.state, s.message),
                schema: None,
                constraint,
                table: None,
                column,
            }
        }
        other => DriverError::Other(other.to_string()),
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}

fn debug<T>(sql: &str, r: DriverResult<T>) -> DriverResult<T> {
    if let Err(e) = &r
        && std::env::var_os("QUARRY_MYSQL_DEBUG").is_some()
    {
        eprintln!("mysql error: {e:?}\n  in: {sql}");
    }
    r
}

pub async fn run_query(conn: &mut mysql_async::Conn, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
    debug(sql, query_inner(conn, sql, params).await)
}

pub async fn run_execute(conn: &mut mysql_async::Conn, sql: &str, params: &[Value]) -> DriverResult<u64> {
    debug(sql, execute_inner(conn, sql, params).await)
}

async fn query_inner(conn: &mut mysql_async::Conn, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
    let params: Vec<mysql_async::Value> = params.iter().map(param).collect();
    let mut result = conn.exec_iter(sql, mysql_async::Params::Positional(params)).await.map_err(error)?;
    let columns: Vec<(String, u32)> = result.columns_ref().iter().map(|c| (c.name_str().into_owned(), oid_of(c))).collect();
    let rows: Vec<mysql_async::Row> = result.collect().await.map_err(error)?;
    drop(result);
    let rows = rows
        .into_iter()
        .map(|r| r.unwrap().into_iter().zip(&columns).map(|(v, (_, oid))| cell(*oid, v)).collect())
        .collect();
    Ok(ResultSet { columns: columns.into_iter().map(|(name, oid)| Column { name, ty: ColumnType::from_pg_oid(oid) }).collect(), rows })
}

async fn execute_inner(conn: &mut mysql_async::Conn, sql: &str, params: &[Value]) -> DriverResult<u64> {
    let params: Vec<mysql_async::Value> = params.iter().map(param).collect();
    let result = conn.exec_iter(sql, mysql_async::Params::Positional(params)).await.map_err(error)?;
    let n = result.affected_rows();
    result.drop_result().await.map_err(error)?;
    Ok(n)
}

impl Queryable for MyDriver {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        run_query(&mut self.conn().await?, sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        run_execute(&mut self.conn().await?, sql, params).await
    }
}

impl Driver for MyDriver {
    type Transaction = MyTransaction;

    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    async fn begin(&self, isolation: Option<IsolationLevel>) -> DriverResult<MyTransaction> {
        let mut conn = self.conn().await?;
        if let Some(level) = isolation {
            conn.query_drop(format!("SET TRANSACTION ISOLATION LEVEL {}", level.sql())).await.map_err(error)?;
        }
        conn.query_drop("START TRANSACTION").await.map_err(error)?;
        Ok(MyTransaction { conn: tokio::sync::Mutex::new(Some(conn)) })
    }
}

impl MyTransaction {
    async fn end(self, sql: &str) -> DriverResult<()> {
        let mut guard = self.conn.lock().await;
        let mut conn = guard.take().ok_or_else(|| DriverError::TransactionClosed("transaction already ended".into()))?;
        conn.query_drop(sql).await.map_err(error)
    }
}

impl Queryable for MyTransaction {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        let mut guard = self.conn.lock().await;
        let conn = guard.as_mut().ok_or_else(|| DriverError::TransactionClosed("transaction already ended".into()))?;
        run_query(conn, sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        let mut guard = self.conn.lock().await;
        let conn = guard.as_mut().ok_or_else(|| DriverError::TransactionClosed("transaction already ended".into()))?;
        run_execute(conn, sql, params).await
    }
}

impl Transaction for MyTransaction {
    async fn commit(self) -> DriverResult<()> {
        self.end("COMMIT").await
    }
    async fn rollback(self) -> DriverResult<()> {
        self.end("ROLLBACK").await
    }
}
