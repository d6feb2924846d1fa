//! SQL snapshots: every corpus case compiled (no database) to its statements and parameters,
//! one insta snapshot per case, so a change in generated SQL shows up in review.

use quarry_conformance as corpus;
use quarry_engine::exec::Dialect;
use quarry_engine::{Engine, EngineOptions};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

#[test]
fn corpus_sql_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(corpus::root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for suite in corpus::load_suites() {
            let schema = corpus::read_file(&suite.schema);
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
                    let compiled = ctx.and_then(|ctx| engine.compile(request, &ctx, Dialect::Postgres));
                    match compiled {
                        Ok(c) => {
                            for s in c["statements"].as_array().into_iter().flatten() {
                                let sql = s["sql"].as_str().unwrap_or_default();
                                // Generated SQL is a sqlparser tree rendered to text: it must parse back.
                                Parser::parse_sql(&PostgreSqlDialect {}, sql)
                                    .unwrap_or_else(|e| panic!("{name}: generated SQL does not parse ({e}):\n{sql}"));
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

/// The same corpus compiled for MySQL (each schema with `provider = "mysql"`): every statement
/// must parse with sqlparser's MySQL dialect, and its text is kept as a snapshot beside the
/// PostgreSQL ones.
#[test]
fn corpus_mysql_sql_snapshots() {
    use sqlparser::dialect::MySqlDialect;
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(corpus::root().join("snapshots-mysql"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for suite in corpus::load_suites() {
            let schema = corpus::read_file(&suite.schema).replace("\"postgresql\"", "\"mysql\"");
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
                    match ctx.and_then(|ctx| engine.compile(request, &ctx, Dialect::Mysql)) {
                        Ok(c) => {
                            for s in c["statements"].as_array().into_iter().flatten() {
                                let sql = s["sql"].as_str().unwrap_or_default();
                                Parser::parse_sql(&MySqlDialect {}, sql)
                                    .unwrap_or_else(|e| panic!("{name}: generated MySQL does not parse ({e}):\n{sql}"));
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
