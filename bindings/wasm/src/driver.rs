//! The engine's driver traits over a JavaScript driver adapter object (the shape of Prisma's
//! `SqlDriverAdapter`): `queryRaw({ sql, args, argTypes })` resolves to
//! `{ columnNames, columnTypes, rows }`, `executeRaw(query)` to the affected-row count,
//! `startTransaction(isolationLevel?)` to an object with the same two methods plus `commit()` and
//! `rollback()`; an adapter that cannot hold a transaction open may offer
//! `executeBatch(queries, { isolationLevel? })` instead, which runs statements known up front as
//! one transaction and resolves to a result set per statement with its `affectedRows`. A
//! transaction may also have `cancel()`, which asks the database to cancel the statement it is
//! running (used when the transaction outlives its timeout or the client closes). Adapters
//! reject with a `DriverAdapterError` whose `cause` names the kind of failure
//! (`{ kind: "database", sqlstate, constraint, table, column }`, ...).
//!
//! Values cross in the forms JavaScript drivers accept and return: parameters as numbers, strings,
//! booleans, `Uint8Array`s and arrays; results as PostgreSQL's text output (the engine decodes it).

use js_sys::{Array, Promise, Reflect, Uint8Array};
use quarry_engine::exec::{
    BatchResult, BatchStatement, Column, ColumnType, DbValue, Dialect, Driver, DriverError, DriverResult, IsolationLevel, Queryable, ResultSet,
    Transaction,
};
use quarry_engine::value::{Value, format_datetime};
use quarry_engine::{Error, error::codes};
use std::cell::Cell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// A driver adapter, or one of its transactions.
    pub type Adapter;

    #[wasm_bindgen(method, catch, js_name = queryRaw)]
    fn query_raw(this: &Adapter, query: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = executeRaw)]
    fn execute_raw(this: &Adapter, query: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = startTransaction)]
    fn start_transaction(this: &Adapter, isolation: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = executeBatch)]
    fn execute_batch(this: &Adapter, queries: &JsValue, options: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn commit(this: &Adapter) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn rollback(this: &Adapter) -> Result<JsValue, JsValue>;
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// Awaits what an adapter method returned (a promise or a plain value) or threw.
async fn settle(called: Result<JsValue, JsValue>) -> DriverResult<JsValue> {
    let value = called.map_err(driver_error)?;
    JsFuture::from(Promise::resolve(&value)).await.map_err(driver_error)
}

/// A rejection from an adapter as a driver error. `DriverAdapterError`s carry their kind in
/// `cause`; anything else is reported by its message.
pub(crate) fn driver_error(e: JsValue) -> DriverError {
    let cause = get(&e, "cause");
    let message = get_string(&cause, "message").or_else(|| get_string(&e, "message")).unwrap_or_else(|| {
        e.as_string().unwrap_or_else(|| "the driver adapter failed without a message".into())
    });
    if get_string(&e, "name").as_deref() != Some("DriverAdapterError") {
        return DriverError::Other(message);
    }
    match get_string(&cause, "kind").as_deref() {
        Some("database") => DriverError::Database {
            sqlstate: get_string(&cause, "sqlstate").unwrap_or_default(),
            message,
            schema: get_string(&cause, "schema"),
            constraint: get_string(&cause, "constraint"),
            table: get_string(&cause, "table"),
            column: get_string(&cause, "column"),
        },
        Some("poolTimeout") => DriverError::PoolTimeout {
            connection_limit: get(&cause, "connectionLimit").as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0).map(|n| n as u64),
            timeout_secs: get(&cause, "timeout").as_f64().filter(|t| t.is_finite() && *t >= 0.0),
        },
        Some("connection") => DriverError::Connection(message),
        Some("transactionClosed") => DriverError::TransactionClosed(message),
        _ => DriverError::Other(message),
    }
}

/// A date-time argument in PostgreSQL's own text form, `1970-01-01 10:00:00.000+00`: every date
/// and time column type reads it (`time` keeps the time of day, `date` the day), where `time` and
/// `timetz` refuse the ISO `T…Z` form.
fn datetime_arg(iso: String) -> String {
    match iso.strip_suffix('Z') {
        Some(rest) => format!("{}+00", rest.replacen('T', " ", 1)),
        None => iso,
    }
}

fn arg(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Boolean(b) => JsValue::from_bool(*b),
        Value::Int(i) => JsValue::from_f64(*i as f64),
        Value::Float(f) => JsValue::from_f64(*f),
        Value::BigInt(i) => JsValue::from_str(&i.to_string()),
        Value::Decimal(s) | Value::String(s) | Value::Enum(s) | Value::Json(s) => JsValue::from_str(s),
        Value::DateTime(dt) => JsValue::from_str(&datetime_arg(format_datetime(dt))),
        Value::Bytes(b) => Uint8Array::from(b.as_slice()).into(),
        Value::List(items) => items.iter().map(arg).collect::<Array>().into(),
    }
}

