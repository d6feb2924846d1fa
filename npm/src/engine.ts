// The WebAssembly engine: loads the module and turns its task-based calls into promises. The
// module never runs a future on its own: it asks to be polled (`wake`), and every poll happens
// here, inside a try/catch. A panic in the engine traps inside such a call and becomes a
// `QuarryPanicError` for the caller and for every request that instance was running, instead of
// an exception in a microtask that would end the process. An instance that trapped cannot be
// trusted, so it is dropped: the next call starts a fresh instance of the module (the glue is
// instantiated anew, with its own memory and tables), every client's engine is rebuilt in it on
// its next call, and the transactions the dead instance held open are rolled back through their
// adapters, so their connections go back to the pool.

import * as glue from "#wasm";
import type { IsolationLevel, SqlDriverAdapter, SqlTransaction } from "./adapter.js";
import { Fallback, type ResultDescription, shapeResult } from "./direct.js";
import { QuarryInternalError, QuarryPanicError, engineError } from "./errors.js";

/**
 * The compiled module or its bytes. Where the module comes from depends on the runtime: each
 * entry point in `runtime/` provides it (a Workers or Vercel Edge bundle imports it as a module,
 * Node and Deno read the file, browsers fetch it). The module may come from another realm (a
 * bundler's or sandbox's), so it is recognised by its tag, never by `instanceof`.
 */
export type EngineModuleSource = WasmModule | ArrayBuffer | ArrayBufferView;

/** A compiled `WebAssembly.Module` (the package is typed against ES2022, without DOM types). */
export type WasmModule = object;

let source: (() => EngineModuleSource) | undefined;

/** Called once by the runtime's entry point; the first provider wins. */
export function provideEngineModule(get: () => EngineModuleSource): void {
  source ??= get;
}

/** Whether `value` is a `WebAssembly.Module`, whichever realm created it. */
export function isWasmModule(value: unknown): value is WasmModule {
  return Object.prototype.toString.call(value) === "[object WebAssembly.Module]";
}

/** The module's exports, as one instantiation of its glue sees them. */
type Glue = ReturnType<typeof glue.instantiate>;

/** One instance of the module, with the tasks it runs and the transactions it holds open. */
interface Instance {
  readonly wasm: Glue;
  dead?: QuarryPanicError;
  panicMessage?: string;
  readonly waiting: Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>;
  readonly scheduled: Set<number>;
  readonly transactions: Set<SqlTransaction>;
}

let current: Instance | undefined;
let moduleSource: EngineModuleSource | undefined;

/** One client's engine in one instance of the module, with the handles that instance gave. */
interface Bound {
  readonly inst: Instance;
  readonly engine: glue.QuarryEngine;
  readonly handles: Map<string, Handle[]>;
}

/** The live instance, started on first use and again after a trap. */
function instance(): Instance {
  if (current && !current.dead) return current;
  if (!source) {
    throw new QuarryInternalError(
      "Q9002",
      "The Quarry engine's WebAssembly module has no loader: import `quarry` through the package's entry point " +
        "(its `exports` pick the loader for Workers, Vercel Edge, Deno, Node and browsers).",
    );
  }
  moduleSource ??= source();
  const wasm = glue.instantiate();
  // The generated glue accepts a module of any realm (scripts/build makes its check tag-based).
  wasm.initSync({ module: moduleSource });
  const inst: Instance = { wasm, waiting: new Map(), scheduled: new Set(), transactions: new Set() };
  wasm.installHost(
    (id: number) => wake(inst, id),
    (message: string) => {
      inst.panicMessage = message;
    },
  );
  current = inst;
  return inst;
}

function wake(inst: Instance, id: number): void {
  if (inst.dead || inst.scheduled.has(id)) return;
  inst.scheduled.add(id);
  queueMicrotask(() => {
    inst.scheduled.delete(id);
    poll(inst, id);
  });
}

