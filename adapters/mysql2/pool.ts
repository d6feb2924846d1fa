// The mysql2 adapter's body, given the `mysql2/promise` module and a pool of it: ./index.ts passes
// the module it imports, and the client's `mysql://` url (npm/src/fallback.ts) the one it loads
// when such a url is given, so the package's entry never imports mysql2 itself. Statements run as
// server-side prepared statements (`execute`, `?` placeholders: values are never written into the
// text), read by the cell contract of ../../npm/src/mysql.ts (dates as UTC strings, BIGINT and DECIMAL as strings, bytes as
// Uint8Array); errors become `DriverAdapterError`s with the SQLSTATE the engine maps and MySQL's
// number beside it. Every connection the adapter uses runs with `time_zone = '+00:00'` and
// `group_concat_max_len = 4294967295` (set when the pool opens it, and again when a transaction
// takes it), and without CLIENT_FOUND_ROWS: affected rows are changed rows (create the adapter
// before the pool's first connection, or pass `flags: ["-FOUND_ROWS"]` to the pool). A transaction holds one pooled
// connection from START TRANSACTION to COMMIT or ROLLBACK, with the isolation level set before it
// starts. The pool stays the caller's to end.
//
// The adapter owns its connections' 'error' events while it holds them: a connection that the
// server ended (KILL, a restart, wait_timeout) fails the transaction's next call with a connection
// error, is destroyed instead of going back to the pool, and never ends the process.

import type { FieldPacket, Pool, PoolConnection } from "mysql2/promise";
import {
  DriverAdapterError,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
  type SqlTransaction,
  connectionLost,
  transactionEnd,
} from "../../npm/src/adapter.js";
import { MYSQL_ISOLATION, mysqlArg, mysqlCell, mysqlColumnOid, mysqlError } from "../../npm/src/mysql.js";

