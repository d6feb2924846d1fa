//! Interactive and batch transactions on the native path against the real PostgreSQL: commit,
//! rollback, isolation levels, `maxWait`, `timeout` (rolled back, connection not returned broken),
//! serialization failures and deadlocks mapped to P2034.

use quarry_conformance as corpus;
use quarry_engine::exec::transactions::{Transactions, TxOptions};
use quarry_engine::exec::{DbValue, Driver, IsolationLevel, Queryable};
use quarry_engine::scope::TenantContext;
use quarry_engine::{Engine, EngineOptions};
use quarry_postgres::{PgDriver, PgTransaction};
use serde_json::json;
use std::time::Duration;

fn url(extra: &str) -> String {
    let base = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let sep = if base.contains('?') { '&' } else { '?' };
    if extra.is_empty() { base } else { format!("{base}{sep}{extra}") }
}

async fn setup(name: &str, extra: &str) -> (PgDriver, Engine, String) {
    let ns = format!("tx_{name}_{}", std::process::id());
    let driver = PgDriver::connect(&url(extra)).await.expect("connect");
    let schema = corpus::read_file("corpus/schemas/store.prisma");
    let engine = Engine::new(&schema, EngineOptions { namespace: Some(ns.clone()), ..Default::default() }).expect("schema");
    corpus::prepare(&driver, &engine, &ns, Some(&corpus::read_file("corpus/seeds/store.sql"))).await.expect("prepare");
    (driver, engine, ns)
}

fn sleep(ms: u64) -> impl std::future::Future<Output = ()> {
    tokio::time::sleep(Duration::from_millis(ms))
}

const U: TenantContext = TenantContext::Unscoped;

async fn count(engine: &Engine, driver: &PgDriver) -> i64 {
    engine.request(driver, &json!({"model": "Category", "action": "count"}), &U).await.unwrap().as_i64().unwrap()
}

#[tokio::test]
async fn interactive_commit_and_rollback() {
    let (driver, engine, ns) = setup("commit", "").await;
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let create = |slug: &str| json!({"model": "Category", "action": "create", "args": {"data": {"name": slug, "slug": slug}}});
    let id = txs.begin(&driver, engine.schema(), TxOptions::default(), sleep).await.unwrap();
    txs.request(&id, &engine, driver.dialect(), &create("a"), &U).await.unwrap();
    // Inside the transaction the row is there; outside it is not yet.
    let inside = txs.request(&id, &engine, driver.dialect(), &json!({"model": "Category", "action": "count"}), &U).await.unwrap();
    assert_eq!(inside, json!(6));
    assert_eq!(count(&engine, &driver).await, 5);
    txs.commit(&id, engine.schema()).await.unwrap();
    assert_eq!(count(&engine, &driver).await, 6);
    // A committed transaction is gone.
    let e = txs.commit(&id, engine.schema()).await.unwrap_err();
    assert_eq!(e.code(), "P2028");

    let id = txs.begin(&driver, engine.schema(), TxOptions::default(), sleep).await.unwrap();
    txs.request(&id, &engine, driver.dialect(), &create("b"), &U).await.unwrap();
    txs.rollback(&id, engine.schema()).await.unwrap();
    assert_eq!(count(&engine, &driver).await, 6);
    assert!(txs.open_ids().is_empty());
    corpus::drop_namespace(&driver, &ns).await;
}

#[tokio::test]
async fn isolation_level_is_set() {
    let (driver, engine, ns) = setup("isolation", "").await;
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let options = TxOptions { isolation: Some(IsolationLevel::RepeatableRead), ..Default::default() };
    let id = txs.begin(&driver, engine.schema(), options, sleep).await.unwrap();
    let level = txs
        .with(&id, async |tx| tx.query("SHOW transaction_isolation", &[]).await.map_err(|e| quarry_engine::exec::errors::map_driver_error(engine.schema(), e)))
        .await
        .unwrap();
    assert_eq!(level.rows[0][0], DbValue::Text("repeatable read".into()));
    txs.rollback(&id, engine.schema()).await.unwrap();
    corpus::drop_namespace(&driver, &ns).await;
}

#[tokio::test]
async fn timeout_rolls_back_and_frees_the_connection() {
    let (driver, engine, ns) = setup("timeout", "connection_limit=1").await;
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let options = TxOptions { timeout_ms: 150, ..Default::default() };
    let id = txs.begin(&driver, engine.schema(), options, sleep).await.unwrap();
    let create = json!({"model": "Category", "action": "create", "args": {"data": {"name": "t", "slug": "t"}}});
    txs.request(&id, &engine, driver.dialect(), &create, &U).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    // A binding's timer calls expire(); a request after the deadline fails the same way.
    assert!(txs.expire(&id).await);
    let e = txs.request(&id, &engine, driver.dialect(), &create, &U).await.unwrap_err();
    assert_eq!(e.code(), "P2028");
    // Nothing was committed and the only connection of the pool is usable and clean.
    assert_eq!(count(&engine, &driver).await, 5);
    let rs = driver.query("SELECT pg_current_xact_id_if_assigned() IS NULL", &[]).await.unwrap();
    assert_eq!(rs.rows[0][0], DbValue::Bool(true));
    corpus::drop_namespace(&driver, &ns).await;
}