/**
 * After a trap: the instance is dropped. Everything it was running fails with the panic, and the
 * transactions it held are rolled back; the next call starts a fresh instance.
 */
function kill(inst: Instance, cause: unknown): QuarryPanicError {
  if (!inst.dead) {
    // Without a panic message the trap was the host's: a stack overflow inside the module is a
    // RangeError (the engine recursed too deep on some request), anything else is reported as is.
    const overflow = inst.panicMessage === undefined && cause instanceof RangeError;
    const what = overflow
      ? "it ran out of stack (a request it should have refused as too large)"
      : `it panicked: ${inst.panicMessage ?? (cause instanceof Error ? cause.message : String(cause))}`;
    inst.dead = new QuarryPanicError(
      "Q9001",
      `The Quarry engine failed (a bug in Quarry; please report it): ${what}. ` +
        "The requests it was running failed and their transactions were rolled back; the next request starts a fresh engine.",
      overflow ? { panic: true, stackOverflow: true } : { panic: true },
    );
    const pending = [...inst.waiting.values()];
    inst.waiting.clear();
    for (const w of pending) w.reject(inst.dead);
    const open = [...inst.transactions];
    inst.transactions.clear();
    for (const tx of open) tx.rollback().catch(() => {});
  }
  return inst.dead;
}

function poll(inst: Instance, id: number): void {
  const w = inst.waiting.get(id);
  if (!w || inst.dead) return;
  let out: [boolean, string] | undefined;
  try {
    out = inst.wasm.pollTask(id);
  } catch (e) {
    kill(inst, e);
    return;
  }
  if (out === undefined) return;
  inst.waiting.delete(id);
  const [ok, text] = out;
  if (ok) w.resolve(JSON.parse(text));
  else w.reject(engineError(JSON.parse(text)));
}

/** Runs a synchronous engine call; errors cross as JSON text, a trap as a panic. */
function call<T>(inst: Instance, f: (wasm: Glue) => T): T {
  if (inst.dead) throw inst.dead;
  try {
    return f(inst.wasm);
  } catch (e) {
    if (typeof e === "string") throw engineError(JSON.parse(e));
    throw kill(inst, e);
  }
}

function run(inst: Instance, start: (wasm: Glue) => number): Promise<unknown> {
  if (inst.dead) return Promise.reject(inst.dead);
  let id: number;
  try {
    id = start(inst.wasm);
  } catch (e) {
    return Promise.reject(kill(inst, e));
  }
  return new Promise((resolve, reject) => {
    inst.waiting.set(id, { resolve, reject });
    poll(inst, id);
  });
}

/**
 * The adapter as one instance sees it: the transactions it starts are recorded until they end, so
 * that if the instance dies they are rolled back instead of holding their connections forever.
 */
function tracked(adapter: SqlDriverAdapter, inst: Instance): SqlDriverAdapter {
  const transaction = (tx: SqlTransaction): SqlTransaction => {
    const end = (how: "commit" | "rollback") => () => {
      inst.transactions.delete(tx);
      return tx[how]();
    };
    const out: SqlTransaction = {
      provider: tx.provider,
      adapterName: tx.adapterName,
      queryRaw: (q) => tx.queryRaw(q),
      executeRaw: (q) => tx.executeRaw(q),
      commit: end("commit"),
      rollback: end("rollback"),
    };
    if (typeof tx.cancel === "function") {
      const cancel = tx.cancel.bind(tx);
      out.cancel = () => cancel();
    }
    return out;
  };
  const out: SqlDriverAdapter = {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (q) => adapter.queryRaw(q),
    executeRaw: (q) => adapter.executeRaw(q),
    async startTransaction(isolationLevel?: IsolationLevel) {
      const tx = await adapter.startTransaction(isolationLevel);
      if (inst.dead) {
        // Started for an instance that died meanwhile: nobody will end it.
        await tx.rollback().catch(() => {});
        throw inst.dead;
      }
      inst.transactions.add(tx);
      return transaction(tx);
    },
  };
  if (typeof adapter.executeBatch === "function") {
    const batch = adapter.executeBatch.bind(adapter);
    out.executeBatch = (queries, options) => batch(queries, options);
  }
  return out;
}

