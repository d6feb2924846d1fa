//! SQL snapshots: every corpus case compiled (no database) to its statements and parameters,
//! one insta snapshot per case and dialect, so a change in generated SQL shows up in review.

use quarry_conformance as corpus;
use quarry_engine::exec::Dialect;
use quarry_engine::{Engine, EngineOptions};
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;

#[test]
fn corpus_sql_snapshots() {
    snapshots("snapshots", |schema| schema, Dialect::Postgres, &PostgreSqlDialect {});
}

/// The same corpus compiled for MySQL (each schema with `provider = "mysql"`): every statement
/// must parse with sqlparser's MySQL dialect, and its text is kept as a snapshot beside the
/// PostgreSQL ones.
#[test]
fn corpus_mysql_sql_snapshots() {
    snapshots("snapshots-mysql", |schema| schema.replace("\"postgresql\"", "\"mysql\""), Dialect::Mysql, &MySqlDialect {});
}

/// Compiles every case for `dialect` (its schema made by `schema_for` from the corpus's) and
/// compares the statements with the snapshots in `corpus/<dir>`.
fn snapshots(dir: &str, schema_for: fn(String) -> String, dialect: Dialect, parser: &dyn sqlparser::dialect::Dialect) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(corpus::root().join(dir));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for suite in corpus::load_suites() {
            let schema = schema_for(corpus::read_file(&suite.schema));
            let engine = Engine::new(&schema, EngineOptions::default()).expect("schema");
            for case in &suite.cases {
                let name = format!("{}__{}", suite.name, corpus::slug(&case.name));
                let requests: Vec<&serde_json::Value> = match &case.request {
                    serde_json::Value::Array(items) => items.iter().collect(),
                    r => vec![r],
                };
                let mut text = String::new();
                for request in requests {
                    let ctx = case.context(&engine);
                    match ctx.and_then(|ctx| engine.compile(request, &ctx, dialect)) {
                        Ok(c) => {
                            for s in c["statements"].as_array().into_iter().flatten() {
                                let sql = s["sql"].as_str().unwrap_or_default();
                                // Generated SQL is a sqlparser tree rendered to text: it must parse back.
                                Parser::parse_sql(parser, sql)
                                    .unwrap_or_else(|e| panic!("{name}: generated {dialect:?} SQL does not parse ({e}):\n{sql}"));
                                text.push_str(sql);
                                text.push_str("\n-- params: ");
                                text.push_str(&s["params"].to_string());
                                text.push_str("\n\n");
                            }
                        }
                        Err(e) => text.push_str(&format!("-- error {}: {}\n\n", e.code(), e.message())),
                    }
                }
                insta::assert_snapshot!(name, text.trim_end());
            }
        }
    });
}
