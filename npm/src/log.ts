// Logging: `log: ['query', 'info', 'warn', 'error']` prints to stdout, `{ level, emit: 'event' }`
// sends events to `$on` listeners. Query events come from wrapping the driver adapter, so they
// time exactly what the driver did (a batch the driver runs in one call is one event); they carry
// the SQL and the number of parameters, never the values (a log line must not leak a tenant's
// data).

import type { IsolationLevel, SqlDriverAdapter, SqlQuery, SqlQueryable, SqlTransaction } from "./adapter.js";
import type { LogDefinition, LogEvent, LogLevel, QueryEvent } from "./types.js";

const TARGET = "quarry";

export class Logger {
  readonly #stdout = new Set<LogLevel>();
  readonly #events = new Set<LogLevel>();
  readonly #listeners = new Map<LogLevel, ((e: never) => void)[]>();

  constructor(log: LogDefinition[] = []) {
    for (const d of log) {
      if (typeof d === "string") this.#stdout.add(d);
      else if (d.emit === "event") this.#events.add(d.level);
      else this.#stdout.add(d.level);
    }
  }

  enabled(level: LogLevel): boolean {
    return this.#stdout.has(level) || this.#events.has(level);
  }

  on(level: LogLevel, listener: (e: never) => void): void {
    const list = this.#listeners.get(level) ?? [];
    list.push(listener);
    this.#listeners.set(level, list);
  }

  #emit(level: LogLevel, event: QueryEvent | LogEvent, line: string): void {
    if (this.#stdout.has(level)) {
      const out = level === "error" ? console.error : level === "warn" ? console.warn : console.log;
      out(`${TARGET}:${level} ${line}`);
    }
    if (this.#events.has(level)) {
      for (const listener of this.#listeners.get(level) ?? []) (listener as (e: QueryEvent | LogEvent) => void)(event);
    }
  }

  query(query: string, paramCount: number, duration: number, timestamp: Date = new Date()): void {
    const event: QueryEvent = { timestamp, query, paramCount, duration, target: TARGET };
    const params = paramCount === 1 ? "1 param" : `${paramCount} params`;
    this.#emit("query", event, `${query} (${params}, ${duration.toFixed(1)} ms)`);
  }

  message(level: "info" | "warn" | "error", message: string): void {
    if (!this.enabled(level)) return;
    this.#emit(level, { timestamp: new Date(), message, target: TARGET }, message);
  }
}

async function timed<T>(logger: Logger, query: string, paramCount: number, f: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await f();
  } finally {
    logger.query(query, paramCount, performance.now() - start);
  }
}

function queryable(logger: Logger, target: SqlQueryable): Pick<SqlQueryable, "queryRaw" | "executeRaw"> {
  return {
    queryRaw: (q: SqlQuery) => timed(logger, q.sql, q.args.length, () => target.queryRaw(q)),
    executeRaw: (q: SqlQuery) => timed(logger, q.sql, q.args.length, () => target.executeRaw(q)),
  };
}

/** The adapter with every statement, and transaction start and end, reported as a query event. */
export function withQueryLog(logger: Logger, adapter: SqlDriverAdapter): SqlDriverAdapter {
  const { provider, adapterName } = adapter;
  return {
    provider,
    adapterName,
    ...queryable(logger, adapter),
    async startTransaction(isolationLevel) {
      const begin = isolationLevel ? `BEGIN (${isolationLevel})` : "BEGIN";
      const tx = await timed(logger, begin, 0, () => adapter.startTransaction(isolationLevel));
      const wrapped: SqlTransaction = {
        provider,
        adapterName,
        ...queryable(logger, tx),
        commit: () => timed(logger, "COMMIT", 0, () => tx.commit()),
        rollback: () => timed(logger, "ROLLBACK", 0, () => tx.rollback()),
        ...(tx.cancel ? { cancel: () => (tx.cancel as () => Promise<void>).call(tx) } : {}),
      };
      return wrapped;
    },
    // A batch is one call to the driver: one event, its statements joined.
    ...(adapter.executeBatch
      ? {
          executeBatch: (queries: SqlQuery[], options?: { isolationLevel?: IsolationLevel }) =>
            timed(logger, queries.map((q) => q.sql).join(";\n"), queries.reduce((n, q) => n + q.args.length, 0), () =>
              adapter.executeBatch!(queries, options),
            ),
        }
      : {}),
    dispose: () => adapter.dispose?.() ?? Promise.resolve(),
  };
}
