// What the MySQL driver adapters (`quarry/adapters/mysql2`, `quarry/adapters/planetscale`) share:
// the cell contract (MySQL column types as the nearest PostgreSQL type OIDs, cells as the engine
// reads them), the encoding of arguments, isolation levels in MySQL's syntax, and the mapping of
// MySQL's errors to `DriverAdapterError` kinds.
//
// Errors: the engine maps SQLSTATEs as PostgreSQL reports them, so a MySQL error number the engine
// turns into a Prisma code is reported with the SQLSTATE PostgreSQL uses for the same failure
// (1062 → 23505 with the key's name as `constraint`, 1451/1452 → 23503, 1048 → 23502, 1406 →
// 22001, 1213 → 40P01, 1205 → 40001, 1146 → 42P01, 1054 → 42703), and the server's own number and
// SQLSTATE travel beside it in `errno` and `mysqlSqlstate`. Other errors keep MySQL's SQLSTATE.

import { DriverAdapterError, type ArgType, type IsolationLevel } from "./adapter.js";

/** MySQL's name for an isolation level (`Snapshot` is its repeatable read), for `SET TRANSACTION ISOLATION LEVEL`. */
export const MYSQL_ISOLATION: Readonly<Record<IsolationLevel, string>> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Snapshot: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

/** PostgreSQL type OIDs the MySQL adapters report. */
export const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  numeric: 1700,
} as const;

/** MySQL's protocol column types (`enum_field_types`). */
const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8, INT24: 9,
  DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, VARCHAR: 15, BIT: 16, JSON: 245, NEWDECIMAL: 246,
  ENUM: 247, SET: 248, TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251, BLOB: 252, VAR_STRING: 253, STRING: 254,
  GEOMETRY: 255,
} as const;

/** The binary character set's number: a string column with it holds bytes. */
export const BINARY_CHARSET = 63;

/**
 * The OID for a MySQL column from its protocol type, length and character set: INT→23, BIGINT→20,
 * FLOAT→700, DOUBLE→701, DECIMAL→1700, TINYINT(1)→16, text and ENUM→25, DATETIME/TIMESTAMP→1114,
 * DATE→1082, TIME→1083, JSON→114, binary strings and BLOBs→17.
 */
export function mysqlColumnOid(type: number, length: number, charset: number): number {
  switch (type) {
    case T.TINY:
      return length === 1 ? OID.bool : OID.int4;
    case T.SHORT:
    case T.LONG:
    case T.INT24:
    case T.YEAR:
      return OID.int4;
    case T.LONGLONG:
      return OID.int8;
    case T.FLOAT:
      return OID.float4;
    case T.DOUBLE:
      return OID.float8;
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return OID.numeric;
    case T.DATETIME:
    case T.TIMESTAMP:
      return OID.timestamp;
    case T.DATE:
    case T.NEWDATE:
      return OID.date;
    case T.TIME:
      return OID.time;
    case T.JSON:
      return OID.json;
    case T.BIT:
    case T.GEOMETRY:
      return OID.bytea;
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
    case T.VAR_STRING:
    case T.STRING:
    case T.VARCHAR:
      return charset === BINARY_CHARSET ? OID.bytea : OID.text;
    default:
      return OID.text;
  }
}

/** Vitess's type names (PlanetScale's HTTP API) → OID. `charset` tells bytes from text. */
export function vitessColumnOid(type: string, charset: number | undefined, length: number | undefined): number {
  switch (type) {
    case "INT8":
    case "UINT8":
      return length === 1 ? OID.bool : OID.int4;
    case "INT16":
    case "UINT16":
    case "INT24":
    case "UINT24":
    case "INT32":
    case "YEAR":
      return OID.int4;
    case "UINT32":
    case "INT64":
    case "UINT64":
      return OID.int8;
    case "FLOAT32":
      return OID.float4;
    case "FLOAT64":
      return OID.float8;
    case "DECIMAL":
      return OID.numeric;
    case "DATETIME":
    case "TIMESTAMP":
      return OID.timestamp;
    case "DATE":
      return OID.date;
    case "TIME":
      return OID.time;
    case "JSON":
      return OID.json;
    case "BLOB":
    case "BINARY":
    case "VARBINARY":
    case "BIT":
    case "GEOMETRY":
      return OID.bytea;
    case "TEXT":
    case "VARCHAR":
    case "CHAR":
      return charset === BINARY_CHARSET ? OID.bytea : OID.text;
    default:
      return OID.text;
  }
}

