//! The plan cache against the uncached pipeline, no database: every request of the conformance
//! corpus is compiled once by an engine with the cache (which plans and probes it), then many
//! generated variants of it — its strings, numbers and booleans changed within and across their
//! classes (empty strings, dates, signs, zero, the Int range's ends, fractions, strings that mean
//! something to a parser: JSON paths, quotes, whitespace), its tenant changed, missing or
//! unscoped — are compiled, for PostgreSQL and for MySQL, by that engine and by one without a
//! cache. The two must
//! agree on every statement, parameter and error. Variants of a seen shape come from the cache,
//! so a plan that keeps a value it should bind, binds a value in the wrong place, or serves a
//! request it should refuse shows up here. `QUARRY_PLANCACHE_VARIANTS=N` sets the variants per
//! request (default 24); `QUARRY_PLANCACHE_SHOW=1` lists the corpus requests whose plan was not kept.
//!
//! Handles ([`Engine::direct_kept`], [`Engine::direct_by_handle`]) the same way: the handle a read
//! of the corpus gets, given the strings and numbers of each variant of the same structure and
//! its context, must give exactly the statement and parameters the uncached engine's direct path
//! gives, or decline.

use quarry_conformance as corpus;
use quarry_engine::exec::Dialect;
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use serde_json::{Value as Json, json};

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn vary_string(s: &str, rng: &mut Rng, same_class: bool) -> Json {
    let rotated: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { if c == 'z' { 'a' } else if c == '9' { '0' } else if c == 'Z' { 'A' } else { (c as u8 + 1) as char } } else { c }).collect();
    if same_class {
        return Json::String(if rng.below(2) == 0 || s.is_empty() { rotated } else { format!("{s}{}", rng.below(100)) });
    }
    Json::String(match rng.below(12) {
        0 => String::new(),
        1 => "2024-02-29T23:59:59.999Z".into(),
        2 => format!("{s}%_\\"),
        3 => "x".into(),
        4 => "12345678901234567890".into(),
        5 => "-0.5".into(),
        // Forms that mean something to a parser somewhere: a JSON path, quotes, a key path,
        // whitespace and non-ASCII text.
        6 => ["$.a[0]", "a.b", "[1]", "$", "'", "\"", " ", "ü\n", "*", "{}", "null", "true"][rng.below(12) as usize].into(),
        _ => rotated,
    })
}

fn vary_number(n: &serde_json::Number, rng: &mut Rng, same_class: bool) -> Json {
    let i = n.as_i64().unwrap_or(1);
    if same_class {
        return match n.as_i64() {
            Some(i) if i > 0 && i < 1000 => json!(1 + rng.below(999)),
            Some(i) if i < 0 && i > -1000 => json!(-1 - rng.below(999) as i64),
            _ => Json::Number(n.clone()),
        };
    }
    match rng.below(12) {
        0 => json!(0),
        1 => json!(-i),
        2 => json!(i32::MAX),
        3 => json!(i32::MIN),
        4 => json!(i as i128 + 1),
        5 => json!(1.5),
        6 => json!(1_000_001),
        7 => json!(i64::MAX),
        8 => json!(i.saturating_sub(1)),
        _ => json!(i.wrapping_mul(7).wrapping_add(3) % 1000),
    }
}

/// A variant of `v`: each leaf changed with probability one in three; `$type` tags kept. With
/// `same_class`, strings and small numbers change within their class only (shapes the cache has
/// seen), else to anything (new shapes, edges of ranges, values the engine refuses).
fn vary(v: &Json, rng: &mut Rng, tag: bool, same_class: bool) -> Json {
    match v {
        Json::String(_) if tag => v.clone(),
        Json::String(s) if rng.below(3) == 0 => vary_string(s, rng, same_class),
        Json::Number(n) if rng.below(3) == 0 => vary_number(n, rng, same_class),
        Json::Bool(b) if !same_class && rng.below(3) == 0 => Json::Bool(!b),
        Json::Array(items) => Json::Array(items.iter().map(|i| vary(i, rng, false, same_class)).collect()),
        Json::Object(map) => Json::Object(map.iter().map(|(k, i)| (k.clone(), vary(i, rng, k == "$type", same_class))).collect()),
        _ => v.clone(),
    }
}

fn vary_context(ctx: &TenantContext, rng: &mut Rng) -> TenantContext {
    match rng.below(8) {
        0 => TenantContext::Missing,
        1 => TenantContext::Unscoped,
        2 | 3 => match ctx {
            TenantContext::Tenant(Value::Int(i)) => TenantContext::Tenant(Value::Int(if *i == 1 { 2 } else { 1 })),
            TenantContext::Tenant(Value::String(s)) => TenantContext::Tenant(Value::String(format!("{s}-other"))),
            other => other.clone(),
        },
        _ => ctx.clone(),
    }
}

