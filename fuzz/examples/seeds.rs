//! Writes the fuzz targets' seed corpora from the conformance corpus (`tests/corpus`), into
//! `<out>/<target>/` (default `fuzz/corpus`): every case's request as an envelope (with its
//! tenant); the SQL every case compiles to, as raw SQL for the guard; the schemas; and every
//! string and number value the cases hold, under each value tag. Run by `scripts/fuzz`.

use quarry_engine::exec::Dialect;
use quarry_engine::scope::TenantContext;
use quarry_engine::{Engine, EngineOptions};
use quarry_fuzz::{SCHEMAS, TAGS};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn write_all(dir: &Path, items: &BTreeSet<Vec<u8>>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, item) in items.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:05}")), item)?;
    }
    println!("{}: {} seeds", dir.display(), items.len());
    Ok(())
}

fn collect_scalars(v: &Json, out: &mut BTreeSet<String>) {
    match v {
        Json::String(s) => {
            out.insert(s.clone());
        }
        Json::Number(n) => {
            out.insert(n.to_string());
        }
        Json::Array(items) => items.iter().for_each(|x| collect_scalars(x, out)),
        Json::Object(m) => m.values().for_each(|x| collect_scalars(x, out)),
        _ => {}
    }
}

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::args().nth(1).map_or_else(|| root.join("fuzz/corpus"), PathBuf::from);
    let tests = root.join("tests");
    let (mut requests, mut raw, mut schemas, mut values) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let engines: Vec<(&str, Engine)> =
        SCHEMAS.iter().map(|(name, text)| (*name, Engine::new(text, EngineOptions::default()).expect("schema"))).collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(tests.join("corpus/cases"))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let mut scalars = BTreeSet::new();
    for file in files {
        let suite: Json = serde_json::from_str(&std::fs::read_to_string(&file)?).expect("a corpus file is JSON");
        let schema_path = suite["schema"].as_str().unwrap_or_default();
        if let Ok(text) = std::fs::read_to_string(tests.join(schema_path)) {
            schemas.insert(text.into_bytes());
        }
        let engine = engines.iter().find(|(name, _)| schema_path.ends_with(&format!("/{name}.prisma"))).map(|(_, e)| e);
        for case in suite["cases"].as_array().into_iter().flatten() {
            let request = &case["request"];
            let mut envelope = json!({ "request": request });
            match (&case["tenant"], case["unscoped"].as_bool()) {
                (Json::Null, Some(true)) => envelope["unscoped"] = json!(true),
                (Json::Null, _) => {}
                (t, _) => envelope["tenant"] = t.clone(),
            }
            requests.insert(envelope.to_string().into_bytes());
            collect_scalars(&request["args"], &mut scalars);
            // The SQL a case compiles to is valid PostgreSQL naming the schema's tables: a seed
            // for the raw SQL guard.
            if let Some(engine) = engine {
                for r in request.as_array().cloned().unwrap_or_else(|| vec![request.clone()]) {
                    if let Ok(compiled) = engine.compile(&r, &TenantContext::Unscoped, Dialect::Postgres) {
                        for s in compiled["statements"].as_array().into_iter().flatten() {
                            if let Some(sql) = s["sql"].as_str() {
                                raw.insert(sql.as_bytes().to_vec());
                            }
                        }
                    }
                }
            }
        }
    }
    for s in scalars {
        for (i, _) in TAGS.iter().enumerate() {
            let mut v = vec![i as u8];
            v.extend_from_slice(s.as_bytes());
            values.insert(v);
        }
    }
    write_all(&out.join("request"), &requests)?;
    write_all(&out.join("raw_sql"), &raw)?;
    write_all(&out.join("schema"), &schemas)?;
    write_all(&out.join("values"), &values)?;
    Ok(())
}