const DATETIME = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/;
const TIME = /^(-?\d{2,3}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/;

/**
 * A cell as the engine reads it: `null`; numbers for integers that fit (not BIGINT) and floats;
 * strings for BIGINT, DECIMAL, dates and times (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC), JSON and
 * text; `Uint8Array` for bytes.
 */
export function mysqlCell(value: unknown, oid: number): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) {
    if (oid === OID.bytea) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return new TextDecoder().decode(value);
  }
  switch (oid) {
    case OID.int4:
    case OID.bool:
    case OID.float4:
    case OID.float8:
      return typeof value === "number" ? value : Number(value);
    case OID.timestamp: {
      const m = DATETIME.exec(String(value));
      return m ? `${m[1]}.${(m[2] ?? "").padEnd(6, "0")}` : String(value);
    }
    case OID.time: {
      const m = TIME.exec(String(value));
      return m ? `${m[1]}.${(m[2] ?? "").padEnd(6, "0")}` : String(value);
    }
    case OID.bytea:
      return typeof value === "string" ? new TextEncoder().encode(value) : value;
    default:
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

/** `2025-01-01 10:00:00.000+00` (the engine's DateTime argument) → `2025-01-01 10:00:00.000` (UTC). */
function mysqlDateTime(v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v);
  if (!m) return v;
  const offset = m[3];
  if (!offset || offset === "Z" || /^[+-]00(:?00)?$/.test(offset)) return `${m[1]} ${m[2]}`;
  // Another offset: through Date, to UTC (millisecond precision).
  const d = new Date(`${m[1]}T${m[2]}${offset.length === 3 ? `${offset}:00` : offset}`);
  return Number.isNaN(d.getTime()) ? v : d.toISOString().replace("T", " ").replace("Z", "");
}

/**
 * An argument as a MySQL driver binds it: DateTime as `YYYY-MM-DD HH:MM:SS.fff` in UTC, Json as
 * text, Bytes as a Buffer (mysql2) or Uint8Array, BigInt as a bigint (exact in arithmetic),
 * Decimal as a string, booleans as 1/0.
 */
export function mysqlArg(value: unknown, type: ArgType | undefined, bytes: (b: Uint8Array) => unknown = (b) => b): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => mysqlArg(v, undefined, bytes));
  if (value instanceof Uint8Array) return bytes(value);
  switch (type) {
    case "DateTime":
      return typeof value === "string" ? mysqlDateTime(value) : value instanceof Date ? value.toISOString().replace("T", " ").replace("Z", "") : value;
    case "Json":
      return typeof value === "string" ? value : JSON.stringify(value);
    case "BigInt":
      // A bigint, not a string: MySQL computes `column + '1'` in DOUBLE and loses digits past 2^53.
      if (typeof value === "bigint") return value;
      return /^-?[0-9]+$/.test(String(value)) ? BigInt(String(value)) : String(value);
    case "Decimal":
      return String(value);
    case "Boolean":
      return value === true || value === "true" || value === "t" || value === 1 ? 1 : 0;
    default:
      if (typeof value === "boolean") return value ? 1 : 0;
      if (typeof value === "bigint") return value.toString();
      return value;
  }
}

/** MySQL error numbers the engine maps, as PostgreSQL's SQLSTATE for the same failure. */
const AS_POSTGRES: Readonly<Record<number, string>> = {
  1062: "23505", // ER_DUP_ENTRY → P2002
  1586: "23505", // ER_DUP_ENTRY_WITH_KEY_NAME
  1451: "23503", // ER_ROW_IS_REFERENCED_2 → P2003
  1452: "23503", // ER_NO_REFERENCED_ROW_2 → P2003
  1216: "23503",
  1217: "23503",
  1048: "23502", // ER_BAD_NULL_ERROR → P2011
  1364: "23502", // ER_NO_DEFAULT_FOR_FIELD → P2011
  1406: "22001", // ER_DATA_TOO_LONG → P2000
  1264: "22003", // ER_WARN_DATA_OUT_OF_RANGE → P2020
  1690: "22003", // ER_DATA_OUT_OF_RANGE
  1213: "40P01", // ER_LOCK_DEADLOCK → P2034
  1205: "40001", // ER_LOCK_WAIT_TIMEOUT → P2034
  1146: "42P01", // ER_NO_SUCH_TABLE → P2021
  1054: "42703", // ER_BAD_FIELD_ERROR → P2022
  1317: "57014", // ER_QUERY_INTERRUPTED (KILL QUERY, max_statement_time)
  1969: "57014", // ER_STATEMENT_TIMEOUT (MariaDB)
  3024: "57014", // ER_QUERY_TIMEOUT (MySQL)
};

