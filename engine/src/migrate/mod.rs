//! Schema migrations for PostgreSQL: what `db push`, `migrate dev` / `migrate deploy` and `rls`
//! need, one implementation for every host (the CLI drives it through the WebAssembly engine).
//!
//! - [`database`]: a namespace's tables, keys, indexes, enums and policies as data, read from the
//!   catalogs.
//! - [`diff`]: the statements between two such states, with the risks of each.
//! - [`apply`]: the schema's desired state (its DDL, [`crate::ddl`], run in a throwaway namespace
//!   and read back), data checks, applying in one transaction, Prisma Migrate's history table.
//!
//! [`run`] takes a command as JSON (the shape a binding passes through):
//!
//! - `{ "command": "push", "acceptDataLoss"?, "rls"?, "dryRun"? }`: make the database match the
//!   schema; refused (`Q5001`) when data would be lost and that was not accepted, or (`Q5002`)
//!   when a change cannot run on the data there. A dry run only reports the steps and risks.
//! - `{ "command": "diff", "from": <source>, "to": <source>, "rls"?, "check"? }`: the statements
//!   between two states, as steps and as a migration script, with the target state (the snapshot
//!   a migration keeps); `check` asks the database which risks apply to its data.
//! - `{ "command": "drift", "expected": <source> }`: what differs between the database and what
//!   its migrations create.
//! - `{ "command": "history" }`, `{ "command": "deploy", "migration": { name, sql, checksum } }`.
//! - `{ "command": "rls", "apply"? }`: the row-level security statements, applied if asked.
//!
//! A source is `{ "schema": true }` (the engine's schema), `{ "database": true }`,
//! `{ "snapshot": <state> }`, `{ "migrations": ["sql", ...] }` (replayed in a throwaway namespace)
//! or `{ "empty": true }`. Row-level security is compared when `rls` says so, or else when the
//! starting state has it, so a database secured with [`crate::ddl::rls_statements`] keeps its
//! policies and tenant keys.

pub mod apply;
pub mod database;
pub mod diff;

use crate::Engine;
use crate::error::{Error, Result, codes};
use crate::exec::{Driver, DriverError};
use database::Database;
use diff::{Level, Risk, Step};
use serde_json::{Map, Value as Json, json};

/// A driver error met while migrating, with the database's own message: migrations are run by the
/// schema's owner on their own statements, and the message is what tells them what to fix.
pub(crate) fn database_error(e: DriverError, doing: &str) -> Error {
    match e {
        DriverError::Database { sqlstate, message, .. } => {
            Error::new(codes::MIGRATION_FAILED, format!("{doing}: {message} (SQLSTATE {sqlstate})")).with_meta("sqlstate", sqlstate)
        }
        DriverError::Connection(m) => Error::new(codes::DRIVER, format!("{doing}: cannot reach the database: {m}")).with_meta("kind", "connection"),
        DriverError::PoolTimeout { .. } => Error::new(codes::POOL_TIMEOUT, format!("{doing}: timed out waiting for a connection")),
        DriverError::TransactionClosed(m) | DriverError::Other(m) => Error::new(codes::DRIVER, format!("{doing}: {m}")),
    }
}

/// The same for a statement, which the error then quotes.
pub(crate) fn statement_error(e: DriverError, doing: &str, stmt: &str) -> Error {
    let shown: String = stmt.chars().take(300).collect();
    let e = database_error(e, doing);
    let message = format!("{}\n  in: {shown}", e.message());
    let mut out = Error::new(e.code(), message);
    for (k, v) in e.meta() {
        out = out.with_meta(k, v.clone());
    }
    out.with_meta("sql", shown)
}

fn bad(path: &str, message: &str) -> Error {
    Error::at(codes::INVALID_VALUE, path, message)
}

fn flag(obj: &Map<String, Json>, key: &str) -> Result<Option<bool>> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(key, "expected true or false")),
    }
}

/// Where a state comes from.
enum Source {
    Schema,
    Database,
    Snapshot(Database),
    Migrations(Vec<String>),
    Empty,
}

