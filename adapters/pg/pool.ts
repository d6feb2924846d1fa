// The driver adapter over a pool with node-postgres's API, shared by `quarry/adapters/pg` and the
// WebSocket side of `quarry/adapters/neon` (Neon's `Pool` is node-postgres over a WebSocket).
// Every value is read as PostgreSQL's text output (the engine decodes it by the schema's types),
// errors become `DriverAdapterError`s with their SQLSTATE, and a transaction holds one pooled
// client from BEGIN to COMMIT or ROLLBACK. The pool stays the caller's to end.

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
  release(err?: Error | boolean): void;
}

/** What is used of a node-postgres (or Neon) pool. */
export interface PgLikePool {
  query(config: object): Promise<unknown>;
  connect(): Promise<PgLikeClient>;
}

const text = (value: string) => value;
const RAW_TEXT = { getTypeParser: () => text };

async function run(target: PgLikePool | PgLikeClient, q: SqlQuery): Promise<ArrayResult> {
  try {
    return (await target.query({ text: q.sql, values: q.args, rowMode: "array", types: RAW_TEXT })) as ArrayResult;
  } catch (e) {
    throw postgresError(e);
  }
}

function queryable(target: PgLikePool | PgLikeClient): Pick<SqlQueryable, "queryRaw" | "executeRaw"> {
  return {
    async queryRaw(q): Promise<SqlResultSet> {
      const res = await run(target, q);
      return { columnNames: res.fields.map((f) => f.name), columnTypes: res.fields.map((f) => f.dataTypeID), rows: res.rows };
    },
    async executeRaw(q): Promise<number> {
      return (await run(target, q)).rowCount ?? 0;
    },
  };
}

async function connect(pool: PgLikePool): Promise<PgLikeClient> {
  try {
    return await pool.connect();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // pg's wording when `connectionTimeoutMillis` passes.
    if (/timeout/i.test(message)) throw new DriverAdapterError({ kind: "poolTimeout", message });
    throw postgresError(e);
  }
}

export function poolAdapter(pool: PgLikePool, adapterName: string): SqlDriverAdapter {
  return {
    provider: "postgres",
    adapterName,
    ...queryable(pool),
    async startTransaction(isolationLevel?: IsolationLevel): Promise<SqlTransaction> {
      const client = await connect(pool);
      const begin = isolationLevel ? `BEGIN ISOLATION LEVEL ${POSTGRES_ISOLATION[isolationLevel]}` : "BEGIN";
      try {
        await client.query(begin);
      } catch (e) {
        client.release(e instanceof Error ? e : true);
        throw postgresError(e);
      }
      let open = true;
      const end = async (statement: "COMMIT" | "ROLLBACK") => {
        if (!open) throw new DriverAdapterError({ kind: "transactionClosed", message: "the transaction has already ended" });
        open = false;
        try {
          await client.query(statement);
          client.release();
        } catch (e) {
          // A connection whose transaction did not end cleanly never goes back to the pool.
          client.release(e instanceof Error ? e : true);
          throw postgresError(e);
        }
      };
      return {
        provider: "postgres",
        adapterName,
        ...queryable(client),
        commit: () => end("COMMIT"),
        rollback: () => end("ROLLBACK"),
      };
    },
    async dispose() {},
  };
}
