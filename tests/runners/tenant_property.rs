//! Property test of tenant isolation: generated requests run under tenant A over data of tenants
//! A and B and shared rows, against the real PostgreSQL in `DATABASE_URL` and the real MariaDB /
//! MySQL in `MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`; the same schema with its
//! provider switched, in a database of its own made from the engine's MySQL DDL, the seed
//! translated; requests through the test-only `mysql_async` driver that gives the cells the
//! JavaScript MySQL adapters give). The generator, the oracle and the harness are the same for
//! both; only the SQL that fingerprints B's rows and counts links is written per dialect.
//!
//! A run is a sequence of sessions; a session is one to four generated requests (reads and
//! writes, see `tenant_property/generate.rs`) run one after the other in one transaction that is
//! rolled back at the end, so every session starts from the same seeded schema and writes
//! compound within a session. Each request runs in a savepoint and is checked by the oracle
//! (`tenant_property/oracle.rs`): nothing of B in what comes back (rows at any depth, text, error
//! messages), reads equal to the unscoped read with the tenant filter written by hand (counts and
//! aggregates included), after every write B's rows and the shared rows byte-identical to the
//! seed and no link from one tenant's row to another's, and an update or delete of one of B's rows
//! answered exactly like the same write on a row that does not exist.
//!
//! On MySQL a request the engine turns away as not built there yet (`Q2010`) is counted as
//! refused, not failed, and the run's report lists how many and why; on PostgreSQL it fails.
//!
//! `QUARRY_PROPTEST_CASES` sets the number of requests of each run (default 2,000 on
//! PostgreSQL, 1,500 on MySQL); `QUARRY_PROPTEST_SEED` the run's seed (decimal or 0x-hex). A
//! failure prints the seed of its session and the command that replays it alone
//! (`QUARRY_PROPTEST_SEED=<seed> QUARRY_PROPTEST_CASES=1`, the test's name), the session's
//! requests, what leaked, and the failing request shrunk to what still fails the same way.
//!
//! The generator is hand-rolled over a SplitMix64 stream rather than built on the `proptest`
//! crate: requests are derived from the schema and the seeded rows (which ids exist, whose they
//! are, which values collide), which is direct code here and a tower of dependent strategies
//! there; and since a failure is about a JSON document, shrinking removes keys and list items from
//! that document (and earlier requests from its session) until it stops failing, which gives
//! small reproductions without `proptest`'s value trees.

#[path = "support/mysql_driver.rs"]
mod mysql_driver;
#[path = "support/mysql_seed.rs"]
#[allow(dead_code)]
mod mysql_seed;
#[path = "tenant_property/generate.rs"]
mod generate;
#[path = "tenant_property/oracle.rs"]
mod oracle;
#[path = "tenant_property/rng.rs"]
mod rng;
#[path = "tenant_property/world.rs"]
mod world;

use quarry_conformance as corpus;
use quarry_engine::exec::{DbValue, Dialect, Driver, DriverError, Queryable, Transaction};
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::time::Instant;
use world::{A, World};

const DEFAULT_REQUESTS: usize = 2000;
/// MySQL's writes take more round trips (no RETURNING), so a request takes about twice as long
/// there; 1,500 keep the run near a minute on a busy two-core machine.
const DEFAULT_REQUESTS_MYSQL: usize = 1500;
const DEFAULT_SEED: u64 = 0x7E4A_47C0_FFEE_2025;
/// Session runs spent shrinking one failure.
const SHRINK_BUDGET: usize = 400;

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")))
}

/// The seed of session `i` of a run: the run seed itself for the first one, so a printed session
/// seed replays as a run of one session.
fn session_seed(run_seed: u64, i: u64) -> u64 {
    if i == 0 { run_seed } else { rng::mix(run_seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))) }
}

#[derive(Clone, Debug)]
struct Failure {
    kind: &'static str,
    detail: String,
}

fn fail(kind: &'static str, detail: impl Into<String>) -> Failure {
    Failure { kind, detail: detail.into() }
}

struct Ctx {
    engine: Engine,
    world: World,
    tenant: TenantContext,
    fingerprint_sql: String,
    links_sql: String,
    baseline: Vec<(String, String)>,
    /// The test's name, for the replay command a failure prints.
    test: &'static str,
}

