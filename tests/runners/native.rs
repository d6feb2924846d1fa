//! Runs the conformance corpus on the native path: the engine over tokio-postgres against the
//! PostgreSQL in `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`). Each suite
//! gets its own PostgreSQL schema (each case of a write suite gets its own), so cases run in
//! parallel. An unreachable database fails the run.

#[path = "support/corpus_runner.rs"]
mod corpus_runner;

use corpus_runner::runtime;
use quarry_conformance::{self as corpus, Suite};
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::PgDriver;
use std::sync::OnceLock;

struct Postgres;

impl corpus_runner::Backend for Postgres {
    type Driver = PgDriver;
    const NAME: &'static str = "native";
    const PREFIX: &'static str = "qc";
    const TEXT_RESULTS: bool = true;

    fn driver(&self) -> &PgDriver {
        static DRIVER: OnceLock<PgDriver> = OnceLock::new();
        DRIVER.get_or_init(|| {
            let url = format!("{}{}connection_limit=8", corpus::database_url(), if corpus::database_url().contains('?') { "&" } else { "?" });
            runtime()
                .block_on(async { PgDriver::connect(&url).await })
                .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {}: {e:?}", corpus::database_url()))
        })
    }

    fn engine_for(&self, suite: &Suite, namespace: &str) -> Result<Engine, String> {
        let schema = corpus::read_file(&suite.schema);
        Engine::new(&schema, EngineOptions { namespace: Some(namespace.to_owned()), ..Default::default() })
            .map_err(|e| format!("schema {}: {e:?}", suite.schema))
    }

    async fn prepare(&self, suite: &Suite, namespace: &str) -> Result<(), String> {
        let engine = self.engine_for(suite, namespace)?;
        let seed = suite.seed.as_deref().map(corpus::read_file);
        corpus::prepare(self.driver(), &engine, namespace, seed.as_deref()).await
    }

    async fn reseed(&self, suite: &Suite, namespace: &str) -> Result<(), String> {
        let seed = suite.seed.as_deref().map(corpus::read_file);
        corpus::reseed(self.driver(), namespace, seed.as_deref()).await
    }

    async fn drop_database(&self, namespace: &str) {
        corpus::drop_namespace(self.driver(), namespace).await;
    }
}

fn main() {
    let known = corpus::known_failures("native");
    corpus_runner::main(Postgres, |id| known.iter().any(|k| k == id));
}
