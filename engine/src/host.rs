//! The entry point every binding calls: a client's engine, driver and open transactions, driven by
//! JSON envelopes so that a binding only moves text across its boundary.
//!
//! The Wasm binding and the Node addon both wrap a [`Host`]; everything they would otherwise each
//! decide — the options a client passes, whose tenant context a call runs under, one request or a
//! batch, which interactive transaction it belongs to — is decided here, once.
//!
//! An envelope is
//! `{ "request": <request or list>, "tenant"?: <id>, "unscoped"?: true, "transaction"?: "<id>",
//! "isolationLevel"?: "Serializable" }`: a list is a batch (one transaction, all or nothing); a
//! `transaction` runs the request(s) inside an open interactive transaction.

use crate::error::{Error, Result, codes};
use crate::exec::defaults::Clock;
use crate::exec::transactions::{Transactions, TxOptions};
use crate::exec::{Dialect, Driver, IsolationLevel};
use crate::query::QueryOptions;
use crate::query::path::Path;
use crate::scope::TenantContext;
use crate::{Engine, EngineOptions};
use serde_json::{Map, Value as Json, json};
use std::future::Future;

/// The largest JSON text a binding hands the engine (an envelope, options, a command): 32 MiB.
/// Beyond it a call fails with `Q2011` before anything is parsed, so one call cannot make the
/// engine hold gigabytes of documents, plans and SQL text.
pub const MAX_TEXT_BYTES: usize = 32 * 1024 * 1024;

/// JSON text as the bindings receive it (`what` names it in errors): at most
/// [`MAX_TEXT_BYTES`] (`Q2011`), nested at most 128 levels, serde_json's own limit (`Q2007`:
/// nothing deeper could pass the query stage's depth limit anyway), and valid JSON (`Q2001`, with
/// `meta.line` and `meta.column`).
pub fn parse_json(text: &str, what: &str) -> Result<Json> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(crate::Error::at(
            codes::TOO_LARGE,
            what,
            format!("{} bytes; the limit is {MAX_TEXT_BYTES} bytes (32 MiB)", text.len()),
        )
        .with_meta("limit", MAX_TEXT_BYTES));
    }
    serde_json::from_str(text).map_err(|e| {
        let (code, message) = if e.to_string().starts_with("recursion limit exceeded") {
            (codes::TOO_DEEP, format!("the {what} is nested deeper than 128 levels"))
        } else {
            (codes::REQUEST_MALFORMED, format!("the {what} is not valid JSON"))
        };
        crate::Error::at(code, what, message).with_meta("line", e.line()).with_meta("column", e.column())
    })
}

/// An envelope's JSON text (see [`parse_json`]).
pub fn parse_envelope(text: &str) -> Result<Json> {
    parse_json(text, "envelope")
}

/// A client's engine over one driver, with its interactive transactions.
pub struct Host<D: Driver> {
    engine: Engine,
    driver: D,
    transactions: Transactions<D::Transaction>,
}

/// A parsed envelope.
struct Envelope<'a> {
    requests: Requests<'a>,
    ctx: TenantContext,
    transaction: Option<&'a str>,
    isolation: Option<IsolationLevel>,
}

enum Requests<'a> {
    One(&'a Json),
    Batch(&'a [Json]),
}

fn object<'a>(v: &'a Json, path: &Path) -> Result<&'a Map<String, Json>> {
    v.as_object().ok_or_else(|| path.error(codes::REQUEST_MALFORMED, "expected an object"))
}

fn only_keys(obj: &Map<String, Json>, path: &Path, allowed: &[&str]) -> Result<()> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(path.key(k).unknown("key", k, "", allowed)),
        None => Ok(()),
    }
}

fn isolation_level(v: Option<&Json>, path: &Path) -> Result<Option<IsolationLevel>> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => IsolationLevel::parse(s).map(Some).ok_or_else(|| {
            path.error(
                codes::INVALID_VALUE,
                "expected one of ReadUncommitted, ReadCommitted, RepeatableRead, Serializable, Snapshot",
            )
        }),
        Some(_) => Err(path.error(codes::INVALID_VALUE, "expected the isolation level as a string")),
    }
}

fn whole_number(v: Option<&Json>, path: &Path, default: u64) -> Result<u64> {
    match v {
        None | Some(Json::Null) => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| path.error(codes::INVALID_VALUE, "expected a whole number")),
    }
}

