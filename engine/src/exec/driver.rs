//! The seam between the engine and the world: what a database driver must do.
//!
//! The native PostgreSQL driver (tokio-postgres) and every JavaScript driver adapter implement
//! these traits. They are `?Send` (no `Send` bound on the futures) so a single-threaded Wasm host
//! can implement them; native implementations are `Send` anyway.

use crate::value::Value;

/// SQL dialect a driver speaks.
///
/// # The MySQL / MariaDB cell contract
///
/// A driver (or JavaScript adapter, through the Wasm binding) whose dialect is [`Dialect::Mysql`]
/// gets statements with `?` placeholders (identifiers in backticks) and must:
///
/// - report `columnTypes` as the PostgreSQL OID of the nearest type: INT / SMALLINT / MEDIUMINT /
///   TINYINT → 23, BIGINT → 20, FLOAT → 700, DOUBLE → 701, DECIMAL → 1700, TINYINT(1) / BOOL →
///   16, VARCHAR / CHAR / TEXT / ENUM / SET → 25, DATETIME / TIMESTAMP → 1114, DATE → 1082,
///   TIME → 1083, JSON → 114, BLOB / BINARY / VARBINARY / BIT → 17;
/// - give cells as `null`; numbers for ints that fit a JavaScript number, TINYINT(1) included
///   (1 / 0), and for floats; strings for BIGINT, DECIMAL (exact text), DATETIME / TIMESTAMP as
///   `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, DATE as `YYYY-MM-DD`, JSON as its text, and text;
///   bytes (`Uint8Array`) for binary columns;
/// - bind `DateTime` parameters as `YYYY-MM-DD HH:MM:SS.fff` (UTC), booleans as 1 / 0,
///   `BigInt` and `Decimal` exactly (as strings or bigints), `Json` as text;
/// - run every session with `time_zone = '+00:00'` and a `group_concat_max_len` large enough
///   for a nested relation's list (4294967295; nested to-many relations are built with
///   `GROUP_CONCAT`, and a cut list fails to decode rather than losing rows);
/// - report affected rows as *changed* rows (no `CLIENT_FOUND_ROWS`; mysql2 sets it by default:
///   pass `flags: ["-FOUND_ROWS"]`) — the engine counts matched rows itself where Prisma does;
/// - report errors with the PostgreSQL SQLSTATE of the same condition, which the engine maps to
///   Prisma's codes: 1062 / 1586 (duplicate key) → `23505` with the key's name as `constraint`
///   (MySQL 8 prefixes it with the table: drop the prefix), 1451 / 1452 / 1216 / 1217 (foreign
///   key) → `23503` with the constraint's name, 1048 / 1364 → `23502`, 1406 → `22001`,
///   1264 / 1690 → `22003`, 1213 → `40P01`, 1205 → `55P03`, 1146 → `42P01`, 1054 → `42703`;
///   NOT NULL, length and range errors name their column (`Field 'x'`, `column 'x'` in the
///   message) as `column`.
///
/// The test-only `mysql_async` driver of the conformance tests produces exactly these cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    Mysql,
}

/// Column types a driver reports, enough to decode raw query results without a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Int32,
    Int64,
    Float,
    Double,
    Numeric,
    Boolean,
    Text,
    Date,
    Time,
    /// `timestamp without time zone` (read as UTC).
    Timestamp,
    /// `timestamp with time zone`.
    Timestamptz,
    Json,
    Bytes,
    Uuid,
    Enum,
    Int32Array,
    Int64Array,
    FloatArray,
    DoubleArray,
    NumericArray,
    BooleanArray,
    TextArray,
    TimestampArray,
    JsonArray,
    BytesArray,
    UuidArray,
    Unknown,
}

impl ColumnType {
    /// Maps a PostgreSQL type OID (as JavaScript drivers report it) to a column type.
    pub fn from_pg_oid(oid: u32) -> ColumnType {
        use ColumnType::*;
        match oid {
            21 | 23 | 26 => Int32, // int2, int4, oid
            20 => Int64,
            700 => Float,
            701 => Double,
            1700 => Numeric,
            16 => Boolean,
            25 | 1043 | 1042 | 19 | 18 => Text, // text, varchar, bpchar, name, char
            1082 => Date,
            1083 | 1266 => Time,
            1114 => Timestamp,
            1184 => Timestamptz,
            114 | 3802 => Json,
            17 => Bytes,
            2950 => Uuid,
            1005 | 1007 => Int32Array,
            1016 => Int64Array,
            1021 => FloatArray,
            1022 => DoubleArray,
            1231 => NumericArray,
            1000 => BooleanArray,
            1009 | 1015 | 1014 => TextArray,
            1115 | 1185 | 1182 => TimestampArray,
            199 | 3807 => JsonArray,
            1001 => BytesArray,
            2951 => UuidArray,
            _ => Unknown,
        }
    }
}

/// A value as a driver returns it. Drivers that use PostgreSQL's text protocol (most JavaScript
/// drivers) return [`DbValue::Text`] for everything; the native driver decodes binary values into
/// the typed variants. The engine decodes both forms into [`Value`]s using the schema's field type
/// or the column type.
#[derive(Clone, Debug, PartialEq)]
pub enum DbValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Text as the database prints it, or a decoded text-like value (numeric, uuid, enum, json).
    Text(String),
    Bytes(Vec<u8>),
    /// A timestamp in UTC (timestamptz converted; timestamp read as UTC; date at midnight; time on
    /// 1970-01-01).
    DateTime(chrono::NaiveDateTime),
    List(Vec<DbValue>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
}

