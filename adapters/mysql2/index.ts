// Driver adapter for mysql2 (`mysql2/promise` pools on Node.js):
// `mysql2Adapter(mysql.createPool({ uri }))`. Statements run as server-side prepared statements
// (`execute`, `?` placeholders: values are never written into the text), read by the cell contract
// of ../../npm/src/mysql.ts; every connection runs with `time_zone = '+00:00'` and
// `group_concat_max_len = 4294967295`, and counts changed rows as affected rows; a transaction
// holds one pooled connection. The pool stays the caller's to end. The body is ./pool.ts.

import type { Pool } from "mysql2/promise";
import * as mysql2 from "mysql2/promise";
import type { SqlDriverAdapter } from "../../npm/src/adapter.js";
import { mysql2PoolAdapter } from "./pool.js";

export function mysql2Adapter(pool: Pool): SqlDriverAdapter {
  return mysql2PoolAdapter(pool, mysql2);
}