fn source(obj: &Map<String, Json>, key: &str) -> Result<Source> {
    let v = obj.get(key).and_then(Json::as_object).ok_or_else(|| bad(key, "expected { schema | database | snapshot | migrations | empty }"))?;
    Ok(match v.iter().next() {
        Some((k, Json::Bool(true))) if k == "schema" && v.len() == 1 => Source::Schema,
        Some((k, Json::Bool(true))) if k == "database" && v.len() == 1 => Source::Database,
        Some((k, Json::Bool(true))) if k == "empty" && v.len() == 1 => Source::Empty,
        Some((k, s)) if k == "snapshot" && v.len() == 1 => Source::Snapshot(
            serde_json::from_value(s.clone()).map_err(|e| bad(&format!("{key}.snapshot"), &format!("not a snapshot of a database: {e}")))?,
        ),
        Some((k, Json::Array(items))) if k == "migrations" && v.len() == 1 => Source::Migrations(
            items
                .iter()
                .map(|s| s.as_str().map(str::to_owned).ok_or_else(|| bad(&format!("{key}.migrations"), "expected SQL texts")))
                .collect::<Result<_>>()?,
        ),
        _ => return Err(bad(key, "expected one of { schema: true }, { database: true }, { snapshot }, { migrations: [...] }, { empty: true }")),
    })
}

struct Migrator<'a, D: Driver> {
    engine: &'a Engine,
    driver: &'a D,
    namespace: String,
}

impl<D: Driver> Migrator<'_, D> {
    /// The schema's DDL, unqualified: it runs wherever the search path puts it.
    fn ddl(&self, rls: bool) -> Vec<String> {
        let schema = self.engine.schema();
        let mut statements = crate::ddl::create_statements(schema, None);
        if rls {
            statements.extend(crate::ddl::rls_statements(schema, None));
        }
        statements
    }

    /// The database as it is, and whether its namespace exists.
    async fn database(&self) -> Result<(Database, bool)> {
        let tx = self.driver.begin(None).await.map_err(|e| database_error(e, "starting a transaction"))?;
        let result = async {
            apply::search_path(&tx, &self.namespace).await?;
            database::introspect(&tx, &self.namespace).await
        }
        .await;
        let _ = crate::exec::Transaction::rollback(tx).await;
        result
    }

    async fn state(&self, source: Source, rls: bool) -> Result<Database> {
        match source {
            Source::Schema => {
                let statements = self.ddl(rls);
                let mut db = apply::shadow(self.driver, &statements, "the schema's DDL").await?;
                db.attach_sql(&statements);
                Ok(db)
            }
            Source::Database => Ok(self.database().await?.0),
            Source::Snapshot(db) => Ok(db),
            Source::Migrations(scripts) => apply::shadow(self.driver, &scripts, "the migrations").await,
            Source::Empty => Ok(Database::default()),
        }
    }

    /// Both states; row-level security is compared as asked, or when either fixed state has it.
    async fn states(&self, from: Source, to: Source, rls: Option<bool>) -> Result<(Database, Database, bool)> {
        let from = self.state(from, false).await?;
        let to_is_schema = matches!(to, Source::Schema);
        if to_is_schema {
            let rls = rls.unwrap_or_else(|| from.has_rls());
            return Ok((from, self.state(to, rls).await?, rls));
        }
        let to = self.state(to, false).await?;
        let rls = rls.unwrap_or_else(|| from.has_rls() || to.has_rls());
        Ok((from, to, rls))
    }
}

fn risks_json(risks: &[Risk]) -> Json {
    Json::Array(risks.iter().map(|r| json!({ "level": r.level.name(), "message": r.message })).collect())
}

fn steps_json(steps: &[Step]) -> Json {
    Json::Array(steps.iter().map(Step::to_json).collect())
}

fn snapshot(db: &Database) -> Result<Json> {
    serde_json::to_value(db).map_err(|e| Error::internal(format!("the snapshot does not serialize: {e}")))
}

/// Refuses steps whose risks apply: unexecutable ones always, data loss unless accepted.
fn refuse(risks: &[Risk], accept_data_loss: bool) -> Result<()> {
    let list = |level: Level| risks.iter().filter(|r| r.level == level).cloned().collect::<Vec<_>>();
    let unexecutable = list(Level::Unexecutable);
    if !unexecutable.is_empty() {
        let lines: Vec<String> = unexecutable.iter().map(|r| format!("  - {}", r.message)).collect();
        return Err(Error::new(codes::MIGRATION_UNEXECUTABLE, format!("these changes cannot run on the data in the database:\n{}", lines.join("\n")))
            .with_meta("risks", risks_json(&unexecutable)));
    }
    let loss = list(Level::DataLoss);
    if !loss.is_empty() && !accept_data_loss {
        let lines: Vec<String> = loss.iter().map(|r| format!("  - {}", r.message)).collect();
        return Err(Error::new(
            codes::MIGRATION_DATA_LOSS,
            format!("these changes would lose data:\n{}\nAccept the data loss (--accept-data-loss) to apply them anyway.", lines.join("\n")),
        )
        .with_meta("risks", risks_json(&loss)));
    }
    Ok(())
}

