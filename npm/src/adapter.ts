// The driver adapter contract: what the engine calls to reach a database from JavaScript. It has
// the shape of Prisma's `SqlDriverAdapter`, so an adapter is a small object over a driver (see
// `quarry/adapters/pg` and `quarry/adapters/pglite`). Adapters own two translations: their
// driver's errors to `DriverAdapterError` kinds (SQLSTATE inside), and their driver's values to
// PostgreSQL's text output, which the engine decodes by the schema's types.
//
// MySQL / MariaDB adapters (provider "mysql") get `?` placeholders and follow the cell contract
// written in the engine (`engine/src/exec/driver.rs`, on `Dialect`): columnTypes are PostgreSQL
// OIDs of the nearest type (INT 23, BIGINT 20, FLOAT 700, DOUBLE 701, DECIMAL 1700,
// TINYINT(1)/BOOL 16, VARCHAR/TEXT/ENUM 25, DATETIME/TIMESTAMP 1114, DATE 1082, TIME 1083,
// JSON 114, BLOB/BINARY 17); cells are null, numbers for ints that fit and for floats, strings
// for BIGINT, DECIMAL, DATETIME ('YYYY-MM-DD HH:MM:SS.ffffff', UTC), JSON text and text, and
// Uint8Array for binary. DateTime arguments are bound as 'YYYY-MM-DD HH:MM:SS.fff' (UTC). Every
// session runs with time_zone '+00:00' and group_concat_max_len = 4294967295, without
// CLIENT_FOUND_ROWS (affected rows are changed rows). Errors carry the PostgreSQL SQLSTATE of the
// same condition: 1062 -> 23505 (constraint: the key name without a table prefix), 1451/1452 ->
// 23503 (constraint name), 1048/1364 -> 23502, 1406 -> 22001, 1264 -> 22003 (these three with the
// column the message names), 1213 -> 40P01. The
// two MySQL adapters share that translation in `./mysql.ts`.

/** The value kinds the engine binds, named so an adapter can pick an encoding. */
export type ArgType =
  | "Null"
  | "Boolean"
  | "Int"
  | "BigInt"
  | "Float"
  | "Decimal"
  | "String"
  | "Enum"
  | "DateTime"
  | "Json"
  | "Bytes"
  | "List";

/**
 * A statement with `$1..$n` placeholders and its arguments: numbers, booleans, strings (BigInt,
 * Decimal, DateTime in UTC as `2025-01-01 10:00:00.000+00`, and Json as text), `Uint8Array` for
 * bytes, arrays for lists.
 */
export interface SqlQuery {
  sql: string;
  args: unknown[];
  argTypes: ArgType[];
}

/**
 * Rows of a query. `columnTypes` are PostgreSQL type OIDs; cells are `null` or the value as
 * PostgreSQL prints it (text), or numbers, booleans, `Uint8Array`s and arrays of those.
 */
export interface SqlResultSet {
  columnNames: string[];
  columnTypes: number[];
  rows: unknown[][];
}

export type IsolationLevel = "ReadUncommitted" | "ReadCommitted" | "RepeatableRead" | "Serializable" | "Snapshot";

/** PostgreSQL's name for an isolation level (`Snapshot` is its repeatable read). */
export const POSTGRES_ISOLATION: Readonly<Record<IsolationLevel, string>> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Snapshot: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

export interface SqlQueryable {
  readonly provider: "postgres" | "mysql";
  readonly adapterName: string;
  queryRaw(query: SqlQuery): Promise<SqlResultSet>;
  /** Runs a statement and resolves to the number of rows it affected. */
  executeRaw(query: SqlQuery): Promise<number>;
}

/** An open transaction holding one connection until `commit` or `rollback` ends it. */
export interface SqlTransaction extends SqlQueryable {
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /**
   * Optional: asks the database to cancel the statement this transaction is running, if any
   * (PostgreSQL: `pg_cancel_backend` from another connection, or the protocol's cancel request).
   * Called while the statement runs, when the transaction's timeout has passed or the client is
   * closing, so that rolling back does not wait for the statement to finish.
   */
  cancel?(): Promise<void>;
}

/** What one statement of a batch gave: its rows, and the number of rows it affected. */
export interface SqlBatchResult extends SqlResultSet {
  affectedRows: number;
}

export interface SqlDriverAdapter extends SqlQueryable {
  /** Takes a connection and starts a transaction on it (`BEGIN`, with the isolation level if given). */
  startTransaction(isolationLevel?: IsolationLevel): Promise<SqlTransaction>;
  /**
   * Optional, for drivers that cannot hold a transaction open across calls: runs statements that
   * are all known up front as one transaction (all or nothing) in one call, and resolves to a
   * result per statement. The engine uses it for batches and multi-statement requests whose
   * statements do not depend on each other's rows.
   */
  executeBatch?(queries: SqlQuery[], options?: { isolationLevel?: IsolationLevel }): Promise<SqlBatchResult[]>;
  /** Releases what the adapter holds. Adapters never close a pool or database they were given. */
  dispose?(): Promise<void>;
}

