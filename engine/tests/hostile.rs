//! Hostile requests through the engine's entry point, on a stack as small as the WebAssembly
//! engine's (1 MiB): wide boolean lists, deep nesting in every position, long raw SQL, huge and
//! malformed values. Every outcome is a result or an error with a stable code (and a path for
//! request errors), never a panic, a stack overflow or an internal error; and the engine keeps
//! working afterwards. Inputs are generated from a fixed seed, so a failure reproduces.

use quarry_engine::exec::Dialect;
use quarry_engine::exec::defaults::Clock;
use quarry_engine::host::parse_envelope;
use quarry_engine::scope::TenantContext;
use quarry_engine::{Engine, EngineOptions, Error};
use serde_json::{Value as Json, json};

const STORE: &str = include_str!("../../tests/corpus/schemas/store.prisma");
const TENANTS: &str = include_str!("../../tests/corpus/schemas/tenants.prisma");

/// The WebAssembly engine's whole stack (native Tokio workers have 2 MiB). Unoptimized builds
/// (`cargo test`) use several times more stack per call than optimized ones (the deepest include
/// the query stage allows compiles in 256 KiB optimized and needs more than 1 MiB unoptimized), so
/// they get eight times as much.
const SMALL_STACK: usize = if cfg!(debug_assertions) { 8 } else { 1 } * 1024 * 1024;

/// Native frames are several times smaller than wasm32's (an `OR` chain overflowed the Wasm
/// engine's 1 MiB at 3,000 items and a 2 MiB native thread at 36,000), so wide inputs, which
/// must not grow the stack at all, run on a quarter of it.
const TINY_STACK: usize = 256 * 1024;

/// Runs `f` on a thread with the WebAssembly engine's stack size. A stack overflow aborts the
/// test process, which fails the run.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    on_stack(SMALL_STACK, f)
}

fn on_stack<T: Send + 'static>(bytes: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(bytes).spawn(f).expect("thread").join().expect("no panic")
}

fn store() -> Engine {
    Engine::new(STORE, EngineOptions { clock: Clock::default(), ..Default::default() }).expect("schema")
}

fn tenants() -> Engine {
    Engine::new(TENANTS, EngineOptions::default()).expect("schema")
}

fn tenant(engine: &Engine) -> TenantContext {
    TenantContext::from_json(engine.schema(), Some(&json!("tnt_a"))).expect("tenant")
}

/// The outcome of compiling a request: the SQL text on success.
fn compile(engine: &Engine, doc: &Json, ctx: &TenantContext) -> Result<String, Error> {
    engine.compile(doc, ctx, Dialect::Postgres).map(|j| j["statements"].to_string())
}

/// Every error is typed: a stable code that is not "internal", a message, a path for request
/// validation errors.
fn assert_typed(e: &Error, what: &str) {
    assert_ne!(e.code(), "Q9001", "internal error for {what}: {e:?}");
    assert!(e.code().len() == 5 && (e.code().starts_with('Q') || e.code().starts_with('P')), "{what}: {e:?}");
    assert!(!e.message().is_empty(), "{what}");
    assert!(e.message().len() < 4096, "a message of {} bytes for {what}", e.message().len());
    if e.code().starts_with("Q2") {
        assert!(e.meta().get("path").and_then(Json::as_str).is_some(), "a request error without a path for {what}: {e:?}");
    }
}

fn find_many(model: &str, args: Json) -> Json {
    json!({ "model": model, "action": "findMany", "args": args })
}

fn raw(query: String) -> Json {
    json!({ "action": "queryRaw", "args": { "query": query, "parameters": [] } })
}

