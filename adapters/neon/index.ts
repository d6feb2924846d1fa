// Driver adapters for Neon's serverless driver (`@neondatabase/serverless`), both of its transports:
//
// - `neonAdapter(new Pool({ connectionString }))`: PostgreSQL's protocol over a WebSocket. Neon's
//   `Pool` is node-postgres underneath, so this is the node-postgres adapter (../pg/pool.ts):
//   interactive transactions, batches and nested writes all work. In a Worker or edge function,
//   create the pool inside the request and end it before the request finishes.
// - `neonHttpAdapter(neon(connectionString))`: one HTTP request per statement, nothing held open
//   between requests. A request that takes several statements (a batch `$transaction([...])`, a
//   nested write, row-level-security mode) runs as one of Neon's non-interactive transactions,
//   one HTTP request, when every statement is known before the first runs. Anything that needs
//   a transaction held open across round trips (an interactive transaction, a write whose
//   statements use an earlier one's rows or depend on what it found) is refused with a clear
//   error before anything runs, never half done.
//
// Values are read as PostgreSQL's text output (the engine decodes them), errors become
// `DriverAdapterError`s with their SQLSTATE.

import type { FullQueryResults, NeonQueryFunction, NeonQueryPromise, Pool } from "@neondatabase/serverless";
import {
  DriverAdapterError,
  type SqlBatchResult,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlResultSet,
  postgresError,
} from "../../npm/src/adapter.js";
import { type PgLikePool, type PoolAdapterOptions, poolAdapter } from "../pg/pool.js";

export type { PoolAdapterOptions as NeonAdapterOptions } from "../pg/pool.js";

/**
 * Over Neon's WebSocket `Pool`: everything, interactive transactions included. Recurring
 * statements run as named prepared statements, as in `pgAdapter` (`{ statementCacheSize: 0 }`
 * turns that off, for a `-pooler` endpoint whose PgBouncer does not keep them).
 */
export function neonAdapter(pool: Pool, options?: PoolAdapterOptions): SqlDriverAdapter {
  return poolAdapter(pool as unknown as PgLikePool, "neon", options);
}

const text = (value: string) => value;
const RAW_TEXT = { getTypeParser: () => text };

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Bytes as PostgreSQL's hex `bytea` input; the HTTP transport carries JSON. */
function httpArg(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    let s = "\\x";
    for (const b of v) s += HEX[b];
    return s;
  }
  return Array.isArray(v) ? v.map(httpArg) : v;
}

export const NEON_HTTP_NO_TRANSACTION =
  "Neon's HTTP driver (neon()) cannot hold a transaction open across statements, so this request " +
  "(an interactive $transaction, or a write or batch whose statements depend on an earlier statement's " +
  "result) was not run. Use neonAdapter with the WebSocket Pool from @neondatabase/serverless for it.";

/** Neon's names for the isolation levels it takes (`Snapshot` is PostgreSQL's repeatable read). */
const NEON_ISOLATION = {
  ReadUncommitted: "ReadUncommitted",
  ReadCommitted: "ReadCommitted",
  RepeatableRead: "RepeatableRead",
  Snapshot: "RepeatableRead",
  Serializable: "Serializable",
} as const;

/** Over Neon's HTTP query function: single statements, one HTTP request each. */
export function neonHttpAdapter(sql: NeonQueryFunction<boolean, boolean>): SqlDriverAdapter {
  const OPTIONS = { arrayMode: true, fullResults: true, types: RAW_TEXT } as const;
  const query = (q: SqlQuery) => sql.query(q.sql, q.args.map(httpArg), OPTIONS);
  async function run(q: SqlQuery): Promise<FullQueryResults<true>> {
    try {
      return (await query(q)) as unknown as FullQueryResults<true>;
    } catch (e) {
      throw postgresError(e);
    }
  }
  const resultSet = (res: FullQueryResults<true>): SqlResultSet => ({
    columnNames: res.fields.map((f) => f.name),
    columnTypes: res.fields.map((f) => f.dataTypeID),
    rows: res.rows as unknown[][],
  });
  return {
    provider: "postgres",
    adapterName: "neon-http",
    async queryRaw(q): Promise<SqlResultSet> {
      return resultSet(await run(q));
    },
    /** One HTTP request: Neon runs the statements as one transaction, all or nothing. */
    async executeBatch(queries, options): Promise<SqlBatchResult[]> {
      let results: FullQueryResults<true>[];
      try {
        const level = options?.isolationLevel;
        results = (await sql.transaction(queries.map(query) as NeonQueryPromise<boolean, boolean>[], {
          ...OPTIONS,
          ...(level ? { isolationLevel: NEON_ISOLATION[level] } : {}),
        })) as unknown as FullQueryResults<true>[];
      } catch (e) {
        throw postgresError(e);
      }
      return results.map((res) => ({ ...resultSet(res), affectedRows: res.rowCount ?? 0 }));
    },
    async executeRaw(q): Promise<number> {
      return (await run(q)).rowCount ?? 0;
    },
    async startTransaction() {
      throw new DriverAdapterError({ kind: "other", message: NEON_HTTP_NO_TRANSACTION });
    },
    async dispose() {},
  };
}
