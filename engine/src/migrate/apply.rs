//! Migrations against a database, through the engine's [`Driver`]: the desired state of a schema
//! (its DDL run in a throwaway namespace inside a transaction that is rolled back), the data
//! checks behind risky steps, applying statements in one transaction, and Prisma Migrate's
//! history table (`_prisma_migrations`, same columns and checksums, so the two tools read each
//! other's history). Every transaction puts the target namespace first on the search path, so
//! migration files stay unqualified, as Prisma writes them, and run in whichever namespace the
//! URL names.

use super::database::{Database, HISTORY_TABLE, introspect, quote};
use super::diff::{Check, Risk, Step};
use super::{database_error, statement_error};
use crate::error::{Error, Result, codes};
use crate::exec::{DbValue, Driver, Queryable, Transaction};
use crate::value::Value;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// Prisma Migrate's advisory lock: deploys by either tool wait for each other.
const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(72707369)";

/// Puts `namespace` first on the transaction's search path (what the session had stays behind
/// it, so extensions' types and functions still resolve). The name is bound, never spliced.
pub async fn search_path<Q: Queryable>(q: &Q, namespace: &str) -> Result<()> {
    q.query("SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)", &[Value::String(quote(namespace))])
        .await
        .map_err(|e| database_error(e, "setting the search path"))?;
    Ok(())
}

async fn rollback<T: Transaction>(tx: T, result: Result<Database>) -> Result<Database> {
    let _ = tx.rollback().await;
    result
}

/// What `statements` create, read back from the catalogs: they run in a new namespace inside a
/// transaction that is then rolled back, so nothing stays behind. `scripts` are the schema's DDL
/// (one statement each) or migration files (split here).
pub async fn shadow<D: Driver>(driver: &D, scripts: &[String], what: &str) -> Result<Database> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| Error::internal("no source of randomness available"))?;
    let name = format!("_quarry_shadow_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let tx = driver.begin(None).await.map_err(|e| database_error(e, "starting a transaction"))?;
    let result = async {
        tx.execute(&format!("CREATE SCHEMA {}", quote(&name)), &[]).await.map_err(|e| {
            database_error(e, "creating a temporary namespace to compute the schema's tables (the role needs CREATE on the database)")
        })?;
        search_path(&tx, &name).await?;
        for script in scripts {
            for stmt in split(script)? {
                tx.execute(&stmt, &[]).await.map_err(|e| statement_error(e, &format!("running {what} in a temporary namespace"), &stmt))?;
            }
        }
        Ok(introspect(&tx, &name).await?.0)
    }
    .await;
    rollback(tx, result).await
}

