// Driver adapter for PlanetScale's serverless driver (`@planetscale/database`, HTTP):
// `planetscaleAdapter(new Client({ url }))`. Arguments are written into the text by the driver's
// own `format` (strings quoted and escaped, bytes as x'..', bigints and decimals as numbers); rows arrive as Vitess field
// types and text, read here by the cell contract of ../../npm/src/mysql.ts. Errors carry MySQL's
// number and SQLSTATE in the message (`(errno 1062) (sqlstate 23000)`), mapped as for mysql2.
//
// Interactive transactions go through the driver's `connection().transaction()`: its session
// carries the transaction from one HTTP call to the next. The driver has already run BEGIN when
// the callback starts, and MySQL takes an isolation level only before a transaction starts, so
// with an isolation level the adapter ends that empty transaction, sets the level and begins again
// on the same session. COMMIT and ROLLBACK are the driver's (the callback resolves or throws).

import type { Client, Connection, ExecutedQuery, Field, Transaction } from "@planetscale/database";
import { format } from "@planetscale/database";
import {
  DriverAdapterError,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
  type SqlTransaction,
} from "../../npm/src/adapter.js";
import { MYSQL_ISOLATION, OID, mysqlArg, mysqlCell, mysqlError, vitessColumnOid } from "../../npm/src/mysql.js";

/** What is used of the driver's `Client`, `Connection` and transaction. */
interface Executor {
  execute(query: string, args?: unknown[] | null, options?: object): Promise<ExecutedQuery>;
}

function oid(f: Field): number {
  return vitessColumnOid(f.type, f.charset ?? undefined, f.columnLength ?? undefined);
}

/** The driver's cast: the text as it arrived (bytes as a binary string), read by the field's OID. */
function cast(field: Field, value: string | null): unknown {
  if (value === null || value === undefined) return null;
  const type = oid(field);
  const bytes = Uint8Array.from(value, (c) => c.charCodeAt(0));
  if (type === OID.bytea) return bytes;
  return mysqlCell(new TextDecoder().decode(bytes), type);
}

const DECIMAL = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

/**
 * The statement with its arguments written in, by the driver's own `format` (strings quoted and
 * escaped, bytes as x'..', bigints as integers). A Decimal is written as a number literal, not a
 * string: MySQL computes `amount + '1.5'` in DOUBLE. The driver only quotes strings, so each
 * Decimal goes through it as a marker string that is then replaced by its (checked) digits.
 */
function text(q: SqlQuery): string {
  if (q.args.length === 0) return q.sql;
  const nonce = Math.random().toString(36).slice(2);
  const decimals: string[] = [];
  const values = q.args.map((a, i) => {
    const v = mysqlArg(a, q.argTypes[i]);
    if (q.argTypes[i] === "Decimal" && typeof v === "string" && DECIMAL.test(v)) {
      decimals.push(v);
      return `quarry_decimal_${nonce}_${decimals.length - 1}`;
    }
    return v;
  });
  const sql = format(q.sql, values as never);
  return decimals.length === 0 ? sql : sql.replace(new RegExp(`'quarry_decimal_${nonce}_([0-9]+)'`, "g"), (_, n: string) => decimals[Number(n)] ?? "NULL");
}

async function run(target: Executor, q: SqlQuery): Promise<ExecutedQuery> {
  try {
    return await target.execute(text(q), null, { as: "array", cast });
  } catch (e) {
    throw mysqlError(e);
  }
}

function queryable(target: () => Executor): Pick<SqlQueryable, "queryRaw" | "executeRaw"> {
  return {
    async queryRaw(q): Promise<SqlResultSet> {
      const res = await run(target(), q);
      const fields = res.fields ?? [];
      return { columnNames: fields.map((f) => f.name), columnTypes: fields.map(oid), rows: res.rows as unknown[][] };
    },
    async executeRaw(q): Promise<number> {
      const res = await run(target(), q);
      return res.fields && res.fields.length > 0 ? res.rows.length : res.rowsAffected;
    },
  };
}

/** Thrown into the driver's transaction callback to have it roll back. */
const ROLLBACK = Symbol("rollback");

export function planetscaleAdapter(client: Client | Connection): SqlDriverAdapter {
  const adapterName = "planetscale";
  const connection = (): Connection =>
    typeof (client as Client).connection === "function" ? (client as Client).connection() : (client as Connection);
  return {
    provider: "mysql",
    adapterName,
    ...queryable(() => client),
    startTransaction(isolationLevel?: IsolationLevel): Promise<SqlTransaction> {
      return new Promise<SqlTransaction>((resolve, reject) => {
        let started = false;
        let finish!: (commit: boolean) => void;
        const done = connection().transaction(async (tx: Transaction) => {
          if (isolationLevel) {
            await tx.execute("COMMIT");
            await tx.execute(`SET TRANSACTION ISOLATION LEVEL ${MYSQL_ISOLATION[isolationLevel]}`);
            await tx.execute("BEGIN");
          }
          const decided = new Promise<boolean>((r) => {
            finish = r;
          });
          started = true;
          resolve(transaction(tx as unknown as Executor));
          if (!(await decided)) throw ROLLBACK;
        });
        // Before the transaction is handed out, its failure is startTransaction's.
        done.catch((e) => {
          if (!started) reject(mysqlError(e));
        });
        let open = true;
        const transaction = (tx: Executor): SqlTransaction => {
          const end = async (commit: boolean) => {
            if (!open) throw new DriverAdapterError({ kind: "transactionClosed", message: "the transaction has already ended" });
            open = false;
            finish(commit);
            try {
              await done;
            } catch (e) {
              if (e !== ROLLBACK) throw mysqlError(e);
            }
          };
          return {
            provider: "mysql",
            adapterName,
            ...queryable(() => {
              if (!open) throw new DriverAdapterError({ kind: "transactionClosed", message: "the transaction has already ended" });
              return tx;
            }),
            commit: () => end(true),
            rollback: () => end(false),
          };
        };
      });
    },
    async dispose() {},
  };
}