impl Ctx {
    fn dialect(&self) -> Dialect {
        self.world.dialect
    }
}

#[derive(Default)]
struct Stats {
    requests: usize,
    sessions: usize,
    by_action: BTreeMap<String, usize>,
    by_outcome: BTreeMap<String, usize>,
    compared: usize,
    blind: usize,
    /// Requests turned away as not built on MySQL yet (`Q2010`), by message.
    refused: BTreeMap<String, usize>,
}

fn outcome_key(outcome: &Result<Json, quarry_engine::Error>) -> String {
    match outcome {
        Ok(_) => "ok".into(),
        Err(e) => e.code().to_owned(),
    }
}

async fn fingerprint<Q: Queryable>(q: &Q, sql: &str) -> Result<Vec<(String, String)>, DriverError> {
    let rs = q.query(sql, &[]).await?;
    Ok(rs
        .rows
        .iter()
        .map(|r| {
            let text = |v: &DbValue| match v {
                DbValue::Text(s) => s.clone(),
                DbValue::Int(i) => i.to_string(),
                other => format!("{other:?}"),
            };
            (text(&r[0]), format!("{} rows, md5 {}", text(&r[1]), text(&r[2])))
        })
        .collect())
}

async fn cross_links<Q: Queryable>(q: &Q, sql: &str) -> Result<i64, DriverError> {
    let rs = q.query(sql, &[]).await?;
    Ok(match rs.rows.first().and_then(|r| r.first()) {
        Some(DbValue::Int(n)) => *n,
        Some(DbValue::Text(s)) => s.parse().unwrap_or(-1),
        _ => -1,
    })
}

fn aborted(e: &DriverError) -> bool {
    matches!(e, DriverError::Database { sqlstate, .. } if sqlstate == "25P02")
}

const READS: &[&str] = &["findMany", "findFirst", "findFirstOrThrow", "findUnique", "findUniqueOrThrow", "count", "aggregate", "groupBy"];
/// Errors a valid write may end with under A: unique and foreign key violations, a required
/// relation, a row that is not there or is B's (P2025; P2017 for a to-many child of a nested
/// delete), a tenant named in data, a shared row written.
const WRITE_ERRORS: &[&str] = &["P2002", "P2003", "P2011", "P2014", "P2017", "P2020", "P2025", "Q3002", "Q3003"];