/// The statements of a script, split at the semicolons between them (strings, quoted names,
/// dollar quoting and comments read by sqlparser's tokenizer); comments-only pieces are dropped.
pub fn split(script: &str) -> Result<Vec<String>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, script).tokenize_with_location().map_err(|e| {
        Error::new(codes::MIGRATION_FAILED, format!("the SQL does not read: {}", e.message)).with_meta("line", e.location.line)
    })?;
    // Byte offset of each line start, to turn (line, column) into an offset.
    let lines: Vec<usize> = std::iter::once(0).chain(script.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let offset = |line: u64, column: u64| -> usize {
        let start = lines.get(line.saturating_sub(1) as usize).copied().unwrap_or(script.len());
        script[start..].char_indices().nth(column.saturating_sub(1) as usize).map_or(script.len(), |(i, _)| start + i)
    };
    let mut out = Vec::new();
    let (mut start, mut content) = (0usize, false);
    for t in &tokens {
        match &t.token {
            Token::SemiColon => {
                let end = offset(t.span.start.line, t.span.start.column);
                if content {
                    out.push(script[start..end].trim().to_owned());
                }
                start = end + 1;
                content = false;
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => content = true,
        }
    }
    if content {
        out.push(script[start..].trim().to_owned());
    }
    Ok(out)
}

/// Runs the checks of risky steps; the risks that apply to the data there.
pub async fn check<Q: Queryable>(q: &Q, namespace: &str, steps: &[Step]) -> Result<Vec<Risk>> {
    let mut found = Vec::new();
    for risk in steps.iter().filter_map(|s| s.risk.as_ref()) {
        let Some(c) = &risk.check else {
            found.push(risk.clone());
            continue;
        };
        let table = |t: &str| format!("{}.{}", quote(namespace), quote(t));
        let sql = match c {
            Check::Rows { table: t } => format!("SELECT EXISTS (SELECT 1 FROM {})", table(t)),
            Check::Values { table: t, column } => format!("SELECT EXISTS (SELECT 1 FROM {} WHERE {} IS NOT NULL)", table(t), quote(column)),
            Check::Nulls { table: t, column } => format!("SELECT EXISTS (SELECT 1 FROM {} WHERE {} IS NULL)", table(t), quote(column)),
            Check::Duplicates { table: t, columns } => {
                let cols = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
                let not_null = columns.iter().map(|c| format!("{} IS NOT NULL", quote(c))).collect::<Vec<_>>().join(" AND ");
                format!("SELECT EXISTS (SELECT 1 FROM {} WHERE {not_null} GROUP BY {cols} HAVING count(*) > 1)", table(t))
            }
        };
        let rs = q.query(&sql, &[]).await.map_err(|e| database_error(e, "checking the data a change would touch"))?;
        let yes = match rs.rows.first().and_then(|r| r.first()) {
            Some(DbValue::Bool(b)) => *b,
            Some(DbValue::Text(t)) => t == "t" || t == "true",
            _ => return Err(Error::internal("a data check returned no answer")),
        };
        if yes {
            found.push(risk.clone());
        }
    }
    Ok(found)
}

/// Runs statements in one transaction in `namespace` (created first if it does not exist): all
/// of them or none.
pub async fn apply<D: Driver>(driver: &D, namespace: &str, statements: &[String]) -> Result<()> {
    let tx = driver.begin(None).await.map_err(|e| database_error(e, "starting a transaction"))?;
    let result = async {
        ensure_namespace(&tx, namespace).await?;
        search_path(&tx, namespace).await?;
        for stmt in statements {
            tx.execute(stmt, &[]).await.map_err(|e| statement_error(e, "applying the changes", stmt))?;
        }
        Ok(())
    }
    .await;
    finish(tx, result).await
}

async fn finish<T: Transaction, R>(tx: T, result: Result<R>) -> Result<R> {
    match result {
        Ok(v) => {
            tx.commit().await.map_err(|e| database_error(e, "committing"))?;
            Ok(v)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn ensure_namespace<Q: Queryable>(q: &Q, namespace: &str) -> Result<()> {
    if namespace != "public" {
        q.execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote(namespace)), &[])
            .await
            .map_err(|e| database_error(e, &format!("creating the schema {namespace}")))?;
    }
    Ok(())
}

/// Prisma Migrate's history table, exactly.
const HISTORY_DDL: &str = r#"CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)"#;

/// A migration as the history records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub name: String,
    pub checksum: String,
    /// Finished (not failed midway by another tool, not rolled back).
    pub finished: bool,
    pub rolled_back: bool,
}

fn text(v: Option<&DbValue>) -> Option<String> {
    match v {
        Some(DbValue::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

async fn read_history<Q: Queryable>(q: &Q) -> Result<Vec<Applied>> {
    let sql = format!(
        "SELECT migration_name, checksum, (finished_at IS NOT NULL)::text, (rolled_back_at IS NOT NULL)::text FROM {} ORDER BY started_at, migration_name",
        quote(HISTORY_TABLE)
    );
    let rs = q.query(&sql, &[]).await.map_err(|e| database_error(e, "reading the migration history"))?;
    Ok(rs
        .rows
        .iter()
        .map(|r| Applied {
            name: text(r.first()).unwrap_or_default(),
            checksum: text(r.get(1)).unwrap_or_default(),
            finished: text(r.get(2)).as_deref() == Some("true"),
            rolled_back: text(r.get(3)).as_deref() == Some("true"),
        })
        .collect())
}

/// The history of `namespace`, creating the table (and the namespace) if needed.
pub async fn history<D: Driver>(driver: &D, namespace: &str) -> Result<Vec<Applied>> {
    let tx = driver.begin(None).await.map_err(|e| database_error(e, "starting a transaction"))?;
    let result = async {
        tx.query(LOCK_SQL, &[]).await.map_err(|e| database_error(e, "waiting for other migrations"))?;
        ensure_namespace(&tx, namespace).await?;
        search_path(&tx, namespace).await?;
        tx.execute(HISTORY_DDL, &[]).await.map_err(|e| database_error(e, "creating the migration history table"))?;
        read_history(&tx).await
    }
    .await;
    finish(tx, result).await
}

/// A migration folder's script.
#[derive(Clone, Debug)]
pub struct MigrationFile {
    pub name: String,
    pub sql: String,
    /// SHA-256 of `migration.sql`, hex (Prisma's checksum).
    pub checksum: String,
}

/// Statements that end or start a transaction: a migration already runs in one, and a COMMIT in
/// it would apply part of the migration without its history row.
fn transaction_control(stmt: &str) -> Option<String> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, stmt).tokenize().ok()?;
    let first = tokens.iter().find(|t| !matches!(t, Token::Whitespace(_)))?;
    match first {
        Token::Word(w) if w.quote_style.is_none() => {
            let word = w.value.to_uppercase();
            ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE"].contains(&word.as_str()).then_some(word)
        }
        _ => None,
    }
}

/// Applies one migration unless the history already has it: in one transaction with its history
/// row, under Prisma's advisory lock, so two deploys at once apply it once. Whether it ran.
pub async fn deploy_one<D: Driver>(driver: &D, namespace: &str, m: &MigrationFile) -> Result<bool> {
    let statements = split(&m.sql).map_err(|e| e.with_meta("migration", m.name.clone()))?;
    if let Some((i, word)) = statements.iter().enumerate().find_map(|(i, s)| transaction_control(s).map(|w| (i, w))) {
        return Err(Error::new(
            codes::MIGRATION_FAILED,
            format!("migration {}: statement {} is {word}: each migration runs in one transaction of its own; remove it", m.name, i + 1),
        )
        .with_meta("migration", m.name.clone())
        .with_meta("statement", i + 1));
    }
    let tx = driver.begin(None).await.map_err(|e| database_error(e, "starting a transaction"))?;
    let result = async {
        tx.query(LOCK_SQL, &[]).await.map_err(|e| database_error(e, "waiting for other migrations"))?;
        ensure_namespace(&tx, namespace).await?;
        search_path(&tx, namespace).await?;
        tx.execute(HISTORY_DDL, &[]).await.map_err(|e| database_error(e, "creating the migration history table"))?;
        let done = read_history(&tx).await?;
        if let Some(failed) = done.iter().find(|a| !a.finished && !a.rolled_back) {
            return Err(Error::new(
                codes::MIGRATION_HISTORY,
                format!(
                    "the migration {} is recorded as started but not finished (it failed under another tool): fix the database by hand, \
                     then mark it rolled back or applied (`prisma migrate resolve`)",
                    failed.name
                ),
            )
            .with_meta("migration", failed.name.clone()));
        }
        if done.iter().any(|a| a.name == m.name && a.finished && !a.rolled_back) {
            return Ok(false);
        }
        for (i, stmt) in statements.iter().enumerate() {
            tx.execute(stmt, &[]).await.map_err(|e| {
                statement_error(e, &format!("applying migration {}", m.name), stmt).with_meta("migration", m.name.clone()).with_meta("statement", i + 1)
            })?;
        }
        let record = format!(
            "INSERT INTO {} (id, checksum, migration_name, started_at, finished_at, applied_steps_count) \
             VALUES (gen_random_uuid()::text, $1, $2, now(), now(), 1)",
            quote(HISTORY_TABLE)
        );
        tx.execute(&record, &[Value::String(m.checksum.clone()), Value::String(m.name.clone())])
            .await
            .map_err(|e| database_error(e, "recording the migration"))?;
        Ok(true)
    }
    .await;
    finish(tx, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_between_statements_only() {
        let script = "-- CreateTable\nCREATE TABLE \"a;b\" (x text DEFAULT ';');\n\n/* ; */ CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- trailing ; comment\n";
        let parts = split(script).unwrap();
        assert_eq!(parts.len(), 2, "{parts:#?}");
        assert_eq!(parts[0], "-- CreateTable\nCREATE TABLE \"a;b\" (x text DEFAULT ';')");
        assert!(parts[1].ends_with("LANGUAGE sql"));
        assert_eq!(split("SELECT 'é'; SELECT 2").unwrap(), ["SELECT 'é'", "SELECT 2"]);
        assert!(split("  -- nothing\n").unwrap().is_empty());
    }

    #[test]
    fn transaction_control_is_recognised() {
        for (stmt, word) in [("BEGIN", Some("BEGIN")), ("-- done\ncommit", Some("COMMIT")), ("start transaction", Some("START")), ("SELECT 1", None), ("\"begin\"", None)] {
            assert_eq!(transaction_control(stmt).as_deref(), word, "{stmt}");
        }
    }
}
