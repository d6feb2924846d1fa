//! Realistic schemas end to end: every schema pattern users write (tests/fixtures/schemas/patterns,
//! taken from the Prisma patterns reference) parses, or is refused with the error Prisma itself
//! gives, as each file's `// expect:` line says; every accepted schema's DDL then runs on the real
//! PostgreSQL, in a schema of its own, and creates one table per model and implicit join table.

use quarry_conformance::{self as corpus};
use quarry_engine::exec::{Driver, Queryable, Transaction};
use quarry_engine::schema::Schema;
use quarry_postgres::PgDriver;
use std::path::PathBuf;

/// Every fixture schema with what it expects: `None` to be accepted, or the error code and a
/// fragment of its message.
fn fixtures() -> Vec<(PathBuf, String, Option<(String, String)>)> {
    let root = corpus::root().join("fixtures/schemas");
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in [root.clone(), root.join("patterns")] {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = entry.expect("directory entry").path();
            if p.extension().is_some_and(|x| x == "prisma") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let expect = text.lines().find_map(|l| l.strip_prefix("// expect: ")).unwrap_or("ok").trim().to_owned();
            let expect = if expect == "ok" {
                None
            } else {
                let (code, fragment) = expect.split_once(' ').unwrap_or((expect.as_str(), ""));
                Some((code.to_owned(), fragment.to_owned()))
            };
            (p, text, expect)
        })
        .collect()
}

/// The number of implicit many-to-many join tables (`_AToB`).
fn join_tables(schema: &Schema) -> usize {
    let mut names: Vec<&str> = schema
        .model_ids()
        .flat_map(|m| schema.model(m).relation_fields().map(|(_, _, r)| r))
        .filter_map(|r| match &r.link {
            quarry_engine::schema::RelationLink::JoinTable { table, .. } => Some(table.as_str()),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

#[test]
fn every_pattern_parses_or_is_refused_like_prisma() {
    let all = fixtures();
    assert!(all.len() >= 20, "expected the pattern fixtures, found {}", all.len());
    for (path, text, expect) in &all {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match (Schema::parse(text), expect) {
            (Ok(_), None) => {}
            (Err(e), Some((code, fragment))) => {
                assert_eq!(e.code(), code, "{name}: {e:?}");
                assert!(e.message().contains(fragment.as_str()), "{name}: expected {fragment:?} in {e:?}");
                assert!(e.meta().get("line").is_some(), "{name}: the error has no line: {e:?}");
            }
            (Ok(_), Some((code, _))) => panic!("{name}: parsed, but Prisma refuses it ({code})"),
            (Err(e), None) => panic!("{name}: {e:?}"),
        }
    }
}

#[tokio::test]
async fn accepted_schemas_create_their_tables_on_postgresql() {
    let driver = PgDriver::connect(&corpus::database_url())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {}: {e:?}", corpus::database_url()));
    for (path, text, expect) in fixtures() {
        if expect.is_some() {
            continue;
        }
        let stem = path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let namespace = format!("quarry_schema_{}_{}", corpus::slug(&stem), std::process::id());
        let schema = Schema::parse(&text).unwrap_or_else(|e| panic!("{stem}: {e:?}"));
        let expected_tables = schema.model_ids().count() + join_tables(&schema);
        let tx = driver.begin(None).await.expect("begin");
        tx.execute(&format!("CREATE SCHEMA \"{namespace}\""), &[]).await.expect("create schema");
        for stmt in quarry_engine::ddl::create_statements(&schema, Some(&namespace)) {
            if let Err(e) = tx.execute(&stmt, &[]).await {
                let _ = tx.rollback().await;
                panic!("{stem}: DDL failed: {e:?}\n{stmt}");
            }
        }
        let rs = tx
            .query("SELECT count(*)::int8 FROM information_schema.tables WHERE table_schema = $1", &[quarry_engine::value::Value::String(namespace.clone())])
            .await
            .expect("count tables");
        // Rolled back: nothing is left behind, whatever happens next.
        tx.rollback().await.expect("rollback");
        let tables = match rs.rows.first().and_then(|r| r.first()) {
            Some(quarry_engine::exec::DbValue::Int(n)) => *n as usize,
            other => panic!("{stem}: unexpected count {other:?}"),
        };
        assert_eq!(tables, expected_tables, "{stem}: tables created");
    }
}

/// What Quarry refuses rather than translate wrongly: other database providers, views, composite
/// types and several PostgreSQL schemas. Each construct is placed after a varying number of
/// ordinary models, and the error must be `Q1004` at the construct's own line and column.
#[test]
fn unsupported_features_are_refused_at_their_line() {
    let filler = |prefix: &str, n: usize| -> String { (0..n).map(|i| format!("model {prefix}{i} {{\n  id Int @id\n}}\n")).collect() };
    // (what is tried, the text, where the error must point: the line's text and a fragment of the message)
    let cases: Vec<(&str, String, &str, &str)> = [
        ("sqlite", "sqlite"),
        ("sqlserver", "sqlserver"),
        ("mongodb", "mongodb"),
        ("cockroachdb", "cockroachdb"),
    ]
    .into_iter()
    .map(|(p, fragment)| (p, format!("datasource db {{\n  url = env(\"X\")\n  provider = \"{p}\"\n}}\n"), "  provider = ", fragment))
    .chain([
        ("view", "view Totals {\n  id    Int @unique\n  total Int\n}\n".to_owned(), "view Totals {", "views are not supported"),
        ("type", "type Address {\n  street String\n}\n".to_owned(), "type Address {", "composite types"),
        ("model @@schema", "model Audit {\n  id Int @id\n  @@schema(\"audit\")\n}\n".to_owned(), "  @@schema(\"audit\")", "@@schema"),
        ("enum @@schema", "enum Level {\n  LOW\n  @@schema(\"audit\")\n}\n".to_owned(), "  @@schema(\"audit\")", "@@schema"),
        (
            "schemas",
            "datasource db {\n  provider = \"postgresql\"\n  schemas  = [\"public\", \"audit\"]\n}\n".to_owned(),
            "  schemas  = ",
            "multiple schemas",
        ),
    ])
    .collect();
    for (what, construct, at, fragment) in &cases {
        for before in [0, 1, 3] {
            let text = format!("{}{construct}{}", filler("Before", before), filler("After", 2));
            let (line, column) = text
                .lines()
                .enumerate()
                .find(|(_, l)| l.starts_with(at))
                .map(|(i, l)| (i as u64 + 1, (l.len() - l.trim_start().len()) as u64 + 1))
                .unwrap_or_else(|| panic!("{what}: {at:?} not in the text"));
            let e = Schema::parse(&text).err().unwrap_or_else(|| panic!("{what}: accepted\n{text}"));
            assert_eq!(e.code(), "Q1004", "{what}: {e:?}");
            assert!(e.message().contains(fragment), "{what}: {e:?}");
            assert_eq!((e.meta()["line"].as_u64(), e.meta()["column"].as_u64()), (Some(line), Some(column)), "{what}: {e:?}\n{text}");
        }
    }
    // PostgreSQL, spelled either way, is accepted.
    for p in ["postgresql", "postgres"] {
        Schema::parse(&format!("datasource db {{\n  provider = \"{p}\"\n}}\n{}", filler("M", 1))).unwrap_or_else(|e| panic!("{p}: {e:?}"));
    }
}
