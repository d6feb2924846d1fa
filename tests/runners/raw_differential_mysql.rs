//! Differential test of the raw SQL guard in the MySQL dialect, on MariaDB: generated statements
//! run under tenant 1 on two databases that differ only in tenant 2's rows (values changed, a row
//! deleted, rows added). Whatever tenant 1's statement gives — rows (as a multiset), affected
//! count, error number and message — must be the same on both, and after a write tenant 1's rows
//! must be the same on both and tenant 2's and the global rows unchanged; any difference means
//! tenant 2's data reached tenant 1. Each statement runs in a transaction that is rolled back.
//!
//! The generator writes MySQL text: joins, derived tables, subqueries in FROM / WHERE / the select
//! list, WITH (RECURSIVE too) with names that shadow tables, UNION, aggregates, GROUP_CONCAT,
//! aliases that shadow tables, names backquoted, unquoted, qualified and in other cases, strings
//! with backslash escapes, comments; UPDATE / DELETE / INSERT assigning the tenant column from
//! several kinds of expression. `QUARRY_RAWDIFF_CASES` sets the number of statements (default
//! 2,000), `QUARRY_RAWDIFF_SEED` the seed. `MYSQL_URL` overrides the server.

#[path = "support/mysql_driver.rs"]
#[allow(dead_code)]
mod mysql_driver;
#[path = "support/mysql_seed.rs"]
#[allow(dead_code)]
mod mysql_seed;
#[path = "tenant_property/rng.rs"]
#[allow(dead_code)]
mod rng;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, TxOpts, Value as My};
use quarry_engine::exec::Dialect;
use quarry_engine::plan::Step;
use quarry_engine::rawsql::{RawKind, RawRequest, RawSql, plan_in, render_mysql};
use quarry_engine::schema::Schema;
use quarry_engine::scope::TenantContext;
use quarry_engine::value::Value;
use rng::Rng;

const SCHEMA: &str = r#"
model Tenant {
  id    Int    @id
  users User[]
  posts Post[]
}
model User {
  id       Int     @id
  tenantId Int
  tenant   Tenant  @relation(fields: [tenantId], references: [id])
  email    String
  name     String?
  posts    Post[]
}
model Post {
  id       Int    @id
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
  title    String
  views    Int
}
model Tag {
  id   Int    @id
  name String
}
"#;

const DDL: &[&str] = &[
    "CREATE TABLE `Tenant` (id INT PRIMARY KEY)",
    "CREATE TABLE `User` (id INT PRIMARY KEY, tenantId INT NOT NULL, email VARCHAR(191) NOT NULL, name VARCHAR(191) NULL, \
     FOREIGN KEY (tenantId) REFERENCES `Tenant`(id))",
    "CREATE TABLE `Post` (id INT PRIMARY KEY, tenantId INT NOT NULL, authorId INT NOT NULL, title VARCHAR(191) NOT NULL, views INT NOT NULL, \
     FOREIGN KEY (tenantId) REFERENCES `Tenant`(id), FOREIGN KEY (authorId) REFERENCES `User`(id))",
    "CREATE TABLE `Tag` (id INT PRIMARY KEY, name VARCHAR(191) NOT NULL)",
    "INSERT INTO `Tenant` VALUES (1), (2)",
    "INSERT INTO `User` VALUES (1, 1, 'a1@x', 'Ann'), (2, 1, 'a2@x', NULL), (3, 2, 'b1@x', 'Bob'), (4, 2, 'b2@x', 'Bea')",
    "INSERT INTO `Post` VALUES (1, 1, 1, 'hello', 10), (2, 1, 2, 'it''s', 0), (3, 1, 1, 'a\\\\b', 5), \
     (11, 2, 3, 'hello', 7), (12, 2, 4, 'secret', 100), (13, 2, 3, 'zzz', 1)",
    "INSERT INTO `Tag` VALUES (1, 'red'), (2, 'blue')",
];

/// Tenant 2's rows in the second database: changed, deleted and added.
const CHANGES: &[&str] = &[
    "UPDATE `Post` SET title = 'changed', views = 999 WHERE id = 12",
    "DELETE FROM `Post` WHERE id = 13",
    "UPDATE `User` SET name = NULL, email = 'other@x' WHERE id = 4",
    "INSERT INTO `User` VALUES (5, 2, 'b3@x', 'New')",
    "INSERT INTO `Post` VALUES (14, 2, 5, 'added', 3), (15, 2, 3, 'hello', 8)",
];

const DEFAULT_CASES: u64 = 2_000;
const DEFAULT_SEED: u64 = 0x5EED_D1FF_2026_3306;

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")))
}

fn shown(v: &My) -> String {
    match v {
        My::Bytes(b) => format!("'{}'", String::from_utf8_lossy(b)),
        other => other.as_sql(true),
    }
}

