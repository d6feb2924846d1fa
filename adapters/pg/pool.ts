// The driver adapter over a pool with node-postgres's API, shared by `quarry/adapters/pg` and the
// WebSocket side of `quarry/adapters/neon` (Neon's `Pool` is node-postgres over a WebSocket).
// Every value is read as PostgreSQL's text output (the engine decodes it by the schema's types),
// errors become `DriverAdapterError`s with their SQLSTATE, and a transaction holds one pooled
// client from BEGIN to COMMIT or ROLLBACK. The pool stays the caller's to end.
//
// The adapter owns its driver's 'error' events: node-postgres emits one on a client whose
// connection the server ended (pg_terminate_backend, a restart, a failover), and an event nobody
// listens to ends the process. An idle pooled client's goes to the pool, which drops the client;
// a client held for a transaction has the adapter's listener, and the transaction's next call
// fails with a connection error instead (the server has rolled it back).

import {
  DriverAdapterError,
  type IsolationLevel,
  POSTGRES_ISOLATION,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
  type SqlTransaction,
  postgresError,
} from "../../npm/src/adapter.js";

/** What is used of a node-postgres result. */
interface ArrayResult {
  fields: { name: string; dataTypeID: number }[];
  rows: unknown[][];
  rowCount: number | null;
}

/** What is used of a node-postgres (or Neon) pooled client. */
export interface PgLikeClient {
  query(config: object): Promise<unknown>;
  query(text: string): Promise<unknown>;
  /** The server process of the connection (node-postgres's `processID`), for cancelling. */
  processID?: number | null;
  release(err?: Error | boolean): void;
  on?(event: "error", listener: (e: Error) => void): unknown;
  removeListener?(event: "error", listener: (e: Error) => void): unknown;
}

/** What is used of a node-postgres (or Neon) pool. */
export interface PgLikePool {
  /** pg-pool's settings: `max` and `connectionTimeoutMillis` are what P2024's meta reports. */
  options?: { max?: number; connectionTimeoutMillis?: number };
  query(config: object): Promise<unknown>;
  connect(): Promise<PgLikeClient>;
  on?(event: "error", listener: (e: Error) => void): unknown;
}

/** Pools that already have the adapter's listener for their idle clients' errors. */
const listened = new WeakSet<object>();

/** pg-pool's wording when `connectionTimeoutMillis` passes while waiting for a client. */
const POOL_TIMEOUT = /timeout exceeded when trying to connect|timeout/i;

/**
 * A failure to get a connection: a pool timeout (P2024) when the pool's wait ran out, with the
 * pool's size and wait (seconds) as Prisma reports them, where the pool says.
 */
function connectError(e: unknown, pool: PgLikePool): DriverAdapterError {
  const message = e instanceof Error ? e.message : String(e);
  if (POOL_TIMEOUT.test(message) && !(e as { severity?: unknown })?.severity) {
    const { max, connectionTimeoutMillis } = pool.options ?? {};
    return new DriverAdapterError({
      kind: "poolTimeout",
      message,
      connectionLimit: typeof max === "number" ? max : undefined,
      timeout: typeof connectionTimeoutMillis === "number" && connectionTimeoutMillis > 0 ? connectionTimeoutMillis / 1000 : undefined,
    });
  }
  return postgresError(e);
}

const text = (value: string) => value;
const RAW_TEXT = { getTypeParser: () => text };

async function run(target: PgLikePool | PgLikeClient, q: SqlQuery, pooled: boolean): Promise<ArrayResult> {
  try {
    return (await target.query({ text: q.sql, values: q.args, rowMode: "array", types: RAW_TEXT })) as ArrayResult;
  } catch (e) {
    // `pool.query` waits for a client first: its timeout is the pool's.
    throw pooled ? connectError(e, target as PgLikePool) : postgresError(e);
  }
}

function queryable(run: (q: SqlQuery) => Promise<ArrayResult>): Pick<SqlQueryable, "queryRaw" | "executeRaw"> {
  return {
    async queryRaw(q): Promise<SqlResultSet> {
      const res = await run(q);
      return { columnNames: res.fields.map((f) => f.name), columnTypes: res.fields.map((f) => f.dataTypeID), rows: res.rows };
    },
    async executeRaw(q): Promise<number> {
      return (await run(q)).rowCount ?? 0;
    },
  };
}

/** The connection-lost error a transaction's calls fail with once its connection is gone. */
function lost(cause: Error): DriverAdapterError {
  return new DriverAdapterError({ kind: "connection", message: `the connection was closed: ${cause.message}` });
}

export function poolAdapter(pool: PgLikePool, adapterName: string): SqlDriverAdapter {
  // An idle client whose connection ends: pg-pool removes it and emits 'error' on the pool.
  if (typeof pool.on === "function" && !listened.has(pool)) {
    listened.add(pool);
    pool.on("error", () => {});
  }
  return {
    provider: "postgres",
    adapterName,
    ...queryable((q) => run(pool, q, true)),
    async startTransaction(isolationLevel?: IsolationLevel): Promise<SqlTransaction> {
      let client: PgLikeClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw connectError(e, pool);
      }
      // Held from BEGIN to the end: this client's 'error' events are ours until it goes back.
      let broken: Error | undefined;
      const onError = (e: Error) => {
        broken ??= e;
      };
      client.on?.("error", onError);
      let released = false;
      const release = (err?: Error | boolean) => {
        if (released) return;
        released = true;
        client.removeListener?.("error", onError);
        // A connection that failed, or whose transaction did not end cleanly, never goes back.
        client.release(broken ?? err);
      };
      const begin = isolationLevel ? `BEGIN ISOLATION LEVEL ${POSTGRES_ISOLATION[isolationLevel]}` : "BEGIN";
      try {
        await client.query(begin);
      } catch (e) {
        release(e instanceof Error ? e : true);
        throw broken ? lost(broken) : postgresError(e);
      }
      let open = true;
      const inTransaction = async (q: SqlQuery): Promise<ArrayResult> => {
        if (broken) throw lost(broken);
        try {
          return (await client.query({ text: q.sql, values: q.args, rowMode: "array", types: RAW_TEXT })) as ArrayResult;
        } catch (e) {
          // The statement's own error (with its SQLSTATE) when the server sent one.
          const mapped = postgresError(e);
          if (broken && mapped.cause.kind !== "database") throw lost(broken);
          throw mapped;
        }
      };
      const end = async (statement: "COMMIT" | "ROLLBACK") => {
        if (!open) throw new DriverAdapterError({ kind: "transactionClosed", message: "the transaction has already ended" });
        open = false;
        if (broken) {
          release();
          // The server rolled the transaction back when the connection ended.
          if (statement === "ROLLBACK") return;
          throw lost(broken);
        }
        try {
          await client.query(statement);
          release();
        } catch (e) {
          release(e instanceof Error ? e : true);
          throw broken ? lost(broken) : postgresError(e);
        }
      };
      return {
        provider: "postgres",
        adapterName,
        ...queryable(inTransaction),
        commit: () => end("COMMIT"),
        rollback: () => end("ROLLBACK"),
        // Cancels the statement the transaction is running (its timeout passed, or the client is
        // closing), from another of the pool's connections: the driver's connection is busy.
        async cancel() {
          const pid = client.processID;
          if (!open || broken || typeof pid !== "number") return;
          await pool.query({ text: "SELECT pg_cancel_backend($1)", values: [pid] }).catch(() => {});
        },
      };
    },
    async dispose() {},
  };
}
