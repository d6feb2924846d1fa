//! Raw SQL under a tenant with the MySQL dialect, run on MariaDB: the accepted forms of the
//! statements the scope stage refuses or rewrites are planned by the engine, and the MySQL text it
//! renders runs on a database of its own with two tenants' rows. Each must run (the text is valid
//! MySQL), return only tenant 1's rows, and leave tenant 2's rows as they were.
//! The same runs end to end through the engine (provider mysql, a test-only MySQL driver): raw
//! requests as the client sends them, guards and errors included.
//! `MYSQL_URL` overrides the server (default `mysql://root@127.0.0.1:3306/test`).

#[path = "support/mysql_driver.rs"]
#[allow(dead_code)]
mod mysql_driver;
#[path = "support/mysql_seed.rs"]
#[allow(dead_code)]
mod mysql_seed;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value as My};
use quarry_engine::exec::Dialect;
use quarry_engine::plan::Step;
use quarry_engine::rawsql::{RawKind, RawRequest, RawSql, plan_in, render_mysql};
use quarry_engine::schema::Schema;
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;

const SCHEMA: &str = r#"
model Tenant {
  id    Int    @id
  users User[]
  posts Post[]
}
model User {
  id       Int    @id
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  email    String
  posts    Post[]
}
model Post {
  id       Int    @id
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
  title    String
}
model Tag {
  id   Int    @id
  name String
}
"#;

const DDL: &[&str] = &[
    "CREATE TABLE `Tenant` (id INT PRIMARY KEY)",
    "CREATE TABLE `User` (id INT PRIMARY KEY, tenantId INT NOT NULL, email VARCHAR(191) NOT NULL, FOREIGN KEY (tenantId) REFERENCES `Tenant`(id))",
    "CREATE TABLE `Post` (id INT PRIMARY KEY, tenantId INT NOT NULL, authorId INT NOT NULL, title VARCHAR(191) NOT NULL, \
     FOREIGN KEY (tenantId) REFERENCES `Tenant`(id), FOREIGN KEY (authorId) REFERENCES `User`(id))",
    "CREATE TABLE `Tag` (id INT PRIMARY KEY, name VARCHAR(191) NOT NULL)",
    "INSERT INTO `Tenant` VALUES (1), (2)",
    "INSERT INTO `User` VALUES (1, 1, 'a1@x'), (2, 1, 'a2@x'), (3, 2, 'b1@x'), (4, 2, 'b2@x')",
    "INSERT INTO `Post` VALUES (1, 1, 1, 'same'), (2, 1, 2, 'a-only'), (3, 2, 3, 'same'), (4, 2, 4, 'b-only'), (5, 2, 3, 'it''s')",
    "INSERT INTO `Tag` VALUES (1, 'red'), (2, 'blue')",
];

/// A value as the expectations write it: text in single quotes, as it is.
fn shown(v: &My) -> String {
    match v {
        My::Bytes(b) => format!("'{}'", String::from_utf8_lossy(b)),
        other => other.as_sql(true),
    }
}

/// A database of its own, with tenant 1's and tenant 2's rows.
async fn setup(name: &str) -> (Conn, String) {
    let db = format!("quarry_raw_mysql_{name}_{}", std::process::id());
    (mysql_seed::fresh_database(&db, DDL).await, db)
}

/// Tenant 2's rows, as text.
async fn others(conn: &mut Conn) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sql in ["SELECT id, email FROM `User` WHERE tenantId <> 1", "SELECT id, authorId, title FROM `Post` WHERE tenantId <> 1", "SELECT id, name FROM `Tag`"] {
        let rows: Vec<Row> = conn.query(format!("{sql} ORDER BY id")).await.unwrap();
        out.extend(rows.iter().map(|r| format!("{:?}", r.clone().unwrap())));
    }
    out
}

