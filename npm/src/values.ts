// Values between JavaScript and the engine. JSON cannot carry every database type, so requests
// and results tag them: `{ "$type": "DateTime", "value": "2025-01-01T00:00:00.000Z" }`, likewise
// `BigInt`, `Decimal`, `Bytes` (base64), `Json` and `Float` (NaN, ±Infinity). `encode` turns
// Date, bigint, Decimal, Uint8Array and `JsonNull` into tags; `decode` turns tags back into them.

import { Decimal } from "decimal.js";
import { QuarryValidationError } from "./errors.js";

export { Decimal };

class NullMarker {
  readonly #name: string;
  constructor(name: string) {
    this.#name = name;
    Object.freeze(this);
  }
  toString(): string {
    return this.#name;
  }
}

declare const nullKind: unique symbol;
/** The type of `JsonNull` (branded, so generated types can accept exactly it). */
export interface JsonNullValue {
  readonly [nullKind]: "JsonNull";
}
/** The type of `DbNull`. */
export interface DbNullValue {
  readonly [nullKind]: "DbNull";
}

/** The JSON value `null` in a Json field; a plain `null` there is the database NULL (`DbNull`). */
export const JsonNull: JsonNullValue = new NullMarker("JsonNull") as unknown as JsonNullValue;
/** The database NULL in a Json field: the same as a plain `null`, named for code that reads better. */
export const DbNull: DbNullValue = new NullMarker("DbNull") as unknown as DbNullValue;

interface Tagged {
  $type: string;
  value: unknown;
}

function tag($type: string, value: unknown): Tagged {
  return { $type, value };
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * How deep a request document may nest (objects and lists). The engine's JSON reader stops at the
 * same depth, so nothing deeper could run anyway; checking it here, before any recursion, turns a
 * document thousands of levels deep (or one that contains itself) into `Q2007` with its path
 * instead of a stack overflow in the client.
 */
export const MAX_DOCUMENT_DEPTH = 128;

/** Keys that JavaScript objects treat specially; sent as ordinary keys, never as a prototype. */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** A request's values with the types JSON cannot carry tagged. `path` names the value in errors. */
export function encode(value: unknown, path = "args"): unknown {
  return encodeAt(value, path, 0);
}

function encodeAt(value: unknown, path: string, depth: number): unknown {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return tag("BigInt", value.toString());
    if (typeof value === "number" && !Number.isFinite(value)) return tag("Float", String(value));
    return value;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new QuarryValidationError("Q2005", `${path}: Invalid Date`, { path });
    }
    return tag("DateTime", value.toISOString());
  }
  if (value === JsonNull) return tag("Json", null);
  if (value === DbNull) return null;
  if (Decimal.isDecimal(value)) return tag("Decimal", value.toFixed());
  if (value instanceof Uint8Array) return tag("Bytes", bytesToBase64(value));
  if (value instanceof ArrayBuffer) return tag("Bytes", bytesToBase64(new Uint8Array(value)));
  if (depth >= MAX_DOCUMENT_DEPTH) {
    throw new QuarryValidationError("Q2007", `${path}: nesting deeper than the limit of ${MAX_DOCUMENT_DEPTH} levels`, { path });
  }
  if (Array.isArray(value)) return value.map((v, i) => encodeAt(v, `${path}[${i}]`, depth + 1));
  // An object that looks like a tag can only be a Json field's value: send it as one (its depth
  // checked, its keys kept as they are).
  if (isTagged(value)) return tag("Json", plainJson(value, path, depth));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) setKey(out, k, encodeAt(v, `${path}.${k}`, depth + 1));
  }
  return out;
}

/** A copy of a JSON-like value with every own key kept (`__proto__` included), depth-checked. */
function plainJson(value: unknown, path: string, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DOCUMENT_DEPTH) {
    throw new QuarryValidationError("Q2007", `${path}: nesting deeper than the limit of ${MAX_DOCUMENT_DEPTH} levels`, { path });
  }
  if (Array.isArray(value)) return value.map((v, i) => plainJson(v, `${path}[${i}]`, depth + 1));
  if (value instanceof Date || Decimal.isDecimal(value) || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) setKey(out, k, plainJson(v, `${path}.${k}`, depth + 1));
  return out;
}

function isTagged(v: object): v is Tagged {
  // The cheap tests first: most objects of a result are rows, not tags.
  return typeof (v as Tagged).$type === "string" && "value" in v && Object.keys(v).length === 2;
}

/** A result with its tagged values turned into Date, bigint, Decimal, Uint8Array and numbers. */
export function decode(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v !== null && typeof v === "object") value[i] = decode(v);
    }
    return value;
  }
  if (isTagged(value)) {
    const v = value.value;
    switch (value.$type) {
      case "DateTime":
        return new Date(v as string);
      case "BigInt":
        return BigInt(v as string);
      case "Decimal":
        return new Decimal(v as string);
      case "Bytes":
        return base64ToBytes(v as string);
      case "Float":
        return Number(v);
      case "Json":
        return v;
    }
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === null || typeof v !== "object") continue;
    const d = decode(v);
    if (d !== v) setKey(obj, k, d);
  }
  return obj;
}
