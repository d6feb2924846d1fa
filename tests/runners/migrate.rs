//! Schema migrations (`quarry_engine::migrate`) against the real PostgreSQL, each test in
//! namespaces of its own:
//!
//! - every schema the tests know (the corpus and the pattern fixtures) is created by `push` and is
//!   then in sync, and the same state rendered from its data alone (no DDL text) creates the same
//!   database: the renderer and the introspection agree on every type, default, key and index;
//! - every version of an evolving schema migrates to every other one and is then in sync;
//! - changes that lose data are refused unless accepted, changes that cannot run on the data are
//!   refused, and the checks look at the data, not at the change alone;
//! - migrations through the history table: a migration adds a model, a field, an index and a
//!   relation to a database with data; deploying is idempotent, also when two deploys race;
//!   drift shows up;
//! - row-level security is kept by `push` once it is there.

use quarry_conformance as corpus;
use quarry_engine::exec::{DbValue, Driver, Queryable, Transaction};
use quarry_engine::host::Host;
use quarry_postgres::PgDriver;
use serde_json::{Value as Json, json};

fn namespace(test: &str) -> String {
    format!("quarry_migrate_{test}_{}", std::process::id())
}

async fn driver() -> PgDriver {
    PgDriver::connect(&corpus::database_url()).await.unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {}: {e:?}", corpus::database_url()))
}

fn host(schema: &str, ns: &str, driver: PgDriver) -> Host<PgDriver> {
    Host::new(schema, &json!({ "namespace": ns }), driver, Default::default()).unwrap_or_else(|e| panic!("{e:?}"))
}

async fn fresh(driver: &PgDriver, ns: &str) {
    corpus::drop_namespace(driver, ns).await;
}

/// Runs statements in the namespace (test setup and data).
async fn sql(driver: &PgDriver, ns: &str, statements: &[&str]) {
    let tx = driver.begin(None).await.expect("begin");
    tx.execute(&format!("SET LOCAL search_path TO \"{ns}\""), &[]).await.expect("search path");
    for s in statements {
        if let Err(e) = tx.execute(s, &[]).await {
            panic!("{s}: {e:?}");
        }
    }
    tx.commit().await.expect("commit");
}

async fn scalar(driver: &PgDriver, query: &str) -> String {
    let rs = driver.query(query, &[]).await.unwrap_or_else(|e| panic!("{query}: {e:?}"));
    match rs.rows.first().and_then(|r| r.first()) {
        Some(DbValue::Text(t)) => t.clone(),
        Some(DbValue::Int(i)) => i.to_string(),
        Some(DbValue::Bool(b)) => b.to_string(),
        other => panic!("{query}: {other:?}"),
    }
}

fn steps(v: &Json) -> Vec<String> {
    v["steps"].as_array().map(|a| a.iter().map(|s| s["sql"].as_str().unwrap_or_default().to_owned()).collect()).unwrap_or_default()
}

async fn push(h: &Host<PgDriver>, accept: bool) -> Result<Json, quarry_engine::Error> {
    h.migrate(&json!({ "command": "push", "acceptDataLoss": accept })).await
}

async fn in_sync(h: &Host<PgDriver>, what: &str) {
    let again = h.migrate(&json!({ "command": "push", "dryRun": true })).await.unwrap_or_else(|e| panic!("{what}: {e:?}"));
    assert!(steps(&again).is_empty(), "{what}: not in sync after migrating:\n{}", again["script"].as_str().unwrap_or_default());
}

/// Every schema the tests use: the corpus's and the accepted pattern fixtures.
fn schemas() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["corpus/schemas", "fixtures/schemas", "fixtures/schemas/patterns", "fixtures/rls"] {
        let path = corpus::root().join(dir);
        let mut entries: Vec<_> = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.extension().is_none_or(|x| x != "prisma") {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("read schema");
            if text.lines().any(|l| l.starts_with("// expect: ") && !l.contains("ok")) {
                continue;
            }
            // Migrations run on PostgreSQL; MySQL schemas are pushed by the MySQL corpus runner.
            if text.lines().any(|l| l.trim_start().starts_with("provider") && l.contains("\"mysql\"")) {
                continue;
            }
            out.push((format!("{dir}/{}", p.file_stem().unwrap_or_default().to_string_lossy()), text));
        }
    }
    assert!(out.len() >= 20, "found {} schemas", out.len());
    out
}