export interface EngineOptions {
  namespace?: string;
  tenantField?: string;
  maxTake?: number;
  maxDepth?: number;
  /** Plans kept by request shape (0: none). */
  planCache?: number;
  rls?: boolean;
}

/** A warning from the engine: the shape of an error, logged instead of thrown. */
export interface EngineWarning {
  code: string;
  message: string;
  meta: Record<string, unknown>;
}

/** How one model is treated under a tenant (the engine's tenancy table). */
export interface ModelTenancy {
  model: string;
  tenancy: "scoped" | "shared" | "global" | "tenant";
  field?: string;
  writable: boolean;
}

/** What the client learns of the schema from its engine. */
export interface EngineDescription {
  models: string[];
  tenancy: ModelTenancy[];
  /** Whether any model is tenant-scoped. */
  scoped: boolean;
  /** The SQL dialect of the schema and its driver, which raw SQL is written in. */
  provider?: "postgresql" | "mysql";
  /** The error a tenant context gets when no model is scoped (`Q3006`), else null. */
  forTenantError: { code: string; message: string; meta: Record<string, unknown> } | null;
  warnings: EngineWarning[];
}

/**
 * What the client needs of an engine; the WebAssembly engine (below) and the native addon
 * (`native.ts`) both provide it. Envelopes and results are plain JSON values (tags not yet decoded).
 */
export interface QueryEngine {
  describe(): EngineDescription;
  /** RLS mode's warnings about the connected role. */
  warnings(): Promise<EngineWarning[]>;
  /** The links between tenants the database holds, per relation. */
  tenantLinks(): Promise<{ relation: string; links: number }[]>;
  ddl(options?: { tenantKeys?: boolean; rls?: boolean }): string[];
  compile(envelope: unknown): unknown;
  request(envelope: unknown): Promise<unknown>;
  begin(options: unknown): Promise<{ id: string; timeout: number }>;
  commit(id: string): Promise<unknown>;
  rollback(id: string): Promise<unknown>;
  /** Rolls the transaction back if its timeout has passed; whether it did. */
  expire(id: string): Promise<boolean>;
  close(): Promise<unknown>;
}

/** Parsed result descriptions by their text (a shape's description is the same every time). */
const descriptions = new Map<string, ResultDescription>();

function description(text: string): ResultDescription {
  let d = descriptions.get(text);
  if (d === undefined) {
    if (descriptions.size >= 512) descriptions.clear();
    d = JSON.parse(text) as ResultDescription;
    descriptions.set(text, d);
  }
  return d;
}

/** The actions whose requests may plan to one read the client shapes itself. */
const DIRECT_ACTIONS = new Set(["findMany", "findFirst", "findUnique", "aggregate", "groupBy"]);
/** As the engine's plan cache: requests with more strings and numbers, or deeper, are not kept. */
const MAX_LEAVES = 32;
const MAX_NESTING = 64;

/** A number's class as the plan cache sees it (a hint: the engine checks the exact class). */
function numberClass(n: number): string {
  if (n === 0) return "z";
  if (Number.isInteger(n)) {
    if (n > 0) return n <= 2147483647 ? "p" : "P";
    return n >= -2147483648 ? "m" : "M";
  }
  return n > 0 ? "f" : "g";
}

/**
 * The structure of a JSON value as `JSON.stringify` writes it — keys and their order, list
 * lengths, `null`, booleans, `$type` tags — with each string and number replaced by a class
 * letter and pushed onto `leaves`, in the order the engine's plan cache numbers them (document
 * order). `undefined` where the text would not follow from this walk exactly (an `undefined` or
 * function in a list, a number that is not finite, an object that is not plain or has `toJSON`,
 * a bigint) or the cache would not keep the request (too many leaves, too deep).
 */
