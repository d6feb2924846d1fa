//! Quarry's engine: the runtime-agnostic core.
//!
//! A Prisma schema and Prisma-Client-shaped query documents go in; parameterized SQL runs through a
//! [`exec::Driver`]; nested JSON comes out. The crate does no I/O of its own and builds for
//! `wasm32-unknown-unknown`. One module per stage, in the order data flows:
//!
//! - [`schema`]: schema text -> [`schema::Schema`]
//! - `query`: request JSON -> validated query tree
//! - `plan`: query tree -> statements + result shaping
//! - `scope`: tenant scope on every statement (the only place tenant logic lives)
//! - `sql`: the SQL tree and its rendering per dialect
//! - [`exec`]: drives a plan over a driver, shapes rows into JSON
//! - [`cache`]: plans kept by request shape, reused with each request's values (and tenant) bound
//! - [`rawsql`]: raw SQL requests (`queryRaw`, `executeRaw`), scoped by `scope::raw`
//! - [`ddl`]: CREATE statements and RLS policies from a schema
//! - [`migrate`]: a database brought to a schema: differences, migrations, their history
//! - [`error`]: one error type with stable codes
//!
//! [`host`] is the entry point the bindings (Wasm, Node addon) share: JSON envelopes in, JSON out.

pub mod cache;
pub mod ddl;
pub mod direct;
pub mod error;
pub mod exec;
pub mod host;
pub mod migrate;
pub mod plan;
pub mod query;
pub mod rawsql;
pub mod schema;
pub mod scope;
pub mod sql;
pub mod value;

pub use error::{Error, Result, Warning};

use exec::{Dialect, Driver, IsolationLevel, Queryable, Transaction};
use plan::{Plan, PlanOptions};
use query::QueryOptions;
use schema::{Schema, SchemaOptions};
use scope::{Origin, TenantContext};
use serde_json::Value as Json;

/// Options of an [`Engine`], fixed when it is created.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// The database schema (namespace) tables live in; `None` leaves names unqualified.
    pub namespace: Option<String>,
    /// Overrides the schema's tenant field name.
    pub tenant_field: Option<String>,
    pub query: QueryOptions,
    /// Where generated defaults (uuid v7, cuid) get the time; the Wasm binding installs the
    /// host's clock.
    pub clock: exec::defaults::Clock,
    /// Row-level security mode (PostgreSQL, with [`ddl::rls_statements`] applied): every request
    /// under a tenant runs in a transaction that first sets the tenant with a bound,
    /// transaction-local `set_config` ([`scope::rls::SET_TENANT_SQL`]), so the database's policies
    /// hold even for SQL the scope pass never saw. The scope pass still runs: two walls.
    pub rls: bool,
    /// How many plans the engine keeps, by request shape ([`cache`]); 0 turns the cache off.
    /// `None`: [`cache::DEFAULT_CAPACITY`].
    pub plan_cache: Option<usize>,
}

/// A request ready to run: a model request's plan (made for it, or cached with its values bound)
/// or a raw request's.
enum Prepared {
    Model(Plan),
    Cached(cache::Instance),
    Raw(rawsql::RawPlan),
}

impl Prepared {
    fn needs_transaction(&self) -> bool {
        match self {
            Prepared::Model(plan) => plan.needs_transaction(),
            Prepared::Cached(c) => c.template.plan.needs_transaction(),
            Prepared::Raw(raw) => raw.needs_transaction(),
        }
    }

    /// A cached plan with its values in place, for the paths that need the whole plan (batches
    /// rendered in one call).
    fn owned(self) -> Prepared {
        match self {
            Prepared::Cached(c) => Prepared::Model(c.materialize()),
            other => other,
        }
    }

    fn as_batch(&self) -> Option<exec::batch::Request<'_>> {
        match self {
            Prepared::Model(plan) => Some(exec::batch::Request::Model(plan)),
            Prepared::Cached(_) => None,
            Prepared::Raw(raw) => Some(exec::batch::Request::Raw(raw)),
        }
    }
}

/// The engine: a parsed schema plus options. Cheap to share; every method takes `&self`.
#[derive(Clone, Debug)]
pub struct Engine {
    schema: Schema,
    options: EngineOptions,
    cache: Option<std::sync::Arc<cache::PlanCache>>,
}

