// Reads the WebAssembly engine's host runs and shapes itself. For a request whose plan is one read
// statement the engine returns the statement and a description of the result (see the engine's
// `direct` module); the client runs the statement on the driver adapter and builds the result here
// from the rows, so rows never cross into the module and the result never crosses out of it. The
// result is exactly what the engine would return (the same tagged JSON encoding): this file
// follows the engine's row decoding (`exec::decode`) rule by rule, and where a value is not in a
// form it converts with certainty (a cell that is not text, a date-time in a rarer form) it throws
// `Fallback` and the request runs through the engine instead.

import type { SqlResultSet } from "./adapter.js";

/** A field of the description: its name and what it needs. */
type Field = [string, Kind];
type Kind =
  | "String"
  | "Int"
  | "Float"
  | "Boolean"
  | "DateTime"
  | { enum: [string, string][] }
  | { one: Field[] }
  | { many: Field[] }
  | { count: string[] };

/** A column of an aggregate: the key it goes under (`null` for a grouped field), its name (empty for a bare `_count`) and kind. */
type Column = [string | null, string, ScalarKind];

export type ResultDescription =
  | { kind: "many" | "one"; reverse: boolean; fields: Field[] }
  | { kind: "groups"; columns: Column[] }
  | { kind: "aggregate"; columns: Column[] };

/** A row or value this file does not convert with certainty: the engine's path takes the request. */
export class Fallback extends Error {}

const fallback = (what: string): never => {
  throw new Fallback(what);
};

/** Fields past this many are chunked into nested arrays by the database (PostgreSQL's 100-argument limit). */
const CHUNK = 100;

/** The result of the statement's rows, as the engine would give it. */
export function shapeResult(desc: ResultDescription, rs: SqlResultSet): unknown {
  if (desc.kind === "groups") return rs.rows.map((r) => aggregateRow(desc.columns, r));
  if (desc.kind === "aggregate") {
    const row = rs.rows[0];
    if (row !== undefined) return aggregateRow(desc.columns, row);
    // No row: only a request without aggregates selects none (the engine's answer is `{}`).
    return desc.columns.length === 0 ? {} : fallback("aggregate without a row");
  }
  if (desc.kind === "one") {
    const row = rs.rows[0];
    return row === undefined ? null : topRow(desc.fields, row);
  }
  const rows = rs.rows.map((r) => topRow(desc.fields, r));
  if (desc.reverse) rows.reverse();
  return rows;
}

function topRow(fields: Field[], row: unknown[]): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  const n = Math.min(fields.length, row.length);
  for (let i = 0; i < n; i++) {
    const [name, kind] = fields[i];
    const v = row[i];
    if (v === null || v === undefined) {
      obj[name] = null;
      continue;
    }
    if (typeof v !== "string") fallback("a cell that is not text");
    if (typeof kind === "string" || "enum" in kind) obj[name] = textScalar(kind, v as string);
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v as string);
      } catch {
        fallback("nested JSON");
      }
      obj[name] = nested(kind, parsed);
    }
  }
  return obj;
}

/** `{ field, _count: { _all, f }, _sum: { f }, ... }`; a bare `_count` is a number (the engine's `aggregate_row`). */
function aggregateRow(columns: Column[], row: unknown[]): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  const n = Math.min(columns.length, row.length);
  for (let i = 0; i < n; i++) {
    const [key, name, kind] = columns[i];
    const v = row[i];
    let value: unknown = null;
    if (v !== null && v !== undefined) {
      if (typeof v !== "string") fallback("a cell that is not text");
      value = textScalar(kind, v as string);
    }
    if (key === null) obj[name] = value;
    else if (name === "") obj[key] = value;
    else {
      if (!Object.hasOwn(obj, key)) obj[key] = {};
      const sub = obj[key];
      if (sub !== null && typeof sub === "object") (sub as Record<string, unknown>)[name] = value;
    }
  }
  return obj;
}

function nested(kind: Kind, v: unknown): unknown {
  if (v === null) return null;
  if (typeof kind === "string" || "enum" in kind) return jsonScalar(kind, v);
  if ("one" in kind) return jsonRow(kind.one, v);
  if ("many" in kind) {
    if (!Array.isArray(v)) return fallback("list of rows");
    return v.map((r) => jsonRow(kind.many, r));
  }
  if (!Array.isArray(v)) return fallback("count list");
  const obj: Record<string, unknown> = {};
  const n = Math.min(kind.count.length, v.length);
  for (let i = 0; i < n; i++) obj[kind.count[i]] = v[i];
  return obj;
}

