//! Differential test of JSON filters: the same generated JSON documents are written through the
//! engine to PostgreSQL (`jsonb` and `json` columns) and to MariaDB (the engine's MySQL plans),
//! then generated filters (`equals` / `not` with whole values and the null kinds, `path` as a list
//! and as a string, `string_*` with both modes, `array_*`, `gt` / `gte` / `lt` / `lte`, under `NOT`
//! and not) run on both; the ids found must be the same, and so must the documents read back.
//! The documents mix objects, arrays, strings (with trailing spaces, quotes, backslashes, `%`,
//! `_`), integers, decimals (`2.0` beside `2`), booleans and JSON nulls, with keys that look like
//! indexes. `QUARRY_JSONDIFF_CASES` sets the number of filters (default 1,500),
//! `QUARRY_JSONDIFF_SEED` the seed; `DATABASE_URL` and `MYSQL_URL` the servers.

#[path = "tenant_property/rng.rs"]
#[allow(dead_code)]
mod rng;
#[path = "support/mysql_driver.rs"]
#[allow(dead_code)]
mod mysql_driver;

use mysql_async::prelude::Queryable as _;
use quarry_conformance as corpus;
use quarry_engine::scope::TenantContext;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use rng::Rng;
use serde_json::{Map, Value as Json, json};

const SCHEMA: &str = r#"
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
model Doc {
  id   Int   @id
  data Json?
  text Json? @db.Json
}
"#;

const ROWS: i64 = 90;
const KEYS: &[&str] = &["a", "b", "c", "ab", "ba", "k 1", "x.y", "0", "1", "q\"t", "é"];
const STRINGS: &[&str] = &["", "a", "A", "ab", "aB", "a ", "abc", "b%c", "b_c", "x\\y", "q\"t", "é", "éa", "dark", "Dark", "50%"];

fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn gen_scalar(r: &mut Rng) -> Json {
    match r.below(10) {
        9 => json!(*r.pick(&[1e40, -1e-40, 1.2345678901234567e25, 0.1, 1e16])),
        0 => Json::Null,
        1 => Json::Bool(r.chance(50)),
        2 | 3 => json!(r.range(-5, 12)),
        4 => json!(r.range(-20, 40) as f64 / 4.0),
        5 => json!(r.range(-3, 3) as f64),
        _ => Json::String((*r.pick(STRINGS)).to_owned()),
    }
}

fn gen_value(r: &mut Rng, depth: u32) -> Json {
    let kind = if depth >= 3 { 0 } else { r.weighted(&[5, 3, 3]) };
    match kind {
        1 => {
            let mut m = Map::new();
            for _ in 0..r.below(5) {
                m.insert((*r.pick(KEYS)).to_owned(), gen_value(r, depth + 1));
            }
            Json::Object(m)
        }
        2 => Json::Array((0..r.below(5)).map(|_| gen_value(r, depth + 1)).collect()),
        _ => gen_scalar(r),
    }
}

