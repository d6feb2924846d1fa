//! Query log events for the native path: a driver wrapper that times every statement the engine
//! sends (and `BEGIN` / `COMMIT` / `ROLLBACK` of transactions), as the TypeScript client's adapter
//! wrapper does on the WebAssembly path, and keeps them until the client takes them
//! ([`QueryLog::take`]) to emit its `query` events. Only the SQL and the number of parameters are
//! kept, never their values. When the client did not ask for query events nothing is recorded.

use quarry_engine::exec::{Dialect, Driver, DriverResult, IsolationLevel, Queryable, ResultSet, Transaction};
use quarry_engine::value::Value;
use serde_json::{Value as Json, json};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The statements run and not yet taken by the client.
pub struct QueryLog {
    enabled: bool,
    events: Mutex<Vec<Json>>,
}

impl QueryLog {
    pub fn new(enabled: bool) -> Self {
        QueryLog { enabled, events: Mutex::new(Vec::new()) }
    }

    /// Runs `f`, recording `query` with its duration when logging is on.
    async fn timed<T>(&self, query: &str, param_count: usize, f: impl Future<Output = T>) -> T {
        if !self.enabled {
            return f.await;
        }
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let start = Instant::now();
        let out = f.await;
        let duration = start.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut events) = self.events.lock() {
            events.push(json!({ "query": query, "paramCount": param_count, "duration": duration, "timestamp": timestamp }));
        }
        out
    }

    /// The recorded events as a JSON array, oldest first; the log is empty afterwards.
    pub fn take(&self) -> String {
        let events = self.events.lock().map(|mut e| std::mem::take(&mut *e)).unwrap_or_default();
        Json::Array(events).to_string()
    }
}

/// A driver whose statements are recorded in a [`QueryLog`].
pub struct LoggedDriver<D> {
    inner: D,
    log: Arc<QueryLog>,
}

impl<D> LoggedDriver<D> {
    pub fn new(inner: D, log: Arc<QueryLog>) -> Self {
        LoggedDriver { inner, log }
    }

    pub fn inner(&self) -> &D {
        &self.inner
    }
}

impl<D: Queryable> Queryable for LoggedDriver<D> {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        self.log.timed(sql, params.len(), self.inner.query(sql, params)).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        self.log.timed(sql, params.len(), self.inner.execute(sql, params)).await
    }
}

fn begin_label(isolation: Option<IsolationLevel>) -> String {
    match isolation {
        Some(level) => format!("BEGIN ({level:?})"),
        None => "BEGIN".to_owned(),
    }
}

impl<D: Driver> Driver for LoggedDriver<D> {
    type Transaction = LoggedTransaction<D::Transaction>;

    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    async fn begin(&self, isolation: Option<IsolationLevel>) -> DriverResult<Self::Transaction> {
        let tx = self.log.timed(&begin_label(isolation), 0, self.inner.begin(isolation)).await?;
        Ok(LoggedTransaction { inner: tx, log: Arc::clone(&self.log) })
    }

    /// The driver sends `BEGIN` and the first statement together; both are reported, each with
    /// the time the pair took.
    async fn begin_with(&self, isolation: Option<IsolationLevel>, sql: &str, params: &[Value]) -> DriverResult<Self::Transaction> {
        if !self.log.enabled {
            let tx = self.inner.begin_with(isolation, sql, params).await?;
            return Ok(LoggedTransaction { inner: tx, log: Arc::clone(&self.log) });
        }
        let scratch = QueryLog::new(true);
        let out = scratch.timed(sql, params.len(), self.inner.begin_with(isolation, sql, params)).await;
        let pair: Vec<Json> = scratch.events.into_inner().unwrap_or_default();
        if let (Some(first), Ok(mut events)) = (pair.first(), self.log.events.lock()) {
            let mut begin = first.clone();
            begin["query"] = Json::from(begin_label(isolation));
            begin["paramCount"] = Json::from(0);
            events.push(begin);
            events.push(first.clone());
        }
        Ok(LoggedTransaction { inner: out?, log: Arc::clone(&self.log) })
    }
}

/// A transaction whose statements, commit and rollback are recorded.
pub struct LoggedTransaction<T> {
    inner: T,
    log: Arc<QueryLog>,
}

impl<T: Queryable> Queryable for LoggedTransaction<T> {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        self.log.timed(sql, params.len(), self.inner.query(sql, params)).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        self.log.timed(sql, params.len(), self.inner.execute(sql, params)).await
    }
}

impl<T: Transaction> Transaction for LoggedTransaction<T> {
    async fn commit(self) -> DriverResult<()> {
        let log = self.log;
        log.timed("COMMIT", 0, self.inner.commit()).await
    }

    async fn rollback(self) -> DriverResult<()> {
        let log = self.log;
        log.timed("ROLLBACK", 0, self.inner.rollback()).await
    }

    fn canceller(&self) -> Option<quarry_engine::exec::Canceller> {
        self.inner.canceller()
    }
}
