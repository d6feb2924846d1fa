// Driver adapter for node-postgres (`pg`): `pgAdapter(new Pool({ connectionString }))`.
// Every value is read as PostgreSQL's text output (the engine decodes it by the schema's types),
// errors become `DriverAdapterError`s with their SQLSTATE, and a transaction holds one pooled
// client from BEGIN to COMMIT or ROLLBACK (see ./pool.ts). The pool stays the caller's to end.
// Recurring statements run as named prepared statements; `{ statementCacheSize: 0 }` turns that
// off (PgBouncer in transaction mode without its own prepared statement support).

import type { Pool } from "pg";
import type { SqlDriverAdapter } from "../../npm/src/adapter.js";
import { type PgLikePool, type PoolAdapterOptions, poolAdapter } from "./pool.js";

export type { PoolAdapterOptions as PgAdapterOptions } from "./pool.js";

export function pgAdapter(pool: Pool, options?: PoolAdapterOptions): SqlDriverAdapter {
  return poolAdapter(pool as unknown as PgLikePool, "pg", options);
}
