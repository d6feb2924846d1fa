//! The conformance corpus: cases are data (schema, seed, request, tenant, expected result or
//! error) under `tests/corpus`, shared by every runner (native Rust here, Wasm and the Node addon
//! from JavaScript). This crate loads suites, prepares databases through any engine driver and
//! compares results; [`pgbouncer`] starts a throwaway PgBouncer for the pooling tests.

pub mod pgbouncer;

use quarry_engine::Engine;
use quarry_engine::exec::{Driver, Queryable, Transaction};
use quarry_engine::scope::TenantContext;
use serde::Deserialize;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// The `tests/` folder.
/// The PostgreSQL every runner uses: `DATABASE_URL`, or the local server.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Path of the Prisma schema, relative to `tests/`.
    pub schema: String,
    /// Path of the seed SQL, relative to `tests/`.
    #[serde(default)]
    pub seed: Option<String>,
    /// `read`: all cases share one seeded database. `write`: each case gets a fresh one.
    #[serde(default = "read_mode")]
    pub mode: String,
    pub cases: Vec<Case>,
    #[serde(skip)]
    pub name: String,
}

/// A present field, `null` included, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

fn read_mode() -> String {
    "read".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// The tenant id for the request; absent means no tenant context.
    #[serde(default)]
    pub tenant: Option<Json>,
    /// Run explicitly unscoped.
    #[serde(default)]
    pub unscoped: bool,
    /// One request, or a list run as a batch transaction.
    pub request: Json,
    /// The expected result (`null` included).
    #[serde(default, deserialize_with = "present")]
    pub result: Option<Json>,
    #[serde(default)]
    pub error: Option<ExpectedError>,
    /// Reads run after the request (write suites) with their expected results.
    #[serde(default)]
    pub after: Vec<After>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedError {
    pub code: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default, rename = "messageContains")]
    pub message_contains: Option<String>,
    #[serde(default)]
    pub meta: Option<Json>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct After {
    #[serde(default)]
    pub tenant: Option<Json>,
    #[serde(default)]
    pub unscoped: bool,
    pub request: Json,
    pub result: Json,
}

/// Every suite under `tests/corpus/cases`, sorted by name.
pub fn load_suites() -> Vec<Suite> {
    let dir = root().join("corpus/cases");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            let mut suite: Suite = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            suite.name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let mut slugs = std::collections::HashSet::new();
            for c in &suite.cases {
                assert!(slugs.insert(slug(&c.name)), "{}: two cases share the name (or snapshot name) {:?}", p.display(), c.name);
            }
            suite
        })
        .collect()
}

