//! Quarry's engine as a native Node addon: a thin napi-rs layer over the engine's
//! [`Host`](quarry_engine::host::Host), driving the native PostgreSQL driver (tokio-postgres with a
//! pool, statements prepared per connection, rustls TLS, PgBouncer mode, all configured from the
//! URL). Envelopes and results cross as JSON text, exactly as in the WebAssembly binding, so the
//! TypeScript client treats both engines alike.
//!
//! Asynchronous calls are `async fn`s on the addon's Tokio runtime ([`init`]: one worker thread
//! by default) and return promises. An engine error rejects with an `Error` whose message is the
//! JSON text of `{ code, message, meta }`; a panic is caught at this boundary and rejects the same way with `Q9001` and `meta.panic`.
//! Statements are recorded for query log events ([`log`]) when the client asks for them.

mod log;

use futures_util::FutureExt;
use log::{LoggedDriver, QueryLog};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use quarry_engine::exec::defaults::Clock;
use quarry_engine::host::Host;
use quarry_engine::{Error as EngineError, error::codes};
use quarry_postgres::PgDriver;
use serde_json::Value as Json;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

async fn sleep(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await
}

/// The JS error for an engine error: its JSON text as the message.
fn js_error(e: &EngineError) -> Error {
    Error::from_reason(e.to_json().to_string())
}

fn parse(text: &str, what: &str) -> std::result::Result<Json, EngineError> {
    quarry_engine::host::parse_json(text, what)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

fn panic_error(payload: &(dyn std::any::Any + Send)) -> EngineError {
    EngineError::internal(format!("the engine panicked (a bug in Quarry; please report it): {}", panic_message(payload)))
        .with_meta("panic", true)
}

/// Runs an engine call to its JSON text, turning an engine error or a panic into a rejection.
async fn settle(call: impl Future<Output = std::result::Result<Json, EngineError>>) -> Result<String> {
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(v)) => Ok(v.to_string()),
        Ok(Err(e)) => Err(js_error(&e)),
        Err(payload) => Err(js_error(&panic_error(&*payload))),
    }
}

/// [`settle`] for a call that gives its result as JSON text already.
async fn settle_text(call: impl Future<Output = std::result::Result<String, EngineError>>) -> Result<String> {
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(js_error(&e)),
        Err(payload) => Err(js_error(&panic_error(&*payload))),
    }
}

/// The same for a synchronous call.
fn settle_sync(call: impl FnOnce() -> std::result::Result<Json, EngineError>) -> Result<String> {
    match std::panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(v)) => Ok(v.to_string()),
        Ok(Err(e)) => Err(js_error(&e)),
        Err(payload) => Err(js_error(&panic_error(&*payload))),
    }
}

/// Tokio worker threads when `QUARRY_NATIVE_THREADS` does not say otherwise.
const DEFAULT_THREADS: usize = 1;

