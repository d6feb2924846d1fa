//! Compile time: request JSON text -> validated, planned, tenant-scoped statements rendered to SQL
//! and parameters. No database. Run with `cargo bench -p quarry-benches --bench compile`.

use criterion::{Criterion, criterion_group, criterion_main};
use quarry_engine::exec::Dialect;
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use std::hint::black_box;

fn compile(c: &mut Criterion) {
    let engine = Engine::new(quarry_benches::SCHEMA, EngineOptions::default()).expect("schema");
    let ctx = TenantContext::Tenant(Value::Int(1));
    let mut group = c.benchmark_group("compile");
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
}

criterion_group!(benches, compile);
criterion_main!(benches);
