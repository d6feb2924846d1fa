//! Interactive transactions: begin, run requests, commit or roll back, by id. Shared by every
//! binding so each one stays a thin shim.
//!
//! `max_wait` bounds the wait for a connection when the transaction starts; `timeout` bounds its
//! whole life: once it has passed, the transaction is rolled back (by the next call to it, or by
//! [`Transactions::expire`], which a binding calls from a timer of its runtime) and every later
//! call fails with P2028. A transaction that fails to commit or roll back never goes back to the
//! pool open: that is the driver's contract. A statement still running when the timeout passes (or
//! when the client closes) is cancelled through the driver's [`Canceller`] first, so the rollback
//! does not wait for it to finish.
//!
//! [`Transactions::close_all`] is final: every open transaction is rolled back, and nothing starts
//! after it (`Q4002`), including a transaction whose `begin` was still waiting for a connection.

use super::{Canceller, Driver, IsolationLevel, Transaction, errors::map_driver_error};
use crate::error::{Error, Result, codes};
use crate::exec::defaults::Clock;
use crate::schema::Schema;
use futures_util::lock::Mutex as AsyncMutex;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Options of an interactive transaction, with Prisma's defaults.
#[derive(Clone, Copy, Debug)]
pub struct TxOptions {
    pub isolation: Option<IsolationLevel>,
    /// Milliseconds to wait for a connection (default 2000).
    pub max_wait_ms: u64,
    /// Milliseconds the transaction may live (default 5000).
    pub timeout_ms: u64,
}

impl Default for TxOptions {
    fn default() -> Self {
        TxOptions { isolation: None, max_wait_ms: 2000, timeout_ms: 5000 }
    }
}

struct Entry<T> {
    tx: AsyncMutex<Option<T>>,
    started_ms: i64,
    timeout_ms: u64,
    cancel: Option<Canceller>,
}

impl<T> Entry<T> {
    /// The transaction, for ending it: at once when no request holds it, else after cancelling the
    /// statement that request is running.
    async fn take_over(&self) -> futures_util::lock::MutexGuard<'_, Option<T>> {
        if let Some(guard) = self.tx.try_lock() {
            return guard;
        }
        if let Some(cancel) = &self.cancel {
            cancel().await;
        }
        self.tx.lock().await
    }
}

/// The open interactive transactions of one client.
pub struct Transactions<T> {
    open: Mutex<HashMap<String, Arc<Entry<T>>>>,
    /// Recently expired transactions and their timeout, so a later call says why it is closed
    /// and how to raise the timeout (bounded: the oldest are forgotten).
    expired: Mutex<HashMap<String, u64>>,
    next: AtomicU64,
    clock: Clock,
    closed: AtomicBool,
}

/// P2028, with Prisma's `meta.error` (the same text as the message).
fn closed(message: impl Into<String>) -> Error {
    let message = message.into();
    Error::new(codes::TRANSACTION_CLOSED, format!("Transaction API error: {message}")).with_meta("error", message)
}

/// P2028 for a transaction past its timeout: the timeout, and how to raise it.
fn expired(timeout_ms: u64, elapsed_ms: Option<i64>) -> Error {
    let elapsed = elapsed_ms.map(|e| format!(", however {e} ms passed since the start of the transaction")).unwrap_or_default();
    closed(format!(
        "Transaction already closed: A query cannot be executed on an expired transaction. The timeout for this transaction was {timeout_ms} ms{elapsed}. Raise it with `$transaction(fn, {{ timeout: ms }})`, or do less inside the transaction."
    ))
    .with_meta("timeout", timeout_ms)
}

/// The error of anything started on a client after `$disconnect()`.
pub fn client_closed() -> Error {
    Error::new(codes::CLIENT_CLOSED, "the client was disconnected ($disconnect()); create a new client to run more requests")
}

impl<T: Transaction> Transactions<T> {
    pub fn new(clock: Clock) -> Self {
        Transactions { open: Mutex::new(HashMap::new()), expired: Mutex::new(HashMap::new()), next: AtomicU64::new(1), clock, closed: AtomicBool::new(false) }
    }

    /// Whether [`Transactions::close_all`] has run: nothing may start any more.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `Q4002` once the client has closed.
    pub fn check_open(&self) -> Result<()> {
        if self.is_closed() { Err(client_closed()) } else { Ok(()) }
    }

    fn now(&self) -> i64 {
        (self.clock.0)()
    }

    fn get(&self, id: &str) -> Result<Arc<Entry<T>>> {
        self.check_open()?;
        let open = self.open.lock().map_err(|_| Error::internal("transaction registry poisoned"))?;
        if let Some(timeout) = self.expired.lock().ok().and_then(|e| e.get(id).copied()) {
            return Err(expired(timeout, None));
        }
        open.get(id).cloned().ok_or_else(|| closed(format!("Transaction not found. Transaction ID is invalid, refers to an old closed transaction Quarry doesn't have information about anymore, or was obtained before disconnecting: {id}")))
    }