/** What went wrong in a driver, in the kinds the engine maps to its error codes. */
export type DriverErrorCause =
  | {
      kind: "database";
      /** The SQLSTATE, e.g. `23505`. */
      sqlstate: string;
      /** The database's message: for logs only, it can quote values and never reaches a client. */
      message: string;
      /** PostgreSQL's error fields: the names involved (identifiers, never values). */
      schema?: string;
      constraint?: string;
      table?: string;
      column?: string;
      /**
       * MySQL adapters: the server's error number and its own SQLSTATE. `sqlstate` is then
       * PostgreSQL's code for the same failure where the engine maps one (see `npm/src/mysql.ts`).
       */
      errno?: number;
      mysqlSqlstate?: string;
    }
  | {
      kind: "poolTimeout";
      message: string;
      /** The pool's size and how long a request waits for a connection (seconds), if known. */
      connectionLimit?: number;
      timeout?: number;
    }
  | { kind: "connection"; message: string; /** MySQL adapters: the error number, when there is one. */ errno?: number }
  | { kind: "transactionClosed"; message: string }
  | { kind: "other"; message: string };

/** The error an adapter rejects with. */
export class DriverAdapterError extends Error {
  override readonly name = "DriverAdapterError";
  declare readonly cause: DriverErrorCause;

  constructor(cause: DriverErrorCause) {
    super(cause.kind === "database" ? `database error ${cause.sqlstate}` : cause.message);
    Object.defineProperty(this, "cause", { value: cause, enumerable: true });
  }
}

/** The error a transaction's calls fail with once its connection is gone. */
export function connectionLost(cause: Error): DriverAdapterError {
  return new DriverAdapterError({ kind: "connection", message: `the connection was closed: ${cause.message}` });
}

/** What a pooled adapter's transaction holds: one connection, from BEGIN to COMMIT or ROLLBACK. */
export interface HeldConnection {
  /** The connection's failure (an 'error' event, a lost connection), once it has one. */
  broken(): Error | undefined;
  run(statement: "COMMIT" | "ROLLBACK"): Promise<unknown>;
  /** Gives the connection back to the pool; after a failure (`failure`, or `broken()`) discards it. */
  release(failure?: unknown): void;
  /** The adapter's error for what `run` threw. */
  error(e: unknown): DriverAdapterError;
}

/**
 * The end of a transaction on a held connection, shared by the pooled adapters: ends once
 * (`transactionClosed` after that), and on a connection that is gone only gives it up — the server
 * rolled the transaction back, so ROLLBACK succeeds and COMMIT fails as a lost connection.
 * `open()` says whether the transaction has not ended yet.
 */
export function transactionEnd(held: HeldConnection): { end(statement: "COMMIT" | "ROLLBACK"): Promise<void>; open(): boolean } {
  let open = true;
  return {
    open: () => open,
    async end(statement) {
      if (!open) throw new DriverAdapterError({ kind: "transactionClosed", message: "the transaction has already ended" });
      open = false;
      const gone = held.broken();
      if (gone) {
        held.release();
        if (statement === "ROLLBACK") return;
        throw connectionLost(gone);
      }
      try {
        await held.run(statement);
        held.release();
      } catch (e) {
        // A failure the connection reported while the statement ran comes first.
        const failed = held.broken();
        held.release(e);
        throw failed ? connectionLost(failed) : held.error(e);
      }
    },
  };
}

/**
 * Maps what PostgreSQL drivers built on its wire protocol throw (node-postgres, PGlite, Neon:
 * errors with a `severity`, a five-character SQLSTATE `code` and the server's `constraint`, `table`,
 * `column` fields, and `schema`) to a `DriverAdapterError`. Anything else is a connection failure when it has a system
 * error code (`ECONNREFUSED`, ...), otherwise `other`.
 */
export function postgresError(e: unknown): DriverAdapterError {
  if (e instanceof DriverAdapterError) return e;
  const err = (e ?? {}) as {
    code?: unknown;
    severity?: unknown;
    message?: unknown;
    schema?: unknown;
    constraint?: unknown;
    table?: unknown;
    column?: unknown;
  };
  const message = typeof err.message === "string" ? err.message : String(e);
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  if (typeof err.code === "string" && /^[0-9A-Z]{5}$/.test(err.code) && typeof err.severity === "string") {
    return new DriverAdapterError({
      kind: "database",
      sqlstate: err.code,
      message,
      schema: text(err.schema),
      constraint: text(err.constraint),
      table: text(err.table),
      column: text(err.column),
    });
  }
  if (typeof err.code === "string" && /^E[A-Z]+$/.test(err.code)) {
    return new DriverAdapterError({ kind: "connection", message });
  }
  return new DriverAdapterError({ kind: "other", message });
}
