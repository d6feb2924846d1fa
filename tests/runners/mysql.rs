//! Runs the conformance corpus on MariaDB / MySQL: the engine with `provider = "mysql"` over the
//! test-only `mysql_async` driver (the cells a JavaScript MySQL adapter gives), against the server
//! in `MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). The corpus's schemas are used as
//! they are with the provider switched to `mysql`; their tables come from the engine's MySQL DDL
//! and their seeds (PostgreSQL SQL, the one source of the seed data) are translated row by row
//! into bound MySQL inserts. Each read suite gets its own database, each write case its own.
//! A case either passes or is listed with its reason in `known-failures/mysql.txt`; a listed
//! case that passes fails the run. An unreachable server fails the run.

#[path = "support/mysql_driver.rs"]
mod mysql_driver;
#[path = "support/mysql_seed.rs"]
mod mysql_seed;

use libtest_mimic::{Arguments, Failed, Trial};
use mysql_async::prelude::Queryable as _;
use mysql_driver::MyDriver;
use quarry_conformance::{self as corpus, Case, Suite};
use quarry_engine::{Engine, EngineOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime"))
}

pub fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn driver() -> &'static MyDriver {
    static DRIVER: OnceLock<MyDriver> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let d = MyDriver::new(&mysql_url()).unwrap_or_else(|e| panic!("bad MYSQL_URL {}: {e}", mysql_url()));
        runtime()
            .block_on(async { d.conn().await.map(drop) })
            .unwrap_or_else(|e| panic!("cannot connect to MySQL at {}: {e:?}", mysql_url()));
        d
    })
}

struct Shared {
    databases: Mutex<HashMap<String, Arc<OnceLock<Result<String, String>>>>>,
    created: Mutex<Vec<String>>,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| Shared { databases: Mutex::new(HashMap::new()), created: Mutex::new(Vec::new()) })
}

/// A corpus schema with its datasource switched to MySQL.
pub fn mysql_schema(text: &str) -> String {
    text.replace("provider = \"postgresql\"", "provider = \"mysql\"").replace("provider     = \"postgresql\"", "provider     = \"mysql\"")
}

fn engine_for(suite: &Suite, database: &str) -> Result<Engine, String> {
    let schema = mysql_schema(&corpus::read_file(&suite.schema));
    Engine::new(&schema, EngineOptions { namespace: Some(database.to_owned()), ..Default::default() })
        .map_err(|e| format!("schema {}: {e:?}", suite.schema))
}

async fn prepare(suite: &Suite, database: &str) -> Result<(), String> {
    let engine = engine_for(suite, database)?;
    let mut conn = driver().conn().await.map_err(|e| format!("{e:?}"))?;
    shared().created.lock().map_err(|e| e.to_string())?.push(database.to_owned());
    let seed = suite.seed.as_ref().map(|p| corpus::read_file(p));
    mysql_seed::create_database(&mut conn, engine.schema(), database, seed.as_deref()).await
}

