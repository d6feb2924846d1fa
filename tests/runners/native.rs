//! Runs the conformance corpus on the native path: the engine over tokio-postgres against the
//! PostgreSQL in `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`). Each suite
//! gets its own PostgreSQL schema (each case of a write suite gets its own), so cases run in
//! parallel. An unreachable database fails the run.

use libtest_mimic::{Arguments, Failed, Trial};
use quarry_conformance::{self as corpus, Case, Suite};
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime"))
}

fn driver() -> &'static PgDriver {
    static DRIVER: OnceLock<PgDriver> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let url = format!("{}{}connection_limit=8", corpus::database_url(), if corpus::database_url().contains('?') { "&" } else { "?" });
        runtime()
            .block_on(async { PgDriver::connect(&url).await })
            .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {}: {e:?}", corpus::database_url()))
    })
}

/// A prepared, seeded namespace per read suite, created by the first case that needs it.
struct Shared {
    namespaces: Mutex<HashMap<String, Arc<OnceLock<Result<String, String>>>>>,
    created: Mutex<Vec<String>>,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| Shared { namespaces: Mutex::new(HashMap::new()), created: Mutex::new(Vec::new()) })
}

fn engine_for(suite: &Suite, namespace: &str) -> Result<Engine, String> {
    let schema = corpus::read_file(&suite.schema);
    Engine::new(&schema, EngineOptions { namespace: Some(namespace.to_owned()), ..Default::default() })
        .map_err(|e| format!("schema {}: {e:?}", suite.schema))
}

async fn prepare(suite: &Suite, namespace: &str) -> Result<(), String> {
    let engine = engine_for(suite, namespace)?;
    let seed = suite.seed.as_deref().map(corpus::read_file);
    corpus::prepare(driver(), &engine, namespace, seed.as_deref()).await?;
    shared().created.lock().map_err(|e| e.to_string())?.push(namespace.to_owned());
    Ok(())
}

fn read_namespace(suite: &Suite) -> Result<String, String> {
    let cell = {
        let mut map = shared().namespaces.lock().map_err(|e| e.to_string())?;
        map.entry(suite.name.clone()).or_default().clone()
    };
    cell.get_or_init(|| {
        let ns = format!("qc_{}_{}", suite.name, std::process::id());
        runtime().block_on(prepare(suite, &ns)).map(|()| ns)
    })
    .clone()
}

async fn run_case(engine: &Engine, case: &Case, read: bool) -> Result<(), String> {
    // An invalid tenant id is the case's outcome, like any other error.
    let outcome = match case.context(&engine) {
        Ok(ctx) => corpus::run_request(driver(), engine, &case.request, &ctx).await,
        Err(e) => Err(e),
    };
    corpus::check(case, &outcome)?;
    // A read again, its result written as text straight from the rows (what the Node addon
    // returns): the same text as the result's tree, key order included, or the same error.
    if let (true, false, Ok(ctx)) = (read, case.request.is_array(), case.context(&engine)) {
        let text = engine.request_text(driver(), &case.request, &ctx).await;
        let same = match (&outcome, &text) {
            (Ok(tree), Ok(text)) => serde_json::from_str::<serde_json::Value>(text).is_ok_and(|t| t.to_string() == tree.to_string()),
            (Err(a), Err(b)) => a.to_json() == b.to_json(),
            _ => false,
        };
        if !same {
            return Err(format!(
                "the result written as text differs from its tree: {:?} against {:?}",
                text.map_err(|e| e.to_json()),
                outcome.map_err(|e| e.to_json())
            ));
        }
    }
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

/// Runs a case twice on one engine: cold (every request planned), then from the plan cache
/// (every request whose plan was kept must be served from it); both runs must give the case's
/// outcome. A write case gets its namespace's data made afresh for the second run (the same
/// tables: the driver's prepared statements stay valid).
fn run(suite: &Suite, index: usize) -> Result<(), String> {
    let case = &suite.cases[index];
    let write = suite.mode == "write";
    let ns = if write { format!("qc_{}_{index}_{}", suite.name, std::process::id()) } else { read_namespace(suite)? };
    let engine = engine_for(suite, &ns)?;
    runtime().block_on(async {
        let mut kept = 0;
        let seed = suite.seed.as_deref().map(corpus::read_file);
        for round in ["cold", "cached"] {
            match (write, round) {
                (true, "cold") => prepare(suite, &ns).await?,
                (true, _) => corpus::reseed(driver(), &ns, seed.as_deref()).await?,
                _ => {}
            }
            let before = engine.cache_stats();
            let result = run_case(&engine, case, !write).await.map_err(|e| format!("{round}: {e}"));
            if write && (round == "cached" || result.is_err()) {
                corpus::drop_namespace(driver(), &ns).await;
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

fn main() {
    let args = Arguments::from_args();
    // Connect before any case runs: cases block on the runtime themselves.
    let _ = driver();
    let suites: Vec<Arc<Suite>> = corpus::load_suites().into_iter().map(Arc::new).collect();
    let known = corpus::known_failures("native");
    let mut trials = Vec::new();
    for suite in &suites {
        for (i, case) in suite.cases.iter().enumerate() {
            let id = corpus::case_id(suite, case);
            let expected_to_fail = known.contains(&id);
            let suite = Arc::clone(suite);
            trials.push(Trial::test(id, move || match (run(&suite, i), expected_to_fail) {
                (Ok(()), false) => Ok(()),
                (Err(e), false) => Err(Failed::from(e)),
                (Err(_), true) => Ok(()),
                (Ok(()), true) => Err(Failed::from("listed in known-failures/native.txt but passes: remove it from the list")),
            }));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let created = shared().created.lock().map(|c| c.clone()).unwrap_or_default();
    if !created.is_empty() {
        runtime().block_on(async {
            for ns in created {
                corpus::drop_namespace(driver(), &ns).await;
            }
        });
    }
    conclusion.exit();
}