function structure(v: unknown, leaves: (string | number)[], depth: number, tag: boolean): string | undefined {
  if (depth > MAX_NESTING) return undefined;
  switch (typeof v) {
    case "string":
      if (tag) return `#${v.length}:${v}`;
      leaves.push(v);
      return v === "" ? "e" : "s";
    case "number":
      if (!Number.isFinite(v)) return undefined;
      leaves.push(v);
      return numberClass(v);
    case "boolean":
      return v ? "t" : "f";
    case "object": {
      if (v === null) return "n";
      // JSON.stringify would write what toJSON returns instead.
      if (typeof (v as { toJSON?: unknown }).toJSON === "function") return undefined;
      let out: string;
      if (Array.isArray(v)) {
        out = "[";
        for (let i = 0; i < v.length; i++) {
          const item = structure(v[i], leaves, depth + 1, false);
          if (item === undefined) return undefined;
          out += `${item},`;
        }
        out += "]";
      } else {
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) return undefined;
        out = "{";
        for (const k of Object.keys(v)) {
          const value = (v as Record<string, unknown>)[k];
          // JSON.stringify leaves these keys out.
          if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
          const item = structure(value, leaves, depth + 1, k === "$type");
          if (item === undefined) return undefined;
          out += `${k.length}:${k}=${item},`;
        }
        out += "}";
      }
      return leaves.length > MAX_LEAVES ? undefined : out;
    }
    default:
      return undefined;
  }
}

/**
 * For an envelope of one read outside a transaction: the key of its structure (with its kind of
 * tenant context) and its leaves; `undefined` for anything else.
 */
function handleKey(envelope: unknown): { key: string; leaves: (string | number)[] } | undefined {
  if (typeof envelope !== "object" || envelope === null) return undefined;
  const env = envelope as Record<string, unknown>;
  for (const k in env) {
    if (k !== "request" && k !== "tenant" && k !== "unscoped" && env[k] !== undefined) return undefined;
  }
  const request = env.request as Record<string, unknown> | undefined;
  if (typeof request !== "object" || request === null || Array.isArray(request)) return undefined;
  if (!DIRECT_ACTIONS.has(request.action as string)) return undefined;
  const leaves: (string | number)[] = [];
  const shape = structure(request, leaves, 0, false);
  if (shape === undefined) return undefined;
  const ctx = env.unscoped === true ? "U" : env.tenant == null ? "M" : typeof env.tenant;
  return { key: `${ctx}|${shape}`, leaves };
}

/** A handle the module gave for a request structure, with what the client keeps for it. */
interface Handle {
  readonly id: number;
  readonly desc: ResultDescription;
  /** The fixed leaves' indices and values: a request with other values there needs another handle. */
  readonly fixed: readonly number[];
  readonly values: readonly (string | number)[];
}

/** Handles kept per structure key, per instance of the module (a trap ends them with it). */
const MAX_HANDLE_KEYS = 512;
const MAX_HANDLES_PER_KEY = 4;

function matches(h: Handle, leaves: readonly (string | number)[]): boolean {
  for (let i = 0; i < h.fixed.length; i++) if (leaves[h.fixed[i]] !== h.values[i]) return false;
  return true;
}

/** Whether two handles are for the same fixed values (a newer one replaces the older). */
function sameFixed(a: Handle, b: Handle): boolean {
  return a.fixed.length === b.fixed.length && a.fixed.every((f, i) => f === b.fixed[i] && a.values[i] === b.values[i]);
}