/// Empties the database's tables (AUTO_INCREMENT restarted) and seeds it again.
async fn reseed(suite: &Suite, database: &str) -> Result<(), String> {
    let engine = engine_for(suite, database)?;
    let mut conn = driver().conn().await.map_err(|e| format!("{e:?}"))?;
    let tables: Vec<String> = conn
        .exec("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (database,))
        .await
        .map_err(|e| e.to_string())?;
    conn.query_drop("SET FOREIGN_KEY_CHECKS = 0").await.map_err(|e| e.to_string())?;
    for t in tables {
        conn.query_drop(format!("TRUNCATE TABLE `{}`.`{}`", database, t.replace('`', "``"))).await.map_err(|e| e.to_string())?;
    }
    conn.query_drop("SET FOREIGN_KEY_CHECKS = 1").await.map_err(|e| e.to_string())?;
    match &suite.seed {
        Some(path) => mysql_seed::load(&mut conn, engine.schema(), database, &corpus::read_file(path)).await,
        None => Ok(()),
    }
}

async fn drop_database(database: &str) {
    if let Ok(mut conn) = driver().conn().await {
        mysql_seed::drop_database(&mut conn, database).await;
    }
}

fn read_database(suite: &Suite) -> Result<String, String> {
    let cell = {
        let mut map = shared().databases.lock().map_err(|e| e.to_string())?;
        map.entry(suite.name.clone()).or_default().clone()
    };
    cell.get_or_init(|| {
        let db = format!("qm_{}_{}", suite.name, std::process::id());
        runtime().block_on(prepare(suite, &db)).map(|()| db)
    })
    .clone()
}

async fn run_case(engine: &Engine, case: &Case) -> Result<(), String> {
    let outcome = match case.context(engine) {
        Ok(ctx) => corpus::run_request(driver(), engine, &case.request, &ctx).await,
        Err(e) => Err(e),
    };
    corpus::check(case, &outcome)?;
    for (i, after) in case.after.iter().enumerate() {
        let ctx = if after.unscoped {
            quarry_engine::scope::TenantContext::Unscoped
        } else {
            quarry_engine::scope::TenantContext::from_json(engine.schema(), after.tenant.as_ref()).map_err(|e| format!("{e:?}"))?
        };
        let got = corpus::run_request(driver(), engine, &after.request, &ctx).await.map_err(|e| format!("after[{i}]: {e:?}"))?;
        corpus::compare(&after.result, &got).map_err(|e| format!("after[{i}]: {e}"))?;
    }
    Ok(())
}

/// Runs a case cold, then from the plan cache, like the PostgreSQL runner.
fn run(suite: &Suite, index: usize) -> Result<(), String> {
    let case = &suite.cases[index];
    let write = suite.mode == "write";
    let db = if write { format!("qm_{}_{index}_{}", suite.name, std::process::id()) } else { read_database(suite)? };
    let engine = engine_for(suite, &db)?;
    runtime().block_on(async {
        let mut kept = 0;
        for round in ["cold", "cached"] {
            match (write, round) {
                (true, "cold") => prepare(suite, &db).await?,
                (true, _) => reseed(suite, &db).await?,
                _ => {}
            }
            let before = engine.cache_stats();
            let result = run_case(&engine, case).await.map_err(|e| format!("{round}: {e}"));
            if write && (round == "cached" || result.is_err()) {
                drop_database(&db).await;
            }
            result?;
            let after = engine.cache_stats();
            if round == "cold" {
                kept = after.plans - before.plans;
            } else if kept > 0 && after.hits == before.hits {
                return Err(format!("cached: {kept} plan(s) were kept, but the second run was not served from the cache"));
            }
        }
        Ok(())
    })
}

/// `known-failures/mysql.txt`: `suite/case name # reason`, one a line; every entry needs a reason.
fn known_failures() -> HashMap<String, String> {
    let p = corpus::root().join("known-failures/mysql.txt");
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")) {
        let (id, reason) = line.split_once(" # ").unwrap_or_else(|| panic!("known-failures/mysql.txt: {line:?} has no ` # reason`"));
        out.insert(id.trim().to_owned(), reason.trim().to_owned());
    }
    out
}

fn main() {
    let args = Arguments::from_args();
    let _ = driver();
    let suites: Vec<Arc<Suite>> = corpus::load_suites().into_iter().map(Arc::new).collect();
    let known = known_failures();
    let mut trials = Vec::new();
    for suite in &suites {
        for (i, case) in suite.cases.iter().enumerate() {
            let id = corpus::case_id(suite, case);
            let expected_to_fail = known.contains_key(&id);
            let suite = Arc::clone(suite);
            trials.push(Trial::test(id, move || match (run(&suite, i), expected_to_fail) {
                (Ok(()), false) => Ok(()),
                (Err(e), false) => Err(Failed::from(e)),
                (Err(_), true) => Ok(()),
                (Ok(()), true) => Err(Failed::from("listed in known-failures/mysql.txt but passes: remove it from the list")),
            }));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let created = shared().created.lock().map(|c| c.clone()).unwrap_or_default();
    runtime().block_on(async {
        for db in created {
            drop_database(&db).await;
        }
    });
    conclusion.exit();
}