/// What differs between the database and a snapshot (empty when they match).
async fn drift(h: &Host<PgDriver>, snapshot: &Json) -> Vec<String> {
    let out = h.migrate(&json!({ "command": "drift", "expected": { "snapshot": snapshot } })).await.unwrap_or_else(|e| panic!("{e:?}"));
    out["differences"].as_array().expect("list").iter().map(|s| s["sql"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn every_schema_is_pushed_in_sync_and_renders_the_same_from_its_data() {
    let d = driver().await;
    let ns = namespace("every");
    let copy = namespace("every_rendered");
    for (name, text) in schemas() {
        fresh(&d, &ns).await;
        fresh(&d, &copy).await;
        let h = host(&text, &ns, d.clone());
        let pushed = push(&h, false).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(pushed["applied"], json!(!steps(&pushed).is_empty()), "{name}");
        // What push made is what the schema's DDL makes.
        let snapshot = &pushed["snapshot"];
        assert_eq!(drift(&h, snapshot).await, Vec::<String>::new(), "{name}: not in sync after push");
        // The same state, rendered from its data alone into another namespace, is the same.
        let rendered = h.migrate(&json!({ "command": "diff", "from": { "empty": true }, "to": { "snapshot": snapshot } })).await.expect("diff from data");
        let tx = d.begin(None).await.expect("begin");
        tx.execute(&format!("CREATE SCHEMA \"{copy}\""), &[]).await.expect("schema");
        tx.execute(&format!("SET LOCAL search_path TO \"{copy}\", public"), &[]).await.expect("path");
        for s in &steps(&rendered) {
            if let Err(e) = tx.execute(s, &[]).await {
                panic!("{name}: rendered statement failed: {e:?}\n{s}");
            }
        }
        tx.commit().await.expect("commit");
        assert_eq!(drift(&host(&text, &copy, d.clone()), snapshot).await, Vec::<String>::new(), "{name}: rendered from data");
    }
    fresh(&d, &ns).await;
    fresh(&d, &copy).await;
}

/// Versions of one schema; every version migrates to every other.
const VERSIONS: [&str; 5] = [
    r#"
datasource db { provider = "postgresql" }
model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  posts Post[]
}
model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}
"#,
    r#"
datasource db { provider = "postgresql" }
enum Role {
  USER
  ADMIN
}
model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  role  Role   @default(USER)
  posts Post[]
}
model Post {
  id        Int      @id @default(autoincrement())
  title     String
  published Boolean  @default(false)
  createdAt DateTime @default(now())
  authorId  Int
  author    User     @relation(fields: [authorId], references: [id])
  tags      Tag[]

  @@index([title])
}
model Tag {
  id    Int    @id @default(autoincrement())
  name  String @unique
  posts Post[]
}
"#,
    r#"
datasource db { provider = "postgresql" }
enum Role {
  GUEST
  USER
  ADMIN
  OWNER
}
model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
  role  Role    @default(GUEST)
  roles Role[]
  posts Post[]
}
model Post {
  id        Int       @id @default(autoincrement())
  title     String    @db.VarChar(200)
  published Boolean   @default(true)
  authorId  Int
  author    User      @relation(fields: [authorId], references: [id], onDelete: Cascade)
  tags      Tag[]
  comments  Comment[]

  @@unique([authorId, title])
  @@index([published, title(sort: Desc)], map: "Post_listing_idx")
}
model Tag {
  id    Int    @id @default(autoincrement())
  name  String @unique
  posts Post[]
}
model Comment {
  id     BigInt @id @default(autoincrement())
  postId Int
  post   Post   @relation(fields: [postId], references: [id], onDelete: Cascade)
  body   String
}
"#,
    r#"
