//! Quarry's native PostgreSQL driver: the engine's [`Driver`] over tokio-postgres, with a
//! deadpool pool, statements prepared once per connection (unnamed statements in PgBouncer
//! transaction mode, where each new connection first learns the schema's types), TLS with rustls
//! (`sslmode` as in libpq), and values sent in PostgreSQL's text format so the server's own input
//! functions read them whatever type it inferred.

mod config;
mod tls;
mod values;

pub use config::{ConnectionOptions, SslMode};

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts};
use quarry_engine::exec::{Canceller, Dialect, Driver, DriverError, DriverResult, IsolationLevel, Queryable, ResultSet, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;
use quarry_engine::value::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_postgres::NoTls;

/// A pool of connections to one PostgreSQL database.
#[derive(Clone)]
pub struct PgDriver {
    pool: Pool,
    options: ConnectionOptions,
    /// The TLS connector of the pool's connections, for their cancel requests.
    tls: Option<MakeRustlsConnect>,
}

impl PgDriver {
    /// Connects lazily: the pool opens connections on first use. The URL is
    /// `postgres://user:password@host:port/database?schema=…&connection_limit=…&pool_timeout=…
    /// &connect_timeout=…&pgbouncer=true&sslmode=disable|prefer|require|verify-ca|verify-full
    /// &sslrootcert=…`.
    pub async fn connect(url: &str) -> Result<PgDriver, DriverError> {
        Self::new(url)
    }

    /// [`PgDriver::connect`] without the `async`: nothing is opened until the first request, so a
    /// host can build the driver outside its runtime (the Node addon does, in a constructor).
    /// Connections are opened on, and must be used from, a Tokio runtime.
    pub fn new(url: &str) -> Result<PgDriver, DriverError> {
        let options = ConnectionOptions::parse(url)?;
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let tls = tls::connector(&options)?;
        let manager = match tls.clone() {
            Some(tls) => Manager::from_config(options.pg.clone(), tls, manager_config),
            None => Manager::from_config(options.pg.clone(), NoTls, manager_config),
        };
        let mut builder = Pool::builder(manager)
            .max_size(options.connection_limit)
            .timeouts(Timeouts {
                wait: options.pool_timeout,
                create: options.connect_timeout,
                recycle: options.connect_timeout,
            })
            .runtime(Runtime::Tokio1);
        if options.pgbouncer {
            let mut schemas = vec![options.schema.clone()];
            if options.schema != "public" {
                schemas.push("public".into());
            }
            builder = builder.post_create(Hook::async_fn(move |client, _| {
                let schemas = schemas.clone();
                Box::pin(async move { values::learn_types(client, &schemas).await.map_err(HookError::Backend) })
            }));
        }
        let pool = builder.build().map_err(|e| DriverError::Connection(e.to_string()))?;
        Ok(PgDriver { pool, options, tls })
    }

    pub fn options(&self) -> &ConnectionOptions {
        &self.options
    }

    /// The PostgreSQL schema tables live in (`schema=` in the URL, default `public`).
    pub fn namespace(&self) -> &str {
        &self.options.schema
    }

    /// Closes the pool; connections in use close when they are returned.
    /// Closes the pool: idle connections at once, connections in use as they come back.
    pub fn close(&self) {
        self.pool.close();
    }

    /// Closes the pool and waits (at most `limit`) until every connection is gone, those that
    /// requests were still using included. Whether none is left.
    pub async fn close_and_wait(&self, limit: Duration) -> bool {
        self.pool.close();
        let start = std::time::Instant::now();
        while self.pool.status().size > 0 {
            if start.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        true
    }

    /// PostgreSQL's cancel request for the statement `conn` is running, over the pool's TLS.
    fn canceller(&self, conn: &Object) -> Canceller {
        let token = conn.cancel_token();
        let tls = self.tls.clone();
        Arc::new(move || {
            let token = token.clone();
            let tls = tls.clone();
            Box::pin(async move {
                let _ = match tls {
                    Some(tls) => token.cancel_query(tls).await,
                    None => token.cancel_query(NoTls).await,
                };
            })
        })
    }

    async fn conn(&self) -> DriverResult<Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Create) => DriverError::Connection(format!(
                "connecting timed out after {} s (connect_timeout) at {}",
                self.options.connect_timeout.map_or(0, |t| t.as_secs()),
                self.address()
            )),
            e => match values::pool_error(e) {
                DriverError::Connection(m) => DriverError::Connection(format!("{m} at {}", self.address())),
                DriverError::PoolTimeout { .. } => DriverError::PoolTimeout {
                    connection_limit: Some(self.options.connection_limit as u64),
                    timeout_secs: self.options.pool_timeout.map(|t| t.as_secs_f64()),
                },
                // Refused while logging in (no such database or role, a wrong password): where.
                DriverError::Database { sqlstate, message, schema, constraint, table, column } if sqlstate.starts_with("28") || sqlstate.starts_with("3D") => {
                    DriverError::Database { message: format!("{message} (connecting to {})", self.address()), sqlstate, schema, constraint, table, column }
                }
                other => other,
            },
        })
    }

    /// `host:port` (every host of the URL), the database and the user: what a developer checks when
    /// a connection fails. Never the password.
    fn address(&self) -> String {
        let pg = &self.options.pg;
        let ports = pg.get_ports();
        let hosts: Vec<String> = pg
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                match h {
                    tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                    #[cfg(unix)]
                    tokio_postgres::config::Host::Unix(path) => format!("{}/.s.PGSQL.{port}", path.display()),
                }
            })
            .collect();
        let mut out = if hosts.is_empty() { "localhost:5432".to_owned() } else { hosts.join(", ") };
        if let Some(db) = pg.get_dbname() {
            out.push_str(&format!(", database `{db}`"));
        }
        if let Some(user) = pg.get_user() {
            out.push_str(&format!(", user `{user}`"));
        }
        out
    }
}