/// Plans `sql` under tenant 1 and runs it (guards first): the rows as `column=value` strings, or
/// the affected count.
async fn run(conn: &mut Conn, kind: RawKind, sql: &str, params: Vec<Value>) -> (Vec<String>, u64) {
    let schema = Schema::parse(SCHEMA).unwrap();
    let req = RawRequest { kind, query: sql.to_owned(), params };
    let plan = plan_in(&schema, None, &TenantContext::Tenant(Value::Int(1)), req, Dialect::Mysql)
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    for g in &plan.guards {
        let Step::Query { stmt, .. } = g else { panic!("a guard that is not a query") };
        let values: Vec<Value> = stmt.params.iter().map(|p| match p {
            quarry_engine::sql::Param::Value(v) => v.clone(),
            _ => panic!("a guard with a reference"),
        }).collect();
        let (text, values) = render_mysql(&stmt.ast, &values).unwrap();
        let rows: Vec<Row> = conn.exec(&text, values.iter().map(mysql_driver::param).collect::<Vec<_>>()).await.unwrap_or_else(|e| panic!("guard {text}: {e}"));
        assert!(rows.is_empty(), "the guard of {sql} found a row: {text}");
    }
    let RawSql::Verbatim { text, params } = &plan.sql else { panic!("MySQL raw SQL is rendered when planned") };
    let args: Vec<My> = params.iter().map(mysql_driver::param).collect();
    match kind {
        RawKind::Query => {
            let rows: Vec<Row> = conn.exec(text, args).await.unwrap_or_else(|e| panic!("{sql}\nran as\n{text}\n{e}"));
            let rows = rows
                .into_iter()
                .map(|r| {
                    let cols: Vec<String> = r.columns_ref().iter().map(|c| c.name_str().into_owned()).collect();
                    let vals = r.unwrap();
                    cols.iter().zip(vals).map(|(c, v)| format!("{c}={}", shown(&v))).collect::<Vec<_>>().join(" ")
                })
                .collect();
            (rows, 0)
        }
        RawKind::Execute => {
            conn.exec_drop(text, args).await.unwrap_or_else(|e| panic!("{sql}\nran as\n{text}\n{e}"));
            (vec![], conn.affected_rows())
        }
    }
}