/// Rows of a query, column-major metadata and row-major values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<DbValue>>,
}

/// An error reported by a driver. Database errors carry the SQLSTATE and the names of the objects
/// involved; the engine maps them to its codes. `message` is for the log only: database messages
/// can quote values, so it never reaches an error returned to a client.
#[derive(Clone, Debug, PartialEq)]
pub enum DriverError {
    Database {
        sqlstate: String,
        message: String,
        /// PostgreSQL's error fields: the names of what failed (identifiers, never values).
        schema: Option<String>,
        constraint: Option<String>,
        table: Option<String>,
        column: Option<String>,
    },
    /// No connection became available in time; the pool's size and wait (seconds) when the
    /// driver knows them.
    PoolTimeout { connection_limit: Option<u64>, timeout_secs: Option<f64> },
    /// Could not connect, or the connection broke.
    Connection(String),
    /// The transaction is no longer usable (committed, rolled back, timed out).
    TransactionClosed(String),
    Other(String),
}

pub type DriverResult<T> = Result<T, DriverError>;

/// Cancels the statement a transaction's connection is running, if any; resolves once the
/// database has been asked (a statement that already finished is left alone).
#[cfg(not(target_arch = "wasm32"))]
pub type Canceller = std::sync::Arc<dyn Fn() -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;
/// Cancels the statement a transaction's connection is running, if any; resolves once the
/// database has been asked (a statement that already finished is left alone).
#[cfg(target_arch = "wasm32")]
pub type Canceller = std::rc::Rc<dyn Fn() -> futures_util::future::LocalBoxFuture<'static, ()>>;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IsolationLevel {
    ReadUncommitted,
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
    Snapshot,
}

impl IsolationLevel {
    pub fn parse(s: &str) -> Option<IsolationLevel> {
        Some(match s {
            "ReadUncommitted" => IsolationLevel::ReadUncommitted,
            "ReadCommitted" => IsolationLevel::ReadCommitted,
            "RepeatableRead" => IsolationLevel::RepeatableRead,
            "Serializable" => IsolationLevel::Serializable,
            "Snapshot" => IsolationLevel::Snapshot,
            _ => return None,
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead | IsolationLevel::Snapshot => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

/// Something that runs statements: a pool, a connection, or an open transaction.
#[allow(async_fn_in_trait)]
pub trait Queryable {
    /// Runs a statement that returns rows.
    async fn query(&self, sql: &str, params: &[Value]) -> DriverResult<ResultSet>;
    /// Runs a statement and returns the number of rows it affected.
    async fn execute(&self, sql: &str, params: &[Value]) -> DriverResult<u64>;
}

/// A statement of a batch, rendered: its text and parameter values.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchStatement {
    pub sql: String,
    pub params: Vec<Value>,
}

/// What one statement of a batch gave: its rows and the number of rows it affected.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchResult {
    pub rows: ResultSet,
    pub affected: u64,
}

/// A database reachable through a pool of connections.
#[allow(async_fn_in_trait)]
pub trait Driver: Queryable {
    type Transaction: Transaction;

    fn dialect(&self) -> Dialect;

    /// Whether [`Driver::run_batch`] works: the driver can send a list of statements, all known
    /// in advance, to run as one transaction in one call (Neon's HTTP `transaction()`).
    fn can_batch(&self) -> bool {
        false
    }

    /// Runs the statements in order as one transaction, all or nothing, and returns a result per
    /// statement. Only called when [`Driver::can_batch`] says so.
    async fn run_batch(&self, isolation: Option<IsolationLevel>, statements: &[BatchStatement]) -> DriverResult<Vec<BatchResult>> {
        let _ = (isolation, statements);
        Err(DriverError::Other("this driver cannot run a batch of statements in one call".into()))
    }

    /// Takes a connection and starts a transaction on it (`BEGIN` with the isolation level).
    async fn begin(&self, isolation: Option<IsolationLevel>) -> DriverResult<Self::Transaction>;

    /// Starts a transaction whose first statement is `sql` (its rows are not needed). A driver
    /// that can pipeline sends both in one round trip; if either fails, the transaction ends and
    /// its connection never goes back to the pool inside it.
    async fn begin_with(&self, isolation: Option<IsolationLevel>, sql: &str, params: &[Value]) -> DriverResult<Self::Transaction> {
        let tx = self.begin(isolation).await?;
        match tx.query(sql, params).await {
            Ok(_) => Ok(tx),
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

/// An open transaction holding one connection until it ends.
#[allow(async_fn_in_trait)]
pub trait Transaction: Queryable {
    async fn commit(self) -> DriverResult<()>;
    async fn rollback(self) -> DriverResult<()>;
    /// A way to cancel the statement this transaction is running, usable while another task holds
    /// the transaction (PostgreSQL's cancel request): taken when the transaction starts, used when
    /// it outlives its timeout or the client closes. `None` when the driver cannot cancel.
    fn canceller(&self) -> Option<Canceller> {
        None
    }
}