impl Queryable for PgDriver {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        let conn = self.conn().await?;
        values::query(&conn, self.options.pgbouncer, sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        let conn = self.conn().await?;
        values::execute(&conn, self.options.pgbouncer, sql, params).await
    }
}

impl Driver for PgDriver {
    type Transaction = PgTransaction;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn begin(&self, isolation: Option<IsolationLevel>) -> DriverResult<PgTransaction> {
        let conn = self.conn().await?;
        conn.batch_execute(&begin_sql(isolation)).await.map_err(values::pg_error)?;
        let cancel = self.canceller(&conn);
        Ok(PgTransaction { conn: Some(conn), pgbouncer: self.options.pgbouncer, open: AtomicBool::new(true), cancel })
    }

    /// `BEGIN` and the first statement pipelined: tokio-postgres writes requests in the order
    /// they are first polled, so the server runs them in that order, in one round trip.
    async fn begin_with(&self, isolation: Option<IsolationLevel>, sql: &str, params: &[Value]) -> DriverResult<PgTransaction> {
        let conn = self.conn().await?;
        let begin = begin_sql(isolation);
        let (began, first) = futures_util::future::join(conn.batch_execute(&begin), values::query(&conn, self.options.pgbouncer, sql, params)).await;
        // On failure the transaction is dropped, which detaches its connection from the pool.
        let cancel = self.canceller(&conn);
        let tx = PgTransaction { conn: Some(conn), pgbouncer: self.options.pgbouncer, open: AtomicBool::new(true), cancel };
        began.map_err(values::pg_error)?;
        first?;
        Ok(tx)
    }
}

fn begin_sql(isolation: Option<IsolationLevel>) -> String {
    match isolation {
        Some(level) => format!("BEGIN ISOLATION LEVEL {}", level.sql()),
        None => "BEGIN".to_owned(),
    }
}

/// An open transaction holding one pooled connection. Dropped without `commit` or `rollback`,
/// its connection is detached from the pool and closed, so no pooled connection is ever handed
/// out inside a transaction.
pub struct PgTransaction {
    conn: Option<Object>,
    pgbouncer: bool,
    open: AtomicBool,
    cancel: Canceller,
}

impl PgTransaction {
    fn conn(&self) -> DriverResult<&Object> {
        match &self.conn {
            Some(c) if self.open.load(Ordering::Acquire) => Ok(c),
            _ => Err(DriverError::TransactionClosed("the transaction has already ended".into())),
        }
    }

    async fn end(mut self, sql: &str) -> DriverResult<()> {
        let result = match self.conn.as_ref() {
            Some(c) => c.batch_execute(sql).await.map_err(values::pg_error),
            None => Err(DriverError::TransactionClosed("the transaction has already ended".into())),
        };
        if result.is_ok() {
            // Back to the pool, clean.
            self.open.store(false, Ordering::Release);
            self.conn.take();
        }
        // On failure `Drop` detaches the connection.
        result
    }
}

impl Drop for PgTransaction {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Still inside BEGIN: never return this connection to the pool.
            let client = Object::take(conn);
            drop(client);
        }
    }
}

impl Queryable for PgTransaction {
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet> {
        values::query(self.conn()?, self.pgbouncer, sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64> {
        values::execute(self.conn()?, self.pgbouncer, sql, params).await
    }
}

impl Transaction for PgTransaction {
    async fn commit(self) -> DriverResult<()> {
        self.end("COMMIT").await
    }

    async fn rollback(self) -> DriverResult<()> {
        self.end("ROLLBACK").await
    }

    fn canceller(&self) -> Option<Canceller> {
        Some(Arc::clone(&self.cancel))
    }
}
