// Driver adapter for PGlite (`@electric-sql/pglite`), PostgreSQL compiled to WebAssembly running
// in the same process: `pgliteAdapter(await PGlite.create())`. Values are read as PostgreSQL's
// text output (the engine decodes them), errors become `DriverAdapterError`s with their SQLSTATE.
// PGlite has one connection: a transaction holds it exclusively until COMMIT or ROLLBACK, and
// other calls wait for it.

import type { PGlite, Results, Transaction } from "@electric-sql/pglite";
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

/** PostgreSQL's array literal for a list argument (PGlite only serializes arrays of known types). */
function arrayLiteral(items: unknown[]): string {
  const element = (v: unknown): string => {
    if (v === null || v === undefined) return "NULL";
    if (Array.isArray(v)) return arrayLiteral(v);
    const s = v instanceof Uint8Array ? `\\x${Buffer.from(v).toString("hex")}` : String(v);
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  };
  return `{${items.map(element).join(",")}}`;
}

type Target = Pick<PGlite, "query"> | Transaction;

export function pgliteAdapter(db: PGlite): SqlDriverAdapter {
  // Read every type as text: an identity parser for each type PGlite would otherwise parse.
  let rawText: Record<string, (value: string) => string> | undefined;
  const parsers = () => {
    rawText ??= Object.fromEntries(Object.keys(db.parsers).map((oid) => [oid, (value: string) => value]));
    return rawText;
  };

  async function run(target: Target, q: SqlQuery): Promise<Results<unknown[]>> {
    const args = q.args.map((a) => (Array.isArray(a) ? arrayLiteral(a) : a));
    try {
      return await target.query<unknown[]>(q.sql, args, { rowMode: "array", parsers: parsers() });
    } catch (e) {
      throw postgresError(e);
    }
  }

  function queryable(target: Target): Pick<SqlQueryable, "queryRaw" | "executeRaw"> {
    return {
      async queryRaw(q): Promise<SqlResultSet> {
        const res = await run(target, q);
        return { columnNames: res.fields.map((f) => f.name), columnTypes: res.fields.map((f) => f.dataTypeID), rows: res.rows };
      },
      async executeRaw(q): Promise<number> {
        return (await run(target, q)).affectedRows ?? 0;
      },
    };
  }

  return {
    provider: "postgres",
    adapterName: "pglite",
    ...queryable(db),
    startTransaction(isolationLevel?: IsolationLevel): Promise<SqlTransaction> {
      // PGlite's own transaction() holds its lock for as long as the callback runs: keep the
      // callback open until commit() or rollback() is called.
      return new Promise<SqlTransaction>((started, failedToStart) => {
        let finish: (commit: boolean) => void = () => {};
        const ended = new Promise<boolean>((resolve) => {
          finish = resolve;
        });
        let settled: Promise<void> | undefined;
        let open = true;
        const outcome = db.transaction(async (tx) => {
          if (isolationLevel) await tx.query(`SET TRANSACTION ISOLATION LEVEL ${POSTGRES_ISOLATION[isolationLevel]}`);
          started({
            provider: "postgres",
            adapterName: "pglite",
            ...queryable(tx),
            commit: () => end(true),
            rollback: () => end(false),
          });
          if (!(await ended)) await tx.rollback();
        });
        const end = (commit: boolean): Promise<void> => {
          if (!open) {
            return Promise.reject(new DriverAdapterError({ kind: "transactionClosed", message: "the transaction has already ended" }));
          }
          open = false;
          finish(commit);
          settled ??= outcome.then(
            () => {},
            (e) => {
              throw postgresError(e);
            },
          );
          return settled;
        };
        outcome.catch((e) => {
          if (open) failedToStart(postgresError(e));
        });
      });
    },
    async dispose() {},
  };
}
