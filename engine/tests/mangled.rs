//! Bad input never panics: a few hundred mangled request documents (truncated text, swapped
//! value types, random keys, deep nesting) each come back as an error value with a stable code,
//! or as a valid plan when the mangling happened to produce a valid request.

use quarry_engine::scope::TenantContext;
use quarry_engine::{Engine, EngineOptions};
use serde_json::{Value as Json, json};

const SCHEMA: &str = include_str!("../../tests/corpus/schemas/store.prisma");

fn seeds() -> Vec<Json> {
    vec![
        json!({"model":"Account","action":"findMany","args":{"where":{"email":{"contains":"a","mode":"insensitive"},"orders":{"some":{"status":"ACTIVE"}}},"include":{"profile":true,"orders":{"take":2,"orderBy":{"placedAt":"desc"},"include":{"lines":true}}},"orderBy":[{"name":{"sort":"asc","nulls":"last"}},{"id":"desc"}],"take":10,"skip":1}}),
        json!({"model":"Product","action":"findUnique","args":{"where":{"sku":"HAM-001"},"select":{"name":true,"price":true,"categories":{"select":{"slug":true}},"_count":{"select":{"reviews":true}}}}}),
        json!({"model":"Review","action":"findFirst","args":{"where":{"OR":[{"rating":{"gte":4}},{"NOT":{"body":null}}]},"cursor":{"id":2},"distinct":["productId"]}}),
        json!({"model":"Account","action":"count","args":{"where":{"tags":{"hasSome":["beta"]}},"select":{"_all":true,"name":true}}}),
        json!({"model":"Account","action":"create","args":{"data":{"email":"x@y.z","profile":{"create":{"bio":"b"}},"orders":{"create":[{"lines":{"create":{"quantity":1,"unitPrice":"1.5","product":{"connect":{"id":1}}}}}]}}}}),
        json!({"model":"Product","action":"update","args":{"where":{"id":1},"data":{"stock":{"increment":1},"categories":{"set":[{"id":1}]},"reviews":{"updateMany":{"where":{"rating":1},"data":{"title":"t"}}}}}}),
        json!({"model":"Product","action":"groupBy","args":{"by":["status"],"_sum":{"stock":true},"having":{"price":{"_avg":{"gt":1}}},"orderBy":{"_sum":{"stock":"desc"}},"take":2}}),
        json!({"model":"Account","action":"upsert","args":{"where":{"email":"a@b.c"},"create":{"email":"a@b.c"},"update":{"visits":{"increment":{"$type":"BigInt","value":"1"}}}}}),
        json!({"model":"Account","action":"findMany","args":{"where":{"settings":{"path":["lang"],"equals":"en"},"createdAt":{"gt":{"$type":"DateTime","value":"2024-01-01T00:00:00Z"}},"avatar":{"$type":"Bytes","value":"AQI="}}}}),
    ]
}

/// A deterministic pseudo-random source (xorshift), so failures reproduce.
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
}

const JUNK: [&str; 8] = ["emial", "$type", "AND", "where", "select", "_count", "", "🦀"];

fn mangle(v: &Json, rng: &mut Rng, depth: usize) -> Json {
    let junk_values = [json!(null), json!(true), json!(-1), json!(1e300), json!("x"), json!([]), json!({}), json!({"$type":"Nope","value":1})];
    if rng.below(6) == 0 || depth > 12 {
        return junk_values[rng.below(junk_values.len())].clone();
    }
    match v {
        Json::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                match rng.below(8) {
                    0 => {}
                    1 => {
                        out.insert(JUNK[rng.below(JUNK.len())].to_owned(), mangle(x, rng, depth + 1));
                    }
                    _ => {
                        out.insert(k.clone(), mangle(x, rng, depth + 1));
                    }
                }
            }
            Json::Object(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(|x| mangle(x, rng, depth + 1)).collect()),
        other => {
            if rng.below(3) == 0 { junk_values[rng.below(junk_values.len())].clone() } else { other.clone() }
        }
    }
}

#[test]
fn mangled_documents_return_errors_not_panics() {
    let engine = Engine::new(SCHEMA, EngineOptions::default()).unwrap();
    let ctx = TenantContext::Unscoped;
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let mut errors = 0;
    let mut total = 0;
    for seed in seeds() {
        // The unmangled document is valid.
        engine.plan(&seed, &ctx).unwrap_or_else(|e| panic!("seed should be valid: {e:?}\n{seed}"));
        for _ in 0..40 {
            let doc = mangle(&seed, &mut rng, 0);
            total += 1;
            if let Err(e) = engine.plan(&doc, &ctx) {
                errors += 1;
                assert!(e.code().starts_with('Q') || e.code().starts_with('P'), "{e:?}");
                assert_ne!(e.code(), "Q9001", "internal error for {doc}: {e:?}");
                assert!(!e.message().is_empty());
                if e.code().starts_with("Q2") {
                    let path = e.meta().get("path").and_then(|p| p.as_str());
                    assert!(path.is_some_and(|p| !p.is_empty()), "request error without a path for {doc}: {e:?}");
                }
            }
        }
        // Truncated JSON text never parses into a document, so the binding rejects it before the
        // engine; the engine sees every prefix that is still valid JSON.
        let text = seed.to_string();
        for cut in (1..text.len()).step_by(7) {
            if let Ok(doc) = serde_json::from_str::<Json>(&text[..cut]) {
                total += 1;
                if engine.plan(&doc, &ctx).is_err() {
                    errors += 1;
                }
            }
        }
    }
    assert!(total >= 300, "{total}");
    assert!(errors > total / 2, "most mangled documents must be rejected ({errors} of {total})");
}

#[test]
fn deep_nesting_is_refused_with_a_path() {
    let engine = Engine::new(SCHEMA, EngineOptions::default()).unwrap();
    let mut filter = json!({"id": 1});
    for _ in 0..100 {
        filter = json!({"AND": [filter]});
    }
    let doc = json!({"model": "Account", "action": "findMany", "args": {"where": filter}});
    let e = engine.plan(&doc, &TenantContext::Unscoped).unwrap_err();
    assert_eq!(e.code(), "Q2007");
    assert!(e.meta()["path"].as_str().unwrap().starts_with("args.where.AND[0]"));
    let mut include = json!(true);
    for _ in 0..40 {
        include = json!({"include": {"reports": include}});
    }
    let doc = json!({"model": "Account", "action": "findMany", "args": {"include": {"reports": include}}});
    assert_eq!(engine.plan(&doc, &TenantContext::Unscoped).unwrap_err().code(), "Q2007");
}

#[test]
fn huge_take_and_bad_numbers_are_out_of_range() {
    let engine = Engine::new(SCHEMA, EngineOptions::default()).unwrap();
    for take in [json!(1e300), json!(10_000_000_000i64), json!(-99_999_999)] {
        let doc = json!({"model": "Account", "action": "findMany", "args": {"take": take}});
        let e = engine.plan(&doc, &TenantContext::Unscoped).unwrap_err();
        assert_eq!(e.code(), "Q2008", "{take}: {e:?}");
        assert_eq!(e.meta()["path"], "args.take");
    }
}