/// Engine options as a binding receives them:
/// `{ "namespace"?: "app", "tenantField"?: "orgId", "maxTake"?: 1000, "maxDepth"?: 16,
/// "rls"?: true, "planCache"?: 512 }` (`planCache`: plans kept by request shape, 0 for none).
pub fn options_from_json(options: &Json, clock: Clock) -> Result<EngineOptions> {
    let root = Path::root("options");
    if options.is_null() {
        return Ok(EngineOptions { clock, ..Default::default() });
    }
    let obj = object(options, &root)?;
    only_keys(obj, &root, &["namespace", "tenantField", "maxTake", "maxDepth", "rls", "planCache"])?;
    let string = |key: &str| -> Result<Option<String>> {
        match obj.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(root.key(key).error(codes::INVALID_VALUE, "expected a non-empty string")),
        }
    };
    let defaults = QueryOptions::default();
    let positive = |key: &str, default: u64| -> Result<u64> {
        match whole_number(obj.get(key), &root.key(key), default)? {
            0 => Err(root.key(key).error(codes::INVALID_VALUE, "expected a positive whole number")),
            n => Ok(n),
        }
    };
    Ok(EngineOptions {
        namespace: string("namespace")?,
        tenant_field: string("tenantField")?,
        query: QueryOptions {
            max_take: positive("maxTake", defaults.max_take as u64)?.min(i64::MAX as u64) as i64,
            max_depth: positive("maxDepth", defaults.max_depth as u64)? as usize,
            max_list: defaults.max_list,
        },
        clock,
        rls: match obj.get("rls") {
            None | Some(Json::Null) => false,
            Some(Json::Bool(b)) => *b,
            Some(_) => return Err(root.key("rls").error(codes::INVALID_VALUE, "expected true or false")),
        },
        plan_cache: match obj.get("planCache") {
            None | Some(Json::Null) => None,
            Some(v) => Some(whole_number(Some(v), &root.key("planCache"), 0)?.min(1 << 20) as usize),
        },
    })
}

/// The resolved schema as JSON for code generators (see [`crate::schema::describe`]), from the
/// schema text and the options a client would pass (only `tenantField` matters here). No driver:
/// `quarry generate` calls it without a database.
pub fn describe_schema(schema_text: &str, options: &Json) -> Result<Json> {
    let options = options_from_json(options, Clock::default())?;
    let schema = crate::schema::Schema::parse_with(schema_text, &crate::schema::SchemaOptions { tenant_field: options.tenant_field })?;
    Ok(crate::schema::describe(&schema))
}

/// A schema whose provider is not the driver's database: its statements would not run there.
/// Points at the datasource's `provider` line, like the schema's own errors.
fn dialect_mismatch(schema_text: &str, schema_dialect: Dialect) -> Error {
    let (provider, wanted) = match schema_dialect {
        Dialect::Mysql => ("mysql", "a MySQL driver adapter (provider \"mysql\")"),
        Dialect::Postgres => ("postgresql", "a PostgreSQL driver or adapter"),
    };
    let at = schema_text.find("datasource").and_then(|d| schema_text[d..].find("provider").map(|p| d + p));
    let (line, column) = at.map_or((1, 1), |i| {
        let before = &schema_text[..i];
        (before.matches('\n').count() + 1, i - before.rfind('\n').map_or(0, |n| n + 1) + 1)
    });
    Error::new(
        codes::SCHEMA_UNSUPPORTED,
        format!("line {line}, column {column}: provider \"{provider}\" needs {wanted}; this driver speaks another SQL dialect"),
    )
    .with_meta("line", line)
    .with_meta("column", column)
}

