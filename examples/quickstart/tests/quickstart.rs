//! Runs the Rust quickstart against the PostgreSQL in `DATABASE_URL`, in a schema of its own, and
//! checks that it printed real rows and the other tenant's row stayed out of reach.

use quarry_engine::exec::Queryable;
use quarry_postgres::PgDriver;
use std::process::Command;

#[tokio::test]
async fn the_quickstart_prints_rows_from_postgresql() {
    let namespace = format!("qs_{}", std::process::id());
    let out = Command::new(env!("CARGO_BIN_EXE_quarry-quickstart"))
        .env("QUARRY_QUICKSTART_SCHEMA", &namespace)
        .output()
        .expect("run the quickstart");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let driver = PgDriver::connect(&url).await.expect("connect");
    driver.execute(&format!("DROP SCHEMA IF EXISTS \"{namespace}\" CASCADE"), &[]).await.expect("drop the schema");
    assert!(out.status.success(), "the quickstart failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for expected in [
        "\"title\": \"Hello (acme)\"",
        "\"email\": \"alice@acme.test\"",
        "SQL    SELECT",
        "findUnique -> null",
        "connect   -> P2025",
        "no tenant -> Q3001",
    ] {
        assert!(stdout.contains(expected), "the output lacks {expected:?}:\n{stdout}");
    }
    assert!(!stdout.contains("globex.test"), "acme's reads showed globex's rows:\n{stdout}");
}
