//! Quarry's engine for WebAssembly hosts: a thin wasm-bindgen layer over the engine's
//! [`Host`](quarry_engine::host::Host). Envelopes and results cross as JSON text; the database is
//! reached through the JavaScript driver adapter handed to the constructor ([`driver`]).
//!
//! Asynchronous calls return a task id instead of a promise and JavaScript polls the task
//! ([`tasks`]): every entry into the module then happens from a JavaScript call that can catch a
//! trap, so a panic (which aborts under Wasm) surfaces as an error to the caller instead of an
//! exception thrown from a microtask that would end a Node process. Errors cross as the JSON text
//! of `{ code, message, meta }`.

mod driver;
mod tasks;

use driver::JsDriver;
use quarry_engine::exec::defaults::Clock;
use quarry_engine::host::Host;
use quarry_engine::Error;
use serde_json::Value as Json;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The error JSON text a call throws or a task fails with.
fn error_text(e: &Error) -> String {
    e.to_json().to_string()
}

fn parse(text: &str, what: &str) -> Result<Json, Error> {
    quarry_engine::host::parse_json(text, what)
}

/// Installs the host's hooks once per module: `wake(taskId)` schedules a poll of a task that can
/// make progress, `panic(message)` hears about a panic just before the module traps.
#[wasm_bindgen(js_name = installHost)]
pub fn install_host(wake: js_sys::Function, panic: js_sys::Function) {
    tasks::install(wake, panic);
}

/// Polls a task: `undefined` while it runs, then `[true, json]` or `[false, errorJson]`.
#[wasm_bindgen(js_name = pollTask)]
pub fn poll_task(id: u32) -> JsValue {
    tasks::poll(id)
}

/// Drops a task that nobody waits for any more.
#[wasm_bindgen(js_name = cancelTask)]
pub fn cancel_task(id: u32) {
    tasks::cancel(id)
}

/// Schema migrations, in the build for the command line only (`--features migrate`): the module
/// that applications load stays without them.
#[cfg(feature = "migrate")]
#[wasm_bindgen]
impl QuarryEngine {
    /// Runs a schema migration command (`db push`, `migrate`, `rls`; JSON text, see
    /// `quarry_engine::migrate`). Returns a task id.
    pub fn migrate(&self, command: String) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { host.migrate(&parse(&command, "migration command")?).await })
    }
}

/// Panics on purpose, so tests can check that a panic reaches the caller as an error.
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic(message: &str) {
    panic!("{message}");
}

/// A task that panics after a timer, as a panic deep in a request would: the trap happens in a
/// poll the host runs when the timer fires.
#[wasm_bindgen(js_name = debugPanicInTask)]
pub fn debug_panic_in_task(message: String) -> u32 {
    tasks::spawn(async move {
        tasks::sleep(1).await;
        panic!("{message}")
    })
}

/// The resolved schema as JSON text, for code generators; throws the error JSON text when the
/// schema or options are invalid. Needs no driver.
#[wasm_bindgen(js_name = describeSchema)]
pub fn describe_schema(schema: &str, options: &str) -> Result<String, JsValue> {
    parse(options, "options")
        .and_then(|options| quarry_engine::host::describe_schema(schema, &options))
        .map(|v| v.to_string())
        .map_err(|e| JsValue::from_str(&error_text(&e)))
}

/// One client's engine: a schema, options and a driver adapter.
#[wasm_bindgen]
pub struct QuarryEngine {
    host: Rc<Host<JsDriver>>,
}

