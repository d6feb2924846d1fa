// Driver adapter for node-postgres (`pg`): `pgAdapter(new Pool({ connectionString }))`.
// Every value is read as PostgreSQL's text output (the engine decodes it by the schema's types),
// errors become `DriverAdapterError`s with their SQLSTATE, and a transaction holds one pooled
// client from BEGIN to COMMIT or ROLLBACK (see ./pool.ts). The pool stays the caller's to end.

import type { Pool } from "pg";
import type { SqlDriverAdapter } from "../../npm/src/adapter.js";
import { type PgLikePool, poolAdapter } from "./pool.js";

export function pgAdapter(pool: Pool): SqlDriverAdapter {
  return poolAdapter(pool as unknown as PgLikePool, "pg");
}