/** Errors that mean the connection is gone, by number (server and client side). */
const CONNECTION_ERRNOS = new Set([1040, 1053, 1077, 1080, 1152, 1153, 1154, 1156, 1158, 1159, 1160, 1161, 1927, 2002, 2003, 2006, 2013, 2055]);

/** Names a MySQL message carries (identifiers, never values), by error number. */
function names(errno: number, message: string): { constraint?: string; table?: string; column?: string } {
  const q = (re: RegExp) => re.exec(message)?.[1];
  switch (errno) {
    case 1062:
    case 1586: {
      // MariaDB: for key 'User_email_key'; MySQL 8: for key 'User.User_email_key'.
      const key = q(/for key '((?:[^'\\]|\\.)*)'\s*$/) ?? q(/for key '((?:[^'\\]|\\.)*)'/);
      if (!key) return {};
      const dot = key.lastIndexOf(".");
      return dot > 0 ? { table: key.slice(0, dot), constraint: key.slice(dot + 1) } : { constraint: key };
    }
    case 1451:
    case 1452:
      return {
        constraint: q(/CONSTRAINT `((?:[^`]|``)*)`/),
        table: q(/\(`(?:[^`]|``)*`\.`((?:[^`]|``)*)`, CONSTRAINT/),
        column: q(/FOREIGN KEY \(`((?:[^`]|``)*)`/),
      };
    case 1048:
    case 1406:
    case 1264:
      return { column: q(/[Cc]olumn '((?:[^']|'')*)'/) };
    case 1364:
      return { column: q(/Field '((?:[^']|'')*)'/) };
    case 1146: {
      const t = q(/Table '((?:[^']|'')*)' doesn't exist/);
      return { table: t && t.includes(".") ? t.slice(t.indexOf(".") + 1) : t };
    }
    case 1054:
      return { column: q(/Unknown column '((?:[^']|'')*)'/) };
    default:
      return {};
  }
}

/**
 * Maps what mysql2 throws (`errno`, `sqlState`, `sqlMessage`, `code`, `fatal`) and what
 * `@planetscale/database` throws (a `DatabaseError` whose `body.message` ends in
 * `(errno N) (sqlstate S)`) to a `DriverAdapterError`.
 */
export function mysqlError(e: unknown): DriverAdapterError {
  if (e instanceof DriverAdapterError) return e;
  const err = (e ?? {}) as {
    errno?: unknown;
    sqlState?: unknown;
    sqlMessage?: unknown;
    message?: unknown;
    code?: unknown;
    fatal?: unknown;
    body?: { message?: unknown; code?: unknown };
    status?: unknown;
  };
  const message = typeof err.message === "string" ? err.message : String(e);
  let errno: number | undefined;
  let state: string | undefined;
  let serverMessage = typeof err.sqlMessage === "string" ? err.sqlMessage : message;
  if (typeof err.errno === "number" && typeof err.sqlState === "string") {
    errno = err.errno;
    state = err.sqlState;
  } else {
    // Vitess: "... desc = Duplicate entry 'x' for key 'k' (errno 1062) (sqlstate 23000) (CallerID: ...)".
    const text = typeof err.body?.message === "string" ? err.body.message : message;
    const m = /\(errno (\d+)\) \(sqlstate ([0-9A-Z]{5})\)/.exec(text);
    if (m) {
      errno = Number(m[1]);
      state = m[2];
      const desc = /desc = ([\s\S]*?) \(errno \d+\)/.exec(text);
      serverMessage = desc ? desc[1] : text;
    }
  }
  if (errno !== undefined && CONNECTION_ERRNOS.has(errno)) {
    return new DriverAdapterError({ kind: "connection", message: serverMessage, errno });
  }
  if (errno !== undefined && state !== undefined) {
    const sqlstate = AS_POSTGRES[errno] ?? state;
    return new DriverAdapterError({
      kind: "database",
      sqlstate,
      message: serverMessage,
      ...names(errno, serverMessage),
      errno,
      mysqlSqlstate: state,
    });
  }
  const code = typeof err.code === "string" ? err.code : undefined;
  if (err.fatal === true || (code !== undefined && (/^E[A-Z]+$/.test(code) || code.startsWith("PROTOCOL_") || code === "POOL_CLOSED"))) {
    return new DriverAdapterError({ kind: "connection", message });
  }
  // The HTTP API answering without a database error (down, unreachable, not JSON).
  if (typeof err.status === "number" || (e instanceof TypeError && /fetch/i.test(message))) {
    return new DriverAdapterError({ kind: "connection", message });
  }
  return new DriverAdapterError({ kind: "other", message });
}
