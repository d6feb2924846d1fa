//! Compile time: request JSON text -> validated, planned, tenant-scoped statements rendered to SQL
//! and parameters. No database. Each request twice: `cold` on an engine without the plan cache
//! (every stage runs), `cached` on one with it (a shape seen before: the values are bound into the
//! kept plan). Run with `cargo bench -p quarry-benches --bench compile`.

use criterion::{Criterion, criterion_group, criterion_main};
use quarry_engine::exec::Dialect;
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use std::hint::black_box;

fn compile(c: &mut Criterion) {
    let engine = |cache| Engine::new(quarry_benches::SCHEMA, EngineOptions { plan_cache: Some(cache), ..Default::default() }).expect("schema");
    let ctx = TenantContext::Tenant(Value::Int(1));
    for (group_name, engine) in [("compile_cold", engine(0)), ("compile_cached", engine(512))] {
        let mut group = c.benchmark_group(group_name);
        for (name, doc) in quarry_benches::compile_cases() {
            let text = doc.to_string();
            // Fail loudly if a case does not compile rather than timing an error path.
            engine.compile(&doc, &ctx, Dialect::Postgres).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            group.bench_function(name, |b| {
                b.iter(|| {
                    let doc: serde_json::Value = serde_json::from_str(black_box(&text)).expect("json");
                    black_box(engine.compile(&doc, &ctx, Dialect::Postgres).expect("compiles"))
                })
            });
        }
        group.finish();
        if group_name == "compile_cached" {
            let stats = engine.cache_stats();
            assert!(stats.hits > stats.misses, "the cached runs did not come from the cache: {stats:?}");
        }
    }
}

criterion_group!(benches, compile);
criterion_main!(benches);
