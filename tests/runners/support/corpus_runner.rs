//! The corpus loop every native runner shares: one trial per case, read suites prepared once per
//! database and shared by their cases, each write case in a database of its own, every case run
//! cold and then from the plan cache, a known-failure list that fails the run when a listed case
//! passes, and the databases dropped at the end. A [`Backend`] says how to reach its database and
//! how to make, reseed and drop one.

use libtest_mimic::{Arguments, Failed, Trial};
use quarry_conformance::{self as corpus, Case, Suite};
use quarry_engine::exec::Driver;
use quarry_engine::Engine;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The runtime cases block on (and backends connect with).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime"))
}

/// One database server the corpus runs on.
pub trait Backend: Sync + 'static {
    type Driver: Driver;
    /// The backend's name in messages and in `known-failures/<name>.txt`.
    const NAME: &'static str;
    /// How the names of this runner's databases begin.
    const PREFIX: &'static str;
    fn driver(&self) -> &Self::Driver;
    fn engine_for(&self, suite: &Suite, database: &str) -> Result<Engine, String>;
    /// Creates `database` with the suite's tables and seed.
    async fn prepare(&self, suite: &Suite, database: &str) -> Result<(), String>;
    /// Gives `database`'s tables their seed again, nothing else.
    async fn reseed(&self, suite: &Suite, database: &str) -> Result<(), String>;
    async fn drop_database(&self, database: &str);
    /// Whether reads are also run through `Engine::request_text` (the result written as text
    /// straight from the rows, which the Node addon returns) and compared with their tree.
    const TEXT_RESULTS: bool = false;
}

/// A read suite's database, made once: its name or why it could not be made.
type Prepared = Arc<OnceLock<Result<String, String>>>;

/// A prepared, seeded database per read suite, made by the first case that needs it, and every
/// database made, to drop at the end.
#[derive(Default)]
struct Shared {
    databases: Mutex<HashMap<String, Prepared>>,
    created: Mutex<Vec<String>>,
}

struct Runner<B> {
    backend: B,
    shared: Shared,
}

impl<B: Backend> Runner<B> {
    async fn prepare(&self, suite: &Suite, database: &str) -> Result<(), String> {
        self.shared.created.lock().map_err(|e| e.to_string())?.push(database.to_owned());
        self.backend.prepare(suite, database).await
    }

    fn read_database(&self, suite: &Suite) -> Result<String, String> {
        let cell = {
            let mut map = self.shared.databases.lock().map_err(|e| e.to_string())?;
            map.entry(suite.name.clone()).or_default().clone()
        };
        cell.get_or_init(|| {
            let db = format!("{}_{}_{}", B::PREFIX, suite.name, std::process::id());
            runtime().block_on(self.prepare(suite, &db)).map(|()| db)
        })
        .clone()
    }

    async fn run_case(&self, engine: &Engine, case: &Case, read: bool) -> Result<(), String> {
        let driver = self.backend.driver();
        // An invalid tenant id is the case's outcome, like any other error.
        let outcome = match case.context(engine) {
            Ok(ctx) => corpus::run_request(driver, engine, &case.request, &ctx).await,
            Err(e) => Err(e),
        };
        corpus::check(case, &outcome)?;
        // A read again, its result written as text straight from the rows: the same text as the
        // result's tree, key order included, or the same error.
        if let (true, true, false, Ok(ctx)) = (B::TEXT_RESULTS, read, case.request.is_array(), case.context(engine)) {
            let text = engine.request_text(driver, &case.request, &ctx).await;
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
            let got = corpus::run_request(driver, engine, &after.request, &ctx).await.map_err(|e| format!("after[{i}]: {e:?}"))?;
            corpus::compare(&after.result, &got).map_err(|e| format!("after[{i}]: {e}"))?;
        }
        Ok(())
    }

    /// Runs a case twice on one engine: cold (every request planned), then from the plan cache
    /// (every request whose plan was kept must be served from it); both runs must give the case's
    /// outcome. A write case gets its database's data made afresh for the second run (the same
    /// tables: the driver's prepared statements stay valid).
    fn run(&self, suite: &Suite, index: usize) -> Result<(), String> {
        let case = &suite.cases[index];
        let write = suite.mode == "write";
        let db = if write { format!("{}_{}_{index}_{}", B::PREFIX, suite.name, std::process::id()) } else { self.read_database(suite)? };
        let engine = self.backend.engine_for(suite, &db)?;
        runtime().block_on(async {
            let mut kept = 0;
            for round in ["cold", "cached"] {
                match (write, round) {
                    (true, "cold") => self.prepare(suite, &db).await?,
                    (true, _) => self.backend.reseed(suite, &db).await?,
                    _ => {}
                }
                let before = engine.cache_stats();
                let result = self.run_case(&engine, case, !write).await.map_err(|e| format!("{round}: {e}"));
                if write && (round == "cached" || result.is_err()) {
                    self.backend.drop_database(&db).await;
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
}

/// Runs the corpus on `backend` and exits; a case whose id is in `known_failures` must fail.
pub fn main<B: Backend>(backend: B, known_failures: impl Fn(&str) -> bool) {
    let args = Arguments::from_args();
    // Connect before any case runs: cases block on the runtime themselves.
    let _ = backend.driver();
    let runner: &'static Runner<B> = Box::leak(Box::new(Runner { backend, shared: Shared::default() }));
    let suites: Vec<Arc<Suite>> = corpus::load_suites().into_iter().map(Arc::new).collect();
    let mut trials = Vec::new();
    for suite in &suites {
        for (i, case) in suite.cases.iter().enumerate() {
            let id = corpus::case_id(suite, case);
            let expected_to_fail = known_failures(&id);
            let suite = Arc::clone(suite);
            trials.push(Trial::test(id, move || match (runner.run(&suite, i), expected_to_fail) {
                (Ok(()), false) => Ok(()),
                (Err(e), false) => Err(Failed::from(e)),
                (Err(_), true) => Ok(()),
                (Ok(()), true) => Err(Failed::from(format!("listed in known-failures/{}.txt but passes: remove it from the list", B::NAME))),
            }));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let created = runner.shared.created.lock().map(|c| c.clone()).unwrap_or_default();
    runtime().block_on(async {
        for db in created {
            runner.backend.drop_database(&db).await;
        }
    });
    conclusion.exit();
}
