//! What row-level security mode costs per request: the same request on the same data through the
//! engine and the native driver, in the default mode (the tenant predicate inside the one
//! statement, no transaction) and in RLS mode (a transaction that first sets the tenant, and the
//! database evaluating the policies). Workload: the benchmark schema and seed, scenarios a-f under
//! tenant 1, in a PostgreSQL schema of its own with the engine's RLS statements applied.
//!
//! - `default`: `rls: false`, connected as a role with BYPASSRLS (no policy is evaluated — the
//!   same work as a database without RLS);
//! - `rls`: `rls: true`, connected as a role that is subject to the policies (what production
//!   RLS mode is);
//! - `rls_wrap_only`: `rls: true` as the BYPASSRLS role: the extra transaction and setting
//!   without the policies, to tell the two costs apart.
//!
//! Both roles run with `synchronous_commit = off`: every variant flushes the same one commit per
//! write request, and on a shared disk that flush is noisy enough to hide the difference.
//!
//! Requests run one at a time; the three variants of a scenario take turns in rounds so that they
//! see the same load, and the table printed at the end gives each one's median and p99 latency
//! per request and RLS mode's extra cost (median minus median). The schema and the three roles it
//! creates (names carry the process id) are dropped at the end. Run with
//! `cargo bench -p quarry-benches --bench rls` (needs the PostgreSQL in `DATABASE_URL`, whose role
//! must be able to create roles).