/// Statement text generator.
struct Gen<'a> {
    rng: &'a mut Rng,
    params: Vec<Value>,
}

const TABLES: &[(&str, &[&str])] = &[
    ("Post", &["id", "tenantId", "authorId", "title", "views"]),
    ("User", &["id", "tenantId", "email", "name"]),
    ("Tag", &["id", "name"]),
    ("Tenant", &["id"]),
];

impl Gen<'_> {
    fn name(&mut self, n: &str) -> String {
        match self.rng.below(6) {
            0 => format!("`{n}`"),
            1 => n.to_uppercase(),
            2 => n.to_lowercase(),
            _ => n.to_owned(),
        }
    }

    fn table(&mut self) -> (&'static str, &'static [&'static str]) {
        let i = self.rng.weighted(&[5, 4, 1, 1]);
        TABLES[i]
    }

    fn table_name(&mut self, t: &str) -> String {
        match self.rng.below(10) {
            0 => format!("`{t}`"),
            1 => format!("test.{t}"),
            2 => t.to_lowercase(),
            _ => t.to_owned(),
        }
    }

    fn literal(&mut self) -> String {
        match self.rng.below(9) {
            0 => self.rng.range(-1, 16).to_string(),
            1 => "'hello'".into(),
            2 => r"'it\'s'".into(),
            3 => r"'a\\b'".into(),
            4 => "NULL".into(),
            5 => "\"secret\"".into(),
            6 => {
                self.params.push(Value::Int(self.rng.range(0, 15)));
                "?".into()
            }
            7 => {
                self.params.push(Value::String(self.rng.pick(&["hello", "secret", "changed", "a1@x"]).to_string()));
                "?".into()
            }
            _ => "2".into(),
        }
    }

    fn column(&mut self, alias: &str, cols: &[&str]) -> String {
        let c = self.rng.pick(cols).to_string();
        let c = self.name(&c);
        if self.rng.chance(50) { format!("{alias}.{c}") } else { c }
    }

    fn cond(&mut self, alias: &str, cols: &[&str], depth: u32) -> String {
        match self.rng.below(if depth > 1 { 4 } else { 9 }) {
            0 | 1 => {
                let c = self.column(alias, cols);
                let op = *self.rng.pick(&["=", "<>", "<", ">=", "LIKE", "<=>"]);
                let lit = self.literal();
                format!("{c} {op} {lit}")
            }
            2 => format!("{} IS NULL", self.column(alias, cols)),
            3 => format!("{} IN ({}, {})", self.column(alias, cols), self.literal(), self.literal()),
            4 => format!("({} OR {})", self.cond(alias, cols, depth + 1), self.cond(alias, cols, depth + 1)),
            5 => format!("NOT ({})", self.cond(alias, cols, depth + 1)),
            6 => {
                let (t, tc) = self.table();
                let tn = self.table_name(t);
                let inner = self.cond("s", tc, depth + 1);
                format!("EXISTS (SELECT 1 FROM {tn} s WHERE {inner})")
            }
            7 => {
                let (t, tc) = self.table();
                let tn = self.table_name(t);
                let ic = self.rng.pick(tc).to_string();
                format!("{} IN (SELECT s.{ic} FROM {tn} AS s)", self.column(alias, cols))
            }
            _ => {
                let (t, _) = self.table();
                let tn = self.table_name(t);
                format!("(SELECT COUNT(*) FROM {tn}) > {}", self.rng.range(0, 6))
            }
        }
    }

    fn projection(&mut self, alias: &str, cols: &[&str], depth: u32) -> String {
        let mut items = Vec::new();
        for i in 0..1 + self.rng.below(3) {
            items.push(match self.rng.below(if depth > 1 { 3 } else { 8 }) {
                0 | 1 => format!("{} AS c{i}", self.column(alias, cols)),
                2 => format!("COUNT(*) AS c{i}"),
                3 => format!("MAX({}) AS c{i}", self.column(alias, cols)),
                4 => format!("GROUP_CONCAT({} ORDER BY 1) AS c{i}", self.column(alias, cols)),
                5 => {
                    let (t, tc) = self.table();
                    let tn = self.table_name(t);
                    let ic = self.rng.pick(tc).to_string();
                    format!("(SELECT MAX(s.{ic}) FROM {tn} s) AS c{i}")
                }
                6 => format!("CONCAT({}, {}) AS c{i}", self.column(alias, cols), self.literal()),
                _ => format!("{} AS c{i}", self.literal()),
            });
        }
        items.join(", ")
    }

    fn select(&mut self, depth: u32) -> String {
        let (t, cols) = self.table();
        let alias = *self.rng.pick(&["p", "u", "Post", "User", "x"]);
        let from = match self.rng.below(if depth > 1 { 2 } else { 6 }) {
            0 | 1 => format!("{} {alias}", self.table_name(t)),
            2 => {
                let inner = self.select(depth + 1);
                return format!("SELECT * FROM ({inner}) AS {alias}");
            }
            3 => {
                let (t2, c2) = self.table();
                let on = format!("{alias}.{} = j.{}", self.rng.pick(cols), self.rng.pick(c2));
                format!("{} {alias} {} {} j ON {on}", self.table_name(t), self.rng.pick(&["JOIN", "LEFT JOIN", "RIGHT JOIN"]), self.table_name(t2))
            }
            4 => {
                let (t2, _) = self.table();
                format!("{} {alias}, {} j", self.table_name(t), self.table_name(t2))
            }
            _ => {
                let inner = self.select(depth + 1);
                let shadow = *self.rng.pick(&["w", "Post", "User", "Tag"]);
                return format!("WITH {shadow} AS ({inner}) SELECT * FROM {shadow}");
            }
        };
        let proj = self.projection(alias, cols, depth);
        let mut sql = format!("SELECT {proj} FROM {from}");
        if self.rng.chance(70) {
            sql.push_str(&format!(" WHERE {}", self.cond(alias, cols, depth)));
        }
        if self.rng.chance(20) {
            sql.push_str(" GROUP BY 1");
        }
        if depth == 0 && self.rng.chance(15) {
            let other = self.select(depth + 1);
            sql = format!("{sql} UNION {}{other}", if self.rng.chance(50) { "ALL " } else { "" });
        }
        if depth == 0 && self.rng.chance(10) {
            sql.push_str(" # comment\n");
        }
        sql
    }

    /// A statement and whether it writes.
    fn statement(&mut self) -> (String, bool) {
        match self.rng.below(10) {
            0 => {
                let (t, cols) = match self.table() {
                    (_, [_]) => TABLES[0],
                    other => other,
                };
                let tn = self.table_name(t);
                let picked = *self.rng.pick(&cols[1..]);
                let c = self.name(picked);
                let value = match self.rng.below(5) {
                    0 => "2".into(),
                    1 => format!("{c} + 1"),
                    2 => "(SELECT MAX(id) FROM Tenant)".into(),
                    _ => self.literal(),
                };
                let cond = self.cond(t, cols, 1);
                (format!("UPDATE {tn} SET {c} = {value} WHERE {cond}"), true)
            }
            1 => {
                let (t, cols) = self.table();
                let tn = self.table_name(t);
                let cond = self.cond(t, cols, 1);
                (format!("DELETE FROM {tn} WHERE {cond}"), true)
            }
            2 => {
                let id = self.rng.range(100, 200);
                let tenant = match self.rng.below(4) {
                    0 => ", tenantId) VALUES (?, 1, 'new', 0, 2)".to_owned(),
                    1 => ", tenantId) VALUES (?, 1, 'new', 0, 1)".to_owned(),
                    _ => ") VALUES (?, 1, 'new', 0)".to_owned(),
                };
                self.params.push(Value::Int(id));
                (format!("INSERT INTO Post (id, authorId, title, views{tenant}"), true)
            }
            _ => (self.select(0), false),
        }
    }
}