/// Every (path, value) inside a document, the document itself at the empty path.
fn subtrees(v: &Json, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Json)>) {
    out.push((path.clone(), v.clone()));
    match v {
        Json::Object(m) => {
            for (k, item) in m {
                path.push(k.clone());
                subtrees(item, path, out);
                path.pop();
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("-{}", items.len() - i));
                out.push((path.clone(), item.clone()));
                path.pop();
                path.push(i.to_string());
                subtrees(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A compared value: often one found in the data, sometimes changed a little or new.
fn gen_operand(r: &mut Rng, found: &Json) -> Json {
    match r.below(6) {
        0 => gen_value(r, 1),
        1 => match found {
            Json::Object(m) if !m.is_empty() => {
                let mut m = m.clone();
                let k = m.keys().next().cloned().unwrap_or_default();
                m.shift_remove(&k);
                Json::Object(m)
            }
            Json::Array(items) if !items.is_empty() => Json::Array(items[1..].to_vec()),
            Json::Number(n) => json!(n.as_f64().unwrap_or(0.0) + 0.5),
            _ => gen_scalar(r),
        },
        _ => found.clone(),
    }
}

fn string_path(path: &[String]) -> String {
    let mut s = String::from("$");
    for seg in path {
        if seg.bytes().all(|b| b.is_ascii_digit()) && !seg.is_empty() {
            s.push_str(&format!("[{seg}]"));
        } else if seg.bytes().all(|b| b.is_ascii_alphanumeric()) && !seg.is_empty() && !seg.as_bytes()[0].is_ascii_digit() {
            s.push('.');
            s.push_str(seg);
        } else {
            s.push('.');
            s.push_str(&Json::String(seg.clone()).to_string());
        }
    }
    s
}

fn gen_filter(r: &mut Rng, docs: &[Json]) -> Json {
    let doc = &docs[r.below(docs.len())];
    let mut all = Vec::new();
    subtrees(doc, &mut Vec::new(), &mut all);
    let (mut path, mut found) = all[r.below(all.len())].clone();
    if r.chance(10) {
        path.push((*r.pick(KEYS)).to_owned());
        found = gen_value(r, 2);
    }
    let mut f = Map::new();
    if !path.is_empty() {
        let numeric_only_digits = path.iter().all(|s| !s.starts_with('-'));
        if numeric_only_digits && r.chance(30) {
            f.insert("path".into(), Json::String(string_path(&path)));
        } else {
            f.insert("path".into(), json!(path));
        }
    }
    let op = *r.pick(&[
        "equals", "equals", "equals", "not", "string_contains", "string_starts_with", "string_ends_with", "array_contains",
        "array_contains", "array_starts_with", "array_ends_with", "gt", "gte", "lt", "lte", "null",
    ]);
    match op {
        "equals" | "not" => {
            f.insert(op.into(), json!({"$type": "Json", "value": gen_operand(r, &found)}));
        }
        "null" => {
            let kind = *r.pick(&["JsonNull", "DbNull", "AnyNull"]);
            f.insert(if r.chance(70) { "equals" } else { "not" }.into(), json!(kind));
        }
        "string_contains" | "string_starts_with" | "string_ends_with" => {
            let s = match &found {
                Json::String(s) if !s.is_empty() => {
                    let chars: Vec<char> = s.chars().collect();
                    let a = r.below(chars.len());
                    let b = a + r.below(chars.len() - a + 1);
                    chars[a..b].iter().collect()
                }
                _ => (*r.pick(STRINGS)).to_owned(),
            };
            let s = if r.chance(30) { s.to_uppercase() } else { s };
            f.insert(op.into(), json!(s));
            if r.chance(40) {
                f.insert("mode".into(), json!("insensitive"));
            }
        }
        "array_contains" => {
            let v = match &found {
                Json::Array(items) if !items.is_empty() => match r.below(4) {
                    0 => items[r.below(items.len())].clone(),
                    1 => Json::Array(vec![items[r.below(items.len())].clone()]),
                    2 => Json::Array(items.iter().filter(|_| r.chance(50)).cloned().collect()),
                    _ => match &items[r.below(items.len())] {
                        Json::Object(m) => {
                            let part: Map<String, Json> = m.iter().filter(|_| r.chance(50)).map(|(k, v)| (k.clone(), v.clone())).collect();
                            Json::Array(vec![Json::Object(part)])
                        }
                        Json::Array(inner) => Json::Array(vec![Json::Array(inner.iter().take(1).cloned().collect())]),
                        other => other.clone(),
                    },
                },
                _ => gen_operand(r, &found),
            };
            f.insert(op.into(), json!({"$type": "Json", "value": v}));
        }
        "array_starts_with" | "array_ends_with" => {
            let v = match &found {
                Json::Array(items) if !items.is_empty() && r.chance(70) => {
                    if op == "array_starts_with" { items[0].clone() } else { items[items.len() - 1].clone() }
                }
                _ => gen_operand(r, &found),
            };
            f.insert(op.into(), json!({"$type": "Json", "value": v}));
        }
        _ => {
            let v = match &found {
                Json::Number(n) if r.chance(80) => {
                    let x = n.as_f64().unwrap_or(0.0) + *r.pick(&[0.0, 0.0, 0.5, -0.25, 1.0]);
                    if x.fract() == 0.0 && r.chance(50) { json!(x as i64) } else { json!(x) }
                }
                Json::String(s) if r.chance(80) => json!(s),
                _ => {
                    if r.chance(50) { json!(r.range(-5, 12)) } else { json!(*r.pick(STRINGS)) }
                }
            };
            f.insert(op.into(), v);
        }
    }
    let field = if r.chance(75) { "data" } else { "text" };
    let mut where_ = json!({ field: Json::Object(f) });
    if r.chance(25) {
        where_ = json!({ "NOT": where_ });
    }
    json!({"model": "Doc", "action": "findMany", "args": {"where": where_, "select": {"id": true}, "orderBy": {"id": "asc"}}})
}

/// The same JSON, objects' keys in the same order; numbers by value (PostgreSQL prints `1e16` as
/// `10000000000000000`, MariaDB keeps the text written: the same number to a JSON reader).
fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Json::Object(x), Json::Object(y)) => x.len() == y.len() && x.iter().zip(y).all(|((k, x), (l, y))| k == l && same_json(x, y)),
        _ => a == b,
    }
}

fn ids(result: &Json) -> Vec<i64> {
    result.as_array().into_iter().flatten().filter_map(|row| row["id"].as_i64()).collect()
}

#[test]
fn json_filters_agree_on_postgresql_and_mariadb() {
    let cases: usize = std::env::var("QUARRY_JSONDIFF_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1500);
    let seed: u64 = std::env::var("QUARRY_JSONDIFF_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x4a53_4f4e);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let name = format!("qjson_{}", std::process::id());

    let pg_engine = Engine::new(SCHEMA, EngineOptions { namespace: Some(name.clone()), ..Default::default() }).expect("schema");
    let my_schema = SCHEMA.replace("provider = \"postgresql\"", "provider = \"mysql\"");
    let my_engine = Engine::new(&my_schema, EngineOptions { namespace: Some(name.clone()), ..Default::default() }).expect("mysql schema");

    let fresh = |schema: &str| {
        Engine::new(schema, EngineOptions { namespace: Some(name.clone()), plan_cache: Some(0), ..Default::default() }).expect("schema")
    };
    let (pg_cold, my_cold) = (fresh(SCHEMA), fresh(&my_schema));
    let pg = rt.block_on(PgDriver::connect(&corpus::database_url())).expect("PostgreSQL at DATABASE_URL");
    let my = mysql_driver::MyDriver::new(&mysql_url()).expect("MYSQL_URL");

    rt.block_on(async {
        corpus::prepare(&pg, &pg_engine, &name, None).await.expect("PostgreSQL schema");
        let mut conn = my.conn().await.expect("MariaDB at MYSQL_URL");
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`")).await.expect("drop");
        conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")).await.expect("create");
        for stmt in quarry_engine::ddl::create_statements(my_engine.schema(), Some(&name)) {
            conn.query_drop(&stmt).await.unwrap_or_else(|e| panic!("DDL failed: {e}\n{stmt}"));
        }
    });

    let mut r = Rng::new(seed);
    let mut docs = Vec::new();
    let mut rows = Vec::new();
    for id in 1..=ROWS {
        let v = gen_value(&mut r, 0);
        let cell = if r.chance(8) { Json::Null } else { json!({"$type": "Json", "value": v}) };
        if !cell.is_null() {
            docs.push(v);
        }
        rows.push(json!({"id": id, "data": cell, "text": cell}));
    }
    let create = json!({"model": "Doc", "action": "createMany", "args": {"data": rows}});
    let ctx = TenantContext::Unscoped;
    let mut failures = Vec::new();
    rt.block_on(async {
        pg_engine.request(&pg, &create, &ctx).await.expect("PostgreSQL createMany");
        my_engine.request(&my, &create, &ctx).await.expect("MariaDB createMany");

        // Numbers beyond DECIMAL(65,30) are stored as written: comparisons with them must not fail,
        // in an updateMany (a strict-mode UPDATE turns a cast's warning into an error) either.
        let extremes = json!({"model": "Doc", "action": "createMany", "args": {"data": [
            {"id": ROWS + 1, "data": {"$type": "Json", "value": {"a": 1e40, "b": [1e-40, 2]}}},
            {"id": ROWS + 2, "data": {"$type": "Json", "value": {"a": -1.25e300, "b": 1.5e-35}}},
        ]}});
        pg_engine.request(&pg, &extremes, &ctx).await.expect("PostgreSQL createMany");
        my_engine.request(&my, &extremes, &ctx).await.expect("MariaDB createMany");
        for filter in [json!({"path": ["a"], "gt": 2}), json!({"path": ["a"], "lt": 2.5}), json!({"path": ["b"], "array_contains": 2})] {
            let update = json!({"model": "Doc", "action": "updateMany", "args": {"where": {"id": {"gt": ROWS}, "data": filter}, "data": {"text": {"$type": "Json", "value": "hit"}}}});
            let (a, b) = (pg_engine.request(&pg, &update, &ctx).await, my_engine.request(&my, &update, &ctx).await);
            if a.as_ref().ok() != b.as_ref().ok() {
                failures.push(format!("updateMany where {filter}: PostgreSQL {a:?}, MariaDB {b:?}"));
            }
        }
        let cleanup = json!({"model": "Doc", "action": "deleteMany", "args": {"where": {"id": {"gt": ROWS}}}});
        pg_engine.request(&pg, &cleanup, &ctx).await.expect("PostgreSQL deleteMany");
        my_engine.request(&my, &cleanup, &ctx).await.expect("MariaDB deleteMany");

        // Read back: the same documents, keys in the same order.
        let read = json!({"model": "Doc", "action": "findMany", "args": {"select": {"id": true, "data": true}, "orderBy": {"id": "asc"}}});
        let a = pg_engine.request(&pg, &read, &ctx).await.expect("PostgreSQL read");
        let b = my_engine.request(&my, &read, &ctx).await.expect("MariaDB read");
        if !same_json(&a, &b) {
            failures.push(format!("documents read back differ:\nPostgreSQL {a}\nMariaDB    {b}"));
        }

        let mut matched = 0;
        for i in 0..cases {
            let request = gen_filter(&mut r, &docs);
            let a = pg_engine.request(&pg, &request, &ctx).await;
            let b = my_engine.request(&my, &request, &ctx).await;
            match (&a, &b) {
                (Ok(x), Ok(y)) if ids(x) == ids(y) => matched += usize::from(!ids(x).is_empty()),
                (Err(x), Err(y)) if x.code() == y.code() => {}
                // A compared number beyond DECIMAL(65,30) is refused on MySQL (the documented limit).
                (Ok(_), Err(y)) if y.code() == "Q2008" => {}
                _ => {
                    let c = pg_cold.request(&pg, &request, &ctx).await;
                    let d = my_cold.request(&my, &request, &ctx).await;
                    let show = |x: &quarry_engine::Result<Json>| x.as_ref().map(ids).map_err(|e| format!("{} {}", e.code(), e.message()));
                    failures.push(format!(
                        "case {i}: {}\nPostgreSQL {:?} (without the plan cache {:?})\nMariaDB    {:?} (without the plan cache {:?})",
                        request["args"]["where"],
                        show(&a),
                        show(&c),
                        show(&b),
                        show(&d),
                    ))
                }
            }
            if failures.len() >= 10 {
                break;
            }
        }
        // A generator whose filters never match anything would prove nothing.
        assert!(failures.len() >= 10 || matched > cases / 4, "only {matched} of {cases} filters matched a row");

        corpus::drop_namespace(&pg, &name).await;
        if let Ok(mut conn) = my.conn().await {
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`")).await;
        }
    });
    assert!(failures.is_empty(), "seed {seed}: {} difference(s):\n{}", failures.len(), failures.join("\n\n"));
}

/// What the MySQL plans cannot express is a typed error, never a panic or a rounded comparison:
/// a compared number beyond DECIMAL(65,30), a value too deep or too large, a path with too many
/// integer segments, a path string with a wildcard.
#[test]
fn json_filter_limits_on_mysql_are_typed_errors() {
    let schema = SCHEMA.replace("provider = \"postgresql\"", "provider = \"mysql\"");
    let engine = Engine::new(&schema, EngineOptions::default()).expect("schema");
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let wide: Vec<Json> = (0..300).map(|i| json!(i)).collect();
    let cases = [
        (json!({"path": ["a"], "equals": {"$type": "Json", "value": 1e40}}), "Q2008"),
        (json!({"path": ["a"], "gt": 1e-40}), "Q2008"),
        (json!({"equals": {"$type": "Json", "value": deep}}), "Q2007"),
        (json!({"array_contains": {"$type": "Json", "value": wide}}), "Q2011"),
        (json!({"path": ["0", "1", "2", "3", "4"], "equals": 1}), "Q2011"),
        (json!({"path": "$.a[*]", "equals": 1}), "Q2005"),
        (json!({"path": "$.\"open", "equals": 1}), "Q2005"),
    ];
    for (filter, code) in cases {
        let request = json!({"model": "Doc", "action": "findMany", "args": {"where": {"data": filter}}});
        match engine.compile(&request, &TenantContext::Unscoped, quarry_engine::exec::Dialect::Mysql) {
            Err(e) => assert_eq!(e.code(), code, "{filter}: {}", e.message()),
            Ok(c) => panic!("{filter} compiled: {c}"),
        }
    }
    // Within the limits: the same shapes compile.
    let request = json!({"model": "Doc", "action": "findMany", "args": {"where": {"data": {"path": ["0", "1", "2", "3"], "equals": 1e30}}}});
    engine.compile(&request, &TenantContext::Unscoped, quarry_engine::exec::Dialect::Mysql).expect("within the limits");
}
