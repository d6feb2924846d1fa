// Driver adapters for Neon's serverless driver (`@neondatabase/serverless`), both of its transports:
//
// - `neonAdapter(new Pool({ connectionString }))`: PostgreSQL's protocol over a WebSocket. Neon's
//   `Pool` is node-postgres underneath, so this is the node-postgres adapter (../pg/pool.ts):
//   interactive transactions, batches and nested writes all work. In a Worker or edge function,
//   create the pool inside the request and end it before the request finishes.
// - `neonHttpAdapter(neon(connectionString))`: one HTTP request per statement, nothing held open
//   between requests. A single-statement request works; anything that needs a transaction held
//   across statements (`$transaction`, an interactive transaction, a write that takes several
//   statements, row-level-security mode) is refused with a clear error before anything runs,
//   never half done.
//
// Values are read as PostgreSQL's text output (the engine decodes them), errors become
// `DriverAdapterError`s with their SQLSTATE.

import type { FullQueryResults, NeonQueryFunction, Pool } from "@neondatabase/serverless";
import { DriverAdapterError, type SqlDriverAdapter, type SqlQuery, type SqlResultSet, postgresError } from "../../npm/src/adapter.js";
import { type PgLikePool, poolAdapter } from "../pg/pool.js";

/** Over Neon's WebSocket `Pool`: everything, interactive transactions included. */
export function neonAdapter(pool: Pool): SqlDriverAdapter {
  return poolAdapter(pool as unknown as PgLikePool, "neon");
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
  "(an interactive or batch $transaction, or a write that takes several statements) was not run. " +
  "Use neonAdapter with the WebSocket Pool from @neondatabase/serverless for it.";

/** Over Neon's HTTP query function: single statements, one HTTP request each. */
export function neonHttpAdapter(sql: NeonQueryFunction<boolean, boolean>): SqlDriverAdapter {
  async function run(q: SqlQuery): Promise<FullQueryResults<true>> {
    try {
      const query = sql.query(q.sql, q.args.map(httpArg), { arrayMode: true, fullResults: true, types: RAW_TEXT });
      return (await query) as unknown as FullQueryResults<true>;
    } catch (e) {
      throw postgresError(e);
    }
  }
  return {
    provider: "postgres",
    adapterName: "neon-http",
    async queryRaw(q): Promise<SqlResultSet> {
      const res = await run(q);
      return {
        columnNames: res.fields.map((f) => f.name),
        columnTypes: res.fields.map((f) => f.dataTypeID),
        rows: res.rows as unknown[][],
      };
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
