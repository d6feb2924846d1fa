// Driver adapter for node-postgres (`pg`): `pgAdapter(new Pool({ connectionString }))`.
// Every value is read as PostgreSQL's text output (the engine decodes it by the schema's types),
// errors become `DriverAdapterError`s with their SQLSTATE, and a transaction holds one pooled
// client from BEGIN to COMMIT or ROLLBACK. The pool stays the caller's to end.

import type { Pool, PoolClient, QueryResult } from "pg";
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

const text = (value: string) => value;
const RAW_TEXT = { getTypeParser: () => text };

async function run(target: Pool | PoolClient, q: SqlQuery): Promise<QueryResult<unknown[]>> {
  try {
    return await target.query<unknown[]>({ text: q.sql, values: q.args, rowMode: "array", types: RAW_TEXT });
  } catch (e) {
    throw postgresError(e);
  }
}

function queryable(target: Pool | PoolClient): Pick<SqlQueryable, "queryRaw" | "executeRaw"> {
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

async function connect(pool: Pool): Promise<PoolClient> {
  try {
    return await pool.connect();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // pg's wording when `connectionTimeoutMillis` passes.
    if (/timeout/i.test(message)) throw new DriverAdapterError({ kind: "poolTimeout", message });
    throw postgresError(e);
  }
}

export function pgAdapter(pool: Pool): SqlDriverAdapter {
  return {
    provider: "postgres",
    adapterName: "pg",
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
        adapterName: "pg",
        ...queryable(client),
        commit: () => end("COMMIT"),
        rollback: () => end("ROLLBACK"),
      };
    },
    async dispose() {},
  };
}