impl<D: Driver> Host<D> {
    /// Parses the schema and options (see [`options_from_json`]). `clock` is the host's clock.
    pub fn new(schema_text: &str, options: &Json, driver: D, clock: Clock) -> Result<Self> {
        let engine = Engine::new(schema_text, options_from_json(options, clock)?)?;
        if engine.dialect() != driver.dialect() {
            return Err(dialect_mismatch(schema_text, engine.dialect()));
        }
        Ok(Host { engine, driver, transactions: Transactions::new(clock) })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// What a client needs to know to build its API: `{ "models": ["User", ...], "tenancy": [...],
    /// "scoped": bool, "provider": "postgresql" | "mysql", "warnings": [...] }` — the models
    /// (ignored ones left out), how each is treated under a tenant
    /// ([`crate::schema::Schema::tenancy_table`]), whether a tenant context means anything, the
    /// SQL dialect raw SQL is written in (its placeholders: `$n` or `?`), and what about the
    /// schema a client should warn of (`W3003`).
    pub fn describe(&self) -> Json {
        let schema = self.engine.schema();
        let models: Vec<&str> = schema.models.iter().filter(|m| !m.ignored).map(|m| m.name.as_str()).collect();
        let warnings: Vec<Json> = crate::schema::undeclared_tenancy_warning(schema).iter().map(crate::error::Warning::to_json).collect();
        let scoped = schema.has_tenant_scope();
        // Why a tenant context would be refused, for a client to raise when one is asked for.
        let refused = if scoped { Json::Null } else { crate::scope::no_tenant_scope(schema).to_json() };
        let provider = match self.dialect() {
            Dialect::Mysql => "mysql",
            Dialect::Postgres => "postgresql",
        };
        json!({ "models": models, "tenancy": schema.tenancy_table(), "scoped": scoped, "provider": provider, "forTenantError": refused, "warnings": warnings })
    }

    /// What the connected role means for RLS mode (`W3001` superuser, `W3002` BYPASSRLS), as
    /// `[{ code, message, meta }]`; empty when RLS mode is off. Hosts log these as warnings.
    pub async fn warnings(&self) -> Result<Json> {
        let warnings = self.engine.rls_warnings(&self.driver).await?;
        Ok(Json::Array(warnings.iter().map(crate::error::Warning::to_json).collect()))
    }

    /// Counts the links between tenants the database holds ([`crate::ddl::tenant_link_checks`]):
    /// `[{ "relation": "Post.author -> User", "links": n }]`, every relation checked. Runs
    /// without a tenant context; reads only keys and tenant columns.
    pub async fn tenant_links(&self) -> Result<Json> {
        let schema = self.engine.schema();
        let mut out = Vec::new();
        for (relation, sql) in crate::ddl::tenant_link_checks(schema, self.engine.options().namespace.as_deref()) {
            let rows = self.driver.query(&sql, &[]).await.map_err(|e| crate::exec::errors::map_driver_error(schema, e))?;
            let n = match rows.rows.first().and_then(|r| r.first()) {
                Some(crate::exec::DbValue::Int(n)) => *n,
                Some(crate::exec::DbValue::Text(t)) => t.parse().unwrap_or(0),
                _ => 0,
            };
            out.push(json!({ "relation": relation, "links": n }));
        }
        Ok(Json::Array(out))
    }

    /// The CREATE statements of the schema, in order (see [`crate::ddl`]). `options`:
    /// `{ "tenantKeys"?: bool, "rls"?: bool }` (default true, false), or null; `rls` adds the
    /// row-level security statements ([`crate::ddl::rls_statements`]) after them.
    pub fn ddl(&self, options: &Json) -> Result<Vec<String>> {
        let root = Path::root("options");
        let mut ddl = crate::ddl::DdlOptions::default();
        let mut rls = false;
        if !options.is_null() {
            let obj = object(options, &root)?;
            only_keys(obj, &root, &["tenantKeys", "rls"])?;
            let flag = |key: &str, default: bool| -> Result<bool> {
                match obj.get(key) {
                    None | Some(Json::Null) => Ok(default),
                    Some(Json::Bool(b)) => Ok(*b),
                    Some(_) => Err(root.key(key).error(codes::INVALID_VALUE, "expected true or false")),
                }
            };
            ddl.tenant_keys = flag("tenantKeys", true)?;
            rls = flag("rls", false)?;
        }
        let (schema, namespace) = (self.engine.schema(), self.engine.options().namespace.as_deref());
        if rls && schema.provider() == crate::schema::Provider::Mysql {
            // The policies are PostgreSQL's: on MySQL they would not run, and leaving them out
            // would hand back DDL without the wall that was asked for.
            return Err(root.key("rls").error(codes::SCHEMA_UNSUPPORTED, "row-level security is a PostgreSQL feature: MySQL has none"));
        }
        let mut statements = crate::ddl::create_statements_with(schema, namespace, &ddl);
        if rls {
            statements.extend(crate::ddl::rls_statements(schema, namespace));
        }
        Ok(statements)
    }

    /// A schema migration command (`db push`, `migrate`, `rls`; see [`crate::migrate::run`]).
    pub async fn migrate(&self, command: &Json) -> Result<Json> {
        crate::migrate::run(&self.engine, &self.driver, command).await
    }

    /// The tenant context of an envelope (or of a request by handle): `tenant` or `unscoped`.
    fn context(&self, obj: &Map<String, Json>, root: &Path) -> Result<TenantContext> {
        let unscoped = match obj.get("unscoped") {
            None | Some(Json::Bool(false)) => false,
            Some(Json::Bool(true)) => true,
            Some(_) => return Err(root.key("unscoped").error(codes::INVALID_VALUE, "expected true or false")),
        };
        let tenant = obj.get("tenant").filter(|t| !t.is_null());
        match (unscoped, tenant) {
            (true, Some(_)) => Err(root.error(codes::CONFLICTING_ARGUMENTS, "a call is either for a tenant or explicitly unscoped, not both")),
            (true, None) => Ok(TenantContext::Unscoped),
            (false, t) => TenantContext::from_json(self.engine.schema(), t),
        }
    }

    fn envelope<'a>(&self, envelope: &'a Json) -> Result<Envelope<'a>> {
        let root = Path::root("envelope");
        let obj = object(envelope, &root)?;
        only_keys(obj, &root, &["request", "tenant", "unscoped", "transaction", "isolationLevel"])?;
        let requests = match obj.get("request") {
            Some(Json::Array(items)) => Requests::Batch(items),
            Some(one) => Requests::One(one),
            None => return Err(root.key("request").error(codes::MISSING_ARGUMENT, "expected a request or a list of requests")),
        };
        let ctx = self.context(obj, &root)?;
        let transaction = match obj.get("transaction") {
            None | Some(Json::Null) => None,
            Some(Json::String(id)) => Some(id.as_str()),
            Some(_) => return Err(root.key("transaction").error(codes::INVALID_VALUE, "expected a transaction id")),
        };
        let isolation = isolation_level(obj.get("isolationLevel"), &root.key("isolationLevel"))?;
        if isolation.is_some() && (transaction.is_some() || matches!(requests, Requests::One(_))) {
            return Err(root.key("isolationLevel").error(
                codes::CONFLICTING_ARGUMENTS,
                "an isolation level applies to a batch or to the start of an interactive transaction",
            ));
        }
        Ok(Envelope { requests, ctx, transaction, isolation })
    }

    /// Runs an envelope: one request, a batch, or either inside an interactive transaction.
    pub async fn request(&self, envelope: &Json) -> Result<Json> {
        self.transactions.check_open()?;
        let env = self.envelope(envelope)?;
        let dialect = self.driver.dialect();
        match (env.transaction, env.requests) {
            (None, Requests::One(r)) => self.engine.request(&self.driver, r, &env.ctx).await,
            (None, Requests::Batch(items)) => self.engine.batch(&self.driver, items, &env.ctx, env.isolation).await,
            (Some(id), Requests::One(r)) => self.transactions.request(id, &self.engine, dialect, r, &env.ctx).await,
            (Some(id), Requests::Batch(items)) => {
                self.transactions
                    .with(id, async |tx| {
                        let mut results = Vec::with_capacity(items.len());
                        for r in items {
                            results.push(self.engine.request_in(tx, dialect, r, &env.ctx).await?);
                        }
                        Ok(Json::Array(results))
                    })
                    .await
            }
        }
    }

    /// [`Host::request`] with the result as JSON text; one request outside a transaction writes
    /// it straight from the rows ([`crate::Engine::request_text`]).
    pub async fn request_text(&self, envelope: &Json) -> Result<String> {
        self.transactions.check_open()?;
        let env = self.envelope(envelope)?;
        match (env.transaction, env.requests) {
            (None, Requests::One(r)) => self.engine.request_text(&self.driver, r, &env.ctx).await,
            _ => self.request(envelope).await.map(|v| v.to_string()),
        }
    }

    /// For an envelope of one request outside a transaction whose plan is one read the host can
    /// shape itself ([`crate::direct`]): its statement, parameters and result description; `None`
    /// for anything else, errors included (the usual path reports them). With `keep`, also a
    /// handle for the request's shape when the plan cache keeps one ([`Host::direct_by_handle`]).
    pub fn direct(&self, envelope: &Json, keep: bool) -> Option<(crate::direct::Direct, Option<crate::cache::Kept>)> {
        self.transactions.check_open().ok()?;
        let env = self.envelope(envelope).ok()?;
        match (env.transaction, env.requests) {
            (None, Requests::One(r)) => self.engine.direct_kept(r, &env.ctx, self.driver.dialect(), keep),
            _ => None,
        }
    }

    /// A request of a shape [`Host::direct`] gave a handle for, outside a transaction, as
    /// `{ "leaves": [...], "tenant"?: <id>, "unscoped"?: true }`: its strings and numbers in
    /// document order and its tenant context ([`crate::Engine::direct_by_handle`]). The
    /// statement's text and this request's parameters; `None` when the handle no longer serves
    /// these values (the caller sends the envelope instead).
    pub fn direct_by_handle(&self, id: u32, call: &Json) -> Option<(std::sync::Arc<Vec<String>>, Vec<crate::value::Value>)> {
        self.transactions.check_open().ok()?;
        let root = Path::root("envelope");
        let obj = call.as_object()?;
        only_keys(obj, &root, &["leaves", "tenant", "unscoped"]).ok()?;
        let ctx = self.context(obj, &root).ok()?;
        let leaves = obj.get("leaves")?.as_array()?;
        self.engine.direct_by_handle(id, leaves, &ctx, self.driver.dialect())
    }

    /// The error of a request run by the host itself ([`Host::direct`]) whose statement failed in
    /// the driver: what [`Host::request`] would have reported for it.
    pub fn direct_error(&self, envelope: &Json, e: crate::exec::DriverError) -> crate::Error {
        let e = crate::exec::errors::map_driver_error(self.engine.schema(), e);
        match envelope.get("request") {
            Some(r) => crate::exec::errors::with_request_model(self.engine.schema(), e, r),
            None => e,
        }
    }

    /// The SQL and parameters of an envelope's request(s), without a database:
    /// `{ "statements": [...] }` for one request, a list of those for a batch.
    pub fn compile(&self, envelope: &Json) -> Result<Json> {
        let env = self.envelope(envelope)?;
        let dialect = self.driver.dialect();
        match env.requests {
            Requests::One(r) => self.engine.compile(r, &env.ctx, dialect),
            Requests::Batch(items) => {
                items.iter().map(|r| self.engine.compile(r, &env.ctx, dialect)).collect::<Result<Vec<_>>>().map(Json::Array)
            }
        }
    }

    /// Starts an interactive transaction: `{ "isolationLevel"?, "maxWait"?: ms, "timeout"?: ms }`
    /// (Prisma's defaults: 2000 and 5000 ms). Returns `{ "id": "...", "timeout": ms }`; the binding
    /// calls [`Host::expire`] from a timer after `timeout`. `sleep` is the host's timer.
    pub async fn begin<S, F>(&self, options: &Json, sleep: S) -> Result<Json>
    where
        S: FnOnce(u64) -> F,
        F: Future<Output = ()>,
    {
        let root = Path::root("options");
        let defaults = TxOptions::default();
        let options = if options.is_null() {
            defaults
        } else {
            let obj = object(options, &root)?;
            only_keys(obj, &root, &["isolationLevel", "maxWait", "timeout"])?;
            TxOptions {
                isolation: isolation_level(obj.get("isolationLevel"), &root.key("isolationLevel"))?,
                max_wait_ms: whole_number(obj.get("maxWait"), &root.key("maxWait"), defaults.max_wait_ms)?,
                timeout_ms: whole_number(obj.get("timeout"), &root.key("timeout"), defaults.timeout_ms)?,
            }
        };
        let id = self.transactions.begin(&self.driver, self.engine.schema(), options, sleep).await?;
        Ok(json!({ "id": id, "timeout": options.timeout_ms }))
    }

    pub async fn commit(&self, id: &str) -> Result<()> {
        self.transactions.commit(id, self.engine.schema()).await
    }

    pub async fn rollback(&self, id: &str) -> Result<()> {
        self.transactions.rollback(id, self.engine.schema()).await
    }

    /// Rolls the transaction back if its timeout has passed; whether it did.
    pub async fn expire(&self, id: &str) -> bool {
        self.transactions.expire(id).await
    }

    /// Rolls back every open interactive transaction, cancelling their running statements, and
    /// refuses every later request and transaction with `Q4002` (the client is closing).
    pub async fn close(&self) {
        self.transactions.close_all().await
    }

    pub fn dialect(&self) -> Dialect {
        self.driver.dialect()
    }
}

#[cfg(test)]
mod dialect_tests {
    use super::*;

    #[test]
    fn a_schema_for_another_database_points_at_its_provider() {
        let e = dialect_mismatch("datasource db {\n  provider = \"mysql\"\n}\n", Dialect::Mysql);
        assert_eq!(e.code(), codes::SCHEMA_UNSUPPORTED);
        assert_eq!(e.meta().get("line"), Some(&json!(2)));
        assert_eq!(e.meta().get("column"), Some(&json!(3)));
        assert!(e.message().contains("needs a MySQL driver adapter"), "{}", e.message());
    }
}