use quarry_benches::{SCENARIOS, TENANT, scenario};
use quarry_engine::exec::{Driver, Queryable, Transaction};
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `DATABASE_URL` as `user` (`None`: as given), without TLS like the other end-to-end bench.
fn url(user: Option<&str>, namespace: &str) -> String {
    let base = quarry_benches::database_url();
    let base = match user {
        None => base,
        Some(user) => {
            let (scheme, rest) = base.split_once("://").expect("DATABASE_URL is a postgres:// URL");
            let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
            let host = rest[..authority_end].rfind('@').map_or(rest, |at| &rest[at + 1..]);
            format!("{scheme}://{user}@{host}")
        }
    };
    format!("{base}{}schema={namespace}&sslmode=disable", if base.contains('?') { '&' } else { '?' })
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct Names {
    namespace: String,
    owner: String,
    app: String,
    bypass: String,
}

/// The schema, owned by a non-superuser role: tables, seed, then row-level security; the
/// application role gets plain table privileges.
async fn prepare(admin: &PgDriver, engine: &Engine, names: &Names) {
    let (ns, owner, app, bypass) = (quoted(&names.namespace), quoted(&names.owner), quoted(&names.app), quoted(&names.bypass));
    for sql in [
        format!("CREATE ROLE {owner} NOLOGIN NOSUPERUSER NOBYPASSRLS"),
        format!("CREATE ROLE {app} LOGIN NOSUPERUSER NOBYPASSRLS"),
        format!("CREATE ROLE {bypass} LOGIN NOSUPERUSER BYPASSRLS"),
        format!("ALTER ROLE {app} SET synchronous_commit = off"),
        format!("ALTER ROLE {bypass} SET synchronous_commit = off"),
        format!("CREATE SCHEMA {ns} AUTHORIZATION {owner}"),
    ] {
        admin.execute(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
    let mut statements = vec![format!("SET LOCAL ROLE {owner}"), format!("SET LOCAL search_path TO {ns}")];
    // The workload's seed links comments to other tenants' users: no tenant-matching keys.
    let ddl = quarry_engine::ddl::DdlOptions { tenant_keys: false };
    statements.extend(quarry_engine::ddl::create_statements_with(engine.schema(), Some(&names.namespace), &ddl));
    statements.extend(quarry_benches::seed_statements());
    // The workload's seed gives most comments an author from another tenant, which the composite
    // (tenantId, authorId) key refuses; give each comment the user of its own tenant with the
    // nearest id (users are dealt out to tenants in turn: tenant t owns ids t, t + 10, ...).
    statements.push(r#"UPDATE "Comment" SET "authorId" = (("authorId" - 1) / 10) * 10 + "tenantId""#.to_owned());
    statements.push("ANALYZE".to_owned());
    statements.extend(quarry_engine::ddl::rls_statements(engine.schema(), Some(&names.namespace)));
    for role in [&app, &bypass] {
        statements.push(format!("GRANT USAGE ON SCHEMA {ns} TO {role}"));
        statements.push(format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {ns} TO {role}"));
        statements.push(format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {ns} TO {role}"));
    }
    let tx = admin.begin(None).await.expect("begin");
    for sql in &statements {
        tx.execute(sql, &[]).await.unwrap_or_else(|e| panic!("{e:?}\n{sql}"));
    }
    tx.commit().await.expect("commit");
}

async fn cleanup(admin: &PgDriver, names: &Names) {
    for sql in [
        format!("DROP SCHEMA IF EXISTS {} CASCADE", quoted(&names.namespace)),
        format!("DROP ROLE IF EXISTS {}", quoted(&names.app)),
        format!("DROP ROLE IF EXISTS {}", quoted(&names.bypass)),
        format!("DROP ROLE IF EXISTS {}", quoted(&names.owner)),
    ] {
        if let Err(e) = admin.execute(&sql, &[]).await {
            eprintln!("cleanup: {sql}: {e:?}");
        }
    }
}

/// One variant of a scenario: its name, engine and driver, and the latency of every request.
struct Variant<'a> {
    name: &'static str,
    engine: &'a Engine,
    driver: &'a PgDriver,
    micros: Vec<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn bench(rt: &tokio::runtime::Runtime, names: &Names, smoke: bool) {
    let (warm_up, rounds, round_time) = if smoke { (1, 1, Duration::ZERO) } else { (20, ROUNDS, ROUND_TIME) };
    let engine = |rls: bool| {
        Engine::new(quarry_benches::SCHEMA, EngineOptions { namespace: Some(names.namespace.clone()), rls, ..Default::default() }).expect("schema")
    };
    let (default, rls) = (engine(false), engine(true));
    let app = rt.block_on(PgDriver::connect(&url(Some(&names.app), &names.namespace))).expect("connect as the application role");
    let warnings = rt.block_on(rls.rls_warnings(&app)).expect("role check");
    assert!(warnings.is_empty(), "the application role must be subject to RLS: {warnings:?}");
    let bypass = rt.block_on(PgDriver::connect(&url(Some(&names.bypass), &names.namespace))).expect("connect as the BYPASSRLS role");
    let warnings = rt.block_on(rls.rls_warnings(&bypass)).expect("role check");
    assert!(warnings.iter().any(|w| w.code == "W3002"), "the default variant must bypass RLS: {warnings:?}");
    let ctx = TenantContext::Tenant(Value::Int(TENANT));
    let run = std::process::id().to_string();
    let counter = AtomicUsize::new(0);
    let request = |v: &Variant<'_>, name: &str| {
        let i = counter.fetch_add(1, Ordering::Relaxed);
        let doc = scenario(name, i, &format!("{run}-{}", v.name));
        let started = Instant::now();
        black_box(rt.block_on(v.engine.request(v.driver, &doc, &ctx)).expect("request"));
        started.elapsed().as_secs_f64() * 1e6
    };

    println!("| scenario | default p50 µs | RLS mode p50 µs | extra per request µs | RLS wrap only p50 µs | default p99 | RLS p99 |");
    println!("|---|---|---|---|---|---|---|");
    // Reads first, so they all run on the seeded data whatever the writes add; then the nested
    // create before the thousands of single creates (whose autovacuum would land on it).
    let order = ["a_findUnique", "b_findMany20", "c_include", "f_aggregate", "e_nestedCreate", "d_create"];
    assert!(SCENARIOS.iter().all(|s| order.contains(s)), "a scenario is missing from the order");
    for name in order {
        let mut variants = [
            Variant { name: "default", engine: &default, driver: &bypass, micros: Vec::new() },
            Variant { name: "rls", engine: &rls, driver: &app, micros: Vec::new() },
            Variant { name: "rls_wrap_only", engine: &rls, driver: &bypass, micros: Vec::new() },
        ];
        // Same request, same answer, whichever the mode (reads with a defined order, groups sorted).
        if matches!(name, "a_findUnique" | "b_findMany20" | "f_aggregate") {
            let answers: Vec<Vec<String>> = variants
                .iter()
                .map(|v| {
                    let result = rt.block_on(v.engine.request(v.driver, &scenario(name, 0, &run), &ctx)).expect("request");
                    let mut rows: Vec<String> = result.as_array().map_or_else(|| vec![result.to_string()], |a| a.iter().map(|r| r.to_string()).collect());
                    rows.sort();
                    rows
                })
                .collect();
            assert!(!answers[0].is_empty() && answers.windows(2).all(|w| w[0] == w[1]), "{name}: the modes disagree");
        }
        // Warm up, then interleave the variants round by round so they share the machine's
        // weather (load on a shared machine drifts by tens of percent within a minute).
        for v in &variants {
            for _ in 0..warm_up {
                request(v, name);
            }
        }
        for _ in 0..rounds {
            for v in &mut variants {
                let round = Instant::now();
                let mut n = 0;
                while n < 3 || round.elapsed() < round_time {
                    let t = request(v, name);
                    v.micros.push(t);
                    n += 1;
                }
            }
        }
        for v in &mut variants {
            v.micros.sort_by(f64::total_cmp);
        }
        let p50 = |v: &Variant<'_>| percentile(&v.micros, 0.5);
        let p99 = |v: &Variant<'_>| percentile(&v.micros, 0.99);
        let [d, r, w] = &variants;
        println!(
            "| {name} | {:.0} | {:.0} | {:+.0} | {:.0} | {:.0} | {:.0} |",
            p50(d),
            p50(r),
            p50(r) - p50(d),
            p50(w),
            p99(d),
            p99(r)
        );
    }
    app.close();
    bypass.close();
}

/// Rounds per scenario, and how long each variant runs in a round.
const ROUNDS: usize = 12;
const ROUND_TIME: Duration = Duration::from_millis(150);

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `--test` (`cargo bench -- --test`): every variant once, as a check that the bench works.
    let smoke = std::env::args().any(|a| a == "--test");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let pid = std::process::id();
    let names = Names {
        namespace: format!("quarry_bench_rls_{pid}"),
        owner: format!("quarry_bench_owner_{pid}"),
        app: format!("quarry_bench_app_{pid}"),
        bypass: format!("quarry_bench_bypass_{pid}"),
    };
    let admin = rt.block_on(PgDriver::connect(&url(None, &names.namespace))).expect("connect");
    let engine = Engine::new(quarry_benches::SCHEMA, EngineOptions { namespace: Some(names.namespace.clone()), ..Default::default() }).expect("schema");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(prepare(&admin, &engine, &names));
        bench(&rt, &names, smoke)
    }));
    rt.block_on(cleanup(&admin, &names));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