struct Db {
    name: String,
    conn: Conn,
}

impl Db {
    async fn open(name: String, changed: bool) -> Db {
        let statements: Vec<&str> = DDL.iter().chain(if changed { CHANGES } else { &[] }).copied().collect();
        let conn = mysql_seed::fresh_database(&name, &statements).await;
        Db { name, conn }
    }

    async fn rows(tx: &mut mysql_async::Transaction<'_>, sql: &str) -> Vec<String> {
        let rows: Vec<Row> = tx.query(sql).await.unwrap();
        rows.into_iter().map(|r| r.unwrap().iter().map(shown).collect::<Vec<_>>().join("|")).collect()
    }

    /// Tenant 1's rows, and everything else.
    async fn digests(tx: &mut mysql_async::Transaction<'_>) -> (Vec<String>, Vec<String>) {
        let mine = [
            Self::rows(tx, "SELECT * FROM `User` WHERE tenantId = 1 ORDER BY id").await,
            Self::rows(tx, "SELECT * FROM `Post` WHERE tenantId = 1 ORDER BY id").await,
        ]
        .concat();
        let others = [
            Self::rows(tx, "SELECT * FROM `User` WHERE tenantId <> 1 ORDER BY id").await,
            Self::rows(tx, "SELECT * FROM `Post` WHERE tenantId <> 1 ORDER BY id").await,
            Self::rows(tx, "SELECT * FROM `Tag` ORDER BY id").await,
            Self::rows(tx, "SELECT * FROM `Tenant` ORDER BY id").await,
        ]
        .concat();
        (mine, others)
    }

