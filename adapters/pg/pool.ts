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
//
// Statements that recur run as named prepared statements (see `StatementNames`), so PostgreSQL
// parses and plans them once per connection instead of on every request.

import {
  DriverAdapterError,
  type IsolationLevel,
  POSTGRES_ISOLATION,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
  type SqlTransaction,
  connectionLost,
  postgresError,
  transactionEnd,
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
  /**
   * pg-pool's settings: `max` and `connectionTimeoutMillis` are what P2024's meta reports,
   * `connectionString`'s `pgbouncer=true` turns named statements off.
   */
  options?: { max?: number; connectionTimeoutMillis?: number; connectionString?: string };
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

/** Options of the node-postgres and Neon WebSocket adapters. */
export interface PoolAdapterOptions {
  /**
   * How many distinct statement texts may run as named prepared statements (parsed and planned
   * once per connection), 256 by default; 0 sends every statement unnamed, as PgBouncer in
   * transaction mode needs unless it tracks prepared statements itself (1.21 or newer with
   * `max_prepared_statements` above 0). A pool whose `connectionString` has `pgbouncer=true`
   * defaults to 0.
   */
  statementCacheSize?: number;
}

const DEFAULT_STATEMENT_CACHE_SIZE = 256;
/** How many texts seen once are remembered while waiting for their second use. */
const SEEN_ONCE = 1024;
const STALE_PLAN = /cached plan must not change result type/;

/**
 * Which statement texts run as named prepared statements. node-postgres remembers per connection
 * which names it has prepared and refuses a name used with another text, so a name belongs to
 * one text for the adapter's whole life; names carry a random prefix, so two adapters (or two
 * processes behind a pooler) never give one name two texts. A text gets a name on its second use
 * (raw SQL run once and rare shapes never take one), only when it has parameters (a text without
 * them keeps the simple protocol, which allows several statements in one), and only while fewer
 * than `limit` names were given: the statements prepared on each connection stay bounded. Names
 * are never taken back (that would need a DEALLOCATE on every connection); later texts run
 * unnamed.
 */
class StatementNames {
  private readonly names = new Map<string, string | null>();
  private readonly seen = new Map<string, true>();
  private readonly prefix = `quarry_${Math.random().toString(36).slice(2, 10)}_`;
  private given = 0;
  private off: boolean;

  constructor(private readonly limit: number) {
    this.off = limit <= 0;
  }

  /** The name to run `q` under, or undefined to run it unnamed. */
  name(q: SqlQuery): string | undefined {
    if (this.off || q.args.length === 0) return undefined;
    const name = this.names.get(q.sql);
    if (name !== undefined) return name ?? undefined;
    if (this.given >= this.limit) return undefined;
    if (!this.seen.delete(q.sql)) {
      if (this.seen.size >= SEEN_ONCE) this.seen.delete(this.seen.keys().next().value as string);
      this.seen.set(q.sql, true);
      return undefined;
    }
    return this.give(q.sql) ?? undefined;
  }

  private give(sql: string): string | null {
    const name = this.given < this.limit ? `${this.prefix}${++this.given}` : null;
    this.names.set(sql, name);
    return name;
  }

  /**
   * After the statement named `name` failed: whether the failure was the name's (nothing ran, and
   * it can run again unnamed). A plan whose result type changed under it (0A000 after an ALTER
   * TABLE) fails on that connection every time, so the text gets a fresh name, prepared anew on
   * each connection. A statement the server does not know (26000) or already has (42P05) means a
   * pooler hands the adapter's connections different server connections: names stop for good.
   */
  failed(sql: string, name: string, e: unknown): boolean {
    const { code, routine, message } = (e ?? {}) as { code?: unknown; routine?: unknown; message?: unknown };
    // PostgreSQL's function that raises it names the error whatever the server's language.
    if (code === "0A000" && (routine === "RevalidateCachedQuery" || (typeof message === "string" && STALE_PLAN.test(message)))) {
      if (this.names.get(sql) === name) this.give(sql);
      return true;
    }
    if (code === "26000" || code === "42P05") {
      this.off = true;
      return true;
    }
    return false;
  }
}

function send(target: PgLikePool | PgLikeClient, q: SqlQuery, name: string | undefined): Promise<unknown> {
  return target.query(
    name === undefined
      ? { text: q.sql, values: q.args, rowMode: "array", types: RAW_TEXT }
      : { name, text: q.sql, values: q.args, rowMode: "array", types: RAW_TEXT },
  );
}

/**
 * Whether a statement's failure leaves its connection as it was before the statement: an error
 * the server reported for the statement (severity ERROR, not FATAL or PANIC, which end the
 * session), for a statement sent with parameters (the extended protocol: one statement, which
 * cannot leave a transaction open behind it), while the client saw no error of its own.
 */
function statementOnly(q: SqlQuery, e: unknown, broken: Error | undefined): boolean {
  return broken === undefined && q.args.length > 0 && (e as { severity?: unknown } | null)?.severity === "ERROR";
}

/** A client taken from the pool, held by the adapter. */
interface Held {
  readonly client: PgLikeClient;
  /** The client's 'error' event (its connection ended), once there was one. */
  broken(): Error | undefined;
  /** Gives the client back, or discards it after `err` or an 'error' event; once. */
  release(err?: Error | boolean): void;
}

/** Takes a client from the pool; its 'error' events are the adapter's until it goes back. */
async function hold(pool: PgLikePool): Promise<Held> {
  let client: PgLikeClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw connectError(e, pool);
  }
  let broken: Error | undefined;
  const onError = (e: Error) => {
    broken ??= e;
  };
  client.on?.("error", onError);
  let released = false;
  return {
    client,
    broken: () => broken,
    release(err) {
      if (released) return;
      released = true;
      client.removeListener?.("error", onError);
      // A connection that failed never goes back.
      client.release(broken ?? err);
    },
  };
}