#[tokio::test]
async fn expiry_is_also_checked_on_the_next_call() {
    let (driver, engine, ns) = setup("lazy", "").await;
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let id = txs.begin(&driver, engine.schema(), TxOptions { timeout_ms: 50, ..Default::default() }, sleep).await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    let e = txs.commit(&id, engine.schema()).await.unwrap_err();
    assert_eq!(e.code(), "P2028");
    assert!(e.message().contains("expired"), "{}", e.message());
    corpus::drop_namespace(&driver, &ns).await;
}

#[tokio::test]
async fn max_wait_bounds_the_wait_for_a_connection() {
    let (driver, engine, ns) = setup("maxwait", "connection_limit=1&pool_timeout=10").await;
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let first = txs.begin(&driver, engine.schema(), TxOptions::default(), sleep).await.unwrap();
    let started = std::time::Instant::now();
    let e = txs.begin(&driver, engine.schema(), TxOptions { max_wait_ms: 100, ..Default::default() }, sleep).await.unwrap_err();
    assert_eq!(e.code(), "P2028");
    assert!(started.elapsed() < Duration::from_secs(5));
    txs.rollback(&first, engine.schema()).await.unwrap();
    // The connection is back and healthy.
    assert_eq!(count(&engine, &driver).await, 5);
    corpus::drop_namespace(&driver, &ns).await;
}

#[tokio::test]
async fn serialization_failures_are_p2034() {
    let (driver, engine, ns) = setup("serial", "").await;
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let options = TxOptions { isolation: Some(IsolationLevel::Serializable), ..Default::default() };
    let read = json!({"model": "Product", "action": "aggregate", "args": {"_sum": {"stock": true}}});
    let a = txs.begin(&driver, engine.schema(), options, sleep).await.unwrap();
    let b = txs.begin(&driver, engine.schema(), options, sleep).await.unwrap();
    // Each reads what the other writes: one of them must fail to commit.
    for (id, product) in [(&a, 1), (&b, 2)] {
        txs.request(id, &engine, driver.dialect(), &read, &U).await.unwrap();
        let write = json!({"model": "Product", "action": "update", "args": {"where": {"id": product}, "data": {"stock": {"increment": 1}}}});
        txs.request(id, &engine, driver.dialect(), &write, &U).await.unwrap();
    }
    let first = txs.commit(&a, engine.schema()).await;
    let second = txs.commit(&b, engine.schema()).await;
    let failed: Vec<_> = [first, second].into_iter().filter_map(Result::err).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].code(), "P2034");
    corpus::drop_namespace(&driver, &ns).await;
}

#[tokio::test]
async fn deadlocks_are_p2034() {
    let (driver, engine, ns) = setup("deadlock", "").await;
    let txs: Transactions<PgTransaction> = Transactions::new(Default::default());
    let options = TxOptions { timeout_ms: 20_000, ..Default::default() };
    let bump = |product: i64| json!({"model": "Product", "action": "update", "args": {"where": {"id": product}, "data": {"stock": {"increment": 1}}, "select": {"id": true}}});
    let a = txs.begin(&driver, engine.schema(), options, sleep).await.unwrap();
    let b = txs.begin(&driver, engine.schema(), options, sleep).await.unwrap();
    // Each locks one row, then waits for the other's: PostgreSQL breaks the cycle by failing one.
    txs.request(&a, &engine, driver.dialect(), &bump(1), &U).await.unwrap();
    txs.request(&b, &engine, driver.dialect(), &bump(2), &U).await.unwrap();
    let (a_second, b_second) = (bump(2), bump(1));
    let (first, second) = tokio::join!(
        txs.request(&a, &engine, driver.dialect(), &a_second, &U),
        txs.request(&b, &engine, driver.dialect(), &b_second, &U),
    );
    let failed: Vec<_> = [first, second].into_iter().filter_map(Result::err).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].code(), "P2034");
    assert_eq!(failed[0].meta()["sqlstate"], "40P01", "{:?}", failed[0]);
    for id in [&a, &b] {
        let _ = txs.rollback(id, engine.schema()).await;
    }
    corpus::drop_namespace(&driver, &ns).await;
}

#[tokio::test]
async fn batches_take_an_isolation_level() {
    let (driver, engine, ns) = setup("batch", "").await;
    let requests = vec![json!({"model": "Category", "action": "count"}), json!({"model": "Category", "action": "deleteMany", "args": {"where": {"id": 5}}})];
    let out = engine.batch(&driver, &requests, &U, Some(IsolationLevel::Serializable)).await.unwrap();
    assert_eq!(out, json!([5, {"count": 1}]));
    corpus::drop_namespace(&driver, &ns).await;
}