/// Runs one request in a savepoint of `tx` and checks it.
async fn check_request<T: Queryable>(ctx: &Ctx, tx: &T, request: &Json, stats: &mut Stats) -> Result<(), Failure> {
    let w = &ctx.world;
    let model = request["model"].as_str().unwrap_or_default();
    let action = request["action"].as_str().unwrap_or_default();
    let read = READS.contains(&action);
    tx.execute("SAVEPOINT q", &[]).await.map_err(|e| fail("harness", format!("savepoint: {e:?}")))?;

    // The count of A's rows an updateMany / deleteMany must report, by a hand-scoped count.
    let expected_count = if matches!(action, "updateMany" | "deleteMany" | "updateManyAndReturn") {
        let filter = request["args"].get("where").map(|x| oracle::hand_where(w, model, x));
        let filter = match (oracle::writable(w, model), filter) {
            (Some(v), Some(f)) => Some(json!({"AND": [v, f]})),
            (v, f) => v.or(f),
        };
        let count = json!({"model": model, "action": "count", "args": filter.map_or_else(|| json!({}), |f| json!({"where": f}))});
        let n = ctx
            .engine
            .request_in(tx, ctx.dialect(), &count, &TenantContext::Unscoped)
            .await
            .map_err(|e| fail("harness", format!("hand-scoped count failed: {e:?}\n{count}")))?;
        let n = n.as_i64().unwrap_or(-1);
        let limit = request["args"].get("limit").and_then(Json::as_i64);
        Some(limit.map_or(n, |l| n.min(l)))
    } else {
        None
    };

    // The same update / delete with B's row replaced by a missing one, to compare answers with.
    let blind = match (action, request["args"].get("where")) {
        ("update" | "delete", Some(wh)) => oracle::blind_where(w, model, wh).map(|b| {
            let mut r = request.clone();
            r["args"]["where"] = b;
            r
        }),
        _ => None,
    };
    let blind_outcome = match &blind {
        Some(b) => {
            stats.blind += 1;
            tx.execute("SAVEPOINT blind", &[]).await.map_err(|e| fail("harness", format!("savepoint: {e:?}")))?;
            let o = ctx.engine.request_in(tx, ctx.dialect(), b, &ctx.tenant).await;
            tx.execute("ROLLBACK TO SAVEPOINT blind", &[]).await.map_err(|e| fail("harness", format!("{e:?}")))?;
            Some(o)
        }
        None => None,
    };

    let outcome = ctx.engine.request_in(tx, ctx.dialect(), request, &ctx.tenant).await;
    *stats.by_outcome.entry(format!("{action} {}", outcome_key(&outcome))).or_default() += 1;
    // A request the MySQL engine does not build yet is refused, not failed.
    let refused = match &outcome {
        Err(e) if ctx.dialect() == Dialect::Mysql && e.code() == "Q2010" => {
            *stats.refused.entry(e.message().to_owned()).or_default() += 1;
            true
        }
        _ => false,
    };

    let mut problems: Vec<Failure> = Vec::new();
    match &outcome {
        Ok(v) => {
            let mut rows = Vec::new();
            match action {
                "count" => {}
                "aggregate" | "groupBy" => oracle::foreign_in_aggregate(w, model, v, "result", &mut rows),
                _ => oracle::foreign_rows(w, model, v, "result", &mut rows),
            }
            if !rows.is_empty() {
                problems.push(fail("row of another tenant returned", rows.join("\n")));
            }
            let mut text = Vec::new();
            oracle::markers(v, "result", &mut text);
            if !text.is_empty() {
                problems.push(fail("text of another tenant returned", text.join("\n")));
            }
        }
        Err(e) => {
            let mut text = Vec::new();
            oracle::markers(&e.to_json(), "error", &mut text);
            if !text.is_empty() {
                problems.push(fail("text of another tenant in an error", text.join("\n")));
            }
            let code = e.code();
            if refused {
                // Not built on MySQL yet: counted above, and the text checks still applied.
            } else if code == "Q9001" {
                problems.push(fail("internal error", format!("{e:?}")));
            } else if code.starts_with("Q2") {
                problems.push(fail("request refused as invalid", format!("{e:?}")));
            } else if read && !(code == "P2025" && action.ends_with("OrThrow")) {
                problems.push(fail("read failed", format!("{e:?}")));
            } else if !read && !WRITE_ERRORS.contains(&code) {
                problems.push(fail("write failed unexpectedly", format!("{e:?}")));
            }
        }
    }

    if let (Some(b), Some(blind)) = (&blind_outcome, &blind) {
        let answer = |o: &Result<Json, quarry_engine::Error>| o.as_ref().map(|_| ()).map_err(|e| (e.code(), e.message().to_owned()));
        if answer(b) != answer(&outcome) {
            problems.push(fail(
                "another tenant's row answered unlike a missing one",
                format!("with B's row: {:?}
with a missing row: {:?}
that request: {blind}", answer(&outcome), answer(b)),
            ));
        }
    }

    if read {
        if problems.is_empty() && !refused {
            if let Some(hand) = oracle::hand_request(w, request) {
                stats.compared += 1;
                let expected = ctx.engine.request_in(tx, ctx.dialect(), &hand, &TenantContext::Unscoped).await;
                let same = match (&outcome, &expected) {
                    (Ok(a), Ok(b)) => oracle::same_result(a, b, oracle::ordered(request)),
                    (Err(a), Err(b)) => a.code() == b.code(),
                    _ => false,
                };
                if !same {
                    let show = |r: &Result<Json, quarry_engine::Error>| match r {
                        Ok(v) => v.to_string(),
                        Err(e) => format!("error {e:?}"),
                    };
                    problems.push(fail(
                        "differs from the hand-scoped read",
                        format!("scoped:      {}\nhand-scoped: {}\nhand-scoped request: {hand}", show(&outcome), show(&expected)),
                    ));
                }
            }
        }
    } else {
        // B's rows and the shared rows, as the write left them (even a failed one: an interactive
        // transaction could still commit what ran before the error).
        let mut prints = fingerprint(tx, &ctx.fingerprint_sql).await;
        if matches!(&prints, Err(e) if aborted(e)) {
            tx.execute("ROLLBACK TO SAVEPOINT q", &[]).await.map_err(|e| fail("harness", format!("{e:?}")))?;
            prints = fingerprint(tx, &ctx.fingerprint_sql).await;
        }
        let prints = prints.map_err(|e| fail("harness", format!("fingerprint: {e:?}")))?;
        let changed: Vec<String> = ctx
            .baseline
            .iter()
            .zip(&prints)
            .filter(|(a, b)| a != b)
            .map(|((t, before), (_, after))| format!("{t}: before {before}, after {after}"))
            .collect();
        if !changed.is_empty() {
            problems.push(fail("rows of another tenant or shared rows changed", changed.join("\n")));
        }
        let links = cross_links(tx, &ctx.links_sql).await.map_err(|e| fail("harness", format!("links: {e:?}")))?;
        if links != 0 {
            problems.push(fail("link across tenants", format!("{links} link(s) from a row of one tenant to a row of another")));
        }
        if let (Some(expected), Ok(v)) = (expected_count, &outcome) {
            let got = v.get("count").and_then(Json::as_i64).or_else(|| v.as_array().map(|a| a.len() as i64));
            if got != Some(expected) {
                problems.push(fail("wrong count", format!("reported {got:?}, A has {expected} matching row(s)")));
            }
        }
    }

    let end = if outcome.is_err() { "ROLLBACK TO SAVEPOINT q" } else { "RELEASE SAVEPOINT q" };
    if let Err(e) = tx.execute(end, &[]).await {
        // A failed statement leaves the transaction aborted until the savepoint is rolled back.
        if !(outcome.is_ok() && aborted(&e)) {
            return Err(fail("harness", format!("{end}: {e:?}")));
        }
        tx.execute("ROLLBACK TO SAVEPOINT q", &[]).await.map_err(|e| fail("harness", format!("{e:?}")))?;
    }
    match problems.into_iter().next() {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

/// Runs a session in a transaction that is rolled back; the first failure and its index.
async fn run_session<D: Driver>(ctx: &Ctx, driver: &D, requests: &[Json], stats: &mut Stats) -> Result<(), (usize, Failure)> {
    let tx = driver.begin(None).await.map_err(|e| (0, fail("harness", format!("begin: {e:?}"))))?;
    let mut result = Ok(());
    for (i, r) in requests.iter().enumerate() {
        stats.requests += 1;
        *stats.by_action.entry(r["action"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        if let Err(f) = check_request(ctx, &tx, r, stats).await {
            result = Err((i, f));
            break;
        }
    }
    let _ = tx.rollback().await;
    result
}

/// Every document one removal (an object key or a list item, at any depth) smaller than `v`;
/// the request's own `model`, `action` and `args` stay.
fn removals(v: &Json) -> Vec<Json> {
    smaller(v, true)
}

fn smaller(v: &Json, top: bool) -> Vec<Json> {
    let mut out = Vec::new();
    match v {
        Json::Object(o) => {
            for (k, x) in o {
                if !top {
                    let mut c = o.clone();
                    c.shift_remove(k);
                    out.push(Json::Object(c));
                }
                for sx in smaller(x, false) {
                    let mut c = o.clone();
                    c.insert(k.clone(), sx);
                    out.push(Json::Object(c));
                }
            }
        }
        Json::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let mut c = items.clone();
                c.remove(i);
                out.push(Json::Array(c));
                for sx in smaller(x, false) {
                    let mut c = items.clone();
                    c[i] = sx;
                    out.push(Json::Array(c));
                }
            }
        }
        _ => {}
    }
    out
}

/// Shrinks a failing session: drops earlier requests, then removes parts of the failing request,
/// keeping each change that still fails the same way.
async fn shrink<D: Driver>(ctx: &Ctx, driver: &D, session: &[Json], index: usize, kind: &'static str) -> (Vec<Json>, Failure) {
    let mut current: Vec<Json> = session[..=index].to_vec();
    let mut last_failure = fail(kind, "");
    let mut budget = SHRINK_BUDGET;
    let mut scratch = Stats::default();
    let still_fails = |result: Result<(), (usize, Failure)>, len: usize| match result {
        Err((i, f)) if i + 1 == len && f.kind == kind => Some(f),
        _ => None,
    };
    // Earlier requests of the session.
    let mut i = 0;
    while i + 1 < current.len() && budget > 0 {
        let mut candidate = current.clone();
        candidate.remove(i);
        budget -= 1;
        let r = run_session(ctx, driver, &candidate, &mut scratch).await;
        match still_fails(r, candidate.len()) {
            Some(f) => {
                current = candidate;
                last_failure = f;
            }
            None => i += 1,
        }
    }
    // Parts of the failing request.
    let mut progress = true;
    while progress && budget > 0 {
        progress = false;
        let last = current.len() - 1;
        for candidate in removals(&current[last]) {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let mut trial = current.clone();
            trial[last] = candidate;
            let r = run_session(ctx, driver, &trial, &mut scratch).await;
            if let Some(f) = still_fails(r, trial.len()) {
                current = trial;
                last_failure = f;
                progress = true;
                break;
            }
        }
    }
    (current, last_failure)
}

fn settings(default_requests: usize) -> (usize, u64) {
    let requests = env_number("QUARRY_PROPTEST_CASES").map_or(default_requests, |n| n as usize);
    (requests, env_number("QUARRY_PROPTEST_SEED").unwrap_or(DEFAULT_SEED))
}

async fn run_postgres(test: &'static str) -> Result<String, String> {
    let (requests_wanted, run_seed) = settings(DEFAULT_REQUESTS);
    let url = format!("{}{}connection_limit=2", corpus::database_url(), if corpus::database_url().contains('?') { "&" } else { "?" });
    let driver = PgDriver::connect(&url).await.map_err(|e| format!("cannot connect to PostgreSQL at {}: {e:?}", corpus::database_url()))?;
    let ns = format!("qp_tenants_{}", std::process::id());
    let schema = corpus::read_file("corpus/schemas/tenants.prisma");
    let engine = Engine::new(&schema, EngineOptions { namespace: Some(ns.clone()), ..Default::default() }).map_err(|e| format!("schema: {e:?}"))?;
    corpus::prepare(&driver, &engine, &ns, Some(&corpus::read_file("corpus/seeds/tenants.sql"))).await?;
    let result = run_in(&driver, engine, &ns, test, requests_wanted, run_seed).await;
    corpus::drop_namespace(&driver, &ns).await;
    result
}

/// The same schema on MySQL: its provider switched, its tables in a database of this run's own
/// (DDL commits on MySQL, so the tables are made once, outside the sessions' transactions).
async fn run_mysql(test: &'static str) -> Result<String, String> {
    let (requests_wanted, run_seed) = settings(DEFAULT_REQUESTS_MYSQL);
    let url = mysql_seed::url();
    let driver = mysql_driver::MyDriver::new(&url).map_err(|e| format!("bad MYSQL_URL {url}: {e}"))?;
    let mut conn = driver.conn().await.map_err(|e| format!("cannot connect to MySQL at {url}: {e:?}"))?;
    let db = format!("qp_tenants_{}", std::process::id());
    let schema = corpus::read_file("corpus/schemas/tenants.prisma").replace("provider = \"postgresql\"", "provider = \"mysql\"");
    let engine = Engine::new(&schema, EngineOptions { namespace: Some(db.clone()), ..Default::default() }).map_err(|e| format!("schema: {e:?}"))?;
    let seed = corpus::read_file("corpus/seeds/tenants.sql");
    let result = match mysql_seed::create_database(&mut conn, engine.schema(), &db, Some(&seed)).await {
        Ok(()) => run_in(&driver, engine, &db, test, requests_wanted, run_seed).await,
        Err(e) => Err(e),
    };
    mysql_seed::drop_database(&mut conn, &db).await;
    result
}

async fn run_in<D: Driver>(driver: &D, engine: Engine, ns: &str, test: &'static str, requests_wanted: usize, run_seed: u64) -> Result<String, String> {
    let world = World::load(&engine, driver, driver.dialect(), ns).await?;
    let fingerprint_sql = world.fingerprint_sql();
    let links_sql = world.cross_links_sql();
    let baseline = fingerprint(driver, &fingerprint_sql).await.map_err(|e| format!("fingerprint: {e:?}\n{fingerprint_sql}"))?;
    if baseline.iter().any(|(_, p)| p.starts_with("0 rows")) {
        return Err(format!("the seed gives tenant B (or the shared rows) no rows in some table: {baseline:?}"));
    }
    let links = cross_links(driver, &links_sql).await.map_err(|e| format!("links: {e:?}\n{links_sql}"))?;
    if links != 0 {
        return Err(format!("the seed has {links} link(s) across tenants"));
    }
    let tenant = TenantContext::Tenant(Value::String(A.into()));
    let ctx = Ctx { engine, world, tenant, fingerprint_sql, links_sql, baseline, test };

    let started = Instant::now();
    let mut stats = Stats::default();
    let mut i = 0u64;
    while stats.requests < requests_wanted {
        let seed = session_seed(run_seed, i);
        let session = generate::Gen::new(&ctx.world, seed).session();
        stats.sessions += 1;
        if let Err((index, failure)) = run_session(&ctx, driver, &session, &mut stats).await {
            let (small, small_failure) = shrink(&ctx, driver, &session, index, failure.kind).await;
            let pretty = |r: &Json| serde_json::to_string(r).unwrap_or_default();
            let listing: Vec<String> = session.iter().enumerate().map(|(k, r)| format!("  [{k}] {}", pretty(r))).collect();
            let small_listing: Vec<String> = small.iter().enumerate().map(|(k, r)| format!("  [{k}] {}", pretty(r))).collect();
            return Err(format!(
                "tenant isolation property failed: {kind}\n\
                 session seed {seed:#x} (replay: QUARRY_PROPTEST_SEED={seed:#x} QUARRY_PROPTEST_CASES=1 cargo test -p quarry-conformance --test tenant_property -- --exact {test}), request [{index}] under tenant {A}\n\
                 session:\n{}\n\
                 {}\n\
                 shrunk to (the last request fails):\n{}\n{}",
                listing.join("\n"),
                failure.detail,
                small_listing.join("\n"),
                small_failure.detail,
                kind = failure.kind,
                test = ctx.test,
            ));
        }
        i += 1;
    }
    let elapsed = started.elapsed();
    let mut report = format!(
        "{} generated requests in {} sessions (run seed {run_seed:#x}) in {:.1} s; {} reads compared with a hand-scoped read, \
         {} writes on another tenant's row compared with the same write on a missing row\n",
        stats.requests,
        stats.sessions,
        elapsed.as_secs_f64(),
        stats.compared,
        stats.blind,
    );
    for (action, n) in &stats.by_action {
        report.push_str(&format!("  {action:<22} {n}\n"));
    }
    report.push_str("outcomes:\n");
    for (k, n) in &stats.by_outcome {
        report.push_str(&format!("  {k:<32} {n}\n"));
    }
    if !stats.refused.is_empty() {
        let total: usize = stats.refused.values().sum();
        report.push_str(&format!("refused as not built on MySQL yet (Q2010): {total}\n"));
        for (message, n) in &stats.refused {
            report.push_str(&format!("  {n:>5}  {message}\n"));
        }
    }
    Ok(report)
}

fn run_test<F: std::future::Future<Output = Result<String, String>>>(run: F) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(run) {
        Ok(report) => eprintln!("{report}"),
        Err(message) => panic!("{message}"),
    }
}

#[test]
fn generated_requests_under_one_tenant_never_reach_another() {
    run_test(run_postgres("generated_requests_under_one_tenant_never_reach_another"));
}

#[test]
fn generated_requests_under_one_tenant_never_reach_another_on_mysql() {
    run_test(run_mysql("generated_requests_under_one_tenant_never_reach_another_on_mysql"));
}