#[tokio::test]
async fn accepted_forms_run_on_mariadb_and_see_only_the_tenants_rows() {
    let (mut conn, db) = setup("plan").await;
    let before = others(&mut conn).await;
    let cases: Vec<(&str, Vec<Value>, Vec<&str>)> = vec![
        ("SELECT id, title FROM Post ORDER BY id", vec![], vec!["id=1 title='same'", "id=2 title='a-only'"]),
        ("SELECT `id` FROM `Post` WHERE title = ? ORDER BY id", vec![Value::String("same".into())], vec!["id=1"]),
        // Backslash escapes as MySQL reads them, and a literal that ends in a backslash.
        (r"SELECT 'it\'s' AS a, 'x\\' AS b, ' OR 1 = 1' AS c, id FROM Post WHERE id = 1", vec![], vec![r"a='it's' b='x\' c=' OR 1 = 1' id=1"]),
        (r#"SELECT id FROM Post WHERE title = "it's""#, vec![], vec![]),
        // Comments are dropped; the statement around them runs.
        ("SELECT id /* c */ FROM Post # to the end\n WHERE id > ? -- and this\n ORDER BY id", vec![Value::Int(0)], vec!["id=1", "id=2"]),
        // Joins, subqueries, set operations, WITH, aggregates: tenant 1's rows only.
        ("SELECT p.id, u.email FROM Post p JOIN User u ON u.id = p.authorId ORDER BY p.id", vec![], vec!["id=1 email='a1@x'", "id=2 email='a2@x'"]),
        ("SELECT id FROM Post WHERE authorId IN (SELECT id FROM User WHERE email LIKE ?) ORDER BY id", vec![Value::String("%".into())], vec!["id=1", "id=2"]),
        ("SELECT id FROM Post UNION SELECT id FROM User ORDER BY id", vec![], vec!["id=1", "id=2"]),
        ("WITH x AS (SELECT id FROM Post) SELECT COUNT(*) AS n FROM x", vec![], vec!["n=2"]),
        ("SELECT COUNT(*) AS n, GROUP_CONCAT(title ORDER BY id) AS t FROM Post", vec![], vec!["n=2 t='same,a-only'"]),
        ("SELECT ID AS i FROM Post WHERE TITLE = 'a-only'", vec![], vec!["i=2"]),
        ("SELECT id FROM Post WHERE id = 3", vec![], vec![]),
        ("SELECT t.name FROM Tag t ORDER BY t.id", vec![], vec!["name='red'", "name='blue'"]),
    ];
    for (sql, params, want) in cases {
        let (rows, _) = run(&mut conn, RawKind::Query, sql, params).await;
        assert_eq!(rows, want, "{sql}");
    }
    // Writes reach tenant 1's rows only.
    let (_, n) = run(&mut conn, RawKind::Execute, "UPDATE Post SET title = ? WHERE id = ?", vec![Value::String("x".into()), Value::Int(3)]).await;
    assert_eq!(n, 0);
    let (_, n) = run(&mut conn, RawKind::Execute, "UPDATE Post SET TITLE = ? WHERE title = 'same'", vec![Value::String("same!".into())]).await;
    assert_eq!(n, 1);
    let (_, n) = run(&mut conn, RawKind::Execute, "DELETE FROM Post WHERE title LIKE 'same%' OR id = 4", vec![]).await;
    assert_eq!(n, 1);
    let (_, n) = run(&mut conn, RawKind::Execute, "INSERT INTO Post (id, authorId, title) VALUES (?, ?, ?)", vec![Value::Int(10), Value::Int(1), Value::String("new".into())]).await;
    assert_eq!(n, 1);
    let rows: Vec<(i64, i64)> = conn.query("SELECT id, tenantId FROM `Post` WHERE id = 10").await.unwrap();
    assert_eq!(rows, vec![(10, 1)]);
    assert_eq!(others(&mut conn).await, before, "tenant 2's rows changed");
    conn.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
}

#[tokio::test]
async fn raw_requests_through_the_engine_with_provider_mysql() {
    use quarry_engine::{Engine, EngineOptions};
    use serde_json::json;
    let (mut conn, db) = setup("engine").await;
    let before = others(&mut conn).await;
    let schema = format!("datasource db {{\n  provider = \"mysql\"\n}}\n{SCHEMA}");
    let engine = Engine::new(&schema, EngineOptions { namespace: Some(db.clone()), ..Default::default() }).expect("engine");
    let base = mysql_seed::url();
    let (head, tail) = base.split_once('?').map_or((base.as_str(), ""), |(h, t)| (h, t));
    let head = head.rsplit_once('/').map_or(head, |(h, _)| h);
    let with_db = if tail.is_empty() { format!("{head}/{db}") } else { format!("{head}/{db}?{tail}") };
    let driver = mysql_driver::MyDriver::new(&with_db).expect("driver");
    let t1 = TenantContext::Tenant(Value::Int(1));
    let raw = |action: &str, sql: &str, params: serde_json::Value| json!({"action": action, "args": {"query": sql, "parameters": params}});

    let rows = engine.request(&driver, &raw("queryRaw", "SELECT id, title FROM Post WHERE title LIKE ? ORDER BY id", json!(["%"])), &t1).await.unwrap();
    assert_eq!(rows, json!([{"id": 1, "title": "same"}, {"id": 2, "title": "a-only"}]));
    // A backslash-escaped literal and a parameter that looks like SQL stay values.
    let rows = engine.request(&driver, &raw("queryRaw", r"SELECT 'it\'s' AS a, id FROM Post WHERE title = ?", json!(["' OR 1=1 -- "])), &t1).await.unwrap();
    assert_eq!(rows, json!([]));
    // A write with a foreign key to a scoped table runs its guard first: tenant 2's user is "not found".
    let e = engine.request(&driver, &raw("executeRaw", "INSERT INTO Post (id, authorId, title) VALUES (?, ?, ?)", json!([20, 3, "x"])), &t1).await.unwrap_err();
    assert_eq!(e.code(), "P2003", "{e:?}");
    let n = engine.request(&driver, &raw("executeRaw", "INSERT INTO Post (id, authorId, title) VALUES (?, ?, ?)", json!([20, 1, "x"])), &t1).await.unwrap();
    assert_eq!(n, json!(1));
    let n = engine.request(&driver, &raw("executeRaw", "UPDATE Post SET title = 'y' WHERE id IN (3, 4, 20)", json!([])), &t1).await.unwrap();
    assert_eq!(n, json!(1));
    // Refusals are the engine's typed errors.
    for sql in ["SELECT id FROM Post /*! UNION SELECT id FROM User */", "SELECT @@version", "SELECT LOAD_FILE('/etc/passwd')", "SELECT * FROM mysql.user"] {
        let e = engine.request(&driver, &raw("queryRaw", sql, json!([])), &t1).await.unwrap_err();
        assert_eq!(e.code(), "Q3004", "{sql}: {e:?}");
    }
    assert_eq!(others(&mut conn).await, before, "tenant 2's rows changed");
    conn.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
}
