//! End to end on the native path: a request through the engine and the native driver, against
//! the raw driver (tokio-postgres with a deadpool pool and cached prepared statements) running the
//! same SQL with hand-bound parameters and turning rows into JSON. Workload: the benchmark schema
//! and seed, scenarios a-f under tenant 1, in a PostgreSQL schema of its own that is re-created
//! and seeded at the start. Run with `cargo bench -p quarry-benches --bench e2e` (needs the
//! PostgreSQL in `DATABASE_URL`).

use criterion::{Criterion, criterion_group, criterion_main};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use quarry_benches::{SCENARIOS, TENANT, scenario, tenant_user};
use quarry_engine::exec::{Dialect, Driver, Queryable, Transaction};
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use serde_json::{Map, Value as Json};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{NoTls, Row};

const NAMESPACE: &str = "quarry_bench_e2e";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

/// Re-creates the benchmark schema and seeds it.
async fn prepare(driver: &PgDriver, engine: &Engine) {
    let tx = driver.begin(None).await.expect("begin");
    tx.execute(&format!("DROP SCHEMA IF EXISTS \"{NAMESPACE}\" CASCADE"), &[]).await.expect("drop");
    tx.execute(&format!("CREATE SCHEMA \"{NAMESPACE}\""), &[]).await.expect("create schema");
    tx.execute(&format!("SET LOCAL search_path TO \"{NAMESPACE}\""), &[]).await.expect("search_path");
    // The workload's seed gives most comments an author of another tenant, which the
    // tenant-matching keys would refuse: the benchmark tables are made without them.
    let ddl = quarry_engine::ddl::DdlOptions { tenant_keys: false };
    for stmt in quarry_engine::ddl::create_statements_with(engine.schema(), Some(NAMESPACE), &ddl) {
        tx.execute(&stmt, &[]).await.expect("DDL");
    }
    for stmt in quarry_benches::seed_statements() {
        tx.execute(&stmt, &[]).await.unwrap_or_else(|e| panic!("seed: {e:?}\n{stmt}"));
    }
    tx.commit().await.expect("commit");
}

/// The SQL of each statement the engine plans for a request.
fn statements(engine: &Engine, request: &Json, ctx: &TenantContext) -> Vec<(String, Json)> {
    let compiled = engine.compile(request, ctx, Dialect::Postgres).expect("compiles");
    compiled["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| (s["sql"].as_str().expect("sql").to_owned(), s["params"].clone()))
        .collect()
}

/// Rows as JSON objects, as an application returning JSON would build them.
fn rows_to_json(rows: &[Row]) -> Json {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut obj = Map::new();
        for (i, c) in row.columns().iter().enumerate() {
            let v = match *c.type_() {
                Type::INT4 => row.get::<_, Option<i32>>(i).map_or(Json::Null, Json::from),
                Type::INT8 => row.get::<_, Option<i64>>(i).map_or(Json::Null, Json::from),
                Type::BOOL => row.get::<_, Option<bool>>(i).map_or(Json::Null, Json::from),
                Type::TEXT => row.get::<_, Option<String>>(i).map_or(Json::Null, Json::from),
                Type::TIMESTAMP => row
                    .get::<_, Option<chrono::NaiveDateTime>>(i)
                    .map_or(Json::Null, |t| Json::from(t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))),
                Type::JSON | Type::JSONB => row.get::<_, Option<Json>>(i).unwrap_or(Json::Null),
                ref other => panic!("the raw baseline does not read {other}"),
            };
            obj.insert(c.name().to_owned(), v);
        }
        out.push(Json::Object(obj));
    }
    Json::Array(out)
}

/// The raw driver running one scenario's statements with parameters bound by hand.
struct Raw {
    pool: Pool,
    sql: Vec<String>,
}