pub fn read_file(rel: &str) -> String {
    let p = root().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

impl Case {
    pub fn context(&self, engine: &Engine) -> Result<TenantContext, quarry_engine::Error> {
        if self.unscoped {
            return Ok(TenantContext::Unscoped);
        }
        TenantContext::from_json(engine.schema(), self.tenant.as_ref())
    }
}

/// Splits seed SQL into statements (on `;` at line ends; seeds keep one statement per `;`).
pub fn split_sql(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// Creates `namespace`, the schema's tables in it, and runs the seed, in one transaction.
pub async fn prepare<D: Driver>(driver: &D, engine: &Engine, namespace: &str, seed: Option<&str>) -> Result<(), String> {
    let tx = driver.begin(None).await.map_err(|e| format!("begin: {e:?}"))?;
    let result = async {
        let quoted = format!("\"{}\"", namespace.replace('"', "\"\""));
        tx.execute(&format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"), &[]).await.map_err(|e| format!("{e:?}"))?;
        tx.execute(&format!("CREATE SCHEMA {quoted}"), &[]).await.map_err(|e| format!("{e:?}"))?;
        tx.execute(&format!("SET LOCAL search_path TO {quoted}"), &[]).await.map_err(|e| format!("{e:?}"))?;
        for stmt in quarry_engine::ddl::create_statements(engine.schema(), Some(namespace)) {
            tx.execute(&stmt, &[]).await.map_err(|e| format!("DDL failed: {e:?}\n{stmt}"))?;
        }
        if let Some(seed) = seed {
            for stmt in split_sql(seed) {
                tx.query(&stmt, &[]).await.map_err(|e| format!("seed failed: {e:?}\n{stmt}"))?;
            }
        }
        Ok::<(), String>(())
    }
    .await;
    match result {
        Ok(()) => tx.commit().await.map_err(|e| format!("commit: {e:?}")),
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Empties `namespace`'s tables (sequences restarted) and runs the seed again, in one transaction:
/// the data of a fresh [`prepare`] in the same tables, so statements a driver prepared on them
/// stay valid.
pub async fn reseed<D: Driver>(driver: &D, namespace: &str, seed: Option<&str>) -> Result<(), String> {
    let tx = driver.begin(None).await.map_err(|e| format!("begin: {e:?}"))?;
    let result = async {
        let quoted = format!("\"{}\"", namespace.replace('"', "\"\""));
        tx.execute(&format!("SET LOCAL search_path TO {quoted}"), &[]).await.map_err(|e| format!("{e:?}"))?;
        let list = format!(
            "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables WHERE schemaname = '{}'",
            namespace.replace('\'', "''")
        );
        let rows = tx.query(&list, &[]).await.map_err(|e| format!("{e:?}"))?;
        if let Some(quarry_engine::exec::DbValue::Text(tables)) = rows.rows.first().and_then(|r| r.first()) {
            tx.execute(&format!("TRUNCATE {tables} RESTART IDENTITY CASCADE"), &[]).await.map_err(|e| format!("{e:?}"))?;
        }
        if let Some(seed) = seed {
            for stmt in split_sql(seed) {
                tx.query(&stmt, &[]).await.map_err(|e| format!("seed failed: {e:?}\n{stmt}"))?;
            }
        }
        Ok::<(), String>(())
    }
    .await;
    match result {
        Ok(()) => tx.commit().await.map_err(|e| format!("commit: {e:?}")),
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

pub async fn drop_namespace<D: Driver>(driver: &D, namespace: &str) {
    let quoted = format!("\"{}\"", namespace.replace('"', "\"\""));
    let _ = driver.execute(&format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"), &[]).await;
}

/// Runs a case's request (a batch when it is a list).
pub async fn run_request<D: Driver>(driver: &D, engine: &Engine, request: &Json, ctx: &TenantContext) -> Result<Json, quarry_engine::Error> {
    match request {
        Json::Array(items) => engine.batch(driver, items, ctx, None).await,
        _ => engine.request(driver, request, ctx).await,
    }
}

/// Checks an outcome against a case; `Err` holds a readable explanation.
pub fn check(case: &Case, outcome: &Result<Json, quarry_engine::Error>) -> Result<(), String> {
    match (outcome, &case.result, &case.error) {
        (Ok(actual), Some(expected), None) => compare(expected, actual),
        (Err(e), None, Some(want)) => check_error(want, e).and_then(|()| no_values_in(&case.request, e)),
        (Ok(actual), None, Some(want)) => Err(format!(
            "expected error {} but got a result:\n{}",
            want.code,
            serde_json::to_string_pretty(actual).unwrap_or_default()
        )),
        (Err(e), Some(_), None) => Err(format!("expected a result but got error {e:?}")),
        (outcome, None, None) => Err(format!(
            "the case has no expectation; it produced:\n{}",
            match outcome {
                Ok(v) => serde_json::to_string(v).unwrap_or_default(),
                Err(e) => format!("error {e:?}"),
            }
        )),
        _ => Err("a case needs exactly one of result and error".into()),
    }
}

pub fn compare(expected: &Json, actual: &Json) -> Result<(), String> {
    if same(expected, actual) {
        return Ok(());
    }
    Err(format!(
        "result differs\nexpected: {}\n  actual: {}",
        serde_json::to_string(expected).unwrap_or_default(),
        serde_json::to_string(actual).unwrap_or_default()
    ))
}

/// JSON equality where numbers compare by value (`3` equals `3.0`, as in JavaScript).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Json::Object(x), Json::Object(y)) => x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb)),
        _ => a == b,
    }
}

/// Errors that come from the database (Prisma's `P` codes) must not repeat the request's values:
/// in a multi-tenant product a message can end up in another tenant's logs. Every string value
/// of six or more characters and every number of three or more digits in the request is looked
/// for in the message and in `meta`; names (model, action, fields, operators, tags) are not values.
fn no_values_in(request: &Json, e: &quarry_engine::Error) -> Result<(), String> {
    if !e.code().starts_with('P') {
        return Ok(());
    }
    fn values(v: &Json, key: &str, out: &mut Vec<String>) {
        const WORDS: [&str; 6] = ["asc", "desc", "insensitive", "default", "first", "last"];
        match v {
            Json::String(s) if !matches!(key, "model" | "action" | "$type") && s.chars().count() >= 6 && !WORDS.contains(&s.as_str()) => out.push(s.clone()),
            Json::Number(n) if n.to_string().trim_start_matches('-').len() >= 3 => out.push(n.to_string()),
            Json::Array(items) => items.iter().for_each(|i| values(i, key, out)),
            Json::Object(m) => m.iter().for_each(|(k, v)| values(v, k, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    values(request, "", &mut found);
    let meta = Json::Object(e.meta().clone()).to_string();
    match found.iter().find(|v| e.message().contains(v.as_str()) || meta.contains(v.as_str())) {
        Some(v) => Err(format!("the error repeats the request's value {v:?}: {e:?}")),
        None => Ok(()),
    }
}

pub fn check_error(want: &ExpectedError, e: &quarry_engine::Error) -> Result<(), String> {
    if e.code() != want.code {
        return Err(format!("expected error {} but got {e:?}", want.code));
    }
    if let Some(p) = &want.path {
        if e.meta().get("path").and_then(Json::as_str) != Some(p.as_str()) {
            return Err(format!("expected error path {p} but got {e:?}"));
        }
    }
    if let Some(m) = &want.message_contains {
        if !e.message().contains(m.as_str()) {
            return Err(format!("expected the message to contain {m:?} but got {e:?}"));
        }
    }
    if let Some(Json::Object(meta)) = &want.meta {
        for (k, v) in meta {
            if e.meta().get(k) != Some(v) {
                return Err(format!("expected meta.{k} = {v} but got {e:?}"));
            }
        }
    }
    Ok(())
}

/// A per-backend list of cases known to fail. It may only shrink: a listed case that passes
/// fails the run so the entry gets removed.
pub fn known_failures(backend: &str) -> Vec<String> {
    let p: PathBuf = root().join("known-failures").join(format!("{backend}.txt"));
    read_list(&p)
}

fn read_list(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .map(|t| t.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A case name as a file name: lowercase ASCII letters and digits separated by `_`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// A stable identifier for a case: `suite/case name`.
pub fn case_id(suite: &Suite, case: &Case) -> String {
    format!("{}/{}", suite.name, case.name)
}