/// The addon's Tokio runtime: one worker thread unless `QUARRY_NATIVE_THREADS` (1–64) asks for
/// more. Every request's task and the connections' tasks then run on one thread, so a request
/// wakes that thread once from Node's and nothing else; with a worker per core, the request's task
/// and its connection's task land on different workers and each round trip wakes both (measured in
/// the README). Node runs JavaScript on one thread, so one worker keeps pace with it. If the
/// runtime cannot be built, napi-rs's default runtime is used.
#[napi_derive::module_init]
fn init() {
    let threads = std::env::var("QUARRY_NATIVE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or(DEFAULT_THREADS);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).thread_name("quarry-worker").enable_all().build();
    if let Ok(rt) = runtime {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}

type NativeHost = Host<LoggedDriver<PgDriver>>;

/// One client's engine: a schema, options and a pool of connections to the URL's database.
#[napi]
pub struct QuarryEngine {
    host: Arc<NativeHost>,
    log: Arc<QueryLog>,
}

#[napi]
impl QuarryEngine {
    /// `options` is JSON text (see `quarry_engine::host::options_from_json`); `url` a
    /// `postgres://` URL with Prisma's parameters (`schema`, `connection_limit`, `pool_timeout`,
    /// `connect_timeout`, `pgbouncer`, `sslmode`, ...). No connection is opened until the first
    /// request. With `logQueries`, every statement is recorded for [`QuarryEngine::take_log`].
    /// Throws the error JSON text when the schema, options or URL are invalid.
    #[napi(constructor)]
    pub fn new(schema: String, options: String, url: String, log_queries: bool) -> Result<Self> {
        let log = Arc::new(QueryLog::new(log_queries));
        let built = std::panic::catch_unwind(AssertUnwindSafe(|| -> std::result::Result<NativeHost, EngineError> {
            let options = parse(&options, "options")?;
            let driver = PgDriver::new(&url).map_err(|e| {
                let message = match e {
                    quarry_engine::exec::DriverError::Other(m) | quarry_engine::exec::DriverError::Connection(m) => m,
                    other => format!("{other:?}"),
                };
                EngineError::new(codes::INVALID_VALUE, message).with_meta("path", "url")
            })?;
            Host::new(&schema, &options, LoggedDriver::new(driver, Arc::clone(&log)), Clock(now_ms))
        }));
        match built {
            Ok(Ok(host)) => Ok(QuarryEngine { host: Arc::new(host), log }),
            Ok(Err(e)) => Err(js_error(&e)),
            Err(payload) => Err(js_error(&panic_error(&*payload))),
        }
    }

    /// `{ "models": [...] }` as JSON text.
    #[napi]
    pub fn describe(&self) -> Result<String> {
        settle_sync(|| Ok(self.host.describe()))
    }

    /// The schema's CREATE statements as a JSON array of strings; `options` is JSON text
    /// (`{ "tenantKeys"?: false }`, or `null`).
    #[napi]
    pub fn ddl(&self, options: String) -> Result<String> {
        settle_sync(|| self.host.ddl(&parse(&options, "DDL options")?).map(Json::from))
    }

    /// RLS mode's warnings about the connected role (`[{ code, message, meta }]` as JSON text).
    #[napi]
    pub async fn warnings(&self) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle(async move { host.warnings().await }).await
    }

    /// The links between tenants the database holds, per relation (JSON text).
    #[napi]
    pub async fn tenant_links(&self) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle(async move { host.tenant_links().await }).await
    }

    /// The SQL and parameters of an envelope, without a database (JSON text in and out).
    #[napi]
    pub fn compile(&self, envelope: String) -> Result<String> {
        settle_sync(|| self.host.compile(&parse(&envelope, "envelope")?))
    }

    /// Runs an envelope (one request, a batch, or inside a transaction). The result's text is
    /// written from the rows without building its tree ([`Host::request_text`]).
    #[napi]
    pub async fn request(&self, envelope: String) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle_text(async move { host.request_text(&parse(&envelope, "envelope")?).await }).await
    }

    /// Starts an interactive transaction; resolves to `{ id, timeout }` as JSON text.
    #[napi]
    pub async fn begin(&self, options: String) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle(async move { host.begin(&parse(&options, "transaction options")?, sleep).await }).await
    }

    #[napi]
    pub async fn commit(&self, id: String) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle(async move { host.commit(&id).await.map(|()| Json::Null) }).await
    }

    #[napi]
    pub async fn rollback(&self, id: String) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle(async move { host.rollback(&id).await.map(|()| Json::Null) }).await
    }

    /// Rolls the transaction back if its timeout has passed; resolves to whether it did.
    #[napi]
    pub async fn expire(&self, id: String) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle(async move { Ok(Json::Bool(host.expire(&id).await)) }).await
    }

    /// The statements run since the last call, as a JSON array of
    /// `{ query, paramCount, duration, timestamp }` (duration in ms, timestamp in ms since the epoch).
    #[napi]
    pub fn take_log(&self) -> String {
        self.log.take()
    }

    /// Rolls back every open interactive transaction and closes the pool: idle connections close
    /// now, connections in use when they come back. Later requests fail.
    #[napi]
    pub async fn close(&self) -> Result<String> {
        let host = Arc::clone(&self.host);
        settle(async move {
            // Final: open transactions are rolled back (their running statements cancelled) and
            // nothing starts any more; then every connection is closed before this resolves,
            // those still finishing a request included.
            host.close().await;
            host.driver().inner().close_and_wait(Duration::from_secs(30)).await;
            Ok(Json::Null)
        })
        .await
    }
}

/// Panics on purpose, so tests can check that a panic reaches the caller as an error.
#[napi]
pub fn debug_panic(message: String) -> Result<()> {
    settle_sync(|| panic!("{message}")).map(|_| ())
}

/// A call that panics inside the runtime after a timer, as a panic deep in a request would.
#[napi]
pub async fn debug_panic_in_task(message: String) -> Result<String> {
    settle(async move {
        sleep(1).await;
        panic!("{message}")
    })
    .await
}
