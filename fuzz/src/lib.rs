//! What each fuzz target checks, one function per target. Every input runs on a thread with the
//! WebAssembly engine's 1 MiB stack (libFuzzer's own thread has 8 MiB, where a depth bug would
//! not show), and every outcome must be a result or an error with a stable code: a panic, a stack
//! overflow or an internal error (`Q9001`) is a crash.
//!
//! - [`request`]: an envelope's JSON text through the entry point the bindings use
//!   (`host::parse_envelope`, then `Engine::compile`) on the conformance corpus's schemas.
//! - [`raw_sql`]: raw SQL text through the raw SQL guard (parse, tenant scope, rendering) under a
//!   tenant, without one, and unscoped with a namespace.
//! - [`schema`]: Prisma schema text through the schema parser.
//! - [`values`]: a tagged value of every type (`DateTime`, `Decimal`, `BigInt`, `Bytes`, `Json`,
//!   enums, numbers) in filters, data and raw SQL parameters.

use quarry_engine::exec::Dialect;
use quarry_engine::scope::TenantContext;
use quarry_engine::{Engine, EngineOptions, Error};
use serde_json::{Value as Json, json};
use std::sync::OnceLock;

/// The conformance corpus's schemas the targets run on.
pub const SCHEMAS: [(&str, &str); 4] = [
    ("store", include_str!("../../tests/corpus/schemas/store.prisma")),
    ("tenants", include_str!("../../tests/corpus/schemas/tenants.prisma")),
    ("native_types", include_str!("../../tests/corpus/schemas/native_types.prisma")),
    ("bench", include_str!("../../tests/fixtures/schemas/bench.prisma")),
];

/// The WebAssembly engine's stack.
const STACK: usize = 1024 * 1024;

fn engines() -> &'static [Engine] {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|(name, text)| {
                let options = EngineOptions { namespace: (*name == "tenants").then(|| "app".to_owned()), ..Default::default() };
                Engine::new(text, options).unwrap_or_else(|e| panic!("schema {name}: {e:?}"))
            })
            .collect()
    })
}

/// Runs `f` on a thread with a small stack; a panic there is a panic here.
fn on_small_stack(f: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new().stack_size(STACK).spawn_scoped(s, f).expect("thread");
        if let Err(panic) = handle.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

/// An error must have a stable code, never the internal one, and a short message.
fn check(outcome: Result<Json, Error>) {
    if let Err(e) = outcome {
        assert_ne!(e.code(), "Q9001", "internal error: {e:?}");
        assert!(e.message().len() < 4096, "a message of {} bytes", e.message().len());
    }
}

fn contexts(engine: &Engine) -> Vec<TenantContext> {
    let mut out = vec![TenantContext::Unscoped, TenantContext::Missing];
    if let Ok(t) = TenantContext::from_json(engine.schema(), Some(&json!("tnt_a"))) {
        out.push(t);
    }
    out
}

/// An envelope's text, as a binding receives it, compiled on every schema.
pub fn request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    on_small_stack(|| {
        let envelope = match quarry_engine::host::parse_envelope(text) {
            Ok(env) => env,
            Err(e) => return check(Err(e)),
        };
        let Some(request) = envelope.get("request") else { return };
        for engine in engines() {
            let ctx = match envelope.get("tenant") {
                Some(t) => TenantContext::from_json(engine.schema(), Some(t)),
                None => Ok(TenantContext::Unscoped),
            };
            match ctx {
                Ok(ctx) => match request {
                    Json::Array(items) => items.iter().for_each(|r| check(engine.compile(r, &ctx, Dialect::Postgres))),
                    one => check(engine.compile(one, &ctx, Dialect::Postgres)),
                },
                Err(e) => check(Err(e)),
            }
        }
    });
}

/// Parameters for raw SQL: enough for `$1..$40`, of several types.
fn raw_parameters() -> Vec<Json> {
    (0..40)
        .map(|i| match i % 5 {
            0 => json!(i),
            1 => json!(format!("s{i}")),
            2 => json!({ "$type": "DateTime", "value": "2025-01-01T00:00:00.000Z" }),
            3 => json!({ "$type": "BigInt", "value": i.to_string() }),
            _ => json!(null),
        })
        .collect()
}

/// Raw SQL text under every context, on the multi-tenant schema (with a namespace) and the
/// single-tenant one.
pub fn raw_sql(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    on_small_stack(|| {
        let params = raw_parameters();
        for engine in &engines()[..2] {
            for action in ["queryRaw", "executeRaw"] {
                let doc = json!({ "action": action, "args": { "query": text, "parameters": params } });
                for ctx in contexts(engine) {
                    check(engine.compile(&doc, &ctx, Dialect::Postgres));
                }
            }
        }
    });
}

/// Schema text through the parser and, when it parses, the engine built on it.
pub fn schema(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    on_small_stack(|| {
        match quarry_engine::schema::Schema::parse(text) {
            Ok(_) => check(Engine::new(text, EngineOptions::default()).map(|e| {
                // A schema that parses also describes itself and gives its DDL.
                let _ = quarry_engine::ddl::create_statements(e.schema(), None);
                Json::Null
            })),
            Err(e) => check(Err(e)),
        }
    });
}

/// The tags a value of each type arrives with.
pub const TAGS: [&str; 8] = ["DateTime", "Decimal", "BigInt", "Bytes", "Json", "Float", "String", "Enum"];

/// The first byte picks the tag, the rest is the value's text: as a tagged value and as a plain
/// string in a filter on every scalar field of `Account`, in `data`, and as a raw SQL parameter;
/// and through the value parsers directly.
pub fn values(data: &[u8]) {
    let Some((tag, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let tag = TAGS[*tag as usize % TAGS.len()];
    on_small_stack(|| {
        let _ = quarry_engine::value::parse_datetime(text);
        let _ = quarry_engine::value::canonical_decimal(text);
        let engine = &engines()[0];
        let ctx = TenantContext::Unscoped;
        let tagged = json!({ "$type": tag, "value": text });
        let number: Option<Json> = serde_json::from_str::<serde_json::Number>(text).ok().map(Json::Number);
        let fields = ["id", "email", "role", "balance", "visits", "score", "active", "avatar", "settings", "tags", "createdAt"];
        for value in [Some(tagged.clone()), Some(json!(text)), number].into_iter().flatten() {
            for field in fields {
                let doc = json!({ "model": "Account", "action": "findMany", "args": { "where": { field: value } } });
                check(engine.compile(&doc, &ctx, Dialect::Postgres));
                let doc = json!({ "model": "Account", "action": "findMany", "args": { "where": { field: { "in": [value] } } } });
                check(engine.compile(&doc, &ctx, Dialect::Postgres));
                let doc = json!({ "model": "Account", "action": "create", "args": { "data": { "email": "e", field: value } } });
                check(engine.compile(&doc, &ctx, Dialect::Postgres));
            }
            let doc = json!({ "action": "queryRaw", "args": { "query": "SELECT $1", "parameters": [value] } });
            check(engine.compile(&doc, &ctx, Dialect::Postgres));
        }
    });
}
