//! Shared pieces of Quarry's benchmarks: the benchmark workload's schema, its seed, and the
//! request documents of each scenario.

use serde_json::{Value as Json, json};

/// The benchmark workload's schema (Tenant, User, Post, Comment).
pub const SCHEMA: &str = include_str!("../../tests/fixtures/schemas/bench.prisma");

/// The benchmark workload's data (10 tenants, 1,000 users, 10,000 posts, 20,000 comments).
pub const SEED: &str = include_str!("../workload/seed.sql");

/// The PostgreSQL the end-to-end benches use: `DATABASE_URL`, or the local server.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The seed as statements (one per `;` at a line end, comment lines dropped).
pub fn seed_statements() -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in SEED.lines().filter(|l| !l.trim_start().starts_with("--")) {
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

/// The tenant every end-to-end scenario runs as, and its users' ids (the seed deals users out to
/// tenants in turn, so tenant 1 owns ids 1, 11, 21, ...).
pub const TENANT: i64 = 1;

pub fn tenant_user(i: usize) -> i64 {
    1 + 10 * (i % 100) as i64
}

/// The end-to-end scenarios a-f of the workload as Quarry requests under tenant scope (the scope
/// adds `tenantId`, so requests do not repeat it). `i` is the iteration: it cycles ids and makes
/// created emails unique; `run` tells runs apart.
pub fn scenario(name: &str, i: usize, run: &str) -> Json {
    match name {
        "a_findUnique" => json!({"model": "User", "action": "findUnique", "args": {"where": {"id": tenant_user(i)}}}),
        "b_findMany20" => json!({"model": "Post", "action": "findMany", "args": {"where": {"published": true}, "orderBy": {"createdAt": "desc"}, "take": 20}}),
        "c_include" => json!({"model": "User", "action": "findMany", "args": {"take": 20, "include": {"posts": true}}}),
        "d_create" => json!({"model": "Post", "action": "create", "args": {"data": {"authorId": tenant_user(i), "title": format!("Bench post {i}")}}}),
        "e_nestedCreate" => json!({"model": "User", "action": "create", "args": {
            "data": {"email": format!("bench-{run}-{i}@example.com"), "name": "Bench", "posts": {"create": [{"title": "First"}, {"title": "Second"}]}},
            "include": {"posts": true}
        }}),
        "f_aggregate" => json!({"model": "Post", "action": "groupBy", "args": {"by": ["authorId"], "_sum": {"views": true}}}),
        _ => json!(null),
    }
}

pub const SCENARIOS: [&str; 6] = ["a_findUnique", "b_findMany20", "c_include", "d_create", "e_nestedCreate", "f_aggregate"];

/// Request documents compiled by the compile bench, by name.
pub fn compile_cases() -> Vec<(&'static str, Json)> {
    vec![
        ("findUnique", json!({"model": "User", "action": "findUnique", "args": {"where": {"id": 42}}})),
        (
            "findMany_where_order_take",
            json!({"model": "Post", "action": "findMany", "args": {"where": {"tenantId": 1, "published": true}, "orderBy": {"createdAt": "desc"}, "take": 20}}),
        ),
        (
            "include_3_levels",
            json!({"model": "User", "action": "findMany", "args": {"take": 20, "include": {"posts": {"include": {"comments": {"include": {"author": true}}}}}}}),
        ),
        (
            "relation_filter",
            json!({"model": "User", "action": "findMany", "args": {"where": {"posts": {"some": {"published": true, "comments": {"none": {"body": {"contains": "spam"}}}}}}}}),
        ),
        ("count", json!({"model": "Post", "action": "count", "args": {"where": {"published": true, "views": {"gt": 100}}}})),
        ("create", json!({"model": "Post", "action": "create", "args": {"data": {"tenantId": 1, "authorId": 7, "title": "Hello"}}})),
        (
            "nested_create",
            json!({"model": "User", "action": "create", "args": {"data": {"tenantId": 1, "email": "new@example.com", "posts": {"create": [{"tenantId": 1, "title": "One"}, {"tenantId": 1, "title": "Two"}]}}, "include": {"posts": true}}}),
        ),
        (
            "groupBy",
            json!({"model": "Post", "action": "groupBy", "args": {"by": ["authorId"], "_sum": {"views": true}, "where": {"tenantId": 1}}}),
        ),
    ]
}