function jsonRow(fields: Field[], v: unknown): Record<string, unknown> {
  if (!Array.isArray(v)) return fallback("row");
  const flat = fields.length > CHUNK ? v.filter(Array.isArray).flat() : v;
  const obj: Record<string, unknown> = {};
  const n = Math.min(fields.length, flat.length);
  for (let i = 0; i < n; i++) obj[fields[i][0]] = nested(fields[i][1], flat[i]);
  return obj;
}

type ScalarKind = Exclude<Kind, { one: Field[] } | { many: Field[] } | { count: string[] }>;

/** A scalar inside JSON the database built (`json_build_array`). */
function jsonScalar(kind: ScalarKind, v: unknown): unknown {
  if (kind === "String") return typeof v === "string" ? v : fallback("String");
  if (kind === "Int" || kind === "Float") {
    if (typeof v === "number") return v;
  } else if (kind === "Boolean" && typeof v === "boolean") return v;
  return typeof v === "string" ? textScalar(kind, v) : fallback("scalar");
}

const INT = /^[+-]?\d+$/;
const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 63n - 1n;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A scalar from PostgreSQL's text output, by the field's kind. */
function textScalar(kind: ScalarKind, s: string): unknown {
  switch (kind) {
    case "String":
      return s;
    case "Int": {
      const t = s.trim();
      if (!INT.test(t)) return fallback("Int");
      if (t.length > 15) {
        const n = BigInt(t);
        if (n < INT_MIN || n > INT_MAX) return fallback("Int");
      }
      const n = Number(t);
      return n === 0 ? 0 : n;
    }
    case "Float": {
      if (s === "NaN" || s === "Infinity" || s === "-Infinity") return { $type: "Float", value: s };
      const t = s.trim();
      if (!FLOAT.test(t)) return fallback("Float");
      const f = Number(t);
      if (Number.isFinite(f)) return f;
      return { $type: "Float", value: f > 0 ? "Infinity" : "-Infinity" };
    }
    case "Boolean":
      return s === "t" || s === "true" || s === "1";
    case "DateTime":
      return { $type: "DateTime", value: dateTime(s.trim()) };
    default: {
      for (const [db, name] of kind.enum) if (db === s) return name;
      return s;
    }
  }
}

const DIGITS = /^\d+$/;
const OFFSET = /^([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const pad = (n: number, w: number) => String(n).padStart(w, "0");

/**
 * `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}]` with nothing, `Z` or a PostgreSQL offset (`+02`, `-05:30`)
 * after it, as the engine writes it: UTC, `…T…Z` with milliseconds, or microseconds when the
 * value has them. Other forms go to the engine.
 */
function dateTime(s: string): string {
  if (s.length < 19 || s[4] !== "-" || s[7] !== "-" || (s[10] !== "T" && s[10] !== " ") || s[13] !== ":" || s[16] !== ":") {
    return fallback("DateTime");
  }
  const part = (a: number, b: number) => {
    const p = s.slice(a, b);
    return DIGITS.test(p) ? Number(p) : fallback("DateTime");
  };
  const year = part(0, 4);
  const month = part(5, 7);
  const day = part(8, 10);
  const hour = part(11, 13);
  const minute = part(14, 16);
  const second = part(17, 19);
  let rest = s.slice(19);
  let nanos = 0;
  if (rest.startsWith(".")) {
    let digits = 0;
    while (digits < rest.length - 1 && rest.charCodeAt(1 + digits) >= 48 && rest.charCodeAt(1 + digits) <= 57) digits++;
    if (digits === 0 || digits > 9) return fallback("DateTime");
    nanos = Number(rest.slice(1, 1 + digits)) * 10 ** (9 - digits);
    rest = rest.slice(1 + digits);
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 && leap ? 29 : DAYS[month - 1];
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return fallback("DateTime");
  let offset = 0;
  if (rest !== "" && rest !== "Z") {
    const m = OFFSET.exec(rest);
    if (!m) return fallback("DateTime");
    const [h, mi, se] = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
    if (h > 23 || mi > 59 || se > 59) return fallback("DateTime");
    offset = (m[1] === "-" ? -1 : 1) * (h * 3600 + mi * 60 + se);
  }
  let [y, mo, d, hh, mm, ss] = [year, month, day, hour, minute, second];
  if (offset !== 0) {
    if (year < 100) return fallback("DateTime");
    const t = new Date(Date.UTC(year, month - 1, day, hour, minute, second) - offset * 1000);
    [y, mo, d, hh, mm, ss] = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds()];
    if (y < 0 || y > 9999) return fallback("DateTime");
  }
  const frac = nanos % 1_000_000 === 0 ? pad(nanos / 1_000_000, 3) : pad(Math.floor(nanos / 1000), 6);
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.${frac}Z`;
}