fn arg_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Boolean(_) => "Boolean",
        Value::Int(_) => "Int",
        Value::BigInt(_) => "BigInt",
        Value::Float(_) => "Float",
        Value::Decimal(_) => "Decimal",
        Value::String(_) => "String",
        Value::Enum(_) => "Enum",
        Value::DateTime(_) => "DateTime",
        Value::Json(_) => "Json",
        Value::Bytes(_) => "Bytes",
        Value::List(_) => "List",
    }
}

/// `{ sql, args, argTypes }`.
pub(crate) fn query_object(sql: &str, params: &[Value]) -> JsValue {
    let q = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&q, &JsValue::from_str(k), v);
    };
    set("sql", &JsValue::from_str(sql));
    set("args", &params.iter().map(arg).collect::<Array>().into());
    set("argTypes", &params.iter().map(|p| JsValue::from_str(arg_type(p))).collect::<Array>().into());
    q.into()
}

fn db_value(v: JsValue) -> DbValue {
    if v.is_null() || v.is_undefined() {
        return DbValue::Null;
    }
    if let Some(s) = v.as_string() {
        return DbValue::Text(s);
    }
    if let Some(b) = v.as_bool() {
        return DbValue::Bool(b);
    }
    if let Some(f) = v.as_f64() {
        return if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 { DbValue::Int(f as i64) } else { DbValue::Float(f) };
    }
    if v.is_bigint() {
        let text: String = js_sys::BigInt::unchecked_from_js(v).to_string(10).map(String::from).unwrap_or_default();
        return text.parse().map(DbValue::Int).unwrap_or(DbValue::Text(text));
    }
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return DbValue::Bytes(bytes.to_vec());
    }
    if Array::is_array(&v) {
        return DbValue::List(Array::unchecked_from_js(v).iter().map(db_value).collect());
    }
    if let Some(d) = v.dyn_ref::<js_sys::Date>() {
        return DbValue::Text(d.to_iso_string().into());
    }
    // Anything else (a parsed JSON value) goes back to JSON text.
    DbValue::Text(js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string()).unwrap_or_default())
}

/// Column types arrive as PostgreSQL type OIDs.
fn column_type(v: JsValue) -> ColumnType {
    v.as_f64().map_or(ColumnType::Unknown, |oid| ColumnType::from_pg_oid(oid as u32))
}

fn result_set(v: &JsValue) -> DriverResult<ResultSet> {
    let bad = || DriverError::Other("the driver adapter returned a result set without columnNames, columnTypes and rows".into());
    let names = get(v, "columnNames").dyn_into::<Array>().map_err(|_| bad())?;
    let types = get(v, "columnTypes").dyn_into::<Array>().map_err(|_| bad())?;
    let rows = get(v, "rows").dyn_into::<Array>().map_err(|_| bad())?;
    let columns = names
        .iter()
        .enumerate()
        .map(|(i, name)| Column { name: name.as_string().unwrap_or_default(), ty: column_type(types.get(i as u32)) })
        .collect();
    let rows = rows
        .iter()
        .map(|row| row.dyn_into::<Array>().map(|cells| cells.iter().map(db_value).collect()).map_err(|_| bad()))
        .collect::<DriverResult<Vec<Vec<DbValue>>>>()?;
    Ok(ResultSet { columns, rows })
}

async fn query(target: &Adapter, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
    let v = settle(target.query_raw(&query_object(sql, params))).await?;
    result_set(&v)
}

async fn execute(target: &Adapter, sql: &str, params: &[Value]) -> DriverResult<u64> {
    let v = settle(target.execute_raw(&query_object(sql, params))).await?;
    v.as_f64().map(|n| n as u64).ok_or_else(|| DriverError::Other("the driver adapter's executeRaw did not return a number".into()))
}

/// The adapter handed to the engine.
pub struct JsDriver {
    adapter: Adapter,
    dialect: Dialect,
    /// The adapter has `executeBatch` (statements known up front, one transaction, one call).
    batches: bool,
}

impl JsDriver {
    pub fn new(adapter: JsValue) -> Result<JsDriver, Error> {
        let invalid = |m: &str| Error::new(codes::INVALID_VALUE, format!("adapter: {m}")).with_meta("path", "adapter");
        if !adapter.is_object() {
            return Err(invalid("expected a driver adapter object"));
        }
        for method in ["queryRaw", "executeRaw", "startTransaction"] {
            if !get(&adapter, method).is_function() {
                return Err(invalid(&format!("the driver adapter has no {method} method")));
            }
        }
        let dialect = match get_string(&adapter, "provider").as_deref() {
            Some("postgres") => Dialect::Postgres,
            Some("mysql") => Dialect::Mysql,
            _ => return Err(invalid("the driver adapter's provider must be \"postgres\" or \"mysql\"")),
        };
        let batches = get(&adapter, "executeBatch").is_function();
        Ok(JsDriver { adapter: adapter.unchecked_into(), dialect, batches })
    }
}