#[wasm_bindgen]
impl QuarryEngine {
    /// `options` is JSON text (see `quarry_engine::host::options_from_json`); throws the error
    /// JSON text when the schema or options are invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(schema: &str, options: &str, adapter: JsValue) -> Result<QuarryEngine, JsValue> {
        let build = || -> Result<Host<JsDriver>, Error> {
            let driver = JsDriver::new(adapter)?;
            Host::new(schema, &parse(options, "options")?, driver, Clock(now_ms))
        };
        build().map(|host| QuarryEngine { host: Rc::new(host) }).map_err(|e| JsValue::from_str(&error_text(&e)))
    }

    /// `{ "models": [...] }` as JSON text.
    pub fn describe(&self) -> String {
        self.host.describe().to_string()
    }

    /// The schema's CREATE statements as a JSON array of strings; `options` is JSON text
    /// (`{ "tenantKeys"?: false }`, or `null`).
    pub fn ddl(&self, options: &str) -> Result<String, JsValue> {
        parse(options, "DDL options")
            .and_then(|o| self.host.ddl(&o))
            .map(|v| Json::from(v).to_string())
            .map_err(|e| JsValue::from_str(&error_text(&e)))
    }

    /// RLS mode's warnings about the connected role, as a task (`[{ code, message, meta }]`).
    pub fn warnings(&self) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { host.warnings().await })
    }

    /// The links between tenants the database holds, per relation, as a task.
    #[wasm_bindgen(js_name = tenantLinks)]
    pub fn tenant_links(&self) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { host.tenant_links().await })
    }

    /// The SQL and parameters of an envelope, without a database (JSON text in and out).
    pub fn compile(&self, envelope: &str) -> Result<String, JsValue> {
        parse(envelope, "envelope")
            .and_then(|env| self.host.compile(&env))
            .map(|v| v.to_string())
            .map_err(|e| JsValue::from_str(&error_text(&e)))
    }

    /// For an envelope the host may run and shape itself (one read statement, see
    /// `quarry_engine::direct`): `[query, resultDescription]`, the query as the driver adapter
    /// takes it (`{ sql, args, argTypes }`) and the description as JSON text; `undefined` for
    /// anything else, which runs with [`QuarryEngine::request`] (errors included). With `keep`,
    /// when the plan cache keeps the request's shape, also a handle for it and the indices of its
    /// fixed leaves: `[query, resultDescription, handle, fixed]` (see [`QuarryEngine::direct_by`]).
    pub fn direct(&self, envelope: &str, keep: bool) -> JsValue {
        let Ok(env) = parse(envelope, "envelope") else { return JsValue::UNDEFINED };
        match self.host.direct(&env, keep) {
            Some((d, kept)) => {
                let out = js_sys::Array::new();
                out.push(&driver::query_object(&d.text, &d.params));
                out.push(&JsValue::from_str(&d.result));
                if let Some(k) = kept {
                    out.push(&JsValue::from(k.id));
                    out.push(&js_sys::Uint32Array::from(k.fixed.as_slice()));
                }
                out.into()
            }
            None => JsValue::UNDEFINED,
        }
    }

    /// A request of a shape [`QuarryEngine::direct`] gave `handle` for: `call` is the JSON text of
    /// `{ "leaves": [...], "tenant"?, "unscoped"? }`, the request's strings and numbers in document
    /// order and its tenant context (the engine checks them against the shape and binds this
    /// tenant). The query as [`QuarryEngine::direct`] gives it, or `undefined`: then the envelope
    /// goes to [`QuarryEngine::direct`] as usual.
    #[wasm_bindgen(js_name = directBy)]
    pub fn direct_by(&self, handle: u32, call: &str) -> JsValue {
        let Ok(call) = parse(call, "envelope") else { return JsValue::UNDEFINED };
        match self.host.direct_by_handle(handle, &call) {
            Some((texts, params)) => texts.first().map_or(JsValue::UNDEFINED, |text| driver::query_object(text, &params)),
            None => JsValue::UNDEFINED,
        }
    }

    /// The error JSON text for an envelope [`QuarryEngine::direct`] described whose statement the
    /// driver adapter failed with `error`: what [`QuarryEngine::request`] would have failed with.
    #[wasm_bindgen(js_name = directError)]
    pub fn direct_error(&self, envelope: &str, error: JsValue) -> String {
        let e = driver::driver_error(error);
        match parse(envelope, "envelope") {
            Ok(env) => error_text(&self.host.direct_error(&env, e)),
            Err(err) => error_text(&err),
        }
    }

    /// Runs an envelope (one request, a batch, or inside a transaction). Returns a task id.
    pub fn request(&self, envelope: String) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { host.request(&parse(&envelope, "envelope")?).await })
    }

    /// Starts an interactive transaction; the task's result is `{ id, timeout }`.
    pub fn begin(&self, options: String) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { host.begin(&parse(&options, "transaction options")?, tasks::sleep).await })
    }

    pub fn commit(&self, id: String) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { host.commit(&id).await.map(|()| Json::Null) })
    }

    pub fn rollback(&self, id: String) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { host.rollback(&id).await.map(|()| Json::Null) })
    }

    /// Rolls the transaction back if its timeout has passed; the task's result says whether it did.
    pub fn expire(&self, id: String) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move { Ok(Json::Bool(host.expire(&id).await)) })
    }

    /// Rolls back every open interactive transaction.
    pub fn close(&self) -> u32 {
        let host = Rc::clone(&self.host);
        tasks::spawn(async move {
            host.close().await;
            Ok(Json::Null)
        })
    }
}