/**
 * One client's WebAssembly engine over a driver adapter, rebuilt in a fresh instance after a trap.
 *
 * A request whose plan is one read statement runs without its rows crossing into the module: the
 * module compiles it and describes the result, the adapter runs it here and `direct.ts` builds the
 * result from the rows (see there). An adapter's failure becomes the engine's error for it, as the
 * module reports it; should a value come in a form `direct.ts` leaves to the engine, the request
 * runs again through the module, which converts it (a read: running it again changes nothing).
 * An adapter whose cells are not text
 * (numbers, booleans) turns the direct path off for the engine after the first such row.
 *
 * A read whose shape the module's plan cache keeps comes back with a handle for it. The next
 * request of the same structure (`handleKey`) sends only its strings and numbers and its tenant
 * context with the handle: the module checks them against the shape (classes, equalities, fixed
 * values, kind of context), binds them and this request's tenant into the kept plan, and returns
 * the parameters; the statement and the result's description are the handle's. Where the module
 * declines, the envelope goes the usual way.
 */
export class Engine implements QueryEngine {
  readonly #schema: string;
  readonly #options: string;
  readonly #adapter: SqlDriverAdapter;
  #bound: Bound;
  #direct: boolean;
  #handles: boolean;
  /** Requests answered without the module shaping the rows (for tests and benchmarks). */
  directReads = 0;
  /** Of those, the ones served by a handle (for tests and benchmarks). */
  handleReads = 0;

  /**
   * `direct: false` sends every request through the module (the differential tests compare both);
   * `handles: false` keeps the direct path but sends every envelope whole (benchmarks compare).
   */
  constructor(schema: string, options: EngineOptions, adapter: SqlDriverAdapter, internal?: { direct?: boolean; handles?: boolean }) {
    this.#schema = schema;
    this.#options = JSON.stringify(options);
    this.#adapter = adapter;
    this.#direct = internal?.direct ?? true;
    this.#handles = internal?.handles ?? true;
    this.#bound = this.#build();
  }

  #build(): Bound {
    const inst = instance();
    const engine = call(inst, (wasm) => new wasm.QuarryEngine(this.#schema, this.#options, tracked(this.#adapter, inst)));
    return { inst, engine, handles: new Map() };
  }

  /** This client's engine in the live instance (built again there after a trap). */
  #current(): Bound {
    if (this.#bound.inst.dead) this.#bound = this.#build();
    return this.#bound;
  }

  #call<T>(f: (engine: glue.QuarryEngine) => T): T {
    const { inst, engine } = this.#current();
    return call(inst, () => f(engine));
  }