impl Engine {
    pub fn new(schema_text: &str, options: EngineOptions) -> Result<Engine> {
        let schema = Schema::parse_with(schema_text, &SchemaOptions { tenant_field: options.tenant_field.clone() })?;
        if options.rls && schema.provider() == schema::Provider::Mysql {
            return Err(Error::new(
                error::codes::SCHEMA_UNSUPPORTED,
                "row-level security is a PostgreSQL feature: MySQL has none, so `rls` cannot be used with provider \"mysql\" (tenant scope still applies to every statement)",
            ));
        }
        let cache = cache::PlanCache::new(options.plan_cache.unwrap_or(cache::DEFAULT_CAPACITY)).map(std::sync::Arc::new);
        Ok(Engine { schema, options, cache })
    }

    /// The plan cache's counters (zero when it is off).
    pub fn cache_stats(&self) -> cache::Stats {
        self.cache.as_ref().map(|c| c.stats()).unwrap_or_default()
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The dialect plans are built for: the schema's provider (`mysql` or PostgreSQL).
    pub fn dialect(&self) -> Dialect {
        match self.schema.provider() {
            schema::Provider::Mysql => Dialect::Mysql,
            _ => Dialect::Postgres,
        }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Validates, plans and scopes a request: the statements that would run.
    pub fn plan(&self, request: &Json, ctx: &TenantContext) -> Result<Plan> {
        let req = query::parse_request(&self.schema, request, &self.options.query)?;
        let namespace = self.options.namespace.as_deref();
        let mut plan = plan::plan(&self.schema, &req, &PlanOptions { namespace: self.options.namespace.clone(), dialect: self.dialect() })?;
        scope::guard_foreign_keys(&self.schema, namespace, ctx, &mut plan)?;
        scope::guard_links(&self.schema, namespace, ctx, &mut plan)?;
        for stmt in plan.statements_mut() {
            scope::scope(&self.schema, namespace, ctx, stmt, Origin::Generated)?;
        }
        // On scoped, guarded statements: joining them changes none of their checks.
        if self.dialect() == Dialect::Postgres {
            plan::fuse::fuse_nested_create(&self.schema, &mut plan);
        }
        Ok(plan)
    }

    /// A model request's plan, or a raw request's.
    fn prepare(&self, request: &Json, ctx: &TenantContext) -> Result<Prepared> {
        match rawsql::parse_request(request)? {
            Some(raw) => rawsql::plan(&self.schema, self.options.namespace.as_deref(), ctx, raw).map(Prepared::Raw),
            None => match self.prepare_model(request, ctx, None)? {
                cache::Prepared::Plan(plan) => Ok(Prepared::Model(plan)),
                cache::Prepared::Cached(instance) => Ok(Prepared::Cached(instance)),
            },
        }
    }

    /// A model request's plan, from the plan cache when there is one; with `keep` also a handle
    /// for the cached plan (see [`Engine::direct_kept`]).
    fn prepare_model(&self, request: &Json, ctx: &TenantContext, keep: Option<&mut Option<cache::Kept>>) -> Result<cache::Prepared> {
        match &self.cache {
            Some(cache) => cache.get_or_plan_kept(request, ctx, &|r, c| self.plan(r, c), keep),
            None => self.plan(request, ctx).map(cache::Prepared::Plan),
        }
    }

    async fn run<Q: Queryable>(&self, q: &Q, prepared: &Prepared, dialect: Dialect) -> Result<Json> {
        match prepared {
            Prepared::Model(plan) => exec::run_plan(q, &self.schema, plan, dialect, self.options.clock).await,
            Prepared::Cached(c) => {
                exec::run_plan_bound(q, &self.schema, &c.template.plan, Some(&c.bound), dialect, self.options.clock).await
            }
            Prepared::Raw(raw) => exec::run_raw(q, &self.schema, raw, dialect, self.options.clock).await,
        }
    }

    /// The SQL and parameters a request runs, without a database:
    /// `{ "statements": [{ "sql": "...", "params": [...] }] }`. In RLS mode a request under a tenant
    /// starts with the statement that sets the tenant.
    pub fn compile(&self, request: &Json, ctx: &TenantContext, dialect: Dialect) -> Result<Json> {
        let prepared = self.prepare(request, ctx)?;
        let setting = self.tenant_setting(ctx).map(|(text, params)| {
            serde_json::json!({ "sql": text, "params": params.iter().map(value::Value::to_json).collect::<Vec<_>>() })
        });
        let describe = |text: &str, params: &[sql::Param]| {
            let placeholders: Vec<value::Value> = (0..params.len()).map(|_| value::Value::Null).collect();
            let (text, _) = sql::render_text(text, &placeholders, dialect);
            serde_json::json!({ "sql": text, "params": params.iter().map(exec::describe_param).collect::<Vec<_>>() })
        };
        let render = |s: &sql::Stmt| describe(&s.ast.to_string(), &s.params);
        let mut statements: Vec<Json> = setting.into_iter().collect();
        match &prepared {
            Prepared::Model(plan) => statements.extend(plan.statements().into_iter().map(render)),
            Prepared::Cached(c) => statements.extend(c.bound.texts.iter().zip(&c.bound.params).map(|(text, params)| describe(text, params))),
            Prepared::Raw(raw) => {
                let guards = Plan { steps: raw.guards.clone(), output: plan::Output { var: 0, kind: plan::OutputKind::Affected } };
                statements.extend(guards.statements().into_iter().map(render));
                statements.push(match &raw.sql {
                    rawsql::RawSql::Scoped(stmt) => render(stmt),
                    rawsql::RawSql::Verbatim { text, params } => {
                        serde_json::json!({ "sql": text, "params": params.iter().map(value::Value::to_json).collect::<Vec<_>>() })
                    }
                });
            }
        }
        Ok(serde_json::json!({ "statements": statements }))
    }

    /// A request the host may run and shape itself ([`direct`]): `None` unless its plan is one
    /// read it can (never in RLS mode, never raw SQL, PostgreSQL only). Errors are left to the
    /// usual path, which reports them.
    pub fn direct(&self, request: &Json, ctx: &TenantContext, dialect: Dialect) -> Option<direct::Direct> {
        self.direct_kept(request, ctx, dialect, false).map(|(d, _)| d)
    }

    /// [`Engine::direct`], and with `keep` a handle for the cached plan it came from, when the
    /// plan cache keeps one for the request's shape: [`Engine::direct_by_handle`] then serves the
    /// next request of that shape from its strings and numbers alone.
    pub fn direct_kept(&self, request: &Json, ctx: &TenantContext, dialect: Dialect, keep: bool) -> Option<(direct::Direct, Option<cache::Kept>)> {
        if dialect != Dialect::Postgres || self.tenant_setting(ctx).is_some() {
            return None;
        }
        // Only these actions can plan to one read; anything else (writes, raw SQL, counts) would be
        // planned here for nothing and again by the usual path.
        if !matches!(request.get("action").and_then(Json::as_str), Some("findMany" | "findFirst" | "findUnique" | "aggregate" | "groupBy")) {
            return None;
        }
        // Raw SQL is none of those actions.
        let mut kept = None;
        let prepared = self.prepare_model(request, ctx, keep.then_some(&mut kept)).ok()?;
        let d = match prepared {
            cache::Prepared::Plan(plan) => {
                let stmt = plan.statements().into_iter().next()?;
                direct::describe(&self.schema, &plan, &stmt.ast.to_string(), &stmt.params)
            }
            cache::Prepared::Cached(c) => direct::describe(&self.schema, &c.template.plan, c.bound.texts.first()?, c.bound.params.first()?),
        }?;
        Some((d, kept))
    }

    /// A request of a shape [`Engine::direct_kept`] kept a handle for, given by that handle, its
    /// strings and numbers in document order and its tenant context (see
    /// [`cache::PlanCache::by_handle`], which checks them against the shape): the statement's
    /// text (the handle's, the same every time) and this request's parameters, with its own
    /// tenant. `None` when anything does not match; the caller then sends the whole request.
    pub fn direct_by_handle(
        &self,
        id: u32,
        leaves: &[Json],
        ctx: &TenantContext,
        dialect: Dialect,
    ) -> Option<(std::sync::Arc<Vec<String>>, Vec<value::Value>)> {
        if dialect != Dialect::Postgres || self.tenant_setting(ctx).is_some() {
            return None;
        }
        let c = self.cache.as_ref()?.by_handle(id, leaves, ctx)?;
        let params = direct::values(c.bound.params.first()?)?;
        Some((c.bound.texts, params))
    }

    /// Runs one request. Plans of several statements run in a transaction, and so does every
    /// request under a tenant in RLS mode.
    pub async fn request<D: Driver>(&self, driver: &D, request: &Json, ctx: &TenantContext) -> Result<Json> {
        self.request_once(driver, request, ctx).await.map_err(|e| exec::errors::with_request_model(&self.schema, e, request))
    }

    async fn request_once<D: Driver>(&self, driver: &D, request: &Json, ctx: &TenantContext) -> Result<Json> {
        let prepared = self.prepare(request, ctx)?;
        let setting = self.tenant_setting(ctx);
        if !prepared.needs_transaction() && setting.is_none() {
            return self.run(driver, &prepared, driver.dialect()).await;
        }
        self.request_in_transaction(driver, prepared, setting).await
    }

    /// [`Engine::request`] with the result as JSON text. A plan that runs outside a transaction
    /// writes its text straight from the rows ([`exec::run_plan_text`]), without the result's
    /// tree; for a host that hands the result on as text (the native addon).
    pub async fn request_text<D: Driver>(&self, driver: &D, request: &Json, ctx: &TenantContext) -> Result<String> {
        let outcome = async {
            let prepared = self.prepare(request, ctx)?;
            let setting = self.tenant_setting(ctx);
            if !prepared.needs_transaction() && setting.is_none() {
                let (dialect, clock) = (driver.dialect(), self.options.clock);
                return match &prepared {
                    Prepared::Model(plan) => exec::run_plan_text(driver, &self.schema, plan, None, dialect, clock).await,
                    Prepared::Cached(c) => exec::run_plan_text(driver, &self.schema, &c.template.plan, Some(&c.bound), dialect, clock).await,
                    Prepared::Raw(_) => self.run(driver, &prepared, dialect).await.map(|v| v.to_string()),
                };
            }
            self.request_in_transaction(driver, prepared, setting).await.map(|v| v.to_string())
        };
        outcome.await.map_err(|e| exec::errors::with_request_model(&self.schema, e, request))
    }

    /// A prepared request that runs in a transaction of its own (several statements, or RLS mode).
    async fn request_in_transaction<D: Driver>(&self, driver: &D, prepared: Prepared, setting: Option<scope::rls::Statement>) -> Result<Json> {
        // A driver that runs statements in one call renders whole plans (see `run_static`).
        let prepared = if driver.can_batch() { prepared.owned() } else { prepared };
        if let Some(mut results) = self.run_static(driver, std::slice::from_ref(&prepared), setting.clone(), None).await? {
            return results.pop().ok_or_else(|| Error::internal("a batch of one request gave no result"));
        }
        let tx = self.begin(driver, None, setting).await?;
        let result = self.run(&tx, &prepared, driver.dialect()).await;
        self.finish(tx, result).await
    }

    /// Runs one request inside a transaction the caller holds open. In RLS mode the request first
    /// sets its tenant in that transaction (or clears it when it has none), so requests of one
    /// interactive transaction each see their own tenant.
    pub async fn request_in<Q: Queryable>(&self, conn: &Q, dialect: Dialect, request: &Json, ctx: &TenantContext) -> Result<Json> {
        let outcome = async {
            let prepared = self.prepare(request, ctx)?;
            if self.options.rls {
                self.set_tenant(conn, Some(scope::rls::set_tenant_in_transaction(ctx))).await?;
            }
            self.run(conn, &prepared, dialect).await
        };
        outcome.await.map_err(|e| exec::errors::with_request_model(&self.schema, e, request))
    }

    /// In RLS mode: the statement that opens the request's transaction, if the context needs one.
    fn tenant_setting(&self, ctx: &TenantContext) -> Option<scope::rls::Statement> {
        if self.options.rls { scope::rls::set_tenant(ctx) } else { None }
    }

    async fn set_tenant<Q: Queryable>(&self, q: &Q, setting: Option<scope::rls::Statement>) -> Result<()> {
        if let Some((text, params)) = setting {
            q.query(text, &params).await.map_err(|e| exec::errors::map_driver_error(&self.schema, e))?;
        }
        Ok(())
    }

    /// Starts a transaction, opened by the tenant setting when there is one (in one round trip
    /// where the driver can pipeline).
    async fn begin<D: Driver>(&self, driver: &D, isolation: Option<IsolationLevel>, setting: Option<scope::rls::Statement>) -> Result<D::Transaction> {
        let tx = match setting {
            Some((text, params)) => driver.begin_with(isolation, text, &params).await,
            None => driver.begin(isolation).await,
        };
        tx.map_err(|e| exec::errors::map_driver_error(&self.schema, e))
    }

    /// Checks that the connected role is subject to row-level security; a host calls it once
    /// after connecting and logs what it returns. Empty outside RLS mode (nothing is asked of the
    /// database) and when the role is fine; a warning when it is a superuser or has BYPASSRLS.
    pub async fn rls_warnings<Q: Queryable>(&self, q: &Q) -> Result<Vec<Warning>> {
        if !self.options.rls {
            return Ok(Vec::new());
        }
        let rows = q.query(scope::rls::ROLE_CHECK_SQL, &[]).await.map_err(|e| exec::errors::map_driver_error(&self.schema, e))?;
        Ok(scope::rls::role_warnings(&rows))
    }

    /// Runs a list of requests in one transaction: all or nothing. In RLS mode under a tenant the
    /// transaction starts by setting the tenant.
    pub async fn batch<D: Driver>(
        &self,
        driver: &D,
        requests: &[Json],
        ctx: &TenantContext,
        isolation: Option<IsolationLevel>,
    ) -> Result<Json> {
        let owned = driver.can_batch();
        let model = |i: usize| move |e| exec::errors::with_request_model(&self.schema, e, &requests[i]);
        let plans = requests
            .iter()
            .enumerate()
            .map(|(i, r)| self.prepare(r, ctx).map(|p| if owned { p.owned() } else { p }).map_err(model(i)))
            .collect::<Result<Vec<_>>>()?;
        if let Some(results) = self.run_static(driver, &plans, self.tenant_setting(ctx), isolation).await? {
            return Ok(Json::Array(results));
        }
        let tx = self.begin(driver, isolation, self.tenant_setting(ctx)).await?;
        let outcome = async {
            let mut results = Vec::with_capacity(plans.len());
            for (i, plan) in plans.iter().enumerate() {
                results.push(self.run(&tx, plan, driver.dialect()).await.map_err(model(i))?);
            }
            Ok(Json::Array(results))
        }
        .await;
        self.finish(tx, outcome).await
    }

    /// On a driver that runs batches in one call (Neon's HTTP driver), runs requests whose every
    /// statement is known up front as one transaction in one call, the tenant setting first in
    /// RLS mode; the results, or `None` (nothing sent) when the driver cannot batch or a request
    /// is not static (see [`exec::batch`]): the caller then opens a transaction as usual, which
    /// such a driver refuses before anything runs.
    async fn run_static<D: Driver>(
        &self,
        driver: &D,
        prepared: &[Prepared],
        setting: Option<scope::rls::Statement>,
        isolation: Option<IsolationLevel>,
    ) -> Result<Option<Vec<Json>>> {
        if !driver.can_batch() {
            return Ok(None);
        }
        let requests: Vec<exec::batch::Request> = prepared
            .iter()
            .map(Prepared::as_batch)
            .collect::<Option<_>>()
            .ok_or_else(|| Error::internal("a cached plan was not materialized for a batch"))?;
        let lead: Vec<exec::BatchStatement> =
            setting.into_iter().map(|(text, params)| exec::BatchStatement { sql: text.to_owned(), params }).collect();
        let skip = lead.len();
        let Some(statements) = exec::batch::render(&requests, lead, driver.dialect(), self.options.clock)? else {
            return Ok(None);
        };
        if requests.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let results = driver.run_batch(isolation, &statements).await.map_err(|e| exec::errors::map_driver_error(&self.schema, e))?;
        if results.len() != statements.len() {
            return Err(Error::internal("the driver returned a result count that does not match the batch"));
        }
        exec::batch::finish(&self.schema, &requests, results.into_iter().skip(skip).collect()).map(Some)
    }

    /// Commits on success, rolls back on failure (keeping the original error).
    async fn finish<T: Transaction>(&self, tx: T, result: Result<Json>) -> Result<Json> {
        match result {
            Ok(v) => {
                tx.commit().await.map_err(|e| exec::errors::map_driver_error(&self.schema, e))?;
                Ok(v)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}