    /// Runs the planned statement in a transaction that is rolled back: the outcome, tenant 1's
    /// rows after it, and whether the other rows stayed as they were.
    async fn run(&mut self, guards: &[(String, Vec<Value>)], text: &str, params: &[Value], write: bool) -> (String, Vec<String>, bool) {
        let mut tx = self.conn.start_transaction(TxOpts::default()).await.unwrap();
        let (_, before) = Self::digests(&mut tx).await;
        let mut outcome = None;
        for (g, gp) in guards {
            match tx.exec::<Row, _, _>(g.as_str(), gp.iter().map(mysql_driver::param).collect::<Vec<_>>()).await {
                Ok(rows) if rows.is_empty() => {}
                Ok(_) => outcome = Some("guard: a row".to_owned()),
                Err(e) => outcome = Some(format!("guard error {e}")),
            }
            if outcome.is_some() {
                break;
            }
        }
        let outcome = match outcome {
            Some(o) => o,
            None => {
                let args: Vec<My> = params.iter().map(mysql_driver::param).collect();
                if write {
                    match tx.exec_drop(text, args).await {
                        Ok(()) => format!("affected {}", tx.affected_rows()),
                        Err(e) => format!("error {e}"),
                    }
                } else {
                    match tx.exec::<Row, _, _>(text, args).await {
                        Ok(rows) => {
                            let mut texts: Vec<String> = rows.into_iter().map(|r| r.unwrap().iter().map(shown).collect::<Vec<_>>().join("|")).collect();
                            texts.sort();
                            format!("rows {texts:?}")
                        }
                        Err(e) => format!("error {e}"),
                    }
                }
            }
        };
        let (mine, after) = Self::digests(&mut tx).await;
        tx.rollback().await.unwrap();
        (outcome.replace(&self.name, "{db}"), mine, before == after)
    }
}

#[tokio::test]
async fn raw_sql_under_a_tenant_is_blind_to_other_tenants_on_mariadb() {
    let cases = env_number("QUARRY_RAWDIFF_CASES").unwrap_or(DEFAULT_CASES);
    let seed = env_number("QUARRY_RAWDIFF_SEED").unwrap_or(DEFAULT_SEED);
    let pid = std::process::id();
    let mut one = Db::open(format!("quarry_rawdiff_my_one_{pid}"), false).await;
    let mut two = Db::open(format!("quarry_rawdiff_my_two_{pid}"), true).await;
    let schema = Schema::parse(SCHEMA).unwrap();
    let ctx = TenantContext::Tenant(Value::Int(1));
    let mut rng = Rng::new(seed);
    let (mut ran, mut refused, mut failed) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    for i in 0..cases {
        let mut g = Gen { rng: &mut rng, params: Vec::new() };
        let (sql, write) = g.statement();
        let params = std::mem::take(&mut g.params);
        let kind = if write { RawKind::Execute } else { RawKind::Query };
        let plan = match plan_in(&schema, None, &ctx, RawRequest { kind, query: sql.clone(), params }, Dialect::Mysql) {
            Ok(p) => p,
            Err(_) => {
                refused += 1;
                continue;
            }
        };
        let guards: Vec<(String, Vec<Value>)> = plan
            .guards
            .iter()
            .map(|g| {
                let Step::Query { stmt, .. } = g else { panic!("a guard that is not a query") };
                let values: Vec<Value> = stmt.params.iter().map(|p| match p {
                    quarry_engine::sql::Param::Value(v) => v.clone(),
                    _ => panic!("a guard with a reference"),
                }).collect();
                render_mysql(&stmt.ast, &values).unwrap()
            })
            .collect();
        let RawSql::Verbatim { text, params } = &plan.sql else { panic!("MySQL raw SQL is rendered when planned") };
        let a = one.run(&guards, text, params, write).await;
        let b = two.run(&guards, text, params, write).await;
        if a.0.starts_with("error") {
            failed += 1;
        } else {
            ran += 1;
        }
        if a.0 != b.0 || a.1 != b.1 || !a.2 || !b.2 {
            failures.push(format!(
                "case {i} (seed {seed:#x}):\n  {sql}\n  ran as {text}\n  one: {} (others unchanged: {})\n  two: {} (others unchanged: {})\n  tenant rows equal: {}",
                a.0, a.2, b.0, b.2, a.1 == b.1
            ));
            if failures.len() >= 10 {
                break;
            }
        }
    }
    eprintln!("{cases} statements: {ran} ran, {failed} failed alike on both, {refused} refused");
    for db in [&one.name, &two.name] {
        let _ = one.conn.query_drop(format!("DROP DATABASE `{db}`")).await;
    }
    assert!(failures.is_empty(), "tenant 2's rows reached tenant 1:\n{}", failures.join("\n"));
    assert!(ran * 4 >= cases, "too few statements ran ({ran} of {cases}): the generator is off");
}
