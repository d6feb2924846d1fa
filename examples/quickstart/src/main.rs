//! Quarry in five minutes, on the PostgreSQL in `DATABASE_URL`: create the benchmark schema with
//! the engine's DDL, seed two tenants with nested writes, then read as one tenant and show the
//! SQL each request ran and what a request for the other tenant's row gets. The tables go in the
//! PostgreSQL schema `quarry_quickstart` (`QUARRY_QUICKSTART_SCHEMA` names another). It exits with
//! an error when a step does not do what it shows.

use quarry_engine::exec::{Dialect, Queryable};
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use serde_json::{Value as Json, json};

const SCHEMA: &str = include_str!("../../../tests/fixtures/schemas/bench.prisma");
const DEFAULT_NAMESPACE: &str = "quarry_quickstart";

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("\nquickstart failed: {e}");
        std::process::exit(1);
    }
}

fn heading(text: &str) {
    println!("\n\x1b[1m== {text}\x1b[0m");
}

fn show_sql(engine: &Engine, request: &Json, ctx: &TenantContext) -> Result<(), String> {
    let compiled = engine.compile(request, ctx, Dialect::Postgres).map_err(|e| e.to_string())?;
    for s in compiled["statements"].as_array().into_iter().flatten() {
        println!("  \x1b[2mSQL    {}\x1b[0m", s["sql"].as_str().unwrap_or_default());
        println!("  \x1b[2mparams {}\x1b[0m", s["params"]);
    }
    Ok(())
}

async fn run() -> Result<(), String> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let namespace = std::env::var("QUARRY_QUICKSTART_SCHEMA").unwrap_or_else(|_| DEFAULT_NAMESPACE.into());
    let namespace = namespace.as_str();
    println!("Quarry quickstart on {url} (schema \"{namespace}\")");
    let driver = PgDriver::connect(&url).await.map_err(|e| format!("{e:?}"))?;
    let engine = Engine::new(SCHEMA, EngineOptions { namespace: Some(namespace.into()), ..Default::default() }).map_err(|e| e.to_string())?;

    heading("1. Create the schema with the engine's DDL");
    driver.execute(&format!("DROP SCHEMA IF EXISTS \"{namespace}\" CASCADE"), &[]).await.map_err(|e| format!("{e:?}"))?;
    driver.execute(&format!("CREATE SCHEMA \"{namespace}\""), &[]).await.map_err(|e| format!("{e:?}"))?;
    let ddl = quarry_engine::ddl::create_statements(engine.schema(), Some(namespace));
    for stmt in &ddl {
        driver.execute(stmt, &[]).await.map_err(|e| format!("{e:?}\n{stmt}"))?;
    }
    println!("  {} statements: {} tables, indexes and foreign keys", ddl.len(), engine.schema().models.len());

    heading("2. Seed two tenants (tenants are created unscoped; everything else under its tenant)");
    let admin = TenantContext::Unscoped;
    let mut globex_post = Json::Null;
    for name in ["acme", "globex"] {
        let t = engine.request(&driver, &json!({"model": "Tenant", "action": "create", "args": {"data": {"name": name}}}), &admin).await.map_err(|e| e.to_string())?;
        let id = t["id"].clone();
        let ctx = TenantContext::Tenant(Value::Int(id.as_i64().unwrap_or_default()));
        for (email, titles) in [("alice", ["Hello", "Draft"]), ("bob", ["Building", "Notes"])] {
            let request = json!({"model": "User", "action": "create", "args": {
                "data": {"email": format!("{email}@{name}.test"), "name": email,
                         "posts": {"create": [{"tenantId": id, "title": format!("{} ({name})", titles[0]), "published": true, "views": 10},
                                              {"tenantId": id, "title": format!("{} ({name})", titles[1])}]}}}});
            let user = engine.request(&driver, &request, &ctx).await.map_err(|e| e.to_string())?;
            if name == "globex" && globex_post.is_null() {
                let post = engine.request(&driver, &json!({"model": "Post", "action": "findFirst", "args": {"where": {"authorId": user["id"]}}}), &ctx).await.map_err(|e| e.to_string())?;
                globex_post = post["id"].clone();
            }
        }
        println!("  tenant {name} (id {id}): 2 users with 2 posts each");
    }

    let acme = TenantContext::Tenant(Value::Int(1));
    heading("3. Read as tenant acme: published posts with their author");
    let request = json!({"model": "Post", "action": "findMany", "args": {
        "where": {"published": true}, "orderBy": {"id": "asc"},
        "select": {"id": true, "title": true, "author": {"select": {"email": true}}, "_count": {"select": {"comments": true}}}}});
    show_sql(&engine, &request, &acme)?;
    let rows = engine.request(&driver, &request, &acme).await.map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    let titles: Vec<&str> = rows.as_array().into_iter().flatten().filter_map(|r| r["title"].as_str()).collect();
    if titles.len() != 2 || !titles.iter().all(|t| t.ends_with("(acme)")) {
        return Err(format!("expected acme's two published posts, got {titles:?}"));
    }

    heading("4. A nested write as acme: a comment on acme's first post");
    let request = json!({"model": "Comment", "action": "create", "args": {
        "data": {"body": "Nice!", "post": {"connect": {"id": 1}}, "author": {"connect": {"id": 2}}},
        "include": {"post": {"select": {"title": true}}}}});
    show_sql(&engine, &request, &acme)?;
    let comment = engine.request(&driver, &request, &acme).await.map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&comment).unwrap_or_default());

    heading(&format!("5. Acme asks for globex's post {globex_post}, and tries to comment on it"));
    let request = json!({"model": "Post", "action": "findUnique", "args": {"where": {"id": globex_post}}});
    show_sql(&engine, &request, &acme)?;
    let other = engine.request(&driver, &request, &acme).await.map_err(|e| e.to_string())?;
    println!("  findUnique -> {other}   (the post belongs to globex: for acme it does not exist)");
    if !other.is_null() {
        return Err("acme read globex's post".into());
    }
    let request = json!({"model": "Comment", "action": "create", "args": {
        "data": {"body": "sneaky", "post": {"connect": {"id": globex_post}}, "author": {"connect": {"id": 2}}}}});
    match engine.request(&driver, &request, &acme).await {
        Ok(v) => return Err(format!("acme commented on globex's post: {v}")),
        Err(e) => println!("  connect   -> {} {}", e.code(), e.message()),
    }
    let request = json!({"model": "Post", "action": "findMany", "args": {"where": {}}});
    match engine.request(&driver, &request, &TenantContext::Missing).await {
        Ok(v) => return Err(format!("a request without a tenant was answered: {v}")),
        Err(e) => println!("  no tenant -> {} {}", e.code(), e.message()),
    }
    println!("\nDone. The schema \"{namespace}\" is left in place to explore with psql.");
    Ok(())
}