/**
 * A statement outside a transaction, on a client of the pool held for it. `pool.query` would
 * destroy the client after any failure, a unique violation included, and with it the
 * connection and the statements prepared on it; a failure of the statement alone gives the
 * client back instead, and anything else (a lost connection, a fatal error) still discards it.
 */
async function run(pool: PgLikePool, q: SqlQuery, statements: StatementNames): Promise<ArrayResult> {
  const held = await hold(pool);
  const release = (e?: unknown) => held.release(e === undefined || statementOnly(q, e, held.broken()) ? undefined : e instanceof Error ? e : true);
  const name = statements.name(q);
  try {
    const res = (await send(held.client, q, name)) as ArrayResult;
    release();
    return res;
  } catch (e) {
    if (name === undefined || held.broken() || !statements.failed(q.sql, name, e)) {
      release(e);
      throw postgresError(e);
    }
  }
  // The name's own failure (nothing ran): once more unnamed, on the same connection.
  try {
    const res = (await send(held.client, q, undefined)) as ArrayResult;
    release();
    return res;
  } catch (e) {
    release(e);
    throw postgresError(e);
  }
}

/** The statement cache size: the option, else 0 for a `pgbouncer=true` connection string. */
function cacheSize(pool: PgLikePool, options: PoolAdapterOptions | undefined): number {
  if (options?.statementCacheSize !== undefined) return options.statementCacheSize;
  const url = pool.options?.connectionString;
  if (typeof url === "string") {
    try {
      if (new URL(url).searchParams.get("pgbouncer") === "true") return 0;
    } catch {
      // not a URL (node-postgres also takes key=value strings): no pgbouncer parameter in it
    }
  }
  return DEFAULT_STATEMENT_CACHE_SIZE;
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

export function poolAdapter(pool: PgLikePool, adapterName: string, options?: PoolAdapterOptions): SqlDriverAdapter {
  const statements = new StatementNames(cacheSize(pool, options));
  // An idle client whose connection ends: pg-pool removes it and emits 'error' on the pool.
  if (typeof pool.on === "function" && !listened.has(pool)) {
    listened.add(pool);
    pool.on("error", () => {});
  }
  return {
    provider: "postgres",
    adapterName,
    ...queryable((q) => run(pool, q, statements)),
    async startTransaction(isolationLevel?: IsolationLevel): Promise<SqlTransaction> {
      // Held from BEGIN to the end; a connection whose transaction did not end cleanly never goes back.
      const held = await hold(pool);
      const { client } = held;
      const begin = isolationLevel ? `BEGIN ISOLATION LEVEL ${POSTGRES_ISOLATION[isolationLevel]}` : "BEGIN";
      try {
        await client.query(begin);
      } catch (e) {
        held.release(e instanceof Error ? e : true);
        const broken = held.broken();
        throw broken ? connectionLost(broken) : postgresError(e);
      }
      const inTransaction = async (q: SqlQuery): Promise<ArrayResult> => {
        const gone = held.broken();
        if (gone) throw connectionLost(gone);
        const name = statements.name(q);
        try {
          return (await send(client, q, name)) as ArrayResult;
        } catch (e) {
          // A failure of the name cannot be run again here: the error has aborted the transaction.
          if (name !== undefined) statements.failed(q.sql, name, e);
          // The statement's own error (with its SQLSTATE) when the server sent one.
          const mapped = postgresError(e);
          const broken = held.broken();
          if (broken && mapped.cause.kind !== "database") throw connectionLost(broken);
          throw mapped;
        }
      };
      const { end, open } = transactionEnd({
        broken: held.broken,
        run: (statement) => client.query(statement),
        release: (failure) => held.release(failure === undefined ? undefined : failure instanceof Error ? failure : true),
        error: postgresError,
      });
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
          if (!open() || held.broken() || typeof pid !== "number") return;
          await pool.query({ text: "SELECT pg_cancel_backend($1)", values: [pid] }).catch(() => {});
        },
      };
    },
    async dispose() {},
  };
}