/** What is used of a mysql2 promise connection or pool. */
interface Executor {
  execute(options: object, values?: unknown[]): Promise<[unknown, FieldPacket[] | undefined]>;
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

/** Per-statement options: the cell contract, whatever the pool was created with. */
const OPTIONS = {
  rowsAsArray: true,
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  timezone: "Z",
};

/** Every session: UTC, and room for a nested relation's list (built with GROUP_CONCAT). */
const SESSION = "SET time_zone = '+00:00', group_concat_max_len = 4294967295";

/** mysql2's CLIENT_FOUND_ROWS capability flag: affected rows would count matched rows. */
const CLIENT_FOUND_ROWS = 2;

/** Pools that already have the adapter's listener for new connections. */
const listened = new WeakSet<object>();

/** mysql2's typed parameters (3.x), which bind BIGINT and DECIMAL exactly; absent in older releases. */
type Typed = Record<string, ((v: unknown) => unknown) | undefined>;

/** What is read of the `mysql2/promise` module (as imported, or as `require` returns it). */
export type Mysql2Module = object;

function typedParameters(module: Mysql2Module): Typed | undefined {
  const m = module as { TypedParameter?: Typed; default?: { TypedParameter?: Typed } };
  return m.TypedParameter ?? m.default?.TypedParameter;
}

/**
 * The arguments as mysql2 binds them: BigInt as a LONGLONG and Decimal as a NEWDECIMAL parameter
 * where mysql2 can say so (a string parameter is computed in DOUBLE by MySQL: `visits + '1'`
 * loses digits past 2^53), bytes as a Buffer.
 */
function args(q: SqlQuery, typed: Typed | undefined): unknown[] {
  return q.args.map((a, i) => {
    const v = mysqlArg(a, q.argTypes[i], (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    if (v === null || !typed) return v;
    if (q.argTypes[i] === "BigInt" && typeof v === "bigint" && typed.LONGLONG) return typed.LONGLONG(v);
    if (q.argTypes[i] === "Decimal" && typeof v === "string" && typed.NEWDECIMAL) return typed.NEWDECIMAL(v);
    return v;
  });
}

interface Result {
  rows: unknown[][];
  fields: FieldPacket[];
  affected: number;
}

async function run(target: Executor, q: SqlQuery, typed: Typed | undefined): Promise<Result> {
  let res: unknown;
  let fields: FieldPacket[] | undefined;
  try {
    [res, fields] = await target.execute({ sql: q.sql, ...OPTIONS }, args(q, typed));
  } catch (e) {
    throw mysqlError(e);
  }
  if (Array.isArray(res)) return { rows: res as unknown[][], fields: fields ?? [], affected: res.length };
  return { rows: [], fields: [], affected: Number((res as { affectedRows?: number })?.affectedRows ?? 0) };
}

function resultSet(r: Result): SqlResultSet {
  const types = r.fields.map((f) => mysqlColumnOid(f.columnType ?? f.type ?? 253, f.columnLength ?? 0, f.characterSet ?? 0));
  return {
    columnNames: r.fields.map((f) => f.name),
    columnTypes: types,
    rows: r.rows.map((row) => row.map((cell, i) => mysqlCell(cell, types[i] ?? 25))),
  };
}

function queryable(run: (q: SqlQuery) => Promise<Result>): Pick<SqlQueryable, "queryRaw" | "executeRaw"> {
  return {
    async queryRaw(q) {
      return resultSet(await run(q));
    },
    async executeRaw(q) {
      return (await run(q)).affected;
    },
  };
}

/** The core (callback) connection under a promise connection, whose events the adapter listens to. */
function core(conn: PoolConnection): { on(e: "error", l: (e: Error) => void): unknown; removeListener(e: "error", l: (e: Error) => void): unknown; threadId?: number } {
  return (conn as unknown as { connection: ReturnType<typeof core> }).connection;
}

/** The adapter over `pool`, a pool of the `mysql2/promise` module `module`. */
export function mysql2PoolAdapter(pool: Pool, module: Mysql2Module): SqlDriverAdapter {
  const adapterName = "mysql2";
  const typed = typedParameters(module);
  // New connections get the session's settings before anything else runs on them, and count
  // changed rows as affected rows (mysql2 asks for matched rows by default; the engine counts
  // matched rows itself where Prisma does).
  if (!listened.has(pool)) {
    listened.add(pool);
    const config = (pool as unknown as { pool?: { config?: { connectionConfig?: { clientFlags?: number } } } }).pool?.config?.connectionConfig;
    if (config && typeof config.clientFlags === "number") config.clientFlags &= ~CLIENT_FOUND_ROWS;
    pool.on("connection", (conn) => {
      (conn as unknown as { query(sql: string, cb: () => void): void }).query(SESSION, () => {});
    });
  }
  const executor = pool as unknown as Executor;
  return {
    provider: "mysql",
    adapterName,
    ...queryable((q) => run(executor, q, typed)),
    async startTransaction(isolationLevel?: IsolationLevel): Promise<SqlTransaction> {
      let conn: PoolConnection;
      try {
        conn = await pool.getConnection();
      } catch (e) {
        throw mysqlError(e);
      }
      let broken: Error | undefined;
      const onError = (e: Error) => {
        broken ??= e;
      };
      core(conn).on("error", onError);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        core(conn).removeListener("error", onError);
        // A connection that failed, or whose transaction did not end cleanly, never goes back.
        if (broken) conn.destroy();
        else conn.release();
      };
      const exec = conn as unknown as Executor;
      try {
        await exec.query(SESSION);
        if (isolationLevel) await exec.query(`SET TRANSACTION ISOLATION LEVEL ${MYSQL_ISOLATION[isolationLevel]}`);
        await exec.query("START TRANSACTION");
      } catch (e) {
        broken ??= e instanceof Error ? e : new Error(String(e));
        release();
        throw mysqlError(e);
      }
      const inTransaction = async (q: SqlQuery): Promise<Result> => {
        if (broken) throw connectionLost(broken);
        try {
          return await run(exec, q, typed);
        } catch (e) {
          const mapped = e instanceof DriverAdapterError ? e : mysqlError(e);
          if (broken && mapped.cause.kind !== "database") throw connectionLost(broken);
          // The server ended the connection (KILL answers with 1927 before it closes the socket).
          if (mapped.cause.kind === "connection") broken ??= mapped;
          throw mapped;
        }
      };
      const { end, open } = transactionEnd({
        broken: () => broken,
        run: (statement) => exec.query(statement),
        release: (failure) => {
          if (failure !== undefined) broken ??= failure instanceof Error ? failure : new Error(String(failure));
          release();
        },
        error: mysqlError,
      });
      const threadId = core(conn).threadId;
      return {
        provider: "mysql",
        adapterName,
        ...queryable(inTransaction),
        commit: () => end("COMMIT"),
        rollback: () => end("ROLLBACK"),
        // Cancels the statement the transaction is running, from another of the pool's connections.
        async cancel() {
          if (!open() || broken || typeof threadId !== "number") return;
          await pool.query(`KILL QUERY ${Number(threadId)}`).catch(() => {});
        },
      };
    },
    async dispose() {},
  };
}