#[test]
fn wide_boolean_lists_compile_up_to_the_limit_on_a_small_stack() {
    on_stack(TINY_STACK, || {
        let engine = store();
        let ctx = TenantContext::Unscoped;
        for op in ["OR", "AND", "NOT"] {
            let items: Vec<Json> = (0..10_000).map(|i| json!({ "id": i })).collect();
            let sql = compile(&engine, &find_many("Account", json!({ "where": { op: items } })), &ctx)
                .unwrap_or_else(|e| panic!("{op} of 10,000: {e:?}"));
            assert!(sql.contains("$10000"), "{op}: every condition is a parameter");
            let items: Vec<Json> = (0..10_001).map(|i| json!({ "id": i })).collect();
            let e = compile(&engine, &find_many("Account", json!({ "where": { op: items } })), &ctx).unwrap_err();
            assert_eq!(e.code(), "Q2011", "{op} of 10,001: {e:?}");
            assert_eq!(e.meta()["path"], format!("args.where.{op}"));
        }
        // Wide lists inside a relation filter and a nested include, and a having of groupBy.
        let items: Vec<Json> = (0..5_000).map(|i| json!({ "quantity": i })).collect();
        let doc = find_many("Account", json!({ "where": { "orders": { "some": { "lines": { "some": { "OR": items } } } } },
            "include": { "orders": { "where": { "OR": (0..5_000).map(|i| json!({ "id": i })).collect::<Vec<_>>() } } } }));
        compile(&engine, &doc, &ctx).expect("wide lists at depth");
        let having: Vec<Json> = (0..5_000).map(|i| json!({ "stock": { "_sum": { "gt": i } } })).collect();
        let doc = json!({ "model": "Product", "action": "groupBy", "args": { "by": ["status"], "having": { "OR": having } } });
        compile(&engine, &doc, &ctx).expect("wide having");
        let data: Vec<Json> = (0..5_000).map(|i| json!({ "id": i })).collect();
        let doc = json!({ "model": "Account", "action": "deleteMany", "args": { "where": { "OR": data } } });
        compile(&engine, &doc, &ctx).expect("wide deleteMany");
    });
}

#[test]
fn wide_lists_under_a_tenant_compile_on_a_small_stack() {
    on_stack(TINY_STACK, || {
        let engine = tenants();
        let ctx = tenant(&engine);
        for op in ["OR", "AND", "NOT"] {
            let items: Vec<Json> = (0..10_000).map(|i| json!({ "title": format!("t{i}") })).collect();
            compile(&engine, &find_many("Post", json!({ "where": { op: items }, "include": { "author": true } })), &ctx)
                .unwrap_or_else(|e| panic!("{op}: {e:?}"));
        }
    });
}