    fn remove(&self, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(id);
        }
    }

    /// Starts a transaction. `sleep` is the host's timer (it bounds the wait for a connection).
    pub async fn begin<D, S, F>(&self, driver: &D, schema: &Schema, options: TxOptions, sleep: S) -> Result<String>
    where
        D: Driver<Transaction = T>,
        S: FnOnce(u64) -> F,
        F: Future<Output = ()>,
    {
        use futures_util::future::{Either, select};
        self.check_open()?;
        let begin = std::pin::pin!(driver.begin(options.isolation));
        let timer = std::pin::pin!(sleep(options.max_wait_ms));
        let tx = match select(begin, timer).await {
            Either::Left((result, _)) => result.map_err(|e| map_driver_error(schema, e))?,
            Either::Right(_) => {
                return Err(closed(format!(
                    "Unable to start a transaction in the given time ({} ms): raise the wait with `$transaction(fn, {{ maxWait: ms }})`, or raise connection_limit if the pool is busy.",
                    options.max_wait_ms
                ))
                .with_meta("maxWait", options.max_wait_ms));
            }
        };
        let id = format!("tx-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let cancel = tx.canceller();
        let entry = Arc::new(Entry { tx: AsyncMutex::new(Some(tx)), started_ms: self.now(), timeout_ms: options.timeout_ms, cancel });
        {
            let mut open = self.open.lock().map_err(|_| Error::internal("transaction registry poisoned"))?;
            // Checked under the registry's lock, which close_all takes to drain it: a transaction
            // either is drained by close_all or sees the client closed here.
            if !self.is_closed() {
                open.insert(id.clone(), entry);
                return Ok(id);
            }
        }
        // The client closed while this transaction was starting: it never runs.
        if let Some(tx) = entry.tx.lock().await.take() {
            let _ = tx.rollback().await;
        }
        Err(client_closed())
    }

    /// Runs `f` with the open transaction (requests of one transaction run one at a time).
    pub async fn with<R>(&self, id: &str, f: impl AsyncFnOnce(&T) -> Result<R>) -> Result<R> {
        let entry = self.get(id)?;
        let mut guard = entry.tx.lock().await;
        self.check_expiry(id, &entry, &mut guard).await?;
        match guard.as_ref() {
            Some(tx) => f(tx).await,
            None => Err(closed(format!("Transaction already closed: {id}"))),
        }
    }

    /// Runs one request inside the open transaction.
    pub async fn request(&self, id: &str, engine: &crate::Engine, dialect: super::Dialect, request: &serde_json::Value, ctx: &crate::scope::TenantContext) -> Result<serde_json::Value> {
        self.with(id, async |tx| engine.request_in(tx, dialect, request, ctx).await).await
    }

    async fn check_expiry(&self, id: &str, entry: &Entry<T>, guard: &mut Option<T>) -> Result<()> {
        let elapsed = self.now() - entry.started_ms;
        if elapsed <= entry.timeout_ms as i64 {
            return Ok(());
        }
        if let Some(tx) = guard.take() {
            let _ = tx.rollback().await;
        }
        self.remove(id);
        if let Ok(mut e) = self.expired.lock() {
            if e.len() >= 1024 {
                e.clear();
            }
            e.insert(id.to_owned(), entry.timeout_ms);
        }
        Err(expired(entry.timeout_ms, Some(elapsed)))
    }

    pub async fn commit(&self, id: &str, schema: &Schema) -> Result<()> {
        self.end(id, schema, true).await
    }

    pub async fn rollback(&self, id: &str, schema: &Schema) -> Result<()> {
        self.end(id, schema, false).await
    }

    async fn end(&self, id: &str, schema: &Schema, commit: bool) -> Result<()> {
        let entry = self.get(id)?;
        let mut guard = entry.tx.lock().await;
        self.check_expiry(id, &entry, &mut guard).await?;
        let tx = guard.take().ok_or_else(|| closed(format!("Transaction already closed: {id}")))?;
        self.remove(id);
        let result = if commit { tx.commit().await } else { tx.rollback().await };
        result.map_err(|e| map_driver_error(schema, e))
    }

    /// Rolls the transaction back if its timeout has passed, cancelling the statement it is
    /// running if any. Returns whether it did.
    pub async fn expire(&self, id: &str) -> bool {
        let Ok(entry) = self.get(id) else { return false };
        if self.now() - entry.started_ms <= entry.timeout_ms as i64 {
            return false;
        }
        let mut guard = entry.take_over().await;
        self.check_expiry(id, &entry, &mut guard).await.is_err()
    }

    /// Rolls back every open transaction, cancelling the statements they are running, and closes
    /// the registry for good: `begin` fails with `Q4002` from now on (disconnect).
    pub async fn close_all(&self) {
        let entries: Vec<Arc<Entry<T>>> = match self.open.lock() {
            Ok(mut open) => {
                self.closed.store(true, Ordering::Release);
                open.drain().map(|(_, e)| e).collect()
            }
            Err(_) => return,
        };
        let rollbacks = entries.iter().map(|entry| async move {
            if let Some(tx) = entry.take_over().await.take() {
                let _ = tx.rollback().await;
            }
        });
        futures_util::future::join_all(rollbacks).await;
    }

    /// Open transaction ids (for tests and diagnostics).
    pub fn open_ids(&self) -> Vec<String> {
        self.open.lock().map(|o| o.keys().cloned().collect()).unwrap_or_default()
    }
}