/// The request compiled for both dialects (one cache serves both; each plan is kept per dialect).
fn outcome(engine: &Engine, request: &Json, ctx: &TenantContext) -> [Result<Json, String>; 2] {
    [Dialect::Postgres, Dialect::Mysql].map(|d| engine.compile(request, ctx, d).map_err(|e| format!("{} {} {:?}", e.code(), e.message(), e.meta())))
}

#[test]
fn cached_plans_compile_every_variant_as_the_uncached_pipeline_does() {
    let variants: usize = std::env::var("QUARRY_PLANCACHE_VARIANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let mut engines: std::collections::HashMap<String, (Engine, Engine)> = Default::default();
    let (mut checked, mut failures) = (0usize, Vec::new());
    let mut stats = quarry_engine::cache::Stats::default();
    for suite in corpus::load_suites() {
        let (cached, plain) = engines.entry(suite.schema.clone()).or_insert_with(|| {
            let text = corpus::read_file(&suite.schema);
            let options = |cache| EngineOptions { namespace: Some("ns".into()), plan_cache: Some(cache), ..Default::default() };
            (Engine::new(&text, options(64)).expect("schema"), Engine::new(&text, options(0)).expect("schema"))
        });
        for (n, case) in suite.cases.iter().enumerate() {
            let Ok(ctx) = case.context(plain) else { continue };
            let requests: Vec<&Json> = match &case.request {
                Json::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((n as u64 + 1) * 0x1000_0000_01b3) ^ suite.name.len() as u64);
            for request in requests {
                let mut tries = vec![(request.clone(), ctx.clone()), (request.clone(), ctx.clone())];
                for v in 0..variants {
                    let same_class = v % 2 == 0;
                    let ctx = if same_class && rng.below(2) == 0 { ctx.clone() } else { vary_context(&ctx, &mut rng) };
                    tries.push((vary(request, &mut rng, false, same_class), ctx));
                }
                for (t, (doc, ctx)) in tries.into_iter().enumerate() {
                    checked += 1;
                    let before = cached.cache_stats().hits;
                    let (a, b) = (outcome(cached, &doc, &ctx), outcome(plain, &doc, &ctx));
                    if t == 1 && b[0].is_ok() && cached.cache_stats().hits == before && std::env::var("QUARRY_PLANCACHE_SHOW").is_ok() {
                        eprintln!("not cached: {} / {}: {doc}", suite.name, case.name);
                    }
                    if a != b && failures.len() < 20 {
                        failures.push(format!("{} / {}: {doc} under {ctx:?}\n  cached:   {a:?}\n  uncached: {b:?}", suite.name, case.name));
                    }
                }
            }
        }
    }
    for (cached, _) in engines.values() {
        let s = cached.cache_stats();
        stats.hits += s.hits;
        stats.misses += s.misses;
    }
    assert!(failures.is_empty(), "{} of {checked} compiles differ:\n{}", failures.len(), failures.join("\n"));
    // The comparison means something only if the cache served a good part of them.
    assert!(stats.hits * 5 > checked as u64, "the cache served only {} of {checked} compiles ({stats:?})", stats.hits);
    eprintln!("{checked} compiles, {stats:?}");
}

/// A JSON path given as one string on MySQL (`$."k 1"`, `$[0]`, `$.a.b`) decides the SQL by its
/// form, yet every such string is one class to the cache: no kept plan may take a path string as
/// a parameter and serve it to a path of another form.
#[test]
fn mysql_json_path_strings_are_not_served_a_plan_of_another_form() {
    let schema = "datasource db {\n  provider = \"mysql\"\n  url = env(\"MYSQL_URL\")\n}\nmodel Doc {\n  id   Int   @id\n  data Json?\n}\n";
    let options = |cache| EngineOptions { namespace: Some("ns".into()), plan_cache: Some(cache), ..Default::default() };
    let (cached, plain) = (Engine::new(schema, options(64)).expect("schema"), Engine::new(schema, options(0)).expect("schema"));
    let paths = [r#"$."k 1""#, r#"$."l 2""#, "$[0]", "$[1]", "$.a", "$.a[2]", r#"$."0""#, "$.b.c", r#"$."x.y""#, "$[0][1]"];
    let mut failures = Vec::new();
    for round in 0..2 {
        for path in paths {
            let request = json!({"model": "Doc", "action": "findMany", "args": {"where": {"data": {"path": path, "equals": "v"}}}});
            let ctx = TenantContext::Unscoped;
            let compile = |e: &Engine| e.compile(&request, &ctx, Dialect::Mysql).map_err(|e| e.code().to_owned());
            let (a, b) = (compile(&cached), compile(&plain));
            if a != b {
                failures.push(format!("round {round}, path {path}:\n  cached:   {a:?}\n  uncached: {b:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The strings and numbers of a document in document order (`$type` tags left out), as a client
/// sends them with a handle.
fn leaves(v: &Json, out: &mut Vec<Json>, tag: bool) {
    match v {
        Json::String(_) if tag => {}
        Json::String(_) | Json::Number(_) => out.push(v.clone()),
        Json::Array(items) => items.iter().for_each(|i| leaves(i, out, false)),
        Json::Object(map) => map.iter().for_each(|(k, i)| leaves(i, out, k == "$type")),
        _ => {}
    }
}

/// The document with every string and number (but `$type` tags) replaced by one marker: what a
/// client's key of a handle keeps.
fn structure(v: &Json, tag: bool) -> Json {
    match v {
        Json::String(_) if tag => v.clone(),
        Json::String(_) | Json::Number(_) => json!("?"),
        Json::Array(items) => Json::Array(items.iter().map(|i| structure(i, false)).collect()),
        Json::Object(map) => Json::Object(map.iter().map(|(k, i)| (k.clone(), structure(i, k == "$type"))).collect()),
        _ => v.clone(),
    }
}

#[test]
fn handles_serve_every_variant_of_a_read_as_the_uncached_direct_path_does() {
    let variants: usize = std::env::var("QUARRY_PLANCACHE_VARIANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let mut engines: std::collections::HashMap<String, (Engine, Engine)> = Default::default();
    let (mut kept, mut checked, mut served, mut failures) = (0usize, 0usize, 0usize, Vec::new());
    for suite in corpus::load_suites() {
        let (cached, plain) = engines.entry(suite.schema.clone()).or_insert_with(|| {
            let text = corpus::read_file(&suite.schema);
            let options = |cache| EngineOptions { namespace: Some("ns".into()), plan_cache: Some(cache), ..Default::default() };
            (Engine::new(&text, options(64)).expect("schema"), Engine::new(&text, options(0)).expect("schema"))
        });
        if cached.dialect() != Dialect::Postgres {
            continue;
        }
        for (n, case) in suite.cases.iter().enumerate() {
            let Ok(own) = case.context(plain) else { continue };
            let request = &case.request;
            // A handle made under the case's context, and one made for the request unscoped.
            for ctx in [own.clone(), TenantContext::Unscoped] {
                let Some((first, Some(handle))) = cached.direct_kept(request, &ctx, Dialect::Postgres, true) else { continue };
                kept += 1;
                let shape = structure(request, false);
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ ((n as u64 + 1) * 0x1000_0000_01b3) ^ suite.name.len() as u64);
                // The request itself under its own context and under every other kind of context.
                let mut tries = vec![(request.clone(), ctx.clone())];
                for other in [
                    TenantContext::Missing,
                    TenantContext::Unscoped,
                    TenantContext::Tenant(Value::Int(2)),
                    TenantContext::Tenant(Value::BigInt(1)),
                    TenantContext::Tenant(Value::String("1".into())),
                ] {
                    tries.push((request.clone(), other));
                }
                for v in 0..variants {
                    let same_class = v % 2 == 0;
                    let ctx = if same_class && rng.below(2) == 0 { ctx.clone() } else { vary_context(&ctx, &mut rng) };
                    tries.push((vary(request, &mut rng, false, same_class), ctx));
                }
                for (doc, vctx) in tries {
                    // A client uses a handle only for a document of the same structure.
                    if structure(&doc, false) != shape {
                        continue;
                    }
                    checked += 1;
                    let mut values = Vec::new();
                    leaves(&doc, &mut values, false);
                    let by_handle = cached.direct_by_handle(handle.id, &values, &vctx, Dialect::Postgres);
                    let envelope = plain.direct(&doc, &vctx, Dialect::Postgres);
                    let Some((texts, params)) = by_handle else { continue };
                    served += 1;
                    let what = format!("{} / {}: {doc} under {vctx:?}", suite.name, case.name);
                    match &envelope {
                        Some(d) if texts.first() == Some(&d.text) && params == d.params && d.result == first.result => {}
                        _ if failures.len() < 20 => failures.push(format!(
                            "{what}\n  handle:   {:?} {params:?}\n  envelope: {:?}",
                            texts.first(),
                            envelope.as_ref().map(|d| (&d.text, &d.params))
                        )),
                        _ => {}
                    }
                    // Never a plan made under a tenant for a request without one, and never without
                    // this request's own tenant among its parameters.
                    match (&ctx, &vctx) {
                        (TenantContext::Tenant(_), TenantContext::Tenant(t))
                            if envelope.as_ref().is_some_and(|d| d.params.contains(t)) && !params.contains(t) =>
                        {
                            failures.push(format!("{what}: the tenant is not among the parameters {params:?}"))
                        }
                        (TenantContext::Tenant(_), TenantContext::Missing | TenantContext::Unscoped) => {
                            failures.push(format!("{what}: a tenant's handle served a request without a tenant"))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
    // Meaningful only if handles were kept for many reads and served a good part of the variants.
    assert!(kept > 100, "handles for only {kept} reads");
    assert!(served * 5 > checked, "the handles served only {served} of {checked} variants");
    eprintln!("{kept} handles, {checked} variants of the same structure, {served} served by the handle");
}