  #run(f: (engine: glue.QuarryEngine) => number): Promise<unknown> {
    let bound: Bound;
    try {
      bound = this.#current();
    } catch (e) {
      return Promise.reject(e);
    }
    return run(bound.inst, () => f(bound.engine));
  }

  describe(): EngineDescription {
    return JSON.parse(this.#call((e) => e.describe()));
  }

  warnings(): Promise<EngineWarning[]> {
    return this.#run((e) => e.warnings()) as Promise<EngineWarning[]>;
  }

  tenantLinks(): Promise<{ relation: string; links: number }[]> {
    return this.#run((e) => e.tenantLinks()) as Promise<{ relation: string; links: number }[]>;
  }

  ddl(options?: { tenantKeys?: boolean; rls?: boolean }): string[] {
    return JSON.parse(this.#call((e) => e.ddl(JSON.stringify(options ?? null))));
  }

  compile(envelope: unknown): unknown {
    return JSON.parse(this.#call((e) => e.compile(JSON.stringify(envelope))));
  }

  request(envelope: unknown): Promise<unknown> {
    if (!this.#direct) {
      const text = JSON.stringify(envelope);
      return this.#run((e) => e.request(text));
    }
    const h = this.#handles ? handleKey(envelope) : undefined;
    let text: string;
    let direct: [unknown, string, number?, Uint32Array?] | undefined;
    let bound: Bound;
    try {
      bound = this.#current();
      if (h !== undefined) {
        const handle = bound.handles.get(h.key)?.find((k) => matches(k, h.leaves));
        if (handle !== undefined) {
          const env = envelope as { tenant?: unknown; unscoped?: unknown };
          const text = JSON.stringify({ leaves: h.leaves, tenant: env.tenant, unscoped: env.unscoped });
          const query = call(bound.inst, () => bound.engine.directBy(handle.id, text));
          if (query !== undefined) {
            this.handleReads++;
            return this.#runDirect(query, handle.desc, envelope);
          }
        }
      }
      text = JSON.stringify(envelope);
      direct = call(bound.inst, () => bound.engine.direct(text, h !== undefined)) as typeof direct;
    } catch (e) {
      return Promise.reject(e);
    }
    if (direct === undefined) return this.#run((e) => e.request(text));
    const desc = description(direct[1]);
    if (h !== undefined && direct[2] !== undefined) {
      const fixed = Array.from(direct[3] ?? []);
      const kept: Handle = { id: direct[2], desc, fixed, values: fixed.map((i) => h.leaves[i]) };
      if (bound.handles.size >= MAX_HANDLE_KEYS) bound.handles.clear();
      const list = (bound.handles.get(h.key) ?? []).filter((k) => !sameFixed(k, kept));
      if (list.length >= MAX_HANDLES_PER_KEY) list.shift();
      list.push(kept);
      bound.handles.set(h.key, list);
    }
    return this.#runDirect(direct[0], desc, envelope, text);
  }

  async #runDirect(query: unknown, desc: ResultDescription, envelope: unknown, text?: string): Promise<unknown> {
    let rows: Awaited<ReturnType<SqlDriverAdapter["queryRaw"]>>;
    try {
      rows = await this.#adapter.queryRaw(query as Parameters<SqlDriverAdapter["queryRaw"]>[0]);
    } catch (error) {
      // The engine's error for it, as the module would have reported it.
      const envelopeText = text ?? JSON.stringify(envelope);
      throw engineError(JSON.parse(this.#call((e) => e.directError(envelopeText, error))));
    }
    try {
      const result = shapeResult(desc, rows);
      this.directReads++;
      return result;
    } catch (e) {
      if (!(e instanceof Fallback)) throw e;
      if (e.message === "a cell that is not text") this.#direct = false;
      const envelopeText = text ?? JSON.stringify(envelope);
      return this.#run((e) => e.request(envelopeText));
    }
  }

  begin(options: unknown): Promise<{ id: string; timeout: number }> {
    return this.#run((e) => e.begin(JSON.stringify(options ?? null))) as Promise<{ id: string; timeout: number }>;
  }

  commit(id: string): Promise<unknown> {
    return this.#run((e) => e.commit(id));
  }

  rollback(id: string): Promise<unknown> {
    return this.#run((e) => e.rollback(id));
  }

  /** Rolls the transaction back if its timeout has passed; whether it did. */
  expire(id: string): Promise<boolean> {
    return this.#run((e) => e.expire(id)) as Promise<boolean>;
  }

  close(): Promise<unknown> {
    return this.#run((e) => e.close());
  }
}

/**
 * The resolved schema as the client API sees it (models, fields, keys, relations, enums, tenancy),
 * for code generators: see `SchemaDescription` in generate/schema.ts. Needs no database.
 */
export function describeSchema(schema: string, options: EngineOptions = {}): unknown {
  return JSON.parse(call(instance(), (wasm) => wasm.describeSchema(schema, JSON.stringify(options))));
}

/** Makes the engine panic, to check that a panic reaches the caller as an error. */
export function debugPanic(message: string): void {
  call(instance(), (wasm) => wasm.debugPanic(message));
}

/** Makes a task of the engine panic when it is next polled, as a panic inside a request would. */
export function debugPanicInTask(message: string): Promise<unknown> {
  let inst: Instance;
  try {
    inst = instance();
  } catch (e) {
    return Promise.reject(e);
  }
  return run(inst, (wasm) => wasm.debugPanicInTask(message));
}
