//! Runs the conformance corpus on MariaDB / MySQL: the engine with `provider = "mysql"` over the
//! test-only `mysql_async` driver (the cells a JavaScript MySQL adapter gives), against the server
//! in `MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). The corpus's schemas are used as
//! they are with the provider switched to `mysql`; their tables come from the engine's MySQL DDL
//! and their seeds (PostgreSQL SQL, the one source of the seed data) are translated row by row
//! into bound MySQL inserts. Each read suite gets its own database, each write case its own.
//! A case either passes or is listed with its reason in `known-failures/mysql.txt`; a listed
//! case that passes fails the run. An unreachable server fails the run.

#[path = "support/corpus_runner.rs"]
mod corpus_runner;
#[path = "support/mysql_driver.rs"]
mod mysql_driver;
#[path = "support/mysql_seed.rs"]
#[allow(dead_code)]
mod mysql_seed;

use corpus_runner::runtime;
use mysql_async::prelude::Queryable as _;
use mysql_driver::MyDriver;
use quarry_conformance::{self as corpus, Suite};
use quarry_engine::{Engine, EngineOptions};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A corpus schema with its datasource switched to MySQL.
pub fn mysql_schema(text: &str) -> String {
    text.replace("provider = \"postgresql\"", "provider = \"mysql\"").replace("provider     = \"postgresql\"", "provider     = \"mysql\"")
}

struct Mysql;

impl corpus_runner::Backend for Mysql {
    type Driver = MyDriver;
    const NAME: &'static str = "mysql";
    const PREFIX: &'static str = "qm";

    fn driver(&self) -> &MyDriver {
        static DRIVER: OnceLock<MyDriver> = OnceLock::new();
        DRIVER.get_or_init(|| {
            let d = MyDriver::new(&mysql_seed::url()).unwrap_or_else(|e| panic!("bad MYSQL_URL {}: {e}", mysql_seed::url()));
            runtime()
                .block_on(async { d.conn().await.map(drop) })
                .unwrap_or_else(|e| panic!("cannot connect to MySQL at {}: {e:?}", mysql_seed::url()));
            d
        })
    }

    fn engine_for(&self, suite: &Suite, database: &str) -> Result<Engine, String> {
        let schema = mysql_schema(&corpus::read_file(&suite.schema));
        Engine::new(&schema, EngineOptions { namespace: Some(database.to_owned()), ..Default::default() })
            .map_err(|e| format!("schema {}: {e:?}", suite.schema))
    }

    async fn prepare(&self, suite: &Suite, database: &str) -> Result<(), String> {
        let engine = self.engine_for(suite, database)?;
        let mut conn = self.driver().conn().await.map_err(|e| format!("{e:?}"))?;
        let seed = suite.seed.as_ref().map(|p| corpus::read_file(p));
        mysql_seed::create_database(&mut conn, engine.schema(), database, seed.as_deref()).await
    }

    /// Empties the database's tables (AUTO_INCREMENT restarted) and seeds it again.
    async fn reseed(&self, suite: &Suite, database: &str) -> Result<(), String> {
        let engine = self.engine_for(suite, database)?;
        let mut conn = self.driver().conn().await.map_err(|e| format!("{e:?}"))?;
        let tables: Vec<String> = conn
            .exec("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (database,))
            .await
            .map_err(|e| e.to_string())?;
        conn.query_drop("SET FOREIGN_KEY_CHECKS = 0").await.map_err(|e| e.to_string())?;
        for t in tables {
            conn.query_drop(format!("TRUNCATE TABLE `{}`.`{}`", database, t.replace('`', "``"))).await.map_err(|e| e.to_string())?;
        }
        conn.query_drop("SET FOREIGN_KEY_CHECKS = 1").await.map_err(|e| e.to_string())?;
        match &suite.seed {
            Some(path) => mysql_seed::load(&mut conn, engine.schema(), database, &corpus::read_file(path)).await,
            None => Ok(()),
        }
    }

    async fn drop_database(&self, database: &str) {
        if let Ok(mut conn) = self.driver().conn().await {
            mysql_seed::drop_database(&mut conn, database).await;
        }
    }
}

/// `known-failures/mysql.txt`: `suite/case name # reason`, one a line; every entry needs a reason.
fn known_failures() -> HashMap<String, String> {
    let p = corpus::root().join("known-failures/mysql.txt");
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")) {
        let (id, reason) = line.split_once(" # ").unwrap_or_else(|| panic!("known-failures/mysql.txt: {line:?} has no ` # reason`"));
        out.insert(id.trim().to_owned(), reason.trim().to_owned());
    }
    out
}

fn main() {
    let known = known_failures();
    corpus_runner::main(Mysql, |id| known.contains_key(id));
}