/// Runs a migration command (see the module's documentation).
pub async fn run<D: Driver>(engine: &Engine, driver: &D, command: &Json) -> Result<Json> {
    let obj = command.as_object().ok_or_else(|| bad("", "expected a command object"))?;
    let m = Migrator { engine, driver, namespace: engine.options().namespace.clone().unwrap_or_else(|| "public".to_owned()) };
    let name = obj.get("command").and_then(Json::as_str).unwrap_or_default();
    match name {
        "push" => {
            let (db, _) = m.database().await?;
            let rls = flag(obj, "rls")?.unwrap_or_else(|| db.has_rls());
            let to = m.state(Source::Schema, rls).await?;
            let steps = diff::diff(&db, &to, rls);
            let risks = apply::check(driver, &m.namespace, &steps).await?;
            let dry = flag(obj, "dryRun")?.unwrap_or(false);
            if !dry {
                refuse(&risks, flag(obj, "acceptDataLoss")?.unwrap_or(false))?;
            }
            if !dry && !steps.is_empty() {
                let statements: Vec<String> = steps.iter().map(|s| s.sql.clone()).collect();
                apply::apply(driver, &m.namespace, &statements).await?;
            }
            Ok(json!({
                "steps": steps_json(&steps),
                "script": diff::script(&steps),
                "risks": risks_json(&risks),
                "applied": !dry && !steps.is_empty(),
                "snapshot": snapshot(&to)?,
            }))
        }
        "diff" => {
            let (from, to, rls) = m.states(source(obj, "from")?, source(obj, "to")?, flag(obj, "rls")?).await?;
            let steps = diff::diff(&from, &to, rls);
            let risks = if flag(obj, "check")?.unwrap_or(false) {
                apply::check(driver, &m.namespace, &steps).await?
            } else {
                steps.iter().filter_map(|s| s.risk.clone()).collect()
            };
            Ok(json!({
                "steps": steps_json(&steps),
                "script": diff::script(&steps),
                "risks": risks_json(&risks),
                "rls": rls,
                "snapshot": snapshot(&to)?,
            }))
        }
        "drift" => {
            let expected = m.state(source(obj, "expected")?, false).await?;
            let (db, _) = m.database().await?;
            let rls = expected.has_rls();
            let steps = diff::diff(&expected, &db, rls);
            Ok(json!({ "differences": steps_json(&steps) }))
        }
        "history" => {
            let applied = apply::history(driver, &m.namespace).await?;
            let list: Vec<Json> = applied
                .iter()
                .map(|a| json!({ "name": a.name, "checksum": a.checksum, "finished": a.finished, "rolledBack": a.rolled_back }))
                .collect();
            Ok(json!({ "migrations": list }))
        }
        "deploy" => {
            let mig = obj.get("migration").and_then(Json::as_object).ok_or_else(|| bad("migration", "expected { name, sql, checksum }"))?;
            let field = |k: &str| {
                mig.get(k).and_then(Json::as_str).map(str::to_owned).ok_or_else(|| bad(&format!("migration.{k}"), "expected a string"))
            };
            let file = apply::MigrationFile { name: field("name")?, sql: field("sql")?, checksum: field("checksum")? };
            let applied = apply::deploy_one(driver, &m.namespace, &file).await?;
            Ok(json!({ "applied": applied }))
        }
        "rls" => {
            let statements = crate::ddl::rls_statements(engine.schema(), engine.options().namespace.as_deref());
            let applied = flag(obj, "apply")?.unwrap_or(false);
            if applied && !statements.is_empty() {
                apply::apply(driver, &m.namespace, &statements).await?;
            }
            Ok(json!({ "statements": statements, "applied": applied }))
        }
        other => Err(bad("command", &format!("unknown command \"{other}\"; expected push, diff, drift, history, deploy or rls"))),
    }
}