/// Deep nesting, as JSON text the bindings receive: beyond the JSON parser's depth it is `Q2007`
/// before any document exists; within it, the query stage's limit says where.
#[test]
fn deep_nesting_is_too_deep_with_a_path_in_every_position() {
    on_small_stack(|| {
        let engine = store();
        let ctx = TenantContext::Unscoped;
        let wrap = |depth: usize, open: &str, inner: &str, close: &str| format!("{}{inner}{}", open.repeat(depth), close.repeat(depth));
        for depth in [40, 100, 5_000, 100_000] {
            let shapes = [
                wrap(depth, r#"{"AND":["#, r#"{"id":1}"#, "]}"),
                wrap(depth, r#"{"NOT":"#, r#"{"id":1}"#, "}"),
                wrap(depth, r#"{"reports":{"some":"#, r#"{"id":1}"#, "}}"),
                wrap(depth, r#"{"manager":{"is":"#, r#"{"id":1}"#, "}}"),
            ];
            for filter in shapes {
                let text = format!(r#"{{"request":{{"model":"Account","action":"findMany","args":{{"where":{filter}}}}},"unscoped":true}}"#);
                let e = match parse_envelope(&text) {
                    Err(e) => e,
                    Ok(env) => compile(&engine, &env["request"], &ctx).unwrap_err(),
                };
                assert_eq!(e.code(), "Q2007", "depth {depth}: {e:?}");
                assert_typed(&e, "deep where");
            }
            let include = wrap(depth, r#"{"include":{"reports":"#, "true", "}}");
            let text = format!(r#"{{"request":{{"model":"Account","action":"findMany","args":{include}}}}}"#);
            let e = match parse_envelope(&text) {
                Err(e) => e,
                Ok(env) => compile(&engine, &env["request"], &ctx).unwrap_err(),
            };
            assert_eq!(e.code(), "Q2007", "include depth {depth}: {e:?}");
            assert_typed(&e, "deep include");
            let data = format!("{{{}}}", wrap(depth, r#""profile":{"create":{"bio":"b","account":{"create":{"email":"e","#, "\"name\":\"n\"", "}}}}"));
            let text = format!(r#"{{"request":{{"model":"Account","action":"create","args":{{"data":{data}}}}}}}"#);
            let e = match parse_envelope(&text) {
                Err(e) => e,
                Ok(env) => compile(&engine, &env["request"], &ctx).unwrap_err(),
            };
            assert!(matches!(e.code(), "Q2007" | "Q2004"), "nested create depth {depth}: {e:?}");
            assert_typed(&e, "deep create");
            // A deep JSON value is data, not nesting of the request, and may go as deep as the
            // JSON parser allows.
            let value = wrap(depth.min(120), "[", "1", "]");
            let text = format!(r#"{{"request":{{"model":"Account","action":"findMany","args":{{"where":{{"settings":{{"equals":{value}}}}}}}}}}}"#);
            if let Ok(env) = parse_envelope(&text) {
                compile(&engine, &env["request"], &ctx).expect("a deep JSON value");
            }
        }
        // The engine still works.
        compile(&engine, &find_many("Account", json!({ "where": { "id": 1 } })), &ctx).expect("still works");
    });
}

/// Raw SQL under a tenant is parsed and walked; its expression depth is bounded before that, so
/// a long chain is refused with `Q3004` (use `= ANY($1)` or `IN (...)`) and a long `IN` list works.
#[test]
fn long_raw_sql_under_a_tenant_is_refused_or_runs_never_overflows() {
    on_small_stack(|| {
        let engine = tenants();
        let ctx = tenant(&engine);
        for n in [10, 400, 2_000, 3_000, 20_000] {
            let ors = (0..n).map(|i| format!("\"id\" = {i}")).collect::<Vec<_>>().join(" OR ");
            let ands = (0..n).map(|i| format!("\"id\" <> {i}")).collect::<Vec<_>>().join(" AND ");
            let plus = (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(" + ");
            let concat = (0..n).map(|_| "'a'").collect::<Vec<_>>().join(" || ");
            let parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
            let nots = format!("{}TRUE", "NOT ".repeat(n));
            let unions = (0..n).map(|i| format!("SELECT {i}")).collect::<Vec<_>>().join(" UNION ALL ");
            let casts = format!("1{}", "::int".repeat(n));
            let subs = format!("{}1{}", "(SELECT ".repeat(n), ")".repeat(n));
            let queries = [
                format!("SELECT \"id\" FROM \"Post\" WHERE {ors}"),
                format!("SELECT \"id\" FROM \"Post\" WHERE {ands}"),
                format!("SELECT {plus} FROM \"Post\""),
                format!("SELECT {concat} FROM \"Post\""),
                format!("SELECT {parens} FROM \"Post\""),
                format!("SELECT \"id\" FROM \"Post\" WHERE {nots}"),
                unions,
                format!("SELECT {casts} FROM \"Post\""),
                format!("SELECT {subs} FROM \"Post\""),
                format!("UPDATE \"Post\" SET \"title\" = 'x' WHERE {ors}"),
                format!("SELECT \"id\" FROM \"Post\" WHERE {ors} garbage("),
            ];
            for q in queries {
                match compile(&engine, &raw(q.clone()), &ctx) {
                    Ok(_) => assert!(n <= 400, "{n} terms of {} ran", &q[..60.min(q.len())]),
                    Err(e) => {
                        assert_typed(&e, &q[..60.min(q.len())]);
                        assert!(matches!(e.code(), "Q3004" | "Q2005"), "{e:?}");
                    }
                }
            }
            // An IN list is one flat list: it runs at any length.
            let list = (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
            compile(&engine, &raw(format!("SELECT \"id\" FROM \"Post\" WHERE \"id\" IN ({list})")), &ctx).expect("IN list");
        }
        compile(&engine, &raw("SELECT \"id\" FROM \"Post\"".into()), &ctx).expect("still works");
    });
}

#[test]
fn hostile_values_are_invalid_values_not_panics() {
    let engine = store();
    let ctx = TenantContext::Unscoped;
    let huge = "9".repeat(100_000);
    let datetimes = [
        "2025-01-01T00:00:00+9999999999999".to_owned(),
        "2025-01-01T00:00:00-9999999999999".to_owned(),
        "2025-01-01T00:00:00+99999999999999999999".to_owned(),
        "2025-01-01T00:00:00+2562047788015215:00".to_owned(),
        "2025-01-01T00:00:00+00:9999999999999999".to_owned(),
        "2025-01-01T00:00:00+00:00:9223372036854775807".to_owned(),
        "2025-01-01 00:00:00+-1".to_owned(),
        "2025-01-01T00:00:00.9999999999Z".to_owned(),
        "+262143-12-31T23:59:59Z".to_owned(),
        "262143-12-31T23:59:59-23:59".to_owned(),
        "-262144-01-01T00:00:00+23:59".to_owned(),
        "9999-12-31T23:59:59-99".to_owned(),
        "0000-01-01T00:00:00+99".to_owned(),
        format!("2025-01-01T00:00:00+{huge}"),
        "2025-01-01T".to_owned(),
        "T+".to_owned(),
        "é2025-01-01T00:00:00Z".to_owned(),
        "2025-01-01T00:00:00Zé".to_owned(),
        "2025-01-01Té0:00:00Z".to_owned(),
    ];
    let decimals = [
        format!("1e{huge}"),
        "1e2147483647".to_owned(),
        "1e-2147483648".to_owned(),
        "-".to_owned(),
        "+".to_owned(),
        "e".to_owned(),
        ".e1".to_owned(),
        "1e1000".to_owned(),
        "1e-1000".to_owned(),
        "é".to_owned(),
        huge.clone(),
    ];
    let mut docs = Vec::new();
    for d in &datetimes {
        docs.push(find_many("Account", json!({ "where": { "createdAt": { "gt": { "$type": "DateTime", "value": d } } } })));
        docs.push(find_many("Account", json!({ "where": { "createdAt": d } })));
        docs.push(json!({ "action": "queryRaw", "args": { "query": "SELECT $1", "parameters": [{ "$type": "DateTime", "value": d }] } }));
    }
    for d in &decimals {
        docs.push(find_many("Account", json!({ "where": { "balance": { "$type": "Decimal", "value": d } } })));
        docs.push(find_many("Account", json!({ "where": { "score": { "$type": "Decimal", "value": d } } })));
        docs.push(json!({ "action": "queryRaw", "args": { "query": "SELECT $1", "parameters": [{ "$type": "Decimal", "value": d }] } }));
    }
    for big in ["9223372036854775808", "-9223372036854775809", &huge, "0x10", "1e3", " ", ""] {
        docs.push(find_many("Account", json!({ "where": { "visits": { "$type": "BigInt", "value": big } } })));
        docs.push(json!({ "action": "queryRaw", "args": { "query": "SELECT $1", "parameters": [{ "$type": "BigInt", "value": big }] } }));
    }
    for n in [json!(2147483648i64), json!(-2147483649i64), json!(1e300), json!(-1e300), json!(u64::MAX), json!(i64::MIN), json!(0.5)] {
        docs.push(find_many("Account", json!({ "where": { "id": n } })));
        docs.push(find_many("Account", json!({ "take": n })));
        docs.push(find_many("Account", json!({ "skip": n })));
    }
    for b in ["=", "A", "AAA", "A===", "é", &huge, "AQI=AQI="] {
        docs.push(find_many("Account", json!({ "where": { "avatar": { "$type": "Bytes", "value": b } } })));
        docs.push(json!({ "action": "queryRaw", "args": { "query": "SELECT $1", "parameters": [{ "$type": "Bytes", "value": b }] } }));
    }
    for tag in ["DateTime", "BigInt", "Decimal", "Bytes", "Json", "Nope", ""] {
        for value in [json!(null), json!(1), json!([]), json!({}), json!({ "$type": tag }), json!(huge)] {
            let v = json!({ "$type": tag, "value": value });
            docs.push(find_many("Account", json!({ "where": { "createdAt": v.clone(), "settings": { "equals": v.clone() } } })));
            docs.push(json!({ "action": "queryRaw", "args": { "query": "SELECT $1", "parameters": [v.clone()] } }));
            docs.push(json!({ "model": "Account", "action": "create", "args": { "data": { "email": "e", "settings": v.clone(), "role": v } } }));
        }
    }
    for role in [huge.as_str(), "", "member", "MEMBER\0"] {
        docs.push(find_many("Account", json!({ "where": { "role": role } })));
    }
    for doc in &docs {
        let what = doc.to_string();
        let what = &what[..what.len().min(160)];
        let outcome = std::panic::catch_unwind(|| compile(&engine, doc, &ctx));
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => assert_typed(&e, what),
            Err(_) => panic!("panicked on {what}"),
        }
    }
}

/// `take` past the limit in either direction, `skip` at the top of the range: out of range, the
/// same on every engine (no overflow in the SQL text or the arithmetic behind it).
#[test]
fn take_and_skip_at_the_ends_of_the_range() {
    let engine = store();
    let ctx = TenantContext::Unscoped;
    for take in [json!(i64::MIN), json!(i64::MIN + 1), json!(i64::MAX), json!(-9.0e15)] {
        let e = compile(&engine, &find_many("Account", json!({ "take": take })), &ctx).unwrap_err();
        assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2008", Some("args.take")), "{take}");
        let e = compile(&engine, &find_many("Account", json!({ "include": { "orders": { "take": take } } })), &ctx).unwrap_err();
        assert_eq!(e.code(), "Q2008", "{take}");
    }
    for skip in [json!(i64::MAX), json!(1i64 << 53)] {
        let e = compile(&engine, &find_many("Account", json!({ "skip": skip })), &ctx).unwrap_err();
        assert_eq!((e.code(), e.meta()["path"].as_str()), ("Q2008", Some("args.skip")), "{skip}");
    }
    // The largest skip the engine accepts runs.
    compile(&engine, &find_many("Account", json!({ "skip": 9_007_199_254_740_991i64 - 1 })), &ctx).ok();
    compile(&engine, &find_many("Account", json!({ "skip": 1_000_000_000_000i64 })), &ctx).expect("a large skip");
}

/// An unknown name of megabytes costs no "did you mean" work and is not echoed whole.
#[test]
fn huge_unknown_names_are_cheap_and_short() {
    let engine = store();
    let ctx = TenantContext::Unscoped;
    let name = "x".repeat(16 * 1024 * 1024);
    let start = std::time::Instant::now();
    for doc in [
        find_many("Account", json!({ "where": { name.clone(): 1 } })),
        find_many("Account", json!({ name.clone(): 1 })),
        find_many("Account", json!({ "select": { name.clone(): true } })),
        json!({ "model": name.clone(), "action": "findMany" }),
        json!({ "model": "Account", "action": name.clone() }),
        find_many("Account", json!({ "where": { "role": name.clone() } })),
    ] {
        let e = compile(&engine, &doc, &ctx).unwrap_err();
        assert_typed(&e, "a huge name");
    }
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
}

/// The request text has a size limit; beyond it, `Q2011` before any parsing.
#[test]
fn request_text_beyond_the_size_limit_is_too_large() {
    let big = format!(r#"{{"request":{{"model":"Account","action":"findMany","args":{{"where":{{"name":"{}"}}}}}}}}"#, "x".repeat(33 * 1024 * 1024));
    let e = parse_envelope(&big).unwrap_err();
    assert_eq!(e.code(), "Q2011");
    assert_typed(&e, "a huge request");
    let e = parse_envelope("{\"request\": ").unwrap_err();
    assert_eq!(e.code(), "Q2001");
    parse_envelope(r#"{"request":{"model":"Account","action":"findMany"}}"#).expect("a small request");
}

/// The deepest include the default limit lets through compiles on a small stack.
#[test]
fn the_deepest_include_allowed_compiles_on_a_small_stack() {
    on_small_stack(|| {
        let engine = store();
        let ctx = TenantContext::Unscoped;
        let mut deepest = None;
        for depth in 1..=40 {
            let mut include = json!(true);
            for _ in 0..depth {
                include = json!({ "include": { "reports": include, "orders": { "include": { "lines": true } } }, "where": { "OR": [{ "id": 1 }, { "manager": { "is": { "id": 2 } } }] } });
            }
            match compile(&engine, &find_many("Account", json!({ "include": { "reports": include } })), &ctx) {
                Ok(_) => deepest = Some(depth),
                Err(e) => {
                    assert_eq!(e.code(), "Q2007", "{e:?}");
                    break;
                }
            }
        }
        assert!(deepest.is_some_and(|d| d >= 8), "{deepest:?}");
    });
}

/// Generated hostile documents (fixed seed): wide and deep shapes, huge and garbage values and
/// tagged values in every position of real requests, through the entry point on a small stack.
#[test]
fn generated_hostile_documents_are_results_or_typed_errors() {
    // Generating deep documents takes more stack than the engine may use: make them first.
    let texts: Vec<String> = on_stack(256 * 1024 * 1024, || {
        let mut rng = Rng(0x0bad_5eed_2026_1206);
        (0..600).map(|_| hostile_document(&mut rng).to_string()).collect()
    });
    on_small_stack(move || {
        let engine = store();
        let ctx = TenantContext::Unscoped;
        let mut outcomes = [0usize; 2];
        for (i, text) in texts.iter().enumerate() {
            let result = parse_envelope(&format!(r#"{{"request":{text},"unscoped":true}}"#))
                .and_then(|env| compile(&engine, &env["request"], &ctx));
            match result {
                Ok(_) => outcomes[0] += 1,
                Err(e) => {
                    outcomes[1] += 1;
                    assert_typed(&e, &format!("case {i}: {}", &text[..text.len().min(200)]));
                }
            }
        }
        assert!(outcomes[0] > 20 && outcomes[1] > 20, "{outcomes:?}");
        compile(&engine, &find_many("Account", json!({})), &ctx).expect("still works");
    });
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn hostile_value(rng: &mut Rng) -> Json {
    let tags = ["DateTime", "BigInt", "Decimal", "Bytes", "Json", "Float", "Nope"];
    match rng.below(12) {
        0 => json!({ "$type": rng.pick(&tags), "value": hostile_scalar(rng) }),
        1 => Json::Array((0..rng.below(3_000)).map(|_| hostile_scalar(rng)).collect()),
        2 => json!("9".repeat(rng.below(200_000))),
        3 => json!({ "$type": rng.pick(&tags) }),
        _ => hostile_scalar(rng),
    }
}

fn hostile_scalar(rng: &mut Rng) -> Json {
    let strings = [
        "2025-01-01T00:00:00+9999999999999",
        "2025-01-01T00:00:00-99:99",
        "1e999999",
        "-0",
        "NaN",
        "Infinity",
        "AQI=",
        "====",
        "9223372036854775808",
        "",
        "\u{0}",
        "ADMIN",
        "🦀",
    ];
    match rng.below(8) {
        0 => json!(i64::MIN),
        1 => json!(u64::MAX),
        2 => json!(1e308),
        3 => json!(null),
        4 => json!(rng.next() as i64),
        _ => json!(rng.pick(&strings)),
    }
}

const FIELDS: [&str; 12] = ["id", "email", "name", "role", "balance", "visits", "score", "active", "avatar", "settings", "tags", "createdAt"];
const OPERATORS: [&str; 12] = ["equals", "in", "notIn", "lt", "gte", "contains", "startsWith", "not", "has", "hasSome", "path", "mode"];

fn hostile_filter(rng: &mut Rng, depth: usize) -> Json {
    match rng.below(if depth > 200 { 3 } else { 7 }) {
        0 => json!({ *rng.pick(&FIELDS): hostile_value(rng) }),
        1 => json!({ *rng.pick(&FIELDS): { *rng.pick(&OPERATORS): hostile_value(rng) } }),
        2 => {
            let n = *rng.pick(&[0usize, 1, 2, 50, 3_000, 12_000]);
            let op = *rng.pick(&["OR", "AND", "NOT"]);
            json!({ op: (0..n).map(|_| json!({ *rng.pick(&FIELDS): hostile_scalar(rng) })).collect::<Vec<_>>() })
        }
        3 => json!({ *rng.pick(&["AND", "OR"]): [hostile_filter(rng, depth + 1)] }),
        4 => json!({ "NOT": hostile_filter(rng, depth + 1) }),
        5 => json!({ *rng.pick(&["reports", "followedBy"]): { *rng.pick(&["some", "every", "none"]): hostile_filter(rng, depth + 1) } }),
        _ => json!({ "manager": { "is": hostile_filter(rng, depth + 1) } }),
    }
}

fn hostile_document(rng: &mut Rng) -> Json {
    let actions = ["findMany", "findFirst", "count", "aggregate", "groupBy", "updateMany", "deleteMany", "create"];
    let action = *rng.pick(&actions);
    let mut args = serde_json::Map::new();
    args.insert("where".into(), hostile_filter(rng, 0));
    match rng.below(6) {
        0 => {
            args.insert("take".into(), hostile_scalar(rng));
            args.insert("skip".into(), hostile_scalar(rng));
        }
        1 => {
            let mut include = json!(true);
            for _ in 0..rng.below(60) {
                include = json!({ "include": { "reports": include } });
            }
            args.insert("include".into(), json!({ "reports": include }));
        }
        2 => {
            args.insert("data".into(), json!({ *rng.pick(&FIELDS): hostile_value(rng), "email": "e" }));
        }
        3 => {
            args.insert("by".into(), json!([rng.pick(&FIELDS)]));
            args.insert("_sum".into(), json!({ "balance": true }));
        }
        _ => {}
    }
    if action == "groupBy" && !args.contains_key("by") {
        args.insert("by".into(), json!(["role"]));
    }
    json!({ "model": "Account", "action": action, "args": args })
}