impl Queryable for JsDriver {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        query(&self.adapter, sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        execute(&self.adapter, sql, params).await
    }
}

fn isolation_name(level: IsolationLevel) -> &'static str {
    match level {
        IsolationLevel::ReadUncommitted => "ReadUncommitted",
        IsolationLevel::ReadCommitted => "ReadCommitted",
        IsolationLevel::RepeatableRead => "RepeatableRead",
        IsolationLevel::Serializable => "Serializable",
        IsolationLevel::Snapshot => "Snapshot",
    }
}

impl Driver for JsDriver {
    type Transaction = JsTransaction;

    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn can_batch(&self) -> bool {
        self.batches
    }

    /// `executeBatch([{ sql, args, argTypes }, ...], { isolationLevel? })` resolves to a result set
    /// per statement, each with `affectedRows`.
    async fn run_batch(&self, isolation: Option<IsolationLevel>, statements: &[BatchStatement]) -> DriverResult<Vec<BatchResult>> {
        let queries: Array = statements.iter().map(|s| query_object(&s.sql, &s.params)).collect();
        let options = js_sys::Object::new();
        if let Some(level) = isolation {
            let _ = Reflect::set(&options, &JsValue::from_str("isolationLevel"), &JsValue::from_str(isolation_name(level)));
        }
        let v = settle(self.adapter.execute_batch(&queries.into(), &options.into())).await?;
        let results = v.dyn_into::<Array>().map_err(|_| DriverError::Other("the driver adapter's executeBatch did not return a list".into()))?;
        results
            .iter()
            .map(|r| {
                let affected = get(&r, "affectedRows").as_f64().map_or(0, |n| n as u64);
                Ok(BatchResult { rows: result_set(&r)?, affected })
            })
            .collect()
    }

    async fn begin(&self, isolation: Option<IsolationLevel>) -> DriverResult<JsTransaction> {
        let level = isolation.map_or(JsValue::UNDEFINED, |l| JsValue::from_str(isolation_name(l)));
        let promise = Promise::resolve(&self.adapter.start_transaction(&level).map_err(driver_error)?);
        let mut pending = PendingBegin { promise: Some(promise.clone()) };
        let tx = JsFuture::from(promise).await.map_err(driver_error)?;
        pending.promise = None;
        Ok(JsTransaction { tx: tx.unchecked_into(), open: Cell::new(true) })
    }
}

/// A transaction that is still being started. If the engine stops waiting for it (`maxWait`),
/// the transaction that arrives later is rolled back so its connection goes back to the pool.
struct PendingBegin {
    promise: Option<Promise>,
}

impl Drop for PendingBegin {
    fn drop(&mut self) {
        if let Some(promise) = self.promise.take() {
            let roll_back = Closure::once_into_js(|tx: JsValue| {
                ignore(tx.unchecked_ref::<Adapter>().rollback());
            });
            let then = get(&promise, "then").unchecked_into::<js_sys::Function>();
            ignore(then.call1(&promise, &roll_back));
        }
    }
}

/// Lets a promise settle unobserved without an unhandled rejection.
fn ignore(called: Result<JsValue, JsValue>) {
    thread_local! {
        static NOOP: Closure<dyn FnMut(JsValue)> = Closure::new(|_| {});
    }
    if let Ok(v) = called
        && let Ok(p) = v.dyn_into::<Promise>()
    {
        NOOP.with(|noop| {
            let _ = p.catch(noop);
        });
    }
}

/// An open transaction of the adapter. Dropped without commit or rollback (its request was
/// abandoned), it is rolled back.
pub struct JsTransaction {
    tx: Adapter,
    open: Cell<bool>,
}

impl Queryable for JsTransaction {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        query(&self.tx, sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        execute(&self.tx, sql, params).await
    }
}

impl Transaction for JsTransaction {
    async fn commit(self) -> DriverResult<()> {
        self.open.set(false);
        settle(self.tx.commit()).await.map(|_| ())
    }

    async fn rollback(self) -> DriverResult<()> {
        self.open.set(false);
        settle(self.tx.rollback()).await.map(|_| ())
    }

    /// The adapter transaction's optional `cancel()`: cancels the statement it is running. (Only
    /// on wasm32, where the canceller need not be `Send`; the crate builds natively for tests.)
    #[cfg(target_arch = "wasm32")]
    fn canceller(&self) -> Option<quarry_engine::exec::Canceller> {
        if !get(&self.tx, "cancel").is_function() {
            return None;
        }
        let tx = self.tx.clone();
        Some(std::rc::Rc::new(move || {
            let tx = tx.clone();
            Box::pin(async move {
                let cancel = get(&tx, "cancel").unchecked_into::<js_sys::Function>();
                let _ = settle(cancel.call0(&tx)).await;
            })
        }))
    }
}

impl Drop for JsTransaction {
    fn drop(&mut self) {
        if self.open.get() {
            ignore(self.tx.rollback());
        }
    }
}