datasource db { provider = "postgresql" }
enum Role {
  MEMBER
  ADMIN
}
model User {
  id    BigInt @id @default(autoincrement())
  email String @map("email_address")
  role  Role   @default(MEMBER)
  posts Post[]

  @@unique([email], map: "User_email_unique")
}
model Post {
  id       Int     @id
  title    String  @db.VarChar(100)
  body     Json?
  score    Decimal @default(0) @db.Decimal(10, 2)
  authorId BigInt
  author   User    @relation(fields: [authorId], references: [id], onDelete: SetNull, onUpdate: NoAction)

  @@index([title], map: "Post_listing_idx")
}
"#,
    r#"
datasource db { provider = "postgresql" }
model Tenant {
  id    String @id @default(uuid())
  name  String
  users User[]
  posts Post[]
}
model User {
  id       Int    @id @default(autoincrement())
  tenantId String
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  email    String
  posts    Post[]

  @@unique([tenantId, email])
}
model Post {
  id       Int    @id @default(autoincrement())
  tenantId String
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}
"#,
];

/// A walk through every ordered pair of `n` versions (an Eulerian circuit of the complete
/// directed graph, by Hierholzer's algorithm): each migration is tried once, from a database that
/// the previous step left in sync.
fn every_transition(n: usize) -> Vec<usize> {
    let mut unused: Vec<Vec<usize>> = (0..n).map(|i| (0..n).filter(|j| *j != i).rev().collect()).collect();
    let (mut stack, mut walk) = (vec![0], Vec::new());
    while let Some(&v) = stack.last() {
        match unused[v].pop() {
            Some(next) => stack.push(next),
            None => walk.push(stack.pop().unwrap_or_default()),
        }
    }
    walk.reverse();
    walk
}

#[tokio::test]
async fn every_version_migrates_to_every_other() {
    let d = driver().await;
    let ns = namespace("versions");
    fresh(&d, &ns).await;
    let walk = every_transition(VERSIONS.len());
    assert_eq!(walk.len(), VERSIONS.len() * (VERSIONS.len() - 1) + 1);
    push(&host(VERSIONS[walk[0]], &ns, d.clone()), false).await.expect("first version");
    for pair in walk.windows(2) {
        let what = format!("v{} -> v{}", pair[0], pair[1]);
        let h = host(VERSIONS[pair[1]], &ns, d.clone());
        let out = push(&h, true).await.unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert_eq!(out["applied"], json!(true), "{what}");
        let left = drift(&h, &out["snapshot"]).await;
        assert!(left.is_empty(), "{what}: not in sync after\n{}\nstill differs by {left:#?}", out["script"].as_str().unwrap_or_default());
    }
    in_sync(&host(VERSIONS[walk[walk.len() - 1]], &ns, d.clone()), "the last version").await;
    fresh(&d, &ns).await;
}

async fn refused(h: &Host<PgDriver>, accept: bool) -> quarry_engine::Error {
    match push(h, accept).await {
        Ok(v) => panic!("expected a refusal, got {}", v["script"]),
        Err(e) => e,
    }
}