impl Raw {
    async fn run(&self, name: &str, i: usize, run: &str) -> Json {
        let conn = self.pool.get().await.expect("connection");
        let tenant = TENANT as i32;
        let user = tenant_user(i) as i32;
        let q = |n: usize| self.sql[n].as_str();
        let query = |sql: &str, params: Vec<Box<dyn ToSql + Sync + Send>>| {
            let conn = &conn;
            let sql = sql.to_owned();
            async move {
                let stmt = conn.prepare_cached(&sql).await.expect("prepare");
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
                conn.query(&stmt, &refs).await.expect("query")
            }
        };
        match name {
            "a_findUnique" => rows_to_json(&query(q(0), vec![Box::new(user), Box::new(tenant)]).await),
            "b_findMany20" => rows_to_json(&query(q(0), vec![Box::new(true), Box::new(20i64), Box::new(tenant)]).await),
            "c_include" => rows_to_json(&query(q(0), vec![Box::new(20i64), Box::new(tenant)]).await),
            "d_create" => rows_to_json(&query(q(0), vec![Box::new(user), Box::new(format!("Bench post {i}")), Box::new(tenant)]).await),
            "e_nestedCreate" => {
                conn.batch_execute("BEGIN").await.expect("begin");
                let email = format!("bench-{run}-raw-{i}@example.com");
                let created = query(q(0), vec![Box::new(email), Box::new("Bench"), Box::new(tenant)]).await;
                let id: i32 = created[0].get(0);
                query(q(1), vec![Box::new(id), Box::new("First"), Box::new(tenant)]).await;
                query(q(2), vec![Box::new(id), Box::new("Second"), Box::new(tenant)]).await;
                let rows = query(q(3), vec![Box::new(id), Box::new(tenant)]).await;
                conn.batch_execute("COMMIT").await.expect("commit");
                rows_to_json(&rows)
            }
            "f_aggregate" => rows_to_json(&query(q(0), vec![Box::new(tenant)]).await),
            _ => Json::Null,
        }
    }
}

/// Checks that the hand-bound parameters match the engine's order for a sample of each scenario,
/// so the baseline runs exactly the engine's statements.
fn check_parameter_order(name: &str, planned: &[(String, Json)]) {
    let expected: Vec<Json> = match name {
        "a_findUnique" => vec![serde_json::json!([tenant_user(0), TENANT])],
        "b_findMany20" => vec![serde_json::json!([true, 20, TENANT])],
        "c_include" => vec![serde_json::json!([20, TENANT])],
        "d_create" => vec![serde_json::json!([tenant_user(0), "Bench post 0", TENANT])],
        "e_nestedCreate" => vec![
            serde_json::json!(["bench-check-0@example.com", "Bench", TENANT]),
            serde_json::json!([{"$ref": {"result": 0, "column": 0, "all": false}}, "First", TENANT]),
            serde_json::json!([{"$ref": {"result": 0, "column": 0, "all": false}}, "Second", TENANT]),
            serde_json::json!([{"$ref": {"result": 0, "column": 0, "all": false}}, TENANT]),
        ],
        "f_aggregate" => vec![serde_json::json!([TENANT])],
        _ => vec![],
    };
    let actual: Vec<Json> = planned.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(actual, expected, "{name}: the engine's parameters changed order; update the raw baseline");
}

fn e2e(c: &mut Criterion) {
    let rt = runtime();
    // Both sides connect without TLS (the raw pool cannot speak it), so they compare like for like.
    let url = format!("{}{}schema={NAMESPACE}&sslmode=disable", quarry_benches::database_url(), if quarry_benches::database_url().contains('?') { "&" } else { "?" });
    let driver = rt.block_on(PgDriver::connect(&url)).expect("connect");
    let engine = Engine::new(quarry_benches::SCHEMA, EngineOptions { namespace: Some(NAMESPACE.into()), ..Default::default() }).expect("schema");
    rt.block_on(prepare(&driver, &engine));
    let ctx = TenantContext::Tenant(Value::Int(TENANT));
    let pg = tokio_postgres::Config::from(driver.options().pg.clone());
    let pool = Pool::builder(Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast }))
        .max_size(4)
        .build()
        .expect("pool");
    let run = format!("{}", std::process::id());

    let mut group = c.benchmark_group("e2e");
    for name in SCENARIOS {
        let sample = if name == "e_nestedCreate" {
            serde_json::json!({"model": "User", "action": "create", "args": {"data": {"email": "bench-check-0@example.com", "name": "Bench", "posts": {"create": [{"title": "First"}, {"title": "Second"}]}}, "include": {"posts": true}}})
        } else {
            scenario(name, 0, &run)
        };
        let planned = statements(&engine, &sample, &ctx);
        check_parameter_order(name, &planned);
        let raw = Raw { pool: pool.clone(), sql: planned.into_iter().map(|(sql, _)| sql).collect() };

        let n = AtomicUsize::new(0);
        group.bench_function(format!("{name}/quarry"), |b| {
            b.to_async(&rt).iter(|| {
                let i = n.fetch_add(1, Ordering::Relaxed);
                let request = scenario(name, i, &run);
                let (engine, driver, ctx) = (&engine, &driver, &ctx);
                async move { black_box(engine.request(driver, &request, ctx).await.expect("request")) }
            })
        });
        let n = AtomicUsize::new(0);
        group.bench_function(format!("{name}/raw"), |b| {
            b.to_async(&rt).iter(|| {
                let i = n.fetch_add(1, Ordering::Relaxed);
                let (raw, run) = (&raw, &run);
                async move { black_box(raw.run(name, i, run).await) }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, e2e);
criterion_main!(benches);