#[tokio::test]
async fn push_refuses_what_loses_data_or_cannot_run_on_it() {
    let d = driver().await;
    let ns = namespace("risks");
    fresh(&d, &ns).await;
    let base = VERSIONS[1];
    push(&host(base, &ns, d.clone()), false).await.expect("v1");
    // With empty tables, dropping columns and tables loses nothing.
    push(&host(VERSIONS[0], &ns, d.clone()), false).await.expect("nothing to lose");
    push(&host(base, &ns, d.clone()), false).await.expect("back");
    sql(&d, &ns, &[
        r#"INSERT INTO "User" (email) VALUES ('a@x'), ('b@x')"#,
        r#"INSERT INTO "Post" (title, "authorId") VALUES ('one', 1), ('one', 2)"#,
    ])
    .await;

    // Dropping a column and a table that hold data: refused, then accepted.
    let h0 = host(VERSIONS[0], &ns, d.clone());
    let e = refused(&h0, false).await;
    assert_eq!(e.code(), "Q5001", "{e:?}");
    let risks = e.meta()["risks"].as_array().expect("risks");
    assert!(risks.iter().any(|r| r["message"].as_str().unwrap_or_default().contains("drop the column `role` on the `User` table")), "{risks:?}");
    assert!(!e.message().contains("Tag"), "the empty Tag table is no risk: {}", e.message());
    assert_eq!(scalar(&d, &format!(r#"SELECT count(*)::text FROM "{ns}"."Post""#)).await, "2", "nothing ran");
    push(&h0, true).await.expect("accepted");
    in_sync(&h0, "after accepting").await;
    assert_eq!(scalar(&d, &format!(r#"SELECT count(*)::text FROM "{ns}"."Post""#)).await, "2", "rows kept");

    // A required column without a default on a table with rows cannot run, accepted or not.
    let required = VERSIONS[0].replace("title    String", "title    String\n  slug     String");
    let e = refused(&host(&required, &ns, d.clone()), true).await;
    assert_eq!(e.code(), "Q5002", "{e:?}");
    assert!(e.message().contains("Added the required column `slug` to the `Post` table"), "{}", e.message());
    // With a default it runs.
    let defaulted = VERSIONS[0].replace("title    String", "title    String\n  slug     String @default(\"\")");
    push(&host(&defaulted, &ns, d.clone()), false).await.expect("with a default");

    // A unique index over duplicated values cannot run; once they differ it does.
    let unique = defaulted.replace("title    String\n", "title    String @unique\n");
    let e = refused(&host(&unique, &ns, d.clone()), true).await;
    assert_eq!(e.code(), "Q5002", "{e:?}");
    assert!(e.message().contains("unique index on the `Post` table (`title`)"), "{}", e.message());
    sql(&d, &ns, &[r#"UPDATE "Post" SET title = 'two' WHERE id = 2"#]).await;
    push(&host(&unique, &ns, d.clone()), false).await.expect("no duplicates any more");

    // An optional field made required: refused while NULLs are there.
    let optional = unique.replace("slug     String @default(\"\")", "slug     String?");
    push(&host(&optional, &ns, d.clone()), false).await.expect("optional");
    sql(&d, &ns, &[r#"UPDATE "Post" SET slug = NULL WHERE id = 1"#]).await;
    let e = refused(&host(&unique.replace(" @default(\"\")", ""), &ns, d.clone()), true).await;
    assert_eq!(e.code(), "Q5002", "{e:?}");
    assert!(e.message().contains("required, but there are existing NULL values"), "{}", e.message());

    // A type change that may not convert is data loss; a widening one is not.
    let narrowed = optional.replace("title    String @unique", "title    String @unique @db.VarChar(3)");
    assert_eq!(refused(&host(&narrowed, &ns, d.clone()), false).await.code(), "Q5001");
    let widened = VERSIONS[0].replace("id       Int    @id @default(autoincrement())\n  title", "id       BigInt @id @default(autoincrement())\n  title");
    let widened = widened.replace("title    String\n", "title    String @unique\n  slug     String?\n");
    push(&host(&widened, &ns, d.clone()), false).await.expect("int to bigint loses nothing");
    fresh(&d, &ns).await;
}

fn checksum(sql: &str) -> String {
    // Not Prisma's SHA-256 (the engine does not compute it; the CLI does): any stable text will do here.
    format!("{:x}", sql.len())
}

async fn deploy(h: &Host<PgDriver>, name: &str, sql: &str) -> bool {
    let out = h
        .migrate(&json!({ "command": "deploy", "migration": { "name": name, "sql": sql, "checksum": checksum(sql) } }))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    out["applied"].as_bool().expect("applied")
}

#[tokio::test]
async fn migrations_add_a_model_a_field_an_index_and_a_relation_to_a_database_with_data() {
    let d = driver().await;
    let ns = namespace("history");
    fresh(&d, &ns).await;
    let v0 = host(VERSIONS[0], &ns, d.clone());
    v0.migrate(&json!({ "command": "history" })).await.expect("history table");
    let first = v0.migrate(&json!({ "command": "diff", "from": { "empty": true }, "to": { "schema": true } })).await.expect("diff");
    let init = first["script"].as_str().expect("script").to_owned();
    assert!(init.starts_with("-- CreateTable\nCREATE TABLE \"User\" ("), "the schema's own DDL: {init}");
    assert!(deploy(&v0, "20250101000000_init", &init).await);
    assert!(!deploy(&v0, "20250101000000_init", &init).await, "deploying again does nothing");
    sql(&d, &ns, &[r#"INSERT INTO "User" (email) VALUES ('a@x')"#, r#"INSERT INTO "Post" (title, "authorId") VALUES ('hello', 1)"#]).await;

    // v1 adds a model (Tag), fields (role, published, createdAt), an index and relations.
    let v1 = host(VERSIONS[1], &ns, d.clone());
    let drift = v1.migrate(&json!({ "command": "drift", "expected": { "snapshot": first["snapshot"] } })).await.expect("drift");
    assert_eq!(drift["differences"], json!([]), "no drift");
    let second = v1
        .migrate(&json!({ "command": "diff", "from": { "snapshot": first["snapshot"] }, "to": { "schema": true }, "check": true }))
        .await
        .expect("diff");
    assert_eq!(second["risks"], json!([]), "{}", second["risks"]);
    let script = second["script"].as_str().expect("script").to_owned();
    for expected in [
        "-- CreateEnum\nCREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');",
        "ALTER TABLE \"User\" ADD COLUMN \"role\" \"Role\" NOT NULL DEFAULT 'USER';",
        "-- CreateTable\nCREATE TABLE \"Tag\" (",
        "-- CreateIndex\nCREATE INDEX \"Post_title_idx\" ON \"Post\"(\"title\");",
        "-- AddForeignKey\nALTER TABLE \"_PostToTag\" ADD CONSTRAINT \"_PostToTag_A_fkey\"",
    ] {
        assert!(script.contains(expected), "missing {expected:?} in\n{script}");
    }
    assert!(deploy(&v1, "20250102000000_tags", &script).await);
    assert!(!deploy(&v1, "20250102000000_tags", &script).await);
    in_sync(&v1, "after the second migration").await;
    assert_eq!(scalar(&d, &format!(r#"SELECT role::text || published::text FROM "{ns}"."User", "{ns}"."Post""#)).await, "USERfalse");
    // Replaying the migration files gives the same state as the snapshot.
    let replay = v1
        .migrate(&json!({ "command": "diff", "from": { "migrations": [init, script] }, "to": { "snapshot": second["snapshot"] } }))
        .await
        .expect("replay");
    assert_eq!(replay["steps"], json!([]), "{}", replay["script"]);

    // A change made by hand is drift.
    sql(&d, &ns, &[r#"ALTER TABLE "Tag" ADD COLUMN "color" text"#]).await;
    let drift = v1.migrate(&json!({ "command": "drift", "expected": { "snapshot": second["snapshot"] } })).await.expect("drift");
    let differences: Vec<&str> = drift["differences"].as_array().expect("list").iter().filter_map(|s| s["sql"].as_str()).collect();
    assert_eq!(differences, [r#"ALTER TABLE "Tag" ADD COLUMN "color" text"#]);

    let history = v1.migrate(&json!({ "command": "history" })).await.expect("history");
    let names: Vec<&str> = history["migrations"].as_array().expect("list").iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names, ["20250101000000_init", "20250102000000_tags"]);
    fresh(&d, &ns).await;
}

#[tokio::test]
async fn concurrent_deploys_apply_a_migration_once() {
    let d = driver().await;
    let ns = namespace("race");
    fresh(&d, &ns).await;
    let h = host(VERSIONS[0], &ns, d.clone());
    h.migrate(&json!({ "command": "history" })).await.expect("history table");
    let script = h.migrate(&json!({ "command": "diff", "from": { "empty": true }, "to": { "schema": true } })).await.expect("diff")["script"]
        .as_str()
        .expect("script")
        .to_owned();
    let (a, b) = futures_util::future::join(deploy(&h, "1_init", &script), deploy(&h, "1_init", &script)).await;
    assert!(a ^ b, "exactly one of two racing deploys applies it ({a}, {b})");
    // A failing migration leaves nothing behind: not its statements, not a history row.
    let broken = "CREATE TABLE \"Extra\" (id int);\nALTER TABLE \"Nope\" ADD COLUMN x int;";
    let e = h
        .migrate(&json!({ "command": "deploy", "migration": { "name": "2_broken", "sql": broken, "checksum": "x" } }))
        .await
        .expect_err("fails");
    assert_eq!((e.code(), e.meta()["statement"].as_u64(), e.meta()["sqlstate"].as_str()), ("Q5004", Some(2), Some("42P01")), "{e:?}");
    assert_eq!(scalar(&d, &format!("SELECT (to_regclass('\"{ns}\".\"Extra\"') IS NULL)::text")).await, "true");
    let history = h.migrate(&json!({ "command": "history" })).await.expect("history");
    assert_eq!(history["migrations"].as_array().map(Vec::len), Some(1));
    // A migration that ends the transaction itself would apply half of it without its history row.
    let committing = "CREATE TABLE \"Half\" (id int);\nCOMMIT;";
    let e = h
        .migrate(&json!({ "command": "deploy", "migration": { "name": "3_commit", "sql": committing, "checksum": "x" } }))
        .await
        .expect_err("refused");
    assert_eq!((e.code(), e.meta()["statement"].as_u64()), ("Q5004", Some(2)), "{e:?}");
    assert_eq!(scalar(&d, &format!("SELECT (to_regclass('\"{ns}\".\"Half\"') IS NULL)::text")).await, "true");
    fresh(&d, &ns).await;
    // Deploying into a schema that does not exist yet creates it and the history table first.
    assert!(deploy(&h, "1_init", &script).await);
    assert_eq!(scalar(&d, &format!("SELECT count(*)::text FROM \"{ns}\".\"_prisma_migrations\"")).await, "1");
    fresh(&d, &ns).await;
}

#[tokio::test]
async fn push_keeps_row_level_security_once_it_is_there() {
    let d = driver().await;
    let ns = namespace("rls");
    fresh(&d, &ns).await;
    let schema = corpus::read_file("fixtures/rls/schema.prisma");
    let h = host(&schema, &ns, d.clone());
    push(&h, false).await.expect("push");
    let rls = h.migrate(&json!({ "command": "rls", "apply": true })).await.expect("rls");
    assert!(rls["statements"].as_array().is_some_and(|s| !s.is_empty()));
    let policies = format!("SELECT count(*)::text FROM pg_policies WHERE schemaname = '{ns}'");
    let count = scalar(&d, &policies).await;
    assert_ne!(count, "0");
    // The policies and tenant keys are part of what the database should have from now on.
    in_sync(&h, "after rls").await;
    // A new scoped model gets its policies from push.
    let more = format!(
        "{schema}\nmodel Note {{\n  id       Int    @id @default(autoincrement())\n  tenantId Int\n  tenant   Tenant @relation(fields: [tenantId], references: [id])\n}}\n"
    )
    .replace("categories Category[]\n}", "categories Category[]\n  notes      Note[]\n}");
    let h2 = host(&more, &ns, d.clone());
    let out = push(&h2, false).await.expect("push with a new model");
    assert!(out["script"].as_str().unwrap_or_default().contains("CREATE POLICY \"Note_tenant_select\""), "{}", out["script"]);
    in_sync(&h2, "new model").await;
    assert_eq!(scalar(&d, &policies).await.parse::<u32>().unwrap(), count.parse::<u32>().unwrap() + 4);
    fresh(&d, &ns).await;
}
